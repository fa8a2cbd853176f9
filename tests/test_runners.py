"""Each language: success, compile error, runtime error, timeout — through the real toolchains."""
from __future__ import annotations

import time

import pytest

from course import procs, runners
from course.errors import CompileError, SnippetError, SnippetTimeout

from helpers import PROGRAMS, alive, needs

LANGS = [pytest.param(lang, marks=needs(lang), id=lang) for lang in PROGRAMS]


def capture():
    seen = []
    return seen, lambda stream, text: seen.append((stream, text))


@pytest.mark.parametrize("lang", LANGS)
def test_success_streams_output(lang):
    seen, echo = capture()
    result = runners.run_snippet(runners.get(lang), PROGRAMS[lang]["ok"], echo=echo)
    assert result.returncode == 0
    assert f"hello from {lang}" in "".join(t for s, t in seen if s == "stdout")
    assert "42" in result.stdout


@pytest.mark.parametrize("lang", LANGS)
def test_compile_error_raises_with_compiler_message(lang):
    with pytest.raises(SnippetError) as info:  # CompileError for compiled languages
        runners.run_snippet(runners.get(lang), PROGRAMS[lang]["compile_error"], echo=None)
    message = str(info.value)
    if lang in ("go", "java", "typescript"):
        assert isinstance(info.value, CompileError)
        assert {"go": "undefined", "java": "incompatible types", "typescript": "error TS"}[lang] in message
    else:
        assert "SyntaxError" in message


@pytest.mark.parametrize("lang", LANGS)
def test_runtime_error_raises_with_stderr(lang):
    with pytest.raises(SnippetError) as info:
        runners.run_snippet(runners.get(lang), PROGRAMS[lang]["runtime_error"], echo=None)
    assert not isinstance(info.value, (CompileError, SnippetTimeout))
    assert info.value.returncode not in (0, None)
    expected = {"go": "assignment to entry in nil map", "java": "kaboom"}.get(lang, "kaboom")
    assert expected in str(info.value)
    assert expected in info.value.stderr


@pytest.mark.parametrize("lang", LANGS)
def test_infinite_loop_is_killed_at_timeout(lang):
    runner = runners.get(lang)
    runner.build(PROGRAMS[lang]["loop"])  # compile outside the timed part
    live_before = set(procs._LIVE)
    start = time.monotonic()
    with pytest.raises(SnippetTimeout) as info:
        runners.run_snippet(runner, PROGRAMS[lang]["loop"], timeout=1.5, echo=None)
    assert time.monotonic() - start < 6
    assert "timed out after 1.5 s" in str(info.value)
    assert set(procs._LIVE) == live_before, "a timed-out snippet's process was left registered"


def test_flood_of_output_is_truncated_and_bounded():
    seen, echo = capture()
    source = "import sys\nchunk = 'x' * 1023 + '\\n'\nfor _ in range(50 * 1024): sys.stdout.write(chunk)"
    start = time.monotonic()
    result = runners.run_snippet(runners.get("python"), source, echo=echo)
    assert result.truncated
    shown = sum(len(t) for s, t in seen if s == "stdout")
    assert shown <= procs.DEFAULT_OUTPUT_LIMIT
    assert any("output truncated" in t for s, t in seen if s == "stderr")
    assert time.monotonic() - start < 20


def test_grandchildren_die_with_the_snippet():
    source = ("import subprocess, time\np = subprocess.Popen(['sleep', '300'])\n"
              "print(p.pid, flush=True)\ntime.sleep(300)")
    with pytest.raises(SnippetTimeout):
        runners.run_snippet(runners.get("python"), source, timeout=1.5, echo=None)
    # the sleep was in the snippet's process group: it must be gone
    time.sleep(0.2)
    out = procs.run(["pgrep", "-f", "sleep 300"], echo=None)
    for pid in out.stdout.split():
        assert not alive(int(pid))


def test_unknown_language_is_a_usage_error():
    from course.errors import UsageError

    with pytest.raises(UsageError, match="unknown language 'cobol'"):
        runners.get("cobol")


@needs("node")
def test_node_esm_imports_course_packages():
    seen, echo = capture()
    runners.run_snippet(runners.get("node"), 'import express from "express";\nconsole.log(typeof express);',
                        echo=echo)
    assert "function" in "".join(t for _, t in seen)


@needs("go")
def test_go_imports_course_modules():
    source = ('package main\nimport ("fmt"; "github.com/gorilla/mux")\n'
              'func main() { fmt.Println(mux.NewRouter() != nil) }')
    seen, echo = capture()
    runners.run_snippet(runners.get("go"), source, echo=echo)
    assert "true" in "".join(t for _, t in seen)
