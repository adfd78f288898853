rule prepare_data:
    output:
        raw=f"{R}/data/raw.safetensors",
    params:
        cfg=config["data"],
        seed=SEED,
        code=stage_digest("prepare_data"),
    log:
        f"{R}/logs/prepare_data.log",
    resources:
        mem_mb=2000,
        runtime=30,
    script:
        "../workflow_scripts/prepare_data.py"


rule tokenize:
    input:
        raw=rules.prepare_data.output.raw,
    output:
        train=directory(f"{R}/shards/train"),
        val=directory(f"{R}/shards/val"),
        test=directory(f"{R}/shards/test"),
    params:
        cfg=config["tokenize"],
        mazes=config["data"]["mazes"],
        code=stage_digest("tokenize"),
    log:
        f"{R}/logs/tokenize.log",
    resources:
        mem_mb=2000,
        runtime=30,
    script:
        "../workflow_scripts/tokenize.py"
