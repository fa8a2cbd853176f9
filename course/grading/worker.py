"""A grading worker: a long-lived process that grades one submission at a time.

``course grade`` starts ``--jobs`` of these and feeds them tasks as JSON lines on stdin;
each answers one JSON line on stdout. Keeping the worker alive means papermill and the
embedded PostgreSQL start once per worker, not once per notebook.

Per submission:

0. **Isolate**: a forked child in a network namespace of the submission's own, loopback
   only, where the database is relayed in (:mod:`course.sandbox.network`).
1. **Confine**: a :class:`~course.sandbox.limits.Confinement` (a cgroup, else a /proc
   watchdog, and a disk watch) and a database role of its own, owner of a fresh
   database — the only one its code can reach, never as a superuser.
2. **Execute** the learner's notebook with papermill (parameters ``workspace`` and
   ``grading=True``, a per-cell timeout), its kernel in a sandbox
   (:class:`~course.sandbox.jail.Jail`). papermill's output notebook is written outside
   the workspace, where no link of the learner's can redirect it. Then everything the
   notebook started is stopped.
3. **Test**: the instructor's tests for that exercise — taken from ``solutions/``, never
   from the submission — run here, against a fresh database, and every server, test
   runner and build they start runs in a sandbox of its own.

A cell that raises does not stop the notebook (``allow_errors``, as nbgrader and
otter-grader run): a typo in one cell must not cost the marks of the parts that work.
The first error is still reported. A timeout or a dead kernel does stop it, with an
``error`` verdict; so does a limit, and only the submission that hit it pays.
"""
from __future__ import annotations

import ctypes
import json
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from urllib.parse import urlsplit

if __name__ == "__main__":  # the grading process itself (python -m course.grading.worker)
    # jsonschema (under nbformat) imports rfc3987_syntax, when installed, for the "iri"
    # formats, and that module builds a grammar at import: 1.45 s of CPU at the start of
    # every grading process, measured with `python -X importtime`. No schema this process
    # validates uses those formats; learner kernels are other processes, unaffected.
    sys.modules.setdefault("rfc3987_syntax", None)

import nbformat  # after the guard above

from ..postgres import DB_PREFIX, DatabaseServer, EmbeddedPostgres
from ..errors import CourseError
from ..sandbox import binds, detect, network
from ..sandbox.jail import Jail
from ..sandbox.limits import Confinement
from . import spec
from .results import Graded, Status, TestResult, Verdict
from .run import run_tests
from .tests import load
from .process import CAPSTONE, DATABASE_ENV, PROTOCOL_PREFIX

PR_SET_CHILD_SUBREAPER = 36
KEEP_ENV = ("PATH", "LANG", "LC_ALL", "TERM", "COURSE_NODE", "COURSE_NPM", "COURSE_GO", "COURSE_JAVA",
            "COURSE_JAVAC", "COURSE_MVN", "JAVA_HOME")



def _read_executed(output: Path) -> nbformat.NotebookNode | None:
    try:
        return nbformat.read(output, as_version=4)
    except Exception:  # noqa: BLE001 - a half-written or missing output notebook: nothing to report from
        return None


def _learner_positions(nb: nbformat.NotebookNode) -> list[int | None]:
    """For each cell of papermill's output, its 1-based position in the learner's notebook
    (None for the injected-parameters cell, which the learner never saw)."""
    positions, n = [], 0
    for cell in nb.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            positions.append(None)
        else:
            n += 1
            positions.append(n)
    return positions


def _papermill_cell(output: Path) -> int | None:
    """1-based position, in the learner's notebook, of the last cell papermill started.

    papermill marks every cell "completed" even after a timeout, so the cell that was
    running is the last one with a start time.
    """
    nb = _read_executed(output)
    if nb is None:
        return None
    started = [pos for pos, cell in zip(_learner_positions(nb), nb.cells, strict=True)
               if pos is not None and cell.metadata.get("papermill", {}).get("start_time")]
    return started[-1] if started else None


def _error_cell(output: Path, cell_index: int) -> int | None:
    """The learner's own number for the cell at ``cell_index`` of papermill's output."""
    nb = _read_executed(output)
    positions = _learner_positions(nb) if nb is not None else []
    return positions[cell_index] if cell_index < len(positions) else None


def learner_env(workspace: Path, database_url: str, *, sandboxed: bool) -> dict[str, str]:
    """The whole environment learner code sees: the essentials, its database, nothing secret.

    In a sandbox, ``/tmp`` is its own; unsandboxed, temporary files go to the workspace."""
    env = {k: os.environ[k] for k in KEEP_ENV if k in os.environ}
    go = binds.go_env()
    tmp = Path("/tmp") if sandboxed else workspace / ".tmp"
    tmp.mkdir(exist_ok=True)
    env.update({
        "HOME": str(tmp), "TMPDIR": str(tmp), "USER": "learner", "XDG_CACHE_HOME": f"{tmp}/.cache",
        "COURSE_GRADING": "1", "PYTHONDONTWRITEBYTECODE": "1", "JUPYTER_RUNTIME_DIR": f"{tmp}/jupyter",
        "IPYTHONDIR": f"{tmp}/ipython", "MPLCONFIGDIR": f"{tmp}/mpl", "COURSE_SCRATCH": str(workspace / ".scratch"),
        "COURSE_PROGRESS": f"{tmp}/progress.json", "GOTOOLCHAIN": "local", "GOPATH": f"{tmp}/go",
    })
    if database_url:
        env.update({"DATABASE_URL": database_url, "COURSE_DATABASE_READY": "1"})
    for key in ("GOCACHE", "GOMODCACHE"):
        if go.get(key):
            env[key] = go[key]
    return env


def execute(task: dict, jail: Jail, output: Path) -> Graded:
    """Run the learner's notebook; return what happened (never raises): ``executed``, and the
    ``error`` or ``verdict`` when it did not run through."""
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    workspace = Path(task["workspace"])
    notebook = workspace / task["notebook"]
    timeout = task["cell_timeout"]
    start = time.monotonic()
    outcome = Graded(executed=True)
    try:
        papermill.execute_notebook(
            str(notebook), str(output), parameters={"workspace": str(workspace), "grading": True},
            kernel_name="python3", cwd=str(workspace), execution_timeout=timeout, start_timeout=60,
            progress_bar=False, log_output=False, kernel_manager_class=jail.kernel_manager_class(),
            allow_errors=True)
    except papermill.PapermillExecutionError as e:
        cell = _error_cell(output, e.cell_index)
        outcome.error = f"cell {cell or '?'} raised {e.ename}: {e.evalue}"[:500]
    except CellTimeoutError:
        cell = _papermill_cell(output) or "?"
        outcome.verdict = Verdict(f"timed out after {timeout:g} s in cell {cell}")
    except DeadKernelError:
        outcome.verdict = Verdict(f"the kernel died in cell {_papermill_cell(output) or '?'}")
    except Exception as e:  # noqa: BLE001 - corrupt notebooks, kernel start failures: the learner's verdict
        outcome.verdict = Verdict(f"could not execute the notebook: {type(e).__name__}: {e}"[:500])
    finally:
        outcome.execution_s = time.monotonic() - start
    return outcome


class DatabaseUsage:
    """How many bytes the submission's databases hold (they count towards its disk limit).

    They are the ones this process made: each grading child is one submission, and every
    database name holds its maker's pid (:meth:`DatabaseServer.new_name`)."""

    def __init__(self, admin_url: str):
        self.admin_url = admin_url
        self.pattern = f"{DB_PREFIX}%\\_{os.getpid()}\\_%"
        self._conn = None

    def __call__(self) -> int:
        import psycopg

        try:
            if self._conn is None or self._conn.closed:
                self._conn = psycopg.connect(self.admin_url, autocommit=True, connect_timeout=3)
            row = self._conn.execute("SELECT coalesce(sum(pg_database_size(datname)), 0) FROM pg_database "
                                     "WHERE datname LIKE %s", (self.pattern,)).fetchone()
            return int(row[0])
        except psycopg.Error:
            return 0

    def terminate(self) -> None:
        """End every session on the submission's databases (a long INSERT runs on without its client)."""
        import psycopg

        try:
            with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=3) as conn:
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname LIKE %s "
                             "AND pid <> pg_backend_pid()", (self.pattern,))
        except psycopg.Error:
            pass

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


class Worker:
    """What one worker keeps between submissions: what confines, and its database server.

    Each submission is graded in a forked child inside a network of its own
    (:func:`~course.sandbox.network.isolated`): the kernel, the servers and the
    instructor's tests meet there, and the database is relayed in.
    """

    def __init__(self, caps: detect.Capabilities, server: DatabaseServer, private: Path):
        self.caps = caps
        self.server = server
        socket = getattr(server, "socket_path", None)
        if socket is None:  # a server elsewhere: reach it through a socket of ours
            socket = private / f"db-{os.getpid()}.sock"
            host = urlsplit(server.admin_url).hostname or "127.0.0.1"
            network.Relay(("unix", socket), ("tcp", host, server.port))
        self.relays = {server.port: socket}

    def grade(self, task: dict) -> Graded:
        started = time.monotonic()
        try:
            if task["exercise_id"] == CAPSTONE and task.get("allow_network_for_build"):
                # the build alone, in a sandbox on the worker's network; the app then runs offline
                task = {**task, "build_failure": network.isolated(self._build_capstone, task, private=False)}
            return network.isolated(self._grade, task, relays=self.relays, private=self.caps.sandboxed)
        except RuntimeError as e:
            verdict = Verdict(f"grader crashed: {e}"[:2000], by_grader=True)
            return Graded.failed(verdict, work_s=time.monotonic() - started)

    def _jail(self, task: dict, private: Path, confinement: Confinement, database_url: str, *,
              build_caches: bool = False) -> Jail:
        workspace = Path(task["workspace"])
        env = learner_env(workspace, database_url, sandboxed=self.caps.sandboxed)
        env.update(binds.cache_env() if build_caches else {})
        return Jail(self.caps, workspace=workspace, private=private, confinement=confinement, env=env,
                    caches=binds.build_caches(),
                    package_caches=binds.package_caches() if build_caches else ())

    def _grade(self, task: dict) -> Graded:
        """Grade one submission (in the child): execute it, then run the instructor's tests."""
        started = time.monotonic()
        workspace = Path(task["workspace"])
        private = Path(task["private"])
        if task["exercise_id"] == CAPSTONE:
            return _without_paths(self._grade_capstone(task, workspace, private, started), workspace, private)
        try:
            exercise = spec.find(task["exercise_id"])
            parts = exercise.checks_parts()
        except CourseError as e:
            return Graded.failed(Verdict(str(e)), work_s=time.monotonic() - started)
        databases = DatabaseUsage(self.server.admin_url)
        confinement = Confinement(task["index"], cgroups=self.caps.cgroups, sandboxed=self.caps.sandboxed,
                                  disk_roots=[workspace, private], databases=databases)
        try:
            with self.server.app_database(f"run{task['index']}", roles_required=True) as run_db:
                jail = self._jail(task, private / "run", confinement, run_db.url)
                jail.prepare_workspace()
                try:
                    run = execute(task, jail, private / "executed.ipynb")
                finally:
                    jail.close()  # whatever the notebook left behind (a fork bomb's copies...) goes now
            tests_started = time.monotonic()
            with self.server.app_database(f"test{task['index']}", roles_required=True) as test_db:
                # an app checked against the checklist builds from the npm and Maven caches
                jail = self._jail(task, private / "tests", confinement, test_db.url,
                                  build_caches=exercise.app is not None)
                try:
                    results = self._run_tests(exercise, parts, jail, test_db.url)
                except Exception as e:  # noqa: BLE001 - the instructor's checks themselves are broken: say so
                    results = []
                    run.verdict = Verdict(f"the exercise's checks failed to load: {type(e).__name__}: {e}",
                                          by_grader=True)
                finally:
                    jail.close()
            hit = confinement.hit()
            if hit is not None:
                run.verdict = Verdict(hit.verdict())
            run.ok, run.exercise, run.tests = True, exercise.id, results
            run.tests_s, run.work_s = time.monotonic() - tests_started, time.monotonic() - started
            return _without_paths(run, workspace, private)
        finally:
            confinement.close()
            databases.close()

    def _build_capstone(self, task: dict) -> str | None:
        """``--allow-network-for-build``: prepare the app in a sandbox that keeps the worker's
        network (registries reachable). Returns why it failed, or None; what it built (and its
        stamps) stay in the workspace, so the offline pass that follows finds it up to date."""
        from ..checklist.app.errors import AppStartError
        from ..checklist.app.prepare import in_sandbox
        from ..checklist.app.procfile import load_spec

        workspace, private = Path(task["workspace"]), Path(task["private"])
        confinement = Confinement(task["index"], cgroups=self.caps.cgroups, sandboxed=self.caps.sandboxed,
                                  disk_roots=[workspace, private])
        jail = self._jail(task, private / "build", confinement, "", build_caches=True)
        jail.prepare_workspace()
        try:
            in_sandbox(load_spec(workspace / "app"), jail, workspace / ".prepare")
            failure = None
        except AppStartError as e:
            failure = e.full_message()
        except CourseError:
            failure = None  # unusable input: the grading pass names it
        finally:
            jail.close()
            hit = confinement.hit()
            confinement.close()
        return f"the build {hit.verdict()}" if hit is not None else failure

    def _grade_capstone(self, task: dict, workspace: Path, private: Path, started: float) -> Graded:
        """A capstone app, checked against the checklist in the sandbox: each build step (npm ci,
        go build, mvn package, pip install) and the app itself run there; each item becomes a test."""
        from ..checklist import engine

        databases = DatabaseUsage(self.server.admin_url)
        confinement = Confinement(task["index"], cgroups=self.caps.cgroups, sandboxed=self.caps.sandboxed,
                                  disk_roots=[workspace, private], databases=databases)
        jail = self._jail(task, private / "app", confinement, "", build_caches=True)
        jail.prepare_workspace()
        try:
            report = engine.check_app(workspace / "app", database=self.server, launcher=jail,
                                      prepare_cache=workspace / ".prepare", prepare_in_launcher=True,
                                      roles_required=True, build_failure=task.get("build_failure"))
        except CourseError as e:  # unusable input (no web: line, a shell in it, ...)
            return Graded(ok=True, exercise=CAPSTONE, verdict=Verdict(str(e)), work_s=time.monotonic() - started)
        finally:
            jail.close()
            hit = confinement.hit()
            confinement.close()
            databases.close()
        return Graded(ok=True, exercise=CAPSTONE, tests=[_item_test(r) for r in report.items],
                      error=report.message or None, verdict=Verdict(hit.verdict()) if hit is not None else None,
                      executed=True, execution_s=report.duration_s, work_s=time.monotonic() - started)

    def _run_tests(self, exercise, parts, jail: Jail, database_url: str) -> list[TestResult]:
        """The instructor's checks, with ``course.db.url()`` answering the submission's test database."""
        os.environ.update({"DATABASE_URL": database_url, "COURSE_DATABASE_READY": "1"})  # (in the child)
        tests = load(parts, filename=f"<checks of {exercise.id}>")
        return run_tests(tests, jail.workspace, host=jail, log_dir=jail.private / "logs", database=self.server)


def _item_test(result) -> TestResult:
    """One checklist item's verdict as a test of the report: its points, message and evidence."""
    status = {"pass": Status.PASS, "fail": Status.FAIL}.get(result.status, Status.ERROR)
    return TestResult(name=result.title, status=status, score=round(result.score, 3), max_score=result.max_score,
                      message=None if status is Status.PASS else result.message,
                      output=result.evidence_text()[:500], test_code="", tags=[result.id],
                      exchange=result.exchange(), duration_s=result.duration_s)


def _without_paths(result: Graded, workspace: Path, private: Path) -> Graded:
    """The grader's folders named as ``<workspace>`` and ``<grader>`` in what a learner reads:
    reports do not show where (or on which worker) a submission was graded, and two runs
    of the same class give the same reports."""
    text = json.dumps(result.to_json())
    for path, name in ((workspace, "<workspace>"), (private, "<grader>")):
        text = text.replace(json.dumps(str(path))[1:-1], name)
    return Graded.from_json(json.loads(text))


def _subreaper() -> None:
    """Orphans of learner processes re-parent to us, so the watchdog still sees them
    (unsandboxed; in a sandbox they re-parent to its PID 1)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def main() -> int:
    caps = detect.capabilities()
    if not caps.sandboxed:
        _subreaper()
    # One PostgreSQL per worker, started before any submission's confinement exists, so
    # that cleaning up a submission never touches it. Each submission gets its own roles.
    if os.environ.get(DATABASE_ENV):
        server: DatabaseServer = DatabaseServer(os.environ[DATABASE_ENV])
        server.check_reachable()
    else:
        server = EmbeddedPostgres().start()
    import papermill  # noqa: F401 - imported once here, not in every forked child
    import nbclient  # noqa: F401

    worker = Worker(caps, server, Path(os.environ.get("COURSE_GRADER_PRIVATE") or tempfile.gettempdir()))
    out = sys.stdout
    sys.stdout = sys.stderr  # stray prints from libraries must not corrupt the protocol
    for line in sys.stdin:
        if not line.strip():
            continue
        task = json.loads(line)
        try:
            result = worker.grade(task)
        except BaseException as e:  # noqa: BLE001 - never let one submission take the worker down silently
            result = Graded.failed(Verdict(f"grader crashed: {type(e).__name__}: {e}", by_grader=True),
                                   trace=traceback.format_exc()[-2000:])
        out.write(PROTOCOL_PREFIX + json.dumps(result.to_json()) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
