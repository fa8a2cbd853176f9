"""The embedded PostgreSQL: a role per app database, passwords everywhere, and a server
that starts wherever the course lives (a clone under a 0700 folder, as root)."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import psycopg
import pytest

from course import postgres as database
from course.postgres import DatabaseServer, EmbeddedPostgres
from course.errors import CourseError


def test_an_app_database_has_a_role_of_its_own(checklist_pg):
    with checklist_pg.app_database("roles") as db:
        assert db.role and db.role in db.url and "postgres:" not in db.url
        with psycopg.connect(db.url, autocommit=True) as conn:
            user, superuser = conn.execute(
                "SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
            assert user == db.role and not superuser
            assert conn.execute("SELECT tableowner FROM pg_tables WHERE tablename = 'users'").fetchone()[0] == db.role
            assert not conn.execute("SELECT pg_has_role(current_user, 'pg_execute_server_program', 'member')"
                                    ).fetchone()[0]
        with checklist_pg.app_database("other") as other:
            with pytest.raises(psycopg.OperationalError, match="CONNECT"):
                psycopg.connect(other.url.rsplit("/", 1)[0] + f"/{db.name}")
    assert db.role not in checklist_pg.list_roles() and db.name not in checklist_pg.list_databases()


def test_every_login_needs_a_password(checklist_pg):
    no_password = checklist_pg.admin_url.replace(checklist_pg.admin_url.split("//")[1].split("@")[0], "postgres")
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(no_password, connect_timeout=3)


def test_a_server_whose_admin_cannot_create_roles_is_refused_for_grading(checklist_pg):
    with checklist_pg.app_database("weak") as db:  # its owner role: no CREATEROLE
        weak = DatabaseServer(db.url)
        assert not weak.can_create_roles()
        with pytest.raises(CourseError, match="CREATEROLE"):
            weak.new_database("x", roles_required=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs PostgreSQL as `nobody`")
def test_the_embedded_server_starts_from_a_clone_under_a_0700_folder(tmp_path, monkeypatch):
    """As root, the server runs as `nobody`, which cannot traverse /root or a `mktemp -d`
    folder: its binaries must be reached some other way."""
    private = Path(tempfile.mkdtemp())  # 0700, as `mktemp -d` makes it
    try:
        assert oct(private.stat().st_mode & 0o777) == "0o700"
        site = database.pg_bin_dir().parent.parent.parent  # the wheel's layout: RPATH finds pgserver.libs
        copy = private / "clone" / ".venv" / "site-packages"
        shutil.copytree(site / "pgserver" / "pginstall", copy / "pgserver" / "pginstall", symlinks=True)
        shutil.copytree(site / "pgserver.libs", copy / "pgserver.libs", symlinks=True)
        monkeypatch.setattr(database, "pg_bin_dir", lambda: copy / "pgserver" / "pginstall" / "bin")
        monkeypatch.setattr(database, "SHARED_PGINSTALL", tmp_path / "shared")
        with EmbeddedPostgres(cache_dir=private / "cache") as server:
            with server.app_database("clone") as db, psycopg.connect(db.url) as conn:
                assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == database.SEED_ROWS
    finally:
        shutil.rmtree(private, ignore_errors=True)
