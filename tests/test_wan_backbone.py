"""The diffusers Wan backbone behind the teacher call: tiny config, LoRA, one training step."""

import pytest
import torch

pytest.importorskip("diffusers")
pytest.importorskip("peft")

from interdiff_core.diffusion.flow import shortcut_loss  # noqa: E402
from interdiff_core.io import load_model  # noqa: E402
from interdiff_core.models.wan_backbone import WanDenoiser, attention_backend  # noqa: E402
from interdiff_core.train.loop import train  # noqa: E402

TINY = dict(patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=16, in_channels=4,
            out_channels=4, text_dim=32, freq_dim=32, ffn_dim=64, num_layers=2,
            rope_max_seq_len=64)  # fmt: skip
SHAPE = [4, 8, 8]
B, L, D = 2, 4, 256


def tiny(lora_rank=4):
    torch.manual_seed(0)
    return WanDenoiser(SHAPE, n_steps=3, wan_config=TINY, lora_rank=lora_rank)


def fn(model, cond):
    pos = torch.arange(L).expand(B, L)
    return lambda z, tau, step, rows=slice(None): model(z, pos[rows], tau, cond[rows], step=step)


def one_step(model, tmp_path):
    gen = torch.Generator().manual_seed(0)
    x, cond = torch.randn(B, L, D, generator=gen), torch.randn(B, 3, 32, generator=gen)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    cfg = dict(steps=1, lr=1e-2, checkpoint_every=10)
    meta = {"stage": "wan", "model_config": model.config}
    loss_fn = lambda m, g: shortcut_loss(fn(m, cond), x, 4, g)  # noqa: E731
    train(model, loss_fn, cfg, meta, 0, tmp_path / "ck", tmp_path / "wan.safetensors", warmup=1)
    after = model.state_dict()
    return {k for k in before if not torch.equal(before[k], after[k])}


def test_tiny_wan_lora_one_training_step_changes_only_adapters(tmp_path):
    model = tiny(lora_rank=4)
    changed = one_step(model, tmp_path)
    lora = {k for k in changed if "lora_" in k}
    # B starts at zero (A's gradient is then zero): after one step every B has moved
    assert lora == {k for k in model.state_dict() if "lora_B" in k} and len(lora) == 16
    assert changed - lora == {"step_token.weight"}  # the step-size token is ours, trained too
    # the checkpoint rebuilds the same model (LoRA layers included) with the same outputs
    loaded, _ = load_model(WanDenoiser, tmp_path / "wan.safetensors")
    z, tau = torch.randn(B, L, D), torch.rand(B, L)
    cond, step = torch.randn(B, 3, 32), torch.tensor([0, 2])
    pos = torch.arange(L).expand(B, L)
    with torch.no_grad():
        torch.testing.assert_close(loaded(z, pos, tau, cond, step), model(z, pos, tau, cond, step))


def test_full_fine_tuning_changes_the_base_weights(tmp_path):
    changed = one_step(tiny(lora_rank=0), tmp_path)
    assert any(k.startswith("wan.blocks.0.attn1.to_q") for k in changed)


def test_x_prediction_and_per_frame_tau():
    model = tiny(lora_rank=0).eval()
    z, pos, cond = torch.randn(1, L, D), torch.arange(L)[None], torch.randn(1, 3, 32)
    with torch.no_grad():
        clean = model(z, pos, torch.ones(1, L), cond)
        mixed = model(z, pos, torch.tensor([[1.0, 0.2, 0.5, 1.0]]), cond)
    torch.testing.assert_close(clean, z)  # τ = 1: the input is the clean frame
    torch.testing.assert_close(mixed[:, 0], z[:, 0])
    assert not torch.allclose(mixed[:, 1], z[:, 1])


def test_bad_inputs_name_the_problem():
    model = tiny(lora_rank=0)
    z, cond = torch.randn(1, L, D), torch.randn(1, 3, 32)
    with pytest.raises(ValueError, match="contiguous"):
        model(z, torch.tensor([[0, 2, 4, 6]]), torch.rand(1, L), cond)
    with pytest.raises(ValueError, match="in/out_channels"):
        WanDenoiser([3, 8, 8], n_steps=1, wan_config=TINY)
    with pytest.raises(FileNotFoundError, match="pretrained_path"):
        WanDenoiser(SHAPE, n_steps=1, pretrained_path="/nonexistent")
    assert attention_backend("sdpa") == "native"
    with pytest.raises(ValueError, match="attention"):
        attention_backend("flash9")
