"""The error envelope for every failure:

    {"error": {"code": "NOT_FOUND", "message": "...", "details": [...]}}

Inside DRF views, :func:`exception_handler` (REST_FRAMEWORK["EXCEPTION_HANDLER"])
reshapes DRF's answers: serializer errors become 422 VALIDATION_ERROR with one
``{"field", "message"}`` per problem, malformed JSON 400, throttling 429 (DRF adds
Retry-After), an unreachable database 503. Anything unexpected is left to Django
(the handler returns None): django.request logs it with its traceback at error
level and answers with ``handler500``. The ``handler*`` views below give Django's
own errors (unknown URL, DisallowedHost, crashes) the same JSON shape instead of
HTML pages.
"""
from __future__ import annotations

import math
from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def envelope(code: str, message: str, details: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return {"error": error}


def field_errors(data: Any, prefix: str = "") -> list[dict[str, str]]:
    """DRF's nested ``{"field": ["msg", ...]}`` as a flat ``[{"field", "message"}]``."""
    if isinstance(data, dict):
        out = []
        for key, value in data.items():
            name = "body" if key == "non_field_errors" else f"{prefix}{key}"
            out += field_errors(value, f"{name}.") if isinstance(value, dict) else [
                {"field": name, "message": str(message)} for message in _as_list(value)]
        return out
    return [{"field": prefix.rstrip(".") or "body", "message": str(m)} for m in _as_list(data)]


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


# The contract's code for each status (docs/service-contract.md); any other 4xx: BAD_REQUEST.
HTTP_CODES = {400: "BAD_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 409: "CONFLICT",
              413: "PAYLOAD_TOO_LARGE", 422: "VALIDATION_ERROR", 429: "RATE_LIMITED"}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, (OperationalError, InterfaceError)):  # incl. the pool's PoolTimeout
        return Response(envelope("SERVICE_UNAVAILABLE", "Database unavailable"),
                        status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "1"})
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # unexpected: Django logs it and answers handler500
    if isinstance(exc, exceptions.ValidationError):
        response.status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
        response.data = envelope("VALIDATION_ERROR", "Request body is invalid", field_errors(exc.detail))
    elif isinstance(exc, exceptions.ParseError):
        response.data = envelope("BAD_REQUEST", "Malformed JSON body")
    elif isinstance(exc, exceptions.Throttled):
        retry = f", retry in {math.ceil(exc.wait)} s" if exc.wait is not None else ""
        response.data = envelope("RATE_LIMITED", f"Too many requests{retry}")
    else:
        code = HTTP_CODES.get(response.status_code,
                              "INTERNAL_ERROR" if response.status_code >= 500 else "BAD_REQUEST")
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        response.data = envelope(code, str(detail))
    return response


# ------------------------------------------------------------------ Django's own errors (urls.py)
def bad_request(request, exception=None):
    return JsonResponse(envelope("BAD_REQUEST", "Bad request"), status=400)


def permission_denied(request, exception=None):
    return JsonResponse(envelope("BAD_REQUEST", "Forbidden"), status=403)


def not_found(request, exception=None):
    return JsonResponse(envelope("NOT_FOUND", f"Route {request.method} {request.path} not found"), status=404)


def server_error(request):
    return JsonResponse(envelope("INTERNAL_ERROR", "Internal server error"), status=500)
