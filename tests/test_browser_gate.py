"""The browser suite never disappears quietly: skipped loudly without a browser, an error in CI."""
from __future__ import annotations

import os
import subprocess
import sys

from helpers import REPO


def run_browser_suite(**env) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("COURSE_REQUIRE_BROWSER", "COURSE_CHROMIUM")}
    return subprocess.run([sys.executable, "-m", "pytest", "tests/browser", "-p", "no:cacheprovider", "-q"],
                          cwd=REPO, env={**base, **env}, capture_output=True, text=True, timeout=120)


def test_without_a_browser_the_suite_is_skipped_and_says_so():
    out = run_browser_suite(COURSE_CHROMIUM="/nonexistent/chromium")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "BROWSER SUITE SKIPPED" in out.stdout
    assert "did not run: COURSE_CHROMIUM=/nonexistent/chromium is not an executable" in out.stdout
    assert " passed" not in out.stdout and " skipped" in out.stdout


def test_ci_makes_a_missing_browser_an_error():
    out = run_browser_suite(COURSE_CHROMIUM="/nonexistent/chromium", COURSE_REQUIRE_BROWSER="1")
    assert out.returncode != 0
    assert "COURSE_REQUIRE_BROWSER=1 but COURSE_CHROMIUM=/nonexistent/chromium is not an executable" in out.stderr


def test_make_test_says_which_browser_it_found_before_the_tests():
    found = subprocess.run([sys.executable, "tests/browser/browser_lab.py"], cwd=REPO, capture_output=True, text=True,
                           env={**os.environ, "COURSE_CHROMIUM": sys.executable})
    assert found.stdout.startswith(f"browser suite: Chromium at {sys.executable}")
    missing = subprocess.run([sys.executable, "tests/browser/browser_lab.py"], cwd=REPO, capture_output=True,
                             text=True, env={**os.environ, "COURSE_CHROMIUM": "/nonexistent/chromium"})
    assert "THE BROWSER SUITE WILL BE SKIPPED" in missing.stderr
    assert "browser_lab.py" in (REPO / "Makefile").read_text().split("\ntest:", 1)[1].split("\n\n", 1)[0]
