# Keyframes judged by their true cost: every source of keyframes beside its trivial replacements.


rule eval_keyframes:
    input:
        **maze_raw(),
        **maze_expert_costs(),
        train=rules.tokenize.output.train,
        val=rules.tokenize.output.val,
        test=rules.tokenize.output.test,
        dphi=owned("train_dphi", "model"),
        selector=owned("train_selector", "model"),
    output:
        table=report(
            f"{RUN}/eval/keyframes.csv",
            caption="captions/keyframes_cost.rst",
            category="Keyframe selection",
        ),
    log:
        f"{RUN}/logs/eval_keyframes.log",
    conda:
        CONDA_ENV
    threads: C["run"]["threads"]
    resources:
        **slurm_resources(C["run"]),
        mem_mb=4000,
        runtime=30,
    params:
        levels=section("dp", "levels"),
        on_bad_sample=C["data"]["on_bad_sample"],
        reference_seed=SEED,
        code=stage_digest("eval_keyframes"),
    script:
        "../workflow_scripts/eval_keyframes.py"
