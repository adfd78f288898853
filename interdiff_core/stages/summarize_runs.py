"""summarize_runs: every variant's executed test scores, mean ± standard error across seeds,
and the paired comparisons pooled over seeds.

Per run (variant, seed), the rows are the settings chosen on that run's val episodes (teacher
and two-phase step counts; interpolation only and the velocity fixes at two-phase's), beside
the baselines and references; the table then averages each row over the run's seeds. The
paired table takes each run's comparisons (`episode_metrics.comparisons`: two-phase against the
val-chosen teacher, against interpolation only, against each other keyframe source) per split,
with the val-chosen settings named by role (`two_phase@val` may be 1 step in one seed and 4 in
another; `two_phase_or_fd@val` the plain plan in one seed and its velocity fix in another), and
gives the mean difference over seeds with a two-stage bootstrap interval (seeds, then episodes);
each variant's val-chosen two-phase and teacher are also paired with its parent's (base's, or
the variant named by its `from`) on the same episodes (`b` = `base:two_phase@val`), so a
variant's gain carries its interval too. `answers` reads that table back as the question every
run must answer (`QUESTIONS`: two-phase against the teacher, each learned part against its
trivial replacement), val and test side by side, and warns where a claim does not hold.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from interdiff_core.io import atomic_path
from interdiff_core.metrics.stats import mean_se, paired_bootstrap
from interdiff_core.stages.episode_metrics import (
    VELOCITY_FIXES,
    comparisons,
    mean_score,
    split_values,
)
from interdiff_core.variants import BASE

log = logging.getLogger(__name__)
BASELINES = ("straight_line", "untrained", "expert", "tracked_reference", "random")
VALUES = ("score_d4rl", "score", "success", "ret", "tokens", "nfe")
# reported at two-phase's val-chosen steps: phase-1's keyframes without phase-2, the velocity fixes
AT_TWO_PHASE = ("interp_only", *VELOCITY_FIXES)
# a plan and its velocity fix, whichever scores higher on the run's val episodes (at two-phase's
# val-chosen steps): phase-2 and its replacement, each tracked as it does best
VELOCITY_CHOICES = {"two_phase_or_fd": ("two_phase", "two_phase_fd"),
                    "interp_or_fd": ("interp_only", "interp_fd")}  # fmt: skip
# (a, b) paired at each run's val-chosen steps, named `<a>@val`, `<b>@val`
VAL_PAIRS = (("two_phase", "teacher"), ("two_phase", "interp_only"), ("two_phase", "interp_fd"),
             ("two_phase_fd", "interp_fd"), ("two_phase_fd", "two_phase"),
             ("two_phase_fd", "teacher"), ("two_phase_or_fd", "interp_or_fd"))  # fmt: skip


def chosen_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The test rows one run reports: val-chosen settings and the baselines."""
    test = table[table.split == "test"]
    arms = test.method.str.startswith(("two_phase_", "interp_only_")) & ~test.method.isin(
        AT_TWO_PHASE
    )  # keyframe sources
    picked = test[test.chosen_on_val.astype(bool) | test.method.isin(BASELINES) | arms]
    two = test[(test.method == "two_phase") & test.chosen_on_val.astype(bool)]
    at_two = test[test.method.isin(AT_TWO_PHASE) & test.steps.isin(two.steps)]
    return pd.concat([picked, at_two]).assign(
        role=lambda d: d.method.where(
            ~d.method.isin(["teacher", "two_phase", *AT_TWO_PHASE]), d.method + "@val_choice"
        )  # fmt: skip
    )


def summarize_runs(
    tables: dict[tuple[str, int], str], descs: dict[str, str], out_csv
) -> pd.DataFrame:
    rows = []
    for (variant, seed), path in sorted(tables.items()):
        picked = chosen_rows(pd.read_csv(path))
        rows.append(picked.assign(variant=variant, seed=seed))
    runs = pd.concat(rows)
    out = []
    for (variant, maze, role), g in runs.groupby(["variant", "maze", "role"], sort=True):
        row = dict(variant=variant, maze=maze, method=role, seeds=len(g))
        row["steps"] = "/".join(str(s) for s in g.steps)  # per seed, in seed order
        row["tokens_seeds"] = "/".join(f"{t:.12g}" for t in g.tokens)  # `:g` rounds past 1e6
        for col in VALUES:
            row[col] = float(g[col].mean())
            if col in ("score_d4rl", "score", "success"):
                row[f"{col}_se_seeds"] = mean_se(g[col])[1]
        row["desc"] = descs.get(variant, "")
        out.append(row)
    table = pd.DataFrame(out)
    log.info("summary over seeds:\n%s", table.drop(columns="desc").to_string(index=False))
    with atomic_path(out_csv) as tmp:
        table.to_csv(tmp, index=False, float_format="%.6g")
    return table


def val_chosen_key(method: str, chosen: dict[str, int]) -> str:
    """`<method>@<the steps the run chose on val>`; interpolation only and the velocity fixes at
    two-phase's; a `VELOCITY_CHOICES` role: the method the run chose on val, at two-phase's."""
    if method in VELOCITY_CHOICES:
        return f"{chosen[method]}@{chosen['two_phase']}"
    return f"{method}@{chosen['two_phase' if method in AT_TWO_PHASE else method]}"


def role_pairs(keys: set[str], chosen: dict[str, int]) -> dict[tuple[str, str], tuple[str, str]]:
    """{(a, b) as named across seeds: (a, b) as this run's keys}. The val-chosen teacher and
    two-phase (and `AT_TWO_PHASE` at two-phase's steps) are named `<method>@val`."""
    teacher = val_chosen_key("teacher", chosen)
    out = {(a, "teacher@val" if b == teacher else b): (a, b) for a, b in comparisons(keys, teacher)}
    for a, b in VAL_PAIRS:
        if not {a, b} <= {*chosen, *AT_TWO_PHASE}:
            continue  # a run from before the velocity fixes
        key_a, key_b = val_chosen_key(a, chosen), val_chosen_key(b, chosen)
        if key_a in keys and key_b in keys:
            out[(f"{a}@val", f"{b}@val")] = (key_a, key_b)
    return out


def run_episodes(files: dict) -> tuple[dict, dict]:
    """One run's per-episode values per split and what it chose on val: {method: steps} for the
    teacher and two-phase, {role: method} for each `VELOCITY_CHOICES` role both of whose plans
    it ran (the higher mean D4RL score over its mazes; the plain plan on a tie)."""
    table = pd.read_csv(files["table"])
    picked = table[(table.split == "val") & table.chosen_on_val.astype(bool)]
    values = {split: split_values(files[split])[0] for split in ("val", "test")}
    chosen = dict(zip(picked.method, picked.steps))
    ran = {k for _, k in values["val"]}
    for role, options in VELOCITY_CHOICES.items():
        keys = [f"{m}@{chosen.get('two_phase')}" for m in options]
        if ran.issuperset(keys):  # max keeps the first (plain) option on a tie
            means = [mean_score(values["val"], key) for key in keys]
            chosen[role] = max(zip(options, means), key=lambda o: o[1])[0]
    return values, chosen


def pooled_row(diffs: list, n_boot: int, seed: int, **keys) -> dict:
    """One paired_seeds row: per-seed arrays of per-episode differences pooled over seeds."""
    diff, lo, hi = paired_bootstrap(diffs, n_boot, seed)
    seed_means = [float(d.mean()) for d in diffs]
    return dict(
        keys, seeds=len(diffs), diff=diff, se_seeds=mean_se(seed_means)[1], ci_lo=lo, ci_hi=hi,
        seeds_above_zero=sum(m > 0 for m in seed_means),
    )  # fmt: skip


def paired_rows(variant: str, split: str, maze: str, per_seed: list, n_boot: int, seed: int):
    """The rows of one variant, split and maze: every comparison present in every seed."""
    pairs = [
        role_pairs({k for (mz, k) in values[split] if mz == maze}, chosen)
        for values, chosen in per_seed
    ]
    for name in sorted(set.intersection(*(set(p) for p in pairs))):
        diffs = [
            values[split][(maze, p[name][0])]["score_d4rl"]
            - values[split][(maze, p[name][1])]["score_d4rl"]
            for (values, _), p in zip(per_seed, pairs)
        ]
        yield pooled_row(diffs, n_boot, seed, variant=variant, split=split, maze=maze, a=name[0],
                         b=name[1])  # fmt: skip


def against_parent(
    variant: str,
    parent: str,
    split: str,
    maze: str,
    per_seed: list,
    parent_runs: list,
    n_boot,
    seed,
):
    """The variant's planners minus its parent's (`parent_runs`: the parent's runs of the same
    seeds), episode by episode, seed by seed (b named `<parent>:<a>`): the val-chosen two-phase
    and teacher (`<role>@val`), then every planner at a fixed step count that both ran in every
    seed (`two_phase_uniform@4`: what the variant's change does to one arm), with the same
    two-stage interval. Only where both executed the same episodes (the expert's per-episode
    scores agree: a variant that changes the data is not paired)."""
    pairs = [
        (ours[split], theirs[split])
        for (ours, _), (theirs, _) in zip(per_seed, parent_runs, strict=True)
    ]
    for ours, theirs in pairs:
        expert = [v.get((maze, "expert"), {}).get("score_d4rl") for v in (ours, theirs)]
        if any(e is None for e in expert) or not np.array_equal(*expert):
            return
    named = {  # name -> (ours, theirs) key per seed
        f"{role}@val": [
            (val_chosen_key(role, chosen), val_chosen_key(role, theirs_chosen))
            for (_, chosen), (_, theirs_chosen) in zip(per_seed, parent_runs)
        ]
        for role in ("two_phase", "teacher")
    }
    shared = set.intersection(
        *({k for mz, k in side if mz == maze and "@" in k} for pair in pairs for side in pair)
    )
    named |= {key: [(key, key)] * len(pairs) for key in sorted(shared)}
    for name, keys in named.items():
        diffs = [
            ours[(maze, a)]["score_d4rl"] - theirs[(maze, b)]["score_d4rl"]
            for (ours, theirs), (a, b) in zip(pairs, keys)
        ]
        yield pooled_row(diffs, n_boot, seed, variant=variant, split=split, maze=maze, a=name,
                         b=f"{parent}:{name}")  # fmt: skip


def paired_across_seeds(
    runs: dict[tuple[str, int], dict], n_boot: int, seed: int, out_csv, parents=None
) -> pd.DataFrame:
    """runs: (variant, seed) -> {"table": episodes.csv, "val": ..., "test": episode tensors};
    parents: variant -> the variant it is paired with (default base). One row per variant,
    split, maze and comparison present in every seed of the variant, and each other variant
    against its parent where both ran the same seeds."""
    rows = []
    episodes = {key: run_episodes(files) for key, files in sorted(runs.items())}
    seeds = {v: [s for vv, s in sorted(runs) if vv == v] for v, _ in runs}
    for variant in sorted(seeds):
        per_seed = [episodes[(variant, s)] for s in seeds[variant]]
        parent = (parents or {}).get(variant, BASE)
        parent_runs = [episodes[(parent, s)] for s in seeds[variant]] if (
            variant != parent and seeds[variant] == seeds.get(parent)
        ) else None  # fmt: skip
        for split in ("val", "test"):
            for maze in sorted({mz for values, _ in per_seed for mz, _ in values[split]}):
                rows += paired_rows(variant, split, maze, per_seed, n_boot, seed)
                if parent_runs is not None:
                    rows += against_parent(
                        variant, parent, split, maze, per_seed, parent_runs, n_boot, seed
                    )
    table = pd.DataFrame(rows)
    log.info("paired over seeds:\n%s", table.to_string(index=False))
    with atomic_path(out_csv) as tmp:
        table.to_csv(tmp, index=False, float_format="%.6g")
    return table


# The question every run answers: does two-phase reach the teacher, and does each learned part
# beat its trivial replacement? (question, a, b, steps: "val" for each seed's val-chosen steps,
# "arm" for every step count the keyframe-source arms ran at, claim: what a − b must show;
# `not_worse_cheaper`: within the margin of b for fewer tokens per plan than b)
# fmt: off
QUESTIONS = (
    ("two-phase reaches the teacher for fewer tokens",
     "two_phase", "teacher", "val", "not_worse_cheaper"),
    ("phase-2 beats interpolation only", "two_phase", "interp_only", "val", "better"),
    ("phase-2 beats interpolation with position velocities (interp_fd)",
     "two_phase", "interp_fd", "val", "better"),
    ("phase-2 beats interpolation, each with or without the velocity fix as it does best on val",
     "two_phase_or_fd", "interp_or_fd", "val", "better"),
    ("the method's keyframes beat uniform keyframes",
     "two_phase", "two_phase_uniform", "arm", "better"),
    ("the method's keyframes beat the best fixed schedule",
     "two_phase", "two_phase_best_fixed", "arm", "better"),
    ("DP(D_phi)'s keyframes beat uniform keyframes",
     "two_phase_dp_dphi", "two_phase_uniform", "arm", "better"),
)
# fmt: on


def interval_reading(lo: float, hi: float) -> str:
    """What a 95 % interval of a − b says: `better` (above zero), `worse` (below), or `no
    difference shown` (it holds zero)."""
    return "better" if lo > 0 else "worse" if hi < 0 else "no difference shown"


def holds(claim: str, lo: float, margin: float = 0.0, cheaper: bool = False) -> bool:
    """`better`: the interval lies above zero; `not_worse_cheaper`: it lies above −margin (a
    non-inferiority test: a wide interval fails) and a uses fewer tokens per plan than b."""
    if claim == "better":
        return lo > 0
    if claim == "not_worse_cheaper":
        return lo > -margin and cheaper
    raise ValueError(f"unknown claim {claim!r} (better, not_worse_cheaper)")


def per_plan(tokens: float | None) -> str:
    """Mean tokens per plan for a log line; "n/a" where a planner's tokens are missing."""
    return "n/a" if tokens is None else f"{tokens:.1f}"


def asks(question: tuple, a: str, b: str) -> bool:
    """Whether the paired row a − b is the one `question` reads."""
    _, method_a, method_b, steps, _ = question
    (ma, _, sa), (mb, _, sb) = a.partition("@"), b.partition("@")
    at = sa == "val" if steps == "val" else sa.isdigit()
    return (ma, mb) == (method_a, method_b) and sa == sb and at


def answers(paired: pd.DataFrame, summary: pd.DataFrame, out_csv, margin: float) -> pd.DataFrame:
    """One row per variant, maze and question of `QUESTIONS` present in `paired`
    (`paired_across_seeds`' table), val and test side by side with what each interval says,
    whether the question's claim holds on each split, in how many seeds a − b is above zero, and
    the tokens per plan of the two val-chosen planners (`summary`: means over seeds) and their
    ratio, with `seeds_cheaper`: in how many seeds a's val-chosen plan uses fewer tokens than b's
    (the mean can rest on one seed whose val choice was costly); `margin` (score points): how
    far below the teacher two-phase's interval may reach and still count as reaching it
    (`evaluate.teacher_margin`). `strongest_on_val` marks, among the replacements of one learned
    part (same a and claim), the one it does least well against on val. Logs a warning for every
    claim that fails on a split, so a run whose learned parts lose to their trivial
    replacements, or match the teacher only for more compute, says so where it is read."""
    if margin < 0:
        raise ValueError(f"evaluate.teacher_margin: expected a margin >= 0, got {margin}")
    tokens, seed_tokens = {}, {}
    for r in summary.itertuples():
        key = (r.variant, r.maze, r.method.replace("@val_choice", "@val"))
        tokens[key] = r.tokens
        seed_tokens[key] = np.array([float(t) for t in str(r.tokens_seeds).split("/")])
    # a velocity-choice role plans with its plain method's tokens (the fix changes none)
    plain = {f"{role}@val": f"{options[0]}@val" for role, options in VELOCITY_CHOICES.items()}
    own = paired[~paired.b.str.contains(":")] if len(paired) else None  # not against a parent
    groups = own.groupby(["variant", "maze", "a", "b"], sort=True) if own is not None else []
    rows = []
    for (variant, maze, a, b), g in groups:
        order = next((i for i, q in enumerate(QUESTIONS) if asks(q, a, b)), None)
        if order is None:
            continue
        question, _, _, _, claim = QUESTIONS[order]
        key_a, key_b = ((variant, maze, plain.get(k, k)) for k in (a, b))
        tokens_a, tokens_b = tokens.get(key_a), tokens.get(key_b)
        ratio = tokens_a / tokens_b if tokens_a is not None and tokens_b else float("nan")
        seeds_a, seeds_b = seed_tokens.get(key_a, ()), seed_tokens.get(key_b, ())
        both = len(seeds_a) and len(seeds_a) == len(seeds_b)  # the same seeds
        cheaper = int((seeds_a < seeds_b).sum()) if both else None
        row = dict(variant=variant, maze=maze, question=question, a=a, b=b, claim=claim,
                   seeds=int(g.seeds.iloc[0]))  # fmt: skip
        if claim == "not_worse_cheaper":
            row["margin"] = margin
        for r in g.itertuples():
            ok = holds(claim, r.ci_lo, margin, cheaper=ratio < 1)  # a nan ratio is not cheaper
            row.update({f"{r.split}_diff": r.diff, f"{r.split}_ci_lo": r.ci_lo,
                        f"{r.split}_ci_hi": r.ci_hi, r.split: interval_reading(r.ci_lo, r.ci_hi),
                        f"holds_on_{r.split}": ok,
                        f"{r.split}_seeds_above_zero": int(r.seeds_above_zero)})  # fmt: skip
            if not ok:
                log.warning(
                    "%s / %s, %s: '%s' does not hold: %s − %s = %+.1f [%+.1f, %+.1f] (%d seeds, "
                    "%d above zero)%s",
                    variant, maze, r.split, question, a, b, r.diff, r.ci_lo, r.ci_hi, r.seeds,
                    r.seeds_above_zero,
                    "" if claim == "better" else
                    f", margin {margin:g}, tokens per plan {per_plan(tokens_a)} against "
                    f"{per_plan(tokens_b)} (fewer in {cheaper} of {r.seeds} seeds)",
                )  # fmt: skip
        row.update(tokens_a=tokens_a, tokens_b=tokens_b, tokens_ratio=ratio, seeds_cheaper=cheaper)
        seeds = row["seeds"]
        if (
            claim == "not_worse_cheaper"
            and ratio < 1
            and cheaper is not None
            and 2 * cheaper < seeds
        ):
            log.warning(
                "%s / %s: %s uses fewer tokens per plan than %s on the mean over seeds (%s against "
                "%s) but in only %d of %d seeds: the mean rests on costly val choices of a few",
                variant, maze, a, b, per_plan(tokens_a), per_plan(tokens_b), cheaper, seeds,
            )  # fmt: skip
        rows.append((variant, maze, order, a, row))
    table = pd.DataFrame([row for *_, row in sorted(rows, key=lambda r: r[:4])])
    if len(table) and "val_diff" in table:
        # one learned part, several replacements (phase-2: interp_only and interp_fd): the one it
        # must beat is the strongest on val, where the part's difference is smallest
        part = table.groupby(["variant", "maze", "a", "claim"]).val_diff.transform("min")
        table["strongest_on_val"] = table.val_diff == part
    log.info("answers:\n%s", table.to_string(index=False))
    with atomic_path(out_csv) as tmp:
        table.to_csv(tmp, index=False, float_format="%.6g")
    return table
