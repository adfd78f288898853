"""phase2.interpolator: the one keyframe interpolation phase-2 trains and samples with."""

import pytest
import torch
import yaml
from conftest import REPO
from snakemake.utils import validate

from interdiff_core.config import ConfigError, check_config
from interdiff_core.io import save_checkpoint
from interdiff_core.models.interpolator import (
    FlowInterpolator,
    KeyframeInterpolation,
    correlation,
    load_interpolation,
)
from interdiff_core.models.transformer import SequenceTransformer
from interdiff_core.sample.two_phase import refine
from interdiff_core.selection.masks import interpolate

SHAPE = (2, 4, 4)  # latent (C, h, w)
D = 2 * 4 * 4


def trained_looking_flow(seed=0, corr_radius=1):
    torch.manual_seed(seed)
    m = FlowInterpolator(SHAPE[0], width=8, depth=2, residual_width=8, corr_radius=corr_radius)
    with torch.no_grad():  # heads start at zero (= LERP): move every weight off it
        for p in m.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return m


def keyframes(seed=1, B=3, T=10):
    gen = torch.Generator().manual_seed(seed)
    idx = torch.tensor([[0, 4, 9], [0, 2, 9], [0, 7, 9]])[:B]
    return torch.randn(B, 3, D, generator=gen), idx, T


def test_linear_is_lerp_exactly():
    values, idx, T = keyframes()
    out = KeyframeInterpolation()(values, idx, T)
    assert torch.equal(out, interpolate(values, idx, T))
    assert load_interpolation("linear").kind == "linear"


def test_flow_path_keeps_shape_and_keyframes_exactly_and_differs_from_lerp():
    values, idx, T = keyframes()
    interp = KeyframeInterpolation(trained_looking_flow(), SHAPE)
    out = interp(values, idx, T)
    assert out.shape == (3, T, D) and torch.isfinite(out).all()
    for b in range(3):
        assert torch.equal(out[b, idx[b]], values[b])  # bit-exact at the keyframes
    assert not torch.allclose(out, interpolate(values, idx, T), atol=1e-3)
    frames, _ = interp.model.sequence(values.view(3, 3, *SHAPE), idx, T)
    torch.testing.assert_close(out, frames.reshape(3, T, D))  # one path: the model's sequence
    assert not any(p.requires_grad for p in interp.model.parameters())  # frozen in phase-2


def test_flow_sees_both_keyframes_and_the_gap():
    model = trained_looking_flow().eval()
    gen = torch.Generator().manual_seed(2)
    x0, x1 = torch.randn(2, 1, *SHAPE, generator=gen)
    alpha, gap = torch.tensor([0.5]), torch.tensor([4])
    with torch.no_grad():
        base = model.pair(x0, x1, alpha, gap)[0]
        assert not torch.allclose(base, model.pair(x0, x1 + 0.5, alpha, gap)[0])
        assert not torch.allclose(base, model.pair(x0 + 0.5, x1, alpha, gap)[0])
        assert not torch.allclose(base, model.pair(x0, x1, alpha, torch.tensor([8]))[0])


def test_correlation_peaks_at_the_true_shift():
    gen = torch.Generator().manual_seed(3)
    x0 = torch.randn(1, 3, 9, 9, generator=gen)
    x1 = torch.roll(x0, shifts=(1, -2), dims=(2, 3))  # x1(p + (1, -2)) = x0(p)
    corr = correlation(x0, x1, radius=2)[0, :, 3:6, 3:6].mean((1, 2))  # interior pixels
    dy, dx = divmod(int(corr.argmax()), 5)
    assert (dy - 2, dx - 2) == (1, -2)


def test_refine_runs_with_the_flow_interpolation(tmp_path):
    values, idx, T = keyframes(B=2)
    model = SequenceTransformer(D, 6, max_len=T, n_levels=1, d_model=16, n_layers=1, n_heads=2)
    flow = trained_looking_flow()
    save_checkpoint(tmp_path / "i.safetensors", flow, {"model_config": flow.config})
    interp = load_interpolation("flow", tmp_path / "i.safetensors", SHAPE)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        out = refine(model, values, [idx[:2]], torch.randn(2, 6), T, [0.0], gen, interp=interp)
    assert out.shape == (2, T, D)
    with pytest.raises(ValueError, match="needs the trained flow interpolator"):
        load_interpolation("flow", None, SHAPE)
    with pytest.raises(ValueError, match="video-only"):
        load_interpolation("flow", tmp_path / "i.safetensors", None)
    with pytest.raises(ValueError, match="reads 2 latent channels, the data have 3"):
        load_interpolation("flow", tmp_path / "i.safetensors", (3, 4, 4))


def test_flow_on_maze2d_is_a_config_error_naming_the_field():
    cfg = yaml.safe_load((REPO / "config.yaml").read_text())
    cfg["phase2"]["interpolator"] = "flow"
    validate(cfg, str(REPO / "config.schema.yaml"))
    with pytest.raises(ConfigError, match="'phase2.interpolator': 'flow' is video-only"):
        check_config(cfg)
    cfg["phase2"]["interpolator"] = "cubic"
    with pytest.raises(Exception, match="cubic"):
        validate(cfg, str(REPO / "config.schema.yaml"))
