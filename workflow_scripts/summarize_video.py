from interdiff_core.runtime import setup
from interdiff_core.stages.summarize_video import summarize_video

setup(snakemake.log[0], snakemake.threads)
runs = snakemake.params.runs  # (variant, seed) of each input, in input order
tables = {(v, s): path for (v, s), path in zip(runs, snakemake.input.tables)}
summarize_video(
    tables, snakemake.params.interpolators, snakemake.params.descs, snakemake.output.table
)
