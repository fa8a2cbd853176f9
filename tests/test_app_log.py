"""The app's output pipe: wide enough that a reader thread waiting for the GIL doesn't stall
an app that writes its logs synchronously (Node and Go do, to a pipe)."""
import os

from course.checklist.app.log import PIPE_SIZE, BoundedLog


def test_the_apps_pipe_holds_a_megabyte_before_a_writer_blocks(tmp_path):
    r, w = os.pipe()
    BoundedLog.widen(w)
    os.set_blocking(w, False)
    line = b'{"level":30,"msg":"request completed","req":{"method":"GET","url":"/api/slow?ms=0"}}\n' * 8
    written = 0
    try:
        while written < PIPE_SIZE // 2:  # a 64 KiB pipe refuses (EAGAIN) long before this
            written += os.write(w, line)
    finally:
        os.close(w)
        log = BoundedLog(tmp_path / "app.log")
        log.attach(r)
        log.close()
    assert (tmp_path / "app.log").stat().st_size == written
