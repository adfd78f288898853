wildcard_constraints:
    split="val|test",


rule sample:
    input:
        split=f"{R}/shards/{{split}}",
        teacher=rules.train_teacher.output.model,
        selector=rules.train_selector.output.model,
        phase1=rules.train_phase1.output.model,
        phase2=rules.train_phase2.output.model,
    output:
        samples=f"{R}/samples/{{split}}.safetensors",
    log:
        f"{R}/logs/sample_{{split}}.log",
    conda:
        CONDA_ENV
    threads: C["run"]["threads"]
    resources:
        **slurm_resources(C["run"]),
        mem_mb=4000,
        runtime=30,
    params:
        cfg=C["sample"],
        seed=SEED,
        on_bad_sample=C["data"]["on_bad_sample"],
        code=stage_digest("sample"),
    script:
        "../workflow_scripts/sample.py"
