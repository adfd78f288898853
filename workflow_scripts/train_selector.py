from interdiff_core.runtime import setup
from interdiff_core.stages.train_selector import train_selector

setup(snakemake.log[0], snakemake.threads)
train_selector(
    snakemake.input.train,
    snakemake.input.test,
    snakemake.input.labels,
    snakemake.output.model,
    snakemake.output.table,
    snakemake.params.ckpt_dir,
    snakemake.params.cfg,
    snakemake.params.levels,
    snakemake.params.seed,
    snakemake.params.on_bad_sample,
    device=snakemake.params.device,
)
