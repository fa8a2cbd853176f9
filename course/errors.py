"""Exceptions that users see.

Every error a learner can cause is a :class:`CourseError`: a one-paragraph message
that says what went wrong and what to do. In IPython, ``_render_traceback_`` replaces
the long traceback through our internals with that message (the exception still
fails the cell, so nbval and papermill see it), and the CLI prints it and exits 2.
"""
from __future__ import annotations


class CourseError(Exception):
    """An error with a message meant for a person, not a traceback."""

    exit_code = 2

    def _render_traceback_(self) -> list[str]:
        return [f"\x1b[31m{type(self).__name__}\x1b[0m: {self}"]


class UsageError(CourseError):
    """A magic or command was called with options it does not take."""


class ToolchainMissing(CourseError):
    """A language toolchain is absent or too old; the message says how to install it."""


class SnippetError(CourseError):
    """A snippet failed: did not compile, exited non-zero, or was killed."""

    def __init__(self, message: str, *, returncode: int | None = None, stderr: str = ""):
        super().__init__(message)
        self.returncode = returncode
        self.stderr = stderr


class CompileError(SnippetError):
    """The compiler (go build, javac, tsc) rejected the snippet."""


class SnippetTimeout(SnippetError):
    """The snippet ran past its time limit and its process group was killed."""


class ServerError(CourseError):
    """A background server could not be started, or was asked for under an unknown name."""
