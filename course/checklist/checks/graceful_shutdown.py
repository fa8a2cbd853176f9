"""graceful-shutdown: on SIGTERM, finish in-flight work, refuse new work, exit.

Runs last and alone, because it ends the app. Timeline: start ``GET /api/slow?ms=1000``;
at 0.4 s send SIGTERM to the process (the leader, as Kubernetes would, not the
group); at 0.65 s open a new connection, which must be refused or answered 503; the
slow request must still complete 200; the process must exit within 10 s (Kubernetes'
default grace is 30 s) with 0 or 143 (128+SIGTERM, what the JVM and recent uvicorn
use); then its database connections must be gone.

An app that calls ``process.exit()`` on SIGTERM cuts the slow request and fails; one
that ignores SIGTERM never exits and fails (the engine then kills it). The checker
closes its connection as soon as the slow answer arrives, so a server that waits for
idle keep-alive connections isn't held up by the checker itself.
"""
from __future__ import annotations

import os
import signal
import subprocess
import threading
import time

from course.checklist.model import Result, Target
from course.checklist.probe import Exchange, Probe, run

ITEM_ID = "graceful-shutdown"
SLOW_MS = 1000  # SIGTERM at 0.5 s and the new connection at 0.8 s both land while it runs
TERM_AT_S = 0.4
NEW_CONNECTION_AT_S = 0.65
NEW_CONNECTION_TIMEOUT_S = 2.5
EXIT_WITHIN_S = 10.0
DB_CLOSE_WITHIN_S = 3.0
GOOD_EXIT_CODES = (0, 143)


def check(target: Target) -> Result:
    """SIGTERM during a slow request; see the module docstring."""
    return run(target, ITEM_ID, _probe)


def _probe(p: Probe) -> None:
    proc = p.target.proc
    if proc.poll() is not None:
        p.rule("the app is running before SIGTERM", False,
               f"the app had already exited (code {proc.returncode}) before the shutdown check")
        return

    slow_path = f"/api/slow?ms={SLOW_MS}"
    box: dict[str, Exchange] = {}
    slow_client, fresh_client = p.new_client(), p.new_client()
    p.get("/health", client=slow_client, timeout=3.0)  # open the connection the slow request reuses
    sent = threading.Event()
    slow_client.event_hooks = {"request": [lambda request: sent.set()], "response": []}

    def in_flight() -> None:
        box["slow"] = p.get(slow_path, client=slow_client, timeout=SLOW_MS / 1000 + EXIT_WITHIN_S)
        slow_client.close()  # like a client that's done; idle keep-alive handling isn't judged

    worker = threading.Thread(target=in_flight, daemon=True)
    worker.start()
    sent.wait(timeout=5.0)
    started = time.monotonic()  # the timeline counts from the slow request going out

    _sleep_until(started + TERM_AT_S)
    os.kill(proc.pid, signal.SIGTERM)
    term_at = time.monotonic()
    _sleep_until(started + NEW_CONNECTION_AT_S)
    fresh = p.get("/api/slow?ms=1", client=fresh_client, timeout=NEW_CONNECTION_TIMEOUT_S)

    worker.join(timeout=SLOW_MS / 1000 + EXIT_WITHIN_S + 1)
    slow = box.get("slow")
    try:
        code: int | None = proc.wait(timeout=max(0.1, term_at + EXIT_WITHIN_S - time.monotonic()))
    except subprocess.TimeoutExpired:
        code = None
    exited_after = time.monotonic() - term_at
    p.notes.update({"exit_code": code, "exit_after_sigterm_s": round(exited_after, 2) if code is not None else None})

    slow_ok = slow is not None and slow.answered and slow.status == 200
    p.rule("the in-flight request completes 200", slow_ok,
           f"the in-flight GET {slow_path} {slow.outcome() if slow else 'never returned'} after SIGTERM at "
           f"{TERM_AT_S} s; finish in-flight requests before exiting (server.close(), Shutdown())",
           exchange=slow)
    refused = not fresh.answered or fresh.status == 503
    p.rule("new connections after SIGTERM are refused or get 503", refused,
           f"a new connection {NEW_CONNECTION_AT_S - TERM_AT_S:g} s after SIGTERM: {fresh.describe()} "
           f"{fresh.outcome()}; stop accepting new work once SIGTERM arrives", exchange=fresh)

    if code is None:
        p.rule(f"exits within {EXIT_WITHIN_S:g} s", False,
               f"the process was still running {EXIT_WITHIN_S:g} s after SIGTERM; "
               "close the server and the pool, then exit", exchange=slow)
        p.rule("database connections closed", False,
               "the process never exited, so its database connections stayed open")
        return
    p.rule(f"exits within {EXIT_WITHIN_S:g} s", True)
    # -15: killed by the signal with no handler. Only acceptable if nothing was cut,
    # which the in-flight rule already judged; say so rather than double-count.
    clean = code in GOOD_EXIT_CODES or (code == -signal.SIGTERM and slow_ok)
    p.rule("exit code 0 or 143", clean,
           "the process died from SIGTERM without handling it" if code == -signal.SIGTERM else
           f"the process exited with code {code} after SIGTERM; a clean shutdown exits 0 (or 143)",
           exchange=slow)

    remaining = _wait_backends_gone(p)
    p.rule("database connections closed", not remaining,
           f"{len(remaining)} connection(s) to the app database still open {DB_CLOSE_WITHIN_S:g} s "
           f"after the process exited (backend PIDs {remaining})")


def _wait_backends_gone(p: Probe) -> list[int]:
    deadline = time.monotonic() + DB_CLOSE_WITHIN_S
    while True:
        remaining = list(p.target.db.backends())
        if not remaining or time.monotonic() > deadline:
            return remaining
        time.sleep(0.05)


def _sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.monotonic()))
