from interdiff_core.runtime import setup
from interdiff_core.stages.rollout import run_rollout

setup(snakemake.log[0], snakemake.threads)
run_rollout(
    snakemake.input.test,
    snakemake.input.teacher,
    snakemake.input.get("tokenizer"),
    snakemake.output.summary,
    snakemake.output.tensors,
    snakemake.params.cfg,
    snakemake.params.tokenize,
    snakemake.params.seed,
    snakemake.input.get("val"),
)
