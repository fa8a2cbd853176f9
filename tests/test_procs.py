"""procs.run: every child to completion, bounded output, nothing left behind.

Real processes (sh, python), no mocks; no wall-clock assertions — a run that should
have been cut short says so through ``timed_out`` and through the grandchildren it
killed.
"""
from __future__ import annotations

import os
import sys
import time

from course import procs

from helpers import alive

PY = sys.executable


def gone(pid: int, within: float = 10.0) -> bool:
    """True once ``pid`` is dead (or a zombie); False if it is still running after ``within`` s."""
    deadline = time.monotonic() + within
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_success_captures_stdout_and_honours_cwd_and_env(tmp_path):
    result = procs.run([PY, "-c", "import os; print(os.getcwd(), os.environ['GREETING'])"], cwd=tmp_path,
                       env={**os.environ, "GREETING": "hi"}, echo=None)
    assert result.ok and result.returncode == 0 and not result.timed_out and not result.truncated
    assert result.stdout.split() == [str(tmp_path), "hi"]
    assert result.killed_by is None


def test_failure_keeps_the_end_of_stderr():
    result = procs.run([PY, "-c", "import sys; sys.stderr.write('x' * 50_000 + 'THE END'); sys.exit(3)"],
                       echo=None)
    assert not result.ok and result.returncode == 3
    assert result.stderr_tail.endswith("THE END") and len(result.stderr_tail) <= procs.TAIL_BYTES


def test_echo_streams_both_outputs_as_they_come():
    seen: list[tuple[str, str]] = []
    procs.run([PY, "-c", "import sys; print('out', flush=True); print('err', file=sys.stderr)"],
              echo=lambda stream, text: seen.append((stream, text)))
    assert "".join(t for s, t in seen if s == "stdout") == "out\n"
    assert "".join(t for s, t in seen if s == "stderr") == "err\n"


def test_a_flood_is_cut_at_the_limit_and_said_so():
    seen: list[tuple[str, str]] = []
    result = procs.run([PY, "-c", "import sys; sys.stdout.write('y' * 2_000_000)"], output_limit=1000,
                       echo=lambda stream, text: seen.append((stream, text)))
    assert result.ok and result.truncated
    shown = "".join(text for stream, text in seen if stream == "stdout")
    assert shown == "y" * 1000
    assert any("output truncated" in text and "1,999,000 more bytes" in text for _, text in seen)


def test_timeout_kills_the_whole_group(tmp_path):
    pid_file = tmp_path / "grandchild"
    script = f"sleep 300 & echo $! > {pid_file}; wait"
    result = procs.run(["sh", "-c", script], timeout=1.0, echo=None)
    assert result.timed_out and not result.ok
    assert result.killed_by in ("SIGTERM", "SIGKILL"), result.returncode
    assert gone(int(pid_file.read_text())), "the grandchild outlived its timed-out parent"


def test_a_grandchild_holding_the_pipes_does_not_hang_the_run(tmp_path):
    """The leader exits at once; a background child keeps stdout open for 300 s. run()
    must return on the leader's exit (not wait for EOF) and reap the straggler."""
    pid_file = tmp_path / "grandchild"
    result = procs.run(["sh", "-c", f"sleep 300 & echo $! > {pid_file}; echo leader done"], timeout=60,
                       echo=None)
    assert not result.timed_out and result.returncode == 0
    assert "leader done" in result.stdout
    # SIGKILL was sent to the group before run() returned; its delivery is asynchronous
    assert gone(int(pid_file.read_text())), "the straggler sharing the group was not killed"


def test_limits_apply_in_the_child(tmp_path):
    big = tmp_path / "big"
    result = procs.run([PY, "-c", f"open({str(big)!r}, 'wb').write(b'z' * 1_000_000)"],
                       limits=procs.Limits(file_bytes=10_000), echo=None)
    assert not result.ok  # SIGXFSZ, or an OSError from the write
    assert big.stat().st_size <= 10_000


def test_a_missing_program_fails_with_the_reason():
    """Through setpriv (the parent-death signal without a Python preexec) the exec error is
    setpriv's exit 127 and message; without setpriv, Popen raises. Either way: never ok."""
    try:
        result = procs.run(["/nonexistent/program"], echo=None)
    except FileNotFoundError:
        return
    assert not result.ok and result.returncode == 127
    assert "No such file" in result.stderr_tail
