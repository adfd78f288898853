from interdiff_core.runtime import setup
from interdiff_core.stages.plots_executed import plots_executed

setup(snakemake.log[0], snakemake.threads)
plots_executed(
    snakemake.input.table,
    snakemake.input.timing,
    snakemake.input.episodes,
    dict(snakemake.output),
    snakemake.params.cfg["n_examples"],
)
