"""The trusted first process of every sandbox: its PID 1.

bwrap starts it before any learner code (``--as-pid-1``), with ``python -I -S``: nothing
in the environment or in site-packages shapes it, and it imports only the standard
library. It:

* **supervises** — it starts the payload (a kernel, a server, a test runner) as its only
  child and exits with the child's status as soon as the child ends (a death by signal
  N as 128+N, as a shell reports it). Being PID 1, its exit ends every other process in
  the sandbox: a daemon that double-forked goes too.
* **limits** — ``--limit nproc=N`` (and ``fsize``, ``core``) apply to the payload and all
  it starts. Set here, inside the sandbox's user namespace, a process count is the
  sandbox's own, never the grader's user's.
* **dies with the grader** — through a lifeline pipe whose write end the grader holds and
  closes to end the sandbox (a parent-death signal does not survive the change of uid
  between bwrap and here).
* **stays trusted** — it is not dumpable (learner code runs as the same uid but cannot
  ptrace it or read its memory), and as PID 1 it ignores every signal it does not
  handle; SIGTERM, SIGINT and SIGHUP are passed on to the payload.

A learner who still manages to stop it only ends their own sandbox.
"""
from __future__ import annotations

import ctypes
import os
import resource
import signal
import sys
import threading

PR_SET_DUMPABLE = 4
FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)
RLIMITS = {"nproc": resource.RLIMIT_NPROC, "fsize": resource.RLIMIT_FSIZE, "core": resource.RLIMIT_CORE}


def _parse(argv: list[str]) -> tuple[list[tuple[int, int]], int | None, list[str]]:
    """``--limit NAME=N``… ``--lifeline FD`` ``--`` payload…"""
    limits, lifeline = [], None
    i = 0
    while i < len(argv) and argv[i] != "--":
        flag, value = argv[i], argv[i + 1] if i + 1 < len(argv) else ""
        name, _, number = value.partition("=")
        if flag == "--limit" and name in RLIMITS and number.isdigit():
            limits.append((RLIMITS[name], int(number)))
        elif flag == "--lifeline" and value.isdigit():
            lifeline = int(value)
        else:
            raise SystemExit(f"sandbox agent: unknown option {flag} {value}")
        i += 2
    payload = argv[i + 1:]
    if not payload:
        raise SystemExit("sandbox agent: nothing to run")
    return limits, lifeline, payload


def _not_dumpable() -> None:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def _hold_lifeline(r: int | None) -> None:
    """Exit when the lifeline's writer — the grader — closes it or is gone.

    bwrap's ``--die-with-parent`` is not enough: as root, the uid changes between bwrap and
    here, and bwrap (which drops its capabilities) may then no longer signal us. A pipe
    needs no permission: the grader holds its write end, and its end is our end."""
    if r is None:
        return

    def watch():
        while True:
            try:
                if not os.read(r, 1):
                    break
            except InterruptedError:
                continue
            except OSError:
                break
        os._exit(137)  # as PID 1: the whole sandbox ends

    threading.Thread(target=watch, daemon=True).start()


def main(argv: list[str]) -> None:
    limits, lifeline, payload = _parse(argv)
    _not_dumpable()
    _hold_lifeline(lifeline)
    for which, value in limits:
        resource.setrlimit(which, (value, value))
    child = 0

    def forward(sig, _frame):
        if child:
            try:
                os.kill(child, sig)
            except ProcessLookupError:
                pass

    for sig in FORWARDED:
        signal.signal(sig, forward)
    try:
        closes = [(os.POSIX_SPAWN_CLOSE, lifeline)] if lifeline is not None else []
        child = os.posix_spawnp(payload[0], payload, dict(os.environ), setsigdef=FORWARDED, setsigmask=(),
                                file_actions=closes)
    except OSError as e:
        print(f"[sandbox] cannot start {payload[0]}: {e.strerror}", file=sys.stderr, flush=True)
        os._exit(127)
    while True:  # reap every orphan (PID 1's duty) until the payload itself ends
        try:
            pid, status = os.wait()
        except ChildProcessError:
            os._exit(0)
        except InterruptedError:
            continue
        if pid == child:
            code = os.waitstatus_to_exitcode(status)
            os._exit(128 - code if code < 0 else code)  # as PID 1: everything else ends with us


if __name__ == "__main__":
    main(sys.argv[1:])
