"""Node.js snippets: CommonJS or ES modules, resolving the course's npm packages.

ES-module ``import`` ignores ``NODE_PATH``, so instead each cell file lives under a
folder whose ``node_modules`` is a link to the course npm project's: ordinary
``import express from "express"`` and ``require('express')`` both resolve.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from .. import paths
from .base import Program, Runner, write_if_changed

ESM_STATEMENT = re.compile(r"^(import\s+[\w*{]|import\s*['\"]|export\s+)", re.MULTILINE)
TOP_LEVEL_AWAIT = re.compile(r"^(await\s|(const|let|var)\s+[\w{}\[\],\s]+=\s*await\s)", re.MULTILINE)


def is_esm(source: str) -> bool:
    """ESM if the cell has import/export statements, or top-level ``await`` (at column 0)
    and no ``require(``; CommonJS otherwise. Awaits inside functions are indented and
    don't count."""
    if ESM_STATEMENT.search(source):
        return True
    return bool(TOP_LEVEL_AWAIT.search(source)) and "require(" not in source


def link_node_modules(folder: Path) -> None:
    """Make ``folder/node_modules`` point at the course npm project's packages."""
    link = folder / "node_modules"
    target = paths.NODE_PROJECT / "node_modules"
    if link.is_symlink() and os.readlink(link) == str(target):
        return
    if link.is_symlink() or link.exists():
        link.unlink()
    try:
        link.symlink_to(target, target_is_directory=True)
    except FileExistsError:  # another kernel made it first
        pass


class NodeRunner(Runner):
    language = "node"
    label = "Node.js"
    missing_module_pattern = r"Cannot find (package|module) '[^./]"

    def build(self, source, *, server=False, timeout=60.0):
        node = self.tools()["node"]
        d = self.workdir(source)
        link_node_modules(d.parent)
        path = write_if_changed(d / ("cell.mjs" if is_esm(source) else "cell.cjs"), source)
        return Program([node, str(path)], cwd=d, source_path=path)
