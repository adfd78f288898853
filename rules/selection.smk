rule dphi_targets:
    input:
        cache=rules.teacher_precompute.output.cache,
        teacher=rules.train_teacher.output.model,
    output:
        targets=f"{R}/cache/dphi_targets.safetensors",
    log:
        f"{R}/logs/dphi_targets.log",
    conda:
        CONDA_ENV
    threads: C["run"]["threads"]
    resources:
        **slurm_resources(C["run"]),
        mem_mb=8000,
        runtime=30,
    params:
        cfg=C["dphi"],
        seed=SEED,
        levels=LEVELS,
        code=stage_digest("dphi_targets"),
    script:
        "../workflow_scripts/dphi_targets.py"


rule train_dphi:
    input:
        targets=rules.dphi_targets.output.targets,
    output:
        model=f"{R}/models/dphi.safetensors",
    log:
        f"{R}/logs/train_dphi.log",
    conda:
        CONDA_ENV
    threads: C["run"]["threads"]
    resources:
        **slurm_resources(C["run"], C["dphi"]),
        mem_mb=4000,
        runtime=60,
    params:
        cfg=C["dphi"],
        seed=SEED,
        ckpt_dir=f"{R}/checkpoints/dphi",
        device=C["run"]["device"],
        code=stage_digest("train_dphi"),
    script:
        "../workflow_scripts/train_dphi.py"


rule dp_labels:
    input:
        train=rules.tokenize.output.train,
        val=rules.tokenize.output.val,
        test=rules.tokenize.output.test,
        dphi=rules.train_dphi.output.model,
    output:
        labels=f"{R}/cache/dp_labels.safetensors",
    log:
        f"{R}/logs/dp_labels.log",
    conda:
        CONDA_ENV
    threads: C["run"]["threads"]
    resources:
        **slurm_resources(C["run"]),
        mem_mb=4000,
        runtime=30,
    params:
        cfg=C["dp"],
        on_bad_sample=C["data"]["on_bad_sample"],
        code=stage_digest("dp_labels"),
    script:
        "../workflow_scripts/dp_labels.py"


rule train_selector:
    input:
        train=rules.tokenize.output.train,
        test=rules.tokenize.output.test,
        labels=rules.dp_labels.output.labels,
    output:
        model=f"{R}/models/selector.safetensors",
        table=report(
            f"{R}/eval/selector.csv",
            caption="captions/selector.rst",
            category="Keyframe selection",
        ),
    log:
        f"{R}/logs/train_selector.log",
    conda:
        CONDA_ENV
    threads: C["run"]["threads"]
    resources:
        **slurm_resources(C["run"], C["selector"]),
        mem_mb=4000,
        runtime=60,
    params:
        cfg=C["selector"],
        levels=LEVELS,
        seed=SEED,
        ckpt_dir=f"{R}/checkpoints/selector",
        device=C["run"]["device"],
        on_bad_sample=C["data"]["on_bad_sample"],
        code=stage_digest("train_selector"),
    script:
        "../workflow_scripts/train_selector.py"
