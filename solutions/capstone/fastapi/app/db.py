"""PostgreSQL through one psycopg_pool.AsyncConnectionPool of at most DB_POOL_MAX
connections, opened at start-up and closed at shutdown (see ``lifespan`` in main.py).

Requests borrow a connection for one query and give it straight back, so a burst of
concurrent requests queues for the pool instead of opening a connection each.
``check`` tests a connection before handing it out, so connections the server
closed (a restart, a failover) are replaced instead of failing a request; a short
``reconnect_timeout`` makes the pool give up background retries quickly, so the
next request triggers a fresh attempt as soon as the database is back.
"""
from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from .config import settings
from .errors import ServiceUnavailable

APPLICATION_NAME = "backend-lab-fastapi"  # shows in pg_stat_activity

_kwargs: dict[str, Any] = {"autocommit": True, "row_factory": dict_row}
if "application_name" not in conninfo_to_dict(settings.database_url):
    _kwargs["application_name"] = APPLICATION_NAME

pool = AsyncConnectionPool(
    settings.database_url,
    min_size=1,
    max_size=settings.db_pool_max,
    kwargs=_kwargs,
    open=False,  # opened in the app's lifespan, inside the event loop
    check=AsyncConnectionPool.check_connection,
    timeout=settings.db_acquire_timeout_s,
    reconnect_timeout=2.0,
    name="app",
)


@asynccontextmanager
async def connection(timeout: float | None = None) -> AsyncIterator[psycopg.AsyncConnection]:
    """A pooled connection; 503 (ServiceUnavailable) if none can be had in time."""
    try:
        async with pool.connection(timeout=timeout) as conn:
            yield conn
    except PoolTimeout as exc:
        raise ServiceUnavailable("Database unavailable") from exc
    except psycopg.OperationalError as exc:  # the connection died mid-query
        raise ServiceUnavailable("Database connection lost") from exc


async def fetch_all(query: str, params: tuple = ()) -> list[dict[str, Any]]:
    async with connection() as conn:
        cur = await conn.execute(query, params)
        return await cur.fetchall()


async def fetch_one(query: str, params: tuple = ()) -> dict[str, Any] | None:
    async with connection() as conn:
        cur = await conn.execute(query, params)
        return await cur.fetchone()
