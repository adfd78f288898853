"""bench/answers_table.py renders `summarize_runs.answers`' own table: bold where a claim holds,
a dash where a run does not ask a question, tokens beside the compute question."""

import sys

import pandas as pd
import pytest
from conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
from answers_table import answers_table  # noqa: E402


def test_answers_table_reads_each_run_and_marks_what_holds(tmp_path):
    from interdiff_core.stages.summarize_runs import answers

    def row(split, a, b, diff, lo, hi):
        return dict(variant="base", split=split, maze="umaze", a=a, b=b, seeds=3, diff=diff,
                    ci_lo=lo, ci_hi=hi, seeds_above_zero=2)  # fmt: skip

    paired = pd.DataFrame([
        row("val", "two_phase@val", "teacher@val", -1.0, -3.0, 1.0),
        row("test", "two_phase@val", "teacher@val", -4.0, -6.04, -2.0),
        row("val", "two_phase@4", "two_phase_uniform@4", 1.3, 0.5, 2.0),
        row("test", "two_phase@4", "two_phase_uniform@4", 0.04, -0.04, 0.1),
    ])  # fmt: skip
    summary = pd.DataFrame({"variant": "base", "maze": "umaze", "tokens": [300.0, 2000.0],
                            "tokens_seeds": ["300/300/300", "100/100/5800"],
                            "method": ["two_phase@val_choice", "teacher@val_choice"]})  # fmt: skip
    first = answers(paired, summary, tmp_path / "a.csv", margin=5.0)
    second = answers(paired[paired.b == "teacher@val"], summary, tmp_path / "b.csv", margin=2.0)
    text = answers_table({"one": pd.read_csv(tmp_path / "a.csv"), "two": second})
    lines = text.splitlines()
    assert lines[0] == "| question (a − b), val \\| test | one | two |"
    teacher, tokens, uniform = lines[2:]
    assert teacher.endswith("| **−1.0 [−3.0, +1.0]** \\| −4.0 [−6.0, −2.0] "
                            "| −1.0 [−3.0, +1.0] \\| −4.0 [−6.0, −2.0] |")  # fmt: skip
    assert tokens.endswith("| 300 / 2000 (1 of 3) | 300 / 2000 (1 of 3) |")
    assert uniform.startswith("| the method's keyframes beat uniform keyframes")
    assert uniform.endswith("| **+1.3 [+0.5, +2.0]** \\| +0.0 [−0.0, +0.1] | — |")
    assert len(first) == 2
    val_only = answers(paired[paired.split == "val"], summary, tmp_path / "c.csv", margin=5.0)
    assert (
        answers_table({"val only": val_only})
        .splitlines()[2]
        .endswith("| **−1.0 [−3.0, +1.0]** \\| — |")
    )
    with pytest.raises(ValueError, match="several mazes"):
        answers_table({"both": pd.concat([first, first.assign(maze="medium")])})
