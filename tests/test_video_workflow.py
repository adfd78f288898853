"""Snakemake on the micro video config: the job list, then the whole video DAG for real."""

import json

import pandas as pd
import pytest
import yaml
from conftest import copy_workflow, planned_jobs, snakemake

from interdiff_core.io import load_tensors
from interdiff_core.models.teacher import load_teacher

pytestmark = pytest.mark.workflow
SHARED = {"train_teacher", "teacher_precompute", "dphi_targets", "train_dphi", "dp_labels",
          "train_selector", "eval_keyframes", "train_phase1", "anchor_precompute",
          "train_phase2", "sample", "metrics", "plots", "all"}  # fmt: skip
VIDEO_ONLY = {"prepare_data", "train_tokenizer", "tokenize", "train_interpolator",
              "eval_interpolator", "rollout", "summarize_video"}  # fmt: skip


def test_dry_run_plans_the_video_dag(tmp_path):
    wd = copy_workflow(tmp_path, "micro_video.yaml")
    assert planned_jobs(snakemake(wd, "-n")) == SHARED | VIDEO_ONLY
    cfg = yaml.safe_load((wd / "micro.yaml").read_text())
    cfg["tokenize"]["pretrained_path"] = str(tmp_path / "vae")  # a diffusers folder: no training
    (tmp_path / "vae").mkdir()  # input paths must exist before any job is planned
    (wd / "micro.yaml").write_text(yaml.safe_dump(cfg))
    assert planned_jobs(snakemake(wd, "-n")) == SHARED | VIDEO_ONLY - {"train_tokenizer"}
    cfg["data"]["video"].update(source="wan", wan_dir=str(tmp_path / "wan"))
    (wd / "micro.yaml").write_text(yaml.safe_dump(cfg))
    assert planned_jobs(snakemake(wd, "-n")) == SHARED | VIDEO_ONLY - {
        "prepare_data",
        "train_tokenizer",
    }


def test_a_bad_video_value_fails_before_any_job(tmp_path):
    wd = copy_workflow(tmp_path, "micro_video.yaml")
    cfg = yaml.safe_load((wd / "micro.yaml").read_text())
    cfg["tokenize"]["autoencoder"]["downsample"] = 8
    cfg["data"]["video"]["frame_size"] = 12
    (wd / "micro.yaml").write_text(yaml.safe_dump(cfg))
    out = snakemake(wd, "-n", check=False)
    assert out.returncode != 0
    assert "tokenize.autoencoder.downsample" in out.stdout + out.stderr


def test_whole_video_dag_runs(tmp_path):
    wd = copy_workflow(tmp_path, "micro_video.yaml")
    snakemake(wd)
    data = wd / "results" / "micro_video"
    res = data / "base" / "seed0"
    table = pd.read_csv(res / "eval" / "metrics.csv")
    arms = {
        f"{m}_{src}"
        for m in ("two_phase", "interp_only")
        for src in ("uniform", "dp_dphi", "dp_true", "best_fixed")
    }
    assert set(table.method) == {"teacher", "untrained", "hold_first_frame", "interp_only",
                                 "two_phase", *arms}  # fmt: skip
    assert table[["latent_mse", "latent_l1", "psnr", "ssim"]].notna().all().all()
    keyframes = pd.read_csv(res / "eval" / "keyframes.csv")
    assert set(keyframes.reference) == {"ground_truth"}  # clips have no data expert
    assert set(keyframes.conditioning) == {"task"}
    _, meta = load_tensors(res / "samples" / "test.safetensors")
    assert meta["interpolator"] == "flow"  # phase2.interpolator: flow, in training and sampling
    teacher, _ = load_teacher(res / "models" / "teacher.safetensors")
    assert teacher.persistence == "trend"  # teacher.model.persistence: from the checkpoint alone
    assert "interpolator.safetensors" in (res / "logs" / "train_phase2.log").read_text()
    assert (table.psnr > 0).all() and (table.ssim <= 1).all()
    assert list(table.split.unique()) == ["val", "test"]  # val clips sampled and scored too
    assert (
        table[table.split == "val"].method.tolist() == table[table.split == "test"].method.tolist()
    )
    for _, one in table.groupby("split"):  # paired with its own split's hold baseline, per clip
        moved = one[one.method != "hold_first_frame"]
        assert moved[["psnr_minus_hold", "psnr_minus_hold_se"]].notna().all().all()
        hold = one[one.method == "hold_first_frame"].psnr.item()
        assert ((moved.psnr - hold - moved.psnr_minus_hold).abs() < 1e-4).all()
    tok = pd.read_csv(data / "eval" / "tokenizer.csv")
    assert list(tok.split) == ["train", "val", "test"] and (tok.psnr > 0).all()
    assert (tok.latent_shape == "4x4x4").all()
    interp = pd.read_csv(res / "eval" / "interpolator.csv")
    assert set(interp.method) == {"flow", "lerp"} and list(interp.split.unique()) == ["val", "test"]
    flow = interp[interp.method == "flow"]
    assert (
        flow[["pixel_psnr_se", "pixel_psnr_minus_lerp", "pixel_psnr_minus_lerp_se"]]
        .notna()
        .all()
        .all()
    )
    summary = pd.read_csv(data / "eval" / "summary.csv")
    assert set(summary.variant) == {"base"} and set(summary.interpolator) == {"flow"}
    assert len(summary) == len(table)
    rollout = json.loads((res / "eval" / "rollout.json").read_text())
    assert len(rollout["curves"]["pixel_psnr"]) == 16 - 12
    assert len(rollout["curves"]["point_pixel_psnr"]) == 16 - 12  # rollout.point_tau_ctx
    assert {"mean_pixel_psnr", "mean_point_minus_hold"} <= set(rollout["val"])  # val clips too
    for name in ("frontier", "frames", "keyframes", "losses", "rollout"):
        assert (res / "plots" / f"{name}.png").stat().st_size > 1000
    assert planned_jobs(snakemake(wd, "-n")) == set()
    assert not list(res.rglob("*.tmp"))
