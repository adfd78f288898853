from interdiff_core.runtime import setup
from interdiff_core.stages.plots import make_plots

setup(snakemake.log[0], snakemake.threads)
models = ("teacher", "dphi", "selector", "phase1", "phase2")
make_plots(
    snakemake.input.samples,
    snakemake.input.table,
    snakemake.input.labels,
    {name: snakemake.input[name] for name in models},
    {name: snakemake.output[name] for name in ("frontier", "trajectories", "keyframes", "losses")},
    snakemake.params.cfg["n_examples"],
)
