rule dphi_targets:
    input:
        cache=rules.teacher_precompute.output.cache,
        teacher=rules.train_teacher.output.model,
    output:
        targets=f"{R}/cache/dphi_targets.safetensors",
    params:
        cfg=config["dphi"],
        seed=SEED,
        code=stage_digest("dphi_targets"),
    log:
        f"{R}/logs/dphi_targets.log",
    threads: config["run"]["threads"]
    resources:
        mem_mb=8000,
        runtime=30,
    script:
        "../workflow_scripts/dphi_targets.py"


rule train_dphi:
    input:
        targets=rules.dphi_targets.output.targets,
    output:
        model=f"{R}/models/dphi.safetensors",
    params:
        cfg=config["dphi"],
        seed=SEED,
        ckpt_dir=f"{R}/checkpoints/dphi",
        code=stage_digest("train_dphi"),
    log:
        f"{R}/logs/train_dphi.log",
    threads: config["run"]["threads"]
    resources:
        mem_mb=4000,
        runtime=60,
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
    params:
        cfg=config["dp"],
        code=stage_digest("dp_labels"),
    log:
        f"{R}/logs/dp_labels.log",
    threads: config["run"]["threads"]
    resources:
        mem_mb=4000,
        runtime=30,
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
    params:
        cfg=config["selector"],
        levels=LEVELS,
        seed=SEED,
        ckpt_dir=f"{R}/checkpoints/selector",
        code=stage_digest("train_selector"),
    log:
        f"{R}/logs/train_selector.log",
    threads: config["run"]["threads"]
    resources:
        mem_mb=4000,
        runtime=60,
    script:
        "../workflow_scripts/train_selector.py"
