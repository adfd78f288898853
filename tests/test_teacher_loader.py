"""One way to build and reload the teacher, whatever its backbone (teacher.backbone)."""

import pytest
import torch

from interdiff_core.io import load_checkpoint, save_checkpoint
from interdiff_core.models.teacher import backbone_name, load_teacher, make_teacher
from interdiff_core.models.transformer import SequenceTransformer
from interdiff_core.runtime import stage_meta

TINY_WAN = dict(patch_size=[1, 2, 2], num_attention_heads=2, attention_head_dim=16, in_channels=4,
                out_channels=4, text_dim=16, freq_dim=32, ffn_dim=64, num_layers=2,
                rope_max_seq_len=64)  # fmt: skip
T, C, h, w, E = 6, 4, 4, 4, 16
D, COND = C * h * w, E + C * h * w
CFGS = {
    "transformer": dict(model=dict(d_model=16, n_layers=1, n_heads=2), k_max=8),
    "wan": dict(
        backbone="wan", k_max=8, wan=dict(config=TINY_WAN, lora_rank=4, attention="sdpa")
    ),  # fmt: skip
}


def _save(cfg, path):
    torch.manual_seed(0)
    model = make_teacher(cfg, COND, T, D, latent_shape=[C, h, w])
    with torch.no_grad():  # move LoRA's B off zero, so the adapters matter to the output
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.add_(0.01 * torch.randn_like(p))
    meta = stage_meta("train_teacher", cfg, model, backbone=backbone_name(model))
    save_checkpoint(path, model, meta)
    return model.eval()


@pytest.mark.parametrize("backbone", ["transformer", "wan"])
def test_both_backbones_round_trip(backbone, tmp_path):
    if backbone == "wan":
        pytest.importorskip("diffusers")
        pytest.importorskip("peft")
    model = _save(CFGS[backbone], tmp_path / "t.safetensors")
    loaded, meta = load_teacher(tmp_path / "t.safetensors")
    assert type(loaded) is type(model) and meta["backbone"] == backbone
    assert loaded.config == model.config and not loaded.training
    assert loaded.x_dim == D and loaded.config["n_steps"] == 4  # k_max 8: 1, 2, 4, 8 steps
    z, tau, cond = torch.randn(2, T, D), torch.rand(2, T), torch.randn(2, COND)
    pos, step = torch.arange(T).expand(2, T), torch.tensor([0, 3])
    with torch.no_grad():
        torch.testing.assert_close(loaded(z, pos, tau, cond, step), model(z, pos, tau, cond, step))
    if backbone == "wan":
        state, _, _ = load_checkpoint(tmp_path / "t.safetensors")
        assert any("lora_B" in k for k in state)  # the adapters travel in the checkpoint
        assert loaded.n_tokens(T, COND) == T * 2 * 2 + COND // 16 + 1


def test_old_checkpoints_load_as_transformer_and_unknown_names_fail(tmp_path):
    model = SequenceTransformer(D, COND, d_model=16, n_layers=1, n_heads=2, max_len=T)
    save_checkpoint(tmp_path / "old.safetensors", model, {"model_config": model.config})
    assert type(load_teacher(tmp_path / "old.safetensors")[0]) is SequenceTransformer
    meta = {"model_config": model.config, "backbone": "mamba"}
    save_checkpoint(tmp_path / "bad.safetensors", model, meta)
    with pytest.raises(ValueError, match="bad.safetensors.*'mamba'"):
        load_teacher(tmp_path / "bad.safetensors")


def test_make_teacher_names_what_wan_needs():
    pytest.importorskip("diffusers")
    pytest.importorskip("peft")
    with pytest.raises(ValueError, match="latent frames"):
        make_teacher(CFGS["wan"], COND, T, D)
    with pytest.raises(ValueError, match="text_dim 16 must divide the conditioning width 70"):
        make_teacher(CFGS["wan"], 70, T, D, latent_shape=[C, h, w])


def test_a_wan_teacher_from_a_pretrained_folder_reloads_without_it(tmp_path):
    pytest.importorskip("diffusers")
    from diffusers import WanTransformer3DModel

    torch.manual_seed(1)
    WanTransformer3DModel(**TINY_WAN).save_pretrained(tmp_path / "wan")
    cfg = dict(backbone="wan", k_max=8, wan=dict(pretrained_path=str(tmp_path / "wan"),
               lora_rank=0, attention="sdpa"))  # fmt: skip
    model = _save(cfg, tmp_path / "t.safetensors")
    assert model.config["pretrained_path"] is None and model.config["wan_config"]["text_dim"] == 16
    for f in (tmp_path / "wan").iterdir():
        f.unlink()
    loaded, meta = load_teacher(tmp_path / "t.safetensors")
    assert meta["config"]["wan"]["pretrained_path"] == str(tmp_path / "wan")  # provenance kept
    z, tau, cond = torch.randn(1, T, D), torch.rand(1, T), torch.randn(1, COND)
    pos = torch.arange(T)[None]
    with torch.no_grad():
        torch.testing.assert_close(loaded(z, pos, tau, cond), model(z, pos, tau, cond))
