"""The README's `pytest -n 2 --dist loadgroup` keeps every test that reads the shared micro run
on one worker (conftest's `pytest_collection_modifyitems`), so the micro DAG is built once.
Checked on a throwaway suite through the real hook: pytest 9 with pytest-xdist 3.8 silently
ignores the groups and built the micro run once per worker."""

import subprocess
import sys
import textwrap

from conftest import REPO

SUITE_CONFTEST = str(REPO / "tests" / "conftest.py")
CONFTEST = f"""
import importlib.util, os, pytest
spec = importlib.util.spec_from_file_location("suite_conftest", {SUITE_CONFTEST!r})
suite = importlib.util.module_from_spec(spec)
spec.loader.exec_module(suite)
pytest_collection_modifyitems = suite.pytest_collection_modifyitems

@pytest.fixture(scope="session")
def finished():
    with open("log", "a") as f:
        f.write(f"build {{os.getpid()}}\\n")
"""

TESTS = """
import os

def record(name):
    with open("log", "a") as f:
        f.write(f"{{name}} {{os.getpid()}}\\n")

def test_reads_{i}(finished):
    record("reads")

def test_alone_{i}():
    record("alone")
"""


def test_tests_reading_the_micro_run_share_one_worker_and_one_build(tmp_path):
    (tmp_path / "conftest.py").write_text(textwrap.dedent(CONFTEST))
    for i in range(4):
        (tmp_path / f"test_part{i}.py").write_text(TESTS.format(i=i))
    cmd = [sys.executable, "-m", "pytest", "-q", "-n", "2", "--dist", "loadgroup"]
    out = subprocess.run([*cmd, "-p", "no:cacheprovider"], cwd=tmp_path, capture_output=True)
    assert out.returncode == 0, out.stdout.decode() + out.stderr.decode()
    lines = [line.split() for line in (tmp_path / "log").read_text().splitlines()]
    assert [what for what, _ in lines].count("build") == 1
    readers = {pid for what, pid in lines if what in ("build", "reads")}
    assert len(readers) == 1, lines
