from interdiff_core.runtime import setup
from interdiff_core.stages.episode_metrics import episode_metrics

setup(snakemake.log[0], snakemake.threads)
episode_metrics(
    {"val": snakemake.input.val, "test": snakemake.input.test},
    snakemake.output.table,
    snakemake.output.paired,
    snakemake.params.n_boot,
    snakemake.params.seed,
)
