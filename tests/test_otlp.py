"""course.otlp: the kernel's OTLP/HTTP receiver takes what the SDKs send (protobuf from the
Python SDK's own exporter, OTLP/JSON, gzip, a chunked body as Node's exporters stream it)
and answers the span query that `course check --collector` reads."""
from __future__ import annotations

import gzip
import http.client
import json

import pytest

from course import otlp

TRACE, PARENT, CHILD = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", "b7ad6b7169203331"


@pytest.fixture
def collector():
    with otlp.Collector() as c:
        yield c


def _json_export(service: str = "orders", name: str = "GET /api/users/{id}") -> bytes:
    return json.dumps({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
        "scopeSpans": [{"scope": {"name": "test"}, "spans": [{
            "traceId": TRACE.upper(), "spanId": CHILD, "parentSpanId": PARENT, "name": name,
            "kind": "SPAN_KIND_SERVER", "startTimeUnixNano": "1000000", "endTimeUnixNano": "4000000",
            "status": {"code": 2}, "attributes": [{"key": "http.response.status_code",
                                                   "value": {"intValue": "500"}}]}]}]}]}).encode()


def _post(c: otlp.Collector, body: bytes, headers: dict[str, str], *, chunked: bool = False):
    conn = http.client.HTTPConnection("127.0.0.1", c.port, timeout=5)
    if chunked:
        conn.request("POST", "/v1/traces", body=iter([body[:10], body[10:]]), headers=headers, encode_chunked=True)
    else:
        conn.request("POST", "/v1/traces", body=body, headers=headers)
    response = conn.getresponse()
    out = response.status, response.read()
    conn.close()
    return out


def test_the_python_sdk_exports_a_continued_trace_over_protobuf(collector):
    from opentelemetry import propagate, trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "orders"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{collector.url}/v1/traces")))
    parent = propagate.extract({"traceparent": f"00-{TRACE}-{PARENT}-01"})
    with provider.get_tracer("t").start_as_current_span("GET /api/users/{id}", context=parent,
                                                          kind=trace.SpanKind.SERVER):
        pass
    provider.shutdown()
    [span] = collector.wait_for(TRACE, timeout=5)
    assert (span.parent_span_id, span.kind, span.service) == (PARENT, "server", "orders")
    assert otlp.query(collector.url, TRACE, timeout=0, where=lambda s: s.parent_span_id == PARENT) == [span]
    assert "orders: GET /api/users/{id} [server]" in collector.tree(TRACE)


@pytest.mark.parametrize("how", ["json", "gzip", "chunked"])
def test_otlp_json_gzip_and_chunked_bodies(collector, how):
    body, headers = _json_export(), {"Content-Type": "application/json"}
    if how == "gzip":
        body, headers = gzip.compress(body), {**headers, "Content-Encoding": "gzip"}
    status, answer = _post(collector, body, headers, chunked=how == "chunked")
    assert (status, json.loads(answer)) == (200, {})
    [span] = otlp.query(collector.url, TRACE, timeout=1)
    assert (span.trace_id, span.kind, span.status) == (TRACE, "server", "error")
    assert span.attributes == {"http.response.status_code": 500} and span.duration_ms == 3.0


def test_what_is_not_otlp_is_refused_and_a_wrong_url_says_so(collector):
    status, answer = _post(collector, b"not json", {"Content-Type": "application/json"})
    assert status == 400 and "OTLP/JSON" in json.loads(answer)["error"] and collector.rejected == 1
    assert _post(collector, b"{}", {"Content-Type": "text/plain"})[0] == 400
    env = collector.env("orders")
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == collector.url and env["OTEL_SERVICE_NAME"] == "orders"
    closed = otlp.Collector()
    url = closed.url
    closed.close()
    with pytest.raises(ConnectionError, match="course collector"):
        otlp.query(url, TRACE, timeout=0)
