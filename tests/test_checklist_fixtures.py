"""Every checklist check can pass and can fail: `course check` on the fixture apps.

For each item there is an app (Express and FastAPI) that passes everything and one
that fails only that item, plus the classic traps; ``expected.yaml`` lists the items
each must fail. All 11 items run on every fixture, so "fails *only* that item" is
asserted too. The capstone reference solutions and starters are checked the same way.

Beyond the seed's 11, ``expected-extra.yaml`` holds the verdicts on the extra items
(tracing), checked with a course collector so the spans are judged as well as the log
lines. A blocked event loop fails health-check with the seed's ASYNC_PATTERN_MISMATCH; no
other fixture or capstone result carries a code.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from course import otlp, toolchains
from course.checklist import engine
from course.checklist.items import EXTRA_ITEM_IDS, ITEM_IDS
from course.codes import ASYNC_PATTERN_MISMATCH

from helpers import REPO

APPS = REPO / "tests" / "fixtures" / "apps"
EXPECTED: dict[str, list[str]] = yaml.safe_load((APPS / "expected.yaml").read_text())
EXPECTED_EXTRA: dict[str, list[str]] = yaml.safe_load((APPS / "expected-extra.yaml").read_text())
BLOCKS_ITS_LOOP = {"express-blocking-event-loop", "fastapi-blocking-event-loop"}
CAPSTONES = REPO / "solutions" / "capstone"
STARTERS = REPO / "course" / "starters"
LANGUAGE = {"express": "node", "fastify": "node", "nestjs": "node", "fastapi": "python", "flask": "python",
            "django": "python", "gin": "go", "spring": "java"}


def _needs(name: str):
    lang = "node" if name.startswith("express") else "python"
    return pytest.mark.skipif(not toolchains.available(lang), reason=f"needs {lang}")


@pytest.fixture(scope="module")
def node_modules():
    """The Express fixtures share one node_modules, installed from their lockfile."""
    installed = APPS / "node_modules" / ".package-lock.json"
    # a lock changed since the install (a pull that added packages) installs again
    stale = not installed.exists() or installed.stat().st_mtime < (APPS / "package-lock.json").stat().st_mtime
    if toolchains.available("node") and stale:
        subprocess.run([toolchains.require("npm"), "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=APPS, check=True, timeout=600)


def _verdicts(report) -> dict[str, str]:
    return {r.id: r.status for r in report.items}


@pytest.mark.parametrize("fixture", [pytest.param(n, marks=_needs(n), id=n) for n in EXPECTED])
def test_fixture_verdicts(fixture, checklist_pg, node_modules):
    report = engine.check_app(APPS / fixture, database=checklist_pg)
    verdicts = _verdicts(report)
    must_fail = set(EXPECTED[fixture])
    wrong = {item: status for item, status in verdicts.items()
             if (status != "fail" if item in must_fail else status != "pass")}
    details = "\n".join(f"{r.id}: {r.status} — {r.message}" for r in report.items if r.id in wrong)
    assert not wrong, f"{fixture}: unexpected verdicts {wrong}\n{details}"
    assert set(verdicts) == set(ITEM_IDS)
    codes = {r.id: r.code for r in report.items if r.code}
    if fixture in BLOCKS_ITS_LOOP:
        health = next(r for r in report.items if r.id == "health-check")
        assert codes == {"health-check": ASYNC_PATTERN_MISMATCH.code}, health.message
        assert health.message.startswith(f"{ASYNC_PATTERN_MISMATCH.code}: GET /health"), health.message
    else:
        assert not codes, f"{fixture}: unexpected seed codes {codes}"


@pytest.fixture(scope="module")
def collector():
    with otlp.Collector() as c:
        yield c


@pytest.mark.parametrize("fixture", [pytest.param(n, marks=_needs(n), id=n) for n in EXPECTED_EXTRA])
def test_fixture_extra_verdicts(fixture, checklist_pg, node_modules, collector):
    """The extra items alone (the seed's 11 of the same apps are test_fixture_verdicts'), with
    the collector as the app's OTLP endpoint: log lines and spans are both judged."""
    report = engine.check_app(APPS / fixture, database=checklist_pg, only=",".join(EXTRA_ITEM_IDS),
                              include_extra=True, collector_url=collector.url)
    verdicts = _verdicts(report)
    assert set(verdicts) == set(EXTRA_ITEM_IDS)
    must_fail = set(EXPECTED_EXTRA[fixture])
    wrong = {item: status for item, status in verdicts.items()
             if (status != "fail" if item in must_fail else status != "pass")}
    details = "\n".join(f"{r.id}: {r.status} — {r.message}" for r in report.items if r.id in wrong)
    assert not wrong, f"{fixture}: unexpected verdicts {wrong}\n{details}"
    tracing = next(r for r in report.items if r.id == "tracing")
    if tracing.status == "pass":  # the spans were read back, and the server span continues the trace
        assert tracing.evidence["notes"]["spans"], tracing.evidence
        assert [r["name"] for r in tracing.evidence["rules"]][-1] == "the server span's parent is the span id sent in"
    else:  # no OpenTelemetry: the trace id is nowhere (the header pino-http logs does not count)
        assert "none of the app's stdout lines" in tracing.message, tracing.message


def _framework_param(name: str):
    lang = LANGUAGE[name]
    return pytest.param(name, id=name, marks=[
        pytest.mark.skipif(not toolchains.available(lang), reason=f"needs {lang}"),
        *([pytest.mark.skipif(not toolchains.find("maven").ok, reason="needs maven")] if lang == "java" else []),
    ])


@pytest.mark.parametrize("framework", [_framework_param(n) for n in LANGUAGE
                                       if (CAPSTONES / n / "Procfile").exists()])
def test_capstone_reference_passes_every_item(framework, capstone_batch):
    """Checked the way the grader checks a capstone: built and run in its sandbox, as its own
    database role (tests/test_capstone_grading.py grades them all in one batch)."""
    tests = capstone_batch.tests(f"ref-{framework}")
    failing = [f"{t['tags'][0]}: {t['status']} — {t['message']}" for t in tests if t["status"] != "pass"]
    assert len(tests) == len(ITEM_IDS) and not failing, f"{framework} reference solution:\n" + "\n".join(failing)


@pytest.mark.parametrize("framework", [_framework_param(n) for n in LANGUAGE
                                       if (STARTERS / n / "Procfile").exists()])
def test_starter_runs_but_fails_most_items(framework, starter_reports):
    report = starter_reports[framework]
    assert report.status != "error", f"the {framework} starter did not start: {report.message}"
    failed = [r.id for r in report.items if r.status == "fail"]
    assert len(failed) >= 6, f"the {framework} starter should fail most items, fails only {failed}"


def test_all_eight_frameworks_have_a_capstone_and_a_starter():
    missing = [f"{kind}/{n}" for n in LANGUAGE for kind, root in (("solutions", CAPSTONES), ("starters", STARTERS))
               if not (root / n / "Procfile").exists()]
    assert not missing, f"missing: {missing}"


def test_unknown_framework_is_the_seed_error(tmp_path):
    out = subprocess.run(["course", "new", str(tmp_path / "x"), "--framework", "rails"], capture_output=True,
                         text=True, env={"PATH": str(Path(__import__("sys").executable).parent)})
    assert out.returncode == 2
    assert "FRAMEWORK_NOT_SUPPORTED" in out.stderr and "express, nestjs, fastify" in out.stderr


def test_language_fallbacks_follow_the_seed():
    from course import scaffold

    assert scaffold.resolve(None, "node") == "express"
    assert scaffold.resolve(None, "python") == "fastapi"


def test_neither_framework_nor_language_writes_the_express_starter_and_says_so(tmp_path):
    """The seed's overall fallback (``fallback_to: express_defaults``): no option is not an
    error, and the learner is told which starter they got and how to pick another."""
    out = subprocess.run(["course", "new", str(tmp_path / "x")], capture_output=True, text=True,
                         env={"PATH": str(Path(__import__("sys").executable).parent)})
    assert out.returncode == 0, out.stderr
    assert "express" in out.stdout and "express_defaults" in out.stdout and "--framework" in out.stdout
    assert (tmp_path / "x" / "server.js").is_file() and "express" in (tmp_path / "x" / "package.json").read_text()
    told = subprocess.run(["course", "new", str(tmp_path / "y"), "--language", "python"], capture_output=True,
                          text=True, env={"PATH": str(Path(__import__("sys").executable).parent)})
    assert told.returncode == 0 and "express_defaults" not in told.stdout  # only said when it was a guess
