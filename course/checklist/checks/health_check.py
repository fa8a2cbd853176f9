"""health-check: liveness answers fast and ignores the database; readiness follows it.

Takes the app's database away (``target.db.block()`` refuses new connections and
terminates existing ones), so it first does what needs no outage (the quick hits,
readiness with the database up), then waits until every check that uses the database
has finished (``target.wait_for_quiet_database()``); only database-free checks run
through the outage. Liveness (``GET /health``) must answer
200 JSON with status ok/pass/up within 1 s (the Kubernetes probe default timeout),
must never be rate limited (2 x RATE_LIMIT_MAX quick hits, sent while readiness notices
the outage), and must stay 200 while the database is down — otherwise Kubernetes restarts healthy pods during a database
outage. Readiness (``GET /health/ready``) must turn 503 JSON when the database is
unreachable and back to 200 within SWITCH_WITHIN_S of its return (polled after the
event-loop probe below, which overlaps the pool's reconnect). The database is always
unblocked.

Once the database is back and every other check has finished (``target.wait_until_alone()``), liveness must
stay fast while ``SLOW_IN_FLIGHT`` requests to ``/api/slow?ms=SLOW_MS`` are in flight: the
contract's ``/api/slow`` waits without working, so a server that serves them concurrently
answers ``/health`` at once. If ``/health`` stalls as long as a slow request, something
blocks the event loop or async runtime — a ``time.sleep`` or a sync driver inside
``async def``, a CPU loop in a Node handler — and the result carries the seed's
``ASYNC_PATTERN_MISMATCH``: a liveness probe that times out gets a healthy pod restarted.
An app whose ``/api/slow`` does not answer 200 is not judged on this (the evidence says
why): that route is graceful-shutdown's to require.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from course.checklist.model import Result, Target
from course.checklist.probe import Exchange, Probe, run
from course.codes import ASYNC_PATTERN_MISMATCH

ITEM_ID = "health-check"
LIVE, READY = "/health", "/health/ready"
PROBE_TIMEOUT_S = 1.0  # Kubernetes timeoutSeconds default
SWITCH_WITHIN_S = 5.0  # readiness must follow the database within this
HEALTHY = {"ok", "pass", "up"}
HIT_LANES = 10  # concurrent liveness hits
POLL_EVERY_S = 0.05  # between readiness polls (each may take the app's own readiness timeout)
SLOW_MS = 400  # each /api/slow request of the event-loop probe waits this long
SLOW_IN_FLIGHT = 4  # at once: a blocked loop serialises them, so /health waits up to 4 x SLOW_MS
STALL_S = SLOW_MS / 1000  # /health slower than one whole slow request under that load: blocked


def check(target: Target) -> Result:
    """Liveness, readiness, and both with the database blocked."""
    return run(target, ITEM_ID, _probe)


def _probe(p: Probe) -> None:
    # first what needs no outage, while the checks that use the database still run

    # polled like the switches below: under the other checks' load a readiness probe that
    # bounds its pool wait may answer 503 once (a kubelet retries: failureThreshold 3)
    ready = _poll(p, READY, lambda ex: ex.status == 200)
    p.rule(f"{READY} → 200 while the database is up", ready.status == 200,
           f"{ready.describe()} {ready.outcome()} with the database up for {SWITCH_WITHIN_S:g} s; "
           "expected 200", exchange=ready)

    p.target.wait_for_quiet_database()
    live = p.get(LIVE, timeout=3.0)  # judged for speed on an app the other checks no longer load
    _judge_liveness(p, live, "")
    try:
        p.target.db.block()
        # the quick hits go out while readiness notices the outage (mostly waiting on the
        # app's pool timeout): liveness must neither be rate limited nor need the database
        hits = 2 * p.target.rate_limit_max
        with ThreadPoolExecutor(1) as side:
            quick = side.submit(_quick_hits, p, hits)
            down = _poll(p, READY, lambda ex: ex.status == 503)
            answers = quick.result()
        bad = next((ex for ex in answers if ex.status != 200), None)
        p.rule(f"{hits} quick {LIVE} hits all 200 (not rate limited) with the database down", bad is None,
               f"{bad.describe()} {bad.outcome()} among {hits} quick hits with the database down; "
               "health probes must never be rate limited or need the database" if bad else "", exchange=bad)
        p.rule(f"{READY} → 503 JSON with the database down",
               down.status == 503 and down.is_json_type,
               f"{down.describe()} {down.outcome()} with the database unreachable for "
               f"{SWITCH_WITHIN_S:g} s; readiness must answer 503 JSON (and quickly: bound the "
               "pool's acquire/connect timeout)", exchange=down)
        live_down = p.get(LIVE, timeout=3.0)
        _judge_liveness(p, live_down, " with the database down")
    finally:
        p.target.db.unblock()
        back_since = time.monotonic()

    # The event-loop probe goes first, while the app's pool may still be waiting out its
    # reconnect backoff (psycopg_pool's first retry comes about a second after a failed
    # connect): neither /health nor /api/slow needs the database, and no readiness poll
    # runs meanwhile to take one of a threaded server's workers from the probe.
    p.target.wait_until_alone()
    _judge_under_load(p)

    back = _poll(p, READY, lambda ex: ex.status == 200, since=back_since)
    p.rule(f"{READY} → 200 again once the database is back", back.status == 200,
           f"{back.describe()} {back.outcome()} {SWITCH_WITHIN_S:g} s after the database came back; "
           "the pool must reconnect", exchange=back)


def _quick_hits(p: Probe, hits: int) -> list[Exchange]:
    with ThreadPoolExecutor(HIT_LANES) as lanes:  # a few at a time: quick, like a prober's bursts
        return list(lanes.map(lambda _: p.get(LIVE, timeout=3.0), range(hits)))


def _judge_under_load(p: Probe) -> None:
    """``/health`` sampled while SLOW_IN_FLIGHT ``/api/slow`` requests are in flight: the slowest
    answer must stay under one slow request's time, or the event loop is blocked."""
    slow_path = f"/api/slow?ms={SLOW_MS}"
    client = p.new_client()  # its own connections: the samples never queue behind the slow requests
    with ThreadPoolExecutor(SLOW_IN_FLIGHT) as lanes:
        slow = [lanes.submit(p.get, slow_path, timeout=SLOW_IN_FLIGHT * STALL_S + 5) for _ in range(SLOW_IN_FLIGHT)]
        time.sleep(0.05)  # the slow requests are in the app now
        samples: list[Exchange] = []
        while not all(f.done() for f in slow) and len(samples) < 100:
            samples.append(p.get(LIVE, timeout=SLOW_IN_FLIGHT * STALL_S + 3, client=client))
            time.sleep(0.02)
        slow_answers = [f.result() for f in slow]
    unanswered = next((ex for ex in slow_answers if ex.status != 200), None)
    if unanswered is not None:  # then it is not the event loop we measured: no verdict, a note
        # (a missing /api/slow is graceful-shutdown's finding; health-check judges only its own)
        p.notes["health_under_load_ms"] = (f"not judged: {unanswered.describe()} {unanswered.outcome()} "
                                           "(the contract's /api/slow?ms=N waits N ms and answers 200)")
        return
    worst = max(samples, key=lambda ex: ex.elapsed if ex.answered else float("inf"), default=None)
    if worst is None:
        return  # every slow request was over before a sample was sent: nothing to judge
    stalled = not worst.answered or worst.elapsed >= STALL_S
    p.notes["health_under_load_ms"] = {"samples": len(samples), "slowest": round(worst.elapsed * 1000),
                                       "slow_requests_ms": [round(ex.elapsed * 1000) for ex in slow_answers]}
    p.rule(f"{LIVE} stays fast while {SLOW_IN_FLIGHT} {slow_path} are in flight", not stalled,
           f"{ASYNC_PATTERN_MISMATCH.code}: {worst.describe()} {worst.outcome()} after {worst.elapsed:.2f} s while "
           f"{SLOW_IN_FLIGHT} requests to {slow_path} were in flight, which only wait: something blocks the event "
           "loop or async runtime, so every request waits for it (a liveness probe too). "
           f"{ASYNC_PATTERN_MISMATCH.recovery}: await asyncio.sleep / an async driver inside `async def` (or a "
           "plain `def` route, run in a thread pool), setTimeout or a worker thread in Node, never a busy loop",
           exchange=worst, code=ASYNC_PATTERN_MISMATCH.code)


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


def _poll(p: Probe, path: str, done, since: float | None = None) -> Exchange:
    """Ask (at least once) until ``done(exchange)`` or SWITCH_WITHIN_S has passed since
    ``since`` (default: now); the last answer."""
    deadline = (time.monotonic() if since is None else since) + SWITCH_WITHIN_S
    while True:
        remaining = deadline - time.monotonic()
        ex = p.get(path, timeout=max(0.5, min(3.0, remaining)))
        if done(ex) or time.monotonic() >= deadline:
            return ex
        time.sleep(POLL_EVERY_S)
