rule prepare_data:
    output:
        raw=f"{R}/data/raw.safetensors",
    log:
        f"{R}/logs/prepare_data.log",
    conda:
        CONDA_ENV
    resources:
        **slurm_resources(C["run"]),
        mem_mb=2000,
        runtime=30,
    params:
        cfg=C["data"],
        goal=C["evaluate"]["goal"],
        seed=SEED,
        code=stage_digest("prepare_data"),
    script:
        "../workflow_scripts/prepare_data.py"


rule tokenize:
    input:
        raw=rules.prepare_data.output.raw,
    output:
        train=directory(f"{R}/shards/train"),
        val=directory(f"{R}/shards/val"),
        test=directory(f"{R}/shards/test"),
    log:
        f"{R}/logs/tokenize.log",
    conda:
        CONDA_ENV
    resources:
        **slurm_resources(C["run"]),
        mem_mb=2000,
        runtime=30,
    params:
        cfg=C["tokenize"],
        mazes=C["data"]["mazes"],
        code=stage_digest("tokenize"),
    script:
        "../workflow_scripts/tokenize.py"


rule expert_costs:
    input:
        raw=rules.prepare_data.output.raw,
    output:
        costs=f"{R}/data/expert_costs.safetensors",
    log:
        f"{R}/logs/expert_costs.log",
    conda:
        CONDA_ENV
    resources:
        **slurm_resources(C["run"]),
        mem_mb=2000,
        runtime=30,
    params:
        runs=C["evaluate"]["expert_runs"],
        code=stage_digest("expert_costs"),
    script:
        "../workflow_scripts/expert_costs.py"
