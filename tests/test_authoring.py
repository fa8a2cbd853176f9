"""Notebooks are the source: pairs, stable ids, kernel metadata, stored outputs, the index."""
from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course.authoring import refresh, sync
from course.errors import CourseError
from course.grading import build, spec

from helpers import REPO

COURSE = [sys.executable, "-m", "course"]
LESSON = REPO / "notebooks" / "03-go" / "02-goroutines.ipynb"  # has outputs and a figure
SECTIONS_WITH_FIGURES = ("01-nodejs", "02-python", "03-go", "06-worker-threads", "08-troubleshooting")


@pytest.fixture
def project(tmp_path):
    """A scratch copy of the course's pairing set-up: jupytext.toml + notebooks/ + solutions/."""
    shutil.copy(REPO / "jupytext.toml", tmp_path / "jupytext.toml")
    (tmp_path / "notebooks").mkdir()
    for suffix in (".ipynb", ".md"):
        shutil.copy(LESSON.with_suffix(suffix), tmp_path / "notebooks" / f"lesson{suffix}")
    return tmp_path


def _touch_newer(newer: Path, older: Path) -> None:
    st = older.stat()
    os.utime(newer, (st.st_atime + 10, st.st_mtime + 10))


def _cells(path: Path):
    return nbformat.read(path, as_version=4).cells


# --------------------------------------------------------------------------- pairs and ids


def test_every_notebook_is_paired_and_in_sync():
    changes, problems = sync.sync(check=True)
    assert not problems and not changes, "\n".join(map(str, problems)) + "\n".join(changes)
    for _, md in sync.pairs():
        assert md.exists(), f"{md} missing"
    assert not list((REPO / "exercises").glob("*/*.md")), "exercises/ is generated and never paired"
    assert not (REPO / "tools" / "lessons").exists() and not (REPO / "tools" / "exercises").exists()


def test_an_edit_in_the_md_reaches_the_notebook_and_keeps_ids_and_outputs(project):
    ipynb, md = project / "notebooks" / "lesson.ipynb", project / "notebooks" / "lesson.md"
    before = _cells(ipynb)
    text = md.read_text()
    # insert a markdown cell and a code cell after the first code cell, and edit the last code cell
    first_code_end = text.index("```\n", text.index("```{code-cell}")) + 4
    text = (text[:first_code_end] + "\n+++\n\nA new paragraph, written in a text editor.\n\n"
            "```{code-cell} ipython3\nprint('a new cell')\n```\n" + text[first_code_end:])
    text = text.replace("%stop --all", "%stop --all  # the end")
    md.write_text(text)
    _touch_newer(md, ipynb)

    changes, problems = sync.sync_pair(ipynb, md, check=True)
    assert problems and "out of date with lesson.ipynb" in str(problems[0])
    assert "the .md is newer" in str(problems[0]) and problems[0].cell is not None and problems[0].line

    changes, problems = sync.sync_pair(ipynb, md)
    assert not problems and any("lesson.ipynb" in c for c in changes)
    after = _cells(ipynb)
    assert len(after) == len(before) + 2
    old_ids = [c.id for c in before]
    kept = [c.id for c in after if c.id in old_ids]
    assert kept == old_ids, "every cell keeps its id, in order, when cells are inserted before it"
    new = [c for c in after if c.id not in old_ids]
    assert [c.source for c in new] == ["A new paragraph, written in a text editor.", "print('a new cell')"]
    assert all(re.fullmatch(r"[0-9a-f]{8}", c.id) for c in new), "new ids are derived from content"
    by_id = {c.id: c for c in before}
    for cell in after:
        if cell.cell_type == "code" and cell.id in by_id:
            if cell.source == by_id[cell.id].source:
                assert cell.outputs == by_id[cell.id].outputs, "unchanged cells keep their outputs"
            else:
                assert cell.outputs == [] and cell.execution_count is None, "an edited cell loses stale outputs"
    # idempotent: a second sync changes nothing, and the check agrees
    assert sync.sync_pair(ipynb, md) == ([], [])
    assert sync.sync_pair(ipynb, md, check=True) == ([], [])


def test_an_edit_in_jupyterlab_without_jupytext_rewrites_the_md(project):
    ipynb, md = project / "notebooks" / "lesson.ipynb", project / "notebooks" / "lesson.md"
    nb = nbformat.read(ipynb, as_version=4)
    cell = nbformat.v4.new_code_cell("print('added in JupyterLab')")
    cell.id = "0f6b3a9e-4c1d-4a57-9a55-6b0f3e1c2d4a"  # JupyterLab's ids are uuids: kept once assigned
    nb.cells.insert(3, cell)
    nbformat.write(nb, ipynb)
    _touch_newer(ipynb, md)
    changes, problems = sync.sync_pair(ipynb, md)
    assert not problems and any("lesson.md" in c for c in changes)
    assert "print('added in JupyterLab')" in md.read_text()
    assert _cells(ipynb)[3].id == cell.id


def test_check_names_file_cell_and_line_of_an_out_of_date_pair(project):
    md = project / "notebooks" / "lesson.md"
    md.write_text(md.read_text().replace("%stop --all", "%stop --all  # edited"))
    out = subprocess.run(COURSE + ["sync", "--check", str(project / "notebooks")], capture_output=True, text=True)
    assert out.returncode == 1
    line = next(n for n, text in enumerate(md.read_text().splitlines(), 1) if "%stop --all" in text) - 1
    last = len(_cells(project / "notebooks" / "lesson.ipynb"))
    assert f"lesson.md:{line}: cell {last}: out of date with lesson.ipynb" in out.stdout, out.stdout
    assert "`%stop --all  # edited`" in out.stdout and "`%stop --all`" in out.stdout


@pytest.mark.parametrize("break_it, where", [
    # the closing fence of a code cell in the middle is lost: the next cell's fence is inside it
    (lambda t: t.replace("print(\"the bounded versions are built in\", bound_dir)\n```\n",
                         "print(\"the bounded versions are built in\", bound_dir)\n", 1), "bound_dir = tempfile"),
    # the last cell is never closed
    (lambda t: t.rstrip().removesuffix("```") + "\n", "%stop --all"),
])
def test_a_broken_cell_fence_is_named(project, break_it, where):
    ipynb, md = project / "notebooks" / "lesson.ipynb", project / "notebooks" / "lesson.md"
    md.write_text(break_it(md.read_text()))
    lines = md.read_text().splitlines()
    first_line_of_cell = next(k for k, text in enumerate(lines, 1) if where in text)
    opened = max(n for n, text in enumerate(lines, 1) if text.startswith("```{code-cell}") and n < first_line_of_cell)
    for check in (True, False):
        changes, problems = sync.sync_pair(ipynb, md, check=check)
        assert changes == [] and len(problems) == 1
        p = problems[0]
        assert p.line == opened and p.cell is not None, str(p)
        assert "never closed" in p.message
        assert str(p).startswith(f"{md}:{opened}: cell {p.cell}:")
    out = subprocess.run(COURSE + ["sync", "--check", str(md)], capture_output=True, text=True)
    assert out.returncode == 1 and f"lesson.md:{opened}: cell" in out.stdout


def test_an_exercise_without_a_checks_cell_is_named_by_sync_and_build(tmp_path):
    shutil.copy(REPO / "jupytext.toml", tmp_path)
    solutions = tmp_path / "solutions" / "01-nodejs"
    solutions.mkdir(parents=True)
    src = REPO / "solutions" / "01-nodejs" / "01-express-user-lookup.ipynb"
    nb = nbformat.read(src, as_version=4)
    checks = next(n for n, c in enumerate(nb.cells, 1) if "checks" in c.metadata.get("tags", []))
    nb.cells[checks - 1].metadata["tags"] = []
    target = solutions / src.name
    nbformat.write(nb, target)
    changes, problems = sync.sync([target], check=True)
    assert [p.path for p in problems] == [target]
    assert "no code cell tagged `checks`" in problems[0].message
    assert f"cell {checks} defines @test functions: tag it `checks`" in problems[0].message
    with pytest.raises(CourseError, match=rf"{re.escape(str(target))}: no code cell tagged `checks`.*cell {checks} "):
        build.build(check=True, exercises=tmp_path / "exercises", solutions=tmp_path / "solutions")


def test_normalised_metadata_is_what_ipykernel_reports():
    """JupyterLab writes the kernel's kernel_info reply into the notebook on opening and marks it
    modified if it differs; the stored values are that reply on the reference Python."""
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3")
    try:
        reply = kc.kernel_info(reply=True)["content"]
        spec_ = km.kernel_spec
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    info = dict(reply["language_info"])
    assert {k: v for k, v in info.items() if k != "version"} == \
        {k: v for k, v in sync.LANGUAGE_INFO.items() if k != "version"}
    assert sync.KERNELSPEC == {"name": "python3", "display_name": spec_.display_name, "language": spec_.language}
    assert re.fullmatch(r"3\.\d+\.\d+", sync.REFERENCE_PYTHON)
    for ipynb, _ in sync.pairs():
        meta = json.loads(ipynb.read_text())["metadata"]
        assert meta["kernelspec"] == sync.KERNELSPEC and meta["language_info"] == sync.LANGUAGE_INFO, ipynb


def test_opening_and_saving_in_jupyterlab_changes_no_file(tmp_path):
    """Through jupytext's contents manager, as JupyterLab saves: a notebook opened and saved
    (kernel metadata set as JupyterLab sets it, on this machine's Python) is byte-identical,
    and so is its .md — also when this Python is not the reference one (the pre-save hook)."""
    from jupyter_client.manager import start_new_kernel
    from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
    from jupytext.async_contentsmanager import build_async_jupytext_contents_manager_class

    for folder in ("notebooks", "solutions", "exercises"):
        shutil.copytree(REPO / folder, tmp_path / folder, ignore=shutil.ignore_patterns(
            "node_modules", "capstone", "work", ".ipynb_checkpoints"))
    shutil.copy(REPO / "jupytext.toml", tmp_path)
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        language_info = kc.kernel_info(reply=True)["content"]["language_info"]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    files = sorted(p for p in tmp_path.rglob("*")
                   if p.suffix in (".ipynb", ".md") and ".ipynb_checkpoints" not in p.parts)
    before = {p: p.read_bytes() for p in files}
    manager = build_async_jupytext_contents_manager_class(AsyncLargeFileManager)(
        root_dir=str(tmp_path), pre_save_hook="course.authoring.sync.pre_save_hook")
    kernelspec = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    dirtied = []

    async def open_and_save(version: str | None) -> None:
        for path in files:
            if path.suffix != ".ipynb":
                continue
            rel = str(path.relative_to(tmp_path))
            model = await manager.get(rel)
            meta = model["content"]["metadata"]
            info = {**language_info, **({"version": version} if version else {})}
            # JupyterLab's setMetadata is a no-op when the value is deep-equal
            for key, value in (("kernelspec", kernelspec), ("language_info", info)):
                if meta.get(key) != value:
                    meta[key] = value
                    dirtied.append((rel, key))
            await manager.save(model, rel)

    asyncio.run(open_and_save(None))
    changed = [str(p.relative_to(tmp_path)) for p in files if p.read_bytes() != before[p]]
    assert changed == []
    if language_info["version"] == sync.REFERENCE_PYTHON:
        assert dirtied == [], "on the reference Python, JupyterLab finds nothing to change"
    asyncio.run(open_and_save("3.99.0"))  # another Python: JupyterLab changes the metadata ...
    changed = [str(p.relative_to(tmp_path)) for p in files if p.read_bytes() != before[p]]
    assert changed == [], "... and the pre-save hook keeps the files as they were"


# --------------------------------------------------------------------------- outputs


def _lessons():
    return sorted(p for p in (REPO / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def test_lessons_ship_with_their_outputs_and_figures():
    figures: dict[str, int] = {}
    for path in _lessons():
        nb = nbformat.read(path, as_version=4)
        codes = [c for c in nb.cells if c.cell_type == "code"]
        counts = [c.execution_count for c in codes]
        assert counts == list(range(1, len(codes) + 1)), f"{path}: not executed by `course refresh` since its last edit"
        for c in codes:
            assert not any(o.output_type == "error" for o in c.outputs), f"{path}: cell {c.id} stored an error"
            assert not any(a.output_type == b.output_type == "stream" and a.name == b.name
                           for a, b in zip(c.outputs, c.outputs[1:], strict=False)), f"{path}: {c.id} chunks not merged"
            if "NBVAL_CHECK_OUTPUT" in c.source:
                assert c.outputs, f"{path}: cell {c.id} is compared by nbval but has no stored output"
        shown = sum(1 for c in codes if c.outputs)
        assert shown >= 0.8 * len(codes), (
            f"{path}: only {shown} of {len(codes)} code cells store an output; a learner opening it sees "
            "empty cells (print what a set-up cell made, then `course refresh` it)")
        section = path.parent.name
        figures[section] = figures.get(section, 0) + sum(
            1 for c in codes for o in c.outputs if "image/png" in o.get("data", {}))
    for section in SECTIONS_WITH_FIGURES:
        assert figures.get(section, 0) >= 1, f"section {section} shows no figure"
    index = nbformat.read(REPO / "notebooks" / "index.ipynb", as_version=4)
    doctor = next(c for c in index.cells if "toolchains.doctor()" in c.source)
    assert doctor.outputs, "the index's doctor cell shows what it printed"


def test_exercises_ship_clean():
    for path in sorted((REPO / "exercises").glob("*/*.ipynb")):
        for c in nbformat.read(path, as_version=4).cells:
            if c.cell_type == "code":
                assert c.outputs == [] and c.execution_count is None, f"{path}: {c.id}"


def test_refresh_stores_merged_numbered_outputs_and_a_figure(tmp_path, capfd):
    shutil.copy(REPO / "jupytext.toml", tmp_path)
    (tmp_path / "notebooks").mkdir()
    ipynb = tmp_path / "notebooks" / "tiny.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Tiny"),
                nbformat.v4.new_code_cell("import sys, time\nfor i in range(3):\n    print(i, flush=True)\n"
                                          "    time.sleep(0.05)"),
                nbformat.v4.new_code_cell("class Thing: pass\nThing()"),
                nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.show()")]
    nbformat.write(nb, ipynb)
    result = refresh.refresh(ipynb, timeout=120)
    assert "without encryption" not in capfd.readouterr().err  # its kernel is on Unix sockets
    assert result["code_cells"] == 3 and result["with_output"] == 3 and result["figures"] == 1
    cells = _cells(ipynb)
    assert [c.execution_count for c in cells if c.cell_type == "code"] == [1, 2, 3]
    assert [o.output_type for o in cells[1].outputs] == ["stream"] and cells[1].outputs[0].text == "0\n1\n2\n"
    assert cells[2].outputs[0].data["text/plain"] == "<__main__.Thing>", "no memory address in stored reprs"
    assert (tmp_path / "notebooks" / "tiny.md").exists()
    assert sync.sync_pair(ipynb, ipynb.with_suffix(".md"), check=True) == ([], [])
    # a cell that raises: nothing is written, and the message names the cell
    nb = nbformat.read(ipynb, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("1 / 0"))
    nbformat.write(nb, ipynb)
    ipynb.with_suffix(".md").unlink()
    before = ipynb.read_text()
    with pytest.raises(refresh.RefreshError, match=r"cell 5 \(id [0-9a-f]{8}\) raised — nothing was written"):
        refresh.refresh(ipynb, timeout=120)
    assert json.loads(ipynb.read_text())["cells"][1]["outputs"] == json.loads(before)["cells"][1]["outputs"]


def test_refresh_only_touches_lessons():
    with pytest.raises(CourseError, match="only lessons"):
        refresh.lessons([REPO / "exercises"])
    assert len(refresh.lessons()) == len(_lessons())


# --------------------------------------------------------------------------- the index and links

MD_LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_index_links_every_lesson_and_every_exercise_to_a_notebook():
    index = REPO / "notebooks" / "index.md"
    targets = {(index.parent / url).resolve() for url in MD_LINK.findall(index.read_text())
               if not url.startswith(("http", "#"))}
    for lesson in _lessons():
        if lesson.name != "index.ipynb":
            assert lesson in targets, f"the index does not link {lesson.relative_to(REPO)}"
    for ex in spec.catalogue().values():
        assert ex.exercise_path.resolve() in targets, f"the index does not link {ex.exercise_path.relative_to(REPO)}"


def test_every_relative_link_in_a_lesson_is_a_file():
    for _, md in sync.pairs([REPO / "notebooks"]):
        for url in MD_LINK.findall(md.read_text()):
            if url.startswith(("http://", "https://", "mailto:", "#")):
                continue
            target = (md.parent / url.split("#")[0]).resolve()
            assert target.is_file(), f"{md.relative_to(REPO)}: {url} is not a file (a folder gives 'File Load Error')"


def test_authoring_commands_teach_the_workflow():
    for command in ("sync", "refresh", "site"):
        out = subprocess.run(COURSE + [command, "--help"], capture_output=True, text=True)
        assert out.returncode == 0 and "example" in out.stdout, command
    out = subprocess.run(COURSE + ["sync", "--help"], capture_output=True, text=True).stdout
    assert "course sync" in out and "course build" in out and "commit" in out


def test_a_tag_added_in_the_md_reaches_the_notebook_with_its_outputs(project):
    ipynb, md = project / "notebooks" / "lesson.ipynb", project / "notebooks" / "lesson.md"
    before = _cells(ipynb)
    n = next(i for i, c in enumerate(before) if c.metadata.get("tags") == ["nbval-check-output"])
    md.write_text(md.read_text().replace(":tags: [nbval-check-output]", ":tags: [nbval-check-output, slow]", 1))
    _touch_newer(md, ipynb)
    _, problems = sync.sync_pair(ipynb, md, check=True)
    assert problems[0].cell == n + 1 and "cell metadata" in problems[0].message and "'slow'" in problems[0].message
    sync.sync_pair(ipynb, md)
    after = _cells(ipynb)[n]
    assert after.metadata["tags"] == ["nbval-check-output", "slow"]
    assert after.outputs == before[n].outputs and after.id == before[n].id
