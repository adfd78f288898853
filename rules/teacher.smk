rule train_teacher:
    input:
        train=rules.tokenize.output.train,
    output:
        model=f"{RUN}/models/teacher.safetensors",
    log:
        f"{RUN}/logs/train_teacher.log",
    conda:
        CONDA_ENV
    threads: C["run"]["threads"]
    resources:
        **slurm_resources(C["run"], C["teacher"]),
        mem_mb=4000,
        runtime=120,
    params:
        cfg=section("teacher"),
        seed=TRAIN_SEED,
        on_bad_sample=C["data"]["on_bad_sample"],
        ckpt_dir=f"{RUN}/checkpoints/teacher",
        device=C["run"]["device"],
        code=stage_digest("train_teacher"),
    script:
        "../workflow_scripts/train_teacher.py"


rule teacher_precompute:
    input:
        train=rules.tokenize.output.train,
        teacher=owned("train_teacher", "model"),
    output:
        cache=f"{RUN}/cache/teacher_predictions.safetensors",
    log:
        f"{RUN}/logs/teacher_precompute.log",
    conda:
        CONDA_ENV
    threads: C["run"]["threads"]
    resources:
        **slurm_resources(C["run"]),
        mem_mb=4000,
        runtime=30,
    params:
        cfg=section("dphi", ("subsample", "t_steps")),
        seed=TRAIN_SEED,
        on_bad_sample=C["data"]["on_bad_sample"],
        code=stage_digest("teacher_precompute"),
    script:
        "../workflow_scripts/teacher_precompute.py"
