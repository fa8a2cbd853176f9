"""Run an exercise's tests against a workspace: each in its own :class:`~.context.Context`,
servers shared between them, a crashing test an ``error`` — never a crash of the run."""
from __future__ import annotations

import time
import traceback
from pathlib import Path

from ..errors import CourseError
from ..servers import Server
from .context import Context, Host
from .results import Status, TestResult, shorten
from .tests import TestSpec


def run_tests(tests: list[TestSpec], workspace: str | Path, *, host: Host | None = None,
              log_dir: Path | None = None, database=None) -> list[TestResult]:
    results = []
    shared: dict = {}
    try:
        for spec in tests:
            results.append(_run_one(spec, workspace, shared, host, log_dir, database))
    finally:
        for server in shared.values():
            if isinstance(server, Server):
                try:
                    (host or Context(workspace).host).stop(server.proc, grace=2)
                except CourseError:
                    pass
    return results


def _run_one(spec: TestSpec, workspace, shared: dict, host: Host | None, log_dir: Path | None,
             database=None) -> TestResult:
    ctx = Context(workspace, shared, host=host, log_dir=log_dir, database=database)
    start = time.monotonic()
    status, message = Status.PASS, None
    try:
        spec.func(ctx)
    except AssertionError as e:
        status, message = Status.FAIL, str(e) or "assertion failed"
    except CourseError as e:
        status, message = Status.ERROR, str(e)
    except Exception as e:  # noqa: BLE001 - the test (or the learner's code under it) broke: an error result
        frames = traceback.extract_tb(e.__traceback__)
        where = f" (line {frames[-1].lineno})" if frames else ""
        status, message = Status.ERROR, f"{type(e).__name__}: {e}{where}"
    finally:
        log = ctx.logs()
        ctx.close()
    return TestResult(
        name=spec.name, status=status, score=spec.points if status is Status.PASS else 0.0,
        max_score=spec.points, message=message, output=shorten(log or "\n".join(ctx.output)),
        test_code="" if spec.hidden else spec.code, tags=list(spec.checklist), hidden=spec.hidden,
        hint=spec.hint if status is not Status.PASS else None, exchange=ctx.exchange,
        duration_s=time.monotonic() - start, task_id=spec.task_id)
