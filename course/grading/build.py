"""``course build``: generate ``exercises/`` from ``solutions/`` (one source per exercise).

Deterministic, like fastbook's ``clean.py`` and scikit-learn-mooc's generator: the
same solutions always give byte-identical exercises, so ``course build --check`` (run
in ``make test``) can tell when someone edited a solution and forgot to rebuild.
"""
from __future__ import annotations

import copy
from pathlib import Path

import nbformat

from .. import paths
from . import coverage, spec
from .markers import transform

STARTERS = paths.PACKAGE / "starters"  # only used in the repository (require_checkout)
STARTER_IGNORE = ("node_modules", "target", ".venv", "__pycache__", "dist")
LEARNER_FILES = ("work", ".tmp", ".scratch", ".ipynb_checkpoints")  # made by running a notebook: never touched


def exercise_notebook(path: Path) -> str:
    """The learner's notebook for one solution notebook, as JSON text."""
    nb = nbformat.read(path, as_version=4)
    spec.from_notebook(path, nb)  # validates metadata, checks cell, final check call
    out = copy.deepcopy(nb)
    for number, cell in enumerate(out.cells, 1):
        if cell.cell_type == "code":
            cell.source, _, _ = transform(cell.source, where=f"{path}: cell {number} (id {cell.get('id')})")
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
    out.metadata.pop("papermill", None)
    out.metadata.pop("jupytext", None)  # solutions are paired with a .md; learners' notebooks are not
    out.metadata.pop("widgets", None)  # widget state `course lab` saved with an instructor's run
    return nbformat.writes(out) + "\n"


def expected(solutions: Path = spec.SOLUTIONS) -> dict[Path, bytes]:
    """Relative path under ``exercises/`` → content, for everything ``course build`` writes."""
    files: dict[Path, bytes] = {}
    for path in sorted(solutions.glob("*/*.ipynb")):
        files[path.relative_to(solutions)] = exercise_notebook(path).encode()
    if STARTERS.is_dir():  # capstone exercises are the starters
        for starter in sorted(p for p in STARTERS.iterdir() if p.is_dir()):
            for f in sorted(starter.rglob("*")):
                rel = f.relative_to(starter)
                if f.is_file() and not any(part in STARTER_IGNORE for part in rel.parts):
                    files[Path("capstone") / starter.name / rel] = f.read_bytes()
    return files


def _generated_files(root: Path) -> set[Path]:
    out = set()
    for f in root.rglob("*"):
        rel = f.relative_to(root)
        if f.is_file() and not any(part in STARTER_IGNORE + LEARNER_FILES for part in rel.parts) \
                and rel.name != "README.md":
            out.add(rel)
    return out


def build(*, check: bool = False, exercises: Path = spec.EXERCISES,
          solutions: Path = spec.SOLUTIONS) -> list[str]:
    """Write (or with ``check``, only compare) the exercises. Returns the changed paths."""
    if solutions == spec.SOLUTIONS:
        paths.require_checkout("`course build`")
    want = expected(solutions)
    have = _generated_files(exercises) if exercises.exists() else set()
    changes = []
    for rel, content in want.items():
        target = exercises / rel
        if not target.exists() or target.read_bytes() != content:
            changes.append(f"{'stale' if target.exists() else 'missing'}: exercises/{rel}")
            if not check:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
    for rel in sorted(have - set(want)):
        changes.append(f"orphan: exercises/{rel} (no solution generates it)")
        if not check:
            (exercises / rel).unlink()
    readme = paths.REPO / "README.md"
    if solutions == spec.SOLUTIONS and readme.is_file():  # the course's own: its README's practice table
        changes += coverage.update_readme(readme, spec.catalogue(solutions).values(), check=check)
    return changes


def cmd_build(args) -> int:
    changes = build(check=args.check)
    if args.check:
        if changes:
            print("exercises/ (or README's practice table) is out of date with solutions/ — run `course build`:",
                  *changes, sep="\n  ")
            return 1
        print(f"✓ exercises/ matches solutions/ ({len(expected())} files)")
        return 0
    print("\n".join(changes) if changes else "exercises/ already up to date")
    return 0
