# The video domain's own rules: the flow interpolator against LERP, the teacher's rollout
# against hold-the-last-frame, metrics (latent and decoded-frame quality) and figures.


PLOT_OUTPUTS = {
    "frontier": ("captions/frontier_video.rst", "Plots"),
    "frames": ("captions/frames.rst", "Plots"),
    "keyframes": ("captions/keyframes.rst", "Keyframe selection"),
    "losses": ("captions/losses.rst", "Training"),
    "rollout": ("captions/rollout.rst", "Plots"),
}
DOMAIN_TARGETS = []  # what each variant makes beyond metrics and plots: nothing here
SAMPLED_SPLITS = ["val", "test"]
INTERP_TRAIN = (
    "model",
    "max_gap",
    "batch_size",
    "unc_weight",
    "steps",
    "lr",
    "checkpoint_every",
    "augment",
)


rule train_interpolator:
    input:
        train=rules.tokenize.output.train,
    output:
        model=f"{RUN}/models/interpolator.safetensors",
    log:
        f"{RUN}/logs/train_interpolator.log",
    conda:
        CONDA_ENV
    threads: C["run"]["threads"]
    resources:
        **slurm_resources(C["run"], C["interpolator"]),
        mem_mb=4000,
        runtime=60,
    params:
        cfg={k: C["interpolator"][k] for k in INTERP_TRAIN},
        seed=TRAIN_SEED,
        on_bad_sample=C["data"]["on_bad_sample"],
        ckpt_dir=f"{RUN}/checkpoints/interpolator",
        device=C["run"]["device"],
        code=stage_digest("train_interpolator"),
    script:
        "../workflow_scripts/train_interpolator.py"


rule eval_interpolator:
    input:
        **tokenizer_input(),
        val=rules.tokenize.output.val,
        test=rules.tokenize.output.test,
        model=owned("train_interpolator", "model"),
    output:
        table=report(
            f"{RUN}/eval/interpolator.csv",
            caption="captions/interpolator.rst",
            category="Metrics",
        ),
    log:
        f"{RUN}/logs/eval_interpolator.log",
    conda:
        CONDA_ENV
    threads: C["run"]["threads"]
    resources:
        **slurm_resources(C["run"]),
        mem_mb=4000,
        runtime=30,
    params:
        cfg={k: C["interpolator"][k] for k in ("n_clips", "spacings")},
        tokenize=C["tokenize"],
        seed=TRAIN_SEED,
        code=stage_digest("eval_interpolator"),
    script:
        "../workflow_scripts/eval_interpolator.py"


rule rollout:
    input:
        **tokenizer_input(),
        val=rules.tokenize.output.val,
        test=rules.tokenize.output.test,
        teacher=owned("train_teacher", "model"),
    output:
        summary=f"{RUN}/eval/rollout.json",
        tensors=f"{RUN}/samples/rollout.safetensors",
    log:
        f"{RUN}/logs/rollout.log",
    conda:
        CONDA_ENV
    threads: C["run"]["threads"]
    resources:
        **slurm_resources(C["run"]),
        mem_mb=4000,
        runtime=30,
    params:
        cfg=section("rollout"),
        tokenize=C["tokenize"],
        seed=TRAIN_SEED,
        code=stage_digest("rollout"),
    script:
        "../workflow_scripts/rollout.py"


rule metrics:
    input:
        **decoder_inputs(),
        val=f"{RUN}/samples/val.safetensors",
        test=f"{RUN}/samples/test.safetensors",
    output:
        table=report(
            f"{RUN}/eval/metrics.csv",
            caption="captions/metrics_video.rst",
            category="Metrics",
        ),
        timing=f"{RUN}/eval/timing.csv",
    log:
        f"{RUN}/logs/metrics.log",
    conda:
        CONDA_ENV
    threads: C["run"]["threads"]
    resources:
        **slurm_resources(C["run"]),
        mem_mb=4000,
        runtime=10,
    params:
        cfg=section("tokenize"),
        code=stage_digest("metrics_video"),
    script:
        "../workflow_scripts/metrics_video.py"


rule plots:
    input:
        **tokenizer_input(),
        samples=f"{RUN}/samples/test.safetensors",
        table=owned("metrics", "table"),
        labels=owned("dp_labels", "labels"),
        teacher=owned("train_teacher", "model"),
        dphi=owned("train_dphi", "model"),
        selector=owned("train_selector", "model"),
        phase1=owned("train_phase1", "model"),
        phase2=owned("train_phase2", "model"),
        rollout=owned("rollout", "summary"),
    output:
        **{
            name: report(f"{RUN}/plots/{name}.png", caption=caption, category=category)
            for name, (caption, category) in PLOT_OUTPUTS.items()
        },
    log:
        f"{RUN}/logs/plots.log",
    conda:
        CONDA_ENV
    threads: C["run"]["threads"]
    resources:
        **slurm_resources(C["run"]),
        mem_mb=4000,
        runtime=10,
    params:
        cfg=section("metrics"),
        tokenize=C["tokenize"],
        code=stage_digest("plots_video"),
    script:
        "../workflow_scripts/plots_video.py"


rule summarize_video:
    input:
        tables=run_targets(rules.metrics.output.table, among=SUMMARY_VARIANTS),
    output:
        table=report(
            f"{R}/eval/summary.csv",
            caption="captions/summary_video.rst",
            category="Metrics",
        ),
    log:
        f"{R}/logs/summarize_video.log",
    conda:
        CONDA_ENV
    resources:
        **slurm_resources(C["run"]),
        mem_mb=2000,
        runtime=10,
    params:
        runs=[(v, s) for v in SUMMARY_VARIANTS for s in SEEDS],
        interpolators={
            v: VARIANTS[v]["phase2"]["interpolator"] for v in SUMMARY_VARIANTS
        },
        descs={
            v: (C.get("variants") or {}).get(v, {}).get("desc", "")
            for v in SUMMARY_VARIANTS
        },
        code=stage_digest("summarize_video"),
    script:
        "../workflow_scripts/summarize_video.py"


# the interpolator table and the rollout: each variant's own only where it changes their sections
# (a phase-2 variant reads base's, it does not rerun them); every variant's metrics side by side
SUMMARY_TARGETS = [
    *run_targets(f"{RUN}/eval/interpolator.csv", stage="eval_interpolator"),
    *run_targets(f"{RUN}/eval/rollout.json", stage="rollout"),
    rules.summarize_video.output.table,
]
