from snakemake.utils import min_version, validate

from interdiff_core.cluster import slurm_resources
from interdiff_core.config import canonical, check_config
from interdiff_core.digest import stage_digest
from interdiff_core.variants import owner, variant_configs

min_version("9.0")


configfile: "config.yaml"


validate(config, "config.schema.yaml")
for variant in variant_configs(
    config
).values():  # every variant is a whole valid config
    validate(variant, "config.schema.yaml")
    check_config(variant)
C = canonical(config)  # rules read C: params then compare equal whatever the key order

R = C["run"]["results"]
SEED = C["run"][
    "seed"
]  # the data's seed; training seeds are run.seeds (wildcard {seed})
CONDA_ENV = "../envs/cpu.yaml"  # used with --software-deployment-method conda


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


rule all:
    default_target: True
    input:
        run_targets([f"{RUN}/eval/metrics.csv", *rules.plots.output, *DOMAIN_TARGETS]),
        run_targets(rules.train_selector.output.table, stage="train_selector"),
        SUMMARY_TARGETS,
