"""Pure ASGI middleware (no BaseHTTPMiddleware: it buffers and breaks streaming).

Registered in main.py so that, outermost first, a request passes:

    AccessLog → Metrics → SecurityHeaders → CORS → GZip → RateLimit → UnhandledError → routes

Everything a client can receive, the 500 and the 429 included, is produced inside
SecurityHeaders, Metrics and AccessLog, so every response carries the headers, is
counted and is logged.
"""
from __future__ import annotations

import logging
import math
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_response

access_log = logging.getLogger("app.access")
error_log = logging.getLogger("app.errors")


class UnhandledErrorMiddleware:
    """The safety net: an exception no handler expected is logged with its traceback
    (at error level) and answered with a bare 500 envelope. Sits inside the other
    middleware so that the 500 still gets security headers, CORS, metrics and an
    access line (Starlette's own ServerErrorMiddleware sits outside all of them)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception:
            error_log.exception("unhandled error in %s %s", scope["method"], scope["path"],
                                extra={"method": scope["method"], "path": scope["path"]})
            if started:  # too late for a clean answer: let the server drop the connection
                raise
            await error_response(500, "INTERNAL_ERROR", "Internal server error")(scope, receive, send)


class RateLimitMiddleware:
    """At most ``limit`` requests per ``window_s`` per client address on paths under
    ``prefix`` (a fixed window), then 429 with Retry-After.

    The key is the socket's peer address (``scope["client"]``). uvicorn runs with
    proxy_headers off, so a forged X-Forwarded-For cannot change it; behind a load
    balancer, enable proxy headers with the balancer's address in forwarded_allow_ips.
    The counters live in this process: run one process per instance, or move them to
    Redis when running several.
    """

    def __init__(self, app: ASGIApp, *, limit: int, window_s: float, prefix: str = "/api/"):
        self.app, self.limit, self.window_s, self.prefix = app, limit, window_s, prefix
        self.windows: dict[str, tuple[float, int]] = {}  # client → (window start, hits)
        self.last_sweep = time.monotonic()

    def hit(self, client: str) -> tuple[int, float]:
        """Count one request; returns (hits in this window, seconds until it resets)."""
        now = time.monotonic()
        if now - self.last_sweep > self.window_s:  # forget finished windows now and then
            self.windows = {k: v for k, v in self.windows.items() if now - v[0] < self.window_s}
            self.last_sweep = now
        start, hits = self.windows.get(client, (now, 0))
        if now - start >= self.window_s:
            start, hits = now, 0
        self.windows[client] = (start, hits + 1)
        return hits + 1, start + self.window_s - now

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            return await self.app(scope, receive, send)
        client = scope["client"][0] if scope.get("client") else "unknown"
        hits, reset_s = self.hit(client)
        reset = str(max(1, math.ceil(reset_s)))
        headers = {  # draft-ietf-httpapi-ratelimit-headers (draft 6 names)
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(max(0, self.limit - hits)),
            "RateLimit-Reset": reset,
        }
        if hits > self.limit:
            response = error_response(
                429, "RATE_LIMITED", f"Too many requests: at most {self.limit} per {self.window_s:g} s",
                headers={**headers, "Retry-After": reset})
            return await response(scope, receive, send)

        raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *raw]
            await send(message)

        await self.app(scope, receive, send_with_headers)


# helmet 8's defaults (OWASP Secure Headers Project). HSTS is harmless over plain HTTP:
# browsers ignore it there and honour it once the service is behind TLS.
SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';"
     b"frame-ancestors 'self';img-src 'self' data:;object-src 'none';script-src 'self';"
     b"script-src-attr 'none';style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"origin-agent-cluster", b"?1"),
    (b"referrer-policy", b"no-referrer"),
    (b"strict-transport-security", b"max-age=31536000; includeSubDomains"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-dns-prefetch-control", b"off"),
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"x-permitted-cross-domain-policies", b"none"),
    (b"x-xss-protection", b"0"),
]
_DROP = {b"server", b"x-powered-by"}


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() not in _DROP]
                present = {name.lower() for name, _ in headers}
                message["headers"] = headers + [h for h in SECURITY_HEADERS if h[0] not in present]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class MetricsMiddleware:
    """Counts and times every request, labelled by the route *template*
    (``/api/users/{user_id}``) that the router stored in the scope, never by the raw
    path: one series per user id would swamp Prometheus."""

    def __init__(self, app: ASGIApp, *, requests: Any, duration: Any):
        self.app, self.requests, self.duration = app, requests, duration

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        status = 500

        async def send_recording(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_recording)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.requests.labels(scope["method"], route, str(status)).inc()
            self.duration.labels(scope["method"], route, str(status)).observe(time.perf_counter() - start)


class AccessLogMiddleware:
    """One line per request: method, path, status, duration_ms, client and request id,
    at info (2xx/3xx), warning (4xx) or error (5xx). Request headers are not logged,
    so credentials such as Authorization never reach the log store."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        request_id = _request_id(scope)
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            level = logging.ERROR if status >= 500 else logging.WARNING if status >= 400 else logging.INFO
            access_log.log(level, "%s %s %s", scope["method"], scope["path"], status, extra={
                "method": scope["method"],
                "path": scope["path"],
                "status": status,
                "duration_ms": round((time.perf_counter() - start) * 1000, 2),
                "client": scope["client"][0] if scope.get("client") else None,
                "request_id": request_id,
            })


def _request_id(scope: Scope) -> str:
    """The caller's X-Request-ID if it looks sane (it's echoed into logs), else a new one."""
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if 0 < len(candidate) <= 64 and candidate.replace("-", "").isalnum():
                return candidate
    return str(uuid.uuid4())
