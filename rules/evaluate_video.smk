# The video domain's own rules: the flow interpolator against LERP, the teacher's rollout
# against hold-the-last-frame, metrics (latent and decoded-frame quality) and figures.


PLOT_OUTPUTS = {
    "frontier": ("captions/frontier_video.rst", "Plots"),
    "frames": ("captions/frames.rst", "Plots"),
    "keyframes": ("captions/keyframes.rst", "Keyframe selection"),
    "losses": ("captions/losses.rst", "Training"),
    "rollout": ("captions/rollout.rst", "Plots"),
}
DOMAIN_TARGETS = [f"{R}/eval/interpolator.csv", f"{R}/eval/rollout.json"]
INTERP_TRAIN = (
    "model",
    "max_gap",
    "batch_size",
    "unc_weight",
    "steps",
    "lr",
    "checkpoint_every",
)


rule train_interpolator:
    input:
        train=rules.tokenize.output.train,
    output:
        model=f"{R}/models/interpolator.safetensors",
    log:
        f"{R}/logs/train_interpolator.log",
    conda:
        CONDA_ENV
    threads: C["run"]["threads"]
    resources:
        **slurm_resources(C["run"], C["interpolator"]),
        mem_mb=4000,
        runtime=60,
    params:
        cfg={k: C["interpolator"][k] for k in INTERP_TRAIN},
        seed=SEED,
        on_bad_sample=C["data"]["on_bad_sample"],
        ckpt_dir=f"{R}/checkpoints/interpolator",
        device=C["run"]["device"],
        code=stage_digest("train_interpolator"),
    script:
        "../workflow_scripts/train_interpolator.py"


rule eval_interpolator:
    input:
        **tokenizer_input(),
        test=rules.tokenize.output.test,
        model=rules.train_interpolator.output.model,
    output:
        table=report(
            f"{R}/eval/interpolator.csv",
            caption="captions/interpolator.rst",
            category="Metrics",
        ),
    log:
        f"{R}/logs/eval_interpolator.log",
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
        seed=SEED,
        code=stage_digest("eval_interpolator"),
    script:
        "../workflow_scripts/eval_interpolator.py"


rule rollout:
    input:
        **tokenizer_input(),
        test=rules.tokenize.output.test,
        teacher=rules.train_teacher.output.model,
    output:
        summary=f"{R}/eval/rollout.json",
        tensors=f"{R}/samples/rollout.safetensors",
    log:
        f"{R}/logs/rollout.log",
    conda:
        CONDA_ENV
    threads: C["run"]["threads"]
    resources:
        **slurm_resources(C["run"]),
        mem_mb=4000,
        runtime=30,
    params:
        cfg=C["rollout"],
        tokenize=C["tokenize"],
        seed=SEED,
        code=stage_digest("rollout"),
    script:
        "../workflow_scripts/rollout.py"


rule metrics:
    input:
        **decoder_inputs(),
        samples=f"{R}/samples/test.safetensors",
    output:
        table=report(
            f"{R}/eval/metrics.csv",
            caption="captions/metrics_video.rst",
            category="Metrics",
        ),
        timing=f"{R}/eval/timing.csv",
    log:
        f"{R}/logs/metrics.log",
    conda:
        CONDA_ENV
    threads: C["run"]["threads"]
    resources:
        **slurm_resources(C["run"]),
        mem_mb=4000,
        runtime=10,
    params:
        cfg=C["tokenize"],
        code=stage_digest("metrics_video"),
    script:
        "../workflow_scripts/metrics_video.py"


rule plots:
    input:
        **tokenizer_input(),
        samples=f"{R}/samples/test.safetensors",
        table=rules.metrics.output.table,
        labels=rules.dp_labels.output.labels,
        teacher=rules.train_teacher.output.model,
        dphi=rules.train_dphi.output.model,
        selector=rules.train_selector.output.model,
        phase1=rules.train_phase1.output.model,
        phase2=rules.train_phase2.output.model,
        rollout=rules.rollout.output.summary,
    output:
        **{
            name: report(f"{R}/plots/{name}.png", caption=caption, category=category)
            for name, (caption, category) in PLOT_OUTPUTS.items()
        },
    log:
        f"{R}/logs/plots.log",
    conda:
        CONDA_ENV
    threads: C["run"]["threads"]
    resources:
        **slurm_resources(C["run"]),
        mem_mb=4000,
        runtime=10,
    params:
        cfg=C["metrics"],
        tokenize=C["tokenize"],
        code=stage_digest("plots_video"),
    script:
        "../workflow_scripts/plots_video.py"
