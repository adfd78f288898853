"""Video configs: the shipped ones validate; cross-field mistakes name the field."""

import pytest
import yaml
from conftest import REPO
from snakemake.utils import validate

from interdiff_core.config import ConfigError, check_config


def _video_config(name="configs/video.yaml"):
    """config.yaml overlaid by a video config, as `--configfile` merges them."""
    base = yaml.safe_load((REPO / "config.yaml").read_text())
    for key, section in yaml.safe_load((REPO / name).read_text()).items():
        base[key] = {**base.get(key, {}), **section} if isinstance(section, dict) else section
    return base


@pytest.mark.parametrize("name", ["configs/video.yaml", "tests/micro_video.yaml"])
def test_shipped_video_configs_validate(name):
    cfg = _video_config(name)
    validate(cfg, str(REPO / "config.schema.yaml"))
    check_config(cfg)


@pytest.mark.parametrize(
    "edit, field",
    [
        (lambda c: c["rollout"].update(context=16), "rollout.context"),
        (lambda c: c["rollout"].update(steps=128), "rollout.steps"),
        (lambda c: c["teacher"]["windows"].update(long_len=32), "teacher.windows"),
        (lambda c: c["data"]["video"].update(source="files"), "data.video.files"),
        (lambda c: c["data"]["video"].update(source="wan"), "data.video.wan_dir"),
        (lambda c: c["data"]["video"].update(frame_size=34), "tokenize.autoencoder.downsample"),
        (lambda c: c.pop("interpolator"), "interpolator"),
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
