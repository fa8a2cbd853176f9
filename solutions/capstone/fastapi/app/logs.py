"""JSON logs on stdout: one object per line with time, level, logger and message.

Uses python-json-logger. Anything passed as ``extra=`` becomes a field, which is
how the access log carries method, path, status and duration_ms. uvicorn's own
loggers are routed through the same handler; its access logger is switched off
because :class:`app.middleware.AccessLogMiddleware` writes the access lines.
"""
from __future__ import annotations

import logging.config

from pythonjsonlogger.core import RESERVED_ATTRS


def configure_logging(level: str) -> None:
    logging.config.dictConfig({
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": "%(levelname)s %(name)s %(message)s",
                "rename_fields": {"levelname": "level", "name": "logger"},
                "timestamp": "time",
                # uvicorn adds a terminal-coloured copy of each message: drop it
                "reserved_attrs": [*RESERVED_ATTRS, "color_message"],
            },
        },
        "handlers": {
            "stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "json"},
        },
        "root": {"handlers": ["stdout"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"},
            "psycopg.pool": {"level": "WARNING"},  # it logs every checkout at INFO
        },
    })
