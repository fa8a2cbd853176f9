"""IPython magics: ``%%node``, ``%%ts``, ``%%go``, ``%%java``, ``%%py`` and server control.

Load with ``%load_ext course``. A cell runs as a real program in a child process;
its output streams into the cell while it runs. Any failure — compile error,
non-zero exit, timeout — raises a Python exception, because nbval and papermill only
fail a cell that raises (a cell that merely prints an error passes under nbval).
"""
from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from IPython.core.magic import Magics, cell_magic, line_magic, magics_class

from . import runners, servers
from .errors import UsageError

CELL_USAGE = """\
%%{magic} [--serve NAME] [--save PATH [--no-run]] [--timeout SECONDS] [--env KEY=VALUE ...]
          [--port N] [--ready-timeout SECONDS]{extra_usage}

Run the cell as a {label} program.
  --serve NAME          start it as a background server named NAME instead: a free port
                        is passed in $PORT, the cell returns once the port accepts
                        connections, and its output goes to a log (%logs NAME)
  --save PATH           also keep the cell's source as PATH (relative to the notebook)
  --no-run              with --save: only write the file (a library, a test file)
  --timeout SECONDS     kill the program (and its children) after SECONDS (default 60)
  --env KEY=VALUE       set an environment variable (repeatable)
  --port N              with --serve: prefer port N (another is chosen if it is taken)
  --ready-timeout S     with --serve: how long to wait for the port (default 30)
{extra}"""
TS_USAGE = """  --typecheck           also type-check the cell (as tsc --noEmit would) before running it;
                        a type error fails the cell. Takes a few seconds, so it is opt-in.
"""


class _Parser(argparse.ArgumentParser):
    """argparse that raises UsageError (with the usage text) instead of exiting the kernel."""

    def __init__(self, usage: str, **kw):
        super().__init__(add_help=False, usage=argparse.SUPPRESS, **kw)
        self._usage_text = usage

    def error(self, message):
        raise UsageError(f"{message}\n\n{self._usage_text}")


def _usage(magic: str, label: str) -> str:
    ts = magic == "ts"
    return CELL_USAGE.format(magic=magic, label=label, extra=TS_USAGE if ts else "",
                             extra_usage=" [--typecheck]" if ts else "")


def _cell_parser(magic: str, label: str) -> _Parser:
    p = _Parser(_usage(magic, label), prog=f"%%{magic}")
    if magic == "ts":
        p.add_argument("--typecheck", action="store_true")
    p.add_argument("--serve", metavar="NAME")
    p.add_argument("--save", metavar="PATH")
    p.add_argument("--no-run", action="store_true")
    p.add_argument("--timeout", type=float, default=runners.DEFAULT_TIMEOUT)
    p.add_argument("--env", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--port", type=int)
    p.add_argument("--ready-timeout", type=float, default=servers.DEFAULT_READY_TIMEOUT)
    return p


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
    try:
        argv = shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"cannot parse options: {exc}\n\n{_usage(magic, runner.label)}") from None
    opts = _cell_parser(magic, runner.label).parse_args(argv)
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
    @cell_magic
    def node(self, line, cell):
        """Run the cell with Node.js (CommonJS or ES modules). `%%node --help`-style usage on error."""
        run_cell("node", "node", line, cell)

    @cell_magic
    def ts(self, line, cell):
        """Run the cell as TypeScript (transpiled, decorators enabled: NestJS works; --typecheck to check types)."""
        run_cell("ts", "typescript", line, cell)

    @cell_magic
    def go(self, line, cell):
        """Build the cell (package main) with Go and run the binary."""
        run_cell("go", "go", line, cell)

    @cell_magic
    def java(self, line, cell):
        """Compile the cell with javac (Spring Boot on the classpath) and run its main class."""
        run_cell("java", "java", line, cell)

    @cell_magic
    def py(self, line, cell):
        """Run the cell in a separate Python process (for servers: uvicorn, flask, django)."""
        run_cell("py", "python", line, cell)

    @line_magic
    def servers(self, line):
        """List the background servers started from this kernel."""
        print(servers.describe())

    @line_magic
    def stop(self, line):
        """%stop NAME [NAME ...] | %stop --all — stop servers (SIGTERM, then SIGKILL)."""
        names = shlex.split(line)
        if not names:
            raise UsageError("usage: %stop NAME [NAME ...] | %stop --all")
        if names == ["--all"]:
            stopped = servers.stop_all()
            print(f"stopped {len(stopped)} server(s)" + (f": {', '.join(stopped)}" if stopped else ""))
            return
        for name in names:
            code = servers.stop(name)
            print(f"stopped '{name}' (exit status {code})")

    @line_magic
    def logs(self, line):
        """%logs NAME [-n LINES] — the end of a server's log."""
        p = _Parser("usage: %logs NAME [-n LINES]", prog="%logs")
        p.add_argument("name")
        p.add_argument("-n", type=int, default=40)
        opts = p.parse_args(shlex.split(line))
        print(servers.get(opts.name).logs(opts.n) or "(log is empty)")
