"""The browser suite: a learner's day in JupyterLab, driven by Playwright in Chromium.

One real ``course lab`` serves the whole session, one Chromium each test module (starting
either costs seconds). Each test gets a fresh browser context (its own tab, no shared page
state) and fails if the page logged a JavaScript error. A failing test leaves a screenshot
and the lab's log in ``_build/browser-artifacts/`` (``COURSE_BROWSER_ARTIFACTS`` to change it).

The browser is the system Chromium when there is one (``COURSE_CHROMIUM`` to choose),
else Playwright's own, if ``playwright install chromium`` fetched it. Without either the
suite is skipped — loudly: ``make test`` says which browser it found before pytest starts,
and the report ends with a "BROWSER SUITE SKIPPED" banner — unless
``COURSE_REQUIRE_BROWSER=1`` (set by ``.ci/run``), which makes a missing browser an error.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import browser_lab

ARTIFACTS = Path(os.environ.get("COURSE_BROWSER_ARTIFACTS") or browser_lab.REPO / "_build" / "browser-artifacts")
REQUIRED = os.environ.get("COURSE_REQUIRE_BROWSER") == "1"

try:
    from playwright.sync_api import expect
except ImportError:  # without Playwright the suite is skipped (browser_lab.find_chromium says why)
    pass
else:
    expect.set_options(timeout=15_000)  # Playwright's 5 s is short on two busy cores
HERE = Path(__file__).resolve().parent
_FOUND: dict[str, str | None] = {}


def chromium() -> str | None:
    """The Chromium to drive, found once per session."""
    if "path" not in _FOUND:
        _FOUND["path"], _FOUND["why"] = browser_lab.find_chromium()
    return _FOUND["path"]


def _ours(item) -> bool:
    return HERE in Path(str(item.fspath)).resolve().parents


def pytest_collection_modifyitems(config, items):
    ours = [item for item in items if _ours(item)]
    if not ours or chromium():
        return
    if REQUIRED:
        raise pytest.UsageError(f"COURSE_REQUIRE_BROWSER=1 but {_FOUND['why']}")
    skip = pytest.mark.skip(reason=f"no browser: {_FOUND['why']}")
    for item in ours:
        item.add_marker(skip)


def pytest_terminal_summary(terminalreporter):
    if "path" in _FOUND and not _FOUND["path"]:
        tr = terminalreporter
        tr.section("BROWSER SUITE SKIPPED", sep="!", red=True, bold=True)
        tr.write_line(f"The JupyterLab browser tests (tests/browser) did not run: {_FOUND['why']}", red=True, bold=True)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)  # the page fixture reads it to keep a screenshot
    return report


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    """A real ``course lab`` (as ``make lab`` starts it), with a private JupyterLab settings
    and workspace folder and a private progress file, so the machine's own don't leak in."""
    home = tmp_path_factory.mktemp("lab")
    server = browser_lab.Lab.start(home)
    try:
        yield server
    finally:
        server.stop()
        if server.failed_tests:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shutil.copy(server.log, ARTIFACTS / "course-lab.log")
            print(f"course lab's log: {ARTIFACTS / 'course-lab.log'}")


@pytest.fixture(scope="module")
def browser():
    """Chromium, for one test module. Not for the session: Playwright's sync API runs an
    asyncio loop in the main thread while it is started, and every later test that calls
    ``asyncio.run`` (the rest of ``make test``) would fail with "cannot be called from a
    running event loop"."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium(), args=browser_lab.CHROMIUM_FLAGS)
        try:
            yield b
        finally:
            b.close()


class Tabs:
    """The browser tabs tests use. After every test: a screenshot of each if the test
    failed, and the test fails if any logged a JavaScript error while it ran."""

    def __init__(self, browser):
        self.browser = browser
        self.open: list[tuple[object, browser_lab.ConsoleErrors]] = []
        self.retired: list[object] = []  # closed after the test's screenshots are taken

    def new(self):
        context = self.browser.new_context(viewport={"width": 1400, "height": 900})
        context.set_default_timeout(30_000)
        tab = context.new_page()
        browser_lab.traffic(tab)  # watch its kernel websockets from the start
        self.open.append((tab, browser_lab.ConsoleErrors(tab)))
        return tab

    def retire(self, tab) -> None:
        self.retired.append(tab)

    def after(self, name: str, failed: bool) -> list[str]:
        errors = []
        for n, (tab, console) in enumerate(self.open):
            if failed:
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                shot = ARTIFACTS / f"{name}{'-' + str(n) if n else ''}.png"
                try:
                    tab.screenshot(path=str(shot), full_page=True)
                    print(f"screenshot: {shot}")
                except Exception as exc:  # noqa: BLE001 - a dead page must not hide the test's own failure
                    print(f"no screenshot ({exc})")
            errors += console.take()
        for tab in self.retired:
            tab.context.close()
        self.open = [(t, e) for t, e in self.open if t not in self.retired]
        self.retired = []
        return errors


@pytest.fixture(scope="module")
def tabs(browser):
    return Tabs(browser)


@pytest.fixture(autouse=True)
def _browser_aftercare(request, tabs, lab):
    """Screenshots when a test failed; no JavaScript error allowed while it ran."""
    yield
    failed = any(getattr(getattr(request.node, f"report_{when}", None), "failed", False) for when in ("setup", "call"))
    errors = tabs.after(request.node.name, failed)
    if failed:
        lab.failed_tests.append(request.node.name)
    elif errors:
        pytest.fail("JavaScript errors in the page:\n" + "\n".join(errors), pytrace=False)


@pytest.fixture
def page(tabs):
    """A fresh tab of its own (a new browser context: no cookies, no storage)."""
    tab = tabs.new()
    yield tab
    tabs.retire(tab)


@pytest.fixture(scope="module", autouse=True)
def _no_kernels_left(lab):
    """Each module's kernels (and the servers their cells started) end with it."""
    yield
    lab.shutdown_kernels()
