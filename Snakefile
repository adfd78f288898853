from snakemake.utils import min_version, validate

from interdiff_core.cluster import slurm_resources
from interdiff_core.config import canonical, check_config
from interdiff_core.digest import stage_digest

min_version("9.0")


configfile: "config.yaml"


validate(config, "config.schema.yaml")
check_config(config)
C = canonical(config)  # rules read C: params then compare equal whatever the key order

R = C["run"]["results"]
SEED = C["run"]["seed"]
LEVELS = C["dp"]["levels"]
CONDA_ENV = "../envs/cpu.yaml"  # used with --software-deployment-method conda


DOMAIN = C["data"]["domain"]


report: "rules/captions/workflow.rst"


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


rule all:
    default_target: True
    input:
        f"{R}/eval/metrics.csv",
        f"{R}/eval/selector.csv",
        f"{R}/eval/keyframes.csv",
        f"{R}/plots/frontier.png",
        rules.plots.output,
        DOMAIN_TARGETS,
