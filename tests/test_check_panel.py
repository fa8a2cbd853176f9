"""`course.check`: the panel a learner sees, "Check again", stale saved files, and progress.

The browser suite (tests/browser) shows the same things in JupyterLab; these run without a
browser, so they also guard a machine that has none.
"""
from __future__ import annotations

import html
import json
import os
import re
import time

import nbformat
import pytest

from course.grading import feedback, progress, spec, tests as registry
from course.grading.results import Status, TestResult

from helpers import error_of, execute, notebook

WIDGET = "application/vnd.jupyter.widget-view+json"
EXPRESS_ERROR_PAGE = (  # what Express 4 answers for an uncaught error outside production
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n</head>\n<body>\n'
    "<pre>Error: replace this line with your solution<br> &nbsp; &nbsp;at /home/ada/exercises/work/server.js:9:9"
    "<br> &nbsp; &nbsp;at Layer.handle [as handle_request] (/home/ada/course/projects/node/node_modules/express/li")


@pytest.fixture
def progress_file(tmp_path, monkeypatch):
    path = tmp_path / "progress.json"
    monkeypatch.setenv("COURSE_PROGRESS", str(path))
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    return path


@pytest.fixture
def checks():
    """Tests registered as a learner's checks cell would; cleared afterwards."""
    registry.clear()
    yield registry.test
    registry.clear()


def result(name, status, message=None, **kw) -> TestResult:
    points = 1.0
    return TestResult(name=name, status=Status(status), score=points if status == "pass" else 0.0, max_score=points,
                      message=message, output=kw.pop("output", ""), test_code="", tags=[], **kw)


def a_run(*results, warnings=()):
    return feedback.CheckRun("node-express-user-lookup", list(results), list(warnings), 1.2, "10:42:03")


# -- in a kernel: what the cell shows ------------------------------------------------------------

def test_a_solved_check_shows_its_panel_and_no_value(tmp_path, progress_file):
    nb = notebook("from course.grading import test\n\n@test('GET /health answers 200')\ndef health(ctx):\n    pass",
                  "import course\ncourse.check('demo-exercise')")
    execute(nb, tmp_path)
    cell = nb.cells[1]
    assert error_of(cell) is None, cell.outputs
    values = [o for o in cell.outputs if o.output_type == "execute_result"]
    assert not values, f"the cell shows a value under the panel: {values[0].data['text/plain'][:200]}"
    (shown,) = [o for o in cell.outputs if o.output_type == "display_data"]
    assert WIDGET in shown.data  # the live panel, with its "Check again" button
    assert "course-check--pass" in shown.data["text/html"]  # for front ends without the widget's state
    assert shown.data["text/plain"].startswith("demo-exercise: 1/1 points")


def test_a_failing_check_raises_one_line_after_the_panel(tmp_path, progress_file):
    nb = notebook("from course.grading import test\n\n@test('GET /health answers 200', hint='add the route')\n"
                  "def health(ctx):\n    raise AssertionError('\\x1b[31mexpected 200\\x1b[39m, got 404')",
                  "import course\ncourse.check('demo-exercise')")
    execute(nb, tmp_path)
    cell = nb.cells[1]
    assert "course-check--fail" in cell.outputs[0].data["text/html"]
    error = error_of(cell)
    assert error.ename == "ChecksFailed"
    assert error.evalue == "1 of 1 checks failed (0/1 points) — GET /health answers 200: expected 200, got 404"


# -- what the panel and the text report say -----------------------------------------------------------

def test_feedback_has_no_terminal_codes_and_summarises_html_pages():
    from course.grading import panel

    failing = result("GET /api/users/1 answers 200", "fail", "\x1b[31mexpected 200, got 500\x1b[39m",
                     output="Error: boom\n    \x1b[90mat file:///work/server.js:9:9\x1b[39m",
                     exchange={"request": "GET /api/users/1", "status": 500,
                               "content_type": "text/html; charset=utf-8", "body": EXPRESS_ERROR_PAGE},
                     hint="answer with res.json(user)")
    run = a_run(result("GET /health answers 200", "pass"), failing)
    rendered = panel.render(run)
    assert "<!DOCTYPE" not in rendered and "&lt;" not in rendered  # no markup of the page's, raw or escaped
    on_screen = html.unescape(re.sub(r"<[^>]+>", "", rendered))
    for shown in (on_screen, feedback.as_text(run)):
        assert "\x1b" not in shown and "[90m" not in shown and "[31m" not in shown
        assert 'HTML page "Error": Error: replace this line with your solution (+ 2 more lines, a stack trace)' in shown
        assert "expected 200, got 500" in shown
    assert "at file:///work/server.js:9:9" in on_screen  # the server's output, uncoloured


def test_the_panel_is_red_with_each_failure_open_or_green():
    from course.grading import panel

    red = panel.render(a_run(result("a", "pass"), result("b", "fail", "no"), result("c", "error", "crashed")))
    assert "course-check--fail" in red and "1/3 points — 2 of 3 checks failed" in red
    assert red.count("course-check-test--fail' open") == 2 and red.count("course-check-test--pass'") == 1
    green = panel.render(a_run(result("a", "pass"), result("b", "pass")))
    assert "course-check--pass" in green and "2/2 points — all checks pass" in green and " open" not in green


def test_check_again_shows_that_it_runs_and_what_stopped_it(capsys):
    from course.grading import panel

    first = a_run(result("a", "fail", "no"))
    seen = {}

    def again():
        shown = panel._PANELS[first.exercise_id]
        report, button = shown.children
        seen.update(disabled=button.disabled, label=button.description, report=report.value)
        return a_run(result("a", "pass"))

    panel.show(first, again)
    report, button = panel._PANELS[first.exercise_id].children
    button.click()
    assert seen["disabled"] and seen["label"] == "Checking…"
    assert "Checking again… (the results below are from 10:42:03)" in seen["report"]
    assert not button.disabled and button.description == "Check again"
    assert "course-check--pass" in report.value

    def broken():
        raise feedback.CourseError("no checks are declared in this kernel")

    panel.show(first, broken)  # a new panel replaces the previous one of the same exercise
    report, button = panel._PANELS[first.exercise_id].children
    button.click()
    assert "Could not check again: CourseError: no checks are declared in this kernel" in report.value
    assert not button.disabled


# -- a --save file older than the cell that writes it -------------------------------------------------

def write_notebook(path, cells: dict[str, str]) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src, id=cid) for cid, src in cells.items()])
    path.write_text(json.dumps(nb))


@pytest.fixture
def saves():
    from course import saves

    saves.forget()
    yield saves
    saves.forget()


def test_a_saved_file_older_than_its_edited_cell_is_named(tmp_path, monkeypatch, saves):
    from course import magics

    monkeypatch.chdir(tmp_path)
    cell = "%%py --save work/app.py --no-run\nprint('v1')"
    request = {"metadata": {"cellId": "server"}, "content": {"code": cell}}  # as JupyterLab sends it
    monkeypatch.setattr(saves, "_current_request", lambda: request)
    nb = tmp_path / "exercise.ipynb"
    write_notebook(nb, {"intro": "x = 1", "server": cell})
    magics.run_cell("py", "python", "--save work/app.py --no-run", "print('v1')")  # what running the cell does
    assert saves.stale(nb) == []  # saved and run: nothing to say
    time.sleep(0.01)
    write_notebook(nb, {"intro": "x = 1", "server": cell.replace("v1", "v2")})  # edited and saved, not run
    (found,) = saves.stale(nb)
    assert found.message(tmp_path) == (
        "work/app.py is older than the cell that writes it (%%py --save work/app.py --no-run): the cell was edited "
        "after it last ran, so these checks ran your previous code. Run that cell, then check again.")
    os.utime(tmp_path / "work" / "app.py")  # written after the notebook was saved (run from elsewhere): newer
    assert saves.stale(nb) == []


def test_a_check_carries_the_stale_file_warning(tmp_path, monkeypatch, progress_file, checks, saves):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.js").write_text("old")
    saves.remember(tmp_path / "app.js", cell_id="c1", source="%%node --save app.js\nold")
    time.sleep(0.01)
    nb = tmp_path / "ex.ipynb"
    write_notebook(nb, {"c1": "%%node --save app.js\nnew"})
    monkeypatch.setenv("JPY_SESSION_NAME", str(nb))

    @checks("passes")
    def ok(ctx):
        pass

    run = feedback.evaluate("demo", tmp_path)
    assert run.warnings and run.warnings[0].startswith("app.js is older than the cell that writes it")
    assert "⚠ app.js is older" in feedback.as_text(run)


# -- progress -------------------------------------------------------------------------------------------

def test_progress_from_solutions_never_counts_as_the_learners(tmp_path, progress_file, checks):
    @checks("passes", points=3)
    def ok(ctx):
        pass

    solution_folder = spec.SOLUTIONS / "01-nodejs"
    feedback.check("node-express-user-lookup", workspace=solution_folder, display=False)
    assert progress.load() == {}, "a run of the instructor's solution was recorded as the learner's"
    learner = tmp_path / "exercises" / "01-nodejs"
    learner.mkdir(parents=True)
    os.environ["JPY_SESSION_NAME"] = str(solution_folder / "01-express-user-lookup.ipynb")
    try:
        feedback.check("node-express-user-lookup", workspace=learner, display=False)
        assert progress.load() == {}, "the kernel's notebook is a solution"
    finally:
        del os.environ["JPY_SESSION_NAME"]
    feedback.check("node-express-user-lookup", workspace=learner, display=False)
    entry = progress.load()["node-express-user-lookup"]
    assert entry["score"] == entry["best"] == entry["max_score"] == 3.0 and entry["status"] == "pass"
