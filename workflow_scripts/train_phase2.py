from interdiff_core.distributed import run_stage
from interdiff_core.runtime import setup

setup(snakemake.log[0], snakemake.threads)
args = dict(
    train_dir=snakemake.input.train,
    labels_path=snakemake.input.labels,
    selector_path=snakemake.input.selector,
    anchors_path=snakemake.input.anchors,
    out_path=snakemake.output.model,
    ckpt_dir=snakemake.params.ckpt_dir,
    cfg=snakemake.params.cfg,
    levels=snakemake.params.levels,
    seed=snakemake.params.seed,
    on_bad_sample=snakemake.params.on_bad_sample,
    device=snakemake.params.device,
    init_path=snakemake.input.get("init"),
    interpolator_path=snakemake.input.get("interpolator"),
)
nproc = snakemake.params.cfg.get("nproc", 1)
run_stage("train_phase2", args, nproc, snakemake.log[0], snakemake.threads)
