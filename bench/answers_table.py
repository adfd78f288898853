"""Several runs' `eval/answers.csv` as one markdown table (the README's answers with today's code).

Rows are the questions in the order of `summarize_runs.QUESTIONS`, one column per run named on the
command line as `label=path`; a cell is `val | test`, each the difference a − b with its 95 %
interval, in bold where the question's claim holds on that split. The compute question adds a row
of tokens per plan (two-phase / teacher, and in how many seeds two-phase's is the fewer). Nothing
is computed here: every number is read from the files.

    python bench/answers_table.py "U-maze, seeds 0–2=results/default/eval/answers.csv" \\
        "medium maze, seeds 0–2=results/medium_cpu/eval/answers.csv" [--variant plans8]
"""

from __future__ import annotations

import argparse

import pandas as pd

from interdiff_core.stages.summarize_runs import QUESTIONS


def signed(x: float) -> str:
    return f"{x:+.1f}".replace("-", "−")


def split_cell(row, split: str) -> str:
    diff, lo, hi = (getattr(row, f"{split}_{k}", float("nan")) for k in ("diff", "ci_lo", "ci_hi"))
    if pd.isna(diff):  # the run did not evaluate this split
        return "—"
    text = f"{signed(diff)} [{signed(lo)}, {signed(hi)}]"
    return f"**{text}**" if bool(getattr(row, f"holds_on_{split}")) else text


def tokens_cell(row) -> str:
    if pd.isna(row.tokens_a) or pd.isna(row.tokens_b):
        return "n/a"
    cheaper = "" if pd.isna(row.seeds_cheaper) else f" ({int(row.seeds_cheaper)} of {row.seeds})"
    return f"{row.tokens_a:.0f} / {row.tokens_b:.0f}{cheaper}"


def answers_table(runs: dict[str, pd.DataFrame], variant: str = "base") -> str:
    """Markdown rows of `runs` (label -> an answers.csv table) for one variant; a run that does
    not ask a question (or lacks the variant) shows a dash."""
    picked = {}
    for label, table in runs.items():
        rows = table[table.variant == variant]
        if rows.maze.nunique() > 1:
            raise ValueError(f"{label}: several mazes in one answers.csv; name one file per maze")
        picked[label] = {r.question: r for r in rows.itertuples()}
    head = ["question (a − b), val \\| test", *runs]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for question, a, b, _, claim in QUESTIONS:
        found = [picked[label].get(question) for label in runs]
        if not any(r is not None for r in found):
            continue
        cells = [
            "—" if r is None else f"{split_cell(r, 'val')} \\| {split_cell(r, 'test')}"
            for r in found
        ]
        lines.append(f"| {question} ({a} − {b}) | " + " | ".join(cells) + " |")
        if claim == "not_worse_cheaper":  # the compute question: its tokens beneath
            tokens = ["—" if r is None else tokens_cell(r) for r in found]
            lines.append("| tokens per plan, a / b (seeds where a's is fewer) | "
                         + " | ".join(tokens) + " |")  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", help="label=path/to/answers.csv, one per column")
    p.add_argument("--variant", default="base")
    args = p.parse_args()
    runs = {}
    for item in args.runs:
        label, sep, path = item.rpartition("=")
        if not sep or not label:
            p.error(f"expected label=path/to/answers.csv, got {item!r}")
        runs[label] = pd.read_csv(path)
    print(answers_table(runs, args.variant))


if __name__ == "__main__":
    main()
