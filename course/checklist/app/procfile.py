"""The ``web:`` line of a Procfile: the only interface a platform gives an app.

It is exec'd without a shell (a shell would not pass SIGTERM on), so what a shell would
do — ``&&``, pipes, ``go run`` wrappers — is refused here with a message that says why.
"""
from __future__ import annotations

import dataclasses
import os
import re
import shlex
from pathlib import Path

from ...errors import CourseError


@dataclasses.dataclass(frozen=True)
class AppSpec:
    """A submission folder and the ``web:`` command of its Procfile."""

    app_dir: Path
    command: tuple[str, ...]
    line: str

    @property
    def name(self) -> str:
        return self.app_dir.name


def load_spec(app_dir: str | os.PathLike) -> AppSpec:
    """Validate the folder and parse its Procfile; :class:`CourseError` says what is missing."""
    app_dir = Path(app_dir).expanduser()
    if not app_dir.exists():
        raise CourseError(f"App folder not found: {app_dir}. Pass the folder that holds your app's Procfile.")
    if not app_dir.is_dir():
        raise CourseError(f"{app_dir} is a file, not a folder. Pass the folder that holds your app's Procfile.")
    app_dir = app_dir.resolve()
    procfile = app_dir / "Procfile"
    if not procfile.is_file():
        raise CourseError(
            f"No Procfile in {app_dir}. Add a file named `Procfile` with the command that starts your "
            "server, e.g.\n    web: node server.js\n    web: python -m uvicorn app:app --host $HOST --port $PORT\n"
            "    web: ./app                       (Go: the checker runs `go build -o app .`)\n"
            "See docs/service-contract.md.")
    text = procfile.read_text(errors="replace")
    for raw in text.splitlines():
        m = re.match(r"^\s*web\s*:(.*)$", raw)
        if m:
            line = m.group(1).strip()
            break
    else:
        raise CourseError(f"{procfile} has no `web:` line. Add one with the command that starts your server, "
                          "e.g. `web: node server.js`.")
    if not line:
        raise CourseError(f"The `web:` line of {procfile} is empty: put the command that starts your server after it.")
    try:
        argv = tuple(shlex.split(line))
    except ValueError as e:
        raise CourseError(f"Cannot parse the `web:` line of {procfile} ({e}): {line}") from None
    if argv[:2] == ("go", "run"):
        raise CourseError(
            "The Procfile runs `go run`, whose compiled child survives when `go` is stopped, so graceful "
            "shutdown cannot be checked. Use `web: ./app`: the checker runs `go build -o app .` itself "
            "(locally: `go build -o app . && ./app`).")
    if any(tok in ("&&", "||", ";", "|", ">", "<", "&") for tok in argv):
        raise CourseError(
            "The `web:` line is exec'd as one command, without a shell (a shell would not pass SIGTERM on), "
            f"so `&&`, `;`, pipes and redirections do not work there: {line}")
    return AppSpec(app_dir, argv, line)


def substitute(argv: tuple[str, ...], env: dict[str, str]) -> list[str]:
    """Replace ``$NAME`` / ``${NAME}`` with values from ``env`` (Procfiles often say ``--port $PORT``)."""
    pattern = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
    return [pattern.sub(lambda m: env.get(m.group(1) or m.group(2), m.group(0)), a) for a in argv]
