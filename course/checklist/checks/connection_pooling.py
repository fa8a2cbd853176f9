"""connection-pooling: a bounded pool of reused connections, judged from PostgreSQL.

Fires two bursts of concurrent ``GET /api/slow-query?ms=...`` (each holds a pooled
connection in ``pg_sleep``) while a background thread samples the app database's
backends (``target.db.backends()``, i.e. pg_stat_activity). Pass: every request
succeeds, the peak number of connections is at most DB_POOL_MAX (a bound) and at least
2 (real concurrency), and both bursts together use at most DB_POOL_MAX distinct
backend PIDs (connections are reused, not reopened per request: Django's default
CONN_MAX_AGE=0 and "new Client() per request" fail here).

Other checks hit the app meanwhile; their queries go through the same pool, so the
bounds still hold.
"""
from __future__ import annotations

import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from course.checklist.model import Result, Target
from course.checklist.probe import Exchange, Probe, run

ITEM_ID = "connection-pooling"
SLEEP_MS = 100  # per query: 3 waves of DB_POOL_MAX, sampled every 30 ms, twice
SAMPLE_EVERY_S = 0.03
BURSTS = 2


def check(target: Target) -> Result:
    """Two bursts of slow queries while sampling pg_stat_activity."""
    return run(target, ITEM_ID, _probe)


def burst_size(pool_max: int) -> int:
    """Enough requests to queue behind the pool: 2 waves, 8 to 20 requests."""
    return min(20, max(8, 2 * pool_max))


class Sampler(threading.Thread):
    """Polls the app's backends until stopped; keeps the peak and every PID seen."""

    def __init__(self, db, every: float = SAMPLE_EVERY_S):
        super().__init__(daemon=True, name="pool-sampler")
        self.db, self.every = db, every
        self.peak = 0
        self.pids: set[int] = set()
        self.samples = 0
        self.errors: list[str] = []
        self.timeline: list[int] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.sample()
            self._stop_event.wait(self.every)

    def sample(self) -> None:
        try:
            pids = list(self.db.backends())
        except Exception as exc:  # noqa: BLE001 - recorded, reported as a note
            self.errors.append(f"{type(exc).__name__}: {exc}")
            return
        self.samples += 1
        self.peak = max(self.peak, len(pids))
        self.pids.update(pids)
        self.timeline.append(len(pids))

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)
        self.sample()  # one last look after the bursts


def _probe(p: Probe) -> None:
    pool_max = p.target.pool_max
    size = burst_size(pool_max)
    sampler = Sampler(p.target.db)
    sampler.sample()
    sampler.start()
    results: list[Exchange] = []
    walls = []
    try:
        with ThreadPoolExecutor(max_workers=size) as pool:
            for _ in range(BURSTS):
                started = time.monotonic()
                futures = [pool.submit(p.get, f"/api/slow-query?ms={SLEEP_MS}", timeout=15.0)
                           for _ in range(size)]
                results += [f.result() for f in futures]
                walls.append(round(time.monotonic() - started, 3))
    finally:
        sampler.stop()

    ideal = math.ceil(size / pool_max) * SLEEP_MS / 1000
    p.notes.update({
        "pool_max": pool_max, "requests_per_burst": size, "sleep_ms": SLEEP_MS,
        "peak_connections": sampler.peak, "distinct_backend_pids": sorted(sampler.pids),
        "samples": sampler.samples, "burst_wall_s": walls, "ideal_wall_s": ideal,
        "connections_over_time": _compress(sampler.timeline),
    })
    if sampler.errors:
        p.notes["sampling_errors"] = sampler.errors[:3]
    if sampler.samples < 3:
        raise RuntimeError(f"could not sample pg_stat_activity: {sampler.errors[:1]}")

    failed = [ex for ex in results if not (ex.answered and ex.status == 200)]
    example = failed[0] if failed else results[-1]
    p.rule(f"all {len(results)} concurrent slow queries → 200", not failed,
           f"{len(failed)} of {len(results)} concurrent {example.describe()} failed, e.g. "
           f"{example.outcome()}; a full pool must queue requests, not fail them", exchange=example)
    p.rule(f"peak connections ≤ DB_POOL_MAX={pool_max}", sampler.peak <= pool_max,
           f"{sampler.peak} connections to the app database at once (this check sent {size} "
           f"concurrent requests); the pool must be bounded by DB_POOL_MAX={pool_max}", exchange=example)
    p.rule("peak connections ≥ 2 (queries run concurrently)", sampler.peak >= 2,
           f"at most {sampler.peak} connection(s) seen under {size} concurrent requests; "
           "queries are serialised (a single shared connection?)", exchange=example)
    p.rule(f"≤ {pool_max} distinct connections across both bursts", len(sampler.pids) <= pool_max,
           f"{len(sampler.pids)} distinct backend PIDs over {BURSTS} bursts of {size} requests; "
           "connections must be reused (pooled), not opened per request", exchange=example)


def _compress(timeline: list[int]) -> str:
    """[0, 0, 4, 4, 4, 1] → "0×2 4×3 1×1" to keep the evidence short."""
    out: list[str] = []
    prev, count = None, 0
    for n in timeline + [None]:
        if n == prev:
            count += 1
            continue
        if prev is not None:
            out.append(f"{prev}×{count}")
        prev, count = n, 1
    return " ".join(out)
