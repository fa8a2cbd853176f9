"""Java snippets: compiled with ``javac`` (against Spring Boot's classpath when the cell
imports beyond the JDK), then run with ``java``.

Compiling to class files rather than the single-file launcher matters for Spring:
component scanning finds classes on disk, not in the launcher's in-memory loader.
"""
from __future__ import annotations

import re

from .. import paths
from ..errors import CompileError
from .base import Program, Runner, write_if_changed

PUBLIC_CLASS = re.compile(r"^\s*public\s+(?:final\s+|abstract\s+)*(?:class|record|interface|enum)\s+(\w+)",
                          re.MULTILINE)
ANY_CLASS = re.compile(r"\b(?:class|record|enum)\s+(\w+)")
PACKAGE = re.compile(r"^\s*package\s+([\w.]+)\s*;", re.MULTILINE)
NON_JDK_IMPORT = re.compile(r"^\s*import\s+(?!java\.|javax\.)[\w.]+", re.MULTILINE)
MAIN = re.compile(r"static\s+void\s+main\s*\(")
FAST_START = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto"]


def main_class(source: str) -> str:
    """The class declaring ``main`` (the nearest class declared before it), package-qualified."""
    m = MAIN.search(source)
    if not m:
        raise CompileError("Java snippet has no `public static void main(String[] args)` method to run.")
    names = [c.group(1) for c in ANY_CLASS.finditer(source, 0, m.start())]
    if not names:
        raise CompileError("Java snippet: could not find the class that declares main().")
    pkg = PACKAGE.search(source)
    return f"{pkg.group(1)}.{names[-1]}" if pkg else names[-1]


def course_classpath() -> str | None:
    cp = paths.JAVA_PROJECT / "classpath.txt"
    return cp.read_text().strip() if cp.exists() else None


class JavaRunner(Runner):
    language = "java"
    label = "Java"
    missing_module_pattern = r"package [\w.]+ does not exist"

    def build(self, source, *, server=False, timeout=60.0):
        tools = self.tools()
        d = self.workdir(source)
        public = PUBLIC_CLASS.search(source)
        src = write_if_changed(d / f"{public.group(1) if public else 'Cell'}.java", source)
        classes = d / "classes"
        cp = course_classpath() if NON_JDK_IMPORT.search(source) else None
        if NON_JDK_IMPORT.search(source) and cp is None:
            raise CompileError("This Java snippet imports libraries (Spring, …) but the course's Maven "
                               "classpath is not resolved yet: run `make setup` (or `course setup`).")
        stamp = classes / ".built"
        if not stamp.exists() or stamp.stat().st_mtime < src.stat().st_mtime:
            argv = [tools["javac"], "-d", str(classes), "-parameters", "-encoding", "UTF-8"]
            if cp:
                argv += ["-cp", cp]
            self.compile(argv + [str(src)], cwd=d, timeout=max(timeout, 120), what="javac")
            stamp.touch()
        classpath = str(classes) + (":" + cp if cp else "")
        flags = [] if server else FAST_START
        return Program([tools["java"], *flags, "-cp", classpath, main_class(source)], cwd=d, source_path=src)
