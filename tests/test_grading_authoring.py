"""Single-source authoring: markers, `course build`, and what learners must never see."""
from __future__ import annotations

import dataclasses
import json
import shutil

import nbformat
import pytest

from course.errors import CourseError
from course.grading import build, coverage, markers, spec, tests as registry

from helpers import REPO


def test_solution_block_becomes_a_stub_in_the_cells_language():
    node = "%%node --save work/s.js\nconst a = 1;\n  // ### BEGIN SOLUTION\n  answer();\n  // ### END SOLUTION\nend();"
    out, had_solution, had_hidden = markers.transform(node)
    assert had_solution and not had_hidden
    assert "answer()" not in out
    assert '  // YOUR CODE HERE\n  throw new Error("replace this line with your solution");' in out
    assert out.startswith("%%node --save work/s.js\nconst a = 1;") and out.endswith("end();")
    go, _, _ = markers.transform("%%go\nfunc f() {\n\t// ### BEGIN SOLUTION\n\treturn\n\t// ### END SOLUTION\n}")
    assert '\tpanic("replace this line with your solution")' in go
    py, _, _ = markers.transform("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION")
    assert "    raise NotImplementedError" in py and "return 1" not in py
    java, _, _ = markers.transform("%%java\n// ### BEGIN SOLUTION\nint x;\n// ### END SOLUTION")
    assert "UnsupportedOperationException" in java


def test_a_starter_block_replaces_the_solution_it_follows_and_is_inert_in_the_solution():
    """Exercises that fix a starter (section 07): the learner starts from naive code, not a stub."""
    source = ("%%py --save work/app/app.py --no-run\ndef ready():\n    ### BEGIN SOLUTION\n    return ping()\n"
              "    ### END SOLUTION\n    ### BEGIN STARTER\n    # return {'status': 'ok'}  # never asks\n"
              "    ### END STARTER\n### BEGIN SOLUTION\nCORS(app)\n### END SOLUTION\n### BEGIN STARTER\n"
              "# # (nothing yet)\n### END STARTER\nrun()")
    out, had_solution, _ = markers.transform(source)
    assert had_solution and "ping()" not in out and "CORS" not in out and "NotImplementedError" not in out
    assert "def ready():\n    return {'status': 'ok'}  # never asks\n# (nothing yet)\nrun()" in out
    instructor = markers.strip_markers(source)
    assert "return ping()\n    # return {'status': 'ok'}" in instructor  # the starter stays a comment there
    go, _, _ = markers.transform("%%go\n// ### BEGIN SOLUTION\nserve()\n// ### END SOLUTION\n"
                                 "// ### BEGIN STARTER\n// http.ListenAndServe(addr, r)\n// ### END STARTER")
    assert go == "%%go\nhttp.ListenAndServe(addr, r)"
    with pytest.raises(markers.MarkerError, match="line 2: a line of a STARTER block must be a comment"):
        markers.transform("### BEGIN STARTER\nx = 1\n### END STARTER")


def test_hidden_tests_disappear():
    source = ("@test('a')\ndef a(ctx): pass\n"
              "### BEGIN HIDDEN TESTS\n@test('b')\ndef secret(ctx): pass\n### END HIDDEN TESTS")
    out, _, had_hidden = markers.transform(source)
    assert had_hidden and "secret" not in out and "def a" in out


@pytest.mark.parametrize("source, message", [
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION",
     "line 2: `### BEGIN SOLUTION` inside the `### BEGIN SOLUTION` block opened on line 1"),
    ("x = 1\n### BEGIN HIDDEN TESTS\ny = 2", "line 2: `### BEGIN HIDDEN TESTS` is never closed"),
    ("### END SOLUTION", "line 1: `### END SOLUTION` without a matching BEGIN"),
    ("### BEGIN SOLUTION\n### END HIDDEN TESTS", "line 2: `### END HIDDEN TESTS` closes the `### BEGIN SOLUTION`"),
])
def test_bad_markers_name_file_and_line(source, message):
    with pytest.raises(markers.MarkerError) as info:
        markers.transform(source, where="solutions/x.ipynb: cell 3")
    assert str(info.value).startswith("solutions/x.ipynb: cell 3, line")
    assert message in str(info.value)


def test_exercises_are_up_to_date_with_solutions():
    changes = build.build(check=True)
    assert changes == [], "run `course build`:\n" + "\n".join(changes)


def test_the_practice_table_counts_item_and_ecosystem_pairs_from_the_exercises_tags(tmp_path):
    """Node.js is JavaScript and TypeScript alike; tracing is listed but not among the 44;
    a README without the markers is an error, not a table appended somewhere."""
    real = spec.catalogue()
    some = [dataclasses.replace(real["node-express-user-lookup"], checklist=("cors", "tracing")),
            dataclasses.replace(real["node-express-user-lookup"], id="ts-x", language="typescript",
                                checklist=("cors",)),
            dataclasses.replace(real["flask-checklist"], checklist=("metrics",))]
    cov = coverage.coverage(some)
    assert cov.cells["cors"]["Node.js"] == ("node-express-user-lookup", "ts-x")
    assert cov.cells["tracing"]["Node.js"] == ("node-express-user-lookup",)
    assert cov.covered() == 2 and len(cov.missing()) == 42
    table = coverage.markdown(cov)
    assert "| metrics | — | `flask-checklist` | — | — |" in table and "2/44 item × ecosystem pairs" in table
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{coverage.START}\nold\n{coverage.END}\nrest\n")
    assert coverage.update_readme(readme, some, check=True) == ["stale: README.md (the practice table)"]
    assert "old" in readme.read_text()
    coverage.update_readme(readme, some)
    assert readme.read_text() == f"intro\n{coverage.START}\n{table}\n{coverage.END}\nrest\n"
    assert coverage.update_readme(readme, some, check=True) == []
    readme.write_text("no markers\n")
    with pytest.raises(ValueError, match="practice-table"):
        coverage.update_readme(readme, some)


def test_build_is_deterministic_and_check_detects_drift(tmp_path):
    solutions = tmp_path / "solutions"
    shutil.copytree(REPO / "solutions", solutions, ignore=shutil.ignore_patterns("work", "capstone"))
    exercises = tmp_path / "exercises"
    first = build.build(exercises=exercises, solutions=solutions)
    assert first and all(c.startswith("missing:") for c in first)
    assert build.build(check=True, exercises=exercises, solutions=solutions) == []
    snapshot = {p: p.read_bytes() for p in exercises.rglob("*.ipynb")}
    build.build(exercises=exercises, solutions=solutions)
    assert snapshot == {p: p.read_bytes() for p in exercises.rglob("*.ipynb")}
    target = next(iter(sorted(solutions.glob("*/*.ipynb"))))
    nb = nbformat.read(target, as_version=4)
    nb.cells[0].source += "\n\nA new sentence."
    nbformat.write(nb, target)
    stale = build.build(check=True, exercises=exercises, solutions=solutions)
    assert stale == [f"stale: exercises/{target.relative_to(solutions)}"]


def test_an_instructors_saved_run_never_reaches_learners(tmp_path):
    """`course lab` saves widget state (the check panel) with a notebook: a solution saved after
    running it carries the instructor's panel, which the learner's notebook must not."""
    solution = next(iter(sorted(spec.SOLUTIONS.glob("*/*.ipynb"))))
    nb = nbformat.read(solution, as_version=4)
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {"m1": {}}, "version_major": 2}}
    nb.cells[-1].outputs = [nbformat.v4.new_output("display_data", data={"text/plain": "node-express: 3/3 points"})]
    copy = tmp_path / solution.parent.name / solution.name
    copy.parent.mkdir()
    nbformat.write(nb, copy)
    learner = json.loads(build.exercise_notebook(copy))
    assert "widgets" not in learner["metadata"] and learner["cells"][-1]["outputs"] == []


def test_hidden_tests_never_reach_learners():
    for ex in spec.catalogue().values():
        learner = ex.exercise_path.read_text()
        assert "BEGIN HIDDEN TESTS" not in learner and "BEGIN SOLUTION" not in learner, ex.id
        hidden = [t for t in registry.load(ex.checks_parts()) if t.hidden]
        for t in hidden:
            assert f"def {t.func.__name__}(" not in learner, f"{ex.id}: hidden test {t.name!r} leaked"
        assert json.loads(learner)["metadata"]["course"]["id"] == ex.id


def test_every_exercise_has_metadata_and_checks():
    catalogue = spec.catalogue()
    assert catalogue, "no exercises found in solutions/"
    for ex in catalogue.values():
        tests = registry.load(ex.checks_parts())
        assert tests, f"{ex.id} declares no tests"
        assert any(t.hidden for t in tests) == ("BEGIN HIDDEN TESTS" in ex.solution.read_text()), ex.id
        assert sum(t.points for t in tests) == ex.points, f"{ex.id}: points in metadata ≠ sum of its tests"
        assert ex.files, f"{ex.id} names no files the learner edits"
        # the report's checklist columns come from the tests' tags: metadata and tags must agree
        tagged = {item for t in tests for item in t.checklist}
        assert tagged == set(ex.checklist), f"{ex.id}: metadata checklist {ex.checklist} ≠ tests' tags {tagged}"


def test_metadata_errors_are_clear(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    path = tmp_path / "bad.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(CourseError, match="no `course` block"):
        spec.from_notebook(path)
    nb.metadata["course"] = {"id": "x", "title": "t", "section": "s", "language": "cobol", "checklist": [],
                             "points": 1, "files": []}
    nbformat.write(nb, path)
    with pytest.raises(CourseError, match="language 'cobol'"):
        spec.from_notebook(path)


def _saved_files(notebook, *, learner: bool) -> dict[str, str]:
    """What the notebook's ``--save PATH --no-run`` cells write, as the instructor or the learner runs it."""
    files = {}
    for cell in nbformat.read(notebook, as_version=4).cells:
        first, _, body = cell.source.partition("\n")
        if cell.cell_type == "code" and "--save" in first:
            path = first.split("--save", 1)[1].split()[0]
            files[path] = markers.transform(cell.source)[0].partition("\n")[2] if learner \
                else markers.strip_markers(_without_starters(body))
    return files


def _without_starters(source: str) -> str:
    out, inside = [], False
    for line in source.splitlines():
        m = markers.MARKER.match(line)
        if m and m.group(2) == "STARTER":
            inside = m.group(1) == "BEGIN"
        elif not inside:
            out.append(line)
    return "\n".join(out)


def test_the_gin_checklist_exercise_is_the_gin_capstone_starter_and_its_reference():
    """The section-07 gin exercise starts from the capstone's starter and its solution is the capstone's
    reference: a change to either is a change to the exercise (copy it over), never a silent fork."""
    ex = spec.find("gin-checklist")
    starter, reference = REPO / "course" / "starters" / "gin", REPO / "solutions" / "capstone" / "gin"
    for learner, root in ((False, reference), (True, starter)):
        saved = _saved_files(ex.solution, learner=learner)
        for name in ("main.go", "errors.go", "middleware.go", "metrics.go", "handlers.go"):
            want = root / name
            if not want.is_file():
                continue  # the starter's other files are `package main` and a comment
            body = want.read_text().split("\npackage main\n", 1)[-1].removeprefix("package main\n")
            got = saved[f"work/gin-app/{name}"].split("package main\n", 1)[1].lstrip("\n")
            assert got.strip() == body.strip(), f"work/gin-app/{name} ({'learner' if learner else 'solution'}) " \
                                                f"differs from {want.relative_to(REPO)}"
