from interdiff_core.runtime import setup
from interdiff_core.stages.train_interpolator import train_interpolator

setup(snakemake.log[0], snakemake.threads)
train_interpolator(
    snakemake.input.train,
    snakemake.output.model,
    snakemake.params.ckpt_dir,
    snakemake.params.cfg,
    snakemake.params.seed,
    snakemake.params.on_bad_sample,
    device=snakemake.params.device,
)
