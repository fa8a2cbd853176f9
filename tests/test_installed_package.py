"""A plain, non-editable ``pip install`` of the course works — or says clearly what needs
the repository — and never writes into the installed package.

The package is built and installed (with pip's build isolation, as a user would) into a
fresh venv that borrows the course venv's dependencies through a ``.pth`` line (no
downloads of JupyterLab and friends), then used from outside the repository.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from course import toolchains

from helpers import REPO


def _run(argv, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=900, **kw)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    root = tmp_path_factory.mktemp("installed")
    venv = root / "venv"
    made = _run([sys.executable, "-m", "venv", str(venv)])
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    site = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    # the course venv's packages, as plain path entries: its own .pth files (the editable
    # `course`) are not processed, so `course` can only come from this install
    ours = sorted({p for p in sys.path if p.endswith("site-packages")})
    Path(site, "course-dependencies.pth").write_text("\n".join(ours) + "\n")
    pip = _run([str(python), "-m", "pip", "install", "--no-deps", "--quiet", str(REPO)], cwd=root)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COURSE_", "VIRTUAL_ENV", "PYTHON"))}
    go_cache = _run(["go", "env", "GOCACHE"]).stdout.strip() if toolchains.available("go") else ""
    env.update(XDG_CACHE_HOME=str(root / "cache"), PATH=f"{venv / 'bin'}{os.pathsep}{env['PATH']}")
    if go_cache:
        env["GOCACHE"] = go_cache  # a warm build cache: the new XDG_CACHE_HOME would start a cold one
    package = Path(_run([str(python), "-c", "import course, os; print(os.path.dirname(course.__file__))"],
                        cwd=root, env=env).stdout.strip())
    return {"python": str(python), "course": str(venv / "bin" / "course"), "env": env, "cwd": root,
            "package": package, "cache": root / "cache" / "backend-lab"}


def _course(installed, *args):
    return _run([installed["course"], *args], cwd=installed["cwd"], env=installed["env"])


def _py(installed, code):
    return _run([installed["python"], "-c", code], cwd=installed["cwd"], env=installed["env"])


def _package_files(package: Path) -> set[str]:
    return {str(p.relative_to(package)) for p in package.rglob("*") if "__pycache__" not in p.parts}


@pytest.mark.slow
def test_the_installed_package_is_not_the_checkout(installed):
    out = _py(installed, "from course import paths; print(paths.CHECKOUT, paths.PACKAGE, paths.PROJECTS)")
    assert out.returncode == 0, out.stderr
    checkout, package, projects = out.stdout.split()
    assert checkout == "None" and Path(package) == installed["package"]
    assert not package.startswith(str(REPO)) and projects == str(installed["cache"] / "projects")


@pytest.mark.slow
def test_package_data_is_found(installed, tmp_path):
    out = _py(installed, "from course.checklist.items import load_items; print(len(load_items()))")
    assert out.stdout.strip() == "11", out.stderr
    new = _course(installed, "new", str(tmp_path / "mine"), "--framework", "fastapi")
    assert new.returncode == 0, new.stderr
    assert (tmp_path / "mine" / "Procfile").is_file() and (tmp_path / "mine" / "main.py").is_file()
    assert _course(installed, "--help").returncode == 0


@pytest.mark.slow
@pytest.mark.parametrize("command", [["lab", "--no-browser"], ["build", "--check"]])
def test_what_needs_the_repository_says_so(installed, command):
    out = _course(installed, *command)
    assert out.returncode == 2, out.stdout + out.stderr
    assert "needs the course's repository" in out.stderr and "make lab" in out.stderr


@pytest.mark.slow
@pytest.mark.skipif(not toolchains.available("node"), reason="needs Node.js")
def test_setup_and_a_node_cell_use_the_user_cache_not_the_package(installed):
    before = _package_files(installed["package"])
    setup = _course(installed, "setup")
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert (installed["cache"] / "projects" / "node" / "node_modules" / "express").is_dir()
    cell = _py(installed, "from course import runners\n"
                          "runners.run_snippet(runners.get('node'), "
                          "'const express = require(\"express\"); console.log(\"express\", typeof express)')")
    assert cell.returncode == 0 and "express function" in cell.stdout, cell.stdout + cell.stderr
    again = _course(installed, "setup")
    assert again.returncode == 0 and "copied" not in again.stdout, again.stdout
    assert _package_files(installed["package"]) == before, "something wrote into the installed package"
