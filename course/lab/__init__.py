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

import os
import sys
from pathlib import Path

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
