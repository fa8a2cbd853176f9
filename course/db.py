"""A real PostgreSQL for lessons: ``course.db.url()`` in a notebook.

The first call starts the embedded server (the ``pgserver`` wheel's PostgreSQL, the
same one ``course check`` uses) unless ``DATABASE_URL`` names a server, and makes a
database with the seeded ``users`` table that every lesson assumes, owned by a role of
its own. The server and database live as long as the kernel: both are removed when it
exits.

Under ``course grade`` the grader has already made the submission's database and role
(``COURSE_DATABASE_READY=1``): ``url()`` is then ``DATABASE_URL`` itself, the only
database learner code can reach.
"""
from __future__ import annotations

import atexit
import os

from .postgres import AppDb, DatabaseServer, EmbeddedPostgres

_server: DatabaseServer | None = None
_db: AppDb | None = None


def url() -> str:
    """The DATABASE_URL of this kernel's lesson database (started on first use)."""
    global _server, _db
    if os.environ.get("COURSE_DATABASE_READY") == "1" and os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    if _db is None:
        if os.environ.get("DATABASE_URL"):
            _server = DatabaseServer(os.environ["DATABASE_URL"])
            _server.check_reachable()
        else:
            _server = EmbeddedPostgres().start()
        _db = _server.new_database("lesson")
        atexit.register(close)
    return _db.url


def database() -> AppDb:
    """The lesson database itself (``backends()``, ``block()``/``unblock()`` for demos)."""
    url()
    return _db  # type: ignore[return-value]


def server() -> DatabaseServer | None:
    """The server behind :func:`url` (started on first use) — where ``course check`` makes an
    app's fresh database in the learner's kernel; None under ``course grade``, where the
    grader's own server is used."""
    url()
    return _server


def close() -> None:
    """Drop the lesson database and stop the embedded server (also runs at exit)."""
    global _server, _db
    if _db is not None:
        _db.drop()
        _db = None
    if isinstance(_server, EmbeddedPostgres):
        _server.stop()
    _server = None
