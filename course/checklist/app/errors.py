"""Why an app could not be built or started, with the end of its output."""
from __future__ import annotations

import re

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")  # colours in build output and logs


class AppStartError(Exception):
    """The app could not be built or started; ``str()`` says why, ``log_tail`` shows its output.

    Not a :class:`CourseError`: the input was usable, the app is what failed, so the
    engine turns this into a report with status ``error`` rather than exit code 2.
    """

    def __init__(self, message: str, log_tail: str = "", *, code: str = ""):
        super().__init__(message)
        self.log_tail = log_tail
        self.code = code  # a seed error code (DEPENDENCY_CONFLICT), "" otherwise

    def full_message(self) -> str:
        text = str(self)
        tail = ANSI_ESCAPE.sub("", self.log_tail).rstrip()
        if tail.strip():
            text += "\n\nLast lines of its output:\n" + _indent(tail)
        return text


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())
