"""Snakemake on the micro config: the whole DAG, caching, per-stage reruns (determinism, kill
and resume, locks: test_faults_workflow.py)."""

import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from conftest import REPO, edit_config, planned_jobs, snakemake, stage_on_meta

from interdiff_core.io import load_checkpoint, load_tensors, save_tensors

pytestmark = pytest.mark.workflow
PHASE2_AND_AFTER = {
    "train_phase2",
    "sample",
    "metrics",
    "plots",
    "execute",
    "episode_metrics",
    "plots_executed",
    "summarize_runs",
    "all",
}
SOURCES = ("uniform", "dp_dphi", "dp_true", "best_fixed")
ARMS = {f"{m}_{src}" for m in ("two_phase", "interp_only") for src in SOURCES}
METHODS = {"teacher", "untrained", "straight_line", "interp_only", "two_phase", *ARMS}


def test_whole_dag_produces_metrics_plots_and_logs(finished):
    res = finished / "results" / "micro" / "base" / "seed0"
    table = pd.read_csv(res / "eval" / "metrics.csv")
    assert set(table.method) == METHODS | {"reference"} and set(table.split) == {"val", "test"}
    assert table[["wall_crossing", "states_in_wall", "mse", "smoothness_ratio"]].notna().all().all()
    executed = pd.read_csv(res / "eval" / "episodes.csv")
    fds = {"interp_fd", "two_phase_fd"}
    assert set(executed.method) == METHODS | fds | {"expert", "tracked_reference", "random"}
    assert set(executed.split) == {"val", "test"} and (executed.episodes == 4).all()
    expert = executed[executed.method == "expert"]
    assert (expert.success == 1).all() and np.allclose(expert.score, 100)  # its own reference
    assert executed.chosen_on_val.sum() == 2 * 2  # teacher and two-phase, once per split
    paired = pd.read_csv(res / "eval" / "paired.csv")
    assert {
        ("two_phase@4", "two_phase_uniform@4"),
        ("two_phase@4", "two_phase_best_fixed@4"),
        ("two_phase@4", "interp_only@4"),
        ("two_phase@4", "interp_fd@4"),
        ("two_phase_fd@4", "interp_fd@4"),
    } <= set(zip(paired.a, paired.b))
    episodes, _ = load_tensors(res / "episodes" / "test.safetensors")
    fixed, plain = episodes["interp_fd@4.plan"], episodes["interp_only@4.plan"]
    assert torch.equal(fixed[..., :2], plain[..., :2])  # interp_fd: the same positions
    h = yaml.safe_load((finished / "micro.yaml").read_text())["data"]["stride"] * 0.01
    torch.testing.assert_close(fixed[1, 1, 2:], (plain[1, 2, :2] - plain[1, 0, :2]) / (2 * h))
    two, two_fd = episodes["two_phase@4.plan"], episodes["two_phase_fd@4.plan"]
    assert torch.equal(two_fd[..., :2], two[..., :2]) and not torch.equal(two_fd, two)
    cost = executed.set_index(["split", "method", "steps"]).tokens
    assert (cost.xs("interp_fd", level=1) == cost.xs("interp_only", level=1)).all()
    assert (cost.xs("two_phase_fd", level=1) == cost.xs("two_phase", level=1)).all()
    samples, _ = load_tensors(res / "samples" / "test.safetensors")
    fixed = [samples[f"best_fixed.{s}"] for s in range(2)]  # the arm's schedule, one row per level
    assert [f.shape[0] for f in fixed] == [1, 1] and set(fixed[0][0].tolist()) < set(
        fixed[1][0].tolist()
    )
    assert (paired.ci_lo <= paired["diff"]).all() and (paired["diff"] <= paired.ci_hi).all()
    assert (table[table.method == "teacher"].nfe == table[table.method == "teacher"].steps).all()
    selector = pd.read_csv(res / "eval" / "selector.csv")
    assert set(selector.method) == {"selector", "uniform", "most_frequent", "dp_labels"}
    assert (selector[selector.method == "most_frequent"].distinct_schedules == 1).all()
    keyframes = pd.read_csv(res / "eval" / "keyframes.csv")
    refs = {
        (s, r, c)
        for s in ("val", "test")
        for r in ("ground_truth", "data_expert")
        for c in ("task", "reference")
    }
    assert set(zip(keyframes.split, keyframes.reference, keyframes.conditioning)) == refs
    assert (keyframes.dp_true <= keyframes.uniform + 1e-9).all()  # the truth's own DP is a bound
    coarsest = keyframes[keyframes.level == 0]  # finer levels are supersets: not each optimal
    assert (coarsest.dp_true <= coarsest.dp_expert_mean + 1e-9).all()
    assert keyframes.expert_mean_loses_to_uniform.dtype == bool
    for name in ("frontier", "trajectories", "keyframes", "losses", "executed"):
        assert (res / "plots" / f"{name}.png").stat().st_size > 1000
    assert (finished / "results" / "micro" / "logs" / "prepare_data.log").exists()
    raw, _ = load_tensors(finished / "results" / "micro" / "data" / "raw.safetensors")
    rest = raw["train.from_rest"]  # data.rest_episodes: the last quarter of the 64 windows
    assert rest.dtype == torch.bool and rest.sum() == 16 and rest[-16:].all()
    torch.testing.assert_close(raw["train.goal_xy"][~rest], raw["train.state"][~rest, -1, :2])
    assert not torch.allclose(raw["train.goal_xy"][rest], raw["train.state"][rest, -1, :2])
    for rule in ("train_teacher", "train_phase2", "sample_test", "execute_test"):
        assert (res / "logs" / f"{rule}.log").exists()
    summary = pd.read_csv(finished / "results" / "micro" / "eval" / "summary.csv")
    assert {"teacher@val_choice", "two_phase@val_choice", "expert"} <= set(summary.method)
    seeds = pd.read_csv(finished / "results" / "micro" / "eval" / "paired_seeds.csv")
    assert (seeds.seeds == 1).all() and set(seeds.split) == {"val", "test"}
    chosen = executed[executed.chosen_on_val & (executed.split == "val")]
    steps = dict(zip(chosen.method, chosen.steps))
    for split in ("val", "test"):  # one seed: the run's own paired comparison, named by role
        row = seeds[(seeds.split == split) & (seeds.a == "two_phase@val")]
        row = row[row.b == "teacher@val"].iloc[0]
        own = paired[(paired.split == split) & (paired.a == f"two_phase@{steps['two_phase']}")]
        own = own[own.b == f"teacher@{steps['teacher']}"].iloc[0]
        assert row["diff"] == pytest.approx(own["diff"]) and row.ci_lo <= row["diff"] <= row.ci_hi
    assert ("two_phase@4", "two_phase_uniform@4") in set(zip(seeds.a, seeds.b))
    score = executed.set_index(["split", "method", "steps"]).score_d4rl
    k = steps["two_phase"]
    pick = {  # each plan or its velocity fix, whichever scores higher on val (plain on a tie)
        role: max(options, key=lambda m: (score["val", m, k], m == options[0]))
        for role, options in (("a", ("two_phase", "two_phase_fd")),
                              ("b", ("interp_only", "interp_fd")))
    }  # fmt: skip
    either = seeds[(seeds.split == "test") & (seeds.a == "two_phase_or_fd@val")].iloc[0]
    assert either.b == "interp_or_fd@val"
    assert either["diff"] == pytest.approx(
        score["test", pick["a"], k] - score["test", pick["b"], k], abs=1e-3
    )
    answers = pd.read_csv(finished / "results" / "micro" / "eval" / "answers.csv")
    assert {"two-phase reaches the teacher for fewer tokens", "phase-2 beats interpolation only",
            "DP(D_phi)'s keyframes beat uniform keyframes"} <= set(answers.question)  # fmt: skip
    row = answers[answers.question == "two-phase reaches the teacher for fewer tokens"].iloc[0]
    val = seeds[(seeds.split == "val") & (seeds.a == "two_phase@val") & (seeds.b == "teacher@val")]
    assert row.val_diff == pytest.approx(val["diff"].iloc[0], abs=1e-4)
    assert row.val_seeds_above_zero == val.seeds_above_zero.iloc[0]
    assert row.seeds == 1 and row.seeds_cheaper == int(row.tokens_a < row.tokens_b)
    assert row.margin == 5.0  # the schema's default evaluate.teacher_margin reaches the stage
    assert row.holds_on_val == (row.val_ci_lo > -row.margin and row.tokens_ratio < 1)
    _, extra, meta = load_checkpoint(res / "models" / "phase2.safetensors")
    assert meta["stage"] == "train_phase2" and len(meta["code"]) == 16
    assert meta["step"] == meta["config"]["steps"] == len(extra["loss_history"])
    assert list((res / "checkpoints" / "teacher" / "tb").iterdir())  # TensorBoard scalars
    assert not list(res.rglob("*.tmp"))


def test_pair_arms_repeats_the_workflows_paired_rows_and_refuses_an_unknown_arm(finished, tmp_path):
    """bench/pair_arms.py pairs any two arms with the summarize stage's bootstrap: on the
    comparisons the workflow pairs itself it must give paired_seeds.csv's numbers."""
    out, run = tmp_path / "pairs.csv", finished / "results" / "micro"
    pairs = [
        ("base:two_phase@val", "base:teacher@val"),
        ("base:two_phase@4", "base:two_phase_uniform@4"),
    ]
    cmd = [sys.executable, str(REPO / "bench" / "pair_arms.py"), "--run", str(run), "--seeds", "0",
           "--bootstrap", "100", "--out", str(out)]  # fmt: skip
    env = dict(os.environ, PYTHONPATH=str(REPO))
    subprocess.run(cmd + [x for pair in pairs for x in ("--pair", *pair)], check=True, env=env,
                   capture_output=True)  # fmt: skip
    mine = pd.read_csv(out)
    theirs = pd.read_csv(run / "eval" / "paired_seeds.csv")
    theirs = theirs[(theirs.variant == "base") & ~theirs.b.str.contains(":")]
    for split in ("val", "test"):
        for a, b in pairs:
            row = mine[(mine.split == split) & (mine.a == a) & (mine.b == b)].iloc[0]
            own = theirs[
                (theirs.split == split)
                & (theirs.a == a.partition(":")[2])
                & (theirs.b == b.partition(":")[2])
            ].iloc[0]
            for col in ("diff", "ci_lo", "ci_hi"):
                assert row[col] == pytest.approx(own[col], abs=1e-5)
    bad = subprocess.run(cmd + ["--pair", "base:two_phase@99", "base:teacher@val"], env=env,
                         capture_output=True, text=True)  # fmt: skip
    assert bad.returncode != 0 and "no arm 'two_phase@99'" in bad.stderr
    # a run of other episodes (here: the expert's first val episode moved) is refused, not paired
    other = tmp_path / "run"
    other.mkdir()
    (other / "base").symlink_to(run / "base")
    shutil.copytree(run / "base" / "seed0", other / "other" / "seed0", symlinks=True)
    episodes = other / "other" / "seed0" / "episodes" / "val.safetensors"
    tensors, meta = load_tensors(episodes)
    tensors["expert.dist"][0] += 100.0
    save_tensors(episodes, tensors, meta)
    cmd[cmd.index("--run") + 1] = str(other)
    bad = subprocess.run(cmd + ["--pair", "other:two_phase@4", "base:two_phase@4"], env=env,
                         capture_output=True, text=True)  # fmt: skip
    assert bad.returncode != 0 and "seed 0, val: not the same episodes" in bad.stderr


def test_second_run_has_nothing_to_do(finished):
    out = snakemake(finished, "-n")
    assert planned_jobs(out) == set(), out.stdout


def test_a_phase2_value_reruns_only_phase2_and_after(finished):
    edit_config(finished, "phase2", "anchor_prob", 0.25)
    try:
        assert planned_jobs(snakemake(finished, "-n")) == PHASE2_AND_AFTER
    finally:
        edit_config(finished, "phase2", "anchor_prob", 0.5)
    assert planned_jobs(snakemake(finished, "-n")) == set()


def test_a_key_reorder_changes_nothing(finished):
    cfg = yaml.safe_load((finished / "micro.yaml").read_text())
    reordered = {k: cfg[k] for k in reversed(list(cfg))}
    (finished / "micro.yaml").write_text(yaml.safe_dump(reordered, sort_keys=False))
    assert planned_jobs(snakemake(finished, "-n")) == set()


def test_editing_phase2_code_reruns_only_phase2_and_after(finished):
    src = finished / "interdiff_core" / "stages" / "train_phase2.py"
    original = src.read_text()
    src.write_text(original + "\n# an edit\n")
    try:
        assert planned_jobs(snakemake(finished, "-n")) == PHASE2_AND_AFTER
    finally:
        src.write_text(original)


@pytest.mark.parametrize("policy", ["dp", "selector", "uniform", "random", "best_fixed"])
def test_every_maze_training_loss_runs_on_the_models_device(finished, policy):
    """Each training stage on the micro DAG's artifacts, its loss run with the model on the meta
    device (test_devices.py): batches, noise and indices follow the model to its device."""
    cfg = yaml.safe_load((finished / "micro.yaml").read_text())
    res, levels = finished / "results" / "micro" / "base" / "seed0", cfg["dp"]["levels"]
    shards = finished / "results" / "micro" / "shards" / "train"
    labels = res / "cache" / "dp_labels.safetensors"
    selector, anchors = (
        res / "models" / "selector.safetensors",
        res / "cache" / "anchors.safetensors",
    )
    phase1 = dict(cfg["phase1"], index_mix={policy: 1.0})
    phase2 = dict(cfg["phase2"], mask_mix={policy: 1.0})
    stage_on_meta("train_teacher", shards, "t", "ck", cfg["teacher"], 0)
    stage_on_meta(
        "train_dphi", res / "cache" / "dphi_targets.safetensors", "t", "ck", cfg["dphi"], 0
    )
    stage_on_meta(
        "train_selector", shards, shards, labels, "t", "e", "ck", cfg["selector"], levels, 0
    )
    stage_on_meta("train_phase1", shards, labels, selector, "t", "ck", phase1, levels, 0)
    stage_on_meta("train_phase2", shards, labels, selector, anchors, "t", "ck", phase2, levels, 0)


def test_replanning_tracks_a_new_plan_from_the_current_state(finished, tmp_path):
    """execute with replan_every: the same first plan (sample's), then plans made in the episode
    by the same planners (interp_fd: interpolation's, its velocities fixed); the references do
    not plan and are unchanged."""
    from interdiff_core.io import load_tensors
    from interdiff_core.stages.execute import execute

    cfg = yaml.safe_load((finished / "micro.yaml").read_text())
    data = finished / "results" / "micro"
    run = data / "base" / "seed0"
    names = ("teacher", "selector", "phase1", "phase2", "dphi")
    models = {"paths": [run / "models" / f"{m}.safetensors" for m in names], "cfg": cfg["sample"]}
    args = (run / "samples" / "val.safetensors", data / "data" / "raw.safetensors", "val")
    execute(*args, tmp_path / "open.safetensors", 0)
    execute(*args, tmp_path / "replan.safetensors", 0, replan_every=100, models=models)
    (a, _), (b, meta) = (
        load_tensors(tmp_path / "open.safetensors"),
        load_tensors(tmp_path / "replan.safetensors"),
    )
    assert meta["config"]["replan_every"] == 100
    for key in ("teacher@8", "two_phase@4", "two_phase_best_fixed@4", "interp_fd@4",
                "two_phase_fd@4"):  # fmt: skip
        assert torch.equal(a[f"{key}.xy"][:, :101], b[f"{key}.xy"][:, :101])
        assert not torch.equal(a[f"{key}.xy"], b[f"{key}.xy"])
    for key in ("expert", "random", "tracked_reference"):
        assert torch.equal(a[f"{key}.xy"], b[f"{key}.xy"])


def test_expert_costs_are_the_mean_over_the_expert_runs(finished):
    """expert_costs: each evaluation episode's true segment costs averaged over
    `evaluate.expert_runs` runs of the data expert, each from its own seed, none the reference
    run eval_keyframes draws with the training seed."""
    from interdiff_core.data.maze2d import grid_side
    from interdiff_core.selection.keyframe_eval import true_cost_matrix
    from interdiff_core.stages.expert_costs import FIRST_RUN_SEED
    from interdiff_core.stages.prepare_data import data_expert_references

    data = finished / "results" / "micro"
    raw = data / "data" / "raw.safetensors"
    costs, meta = load_tensors(data / "data" / "expert_costs.safetensors")
    assert meta["config"]["runs"] == 2 and set(costs) == {"val", "test"}
    grid = grid_side(load_tensors(raw)[1]["mazes"])
    runs = [data_expert_references(raw, "val", grid, FIRST_RUN_SEED + r) for r in range(2)]
    assert not torch.equal(runs[0], runs[1])
    want = (true_cost_matrix(runs[0]) + true_cost_matrix(runs[1])) / 2
    torch.testing.assert_close(costs["val"], want)
    reference = data_expert_references(raw, "val", grid, 0)
    assert not any(torch.equal(reference, r) for r in runs)


def test_several_plans_per_episode_are_executed_and_averaged(finished, tmp_path):
    """sample.plans_per_episode = 2: draw 0 is the plan of one draw per episode, draw 1 another
    from its own noise; both are executed from the episode's start and the episode's score is
    their mean; the references run once per episode."""
    from interdiff_core.stages.episode_metrics import per_episode, split_values
    from interdiff_core.stages.execute import execute
    from interdiff_core.stages.sample import sample_all

    cfg = yaml.safe_load((finished / "micro.yaml").read_text())
    data, run = finished / "results" / "micro", finished / "results" / "micro" / "base" / "seed0"
    models = [run / "models" / f"{m}.safetensors" for m in ("teacher", "selector", "phase1")]
    models += [run / "models" / f"{m}.safetensors" for m in ("phase2", "dphi")]
    out = tmp_path / "two.safetensors"
    sample_all(data / "shards" / "val", *models, out, {**cfg["sample"], "plans_per_episode": 2},
               0, train_dir=data / "shards" / "train")  # fmt: skip
    one, one_meta = load_tensors(run / "samples" / "val.safetensors")
    two, meta = load_tensors(out)
    n = one_meta["n"]
    assert (meta["n"], meta["episodes"], meta["plans_per_episode"]) == (2 * n, n, 2)
    for key in ("gt", "start_goal", "keyframes", "teacher@8", "two_phase@4", "straight_line@0"):
        assert torch.equal(two[key][:n], one[key]), key
    assert torch.equal(two["straight_line@0"][n:], one["straight_line@0"])
    assert not torch.equal(two["two_phase@4"][n:], one["two_phase@4"])
    raw = data / "data" / "raw.safetensors"
    execute(out, raw, "val", tmp_path / "two_ep.safetensors", 0)
    rows, _ = load_tensors(tmp_path / "two_ep.safetensors")
    assert torch.equal(rows["episode"], torch.arange(2 * n) % n)
    assert torch.equal(rows["expert.dist"][n:], rows["expert.dist"][:n])
    stored, _ = load_tensors(run / "episodes" / "val.safetensors")
    assert torch.equal(rows["two_phase@4.dist"][:n], stored["two_phase@4.dist"])
    values, _ = split_values(tmp_path / "two_ep.safetensors")
    (maze, _), dist = next(iter(values)), rows["two_phase@4.dist"].numpy()
    ref = (0.0, 100.0)  # the D4RL score does not read the own references
    draws = [per_episode(dist[j * n : (j + 1) * n], maze, ref)["score_d4rl"] for j in (0, 1)]
    assert np.allclose(values[(maze, "two_phase@4")]["score_d4rl"], (draws[0] + draws[1]) / 2)
    assert len(values[(maze, "two_phase@4")]["success"]) == n


def test_two_phase_rows_on_a_replaced_keyframe_source_are_that_arm(finished, tmp_path):
    """sample.two_phase_keyframes: uniform (configs/uniform_only.yaml) gives the two_phase rows
    the plans of base's uniform-keyframe arm at the same steps and noise, and the selector's
    keyframes become the arm two_phase_selector; the saved keyframes are uniform spacing."""
    from interdiff_core.selection.masks import uniform_nested
    from interdiff_core.stages.sample import sample_all

    cfg = yaml.safe_load((finished / "micro.yaml").read_text())
    data, run = finished / "results" / "micro", finished / "results" / "micro" / "base" / "seed0"
    models = [run / "models" / f"{m}.safetensors" for m in ("teacher", "selector", "phase1")]
    models += [run / "models" / f"{m}.safetensors" for m in ("phase2", "dphi")]
    sample = {**cfg["sample"], "two_phase_keyframes": "uniform", "keyframe_sources": ["selector"]}
    out = tmp_path / "uniform.safetensors"
    sample_all(data / "shards" / "val", *models, out, sample, 0)
    ours, meta = load_tensors(out)
    base, _ = load_tensors(run / "samples" / "val.safetensors")
    steps = cfg["sample"]["ablation_steps"]
    for method in ("two_phase", "interp_only"):
        assert torch.equal(ours[f"{method}@{steps}"], base[f"{method}_uniform@{steps}"]), method
        assert torch.equal(ours[f"{method}_selector@{steps}"], base[f"{method}@{steps}"]), method
    want = uniform_nested(meta["n"], ours["gt"].shape[1], meta["levels"])[0]
    assert torch.equal(ours["keyframes"], want)
    assert not any(k.endswith("_uniform@" + str(steps)) for k in ours)


def test_the_html_report_builds(finished):
    out = snakemake(finished, "--report", "report.html")
    assert out.returncode == 0 and (finished / "report.html").stat().st_size > 100_000
