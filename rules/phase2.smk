rule train_phase2:
    input:
        train=rules.tokenize.output.train,
        labels=rules.dp_labels.output.labels,
        selector=rules.train_selector.output.model,
        anchors=rules.anchor_precompute.output.anchors,
    output:
        model=f"{R}/models/phase2.safetensors",
    log:
        f"{R}/logs/train_phase2.log",
    conda:
        CONDA_ENV
    threads: C["run"]["threads"]
    resources:
        **slurm_resources(C["run"], C["phase2"]),
        mem_mb=4000,
        runtime=120,
    params:
        cfg=C["phase2"],
        levels=LEVELS,
        seed=SEED,
        ckpt_dir=f"{R}/checkpoints/phase2",
        device=C["run"]["device"],
        on_bad_sample=C["data"]["on_bad_sample"],
        code=stage_digest("train_phase2"),
    script:
        "../workflow_scripts/train_phase2.py"
