"""One set of pins: constraints.txt (compiled from pyproject.toml by ``make lock``) is what
``make setup`` installs, what conda's environment.yml installs, and what the Python
capstones and starters pin in their requirements.txt."""
from __future__ import annotations

import importlib.metadata
import re
import sys
import tomllib

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.version import Version

from course import toolchains

from helpers import REPO

sys.path.insert(0, str(REPO / "tools"))
import lock  # tools/ is not a package: found through sys.path

LOCK_TEXT = (REPO / "constraints.txt").read_text()
LOCKED = lock.pins(LOCK_TEXT)
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
DECLARED = [Requirement(r) for r in [*PROJECT["dependencies"],
                                     *[r for extra in PROJECT["optional-dependencies"].values() for r in extra]]]


def test_the_lock_was_compiled_from_this_pyproject():
    first = LOCK_TEXT.splitlines()[0]
    assert first == lock.HASH_LINE + lock.dependency_hash(), (
        "pyproject.toml's dependencies changed since constraints.txt was compiled: run `make lock`")


@pytest.mark.parametrize("requirement", DECLARED, ids=str)
def test_every_declared_dependency_is_pinned_within_its_range(requirement):
    version = LOCKED.get(lock.normalise(requirement.name))
    assert version is not None, f"{requirement.name} is not in constraints.txt: run `make lock`"
    assert requirement.specifier.contains(version, prereleases=True), f"{requirement} but locked at {version}"


def test_the_venv_is_what_the_lock_says():
    """`make setup` installs with `-c constraints.txt`: a drift means the venv is stale."""
    drift = {}
    for name, version in LOCKED.items():
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            drift[name] = f"missing (locked {version})"
            continue
        if Version(installed) != Version(version):
            drift[name] = f"{installed} installed, {version} locked"
    assert not drift, f"run `make setup`: {drift}"


REQUIREMENTS = sorted([*REPO.glob("solutions/capstone/*/requirements.txt"),
                       *REPO.glob("course/starters/*/requirements.txt")])


@pytest.mark.parametrize("path", REQUIREMENTS, ids=lambda p: str(p.relative_to(REPO)))
def test_app_requirements_pin_the_locked_versions(path):
    pinned = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            req = Requirement(line)
            assert len(req.specifier) == 1 and next(iter(req.specifier)).operator == "==", \
                f"{path.name}: pin exactly (==): {line}"
            pinned[lock.normalise(req.name)] = next(iter(req.specifier)).version
    assert pinned, f"{path} pins nothing"
    differ = {n: f"{v} here, {LOCKED.get(n, 'not locked')} in constraints.txt"
              for n, v in pinned.items() if LOCKED.get(n) != v}
    assert not differ, f"{path.relative_to(REPO)} disagrees with the lock (run `make lock`): {differ}"


def test_repin_rewrites_versions_and_refuses_unknown_packages(tmp_path):
    app = tmp_path / "requirements.txt"
    app.write_text("# comment\nFastAPI==0.1.0\npsycopg[binary]==1.0  # why\n")
    out = lock.repin(app, {"fastapi": "9.9", "psycopg": "3.3"})
    assert out == "# comment\nFastAPI==9.9\npsycopg[binary]==3.3  # why\n"
    with pytest.raises(SystemExit, match="not in constraints.txt"):
        lock.repin(app, {"fastapi": "9.9"})


def test_environment_yml_pins_toolchains_and_uses_the_lock():
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    conda = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str):
            name, _, version = dep.partition("=")
            conda[name] = version
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-c constraints.txt" in pip and any(p.startswith("-e .[dev") for p in pip)
    minimums = {"python": toolchains.SPECS["python"].minimum, "nodejs": toolchains.SPECS["node"].minimum,
                "go": toolchains.SPECS["go"].minimum, "openjdk": toolchains.SPECS["java"].minimum,
                "maven": toolchains.SPECS["maven"].minimum}
    for name, minimum in minimums.items():
        assert re.fullmatch(r"\d+(\.\d+)*", conda.get(name, "")), f"environment.yml: pin {name} (e.g. {name}=X.Y)"
        version = tuple(int(x) for x in conda[name].split("."))
        assert version[: len(minimum)] >= minimum[: len(version)], f"{name}={conda[name]} is below {minimum}"
