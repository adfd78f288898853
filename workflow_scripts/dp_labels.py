from interdiff_core.runtime import setup
from interdiff_core.stages.dp_labels import dp_labels

setup(snakemake.log[0], snakemake.threads)
split_dirs = {split: snakemake.input[split] for split in ("train", "val", "test")}
dp_labels(
    split_dirs,
    snakemake.input.dphi,
    snakemake.output.labels,
    snakemake.params.cfg,
    snakemake.params.on_bad_sample,
)
