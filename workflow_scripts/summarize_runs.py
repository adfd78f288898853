from interdiff_core.runtime import setup
from interdiff_core.stages.summarize_runs import paired_across_seeds, summarize_runs

setup(snakemake.log[0], snakemake.threads)
inp, params = snakemake.input, snakemake.params
runs = {  # (variant, seed) of each input, in input order
    run: {"table": table, "val": val, "test": test}
    for run, table, val, test in zip(params.runs, inp.tables, inp.val, inp.test)
}
summarize_runs({run: f["table"] for run, f in runs.items()}, params.descs, snakemake.output.table)
paired_across_seeds(runs, params.n_boot, params.seed, snakemake.output.paired, params.parents)
