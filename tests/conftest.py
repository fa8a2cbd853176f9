"""Shared pytest fixtures."""
from __future__ import annotations

import pytest

from helpers import CAPSTONE_FRAMEWORKS, framework_available


# ---- checklist engine fixtures (owner: engine/database; keep this block together) ----
@pytest.fixture(scope="session")
def checklist_pg():
    """One embedded PostgreSQL for the whole session: apps each get their own database
    on it (``check_app(..., database=checklist_pg)``), so ~30 apps cost one start."""
    from course.postgres import EmbeddedPostgres

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
    installed = apps / "node_modules" / ".package-lock.json"
    # a lock changed since the install (a pull that added packages) installs again
    if not installed.exists() or installed.stat().st_mtime < (apps / "package-lock.json").stat().st_mtime:
        subprocess.run([toolchains.require("npm"), "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=apps, check=True, timeout=600)
    return apps / "node_modules"


# ---- capstones: `course check` of the starters, and one graded batch (shared by two test files) ----
@pytest.fixture(scope="session")
def starter_reports(checklist_pg, tmp_path_factory):
    """`course check` on a fresh `course new` copy of each framework's starter."""
    from course import scaffold
    from course.checklist import engine

    root = tmp_path_factory.mktemp("starters")
    reports = {}
    for framework in CAPSTONE_FRAMEWORKS:
        if framework_available(framework):
            _, app = scaffold.new(root / framework, framework=framework)
            reports[framework] = engine.check_app(app, database=checklist_pg)
    return reports


class CapstoneBatch:
    """One `course grade` of the eight reference capstones and the eight starters (and a
    notebook beside them), as a class would hand them in."""

    def __init__(self, report: dict, out):
        self.report, self.out = report, out
        self.by_name = {learner["name"]: learner for learner in report["learners"]}

    def tests(self, learner: str, exercise: str = "capstone") -> list[dict]:
        return [t for t in self.by_name[learner]["tests"] if t["exercise"] == exercise]


@pytest.fixture(scope="session")
def capstone_batch(tmp_path_factory):
    import shutil

    from course.grading import grade as grading

    from helpers import REPO

    root = tmp_path_factory.mktemp("capstone-class")
    ignore = shutil.ignore_patterns("node_modules", "dist", "target", "__pycache__", ".venv")
    for framework in CAPSTONE_FRAMEWORKS:
        if framework_available(framework):
            shutil.copytree(REPO / "solutions" / "capstone" / framework, root / f"ref-{framework}", ignore=ignore)
            shutil.copytree(REPO / "course" / "starters" / framework, root / f"starter-{framework}", ignore=ignore)
    # a learner who hands in an exercise notebook and a capstone in one folder
    both = root / "zz-notebook-and-capstone"
    shutil.copytree(REPO / "solutions" / "capstone" / "express", both / "capstone", ignore=ignore)
    shutil.copy(REPO / "solutions" / "01-nodejs" / "01-express-user-lookup.ipynb", both)
    out = tmp_path_factory.mktemp("capstone-grades")
    report = grading.grade(sorted(root.iterdir()), jobs=2, out=out, progress=False)
    return CapstoneBatch(report, out)
# ---- end of capstone fixtures ----
