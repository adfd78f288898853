"""Video configs: the shipped ones validate; cross-field mistakes name the field."""

import pytest
import yaml
from conftest import REPO, layered_config
from snakemake.utils import validate

from interdiff_core.config import ConfigError, check_config


def _video_config(name="configs/video.yaml"):
    """config.yaml overlaid by a video config, as `--configfile` merges them."""
    return layered_config(name)


@pytest.mark.parametrize(
    "name", ["configs/video.yaml", "configs/video_gpu.yaml", "tests/micro_video.yaml"]
)
def test_shipped_video_configs_validate(name):
    cfg = _video_config(name)
    validate(cfg, str(REPO / "config.schema.yaml"))
    check_config(cfg)


@pytest.mark.parametrize(
    "edit, field",
    [
        (lambda c: c["rollout"].update(context=16), "rollout.context"),
        (lambda c: c["rollout"].update(steps=128), "rollout.steps"),
        (lambda c: c["rollout"].update(tau_ctx=0.9), "rollout.tau_ctx"),
        (lambda c: c["rollout"].update(point_tau_ctx=0.99), "rollout.point_tau_ctx"),
        (lambda c: c["teacher"]["windows"].update(long_len=32), "teacher.windows"),
        (lambda c: c["data"]["video"].update(source="files"), "data.video.files"),
        (lambda c: c["data"]["video"].update(source="wan"), "data.video.wan_dir"),
        (lambda c: c["data"]["video"].update(frame_size=34), "tokenize.autoencoder.downsample"),
        (lambda c: c.pop("interpolator"), "interpolator"),
        (lambda c: c["dphi"].update(windows="rest_episodes"), "dphi.windows"),
        (lambda c: c["data"].update(test_seed=7), "data.test_seed"),
    ],
)
def test_video_cross_field_checks_name_the_field(edit, field):
    cfg = _video_config()
    check_config(cfg)
    edit(cfg)
    with pytest.raises(ConfigError, match=f"'{field}'"):
        check_config(cfg)


def test_schema_rejects_an_unknown_video_source():
    cfg = _video_config()
    cfg["data"]["video"]["source"] = "youtube"
    with pytest.raises(Exception, match="youtube"):
        validate(cfg, str(REPO / "config.schema.yaml"))


WAN = dict(config=dict(patch_size=[1, 2, 2], in_channels=4, out_channels=4, text_dim=16),
           pretrained_path=None, lora_rank=4, attention="sdpa")  # fmt: skip


def _wan_video_config(wan: dict) -> dict:
    cfg = _video_config("tests/micro_video.yaml")
    cfg["teacher"].update(backbone="wan", wan=wan)
    cfg["teacher"]["model"].pop("persistence")  # a transformer option
    return cfg


def test_wan_backbone_validates_on_video_and_is_refused_on_maze():
    cfg = _wan_video_config(dict(WAN))
    validate(cfg, str(REPO / "config.schema.yaml"))
    check_config(cfg)
    cfg["teacher"]["model"]["persistence"] = True
    with pytest.raises(ConfigError, match="'teacher.model.persistence'"):
        check_config(cfg)
    maze = yaml.safe_load((REPO / "config.yaml").read_text())
    maze["teacher"].update(backbone="wan", wan=dict(WAN))
    validate(maze, str(REPO / "config.schema.yaml"))
    with pytest.raises(ConfigError, match="'teacher.backbone': 'wan' needs latent video frames"):
        check_config(maze)


@pytest.mark.parametrize(
    "wan, field",
    [
        ({**WAN, "pretrained_path": "."}, "teacher.wan"),  # both config and pretrained_path
        ({**WAN, "config": None}, "teacher.wan"),  # neither
        ({**WAN, "config": {"patch_size": [2, 2, 2]}}, "teacher.wan.config.patch_size"),
        ({**WAN, "config": None, "pretrained_path": "/no/wan"}, "teacher.wan.pretrained_path"),
    ],
)
def test_wan_cross_field_checks_name_the_field(wan, field):
    cfg = _wan_video_config(wan)
    with pytest.raises(ConfigError, match=f"'{field}'"):
        check_config(cfg)


def test_schema_needs_the_wan_section_and_a_known_attention():
    cfg = _video_config("tests/micro_video.yaml")
    cfg["teacher"]["backbone"] = "wan"
    with pytest.raises(Exception, match="'wan' is a required property"):
        validate(cfg, str(REPO / "config.schema.yaml"))
    cfg["teacher"]["wan"] = {**WAN, "attention": "flash9"}
    with pytest.raises(Exception, match="flash9"):
        validate(cfg, str(REPO / "config.schema.yaml"))
