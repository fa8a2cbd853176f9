"""Cross-cutting response concerns as Flask hooks: security headers and Prometheus
metrics. ``after_request`` runs for every response Flask builds, error handlers'
included, so 404s, 429s and 500s get the headers and are counted too."""
from __future__ import annotations

import time

from flask import Flask, Response, g, request
from prometheus_client import Counter, Histogram

# helmet 8's defaults (OWASP Secure Headers Project). Not Flask-Talisman: it redirects
# plain HTTP to HTTPS, which breaks a service behind a TLS-terminating proxy.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';"
        "frame-ancestors 'self';img-src 'self' data:;object-src 'none';script-src 'self';"
        "script-src-attr 'none';style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests"),
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Origin-Agent-Cluster": "?1",
    "Referrer-Policy": "no-referrer",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",  # ignored over plain HTTP
    "X-Content-Type-Options": "nosniff",
    "X-DNS-Prefetch-Control": "off",
    "X-Frame-Options": "SAMEORIGIN",
    "X-Permitted-Cross-Domain-Policies": "none",
    "X-XSS-Protection": "0",
}

HTTP_LABELS = ("method", "route", "status")
HTTP_REQUESTS = Counter("http_requests_total", "HTTP requests handled", HTTP_LABELS)
HTTP_DURATION = Histogram("http_request_duration_seconds", "HTTP request duration in seconds", HTTP_LABELS,
                          buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


def add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.pop("X-Powered-By", None)
    return response


def start_timer() -> None:
    g.request_started = time.perf_counter()


def record_metrics(response: Response) -> Response:
    # The matched rule is the route *template* (/api/users/<user_id>): one series per
    # route, not one per user id. Unmatched paths share a single label value.
    route = request.url_rule.rule if request.url_rule is not None else "unmatched"
    labels = (request.method, route, str(response.status_code))
    HTTP_REQUESTS.labels(*labels).inc()
    HTTP_DURATION.labels(*labels).observe(time.perf_counter() - g.get("request_started", time.perf_counter()))
    return response


def register_hooks(app: Flask) -> None:
    app.before_request(start_timer)
    app.after_request(record_metrics)
    app.after_request(add_security_headers)
