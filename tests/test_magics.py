"""The magics through a real kernel, the way learners, nbval and papermill run them."""
from __future__ import annotations

import subprocess
import sys
import time

import nbformat
import pytest

from helpers import MAGIC, PROGRAMS, error_of, execute, needs, notebook, text_of

LANGS = [pytest.param(lang, marks=needs(lang), id=lang) for lang in PROGRAMS]


@pytest.mark.parametrize("lang", LANGS)
def test_cell_magic_runs_and_fails_loudly(tmp_path, lang):
    magic = MAGIC[lang]
    nb = execute(notebook(
        "%load_ext course",
        f"%%{magic}\n{PROGRAMS[lang]['ok']}",
        f"%%{magic}\n{PROGRAMS[lang]['runtime_error']}",
    ), tmp_path)
    ok, failing = nb.cells[1], nb.cells[2]
    assert f"hello from {lang}" in text_of(ok)
    assert error_of(ok) is None
    err = error_of(failing)
    assert err is not None and err["ename"] == "SnippetError"
    assert "kaboom" in err["evalue"] or "nil map" in err["evalue"]


def test_options_servers_logs_stop_and_save(tmp_path):
    nb = execute(notebook(
        "%load_ext course",
        "%%py --serve web --env GREETING=hi\n" + PROGRAMS["python"]["server"].replace(
            "import http.server, os", "import http.server, os\nprint('greeting', os.environ['GREETING'], flush=True)"),
        "import httpx, course\nprint(httpx.get(course.url('web')).text)",
        "%servers",
        "%logs web",
        "%stop web",
        "%servers",
        "%%node --save saved/hello.js\nconsole.log('saved')",
    ), tmp_path)
    texts = [text_of(c) for c in nb.cells]
    assert "server 'web' ready at http://127.0.0.1:" in texts[1]
    assert "hello from python" in texts[2]
    assert "web" in texts[3] and "running" in texts[3]
    assert "greeting hi" in texts[4]
    assert "stopped 'web'" in texts[5]
    assert "no servers running" in texts[6]
    assert (tmp_path / "saved" / "hello.js").read_text().strip() == "console.log('saved')"


def test_bad_options_give_usage_not_a_traceback(tmp_path):
    nb = execute(notebook(
        "%load_ext course",
        "%%node --bogus\nconsole.log(1)",
        "%%node --env NOEQUALS\nconsole.log(1)",
        "%%go --timeout -3\npackage main\nfunc main() {}",
        "%stop",
    ), tmp_path)
    for cell in nb.cells[1:]:
        err = error_of(cell)
        assert err is not None and err["ename"] == "UsageError", cell.source
        assert len(err["traceback"]) == 1, "a usage error should render as one line, not a traceback"
    assert "--serve NAME" in error_of(nb.cells[1])["evalue"]


@needs("typescript")
def test_ts_typecheck_is_opt_in_and_fails_the_cell_on_a_type_error(tmp_path):
    """Transpile-only by default (a type error still runs, as ts-node --transpile-only would);
    --typecheck reports it with the cell's line and column and fails the cell."""
    wrong = "const port: number = process.env.PORT_TEXT ?? 'none';\nconsole.log('ran', port);"
    nb = execute(notebook(
        "%load_ext course",
        f"%%ts\n{wrong}",
        f"%%ts --typecheck\n{wrong}",
        f"%%ts --typecheck\n{PROGRAMS['typescript']['ok']}",
        "%%node --typecheck\nconsole.log(1)",
    ), tmp_path)
    assert "ran none" in text_of(nb.cells[1]) and error_of(nb.cells[1]) is None
    err = error_of(nb.cells[2])
    assert err is not None and err["ename"] == "CompileError"
    assert "cell.ts:1:7 - error TS2322" in err["evalue"] and "ran" not in text_of(nb.cells[2])
    assert "hello from typescript" in text_of(nb.cells[3]) and error_of(nb.cells[3]) is None
    assert error_of(nb.cells[4])["ename"] == "UsageError", "--typecheck belongs to %%ts only"


def test_timeout_option_and_kernel_stays_responsive_after_a_flood(tmp_path):
    nb = execute(notebook(
        "%load_ext course",
        "%%node --timeout 1\nwhile (true) {}",
        "%%node\nconst line = 'y'.repeat(1023) + '\\n';\n"
        "for (let i = 0; i < 50 * 1024; i++) process.stdout.write(line);",
        "import time; t = time.monotonic(); print('alive')",
    ), tmp_path, timeout=90)
    assert error_of(nb.cells[1])["ename"] == "SnippetTimeout"
    flood = text_of(nb.cells[2])
    assert "output truncated" in flood and len(flood) < 400_000
    assert error_of(nb.cells[2]) is None
    assert "alive" in text_of(nb.cells[3])


def test_nbval_fails_a_notebook_whose_snippet_fails(tmp_path):
    """nbval passes cells that only *print* errors: our magics must raise."""
    nb = notebook("%load_ext course", "%%py\nimport sys\nsys.exit(3)")
    path = tmp_path / "failing.ipynb"
    nbformat.write(nb, path)
    good = notebook("%load_ext course", "%%py\nprint('fine')")
    nbformat.write(good, tmp_path / "passing.ipynb")
    start = time.monotonic()
    bad = subprocess.run([sys.executable, "-m", "pytest", "-q", "--nbval-lax", "-p", "no:cacheprovider",
                          str(path)], capture_output=True, text=True, cwd=tmp_path)
    ok = subprocess.run([sys.executable, "-m", "pytest", "-q", "--nbval-lax", "-p", "no:cacheprovider",
                         str(tmp_path / "passing.ipynb")], capture_output=True, text=True, cwd=tmp_path)
    assert bad.returncode == 1, bad.stdout
    assert "exited with status 3" in bad.stdout
    assert ok.returncode == 0, ok.stdout
    assert time.monotonic() - start < 60
