from interdiff_core.runtime import setup
from interdiff_core.stages.train_phase2 import train_phase2

setup(snakemake.log[0], snakemake.threads)
train_phase2(
    snakemake.input.train,
    snakemake.input.labels,
    snakemake.input.selector,
    snakemake.input.anchors,
    snakemake.output.model,
    snakemake.params.ckpt_dir,
    snakemake.params.cfg,
    snakemake.params.levels,
    snakemake.params.seed,
)
