from interdiff_core.runtime import setup
from interdiff_core.stages.dphi_targets import dphi_targets

setup(snakemake.log[0], snakemake.threads)
dphi_targets(
    snakemake.input.windows,
    snakemake.input.get("teacher"),
    snakemake.output.targets,
    snakemake.params.cfg,
    snakemake.params.seed,
    snakemake.params.levels,
    snakemake.input.get("raw"),
    snakemake.params.on_bad_sample,
)
