# Variants and training seeds as wildcards (interdiff_core/variants.py): every trained artifact
# lives under {R}/{variant}/seed{seed}/; a variant reads what it shares with base (or an earlier
# variant) from there.
VARIANTS = variant_configs(C)
VARIANT_PARENTS = {v: parent_of(s) for v, s in (C.get("variants") or {}).items()}
SEEDS = C["run"]["seeds"]
SUMMARY_VARIANTS = summary_variants(C, VARIANTS)  # the variants eval/summary.csv pools
RUN = f"{R}/{{variant}}/seed{{seed}}"


wildcard_constraints:
    variant="|".join(VARIANTS),
    seed=r"\d+",


def section(name, keys=None):
    """Params: this job's variant's config section (or one key, or a tuple of keys, of it)."""

    def of(wildcards):
        cfg = VARIANTS[wildcards.variant][name]
        if keys is None:
            return cfg
        if isinstance(keys, str):
            return cfg[keys]
        return {k: cfg[k] for k in keys}

    return of


def TRAIN_SEED(wildcards):
    return int(wildcards.seed)


def owned(rule_name, key):
    """Input: `rule_name`'s output `key` for this job's seed, from the variant that owns it."""
    pattern = getattr(rules, rule_name).output[key]

    def path(wildcards):
        values = dict(wildcards.items())
        values["variant"] = owner(VARIANTS, wildcards.variant, rule_name)
        return expand(pattern, **values)[0]

    return path


def run_targets(patterns, stage=None, among=None):
    """Every (variant, seed) instance of some {RUN} paths (of the variants `among`, default all);
    with `stage`, each variant's instance is the one it reads (base's where it shares the stage's
    artifact)."""
    variants = sorted(
        {owner(VARIANTS, v, stage) if stage else v for v in (among or VARIANTS)}
    )
    return expand(patterns, variant=variants, seed=SEEDS)


def every_output(all_rules):
    """Every output of every rule: each variant's own copy where it owns the stage, each seed,
    each split the domain samples (SAMPLED_SPLITS)."""
    out = set()
    for r in all_rules:
        if r.name == "all":
            continue
        for pattern in getattr(rules, r.name).output:
            variants = sorted(
                {
                    owner(VARIANTS, v, r.name)
                    for v in VARIANTS
                    if builds(VARIANTS[v], r.name)
                }
            )
            out.update(
                expand(pattern, variant=variants, seed=SEEDS, split=SAMPLED_SPLITS)
            )
    return sorted(out)


def interpolator_input(wildcards):
    """phase2.interpolator: flow takes the trained flow interpolator (video) as an input."""
    if VARIANTS[wildcards.variant]["phase2"]["interpolator"] != "flow":
        return {}
    return {"interpolator": owned("train_interpolator", "model")(wildcards)}


def init_input(name):
    """<name>.init: teacher takes the trained teacher as an input (weights to start from)."""

    def of(wildcards):
        if VARIANTS[wildcards.variant][name].get("init", "scratch") != "teacher":
            return {}
        return {"init": owned("train_teacher", "model")(wildcards)}

    return of


def dphi_target_inputs(wildcards):
    """dphi_targets' windows: the teacher's cached predictions for the teacher kinds, else the
    train split itself; and the trained teacher for every kind but oracle."""
    kind = VARIANTS[wildcards.variant]["dphi"]["kind"]
    if reads_teacher_cache(kind):
        out = {"windows": owned("teacher_precompute", "cache")(wildcards)}
    else:
        out = {"windows": rules.tokenize.output.train}
    if reads_teacher(kind):
        out["teacher"] = owned("train_teacher", "model")(wildcards)
    return out


def maze_raw():
    """Mazes: prepare_data's raw episodes, for what the shards do not hold (eval_keyframes: the
    data expert's runs of the evaluation tasks; dphi_targets: the goals of the episodes from
    rest). Clips: nothing."""
    return {"raw": f"{R}/data/raw.safetensors"} if DOMAIN == "maze2d" else {}


def maze_expert_costs():
    """Mazes: the expert runs' mean segment costs of the evaluation tasks (eval_keyframes'
    `dp_expert_mean` bound). Clips: nothing."""
    return (
        {"expert_costs": f"{R}/data/expert_costs.safetensors"}
        if DOMAIN == "maze2d"
        else {}
    )
