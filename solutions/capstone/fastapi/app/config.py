"""Settings from the environment (docs/service-contract.md), read once at start-up.

A bad value stops the process with a clear message instead of surfacing later as
a confusing failure under load.
"""
from __future__ import annotations

import dataclasses
import os
import sys


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        sys.exit(f"{name} must be a non-negative integer, got {raw!r}")
    return value


@dataclasses.dataclass(frozen=True)
class Settings:
    host: str
    port: int
    database_url: str
    db_pool_max: int
    cors_origins: list[str]
    rate_limit_max: int
    rate_limit_window_s: float
    log_level: str
    db_acquire_timeout_s: float  # how long a request waits for a pooled connection
    ready_timeout_s: float  # readiness must answer within a probe's 1 s
    shutdown_timeout_s: float  # in-flight requests get this long after SIGTERM

    @classmethod
    def from_env(cls) -> "Settings":
        database_url = os.environ.get("DATABASE_URL", "").strip()
        if not database_url:
            sys.exit("DATABASE_URL is required, e.g. postgresql://user@localhost:5432/app")
        return cls(
            host=os.environ.get("HOST", "127.0.0.1"),
            port=_int("PORT", 8000),
            database_url=database_url,
            db_pool_max=max(1, _int("DB_POOL_MAX", 4)),
            cors_origins=[o.strip() for o in os.environ.get("CORS_ORIGINS", "").split(",") if o.strip()],
            rate_limit_max=_int("RATE_LIMIT_MAX", 100),
            rate_limit_window_s=max(1, _int("RATE_LIMIT_WINDOW_MS", 60_000)) / 1000,
            log_level=os.environ.get("LOG_LEVEL", "info").upper(),
            db_acquire_timeout_s=_int("DB_ACQUIRE_TIMEOUT_MS", 5_000) / 1000,
            ready_timeout_s=_int("READY_TIMEOUT_MS", 800) / 1000,
            shutdown_timeout_s=_int("SHUTDOWN_TIMEOUT_MS", 8_000) / 1000,
        )


settings = Settings.from_env()
