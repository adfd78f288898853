from interdiff_core.runtime import setup
from interdiff_core.stages.teacher_precompute import teacher_precompute

setup(snakemake.log[0], snakemake.threads)
teacher_precompute(
    snakemake.input.train,
    snakemake.input.teacher,
    snakemake.output.cache,
    snakemake.params.cfg,
    snakemake.params.seed,
    snakemake.params.on_bad_sample,
)
