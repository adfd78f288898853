from interdiff_core.runtime import setup
from interdiff_core.stages.eval_keyframes import eval_keyframes

setup(snakemake.log[0], snakemake.threads)
eval_keyframes(
    {split: snakemake.input[split] for split in ("val", "test")},
    snakemake.input.train,
    snakemake.input.dphi,
    snakemake.input.selector,
    snakemake.output.table,
    snakemake.params.levels,
    snakemake.params.on_bad_sample,
    snakemake.input.get("raw"),
    snakemake.params.reference_seed,
    snakemake.input.get("expert_costs"),
)
