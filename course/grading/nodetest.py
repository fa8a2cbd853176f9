"""Run ``node --test`` and read its verdicts from the JUnit reporter, not from the console.

Node's console reporter changed under us: since Node 23 the default is ``spec`` even
when stdout is not a terminal, so the TAP summary (``# pass 3``) that graders used to
scrape is gone, and correct solutions counted 0 passes. Naming the reporters
explicitly pins the format on every Node from 20 on: ``spec`` to stdout for the
learner to read, ``junit`` to a file for us.

Node's JUnit reporter escapes only ``&``, ``<`` and ``"``: a test name or an error
message with a control character (a colour escape, NUL) or ``]]>`` makes the file
ill-formed XML. :func:`parse_junit` repairs exactly that before parsing.

No ``--test-force-exit``: on Node 20 it exits before the JUnit reporter writes anything
but the XML declaration. A test file that may leave handles open (workers, timers)
ends itself instead, from a top-level hook that only fires if something is left::

    after(() => { setTimeout(() => process.exit(), 1000).unref(); });
"""
from __future__ import annotations

import contextlib
import dataclasses
import enum
import re
import tempfile
from pathlib import Path
from typing import Callable, Sequence
from xml.etree import ElementTree as ET

from .. import procs, toolchains

# XML 1.0 §2.2: the characters a document may hold; Node writes others unescaped.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ERROR_LINE = re.compile(r"^\s*(?:\w+\s)?\w*Error\b.*$", re.MULTILINE)
FILE_LEVEL_MESSAGE = "test failed"  # what Node says when a test file itself could not run


class Outcome(enum.Enum):
    PASSED = "passed"
    FAILED = "failed"  # an assertion, an exception, a timeout or a cancelled test
    SKIPPED = "skipped"
    TODO = "todo"  # a todo test's failure doesn't count (Node's own rule)


@dataclasses.dataclass(frozen=True)
class NodeTestCase:
    """One test as the JUnit report gives it."""

    name: str
    suites: tuple[str, ...]  # enclosing describe() blocks, outermost first
    outcome: Outcome
    message: str = ""  # the failure's message, one line per line of the original
    duration_s: float = 0.0

    @property
    def title(self) -> str:
        return " › ".join((*self.suites, self.name))


@dataclasses.dataclass(frozen=True)
class NodeTestRun:
    """What one ``node --test`` run did: every case, and how the process ended."""

    cases: tuple[NodeTestCase, ...]
    returncode: int | None
    timed_out: bool
    output: str  # the spec reporter's text and the process's stderr, for people
    report_error: str | None = None  # why there is no usable JUnit report (None: there is)

    def count(self, outcome: Outcome) -> int:
        return sum(case.outcome is outcome for case in self.cases)

    @property
    def passed(self) -> int:
        return self.count(Outcome.PASSED)

    @property
    def failed(self) -> int:
        return self.count(Outcome.FAILED)

    @property
    def failures(self) -> list[NodeTestCase]:
        return [case for case in self.cases if case.outcome is Outcome.FAILED]

    @property
    def all_passed(self) -> bool:
        """At least one test ran, none failed, and node exited 0 on its own."""
        return (self.report_error is None and not self.timed_out and self.returncode == 0
                and self.passed > 0 and self.failed == 0)

    def explain(self, limit: int = 2) -> str:
        """Why the run did not pass, in a sentence or two a learner can act on ("" if it did)."""
        if self.all_passed:
            return ""
        if self.timed_out:
            return "node --test did not finish in time (a worker or a timer keeps the process alive?)"
        if self.report_error is not None:
            return f"node --test gave no report ({self.report_error}): {_first_error(self.output)}".rstrip(": ")
        reasons = []
        for case in self.failures[:limit]:
            message = case.message.strip()
            if message in ("", FILE_LEVEL_MESSAGE):  # the file didn't load: the error is in the output
                message = _first_error(self.output) or message or "failed"
            reasons.append(f"{case.title}: {message.splitlines()[0][:300]}")
        if reasons:
            return "; ".join(reasons)
        if self.passed == 0:
            return "node --test ran no test"
        return f"node --test exited with status {self.returncode}"


def _first_error(text: str) -> str:
    match = _ERROR_LINE.search(text or "")
    return match.group(0).strip()[:300] if match else ""


def command(node: str, files: Sequence[str | Path], report: Path, *,
            test_timeout_s: float | None = None) -> list[str]:
    """The ``node --test`` argv: spec to stdout (people), JUnit to ``report`` (us)."""
    argv = [node, "--test", "--test-reporter=spec", "--test-reporter-destination=stdout",
            "--test-reporter=junit", f"--test-reporter-destination={report}"]
    if test_timeout_s is not None:
        argv.append(f"--test-timeout={int(test_timeout_s * 1000)}")
    return argv + [str(f) for f in files]


def repair_junit(text: str) -> str:
    """Node's JUnit output made well-formed: characters XML forbids shown as ``\\xNN``,
    and ``]]>`` (forbidden in text) written as ``]]&gt;`` (the same inside attributes)."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text).replace("]]>", "]]&gt;")


def parse_junit(data: bytes | str) -> tuple[NodeTestCase, ...]:
    """Every ``<testcase>`` of Node's JUnit report, in order; ValueError if unreadable."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    try:
        root = ET.fromstring(repair_junit(text))
    except ET.ParseError as e:
        raise ValueError(f"unreadable JUnit XML: {e}") from None
    cases: list[NodeTestCase] = []

    def walk(element: ET.Element, suites: tuple[str, ...]) -> None:
        for child in element:
            if child.tag == "testsuite":
                walk(child, (*suites, child.get("name", "")))
            elif child.tag == "testcase":
                cases.append(_case(child, suites))

    walk(root, ())
    return tuple(cases)


def _case(element: ET.Element, suites: tuple[str, ...]) -> NodeTestCase:
    skipped = element.find("skipped")
    failure = element.find("failure")
    if failure is None:
        failure = element.find("error")
    if skipped is not None and skipped.get("type") == "todo":
        outcome = Outcome.TODO
    elif skipped is not None:
        outcome = Outcome.SKIPPED
    elif failure is not None:
        outcome = Outcome.FAILED
    else:
        outcome = Outcome.PASSED
    message = ""
    if failure is not None:
        message = failure.get("message") or element.get("failure") or (failure.text or "").strip()
    try:
        duration = float(element.get("time", "0"))
    except ValueError:
        duration = 0.0
    return NodeTestCase(element.get("name", ""), suites, outcome, message, duration)


Runner = Callable[..., procs.RunResult]
Reader = Callable[[Path], "str | None"]


def run(files: Sequence[str | Path], *, cwd: str | Path, timeout: float = 60,
        test_timeout_s: float | None = None, runner: Runner | None = None, node: str | None = None,
        report: Path | None = None, read_report: Reader | None = None) -> NodeTestRun:
    """Run ``node --test`` on ``files`` in ``cwd`` and read the verdicts from its JUnit report.

    ``runner`` runs the argv (``Context.run`` passes itself: in the grader, inside the
    sandbox, with the output in the test's evidence); by default :func:`procs.run`.
    ``report`` is where node writes the JUnit XML (a temporary file by default; the
    grader gives a folder the sandboxed process can write and ``read_report`` to read it).
    """
    node = node or toolchains.require("node")
    with contextlib.ExitStack() as stack:
        if report is None:
            report = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="node-test-"))) / "junit.xml"
        argv = command(node, files, report, test_timeout_s=test_timeout_s)
        if runner is None:
            result = procs.run(argv, cwd=cwd, timeout=timeout, echo=None)
        else:
            result = runner(argv, cwd=cwd, timeout=timeout)
        output = result.stdout + result.stderr_tail
        if read_report is not None:
            text = read_report(report)
        else:
            text = report.read_text(encoding="utf-8", errors="replace") if report.is_file() else None
    cases: tuple[NodeTestCase, ...] = ()
    error = None
    if not text:
        error = "node stopped before writing it" if result.timed_out or result.returncode else "no report"
    else:
        try:
            cases = _without_file_passes(parse_junit(text), files, Path(cwd))
        except ValueError as e:
            error = str(e)
    return NodeTestRun(cases, result.returncode, result.timed_out, output, error)


def _without_file_passes(cases: tuple[NodeTestCase, ...], files: Sequence[str | Path],
                         cwd: Path) -> tuple[NodeTestCase, ...]:
    """Node 20 reports a test file that declares no test as one passing test named after the
    file (Node 24 reports nothing). That is not a test: drop it. A file entry that *failed*
    (the file could not load) stays: it is the only trace of the failure."""
    names = {str(f) for f in files} | {str((cwd / f).resolve()) for f in files} | {Path(f).name for f in files}
    return tuple(c for c in cases if not (c.outcome is Outcome.PASSED and not c.suites and c.name in names))
