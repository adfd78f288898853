from interdiff_core.runtime import setup
from interdiff_core.stages.train_dphi import train_dphi

setup(snakemake.log[0], snakemake.threads)
train_dphi(
    snakemake.input.targets,
    snakemake.output.model,
    snakemake.params.ckpt_dir,
    snakemake.params.cfg,
    snakemake.params.seed,
)
