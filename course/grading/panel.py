"""The check panel in JupyterLab: a coloured report of one check run and a "Check again" button.

The report is one block of HTML (a ``<details>`` per test, failures open), shown in an
``ipywidgets.HTML`` so "Check again" can replace it in place. Widgets only render where
their state is known, so the panel is displayed with two fallbacks in the same output:
the same HTML (GitHub, nbviewer, the course site, JupyterLab without widgets) and the
plain-text report (nbval, papermill, terminals). ``course lab`` saves widget state with
the notebook, so a reopened notebook shows the panel rather than "model not found".

"Check again" re-runs the checks in the kernel: while it runs the button is disabled and
says so, the report says which run it is replacing, and a failure to run at all (the
checks cell not run since a restart, say) is shown in the panel, not lost in a log.
"""
from __future__ import annotations

import html
import time
from typing import Callable

from . import readable
from .feedback import MARKS, CheckRun, as_text
from .results import Status

PASS_COLOUR, PASS_BACKGROUND = "#1a7f37", "#dafbe1"
FAIL_COLOUR, FAIL_BACKGROUND = "#cf222e", "#ffebe9"
WARN_BACKGROUND, WARN_BORDER = "#fff8c5", "#d4a72c"
TEXT = "#1f2328"  # the panel has light backgrounds: dark text whatever JupyterLab's theme

_PANELS: dict[str, object] = {}  # exercise id -> the panel on screen, closed when a new one replaces it


def _esc(text: str | None) -> str:
    return html.escape(readable.plain(text))


def _test(r) -> str:
    mark = MARKS[r.status]
    title = f"{mark} {_esc(r.name)} ({r.score:g}/{r.max_score:g})"
    passed = r.status is Status.PASS
    parts = [f"<div>{_esc(r.message or 'passed')}</div>"]
    if r.exchange:
        ex = r.exchange
        shown = readable.body(ex.get("body"), ex.get("content_type"))
        parts.append(f"<pre style='white-space:pre-wrap;margin:4px 0'>{_esc(ex['request'])} → {ex['status']} "
                     f"{_esc(ex.get('content_type') or '')}" + (f"\n{html.escape(shown)}" if shown else "") + "</pre>")
    if r.hint and not passed:
        parts.append(f"<div><b>Hint:</b> {_esc(r.hint)}</div>")
    if r.output and not passed:
        parts.append("<details><summary>server output</summary>"
                     f"<pre style='white-space:pre-wrap;margin:4px 0'>{_esc(r.output)}</pre></details>")
    state = "pass" if passed else "fail"
    return (f"<details class='course-check-test course-check-test--{state}'{'' if passed else ' open'} "
            f"style='margin:2px 0'><summary>{title}</summary>"
            f"<div style='margin:2px 0 6px 1.2em'>{''.join(parts)}</div></details>")


def render(run: CheckRun, *, running: bool = False, problem: str | None = None) -> str:
    """The panel as HTML. ``running``: a new run is replacing this one; ``problem``: the
    last "Check again" could not run."""
    ok = run.passed
    colour, background = (PASS_COLOUR, PASS_BACKGROUND) if ok else (FAIL_COLOUR, FAIL_BACKGROUND)
    count = len(run.results)
    verdict = "all checks pass" if ok else f"{len(run.failed)} of {count} check{'s' if count != 1 else ''} failed"
    parts = [f"<div class='course-check-header' style='font-weight:600;color:{colour};margin-bottom:4px'>"
             f"{'✓' if ok else '✗'} {_esc(run.exercise_id)}: {run.score:g}/{run.total:g} points — {verdict}</div>"]
    notes = [f"⏳ Checking again… (the results below are from {run.finished})"] if running else []
    if problem:
        notes.append(f"⚠ Could not check again: {problem}")
    notes += [f"⚠ {w}" for w in run.warnings]
    for note in notes:
        parts.append(f"<div class='course-check-note' style='background:{WARN_BACKGROUND};"
                     f"border:1px solid {WARN_BORDER};border-radius:4px;padding:4px 8px;margin:4px 0'>"
                     f"{_esc(note)}</div>")
    parts += [_test(r) for r in run.results]
    parts.append(f"<div style='font-size:85%;opacity:.75;margin-top:4px'>checked at {run.finished} in "
                 f"{run.seconds:.1f} s · edited a cell? run it, then check again</div>")
    return (f"<div class='course-check course-check--{'pass' if ok else 'fail'}' "
            f"style='border-left:4px solid {colour};background:{background};color:{TEXT};padding:8px 12px;"
            f"border-radius:4px'>{''.join(parts)}</div>")


def show(run: CheckRun, again: Callable[[], CheckRun]) -> None:
    """Display the panel for ``run``; its button calls ``again`` and shows the new run."""
    from IPython.display import display

    try:
        import ipywidgets as w
    except ImportError:  # pragma: no cover - ipywidgets is a dependency
        display({"text/html": render(run), "text/plain": as_text(run)}, raw=True)
        return
    report = w.HTML(render(run))
    button = w.Button(description="Check again", icon="refresh",
                      tooltip="Run these checks again against your saved files")
    current = {"run": run}

    def on_click(_button) -> None:
        button.disabled, button.description, button.icon = True, "Checking…", "spinner spin"
        report.value = render(current["run"], running=True)
        started = time.monotonic()
        try:
            current["run"] = again()
            report.value = render(current["run"])
        except Exception as exc:  # noqa: BLE001 - a widget callback's exception would only reach a log
            report.value = render(current["run"], problem=f"{type(exc).__name__}: {readable.plain(str(exc))}")
        finally:
            button.disabled, button.description, button.icon = False, "Check again", "refresh"
            button.tooltip = f"last run took {time.monotonic() - started:.1f} s"

    button.on_click(on_click)
    panel = w.VBox([report, button])
    _replace(run.exercise_id, panel)
    bundle = dict(panel._repr_mimebundle_() or {})
    bundle["text/html"] = render(run)
    bundle["text/plain"] = as_text(run)
    display(bundle, raw=True)


def _replace(exercise_id: str, panel) -> None:
    """Close the previous panel of this exercise (its widgets would otherwise live, and be
    saved with the notebook, for as long as the kernel)."""
    old = _PANELS.pop(exercise_id, None)
    if old is not None:
        _close(old)
    _PANELS[exercise_id] = panel


def _close(widget) -> None:
    for child in getattr(widget, "children", ()):
        _close(child)
    for part in ("layout", "style"):
        sub = getattr(widget, part, None)
        if sub is not None and hasattr(sub, "close"):
            sub.close()
    widget.close()
