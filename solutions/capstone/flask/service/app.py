"""The application factory: wires the extensions the Flask community uses for each
checklist item (flask-cors, Flask-Limiter, Flask-Compress, prometheus-client,
pydantic) and a psycopg_pool ConnectionPool. gunicorn serves it (gunicorn.conf.py)."""
from __future__ import annotations

import logging
import math

from flask import Flask, request
from flask_compress import Compress
from flask_cors import CORS
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from .config import Settings
from .db import Database, create_pool
from .errors import register_error_handlers
from .routes import api, ops
from .web import register_hooks

log = logging.getLogger("service")


def not_limited() -> bool:
    """Only /api/* is limited; health, readiness, metrics and CORS preflights are not."""
    return request.method == "OPTIONS" or not request.path.startswith("/api/")


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.json.sort_keys = False  # keep the columns' order: id, name, email
    app.config.update(
        READY_TIMEOUT_S=settings.ready_timeout_s,
        COMPRESS_MIN_SIZE=1000,
        COMPRESS_ALGORITHM=["gzip", "br", "deflate"],
    )

    app.extensions["db"] = Database(
        create_pool(settings.database_url, settings.db_pool_max, settings.db_acquire_timeout_s))

    register_error_handlers(app)
    register_hooks(app)  # security headers and metrics on every response

    CORS(app, resources={r"/api/*": {"origins": settings.cors_origins}},  # exact matches only
         methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
         allow_headers=["Content-Type", "Authorization"], max_age=600,
         always_send=False)  # no CORS headers at all on requests without an Origin
    Compress(app)  # gzip/br above 1 kB, with Vary: Accept-Encoding

    # limits counts in whole seconds: RATE_LIMIT_WINDOW_MS is rounded up to one.
    window = max(1, math.ceil(settings.rate_limit_window_s))
    Limiter(
        get_remote_address,  # the socket's address: X-Forwarded-For is not trusted
        app=app,
        application_limits=[f"{settings.rate_limit_max} per {window} second"],  # one budget for all of /api
        application_limits_exempt_when=not_limited,
        strategy="fixed-window",
        storage_uri="memory://",  # one worker process; use Redis to share counts between several
        headers_enabled=True,  # X-RateLimit-* on every limited route, Retry-After on the 429
    )

    app.register_blueprint(ops)
    app.register_blueprint(api)
    log.info("app ready: pool max %s, rate limit %s per %s s", settings.db_pool_max,
             settings.rate_limit_max, window)
    return app
