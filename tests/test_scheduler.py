"""The installed Snakemake keeps a run within --cores. Snakemake 9.15 returned the resources of a
job it had scheduled alone without ever taking them, so after each step with one ready job a
local run had more cores than it was given: on `--cores 2` the video default ran the teacher and
the flow interpolator (two threads each) together, each step up to 20x slower. The pipeline's
own rules all claim `run.threads`; this runs the same shape of DAG (two single steps, then two
ready jobs) and checks the two never overlap."""

import subprocess
import sys

SNAKEFILE = """
rule all:
    input: "a", "b"
rule first:
    output: "first"
    threads: 2
    shell: "touch {output}"
rule second:
    input: "first"
    output: "second"
    threads: 2
    shell: "touch {output}"
rule work:
    input: "second"
    output: "{name}"
    threads: 2
    shell: "date +%s.%N > {output}.start; sleep 1; date +%s.%N > {output}.end; touch {output}"
"""


def test_two_thread_jobs_never_overlap_on_two_cores(tmp_path):
    (tmp_path / "Snakefile").write_text(SNAKEFILE)
    cmd = [sys.executable, "-m", "snakemake", "--workflow-profile", "none", "--cores", "2"]
    subprocess.run(cmd, cwd=tmp_path, check=True, capture_output=True)

    def span(name):
        return tuple(float((tmp_path / f"{name}.{e}").read_text()) for e in ("start", "end"))

    (a0, a1), (b0, b1) = span("a"), span("b")
    assert a1 <= b0 or b1 <= a0, f"2-thread jobs overlapped on 2 cores: a {a0}-{a1}, b {b0}-{b1}"
