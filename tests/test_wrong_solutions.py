"""Every requirement an exercise states is tested: plausible wrong solutions must each fail.

A wrong solution is the instructor's solution file with one mistake in it: a text
replacement written in ``tests/wrong_solutions/<exercise id>.yaml``, named for the
requirement it breaks and naming (part of) the test that must catch it. The file is taken
from the solution notebook's ``--save`` (or ``%%writefile``) cell, markers stripped, written
to a fresh workspace, and checked by that one test (hidden ones included) as
``course.check`` runs it, without a kernel: a second or two per mistake, so the catalogue
can grow with every exercise. The unchanged solution must pass every test first, so that a
mistake's failure is the mistake's and not the harness's.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import yaml

from course.grading import spec
from course.grading.markers import strip_markers
from course.grading.results import Status
from course.grading.run import run_tests
from course.grading.tests import load

HERE = Path(__file__).parent / "wrong_solutions"
SAVE = re.compile(r"^%%(?:writefile\s+(?:-a\s+)?(\S+)|\w+\b.*--save[ =](\S+))")


@dataclasses.dataclass(frozen=True)
class Mistake:
    exercise: str
    file: str
    name: str
    replace: tuple[tuple[str, str], ...]
    caught_by: str

    def apply(self, source: str) -> str:
        for old, new in self.replace:
            count = source.count(old)
            assert count == 1, f"{self.exercise} / {self.name}: {old!r} occurs {count} times in {self.file}"
            source = source.replace(old, new)
        return source


def catalogue() -> list[Mistake]:
    out = []
    for path in sorted(HERE.glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        for m in data["mistakes"]:
            out.append(Mistake(data["exercise"], data["file"], m["name"],
                               tuple(tuple(pair) for pair in m["replace"]), m["caught_by"]))
    return out


def saved_file(exercise: spec.Exercise, rel: str) -> str:
    """The instructor's version of the file a solution cell saves (``%%py --save rel``)."""
    nb = spec.read_solution(exercise.solution)
    for cell in nb.cells:
        lines = cell.source.splitlines()
        if cell.cell_type == "code" and lines and (m := SAVE.match(lines[0])) and rel in m.groups():
            return strip_markers("\n".join(lines[1:])) + "\n"
    raise AssertionError(f"{exercise.solution.name} has no cell that saves {rel}")


def grade(exercise: spec.Exercise, rel: str, source: str, workspace: Path,
          only: str | None = None) -> dict[str, tuple[Status, str]]:
    """Run the exercise's tests (those whose name contains ``only``, if given) on ``source``."""
    target = workspace / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(source)
    tests = load(exercise.checks_parts(), filename=f"<checks of {exercise.id}>")
    results = run_tests([t for t in tests if only is None or only in t.name], workspace)
    return {r.name: (r.status, r.message or "") for r in results}


MISTAKES = catalogue()


@pytest.fixture(scope="module")
def solutions_pass(tmp_path_factory):
    """Each exercise's unchanged solution file passes all its tests (hidden ones too)."""
    verdicts = {}
    for exercise_id, rel in sorted({(m.exercise, m.file) for m in MISTAKES}):
        exercise = spec.find(exercise_id)
        results = grade(exercise, rel, saved_file(exercise, rel), tmp_path_factory.mktemp(exercise_id))
        verdicts[exercise_id] = {name: s for name, (s, _) in results.items()}
        failing = {name: msg for name, (s, msg) in results.items() if s is not Status.PASS}
        assert not failing, f"{exercise_id}: the solution itself fails {failing}"
    return verdicts


def test_the_catalogue_covers_every_hidden_and_visible_test_it_names(solutions_pass):
    for m in MISTAKES:
        names = [n for n in solutions_pass[m.exercise] if m.caught_by in n]
        assert len(names) == 1, f"{m.exercise} / {m.name}: caught_by {m.caught_by!r} matches {names}"


@pytest.mark.parametrize("mistake", MISTAKES, ids=[f"{m.exercise}:{m.name}" for m in MISTAKES])
def test_a_wrong_solution_fails_the_test_written_for_its_requirement(mistake, solutions_pass, tmp_path):
    exercise = spec.find(mistake.exercise)
    results = grade(exercise, mistake.file, mistake.apply(saved_file(exercise, mistake.file)), tmp_path,
                    only=mistake.caught_by)  # the one test that must catch it
    caught = {name: status for name, (status, _) in results.items() if mistake.caught_by in name}
    assert caught and all(s is not Status.PASS for s in caught.values()), \
        f"{mistake.name}: {mistake.caught_by!r} still passes — the requirement is not tested"
