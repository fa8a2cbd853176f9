"""`course lab` as a server (no browser): where its URL lands, what it hides, the settings it
ships, and how its kernels talk. The browser suite (tests/browser) checks the same in Chromium."""
from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from course import procs

from helpers import REPO

COURSE = [sys.executable, "-m", "course"]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """`make lab` ends in `course lab`: a real one, with private JupyterLab settings and workspaces."""
    home = tmp_path_factory.mktemp("lab")
    port = procs.free_port()
    log = home / "lab.log"
    env = {**procs.os.environ, "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces")}
    with open(log, "wb") as out:
        proc = procs.spawn(COURSE + ["lab", "--no-browser", "--port", str(port)], stdout=out,
                           stderr=subprocess.STDOUT, cwd=REPO, env=env)
    try:
        url = None
        deadline = time.monotonic() + 90
        while url is None:
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            found = re.search(r"^\s+(http://127\.0\.0\.1:\d+\S*\?token=\w+)\s*$", log.read_text(), re.MULTILINE)
            url = found and found.group(1)
            time.sleep(0.2)
        token = url.rsplit("token=", 1)[1]
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"token {token}"},
                              timeout=30)
        yield url, client, log
        client.close()
    finally:
        procs.stop(proc, grace=15)


def test_the_printed_url_lands_on_the_index(lab):
    url, client, _ = lab
    assert re.match(r"http://127\.0\.0\.1:\d+/lab/tree/notebooks/index\.ipynb\?token=\w+$", url), url
    r = client.get("/api/contents/notebooks/index.ipynb", params={"content": 0})
    assert r.status_code == 200 and r.json()["type"] == "notebook"
    assert client.get(url.split("?")[0].split(str(client.base_url).rstrip("/"))[-1]).status_code == 200


def test_build_artefacts_are_hidden_from_the_file_browser(lab):
    _, client, _ = lab
    made = REPO / "backend_patterns_lab.egg-info"
    created = not made.exists()
    (REPO / "_build").mkdir(exist_ok=True)
    made.mkdir(exist_ok=True)
    try:
        root = {item["name"] for item in client.get("/api/contents/").json()["content"]}
        node = {item["name"] for item in client.get("/api/contents/course/projects/node").json()["content"]}
    finally:
        if created:
            made.rmdir()
    assert {"notebooks", "exercises", "README.md"} <= root
    assert not {"_build", "backend_patterns_lab.egg-info"} & root, root
    assert "package.json" in node and "node_modules" not in node, node


@pytest.mark.parametrize("plugin, key, value", [
    ("@jupyterlab/apputils-extension:notification", "fetchNews", "false"),  # no "Jupyter news?" popup
    ("@jupyterlab/apputils-extension:notification", "checkForUpdates", False),
    ("@jupyter-widgets/jupyterlab-manager:plugin", "saveState", True),  # check panels survive reopening
    ("@jupyterlab/docmanager-extension:plugin", "autosaveInterval", 5),  # "Check again" sees fresh edits
])
def test_jupyterlab_starts_with_the_course_settings(lab, plugin, key, value):
    _, client, _ = lab
    schema = client.get(f"/lab/api/settings/{plugin}").json()["schema"]
    assert schema["properties"][key]["default"] == value  # overrides replace the defaults


def test_kernels_listen_on_unix_sockets_without_the_tcp_warning(lab):
    _, client, log = lab
    from jupyter_core.paths import jupyter_runtime_dir

    kernel = client.post("/api/kernels", json={"name": "python3"}).json()
    try:
        info = json.loads((Path(jupyter_runtime_dir()) / f"kernel-{kernel['id']}.json").read_text())
        assert info["transport"] == "ipc", info
        bound = Path(f"{info['ip']}-{info['shell_port']}")  # ipykernel warns (or not) before it binds
        deadline = time.monotonic() + 60
        while not bound.exists():
            assert time.monotonic() < deadline, f"the kernel never bound {bound}"
            time.sleep(0.1)
        assert "without encryption" not in log.read_text()
    finally:
        client.delete(f"/api/kernels/{kernel['id']}")


def test_notebook_runs_start_kernels_on_unix_sockets(tmp_path, capfd):
    """nbclient (the tests' and the authoring tools' runner) with the course's kernel manager."""
    from helpers import execute, notebook, text_of

    nb = execute(notebook("import json, ipykernel.connect\n"
                          "print(json.load(open(ipykernel.connect.get_connection_file()))['transport'])"), tmp_path)
    assert text_of(nb.cells[0]).strip() == "ipc"
    assert "without encryption" not in capfd.readouterr().err
    assert not list(tmp_path.glob("kernel-*")), "sockets belong in Jupyter's runtime folder, not the notebook's"


def test_the_lesson_suite_starts_nbval_kernels_on_unix_sockets(tmp_path):
    """notebooks/conftest.py hands nbval the course's kernel manager."""
    import importlib.util

    import nbval.kernel

    from course import kernels

    spec = importlib.util.spec_from_file_location("lesson_conftest", REPO / "notebooks" / "conftest.py")
    conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conftest)
    original = nbval.kernel.KernelManager
    try:
        conftest.pytest_configure(None)
        assert nbval.kernel.KernelManager is kernels.LocalKernelManager
        running = nbval.kernel.RunningKernel("python3", cwd=str(tmp_path))
        try:
            assert running.km.transport == "ipc"
            assert running.km.connection_file.startswith(kernels.connection_file().rsplit("/", 1)[0])
        finally:
            running.stop()
    finally:
        nbval.kernel.KernelManager = original
