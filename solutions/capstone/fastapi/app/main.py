"""The FastAPI application: middleware, exception handlers, routes, lifespan."""
from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import Counter, Histogram
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware

from . import db
from .config import settings
from .errors import register_exception_handlers
from .middleware import (AccessLogMiddleware, MetricsMiddleware, RateLimitMiddleware,
                         SecurityHeadersMiddleware, UnhandledErrorMiddleware)
from .routes import router

log = logging.getLogger("app")

HTTP_LABELS = ("method", "route", "status")
HTTP_REQUESTS = Counter("http_requests_total", "HTTP requests handled", HTTP_LABELS)
HTTP_DURATION = Histogram("http_request_duration_seconds", "HTTP request duration in seconds", HTTP_LABELS,
                          buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


@asynccontextmanager
async def lifespan(app: FastAPI):
    await db.pool.open(wait=False)  # start serving even if the database is still coming up
    log.info("listening on http://%s:%s", settings.host, settings.port)
    yield
    # uvicorn has stopped accepting connections and finished in-flight requests by now.
    await db.pool.close()
    log.info("database pool closed, bye")


def create_app() -> FastAPI:
    app = FastAPI(title="Backend Patterns Lab capstone", lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url=None)
    register_exception_handlers(app)
    app.include_router(router)

    # add_middleware puts each new middleware *outside* the previous ones: innermost first.
    app.add_middleware(UnhandledErrorMiddleware)
    app.add_middleware(RateLimitMiddleware, limit=settings.rate_limit_max, window_s=settings.rate_limit_window_s)
    app.add_middleware(GZipMiddleware, minimum_size=1000)  # sets Vary: Accept-Encoding
    app.add_middleware(
        CORSMiddleware,  # outside the limiter: preflights are answered, not counted
        allow_origins=settings.cors_origins,  # exact matches, echoed back with Vary: Origin
        allow_methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Content-Type", "Authorization"],
        max_age=600,
    )
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(MetricsMiddleware, requests=HTTP_REQUESTS, duration=HTTP_DURATION)
    app.add_middleware(AccessLogMiddleware)
    return app
