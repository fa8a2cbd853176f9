"""A grading worker: a long-lived process that grades one submission at a time.

``course grade`` starts ``--jobs`` of these (inside the sandbox's namespaces when
available) and feeds them tasks as JSON lines on stdin; each answers one JSON line
on stdout. Keeping the worker alive means papermill and the embedded PostgreSQL
start once per worker, not once per notebook.

Per submission: a fresh cgroup (without one, a /proc watchdog with the same limits), execute the learner's notebook with papermill
(parameters ``workspace`` and ``grading=True``, a per-cell timeout), then run the
instructor's tests for that exercise — taken from ``solutions/``, never from the
submission — against what the notebook left in the workspace.

A cell that raises does not stop the notebook (``allow_errors``, as nbgrader and
otter-grader run): a typo in one cell must not cost the marks of the parts that work.
The first error is still reported with the result. A timeout or a dead kernel does
stop it, with an ``error`` verdict.
"""
from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path

import nbformat

from .. import db as lesson_db
from .. import procs
from ..errors import CourseError
from . import registry, sandbox, spec, watchdog

PROTOCOL_PREFIX = "@@result "  # marks our line among anything else written to stdout


def _read_executed(output: Path) -> nbformat.NotebookNode | None:
    try:
        return nbformat.read(output, as_version=4)
    except Exception:
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
    started = [pos for pos, cell in zip(_learner_positions(nb), nb.cells)
               if pos is not None and cell.metadata.get("papermill", {}).get("start_time")]
    return started[-1] if started else None


def _error_cell(output: Path, cell_index: int) -> int | None:
    """The learner's own number for the cell at ``cell_index`` of papermill's output."""
    nb = _read_executed(output)
    positions = _learner_positions(nb) if nb is not None else []
    return positions[cell_index] if cell_index < len(positions) else None


Limits = sandbox.Cgroup | watchdog.TreeWatch  # one submission's confinement


def _kernel_manager(limits: Limits):
    """A KernelManager whose kernel starts confined (inside the submission's cgroup).

    Async, like nbclient's default: with the sync one, a cell timeout never fires.
    """
    from jupyter_client.manager import AsyncKernelManager

    prefix = limits.prefix()

    class SandboxedKernelManager(AsyncKernelManager):
        def format_kernel_cmd(self, extra_arguments=None):
            return [*prefix, *super().format_kernel_cmd(extra_arguments)]

    return SandboxedKernelManager


def execute(task: dict, limits: Limits) -> dict:
    """Run the learner's notebook; return what happened (never raises)."""
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    workspace = Path(task["workspace"])
    notebook = workspace / task["notebook"]
    output = workspace / ".tmp" / "executed.ipynb"
    timeout = task["cell_timeout"]
    start = time.monotonic()
    outcome = {"executed": True, "error": None, "verdict": None}
    try:
        papermill.execute_notebook(
            str(notebook), str(output), parameters={"workspace": str(workspace), "grading": True},
            kernel_name="python3", cwd=str(workspace), execution_timeout=timeout, start_timeout=60,
            progress_bar=False, log_output=False, kernel_manager_class=_kernel_manager(limits),
            allow_errors=True)
    except papermill.PapermillExecutionError as e:
        cell = _error_cell(output, e.cell_index)
        outcome["error"] = f"cell {cell or '?'} raised {e.ename}: {e.evalue}"[:500]
    except CellTimeoutError:
        outcome["verdict"] = f"error: timed out after {timeout:g} s in cell {_papermill_cell(output) or '?'}"
    except DeadKernelError:
        outcome["verdict"] = f"error: the kernel died in cell {_papermill_cell(output) or '?'}"
    except Exception as e:  # corrupt notebooks, kernel start failures, ...
        outcome["verdict"] = f"error: could not execute the notebook: {type(e).__name__}: {e}"[:500]
    finally:
        outcome["execution_s"] = time.monotonic() - start
    hit = limits.hit()
    if hit == "memory":
        outcome["verdict"] = f"error: killed at the {sandbox.MEMORY_LIMIT >> 30} GiB memory limit"
    elif hit == "processes":
        outcome["verdict"] = f"error: hit the {sandbox.PIDS_LIMIT}-process limit (a fork bomb?)"
    return outcome


def grade(task: dict) -> dict:
    """Grade one submission: execute it, then run the instructor's tests."""
    started = time.monotonic()
    if sandbox.capabilities().cgroups:
        limits: Limits = sandbox.Cgroup(f"{os.getpid()}-{task['index']}")
    else:  # same limits and verdicts, enforced by polling /proc
        limits = watchdog.TreeWatch(sandbox.MEMORY_LIMIT, sandbox.PIDS_LIMIT)
    saved_env = dict(os.environ)
    scrubbed = sandbox.scrubbed_env(Path(task["workspace"]))  # computed from the full environment
    os.environ.clear()  # learner code (kernel, snippets, servers under test) sees only this
    os.environ.update(scrubbed)
    if saved_env.get("DATABASE_URL"):
        os.environ["DATABASE_URL"] = saved_env["DATABASE_URL"]
    try:
        exercise = spec.find(task["exercise_id"])
        run = execute(task, limits)
        limits.kill_all()  # whatever the notebook left behind (a fork bomb's copies...) goes now
        procs.PREFIX[:] = limits.prefix()  # the learner's servers under test run confined too
        tests_started = time.monotonic()
        try:
            tests = registry.load(exercise.checks_source(), filename=f"<checks of {exercise.id}>")
            results = [r.to_json() for r in registry.run_tests(tests, task["workspace"])]
        except Exception as e:  # the instructor's checks themselves are broken: say so
            results = []
            run["verdict"] = f"error: the exercise's checks failed to load: {type(e).__name__}: {e}"
        finally:
            procs.PREFIX.clear()
            lesson_db.close()  # a fresh database for the next submission
        return {"ok": True, "exercise": exercise.id, "results": results, **run,
                "tests_s": time.monotonic() - tests_started, "work_s": time.monotonic() - started}
    except CourseError as e:
        return {"ok": False, "verdict": f"error: {e}", "results": [], "work_s": time.monotonic() - started}
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        limits.remove()


def main() -> int:
    sandbox.apply_rlimits()
    # One PostgreSQL per worker, started before any submission's cgroup exists, so that
    # cleaning up a submission never kills it. Each submission gets its own database.
    if not os.environ.get("DATABASE_URL"):
        from ..checklist.database import EmbeddedPostgres

        server = EmbeddedPostgres().start()
        os.environ["DATABASE_URL"] = server.admin_url
    out = sys.stdout
    sys.stdout = sys.stderr  # stray prints from libraries must not corrupt the protocol
    for line in sys.stdin:
        if not line.strip():
            continue
        task = json.loads(line)
        try:
            result = grade(task)
        except BaseException as e:  # never let one submission take the worker down silently
            result = {"ok": False, "verdict": f"error: grader crashed: {type(e).__name__}: {e}",
                      "trace": traceback.format_exc()[-2000:], "results": []}
        out.write(PROTOCOL_PREFIX + json.dumps(result) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
