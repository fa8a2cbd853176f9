"""The browser suite never disappears quietly: skipped loudly without a browser, an error in CI,
where `.ci/run` installs Chromium from the distribution's packages when it is missing."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

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


def run_ci(tmp_path, *, uid: int, chromium: bool) -> tuple[subprocess.CompletedProcess, list[str]]:
    """`.ci/run` in a copy of the repository whose PATH holds only stubs: `id` answers ``uid``,
    `apt-get` and `make` log how they were called (make with COURSE_REQUIRE_BROWSER)."""
    (tmp_path / ".ci").mkdir()
    script = tmp_path / ".ci" / "run"
    shutil.copy(REPO / ".ci" / "run", script)
    stubs = tmp_path / "bin"
    stubs.mkdir()
    calls = tmp_path / "calls.log"
    bodies = {"id": f"echo {uid}",
              "apt-get": f'echo "apt-get $*" >> {calls}',
              "make": f'echo "make $* COURSE_REQUIRE_BROWSER=$COURSE_REQUIRE_BROWSER" >> {calls}'}
    if chromium:
        bodies["chromium"] = "true"
    for name, body in bodies.items():
        (stubs / name).write_text(f"#!/bin/bash\n{body}\n")
        (stubs / name).chmod(0o755)
    (stubs / "dirname").symlink_to(shutil.which("dirname"))
    out = subprocess.run(["/bin/bash", str(script)], env={"PATH": str(stubs)}, capture_output=True, text=True,
                         timeout=30)
    return out, calls.read_text().splitlines() if calls.exists() else []


def test_ci_installs_chromium_from_the_distribution_when_missing_and_root(tmp_path):
    out, calls = run_ci(tmp_path, uid=0, chromium=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "apt-get install -y -qq chromium" in calls, calls
    assert calls[-1] == "make test COURSE_REQUIRE_BROWSER=1", calls


def test_ci_leaves_a_present_chromium_alone_and_cannot_install_without_root(tmp_path):
    for n, (uid, chromium) in enumerate([(0, True), (1000, False)]):
        where = tmp_path / str(n)
        where.mkdir()
        out, calls = run_ci(where, uid=uid, chromium=chromium)
        assert out.returncode == 0, out.stdout + out.stderr
        # without root it still runs, and COURSE_REQUIRE_BROWSER=1 makes the missing browser an error
        assert calls == ["make test COURSE_REQUIRE_BROWSER=1"], calls


@pytest.fixture(scope="module")
def after_a_failing_browser_test(tmp_path_factory):
    """A suite laid out as ``tests/``: a ``browser/`` folder with the browser suite's own
    conftest.py and a test that fails after opening the index, then a test module after it
    (``make test`` runs every other test after the browser suite)."""
    sys.path.insert(0, str(REPO / "tests" / "browser"))
    try:
        import browser_lab
    finally:
        sys.path.pop(0)
    if browser_lab.find_chromium()[0] is None:
        pytest.skip("no browser (the browser suite's own skip says why)")
    where = tmp_path_factory.mktemp("suite")
    (where / "browser").mkdir()
    shutil.copy(REPO / "tests" / "browser" / "conftest.py", where / "browser")
    (where / "browser" / "test_browser.py").write_text(
        "import browser_lab\n\n\n"
        "def test_a_learner_sees_the_wrong_page(page, lab):\n"
        "    page.goto(lab.url)\n"
        "    browser_lab.wait_open(page, 'index.ipynb')\n"
        "    assert False, 'deliberately'\n")
    (where / "test_after.py").write_text(
        "import asyncio\n\n\n"
        "def test_asyncio_runs_after_the_browser_suite():\n"
        "    async def answer():\n"
        "        return 42\n\n"
        "    assert asyncio.run(answer()) == 42\n")
    artefacts = where / "artefacts"
    env = {**os.environ, "PYTHONPATH": str(REPO / "tests" / "browser"), "COURSE_BROWSER_ARTIFACTS": str(artefacts)}
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-v",
                          "--rootdir", str(where), str(where)],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    return out, artefacts


def test_a_failing_browser_test_leaves_a_screenshot_and_the_labs_log(after_a_failing_browser_test):
    out, artefacts = after_a_failing_browser_test
    assert "test_a_learner_sees_the_wrong_page FAILED" in out.stdout, out.stdout + out.stderr
    shot = artefacts / "test_a_learner_sees_the_wrong_page.png"
    assert shot.read_bytes().startswith(b"\x89PNG"), out.stdout
    assert "Jupyter Server" in (artefacts / "course-lab.log").read_text()
    assert f"screenshot: {shot}" in out.stdout


def test_the_tests_after_the_browser_suite_can_use_asyncio(after_a_failing_browser_test):
    """Playwright's sync API runs an asyncio loop while it is started: it must be stopped
    when the browser tests end, or ``asyncio.run`` fails in every later test."""
    out, _ = after_a_failing_browser_test
    assert "test_asyncio_runs_after_the_browser_suite PASSED" in out.stdout, out.stdout + out.stderr
