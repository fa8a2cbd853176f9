"""IPython magics: ``%%node``, ``%%ts``, ``%%go``, ``%%java``, ``%%py`` and server control.

Load with ``%load_ext course``. A cell runs as a real program in a child process;
its output streams into the cell while it runs. Any failure — compile error,
non-zero exit, timeout — raises a Python exception, because nbval and papermill only
fail a cell that raises (a cell that merely prints an error passes under nbval).

Options are declared with IPython's ``magic_arguments``: the same declaration parses
the line and writes the help, so ``%%node?`` shows the real usage.
"""
from __future__ import annotations

import argparse
import shlex
from pathlib import Path
from typing import Callable

from IPython.core import magic_arguments
from IPython.core.error import UsageError as IPythonUsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument

from . import runners, saves, servers
from .errors import UsageError

CELL_OPTIONS = (
    argument("--serve", metavar="NAME",
             help="start it as a background server named NAME instead: a free port is passed in $PORT, the "
                  "cell returns once the port accepts connections, and its output goes to a log (%%logs NAME)"),
    argument("--save", metavar="PATH", help="also keep the cell's source as PATH (relative to the notebook)"),
    argument("--no-run", action="store_true", help="with --save: only write the file (a library, a test file)"),
    argument("--timeout", type=float, default=runners.DEFAULT_TIMEOUT, metavar="SECONDS",
             help=f"kill the program (and its children) after SECONDS (default {runners.DEFAULT_TIMEOUT:g})"),
    argument("--env", action="append", default=[], metavar="KEY=VALUE",
             help="set an environment variable (repeatable)"),
    argument("--port", type=int, metavar="N", help="with --serve: prefer port N (another is chosen if it is taken)"),
    argument("--ready-timeout", type=float, default=servers.DEFAULT_READY_TIMEOUT, metavar="SECONDS",
             help=f"with --serve: how long to wait for the port (default {servers.DEFAULT_READY_TIMEOUT:g})"),
)
TYPECHECK = argument("--typecheck", action="store_true",
                     help="also type-check the cell (as tsc --noEmit would) before running it; a type error "
                          "fails the cell. Takes a few seconds, so it is opt-in.")


def _options(*extra: argument) -> Callable:
    """The cell magics' options (plus ``extra``), declared once for parsing and for help."""

    def declare(func: Callable) -> Callable:
        for option in reversed((*extra, *CELL_OPTIONS)):
            func = option(func)
        return magic_arguments.magic_arguments(name=f"%{func.__name__}")(func)  # the help adds a %

    return declare


def parse(magic_func: Callable, line: str) -> argparse.Namespace:
    """Parse ``line`` with ``magic_func``'s declared options; mistakes raise our
    :class:`UsageError` (one line in the notebook, usage included), never a traceback."""
    try:
        # shell words, as a terminal splits them: --env "KEY=two words" is one argument, unquoted
        # (IPython's own arg_split keeps the quotes on POSIX)
        return magic_func.parser.parse_args(shlex.split(line))
    except (IPythonUsageError, ValueError) as exc:  # ValueError: unbalanced quotes
        raise UsageError(f"{exc}\n\n{usage(magic_func)}") from None


def usage(magic_func: Callable) -> str:
    """``usage: %%node [--serve NAME] ...`` from the declared options (IPython writes it as rST)."""
    text = magic_func.parser.format_usage().replace("::", "").strip()
    return "usage: " + " ".join(text.split())


def parse_env(pairs: list[str]) -> dict[str, str]:
    env = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.isidentifier():
            raise UsageError(f"--env expects KEY=VALUE, got {pair!r}")
        env[key] = value
    return env


def run_cell(magic: str, language: str, line: str, cell: str) -> servers.Server | None:
    """The body of every language cell magic (also callable without IPython)."""
    runner = runners.get(language)
    opts = parse(getattr(CourseMagics, magic), line)
    if getattr(opts, "typecheck", False):
        runner = runners.TypeScriptRunner(typecheck=True)
    if opts.timeout <= 0:
        raise UsageError("--timeout must be a positive number of seconds")
    env = parse_env(opts.env)
    if opts.no_run and not opts.save:
        raise UsageError("--no-run only makes sense with --save PATH")
    if opts.save:
        target = Path(opts.save)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(cell)
        saves.remember(target)  # so a check can say when this file is older than its edited cell
        if opts.no_run:
            print(f"saved {target}")
            return None
    if opts.serve:
        server = servers.start(opts.serve, runner, cell, env=env, port=opts.port,
                               ready_timeout=opts.ready_timeout)
        print(f"✓ {runner.label} server '{server.name}' ready at {server.url} "
              f"(pid {server.pid}; %logs {server.name}; %stop {server.name})")
        return server
    runners.run_snippet(runner, cell, timeout=opts.timeout, env=env)
    return None


@magics_class
class CourseMagics(Magics):
    @_options()
    @cell_magic
    def node(self, line, cell):
        """Run the cell as a Node.js program (CommonJS or ES modules; npm packages of the course importable)."""
        run_cell("node", "node", line, cell)

    @_options(TYPECHECK)
    @cell_magic
    def ts(self, line, cell):
        """Run the cell as TypeScript: transpiled only (decorators enabled: NestJS works), unless --typecheck."""
        run_cell("ts", "typescript", line, cell)

    @_options()
    @cell_magic
    def go(self, line, cell):
        """Build the cell (package main) with Go and run the binary."""
        run_cell("go", "go", line, cell)

    @_options()
    @cell_magic
    def java(self, line, cell):
        """Compile the cell with javac (Spring Boot on the classpath) and run its main class."""
        run_cell("java", "java", line, cell)

    @_options()
    @cell_magic
    def py(self, line, cell):
        """Run the cell in a separate Python process (for servers: uvicorn, flask, django)."""
        run_cell("py", "python", line, cell)

    @line_magic
    def servers(self, line):
        """List the background servers started from this kernel."""
        print(servers.describe())

    @magic_arguments.magic_arguments(name="stop")
    @argument("names", nargs="*", metavar="NAME", help="the servers to stop")
    @argument("--all", action="store_true", help="stop every server started from this kernel")
    @line_magic
    def stop(self, line):
        """Stop background servers: SIGTERM, then SIGKILL for whatever is left of their process groups."""
        opts = parse(CourseMagics.stop, line)
        if opts.all == bool(opts.names):
            raise UsageError(f"name the servers to stop, or --all\n\n{usage(CourseMagics.stop)}")
        if opts.all:
            stopped = servers.stop_all()
            print(f"stopped {len(stopped)} server(s)" + (f": {', '.join(stopped)}" if stopped else ""))
            return
        for name in opts.names:
            code = servers.stop(name)
            print(f"stopped '{name}' (exit status {code})")

    @magic_arguments.magic_arguments(name="logs")
    @argument("name", help="the server's name (its --serve NAME)")
    @argument("-n", type=int, default=40, metavar="LINES", help="how many lines (default 40)")
    @line_magic
    def logs(self, line):
        """The end of a background server's log."""
        opts = parse(CourseMagics.logs, line)
        print(servers.get(opts.name).logs(opts.n) or "(log is empty)")
