"""``check_app``: start a learner's app, run the checklist against it, clean up.

The order of events is fixed by what the checks do to the app:

1. every check that only sends requests runs concurrently, each with its own
   loopback source address (127.0.0.10, .11, …) so that per-client rate limits of
   one check never eat into another's budget;
2. ``health-check`` runs with them, but before it makes the database unreachable it
   waits (``Target.wait_for_quiet_database``) until every check that uses the database
   has finished; the ones that never touch it (``DATABASE_FREE``: rate-limiting mostly
   waits out its window) carry on through the outage; last, it waits until it is alone
   (``Target.wait_until_alone``) to load ``/api/slow``, which stalls an app that blocks
   its event loop — and must stall no other check's timing;
3. ``graceful-shutdown`` runs last and alone, because it sends SIGTERM.

A check that raises becomes an ``error`` item; it never ends the run. Whatever
happens — a crash at start, a hung check, Ctrl-C — the app's process group is
killed and its database dropped before ``check_app`` returns or raises.
"""
from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import threading
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from ..errors import CourseError
from ..otlp import sdk_env
from .app import START_TIMEOUT, STOP_GRACE, AppProcess, AppStartError, load_spec, prepare
from .app.launcher import Launcher
from .app.prepare import in_sandbox as prepare_in_sandbox
from ..postgres import DatabaseServer, provision
from .model import Item, Result, Target

Check = Callable[[Target], Result]
Progress = Callable[[str], None]

OUTAGE = "health-check"  # takes the database away once no other check needs it
EXCLUSIVE = (OUTAGE,)  # kept for callers that label phases
DATABASE_FREE = ("error-handling", "rate-limiting")  # their requests never reach the database
LAST = "graceful-shutdown"  # runs alone, at the very end; it stops the app
CHECK_TIMEOUT = 90.0  # a check still running after this is reported as an error
FIRST_CLIENT_IP = 10  # checks use 127.0.0.10, 127.0.0.11, …


@dataclasses.dataclass
class Report:
    """The outcome of ``course check`` for one app."""

    app: str
    status: str  # pass | fail | error
    score: float
    max_score: float
    duration_s: float
    items: list[Result]
    message: str = ""  # set when the app could not be checked at all (build or start failed)
    code: str = ""  # the seed error code of that failure (DEPENDENCY_CONFLICT), "" otherwise

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "app": self.app,
            "status": self.status,
            "score": round(self.score, 3),
            "max_score": self.max_score,
            "duration_s": round(self.duration_s, 3),
            "items": [r.to_json() for r in self.items],
        }
        if self.message:
            out["message"] = self.message
        if self.code:
            out["code"] = self.code
        return out

    @property
    def exit_code(self) -> int:
        """0 when every selected item passed (or was skipped), 1 otherwise."""
        return 0 if self.status == "pass" else 1


def default_items(*, extra: bool = False) -> list[Item]:
    """The seed's 11 items; with ``extra``, the course's extras (tracing) after them."""
    from .items import load_items

    return list(load_items(extra=extra))


def default_checks() -> Mapping[str, Check]:
    from .checks import CHECKS

    return CHECKS


def select_items(items: Sequence[Item], only: Sequence[str] | str | None) -> list[Item]:
    """The items named in ``only`` (ids, or one comma-separated string), in checklist order."""
    if not only:
        return list(items)
    if isinstance(only, str):
        only = [only]
    wanted = [w.strip() for part in only for w in part.split(",") if w.strip()]
    known = {i.id for i in items}
    unknown = [w for w in wanted if w not in known]
    if unknown:
        raise CourseError(f"Unknown checklist item{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}. "
                          f"Valid ids: {', '.join(i.id for i in items)}.")
    if not wanted:
        raise CourseError(f"--only names no item. Valid ids: {', '.join(i.id for i in items)}.")
    return [i for i in items if i.id in wanted]


# --------------------------------------------------------------------------- one check
def _normalise(item: Item, result: Any, duration: float) -> Result:
    """Trust the check's verdict, but make id, title, max score and duration consistent."""
    if not isinstance(result, Result):
        return _error(item, f"the check returned {type(result).__name__}, not a Result", duration)
    status = result.status if result.status in ("pass", "fail", "error", "skip") else "error"
    if result.max_score:
        score = item.points * max(0.0, min(1.0, result.score / result.max_score))
    else:
        score = item.points if status == "pass" else 0.0
    return dataclasses.replace(result, id=item.id, title=item.title, status=status, score=score,
                               max_score=item.points, duration_s=duration)


def _error(item: Item, message: str, duration: float = 0.0) -> Result:
    return Result(item.id, item.title, "error", 0.0, item.points, message, {}, duration)


def run_check(item: Item, check: Check | None, target: Target) -> Result:
    """Run one check; exceptions (not KeyboardInterrupt) become an ``error`` result."""
    if check is None:
        return _error(item, "no check is registered for this item")
    start = time.monotonic()
    try:
        result = check(target)
    except Exception as e:  # noqa: BLE001 - a broken check must not end the run
        return _error(item, f"the check crashed: {type(e).__name__}: {e}", time.monotonic() - start)
    return _normalise(item, result, time.monotonic() - start)


def run_checks(items: Sequence[Item], checks: Mapping[str, Check], target: Target, *,
               progress: Progress | None = None, check_timeout: float = CHECK_TIMEOUT) -> list[Result]:
    """Run ``items`` against a started app in the three phases; results in ``items`` order.

    Each check gets its own copy of ``target`` with a distinct ``client_ip``.
    """
    say = progress or (lambda _m: None)
    targets = {it.id: dataclasses.replace(target, client_ip=f"127.0.0.{FIRST_CLIENT_IP + n}")
               for n, it in enumerate(items)}
    concurrent_items = [it for it in items if it.id != LAST]
    results: dict[str, Result] = {}

    if concurrent_items:
        # health-check starts with the others, does what needs no outage, then waits for these
        quiet, alone = threading.Event(), threading.Event()
        for it in concurrent_items:
            if it.id == OUTAGE:
                targets[it.id] = dataclasses.replace(targets[it.id], database_quiet=quiet, alone=alone)
        say(f"checking {len(concurrent_items)} item(s) concurrently…")
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=len(concurrent_items), thread_name_prefix="check")
        try:
            futures = {pool.submit(run_check, it, checks.get(it.id), targets[it.id]): it for it in concurrent_items}
            db_users = [f for f, it in futures.items() if it.id != OUTAGE and it.id not in DATABASE_FREE]
            concurrent.futures.wait(db_users, timeout=check_timeout)  # a hung one is reported below
            quiet.set()
            concurrent.futures.wait([f for f, it in futures.items() if it.id != OUTAGE], timeout=check_timeout)
            alone.set()
            done, pending = concurrent.futures.wait(futures, timeout=check_timeout)
            for fut in done:
                results[futures[fut].id] = fut.result()  # re-raises KeyboardInterrupt from a check
            for fut in pending:
                it = futures[fut]
                results[it.id] = _error(it, f"the check did not finish within {check_timeout:.0f} s",
                                        check_timeout)
        finally:
            quiet.set()
            alone.set()
            pool.shutdown(wait=False, cancel_futures=True)

    for it in (it for it in items if it.id == LAST):  # in this thread: Ctrl-C reaches us directly
        say(f"checking {it.id}…")
        results[it.id] = run_check(it, checks.get(it.id), targets[it.id])
    return [results[it.id] for it in items]


# --------------------------------------------------------------------------- the run
def summarise(app: str, items: Sequence[Item], results: list[Result], duration: float,
              message: str = "") -> Report:
    statuses = {r.status for r in results}
    if message:
        status = "error"
    elif "fail" in statuses:
        status = "fail"
    elif "error" in statuses:
        status = "error"
    else:
        status = "pass"
    return Report(app=app, status=status, score=sum(r.score for r in results),
                  max_score=sum(i.points for i in items), duration_s=duration, items=results,
                  message=message)


def check_app(
    app_dir: str | Path,
    *,
    only: Sequence[str] | str | None = None,
    database: DatabaseServer | None = None,
    database_url: str | None = None,
    timeout: float = START_TIMEOUT,
    stop_grace: float = STOP_GRACE,
    checks: Mapping[str, Check] | None = None,
    items: Sequence[Item] | None = None,
    progress: Progress | None = None,
    launcher: Launcher | None = None,
    prepare_cache: Path | None = None,
    build_failure: str | None = None,
    prepare_in_launcher: bool = False,
    roles_required: bool = False,
    include_extra: bool = False,
    collector_url: str | None = None,
) -> Report:
    """Build, start and check the app in ``app_dir``; always stop it and drop its database.

    ``database`` is a running server to reuse (tests share one embedded server);
    otherwise ``database_url`` names an external server, otherwise an embedded one
    is started for this call. ``timeout`` bounds the start-up, ``stop_grace`` the
    time between SIGTERM and SIGKILL at the end. ``checks``/``items`` default to the
    real registry and ``items.yaml``. ``include_extra`` adds the items beyond the seed's
    11 (tracing) to the run and the score; ``only`` may name them either way.
    ``collector_url`` (a course.otlp collector) is given to the app as
    ``OTEL_EXPORTER_OTLP_ENDPOINT`` and the tracing check reads the spans back from it.
    Unusable input raises :class:`CourseError` (exit code 2); an app that fails to build
    or start gives an ``error`` report.

    The grader passes a ``launcher`` (the submission's sandbox, where the app runs),
    ``prepare_in_launcher`` (the whole preparation runs there too, as one command, writing
    only to the workspace and the ``prepare_cache`` inside it) and ``roles_required`` (the
    app gets a database role of its own, never the admin's).
    """
    t0 = time.monotonic()
    say = progress or (lambda _m: None)
    spec = load_spec(app_dir)
    all_items = list(items) if items is not None else default_items(extra=True)
    selected = select_items(all_items if include_extra or only else [i for i in all_items if not i.extra], only)
    registry = checks if checks is not None else default_checks()

    def not_run(message: str, code: str = "") -> Report:
        skipped = [Result(i.id, i.title, "skip", 0.0, i.points, "not checked: the app did not start")
                   for i in selected]
        return dataclasses.replace(summarise(spec.name, selected, skipped, time.monotonic() - t0, message),
                                   code=code)

    if build_failure is not None:  # prepared elsewhere already (grading's networked build pass)
        return not_run(build_failure)
    try:
        if prepare_in_launcher:
            prepared = prepare_in_sandbox(spec, launcher, prepare_cache, progress=say)
        else:
            prepared = prepare(spec, progress=say, launcher=launcher, cache=prepare_cache)
    except AppStartError as e:
        return not_run(e.full_message(), e.code)

    with contextlib.ExitStack() as stack:
        say("provisioning the database…")
        db = stack.enter_context(provision(spec.name, server=database, database_url=database_url,
                                           roles_required=roles_required))
        app = AppProcess(prepared, db.url, launcher=launcher)
        if collector_url:
            app.env.update(sdk_env(collector_url, spec.name))
        stack.callback(app.cleanup)
        say(f"starting `{prepared.spec.line}` on port {app.port}…")
        try:
            startup = app.start(timeout=timeout)
        except AppStartError as e:
            app.stop(grace=0)
            return not_run(e.full_message())
        say(f"ready in {startup:.1f} s")
        target = Target(base_url=app.base_url, host=app.host, port=app.port, env=dict(app.env),
                        proc=app.proc, logs=app.logs, db=db, collector_url=collector_url)
        results = run_checks(selected, registry, target, progress=say)
        # graceful-shutdown already sent SIGTERM and waited: don't wait a second time
        ran_shutdown = any(i.id == LAST for i in selected)
        app.stop(grace=1.0 if ran_shutdown else stop_grace)
    return summarise(spec.name, selected, results, time.monotonic() - t0)
