"""Grading on dask.distributed: an embedded local cluster, or workers on other machines.

``course grade --jobs N`` starts a ``LocalCluster`` of N worker processes; ``--scheduler
tcp://HOST:8786`` sends the same tasks to an existing cluster (``dask scheduler`` and
``dask worker`` on other machines, or a dask-gateway cluster on JupyterHub). Either way:

* a task is one submission: the learner's notebook travels in it, and nothing else —
  the instructor's checks (hidden tests included) are read on the worker, from its own
  course install, never shipped inside a learner's task;
* on every worker, :class:`GradingPlugin` keeps one grading process
  (:class:`~.process.GradingProcess`: the sandbox, an embedded PostgreSQL) and checks
  that the worker's course is the grader's (same version, same checks);
* a worker lost mid-task means the task is retried on another; a submission that kills
  its worker twice gets an ``error`` verdict that says so;
* Ctrl-C cancels everything and stops the grading on every worker: nothing is left.
"""
from __future__ import annotations

import dataclasses
import hashlib
import logging
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Callable, Iterable

from ..errors import CourseError
from .results import Graded, Verdict

PLUGIN = "backend-lab-grading"
ALLOWED_FAILURES = 1  # a task is tried again once after its worker died; the second death is its verdict


def identity() -> dict:
    """What must match between the grader and a worker: the course's version and its checks."""
    import course

    from . import spec

    digest = hashlib.sha256()
    for ex in sorted(spec.catalogue().values(), key=lambda e: e.id):
        digest.update(f"{ex.id}\0{ex.points}\0".encode())
        for source, hidden in ex.checks_parts():
            digest.update(f"{hidden}\0{source}\0".encode())
    return {"version": course.__version__, "checks": digest.hexdigest()[:16]}


@dataclasses.dataclass(frozen=True)
class Settings:
    """What every worker's grading process is started with."""

    identity: dict
    no_sandbox: bool = False
    database_url: str | None = None


def _worker_status(settings: Settings) -> dict:
    """On a worker: does its course match, and what sandbox can it make? (``client.run``)"""
    from ..sandbox import detect

    mine = identity()
    if mine != settings.identity:
        return {"error": f"its course (version {mine['version']}, checks {mine['checks']}) is not the grader's "
                         f"(version {settings.identity['version']}, checks {settings.identity['checks']}): "
                         "install the same course there"}
    try:
        return {"sandbox": detect.capabilities(no_sandbox=settings.no_sandbox).describe()}
    except CourseError as e:
        return {"error": str(e)}


try:
    from distributed.diagnostics.plugin import WorkerPlugin
except ImportError:  # pragma: no cover - distributed is a dependency; keep the module importable
    WorkerPlugin = object  # type: ignore[misc,assignment]


class GradingPlugin(WorkerPlugin):
    """On each worker: one grading process, started with the worker and stopped with it."""

    name = PLUGIN

    def __init__(self, settings: Settings):
        self.settings = settings

    def setup(self, worker=None):
        from .process import GradingProcess

        self.lock = threading.Lock()  # one submission at a time per worker
        self.root = Path(tempfile.mkdtemp(prefix="backend-lab-grade-"))
        self.grader = GradingProcess(self.root, no_sandbox=self.settings.no_sandbox,
                                     database_url=self.settings.database_url)

    def abort(self) -> None:
        """Stop whatever is being graded here now (Ctrl-C on the grader's side)."""
        self.grader.stop()
        self.grader.start()

    def teardown(self, worker=None):
        self.grader.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def grade_remote(payload: dict) -> Graded:
    """A task, run on a worker: grade one submission with the worker's own grading process."""
    from distributed import get_worker

    plugin = get_worker().plugins[PLUGIN]
    with plugin.lock:
        return plugin.grader.grade(payload)


def _abort_on_worker(dask_worker=None) -> None:
    plugin = dask_worker.plugins.get(PLUGIN) if dask_worker is not None else None
    if plugin is not None:
        plugin.abort()


def run(payloads: Iterable[tuple[object, dict]], *, settings: Settings, jobs: int, scheduler: str | None,
        on_result: Callable[[object, Graded], None]) -> dict:
    """Grade every ``(key, payload)`` on a cluster; ``on_result(key, result)`` as each finishes.

    Returns the workers' sandbox description (what every report states)."""
    import dask
    from distributed import Client, LocalCluster, as_completed
    from distributed.scheduler import KilledWorker

    payloads = list(payloads)
    config = {"distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
              "distributed.admin.tick.limit": "30s", "logging.distributed": "error"}
    with dask.config.set(config):
        cluster = None
        if scheduler is None:
            cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, memory_limit=0,
                                   dashboard_address=None, silence_logs=logging.ERROR)
        client = Client(scheduler or cluster, set_as_default=False)
        futures = {}
        try:
            if scheduler is not None:
                client.wait_for_workers(1, timeout=60)
            # the grading processes start (PostgreSQL, papermill's imports) while the workers are
            # asked whether they may grade at all: nothing reaches them before every answer is yes
            try:
                client.register_plugin(GradingPlugin(settings), name=PLUGIN)
                failed = None
            except Exception as e:  # noqa: BLE001 - a worker with another course: the check below says why
                failed = e
            statuses = client.run(_worker_status, settings)
            problems = [f"worker {addr}: {s['error']}" for addr, s in statuses.items() if "error" in s]
            if problems:
                raise CourseError("cannot grade on this cluster:\n  " + "\n  ".join(problems))
            if failed is not None:
                raise failed
            sandbox = next(iter(statuses.values()))["sandbox"]
            futures = {client.submit(grade_remote, payload, pure=False, key=f"grade-{i}-{id(payloads)}"): key
                       for i, (key, payload) in enumerate(payloads)}
            for future in as_completed(futures, loop=client.loop):
                key = futures[future]
                try:
                    result = future.result()
                except KilledWorker:
                    result = Graded.failed(Verdict(f"the submission killed its grading worker {ALLOWED_FAILURES + 1} "
                                                   "times (a crash or a limit of the worker's machine)"))
                except Exception as e:  # noqa: BLE001 - one task's failure never stops the batch
                    result = Graded.failed(Verdict(f"grader crashed: {type(e).__name__}: {e}", by_grader=True))
                on_result(key, result)
            return sandbox
        except BaseException:
            if futures:
                client.cancel(list(futures), force=True)
                try:
                    client.run(_abort_on_worker)
                except Exception:  # noqa: BLE001 - best effort while interrupted
                    pass
            raise
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
