"""Grading exports: every format, fed with what learners really print.

A learner's output reaches every report verbatim, so the input here is hostile on
purpose: terminal colours, NUL and other control bytes, ``]]>``, markup, quotes, a
spreadsheet formula, a lone surrogate, emoji. Each format is compared byte for byte
with a golden file in ``tests/golden/export/`` and then read back with the parser
its consumers use (ElementTree and minidom, json, csv, html.parser).

Regenerate the golden files after an intended change, and review their diff:

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_export.py
"""
from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from xml.dom import minidom
from xml.etree import ElementTree as ET

import pytest

from course.grading import export
from course.grading.results import Graded, Status, TestResult, Verdict

GOLDEN = Path(__file__).parent / "golden" / "export"
HOSTILE = ("\x1b[31mred\x1b[0m NUL:\x00 BEL:\x07 VT:\x0b FF:\x0c ESC-title:\x1b]0;pwned\x07 "
           "cdata:]]> markup:</td><script>alert('x')</script> amp:&lt; quote:\"' "
           "surrogate:\ud800 nonchar:\ufffe emoji:🚀 tab:\t end")


@dataclasses.dataclass
class FakeTask:
    """What export.assemble reads from grade.Task."""

    learner: str
    source: Path
    exercise_id: str | None
    result: Graded | None


def _test(name, status, *, score, max_score=1.0, message=None, output="", hidden=False, task_id=None,
          tags=("logging",)):
    return TestResult(name=name, status=Status(status), score=score, max_score=max_score, message=message,
                      output=output, test_code="" if hidden else "def t(ctx):\n    assert True\n",
                      tags=list(tags), hidden=hidden, duration_s=0.5, task_id=task_id)


def hostile_report() -> dict:
    tasks = [
        FakeTask("ada", Path("ex-a.ipynb"), "hostile-exercise", Graded(
            ok=True, exercise="hostile-exercise", work_s=1.25, tests=[
                _test("answers 200", "pass", score=1.0, task_id=1),
                _test(f"logs {HOSTILE}", "fail", score=0.0, message=f"expected JSON, got {HOSTILE}",
                      output=f"stdout: {HOSTILE}\n" * 3, task_id=2),
                _test("hidden: survives SIGTERM", "error", score=0.0, message="RuntimeError: boom (line 3)",
                      output="Traceback ...\x00", hidden=True, tags=("graceful-shutdown",)),
            ])),
        FakeTask("bob", Path("ex-b.ipynb"), "broken-exercise", Graded.failed(
            Verdict(f"the kernel died: {HOSTILE}"), exercise="broken-exercise", work_s=0.5)),
        FakeTask("-cmd", Path("ex-a.ipynb"), "hostile-exercise", None),
    ]
    sandbox = {"isolation": "watchdog <b>only</b>", "memory": "1 GiB\x00"}
    return export.assemble(tasks, sandbox, duration=12.345)


def written(tmp_path) -> dict[str, bytes]:
    out = tmp_path / "grades"
    export.write_all(hostile_report(), out, ("json", "gradescope", "junit", "csv", "html"))
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_every_format_matches_its_golden_file(tmp_path):
    files = written(tmp_path)
    assert {Path(name).name for name in files} == {"results.json", "gradescope.json", "junit.xml",
                                                   "gradebook.csv", "report.html", "summary.json"}
    if os.environ.get("UPDATE_GOLDEN"):
        for name, data in files.items():
            (GOLDEN / name).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / name).write_bytes(data)
    stale = [name for name, data in files.items()
             if not (GOLDEN / name).exists() or (GOLDEN / name).read_bytes() != data]
    assert not stale, f"differ from tests/golden/export/ (UPDATE_GOLDEN=1 to accept, then review): {stale}"
    extra = sorted(p.relative_to(GOLDEN).as_posix() for p in GOLDEN.rglob("*") if p.is_file())
    assert extra == sorted(files), "golden files without a writer"


@pytest.fixture
def files(tmp_path):
    return written(tmp_path)


def learner_dirs(files) -> list[str]:
    return sorted({name.split("/")[0] for name in files if "/" in name})


def test_junit_parses_and_keeps_the_text_readable(files):
    for d in learner_dirs(files):
        data = files[f"{d}/junit.xml"]
        root = ET.fromstring(data)
        minidom.parseString(data)  # a second, stricter parser
        assert root.tag == "testsuites"
        for el in root.iter():
            for text in [el.text or "", *el.attrib.values()]:
                assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]", text), (el.tag, text)
                assert "\x1b" not in text
    ada = ET.fromstring(files["ada/junit.xml"])
    failure = ada.find(".//failure")
    assert failure is not None and "]]>" in failure.text and "</td><script>" in failure.text
    assert "NUL:\\x00" in failure.text and "red NUL" in failure.text  # shown, and the colours gone
    assert [e.tag for e in ada.iter() if e.tag in ("failure", "error")] == ["failure", "error"]
    assert ada.find("testsuite").attrib == {"name": "hostile-exercise", "tests": "3", "failures": "1",
                                            "errors": "1"}


def test_results_json_is_exercism_v3(files):
    for d in learner_dirs(files):
        data = json.loads(files[f"{d}/results.json"])
        assert data["version"] == 3 and data["status"] in ("pass", "fail", "error")
        for t in data["tests"]:
            assert t["status"] in ("pass", "fail", "error")
            assert len(t["output"]) <= 500
            assert t.get("task_id", 1) >= 1, f"Exercism task ids start at 1: {t}"
    ada = json.loads(files["ada/results.json"])
    assert [t.get("task_id") for t in ada["tests"]] == [1, 2, None]
    assert ada["status"] == "fail" and ada["score"] == 1.0 and ada["max_score"] == 3.0
    assert "\x1b" not in ada["tests"][1]["output"] and "\x00" in ada["tests"][1]["output"]
    bob = json.loads(files["bob/results.json"])
    assert [t["name"] for t in bob["tests"]] == ["broken-exercise: (could not be graded)"]
    assert "task_id" not in bob["tests"][0]
    assert learner_dirs(files) == ["-cmd", "ada", "bob"]


def test_gradescope_hides_hidden_tests_until_published(files):
    ada = json.loads(files["ada/gradescope.json"])
    assert [t["visibility"] for t in ada["tests"]] == ["visible", "visible", "after_published"]
    assert [t["status"] for t in ada["tests"]] == ["passed", "failed", "failed"]
    assert ada["score"] == 1.0


def test_gradebook_csv_defuses_formulas(files):
    rows = list(csv.reader(io.StringIO(files["gradebook.csv"].decode("utf-8"))))
    assert rows[0] == ["learner", "broken-exercise", "hostile-exercise", "score", "max_score", "status"]
    names = [r[0] for r in rows[1:]]
    assert names == ["ada", "bob", "'-cmd"]  # a spreadsheet would compute -cmd
    assert all(len(r) == len(rows[0]) for r in rows)
    assert rows[1][1:] == ["", "1", "1", "3", "fail"]


def test_html_report_escapes_everything(files):
    page = files["report.html"].decode("utf-8")

    class Collect(HTMLParser):
        def __init__(self):
            super().__init__()
            self.tags: list[str] = []
            self.text: list[str] = []

        def handle_starttag(self, tag, attrs):
            self.tags.append(tag)

        def handle_data(self, data):
            self.text.append(data)

    parser = Collect()
    parser.feed(page)
    parser.close()
    assert "script" not in parser.tags and "b" in parser.tags  # ours only: <b> labels the sandbox rows
    text = "".join(parser.text)
    assert "</td><script>alert('x')</script>" in text and "watchdog <b>only</b>" in text
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x1b]", page)


def test_summary_json_has_every_learner(files):
    summary = json.loads(files["summary.json"])
    assert [entry["name"] for entry in summary["learners"]] == ["ada", "bob", "-cmd"]
    assert [entry["status"] for entry in summary["learners"]] == ["fail", "error", "error"]
    assert summary["duration_s"] == 12.35 and "learners" in summary and "sandbox" in summary


def test_xml_text_keeps_what_xml_allows():
    assert export.xml_text("a\tb\nc\r") == "a\tb\nc\r"
    assert export.xml_text("\x00\x1f\ufffe") == "\\x00\\x1f\\ufffe"
    assert export.xml_text("\x1b[1;32mgreen\x1b[0m") == "green"
    assert export.xml_text("😀 é ]]>") == "😀 é ]]>"


@pytest.mark.parametrize("cell, shown", [
    ("=1+2", "'=1+2"), ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'), ("+cmd", "'+cmd"),
    ("@SUM(A1)", "'@SUM(A1)"), ("-3", "-3"), ("-2.5", "-2.5"), ("ada", "ada"), ("", ""),
])
def test_csv_cell(cell, shown):
    assert export.csv_cell(cell) == shown


def test_summary_table_is_one_line_per_learner():
    table = export.summary_table(hostile_report())
    lines = table.splitlines()
    assert len(lines) == 4 and lines[0].split() == ["LEARNER", "SCORE", "STATUS", "NOTE"]
    assert "\x1b" not in table


def test_only_the_graders_own_failures_make_course_grade_fail():
    """Exit status 3 is for the instructor to act on: a crash of the grader, not a learner's
    timeout (which is a grade like any other)."""
    from course.grading.grade import grader_failures

    crash = Verdict("grader crashed: KeyError: 'x'", by_grader=True)
    timeout = Verdict("timed out after 8 s in cell 4")
    tasks = [FakeTask(name, Path("ex-b.ipynb"), "broken-exercise",
                      Graded.failed(v, exercise="broken-exercise"))
             for name, v in (("ann", crash), ("ben", timeout))]
    report = export.assemble(tasks, {}, duration=1.0)
    assert grader_failures(report) == [f"ann/broken-exercise: {crash}"]
    assert {ex["message"] for learner in report["learners"] for ex in learner["exercises"]} == {
        "error: grader crashed: KeyError: 'x'", "error: timed out after 8 s in cell 4"}


def test_a_graded_submission_survives_its_journeys_unchanged():
    """JSON lines from the grading child, pickles through Dask: the same typed result arrives."""
    import pickle

    graded = Graded(
        ok=True, exercise="x", tests=[_test("t", "fail", score=0.0, message="m", hidden=True)],
        verdict=Verdict("timed out", by_grader=False), error="cell 3 raised", executed=True, work_s=1.5)
    assert Graded.from_json(json.loads(json.dumps(graded.to_json()))) == graded
    assert pickle.loads(pickle.dumps(graded)) == graded
    assert Graded.from_json(graded.to_json()).tests[0].status is Status.FAIL
