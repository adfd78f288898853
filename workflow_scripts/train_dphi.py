from interdiff_core.distributed import run_stage
from interdiff_core.runtime import setup

setup(snakemake.log[0], snakemake.threads)
args = dict(
    targets_path=snakemake.input.targets,
    out_path=snakemake.output.model,
    ckpt_dir=snakemake.params.ckpt_dir,
    cfg=snakemake.params.cfg,
    seed=snakemake.params.seed,
    device=snakemake.params.device,
)
nproc = snakemake.params.cfg.get("nproc", 1)
run_stage("train_dphi", args, nproc, snakemake.log[0], snakemake.threads)
