"""Every requirement an exercise states is tested: plausible wrong solutions must each fail.

A wrong solution is the instructor's solution with one mistake in one file: a text
replacement written in ``tests/wrong_solutions/<exercise id>.yaml`` (``file`` names the
file), named for the requirement it breaks and naming (part of) the test that must catch it.
Every file the solution notebook saves (its ``--save`` and ``%%writefile`` cells, markers
stripped: the learner's file and any the exercise gives, such as a worker script) is written
to a fresh workspace, the mistaken file over its own, and that one test (hidden ones
included) runs as ``course.check`` runs it, without a kernel: a second or two per mistake,
more for a server that compiles or a test that waits out a timeout, so the catalogue can
grow with every exercise. The unchanged solution must pass every test first, so that a
mistake's failure is the mistake's and not the harness's. Each exercise's notebook is parsed
and its checks are executed once (cached by exercise id): its mistakes share them, so what
a checks cell keeps (a collector it started, a cache of runs) lives as long as the module.

An exercise whose work is a whole app (``app`` in its metadata: section 07's checklist
exercises) also gets the platform files its given cells write (Procfile, go.mod, pom.xml...),
and keeps one workspace for its solution and all its mistakes, so dependencies install once
and a mistake costs a rebuild; its tests each check one checklist item, so a mistake's run
asks the checker for that item alone. A mistake may name its own ``file``.
"""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import re
from pathlib import Path
from unittest import mock

import pytest
import yaml

from course.grading import spec
from course.grading.context import Context
from course.grading.markers import strip_markers
from course.grading.results import Status
from course.grading.run import run_tests
from course.grading.tests import TestSpec, load

HERE = Path(__file__).parent / "wrong_solutions"
SAVE = re.compile(r"^%%(?:writefile\s+(-a\s+)?(\S+)|\w+\b.*--save[ =](\S+))")


@dataclasses.dataclass(frozen=True)
class Mistake:
    exercise: str
    file: str
    name: str
    replace: tuple[tuple[str, str], ...]
    caught_by: str
    together: bool = False  # the catalogue's mistakes share one build: see test_mistakes_made_together

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
            out.append(Mistake(data["exercise"], m.get("file", data["file"]), m["name"],
                               tuple(tuple(pair) for pair in m["replace"]), m["caught_by"],
                               bool(data.get("together"))))
    return out


@functools.cache
def solution(exercise_id: str):
    """The exercise's solution notebook, read once."""
    return spec.read_solution(spec.find(exercise_id).solution)


@functools.cache
def saved_files(exercise_id: str) -> dict[str, str]:
    """The instructor's version of every file the solution's cells save (``%%py --save rel``,
    ``%%writefile rel``; ``-a`` appends), by path, in the order the cells save them."""
    nb = solution(exercise_id)
    files: dict[str, str] = {}
    for cell in nb.cells:
        lines = cell.source.splitlines()
        if cell.cell_type == "code" and lines and (m := SAVE.match(lines[0])):
            append, rel = m.group(1), m.group(2) or m.group(3)
            text = strip_markers("\n".join(lines[1:])) + "\n"
            files[rel] = files.get(rel, "") + text if append else text
    return files


def saved_file(exercise_id: str, rel: str) -> str:
    """The instructor's version of the file ``rel`` the solution saves."""
    files = saved_files(exercise_id)
    assert rel in files, f"{spec.find(exercise_id).solution.name} has no cell that saves {rel} (it saves {list(files)})"
    return files[rel]


@functools.cache
def checks(exercise_id: str) -> tuple[TestSpec, ...]:
    """The exercise's tests, hidden ones included, loaded once."""
    exercise = spec.find(exercise_id)
    return tuple(load(exercise.checks_parts(), filename=f"<checks of {exercise_id}>"))


def grade(exercise_id: str, workspace: Path, changed: dict[str, str] | None = None,
          only: str | None = None) -> dict[str, tuple[Status, str]]:
    """Write every file the solution saves into ``workspace``, then ``changed`` ({path: source})
    over them, and run the exercise's tests (those whose name contains ``only``, if given)."""
    for rel, source in {**saved_files(exercise_id), **(changed or {})}.items():
        target = workspace / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source)
    narrow = mock.patch.object(Context, "checklist_item", _one_item) if only else contextlib.nullcontext()
    with narrow:
        results = run_tests([t for t in checks(exercise_id) if only is None or only in t.name], workspace)
    return {r.name: (r.status, r.message or "") for r in results}


_checklist_item = Context.checklist_item


def _one_item(self, app_dir, item, *, items=None):
    """A checklist exercise's test, run alone: the checker checks its one item, not all eleven."""
    return _checklist_item(self, app_dir, item, items=items or (item,))


def given_files(exercise_id: str, workspace: Path) -> None:
    """An app exercise's platform files (its Procfile, go.mod, pom.xml...), written by the
    solution's plain Python cells (untagged, no magic), run in the workspace as a learner runs them."""
    nb = solution(exercise_id)
    namespace: dict = {}
    with contextlib.chdir(workspace), contextlib.redirect_stdout(None):
        for cell in nb.cells:
            if cell.cell_type == "code" and not cell.metadata.get("tags") and not cell.source.lstrip().startswith("%"):
                exec(compile(cell.source, f"<{exercise_id}: a given cell>", "exec"), namespace)  # noqa: S102 - the course's own solution


@pytest.fixture(scope="module")
def workspaces(tmp_path_factory):
    """One workspace per app exercise, shared by its solution and its mistakes, so the app's
    dependencies install once and each mistake only rebuilds (npm ci, the venv and Go's and
    Maven's caches stay; the prepare stamps rebuild what changed). Other exercises get a fresh one."""
    made: dict[str, Path] = {}

    def get(exercise_id: str, fresh: Path) -> Path:
        if spec.find(exercise_id).app is None:
            return fresh
        if exercise_id not in made:
            made[exercise_id] = tmp_path_factory.mktemp(f"app-{exercise_id}")
            given_files(exercise_id, made[exercise_id])
        return made[exercise_id]
    return get


MISTAKES = catalogue()


@pytest.fixture(scope="module")
def solutions_pass(tmp_path_factory, workspaces):
    """Each exercise's unchanged solution passes all its tests (hidden ones too)."""
    verdicts = {}
    for exercise_id in sorted({m.exercise for m in MISTAKES}):
        for rel in {m.file for m in MISTAKES if m.exercise == exercise_id}:
            saved_file(exercise_id, rel)  # a mistake's file is one the solution saves
        results = grade(exercise_id, workspaces(exercise_id, tmp_path_factory.mktemp(exercise_id)))
        verdicts[exercise_id] = {name: s for name, (s, _) in results.items()}
        failing = {name: msg for name, (s, msg) in results.items() if s is not Status.PASS}
        assert not failing, f"{exercise_id}: the solution itself fails {failing}"
    return verdicts


def test_the_catalogue_covers_every_hidden_and_visible_test_it_names(solutions_pass):
    for m in MISTAKES:
        names = [n for n in solutions_pass[m.exercise] if m.caught_by in n]
        assert len(names) == 1, f"{m.exercise} / {m.name}: caught_by {m.caught_by!r} matches {names}"


ALONE = [m for m in MISTAKES if not m.together]
TOGETHER = sorted({m.exercise for m in MISTAKES if m.together})


@pytest.mark.parametrize("mistake", ALONE, ids=[f"{m.exercise}:{m.name}" for m in ALONE])
def test_a_wrong_solution_fails_the_test_written_for_its_requirement(mistake, solutions_pass, workspaces, tmp_path):
    wrong = mistake.apply(saved_file(mistake.exercise, mistake.file))
    results = grade(mistake.exercise, workspaces(mistake.exercise, tmp_path), {mistake.file: wrong},
                    only=mistake.caught_by)  # the one test that must catch it
    caught = {name: status for name, (status, _) in results.items() if mistake.caught_by in name}
    assert caught and all(s is not Status.PASS for s in caught.values()), \
        f"{mistake.name}: {mistake.caught_by!r} still passes — the requirement is not tested"


@pytest.mark.parametrize("exercise_id", TOGETHER)
def test_mistakes_made_together_each_fail_their_own_item(exercise_id, solutions_pass, workspaces, tmp_path):
    """A checklist exercise whose every rebuild is slow (Spring: Maven, AOT and a CDS training
    run, ~20 s) makes all its mistakes at once, one per item, and is checked once: each item's
    test must fail, and not because the app did not start. Each item's check judges only its own
    feature (tests/test_checker_independence.py), so an item's failure is its own mistake's."""
    mistakes = [m for m in MISTAKES if m.exercise == exercise_id]
    changed: dict[str, str] = {}
    for m in mistakes:
        changed[m.file] = m.apply(changed.get(m.file) or saved_file(exercise_id, m.file))
    results = grade(exercise_id, workspaces(exercise_id, tmp_path), changed)
    for m in mistakes:
        caught = {name: (status, message) for name, (status, message) in results.items() if m.caught_by in name}
        assert caught and all(s is not Status.PASS for s, _ in caught.values()), \
            f"{m.name}: {m.caught_by!r} still passes — the requirement is not tested"
        assert not any("did not start" in message for _, message in caught.values()), \
            f"{m.name}: the app did not start, so its item proves nothing: {caught}"
