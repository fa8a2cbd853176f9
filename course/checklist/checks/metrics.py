"""metrics: a Prometheus endpoint whose HTTP request metrics count real traffic.

Scrapes /metrics, sends 10 requests to /api/users/1..10, scrapes again. Pass: a
Prometheus (0.0.4) or OpenMetrics content type; both scrapes parse with
prometheus_client's parsers; some counter or histogram/summary ``_count`` with a
method label and a status label rose by at least 10 on the GET series for those
requests; so did a request *duration* — a histogram or summary (``_count`` beside a
``_sum``), the seed's ``request_latency``: a request counter alone gives rate and errors,
not the latency of RED; and no label value holds a concrete path such as
``/api/users/7`` (routes must be templated, or every id becomes a new time series).

Names vary by library (``http_requests_total``, ``http_request_duration_seconds``,
Spring's ``http_server_requests_seconds``; ``status``/``status_code``/``code``), so
families are found by their labels, not their names.
"""
from __future__ import annotations

import re
from typing import Any

from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_prometheus

from course.checklist.model import Result, Target
from course.checklist.probe import Exchange, Probe, run

ITEM_ID = "metrics"
PATH = "/metrics"
REQUESTS = 10
METHOD_LABELS = {"method", "http_method", "request_method", "http_request_method"}
STATUS_LABELS = {"status", "status_code", "code", "statuscode", "http_status", "http_status_code",
                 "http_response_status_code", "response_code"}
ROUTE_LABELS = {"route", "path", "handler", "uri", "url", "endpoint", "http_route", "template"}
CONCRETE_ID = re.compile(r"/api/users/\d+")
TEXT_VERSIONS = {"0.0.4", "1.0.0"}

Series = tuple[str, frozenset]  # (sample name, labels)


def check(target: Target) -> Result:
    """Scrape, send 10 requests, scrape again; see the module docstring."""
    return run(target, ITEM_ID, _probe)


def _probe(p: Probe) -> None:
    before_ex, before, error = _scrape(p)
    _judge_format(p, before_ex, error)
    if before is None:
        return
    sent = [p.get(f"/api/users/{i}") for i in range(1, REQUESTS + 1)]
    statuses = {ex.status for ex in sent if ex.answered}
    after_ex, after, error = _scrape(p)
    if after is None:
        p.rule("the second scrape parses", False, f"{after_ex.describe()}: {error}", exchange=after_ex)
        return

    rises = rises_by_family(before, after, statuses)
    p.notes["request_metric_rises"] = {k: v for k, v in sorted(rises.items(), key=lambda kv: -kv[1])[:5]}
    best = max(rises.values(), default=0)
    p.rule(f"an HTTP request counter rose by ≥ {REQUESTS}", best >= REQUESTS,
           (f"after {REQUESTS} GET /api/users/1..{REQUESTS}, the most any request counter/histogram "
            f"with method and status labels rose on those series is {best:g}"
            if rises else
            "no counter or histogram with a method label and a status label found "
            "(e.g. http_requests_total{method, route, status_code})"),
           exchange=after_ex)

    names = {name for name, _ in after}
    timed = [rise for name, rise in rises.items()
             if name.endswith("_count") and name.removesuffix("_count") + "_sum" in names]
    best_timed = max(timed, default=0)
    p.rule(f"a request-duration histogram rose by ≥ {REQUESTS}", best_timed >= REQUESTS,
           (f"after {REQUESTS} GET /api/users/1..{REQUESTS}, the most any request-duration histogram or "
            f"summary with method and status labels rose on those series is {best_timed:g}"
            if timed else
            "no request-duration histogram or summary (…_count and …_sum) with a method label and a status "
            "label found: count requests and time them, e.g. http_request_duration_seconds{method, route, "
            "status_code}"),
           exchange=after_ex)

    concrete = sorted({f"{name}{{{', '.join(f'{k}={v!r}' for k, v in sorted(labels))}}}"
                       for name, labels in after if any(CONCRETE_ID.search(v) for _, v in labels)})
    p.rule("routes are templated (no /api/users/<id> label values)", not concrete,
           f"{len(concrete)} series carry a concrete path, e.g. {concrete[0] if concrete else ''}; "
           "label the route template (/api/users/:id), or every id becomes a new series",
           exchange=after_ex, notes={"concrete_series": concrete[:5]} if concrete else None)


def _scrape(p: Probe) -> tuple[Exchange, dict[Series, float] | None, str]:
    ex = p.get(PATH)
    if not ex.answered or ex.status != 200:
        return ex, None, f"{ex.outcome()}; expected 200"
    try:
        return ex, parse_exposition(ex.text, ex.media_type), ""
    except Exception as exc:  # noqa: BLE001 - the parser raises several types
        return ex, None, f"does not parse as Prometheus text ({type(exc).__name__}: {exc})"


def parse_exposition(text: str, media_type: str) -> dict[Series, float]:
    """Every sample as {(name, labels): value}, parsed with prometheus_client."""
    parser = parse_openmetrics if media_type == "application/openmetrics-text" else parse_prometheus
    samples: dict[Series, float] = {}
    for family in parser(text):
        for s in family.samples:
            samples[(s.name, frozenset(s.labels.items()))] = float(s.value)
    return samples


def _judge_format(p: Probe, ex: Exchange, error: str) -> None:
    content_type = ex.header("content-type") or ""
    params = dict(part.strip().split("=", 1) for part in content_type.split(";")[1:] if "=" in part)
    version = params.get("version", "").strip()
    ok_type = ex.media_type == "application/openmetrics-text" or (
        ex.media_type == "text/plain" and (not version or version in TEXT_VERSIONS))
    p.rule("Prometheus content type", ex.answered and ok_type,
           f"{ex.describe()} {ex.outcome()} (Content-Type: {content_type or 'none'}); expected "
           "text/plain; version=0.0.4 or application/openmetrics-text", exchange=ex)
    p.rule("/metrics parses", not error, f"{ex.describe()} {error}", exchange=ex)


def rises_by_family(before: dict[Series, float], after: dict[Series, float],
                    statuses: set[int | None]) -> dict[str, float]:
    """How much each request counter/histogram count rose on the series that match
    the check's own requests (GET, the statuses it got, a users route if labelled)."""
    rises: dict[str, float] = {}
    for (name, labels), value in after.items():
        if not name.endswith(("_total", "_count")):
            continue
        found = _labels(labels)
        if found.get("method") is None or found.get("status") is None:
            continue
        rises.setdefault(name, 0.0)
        if found["method"].upper() != "GET" or not _status_matches(found["status"], statuses):
            continue
        route = found.get("route")
        if route is not None and "user" not in route.lower():
            continue
        rises[name] += value - before.get((name, labels), 0.0)
    return rises


def _labels(labels: frozenset) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in labels:
        k = key.lower()
        if k in METHOD_LABELS:
            out.setdefault("method", value)
        elif k in STATUS_LABELS:
            out.setdefault("status", value)
        elif k in ROUTE_LABELS:
            out.setdefault("route", value)
    return out


def _status_matches(value: str, statuses: set[int | None]) -> bool:
    return any(s is not None and value.lower() in (str(s), f"{s // 100}xx") for s in statuses)
