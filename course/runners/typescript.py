"""TypeScript snippets (NestJS): transpiled with the course's ``typescript`` package.

Transpile-only (``ts.transpileModule``) with decorator metadata, the way
``ts-node --transpile-only`` runs NestJS: fast, and syntax errors still fail the
cell. The result is plain CommonJS that ``node`` runs directly, so a server is the
node process itself (signals reach it; no wrapper to orphan).
"""
from __future__ import annotations

from .. import paths
from .base import Program, Runner, write_if_changed
from .node import NodeRunner, link_node_modules

TRANSPILER = paths.NODE_PROJECT / "transpile.cjs"


class TypeScriptRunner(Runner):
    language = "typescript"
    label = "TypeScript"
    missing_module_pattern = NodeRunner.missing_module_pattern

    def build(self, source, *, server=False, timeout=60.0):
        node = self.tools()["node"]
        d = self.workdir(source)
        link_node_modules(d.parent)
        ts = write_if_changed(d / "cell.ts", source)
        js = d / "cell.cjs"
        if not js.exists() or js.stat().st_mtime < ts.stat().st_mtime:
            self.compile([node, str(TRANSPILER), str(ts), str(js)], cwd=d, timeout=timeout,
                         what="TypeScript compilation")
        return Program([node, str(js)], cwd=d, source_path=ts)
