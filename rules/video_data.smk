# Video data: frames (embedded generator or the user's files) -> tokenizer -> latent shards, or
# Wan2.1 shards read directly. Included instead of data.smk when data.domain is video.


if FROM_FRAMES:

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
            seed=SEED,
            code=stage_digest("prepare_video"),
        script:
            "../workflow_scripts/prepare_video.py"

    rule tokenize:
        input:
            **tokenizer_input(),
            raw=rules.prepare_data.output.raw,
        output:
            train=directory(f"{R}/shards/train"),
            val=directory(f"{R}/shards/val"),
            test=directory(f"{R}/shards/test"),
            table=report(
                f"{R}/eval/tokenizer.csv",
                caption="captions/tokenizer.rst",
                category="Metrics",
            ),
        log:
            f"{R}/logs/tokenize.log",
        conda:
            CONDA_ENV
        threads: C["run"]["threads"]
        resources:
            **slurm_resources(C["run"]),
            mem_mb=4000,
            runtime=30,
        params:
            cfg=C["tokenize"],
            code=stage_digest("tokenize_video"),
        script:
            "../workflow_scripts/tokenize_video.py"

else:

    rule tokenize:
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
            mem_mb=8000,
            runtime=60,
        params:
            wan_dir=VIDEO["wan_dir"],
            cfg=C["tokenize"],
            data={k: C["data"][k] for k in ("horizon", "n_val", "n_test")},
            seed=SEED,
            code=stage_digest("tokenize_video"),
        script:
            "../workflow_scripts/tokenize_wan.py"


if TRAIN_TOKENIZER:

    rule train_tokenizer:
        input:
            raw=rules.prepare_data.output.raw,
        output:
            model=f"{R}/models/tokenizer.safetensors",
        log:
            f"{R}/logs/train_tokenizer.log",
        conda:
            CONDA_ENV
        threads: C["run"]["threads"]
        resources:
            **slurm_resources(C["run"], C["tokenize"]),
            mem_mb=4000,
            runtime=60,
        params:
            cfg=C["tokenize"]["autoencoder"],
            seed=SEED,
            ckpt_dir=f"{R}/checkpoints/tokenizer",
            device=C["run"]["device"],
            code=stage_digest("train_tokenizer"),
        script:
            "../workflow_scripts/train_tokenizer.py"
