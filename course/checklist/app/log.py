"""A bounded copy of an app's output: a flooding app can neither fill the disk nor block."""
from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

from ... import procs

LOG_CAP = 5 * 1024 * 1024  # bytes of app output kept; the rest is read and dropped
PIPE_SIZE = 1 << 20  # the app's side of the pipe: Linux's default max (/proc/sys/fs/pipe-max-size)


class BoundedLog:
    """The app's stdout+stderr, copied by a reader thread into a file of at most ``cap``
    bytes (implements ``model.LogCapture``).

    Past the cap the reader keeps draining the pipe and drops the bytes, so the app
    never blocks on a full pipe; a final note says how much was dropped.
    """

    def __init__(self, path: Path, cap: int = LOG_CAP):
        self.path = Path(path)
        self.cap = cap
        self.written = 0
        self.dropped = 0
        self._file = open(self.path, "wb")
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @staticmethod
    def widen(fd: int) -> None:
        """Give the pipe ``PIPE_SIZE`` bytes instead of 64 KiB. Node and Go write to a pipe
        synchronously: when the reader thread waits its turn for the GIL behind a check's
        hundred request threads on a loaded machine, 64 KiB (about 150 pino lines) fills and
        the app stops answering until it is drained — a stall that is the checker's, not the
        app's. Best effort: an unprivileged user's pipes may be refused more."""
        try:
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
        except OSError:
            pass

    def attach(self, fd: int) -> None:
        self._thread = threading.Thread(target=self._pump, args=(fd,), name="app-log", daemon=True)
        self._thread.start()

    def _pump(self, fd: int) -> None:
        try:
            while True:
                try:
                    data = os.read(fd, PIPE_SIZE)
                except OSError:
                    break
                if not data:
                    break
                with self._lock:
                    room = self.cap - self.written
                    if room > 0:
                        part = data[:room]
                        self._file.write(part)
                        self._file.flush()
                        self.written += len(part)
                        self.dropped += len(data) - len(part)
                    else:
                        self.dropped += len(data)
        finally:
            os.close(fd)
            with self._lock:
                if self.dropped:
                    note = (f"\n[course] output capture stopped at {self.cap:,} bytes; "
                            f"{self.dropped:,} more bytes were dropped\n").encode()
                    self._file.write(note)
                self._file.close()

    def offset(self) -> int:
        with self._lock:
            return self.written

    def since(self, offset: int) -> str:
        end = self.offset()
        if offset >= end:
            return ""
        with open(self.path, "rb") as f:
            f.seek(max(0, offset))
            return f.read(end - max(0, offset)).decode("utf-8", "replace")

    def tail(self, lines: int = 30) -> str:
        return procs.tail(self.path, lines=lines)

    def close(self, timeout: float = 2.0) -> None:
        """Wait for the reader to see EOF (after the process group is gone)."""
        if self._thread is not None:
            self._thread.join(timeout)
        else:  # never attached (the command could not be spawned): the reader won't close it
            with self._lock:
                self._file.close()
