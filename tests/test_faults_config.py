"""A bad config is rejected before any job starts, naming the field: by the schema (unknown
key, negative steps, a wrong enum), by check_config (K > T, levels not increasing, a missing
input path, ...), and through `snakemake -n` before any job runs."""

import jsonschema
import pytest
import yaml
from conftest import REPO, snakemake

from interdiff_core.config import ConfigError, canonical, check_config


def _default_config() -> dict:
    return yaml.safe_load((REPO / "config.yaml").read_text())


@pytest.mark.parametrize(
    "edit, field, message",
    [
        (lambda c: c["teacher"].update(stepz=3), "teacher", "'stepz' was unexpected"),
        (lambda c: c.update(extra={}), "", "'extra' was unexpected"),
        (lambda c: c["phase1"].update(steps=-5), "phase1.steps", "-5 is less than"),
        (lambda c: c["teacher"].update(nproc=0), "teacher.nproc", "0 is less than"),
        (lambda c: c["data"].update(on_bad_sample="ignore"), "data.on_bad_sample", "ignore"),
        (lambda c: c["run"].update(device="gpu"), "run.device", "'gpu' is not one of"),
    ],
)
def test_schema_rejects_and_names_the_field(edit, field, message):
    schema = yaml.safe_load((REPO / "config.schema.yaml").read_text())
    cfg = _default_config()
    jsonschema.validate(cfg, schema)
    edit(cfg)
    with pytest.raises(jsonschema.ValidationError, match=message) as err:
        jsonschema.validate(cfg, schema)
    assert ".".join(map(str, err.value.absolute_path)) == field


def test_a_missing_input_path_is_named(tmp_path, monkeypatch):
    cfg = _default_config()
    cfg["data"]["video_path"] = str(tmp_path / "clips")  # any field named '*path', any depth
    with pytest.raises(ConfigError, match="'data.video_path': input path .*clips' does not"):
        check_config(cfg)
    (tmp_path / "clips").mkdir()
    check_config(cfg)
    monkeypatch.chdir(tmp_path)  # relative paths resolve against the working directory
    cfg["data"]["video_path"] = "clips"
    check_config(cfg)


@pytest.mark.parametrize(
    "edit, field",
    [
        (lambda c: c["dp"].update(levels=[6, 40]), "dp.levels"),  # K > T = 32
        (lambda c: c["dp"].update(levels=[6, 6]), "dp.levels"),
        (lambda c: c["dp"].update(levels=[12, 6]), "dp.levels"),
        (lambda c: c["phase2"].update(noise_sigma=[0.1]), "phase2.noise_sigma"),
        (lambda c: c["sample"].update(teacher_steps=[128]), "sample.teacher_steps"),
        (lambda c: c["sample"].update(n_samples=10_000), "sample.n_samples"),
        (lambda c: c["run"].update(slurm={"gpus": 2}), "run.slurm.gpus"),  # on run.device cpu
        (lambda c: c["sample"].update(two_phase_keyframes="uniform"), "sample.keyframe_sources"),
        (lambda c: c["data"].update(rest_episodes=0.0), "dphi.windows"),  # no episode from rest
        (
            lambda c: c["dphi"].update(extra_rest_episodes=8, kind="teacher"),
            "dphi.extra_rest_episodes",
        ),
        (
            lambda c: c["dphi"].update(extra_rest_episodes=8, windows="all"),
            "dphi.extra_rest_episodes",
        ),
        (
            lambda c: c.update(
                data={**c["data"], "mazes": ["umaze", "medium"]},
                dphi={**c["dphi"], "extra_rest_episodes": 8},
            ),
            "dphi.extra_rest_episodes",
        ),
        (
            lambda c: c["dphi"].update(cost_weights=[1, 1, 0, 0], kind="teacher"),
            "dphi.cost_weights",
        ),
        (lambda c: c["dphi"].update(cost_weights=[1, 1]), "dphi.cost_weights"),  # a maze frame: 4
        (lambda c: c["dphi"].update(kind="generated", generated_steps=128), "dphi.generated_steps"),
    ],
)
def test_cross_field_checks_name_the_field(edit, field):
    cfg = _default_config()
    check_config(cfg)
    edit(cfg)
    with pytest.raises(ConfigError, match=f"'{field}'"):
        check_config(cfg)


def test_canonical_ignores_key_order():
    assert str(canonical({"b": 1, "a": {"d": 2, "c": [{"f": 1, "e": 0}]}})) == str(
        canonical({"a": {"c": [{"e": 0, "f": 1}], "d": 2}, "b": 1})
    )


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda c: c["teacher"].update(stepz=3), "stepz"),
        (lambda c: c["dp"].update(levels=[4, 99]), "dp.levels"),
    ],
    ids=["schema", "cross-field check"],  # every field is checked above, without snakemake
)
def test_snakemake_refuses_a_bad_config_before_any_job(workflow_copy, edit, message):
    cfg = yaml.safe_load((workflow_copy / "micro.yaml").read_text())
    edit(cfg)
    (workflow_copy / "micro.yaml").write_text(yaml.safe_dump(cfg))
    out = snakemake(workflow_copy, "-n", check=False)
    assert out.returncode != 0
    assert message in out.stdout + out.stderr
    assert not (workflow_copy / "results").exists()


def test_snakemake_refuses_a_layer_naming_part_of_a_mix(workflow_copy):
    (workflow_copy / "uniform.yaml").write_text("phase1: {index_mix: {uniform: 1.0}}\n")
    out = snakemake(workflow_copy, "-n", "--configfile", "micro.yaml", "uniform.yaml", check=False)
    assert out.returncode != 0
    assert "uniform.yaml: config field 'phase1.index_mix'" in out.stdout + out.stderr
    whole = "phase1: {index_mix: {dp: 0, selector: 0, uniform: 1.0, random: 0}}\n"
    (workflow_copy / "uniform.yaml").write_text(whole)
    snakemake(workflow_copy, "-n", "--configfile", "micro.yaml", "uniform.yaml")
    partial = "phase1={index_mix: {uniform: 1.0}}"  # --config merges last, key by key too
    out = snakemake(workflow_copy, "-n", "--config", partial, check=False)
    assert out.returncode != 0
    assert "--config: config field 'phase1.index_mix'" in out.stdout + out.stderr
