wildcard_constraints:
    split="val|test",


rule sample:
    input:
        unpack(interpolator_input),
        split=f"{R}/shards/{{split}}",
        train=rules.tokenize.output.train,
        teacher=owned("train_teacher", "model"),
        selector=owned("train_selector", "model"),
        phase1=owned("train_phase1", "model"),
        phase2=owned("train_phase2", "model"),
        dphi=owned("train_dphi", "model"),
    output:
        samples=f"{RUN}/samples/{{split}}.safetensors",
    log:
        f"{RUN}/logs/sample_{{split}}.log",
    conda:
        CONDA_ENV
    threads: C["run"]["threads"]
    resources:
        **slurm_resources(C["run"]),
        mem_mb=4000,
        runtime=30,
    params:
        cfg=section("sample"),
        seed=TRAIN_SEED,
        on_bad_sample=C["data"]["on_bad_sample"],
        code=stage_digest("sample"),
    script:
        "../workflow_scripts/sample.py"
