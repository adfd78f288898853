rule train_phase1:
    input:
        unpack(init_input("phase1")),
        train=rules.tokenize.output.train,
        labels=owned("dp_labels", "labels"),
        selector=owned("train_selector", "model"),
    output:
        model=f"{RUN}/models/phase1.safetensors",
    log:
        f"{RUN}/logs/train_phase1.log",
    conda:
        CONDA_ENV
    threads: C["run"]["threads"]
    resources:
        **slurm_resources(C["run"], C["phase1"]),
        mem_mb=4000,
        runtime=120,
    params:
        cfg=section("phase1"),
        levels=section("dp", "levels"),
        seed=TRAIN_SEED,
        ckpt_dir=f"{RUN}/checkpoints/phase1",
        device=C["run"]["device"],
        on_bad_sample=C["data"]["on_bad_sample"],
        code=stage_digest("train_phase1"),
    script:
        "../workflow_scripts/train_phase1.py"


rule anchor_precompute:
    input:
        train=rules.tokenize.output.train,
        selector=owned("train_selector", "model"),
        phase1=owned("train_phase1", "model"),
    output:
        anchors=f"{RUN}/cache/anchors.safetensors",
    log:
        f"{RUN}/logs/anchor_precompute.log",
    conda:
        CONDA_ENV
    threads: C["run"]["threads"]
    resources:
        **slurm_resources(C["run"]),
        mem_mb=4000,
        runtime=30,
    params:
        cfg=section("phase1"),
        levels=section("dp", "levels"),
        seed=TRAIN_SEED,
        on_bad_sample=C["data"]["on_bad_sample"],
        code=stage_digest("anchor_precompute"),
    script:
        "../workflow_scripts/anchor_precompute.py"
