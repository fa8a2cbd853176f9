"""``course grade``: grade a class's submissions in parallel, in a sandbox, against the
production checklist.

A submission is a learner's copy of ``exercises/`` (a folder) or one notebook. Every
notebook in it that is one of the course's exercises becomes a task; tasks go to
``--jobs`` long-lived worker processes (:mod:`.worker`). The submission itself is only
ever read: each notebook is copied into a private workspace first.

One broken submission never stops the batch: a worker that times out or dies is
killed (with its whole process group and cgroup) and replaced, and the submission
gets an ``error`` verdict that says what happened.
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
from . import export, sandbox, spec
from .commands import DEFAULT_CELL_TIMEOUT, DEFAULT_SUBMISSION_TIMEOUT, FORMATS
from .worker import PROTOCOL_PREFIX


@dataclasses.dataclass
class Task:
    index: int
    learner: str
    source: Path  # the learner's notebook (read only)
    exercise_id: str | None
    workspace: Path
    problem: str | None = None  # why it cannot be graded at all (set before running)
    result: dict | None = None


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
            tasks.append(Task(len(tasks), name, sub, None, root, problem="no notebooks in this submission"))
            continue
        for nb_path in notebooks:
            task = Task(len(tasks), name, nb_path, None, root / name / nb_path.stem)
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
    if task.workspace.exists():
        shutil.rmtree(task.workspace)
    task.workspace.mkdir(parents=True)
    (task.workspace / ".tmp").mkdir()
    target = task.workspace / task.source.name
    nb = nbformat.read(task.source, as_version=4)
    ids = [c.get("id") for c in nb.cells]
    if len(set(ids)) != len(ids):  # duplicated cells: give the copy fresh ids (the original is untouched)
        for i, cell in enumerate(nb.cells):
            cell["id"] = f"graded-{i}"
    nbformat.write(nb, target)


class Worker:
    """One worker process, with the sandbox's namespaces when available."""

    def __init__(self, root: Path, log: Path):
        self.root = root
        self.log_path = log
        self.proc: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        argv = sandbox.jail_prefix(sandbox.writable_paths(self.root)) + [
            sys.executable, "-m", "course.grading.worker"]
        env = dict(os.environ)
        env.pop("COURSE_GRADING", None)
        env["TMPDIR"] = str(self.root / "tmp")  # writable inside the jail (the rest of / is not)
        (self.root / "tmp").mkdir(exist_ok=True)
        (self.root / "tmp").chmod(0o1777)
        with open(self.log_path, "ab") as log:
            self.proc = procs.spawn(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env,
                                    cwd=paths.REPO)

    def grade(self, task: Task, cell_timeout: float, limit: float) -> dict:
        message = {"index": task.index, "exercise_id": task.exercise_id, "workspace": str(task.workspace),
                   "notebook": task.source.name, "cell_timeout": cell_timeout}
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
        _remove_stale_cgroups()
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


def _remove_stale_cgroups() -> None:
    """Remove cgroups whose worker is gone (after a kill), with whatever they still hold."""
    if not sandbox.capabilities().cgroups:
        return
    for base in {sandbox.CGROUP_ROOTS[c] for c in ("pids", "memory", "v2") if sandbox.CGROUP_ROOTS[c].exists()}:
        for d in base.rglob("backend-lab-*"):
            worker_pid = d.name.split("-")[2] if d.name.count("-") >= 3 else ""
            if worker_pid.isdigit() and not os.path.exists(f"/proc/{worker_pid}"):
                for pid in (d / "cgroup.procs").read_text().split() if (d / "cgroup.procs").exists() else []:
                    try:
                        os.kill(int(pid), 9)
                    except (ProcessLookupError, ValueError):
                        pass
                time.sleep(0.1)
                try:
                    d.rmdir()
                except OSError:
                    pass


def grade(submissions: list[str | Path], *, jobs: int = 2, out: str | Path = "grades",
          formats: tuple[str, ...] = FORMATS, cell_timeout: float = DEFAULT_CELL_TIMEOUT,
          submission_timeout: float = DEFAULT_SUBMISSION_TIMEOUT, progress: bool = True) -> dict:
    """Grade every submission; write reports under ``out``; return the class summary."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise CourseError(f"unknown format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    if jobs < 1:
        raise CourseError("--jobs must be at least 1")
    started = time.monotonic()
    # Under the system temp folder, traversable by all: the embedded PostgreSQL of each
    # worker runs as an unprivileged user (it refuses root) and keeps its data in here.
    run_root = Path(tempfile.mkdtemp(prefix="backend-lab-grade-"))
    run_root.chmod(0o755)
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
             progress=progress)
        report = export.assemble(tasks, sandbox.capabilities().describe(), time.monotonic() - started)
        export.write_all(report, out, formats)
        return report
    finally:
        shutil.rmtree(run_root, ignore_errors=True)


def _run(tasks: list[Task], root: Path, *, jobs: int, cell_timeout: float, limit: float,
         progress: bool) -> None:
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
        worker = Worker(root, root / f"worker-{n}.log")
        try:
            while True:
                try:
                    task = todo.get_nowait()
                except queue.Empty:
                    return
                task.result = worker.grade(task, cell_timeout, limit)
                task.result.setdefault("exercise", task.exercise_id)
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


def cmd_grade(args) -> int:
    formats = tuple(f.strip() for f in args.format.split(",") if f.strip())
    report = grade(args.submissions, jobs=args.jobs, out=args.out, formats=formats,
                   cell_timeout=args.cell_timeout, submission_timeout=args.submission_timeout,
                   progress=not args.quiet)
    print(export.summary_table(report))
    print(f"\nreports in {args.out}/ ({', '.join(formats)}); took {report['duration_s']:.1f} s")
    return 0
