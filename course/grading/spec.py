"""Exercise metadata and where exercises live.

An exercise is one notebook in ``solutions/<section>/``. Its metadata sits in the
notebook itself (``metadata.course``), so the single source stays single:

    {"id": "node-express-404", "title": "...", "section": "01-nodejs",
     "language": "node", "framework": "express", "checklist": ["error-handling"],
     "points": 3, "files": ["work/server.js"]}

An exercise whose work is a whole app checked against the checklist (``ctx.checklist``)
names its folder in ``app`` (``"app": "work/app"``): the grader then lets its build read
the npm and Maven caches, as it does for a capstone.

Code cells tagged ``checks`` declare its tests (``@test``); hidden ones sit between
``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``. The last cell calls
``course.check("<id>")``.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import re
from pathlib import Path

from .. import paths
from ..checklist.items import ALL_ITEM_IDS
from ..errors import CourseError
from .markers import MARKER

SOLUTIONS = paths.REPO / "solutions"
EXERCISES = paths.REPO / "exercises"
REQUIRED = ("id", "title", "section", "language", "checklist", "points", "files")
LANGUAGES = ("node", "typescript", "go", "java", "python")
CHECK_CALL = re.compile(r"course\.check\(\s*['\"]([\w.-]+)['\"]\s*\)")


@dataclasses.dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    section: str
    language: str
    framework: str | None
    checklist: tuple[str, ...]
    points: float
    files: tuple[str, ...]
    solution: Path  # the instructor notebook
    app: str | None = None  # the folder of an app checked against the checklist (ctx.checklist)

    @property
    def relpath(self) -> Path:
        return self.solution.relative_to(SOLUTIONS)

    @property
    def exercise_path(self) -> Path:
        return EXERCISES / self.relpath

    def checks_parts(self) -> list[tuple[str, bool]]:
        """The instructor's test code, in order, as ``(source, hidden)`` parts: what lies between
        ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` is hidden (reports never show its
        code); other markers are dropped."""
        nb = read_solution(self.solution)
        parts: list[tuple[str, bool]] = []
        for cell in nb.cells:
            if cell.cell_type == "code" and "checks" in cell.metadata.get("tags", []):
                parts += split_hidden(cell.source)
        return parts


def split_hidden(source: str) -> list[tuple[str, bool]]:
    """``source`` cut at the hidden-test markers into ``(code, hidden)`` parts."""
    parts: list[tuple[str, bool]] = []
    lines: list[str] = []
    hidden = False
    for line in source.splitlines():
        m = MARKER.match(line)
        if m is None:
            lines.append(line)
            continue
        if m.group(2) == "HIDDEN TESTS":
            if lines:
                parts.append(("\n".join(lines), hidden))
            lines, hidden = [], m.group(1) == "BEGIN"
    if lines:
        parts.append(("\n".join(lines), hidden))
    return parts


class Node(dict):
    """A notebook read as plain JSON, with nbformat's attribute access (``nb.cells``,
    ``cell.source``): what the catalogue needs, without importing nbformat."""

    def __getattr__(self, name: str):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _node(value):
    if isinstance(value, dict):
        return Node({k: _node(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_node(v) for v in value]
    return value


def read_solution(path: Path) -> Node:
    """An instructor's notebook, read as JSON: no schema validation, and no nbformat at all.

    Every grading process reads the whole catalogue, and so does each batch's identity
    check on every worker. Validation was 90% of the reading time (2.3 s against 0.16 s for
    14 notebooks on a loaded machine), and importing nbformat costs 1.6 s of a fresh
    worker's start (jsonschema imports rfc3987_syntax, which builds a grammar at import:
    1.45 s, measured with ``python -X importtime``). Solutions are validated where they are
    written: ``course sync``."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("nbformat") != 4:
        import nbformat

        return nbformat.read(path, as_version=4)
    for cell in data.get("cells", []):
        if isinstance(cell.get("source"), list):  # stored as lines: joined, as nbformat does
            cell["source"] = "".join(cell["source"])
    return _node(data)


def from_notebook(path: Path, nb=None) -> Exercise:
    nb = nb if nb is not None else read_solution(path)
    meta = nb.metadata.get("course")
    where = str(path)
    if not isinstance(meta, dict):
        raise CourseError(f"{where}: notebook metadata has no `course` block (id, title, section, ...)")
    missing = [k for k in REQUIRED if k not in meta]
    if missing:
        raise CourseError(f"{where}: metadata.course lacks {', '.join(missing)}")
    if meta["language"] not in LANGUAGES:
        raise CourseError(f"{where}: language {meta['language']!r} is not one of {', '.join(LANGUAGES)}")
    unknown = [c for c in meta["checklist"] if c not in ALL_ITEM_IDS]
    if unknown:
        raise CourseError(f"{where}: unknown checklist ids {unknown}; known: {', '.join(ALL_ITEM_IDS)}")
    codes = [c for c in nb.cells if c.cell_type == "code"]
    if not any("checks" in c.metadata.get("tags", []) for c in codes):
        likely = next((n for n, c in enumerate(nb.cells, 1) if c.cell_type == "code" and "@test(" in c.source), None)
        hint = (f"cell {likely} defines @test functions: tag it `checks` (in the .md: `:tags: [checks]` "
                f"under its ```{{code-cell}} line)" if likely else "add one with the exercise's @test functions")
        raise CourseError(f"{where}: no code cell tagged `checks` (where the exercise's @test functions live); {hint}")
    calls = CHECK_CALL.findall(codes[-1].source) if codes else []
    if calls != [meta["id"]]:
        last = max((n for n, c in enumerate(nb.cells, 1) if c.cell_type == "code"), default=0)
        raise CourseError(f"{where}: cell {last}, the last code cell, must call course.check({meta['id']!r})")
    return Exercise(meta["id"], meta["title"], meta["section"], meta["language"], meta.get("framework"),
                    tuple(meta["checklist"]), float(meta["points"]), tuple(meta["files"]), path,
                    meta.get("app"))


@functools.lru_cache(maxsize=None)
def catalogue(root: Path = SOLUTIONS) -> dict[str, Exercise]:
    """Every exercise under ``solutions/``, by id (ids are unique)."""
    if root == SOLUTIONS:
        paths.require_checkout("grading (course.check, course build, course grade)")
    found: dict[str, Exercise] = {}
    for path in sorted(root.glob("*/*.ipynb")):
        if ".ipynb_checkpoints" in path.parts:
            continue
        ex = from_notebook(path)
        if ex.id in found:
            raise CourseError(f"exercise id {ex.id!r} is used by both {found[ex.id].solution} and {path}")
        found[ex.id] = ex
    return found


def find(exercise_id: str) -> Exercise:
    try:
        return catalogue()[exercise_id]
    except KeyError:
        raise CourseError(f"no exercise {exercise_id!r}; known: {', '.join(sorted(catalogue())) or 'none'}") from None


def identify(notebook_path: Path, nb=None) -> Exercise:
    """Which exercise a submitted notebook is: by its file name, then by its metadata id.

    The file name comes first because it survives a learner deleting cells or
    editing metadata; both must agree with the catalogue.
    """
    by_name = {ex.solution.name: ex for ex in catalogue().values()}
    if notebook_path.name in by_name:
        return by_name[notebook_path.name]
    meta = (nb.metadata.get("course") or {}) if nb is not None else {}
    if isinstance(meta, dict) and meta.get("id") in catalogue():
        return catalogue()[meta["id"]]
    raise CourseError(f"{notebook_path.name}: not an exercise of this course (no solution notebook has this "
                      f"name or id)")
