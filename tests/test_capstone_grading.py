"""Capstones in a class batch: `course grade` takes app folders (a folder with a Procfile)
beside exercise notebooks, builds and runs each in the grading sandbox, and reports each
checklist item as a test — with its points and evidence — in every report format.

The batch itself (eight reference capstones, eight starters, and a learner with a notebook
and a capstone) is the session fixture ``capstone_batch`` (tests/conftest.py); the
references' 11/11 is asserted in tests/test_checklist_fixtures.py.
"""
from __future__ import annotations

import json

import pytest

from course.checklist.items import ITEM_IDS

from helpers import CAPSTONE_FRAMEWORKS, framework_available

FRAMEWORKS = [pytest.param(f, id=f, marks=pytest.mark.skipif(not framework_available(f),
                                                             reason=f"needs {f}'s toolchain"))
              for f in CAPSTONE_FRAMEWORKS]


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_starter_graded_in_the_batch_gets_what_course_check_gives_it(framework, capstone_batch, starter_reports):
    """Each item's verdict is the same; a passing item's points too. A failing item's partial
    score may differ: a starter that blocks its event loop can leave one request of a check
    unanswered when the batch loads the machine (CI saw the FastAPI starter's error-handling
    at 5/9 rules in the batch and 6/10 under `course check`; an unanswered request now has the
    same three rules as an answered one, but it fails its status rule where a late answer may
    pass it)."""
    graded = {t["tags"][0]: t for t in capstone_batch.tests(f"starter-{framework}")}
    checked = {r.id: r for r in starter_reports[framework].items}
    assert set(graded) == set(checked) == set(ITEM_IDS)
    pairs = {item: ((graded[item]["status"], graded[item]["score"] if graded[item]["status"] == "pass" else None),
                    (checked[item].status, round(checked[item].score, 3) if checked[item].status == "pass" else None))
             for item in ITEM_IDS}
    differ = {item: pair for item, pair in pairs.items() if pair[0] != pair[1]}
    assert not differ, f"{framework}: graded (status, points if passed) vs course check: {differ}"


def test_each_item_is_a_test_with_points_and_evidence_in_every_format(capstone_batch):
    out = capstone_batch.out
    express = json.loads((out / "ref-express" / "results.json").read_text())
    assert express["max_score"] == len(ITEM_IDS) and express["score"] == len(ITEM_IDS)
    items = {t["tags"][0]: t for t in express["tests"]}
    assert set(items) == set(ITEM_IDS)
    evidence = items["compression"]["output"].splitlines()
    assert evidence[0].startswith("curl ") and "/api/users" in evidence[0], "the evidence: a curl line to reproduce"
    assert any(line.startswith("ratio: ") for line in evidence), evidence
    starter = json.loads((out / "starter-express" / "gradescope.json").read_text())
    assert {t["status"] for t in starter["tests"]} == {"failed"}, "a starter fails every item…"
    assert any(0 < t["score"] < t["max_score"] for t in starter["tests"]), "…with partial credit for some"
    reference = json.loads((out / "ref-express" / "gradescope.json").read_text())
    assert {t["status"] for t in reference["tests"]} == {"passed"}
    assert (out / "starter-express" / "junit.xml").read_text().count("<testcase") == len(ITEM_IDS)
    html = (out / "report.html").read_text()
    assert all(item in html for item in ITEM_IDS) and "ref-spring" in html
    assert "starter-gin," in (out / "gradebook.csv").read_text()


def test_a_capstone_and_a_notebook_of_one_learner_are_both_graded(capstone_batch):
    learner = capstone_batch.by_name["zz-notebook-and-capstone"]
    assert {ex["id"] for ex in learner["exercises"]} == {"capstone", "node-express-user-lookup"}
    assert learner["score"] == len(ITEM_IDS) + 3, learner["message"]


def test_the_apps_builds_ran_in_the_sandbox_as_its_own_database_role(capstone_batch):
    """The report says what isolated them; nothing of the app ran as the grader."""
    report = capstone_batch.report
    assert "bubblewrap" in report["sandbox"]["sandbox"]
    assert "role per submission" in report["sandbox"]["database"]


@pytest.mark.skipif(not framework_available("express"), reason="needs Node and npm")
def test_a_build_reaches_the_registry_only_where_the_instructor_allows_it(tmp_path, monkeypatch):
    """With nothing in npm's cache, the sandbox's offline `npm ci` of a capstone fails, and the
    report says why; with --allow-network-for-build the same build (still in the sandbox)
    downloads what it needs, and the app is checked."""
    import shutil

    from course.grading import grade as grading

    from helpers import REPO

    empty = tmp_path / "npm-cache"
    empty.mkdir()
    monkeypatch.setenv("npm_config_cache", str(empty))  # the workers' npm: a cache with nothing in it
    learner = tmp_path / "class" / "learner"
    shutil.copytree(REPO / "course" / "starters" / "express", learner, ignore=shutil.ignore_patterns("node_modules"))

    offline = grading.grade([learner], jobs=1, out=tmp_path / "offline", progress=False)["learners"][0]
    capstone = offline["exercises"][0]
    assert offline["score"] == 0 and capstone["message"] and "npm ci" in capstone["message"], capstone["message"]

    online = grading.grade([learner], jobs=1, out=tmp_path / "online", progress=False,
                           allow_network_for_build=True)["learners"][0]
    assert online["score"] > 0, online["exercises"][0]["message"]
    assert not (learner / "node_modules").exists(), "the submission itself is never written"
