from interdiff_core.runtime import setup
from interdiff_core.stages.tokenize import tokenize

setup(snakemake.log[0], snakemake.threads)
out_dirs = {split: snakemake.output[split] for split in ("train", "val", "test")}
tokenize(snakemake.input.raw, out_dirs, snakemake.params.mazes, snakemake.params.cfg["shard_size"])
