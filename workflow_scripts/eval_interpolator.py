from interdiff_core.runtime import setup
from interdiff_core.stages.eval_interpolator import eval_interpolator

setup(snakemake.log[0], snakemake.threads)
eval_interpolator(
    {split: snakemake.input[split] for split in ("val", "test")},
    snakemake.input.model,
    snakemake.input.get("tokenizer"),
    snakemake.output.table,
    snakemake.params.cfg,
    snakemake.params.tokenize,
    snakemake.params.seed,
)
