"""Shared bits for the foundation tests: toolchain skips, sample programs, a kernel runner."""
from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from course import toolchains

REPO = Path(__file__).resolve().parent.parent


def needs(language: str):
    """Skip (naming the missing tool and how to install it) unless ``language`` is usable."""
    missing = [toolchains.find(t) for t in toolchains.LANGUAGE_TOOLS[language] if not toolchains.find(t).ok]
    return pytest.mark.skipif(bool(missing), reason="; ".join(m.hint for m in missing))


# One program per language and behaviour. Servers answer "hello from <lang>" on $PORT.
PROGRAMS = {
    "node": {
        "ok": "console.log('hello from node', 6 * 7)",
        "compile_error": "console.log('unclosed'",
        "runtime_error": "console.error('about to fail'); throw new Error('kaboom')",
        "loop": "while (true) {}",
        "server": "require('http').createServer((q, s) => s.end('hello from node'))"
                  ".listen(Number(process.env.PORT), '127.0.0.1')",
    },
    "typescript": {
        "ok": "const answer: number = 6 * 7;\nconsole.log('hello from typescript', answer);",
        "compile_error": "const x: number = ;",
        "runtime_error": "function f(): never { throw new Error('kaboom'); }\nf();",
        "loop": "while (true) {}",
        "server": "import * as http from 'http';\n"
                  "http.createServer((q, s) => s.end('hello from typescript'))"
                  ".listen(Number(process.env.PORT), '127.0.0.1');",
    },
    "go": {
        "ok": 'package main\nimport "fmt"\nfunc main() { fmt.Println("hello from go", 6*7) }',
        "compile_error": 'package main\nfunc main() { undefinedThing() }',
        "runtime_error": 'package main\nfunc main() { var m map[string]int; m["x"] = 1 }',
        "loop": "package main\nfunc main() { for {} }",
        "server": 'package main\nimport ("net/http"; "os")\nfunc main() {\n'
                  '  http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("hello from go")) })\n'
                  '  http.ListenAndServe("127.0.0.1:"+os.Getenv("PORT"), nil)\n}',
    },
    "java": {
        "ok": 'public class Hello { public static void main(String[] a) { System.out.println("hello from java " + 6 * 7); } }',
        "compile_error": 'public class Broken { public static void main(String[] a) { int x = "text"; } }',
        "runtime_error": 'public class Boom { public static void main(String[] a) { throw new IllegalStateException("kaboom"); } }',
        "loop": 'public class Spin { public static void main(String[] a) { while (true) {} } }',
        "server": 'import com.sun.net.httpserver.HttpServer;\nimport java.net.InetSocketAddress;\n'
                  'public class Serve { public static void main(String[] a) throws Exception {\n'
                  '  var s = HttpServer.create(new InetSocketAddress("127.0.0.1", Integer.parseInt(System.getenv("PORT"))), 0);\n'
                  '  s.createContext("/", x -> { byte[] b = "hello from java".getBytes(); x.sendResponseHeaders(200, b.length); x.getResponseBody().write(b); x.close(); });\n'
                  '  s.start(); } }',
    },
    "python": {
        "ok": "print('hello from python', 6 * 7)",
        "compile_error": "def broken(:\n    pass",
        "runtime_error": "raise RuntimeError('kaboom')",
        "loop": "while True:\n    pass",
        "server": "import http.server, os\n"
                  "class H(http.server.BaseHTTPRequestHandler):\n"
                  "    def do_GET(self):\n"
                  "        self.send_response(200); self.end_headers(); self.wfile.write(b'hello from python')\n"
                  "http.server.HTTPServer(('127.0.0.1', int(os.environ['PORT'])), H).serve_forever()",
    },
}
MAGIC = {"node": "node", "typescript": "ts", "go": "go", "java": "java", "python": "py"}


def notebook(*sources: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def execute(nb, cwd: Path, timeout: int = 120, allow_errors: bool = True) -> nbformat.NotebookNode:
    """Run ``nb`` in a real kernel (the way papermill and nbval do) and return it with outputs."""
    from course.kernels import AsyncLocalKernelManager

    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
                            resources={"metadata": {"path": str(cwd)}}, kernel_manager_class=AsyncLocalKernelManager)
    client.execute()
    return nb


def text_of(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if "text" in out:
            parts.append(out["text"])
        elif out.get("output_type") == "error":
            parts.append(f"{out['ename']}: {out['evalue']}")
        elif "data" in out:
            parts.append(out["data"].get("text/plain", ""))
    return "".join(parts)


def error_of(cell):
    errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    return errors[0] if errors else None


def alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("State:"):
                    return "Z" not in line.split()[1]
    except FileNotFoundError:
        return False
    return True


def scrubbed_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COURSE_")}
    env.update(extra)
    return env


CAPSTONE_FRAMEWORKS = ("express", "fastify", "nestjs", "fastapi", "flask", "django", "gin", "spring")


def framework_available(framework: str) -> bool:
    from course import toolchains

    lang = {"express": "node", "fastify": "node", "nestjs": "node", "gin": "go", "spring": "java"}.get(
        framework, "python")
    return toolchains.available(lang) and (lang != "java" or toolchains.find("maven").ok)


def cmdlines() -> dict[int, bytes]:
    """pid → command line of every process readable in /proc (to find what a test left behind)."""
    out = {}
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                out[int(p.name)] = (p / "cmdline").read_bytes()
            except OSError:
                pass
    return out


def counting_listener() -> tuple[socket.socket, list]:
    """A service on this host's 127.0.0.1 that no sandbox may reach: it accepts, counts (one
    entry per connection in the list) and hangs up. Close the socket to stop it."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    seen: list = []

    def accept():
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            seen.append(1)
            conn.close()

    threading.Thread(target=accept, daemon=True).start()
    return srv, seen
