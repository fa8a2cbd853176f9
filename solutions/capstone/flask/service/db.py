"""PostgreSQL through one psycopg_pool.ConnectionPool per process.

gunicorn runs a single worker process (see gunicorn.conf.py) whose threads share
this pool, so the whole service never holds more than DB_POOL_MAX connections. A
request borrows a connection for one query and gives it straight back: a burst of
concurrent requests queues for the pool instead of opening a connection each.

``check`` tests a connection before handing it out, so connections the server
closed are replaced instead of failing a request; a short ``reconnect_timeout``
makes the pool give up background retries quickly, so the next request triggers a
fresh attempt as soon as the database is back.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from .errors import ServiceUnavailable

APPLICATION_NAME = "backend-lab-flask"  # shows in pg_stat_activity


def create_pool(url: str, max_size: int, timeout: float) -> ConnectionPool:
    kwargs: dict[str, Any] = {"autocommit": True, "row_factory": dict_row, "connect_timeout": 5}
    if "application_name" not in conninfo_to_dict(url):
        kwargs["application_name"] = APPLICATION_NAME
    pool = ConnectionPool(
        url,
        min_size=1,
        max_size=max_size,
        kwargs=kwargs,
        open=False,
        check=ConnectionPool.check_connection,
        timeout=timeout,
        reconnect_timeout=2.0,
        name="app",
    )
    pool.open(wait=False)  # start serving even if the database is still coming up
    return pool


class Database:
    """The pool plus the two ways the routes use it."""

    def __init__(self, pool: ConnectionPool):
        self.pool = pool

    @contextmanager
    def connection(self, timeout: float | None = None) -> Iterator[psycopg.Connection]:
        """A pooled connection; 503 (ServiceUnavailable) if none can be had in time."""
        try:
            with self.pool.connection(timeout=timeout) as conn:
                yield conn
        except PoolTimeout as exc:
            raise ServiceUnavailable("Database unavailable") from exc
        except psycopg.OperationalError as exc:  # the connection died mid-query
            raise ServiceUnavailable("Database connection lost") from exc

    def fetch_all(self, query: str, params: tuple = ()) -> list[dict[str, Any]]:
        with self.connection() as conn:
            return conn.execute(query, params).fetchall()

    def fetch_one(self, query: str, params: tuple = ()) -> dict[str, Any] | None:
        with self.connection() as conn:
            return conn.execute(query, params).fetchone()

    def close(self) -> None:
        self.pool.close()
