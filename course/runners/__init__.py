"""One runner per language; :func:`get` maps a language (or magic) name to it."""
from __future__ import annotations

from ..errors import UsageError
from .base import DEFAULT_TIMEOUT, Program, Runner, run_snippet
from .go import GoRunner
from .java import JavaRunner
from .node import NodeRunner
from .python import PythonRunner
from .typescript import TypeScriptRunner

RUNNERS: dict[str, Runner] = {
    r.language: r for r in (NodeRunner(), TypeScriptRunner(), GoRunner(), JavaRunner(), PythonRunner())
}
ALIASES = {"js": "node", "javascript": "node", "ts": "typescript", "py": "python", "golang": "go"}


def get(language: str) -> Runner:
    name = ALIASES.get(language, language)
    try:
        return RUNNERS[name]
    except KeyError:
        raise UsageError(f"unknown language {language!r}; choose one of {', '.join(RUNNERS)}") from None


__all__ = ["DEFAULT_TIMEOUT", "Program", "Runner", "RUNNERS", "TypeScriptRunner", "get", "run_snippet"]
