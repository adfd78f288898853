from interdiff_core.runtime import setup
from interdiff_core.stages.plots_video import make_video_plots

setup(snakemake.log[0], snakemake.threads)
models = ("teacher", "dphi", "selector", "phase1", "phase2")
make_video_plots(
    snakemake.input.samples,
    snakemake.input.table,
    snakemake.input.labels,
    {name: snakemake.input[name] for name in models},
    dict(snakemake.output.items()),
    snakemake.params.cfg["n_examples"],
    snakemake.input.get("tokenizer"),
    snakemake.params.tokenize,
    snakemake.input.rollout,
)
