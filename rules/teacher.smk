rule train_teacher:
    input:
        train=rules.tokenize.output.train,
    output:
        model=f"{R}/models/teacher.safetensors",
    log:
        f"{R}/logs/train_teacher.log",
    conda:
        CONDA_ENV
    threads: C["run"]["threads"]
    resources:
        **slurm_resources(C["run"], C["teacher"]),
        mem_mb=4000,
        runtime=120,
    params:
        cfg=C["teacher"],
        seed=SEED,
        on_bad_sample=C["data"]["on_bad_sample"],
        ckpt_dir=f"{R}/checkpoints/teacher",
        device=C["run"]["device"],
        code=stage_digest("train_teacher"),
    script:
        "../workflow_scripts/train_teacher.py"


rule teacher_precompute:
    input:
        train=rules.tokenize.output.train,
        teacher=rules.train_teacher.output.model,
    output:
        cache=f"{R}/cache/teacher_predictions.safetensors",
    log:
        f"{R}/logs/teacher_precompute.log",
    conda:
        CONDA_ENV
    threads: C["run"]["threads"]
    resources:
        **slurm_resources(C["run"]),
        mem_mb=4000,
        runtime=30,
    params:
        cfg={k: C["dphi"][k] for k in ("subsample", "t_steps")},
        seed=SEED,
        on_bad_sample=C["data"]["on_bad_sample"],
        code=stage_digest("teacher_precompute"),
    script:
        "../workflow_scripts/teacher_precompute.py"
