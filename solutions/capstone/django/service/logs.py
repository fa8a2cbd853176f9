"""JSON logs on stdout: one object per line with time, level, logger and message.

:func:`logging_config` is both Django's ``LOGGING`` (settings.py) and gunicorn's
``logconfig_dict`` (gunicorn.conf.py), so the master's and the worker's lines
look alike. Anything passed as ``extra=`` becomes a field: that is how the access
log (service/middleware.py) carries method, path, status and duration_ms.
"""
from __future__ import annotations

from typing import Any


def logging_config(level: str) -> dict[str, Any]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(levelname)s %(name)s %(message)s",
                "rename_fields": {"levelname": "level", "name": "logger"},
                "timestamp": "time",
            },
        },
        "handlers": {
            "stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "json"},
        },
        "root": {"handlers": ["stdout"], "level": level},
        "loggers": {
            "django": {"handlers": [], "level": level, "propagate": True},
            # 4xx are already in the access log; keep django.request for 5xx (with tracebacks)
            "django.request": {"handlers": [], "level": "ERROR", "propagate": True},
            "gunicorn.error": {"handlers": ["stdout"], "level": level, "propagate": False},
            # the access log is written by service.middleware.AccessLogMiddleware
            "gunicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
            "psycopg.pool": {"level": "WARNING"},  # it logs every checkout at INFO
        },
    }
