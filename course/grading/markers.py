"""The ``### BEGIN SOLUTION`` / ``### BEGIN HIDDEN TESTS`` markers (nbgrader's, in any language),
and the course's ``### BEGIN STARTER``.

A marker is a line that, once a leading comment token (``#``, ``//``, ``--``) is
stripped, reads exactly ``### BEGIN SOLUTION`` (etc.). So ``// ### BEGIN SOLUTION``
marks a ``%%node``/``%%go``/``%%java`` cell and stays valid code in the solution.
Nested or unterminated blocks are errors that name the file, cell and line.

A ``STARTER`` block holds the learner's starting code as comments (``# `` or ``// `` before
each line), so the instructor's notebook runs without it. In the exercise its lines are
uncommented and, when it directly follows a solution block, they replace that block's stub:
an exercise that starts from a naive app which the learner fixes, rather than from a
function that raises. An empty one right after a solution block just removes the block.
"""
from __future__ import annotations

import re

from ..errors import CourseError

MARKER = re.compile(r"^\s*(?:#|//|--)?\s*### (BEGIN|END) (SOLUTION|HIDDEN TESTS|STARTER)\s*$")
COMMENTED = re.compile(r"^(\s*)(?:#|//) ?(.*)$")

# What replaces a solution block, by the cell's language (its magic).
STUBS = {
    "python": ['# YOUR CODE HERE', 'raise NotImplementedError("replace this line with your solution")'],
    "node": ['// YOUR CODE HERE', 'throw new Error("replace this line with your solution");'],
    "typescript": ['// YOUR CODE HERE', 'throw new Error("replace this line with your solution");'],
    "go": ['// YOUR CODE HERE', 'panic("replace this line with your solution")'],
    "java": ['// YOUR CODE HERE', 'throw new UnsupportedOperationException("replace this line with your solution");'],
}
MAGIC_LANGUAGE = {"%%node": "node", "%%ts": "typescript", "%%go": "go", "%%java": "java", "%%py": "python"}


class MarkerError(CourseError):
    """A marker problem, located: ``file: cell N, line L: message``."""


def cell_language(source: str) -> str:
    first = source.lstrip().split(None, 1)[0] if source.strip() else ""
    return MAGIC_LANGUAGE.get(first, "python")


def _stub_lines(language: str, indent: str) -> list[str]:
    return [indent + line for line in STUBS[language]]


def transform(source: str, *, where: str = "<cell>") -> tuple[str, bool, bool]:
    """The learner's version of one cell's source.

    Returns ``(new_source, had_solution, had_hidden)``: solution blocks become the
    language's stub (indented like the marker), or the starter block that follows them;
    hidden-test blocks disappear.
    """
    language = cell_language(source)
    out: list[str] = []
    open_kind: str | None = None
    open_line = 0
    had = {"SOLUTION": False, "HIDDEN TESTS": False, "STARTER": False}
    stub_at: int | None = None  # where the stub of a solution block that just closed begins in `out`
    for number, line in enumerate(source.splitlines(), 1):
        m = MARKER.match(line)
        if not m:
            if open_kind is None:
                out.append(line)
                stub_at = None
            elif open_kind == "STARTER":
                c = COMMENTED.match(line)
                if c is None and line.strip():
                    raise MarkerError(f"{where}, line {number}: a line of a STARTER block must be a comment "
                                      f"(`# ` or `// ` before the learner's code), got {line.strip()[:60]!r}")
                out.append(c.group(1) + c.group(2) if c else "")
            continue
        action, kind = m.groups()
        if action == "BEGIN":
            if open_kind is not None:
                raise MarkerError(f"{where}, line {number}: `### BEGIN {kind}` inside the "
                                  f"`### BEGIN {open_kind}` block opened on line {open_line} (blocks cannot nest)")
            open_kind, open_line = kind, number
            had[kind] = True
            if kind == "SOLUTION":
                indent = re.match(r"\s*", line).group(0)
                stub_at = len(out)
                out.extend(_stub_lines(language, indent))
            elif kind == "STARTER" and stub_at is not None:
                del out[stub_at:]  # the starter's code stands in for the solution block just closed
            if kind != "SOLUTION":
                stub_at = None
        else:
            if open_kind is None:
                raise MarkerError(f"{where}, line {number}: `### END {kind}` without a matching BEGIN")
            if kind != open_kind:
                raise MarkerError(f"{where}, line {number}: `### END {kind}` closes the "
                                  f"`### BEGIN {open_kind}` block opened on line {open_line}")
            open_kind = None
    if open_kind is not None:
        raise MarkerError(f"{where}, line {open_line}: `### BEGIN {open_kind}` is never closed "
                          f"(add `### END {open_kind}`)")
    return "\n".join(out), had["SOLUTION"], had["HIDDEN TESTS"]


def strip_markers(source: str) -> str:
    """The instructor's version: marker lines removed, everything else kept."""
    return "\n".join(line for line in source.splitlines() if not MARKER.match(line))
