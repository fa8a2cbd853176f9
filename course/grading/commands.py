"""The ``build`` and ``grade`` subcommands' argument parsers.

Kept apart from the modules that do the work, which import nbformat and papermill
(seconds of start-up): ``course --help`` and ``course check`` should not pay for them.
"""
from __future__ import annotations

import argparse
import importlib

FORMATS = ("json", "gradescope", "junit", "csv", "html")
DEFAULT_CELL_TIMEOUT = 60.0
DEFAULT_SUBMISSION_TIMEOUT = 600.0


def _lazy(module: str, function: str):
    def run(args):
        return getattr(importlib.import_module(f"course.grading.{module}"), function)(args)

    return run


def register_build(sub) -> None:
    p = sub.add_parser(
        "build", help="generate exercises/ from solutions/",
        description="Turn each instructor notebook in solutions/ into the learner's notebook in exercises/: "
                    "`### BEGIN SOLUTION`…`### END SOLUTION` blocks become a stub in the cell's language, "
                    "`### BEGIN HIDDEN TESTS`…`### END HIDDEN TESTS` blocks are removed, outputs cleared, "
                    "cell ids kept. Capstone starters are copied to exercises/capstone/.")
    p.add_argument("--check", action="store_true",
                   help="change nothing; exit 1 if exercises/ is stale (for CI)")
    p.set_defaults(func=_lazy("build", "cmd_build"))


def register_grade(sub) -> None:
    p = sub.add_parser(
        "grade", help="grade submissions in parallel and report against the checklist",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Each SUBMISSION is a learner's copy of exercises/ (a folder) or one notebook. Every exercise "
                    "notebook in it is copied to a private workspace, executed with papermill (parameters: "
                    "workspace, grading=True) in a sandbox, and then graded by the instructor's tests from "
                    "solutions/ — hidden ones included. Submissions are never modified.\n\n"
                    "The sandbox (bubblewrap): new user, PID, mount, network, IPC and UTS namespaces; an "
                    "unprivileged uid with no capabilities; a read-only system; only the workspace, a private "
                    "/tmp and private cache layers writable; loopback-only network; a database role of its "
                    "own; memory, process and disk limits. Where no sandbox can be made, grading stops "
                    "before running anything and says how to fix it.",
        epilog="examples:\n  course grade submissions/* --jobs 2 --out grades\n"
               "  course grade submissions/* --scheduler tcp://grading-host:8786\n"
               "  course grade alice/ bob/ --format json,csv,html\n\n"
               "outputs per learner: results.json (Exercism v3 + scores + checklist tags), gradescope.json, "
               "junit.xml;\nfor the class: gradebook.csv, report.html (learners × checklist items), summary.json\n\n"
               "exit status: 0 when every notebook was graded (whatever the learners scored); 2 for unusable "
               "input\n(or no sandbox possible); 3 when the grader itself failed on some notebook (a crash, "
               "checks that\nwould not load) — the reports are written either way")
    p.add_argument("submissions", nargs="+", metavar="SUBMISSION")
    p.add_argument("--jobs", "-j", type=int, default=2,
                   help="worker processes of the embedded Dask cluster (default 2)")
    p.add_argument("--scheduler", metavar="tcp://HOST:8786",
                   help="grade on an existing Dask cluster instead (`dask scheduler` + `dask worker` on other "
                        "machines, each with this course installed; or a dask-gateway cluster's scheduler address)")
    p.add_argument("--out", "-o", default="grades", help="output folder (default ./grades)")
    p.add_argument("--format", default=",".join(FORMATS),
                   help=f"comma-separated subset of {','.join(FORMATS)} (default: all)")
    p.add_argument("--cell-timeout", type=float, default=DEFAULT_CELL_TIMEOUT,
                   help=f"seconds a cell may run (default {DEFAULT_CELL_TIMEOUT:g})")
    p.add_argument("--submission-timeout", type=float, default=DEFAULT_SUBMISSION_TIMEOUT,
                   help=f"seconds a whole notebook may take, tests included (default {DEFAULT_SUBMISSION_TIMEOUT:g})")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar (it shows only on a terminal anyway)")
    p.add_argument("--database-url", metavar="URL",
                   help="PostgreSQL for the workers (its user needs CREATEDB and CREATEROLE: each submission gets "
                        "a role of its own); default: an embedded server per worker")
    p.add_argument("--allow-network-for-build", action="store_true",
                   help="capstones: run their build (npm ci, go build, mvn package, pip install) in the sandbox "
                        "but on the worker's network, so dependencies missing from the caches are downloaded; "
                        "install scripts then reach what the worker reaches. Default: build offline, from the "
                        "caches `course setup` warms; the app itself never has a network")
    p.add_argument("--no-sandbox", action="store_true",
                   help="run learner code without bubblewrap (limits only): for machines where no sandbox can be "
                        "made and the class is trusted; every report says so")
    p.set_defaults(func=_lazy("grade", "cmd_grade"))


def register(sub) -> None:
    register_build(sub)
    register_grade(sub)
