"""``course refresh``: re-execute lessons and store what a learner sees.

Lessons ship with their outputs and figures, so they read well before anyone runs them —
in JupyterLab, on a code host's notebook viewer and on the course site. Each notebook runs
top to bottom in a fresh kernel started in its own folder (as nbval and learners run it);
its outputs replace the stored ones only if every cell succeeded.

What would churn without changing what a learner learns is normalised: stream chunks are
merged, execution counts are 1, 2, 3… in order, per-run cell metadata is dropped, and the
index's progress table is a new learner's (an empty progress file), not the author's.
Measurements (timings, ports, figures) are real and differ from run to run; cells whose
output is compared by nbval (``# NBVAL_CHECK_OUTPUT``) print only what is stable.
"""
from __future__ import annotations

import copy
import os
import re
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import nbformat

from .. import paths
from ..errors import CourseError
from . import sync

LESSONS = paths.REPO / "notebooks"
ADDRESS = re.compile(r" at 0x[0-9a-f]{6,16}>")  # default reprs: the address changes every run


class RefreshError(CourseError):
    pass


def lessons(targets: list[Path] | None = None) -> list[Path]:
    """The lesson notebooks under ``targets`` (default: all of notebooks/)."""
    found = []
    for target in (targets or [LESSONS]):
        target = Path(target).resolve()
        if target.suffix == ".md":
            target = target.with_suffix(".ipynb")
        if not target.is_relative_to(LESSONS.resolve()):
            raise RefreshError(f"{target}: only lessons (notebooks/) are refreshed — exercises ship without "
                               f"outputs and solutions are run by `course build`'s checks, not stored")
        if target.is_dir():
            found += [p for p in sorted(target.rglob("*.ipynb"))
                      if not set(p.relative_to(LESSONS.resolve()).parts) & sync.SKIP_PARTS]
        elif target.exists():
            found.append(target)
        else:
            raise RefreshError(f"{target}: no such notebook or folder")
    return found


@contextmanager
def _learner_environment():
    """What a new learner's machine has: no remembered exercise results."""
    saved = os.environ.get("COURSE_PROGRESS")
    with tempfile.TemporaryDirectory(prefix="course-refresh-") as tmp:
        os.environ["COURSE_PROGRESS"] = str(Path(tmp) / "progress.json")
        try:
            yield
        finally:
            if saved is None:
                os.environ.pop("COURSE_PROGRESS", None)
            else:
                os.environ["COURSE_PROGRESS"] = saved


def store_outputs(nb: nbformat.NotebookNode, executed: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``nb`` with ``executed``'s outputs, numbered in order, volatile bits normalised."""
    out = copy.deepcopy(nb)
    count = 0
    for cell, ran in zip(out.cells, executed.cells, strict=True):
        if cell.cell_type != "code":
            continue
        count += 1
        cell.execution_count = count
        outputs = sync.coalesce_streams(copy.deepcopy(ran.outputs))
        for o in outputs:
            if "execution_count" in o:
                o["execution_count"] = count
            if o.get("output_type") in ("execute_result", "display_data") and "text/plain" in o.get("data", {}):
                o["data"]["text/plain"] = ADDRESS.sub(">", "".join(o["data"]["text/plain"]))
            o.get("metadata", {}).pop("transient", None)
        cell.outputs = outputs
    return out


def refresh(path: Path, *, timeout: float = 600) -> dict:
    """Execute one lesson and store its outputs (both files of the pair stay in sync)."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    from .. import kernels

    md = path.with_suffix(".md")
    _, problems = sync.sync_pair(path, md)  # run what the author wrote last, .md or .ipynb
    if problems:
        raise sync.SyncError(problems)
    nb = sync.normalize(sync.read_ipynb(path), path)
    executed = copy.deepcopy(nb)
    for cell in executed.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    start = time.monotonic()
    client = NotebookClient(executed, timeout=timeout, kernel_name="python3", record_timing=False,
                            startup_timeout=120, resources={"metadata": {"path": str(path.parent)}},
                            kernel_manager_class=kernels.AsyncLocalKernelManager)  # Unix sockets, no TCP warning
    with _learner_environment():
        try:
            client.execute()
        except CellExecutionError as exc:
            index = next((i for i, c in enumerate(executed.cells)
                          if c.cell_type == "code" and any(o.get("output_type") == "error" for o in c.outputs)), None)
            where = f"cell {index + 1} (id {executed.cells[index].id})" if index is not None else "a cell"
            lines = str(exc).strip().splitlines()
            raise RefreshError(f"{sync._rel(path)}: {where} raised — nothing was written:\n  "
                               + "\n  ".join(lines[-6:])) from None
    stored = sync.normalize(store_outputs(nb, executed), path)
    path.write_text(sync.ipynb_text(stored), encoding="utf-8")
    md.write_text(sync.md_text(stored, md), encoding="utf-8")
    codes = [c for c in stored.cells if c.cell_type == "code"]
    return {"path": sync._rel(path), "seconds": time.monotonic() - start, "code_cells": len(codes),
            "with_output": sum(1 for c in codes if c.outputs),
            "figures": sum(1 for c in codes for o in c.outputs if "image/png" in o.get("data", {}))}


def cmd_refresh(args) -> int:
    targets = [Path(p) for p in args.paths] or None
    failed = 0
    for path in lessons(targets):
        try:
            r = refresh(path, timeout=args.timeout)
        except CourseError as exc:
            print(f"✗ {exc}")
            failed += 1
            continue
        print(f"✓ {r['path']}: {r['seconds']:.0f} s, {r['with_output']}/{r['code_cells']} code cells with output, "
              f"{r['figures']} figure(s)", flush=True)
    return 1 if failed else 0
