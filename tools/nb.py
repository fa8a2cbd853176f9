"""Write a notebook from a list of (kind, source) pairs with stable cell ids and no outputs.

Lessons are authored as Python lists here rather than by hand-editing JSON: ids are
derived from position (no random-id churn), outputs are never committed, and the
kernelspec is always the course's ``python3``.
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat


def build(cells: list[tuple[str, str]], *, tags: dict[int, list[str]] | None = None,
          metadata: dict | None = None) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
        "language_info": {"name": "python"},
        **(metadata or {}),
    }
    for i, (kind, source) in enumerate(cells):
        make = nbformat.v4.new_markdown_cell if kind == "md" else nbformat.v4.new_code_cell
        cell = make(source.strip("\n"))
        cell["id"] = f"c{i:02d}"
        if tags and i in tags:
            cell.metadata["tags"] = tags[i]
        nb.cells.append(cell)
    return nb


def keep_checked_outputs(nb: nbformat.NotebookNode, executed: nbformat.NotebookNode) -> None:
    """Copy outputs back only for ``# NBVAL_CHECK_OUTPUT`` cells: those are the outputs
    that teach something and are stable, so nbval compares them; everything else stays
    empty (no ports, pids or timings in git)."""
    for cell, ran in zip(nb.cells, executed.cells):
        if cell.cell_type == "code" and "NBVAL_CHECK_OUTPUT" in cell.source:
            cell.outputs = coalesce_streams([o for o in ran.outputs if o.output_type != "error"])


def coalesce_streams(outputs: list) -> list:
    """Merge consecutive stdout (or stderr) chunks into one output. How a stream is chunked
    depends on timing, so without this a rebuild churns the diff (nbval merges them anyway)."""
    merged: list = []
    for out in outputs:
        prev = merged[-1] if merged else None
        if (out.output_type == "stream" and prev is not None and prev.output_type == "stream"
                and prev.name == out.name):
            text = "".join(prev.text) + "".join(out.text)
            prev.text = text
        else:
            merged.append(out)
    return merged


def write(path: str | Path, cells, *, execute: bool = True, **kw) -> None:
    """Write the notebook; execute it first (unless told not to) and keep the checked outputs."""
    import copy

    from nbclient import NotebookClient

    path = Path(path)
    nb = build(cells, **kw)
    nbformat.validate(nb)
    path.parent.mkdir(parents=True, exist_ok=True)
    if execute:
        executed = copy.deepcopy(nb)
        NotebookClient(executed, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        keep_checked_outputs(nb, executed)
    # nbval skips a cell with outputs but no execution count; number them in order (stable)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    for n, cell in enumerate(code_cells, 1):
        cell.execution_count = n
        for out in cell.outputs:
            if "execution_count" in out:
                out["execution_count"] = n
    nbformat.write(nb, str(path))


if __name__ == "__main__":  # pragma: no cover
    sys.exit("import this module from a notebook-building script")
