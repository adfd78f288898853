from interdiff_core.runtime import setup
from interdiff_core.stages.expert_costs import expert_costs

setup(snakemake.log[0], snakemake.threads)
expert_costs(snakemake.input.raw, snakemake.output.costs, snakemake.params.runs)
