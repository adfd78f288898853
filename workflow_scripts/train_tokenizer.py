from interdiff_core.runtime import setup
from interdiff_core.stages.train_tokenizer import train_tokenizer

setup(snakemake.log[0], snakemake.threads)
train_tokenizer(
    snakemake.input.raw,
    snakemake.output.model,
    snakemake.params.ckpt_dir,
    snakemake.params.cfg,
    snakemake.params.seed,
    device=snakemake.params.device,
)
