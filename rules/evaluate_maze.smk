# Metrics and figures of the maze2d domain: plans scored as plans (metrics), then executed in
# MuJoCo PointMaze (execute) and scored as the literature scores them (episode_metrics).
DOMAIN_TARGETS = [
    f"{R}/eval/episodes.csv",
    f"{R}/plots/executed.png",
]


def samples_of(wildcards=None):
    return {split: f"{R}/samples/{split}.safetensors" for split in ("val", "test")}


rule metrics:
    input:
        unpack(samples_of),
    output:
        table=report(
            f"{R}/eval/metrics.csv",
            caption="captions/metrics.rst",
            category="Metrics",
        ),
        timing=f"{R}/eval/timing.csv",
    log:
        f"{R}/logs/metrics.log",
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
        samples=rules.sample.output.samples,
        raw=rules.prepare_data.output.raw,
    output:
        episodes=f"{R}/episodes/{{split}}.safetensors",
    log:
        f"{R}/logs/execute_{{split}}.log",
    conda:
        CONDA_ENV
    resources:
        **slurm_resources(C["run"]),
        mem_mb=2000,
        runtime=60,
    params:
        seed=SEED,
        code=stage_digest("execute"),
    script:
        "../workflow_scripts/execute.py"


rule episode_metrics:
    input:
        val=f"{R}/episodes/val.safetensors",
        test=f"{R}/episodes/test.safetensors",
    output:
        table=report(
            f"{R}/eval/episodes.csv",
            caption="captions/episodes.rst",
            category="Metrics",
        ),
        paired=report(
            f"{R}/eval/paired.csv",
            caption="captions/paired.rst",
            category="Metrics",
        ),
    log:
        f"{R}/logs/episode_metrics.log",
    conda:
        CONDA_ENV
    resources:
        **slurm_resources(C["run"]),
        mem_mb=2000,
        runtime=10,
    params:
        cfg=C["evaluate"],
        seed=SEED,
        code=stage_digest("episode_metrics"),
    script:
        "../workflow_scripts/episode_metrics.py"


rule plots:
    input:
        samples=f"{R}/samples/test.safetensors",
        table=rules.metrics.output.table,
        labels=rules.dp_labels.output.labels,
        teacher=rules.train_teacher.output.model,
        dphi=rules.train_dphi.output.model,
        selector=rules.train_selector.output.model,
        phase1=rules.train_phase1.output.model,
        phase2=rules.train_phase2.output.model,
    output:
        frontier=report(
            f"{R}/plots/frontier.png",
            caption="captions/frontier.rst",
            category="Plots",
        ),
        trajectories=report(
            f"{R}/plots/trajectories.png",
            caption="captions/trajectories.rst",
            category="Plots",
        ),
        keyframes=report(
            f"{R}/plots/keyframes.png",
            caption="captions/keyframes.rst",
            category="Keyframe selection",
        ),
        losses=report(
            f"{R}/plots/losses.png",
            caption="captions/losses.rst",
            category="Training",
        ),
    log:
        f"{R}/logs/plots.log",
    conda:
        CONDA_ENV
    resources:
        **slurm_resources(C["run"]),
        mem_mb=2000,
        runtime=10,
    params:
        cfg=C["metrics"],
        code=stage_digest("plots"),
    script:
        "../workflow_scripts/plots.py"


rule plots_executed:
    input:
        table=rules.episode_metrics.output.table,
        timing=rules.metrics.output.timing,
        episodes=f"{R}/episodes/test.safetensors",
    output:
        executed=report(
            f"{R}/plots/executed.png",
            caption="captions/executed.rst",
            category="Plots",
        ),
        rollouts=report(
            f"{R}/plots/executed_trajectories.png",
            caption="captions/executed_trajectories.rst",
            category="Plots",
        ),
        literature=report(
            f"{R}/eval/literature.csv",
            caption="captions/literature.rst",
            category="Metrics",
        ),
    log:
        f"{R}/logs/plots_executed.log",
    conda:
        CONDA_ENV
    resources:
        **slurm_resources(C["run"]),
        mem_mb=2000,
        runtime=10,
    params:
        cfg=C["metrics"],
        code=stage_digest("plots_executed"),
    script:
        "../workflow_scripts/plots_executed.py"
