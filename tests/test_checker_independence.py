"""Each checklist item is judged on its own evidence.

From the Express fixture app that passes all 11 items, one variant per item lacks that
item's feature altogether (``WITHOUT=<item>``: no /health route at all, no /metrics, no
SIGTERM handler, no log output, no limiter, ...). Each variant must fail exactly that
item: a check that also fails because another feature is missing (rate-limiting that
wanted /health to answer 200 rather than "anything but 429") is judging the wrong thing.
"""
from __future__ import annotations

import pytest

from course.checklist import engine
from course.checklist.items import ITEM_IDS

from helpers import REPO

SERVER = REPO / "tests" / "fixtures" / "apps" / "_express" / "server.js"


@pytest.mark.node
@pytest.mark.slow
@pytest.mark.parametrize("item", ITEM_IDS)
def test_an_app_without_one_feature_fails_only_that_item(item, checklist_pg, fixture_apps_node_modules,
                                                         tmp_path):
    app = tmp_path / f"express-without-{item}"
    app.mkdir()
    (app / "Procfile").write_text(f"web: env WITHOUT={item} node {SERVER}\n")
    report = engine.check_app(app, database=checklist_pg)
    assert report.message == "", report.message  # it started
    verdicts = {r.id: r.status for r in report.items}
    assert set(verdicts) == set(ITEM_IDS)
    wrong = {i: s for i, s in verdicts.items() if s != ("fail" if i == item else "pass")}
    details = "\n".join(f"{r.id}: {r.status} — {r.message}" for r in report.items if r.id in wrong)
    assert not wrong, f"without {item}:\n{details}"
