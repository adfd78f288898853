import os

from snakemake.utils import min_version, validate

from interdiff_core.cluster import slurm_resources
from interdiff_core.config import canonical
from interdiff_core.digest import stage_digest
from interdiff_core.dphi_kinds import reads_teacher, reads_teacher_cache
from interdiff_core.variants import (
    builds,
    check_config_layers,
    checked_variants,
    owner,
    parent_of,
    summary_variants,
    variant_configs,
)

# 9.15 leaked cores (2-thread jobs ran two at a time on 2 cores: tests/test_scheduler.py)
min_version("9.27.1")


configfile: "config.yaml"


# the workflow's config file, each --configfile and --config, in the order Snakemake merged them
CLI_LAYERS = list(workflow.overwrite_configfiles)
check_config_layers(
    [f for f in workflow.configfiles if f not in CLI_LAYERS] + CLI_LAYERS,
    dict(workflow.config_settings.config),
)
validate(config, "config.schema.yaml")
checked_variants(config, lambda variant: validate(variant, "config.schema.yaml"))
C = canonical(config)  # rules read C: params then compare equal whatever the key order

R = C["run"]["results"]
SEED = C["run"][
    "seed"
]  # the data's seed; training seeds are run.seeds (wildcard {seed})
CONDA_ENV = "../envs/cpu.yaml"  # used with --software-deployment-method conda
# envs/*.yaml install the project from here (`-e ${INTERDIFF_ROOT}`): conda runs pip in the folder
# of Snakemake's copy of the env file, not in envs/, so a relative path cannot name the repository.
os.environ.update(INTERDIFF_ROOT=workflow.basedir)


DOMAIN = C["data"]["domain"]


report: "rules/captions/workflow.rst"


include: "rules/common.smk"


if DOMAIN == "video":

    include: "rules/video_common.smk"
    include: "rules/video_data.smk"

else:

    include: "rules/data.smk"


include: "rules/teacher.smk"
include: "rules/selection.smk"
include: "rules/phase1.smk"
include: "rules/phase2.smk"
include: "rules/evaluate.smk"


if DOMAIN == "video":

    include: "rules/evaluate_video.smk"

else:

    include: "rules/evaluate_maze.smk"


include: "rules/keyframes.smk"


# Every artifact is a target, intermediates included. Snakemake reruns a job whose output is
# missing only when the job is a target or a job that must run needs that output (dag.py,
# update_needrun): when a kill leaves a model deleted and what was made from it in place, plain
# `snakemake` would otherwise report "Nothing to be done". A target with missing output reruns,
# and everything downstream of it reruns after it (its input is then newer).
EVERY_OUTPUT = every_output(workflow.rules)


rule all:
    default_target: True
    input:
        run_targets([f"{RUN}/eval/metrics.csv", *rules.plots.output, *DOMAIN_TARGETS]),
        run_targets(rules.train_selector.output.table, stage="train_selector"),
        run_targets(rules.eval_keyframes.output.table, stage="eval_keyframes"),
        SUMMARY_TARGETS,
        EVERY_OUTPUT,
