"""``course.check("<exercise-id>")``: run an exercise's tests in the notebook and show them.

In JupyterLab it shows an ipywidgets panel (✓/✗ per test, the message, the request
and response, points, a hint for failures, and a button to check again); headless
(nbval, papermill, a terminal) the same report is plain text. When anything fails it
raises, so ``pytest --nbval-lax exercises/`` is red until the exercise is solved.

Under ``course grade`` (``COURSE_GRADING=1``) it does nothing: the grader runs the
instructor's tests itself, so editing this cell cannot change a grade.
"""
from __future__ import annotations

import html
import os
from pathlib import Path

from ..errors import CourseError
from . import progress
from .run import run_tests
from .tests import registered


class ChecksFailed(AssertionError):
    """Some checks failed; rendered as one line (the panel above has the details)."""

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[31mChecksFailed\x1b[0m: {self}"]


def check(exercise_id: str, *, workspace: str | Path | None = None, display: bool = True) -> list:
    """Run the tests declared in this kernel against the notebook's folder."""
    if os.environ.get("COURSE_GRADING") == "1":
        print(f"{exercise_id}: the grader runs the checks (grading mode)")
        return []
    tests = registered()
    if not tests:
        raise CourseError("no checks are declared in this kernel: run the cell with the @test functions "
                          "(tagged `checks`) first")
    results = run_tests(tests, workspace or Path.cwd())
    score = sum(r.score for r in results)
    total = sum(r.max_score for r in results)
    failed = [r for r in results if r.status != "pass"]
    progress.record(exercise_id, score, total, "pass" if not failed else "fail")
    if display:
        show(exercise_id, results, rerun=lambda: check(exercise_id, workspace=workspace, display=False))
    if failed:
        names = "; ".join(f"{r.name}: {r.message}" for r in failed[:3])
        raise ChecksFailed(f"{len(failed)} of {len(results)} checks failed ({score:g}/{total:g} points) — {names}")
    return results


def as_text(exercise_id: str, results: list) -> str:
    score = sum(r.score for r in results)
    total = sum(r.max_score for r in results)
    lines = [f"{exercise_id}: {score:g}/{total:g} points"]
    for r in results:
        mark = {"pass": "✓", "fail": "✗", "error": "!"}[r.status]
        lines.append(f"  {mark} {r.name} ({r.score:g}/{r.max_score:g})")
        if r.status != "pass":
            lines.append(f"      {r.message}")
            if r.exchange:
                ex = r.exchange
                lines.append(f"      request: {ex['request']} → {ex['status']} {ex.get('content_type') or ''}")
            if r.hint:
                lines.append(f"      hint: {r.hint}")
    return "\n".join(lines)


def _test_html(r) -> str:
    parts = [f"<div><b>{html.escape(r.message or 'passed')}</b></div>"]
    if r.exchange:
        ex = r.exchange
        parts.append(f"<pre>{html.escape(ex['request'])}\n→ {ex['status']} {html.escape(ex.get('content_type') or '')}"
                     f"\n{html.escape(ex.get('body') or '')}</pre>")
    if r.hint and r.status != "pass":
        parts.append(f"<div>💡 {html.escape(r.hint)}</div>")
    if r.output and r.status != "pass":
        parts.append(f"<details><summary>output</summary><pre>{html.escape(r.output)}</pre></details>")
    return "".join(parts)


def show(exercise_id: str, results: list, rerun=None) -> None:
    """Display the panel (widgets when a front end can render them, text otherwise)."""
    from IPython.display import display

    text = as_text(exercise_id, results)
    try:
        import ipywidgets as w
    except ImportError:  # pragma: no cover - ipywidgets is a dependency
        print(text)
        return
    header = w.HTML()
    accordion = w.Accordion()
    button = w.Button(description="Check again", icon="refresh")

    def fill(res) -> None:
        score = sum(r.score for r in res)
        total = sum(r.max_score for r in res)
        colour = "#1a7f37" if score == total else "#cf222e"
        header.value = (f"<h4 style='color:{colour}'>{html.escape(exercise_id)}: {score:g}/{total:g} points</h4>")
        accordion.children = [w.HTML(_test_html(r)) for r in res]
        for i, r in enumerate(res):
            mark = {"pass": "✓", "fail": "✗", "error": "!"}[r.status]
            accordion.set_title(i, f"{mark} {r.name} ({r.score:g}/{r.max_score:g})")

    def again(_button) -> None:
        try:
            fill(rerun())
        except ChecksFailed:
            fill(run_tests(registered(), Path.cwd()))

    fill(results)
    if rerun is not None:
        button.on_click(again)
    panel = w.VBox([header, accordion, button])
    # The widget for JupyterLab; the plain report for every front end that can't render it.
    bundle = panel._repr_mimebundle_() or {}
    bundle["text/plain"] = text
    display(bundle, raw=True)
