"""``python -m course.runners.launch LANGUAGE FILE``: build a saved source file, then become it.

Used inside a sandbox to start a learner's server: the build (``go build``, ``javac``,
the TypeScript transpile) runs where the learner's code runs, under the same limits,
and the grader never writes into folders that learner code can also write. Then the
process execs the program, so its pid, signals and exit status are the program's own.
A build that fails prints why and exits 3.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

from ..errors import CourseError
from . import get


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m course.runners.launch LANGUAGE FILE", file=sys.stderr)
        return 2
    language, path = argv
    try:
        source = Path(path).read_text()
        program = get(language).build(source, server=True, timeout=120)
    except (CourseError, OSError) as e:
        print(f"[course] could not build {path}: {e}", file=sys.stderr, flush=True)
        return 3
    os.chdir(program.cwd)
    os.execvpe(program.argv[0], program.argv, {**os.environ, **program.env})
    return 0  # pragma: no cover


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
