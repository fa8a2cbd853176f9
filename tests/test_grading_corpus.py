"""`course grade` on the whole course and on a corpus of broken submissions.

One batch holds every bad case, so these tests also prove that one broken submission
never stops the others, and that nothing is left running afterwards.
"""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import nbformat
import pytest

from course import toolchains
from course.grading import grade as grading, sandbox, spec

from helpers import REPO, alive

pytestmark = pytest.mark.skipif(not toolchains.available("node"), reason=toolchains.find("node").hint or "")

BASE = "01-nodejs/01-express-user-lookup.ipynb"  # a Node exercise with visible and hidden tests
CELL_TIMEOUT = 8


def _nb(kind: str):
    root = REPO / ("solutions" if kind == "solution" else "exercises")
    return nbformat.read(root / BASE, as_version=4)


def _code(src: str):
    return nbformat.v4.new_code_cell(src)


def _server_cell(nb):
    return next(c for c in nb.cells if c.source.startswith("%%node --save work/server.js"))


def _corpus(root: Path) -> dict[str, str]:
    """learner name → the verdict (substring of the learner's message, or a status) expected."""
    name = Path(BASE).name
    cases: dict[str, tuple] = {}

    def add(learner, nb, expect):
        d = root / learner
        d.mkdir(parents=True)
        if isinstance(nb, bytes):
            (d / name).write_bytes(nb)
        else:
            nbformat.write(nb, d / name)
        cases[learner] = expect

    add("solved", _nb("solution"), ("pass", 3))
    add("untouched", _nb("exercise"), ("fail", 0))
    add("corrupt", b"{ this is not json", ("error", "not a readable notebook"))
    empty = _nb("exercise")
    empty.cells = []
    add("empty", empty, ("error", "the notebook is empty"))
    deleted = _nb("solution")
    deleted.cells = [c for c in deleted.cells if "course.check(" not in c.source and
                     "checks" not in c.metadata.get("tags", [])]
    add("deleted-check-cell", deleted, ("pass", 3))  # the grader's checks come from solutions/
    tampered = _nb("exercise")
    for c in tampered.cells:
        if "checks" in c.metadata.get("tags", []) or "course.check(" in c.source:
            c.source = "print('PASS: all checks passed')"
    add("tampered-check-cell", tampered, ("fail", 0))
    dup = _nb("solution")
    for c in dup.cells:
        c["id"] = "same-id"
    add("duplicate-cell-ids", dup, ("pass", 3))
    typo = _nb("solution")
    typo.cells.insert(3, _code("raise ValueError('a typo in an unrelated cell')"))
    add("error-in-one-cell", typo, ("pass", 3))  # the rest still runs and is graded
    loop = _nb("solution")
    loop.cells.insert(3, _code("while True:\n    pass"))
    add("infinite-loop", loop, ("error", f"timed out after {CELL_TIMEOUT} s in cell"))
    bomb = _nb("solution")
    bomb.cells.insert(3, _code("import os\nwhile True:\n    os.fork()"))
    add("fork-bomb", bomb, ("error", "process limit" if sandbox.capabilities().cgroups else "cell"))
    hog = _nb("solution")
    hog.cells.insert(3, _code("hog = b'x' * (1536 * 1024 * 1024)"))
    add("memory-hog", hog, ("error", "memory limit" if sandbox.capabilities().cgroups else "MemoryError"))
    flood = _nb("solution")
    flood.cells.insert(3, _code("%%node\nconst line = 'z'.repeat(1023) + '\\n';\n"
                                "for (let i = 0; i < 50 * 1024; i++) process.stdout.write(line);"))
    add("output-flood", flood, ("pass", 3))
    exits = _nb("solution")
    exits.cells.insert(3, _code("import os\nos._exit(0)"))
    add("os-exit", exits, ("error", "the kernel died in cell"))
    stubborn = _nb("solution")
    cell = _server_cell(stubborn)
    cell.source = cell.source.replace('app.listen(', 'process.on("SIGTERM", () => {});\napp.listen(')
    add("ignores-sigterm", stubborn, ("pass", 3))
    unbound = _nb("solution")
    cell = _server_cell(unbound)
    cell.source = cell.source.replace("--serve users", "--serve users --ready-timeout 3").replace(
        'app.listen(Number(process.env.PORT), "127.0.0.1");', "setInterval(() => {}, 1000);")
    add("never-binds", unbound, ("fail", "never answered on port"))
    escape = _nb("solution")
    escape.cells.insert(3, _code(f"open({str(REPO / 'ESCAPED.txt')!r}, 'w').write('outside')"))
    # the write fails (read-only /), and the rest of the notebook is still graded
    add("writes-outside", escape, ("pass", 3))
    return cases


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(root)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("submissions")
    cases = _corpus(root)
    before = _digest(root)
    out = tmp_path_factory.mktemp("grades")
    report = grading.grade(sorted(root.iterdir()), jobs=2, out=out, cell_timeout=CELL_TIMEOUT,
                           submission_timeout=120, progress=False)
    return cases, report, out, before, _digest(root)


def test_every_bad_submission_gets_its_verdict(corpus_run):
    cases, report, out, _, _ = corpus_run
    by_name = {l["name"]: l for l in report["learners"]}
    assert set(by_name) == set(cases), "every submission must appear in the report"
    assert "cell 4 raised ValueError: a typo" in by_name["error-in-one-cell"]["message"]
    if sandbox.capabilities().namespaces:
        assert "cell 4 raised OSError: [Errno 30] Read-only file system" in by_name["writes-outside"]["message"]
    problems = []
    for learner, (status, expect) in cases.items():
        got = by_name[learner]
        if isinstance(expect, int):
            ok = got["status"] == status and got["score"] == expect
        else:
            ok = (got["status"] == status or status == "fail" and got["status"] in ("fail", "error")) \
                 and expect in (got["message"] or "") + json.dumps(got["tests"])
        if not ok:
            problems.append(f"{learner}: expected {status}/{expect!r}, got {got['status']} "
                            f"{got['score']}/{got['max_score']}: {got['message']}")
    assert not problems, "\n".join(problems)


def test_submissions_are_never_modified(corpus_run):
    _, _, _, before, after = corpus_run
    assert before == after


def test_nothing_escapes_or_survives(corpus_run):
    assert not (REPO / "ESCAPED.txt").exists()
    leftover = [p for p in Path("/proc").iterdir() if p.name.isdigit() and alive(int(p.name))
                and b"backend-lab-grade-" in _cmdline(p)]
    assert leftover == []
    if sandbox.capabilities().cgroups:
        for base in (sandbox.CGROUP_ROOTS["pids"], sandbox.CGROUP_ROOTS["memory"]):
            assert not list(base.rglob("backend-lab-*")), "a submission's cgroup was left behind"


def _cmdline(p: Path) -> bytes:
    try:
        return (p / "cmdline").read_bytes()
    except OSError:
        return b""


def test_reports_in_every_format(corpus_run):
    _, report, out, _, _ = corpus_run
    solved = json.loads((out / "solved" / "results.json").read_text())
    assert solved["version"] == 3 and solved["status"] == "pass"
    test = solved["tests"][0]
    assert {"name", "status", "message", "output", "test_code", "score", "max_score", "tags"} <= set(test)
    hidden = [t for t in solved["tests"] if t["test_code"] == "(hidden test)"]
    assert hidden, "hidden tests are reported without their code"
    gs = json.loads((out / "solved" / "gradescope.json").read_text())
    assert gs["score"] == 3 and {t["status"] for t in gs["tests"]} == {"passed"}
    assert (out / "untouched" / "junit.xml").read_text().count("<failure") == 3
    gradebook = (out / "gradebook.csv").read_text().splitlines()
    assert gradebook[0].startswith("learner,") and len(gradebook) == len(report["learners"]) + 1
    html = (out / "report.html").read_text()
    assert "error-handling" in html and "untouched" in html


def test_grading_the_course_gives_full_marks_to_solutions_and_zero_to_exercises(tmp_path):
    solutions = tmp_path / "instructor"
    exercises = tmp_path / "learner"
    for ex in spec.catalogue().values():
        (solutions / ex.section).mkdir(parents=True, exist_ok=True)
        (exercises / ex.section).mkdir(parents=True, exist_ok=True)
        shutil.copy(ex.solution, solutions / ex.section)
        shutil.copy(ex.exercise_path, exercises / ex.section)
    report = grading.grade([solutions, exercises], jobs=2, out=tmp_path / "grades", progress=False,
                           formats=("json",))
    by_name = {l["name"]: l for l in report["learners"]}
    instructor, learner = by_name["instructor"], by_name["learner"]
    failing = [f"{t['name']}: {t['message']}" for t in instructor["tests"] if t["status"] != "pass"]
    assert not failing and instructor["score"] == instructor["max_score"] > 0, "\n".join(failing)
    passing = [t["name"] for t in learner["tests"] if t["status"] == "pass"]
    assert not passing, f"checks that pass on an untouched exercise cannot fail: {passing}"
    assert learner["score"] == 0


def test_without_cgroups_or_namespaces_a_watchdog_keeps_the_limits(tmp_path, monkeypatch):
    """COURSE_SANDBOX=off is what an instructor without root (or a locked-down container)
    gets: no cgroup, no namespaces. The memory hog must still be stopped at 1 GiB, and the
    report must say how the limits were enforced."""
    monkeypatch.setenv("COURSE_SANDBOX", "off")
    monkeypatch.setattr(sandbox, "_CAPS", None)
    root = tmp_path / "submissions"
    cases = {}
    for learner, cell, expect in [
        ("solved", None, ("pass", None)),
        ("memory-hog", "hog = b'x' * (1536 * 1024 * 1024)", ("error", "killed at the 1 GiB memory limit")),
    ]:
        nb = _nb("solution")
        if cell:
            nb.cells.insert(3, _code(cell))
        (root / learner).mkdir(parents=True)
        nbformat.write(nb, root / learner / Path(BASE).name)
        cases[learner] = expect
    report = grading.grade(sorted(root.iterdir()), jobs=2, out=tmp_path / "grades", cell_timeout=30,
                           submission_timeout=120, progress=False, formats=("json",))
    by_name = {l["name"]: l for l in report["learners"]}
    for learner, (status, message) in cases.items():
        got = by_name[learner]
        assert got["status"] == status, f"{learner}: {got['status']} {got['message']}"
        assert message is None or message in got["message"], f"{learner}: {got['message']}"
    assert by_name["solved"]["score"] == 3
    assert "watchdog" in report["sandbox"]["processes_memory"]
    assert "NOT isolated" in report["sandbox"]["network"]
