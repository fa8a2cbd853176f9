"""``course sync``: every notebook paired with its MyST Markdown twin, in a form that does not churn.

The pairs are declared in ``jupytext.toml`` (``notebooks/`` and ``solutions/``, never the
generated ``exercises/``). For each pair, ``course sync``:

- carries an edit from the newer file into the older one: a ``.md`` edited in a text editor
  updates the ``.ipynb`` (outputs of unchanged code cells kept), a notebook saved without
  jupytext's JupyterLab extension rewrites the ``.md``;
- writes the full kernel metadata that ipykernel reports (``kernelspec`` and ``language_info``),
  pinned to the course's reference Python, so JupyterLab finds nothing to change on opening;
- keeps cell ids: an id, once assigned, never changes, even when cells are inserted before
  it; a new cell's id is derived from its content (``sha1(type, source)[:8]``), never from its
  position;
- merges stream chunks and drops per-run cell metadata (timings), so re-running a lesson
  changes only what it shows.

``course sync --check`` changes nothing and fails, naming the file and the cell, when a pair
is out of date, a ``.md`` has a broken cell fence, or an exercise notebook is invalid.
"""
from __future__ import annotations

import copy
import dataclasses
import difflib
import hashlib
import re
from pathlib import Path

import jupytext
import nbformat
from jupytext.cell_metadata import _IGNORE_CELL_METADATA
from jupytext.config import load_jupytext_config
from jupytext.header import _DEFAULT_NOTEBOOK_METADATA
from jupytext.metadata_filter import restore_filtered_metadata

from .. import paths
from ..errors import CourseError

ROOTS = ("notebooks", "solutions")
TEXT_FORMAT = "md:myst"
SKIP_PARTS = {".ipynb_checkpoints", "work", "node_modules", "capstone", "_build", ".course"}

# What ipykernel's kernel_info reply says; JupyterLab writes exactly these on opening a
# notebook and marks it modified if they differ. The version is the course's reference
# Python (CI and the executed outputs use it), not whichever Python ran `course sync`, so
# that no two machines fight over it; the pre-save hook below keeps it on other Pythons.
REFERENCE_PYTHON = "3.11.7"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {
    "codemirror_mode": {"name": "ipython", "version": 3},
    "file_extension": ".py",
    "mimetype": "text/x-python",
    "name": "python",
    "nbconvert_exporter": "python",
    "pygments_lexer": "ipython3",
    "version": REFERENCE_PYTHON,
}
CELL_NOISE = ("execution", "ExecuteTime", "papermill")  # per-run timings, not content
NOTEBOOK_NOISE = ("papermill",)
VALID_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


@dataclasses.dataclass
class Problem:
    """Something ``course sync --check`` (or ``course build --check``) refuses, located."""

    path: Path
    message: str
    cell: int | None = None  # 1-based, as a person counts cells
    line: int | None = None  # in the .md

    def __str__(self) -> str:
        where = _rel(self.path) + (f":{self.line}" if self.line else "")
        cell = f" cell {self.cell}:" if self.cell else ""
        return f"{where}:{cell} {self.message}"


class SyncError(CourseError):
    """One or more problems; the message lists them all."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _rel(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(paths.REPO))
    except ValueError:
        return str(path)


# ---------------------------------------------------------------------------------------
# which files are pairs


def config_for(path: Path):
    """The jupytext configuration that applies to ``path`` (from ``jupytext.toml``)."""
    return load_jupytext_config(str(Path(path).resolve()))


def is_paired(path: Path) -> bool:
    config = config_for(path)
    return bool(config and config.default_formats(str(Path(path).resolve())))


def _looks_like_text_notebook(md: Path) -> bool:
    """A MyST notebook: front matter that names the format (however long its `course` block)."""
    text = md.read_text(encoding="utf-8")
    end = text.find("\n---", 3)
    return text.startswith("---") and "format_name: myst" in text[:end if end > 0 else 600]


def pairs(targets: list[Path] | None = None) -> list[tuple[Path, Path]]:
    """(ipynb, md) for every paired notebook under ``targets`` (files or folders; default:
    notebooks/ and solutions/). Either file may not exist yet."""
    targets = [Path(t) for t in targets] if targets else [paths.REPO / r for r in ROOTS]
    found: dict[Path, Path] = {}
    for target in targets:
        target = target.resolve()
        if target.is_file() or target.suffix in (".ipynb", ".md"):
            candidates = [target]
        elif target.is_dir():
            candidates = sorted([*target.rglob("*.ipynb"), *target.rglob("*.md")])
        else:
            raise CourseError(f"{target}: no such file or folder")
        for f in candidates:
            rel_parts = set(f.relative_to(paths.REPO).parts) if f.is_relative_to(paths.REPO) else set(f.parts)
            if rel_parts & SKIP_PARTS:
                continue
            if f.suffix == ".md" and f.exists() and not _looks_like_text_notebook(f):
                continue
            if not is_paired(f):
                if target == f:
                    raise CourseError(f"{_rel(f)} is not paired by jupytext.toml (only notebooks/ and "
                                      f"solutions/ are; exercises/ is generated by `course build`)")
                continue
            ipynb = f.with_suffix(".ipynb")
            found[ipynb] = f.with_suffix(".md")
    return sorted(found.items())


# ---------------------------------------------------------------------------------------
# reading a .md safely: fences first, so a broken one is named instead of silently merging cells

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
CELL_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*\{(code-cell|raw-cell)\}")
MARKDOWN_BREAK = re.compile(r"^\+\+\+(\s.*)?$")


def scan_md(text: str, path: Path) -> tuple[list[int], list[Problem]]:
    """The first line of every cell (as jupytext splits a MyST notebook), and fence problems.

    A cell fence that never closes, or a ```{code-cell} line inside a fence that is still
    open (the previous fence lost its closing ```), is a problem naming the cell and line.
    """
    lines = text.splitlines()
    starts: list[int] = []
    problems: list[Problem] = []
    i = 0
    if lines and lines[0].strip() == "---":  # front matter
        i = 1
        while i < len(lines) and lines[i].strip() != "---":
            i += 1
        i += 1
    fence = None  # (char, length, line, is_cell, cell number)
    in_markdown = False
    while i < len(lines):
        line, number = lines[i], i + 1
        if fence is None:
            m = FENCE.match(line)
            if m and not (m.group(1)[0] == "`" and "`" in m.group(2)):
                is_cell = bool(CELL_FENCE.match(line))
                if is_cell:
                    starts.append(number)
                    in_markdown = False
                elif not in_markdown:
                    starts.append(number)
                    in_markdown = True
                fence = (m.group(1)[0], len(m.group(1)), number, is_cell, len(starts))
            elif MARKDOWN_BREAK.match(line):
                in_markdown = False
            elif line.strip() and not in_markdown:
                starts.append(number)
                in_markdown = True
        else:
            char, length, opened, is_cell, cell = fence
            closing = re.match(rf"^ {{0,3}}{re.escape(char)}{{{length},}}\s*$", line)
            if closing:
                fence = None
                if is_cell:
                    in_markdown = False
            elif CELL_FENCE.match(line):
                what = "cell fence" if is_cell else "fence"
                problems.append(Problem(path, f"a {{code-cell}} fence starts inside the {what} opened on line "
                                              f"{opened}, which is never closed: add its closing "
                                              f"{char * length} before line {number}", cell=cell, line=opened))
                fence = None
                continue  # re-read this line as the start of a new cell
        i += 1
    if fence is not None:
        char, length, opened, is_cell, cell = fence
        what = "cell fence" if is_cell else "fence"
        problems.append(Problem(path, f"the {what} opened here is never closed (add a line {char * length})",
                                cell=cell, line=opened))
    return starts, problems


def read_md(md: Path) -> tuple[nbformat.NotebookNode, list[int]]:
    """The notebook a MyST ``.md`` holds, and each cell's first line; raises on broken fences."""
    text = md.read_text(encoding="utf-8")
    starts, problems = scan_md(text, md)
    if problems:
        raise SyncError(problems)
    try:
        nb = jupytext.reads(text, fmt=TEXT_FORMAT, config=config_for(md))
    except Exception as exc:  # noqa: BLE001 - jupytext raises many types; any of them must name the file
        raise SyncError([Problem(md, f"jupytext cannot read it: {exc}")]) from None
    if len(starts) != len(nb.cells):
        starts = []  # our count disagrees with jupytext's: give no line numbers rather than wrong ones
    return nb, starts


def read_ipynb(path: Path) -> nbformat.NotebookNode:
    try:
        return nbformat.read(path, as_version=4)
    except Exception as exc:  # noqa: BLE001 - bad JSON, bad schema, bad encoding: all named the same way
        raise SyncError([Problem(path, f"not a readable notebook: {exc}")]) from None


# ---------------------------------------------------------------------------------------
# the canonical form


def content_id(cell, taken: set[str], notebook: str = "") -> str:
    """An id derived from the cell's content (and the notebook it is born in, so that the same
    `%stop --all` in two lessons gets two ids: the site's anchors are project-wide), unique in
    its notebook. It is assigned once and then kept, whatever happens to the content."""
    digest = hashlib.sha1(f"{notebook}\n{cell.cell_type}\n{cell.source}".encode()).hexdigest()[:8]
    candidate, n = digest, 2
    while candidate in taken:
        candidate, n = f"{digest}-{n}", n + 1
    return candidate


def coalesce_streams(outputs: list) -> list:
    """Merge consecutive stdout (or stderr) chunks into one output.

    How a stream is chunked depends on timing, so without this a re-run churns the diff
    (JupyterLab and nbval merge them anyway)."""
    merged: list = []
    for out in outputs:
        prev = merged[-1] if merged else None
        if (out.get("output_type") == "stream" and prev is not None and prev.get("output_type") == "stream"
                and prev.get("name") == out.get("name")):
            prev["text"] = "".join(prev["text"]) + "".join(out["text"])
        else:
            merged.append(out)
    return merged


def jupytext_metadata(path: Path) -> dict:
    """What jupytext's JupyterLab extension stores in ``metadata.jupytext`` of a paired notebook."""
    config = config_for(path)
    # reading the .md back gives the lexer of its ```{code-cell} lines, which the extension keeps
    meta = {"default_lexer": LANGUAGE_INFO["pygments_lexer"]}
    for key in ("notebook_metadata_filter", "cell_metadata_filter"):
        value = getattr(config, key, None) if config else None
        if value:
            meta[key] = value
    return meta


def normalize(nb: nbformat.NotebookNode, path: Path) -> nbformat.NotebookNode:
    """The canonical form of a notebook (a new object; ``nb`` is not changed)."""
    nb = copy.deepcopy(nb)
    nb.nbformat, nb.nbformat_minor = 4, max(5, nb.get("nbformat_minor", 5))
    meta = nb.metadata
    for key in NOTEBOOK_NOISE:
        meta.pop(key, None)
    meta["kernelspec"] = dict(KERNELSPEC)
    meta["language_info"] = copy.deepcopy(LANGUAGE_INFO)
    if is_paired(path):
        meta["jupytext"] = jupytext_metadata(path)
        if not meta["jupytext"]:
            meta.pop("jupytext")
    if isinstance(meta.get("course"), dict):  # jupytext cannot read `null` back from the .md header
        meta["course"] = {k: v for k, v in meta["course"].items() if v is not None}
    taken: set[str] = set()
    for cell in nb.cells:
        for key in CELL_NOISE:
            cell.metadata.pop(key, None)
        if not isinstance(cell.get("id"), str) or not VALID_ID.match(cell["id"]) or cell["id"] in taken:
            cell["id"] = content_id(cell, taken, _rel(path.with_suffix(".ipynb")))
        taken.add(cell["id"])
        if cell.cell_type == "code":
            cell.outputs = coalesce_streams(cell.get("outputs", []))
            for out in cell.outputs:
                out.pop("transient", None)
    return nb


def ipynb_text(nb: nbformat.NotebookNode) -> str:
    """The file as ``nbformat.write`` (and so Jupyter Server) writes it."""
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def md_text(nb: nbformat.NotebookNode, path: Path) -> str:
    return jupytext.writes(copy.deepcopy(nb), fmt=TEXT_FORMAT, config=config_for(path))


def _inputs(nb) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source) for c in nb.cells]


def merge(text_nb: nbformat.NotebookNode, old: nbformat.NotebookNode, path: Path) -> nbformat.NotebookNode:
    """The notebook whose inputs are ``text_nb``'s (read from the .md) and whose ids, outputs
    and unshown metadata come from ``old`` (the .ipynb), cell by cell.

    Cells are aligned by content (difflib): an unchanged cell keeps its id and outputs; an
    edited cell keeps its id and loses its outputs (they belong to the old code); an
    inserted cell gets a content-derived id; a deleted cell's id disappears with it.
    """
    config = config_for(path)
    cell_filter = (config.cell_metadata_filter if config else None) or None
    nb_filter = (config.notebook_metadata_filter if config else None) or None
    new = copy.deepcopy(text_nb)
    new.metadata = restore_filtered_metadata(new.metadata, old.metadata, nb_filter, _DEFAULT_NOTEBOOK_METADATA)
    new.metadata.pop("jupytext", None)
    for key in list(old.metadata):  # a key the .md shows but no longer has was deleted there
        if key in ("course",) and key not in text_nb.metadata:
            new.metadata.pop(key, None)
    matcher = difflib.SequenceMatcher(a=_inputs(old), b=_inputs(new), autojunk=False)
    taken = {c.get("id") for c in old.cells}
    fresh = []
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        for k in range(b1 - b0):
            cell = new.cells[b0 + k]
            source = old.cells[a0 + k] if (tag in ("equal", "replace") and a0 + k < a1) else None
            if source is not None and source.cell_type != cell.cell_type:
                source = None
            if source is None:
                fresh.append(cell)
                continue
            cell["id"] = source.get("id")
            cell.metadata = restore_filtered_metadata(cell.metadata, source.metadata, cell_filter,
                                                      _IGNORE_CELL_METADATA)
            if cell.cell_type == "code":
                if tag == "equal":
                    cell.outputs = copy.deepcopy(source.get("outputs", []))
                    cell.execution_count = source.get("execution_count")
                else:
                    cell.outputs, cell.execution_count = [], None
            if "attachments" in source and cell.cell_type != "code":
                cell["attachments"] = copy.deepcopy(source["attachments"])
    for cell in fresh:
        cell["id"] = content_id(cell, taken, _rel(path.with_suffix(".ipynb")))
        taken.add(cell["id"])
    return new


# ---------------------------------------------------------------------------------------
# one pair


def _first_difference(a: str, b: str) -> tuple[int, str, str]:
    la, lb = a.splitlines(), b.splitlines()
    for n, (x, y) in enumerate(zip(la, lb, strict=False), 1):
        if x != y:
            return n, x, y
    n = min(len(la), len(lb)) + 1
    return n, (la[n - 1] if n <= len(la) else "<end of file>"), (lb[n - 1] if n <= len(lb) else "<end of file>")


def _short(text: str, width: int = 70) -> str:
    text = text.strip().splitlines()[0] if text.strip() else "(empty)"
    return text if len(text) <= width else text[:width - 1] + "…"


def _describe_input_change(md_nb, seen, ipynb_nb, starts: list[int], md: Path) -> Problem:
    """The first difference between the .md (``md_nb``) and the .ipynb as the .md would show it
    (``seen``), located by cell number, id and line."""
    name = md.with_suffix(".ipynb").name
    a, b = _inputs(seen), _inputs(md_nb)
    for n, (x, y) in enumerate(zip(a, b, strict=False)):
        if x == y and seen.cells[n].metadata == md_nb.cells[n].metadata:
            continue
        if x[0] != y[0]:
            what = f"a {y[0]} cell in the .md, a {x[0]} cell in the .ipynb"
        elif x[1] != y[1]:
            la, lb = x[1].splitlines(), y[1].splitlines()
            k = next((i for i, (p, q) in enumerate(zip(la, lb, strict=False)) if p != q), min(len(la), len(lb)))
            ours = lb[k] if k < len(lb) else "<end of cell>"
            theirs = la[k] if k < len(la) else "<end of cell>"
            what = f"the .md has `{_short(ours)}`, the .ipynb has `{_short(theirs)}`"
        else:
            what = (f"cell metadata: the .md has {dict(md_nb.cells[n].metadata)}, "
                    f"the .ipynb has {dict(seen.cells[n].metadata)}")
        cell_id = ipynb_nb.cells[n].get("id") if n < len(ipynb_nb.cells) else "?"
        return Problem(md, f"out of date with {name} (id {cell_id}): {what}", cell=n + 1,
                       line=starts[n] if n < len(starts) else None)
    if len(a) != len(b):
        extra = "the .md" if len(b) > len(a) else "the .ipynb"
        n = min(len(a), len(b))
        return Problem(md, f"out of date with {name}: {extra} has {abs(len(a) - len(b))} more cell(s) from "
                           f"cell {n + 1} on", cell=n + 1, line=starts[n] if n < len(starts) else None)
    return Problem(md, f"out of date with {name}: the front matter's `course` block differs: the .md has "
                       f"{md_nb.metadata.get('course')}, the .ipynb has {seen.metadata.get('course')}", line=1)


def _validate_exercise(ipynb: Path, nb) -> list[Problem]:
    """Solutions are exercises (solutions/<section>/x.ipynb, or any notebook with a
    ``metadata.course`` block): their metadata, `checks` cell and final check call."""
    if "course" not in nb.metadata and ipynb.parent.parent.name != "solutions":
        return []
    from ..grading import spec  # light: no papermill

    try:
        spec.from_notebook(ipynb, nb)
    except CourseError as exc:
        cell = getattr(exc, "cell", None)
        message = str(exc)
        prefix = f"{ipynb}: "
        if message.startswith(prefix):
            message = message[len(prefix):]
        return [Problem(ipynb, message, cell=cell)]
    return []


def sync_pair(ipynb: Path, md: Path, *, check: bool = False) -> tuple[list[str], list[Problem]]:
    """Bring one pair together. Returns (what changed or would change, problems)."""
    changes: list[str] = []
    if not ipynb.exists() and not md.exists():
        return [], [Problem(ipynb, "neither the .ipynb nor the .md exists")]
    starts: list[int] = []
    md_nb = None
    if md.exists():
        try:
            md_nb, starts = read_md(md)
        except SyncError as exc:
            return [], exc.problems
    if not ipynb.exists():
        nb = merge(md_nb, nbformat.v4.new_notebook(), md)
        reason = f"created from {md.name} (no outputs yet: `course refresh {_rel(ipynb)}`)"
        source = "md"
    else:
        try:
            old = read_ipynb(ipynb)
        except SyncError as exc:
            return [], exc.problems
        source = "ipynb"
        reason = ""
        if md_nb is not None:
            current = normalize(old, ipynb)
            expected_md_nb = jupytext.reads(md_text(current, md), fmt=TEXT_FORMAT, config=config_for(md))
            same_inputs = (_inputs(expected_md_nb) == _inputs(md_nb)
                           and [c.metadata for c in expected_md_nb.cells] == [c.metadata for c in md_nb.cells]
                           and expected_md_nb.metadata.get("course") == md_nb.metadata.get("course"))
            if not same_inputs:
                md_time, ipynb_time = md.stat().st_mtime, ipynb.stat().st_mtime
                md_newer = md_time > ipynb_time
                if check:
                    problem = _describe_input_change(md_nb, expected_md_nb, current, starts, md)
                    problem.message += (
                        " — the .md is newer: `course sync` carries it into the .ipynb" if md_newer else
                        " — the .ipynb is newer: `course sync` rewrites the .md" if ipynb_time > md_time else
                        " — neither file is newer: `course sync` keeps the .ipynb's version (touch the .md "
                        "first to keep the .md's)")
                    return [], [problem]
                if md_newer:
                    source, reason = "md", f"inputs taken from the newer {md.name}"
        nb = merge(md_nb, old, md) if source == "md" else old
    nb = normalize(nb, ipynb)
    problems = _validate_exercise(ipynb, nb)
    want = {ipynb: ipynb_text(nb), md: md_text(nb, md)}
    for path, text in want.items():
        have = path.read_text(encoding="utf-8") if path.exists() else None
        if have == text:
            continue
        if have is None:
            why = reason if path == ipynb and reason else "missing"
        elif path == ipynb and source == "md":
            why = reason
        else:
            line, expected, found = _first_difference(text, have)
            why = f"line {line}: expected `{_short(expected)}`, found `{_short(found)}`"
        changes.append(f"{_rel(path)}: {why}")
        if not check:
            path.write_text(text, encoding="utf-8")
    return changes, problems


def sync(targets: list[Path] | None = None, *, check: bool = False) -> tuple[list[str], list[Problem]]:
    changes: list[str] = []
    problems: list[Problem] = []
    for ipynb, md in pairs(targets):
        c, p = sync_pair(ipynb, md, check=check)
        changes += c
        problems += p
    return changes, problems


def cmd_sync(args) -> int:
    targets = [Path(p) for p in args.paths] or None
    changes, problems = sync(targets, check=args.check)
    count = len(pairs(targets))
    if args.check:
        for p in problems:
            print(p)
        if changes:
            print("not in sync — run `course sync`:", *changes, sep="\n  ")
        if problems or changes:
            return 1
        print(f"✓ {count} notebooks in sync with their .md, metadata and ids normalised")
        return 0
    for c in changes:
        print("updated", c)
    for p in problems:
        print(p)
    if not changes and not problems:
        print(f"✓ {count} notebooks already in sync")
    return 1 if problems else 0


def pre_save_hook(model, **kwargs) -> None:
    """Jupyter Server pre-save hook (``course lab`` installs it): a notebook saved from
    JupyterLab keeps the course's pinned kernel metadata, so a learner or instructor on
    another Python version doesn't rewrite tracked files just by opening them."""
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return
    meta = model["content"].setdefault("metadata", {})
    spec = meta.get("kernelspec") or {}
    if spec.get("name") == KERNELSPEC["name"] and (meta.get("language_info") or {}).get("name") == "python":
        meta["kernelspec"] = dict(KERNELSPEC)
        meta["language_info"] = copy.deepcopy(LANGUAGE_INFO)
