rule dphi_targets:
    input:
        unpack(dphi_target_inputs),
        **maze_raw(),
    output:
        targets=f"{RUN}/cache/dphi_targets.safetensors",
    log:
        f"{RUN}/logs/dphi_targets.log",
    conda:
        CONDA_ENV
    threads: C["run"]["threads"]
    resources:
        **slurm_resources(C["run"]),
        mem_mb=8000,
        runtime=30,
    params:
        cfg=section("dphi"),
        seed=TRAIN_SEED,
        levels=section("dp", "levels"),
        on_bad_sample=C["data"]["on_bad_sample"],
        code=stage_digest("dphi_targets"),
    script:
        "../workflow_scripts/dphi_targets.py"


rule train_dphi:
    input:
        targets=owned("dphi_targets", "targets"),
    output:
        model=f"{RUN}/models/dphi.safetensors",
    log:
        f"{RUN}/logs/train_dphi.log",
    conda:
        CONDA_ENV
    threads: C["run"]["threads"]
    resources:
        **slurm_resources(C["run"], C["dphi"]),
        mem_mb=4000,
        runtime=60,
    params:
        cfg=section("dphi"),
        seed=TRAIN_SEED,
        ckpt_dir=f"{RUN}/checkpoints/dphi",
        device=C["run"]["device"],
        code=stage_digest("train_dphi"),
    script:
        "../workflow_scripts/train_dphi.py"


rule dp_labels:
    input:
        train=rules.tokenize.output.train,
        val=rules.tokenize.output.val,
        test=rules.tokenize.output.test,
        dphi=owned("train_dphi", "model"),
    output:
        labels=f"{RUN}/cache/dp_labels.safetensors",
    log:
        f"{RUN}/logs/dp_labels.log",
    conda:
        CONDA_ENV
    threads: C["run"]["threads"]
    resources:
        **slurm_resources(C["run"]),
        mem_mb=4000,
        runtime=30,
    params:
        cfg=section("dp"),
        on_bad_sample=C["data"]["on_bad_sample"],
        code=stage_digest("dp_labels"),
    script:
        "../workflow_scripts/dp_labels.py"


rule train_selector:
    input:
        train=rules.tokenize.output.train,
        test=rules.tokenize.output.test,
        labels=owned("dp_labels", "labels"),
    output:
        model=f"{RUN}/models/selector.safetensors",
        table=report(
            f"{RUN}/eval/selector.csv",
            caption="captions/selector.rst",
            category="Keyframe selection",
        ),
    log:
        f"{RUN}/logs/train_selector.log",
    conda:
        CONDA_ENV
    threads: C["run"]["threads"]
    resources:
        **slurm_resources(C["run"], C["selector"]),
        mem_mb=4000,
        runtime=60,
    params:
        cfg=section("selector"),
        levels=section("dp", "levels"),
        seed=TRAIN_SEED,
        ckpt_dir=f"{RUN}/checkpoints/selector",
        device=C["run"]["device"],
        on_bad_sample=C["data"]["on_bad_sample"],
        code=stage_digest("train_selector"),
    script:
        "../workflow_scripts/train_selector.py"
