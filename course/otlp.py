"""``course.otlp``: an OpenTelemetry collector small enough to run inside the kernel.

Tracing is only convincing when you can *see* the spans a request produced, in every
language, without installing Jaeger or the OpenTelemetry Collector. This module is an
OTLP/HTTP receiver (the protocol every OpenTelemetry SDK exports with): it accepts
``POST /v1/traces`` in both OTLP encodings — protobuf (``application/x-protobuf``, the
SDKs' default) and JSON (``application/json``) — keeps the spans in memory, and lets a
notebook or a check ask for them::

    import course.otlp
    collector = course.otlp.start()              # the kernel's collector (started once)
    # a server started with collector.env("orders") exports its spans here
    spans = collector.wait_for(trace_id, count=2)
    print(collector.tree(trace_id))

It also answers ``GET /api/spans?trace_id=…`` with the spans as JSON, so a process that did
not start the collector — ``course check --collector URL`` — can read them too
(:func:`query`). ``python -m course.otlp`` runs one in the foreground and prints each span.

Metrics and logs (``/v1/metrics``, ``/v1/logs``) are accepted and counted, not stored:
the course teaches metrics with Prometheus. Memory is bounded (``MAX_SPANS``, ``MAX_BODY``)
because the exporters are learner code.
"""
from __future__ import annotations

import argparse
import dataclasses
import gzip
import http.server
import json
import threading
import time
import urllib.parse
import urllib.request
import zlib
from collections import deque
from typing import Any, Callable, Iterable

MAX_SPANS = 20_000  # the oldest are dropped past this
MAX_BODY = 8 * 1024 * 1024  # bytes of one export request (decompressed)
KINDS = {0: "unspecified", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
STATUSES = {0: "unset", 1: "ok", 2: "error"}
TRACES_PATH, METRICS_PATH, LOGS_PATH, QUERY_PATH = "/v1/traces", "/v1/metrics", "/v1/logs", "/api/spans"


class OTLPDecodeError(ValueError):
    """An export request that is not OTLP (the exporter gets a 400 with this text)."""


@dataclasses.dataclass(frozen=True)
class Span:
    """One finished span, as the SDK exported it (ids as lower-case hex, times in ns)."""

    trace_id: str  # 32 hex digits
    span_id: str  # 16 hex digits
    parent_span_id: str  # "" for a root span
    name: str
    kind: str  # server | client | internal | producer | consumer | unspecified
    service: str  # the resource's service.name
    start_ns: int
    end_ns: int
    status: str = "unset"  # unset | ok | error
    attributes: dict[str, Any] = dataclasses.field(default_factory=dict)
    scope: str = ""  # the instrumentation scope (tracer) name

    @property
    def duration_ms(self) -> float:
        return (self.end_ns - self.start_ns) / 1e6

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Span":
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in fields})


# --------------------------------------------------------------------------- decoding
def decode(body: bytes, content_type: str) -> list[Span]:
    """The spans of one ``ExportTraceServiceRequest``, protobuf or OTLP/JSON."""
    media = content_type.split(";")[0].strip().lower()
    if media == "application/json":
        try:
            return _from_json(json.loads(body or b"{}"))
        except (ValueError, TypeError, AttributeError) as e:
            raise OTLPDecodeError(f"not an OTLP/JSON ExportTraceServiceRequest: {e}") from None
    if media in ("application/x-protobuf", "application/protobuf", ""):
        return _from_protobuf(body)
    raise OTLPDecodeError(f"unsupported Content-Type {content_type!r}: OTLP/HTTP sends "
                          "application/x-protobuf or application/json")


def _from_protobuf(body: bytes) -> list[Span]:
    from google.protobuf.message import DecodeError
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except DecodeError as e:
        raise OTLPDecodeError(f"not a protobuf ExportTraceServiceRequest: {e}") from None
    spans = []
    for rs in request.resource_spans:
        service = str(_pb_attributes(rs.resource.attributes).get("service.name", ""))
        for ss in rs.scope_spans:
            for s in ss.spans:
                spans.append(Span(
                    trace_id=s.trace_id.hex(), span_id=s.span_id.hex(), parent_span_id=s.parent_span_id.hex(),
                    name=s.name, kind=KINDS.get(s.kind, "unspecified"), service=service,
                    start_ns=s.start_time_unix_nano, end_ns=s.end_time_unix_nano,
                    status=STATUSES.get(s.status.code, "unset"), attributes=_pb_attributes(s.attributes),
                    scope=ss.scope.name))
    return spans


def _pb_attributes(kvs) -> dict[str, Any]:
    return {kv.key: _pb_value(kv.value) for kv in kvs}


def _pb_value(v) -> Any:
    which = v.WhichOneof("value")
    if which == "array_value":
        return [_pb_value(x) for x in v.array_value.values]
    if which == "kvlist_value":
        return _pb_attributes(v.kvlist_value.values)
    if which == "bytes_value":
        return v.bytes_value.hex()
    return getattr(v, which) if which else None


def _from_json(data: dict[str, Any]) -> list[Span]:
    """OTLP/JSON: camelCase keys, ids as hex strings, 64-bit integers possibly as strings."""
    spans = []
    for rs in data.get("resourceSpans") or []:
        service = str(_json_attributes((rs.get("resource") or {}).get("attributes")).get("service.name", ""))
        for ss in rs.get("scopeSpans") or []:
            scope = (ss.get("scope") or {}).get("name", "")
            for s in ss.get("spans") or []:
                kind, code = s.get("kind", 0), (s.get("status") or {}).get("code", 0)
                spans.append(Span(
                    trace_id=str(s.get("traceId", "")).lower(), span_id=str(s.get("spanId", "")).lower(),
                    parent_span_id=str(s.get("parentSpanId") or "").lower(), name=str(s.get("name", "")),
                    kind=KINDS.get(int(kind), "unspecified") if str(kind).isdigit()
                    else str(kind).removeprefix("SPAN_KIND_").lower(),
                    service=service, start_ns=int(s.get("startTimeUnixNano", 0)),
                    end_ns=int(s.get("endTimeUnixNano", 0)),
                    status=STATUSES.get(int(code), "unset") if str(code).isdigit()
                    else str(code).removeprefix("STATUS_CODE_").lower(),
                    attributes=_json_attributes(s.get("attributes")), scope=scope))
    return spans


def _json_attributes(kvs: Iterable[dict] | None) -> dict[str, Any]:
    return {kv["key"]: _json_value(kv.get("value") or {}) for kv in kvs or []}


def _json_value(v: dict[str, Any]) -> Any:
    for key, value in v.items():
        if key == "intValue":
            return int(value)
        if key == "arrayValue":
            return [_json_value(x) for x in value.get("values", [])]
        if key == "kvlistValue":
            return _json_attributes(value.get("values"))
        return value
    return None


# --------------------------------------------------------------------------- the receiver
class Collector:
    """An OTLP/HTTP receiver on 127.0.0.1 that keeps the spans it gets.

    ``url`` is what an SDK wants in ``OTEL_EXPORTER_OTLP_ENDPOINT`` (it appends
    ``/v1/traces`` itself); :meth:`env` gives the whole set of variables.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, max_spans: int = MAX_SPANS):
        self._spans: deque[Span] = deque(maxlen=max_spans)
        self._changed = threading.Condition()
        self.requests = {TRACES_PATH: 0, METRICS_PATH: 0, LOGS_PATH: 0}
        self.rejected = 0  # export requests that were not OTLP
        self._server = http.server.ThreadingHTTPServer((host, port), _handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- life ------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def start(self) -> "Collector":
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever, name="otlp-collector", daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> "Collector":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<course.otlp.Collector {self.url}: {len(self._spans)} spans>"

    def env(self, service: str, *, delay_ms: int = 200) -> dict[str, str]:
        """Variables that point an OpenTelemetry SDK here (see :func:`sdk_env`)."""
        return sdk_env(self.url, service, delay_ms=delay_ms)

    # -- spans ---------------------------------------------------------------------------
    def add(self, spans: Iterable[Span]) -> None:
        with self._changed:
            self._spans.extend(spans)
            self._changed.notify_all()

    def spans(self, trace_id: str | None = None, *, service: str | None = None) -> list[Span]:
        """Spans received so far (oldest first), of one trace and/or one service."""
        with self._changed:
            found = list(self._spans)
        return [s for s in found if (trace_id is None or s.trace_id == trace_id.lower())
                and (service is None or s.service == service)]

    def wait_for(self, trace_id: str | None = None, *, count: int = 1, timeout: float = 10.0,
                 where: Callable[[Span], bool] | None = None) -> list[Span]:
        """Wait until ``count`` spans (of ``trace_id``, matching ``where``) have arrived; returns
        the matching spans, fewer than ``count`` when ``timeout`` passed first (SDKs export in
        batches, a few hundred milliseconds after a span ends)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [s for s in self._spans if (trace_id is None or s.trace_id == trace_id.lower())
                         and (where is None or where(s))]
                remaining = deadline - time.monotonic()
                if len(found) >= count or remaining <= 0:
                    return found
                self._changed.wait(remaining)

    def clear(self) -> None:
        with self._changed:
            self._spans.clear()

    def tree(self, trace_id: str) -> str:
        """One trace as an indented tree: service, span name, kind, duration."""
        return render_tree(self.spans(trace_id))


def sdk_env(url: str, service: str, *, delay_ms: int = 200) -> dict[str, str]:
    """The standard variables that point an OpenTelemetry SDK at the collector ``url``: the OTLP
    endpoint (HTTP, protobuf; the SDK appends ``/v1/traces``), the service name, and a short
    batch delay so spans arrive while you look (the SDKs' default is 5 s). ``course check
    --collector`` gives an app the same."""
    return {"OTEL_EXPORTER_OTLP_ENDPOINT": url.rstrip("/"), "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_SERVICE_NAME": service, "OTEL_BSP_SCHEDULE_DELAY": str(delay_ms)}


def render_tree(spans: list[Span]) -> str:
    """Spans of one trace, children under their parent; a span whose parent is not among them
    (the caller's, sent in a ``traceparent``) is shown as a root with that parent id."""
    ids = {s.span_id for s in spans}
    children: dict[str, list[Span]] = {}
    for s in sorted(spans, key=lambda s: s.start_ns):
        children.setdefault(s.parent_span_id if s.parent_span_id in ids else "", []).append(s)
    lines: list[str] = []

    def walk(parent: str, depth: int) -> None:
        for s in children.get(parent, []):
            remote = f"  (parent {s.parent_span_id}: from traceparent)" if depth == 0 and s.parent_span_id else ""
            lines.append(f"{'  ' * depth}{s.service}: {s.name} [{s.kind}] {s.duration_ms:.1f} ms{remote}")
            walk(s.span_id, depth + 1)

    walk("", 0)
    return "\n".join(lines) if lines else "(no spans)"


def _handler(collector: Collector) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            path = urllib.parse.urlsplit(self.path).path
            try:
                body = self._body()
            except OTLPDecodeError as e:
                collector.rejected += 1
                return self._answer(413 if "too large" in str(e) else 400, {"error": str(e)})
            if path not in collector.requests:
                return self._answer(404, {"error": f"no {path}: OTLP/HTTP posts to {TRACES_PATH}"})
            collector.requests[path] += 1
            if path == TRACES_PATH:
                try:
                    collector.add(decode(body, self.headers.get("Content-Type", "")))
                except OTLPDecodeError as e:
                    collector.rejected += 1
                    return self._answer(400, {"error": str(e)})
            # an empty Export*ServiceResponse: zero bytes in protobuf, {} in JSON
            if "json" in self.headers.get("Content-Type", ""):
                return self._answer(200, {})
            self._send(200, b"", "application/x-protobuf")

        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            if url.path == "/health":
                return self._answer(200, {"status": "ok"})
            if url.path != QUERY_PATH:
                return self._answer(404, {"error": f"GET {QUERY_PATH}?trace_id=… lists spans"})
            query = urllib.parse.parse_qs(url.query)
            trace_id = (query.get("trace_id") or [None])[0]
            service = (query.get("service") or [None])[0]
            self._answer(200, {"spans": [s.to_json() for s in collector.spans(trace_id, service=service)]})

        def _body(self) -> bytes:
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                raw = self._chunked()  # Node's exporters stream the body
            else:
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    raise OTLPDecodeError(f"export request too large ({length} bytes; at most {MAX_BODY})")
                raw = self.rfile.read(length)
            encoding = (self.headers.get("Content-Encoding") or "").lower()
            if encoding in ("gzip", "deflate"):
                try:
                    decoder = zlib.decompressobj(wbits=31 if encoding == "gzip" else 15)
                    raw = decoder.decompress(raw, MAX_BODY + 1)
                except (zlib.error, gzip.BadGzipFile) as e:
                    raise OTLPDecodeError(f"bad {encoding} body: {e}") from None
                if len(raw) > MAX_BODY:
                    raise OTLPDecodeError(f"export request too large once decompressed (over {MAX_BODY} bytes)")
            return raw

        def _chunked(self) -> bytes:
            body = bytearray()
            while True:
                try:
                    size = int(self.rfile.readline(64).split(b";")[0].strip() or b"0", 16)
                except ValueError:
                    raise OTLPDecodeError("bad chunked encoding") from None
                if size == 0:
                    while self.rfile.readline(1024).strip():  # trailers, up to the blank line
                        pass
                    return bytes(body)
                if len(body) + size > MAX_BODY:
                    raise OTLPDecodeError(f"export request too large (over {MAX_BODY} bytes)")
                body += self.rfile.read(size)
                self.rfile.readline(8)  # the CRLF after each chunk

        def _answer(self, status: int, payload: dict[str, Any]) -> None:
            self._send(status, json.dumps(payload).encode(), "application/json")

        def _send(self, status: int, data: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # quiet: the kernel is no log
            pass

    return Handler


# --------------------------------------------------------------------------- the kernel's own
_kernel: Collector | None = None
_kernel_lock = threading.Lock()


def start(port: int = 0) -> Collector:
    """The collector of this process (the kernel's), started on first use; later calls return it."""
    global _kernel
    with _kernel_lock:
        if _kernel is None:
            _kernel = Collector(port=port).start()
        return _kernel


def query(url: str, trace_id: str, *, count: int = 1, timeout: float = 10.0,
          where: Callable[[Span], bool] | None = None) -> list[Span]:
    """Ask the collector at ``url`` (a :class:`Collector`, maybe in another process) for the spans
    of ``trace_id``, polling until ``count`` match or ``timeout`` passes.

    Raises :class:`ConnectionError` naming the fix when ``url`` is not a course collector.
    """
    endpoint = f"{url.rstrip('/')}{QUERY_PATH}?{urllib.parse.urlencode({'trace_id': trace_id})}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(endpoint, timeout=3) as r:
                spans = [Span.from_json(s) for s in json.load(r)["spans"]]
        except (OSError, ValueError, KeyError) as e:
            raise ConnectionError(
                f"could not read spans from {url} ({type(e).__name__}: {e}). --collector needs a course "
                f"collector, which answers GET {QUERY_PATH}: start one with `python -m course.otlp` or "
                "course.otlp.start() in a notebook, and give its URL") from None
        found = [s for s in spans if where is None or where(s)]
        if len(found) >= count or time.monotonic() >= deadline:
            return found
        time.sleep(0.1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m course.otlp",
        description="Run an OTLP/HTTP collector in the foreground and print every span it receives. "
                    "Point an app at it with OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:PORT; "
                    "`course check APP --items all --collector http://127.0.0.1:PORT` reads spans from it.")
    parser.add_argument("--port", type=int, default=4318, help="port to listen on (default 4318, OTLP/HTTP's)")
    args = parser.parse_args(argv)
    collector = Collector(port=args.port).start()
    print(f"OTLP/HTTP collector on {collector.url} (POST {TRACES_PATH}; GET {QUERY_PATH}?trace_id=…); "
          "Ctrl-C stops it", flush=True)
    seen = 0
    try:
        while True:
            spans = collector.wait_for(count=seen + 1, timeout=1.0)
            for s in spans[seen:]:
                print(f"{s.trace_id} {s.span_id} parent={s.parent_span_id or '-'} {s.service}: {s.name} "
                      f"[{s.kind}] {s.duration_ms:.1f} ms", flush=True)
            seen = len(spans)
    except KeyboardInterrupt:
        return 0
    finally:
        collector.close()


if __name__ == "__main__":
    raise SystemExit(main())
