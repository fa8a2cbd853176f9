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
