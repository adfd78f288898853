"""Checks across config fields that a JSON schema cannot express. The schema runs first."""

from __future__ import annotations

from pathlib import Path

from interdiff_core.dphi_kinds import GROUND_TRUTH_KINDS


class ConfigError(ValueError):
    pass


def _fail(field: str, msg: str):
    raise ConfigError(f"config field '{field}': {msg}")


def check_tau_ctx(
    tau_ctx: float, steps: int, field: str = "rollout.tau_ctx", grid: str = "rollout.steps"
) -> float:
    """τ_ctx if it lies on the 1/steps grid in (0, 1), else a ValueError naming the config
    `field`, the `grid` it must lie on and the nearest level that does."""
    if steps < 2:
        raise ValueError(
            f"{field}: {grid} = {steps} has no signal level strictly between 0 "
            "and 1 on its grid for the context; use steps >= 2"
        )
    k = tau_ctx * steps
    if abs(k - round(k)) > 1e-6 or not 0 < round(k) < steps:
        below = max(1, min(steps - 1, int(k)))
        raise ValueError(
            f"{field} = {tau_ctx} is not on the grid of {grid} = {steps} "
            f"(multiples of 1/{steps} strictly between 0 and 1), e.g. {below / steps}"
        )
    return round(k) / steps


def _path_fields(obj, prefix: str = ""):
    """(field, value) for every string field whose name ends in 'path', at any depth."""
    for key, value in obj.items() if isinstance(obj, dict) else ():
        field = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _path_fields(value, f"{field}.")
        elif str(key).endswith("path") and isinstance(value, str) and value:
            yield field, value


def check_config(cfg: dict) -> None:
    """Raise ConfigError naming the field. Input paths (fields named '*path') are resolved
    against the working directory, as the jobs will resolve them."""
    for field, value in _path_fields(cfg):
        if not Path(value).exists():
            _fail(field, f"input path '{value}' does not exist")
    T = cfg["data"]["horizon"]
    levels = cfg["dp"]["levels"]
    if any(b <= a for a, b in zip(levels, levels[1:])):
        _fail("dp.levels", f"must be strictly increasing, got {levels}")
    if levels[-1] > T:
        _fail("dp.levels", f"{levels[-1]} keyframes do not fit in data.horizon = {T}")
    if len(cfg["phase2"]["noise_sigma"]) != len(levels):
        _fail("phase2.noise_sigma", f"needs one value per level of dp.levels ({len(levels)})")
    if cfg["dphi"]["s_min"] > cfg["dphi"]["s_max"]:
        _fail("dphi.s_min", f"{cfg['dphi']['s_min']} > dphi.s_max {cfg['dphi']['s_max']}")
    if cfg["sample"]["n_samples"] > cfg["data"]["n_test"]:
        _fail("sample.n_samples", f"exceeds data.n_test = {cfg['data']['n_test']}")
    for field, k_max in [("sample.teacher_steps", cfg["teacher"]["k_max"]),
                         ("sample.phase1_steps", cfg["phase1"]["k_max"]),
                         ("phase1.anchor_steps", cfg["phase1"]["k_max"]),
                         ("sample.untrained_steps", cfg["teacher"]["k_max"]),
                         ("sample.ablation_steps", cfg["phase1"]["k_max"]),
                         ("dphi.generated_steps", cfg["teacher"]["k_max"])]:  # fmt: skip
        section, key = field.split(".")
        value = cfg[section].get(key, [])
        for steps in value if isinstance(value, list) else [value]:
            if steps > k_max:
                _fail(field, f"{steps} steps is finer than the trained k_max = {k_max}")
    main = cfg["sample"].get("two_phase_keyframes", "selector")
    if main in cfg["sample"].get("keyframe_sources", []):
        _fail(
            "sample.keyframe_sources",
            f"lists {main!r}, the source of the two_phase rows themselves "
            "(sample.two_phase_keyframes); drop it from the ablation arms",
        )
    if cfg["run"].get("slurm", {}).get("gpus", 0) > 0 and cfg["run"]["device"] != "cuda":
        _fail("run.slurm.gpus", "asks for GPUs that training on run.device = cpu would not use")
    check_teacher(cfg)
    check_extra_rest_episodes(cfg)
    weights = cfg["dphi"].get("cost_weights")
    if weights is not None and cfg["dphi"]["kind"] not in GROUND_TRUTH_KINDS:
        _fail(
            "dphi.cost_weights",
            f"needs dphi.kind oracle or generated, got {cfg['dphi']['kind']!r}",
        )
    if cfg["data"]["domain"] == "video":
        check_video(cfg)
    else:
        check_maze(cfg)
    for section in ("phase1", "phase2"):
        key = "index_mix" if section == "phase1" else "mask_mix"
        if sum(cfg[section][key].values()) <= 0:
            _fail(f"{section}.{key}", "weights must not all be zero")


def check_teacher(cfg: dict) -> None:
    teacher = cfg["teacher"]
    if teacher.get("backbone", "transformer") != "wan":
        return
    if cfg["data"]["domain"] != "video":
        _fail(
            "teacher.backbone",
            f"'wan' needs latent video frames [C, h, w], not data.domain = "
            f"{cfg['data']['domain']!r}; use 'transformer'",
        )
    wan = teacher["wan"]
    if (wan.get("config") is None) == (not wan.get("pretrained_path")):
        _fail("teacher.wan", "give exactly one of 'config' and 'pretrained_path'")
    patch = (wan.get("config") or {}).get("patch_size")
    if patch is not None and list(patch)[:1] != [1]:
        _fail("teacher.wan.config.patch_size", f"must start with 1 (per-frame τ), got {patch}")
    if teacher.get("model", {}).get("persistence"):
        _fail("teacher.model.persistence", "is an option of the transformer backbone, not 'wan'")


def check_extra_rest_episodes(cfg: dict) -> None:
    """dphi.extra_rest_episodes simulates more of the data expert's episodes from rest for the
    oracle targets of one maze; dphi_targets would only say so after the teacher has trained."""
    dphi = cfg["dphi"]
    if not dphi.get("extra_rest_episodes", 0):
        return
    for field, need in (("kind", GROUND_TRUTH_KINDS), ("windows", ("rest_episodes",))):
        if dphi.get(field) not in need:
            _fail(
                "dphi.extra_rest_episodes",
                f"needs dphi.{field} in {list(need)}, got {dphi.get(field)!r}",
            )
    if len(mazes := cfg["data"].get("mazes", [])) != 1:
        _fail("dphi.extra_rest_episodes", f"needs one maze in data.mazes, got {mazes}")


def check_maze(cfg: dict) -> None:
    data = cfg["data"]
    weights = cfg["dphi"].get("cost_weights")
    if weights is not None and len(weights) != 4:
        _fail(
            "dphi.cost_weights",
            f"a maze frame has 4 features (row, col, v_row, v_col), got {len(weights)} weights",
        )
    if cfg["dphi"].get("windows") == "rest_episodes" and not data.get("rest_episodes", 0):
        _fail(
            "dphi.windows",
            "'rest_episodes' trains D_phi on the training windows that are episodes from rest, "
            "but data.rest_episodes is 0: raise it or set dphi.windows: all",
        )
    if cfg["phase2"].get("interpolator", "linear") != "linear":
        _fail(
            "phase2.interpolator",
            f"{cfg['phase2']['interpolator']!r} is video-only (the flow interpolator warps latent "
            "frames); maze2d phase-2 interpolates linearly: set it to 'linear' or leave it out",
        )
    if "evaluate" not in cfg:
        _fail("evaluate", "is required when data.domain is maze2d (plans executed in MuJoCo)")
    if data["source"] == "generate":
        span = (data["horizon"] - 1) * data["stride"]
        if data["stream_steps"] <= span:
            _fail("data.stream_steps", f"must exceed one window of {span + 1} env steps")
        return
    datasets = data.get("datasets") or {}
    if missing := [m for m in data["mazes"] if m not in datasets]:
        _fail("data.datasets", f"source {data['source']!r} needs an entry for maze(s) {missing}")
    if data["source"] == "d4rl":
        for maze in data["mazes"]:
            if not Path(datasets[maze]).is_file():
                _fail(f"data.datasets.{maze}", f"D4RL file '{datasets[maze]}' does not exist")
    elif not data.get("minari_path") or not Path(data["minari_path"]).is_dir():
        _fail("data.minari_path", f"'{data.get('minari_path', '')}' is not a folder")


def check_video(cfg: dict) -> None:
    video, tok = cfg["data"]["video"], cfg["tokenize"]
    if cfg["dphi"].get("windows") == "rest_episodes":
        _fail("dphi.windows", "'rest_episodes' is maze-only (clips have no goal); set it to 'all'")
    if "test_seed" in cfg["data"]:
        _fail("data.test_seed", "is maze-only (clips are split by source, not drawn by seed)")
    for key in ("text", "pretrained_path"):
        if key not in tok:
            _fail(f"tokenize.{key}", "is required when data.domain is video")
    if video["source"] == "files" and not video["files"]:
        _fail("data.video.files", "is empty but data.video.source is 'files'")
    if video["source"] == "wan" and not video["wan_dir"]:
        _fail("data.video.wan_dir", "is empty but data.video.source is 'wan'")
    for section in ("interpolator", "rollout"):
        if section not in cfg:
            _fail(section, "is required when data.domain is video")
    T, ro = cfg["data"]["horizon"], cfg["rollout"]
    if not 1 <= ro["context"] < T:
        _fail("rollout.context", f"must be in [1, data.horizon - 1 = {T - 1}]")
    if ro["steps"] > cfg["teacher"]["k_max"]:
        _fail("rollout.steps", f"{ro['steps']} is finer than teacher.k_max")
    for field, grid, steps in (
        ("tau_ctx", "rollout.steps", ro["steps"]),
        ("point_tau_ctx", "teacher.k_max", cfg["teacher"]["k_max"]),
    ):
        if ro.get(field) is not None:
            try:
                check_tau_ctx(ro[field], steps, f"rollout.{field}", grid)
            except ValueError as err:
                _fail(f"rollout.{field}", str(err))
    win = cfg["teacher"].get("windows")
    if win and not win["short_len"] <= win["long_len"] <= T:
        _fail("teacher.windows", f"needs short_len <= long_len <= data.horizon = {T}")
    if video["source"] != "wan" and not tok["pretrained_path"]:
        if "autoencoder" not in tok:
            _fail("tokenize.autoencoder", "is required to train the frame tokenizer")
        down = tok["autoencoder"]["downsample"]
        if video["frame_size"] % down:
            _fail(
                "tokenize.autoencoder.downsample", f"{down} does not divide data.video.frame_size"
            )


def canonical(obj):
    """The config with every mapping's keys sorted. Snakemake compares `params` by their text,
    so the same values written in another key order must not look like a change."""
    if isinstance(obj, dict):
        return {k: canonical(obj[k]) for k in sorted(obj)}
    if isinstance(obj, list):
        return [canonical(v) for v in obj]
    return obj
