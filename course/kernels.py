"""Kernels the course starts talk to their client over Unix sockets, not TCP.

jupyter_client's default transport is TCP: five ports on 127.0.0.1 that any local user or
process can connect to, in plain text (only the messages are signed). ipykernel says so at
every start — "Kernel is running over TCP without encryption" — in JupyterLab's log, in
papermill's and in test output. The course's kernels never leave the machine, so ZeroMQ's
``ipc`` transport fixes the cause rather than the message: the sockets are files in
Jupyter's runtime folder (mode 0700, like the connection file and its key), no port is
opened, and no port can be taken between choosing it and binding it. The grading sandbox
does the same (:mod:`course.sandbox.jail`).

* ``course lab`` sets ``KernelManager.transport = "ipc"`` in its server config
  (``course/lab/config/jupyter_server_config.json``).
* nbclient-based runs pass :class:`AsyncLocalKernelManager` as ``kernel_manager_class``.
* nbval builds its own ``KernelManager``; :func:`use_for_nbval` (called from the lesson
  suite's ``conftest.py``) makes it this one.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager, KernelManager
from jupyter_core.paths import jupyter_runtime_dir


def connection_file() -> str:
    """A fresh connection file path in Jupyter's runtime folder (made private if new)."""
    runtime = Path(jupyter_runtime_dir())
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
    return str(runtime / f"kernel-{uuid.uuid4()}.json")


class _UnixSockets:
    """Mixin for a jupyter_client kernel manager: ipc transport, sockets beside the
    connection file. Without a connection file, jupyter_client would name the sockets
    ``kernel-ipc-N`` in the current folder — a notebook's folder."""

    def __init__(self, **kw):
        super().__init__(**kw)
        if not self.connection_file:
            self.connection_file = connection_file()
        self.transport = "ipc"
        self.ip = os.path.splitext(self.connection_file)[0] + "-ipc"


class LocalKernelManager(_UnixSockets, KernelManager):
    """A blocking kernel manager whose kernel listens on Unix sockets only."""


class AsyncLocalKernelManager(_UnixSockets, AsyncKernelManager):
    """The asyncio kernel manager (nbclient's default class) on Unix sockets."""


def use_for_nbval() -> None:
    """Make nbval start its kernels with :class:`LocalKernelManager`. nbval creates a
    ``KernelManager`` itself and has no option for its class or config."""
    import nbval.kernel

    nbval.kernel.KernelManager = LocalKernelManager
