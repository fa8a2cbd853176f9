"""health-check: liveness answers fast and ignores the database; readiness follows it.

Takes the app's database away (``target.db.block()`` refuses new connections and
terminates existing ones), so it first does what needs no outage (the quick hits,
readiness with the database up), then waits until every check that uses the database
has finished (``target.wait_for_quiet_database()``); only database-free checks run
through the outage. Liveness (``GET /health``) must answer
200 JSON with status ok/pass/up within 1 s (the Kubernetes probe default timeout),
must never be rate limited (2 x RATE_LIMIT_MAX quick hits), and must stay 200 while
the database is down — otherwise Kubernetes restarts healthy pods during a database
outage. Readiness (``GET /health/ready``) must turn 503 JSON when the database is
unreachable and back to 200 when it returns. The database is always unblocked.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from course.checklist.model import Result, Target
from course.checklist.probe import Exchange, Probe, run

ITEM_ID = "health-check"
LIVE, READY = "/health", "/health/ready"
PROBE_TIMEOUT_S = 1.0  # Kubernetes timeoutSeconds default
SWITCH_WITHIN_S = 5.0  # readiness must follow the database within this
HEALTHY = {"ok", "pass", "up"}
HIT_LANES = 10  # concurrent liveness hits
POLL_EVERY_S = 0.05  # between readiness polls (each may take the app's own readiness timeout)


def check(target: Target) -> Result:
    """Liveness, readiness, and both with the database blocked."""
    return run(target, ITEM_ID, _probe)


def _probe(p: Probe) -> None:
    # first what needs no outage, while the checks that use the database still run

    hits = 2 * p.target.rate_limit_max
    with ThreadPoolExecutor(HIT_LANES) as lanes:  # a few at a time: quick, like a prober's bursts
        answers = list(lanes.map(lambda _: p.get(LIVE, timeout=3.0), range(hits)))
    bad = next((ex for ex in answers if ex.status != 200), None)
    p.rule(f"{hits} quick {LIVE} hits all 200 (not rate limited)", bad is None,
           f"{bad.describe()} {bad.outcome()} among {hits} quick hits; "
           "health probes must never be rate limited" if bad else "", exchange=bad)

    ready = p.get(READY, timeout=3.0)
    p.rule(f"{READY} → 200 while the database is up", ready.status == 200,
           f"{ready.describe()} {ready.outcome()} with the database up; expected 200", exchange=ready)

    p.target.wait_for_quiet_database()
    live = p.get(LIVE, timeout=3.0)  # judged for speed on an app the other checks no longer load
    _judge_liveness(p, live, "")
    try:
        p.target.db.block()
        down = _poll(p, READY, lambda ex: ex.status == 503)
        p.rule(f"{READY} → 503 JSON with the database down",
               down.status == 503 and down.is_json_type,
               f"{down.describe()} {down.outcome()} with the database unreachable for "
               f"{SWITCH_WITHIN_S:g} s; readiness must answer 503 JSON (and quickly: bound the "
               "pool's acquire/connect timeout)", exchange=down)
        live_down = p.get(LIVE, timeout=3.0)
        _judge_liveness(p, live_down, " with the database down")
    finally:
        p.target.db.unblock()

    back = _poll(p, READY, lambda ex: ex.status == 200)
    p.rule(f"{READY} → 200 again once the database is back", back.status == 200,
           f"{back.describe()} {back.outcome()} {SWITCH_WITHIN_S:g} s after the database came back; "
           "the pool must reconnect", exchange=back)


def _judge_liveness(p: Probe, ex: Exchange, when: str) -> None:
    fast = ex.answered and ex.elapsed <= PROBE_TIMEOUT_S
    p.rule(f"{LIVE} → 200 within {PROBE_TIMEOUT_S:g} s{when}", fast and ex.status == 200,
           f"{ex.describe()}{when} {ex.outcome()} in {ex.elapsed:.2f} s; liveness must answer 200 "
           f"within {PROBE_TIMEOUT_S:g} s and must not depend on the database", exchange=ex)
    body = ex.json(default=None) if ex.is_json_type else None
    status = body.get("status") if isinstance(body, dict) else None
    p.rule(f"{LIVE} JSON status ok/pass/up{when}",
           isinstance(status, str) and status.lower() in HEALTHY,
           f'{ex.describe()}{when} {ex.outcome()} with body {ex.text[:120]!r}; expected JSON like '
           '{"status": "ok"}', exchange=ex)


def _poll(p: Probe, path: str, done) -> Exchange:
    """Ask until ``done(exchange)`` or SWITCH_WITHIN_S has passed; the last answer."""
    deadline = time.monotonic() + SWITCH_WITHIN_S
    while True:
        remaining = deadline - time.monotonic()
        ex = p.get(path, timeout=max(0.5, min(3.0, remaining)))
        if done(ex) or time.monotonic() >= deadline:
            return ex
        time.sleep(POLL_EVERY_S)
