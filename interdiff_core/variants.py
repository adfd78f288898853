"""Named experiment variants and training seeds: which run owns which artifact.

A variant (`variants: {name: {desc: ..., <section>: {<overrides>}}}`, `base` implicit) is the
canonical config with some stage sections deep-merged over it, or over an earlier variant's
config (`from: <variant>`: an ablation of that variant). Every trained artifact lives under
`<results>/<variant>/seed<seed>/`; a variant reads an upstream artifact from the first variant
(base, then the others in the order declared) that agrees on every section that artifact
depends on (its stage's and every upstream stage's), so adding a phase-2 ablation retrains
phase-2 and what follows, nothing upstream. The data (prepare_data, tokenize and the video
tokenizer) are shared by every variant and seed.
"""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

from interdiff_core.config import check_config
from interdiff_core.dphi_kinds import reads_teacher, reads_teacher_cache

BASE = "base"
# stage -> (config sections it reads, or "section.key" for one key, upstream stages); the edges
# from the teacher that a config may drop or add are `upstream`'s
STAGES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "train_teacher": (("teacher",), ()),
    "teacher_precompute": (("dphi.subsample", "dphi.t_steps"), ("train_teacher",)),
    "dphi_targets": (("dphi",), ("teacher_precompute",)),
    "train_dphi": (("dphi",), ("dphi_targets",)),
    "dp_labels": (("dp",), ("train_dphi",)),
    "train_selector": (("selector", "dp"), ("dp_labels",)),
    "train_phase1": (("phase1", "dp"), ("dp_labels", "train_selector")),
    "anchor_precompute": (("phase1",), ("train_phase1",)),
    # phase2.interpolator: flow reads the flow interpolator
    "train_phase2": (
        ("phase2", "dp"),
        ("anchor_precompute", "train_selector", "train_interpolator"),
    ),
    "eval_keyframes": (("dp",), ("train_dphi", "train_selector")),
    "train_interpolator": (("interpolator",), ()),
    "eval_interpolator": (("interpolator",), ("train_interpolator",)),
    "rollout": (("rollout",), ("train_teacher",)),
    "sample": (("sample", "phase2"), ("train_teacher", "train_phase2")),
}
SHARED_SECTIONS = ("run", "data", "tokenize")  # one per results folder, never per variant
MIXES = (("phase1", "index_mix"), ("phase2", "mask_mix"))  # {policy: weight}, merged key by key


def deep_merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def checked_variants(cfg: dict, validate) -> dict[str, dict]:
    """What the Snakefile checks of a merged config before any job: every variant is a whole
    valid config (`validate`: the schema check, which may fill defaults) that passes
    `config.check_config`. Returns the variants' configs."""
    variants = variant_configs(cfg)
    for variant in variants.values():
        validate(variant)
        check_config(variant)
    return variants


def summary_variants(cfg: dict, variants) -> list[str]:
    """The variants the run's summary tables pool (`run.summary_variants`, every variant when
    unset), sorted; an unknown name is refused before any job."""
    names = cfg["run"].get("summary_variants") or list(variants)
    unknown = [n for n in names if n not in variants]
    if unknown:
        raise ValueError(
            f"config field 'run.summary_variants': unknown variant(s) {unknown} "
            f"(expected names from {sorted(variants)})"
        )
    return sorted(names)


def variant_configs(cfg: dict) -> dict[str, dict]:
    """name -> the full config of that variant (base first, then as declared), without the
    `variants` table."""
    plain = {k: v for k, v in cfg.items() if k != "variants"}
    out = {BASE: plain}
    for name, spec in (cfg.get("variants") or {}).items():
        if name == BASE:
            raise ValueError(f"config field 'variants.{BASE}': the base variant is implicit")
        parent = parent_of(spec)
        if parent not in out:
            raise ValueError(
                f"config field 'variants.{name}.from': {parent!r} is not base or a variant "
                f"declared before it (declared: {sorted(out)})"
            )
        overrides = {k: v for k, v in spec.items() if k not in ("desc", "from")}
        if bad := sorted(set(overrides) & set(SHARED_SECTIONS)):
            raise ValueError(
                f"config field 'variants.{name}': {bad} are shared by every variant "
                "(use another results folder for other data)"
            )
        if bad := sorted(set(overrides) - set(plain)):
            raise ValueError(f"config field 'variants.{name}': unknown section(s) {bad}")
        _check_whole_mixes(overrides, out[parent], prefix=f"variants.{name}.")
        out[name] = deep_merge(out[parent], overrides)
    return out


def _check_whole_mixes(overrides: dict, parent: dict, prefix: str = "", source: str = "") -> None:
    """A mix merges key by key, as every section (and as Snakemake merges --configfile layers):
    `index_mix: {uniform: 1.0}` would keep the parent's other weights. An override of a mix must
    name every policy the mix it overrides draws (0 for one it drops)."""
    for section, key in MIXES:
        mix = (overrides.get(section) or {}).get(key)
        weights = (parent.get(section) or {}).get(key) or {}
        kept = sorted(k for k, w in weights.items() if w > 0) if mix else []
        if missing := [k for k in kept if k not in mix]:
            raise ValueError(
                f"{source}config field '{prefix}{section}.{key}': names {sorted(mix)} but not "
                f"{missing}, which would keep the weights it overrides "
                f"({', '.join(f'{k}: {weights[k]}' for k in missing)}); "
                "name every policy, 0 for one not drawn"
            )


def check_config_layers(paths: list[str], overrides: dict | None = None) -> dict:
    """The config files in the order Snakemake merges them (the workflow's, then each
    --configfile), then the `--config` overrides, merged as it merges them; no layer may name
    part of a mix (`_check_whole_mixes`, the check variants get)."""
    layers = [(f"{path}: ", yaml.safe_load(Path(path).read_text()) or {}) for path in paths]
    layers += [("--config: ", overrides)] if overrides else []
    merged: dict = {}
    for source, layer in layers:
        _check_whole_mixes(layer, merged, source=source)
        merged = deep_merge(merged, layer)
    return merged


def parent_of(spec: dict) -> str:
    """The variant a variant's overrides apply to (`from`, default base): what it is paired
    with in `eval/paired_seeds.csv`."""
    return spec.get("from", BASE)


def upstream(stage: str, cfg: dict | None = None) -> tuple[str, ...]:
    """The stages whose artifacts `stage` reads under `cfg`: `STAGES`' edges, with the teacher
    where the config decides it. D_phi's targets read the teacher's cached predictions (teacher
    kinds), the teacher alone (`generated`) or neither (`oracle`: the train split's own frames,
    so a teacher variant shares D_phi and all that follows); a phase model with `init: teacher`
    starts from the teacher's weights. Without a config, the teacher kinds' edges."""
    ups = STAGES[stage][1]
    if cfg is None:
        return ups
    if stage == "dphi_targets":
        kind = cfg["dphi"]["kind"]
        if not reads_teacher_cache(kind):
            ups = ("train_teacher",) if reads_teacher(kind) else ()
    section = stage.removeprefix("train_")
    if section in ("phase1", "phase2") and cfg[section].get("init") == "teacher":
        ups += ("train_teacher",)
    return ups


def builds(cfg: dict, stage: str) -> bool:
    """Whether a run of this config makes `stage`'s artifact: the teacher's cached predictions
    only for D_phi's teacher kinds, every other stage always."""
    return stage != "teacher_precompute" or reads_teacher_cache(cfg["dphi"]["kind"])


def sections_of(stage: str, cfg: dict | None = None) -> set[str]:
    """Every config section an artifact of `stage` depends on, its upstream stages' (under
    `cfg`, `upstream`) included."""
    if stage not in STAGES:
        return {"sample", "evaluate", "metrics", *sections_of("sample", cfg)}
    out = set(STAGES[stage][0])
    for up in upstream(stage, cfg):
        out |= sections_of(up, cfg)
    return out


def owner(configs: dict[str, dict], variant: str, stage: str) -> str:
    """The variant whose artifact of `stage` this variant uses: the first of base and the
    variants in declared order that agrees with it on every section the artifact depends on (at
    worst the variant itself)."""
    if variant not in configs:
        raise ValueError(f"unknown variant {variant!r}; known: {sorted(configs)}")

    def value(cfg: dict, field: str):
        section, _, key = field.partition(".")
        return cfg.get(section, {}).get(key) if key else cfg.get(section)

    mine = configs[variant]
    fields = sections_of(stage, mine)
    for name, cfg in configs.items():
        if all(value(mine, f) == value(cfg, f) for f in fields):
            return name
    return variant
