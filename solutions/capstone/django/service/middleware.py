"""Project middleware (see MIDDLEWARE in settings.py for the order)."""
from __future__ import annotations

import logging
import time
import uuid

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import Counter, Histogram

access_log = logging.getLogger("service.access")

HTTP_LABELS = ("method", "route", "status")
HTTP_REQUESTS = Counter("http_requests_total", "HTTP requests handled", HTTP_LABELS)
HTTP_DURATION = Histogram("http_request_duration_seconds", "HTTP request duration in seconds", HTTP_LABELS,
                          buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


class AccessLogMiddleware:
    """One line per request: method, path, status, duration_ms, client and request id,
    at info (2xx/3xx), warning (4xx) or error (5xx). Request headers are not logged,
    so credentials such as Authorization never reach the log store."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        start = time.perf_counter()
        request_id = _request_id(request)
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        status = response.status_code
        level = logging.ERROR if status >= 500 else logging.WARNING if status >= 400 else logging.INFO
        access_log.log(level, "%s %s %s", request.method, request.path, status, extra={
            "method": request.method,
            "path": request.path,
            "status": status,
            "duration_ms": round((time.perf_counter() - start) * 1000, 2),
            "client": request.META.get("REMOTE_ADDR"),
            "request_id": request_id,
        })
        return response


def _request_id(request: HttpRequest) -> str:
    """The caller's X-Request-ID if it looks sane (it's echoed into logs), else a new one."""
    candidate = request.headers.get("X-Request-ID", "")
    if 0 < len(candidate) <= 64 and candidate.replace("-", "").isalnum():
        return candidate
    return str(uuid.uuid4())


class MetricsMiddleware:
    """Counts and times every request, labelled by the matched URL *pattern*
    (``/api/users/<str:user_id>``), never by the raw path: one series per user id
    would swamp Prometheus."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        start = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        route = "/" + match.route if match is not None and match.route is not None else "unmatched"
        labels = (request.method, route, str(response.status_code))
        HTTP_REQUESTS.labels(*labels).inc()
        HTTP_DURATION.labels(*labels).observe(time.perf_counter() - start)
        return response


class ContentSecurityPolicyMiddleware:
    """Django 5.2 has no CSP support of its own (6.0 adds it): a fixed policy is enough
    for an API that serves no HTML."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        return response
