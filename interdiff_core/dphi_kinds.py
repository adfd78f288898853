"""What each `dphi.kind` of segment cost reads, in a module of its own: the config checks, the
variants' sharing rules and the Snakefile import it without pulling torch in, and
`stages/dphi_targets.py`'s code digest changes only when these do."""

# measured against the training windows' own frames; `dphi_targets` reads the windows from the
# train split, so only `generated` (the teacher's draws as keyframes) needs the teacher itself
GROUND_TRUTH_KINDS = ("oracle", "generated")
# the teacher's predictions on noised windows, cached by `teacher_precompute`
TEACHER_KINDS = ("teacher", "teacher_infill")


def reads_teacher_cache(kind: str) -> bool:
    """Whether D_phi's targets of this kind read `teacher_precompute`'s predictions."""
    return kind in TEACHER_KINDS


def reads_teacher(kind: str) -> bool:
    """Whether D_phi's targets of this kind call the trained teacher."""
    return kind != "oracle"
