"""Exercises and grading: one source per exercise (``solutions/``), generated learner
notebooks (``exercises/``), behaviour-based tests, in-notebook feedback and batch grading.

The API a solution notebook uses: ``from course.grading import test`` to declare tests,
and ``course.check("<exercise-id>")`` in its last cell.
"""
from .context import Context
from .tests import test

__all__ = ["Context", "test"]
