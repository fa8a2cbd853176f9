"""RATE_LIMIT_MAX requests per RATE_LIMIT_WINDOW_MS per client address, for every
DRF view together (one budget for the whole API), as a fixed window.

Why not DRF's SimpleRateThrottle/AnonRateThrottle: their rate strings only know
whole seconds, minutes, hours and days ("50/s"), and they read, append to and write
back a list of timestamps, which lets concurrent threads overwrite each other's
hits. Here each (client, window) pair is one cache counter bumped with ``incr``,
which is atomic in Django's local-memory cache and in Redis alike.

The client is ``get_ident()``: the socket address (REMOTE_ADDR), because
settings.REST_FRAMEWORK["NUM_PROXIES"] is 0, so X-Forwarded-For cannot buy a fresh
quota. DRF answers 429 with Retry-After (from :meth:`wait`); the project's exception
handler gives it the error envelope.
"""
from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle


class ClientRateThrottle(BaseThrottle):
    key_prefix = "throttle:api"

    def allow_request(self, request, view) -> bool:
        limit, window_s = settings.RATE_LIMIT_MAX, settings.RATE_LIMIT_WINDOW_S
        now = time.time()
        window = int(now // window_s)  # windows are aligned: [n·w, (n+1)·w)
        self.resets_at = (window + 1) * window_s
        key = f"{self.key_prefix}:{self.get_ident(request)}:{window}"
        cache.add(key, 0, timeout=window_s + 1)  # no-op if the window already has a counter
        try:
            hits = cache.incr(key)
        except ValueError:  # evicted between add and incr: this is the first hit
            cache.set(key, 1, timeout=window_s + 1)
            hits = 1
        return hits <= limit

    def wait(self) -> float:
        return max(0.0, self.resets_at - time.time())
