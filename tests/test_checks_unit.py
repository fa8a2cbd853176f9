"""Unit tests of the 11 checklist checks against a tiny in-process app.

The app below is a stdlib ``http.server`` that follows the course's service contract,
with switches that turn each production behaviour off the way real frameworks get it
wrong (HTML errors, reflected CORS, a limiter that trusts X-Forwarded-For, ...). Every
check is run against a passing and a failing variant, so each one is shown able to
fail. The database is faked (``FakeDB``): these tests judge the checks' logic; the
end-to-end runs against real apps and PostgreSQL live elsewhere.
"""
from __future__ import annotations

import contextlib
import dataclasses
import gzip
import json
import secrets
import subprocess
import sys
import textwrap
import threading
import time
import traceback
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest

from course.checklist import items
from course.checklist.checks import (CHECKS, compression, connection_pooling, cors, error_handling,
                                     graceful_shutdown, health_check, logs, metrics, rate_limiting,
                                     request_validation, security_headers, tracing)
from course.checklist.model import Target
from course.checklist.probe import Probe

pytestmark = pytest.mark.timeout(60)

ENV = {
    "HOST": "127.0.0.1",
    "DB_POOL_MAX": "4",
    "CORS_ORIGINS": "https://app.example.com,http://localhost:5173",
    "RATE_LIMIT_MAX": "30",
    "RATE_LIMIT_WINDOW_MS": "600",
    "LOG_LEVEL": "info",
    "NODE_ENV": "production",
}
USERS = [{"id": i, "name": f"User {i}", "email": f"user{i}@example.com",
          "bio": f"Member number {i} of the probe app, here to make the list large."}
         for i in range(1, 301)]
SECURITY_HEADERS = [
    ("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "SAMEORIGIN"),
    ("Content-Security-Policy", "default-src 'self'; frame-ancestors 'self'"),
    ("Referrer-Policy", "no-referrer"), ("X-XSS-Protection", "0"),
]


# --- fakes for the engine's side ------------------------------------------------------
class ListLog:
    """A LogCapture over lines appended by the app."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._lock = threading.Lock()

    def write(self, line: str) -> None:
        with self._lock:
            self._buf += (line + "\n").encode()

    def offset(self) -> int:
        with self._lock:
            return len(self._buf)

    def since(self, offset: int) -> str:
        with self._lock:
            return self._buf[offset:].decode("utf-8", errors="replace")


class FakePool:
    """Connections as fake backend PIDs: a bounded, reusing pool, or (``reconnect``)
    a fresh unbounded connection per query like Django's CONN_MAX_AGE=0."""

    def __init__(self, size: int, reconnect: bool = False):
        self.reconnect = reconnect
        self.sem = threading.BoundedSemaphore(size)
        self.idle: list[int] = []
        self.open: set[int] = set()
        self.next_pid = 1000
        self.lock = threading.Lock()

    def _new_pid(self) -> int:
        self.next_pid += 1
        self.open.add(self.next_pid)
        return self.next_pid

    def query(self, ms: int) -> None:
        if self.reconnect:
            with self.lock:
                pid = self._new_pid()
            time.sleep(ms / 1000)
            with self.lock:
                self.open.discard(pid)
            return
        with self.sem:
            with self.lock:
                pid = self.idle.pop() if self.idle else self._new_pid()
            time.sleep(ms / 1000)
            with self.lock:
                self.idle.append(pid)

    def close_all(self) -> None:
        with self.lock:
            self.open.clear()
            self.idle.clear()


class FakeDB:
    """The AppDatabase protocol over a FakePool."""

    name = "probe_app"
    url = "postgresql://fake/probe_app"

    def __init__(self, pool: FakePool):
        self.pool = pool
        self.blocked = False

    def backends(self) -> list[int]:
        with self.pool.lock:
            return sorted(self.pool.open)

    def block(self) -> None:
        self.blocked = True
        self.pool.close_all()

    def unblock(self) -> None:
        self.blocked = False


ALIVE = SimpleNamespace(pid=0, poll=lambda: None, returncode=None)


# --- the app ----------------------------------------------------------------------------
GOOD = dict(
    errors="envelope",  # envelope | problem | html | off-contract (codes the contract does not have)
    logs="pino",  # pino | fastify | text | leak | info-500
    validation="all",  # all | first | none | body-only (a malformed id reaches the lookup: 404)
    gzip=True, vary=True,
    cors="allowlist",  # allowlist | reflect
    rate_limit=True,  # True (fixed window) | "token-bucket" | False
    rate_window_ms=None,  # overrides RATE_LIMIT_WINDOW_MS
    admit_per_s=None,  # requests reach the limiter one at a time, at most this many per second
    slow_xff_s=0.0,  # requests with X-Forwarded-For stall this long before the limiter (a busy moment)
    trust_xff=False, limit_health=False,
    pool_reconnect=False, liveness_uses_db=False, ready_checks_db=True,
    metrics="templated",  # templated | counter-only | concrete
    security="always",  # always | success-only | errors-only | none
    server="probe-app",
    blocking=False,  # True: /health and /api/slow share one lock, as on a blocked event loop
    tracing="none",  # none | continue (logs the traceparent's trace id) | new (logs a fresh one)
)


class App:
    """The service contract, switchable. ``route`` returns (status, headers, body)."""

    def __init__(self, **overrides):
        self.cfg = {**GOOD, **overrides}
        self.env = dict(ENV)
        if self.cfg["rate_window_ms"]:
            self.env["RATE_LIMIT_WINDOW_MS"] = str(self.cfg["rate_window_ms"])
        self.logs = ListLog()
        self.pool = FakePool(int(self.env["DB_POOL_MAX"]), reconnect=self.cfg["pool_reconnect"])
        self.db = FakeDB(self.pool)
        self.requests = Counter()
        self.windows: dict[str, tuple[float, int]] = {}
        self.lock = threading.Lock()
        self.next_user = 1000
        self.next_req = 0
        self.clients: set[str] = set()
        self.loop = threading.Lock()  # the one thread of a blocked event loop (cfg blocking)
        self.admit = threading.Lock()  # a slow accept queue (cfg admit_per_s)

    # routing -------------------------------------------------------------------------
    def route(self, method, target, headers, body, client):
        url = urlsplit(target)
        path, query = url.path, parse_qs(url.query)
        self.clients.add(client)
        origin = headers.get("Origin")
        if method == "OPTIONS" and headers.get("Access-Control-Request-Method"):
            return self._preflight(origin)
        limited = self._rate_limited(path, headers, client)
        if limited:
            status, out, payload = limited
        else:
            status, out, payload = self._dispatch(method, path, query, headers, body)
        out = out + self._cors_simple(origin)
        security = self.cfg["security"]
        if security == "always" or (security == "success-only" and status < 400) or \
                (security == "errors-only" and status >= 400):
            out += SECURITY_HEADERS
        if security == "none":
            out.append(("X-Powered-By", "Express"))
        return status, out, payload

    def _dispatch(self, method, path, query, headers, body):
        if path == "/health":
            if self.cfg["blocking"]:
                with self.loop:  # waits for a /api/slow sleeping on the loop
                    pass
            if self.cfg["liveness_uses_db"] and self.db.blocked:
                return self._json(503, {"status": "down"})
            return self._json(200, {"status": "ok"})
        if path == "/health/ready":
            if self.cfg["ready_checks_db"] and self.db.blocked:
                return self._json(503, {"status": "down", "checks": {"db": "unreachable"}})
            return self._json(200, {"status": "ok"})
        if path == "/metrics":
            return 200, [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")], self._metrics()
        if path == "/api/users" and method == "GET":
            return self._json(200, USERS, compressible=headers.get("Accept-Encoding", ""))
        if path == "/api/users" and method == "POST":
            return self._create(body)
        if path.startswith("/api/users/") and method == "GET":
            raw_id = path.rsplit("/", 1)[1]
            if not raw_id.isdigit() and self.cfg["validation"] != "body-only":
                return self._error(400, "BAD_REQUEST", "id must be an integer")
            user = next((u for u in USERS if str(u["id"]) == raw_id), None)
            return self._json(200, user) if user else self._error(404, "NOT_FOUND", "no such user")
        if path == "/api/slow":
            with self.loop if self.cfg["blocking"] else contextlib.nullcontext():
                time.sleep(int(query.get("ms", ["0"])[0]) / 1000)
            return self._json(200, {"slept": True})
        if path == "/api/slow-query":
            self.pool.query(int(query.get("ms", ["0"])[0]))
            return self._json(200, {"slept": True})
        if path == "/api/boom":
            try:
                raise RuntimeError("boom")
            except RuntimeError:
                return self._error(500, "INTERNAL_ERROR", "internal error", trace=traceback.format_exc())
        return self._error(404, "NOT_FOUND", f"no route {method} {path}")

    # behaviours ----------------------------------------------------------------------
    def _json(self, status, value, compressible=""):
        payload = json.dumps(value).encode()
        headers = [("Content-Type", "application/json; charset=utf-8")]
        if self.cfg["vary"]:
            headers.append(("Vary", "Accept-Encoding"))
        if self.cfg["gzip"] and "gzip" in compressible and len(payload) > 1024:
            payload = gzip.compress(payload)
            headers.append(("Content-Encoding", "gzip"))
        return status, headers, payload

    def _error(self, status, code, message, details=None, trace=""):
        kind = self.cfg["errors"]
        if kind == "html":
            page = f"<html><body><h1>{status}</h1><pre>{trace}</pre></body></html>"
            return status, [("Content-Type", "text/html; charset=utf-8")], page.encode()
        if kind == "problem":
            body = {"type": "about:blank", "title": message, "status": status, "errors": details}
            return status, [("Content-Type", "application/problem+json")], json.dumps(body).encode()
        if kind == "off-contract":  # the names the course used to mix: a code per framework, details a map
            code = {404: "HTTP_ERROR", 400: "VALIDATION_ERROR", 500: "SERVER_ERROR"}.get(status, code)
            details = {d["field"]: d["message"] for d in details} if details else details
        return self._json(status, {"error": {"code": code, "message": message, "details": details}})

    def _create(self, body):
        try:
            data = json.loads(body)
        except ValueError:
            return self._error(400, "BAD_REQUEST", "malformed JSON")
        problems = []
        if not isinstance(data.get("name"), str) or not data.get("name"):
            problems.append({"field": "name", "message": "must be a non-empty string"})
        email = data.get("email")
        if not isinstance(email, str) or "@" not in email:
            problems.append({"field": "email", "message": "must be an email address"})
        mode = self.cfg["validation"]
        if problems and mode != "none":
            shown = problems if mode == "all" else problems[:1]
            return self._error(422, "VALIDATION_ERROR", "invalid user", details=shown)
        with self.lock:
            self.next_user += 1
            return self._json(201, {"id": self.next_user, **data})

    def _preflight(self, origin):
        headers = [("Vary", "Origin")]
        if self.cfg["cors"] == "reflect":
            headers += [("Access-Control-Allow-Origin", origin or "*"),
                        ("Access-Control-Allow-Credentials", "true"),
                        ("Access-Control-Allow-Methods", "GET,POST")]
        elif origin in self.env["CORS_ORIGINS"].split(","):
            headers += [("Access-Control-Allow-Origin", origin),
                        ("Access-Control-Allow-Methods", "GET,POST,PUT,DELETE"),
                        ("Access-Control-Allow-Headers", "Content-Type, Authorization")]
        return 204, headers + SECURITY_HEADERS, b""

    def _cors_simple(self, origin):
        if origin is None:
            return []
        if self.cfg["cors"] == "reflect":
            return [("Access-Control-Allow-Origin", origin), ("Access-Control-Allow-Credentials", "true")]
        if origin in self.env["CORS_ORIGINS"].split(","):
            return [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
        return []

    def _rate_limited(self, path, headers, client):
        limited_path = path.startswith("/api/") or (self.cfg["limit_health"] and path.startswith("/health"))
        if not (self.cfg["rate_limit"] and limited_path):
            return None
        if self.cfg["admit_per_s"]:  # e.g. a loaded sandbox: arrivals trickle in, the bucket refills
            with self.admit:
                time.sleep(1 / self.cfg["admit_per_s"])
        if self.cfg["slow_xff_s"] and "X-Forwarded-For" in headers:
            time.sleep(self.cfg["slow_xff_s"])
        key = headers.get("X-Forwarded-For", client) if self.cfg["trust_xff"] else client
        window = int(self.env["RATE_LIMIT_WINDOW_MS"]) / 1000
        now = time.monotonic()
        if self.cfg["rate_limit"] == "token-bucket":  # refills continuously, max per window
            limit = int(self.env["RATE_LIMIT_MAX"])
            with self.lock:
                tokens, last = self.windows.get(key, (limit, now))
                tokens = min(limit, tokens + (now - last) * limit / window)
                allowed = tokens >= 1
                self.windows[key] = (tokens - 1 if allowed else tokens, now)
            if allowed:
                return None
            status, out, payload = self._error(429, "RATE_LIMITED", "slow down")
            return status, out + [("Retry-After", "1")], payload
        with self.lock:
            start, count = self.windows.get(key, (now, 0))
            if now - start >= window:
                start, count = now, 0
            self.windows[key] = (start, count + 1)
        if count + 1 <= int(self.env["RATE_LIMIT_MAX"]):
            return None
        status, out, payload = self._error(429, "RATE_LIMITED", "slow down")
        return status, out + [("Retry-After", str(max(1, round(window))))], payload

    def _metrics(self):
        series: Counter = Counter()
        with self.lock:
            for (method, path, status), n in self.requests.items():
                if self.cfg["metrics"] in ("templated", "counter-only"):
                    route = "/api/users/:id" if path.startswith("/api/users/") else path
                    series[f'method="{method}",route="{route}",status_code="{status}"'] += n
                else:
                    series[f'method="{method}",path="{path}"'] += n
        lines = ["# HELP http_requests_total Requests.", "# TYPE http_requests_total counter"]
        lines += [f"http_requests_total{{{labels}}} {n}" for labels, n in sorted(series.items())]
        if self.cfg["metrics"] != "counter-only":  # durations: a summary's _count and _sum
            lines += ["# HELP http_request_duration_seconds Request durations.",
                      "# TYPE http_request_duration_seconds summary"]
            for labels, n in sorted(series.items()):
                lines += [f"http_request_duration_seconds_count{{{labels}}} {n}",
                          f"http_request_duration_seconds_sum{{{labels}}} {n * 0.001}"]
        return ("\n".join(lines) + "\n").encode()

    def record(self, method, target, status, seconds, headers):
        """Metrics and the access log, after each response."""
        path = urlsplit(target).path
        with self.lock:
            self.requests[(method, path, status)] += 1
            self.next_req += 1
            rid = self.next_req
        level = "error" if status >= 500 and self.cfg["logs"] != "info-500" else "info"
        now = time.time()
        mode = self.cfg["logs"]
        if mode == "text":
            self.logs.write(f"{method} {target} {status} {seconds * 1000:.1f} ms")
        elif mode == "fastify":
            self.logs.write(json.dumps({"level": 30, "time": now, "reqId": f"req-{rid}",
                                        "req": {"method": method, "url": target},
                                        "msg": "incoming request"}))
            if status >= 500:
                self.logs.write(json.dumps({"level": 50, "time": now, "reqId": f"req-{rid}",
                                            "err": {"message": "boom"}, "msg": "boom"}))
            self.logs.write(json.dumps({"level": 30, "time": now, "reqId": f"req-{rid}",
                                        "res": {"statusCode": status}, "responseTime": seconds * 1000,
                                        "msg": "request completed"}))
        else:
            req = {"method": method, "url": target}
            if mode == "leak":
                req["headers"] = dict(headers)
            trace = {}
            if self.cfg["tracing"] == "continue" and headers.get("traceparent"):
                trace = {"trace_id": headers["traceparent"].split("-")[1]}
            elif self.cfg["tracing"] == "new":
                trace = {"trace_id": secrets.token_hex(16)}
            self.logs.write(json.dumps({"level": level, "time": now, "msg": "request completed",
                                        "req": req, "res": {"statusCode": status},
                                        "responseTime": round(seconds * 1000, 2), **trace}))


def _handler_for(app: App) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # else headers and body wait on delayed ACKs (40 ms)

        def version_string(self) -> str:
            return app.cfg["server"]

        def _serve(self) -> None:
            started = time.monotonic()
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, headers, payload = app.route(self.command, self.path, self.headers, body,
                                                 self.client_address[0])
            # Recorded before answering, so a scrape right after an answer sees it.
            app.record(self.command, self.path, status, time.monotonic() - started, self.headers)
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_OPTIONS = _serve

        def log_message(self, *args) -> None:  # the app logs through app.record
            pass

    return Handler


class Server(ThreadingHTTPServer):
    """http.server with the accept backlog of a real framework (Node 511, uvicorn 2048): with the
    default of 5, the 31 connections of a rate-limiting burst overflow it and wait for SYN retries."""

    request_queue_size = 512
    daemon_threads = True


@pytest.fixture
def serve():
    """serve(**overrides) -> (app, Target); servers are shut down after the test."""
    servers = []

    def start(client_ip: str = "127.0.0.10", proc=ALIVE, **overrides) -> tuple[App, Target]:
        app = App(**overrides)
        server = Server(("127.0.0.1", 0), _handler_for(app))
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        port = server.server_address[1]
        target = Target(base_url=f"http://127.0.0.1:{port}", host="127.0.0.1", port=port,
                        env={**app.env, "PORT": str(port)}, proc=proc, logs=app.logs, db=app.db,
                        client_ip=client_ip)
        return app, target

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def assert_passes(result):
    assert result.status == "pass", result.message
    assert result.score == result.max_score == 1.0
    assert result.evidence.get("curl", "").startswith("curl")


def assert_fails(result, *fragments):
    assert result.status == "fail", result.message
    assert 0 <= result.score < result.max_score
    for fragment in fragments:
        assert fragment in result.message, result.message
    return result


# --- items and probe -------------------------------------------------------------------
def test_items_are_the_checklist_in_order():
    loaded = items.load_items()
    assert tuple(i.id for i in loaded) == items.ITEM_IDS
    assert len(loaded) == 11
    for it in loaded:
        assert it.title and it.references and it.points == 1
        assert 2 <= it.why.count(". ") + 1 <= 3, it.id
    assert items.item("cors").title == "CORS allowlist"
    with pytest.raises(KeyError, match="unknown checklist item"):
        items.item("nope")
    assert tuple(CHECKS) == items.ALL_ITEM_IDS


def test_extra_items_come_after_the_seeds_eleven_and_only_when_asked():
    everything = items.load_items(extra=True)
    assert tuple(i.id for i in everything) == items.ITEM_IDS + items.EXTRA_ITEM_IDS == items.ALL_ITEM_IDS
    assert [i.id for i in everything if i.extra] == ["tracing"]
    assert not any(i.extra for i in items.load_items())
    extra = items.item("tracing")
    assert extra.extra and extra.references and 2 <= extra.why.count(". ") + 1 <= 3


def test_probe_scores_rules_and_keeps_the_first_failing_exchange(serve):
    _, target = serve()
    p = Probe(target, "cors")
    ok = p.get("/health")
    bad = p.request("POST", "/api/users", json={"name": "it's"}, headers={"Authorization": "x"})
    p.rule("first", True)
    p.rule("second", False, "POST /api/users broke rule two", exchange=bad)
    p.rule("third", False, "third broke", exchange=ok)
    p.rule("fourth", True)
    result = p.result()
    p.close()
    assert result.status == "fail" and result.score == 0.5
    assert [r["passed"] for r in result.evidence["rules"]] == [True, False, False, True]
    assert result.message == "POST /api/users broke rule two; third broke"
    evidence = result.evidence
    assert evidence["request"]["method"] == "POST" and evidence["response"]["status"] == 422
    assert evidence["curl"] == (
        "curl -i -X POST -H 'Authorization: x' -H 'Content-Type: application/json' "
        "--data-raw '{\"name\": \"it'\"'\"'s\"}' " + f"{target.base_url}/api/users")


def test_probe_truncates_bodies_and_binds_the_client_address(serve):
    app, target = serve(client_ip="127.0.0.23", rate_limit=False)
    p = Probe(target, "compression")
    ex = p.get("/api/users")
    p.rule("ok", True)
    result = p.result()
    p.close()
    assert result.status == "pass"
    body = result.evidence["response"]["body"]
    assert len(body) < 1100 and "more characters" in body
    assert app.clients == {"127.0.0.23"}
    assert ex.status == 200 and len(ex.content) > 16_000


def test_probe_turns_a_crashing_check_into_an_error(serve):
    from course.checklist import probe

    _, target = serve()

    def broken(p):
        p.get("/health")
        raise RuntimeError("kaput")

    result = probe.run(target, "metrics", broken)
    assert result.status == "error" and "kaput" in result.message and result.score == 0


def test_a_hanging_app_cannot_stall_a_check_past_its_budget(serve):
    _, target = serve()
    p = Probe(target, "metrics", budget_s=0.4)
    started = time.monotonic()
    slow = p.get("/api/slow?ms=2000")
    skipped = p.get("/health")
    p.close()
    assert time.monotonic() - started < 1.0
    assert "Timeout" in slow.error and "budget is spent" in skipped.error


def test_connection_errors_are_recorded_not_raised():
    target = Target(base_url="http://127.0.0.1:9", host="127.0.0.1", port=9, env=ENV, proc=ALIVE,
                    logs=ListLog(), db=None, client_ip="127.0.0.1")
    result = security_headers.check(target)
    assert_fails(result, "got no answer")


# --- one test pair per check -----------------------------------------------------------
def test_error_handling(serve):
    assert_passes(error_handling.check(serve()[1]))
    assert_passes(error_handling.check(serve(errors="problem")[1]))
    result = assert_fails(error_handling.check(serve(errors="html")[1]),
                          "GET /api/boom answered text/html; errors must be JSON",
                          "GET /api/boom leaks a stack trace ('",
                          "POST /api/users with malformed JSON answered text/html")
    assert "/api/no-such-route-" in result.evidence["request"]["url"]  # the first failure
    assert result.score == pytest.approx(6 / 10)  # statuses right, bodies wrong, still alive


def test_error_handling_and_validation_judge_the_contracts_codes(serve):
    """The envelope alone is not enough: its code must be the contract's code for the status
    (course/error_codes.yaml), and details a list — the drift issue 12 found in the course."""
    result = assert_fails(error_handling.check(serve(errors="off-contract")[1]),
                          "error.code 'HTTP_ERROR' is not one of the contract's codes; a 404 is NOT_FOUND",
                          "error.code VALIDATION_ERROR does not go with status 400: the contract's code is BAD_REQUEST")
    assert result.score == pytest.approx(7 / 10)  # the 500's SERVER_ERROR fails too; statuses and traces pass
    assert_fails(request_validation.check(serve(errors="off-contract")[1]),
                 "error.details must be a non-empty list of {field, message}")


def test_error_handling_fails_when_the_process_died(serve):
    dead = SimpleNamespace(pid=0, poll=lambda: 1, returncode=1)
    assert_fails(error_handling.check(serve(proc=dead)[1]), "the process exited")


def test_logging(serve, monkeypatch):
    monkeypatch.setattr(logs, "FLUSH_WAIT_S", 0.3)
    assert_passes(logs.check(serve()[1]))
    assert_passes(logs.check(serve(logs="fastify")[1]))
    assert_fails(logs.check(serve(logs="text")[1]), "not a JSON object")
    leak = assert_fails(logs.check(serve(logs="leak")[1]), "Authorization header value")
    assert "<the secret>" in leak.evidence["notes"]["leaking_line"]
    assert_fails(logs.check(serve(logs="info-500")[1]), "error level")


def test_logging_ignores_partial_lines_and_reads_ecs_and_slog():
    text = ('ial line}\n'
            '{"@timestamp":"2024-01-01T00:00:00Z","log.level":"ERROR","message":"x",'
            '"http":{"request":{"method":"GET"},"response":{"status_code":500}},'
            '"url":{"path":"/api/boom"},"event":{"duration":1200000}}\n'
            '{"time":"2024-01-01T00:00:00Z","level":"INFO","msg":"req","method":"GET",'
            '"path":"/a","status":200,"duration":"1.2ms"}\n{"unfinished":')
    lines = logs.parse_lines(text, starts_mid_line=True)
    assert [line.number for line in lines] == [1, 2]
    assert all(not line.missing_basics() for line in lines)
    access = logs.access_by_line(lines)
    assert access[1].matches("GET", "/api/boom", 500) and lines[0].is_error_level
    assert access[2].matches("GET", "/a", 200) and not lines[1].is_error_level


def test_request_validation(serve):
    assert_passes(request_validation.check(serve()[1]))
    assert_fails(request_validation.check(serve(validation="first")[1]),
                 "with an empty body does not name email")
    assert_fails(request_validation.check(serve(validation="none")[1]), "answered 201")
    assert_fails(request_validation.check(serve(validation="body-only")[1]),
                 "GET /api/users/abc answered 404 application/json; a malformed id must answer 400")


def test_request_validation_reads_fastapi_style_details():
    fastapi = {"detail": [{"loc": ["body", "name"], "msg": "Field required", "input": {}},
                          {"loc": ["body", "email"], "msg": "Field required", "input": {}}]}
    assert request_validation.names_field(fastapi, "name") and request_validation.names_field(fastapi, "email")
    echoed = {"error": {"message": "invalid name", "input": {"email": "not-an-email"}}}
    assert not request_validation.names_field(echoed, "email")


def test_compression(serve):
    result = compression.check(serve()[1])
    assert_passes(result)
    assert result.evidence["notes"]["ratio"] < 0.5
    assert "-D -" in result.evidence["curl"]
    assert_fails(compression.check(serve(gzip=False)[1]), "came back uncompressed")
    no_vary = assert_fails(compression.check(serve(vary=False)[1]), "Vary: Accept-Encoding")
    assert no_vary.score > 0.5


def test_cors(serve):
    assert_passes(cors.check(serve()[1]))
    assert_fails(cors.check(serve(cors="reflect")[1]),
                 "Origin: https://evil.example got Access-Control-Allow-Origin: "
                 "https://evil.example with credentials", "Origin: null")


def test_rate_limiting(serve):
    result = rate_limiting.check(serve()[1])
    assert_passes(result)
    assert result.evidence["notes"]["burst"]["allowed"] == 30
    assert_fails(rate_limiting.check(serve(trust_xff=True)[1]), "trusts a header any client can set")
    assert_fails(rate_limiting.check(serve(rate_limit=False)[1]), "never got 429", "allows at most")


def test_rate_limiting_token_bucket_refill_is_not_a_spoofed_quota(serve):
    """A token bucket refills continuously (30 per 2 s here: one token every 67 ms), so a
    request or two right after the 429 may get through with or without X-Forwarded-For: not a
    failure. The same bucket keyed on the header still fails."""
    bucket = dict(rate_limit="token-bucket", rate_window_ms=2000)
    assert_passes(rate_limiting.check(serve(**bucket)[1]))
    assert_fails(rate_limiting.check(serve(**bucket, trust_xff=True)[1]), "trusts a header any client can set")


def test_rate_limiting_keeps_bursting_while_a_slow_app_lets_the_bucket_refill(serve):
    """Requests reach a token bucket (30 per 2 s: 15 tokens a second) one at a time, 27 a second:
    two waves of 31 take 2.3 s, in which the bucket refills 34 tokens, so no 429 comes yet (the
    gin capstone in a loaded sandbox). The check bursts on, with larger waves, until the limiter
    shows. (Arrivals only slightly faster than the refill could never show it.)"""
    slow = dict(rate_limit="token-bucket", rate_window_ms=2000, admit_per_s=27)
    result = rate_limiting.check(serve(**slow)[1])
    assert_passes(result)
    assert result.evidence["notes"]["burst"]["allowed"] > 62, "the 429 came only after the second wave"


def test_rate_limiting_waits_for_a_full_quota_when_refill_looks_like_a_rolled_over_window(serve):
    """The spoofed requests right after the 429 are slow (0.5 s: a loaded machine), so a token
    bucket of 30 per second refills 15 tokens meanwhile: all ten spoofs and the five plain
    requests after them get through, as after a fixed window's roll-over. Bursting again at
    once would meet a nearly empty bucket and report "only 1 allowed" (the gin exercise on
    a busy CI machine); the check waits a whole window first, so the bucket is full again."""
    bucket = dict(rate_limit="token-bucket", rate_window_ms=1000, slow_xff_s=0.5)
    result = rate_limiting.check(serve(**bucket)[1])
    assert_passes(result)
    assert result.evidence["notes"]["burst"]["allowed"] >= 30


def test_connection_pooling(serve, monkeypatch):
    monkeypatch.setattr(connection_pooling, "SLEEP_MS", 120)
    result = connection_pooling.check(serve()[1])
    assert_passes(result)
    assert result.evidence["notes"]["peak_connections"] == 4
    assert len(result.evidence["notes"]["distinct_backend_pids"]) == 4
    bad = assert_fails(connection_pooling.check(serve(pool_reconnect=True)[1]),
                       "connections to the app database at once", "distinct backend PIDs")
    assert bad.evidence["notes"]["peak_connections"] > 4


def test_health_check(serve, monkeypatch):
    app, target = serve()
    assert_passes(health_check.check(target))
    assert not app.db.blocked
    monkeypatch.setattr(health_check, "SWITCH_WITHIN_S", 1.0)
    result = assert_fails(health_check.check(serve(liveness_uses_db=True, ready_checks_db=False)[1]),
                          "/health/ready answered 200 application/json with the database unreachable",
                          "GET /health with the database down answered 503")
    assert result.score < 0.7
    assert_fails(health_check.check(serve(limit_health=True)[1]), "health probes must never be rate limited")


def test_health_check_names_a_blocked_event_loop(serve, monkeypatch):
    """/health waits behind every /api/slow sleep (one lock: a blocked loop): ASYNC_PATTERN_MISMATCH.
    The concurrent server answers at once, with no code."""
    monkeypatch.setattr(health_check, "SLOW_MS", 300)
    monkeypatch.setattr(health_check, "STALL_S", 0.3)
    good = health_check.check(serve()[1])
    assert_passes(good)
    assert good.code == "" and good.evidence["notes"]["health_under_load_ms"]["slowest"] < 300
    blocked = assert_fails(health_check.check(serve(blocking=True)[1]),
                           "ASYNC_PATTERN_MISMATCH: GET /health", "/api/slow?ms=300", "blocks the event loop")
    assert blocked.code == "ASYNC_PATTERN_MISMATCH" and blocked.to_json()["code"] == "ASYNC_PATTERN_MISMATCH"
    assert "code" not in good.to_json()


def test_tracing_reads_the_trace_id_back_from_the_logs(serve):
    result = tracing.check(serve(tracing="continue")[1])
    assert result.status == "pass", result.message
    assert result.evidence["notes"]["traceparent_sent"].split("-")[1] in result.evidence["notes"]["log_line"]
    assert_fails(tracing.check(serve(tracing="new")[1]), "started a new trace instead of continuing")
    # the header itself, logged with the request's headers, is no trace id the app read
    assert_fails(tracing.check(serve(tracing="none", logs="leak")[1]), "no log line carries any trace id")


def test_health_check_always_unblocks_the_database(serve, monkeypatch):
    app, target = serve()

    def network_down(*args, **kwargs):
        raise RuntimeError("network down")

    monkeypatch.setattr(health_check, "_poll", network_down)
    result = health_check.check(target)
    assert result.status == "error" and "network down" in result.message
    assert not app.db.blocked


def test_metrics(serve):
    assert_passes(metrics.check(serve()[1]))
    assert_fails(metrics.check(serve(metrics="counter-only")[1]),
                 "no request-duration histogram or summary (…_count and …_sum)")
    assert_fails(metrics.check(serve(metrics="concrete")[1]), "no counter or histogram with a method label",
                 "series carry a concrete path")


def test_metrics_counts_histograms_and_openmetrics():
    before = metrics.parse_exposition(
        '# TYPE http_server_requests_seconds histogram\n'
        'http_server_requests_seconds_bucket{method="GET",status="200",uri="/api/users/{id}",le="+Inf"} 1\n'
        'http_server_requests_seconds_count{method="GET",status="200",uri="/api/users/{id}"} 1\n'
        'http_server_requests_seconds_sum{method="GET",status="200",uri="/api/users/{id}"} 0.1\n',
        "text/plain")
    after = metrics.parse_exposition(
        '# TYPE http_server_requests_seconds histogram\n'
        'http_server_requests_seconds_bucket{method="GET",status="200",uri="/api/users/{id}",le="+Inf"} 11\n'
        'http_server_requests_seconds_count{method="GET",status="200",uri="/api/users/{id}"} 11\n'
        'http_server_requests_seconds_sum{method="GET",status="200",uri="/api/users/{id}"} 0.9\n'
        '# EOF\n',
        "application/openmetrics-text")
    assert metrics.rises_by_family(before, after, {200}) == {"http_server_requests_seconds_count": 10}
    assert metrics.rises_by_family(before, after, {404}) == {"http_server_requests_seconds_count": 0}


def test_security_headers(serve):
    assert_passes(security_headers.check(serve()[1]))
    assert_fails(security_headers.check(serve(security="success-only", server="nginx/1.25.3")[1]),
                          "the 404 (GET /api/no-such-route-", "and 500 (GET /api/boom) responses lack "
                          "X-Content-Type-Options", "all responses (200, 404, 500) send a versioned "
                          "Server header (Server: nginx/1.25.3)")
    assert_fails(security_headers.check(serve(security="none")[1]), "X-Powered-By: Express")
    assert_fails(security_headers.check(serve(security="errors-only")[1]),
                 "the 200 (GET /api/users/1) response lacks X-Content-Type-Options")


# --- graceful shutdown, against a real child process ------------------------------------
SHUTDOWN_APP = textwrap.dedent('''
    import json, os, signal, sys, threading, time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs, urlsplit

    MODE = sys.argv[1]

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def do_GET(self):
            ms = int(parse_qs(urlsplit(self.path).query).get("ms", ["0"])[0])
            time.sleep(ms / 1000)
            body = json.dumps({"slept": ms}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), H)
    server.daemon_threads = False  # server_close() waits for in-flight requests

    def on_term(signum, frame):
        if MODE == "exit-now":
            os._exit(1)
        threading.Thread(target=server.shutdown).start()

    if MODE != "ignore":
        signal.signal(signal.SIGTERM, on_term)
    else:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print(server.server_address[1], flush=True)
    server.serve_forever(poll_interval=0.05)
    server.server_close()
    sys.exit(0)
''')


@pytest.fixture
def shutdown_target(tmp_path, monkeypatch):
    monkeypatch.setattr(graceful_shutdown, "SLOW_MS", 1200)
    monkeypatch.setattr(graceful_shutdown, "TERM_AT_S", 0.3)
    monkeypatch.setattr(graceful_shutdown, "NEW_CONNECTION_AT_S", 0.6)
    monkeypatch.setattr(graceful_shutdown, "NEW_CONNECTION_TIMEOUT_S", 1.0)
    monkeypatch.setattr(graceful_shutdown, "EXIT_WITHIN_S", 2.0)
    monkeypatch.setattr(graceful_shutdown, "DB_CLOSE_WITHIN_S", 0.5)
    script = tmp_path / "app.py"
    script.write_text(SHUTDOWN_APP)
    procs = []

    def start(mode: str) -> Target:
        proc = subprocess.Popen([sys.executable, str(script), mode], stdout=subprocess.PIPE, text=True)
        procs.append(proc)
        port = int(proc.stdout.readline())
        db = SimpleNamespace(backends=lambda: [4242] if proc.poll() is None else [],
                             block=lambda: None, unblock=lambda: None)
        return Target(base_url=f"http://127.0.0.1:{port}", host="127.0.0.1", port=port, env=ENV,
                      proc=proc, logs=ListLog(), db=db, client_ip="127.0.0.40")

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def test_graceful_shutdown_passes_when_in_flight_work_finishes(shutdown_target):
    result = graceful_shutdown.check(shutdown_target("graceful"))
    assert result.status == "pass", result.message
    assert result.evidence["notes"]["exit_code"] == 0


def test_graceful_shutdown_fails_when_the_process_exits_at_once(shutdown_target):
    result = graceful_shutdown.check(shutdown_target("exit-now"))
    assert_fails(result, "the in-flight GET /api/slow?ms=1200", "exited with code 1")
    assert "new connections" not in result.message  # refused: that rule passed


@pytest.mark.slow
def test_graceful_shutdown_fails_when_sigterm_is_ignored(shutdown_target):
    result = graceful_shutdown.check(shutdown_target("ignore"))
    assert_fails(result, "still running 2 s after SIGTERM", "new connection")


# --- the engine's phase 1: everything concurrently ----------------------------------------
def test_phase_one_checks_pass_concurrently(serve, monkeypatch):
    monkeypatch.setattr(logs, "FLUSH_WAIT_S", 1.0)
    app, target = serve()
    concurrent = [i for i in items.ITEM_IDS if i not in ("health-check", "graceful-shutdown")]
    targets = {item_id: dataclasses.replace(target, client_ip=f"127.0.0.{10 + n}")
               for n, item_id in enumerate(concurrent)}
    with ThreadPoolExecutor(len(concurrent)) as pool:
        results = dict(zip(concurrent, pool.map(lambda i: CHECKS[i](targets[i]), concurrent), strict=True))
    failed = {i: r.message for i, r in results.items() if r.status != "pass"}
    assert not failed  # speed is measured by benchmarks/check.py, never asserted here
