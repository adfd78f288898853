from interdiff_core.runtime import setup
from interdiff_core.stages.sample import sample_all

setup(snakemake.log[0], snakemake.threads)
sample_all(
    snakemake.input.split,
    snakemake.input.teacher,
    snakemake.input.selector,
    snakemake.input.phase1,
    snakemake.input.phase2,
    snakemake.input.dphi,
    snakemake.output.samples,
    snakemake.params.cfg,
    snakemake.params.seed,
    snakemake.params.on_bad_sample,
    snakemake.input.get("interpolator"),
    snakemake.input.train,
)
