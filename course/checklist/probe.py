"""What every check uses to talk to the app and to turn observations into a Result.

A :class:`Probe` sends requests from the check's own loopback address (so per-client
rate limits of concurrent checks don't interfere), records each exchange with a
``curl`` line the learner can paste, and accumulates *rules*: named properties that
pass or fail. The result's score is the share of rules that passed, the evidence is
the first failing exchange, and the message says which rules broke — so a learner
sees the request, the response and the broken rule together.

The app under check may be hostile or broken, so no request can outlast its time:
each has one deadline for the whole exchange (connect, headers, body) that every
socket read and write is clamped to, so a server that trickles a byte a second gets
cut off like a silent one; and at most ``BODY_CAP`` bytes of a body are read. A proxy must
never sit between the checker and 127.0.0.1: clients get their transport explicitly
(httpx then mounts no ``HTTP(S)_PROXY``) and ``trust_env=False`` on top.
"""
from __future__ import annotations

import dataclasses
import json as jsonlib
import shlex
import threading
import time
from typing import Any, Callable, Iterator

import httpcore
import httpx

from course.checklist import items
from course.checklist.model import Result, Target

BODY_LIMIT = 1024  # characters of a body kept in evidence
BODY_CAP = 4 * 1024 * 1024  # bytes of a response body read at most (compression needs > 16 KB)
DEFAULT_TIMEOUT = 5.0  # seconds per request; checks pass shorter ones where it matters
DEADLINE_GRACE_S = 0.1  # the whole-request deadline is the timeout plus this
BUDGET_S = 30.0  # a check stops sending once this is spent (a hanging app can't stall the run)
_NO_JSON = object()


@dataclasses.dataclass
class Exchange:
    """One request and what came back (or the transport error instead)."""

    method: str
    url: str
    path: str  # path + query, for messages
    headers: dict[str, str]  # headers the check set explicitly (the curl line shows these)
    body: bytes | None
    raw: bool = False  # body kept as sent on the wire (no Content-Encoding decoding)
    status: int | None = None
    response_headers: httpx.Headers = dataclasses.field(default_factory=httpx.Headers)
    content: bytes = b""
    error: str | None = None
    elapsed: float = 0.0  # seconds until the full body arrived
    started: float = 0.0  # time.monotonic() when sent
    truncated: bool = False  # the body went past BODY_CAP; ``content`` holds its first BODY_CAP bytes

    # --- reading the response -------------------------------------------------
    @property
    def answered(self) -> bool:
        return self.status is not None

    def header(self, name: str) -> str | None:
        """Header value, duplicates joined with ", " (None when absent)."""
        return self.response_headers.get(name)

    @property
    def media_type(self) -> str:
        """Content-Type without parameters, lower-cased ("" when absent)."""
        return (self.header("content-type") or "").split(";")[0].strip().lower()

    @property
    def is_json_type(self) -> bool:
        return is_json_media_type(self.media_type)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self, default: Any = _NO_JSON) -> Any:
        """Parsed body; ``default`` when it isn't JSON (ValueError without a default)."""
        try:
            return jsonlib.loads(self.content)
        except ValueError:
            if default is _NO_JSON:
                raise
            return default

    # --- describing it ----------------------------------------------------------
    def describe(self) -> str:
        """``GET /api/boom`` — how messages name the request."""
        return f"{self.method} {self.path}"

    def outcome(self) -> str:
        """``answered 500 text/html`` or ``got no answer (ReadTimeout: ...)``."""
        if self.error is not None:
            return f"got no answer ({self.error})"
        kind = self.media_type or "no Content-Type"
        return f"answered {self.status} {kind}"

    def curl(self) -> str:
        """A shell line that reproduces the request."""
        if self.raw:  # show headers and the size on the wire, not binary noise
            parts = ["curl", "-sS", "-D", "-", "-o", "/dev/null", "-w", r"%{size_download} bytes on the wire\n"]
        else:
            parts = ["curl", "-i"]
        if self.method != "GET" or self.body:
            parts += ["-X", self.method]
        for name, value in self.headers.items():
            parts += ["-H", f"{name}: {value}"]
        if self.body:
            parts += ["--data-raw", self.body.decode("utf-8", errors="replace")]
        parts.append(self.url)
        return " ".join(shlex.quote(p) for p in parts)

    def to_evidence(self) -> dict[str, Any]:
        request = {"method": self.method, "url": self.url, "headers": dict(self.headers)}
        if self.body:
            request["body"] = truncate(self.body.decode("utf-8", errors="replace"))
        if self.error is not None:
            response: dict[str, Any] = {"error": self.error}
        else:
            response = {"status": self.status, "headers": joined_headers(self.response_headers)}
            encoding = self.header("content-encoding")
            if self.raw and encoding and encoding.lower() != "identity":
                response["body"] = f"<{len(self.content)} bytes, Content-Encoding: {encoding}>"
            else:
                response["body"] = truncate(self.text)
            if self.truncated:
                response["body_cut_at_bytes"] = BODY_CAP
        return {"request": request, "response": response, "curl": self.curl(),
                "elapsed_s": round(self.elapsed, 3)}


class DeadlineExceeded(httpcore.TimeoutException):
    """A request's whole time ran out (httpx reports it as a timeout)."""


_deadline = threading.local()  # when the request running in this thread must be over


def _clamp(timeout: float | None) -> float | None:
    """The time one socket operation may take: its own timeout, but never past the deadline."""
    deadline = getattr(_deadline, "at", None)
    if deadline is None:
        return timeout
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise DeadlineExceeded("the request's deadline passed")
    return remaining if timeout is None else min(timeout, remaining)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write is clamped to the running request's deadline.

    httpx's timeouts are per operation (each read may take ``timeout``), so a server
    that sends a byte every few seconds never trips them; clamped, the request as a
    whole ends on time — in the connect, the headers or the body, on a new connection
    or a kept-alive one.
    """

    def __init__(self, stream: httpcore.NetworkStream):
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _clamp(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _clamp(timeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, _clamp(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's socket backend, handing out :class:`_DeadlineStream` connections."""

    def __init__(self) -> None:
        self._backend = httpcore.SyncBackend()

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        return _DeadlineStream(self._backend.connect_tcp(host, port, _clamp(timeout), local_address,
                                                         socket_options))

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        return _DeadlineStream(self._backend.connect_unix_socket(path, _clamp(timeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def deadline_transport(**kwargs: Any) -> httpx.HTTPTransport:
    """``httpx.HTTPTransport(**kwargs)`` whose connections keep :func:`within` deadlines."""
    transport = httpx.HTTPTransport(**kwargs)
    pool = getattr(transport, "_pool", None)
    if not isinstance(pool, httpcore.ConnectionPool) or not hasattr(pool, "_network_backend"):
        raise RuntimeError(f"httpx {httpx.__version__} / httpcore {httpcore.__version__} changed their insides: "
                           "the probe cannot enforce request deadlines (pin them in constraints.txt)")
    pool._network_backend = _DeadlineBackend()
    return transport


class within:
    """``with within(seconds):`` — requests made in this thread must be over by then."""

    def __init__(self, seconds: float):
        self.at = time.monotonic() + seconds

    def __enter__(self) -> "within":
        self._saved = getattr(_deadline, "at", None)
        _deadline.at = self.at if self._saved is None else min(self.at, self._saved)
        return self

    def __exit__(self, *exc: object) -> None:
        _deadline.at = self._saved

    @property
    def passed(self) -> bool:
        return time.monotonic() >= self.at


@dataclasses.dataclass
class Rule:
    name: str
    passed: bool
    failure: str
    exchange: Exchange | None
    notes: dict[str, Any] | None
    code: str = ""  # the seed error code a failure of this rule amounts to


class Probe:
    """Requests plus verdicts for one check on one target."""

    def __init__(self, target: Target, item_id: str, *, timeout: float = DEFAULT_TIMEOUT,
                 budget_s: float = BUDGET_S):
        self.target = target
        self.item = items.item(item_id)
        self.timeout = timeout
        self.notes: dict[str, Any] = {}  # shown in the evidence whatever the verdict
        self._rules: list[Rule] = []
        self._exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        self._clients: list[httpx.Client] = []
        self._started = time.monotonic()
        self._deadline = self._started + budget_s
        self.budget_s = budget_s
        self.client = self.new_client()

    # --- HTTP ---------------------------------------------------------------------
    def new_client(self) -> httpx.Client:
        """A client with its own connections, bound to the check's source address, whose
        requests keep their deadline (:func:`deadline_transport`)."""
        client = httpx.Client(
            base_url=self.target.base_url,
            # Plain HTTP on loopback: verify=False skips loading the CA bundle, which
            # costs ~0.5 s per client on a busy machine and would skew timings.
            transport=deadline_transport(local_address=self.target.client_ip, verify=False),
            timeout=self.timeout,
            follow_redirects=False,
            trust_env=False,  # no HTTP(S)_PROXY, no .netrc: straight to the app on loopback
        )
        with self._lock:
            self._clients.append(client)
        return client

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        json: Any = _NO_JSON,
        content: bytes | str | None = None,
        timeout: float | None = None,
        raw: bool = False,
        client: httpx.Client | None = None,
    ) -> Exchange:
        """Send one request and record it; transport errors become ``Exchange.error``.

        ``raw=True`` keeps the body exactly as it came over the wire (httpx would
        otherwise decode gzip itself and hide what the server sent).
        """
        headers = dict(headers or {})
        if json is not _NO_JSON:
            content = jsonlib.dumps(json)
            if not any(k.lower() == "content-type" for k in headers):
                headers["Content-Type"] = "application/json"
        body = content.encode() if isinstance(content, str) else content
        client = client or self.client
        url = str(client.base_url.join(path))
        ex = Exchange(method=method, url=url, path=path, headers=headers, body=body, raw=raw)
        ex.started = time.monotonic()
        remaining = self._deadline - ex.started
        if remaining <= 0:
            ex.error = f"not sent: the check's {self.budget_s:g} s budget is spent"
            with self._lock:
                self._exchanges.append(ex)
            return ex
        limit = min(timeout or self.timeout, remaining)
        # a hair past httpx's own timeout, so a silent server still reads as ReadTimeout
        with within(limit + DEADLINE_GRACE_S) as deadline:
            try:
                with client.stream(method, path, headers=headers, content=body, timeout=limit) as response:
                    ex.status = response.status_code
                    ex.response_headers = response.headers
                    chunks: Iterator[bytes] = response.iter_raw() if raw else response.iter_bytes()
                    ex.content, ex.truncated = read_capped(chunks, BODY_CAP)
            except httpx.HTTPError as exc:
                ex.error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                ran_out = isinstance(exc.__cause__, DeadlineExceeded) or (
                    isinstance(exc, httpx.TimeoutException) and deadline.passed)
                if ran_out:
                    ex.status, ex.error = None, (f"DeadlineExceeded: no complete answer within {limit:g} s "
                                                 "(the request's whole time, however slowly bytes arrive)")
        ex.elapsed = time.monotonic() - ex.started
        with self._lock:
            self._exchanges.append(ex)
        return ex

    def get(self, path: str, **kwargs: Any) -> Exchange:
        return self.request("GET", path, **kwargs)

    @property
    def exchanges(self) -> list[Exchange]:
        with self._lock:
            return list(self._exchanges)

    # --- verdicts -----------------------------------------------------------------
    def rule(self, name: str, passed: bool, failure: str = "", *,
             exchange: Exchange | None = None, notes: dict[str, Any] | None = None, code: str = "") -> bool:
        """Record one property. ``failure`` is the learner-facing sentence when it
        fails, e.g. "GET /api/boom answered text/html; errors must be JSON"; ``code`` names
        the seed error code such a failure amounts to (the result carries it)."""
        with self._lock:
            self._rules.append(Rule(name, bool(passed), failure or f"{name}: failed", exchange, notes, code))
        return bool(passed)

    @property
    def rules(self) -> list[Rule]:
        with self._lock:
            return list(self._rules)

    def result(self) -> Result:
        rules = self.rules
        if not rules:
            return self.error("the check recorded no rules")
        failed = [r for r in rules if not r.passed]
        points = self.item.points
        if failed:
            decisive = failed[0]
            exchange = decisive.exchange
            message = "; ".join(r.failure for r in failed)
        else:
            decisive = None
            exchange = self.exchanges[-1] if self.exchanges else None
            message = f"all {len(rules)} rules passed"
        return Result(
            id=self.item.id,
            title=self.item.title,
            status="fail" if failed else "pass",
            score=points * (len(rules) - len(failed)) / len(rules),
            max_score=points,
            message=message,
            evidence={**self._evidence(exchange, decisive.notes if decisive else None),
                      "rules": [{"name": r.name, "passed": r.passed} for r in rules]},
            duration_s=time.monotonic() - self._started,
            code=next((r.code for r in failed if r.code), ""),
        )

    def error(self, message: str) -> Result:
        """Nothing could be judged (the check itself broke)."""
        last = self.exchanges[-1] if self.exchanges else None
        return Result(
            id=self.item.id, title=self.item.title, status="error", score=0.0,
            max_score=self.item.points, message=message, evidence=self._evidence(last, None),
            duration_s=time.monotonic() - self._started,
        )

    def _evidence(self, exchange: Exchange | None, notes: dict[str, Any] | None) -> dict[str, Any]:
        evidence = exchange.to_evidence() if exchange else {}
        merged = {**self.notes, **(notes or {})}
        if merged:
            evidence["notes"] = merged
        return evidence

    def close(self) -> None:
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.close()


def run(target: Target, item_id: str, body: Callable[[Probe], None]) -> Result:
    """Run ``body`` with a fresh probe; an exception in the check itself becomes an
    ``error`` result rather than a crash of the whole report."""
    probe = Probe(target, item_id)
    try:
        body(probe)
        return probe.result()
    except Exception as exc:  # noqa: BLE001 - reported, not swallowed
        return probe.error(f"the check itself failed: {type(exc).__name__}: {exc}")
    finally:
        probe.close()


# --- small helpers shared by checks -------------------------------------------------
def read_capped(chunks: Iterator[bytes], cap: int) -> tuple[bytes, bool]:
    """At most ``cap`` bytes from ``chunks``, and whether there was more (then stops reading)."""
    parts: list[bytes] = []
    size = 0
    for chunk in chunks:
        parts.append(chunk[: cap - size])
        size += len(chunk)
        if size > cap:
            return b"".join(parts), True
    return b"".join(parts), False



def is_json_media_type(media_type: str) -> bool:
    """application/json or any +json type (problem+json, health+json, vnd...+json)."""
    return media_type == "application/json" or media_type.endswith("+json")


def truncate(text: str, limit: int = BODY_LIMIT) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"… [{len(text) - limit} more characters]"


def joined_headers(headers: httpx.Headers) -> dict[str, str]:
    """Headers as a plain dict with original casing, duplicates joined by ", "."""
    out: dict[str, str] = {}
    for raw_name, raw_value in headers.raw:
        name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
        out[name] = f"{out[name]}, {value}" if name in out else value
    return out


def header_tokens(value: str | None) -> list[str]:
    """A comma-separated header (Vary, Allow-Methods, ...) as lower-cased tokens."""
    return [t.strip().lower() for t in (value or "").split(",") if t.strip()]


def walk_json(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every (key path, leaf or container) in a JSON value, depth first, so checks can
    find a field wherever a framework nests it (``req.method``, ``detail[0].loc``)."""
    yield path, value
    if isinstance(value, dict):
        for key, child in value.items():
            yield from walk_json(child, path + (str(key),))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from walk_json(child, path + (str(index),))
