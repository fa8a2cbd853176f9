"""Magic options come from one declaration (IPython's magic_arguments): it parses the line
and writes the help, so ``%%node?`` shows the real usage and a mistake shows it too."""
from __future__ import annotations

import pytest
from IPython.core.interactiveshell import InteractiveShell

from course import magics
from course.errors import UsageError


@pytest.fixture(scope="module")
def shell():
    ip = InteractiveShell.instance()
    ip.extension_manager.load_extension("course")
    yield ip
    ip.extension_manager.unload_extension("course")


@pytest.mark.parametrize("magic", ["node", "ts", "go", "java", "py"])
def test_question_mark_shows_the_declared_options(shell, magic):
    """What `%%node?` pages: IPython's inspector on the registered magic."""
    text = shell.object_inspect_text(f"%%{magic}")
    usage = f"%%{magic} "
    for option in ("--serve NAME", "--save PATH", "--no-run", "--timeout SECONDS", "--port N",
                   "--ready-timeout SECONDS", "(default 60)"):
        assert option in text, (option, text)
    assert usage in text
    assert ("--typecheck" in text) == (magic == "ts"), "--typecheck belongs to %%ts only"
    assert shell.find_cell_magic(magic).__doc__ == getattr(magics.CourseMagics, magic).parser.format_help()


def test_line_magics_have_declared_usage_too(shell):
    assert "%stop [--all] [NAME ...]" in shell.object_inspect_text("%stop")
    assert "%logs [-n LINES] name" in shell.object_inspect_text("%logs")


@pytest.mark.parametrize("line, message", [
    ("--bogus", "unrecognized arguments: --bogus"),
    ("--timeout soon", "argument --timeout: invalid float value: 'soon'"),
    ("--env 'unclosed", "No closing quotation"),
    ("--typecheck", "unrecognized arguments: --typecheck"),
])
def test_mistakes_raise_usage_errors_with_the_usage(line, message):
    with pytest.raises(UsageError) as caught:
        magics.run_cell("node", "node", line, "console.log(1)")
    text = str(caught.value)
    assert message in text and "usage: %%node [--serve NAME]" in text


def test_values_are_shell_words():
    """Quotes group words and are removed, as in a terminal (the Java lessons pass JVM flags so)."""
    opts = magics.parse(magics.CourseMagics.java, '--env "JAVA_TOOL_OPTIONS=-Xshare:auto -XX:+UseSerialGC" '
                                                  "--save 'work/My App.java'")
    assert opts.env == ["JAVA_TOOL_OPTIONS=-Xshare:auto -XX:+UseSerialGC"] and opts.save == "work/My App.java"
    assert magics.parse_env(opts.env) == {"JAVA_TOOL_OPTIONS": "-Xshare:auto -XX:+UseSerialGC"}


def test_options_parse_to_their_types():
    opts = magics.parse(magics.CourseMagics.ts, "--typecheck --serve api --env A=1 --env B=2 --timeout 2.5 --port 8080")
    assert (opts.typecheck, opts.serve, opts.env, opts.timeout, opts.port) == (True, "api", ["A=1", "B=2"], 2.5, 8080)
    defaults = magics.parse(magics.CourseMagics.node, "")
    assert (defaults.timeout, defaults.ready_timeout, defaults.env, defaults.no_run) == (60.0, 30.0, [], False)


def test_stop_needs_names_or_all(shell):
    with pytest.raises(UsageError, match="name the servers to stop, or --all"):
        shell.run_line_magic("stop", "")
    with pytest.raises(UsageError, match="name the servers to stop, or --all"):
        shell.run_line_magic("stop", "--all web")
