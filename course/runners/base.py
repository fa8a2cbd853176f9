"""What every language runner does: turn a cell's source into a program, then run it.

A runner only knows how to *build* (write the source under the scratch space,
compile it if the language needs it) and which argv starts the result. Running to
completion goes through :func:`run_snippet`; starting a server goes through
:mod:`course.servers`. Both use :mod:`course.procs`, so timeouts, process groups and
output limits are the same for every language.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from pathlib import Path
from typing import Callable, Mapping

from .. import paths, procs, toolchains
from ..errors import CompileError, SnippetError, SnippetTimeout

DEFAULT_TIMEOUT = 60.0


@dataclasses.dataclass
class Program:
    """A built snippet: the argv that runs it, where, and extra environment."""

    argv: list[str]
    cwd: Path
    env: dict[str, str] = dataclasses.field(default_factory=dict)
    source_path: Path | None = None


class Runner:
    language: str = ""
    label: str = ""  # what a person calls it in messages ("Node.js")
    missing_module_pattern: str | None = None  # stderr regex meaning "dependency not installed"

    def tools(self) -> dict[str, str]:
        """Paths of the tools this language needs (raises ToolchainMissing)."""
        return toolchains.require_language(self.language)

    def workdir(self, source: str) -> Path:
        """A directory for this source, named by its hash (so builds are reused)."""
        digest = hashlib.sha256(f"{self.language}\0{source}".encode()).hexdigest()[:16]
        d = paths.scratch() / self.language / digest
        d.mkdir(parents=True, exist_ok=True)
        return d

    def build(self, source: str, *, server: bool = False, timeout: float = DEFAULT_TIMEOUT) -> Program:
        raise NotImplementedError

    # helpers for subclasses -------------------------------------------------
    def compile(self, argv: list[str], *, cwd: Path, env: Mapping[str, str] | None = None,
                timeout: float, what: str) -> None:
        """Run a compiler; turn its failure into :class:`CompileError` with its messages."""
        result = procs.run(argv, cwd=cwd, env=_merged(env), timeout=timeout, echo=None)
        if result.timed_out:
            raise CompileError(f"{what} timed out after {timeout:g} s", returncode=None)
        if not result.ok:
            output = (result.stdout + result.stderr_tail).strip()
            raise CompileError(f"{what} failed:\n{output}", returncode=result.returncode,
                               stderr=result.stderr_tail)


def write_if_changed(path: Path, text: str) -> Path:
    """Write atomically, and only when different (keeps mtimes and builds stable)."""
    if path.exists() and path.read_text() == text:
        return path
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return path


def _merged(extra: Mapping[str, str] | None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra or {})
    return env


def run_snippet(
    runner: Runner,
    source: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    env: Mapping[str, str] | None = None,
    echo: Callable[[str, str], None] | None = procs._default_echo,
    output_limit: int = procs.DEFAULT_OUTPUT_LIMIT,
) -> procs.RunResult:
    """Build and run ``source`` to completion; raise unless it exits 0 in time.

    The exception carries the tail of stderr, so nbval and papermill fail the cell
    and show why (a cell that merely *prints* an error would pass under nbval).
    """
    program = runner.build(source, timeout=timeout)
    result = procs.run(
        program.argv,
        cwd=program.cwd,
        env=_merged({**program.env, **(env or {})}),
        timeout=timeout,
        echo=echo,
        output_limit=output_limit,
    )
    if result.timed_out:
        raise SnippetTimeout(
            f"{runner.label} snippet timed out after {timeout:g} s and was killed "
            f"(with its whole process group). Use --timeout SECONDS to allow longer.",
            returncode=result.returncode, stderr=result.stderr_tail)
    if result.returncode != 0:
        raise SnippetError(failure_message(runner, result), returncode=result.returncode,
                           stderr=result.stderr_tail)
    return result


def failure_message(runner: Runner, result: procs.RunResult) -> str:
    if result.killed_by:
        head = f"{runner.label} snippet was killed by {result.killed_by}"
    else:
        head = f"{runner.label} snippet exited with status {result.returncode}"
    lines = result.stderr_tail.strip().splitlines()[-15:]
    message = head + (":\n" + "\n".join(lines) if lines else "")
    if runner.missing_module_pattern and re.search(runner.missing_module_pattern, result.stderr_tail):
        message += ("\nHint: the course's packages may not be installed — run `make setup` "
                    "(or `course setup`).")
    return message
