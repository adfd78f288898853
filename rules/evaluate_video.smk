# Metrics and figures of the video domain: latent and decoded-frame quality, frame strips.


def decoder_inputs():
    """What decoding test clips back to frames needs: raw frames and the trained tokenizer."""
    return {**raw_input(), **tokenizer_input()}


PLOT_OUTPUTS = {
    "frontier": ("captions/frontier_video.rst", "Plots"),
    "frames": ("captions/frames.rst", "Plots"),
    "keyframes": ("captions/keyframes.rst", "Keyframe selection"),
    "losses": ("captions/losses.rst", "Training"),
}


rule metrics:
    input:
        **decoder_inputs(),
        samples=rules.sample.output.samples,
    output:
        table=report(
            f"{R}/eval/metrics.csv",
            caption="captions/metrics_video.rst",
            category="Metrics",
        ),
    log:
        f"{R}/logs/metrics.log",
    conda:
        CONDA_ENV
    threads: C["run"]["threads"]
    resources:
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
        samples=rules.sample.output.samples,
        table=rules.metrics.output.table,
        labels=rules.dp_labels.output.labels,
        teacher=rules.train_teacher.output.model,
        dphi=rules.train_dphi.output.model,
        selector=rules.train_selector.output.model,
        phase1=rules.train_phase1.output.model,
        phase2=rules.train_phase2.output.model,
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
        mem_mb=4000,
        runtime=10,
    params:
        cfg=C["metrics"],
        tokenize=C["tokenize"],
        code=stage_digest("plots_video"),
    script:
        "../workflow_scripts/plots_video.py"
