"""One error envelope for every failure:

    {"error": {"code": "NOT_FOUND", "message": "...", "details": [...]}}

Expected errors are exceptions with a status and a code (:class:`APIError`);
FastAPI's own HTTPException and RequestValidationError are mapped onto the same
shape by the handlers registered in :func:`register_exception_handlers`.
Unexpected exceptions never reach these handlers: :class:`app.middleware.
UnhandledErrorMiddleware` logs them and answers a bare 500, so no stack trace or
exception text is ever sent to a client.
"""
from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("app.errors")


class APIError(Exception):
    status = 500
    code = "INTERNAL_ERROR"

    def __init__(self, message: str, details: Any = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message, self.details, self.headers = message, details, headers


class NotFound(APIError):
    status, code = 404, "NOT_FOUND"


class BadRequest(APIError):
    status, code = 400, "BAD_REQUEST"


class ServiceUnavailable(APIError):
    status, code = 503, "SERVICE_UNAVAILABLE"

    def __init__(self, message: str = "Service unavailable"):
        super().__init__(message, headers={"Retry-After": "1"})


def error_response(status: int, code: str, message: str, details: Any = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return JSONResponse({"error": error}, status_code=status, headers=headers)


# Status codes Starlette raises itself (unknown route, wrong method, ...) → the contract's codes
# (docs/service-contract.md); any other 4xx: BAD_REQUEST.
HTTP_CODES = {400: "BAD_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 409: "CONFLICT",
              413: "PAYLOAD_TOO_LARGE", 422: "VALIDATION_ERROR", 429: "RATE_LIMITED"}


async def api_error_handler(request: Request, exc: APIError) -> JSONResponse:
    if exc.status >= 500:
        log.warning("%s: %s", exc.code, exc.__cause__ or exc.message)
    return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)


async def http_exception_handler(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code == 404:
        message = f"Route {request.method} {request.url.path} not found"
    elif exc.status_code >= 500:
        message = "Internal server error"
    else:
        message = str(exc.detail)
    code = HTTP_CODES.get(exc.status_code, "INTERNAL_ERROR" if exc.status_code >= 500 else "BAD_REQUEST")
    return error_response(exc.status_code, code, message, headers=getattr(exc, "headers", None))


async def validation_exception_handler(request: Request, exc: RequestValidationError) -> JSONResponse:
    """pydantic's errors as ``[{"field", "message"}]``: a bad body is 422, bad path or
    query parameters are 400, and a body that isn't JSON at all is 400."""
    errors = exc.errors()
    if any(e["type"] == "json_invalid" for e in errors):
        return error_response(400, "BAD_REQUEST", "Malformed JSON body")
    details = [
        {"field": ".".join(str(part) for part in e["loc"][1:]) or e["loc"][0], "message": e["msg"]}
        for e in errors
    ]
    if all(e["loc"][0] == "body" for e in errors):
        return error_response(422, "VALIDATION_ERROR", "Request body is invalid", details)
    return error_response(400, "BAD_REQUEST", "Invalid request parameters", details)


def register_exception_handlers(app: FastAPI) -> None:
    app.add_exception_handler(APIError, api_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_exception_handler)
    app.add_exception_handler(RequestValidationError, validation_exception_handler)
