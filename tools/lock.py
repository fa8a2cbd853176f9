"""``make lock``: compile constraints.txt from pyproject.toml, then re-pin the Python capstones
and starters from it, so the course's venv and every app's requirements.txt agree.

    .venv/bin/python tools/lock.py            # after changing dependencies in pyproject.toml
    .venv/bin/python tools/lock.py --upgrade  # move every pin to the newest allowed version

uv resolves for every platform and every Python the project allows (``--universal``),
so the same file serves Linux, macOS, conda and Binder. The first line records a hash
of pyproject.toml's dependency tables; tests/test_lock.py fails when they drift apart.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "constraints.txt"
PINNED = sorted([*ROOT.glob("solutions/capstone/*/requirements.txt"),
                 *ROOT.glob("course/starters/*/requirements.txt")])
HASH_LINE = "# pyproject.toml dependencies sha256: "
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?P<extras>\[[^\]]*\])?==(?P<version>\S+)(?P<rest>.*)$")


def dependency_hash(pyproject: Path = ROOT / "pyproject.toml") -> str:
    """A hash of what the lock is compiled from (requires-python, dependencies, extras)."""
    project = tomllib.loads(pyproject.read_text())["project"]
    keyed = {k: project.get(k) for k in ("requires-python", "dependencies", "optional-dependencies")}
    return hashlib.sha256(json.dumps(keyed, sort_keys=True).encode()).hexdigest()


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lock_text: str, environment: dict | None = None) -> dict[str, str]:
    """name → version of every line of the lock whose marker holds in ``environment``."""
    from packaging.requirements import Requirement

    out = {}
    for line in lock_text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate(environment):
            (spec,) = req.specifier
            out[normalise(req.name)] = spec.version
    return out


def repin(path: Path, locked: dict[str, str]) -> str:
    """``path`` with each ``name==version`` line set to the lock's version."""
    lines = []
    for line in path.read_text().splitlines():
        m = PIN.match(line.strip())
        if m:
            version = locked.get(normalise(m["name"]))
            if version is None:
                raise SystemExit(f"{path}: {m['name']} is not in constraints.txt; add it to "
                                 "the `capstones` extra in pyproject.toml and run `make lock` again")
            line = f"{m['name']}{m['extras'] or ''}=={version}{m['rest']}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--upgrade", action="store_true", help="newest allowed versions instead of keeping pins")
    args = ap.parse_args()
    argv = [sys.executable, "-m", "uv", "pip", "compile", "pyproject.toml", "--all-extras", "--universal",
            "--python-version", "3.11", "--quiet", "--no-header", "--output-file", str(LOCK)]
    if args.upgrade:
        argv.append("--upgrade")
    subprocess.run(argv, cwd=ROOT, check=True)
    body = LOCK.read_text()
    LOCK.write_text(f"{HASH_LINE}{dependency_hash()}\n"
                    "# Compiled by `make lock` (tools/lock.py) from pyproject.toml; `make setup` installs with\n"
                    "# `pip install -c constraints.txt`. Edit pyproject.toml, never this file.\n" + body)
    locked = pins(LOCK.read_text())
    for path in PINNED:
        path.write_text(repin(path, locked))
    print(f"wrote {LOCK.relative_to(ROOT)} ({len(locked)} packages) and re-pinned {len(PINNED)} requirements.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
