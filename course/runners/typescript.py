"""TypeScript snippets (NestJS): transpiled with the course's ``typescript`` package.

Transpile-only (``ts.transpileModule``) with decorator metadata, the way
``ts-node --transpile-only`` runs NestJS: fast, and syntax errors still fail the
cell. The result is plain CommonJS that ``node`` runs directly, so a server is the
node process itself (signals reach it; no wrapper to orphan).

``%%ts --typecheck`` (a runner made with ``typecheck=True``) also type-checks the cell
against the installed packages' types first, as ``tsc --noEmit`` would: a type error
fails the cell. It costs a few seconds, so it is opt-in; a passing check is remembered
per source, like a build.
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

    def __init__(self, typecheck: bool = False):
        self.typecheck = typecheck

    def build(self, source, *, server=False, timeout=60.0):
        node = self.tools()["node"]
        d = self.workdir(source)
        link_node_modules(d.parent)
        ts = write_if_changed(d / "cell.ts", source)
        js = d / "cell.cjs"
        checked = d / ".typechecked"
        if self.typecheck and not (checked.exists() and checked.stat().st_mtime >= ts.stat().st_mtime):
            self.compile([node, str(TRANSPILER), "--typecheck", str(ts), str(js)], cwd=d,
                         timeout=max(timeout, 120), what="TypeScript type check")
            checked.touch()
        elif not js.exists() or js.stat().st_mtime < ts.stat().st_mtime:
            self.compile([node, str(TRANSPILER), str(ts), str(js)], cwd=d, timeout=timeout,
                         what="TypeScript compilation")
        return Program([node, str(js)], cwd=d, source_path=ts)
