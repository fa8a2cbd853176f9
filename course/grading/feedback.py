"""``course.check("<exercise-id>")``: run an exercise's tests in the notebook and show them.

In JupyterLab it shows a panel (:mod:`.panel`: ✓/✗ per test, the message, the request and
response, points, a hint for failures, and a button to check again); headless (nbval,
papermill, a terminal) the same report is plain text. It returns nothing — a cell ending
in ``course.check(...)`` shows the panel and no value — and raises when anything fails, so
``pytest --nbval-lax exercises/`` is red until the exercise is solved.

Under ``course grade`` (``COURSE_GRADING=1``) it does nothing: the grader runs the
instructor's tests itself, so editing this cell cannot change a grade.
"""
from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

from .. import saves
from ..errors import CourseError
from . import progress, readable
from .results import Status, TestResult
from .run import run_tests
from .tests import registered

MARKS = {Status.PASS: "✓", Status.FAIL: "✗", Status.ERROR: "!"}


class ChecksFailed(AssertionError):
    """Some checks failed; rendered as one line (the panel above has the details)."""

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[31mChecksFailed\x1b[0m: {self}"]


@dataclasses.dataclass
class CheckRun:
    """One run of an exercise's checks, as the panel and the text report show it."""

    exercise_id: str
    results: list[TestResult]
    warnings: list[str]  # e.g. a --save file older than its edited cell
    seconds: float
    finished: str  # HH:MM:SS, local time

    @property
    def score(self) -> float:
        return sum(r.score for r in self.results)

    @property
    def total(self) -> float:
        return sum(r.max_score for r in self.results)

    @property
    def failed(self) -> list[TestResult]:
        return [r for r in self.results if r.status is not Status.PASS]

    @property
    def passed(self) -> bool:
        return not self.failed


def check(exercise_id: str, *, workspace: str | Path | None = None, display: bool = True) -> None:
    """Run the tests declared in this kernel against the notebook's folder, show the panel,
    and raise :class:`ChecksFailed` when any fails."""
    if os.environ.get("COURSE_GRADING") == "1":
        print(f"{exercise_id}: the grader runs the checks (grading mode)")
        return
    run = evaluate(exercise_id, workspace)
    if display:
        from . import panel

        panel.show(run, again=lambda: evaluate(exercise_id, workspace))
    if run.failed:
        names = "; ".join(f"{r.name}: {readable.plain(r.message)}" for r in run.failed[:3])
        raise ChecksFailed(f"{len(run.failed)} of {len(run.results)} checks failed "
                           f"({run.score:g}/{run.total:g} points) — {names}")


def evaluate(exercise_id: str, workspace: str | Path | None = None) -> CheckRun:
    """Run the registered tests once and remember the result (a learner's run only)."""
    tests = registered()
    if not tests:
        raise CourseError("no checks are declared in this kernel: run the cell with the @test functions "
                          "(tagged `checks`) first")
    where = Path(workspace or Path.cwd())
    start = time.monotonic()
    results = run_tests(tests, where)
    run = CheckRun(exercise_id, results, [s.message(where) for s in saves.stale()],
                   time.monotonic() - start, time.strftime("%H:%M:%S"))
    if progress.is_learners(where):
        progress.record(exercise_id, run.score, run.total, "pass" if run.passed else "fail")
    return run


def as_text(run: CheckRun) -> str:
    """The report for front ends without HTML or widgets (nbval, papermill, terminals)."""
    lines = [f"{run.exercise_id}: {run.score:g}/{run.total:g} points"]
    lines += [f"  ⚠ {w}" for w in run.warnings]
    for r in run.results:
        lines.append(f"  {MARKS[r.status]} {r.name} ({r.score:g}/{r.max_score:g})")
        if r.status is not Status.PASS:
            lines.append(f"      {readable.plain(r.message)}")
            if r.exchange:
                ex = r.exchange
                lines.append(f"      request: {ex['request']} → {ex['status']} {ex.get('content_type') or ''}".rstrip())
                shown = readable.body(ex.get("body"), ex.get("content_type"))
                if shown:
                    lines.append(f"      body: {shown}")
            if r.hint:
                lines.append(f"      hint: {r.hint}")
    return "\n".join(lines)
