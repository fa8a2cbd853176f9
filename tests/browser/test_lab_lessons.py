"""Reading and running lessons: opening one changes nothing, and a server cell shows it is up."""
from __future__ import annotations

import re

import nbformat
import pytest

import browser_lab as bl

expect = pytest.importorskip("playwright.sync_api").expect

LESSON = "notebooks/03-go/02-goroutines.ipynb"  # outputs, figures, Go cells: much for JupyterLab to "fix"


def test_opening_a_lesson_does_not_mark_it_modified(page, lab):
    files = [bl.REPO / LESSON, (bl.REPO / LESSON).with_suffix(".md")]
    before = [f.read_bytes() for f in files]
    bl.open_notebook(page, lab, LESSON)
    page.wait_for_timeout(6000)  # longer than course lab's autosave interval
    assert not bl.is_dirty(page), "opening the lesson marked it modified"
    assert [f.read_bytes() for f in files] == before, "opening the lesson rewrote it"


def test_a_node_serve_cell_shows_that_its_server_is_up(page, lab):
    index = nbformat.read(bl.REPO / "notebooks" / "index.ipynb", as_version=4)
    load = next(c for c in index.cells if c.cell_type == "code" and c.source.startswith("%load_ext course"))
    serve = next(c for c in index.cells if c.cell_type == "code" and c.source.startswith("%%node --serve"))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c.source) for c in (load, serve)],
                                  metadata=index.metadata)
    target = lab.scratch / "serve.ipynb"
    nbformat.write(nb, target)
    bl.open_notebook(page, lab, str(target.relative_to(bl.REPO)))
    bl.run_all(page)
    name = re.search(r"--serve (\S+)", serve.source).group(1)
    output = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell").last.locator(".jp-OutputArea-output")
    expect(output).to_contain_text(re.compile(rf"✓ Node\.js server '{name}' ready at http://127\.0\.0\.1:\d+"))
