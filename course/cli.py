"""The ``course`` command: a thin argparse layer over plain functions.

Every subcommand lives in the module that does the work; this file only wires them.
"""
from __future__ import annotations

import argparse
import sys

from . import __version__
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


# Every subcommand is registered by the module that does its work, one way: `register(sub)`.
COMMAND_MODULES = ("toolchains", "install", "lab", "checklist.cli", "scaffold", "grading.commands",
                   "authoring.commands")


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = argparse.ArgumentParser(prog="course", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"course.{name}").register(sub)
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
