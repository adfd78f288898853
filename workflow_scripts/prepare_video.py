from interdiff_core.runtime import setup
from interdiff_core.stages.prepare_video import prepare_video

setup(snakemake.log[0], snakemake.threads)
prepare_video(snakemake.params.cfg, snakemake.params.seed, snakemake.output.raw)
