from interdiff_core.runtime import setup
from interdiff_core.stages.prepare_data import prepare_data

setup(snakemake.log[0], snakemake.threads)
prepare_data(
    snakemake.params.cfg, snakemake.params.seed, snakemake.output.raw, snakemake.params.goal
)
