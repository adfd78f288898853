"""Every maze config shipped in configs/, layered as its header says, passes what the Snakefile
checks before any job (the layers' mixes, the schema and check_config for every variant): a typo
in a config a researcher copies from the README fails here, not an hour into a run."""

import re

import jsonschema
import pytest
import yaml
from conftest import REPO, layered_config

from interdiff_core.variants import checked_variants

CPU_H128 = ("configs/pointmaze.yaml", "configs/pointmaze_cpu.yaml")
LAYERS = [
    (),
    ("configs/pointmaze.yaml",),
    CPU_H128,
    (*CPU_H128, "configs/pointmaze_cpu_dphi_tasks.yaml"),
    (*CPU_H128, "configs/pointmaze_cpu_level0.yaml"),
    (*CPU_H128, "configs/pointmaze_cpu_phase2_steps.yaml"),
    (*CPU_H128, "configs/equal_mix.yaml"),
    (*CPU_H128, "configs/plans8.yaml"),
    (*CPU_H128, "configs/pointmaze_confirm.yaml"),
    ("configs/pointmaze.yaml", "configs/pointmaze_medium.yaml"),
    ("configs/pointmaze.yaml", "configs/pointmaze_large.yaml"),
    ("configs/medium_cpu.yaml",),
    ("configs/medium_cpu.yaml", "configs/medium_cpu_budget2x.yaml"),
    ("configs/medium_cpu.yaml", "configs/medium_cpu_dphi_tasks.yaml"),
    ("configs/umaze_dphi_tasks.yaml",),
    ("configs/equal_mix.yaml", "configs/plans8.yaml"),
    ("configs/plans8.yaml", "configs/uniform_only.yaml"),
    ("configs/plans8.yaml", "configs/uniform_only.yaml", "configs/selector_only.yaml"),
    (
        "configs/plans8.yaml",
        "configs/uniform_only.yaml",
        "configs/selector_only.yaml",
        "configs/uniform_prior.yaml",
    ),
    ("configs/position_cost.yaml",),
    ("configs/generated_cost.yaml",),
    ("configs/confirm.yaml", "configs/plans8.yaml"),
    ("configs/medium_cpu.yaml", "configs/medium_confirm.yaml"),
]
VIDEO = {"configs/video.yaml", "configs/video_gpu.yaml"}  # tests/test_video_config.py


def test_every_shipped_maze_config_is_listed():
    shipped = {f"configs/{p.name}" for p in (REPO / "configs").glob("*.yaml")}
    assert shipped - VIDEO == {name for layers in LAYERS for name in layers}


def _checked_variants(cfg: dict) -> dict:
    """What the Snakefile checks of a merged config: the schema, then every variant's."""
    schema = yaml.safe_load((REPO / "config.schema.yaml").read_text())
    jsonschema.validate(cfg, schema)
    return checked_variants(cfg, lambda variant: jsonschema.validate(variant, schema))


@pytest.mark.parametrize("layers", LAYERS, ids=lambda layers: "+".join(layers) or "config.yaml")
def test_shipped_config_variants_are_valid(layers):
    variants = _checked_variants(layered_config(*layers))  # layered_config checks the layers
    added = {v for name in layers for v in (yaml.safe_load((REPO / name).read_text()) or {}).get(
        "variants", {})}  # fmt: skip
    assert added <= set(variants), (layers, added - set(variants))


def test_the_readmes_variant_examples_are_valid():
    blocks = re.findall(r"```yaml\n(variants:\n.*?)```", (REPO / "README.md").read_text(), re.S)
    assert len(blocks) >= 2
    for block in blocks:
        _checked_variants(dict(layered_config(), variants=yaml.safe_load(block)["variants"]))
