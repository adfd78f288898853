# Metrics and figures of the maze2d domain: plans scored as plans (metrics), then executed in
# MuJoCo PointMaze (execute) and scored as the literature scores them (episode_metrics).
DOMAIN_TARGETS = [
    f"{RUN}/eval/episodes.csv",
    f"{RUN}/plots/executed.png",
]


SAMPLED_SPLITS = ["val", "test"]


rule metrics:
    input:
        val=f"{RUN}/samples/val.safetensors",
        test=f"{RUN}/samples/test.safetensors",
    output:
        table=report(
            f"{RUN}/eval/metrics.csv",
            caption="captions/metrics.rst",
            category="Metrics",
        ),
        timing=f"{RUN}/eval/timing.csv",
    log:
        f"{RUN}/logs/metrics.log",
    conda:
        CONDA_ENV
    resources:
        **slurm_resources(C["run"]),
        mem_mb=2000,
        runtime=10,
    params:
        code=stage_digest("metrics"),
    script:
        "../workflow_scripts/metrics.py"


rule execute:
    input:
        samples=owned("sample", "samples"),
        raw=rules.prepare_data.output.raw,
        teacher=owned("train_teacher", "model"),
        selector=owned("train_selector", "model"),
        phase1=owned("train_phase1", "model"),
        phase2=owned("train_phase2", "model"),
        dphi=owned("train_dphi", "model"),
    output:
        episodes=f"{RUN}/episodes/{{split}}.safetensors",
    log:
        f"{RUN}/logs/execute_{{split}}.log",
    conda:
        CONDA_ENV
    resources:
        **slurm_resources(C["run"]),
        mem_mb=2000,
        runtime=60,
    params:
        replan_every=section("evaluate", "replan_every"),
        sample=section("sample"),
        seed=TRAIN_SEED,
        code=stage_digest("execute"),
    script:
        "../workflow_scripts/execute.py"


rule episode_metrics:
    input:
        val=f"{RUN}/episodes/val.safetensors",
        test=f"{RUN}/episodes/test.safetensors",
    output:
        table=report(
            f"{RUN}/eval/episodes.csv",
            caption="captions/episodes.rst",
            category="Metrics",
        ),
        paired=report(
            f"{RUN}/eval/paired.csv",
            caption="captions/paired.rst",
            category="Metrics",
        ),
    log:
        f"{RUN}/logs/episode_metrics.log",
    conda:
        CONDA_ENV
    resources:
        **slurm_resources(C["run"]),
        mem_mb=2000,
        runtime=10,
    params:
        n_boot=section("evaluate", "bootstrap"),
        seed=TRAIN_SEED,
        code=stage_digest("episode_metrics"),
    script:
        "../workflow_scripts/episode_metrics.py"


rule plots:
    input:
        samples=f"{RUN}/samples/test.safetensors",
        table=owned("metrics", "table"),
        labels=owned("dp_labels", "labels"),
        teacher=owned("train_teacher", "model"),
        dphi=owned("train_dphi", "model"),
        selector=owned("train_selector", "model"),
        phase1=owned("train_phase1", "model"),
        phase2=owned("train_phase2", "model"),
    output:
        frontier=report(
            f"{RUN}/plots/frontier.png",
            caption="captions/frontier.rst",
            category="Plots",
        ),
        trajectories=report(
            f"{RUN}/plots/trajectories.png",
            caption="captions/trajectories.rst",
            category="Plots",
        ),
        keyframes=report(
            f"{RUN}/plots/keyframes.png",
            caption="captions/keyframes.rst",
            category="Keyframe selection",
        ),
        losses=report(
            f"{RUN}/plots/losses.png",
            caption="captions/losses.rst",
            category="Training",
        ),
    log:
        f"{RUN}/logs/plots.log",
    conda:
        CONDA_ENV
    resources:
        **slurm_resources(C["run"]),
        mem_mb=2000,
        runtime=10,
    params:
        cfg=section("metrics"),
        code=stage_digest("plots"),
    script:
        "../workflow_scripts/plots.py"


rule plots_executed:
    input:
        table=owned("episode_metrics", "table"),
        timing=owned("metrics", "timing"),
        episodes=f"{RUN}/episodes/test.safetensors",
    output:
        executed=report(
            f"{RUN}/plots/executed.png",
            caption="captions/executed.rst",
            category="Plots",
        ),
        rollouts=report(
            f"{RUN}/plots/executed_trajectories.png",
            caption="captions/executed_trajectories.rst",
            category="Plots",
        ),
        literature=report(
            f"{RUN}/eval/literature.csv",
            caption="captions/literature.rst",
            category="Metrics",
        ),
    log:
        f"{RUN}/logs/plots_executed.log",
    conda:
        CONDA_ENV
    resources:
        **slurm_resources(C["run"]),
        mem_mb=2000,
        runtime=10,
    params:
        cfg=section("metrics"),
        code=stage_digest("plots_executed"),
    script:
        "../workflow_scripts/plots_executed.py"


rule summarize_runs:
    input:
        tables=run_targets(rules.episode_metrics.output.table, among=SUMMARY_VARIANTS),
        val=run_targets(f"{RUN}/episodes/val.safetensors", among=SUMMARY_VARIANTS),
        test=run_targets(f"{RUN}/episodes/test.safetensors", among=SUMMARY_VARIANTS),
    output:
        table=report(
            f"{R}/eval/summary.csv",
            caption="captions/summary.rst",
            category="Metrics",
        ),
        paired=report(
            f"{R}/eval/paired_seeds.csv",
            caption="captions/paired_seeds.rst",
            category="Metrics",
        ),
        answers=report(
            f"{R}/eval/answers.csv",
            caption="captions/answers.rst",
            category="Metrics",
        ),
    log:
        f"{R}/logs/summarize_runs.log",
    conda:
        CONDA_ENV
    resources:
        **slurm_resources(C["run"]),
        mem_mb=2000,
        runtime=10,
    params:
        runs=[(v, s) for v in SUMMARY_VARIANTS for s in SEEDS],
        descs={
            v: (C.get("variants") or {}).get(v, {}).get("desc", "")
            for v in SUMMARY_VARIANTS
        },
        parents=VARIANT_PARENTS,
        n_boot=C["evaluate"]["bootstrap"],
        margin=C["evaluate"]["teacher_margin"],
        seed=C["run"]["seed"],
        code=stage_digest("summarize_runs"),
    script:
        "../workflow_scripts/summarize_runs.py"


SUMMARY_TARGETS = [rules.summarize_runs.output.table]
