"""``course grade``: grade a class's submissions in parallel, in a sandbox, against the
production checklist.

A submission is a learner's copy of ``exercises/`` (a folder) or one notebook. Every
notebook in it that is one of the course's exercises becomes a task; tasks go to
``--jobs`` long-lived worker processes (:mod:`.worker`). The submission itself is only
ever read: each notebook is copied into a private workspace first.

One broken submission never stops the batch: a worker that times out or dies is
killed (with its whole process group and cgroup) and replaced, and the submission
gets an ``error`` verdict that says what happened.

Learner code only ever runs in a sandbox (:mod:`course.sandbox`). Where none can be
made, grading stops before any notebook runs and says how to fix it, unless the
instructor chose ``--no-sandbox``; every report then says so.
"""
from __future__ import annotations

import dataclasses
import json
import os
import queue
import re
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat

from .. import paths, procs
from ..errors import CourseError
from ..sandbox import detect, limits
from . import export, spec
from .commands import DEFAULT_CELL_TIMEOUT, DEFAULT_SUBMISSION_TIMEOUT, FORMATS
from .worker import PROTOCOL_PREFIX


@dataclasses.dataclass
class Task:
    index: int
    learner: str
    source: Path  # the learner's notebook (read only)
    exercise_id: str | None
    workspace: Path  # the learner's copy; learner code may write here
    problem: str | None = None  # why it cannot be graded at all (set before running)
    result: dict | None = None

    @property
    def private(self) -> Path:
        """The grader's own folder for this task: beside, never inside, any workspace."""
        return self.workspace.parents[2] / "private" / str(self.index)


def _learner_name(path: Path) -> str:
    """A folder is named for its learner; a lone notebook keeps the exercise's file name,
    so its folder names the learner."""
    named = path.resolve().parent if path.is_file() else path.resolve()
    return re.sub(r"[^\w.-]+", "_", named.name) or "learner"


def collect(submissions: list[Path], root: Path) -> list[Task]:
    """Turn the submission arguments into tasks (one per exercise notebook found)."""
    tasks: list[Task] = []
    seen: dict[str, int] = {}
    for sub in submissions:
        if not sub.exists():
            raise CourseError(f"submission {sub} does not exist")
        name = _learner_name(sub)
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = f"{name}-{seen[name]}"
        notebooks = [sub] if sub.is_file() else sorted(
            p for p in sub.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        if not notebooks:
            tasks.append(Task(len(tasks), name, sub, None, root / "workspaces" / name / "-",
                              problem="no notebooks in this submission"))
            continue
        for nb_path in notebooks:
            task = Task(len(tasks), name, nb_path, None, root / "workspaces" / name / nb_path.stem)
            try:
                nb = nbformat.read(nb_path, as_version=4)
            except Exception as e:
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


def prepare_workspace(task: Task) -> None:
    """Copy the learner's notebook into a fresh workspace, repairing only what stops execution."""
    for d in (task.workspace, task.private):
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
    target = task.workspace / task.source.name
    nb = nbformat.read(task.source, as_version=4)
    ids = [c.get("id") for c in nb.cells]
    if len(set(ids)) != len(ids):  # duplicated cells: give the copy fresh ids (the original is untouched)
        for i, cell in enumerate(nb.cells):
            cell["id"] = f"graded-{i}"
    nbformat.write(nb, target)


class Worker:
    """One worker process, with the sandbox's namespaces when available."""

    def __init__(self, root: Path, log: Path, *, no_sandbox: bool, database_url: str | None = None):
        self.root = root
        self.log_path = log
        self.no_sandbox = no_sandbox
        self.database_url = database_url
        self.proc: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        argv = [sys.executable, "-m", "course.grading.worker"]
        env = dict(os.environ)
        env.pop("COURSE_GRADING", None)
        env["COURSE_GRADER_PRIVATE"] = str(self.root)
        if self.no_sandbox:
            env["COURSE_SANDBOX"] = "off"
        if self.database_url:
            env["COURSE_GRADER_DATABASE_URL"] = self.database_url
        with open(self.log_path, "ab") as log:
            self.proc = procs.spawn(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env,
                                    cwd=paths.REPO)

    def grade(self, task: Task, cell_timeout: float, limit: float) -> dict:
        message = {"index": task.index, "exercise_id": task.exercise_id, "workspace": str(task.workspace),
                   "private": str(task.private), "notebook": task.source.name, "cell_timeout": cell_timeout}
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write((json.dumps(message) + "\n").encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            return self._restart(f"error: the grading worker died before this submission "
                                 f"(see {self.log_path.name})")
        deadline = time.monotonic() + limit
        buffer = b""
        fd = self.proc.stdout.fileno()
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return self._restart(f"error: the submission took longer than {limit:g} s and was stopped")
            ready, _, _ = select.select([fd], [], [], min(remaining, 1.0))
            if not ready:
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return self._restart("error: the grading worker died (killed by a limit?) — "
                                     f"last log lines:\n{procs.tail(self.log_path, 5)}")
            buffer += chunk
            for line in buffer.split(b"\n")[:-1]:
                text = line.decode("utf-8", "replace")
                if text.startswith(PROTOCOL_PREFIX):
                    return json.loads(text[len(PROTOCOL_PREFIX):])
            buffer = buffer.split(b"\n")[-1]

    def _restart(self, verdict: str) -> dict:
        self.stop()
        limits.remove_stale_cgroups()
        self.start()
        return {"ok": False, "verdict": verdict, "results": []}

    def stop(self) -> None:
        if self.proc is not None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            procs.stop(self.proc, grace=3)
            self.proc = None


def grade(submissions: list[str | Path], *, jobs: int = 2, out: str | Path = "grades",
          formats: tuple[str, ...] = FORMATS, cell_timeout: float = DEFAULT_CELL_TIMEOUT,
          submission_timeout: float = DEFAULT_SUBMISSION_TIMEOUT, progress: bool | None = None,
          no_sandbox: bool = False, database_url: str | None = None) -> dict:
    """Grade every submission; write reports under ``out``; return the class summary.

    Raises :class:`~course.sandbox.detect.SandboxUnavailable` (naming the fix) before any
    learner code runs when no sandbox can be made here, unless ``no_sandbox``.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise CourseError(f"unknown format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    if jobs < 1:
        raise CourseError("--jobs must be at least 1")
    caps = detect.capabilities(no_sandbox=no_sandbox)
    if progress is None:
        progress = sys.stderr.isatty()
    started = time.monotonic()
    run_root = Path(tempfile.mkdtemp(prefix="backend-lab-grade-"))  # 0700: the grader's alone
    out = Path(out)
    try:
        tasks = collect([Path(s) for s in submissions], run_root)
        runnable = [t for t in tasks if t.problem is None]
        for t in tasks:
            if t.problem is not None:
                t.result = {"ok": False, "verdict": f"error: {t.problem}", "results": [],
                            "exercise": t.exercise_id}
            else:
                prepare_workspace(t)
        _run(runnable, run_root, jobs=jobs, cell_timeout=cell_timeout, limit=submission_timeout,
             progress=progress, no_sandbox=not caps.sandboxed, database_url=database_url)
        limits.remove_stale_cgroups()  # of submissions whose grading child is gone
        report = export.assemble(tasks, caps.describe(), time.monotonic() - started)
        export.write_all(report, out, formats)
        return report
    finally:
        shutil.rmtree(run_root, ignore_errors=True)


def _run(tasks: list[Task], root: Path, *, jobs: int, cell_timeout: float, limit: float,
         progress: bool, no_sandbox: bool, database_url: str | None) -> None:
    if not tasks:
        return
    todo: queue.Queue[Task] = queue.Queue()
    for t in tasks:
        todo.put(t)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(tasks), unit="notebook", desc="grading", file=sys.stderr)
    lock = threading.Lock()

    def serve(n: int) -> None:
        worker = Worker(root, root / f"worker-{n}.log", no_sandbox=no_sandbox, database_url=database_url)
        try:
            while True:
                try:
                    task = todo.get_nowait()
                except queue.Empty:
                    return
                task.result = worker.grade(task, cell_timeout, limit)
                task.result.setdefault("exercise", task.exercise_id)
                shutil.rmtree(task.workspace, ignore_errors=True)  # what it wrote, gone now
                shutil.rmtree(task.private, ignore_errors=True)
                if bar is not None:
                    with lock:
                        bar.set_postfix_str(f"{task.learner}/{task.exercise_id}", refresh=False)
                        bar.update(1)
        finally:
            worker.stop()

    threads = [threading.Thread(target=serve, args=(n,), daemon=True) for n in range(min(jobs, len(tasks)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if bar is not None:
        bar.close()


GRADER_FAILURES = ("error: grader crashed", "error: the exercise's checks failed to load",
                   "error: the grading worker died before")


def grader_failures(report: dict) -> list[str]:
    """Errors of the grader itself (not of learners): the reason for a non-zero exit."""
    return [f"{l['name']}/{ex['id']}: {ex['message']}" for l in report["learners"] for ex in l["exercises"]
            if (ex["message"] or "").startswith(GRADER_FAILURES)]


def cmd_grade(args) -> int:
    formats = tuple(f.strip() for f in args.format.split(",") if f.strip())
    report = grade(args.submissions, jobs=args.jobs, out=args.out, formats=formats,
                   cell_timeout=args.cell_timeout, submission_timeout=args.submission_timeout,
                   progress=False if args.quiet else None, no_sandbox=args.no_sandbox,
                   database_url=args.database_url)
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
