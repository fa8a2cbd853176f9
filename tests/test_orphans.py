"""Kill the kernel with SIGKILL (as nbval does on a dead kernel): no server may survive."""
from __future__ import annotations

import os
import signal
import time

import pytest
from jupyter_client.manager import KernelManager

from course import toolchains

from helpers import MAGIC, PROGRAMS, alive

LANGS = [lang for lang in ("node", "go", "java", "python") if toolchains.available(lang)]


def run(client, code: str, timeout: int = 120) -> str:
    out = []
    reply = client.execute_interactive(code, timeout=timeout, output_hook=lambda m: out.append(
        m["content"].get("text", "") if m["msg_type"] == "stream" else
        (m["content"].get("evalue", "") if m["msg_type"] == "error" else "")))
    assert reply["content"]["status"] == "ok", "".join(out)
    return "".join(out)


@pytest.mark.skipif(len(LANGS) < 2, reason="needs at least two toolchains")
def test_sigkilled_kernel_leaves_no_servers(tmp_path):
    km = KernelManager(kernel_name="python3")
    km.start_kernel(cwd=str(tmp_path))
    client = km.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    pids = []
    try:
        run(client, "%load_ext course")
        for lang in LANGS:
            run(client, f"%%{MAGIC[lang]} --serve s-{lang}\n{PROGRAMS[lang]['server']}")
        listing = run(client, "from course import servers\nprint([s.pid for s in servers.all_servers()])")
        pids = eval(listing.strip().splitlines()[-1])
        assert len(pids) == len(LANGS) and all(alive(p) for p in pids)
        os.kill(km.provisioner.process.pid, signal.SIGKILL)
    finally:
        client.stop_channels()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.1)
    survivors = [p for p in pids if alive(p)]
    km.cleanup_resources()
    assert survivors == [], f"servers outlived the kernel: {survivors}"
