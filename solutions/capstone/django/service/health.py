"""Operational endpoints: plain Django views, outside DRF, so no throttle applies."""
from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from psycopg import OperationalError

log = logging.getLogger("service")


@require_safe
def health(request):
    """Liveness: never touches the database, so a database outage doesn't get
    healthy instances restarted."""
    return JsonResponse({"status": "ok"})


@require_safe
def ready(request):
    """Readiness: 503 while the database is unreachable. Borrows a connection from
    Django's pool with a short timeout, so the probe answers well within 1 s."""
    pool = connection.pool
    try:
        pool.open(wait=False)  # a no-op once the first request has opened it
        with pool.connection(timeout=settings.READY_TIMEOUT_S) as conn:
            conn.execute("SELECT 1")
    except OperationalError as exc:  # PoolTimeout is one too
        log.warning("readiness check failed: %s", exc)
        return JsonResponse({"status": "unavailable", "checks": {"database": "unavailable"}}, status=503)
    return JsonResponse({"status": "ok", "checks": {"database": "ok"}})


@require_safe
def metrics(request):
    return HttpResponse(generate_latest(), content_type=CONTENT_TYPE_PLAIN_0_0_4)
