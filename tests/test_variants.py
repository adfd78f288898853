"""Variants and training seeds: merged configs, which run owns which artifact, and the jobs a
new variant or seed plans on the finished micro run (only what it does not share)."""

import re

import pytest
import yaml
from conftest import planned_jobs, snakemake

from interdiff_core.variants import BASE, owner, sections_of, summary_variants, variant_configs

CFG = {
    "run": {"seed": 0},
    "data": {"horizon": 9},
    "teacher": {"steps": 6},
    "dphi": {"kind": "teacher", "subsample": 4, "t_steps": 4, "steps": 6},
    "dp": {"levels": [4, 8]},
    "selector": {"steps": 6},
    "phase1": {"steps": 6},
    "phase2": {"steps": 6, "anchor_prob": 0.5},
    "sample": {"n_samples": 4},
    "evaluate": {"goal": "fixed"},
    "metrics": {},
}


def test_a_variant_is_the_config_with_its_sections_deep_merged():
    cfg = dict(CFG, variants={"p2": {"desc": "d", "phase2": {"anchor_prob": 0.25}}})
    configs = variant_configs(cfg)
    assert set(configs) == {BASE, "p2"} and "variants" not in configs["p2"]
    assert configs["p2"]["phase2"] == {"steps": 6, "anchor_prob": 0.25}
    assert configs[BASE]["phase2"]["anchor_prob"] == 0.5  # base untouched


def test_summary_variants_default_to_every_variant_and_refuse_an_unknown_name():
    cfg = dict(CFG, variants={"p2": {"desc": "d", "phase2": {"anchor_prob": 0.25}}})
    variants = variant_configs(cfg)
    assert summary_variants(cfg, variants) == ["base", "p2"]
    assert summary_variants(dict(cfg, run={"seed": 0, "summary_variants": ["p2"]}), variants) == [
        "p2"
    ]
    with pytest.raises(ValueError, match=r"run.summary_variants.*\['p3'\].*\['base', 'p2'\]"):
        summary_variants(dict(cfg, run={"seed": 0, "summary_variants": ["p3"]}), variants)


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"desc": "d", "data": {"horizon": 17}}, "shared by every variant"),
        ({"desc": "d", "nonsense": {}}, "unknown section"),
    ],
)
def test_a_variant_that_changes_shared_data_or_unknown_sections_is_refused(spec, message):
    with pytest.raises(ValueError, match=f"variants.v.*{message}"):
        variant_configs(dict(CFG, variants={"v": spec}))


def test_a_variant_naming_part_of_a_mix_is_refused_naming_what_it_would_keep():
    base = dict(CFG, phase1={"steps": 6, "index_mix": {"dp": 0.6, "uniform": 0.4, "random": 0}})
    with pytest.raises(ValueError, match=r"variants.u.phase1.index_mix.*\['dp'\].*dp: 0.6"):
        variant_configs(dict(base, variants={"u": {"phase1": {"index_mix": {"uniform": 1}}}}))
    whole = {"dp": 0, "uniform": 1}  # random's weight is 0 already: it need not be named
    configs = variant_configs(dict(base, variants={"u": {"phase1": {"index_mix": whole}}}))
    assert configs["u"]["phase1"]["index_mix"] == {"dp": 0, "uniform": 1, "random": 0}


def test_each_stage_is_owned_by_base_unless_a_section_it_depends_on_differs():
    configs = variant_configs(
        dict(
            CFG,
            variants={
                "p2": {"desc": "", "phase2": {"anchor_prob": 0.25}},
                "dphi_steps": {"desc": "", "dphi": {"steps": 9}},
            },
        )
    )
    for stage in ("train_teacher", "train_dphi", "train_selector", "train_phase1"):
        assert owner(configs, "p2", stage) == BASE
    for stage in ("train_phase2", "sample", "execute"):
        assert owner(configs, "p2", stage) == "p2"
    # D_phi's training steps: not the teacher's cache (it reads two dphi keys only)
    assert owner(configs, "dphi_steps", "teacher_precompute") == BASE
    assert owner(configs, "dphi_steps", "train_dphi") == "dphi_steps"
    assert owner(configs, "dphi_steps", "train_phase2") == "dphi_steps"  # labels upstream
    assert "teacher" in sections_of("sample") and "evaluate" in sections_of("episode_metrics")


def test_a_variant_from_another_is_its_config_with_overrides_and_shares_its_artifacts():
    configs = variant_configs(
        dict(
            CFG,
            variants={
                "long": {"desc": "", "teacher": {"steps": 12}, "phase1": {"steps": 12}},
                "long_mix": {"desc": "", "from": "long", "phase1": {"index_mix": {"uniform": 1}}},
            },
        )
    )
    assert configs["long_mix"]["teacher"]["steps"] == 12  # long's overrides, then its own
    assert configs["long_mix"]["phase1"] == {"steps": 12, "index_mix": {"uniform": 1}}
    assert owner(configs, "long_mix", "train_teacher") == "long"
    assert owner(configs, "long_mix", "train_dphi") == "long"  # reads long's teacher cache
    assert owner(configs, "long_mix", "train_selector") == "long"  # labels from long's D_phi
    assert owner(configs, "long_mix", "train_interpolator") == BASE  # reads neither change
    assert owner(configs, "long_mix", "train_phase1") == "long_mix"
    assert owner(configs, "long", "train_teacher") == "long"


def test_an_oracle_dphi_does_not_read_the_teacher_so_a_teacher_variant_shares_it():
    """dphi.kind oracle costs the train split's own frames: a variant that changes the teacher
    alone shares D_phi and every stage after it but sample, and no run of it builds the
    teacher's cached predictions. `generated` reads the teacher (not its cache); a phase model
    that starts from the teacher reads it whatever D_phi's kind."""
    from interdiff_core.variants import builds, upstream

    oracle = dict(CFG, dphi=dict(CFG["dphi"], kind="oracle"))
    teacher2 = {"desc": "", "teacher": {"steps": 12}}
    configs = variant_configs(dict(oracle, variants={"t2": teacher2}))
    assert upstream("dphi_targets", configs["t2"]) == ()
    for stage in ("dphi_targets", "train_dphi", "train_selector", "train_phase1", "train_phase2"):
        assert owner(configs, "t2", stage) == BASE, stage
    for stage in ("train_teacher", "sample", "execute"):
        assert owner(configs, "t2", stage) == "t2", stage
    assert not builds(configs[BASE], "teacher_precompute") and builds(configs[BASE], "train_dphi")

    gen = {"desc": "", "teacher": {"steps": 12}, "dphi": {"kind": "generated"}}
    base_init = dict(oracle, phase2={"steps": 6, "init": "teacher"})
    configs = variant_configs(dict(base_init, variants={"t2": teacher2, "g": gen}))
    assert owner(configs, "t2", "train_phase1") == BASE
    assert owner(configs, "t2", "train_phase2") == "t2"  # starts from t2's teacher
    assert upstream("dphi_targets", configs["g"]) == ("train_teacher",)
    assert owner(configs, "g", "dphi_targets") == "g"
    assert not builds(configs["g"], "teacher_precompute")
    configs = variant_configs(dict(CFG, variants={"t2": teacher2}))  # teacher kind: as before
    assert owner(configs, "t2", "train_dphi") == "t2"
    assert builds(configs[BASE], "teacher_precompute")


@pytest.mark.parametrize("parent", ["later", "nonsense"])
def test_a_variant_from_an_unknown_or_later_variant_is_refused(parent):
    variants = {"v": {"desc": "", "from": parent}, "later": {"desc": ""}}
    with pytest.raises(ValueError, match=f"variants.v.from.*{parent!r}"):
        variant_configs(dict(CFG, variants=variants))


def _outputs(out) -> list[str]:
    """Every output a dry run plans, less summarize_runs' tables over all runs."""
    lines = re.findall(r"^\s*output: (.+)$", out.stdout + out.stderr, flags=re.M)
    paths = [p for line in lines for p in line.split(", ")]
    return [
        p
        for p in paths
        if not p.endswith(("eval/summary.csv", "eval/paired_seeds.csv", "eval/answers.csv"))
    ]


@pytest.mark.workflow
def test_a_phase2_variant_and_a_new_seed_plan_only_what_they_do_not_share(finished):
    original = (finished / "micro.yaml").read_text()
    cfg = yaml.safe_load(original)
    try:
        p2 = {"anchor_prob": 0.25, "init": "teacher"}  # init: the teacher becomes an input
        cfg["variants"] = {"p2": {"desc": "anchors less often, from the teacher", "phase2": p2}}
        (finished / "micro.yaml").write_text(yaml.safe_dump(cfg))
        out = snakemake(finished, "-n")
        phase2_inputs = re.findall(
            r"rule train_phase2:\n\s*input: (.+)$", out.stdout + out.stderr, re.M
        )
        assert "results/micro/base/seed0/models/teacher.safetensors" in phase2_inputs[0]
        assert planned_jobs(out) == {
            "train_phase2", "sample", "execute", "metrics", "episode_metrics", "plots",
            "plots_executed", "summarize_runs", "all"}  # fmt: skip
        outside = [p for p in _outputs(out) if "/p2/seed0/" not in p]
        assert not outside, out.stdout
        answers = "results/micro/eval/answers.csv"  # pools every variant: p2's runs first
        assert "train_phase2" in planned_jobs(snakemake(finished, "-n", answers))
        cfg["run"]["summary_variants"] = ["base"]  # ... or the variants named
        (finished / "micro.yaml").write_text(yaml.safe_dump(cfg))
        assert planned_jobs(snakemake(finished, "-n", answers)) <= {"summarize_runs"}
        del cfg["run"]["summary_variants"]

        # an ablation of p2 (`from: p2`, so its phase-2 also starts from the teacher) trains
        # its own phase-2 and what follows, and reads the teacher and anchors p2 reads (base's)
        cfg["variants"]["p2_mix"] = {
            "desc": "p2 with uniform masks", "from": "p2",
            "phase2": {"mask_mix": {"selector": 0, "dp": 0, "uniform": 1, "random": 0}},
        }  # fmt: skip
        (finished / "micro.yaml").write_text(yaml.safe_dump(cfg))
        out = snakemake(finished, "-n")
        assert not [p for p in _outputs(out) if not re.search(r"/p2(_mix)?/seed0/", p)], out.stdout
        jobs = (out.stdout + out.stderr).split("rule train_phase2:")[1:]
        (mix,) = [job for job in jobs if "p2_mix/seed0/models/phase2" in job.split("log:")[0]]
        inputs = re.search(r"input: (.+)$", mix, re.M).group(1)
        assert "results/micro/base/seed0/models/teacher.safetensors" in inputs
        assert "results/micro/base/seed0/cache/anchors.safetensors" in inputs

        del cfg["variants"]
        cfg["run"]["seeds"] = [0, 1]
        (finished / "micro.yaml").write_text(yaml.safe_dump(cfg))
        out = snakemake(finished, "-n")
        assert {"train_teacher", "train_phase2", "execute"} <= planned_jobs(out)
        assert not {"prepare_data", "tokenize"} & planned_jobs(out)  # the data are shared
        outside = [p for p in _outputs(out) if "/base/seed1/" not in p]
        assert not outside, out.stdout
    finally:
        (finished / "micro.yaml").write_text(original)
    assert planned_jobs(snakemake(finished, "-n")) == set()


@pytest.mark.workflow
def test_an_oracle_dphi_variant_reads_the_train_split_and_its_teacher_ablation_trains_a_teacher(
    finished,
):
    """On the finished micro run (teacher costs): a variant with oracle costs plans its own
    D_phi from the train split (no teacher, no teacher_precompute), and a teacher ablation of
    it plans a teacher and what samples it, sharing that variant's D_phi and phase models."""
    original = (finished / "micro.yaml").read_text()
    cfg = yaml.safe_load(original)
    teacher = dict(cfg["teacher"], steps=cfg["teacher"]["steps"] + 1)
    try:
        cfg["variants"] = {
            "oracle": {"desc": "oracle costs", "dphi": {"kind": "oracle"}},
            "oracle_t": {"desc": "its teacher longer", "from": "oracle", "teacher": teacher},
        }
        (finished / "micro.yaml").write_text(yaml.safe_dump(cfg))
        out = snakemake(finished, "-n")
        text = out.stdout + out.stderr
        (targets_job,) = re.findall(r"rule dphi_targets:\n\s*input: (.+)$", text, re.M)
        assert "results/micro/shards/train" in targets_job and "teacher" not in targets_job
        assert "rule teacher_precompute:" not in text
        owners = r":\n(?:.*\n)*?\s*output: results/micro/(\w+)/"  # each job's variant
        jobs = {
            rule: sorted(set(re.findall(f"rule {rule}{owners}", text)))
            for rule in ("train_teacher", "train_dphi", "train_phase1", "train_phase2", "sample")
        }
        assert jobs["train_teacher"] == ["oracle_t"]
        assert jobs["train_dphi"] == jobs["train_phase1"] == jobs["train_phase2"] == ["oracle"]
        assert jobs["sample"] == ["oracle", "oracle_t"]
    finally:
        (finished / "micro.yaml").write_text(original)


def test_a_variant_is_paired_with_base_episode_by_episode_and_only_on_the_same_episodes():
    import numpy as np

    from interdiff_core.stages.summarize_runs import against_parent

    def run(two_phase, teacher, expert, chosen=(4, 2)):
        keys = {f"two_phase@{chosen[0]}": two_phase, f"teacher@{chosen[1]}": teacher}
        values = {("u", k): {"score_d4rl": np.asarray(v, float)} for k, v in keys.items()}
        values[("u", "expert")] = {"score_d4rl": np.asarray(expert, float)}
        return {"val": values}, {"two_phase": chosen[0], "teacher": chosen[1]}

    expert = [100.0, 110.0, 120.0]
    variant = [
        run([90, 100, 110], [120, 120, 120], expert, (8, 1)),
        run([80, 80, 80], [1, 2, 3], expert),
    ]
    base = [run([80, 90, 100], [120, 121, 119], expert), run([70, 70, 70], [1, 2, 3], expert)]
    rows = {r["a"]: r for r in against_parent("v", "base", "val", "u", variant, base, 200, 0)}
    assert rows["two_phase@val"]["b"] == "base:two_phase@val"
    assert rows["two_phase@val"]["diff"] == 10.0 and rows["two_phase@val"]["seeds_above_zero"] == 2
    assert rows["two_phase@val"]["ci_lo"] == rows["two_phase@val"]["ci_hi"] == 10.0
    assert rows["teacher@val"]["diff"] == 0.0 and rows["teacher@val"]["seeds_above_zero"] == 0
    assert set(rows) == {"two_phase@val", "teacher@val"}  # no step count run in every seed
    # planners at a fixed step count that every seed of both ran are paired too
    same_steps = [run([90, 100, 110], [120, 120, 120], expert), variant[1]]
    rows = {r["a"]: r for r in against_parent("v", "base", "val", "u", same_steps, base, 200, 0)}
    assert set(rows) == {"two_phase@val", "teacher@val", "two_phase@4", "teacher@2"}
    assert rows["two_phase@4"]["b"] == "base:two_phase@4" and rows["two_phase@4"]["diff"] == 10.0
    other = [run([80, 90, 100], [1, 2, 3], [100.0, 110.0, 121.0]), base[1]]  # other episodes
    assert list(against_parent("v", "base", "val", "u", variant, other, 200, 0)) == []
