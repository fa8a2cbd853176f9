"""An exercise from stub to green: Run All, read the panel, check again, save, come back tomorrow.

The tests of this module share one tab and one copy of an exercise, in order, as one learner
would: running an exercise takes seconds (a PostgreSQL, a Node server), and what each later
test looks at is what the earlier one left — a saved notebook, a panel to reload.
"""
from __future__ import annotations

import re

import pytest

import browser_lab as bl

expect = pytest.importorskip("playwright.sync_api").expect

EXERCISE = "exercises/01-nodejs/01-express-user-lookup.ipynb"
SOLUTION = "solutions/01-nodejs/01-express-user-lookup.ipynb"
WIDGET_ERROR = "Error displaying widget"


@pytest.fixture(scope="module")
def learner(tabs, lab):
    """One tab with a copy of the Express exercise (JupyterLab autosaves: never the original)."""
    page = tabs.new()
    rel = lab.copy(EXERCISE, EXERCISE)
    bl.open_notebook(page, lab, rel)
    yield page, rel
    tabs.retire(page)


def test_a_stub_run_with_run_all_shows_a_red_panel_with_the_failing_checks(learner):
    page, _ = learner
    bl.run_all(page)
    panel = bl.check_panel(page)
    expect(panel).to_have_class(re.compile(r"\bcourse-check--fail\b"))
    expect(panel.locator(".course-check-header")).to_contain_text("0/2 points")
    failing = panel.locator(".course-check-test--fail")
    expect(failing).to_have_count(2)
    expect(failing.first).to_contain_text("GET /api/users/1 answers 200 with user 1")
    expect(failing.first).to_contain_text("expected 200, got 500")
    # Express's HTML error page, summarised; the stack's terminal colours gone
    expect(failing.first).to_contain_text('HTML page "Error": Error: replace this line with your solution')
    assert "<!DOCTYPE" not in panel.inner_text() and "[90m" not in panel.inner_text()
    # the cell's value is not shown under the panel (course.check returns nothing)
    cell = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell").last
    expect(cell.locator(".jp-OutputArea-executeResult")).to_have_count(0)
    expect(cell).not_to_contain_text("TestResult(")
    expect(cell.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")).to_contain_text(
        "ChecksFailed: 2 of 2 checks failed")


def test_check_again_shows_that_it_is_running(learner):
    page, _ = learner
    button = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jupyter-widgets button", has_text="Check again")
    button.click()
    busy = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jupyter-widgets button", has_text="Checking…")
    expect(busy).to_be_disabled()
    expect(bl.check_panel(page)).to_contain_text("Checking again…")
    expect(button).to_be_enabled(timeout=120_000)
    expect(bl.check_panel(page)).not_to_contain_text("Checking again…")
    expect(bl.check_panel(page).locator(".course-check-test--fail")).to_have_count(2)


def test_check_again_warns_when_the_saved_file_is_older_than_its_edited_cell(learner):
    page, _ = learner
    server_cell = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell",
                               has_text="%%node --save work/server.js").first
    server_cell.locator(".cm-content").click()
    page.keyboard.press("Control+End")
    page.keyboard.type("\n// an edit, not run yet")
    page.keyboard.press("Escape")
    # no explicit save: course lab autosaves every few seconds
    expect(page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current")).not_to_have_class(
        re.compile(r"\bjp-mod-dirty\b"), timeout=20_000)
    button = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jupyter-widgets button", has_text="Check again")
    button.click()
    expect(button).to_be_enabled(timeout=120_000)
    note = bl.check_panel(page).locator(".course-check-note")
    expect(note).to_contain_text("work/server.js is older than the cell that writes it")
    expect(note).to_contain_text("%%node --save work/server.js")


def test_the_panel_renders_after_save_and_reload(learner):
    page, rel = learner
    bl.save(page)
    before = bl.kernel_infos(page)
    page.reload()
    bl.wait_open(page, rel.rsplit("/", 1)[-1], before)
    expect(bl.check_panel(page)).to_be_visible()
    expect(bl.check_panel(page).locator(".course-check-test--fail")).to_have_count(2)
    expect(page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")).not_to_contain_text(WIDGET_ERROR)


def test_the_panel_renders_when_the_saved_notebook_is_reopened_with_a_new_kernel(learner, lab):
    page, rel = learner
    lab.end_sessions()  # tomorrow: yesterday's kernel, and the panel's live widgets, are gone
    before = bl.kernel_infos(page)
    page.reload()
    bl.wait_open(page, rel.rsplit("/", 1)[-1], before)
    panel = bl.check_panel(page)
    expect(panel).to_be_visible()
    expect(panel.locator(".course-check-test--fail")).to_have_count(2)
    expect(page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")).not_to_contain_text(WIDGET_ERROR)


def test_the_solution_shows_a_green_panel(page, lab):
    rel = lab.copy(SOLUTION, SOLUTION)
    bl.open_notebook(page, lab, rel)
    bl.run_all(page)
    panel = bl.check_panel(page)
    expect(panel).to_have_class(re.compile(r"\bcourse-check--pass\b"))
    expect(panel.locator(".course-check-header")).to_contain_text("3/3 points")
    expect(panel.locator(".course-check-test--pass")).to_have_count(3)
    expect(panel.locator(".course-check-test--fail")).to_have_count(0)
    cell = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell").last
    expect(cell.locator(".jp-OutputArea-executeResult")).to_have_count(0)
    expect(cell).not_to_contain_text("ChecksFailed")
