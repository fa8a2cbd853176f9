"""rate-limiting: RATE_LIMIT_MAX requests per window per client, then 429.

Bursts GET /api/slow?ms=0 (waves of RATE_LIMIT_MAX + 1 concurrent requests) from this
check's own loopback address until a 429 arrives,
then checks the 429 (JSON body, Retry-After or RateLimit headers), that a spoofed
``X-Forwarded-For`` doesn't buy a fresh quota, that /health is not limited (any answer
but 429: an app without /health fails health-check, not this), and that requests
succeed again once the window has passed.

The X-Forwarded-For rule sends SPOOFS concurrent requests, each with a different
address, the moment the first 429 arrives. A limiter that trusts the header lets all
of them through (each address has a full quota). A token bucket or sliding window
that refills continuously may let one or two through — that is refill, not a fresh
quota — so only "all through, while the same client without the header still gets
429" fails the rule. "Still gets 429" is judged from CONFIRMS concurrent plain requests (any
429 among them), for the same reason: refill may let one of them through.

A fixed-window limiter may reset in the middle of the burst, so anything from
RATE_LIMIT_MAX to 2 x RATE_LIMIT_MAX allowed requests is consistent with the limit; a
first 429 earlier than RATE_LIMIT_MAX means the limit isn't the configured one (or
isn't per client).
"""
from __future__ import annotations

import dataclasses
import random
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

from course.checklist.model import Result, Target
from course.checklist.probe import Exchange, Probe, run

ITEM_ID = "rate-limiting"
# rate-limited like every /api route, but no database: the burst measures the limiter, not the pool
PATH = "/api/slow?ms=0"
RECOVERY_MARGIN_S = 0.3
HEADER_PREFIXES = ("ratelimit", "x-ratelimit", "x-rate-limit")
MAX_WAVE = 100  # concurrent requests per wave at most
MAX_BURST_WINDOWS = 6  # give up on a 429 after this many windows of bursting
SPOOFS = 10  # concurrent requests with distinct X-Forwarded-For addresses after the first 429
CONFIRMS = 5  # concurrent plain requests after them, when any spoof got through


def check(target: Target) -> Result:
    """Burst, inspect the 429, then wait out the window; see the module docstring."""
    return run(target, ITEM_ID, _probe)


@dataclasses.dataclass
class Burst:
    allowed: int  # answers other than 429 (the first 429 may come later than others)
    limited: Exchange | None  # the first 429 to arrive
    failed: Exchange | None  # a request that got no answer
    seconds: float
    spoofs: list[Exchange] = dataclasses.field(default_factory=list)  # fresh X-Forwarded-For each
    confirms: list[Exchange] = dataclasses.field(default_factory=list)  # without it, if any got through

    @property
    def through(self) -> list[Exchange]:
        return [ex for ex in self.spoofs if ex.answered and ex.status != 429]

    @property
    def still_limited(self) -> bool:
        return any(ex.status == 429 for ex in self.confirms)

    @property
    def rolled_over(self) -> bool:
        """Spoofs and plain requests all got through: the window ended right after the
        429 (a busy machine made the burst slow), which says nothing about the header."""
        return bool(self.through) and bool(self.confirms) and not self.still_limited

    @property
    def reset_by_spoof(self) -> bool:
        return len(self.through) == len(self.spoofs) > 0 and self.still_limited


def _batch(p: Probe, headers: list[dict]) -> list[Exchange]:
    with ThreadPoolExecutor(len(headers)) as pool:
        return list(pool.map(lambda h: p.get(PATH, headers=h), headers))


def refill_bound(limit: int, window: float, seconds: float) -> int:
    """The most requests any limiter honouring ``limit`` per ``window`` lets through in
    ``seconds``: a fixed window may reset once mid-burst (2 x limit), and a token bucket
    or sliding window refills at limit per window on top of that."""
    return int(limit * (2 + seconds / window))


def burst(p: Probe, limit: int, window: float) -> Burst:
    """Waves of concurrent requests, stopping after the wave that got the first 429.

    A whole wave reaches the limiter within a fraction of the window even when the app
    answers slowly because every other check is hitting it too (sequential requests
    at 40 ms each would never get limit + 1 into a short window). The spoofed requests
    go out the moment the first 429 arrives, while the wave's slower 200s are still in
    flight, so the window can't roll over first.

    The first wave is limit + 1; later ones are as large as MAX_WAVE allows, because a
    token bucket refills while a slow wave (a loaded machine, a sandboxed app) is in
    flight: two waves of 51 taking 1.2 s against 50 per second never drain it. Bursting
    stops without a 429 only once more requests got through than any limiter keeping
    the limit could allow in the time taken (``refill_bound``), or at MAX_BURST_WINDOWS.
    """
    started = time.monotonic()
    allowed = 0
    size = min(limit + 1, MAX_WAVE)
    with ThreadPoolExecutor(max(size, MAX_WAVE)) as pool:
        while True:
            futures = [pool.submit(p.get, PATH) for _ in range(size)]
            b = Burst(allowed, None, None, 0.0)
            for future in as_completed(futures):
                ex = future.result()
                if ex.status == 429 and b.limited is None:
                    b.limited = ex
                    b.spoofs = _batch(p, [{"X-Forwarded-For": f"203.0.113.{n}"}
                                          for n in random.sample(range(1, 255), SPOOFS)])
                    if b.through:
                        b.confirms = _batch(p, [{}] * CONFIRMS)
            wave = [f.result() for f in futures]
            b.seconds = time.monotonic() - started
            b.failed = next((ex for ex in wave if not ex.answered), None)
            b.allowed += sum(1 for ex in wave if ex.answered and ex.status != 429)
            if b.failed is not None or b.limited is not None:
                return b
            allowed = b.allowed
            if allowed > refill_bound(limit, window, b.seconds) or b.seconds > MAX_BURST_WINDOWS * window:
                return Burst(allowed, None, None, b.seconds)
            size = max(size, min(2 * (limit + 1), MAX_WAVE))


def _wait_out_window(p: Probe, window: float) -> None:
    """Sleep until this check's last request is a window (plus a margin) in the past."""
    last = max((ex.started + ex.elapsed for ex in p.exchanges), default=time.monotonic())
    time.sleep(max(0.0, last + window + RECOVERY_MARGIN_S - time.monotonic()))


def _probe(p: Probe) -> None:
    limit, window = p.target.rate_limit_max, p.target.rate_limit_window_ms / 1000
    for _attempt in range(2):
        b = burst(p, limit, window)
        if b.limited is None or not b.rolled_over:
            break
        # Spoofs and confirms all got through right after the 429: a fixed window rolled
        # over, or a token bucket refilled while a loaded machine was slow to send them.
        # Either way the limiter's state is unknown, so wait until this client has been
        # idle for a whole window -- then every kind of limiter (fixed or sliding window,
        # token bucket) has a full quota again -- and burst afresh.
        _wait_out_window(p, window)
    p.notes["burst"] = {"allowed": b.allowed, "seconds": round(b.seconds, 3),
                        "limit": limit, "window_s": window}

    last = p.exchanges[-1]
    if b.failed is not None:
        p.rule("answers every request", False,
               f"{b.failed.describe()} {b.failed.outcome()} during a burst of {limit + 1} concurrent "
               "requests", exchange=b.failed)
        return
    if b.limited is None:
        p.rule(f"429 after {limit} requests", False,
               f"{b.allowed} requests to GET {PATH} from one client in {b.seconds:.1f} s never got "
               f"429, where RATE_LIMIT_MAX={limit} per {window:g} s allows at most "
               f"{refill_bound(limit, window, b.seconds)}; the limit must be enforced", exchange=last)
        return
    ex = b.limited
    p.rule(f"429 after {limit} requests", True)
    p.rule(f"at least RATE_LIMIT_MAX={limit} allowed first", b.allowed >= limit,
           f"only {b.allowed} requests were allowed before 429; RATE_LIMIT_MAX is {limit} per client "
           "(read it from the environment, key the limit on the client)", exchange=ex)
    body = ex.json(default=None) if ex.is_json_type else None
    p.rule("429 has a JSON body", isinstance(body, dict),
           f"{ex.describe()} answered 429 {ex.media_type or 'with no Content-Type'}; "
           "the 429 body must be JSON like every other error", exchange=ex)
    names = [n.lower() for n in ex.response_headers.keys()]
    hinted = "retry-after" in names or any(n.startswith(HEADER_PREFIXES) for n in names)
    p.rule("429 says when to retry", hinted,
           f"{ex.describe()} answered 429 without Retry-After or RateLimit/X-RateLimit headers; "
           "tell clients when to come back (RFC 6585, RFC 9110 §10.2.3)", exchange=ex)
    if b.rolled_over:
        p.notes["x-forwarded-for"] = "inconclusive: the window rolled over right after the 429"
    elif b.through:
        p.notes["x-forwarded-for"] = (f"{len(b.through)} of {len(b.spoofs)} got through right after the "
                                      "429: refill (token bucket, sliding window), not a fresh quota")
    spoof = (b.through or b.spoofs)[0]
    p.rule("X-Forwarded-For does not reset the limit", not b.reset_by_spoof,
           f"all {len(b.spoofs)} requests to {spoof.describe()} with a different X-Forwarded-For each "
           f"(e.g. {spoof.headers['X-Forwarded-For']}) {spoof.outcome()} right after a 429, while the "
           "same client without it still got 429: the limiter trusts a header any client can set "
           "(no trusted proxy here)", exchange=spoof)
    health = p.get("/health")
    # only "not 429" is this item's evidence: whether /health works at all is health-check's business
    p.rule("/health is not rate limited", health.answered and health.status != 429,
           f"{health.describe()} {health.outcome()} while this client was limited; "
           "probes must never be rate limited", exchange=health)

    limited_at = ex.started + ex.elapsed
    time.sleep(max(0.0, limited_at + window + RECOVERY_MARGIN_S - time.monotonic()))
    again = p.get(PATH)
    p.rule("requests succeed again after the window", again.answered and again.status != 429,
           f"{again.describe()} {again.outcome()} {window + RECOVERY_MARGIN_S:.1f} s after the 429; "
           f"the window is {window:g} s (RATE_LIMIT_WINDOW_MS)", exchange=again)
