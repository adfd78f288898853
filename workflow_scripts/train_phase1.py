from interdiff_core.runtime import setup
from interdiff_core.stages.train_phase1 import train_phase1

setup(snakemake.log[0], snakemake.threads)
train_phase1(
    snakemake.input.train,
    snakemake.input.labels,
    snakemake.input.selector,
    snakemake.output.model,
    snakemake.params.ckpt_dir,
    snakemake.params.cfg,
    snakemake.params.levels,
    snakemake.params.seed,
)
