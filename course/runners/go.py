"""Go snippets: built with ``go build`` against the course Go module, then exec'd.

Each cell is a ``package main`` in its own folder with a copy of the course's
``go.mod``/``go.sum``, so ``import "github.com/gorilla/mux"`` resolves from the module
cache that ``make setup`` filled, and the build cache it warmed makes linking fast.
The binary is exec'd directly — never ``go run``, whose child would survive a kill
of the ``go`` process.
"""
from __future__ import annotations

import os
import shutil

from .. import paths
from .base import Program, Runner, write_if_changed

GO_ENV = {"GOTOOLCHAIN": "local", "GOFLAGS": "-mod=readonly"}


class GoRunner(Runner):
    language = "go"
    label = "Go"
    missing_module_pattern = r"no required module provides package|cannot find module"

    def build(self, source, *, server=False, timeout=60.0):
        go = self.tools()["go"]
        d = self.workdir(source)
        write_if_changed(d / "main.go", source)
        for name in ("go.mod", "go.sum"):
            write_if_changed(d / name, (paths.GO_PROJECT / name).read_text())
        binary = d / "cell"
        if not binary.exists() or binary.stat().st_mtime < (d / "main.go").stat().st_mtime:
            tmp = d / f".cell.{os.getpid()}"
            # no symbol table / DWARF: links ~40 % faster; panics still print file:line (pclntab)
            self.compile([go, "build", "-ldflags=-s -w", "-o", str(tmp), "."], cwd=d, env=GO_ENV,
                         timeout=max(timeout, 120), what="go build")
            os.replace(tmp, binary)
        return Program([str(binary)], cwd=d, source_path=d / "main.go")


def go_env() -> dict[str, str]:
    """The environment every Go build of the course uses (also at set-up, to warm the cache)."""
    env = dict(GO_ENV)
    if shutil.which("go") is None:
        env.pop("GOFLAGS")
    return env
