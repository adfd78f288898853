from interdiff_core.runtime import setup
from interdiff_core.stages.summarize_runs import answers, paired_across_seeds, summarize_runs

setup(snakemake.log[0], snakemake.threads)
inp, params = snakemake.input, snakemake.params
runs = {  # (variant, seed) of each input, in input order
    run: {"table": table, "val": val, "test": test}
    for run, table, val, test in zip(params.runs, inp.tables, inp.val, inp.test)
}
out = snakemake.output
summary = summarize_runs({run: f["table"] for run, f in runs.items()}, params.descs, out.table)
paired = paired_across_seeds(runs, params.n_boot, params.seed, out.paired, params.parents)
answers(paired, summary, out.answers, params.margin)
