"""``course grade``: grade a class's submissions in parallel, in a sandbox, against the
production checklist.

A submission is a learner's copy of ``exercises/`` (a folder) or one notebook. Every
notebook in it that is one of the course's exercises becomes a task; tasks go to Dask
workers (:mod:`.cluster`: an embedded cluster of ``--jobs`` processes, or a scheduler
elsewhere), each with its own grading process (:mod:`.process`, :mod:`.worker`). The
submission itself is only ever read: the notebook travels to a worker, which unpacks it
into a private workspace.

One broken submission never stops the batch: a grading process that times out or dies
is killed and replaced, a worker lost mid-task is replaced by another, and the
submission gets an ``error`` verdict that says what happened.

Learner code only ever runs in a sandbox (:mod:`course.sandbox`). Where none can be
made, grading stops before any notebook runs and says how to fix it, unless the
instructor chose ``--no-sandbox``; every report then says so.
"""
from __future__ import annotations

import dataclasses
import io
import os
import re
import tarfile
import sys
import time
from pathlib import Path

import nbformat

from ..errors import CourseError
from ..sandbox import detect, limits
from . import export, spec
from .commands import DEFAULT_CELL_TIMEOUT, DEFAULT_SUBMISSION_TIMEOUT, FORMATS
from .process import CAPSTONE  # the exercise id of a capstone app (graded against the checklist)
from .results import Graded, Verdict


APP_IGNORE = (".git", "node_modules", ".venv", "venv", "__pycache__", "target", "dist", "build", ".idea",
              ".vscode", ".ipynb_checkpoints")  # rebuilt on the worker, never shipped
APP_LIMIT = 50 << 20  # compressed bytes of one capstone's sources


@dataclasses.dataclass
class Task:
    index: int
    learner: str
    source: Path  # the learner's notebook, or capstone app folder (read only)
    exercise_id: str | None
    problem: str | None = None  # why it cannot be graded at all (set before running)
    result: Graded | None = None

    @property
    def capstone(self) -> bool:
        return self.exercise_id == CAPSTONE


def _apps(root: Path) -> list[Path]:
    """Capstone app folders under ``root``: folders with a Procfile (not inside another's)."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in APP_IGNORE)
        if "Procfile" in filenames:
            found.append(Path(dirpath))
            dirnames[:] = []
    return found


def _learner_name(path: Path) -> str:
    """A folder is named for its learner; a lone notebook keeps the exercise's file name,
    so its folder names the learner."""
    named = path.resolve().parent if path.is_file() else path.resolve()
    return re.sub(r"[^\w.-]+", "_", named.name) or "learner"


def collect(submissions: list[Path]) -> list[Task]:
    """Turn the submission arguments into tasks: one per exercise notebook found, and one per
    capstone app folder (a folder with a ``Procfile``: the submission itself, or inside it)."""
    tasks: list[Task] = []
    seen: dict[str, int] = {}
    for sub in submissions:
        if not sub.exists():
            raise CourseError(f"submission {sub} does not exist")
        name = _learner_name(sub)
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = f"{name}-{seen[name]}"
        apps = [] if sub.is_file() else _apps(sub)
        for app in apps:
            tasks.append(Task(len(tasks), name, app, CAPSTONE))
        notebooks = [sub] if sub.is_file() else sorted(
            p for p in sub.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
            and not any(a in p.parents for a in apps))
        if not notebooks and not apps:
            tasks.append(Task(len(tasks), name, sub, None, problem="no notebooks or capstone app in this submission"))
            continue
        for nb_path in notebooks:
            task = Task(len(tasks), name, nb_path, None)
            try:
                nb = nbformat.read(nb_path, as_version=4)
            except Exception as e:  # noqa: BLE001 - nbformat raises many kinds on a corrupt file
                # a corrupt file: find the exercise by its name alone, and report why it can't run
                try:
                    task.exercise_id = spec.identify(nb_path).id
                except CourseError:
                    continue
                task.problem = f"not a readable notebook: {type(e).__name__}: {str(e)[:200]}"
                tasks.append(task)
                continue
            try:
                task.exercise_id = spec.identify(nb_path, nb).id
            except CourseError:
                continue  # not one of ours (scratch notebooks in the learner's folder)
            if not nb.cells:
                task.problem = "the notebook is empty (no cells)"
            tasks.append(task)
    return tasks


def _pack(app: Path) -> bytes:
    """The app's sources as a gzipped tar (dependencies and build outputs left out: the worker
    rebuilds them); symbolic links go as links, and the worker's unpacking refuses any that
    points out of the app."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for dirpath, dirnames, filenames in os.walk(app):
            dirnames[:] = sorted(d for d in dirnames if d not in APP_IGNORE)
            for name in sorted(filenames):
                path = Path(dirpath, name)
                tar.add(path, arcname=str(path.relative_to(app)), recursive=False)
            if buffer.tell() > APP_LIMIT:
                raise CourseError(f"its sources are larger than {APP_LIMIT >> 20} MiB compressed "
                                  f"(without {', '.join(APP_IGNORE[:5])}…)")
    return buffer.getvalue()


def payload(task: Task, *, cell_timeout: float, submission_timeout: float,
            allow_network_for_build: bool = False) -> dict:
    """What travels to a worker for ``task``: the learner's notebook (ids repaired when duplicated,
    the only change, and to a copy) or the capstone app's sources, the exercise's id and the
    time limits — never the checks."""
    if task.capstone:
        return {"index": task.index, "exercise_id": CAPSTONE, "notebook": task.source.name,
                "content": _pack(task.source), "cell_timeout": cell_timeout,
                "submission_timeout": submission_timeout, "allow_network_for_build": allow_network_for_build}
    nb = nbformat.read(task.source, as_version=4)
    ids = [c.get("id") for c in nb.cells]
    if len(set(ids)) != len(ids):
        for i, cell in enumerate(nb.cells):
            cell["id"] = f"graded-{i}"
    return {"index": task.index, "exercise_id": task.exercise_id, "notebook": task.source.name,
            "content": nbformat.writes(nb).encode(), "cell_timeout": cell_timeout,
            "submission_timeout": submission_timeout}


def grade(submissions: list[str | Path], *, jobs: int = 2, out: str | Path = "grades",
          formats: tuple[str, ...] = FORMATS, cell_timeout: float = DEFAULT_CELL_TIMEOUT,
          submission_timeout: float = DEFAULT_SUBMISSION_TIMEOUT, progress: bool | None = None,
          no_sandbox: bool = False, database_url: str | None = None, scheduler: str | None = None,
          allow_network_for_build: bool = False) -> dict:
    """Grade every submission; write reports under ``out``; return the class summary.

    ``scheduler``: a Dask scheduler's address (workers elsewhere); otherwise an embedded
    cluster of ``jobs`` worker processes. Raises :class:`~course.errors.CourseError`
    (naming the fix) before any learner code runs when a worker can make no sandbox,
    unless ``no_sandbox``.
    """
    from . import cluster

    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise CourseError(f"unknown format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    if jobs < 1:
        raise CourseError("--jobs must be at least 1")
    if scheduler is None:
        detect.capabilities(no_sandbox=no_sandbox)  # no sandbox here: stop before starting any worker
    if progress is None:
        progress = sys.stderr.isatty()
    started = time.monotonic()
    tasks = collect([Path(s) for s in submissions])
    payloads = []
    for t in tasks:
        if t.problem is None:
            try:
                payloads.append((t, payload(t, cell_timeout=cell_timeout, submission_timeout=submission_timeout,
                                            allow_network_for_build=allow_network_for_build)))
            except (CourseError, OSError) as e:
                t.problem = f"cannot be sent for grading: {e}"
    runnable = [t for t, _ in payloads]
    for t in tasks:
        if t.problem is not None:
            t.result = Graded.failed(Verdict(t.problem), exercise=t.exercise_id)
    bar = None
    if progress and runnable:
        from tqdm import tqdm

        bar = tqdm(total=len(runnable), unit="notebook", desc="grading", file=sys.stderr)

    def done(task: Task, result: Graded) -> None:
        task.result = result
        result.exercise = result.exercise or task.exercise_id
        if bar is not None:
            bar.set_postfix_str(f"{task.learner}/{task.exercise_id}", refresh=False)
            bar.update(1)

    settings = cluster.Settings(cluster.identity(), no_sandbox=no_sandbox, database_url=database_url)
    try:
        if runnable:
            sandbox = cluster.run(payloads, settings=settings, jobs=min(jobs, len(runnable)), scheduler=scheduler,
                                  on_result=done)
        else:
            sandbox = detect.capabilities(no_sandbox=no_sandbox).describe()
    finally:
        if bar is not None:
            bar.close()
    limits.remove_stale_cgroups()  # of submissions whose grading child is gone
    report = export.assemble(tasks, sandbox, time.monotonic() - started)
    export.write_all(report, Path(out), formats)
    return report


def grader_failures(report: dict) -> list[str]:
    """Errors of the grader itself (not of learners): the reason for a non-zero exit."""
    return [f"{learner['name']}/{ex['id']}: {ex['message']}" for learner in report["learners"]
            for ex in learner["exercises"]
            if ex.get("grader_failed")]


def cmd_grade(args) -> int:
    formats = tuple(f.strip() for f in args.format.split(",") if f.strip())
    report = grade(args.submissions, jobs=args.jobs, out=args.out, formats=formats,
                   cell_timeout=args.cell_timeout, submission_timeout=args.submission_timeout,
                   progress=False if args.quiet else None, no_sandbox=args.no_sandbox,
                   database_url=args.database_url, scheduler=args.scheduler,
                   allow_network_for_build=args.allow_network_for_build)
    print(export.summary_table(report))
    print(f"\nreports in {args.out}/ ({', '.join(formats)}); took {report['duration_s']:.1f} s")
    if args.no_sandbox:
        print("WARNING: graded with --no-sandbox: learner code ran unconfined (every report says so)",
              file=sys.stderr)
    failures = grader_failures(report)
    if failures:
        print(f"error: the grader itself failed on {len(failures)} notebook(s):", file=sys.stderr)
        for f in failures[:10]:
            print(f"  {f}", file=sys.stderr)
        return 3
    return 0
