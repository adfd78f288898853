# Metrics and figures of the maze2d domain.
DOMAIN_TARGETS = []


rule metrics:
    input:
        samples=rules.sample.output.samples,
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


rule plots:
    input:
        samples=rules.sample.output.samples,
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
