"""Per-stage code digests, so Snakemake reruns a stage when the core code it runs changes.

Snakemake tracks a `script:` file but not the modules it imports. Each stage's entry module is
`interdiff_core.stages.<stage>`; its digest hashes the source of every `interdiff_core` module
it imports, transitively (found by reading the import statements, not by importing), so an
edit to a file only phase-2 uses changes only phase-2's digest.
"""

from __future__ import annotations

import ast
import hashlib
from functools import cache
from pathlib import Path

PACKAGE = "interdiff_core"
ROOT = Path(__file__).resolve().parent


def _module_file(name: str) -> Path | None:
    parts = name.split(".")[1:]
    if not parts:
        return ROOT / "__init__.py"
    rel = Path(*parts)
    for cand in (ROOT / rel.with_suffix(".py"), ROOT / rel / "__init__.py"):
        if cand.is_file():
            return cand
    return None


def _imports(name: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    is_pkg = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: resolve against this module's package
                parts = name.split(".")[: len(name.split(".")) - node.level + is_pkg]
                base = ".".join(parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)  # `from pkg import module`
    return {m for m in found if m == PACKAGE or m.startswith(PACKAGE + ".")}


@cache
def module_closure(entry: str) -> tuple[str, ...]:
    """All interdiff_core modules `entry` imports, transitively, with their parent packages."""
    seen: set[str] = set()
    todo = [entry]
    while todo:
        name = todo.pop()
        parts = name.split(".")
        for i in range(1, len(parts) + 1):  # importing a.b.c runs a/__init__ and a/b/__init__
            parent = ".".join(parts[:i])
            path = _module_file(parent)
            if path is None or parent in seen:
                continue
            seen.add(parent)
            todo.extend(_imports(parent, path) - seen)
    return tuple(sorted(seen))


def stage_digest(stage: str) -> str:
    """sha256 (16 hex chars) over the sources of the modules `stages.<stage>` runs."""
    entry = f"{PACKAGE}.stages.{stage}"
    if _module_file(entry) is None:
        raise ValueError(f"no stage module {entry} (looked under {ROOT / 'stages'})")
    h = hashlib.sha256()
    for name in module_closure(entry):
        h.update(name.encode())
        h.update(_module_file(name).read_bytes())
    return h.hexdigest()[:16]
