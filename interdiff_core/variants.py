"""Named experiment variants and training seeds: which run owns which artifact.

A variant (`variants: {name: {desc: ..., <section>: {<overrides>}}}`, `base` implicit) is the
canonical config with some stage sections deep-merged over it. Every trained artifact lives
under `<results>/<variant>/seed<seed>/`; a variant reads an upstream artifact from `base` when
no section that artifact depends on (its stage's and every upstream stage's) differs, so adding
a phase-2 ablation retrains phase-2 and what follows, nothing upstream. The data (prepare_data,
tokenize and the video tokenizer) are shared by every variant and seed.
"""

from __future__ import annotations

import copy

BASE = "base"
# stage -> (config sections it reads, or "section.key" for one key, upstream stages)
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


def deep_merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def variant_configs(cfg: dict) -> dict[str, dict]:
    """name -> the full config of that variant (base first), without the `variants` table."""
    plain = {k: v for k, v in cfg.items() if k != "variants"}
    out = {BASE: plain}
    for name, spec in (cfg.get("variants") or {}).items():
        if name == BASE:
            raise ValueError(f"config field 'variants.{BASE}': the base variant is implicit")
        overrides = {k: v for k, v in spec.items() if k != "desc"}
        if bad := sorted(set(overrides) & set(SHARED_SECTIONS)):
            raise ValueError(
                f"config field 'variants.{name}': {bad} are shared by every variant "
                "(use another results folder for other data)"
            )
        if bad := sorted(set(overrides) - set(plain)):
            raise ValueError(f"config field 'variants.{name}': unknown section(s) {bad}")
        out[name] = deep_merge(plain, overrides)
    return out


def sections_of(stage: str) -> set[str]:
    """Every config section an artifact of `stage` depends on, its upstream stages' included."""
    if stage not in STAGES:
        return {"sample", "evaluate", "metrics", *sections_of("sample")}
    own, upstream = STAGES[stage]
    out = set(own)
    for up in upstream:
        out |= sections_of(up)
    return out


def owner(configs: dict[str, dict], variant: str, stage: str) -> str:
    """The variant whose artifact of `stage` this variant uses: base when they agree on every
    section the artifact depends on, else the variant itself."""
    if variant not in configs:
        raise ValueError(f"unknown variant {variant!r}; known: {sorted(configs)}")

    def value(cfg: dict, field: str):
        section, _, key = field.partition(".")
        return cfg.get(section, {}).get(key) if key else cfg.get(section)

    mine, base = configs[variant], configs[BASE]
    same = all(value(mine, f) == value(base, f) for f in sections_of(stage))
    return BASE if same else variant
