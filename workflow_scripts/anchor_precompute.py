from interdiff_core.runtime import setup
from interdiff_core.stages.anchor_precompute import anchor_precompute

setup(snakemake.log[0], snakemake.threads)
anchor_precompute(
    snakemake.input.train,
    snakemake.input.selector,
    snakemake.input.phase1,
    snakemake.output.anchors,
    snakemake.params.cfg,
    snakemake.params.levels,
    snakemake.params.seed,
    snakemake.params.on_bad_sample,
)
