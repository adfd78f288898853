rule train_teacher:
    input:
        train=rules.tokenize.output.train,
    output:
        model=f"{R}/models/teacher.safetensors",
    params:
        cfg=config["teacher"],
        seed=SEED,
        on_bad_sample=config["data"]["on_bad_sample"],
        ckpt_dir=f"{R}/checkpoints/teacher",
        code=stage_digest("train_teacher"),
    log:
        f"{R}/logs/train_teacher.log",
    threads: config["run"]["threads"]
    resources:
        mem_mb=4000,
        runtime=120,
    script:
        "../workflow_scripts/train_teacher.py"


rule teacher_precompute:
    input:
        train=rules.tokenize.output.train,
        teacher=rules.train_teacher.output.model,
    output:
        cache=f"{R}/cache/teacher_predictions.safetensors",
    params:
        cfg={k: config["dphi"][k] for k in ("subsample", "t_steps")},
        seed=SEED,
        code=stage_digest("teacher_precompute"),
    log:
        f"{R}/logs/teacher_precompute.log",
    threads: config["run"]["threads"]
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../workflow_scripts/teacher_precompute.py"
