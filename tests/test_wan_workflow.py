"""The micro video workflow with the diffusers Wan backbone as the teacher (teacher.backbone:
wan, a tiny config with LoRA), up to the stages that reload the teacher downstream."""

import json

import pytest
import torch
import yaml
from conftest import copy_workflow, planned_jobs, snakemake

from interdiff_core.io import load_checkpoint, load_tensors

pytestmark = pytest.mark.workflow
pytest.importorskip("diffusers")
pytest.importorskip("peft")

TINY_WAN = dict(patch_size=[1, 2, 2], num_attention_heads=2, attention_head_dim=16, in_channels=4,
                out_channels=4, text_dim=16, freq_dim=32, ffn_dim=64, num_layers=2,
                rope_max_seq_len=64)  # fmt: skip


def test_wan_teacher_trains_and_reloads_downstream(tmp_path):
    wd = copy_workflow(tmp_path, "micro_video.yaml")
    cfg = yaml.safe_load((wd / "micro.yaml").read_text())
    cfg["teacher"].update(
        backbone="wan", wan=dict(config=TINY_WAN, lora_rank=4, attention="sdpa"), steps=4
    )
    cfg["teacher"]["model"].pop("persistence")  # a transformer option (refused with wan)
    (wd / "micro.yaml").write_text(yaml.safe_dump(cfg))
    res = wd / "results" / "micro_video" / "base" / "seed0"
    targets = ("--until", "teacher_precompute", "rollout")  # the rules reloading the teacher
    snakemake(wd, *targets)

    state, _, meta = load_checkpoint(res / "models" / "teacher.safetensors")
    assert meta["backbone"] == "wan" and meta["model_config"]["lora_rank"] == 4
    assert meta["model_config"]["latent_shape"] == [4, 4, 4]
    assert sum("lora_B" in k for k in state) == 16 and any(k.startswith("wan.") for k in state)
    cache, _ = load_tensors(res / "cache" / "teacher_predictions.safetensors")
    assert cache["x_hat"].shape == cache["eps"].shape and torch.isfinite(cache["x_hat"]).all()
    rollout = json.loads((res / "eval" / "rollout.json").read_text())
    assert len(rollout["curves"]["pixel_psnr"]) == 16 - 12
    assert planned_jobs(snakemake(wd, "-n", *targets)) == set()  # nothing stale

    cfg["teacher"]["wan"]["lora_rank"] = 2  # a backbone setting retrains the teacher
    (wd / "micro.yaml").write_text(yaml.safe_dump(cfg))
    assert planned_jobs(snakemake(wd, "-n", *targets)) == {
        "train_teacher", "teacher_precompute", "rollout"}  # fmt: skip
