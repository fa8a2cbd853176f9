"""The ``course`` command: a thin argparse layer over plain functions.

Every subcommand lives in the module that does the work; this file only wires them.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from . import __version__, paths, toolchains
from .errors import CourseError

DESCRIPTION = """\
Backend Patterns Lab — production backend engineering in Node.js, Python, Go and Java.

Start here:
  course doctor          which toolchains are installed, and how to get the missing ones
  course setup           install the npm, Go and Maven packages the lessons import
  course lab             open the course in JupyterLab
  course check APP_DIR   start your server and check it against the production checklist
  course new DIR -f NAME start a capstone from a starter (express, nestjs, fastify, django,
                         fastapi, flask, gin, spring)

For instructors (edit in JupyterLab or the .md, then sync, build, commit):
  course sync [--check]  pair each notebook with its MyST .md; stable ids and metadata
  course refresh [PATH]  re-run lessons and store their outputs and figures
  course build [--check] generate exercises/ from solutions/
  course site            the course as a static HTML site (Jupyter Book 2)
  course grade SUB...    grade submissions in a sandbox; reports in JSON, Gradescope, JUnit,
                         CSV and HTML
"""


def cmd_doctor(args) -> int:
    """Print every toolchain's state; exit 0 only if all are usable."""
    report = toolchains.doctor()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0 if report["ok"] else 1
    for name, t in report["toolchains"].items():
        mark = "✓" if t["ok"] else "✗"
        version = t["version"] or "-"
        print(f"{mark} {name:<7} {version:<10} {t['path'] or 'not found'}  (needs ≥ {t['minimum']})")
        if t["hint"]:
            print(f"    {t['hint']}")
    print("all toolchains ready" if report["ok"] else "some toolchains are missing: see the hints above")
    return 0 if report["ok"] else 1


def cmd_setup(args) -> int:
    """Install the packages cells import (idempotent)."""
    from . import install

    return install.run(force=args.force)


LAB_EPILOG = """\
settings (course/lab/config; course/lab/__init__.py says why each is there):
  no news popup; build artefacts hidden from the file browser; check panels saved
  with the notebook; autosave every 5 s; kernels on Unix sockets

examples:
  course lab                             open the index in your browser
  course lab --no-browser --port 8888    only print the URL (remote machine, container)
  course lab -- --ServerApp.ip=0.0.0.0   what follows -- goes to `jupyter lab`
"""


def cmd_lab(args) -> int:
    """Exec JupyterLab in the repository with the course's settings (:mod:`course.lab`)."""
    from . import lab

    repo = paths.require_checkout("`course lab`")
    argv = lab.command(repo, port=args.port, open_browser=not args.no_browser, extra=args.jupyter_args)
    os.chdir(repo)
    os.execve(argv[0], argv, lab.environment())
    return 0  # pragma: no cover


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="course", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("doctor", help="check the Python, Node, Go, Java and Maven toolchains",
                       description="Find each toolchain (override env var, PATH, pip-installed wheels), "
                                   "check its version against the course minimum, and say how to install "
                                   "what is missing. Exit status 0 only if all are usable.")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser("setup", help="install the npm, Go and Maven packages lessons import",
                       description="Runs `npm ci`, `go mod download && go build` and Maven dependency "
                                   "resolution for the course's projects in course/projects/. Steps whose "
                                   "inputs are unchanged are skipped.")
    p.add_argument("--force", action="store_true", help="redo every step")
    p.set_defaults(func=cmd_setup)

    p = sub.add_parser("lab", help="open the course in JupyterLab",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Start JupyterLab in the repository. The URL it prints (and opens) lands on "
                                   "the course index, notebooks/index.ipynb.",
                       epilog=LAB_EPILOG)
    p.add_argument("--port", type=int, help="port for JupyterLab (default: Jupyter's choice, 8888 or the next free)")
    p.add_argument("--no-browser", action="store_true", help="only print the URL; don't open a browser")
    p.add_argument("jupyter_args", nargs="*", metavar="JUPYTER_ARG", help="extra arguments for `jupyter lab`, after --")
    p.set_defaults(func=cmd_lab)

    from . import scaffold
    from .authoring import commands as authoring_commands
    from .checklist import cli as checklist_cli
    from .grading import commands as grading_commands

    checklist_cli.register(sub)
    scaffold.register(sub)
    grading_commands.register_build(sub)
    grading_commands.register_grade(sub)
    authoring_commands.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except CourseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
