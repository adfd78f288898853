from interdiff_core.runtime import setup
from interdiff_core.stages.execute import execute

setup(snakemake.log[0], snakemake.threads)
execute(
    snakemake.input.samples,
    snakemake.input.raw,
    snakemake.wildcards.split,
    snakemake.output.episodes,
    snakemake.params.seed,
)
