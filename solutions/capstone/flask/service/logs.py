"""JSON logs on stdout, for the app's loggers and gunicorn's alike.

gunicorn.conf.py hands :func:`logging_config` to gunicorn (``logconfig_dict``), which
applies it in the master before the worker is forked, so every line the process
writes is one JSON object with time, level, logger and message.

gunicorn logs each request on ``gunicorn.access`` with its "atoms" (method, path,
status, duration, every request header, ...) as the record's args.
:class:`JsonFormatter` copies an allowlist of them into fields, so the access line
is structured and headers such as Authorization are never written.
"""
from __future__ import annotations

from typing import Any

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter


class JsonFormatter(_JsonFormatter):
    def add_fields(self, log_record: dict[str, Any], record, message_dict: dict[str, Any]) -> None:
        super().add_fields(log_record, record, message_dict)
        if record.name == "gunicorn.access" and isinstance(record.args, dict):
            atoms = record.args
            log_record.update({
                "method": atoms["m"],
                "path": atoms["U"],
                "query": atoms["q"] or None,
                "status": int(atoms["s"]),
                "duration_ms": round(atoms["D"] / 1000, 2),
                "bytes": atoms["B"],
                "client": atoms["h"],
                "user_agent": atoms["a"],
            })


def logging_config(level: str) -> dict[str, Any]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": JsonFormatter,
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
            "gunicorn.error": {"level": level, "handlers": ["stdout"], "propagate": False},
            "gunicorn.access": {"level": "INFO", "handlers": ["stdout"], "propagate": False},
            "psycopg.pool": {"level": "WARNING"},  # it logs every checkout at INFO
        },
    }
