"""``course lab``: JupyterLab on the course, set up for learners.

Every setting lives in one Jupyter config folder, ``course/lab/config``, which ``course lab``
puts first on ``JUPYTER_CONFIG_PATH`` (so the learner's own ``~/.jupyter`` still applies
where the course has nothing to say). Why each one is there:

``jupyter_server_config.json``
    * ``LabApp.default_url`` — the URL JupyterLab prints (and opens) lands on
      ``notebooks/index.ipynb``; JupyterLab's default, ``/lab``, shows the Launcher.
    * ``ContentsManager.hide_globs`` — build artefacts (``*.egg-info``, ``_build``,
      ``node_modules``, Maven's ``target``, bytecode) stay out of the file browser; folders
      whose names start with a dot (``.venv``, ``.course``) are hidden by Jupyter already.
    * ``ContentsManager.pre_save_hook`` — saving keeps the course's pinned kernel metadata
      (:func:`course.authoring.sync.pre_save_hook`), so opening a notebook never rewrites it.
    * ``KernelManager.transport`` — kernels talk over Unix sockets (:mod:`course.kernels`).

``labconfig/default_setting_overrides.json`` (what JupyterLab calls an ``overrides.json``,
read from a config folder)
    * no "official Jupyter news?" popup and no update check: it covers the corner of a
      learner's first screen, and asks a website;
    * widget state is saved with the notebook, so a check panel renders again when the
      notebook is reopened (a widget without saved state shows "model not found");
    * autosave every 5 seconds (JupyterLab's default is 2 minutes): the kernel only sees a
      cell's edits through the saved notebook, and "Check again" warns about a ``--save``
      file older than its edited cell (:mod:`course.saves`).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .. import paths

CONFIG = Path(__file__).resolve().parent / "config"
INDEX = "notebooks/index.ipynb"


def environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) with the course's config folder first
    on ``JUPYTER_CONFIG_PATH``."""
    env = dict(os.environ if base is None else base)
    rest = env.get("JUPYTER_CONFIG_PATH")
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join([str(CONFIG), *([rest] if rest else [])])
    return env


def command(root: Path, *, port: int | None = None, open_browser: bool = True,
            extra: list[str] | tuple = ()) -> list[str]:
    """The ``jupyter lab`` command line serving ``root`` (the repository); run it there,
    with :func:`environment`."""
    argv = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.root_dir={root}"]
    if not open_browser:
        argv.append("--no-browser")
    if port:
        argv.append(f"--port={port}")
    if os.geteuid() == 0:  # containers, Binder-like images and CI run as root; Jupyter refuses without this
        argv.append("--allow-root")
    return argv + list(extra)


# -- `course lab` -----------------------------------------------------------------------
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
    repo = paths.require_checkout("`course lab`")
    argv = command(repo, port=args.port, open_browser=not args.no_browser, extra=args.jupyter_args)
    os.chdir(repo)
    os.execve(argv[0], argv, environment())
    return 0  # pragma: no cover


def register(sub) -> None:
    p = sub.add_parser("lab", help="open the course in JupyterLab",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="Start JupyterLab in the repository. The URL it prints (and opens) lands on "
                                   "the course index, notebooks/index.ipynb.",
                       epilog=LAB_EPILOG)
    p.add_argument("--port", type=int, help="port for JupyterLab (default: Jupyter's choice, 8888 or the next free)")
    p.add_argument("--no-browser", action="store_true", help="only print the URL; don't open a browser")
    p.add_argument("jupyter_args", nargs="*", metavar="JUPYTER_ARG", help="extra arguments for `jupyter lab`, after --")
    p.set_defaults(func=cmd_lab)
