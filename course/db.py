"""A real PostgreSQL for lessons: ``course.db.url()`` in a notebook.

The first call starts the embedded server (the ``pgserver`` wheel's PostgreSQL, the
same one ``course check`` uses) unless ``DATABASE_URL`` names a server, and makes a
database with the seeded ``users`` table that every lesson assumes. The server and
database live as long as the kernel: both are removed when it exits.
"""
from __future__ import annotations

import atexit
import os

from .checklist.database import AppDb, DatabaseServer, EmbeddedPostgres

_server: DatabaseServer | None = None
_db: AppDb | None = None


def url() -> str:
    """The DATABASE_URL of this kernel's lesson database (started on first use)."""
    global _server, _db
    if _db is None:
        if os.environ.get("DATABASE_URL"):
            _server = DatabaseServer(os.environ["DATABASE_URL"])
            _server.check_reachable()
        else:
            _server = EmbeddedPostgres().start()
        db = AppDb(_server, _server.new_name("lesson"))
        db.create()
        _db = db
        atexit.register(close)
    return _db.url


def database() -> AppDb:
    """The lesson database itself (``backends()``, ``block()``/``unblock()`` for demos)."""
    url()
    return _db  # type: ignore[return-value]


def close() -> None:
    """Drop the lesson database and stop the embedded server (also runs at exit)."""
    global _server, _db
    if _db is not None:
        _db.drop()
        _db = None
    if isinstance(_server, EmbeddedPostgres):
        _server.stop()
    _server = None
