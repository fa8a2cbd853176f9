"""The ``sync``, ``refresh`` and ``site`` subcommands' argument parsers.

Kept apart from the modules that do the work (jupytext, nbclient, the site build), so
``course --help`` stays fast.
"""
from __future__ import annotations

import argparse
import importlib

WORKFLOW = """\
the instructor's workflow:
  1. edit a lesson or a solution in JupyterLab (it saves the .ipynb and its .md together),
     or edit its .md in any editor
  2. course sync              # pair up .ipynb and .md, normalise metadata and cell ids
  3. course refresh PATH      # a lesson whose code changed: re-run it, store its outputs
  4. course build             # exercises/ from solutions/
  5. git commit               # the .md diff reads as text; make test runs the --check modes
"""


def _lazy(module: str, function: str):
    def run(args):
        from .. import paths

        paths.require_checkout(f"`course {args.command}` (it edits the course's notebooks)")
        return getattr(importlib.import_module(f"course.authoring.{module}"), function)(args)

    return run


def register(sub) -> None:
    p = sub.add_parser(
        "sync", help="pair every notebook with its MyST .md; normalise metadata and cell ids",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="notebooks/**/*.ipynb and solutions/**/*.ipynb are the course's source, each paired with a "
                    "MyST Markdown file beside it (jupytext.toml). `course sync` carries an edit from the newer "
                    "file of a pair into the older one (outputs of unchanged code cells are kept), pins the "
                    "kernel metadata JupyterLab expects (so opening a notebook doesn't modify it), keeps every "
                    "cell id once assigned (a new cell gets an id derived from its content) and merges "
                    "output stream chunks.",
        epilog="examples:\n"
               "  course sync                         # every pair\n"
               "  course sync notebooks/03-go         # one folder\n"
               "  course sync --check                 # CI: change nothing, exit 1 and name the file\n"
               "                                      # and cell of every pair out of date, broken\n"
               "                                      # ```{code-cell} fence or invalid exercise\n\n" + WORKFLOW)
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="notebooks, .md files or folders (default: notebooks/ and solutions/)")
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 if anything is out of sync (for CI)")
    p.set_defaults(func=_lazy("sync", "cmd_sync"))

    p = sub.add_parser(
        "refresh", help="re-execute lessons and store their outputs and figures",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run each notebook top to bottom in a fresh kernel (in its own folder, as nbval and "
                    "learners do) and store every cell's outputs, so the lesson opens — in JupyterLab, on a code "
                    "host's notebook viewer and on the site — showing what a learner will see. Stream chunks "
                    "are merged, execution counts numbered in order, and volatile values normalised where "
                    "that loses nothing (the progress table shows a new learner's). A cell that raises stops "
                    "the refresh of that notebook and nothing is written.",
        epilog="examples:\n"
               "  course refresh notebooks/03-go/02-goroutines.ipynb\n"
               "  course refresh notebooks/06-worker-threads   # a section\n"
               "  course refresh                               # every lesson (3 minutes on 2 idle cores)\n\n"
               + WORKFLOW)
    p.add_argument("paths", nargs="*", metavar="PATH", help="notebooks or folders (default: notebooks/)")
    p.add_argument("--timeout", type=float, default=600, help="seconds a cell may run (default 600)")
    p.set_defaults(func=_lazy("refresh", "cmd_refresh"))

    p = sub.add_parser(
        "site", help="build the static course site (Jupyter Book 2 / mystmd)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Build a static HTML site from the same sources, with Jupyter Book 2 (mystmd, myst.yml): "
                    "every lesson with its stored outputs and figures, and one page per exercise. Notebooks "
                    "are not executed: run `course refresh` first if a lesson changed. The site goes to "
                    "_build/html (open _build/html/index.html); a link that does not resolve fails the build.",
        epilog="examples:\n  course site\n  make site")
    p.add_argument("--out", help="copy the finished site to this folder as well")
    p.set_defaults(func=_lazy("site", "cmd_site"))
