"""One error envelope for every failure:

    {"error": {"code": "NOT_FOUND", "message": "...", "details": [...]}}

Flask answers HTML for errors by default (and the dev server a traceback page);
these errorhandlers turn werkzeug's HTTPExceptions (404, 405, the 429 that
Flask-Limiter raises, ...), our own :class:`APIError` subclasses, pydantic's
ValidationError and anything unexpected into JSON. An unexpected exception is
logged with its traceback at error level; the client only learns it was a 500.
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Request, jsonify, request
from pydantic import ValidationError
from werkzeug.exceptions import BadRequest, HTTPException

log = logging.getLogger("service.errors")


class APIError(Exception):
    status = 500
    code = "INTERNAL_ERROR"

    def __init__(self, message: str, details: Any = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message, self.details, self.headers = message, details, headers


class NotFound(APIError):
    status, code = 404, "NOT_FOUND"


class InvalidParameter(APIError):
    status, code = 400, "BAD_REQUEST"


class ServiceUnavailable(APIError):
    status, code = 503, "SERVICE_UNAVAILABLE"

    def __init__(self, message: str = "Service unavailable"):
        super().__init__(message, headers={"Retry-After": "1"})


class JSONRequest(Request):
    """A body that is not valid JSON is a 400 with a plain message, not werkzeug's
    "Failed to decode JSON object: <parser internals>"."""

    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        if e is None:  # not a JSON content type: let Flask answer 415
            return super().on_json_loading_failed(e)
        raise BadRequest("Malformed JSON body")


def error_response(status: int, code: str, message: str, details: Any = None,
                   headers: dict[str, str] | None = None):
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return jsonify(error=error), status, headers or {}


# The contract's code for each status (docs/service-contract.md); any other 4xx: BAD_REQUEST.
HTTP_CODES = {400: "BAD_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 409: "CONFLICT",
              413: "PAYLOAD_TOO_LARGE", 422: "VALIDATION_ERROR", 429: "RATE_LIMITED"}


def handle_http_exception(exc: HTTPException):
    status = exc.code or 500
    if status == 404:
        message = f"Route {request.method} {request.path} not found"
    elif status == 429:  # Flask-Limiter's description is the limit, e.g. "50 per 2 second"
        message = f"Too many requests: at most {exc.description}"
    elif status >= 500:
        message = "Internal server error"
    else:
        message = exc.description or exc.name
    code = HTTP_CODES.get(status, "INTERNAL_ERROR" if status >= 500 else "BAD_REQUEST")
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    return error_response(status, code, message, headers=headers)


def handle_api_error(exc: APIError):
    if exc.status >= 500:
        log.warning("%s: %s", exc.code, exc.__cause__ or exc.message)
    return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)


def handle_validation_error(exc: ValidationError):
    details = [{"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]}
               for e in exc.errors()]
    return error_response(422, "VALIDATION_ERROR", "Request body is invalid", details)


def handle_unexpected(exc: Exception):
    log.exception("unhandled error in %s %s", request.method, request.path,
                  extra={"method": request.method, "path": request.path})
    return error_response(500, "INTERNAL_ERROR", "Internal server error")


def register_error_handlers(app: Flask) -> None:
    app.request_class = JSONRequest
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(APIError, handle_api_error)
    app.register_error_handler(ValidationError, handle_validation_error)
    app.register_error_handler(Exception, handle_unexpected)
