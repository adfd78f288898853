rule train_phase2:
    input:
        train=rules.tokenize.output.train,
        labels=rules.dp_labels.output.labels,
        selector=rules.train_selector.output.model,
        anchors=rules.anchor_precompute.output.anchors,
    output:
        model=f"{R}/models/phase2.safetensors",
    params:
        cfg=config["phase2"],
        levels=LEVELS,
        seed=SEED,
        ckpt_dir=f"{R}/checkpoints/phase2",
        code=stage_digest("train_phase2"),
    log:
        f"{R}/logs/train_phase2.log",
    threads: config["run"]["threads"]
    resources:
        mem_mb=4000,
        runtime=120,
    script:
        "../workflow_scripts/train_phase2.py"
