rule train_phase2:
    input:
        unpack(interpolator_input),
        unpack(init_input("phase2")),
        train=rules.tokenize.output.train,
        labels=owned("dp_labels", "labels"),
        selector=owned("train_selector", "model"),
        anchors=owned("anchor_precompute", "anchors"),
    output:
        model=f"{RUN}/models/phase2.safetensors",
    log:
        f"{RUN}/logs/train_phase2.log",
    conda:
        CONDA_ENV
    threads: C["run"]["threads"]
    resources:
        **slurm_resources(C["run"], C["phase2"]),
        mem_mb=4000,
        runtime=120,
    params:
        cfg=section("phase2"),
        levels=section("dp", "levels"),
        seed=TRAIN_SEED,
        ckpt_dir=f"{RUN}/checkpoints/phase2",
        device=C["run"]["device"],
        on_bad_sample=C["data"]["on_bad_sample"],
        code=stage_digest("train_phase2"),
    script:
        "../workflow_scripts/train_phase2.py"
