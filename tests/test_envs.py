"""Cluster jobs import what local jobs import: envs/*.yaml (snakemake --sdm conda) against
pyproject.toml, and one real job run by an interpreter that sees only the env file's packages."""

import ast
import os
import re
import shutil
import subprocess
import sys
import tomllib
import venv
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from conftest import REPO, copy_workflow
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ENV_EXTRAS = {"cpu.yaml": ["wan"], "gpu.yaml": ["wan", "gpu"]}  # what the jobs of each env need


def pip_lines(env_file: Path) -> list[str]:
    deps = yaml.safe_load(env_file.read_text())["dependencies"]
    pip = [d["pip"] for d in deps if isinstance(d, dict) and "pip" in d]
    assert len(pip) == 1, f"{env_file}: expected one `pip:` section"
    return pip[0]


def env_requirements(env_file: Path) -> tuple[dict[str, Requirement], list[str]]:
    """The env file's pip requirements by name, and its editable (`-e`) targets."""
    reqs, editable = {}, []
    for line in pip_lines(env_file):
        if line.startswith("-e "):
            editable.append(line[3:].strip())
        elif not line.startswith("-"):
            req = Requirement(line)
            reqs[canonicalize_name(req.name)] = req
    return reqs, editable


def project_requirements(extras: list[str]) -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    lines = project["dependencies"] + [
        r for e in extras for r in project["optional-dependencies"][e]
    ]
    return [Requirement(r) for r in lines]


@pytest.mark.parametrize("name", sorted(ENV_EXTRAS))
def test_env_file_holds_every_dependency_a_job_needs_with_pyproject_pins(name):
    reqs, _ = env_requirements(REPO / "envs" / name)
    for want in project_requirements(ENV_EXTRAS[name]):
        got = reqs.get(canonicalize_name(want.name))
        assert got is not None, f"envs/{name} lacks {want} (pyproject.toml)"
        assert got.extras == want.extras, f"envs/{name}: {got} has not the extras of {want}"
        pinned = re.fullmatch(r"==([^,*]+)", str(got.specifier))
        if pinned:  # an exact pin must be one that pyproject.toml allows
            assert want.specifier.contains(pinned[1]), f"envs/{name}: {got} outside {want}"
        else:
            assert got.specifier == want.specifier, f"envs/{name}: {got} is not {want}"
    for got in reqs.values():  # what pyproject does not ask for (yet) is pinned exactly
        names = {canonicalize_name(w.name) for w in project_requirements(ENV_EXTRAS[name])}
        if canonicalize_name(got.name) not in names:
            assert re.fullmatch(r"==[^,*]+", str(got.specifier)), f"envs/{name}: pin {got}"


@pytest.mark.parametrize("name", sorted(ENV_EXTRAS))
def test_env_file_installs_the_project_from_the_repository_root(name):
    _, editable = env_requirements(REPO / "envs" / name)
    assert editable == ["${INTERDIFF_ROOT}[wan]"], f"envs/{name}: the project, editable"
    snakefile = (REPO / "Snakefile").read_text()
    assert "os.environ.update(INTERDIFF_ROOT=workflow.basedir)" in snakefile


# --- one job with only the env's packages ---------------------------------------------------

SHARED = Path(metadata.distribution("snakemake").locate_file(""))  # the shared site-packages


def closure(reqs: list[Requirement]) -> dict[str, metadata.Distribution]:
    """The installed distributions that pip would install for `reqs` (dependencies followed,
    markers and extras evaluated), taken from the shared venv."""
    found, done, todo = {}, set(), [(r, "") for r in reqs]
    while todo:
        req, extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": extra}):
            continue
        key = canonicalize_name(req.name)
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            raise AssertionError(f"{req} is not installed in the shared venv") from None
        for ex in {""} | req.extras:
            if (key, ex) not in done:  # each distribution and extra followed once
                done.add((key, ex))
                todo += [(Requirement(r), ex) for r in dist.requires or []]
        found[key] = dist
    return found


def link_distribution(dist: metadata.Distribution, site: Path) -> None:
    """Symlink a distribution's top-level entries (packages, modules, .pth, dist-info)."""
    tops = {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")}
    for top in tops:
        src, dst = SHARED / top, site / top
        if src.exists() and not dst.exists():
            dst.symlink_to(src)


def env_interpreter(
    env_file: Path, root: Path, dest: Path, provided: list[str], environ: dict
) -> Path:
    """A venv (no system site-packages) holding what `conda env create` would install from
    env_file, resolved as pip would in Snakemake's copy of it (<root>/.snakemake/conda/), plus
    the distributions in `provided` (what the workflow itself brings: Snakemake's script
    preamble appends Snakemake's own location). Returns its python."""
    venv.create(dest, with_pip=False, symlinks=True)
    site = next(dest.glob("lib/python3*/site-packages"))
    reqs, editable = env_requirements(env_file)
    wanted = list(reqs.values()) + [Requirement(p) for p in provided]
    pip_cwd = root / ".snakemake" / "conda"
    for target in editable:
        target = re.sub(r"\$\{(\w+)\}", lambda m: environ.get(m[1], ""), target)  # as pip does
        path, extras = re.fullmatch(r"([^\[]*)(\[.*\])?", target).groups()
        project = (pip_cwd / path).resolve()
        pyproject = project / "pyproject.toml"
        assert path and pyproject.is_file(), f"{env_file}: -e {target} names no project"
        spec = tomllib.loads(pyproject.read_text())["project"]
        wanted += [Requirement(r) for r in spec["dependencies"]]
        for ex in (extras or "[]")[1:-1].split(","):
            wanted += [Requirement(r) for r in spec["optional-dependencies"].get(ex.strip(), [])]
        (site / "__editable__.interdiff.pth").write_text(f"{project}\n")
    for dist in closure(wanted).values():
        if canonicalize_name(dist.metadata["Name"]) != "interdiff":  # the shared venv's own
            link_distribution(dist, site)
    return dest / "bin" / "python"


def core_imports(core: Path) -> list[str]:
    """Every third-party module the core imports anywhere, lazily inside functions included."""
    names = set()
    for file in core.rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names.add(node.module.split(".")[0])
    return sorted(names - set(sys.stdlib_module_names) - {"interdiff_core"})


@pytest.mark.workflow
def test_a_job_and_every_core_import_run_with_only_the_cpu_env_packages(tmp_path):
    (tmp_path / "wf").mkdir()
    wd = copy_workflow(tmp_path / "wf")
    shutil.copy(REPO / "pyproject.toml", wd)  # what `-e` installs
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PYTHONNOUSERSITE="1", INTERDIFF_ROOT=str(wd))  # as the Snakefile sets it
    python = env_interpreter(wd / "envs" / "cpu.yaml", wd, tmp_path / "env", ["snakemake"], env)
    # the env's interpreter alone (no Snakemake preamble): this workflow's core and every
    # package it imports, and nothing of the shared venv on its path
    modules = core_imports(wd / "interdiff_core")
    assert {"torch", "diffusers", "peft"} <= set(modules)
    probe = (
        "import importlib, sys, interdiff_core; print(interdiff_core.__file__); "
        f"[importlib.import_module(m) for m in {modules!r}]; print(repr(sys.path))"
    )
    seen = subprocess.run(
        [python, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert seen.returncode == 0, seen.stderr
    core, path = seen.stdout.splitlines()
    assert Path(core).is_relative_to(wd) and str(SHARED) not in path
    # one real job run by that interpreter: Snakemake runs a script with the interpreter it
    # runs on, and its preamble appends Snakemake's own location and the Snakefile's folder
    out = subprocess.run(
        [python, "-m", "snakemake", "--workflow-profile", "none", "--cores", "2",
         "--configfile", "micro.yaml", "--until", "prepare_data"],
        cwd=wd, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    log = wd / "results" / "micro" / "logs" / "prepare_data.log"
    detail = f"{out.stdout}\n{out.stderr}\n{log.read_text() if log.exists() else ''}"
    assert out.returncode == 0, detail
    assert (wd / "results" / "micro" / "data" / "raw.safetensors").exists()
