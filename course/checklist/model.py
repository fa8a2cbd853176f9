"""The shapes every part of the checklist engine agrees on.

The engine builds a :class:`Target` (a started app plus its database and log), each
check turns it into a :class:`Result`, and the report renders results. Checks never
start or stop the app themselves — except graceful-shutdown, which the engine runs
last, alone.
"""
from __future__ import annotations

import dataclasses
import subprocess
import threading
from typing import Any, Protocol

STATUSES = ("pass", "fail", "error", "skip")


@dataclasses.dataclass(frozen=True)
class Item:
    """One checklist item, loaded from ``items.yaml``."""

    id: str
    title: str
    why: str
    references: tuple[str, ...]
    points: float = 1.0
    extra: bool = False  # beyond the seed's 11: checked and counted only with --items all


@dataclasses.dataclass
class Result:
    """The verdict on one item.

    ``evidence`` is the decisive exchange: ``{"request": {...}, "response": {"status",
    "headers", "body"}, "curl": "curl -i ..."}`` plus optional ``"notes"``; empty when
    the verdict rests on something other than HTTP (then ``message`` says what).
    """

    id: str
    title: str
    status: str
    score: float
    max_score: float
    message: str
    evidence: dict[str, Any] = dataclasses.field(default_factory=dict)
    duration_s: float = 0.0
    code: str = ""  # a seed error code the failure amounts to (ASYNC_PATTERN_MISMATCH), "" otherwise

    def exchange(self) -> dict[str, Any] | None:
        """The decisive exchange in a test report's shape (request line, status, content
        type, the body's first 300 characters); None when the verdict rests on no request."""
        request = self.evidence.get("request") if self.evidence else None
        if not request:
            return None
        response = self.evidence.get("response") or {}
        return {"request": f"{request.get('method', 'GET')} {request.get('url', '')}",
                "status": response.get("status"),
                "content_type": (response.get("headers") or {}).get("content-type"),
                "body": str(response.get("body") or "")[:300]}

    def evidence_text(self) -> str:
        """The curl line that replays the exchange, then the check's notes, one per line."""
        evidence = self.evidence or {}
        notes = evidence.get("notes") or {}
        notes = [f"{k}: {v}" for k, v in notes.items()] if isinstance(notes, dict) else [str(n) for n in notes]
        return "\n".join(filter(None, [evidence.get("curl"), *notes]))

    def to_json(self) -> dict[str, Any]:
        out = {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "score": round(self.score, 3),
            "max_score": self.max_score,
            "message": self.message,
            "evidence": self.evidence,
            "duration_s": round(self.duration_s, 3),
        }
        if self.code:
            out["code"] = self.code
        return out


class LogCapture(Protocol):
    """The app's stdout, captured by the engine into a bounded file."""

    def offset(self) -> int:
        """Current end of the captured output (bytes); pass it to :meth:`since`."""

    def since(self, offset: int) -> str:
        """Captured text from ``offset`` to now (decoded, possibly truncated at the cap)."""


class AppDatabase(Protocol):
    """The app's own PostgreSQL database, seen from the checker's side."""

    name: str  # database name, unique per checked app
    url: str  # the DATABASE_URL the app got

    def backends(self) -> list[int]:
        """PIDs of the server backends connected to this database right now
        (from ``pg_stat_activity``; the checker's own sessions are excluded)."""

    def block(self) -> None:
        """Make the database unreachable for the app: refuse new connections and
        terminate existing ones (``ALLOW_CONNECTIONS false`` + ``pg_terminate_backend``)."""

    def unblock(self) -> None:
        """Undo :meth:`block`."""


@dataclasses.dataclass
class Target:
    """A running app under check."""

    base_url: str  # "http://127.0.0.1:PORT"
    host: str
    port: int
    env: dict[str, str]  # what the app was started with (PORT, RATE_LIMIT_MAX, ...)
    proc: subprocess.Popen  # leader of the app's process group
    logs: LogCapture
    db: AppDatabase
    client_ip: str = "127.0.0.1"  # loopback source address this check should use
    # Set by the engine once no other check needs the database. A check that takes the
    # database away calls wait_for_quiet_database() first (None: nothing else runs).
    database_quiet: threading.Event | None = None
    # Set by the engine once every other concurrent check has finished: a probe that may stall
    # the app (blocking its event loop) waits for it, so it cannot fail another check's timing.
    alone: threading.Event | None = None
    # An OTLP/HTTP collector that answers GET /api/spans (course.otlp); the app got it as
    # OTEL_EXPORTER_OTLP_ENDPOINT. None: spans are not checked.
    collector_url: str | None = None

    def wait_for_quiet_database(self, timeout: float = 90.0) -> bool:
        """Block until every check that uses the database has finished (False on timeout)."""
        return True if self.database_quiet is None else self.database_quiet.wait(timeout)

    def wait_until_alone(self, timeout: float = 90.0) -> bool:
        """Block until every other concurrent check has finished (False on timeout)."""
        return True if self.alone is None else self.alone.wait(timeout)

    @property
    def pool_max(self) -> int:
        return int(self.env.get("DB_POOL_MAX", "4"))

    @property
    def rate_limit_max(self) -> int:
        return int(self.env["RATE_LIMIT_MAX"])

    @property
    def rate_limit_window_ms(self) -> int:
        return int(self.env["RATE_LIMIT_WINDOW_MS"])

    @property
    def cors_origins(self) -> list[str]:
        return [o for o in self.env.get("CORS_ORIGINS", "").split(",") if o]
