from snakemake.utils import min_version, validate

from interdiff_core.config import check_config
from interdiff_core.digest import stage_digest


min_version("9.0")


configfile: "config.yaml"


validate(config, "config.schema.yaml")
check_config(config)

R = config["run"]["results"]
SEED = config["run"]["seed"]
LEVELS = config["dp"]["levels"]
SPLITS = ["train", "val", "test"]


report: "rules/captions/workflow.rst"


include: "rules/data.smk"
include: "rules/teacher.smk"
include: "rules/selection.smk"
include: "rules/phase1.smk"
include: "rules/phase2.smk"
include: "rules/evaluate.smk"


rule all:
    input:
        f"{R}/eval/metrics.csv",
        f"{R}/eval/selector.csv",
        f"{R}/plots/frontier.png",
    default_target: True
