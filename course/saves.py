"""Which cell wrote each ``--save`` file, so a check can tell when a file is older than its cell.

An exercise's checks run the *saved* file (``%%node --save work/server.js``), not the cell.
A learner who edits that cell and clicks "Check again" without re-running it checks the
previous code, and every failure then points at code that is no longer on the screen.

The kernel sees a cell only when it runs, so the edit is found in the notebook as last
saved: the magics :func:`remember` the cell (its id and source, from the execute request)
that wrote each file, and :func:`stale` compares those with the notebook on disk. A file
is stale when the saved notebook is newer than the file and its cell's source differs from
the source that wrote it. ``course lab`` autosaves every few seconds, so an edit is on disk
almost as soon as it is made. Front ends that send no cell id (nbclient, papermill) get no
warning, which is right: they run every cell in order.
"""
from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class Written:
    """A ``--save`` file and the cell that last wrote it."""

    path: Path  # absolute
    cell_id: str
    source: str  # the whole cell as it ran, magic line included


@dataclasses.dataclass(frozen=True)
class Stale:
    """A saved file older than the (edited) cell that writes it."""

    path: Path
    first_line: str  # the cell's magic line, as the learner sees it

    def message(self, base: Path | None = None) -> str:
        try:
            shown = self.path.relative_to((base or Path.cwd()).resolve())
        except ValueError:
            shown = self.path
        return (f"{shown} is older than the cell that writes it ({self.first_line}): the cell was edited "
                f"after it last ran, so these checks ran your previous code. Run that cell, then check again.")


_WRITTEN: dict[Path, Written] = {}


def remember(path: str | Path, *, cell_id: str | None = None, source: str | None = None) -> None:
    """Note that the running cell wrote ``path``. ``cell_id`` and ``source`` default to those
    of the execute request being handled (JupyterLab sends the cell's id with it)."""
    if cell_id is None or source is None:
        request = _current_request()
        cell_id = cell_id or (request.get("metadata") or {}).get("cellId")
        source = source if source is not None else (request.get("content") or {}).get("code")
    resolved = Path(path).resolve()
    if not cell_id or source is None:
        _WRITTEN.pop(resolved, None)  # written by a cell we can't find again: nothing to compare
        return
    _WRITTEN[resolved] = Written(resolved, cell_id, source)


def stale(notebook: str | Path | None = None) -> list[Stale]:
    """The remembered files older than their edited cells in ``notebook`` as saved (default:
    this kernel's notebook, which Jupyter Server names in ``JPY_SESSION_NAME``)."""
    notebook = notebook or os.environ.get("JPY_SESSION_NAME")
    if not notebook or not _WRITTEN:
        return []
    try:
        saved_at = os.stat(notebook).st_mtime_ns
        cells = {c.get("id"): c for c in json.loads(Path(notebook).read_text()).get("cells", [])}
    except (OSError, ValueError):
        return []  # renamed, deleted or half-written: no evidence either way
    found = []
    for w in _WRITTEN.values():
        cell = cells.get(w.cell_id)
        if cell is None:
            continue
        source = "".join(cell.get("source", ""))
        try:
            written_at = os.stat(w.path).st_mtime_ns
        except OSError:
            continue  # the check reports a missing file itself
        if source.rstrip() != w.source.rstrip() and saved_at > written_at:
            found.append(Stale(w.path, source.splitlines()[0] if source else "an empty cell"))
    return found


def forget() -> None:
    """Drop every record (tests; a fresh kernel starts empty anyway)."""
    _WRITTEN.clear()


def _current_request() -> dict:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency
        return {}
    shell = get_ipython()
    get_parent = getattr(shell, "get_parent", None)
    return (get_parent() or {}) if get_parent else {}
