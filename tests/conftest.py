"""Shared pytest fixtures."""
from __future__ import annotations

import pytest


# ---- checklist engine fixtures (owner: engine/database; keep this block together) ----
@pytest.fixture(scope="session")
def checklist_pg():
    """One embedded PostgreSQL for the whole session: apps each get their own database
    on it (``check_app(..., database=checklist_pg)``), so ~30 apps cost one start."""
    from course.checklist.database import EmbeddedPostgres

    with EmbeddedPostgres() as server:
        yield server


@pytest.fixture
def no_leftover_databases(checklist_pg):
    """Fails the test if it leaves a database of ours behind on the shared server."""
    before = set(checklist_pg.list_databases())
    yield checklist_pg
    left = set(checklist_pg.list_databases()) - before
    assert not left, f"databases left behind: {sorted(left)}"
# ---- end of checklist engine fixtures ----


@pytest.fixture(scope="session")
def fixture_apps_node_modules():
    """node_modules for the Express fixture apps (tests/fixtures/apps), from their lockfile."""
    import subprocess
    from pathlib import Path

    from course import toolchains

    apps = Path(__file__).parent / "fixtures" / "apps"
    if not toolchains.available("node"):
        pytest.skip("needs Node.js")
    if not (apps / "node_modules" / ".package-lock.json").exists():
        subprocess.run([toolchains.require("npm"), "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=apps, check=True, timeout=600)
    return apps / "node_modules"
