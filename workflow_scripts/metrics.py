from interdiff_core.runtime import setup
from interdiff_core.stages.metrics import metrics

setup(snakemake.log[0], snakemake.threads)
metrics(
    {split: snakemake.input[split] for split in ("val", "test")},
    snakemake.output.table,
    snakemake.output.timing,
)
