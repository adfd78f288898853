"""The fair-teacher claim of the maze configs (config.yaml's header): the teacher trains on as
many tokens (optimizer steps x batch x tokens per sample) as two-phase's models together
(selector, phase-1, phase-2). Moving one stage's steps by more than 5 % of the total without
the others fails here."""

import pytest
from conftest import layered_config

from interdiff_core.models.transformer import SequenceTransformer
from interdiff_core.variants import variant_configs


def _tokens_per_sample(length: int) -> int:
    """Frames plus the conditioning prefix, counted by the model the maze stages build."""
    return SequenceTransformer(4, 8, d_model=8, n_layers=1, n_heads=1).n_tokens(length, 8)


def training_tokens(cfg: dict) -> tuple[int, int]:
    """(teacher, two-phase) training tokens of a maze config."""
    T, K0 = cfg["data"]["horizon"], cfg["dp"]["levels"][0]

    def stage(name: str, length: int) -> int:
        return cfg[name]["steps"] * cfg[name]["batch_size"] * _tokens_per_sample(length)

    two_phase = stage("selector", T) + stage("phase1", K0) + stage("phase2", T)
    return stage("teacher", T), two_phase


@pytest.mark.parametrize(
    ("overlays", "variant"),
    [
        ((), "base"),
        (("configs/pointmaze.yaml",), "base"),
        (("configs/medium_cpu.yaml",), "base"),
        (("configs/medium_cpu.yaml", "configs/medium_cpu_budget2x.yaml"), "budget2x"),
        (("configs/medium_cpu.yaml", "configs/medium_cpu_budget2x.yaml"), "budget2x_equal_mix"),
    ],
)
def test_teacher_budget_matches_two_phase(overlays, variant):
    cfg = variant_configs(layered_config(*overlays))[variant]
    teacher, two_phase = training_tokens(cfg)
    assert abs(two_phase - teacher) <= 0.05 * teacher, (overlays, variant, teacher, two_phase)


def test_budget_count_follows_the_config():
    cfg = layered_config()
    cfg["phase1"]["steps"] *= 2
    teacher, two_phase = training_tokens(cfg)
    assert two_phase > 1.05 * teacher
