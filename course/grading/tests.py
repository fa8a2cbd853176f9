"""Exercise tests: declared with ``@test``, collected from the instructor's checks.

In a learner's kernel, running the checks cell registers its tests here, and
``course.check`` runs them. In the grader, :func:`load` executes the instructor's checks
(from ``solutions/``, never from the submission) in a fresh namespace, part by part:
tests declared in a hidden part (``### BEGIN HIDDEN TESTS``) are marked hidden.
"""
from __future__ import annotations

import dataclasses
import inspect
import textwrap
from typing import Any, Callable, Iterable

from ..errors import CourseError


@dataclasses.dataclass
class TestSpec:
    name: str
    func: Callable[[Any], Any]
    points: float = 1.0
    checklist: tuple[str, ...] = ()
    hint: str | None = None
    hidden: bool = False
    task_id: int | None = None

    __test__ = False  # not a pytest test class

    @property
    def code(self) -> str:
        try:
            return textwrap.dedent(inspect.getsource(self.func))
        except (OSError, TypeError):
            return ""


_REGISTRY: dict[str, TestSpec] = {}


def test(name: str, *, points: float = 1.0, checklist: Iterable[str] = (), hint: str | None = None,
         hidden: bool = False, task: int | None = None):
    """Declare an exercise test. Re-running the cell replaces it (keyed by function name)."""
    if task is not None and task < 1:
        raise CourseError(f"@test({name!r}): task numbers start at 1")

    def register(func):
        _REGISTRY[func.__name__] = TestSpec(name, func, float(points), tuple(checklist), hint, hidden, task)
        return func

    return register


test.__test__ = False  # type: ignore[attr-defined]  # pytest: a decorator, not a test


def registered() -> list[TestSpec]:
    return list(_REGISTRY.values())


def clear() -> None:
    _REGISTRY.clear()


def load(parts: Iterable[tuple[str, bool]], *, filename: str = "<checks>") -> list[TestSpec]:
    """Execute checks source ``parts`` — ``(source, hidden)`` in order, one namespace — and
    return the tests they declare, those of hidden parts marked hidden."""
    import course
    import course.db

    namespace: dict[str, Any] = {"__name__": "__checks__", "course": course}
    found: list[TestSpec] = []
    try:
        for source, hidden in parts:
            clear()
            exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - instructor code from solutions/
            found += [dataclasses.replace(t, hidden=t.hidden or hidden) for t in registered()]
        return found
    finally:
        clear()
