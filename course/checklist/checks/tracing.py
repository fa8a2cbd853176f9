"""tracing (beyond the seed's 11, with ``--items all``): a W3C ``traceparent`` sent in
continues in the app — its trace id comes back in the app's log lines and, when the app
exports spans to a collector, in a server span whose parent is the span that was sent.

The check sends ``GET /api/users/1`` with ``traceparent: 00-<trace id>-<span id>-01``
(fresh random ids, sampled), then reads the stdout lines written since. Any line that
carries the trace id passes: ``trace_id``, ``traceId``, ``trace.id`` or inside a message.
The header's own value does not count (pino-http, for one, logs every request header): the
app must have read it. A line with *another* 32-hex trace id next to the request's path
means the app started a new trace instead of continuing the caller's
(``propagation.extract`` missing), and the message says so.

With a collector (``course check --collector URL``: the app gets it as
``OTEL_EXPORTER_OTLP_ENDPOINT``), the spans of that trace are read back from it
(``course.otlp.query``): at least one must arrive within ``SPAN_WAIT_S`` of the request (the
SDKs export in batches; the app gets ``OTEL_BSP_SCHEDULE_DELAY=200``), and one must have
the sent span id as its parent — the server span of a continued trace.
"""
from __future__ import annotations

import re
import secrets
import time

from course import otlp
from course.checklist.model import Result, Target
from course.checklist.probe import Exchange, Probe, run, truncate

ITEM_ID = "tracing"
PATH = "/api/users/1"
FLUSH_WAIT_S = 3.0  # for the app to write its log lines
SPAN_WAIT_S = 10.0  # for the app's batch processor to export (OTEL_BSP_SCHEDULE_DELAY is set short)
TRACE_ID_FIELD = re.compile(r'"(?:trace_?id|traceId|trace\.id|trace-id|dd\.trace_id)"\s*:\s*"([0-9a-fA-F]{32})"',
                            re.IGNORECASE)


def check(target: Target) -> Result:
    """Send a traceparent; look for its trace id in the logs, then in the collector's spans."""
    return run(target, ITEM_ID, _probe)


def new_traceparent() -> tuple[str, str, str]:
    """(header value, trace id, parent span id): random, non-zero, sampled (flags 01)."""
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return f"00-{trace_id}-{span_id}-01", trace_id, span_id


def _probe(p: Probe) -> None:
    header, trace_id, parent_id = new_traceparent()
    logs = p.target.logs
    start = logs.offset()
    ex = p.get(PATH, headers={"traceparent": header})
    sent = time.monotonic()
    p.notes["traceparent_sent"] = header
    if not p.rule(f"GET {PATH} with a traceparent is answered", ex.answered,
                  f"{ex.describe()} {ex.outcome()}", exchange=ex):
        return

    deadline = time.monotonic() + FLUSH_WAIT_S
    while True:
        text = logs.since(start)
        # the header itself, logged with the request's headers, proves nothing: look past it
        lines = [line for line in text.splitlines() if trace_id in line.lower().replace(header, "")]
        if lines or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    _judge_logs(p, ex, trace_id, lines, text)
    if p.target.collector_url:  # the wait for spans counts from the request, not from the logs
        _judge_spans(p, ex, trace_id, parent_id, wait=max(0.0, SPAN_WAIT_S - (time.monotonic() - sent)))


def _judge_logs(p: Probe, ex: Exchange, trace_id: str, lines: list[str], text: str) -> None:
    if lines:
        p.rule("the trace id sent in comes back in the app's log lines", True)
        p.notes["log_line"] = truncate(lines[0], 400)
        return
    others = [m.group(1).lower() for line in text.splitlines() if PATH in line
              for m in TRACE_ID_FIELD.finditer(line)]
    if others:
        why = (f"the app logged trace id {others[0]} for it: it started a new trace instead of continuing the "
               "caller's. Extract the incoming context from the request headers (propagation.extract / "
               "TextMapPropagator) and start the server span as its child")
    else:
        why = ("no log line carries any trace id. Put the active span's trace id in every log line of the "
               "request (a trace_id field: pino mixin, a logging.Filter, slog attributes, the MDC)")
    p.rule("the trace id sent in comes back in the app's log lines", False,
           f"{ex.describe()} was sent with traceparent {p.notes['traceparent_sent']}, but none of the app's "
           f"stdout lines written within {FLUSH_WAIT_S:g} s holds {trace_id}: {why}", exchange=ex)


def _judge_spans(p: Probe, ex: Exchange, trace_id: str, parent_id: str, *, wait: float) -> None:
    url = p.target.collector_url
    try:
        spans = otlp.query(url, trace_id, timeout=wait, where=lambda s: s.parent_span_id == parent_id)
        if not spans:  # say whether nothing came or only the wrong parent did
            spans_any = otlp.query(url, trace_id, timeout=0)
        else:
            spans_any = spans
    except ConnectionError as e:
        p.rule("the collector can be read", False, str(e))
        return
    p.notes["spans"] = [f"{s.service}: {s.name} [{s.kind}] parent={s.parent_span_id or '-'}" for s in spans_any[:5]]
    p.rule(f"spans of the trace reach the collector at {url}", bool(spans_any),
           f"no span of trace {trace_id} reached the collector within {SPAN_WAIT_S:g} s after {ex.describe()}: "
           "export spans with an OTLP/HTTP exporter to OTEL_EXPORTER_OTLP_ENDPOINT (a BatchSpanProcessor, "
           "and shut the provider down on SIGTERM so the last batch is sent)", exchange=ex)
    if spans_any:
        p.rule("the server span's parent is the span id sent in", bool(spans),
               f"trace {trace_id} arrived, but no span has parent {parent_id} (the span id in the traceparent): "
               "start the server span in the extracted context, so it continues the caller's trace", exchange=ex)
