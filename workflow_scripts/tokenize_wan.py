from interdiff_core.runtime import setup
from interdiff_core.stages.tokenize_video import tokenize_wan

setup(snakemake.log[0], snakemake.threads)
tokenize_wan(
    snakemake.params.wan_dir,
    {split: snakemake.output[split] for split in ("train", "val", "test")},
    snakemake.params.cfg,
    snakemake.params.data,
    snakemake.params.seed,
)
