from interdiff_core.runtime import setup
from interdiff_core.stages.metrics_video import metrics_video

setup(snakemake.log[0], snakemake.threads)
metrics_video(
    {split: snakemake.input[split] for split in ("val", "test")},
    snakemake.output.table,
    snakemake.output.timing,
    snakemake.input.get("raw"),
    snakemake.input.get("tokenizer"),
    snakemake.params.cfg,
)
