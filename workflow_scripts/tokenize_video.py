from interdiff_core.runtime import setup
from interdiff_core.stages.tokenize_video import tokenize_video

setup(snakemake.log[0], snakemake.threads)
tokenize_video(
    snakemake.input.raw,
    snakemake.input.get("tokenizer"),
    {split: snakemake.output[split] for split in ("train", "val", "test")},
    snakemake.params.cfg,
    snakemake.output.table,
)
