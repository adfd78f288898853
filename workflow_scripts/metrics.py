from interdiff_core.runtime import setup
from interdiff_core.stages.metrics import metrics

setup(snakemake.log[0], snakemake.threads)
metrics(snakemake.input.samples, snakemake.output.table, snakemake.output.timing)
