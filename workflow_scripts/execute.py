from interdiff_core.runtime import setup
from interdiff_core.stages.execute import execute

setup(snakemake.log[0], snakemake.threads)
models = {
    "paths": [snakemake.input[k] for k in ("teacher", "selector", "phase1", "phase2", "dphi")],
    "cfg": snakemake.params.sample,
}
execute(
    snakemake.input.samples,
    snakemake.input.raw,
    snakemake.wildcards.split,
    snakemake.output.episodes,
    snakemake.params.seed,
    snakemake.params.replan_every,
    models,
)
