"""Driving a real ``course lab`` from Playwright: the server, the browser, and what a learner does.

Selectors are JupyterLab 4's own classes and ARIA names (``.jp-NotebookPanel``,
``jp-mod-dirty``, the Run menu); the check panel is found by its ``course-check`` classes.

Run as a script, it says which Chromium the suite would use (``make test`` prints it first).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]

# As root Chromium needs --no-sandbox. This machine's network is closed: without the
# background-networking flags Chromium keeps trying to reach Google's services at start.
CHROMIUM_FLAGS = [
    *(["--no-sandbox"] if os.geteuid() == 0 else []),
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-gpu",
    "--disable-dev-shm-usage",
]
SYSTEM_CHROMIUMS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = "install one: `apt-get install chromium` (Debian/Ubuntu) or `.venv/bin/playwright install chromium`"


def find_chromium() -> tuple[str | None, str]:
    """(path, description) of the Chromium to drive: ``COURSE_CHROMIUM``, the system's, or
    Playwright's own download; (None, why not) when there is none, or no Playwright."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None, "Playwright for Python is not installed (`make setup` installs it, with the dev extra)"
    chosen = os.environ.get("COURSE_CHROMIUM")
    if chosen:
        if shutil.which(chosen):
            return shutil.which(chosen), f"COURSE_CHROMIUM={chosen}"
        return None, f"COURSE_CHROMIUM={chosen} is not an executable"
    for name in SYSTEM_CHROMIUMS:
        path = shutil.which(name)
        if path:
            return path, f"system {name}"
    with sync_playwright() as p:
        own = p.chromium.executable_path
    if own and Path(own).exists():
        return own, "Playwright's own Chromium"
    return None, (f"no Chromium found (system: {', '.join(SYSTEM_CHROMIUMS)}; Playwright's: not downloaded); "
                  f"{INSTALL_HINT}")


class ConsoleErrors:
    """Every JavaScript error a page logs or throws, from the moment it is attached."""

    def __init__(self, page):
        self.errors: list[str] = []
        where = lambda: page.url.split("?")[0].split("/tree/")[-1]  # noqa: E731 - the tab, when it logged
        page.on("console", lambda m: m.type == "error" and self.errors.append(f"[{where()}] console.error: {m.text}"))
        page.on("pageerror", lambda e: self.errors.append(f"[{where()}] uncaught: {e}"))

    def take(self) -> list[str]:
        """The errors logged since the last call."""
        found, self.errors = self.errors, []
        return found


class KernelTraffic:
    """The requests a page sent to its kernels and that are not answered yet, read off the
    kernel websockets (Jupyter's v1 binary protocol, or JSON). JupyterLab's own status shows
    "idle" before a new kernel has even been asked for its info, and closing or reloading a
    notebook while its debugger still waits for an answer makes JupyterLab log an error: the
    tests wait for the traffic to settle instead of sleeping."""

    def __init__(self, page):
        self.page = page
        self.pending: dict[tuple[int, str], str] = {}  # (websocket, msg_id) -> msg_type
        self.sent: dict[str, int] = {}  # request msg_type -> how many were sent
        self.replies: dict[str, int] = {}  # msg_type -> how many arrived
        self.last = time.monotonic()
        page.on("websocket", self._watch)

    def _watch(self, ws) -> None:
        if "/api/kernels/" not in ws.url:
            return
        key = id(ws)
        ws.on("framesent", lambda payload: self._sent(key, payload))
        ws.on("framereceived", lambda payload: self._received(key, payload))
        ws.on("close", lambda _ws: self._closed(key))

    @staticmethod
    def _parse(payload) -> dict:
        if isinstance(payload, str):
            return json.loads(payload)
        count = struct.unpack_from("<Q", payload, 0)[0]
        offsets = [struct.unpack_from("<Q", payload, 8 * (i + 1))[0] for i in range(count)]
        parts = [payload[offsets[i]:offsets[i + 1]] for i in range(count - 1)]
        return {"header": json.loads(parts[1]), "parent_header": json.loads(parts[2])}

    def _sent(self, ws: int, payload) -> None:
        self.last = time.monotonic()
        header = self._parse(payload).get("header") or {}
        if header.get("msg_type", "").endswith("_request"):
            self.pending[(ws, header["msg_id"])] = header["msg_type"]
            self.sent[header["msg_type"]] = self.sent.get(header["msg_type"], 0) + 1

    def _received(self, ws: int, payload) -> None:
        self.last = time.monotonic()
        msg = self._parse(payload)
        kind = (msg.get("header") or {}).get("msg_type", "")
        if kind.endswith("_reply"):
            self.pending.pop((ws, (msg.get("parent_header") or {}).get("msg_id")), None)
            self.replies[kind] = self.replies.get(kind, 0) + 1

    def _closed(self, ws: int) -> None:
        self.pending = {k: v for k, v in self.pending.items() if k[0] != ws}

    def settle(self, *, after_kernel_infos: int = 0, after_executes: int = 0, quiet: float = 0.4,
               timeout: float = 60) -> None:
        """Wait until ``after_kernel_infos`` kernel_info replies have arrived in all (and
        ``after_executes`` execute requests have been sent), every request is answered, and
        the kernels have been silent for ``quiet`` seconds."""
        deadline = time.monotonic() + timeout
        while (self.replies.get("kernel_info_reply", 0) < after_kernel_infos
               or self.sent.get("execute_request", 0) < after_executes or self.pending
               or time.monotonic() - self.last < quiet):
            if time.monotonic() > deadline:
                raise AssertionError(f"kernel traffic did not settle in {timeout:g} s: waiting for "
                                     f"{sorted(set(self.pending.values())) or 'a kernel_info_reply'}")
            self.page.wait_for_timeout(50)  # lets Playwright deliver the websocket events


_TRAFFIC: dict[int, KernelTraffic] = {}


def traffic(page) -> KernelTraffic:
    """The :class:`KernelTraffic` of ``page`` (watched from its first use: call it before navigating)."""
    if id(page) not in _TRAFFIC:
        _TRAFFIC[id(page)] = KernelTraffic(page)
    return _TRAFFIC[id(page)]


class Lab:
    """A ``course lab`` started exactly as ``make lab`` does, plus a scratch folder under the
    repository's ``_build/`` (hidden from the file browser, ignored by git) for copies of the
    notebooks a test runs or edits: JupyterLab autosaves, and the originals must not change."""

    def __init__(self, proc: subprocess.Popen, url: str, log: Path, scratch: Path):
        self.proc, self.url, self.log, self.scratch = proc, url, log, scratch
        found = re.match(r"(http://[^/]+)/[^?]*\?token=(\w+)", url)
        assert found, f"unexpected URL {url}"
        self.origin, self.token = found.groups()
        self.failed_tests: list[str] = []

    @classmethod
    def start(cls, home: Path, timeout: float = 90) -> "Lab":
        from course import procs

        log = home / "course-lab.log"
        env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
                   JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"), COURSE_PROGRESS=str(home / "progress.json"))
        port = procs.free_port()
        with open(log, "wb") as out:
            proc = procs.spawn([sys.executable, "-m", "course", "lab", "--no-browser", "--port", str(port)],
                               stdout=out, stderr=subprocess.STDOUT, cwd=REPO, env=env)
        deadline = time.monotonic() + timeout
        url = None
        while url is None:
            if proc.poll() is not None or time.monotonic() > deadline:
                procs.stop(proc, grace=5)
                raise AssertionError("course lab printed no URL:\n" + log.read_text()[-3000:])
            found = re.search(r"^\s+(http://127\.0\.0\.1:\d+/\S*token=\w+)\s*$", log.read_text(), re.MULTILINE)
            url = found and found.group(1)
            time.sleep(0.2)
        scratch = REPO / "_build" / "browser" / uuid.uuid4().hex[:8]
        scratch.mkdir(parents=True)
        return cls(proc, url, log, scratch)

    def stop(self) -> None:
        from course import procs

        procs.stop(self.proc, grace=15, sig=signal.SIGTERM)  # Jupyter shuts its kernels down on SIGTERM
        shutil.rmtree(self.scratch, ignore_errors=True)

    # -- the REST API (what the tests check behind the page's back) --------------------------
    def api(self, method: str, path: str, **kw) -> httpx.Response:
        r = httpx.request(method, f"{self.origin}/api/{path}", headers={"Authorization": f"token {self.token}"},
                          timeout=30, **kw)
        r.raise_for_status()
        return r

    def kernels(self) -> list[dict]:
        return self.api("GET", "kernels").json()

    def shutdown_kernels(self) -> None:
        for k in self.kernels():
            self.api("DELETE", f"kernels/{k['id']}")

    def end_sessions(self, *, keep: tuple[str, ...] = ()) -> None:
        """Shut down the kernels of notebooks (closed tabs, say), except those at ``keep``."""
        for s in self.api("GET", "sessions").json():
            if s["path"] not in keep:
                self.api("DELETE", f"sessions/{s['id']}")

    # -- files ---------------------------------------------------------------------------------
    def copy(self, rel: str, to: str) -> str:
        """Copy the repository's ``rel`` into the scratch folder as ``to``; returns its path
        relative to the repository (the lab's root)."""
        target = self.scratch / to
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / rel, target)
        return str(target.relative_to(REPO))

    def tree_url(self, rel: str, workspace: str | None = None) -> str:
        """The URL that opens ``rel``; in a workspace of its own when named (JupyterLab keeps
        each workspace's open tabs on the server: a new page in the default one would reopen,
        and reconnect to, the notebooks another page has open)."""
        where = f"/lab/workspaces/{workspace}" if workspace else "/lab"
        return f"{self.origin}{where}/tree/{rel}?token={self.token}"


# -- what a learner does in JupyterLab ------------------------------------------------------------

def notebook(page, name: str):
    """The notebook panel whose tab is ``name`` (the current one)."""
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)").filter(
        has=page.locator(".jp-Notebook")).last


def kernel_infos(page) -> int:
    """How many kernel_info replies ``page`` has received: note it before opening a notebook,
    then :func:`wait_open` waits for its kernel's."""
    return traffic(page).replies.get("kernel_info_reply", 0)


def open_notebook(page, lab: Lab, rel: str):
    """Open ``rel`` by its URL; wait until its cells show and its new kernel has answered."""
    before = kernel_infos(page)
    page.goto(lab.tree_url(rel, workspace=f"tab{id(page):x}"))
    return wait_open(page, Path(rel).name, before)


def wait_open(page, name: str, infos_before: int = 0):
    """Wait until ``name`` is the current tab, its cells show, a kernel_info reply beyond
    ``infos_before`` has arrived (its kernel's), and every request to a kernel is answered."""
    tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current", has_text=name)
    tab.wait_for(timeout=60_000)
    panel = notebook(page, name)
    panel.locator(".jp-Cell").first.wait_for(timeout=60_000)
    traffic(page).settle(after_kernel_infos=infos_before + 1)
    wait_idle(page)
    return panel


def wait_idle(page, timeout: float = 60) -> None:
    """Until the current notebook's kernel shows as idle."""
    page.wait_for_function(
        """() => { const s = document.querySelector(
                       '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator');
                   return s && s.getAttribute('data-status') === 'idle'; }""", timeout=timeout * 1000)


def menu(page, *path: str) -> None:
    """Click through the menu bar: ``menu(page, "Run", "Run All Cells")``."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(path[0])}$")).click()
    for label in path[1:]:
        page.locator(".lm-Menu:visible .lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(label)}$")).click()


def close_tab(page) -> None:
    page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabCloseIcon").click()


def run_all(page, timeout: float = 240) -> None:
    """Run ▸ Run All Cells, then wait until the kernel has answered every cell (JupyterLab
    sends them all at once; after an error the kernel aborts the rest, which answers them too)."""
    watched = traffic(page)
    before = watched.sent.get("execute_request", 0)
    menu(page, "Run", "Run All Cells")
    watched.settle(after_executes=before + 1, timeout=timeout)
    wait_idle(page, timeout)


def save(page) -> None:
    page.keyboard.press("Control+s")
    page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current.jp-mod-dirty").wait_for(state="detached")


def is_dirty(page) -> bool:
    return page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current.jp-mod-dirty").count() > 0


def check_panel(page):
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .course-check").last


if __name__ == "__main__":
    path, why = find_chromium()
    if path:
        print(f"browser suite: Chromium at {path} ({why})")
    else:
        bar = "!" * 100
        print(f"{bar}\n!! THE BROWSER SUITE WILL BE SKIPPED: {why}\n{bar}", file=sys.stderr)
