rule train_phase1:
    input:
        train=rules.tokenize.output.train,
        labels=rules.dp_labels.output.labels,
        selector=rules.train_selector.output.model,
    output:
        model=f"{R}/models/phase1.safetensors",
    log:
        f"{R}/logs/train_phase1.log",
    conda:
        CONDA_ENV
    threads: C["run"]["threads"]
    resources:
        **slurm_resources(C["run"], C["phase1"]),
        mem_mb=4000,
        runtime=120,
    params:
        cfg=C["phase1"],
        levels=LEVELS,
        seed=SEED,
        ckpt_dir=f"{R}/checkpoints/phase1",
        device=C["run"]["device"],
        on_bad_sample=C["data"]["on_bad_sample"],
        code=stage_digest("train_phase1"),
    script:
        "../workflow_scripts/train_phase1.py"


rule anchor_precompute:
    input:
        train=rules.tokenize.output.train,
        selector=rules.train_selector.output.model,
        phase1=rules.train_phase1.output.model,
    output:
        anchors=f"{R}/cache/anchors.safetensors",
    log:
        f"{R}/logs/anchor_precompute.log",
    conda:
        CONDA_ENV
    threads: C["run"]["threads"]
    resources:
        **slurm_resources(C["run"]),
        mem_mb=4000,
        runtime=30,
    params:
        cfg=C["phase1"],
        levels=LEVELS,
        seed=SEED,
        on_bad_sample=C["data"]["on_bad_sample"],
        code=stage_digest("anchor_precompute"),
    script:
        "../workflow_scripts/anchor_precompute.py"
