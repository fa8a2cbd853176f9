"""Files in a learner's workspace, opened by the grader without following the learner's links.

Learner code can plant a symbolic link anywhere it may write: ``work/server.js`` → the
instructor's SSH key (so the grader reads it into a report), ``.tmp/out.ipynb`` →
``~/.bashrc`` (so the grader overwrites it). Every path the grader opens in a workspace
therefore goes through here: each component is opened relative to the previous one with
``O_NOFOLLOW`` (an ``openat`` walk), ``..`` and absolute paths are refused, and a file
with other hard links is not written. A link anywhere on the way is an error, never a
detour out of the workspace.
"""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path, PurePosixPath


class UnsafePath(OSError):
    """The path leaves the workspace, or goes through a link."""


def _parts(rel: str | os.PathLike) -> list[str]:
    p = PurePosixPath(rel)
    if p.is_absolute() or any(part == ".." for part in p.parts):
        raise UnsafePath(errno.EPERM, f"{rel}: not a path inside the workspace")
    return [part for part in p.parts if part not in ("", ".")]


def _walk(root: Path, parts: list[str], *, make_dirs: bool) -> int:
    """An fd for the directory ``root/parts…`` reached without following any link."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        for part in parts:
            try:
                nxt = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
            except FileNotFoundError:
                if not make_dirs:
                    raise
                os.mkdir(part, 0o755, dir_fd=fd)
                nxt = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
            except OSError as e:
                if e.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise UnsafePath(e.errno, f"{part}: a link or not a folder") from None
                raise
            os.close(fd)
            fd = nxt
        return fd
    except BaseException:
        os.close(fd)
        raise


def open_file(root: Path, rel: str | os.PathLike, flags: int = os.O_RDONLY, mode: int = 0o644, *,
              make_dirs: bool = False) -> int:
    """An fd for the regular file ``root/rel``, with no link followed on the way or at the end."""
    parts = _parts(rel)
    if not parts:
        raise UnsafePath(errno.EISDIR, f"{rel}: not a file")
    dir_fd = _walk(root, parts[:-1], make_dirs=make_dirs)
    try:
        # O_NONBLOCK: a FIFO planted in the workspace must not hang the grader on open
        fd = os.open(parts[-1], flags | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, mode, dir_fd=dir_fd)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise UnsafePath(e.errno, f"{rel}: a link (not followed)") from None
        raise
    finally:
        os.close(dir_fd)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UnsafePath(errno.EINVAL, f"{rel}: not a regular file")
    os.set_blocking(fd, True)
    return fd


def read_bytes(root: Path, rel: str | os.PathLike, *, limit: int = 16 << 20) -> bytes:
    fd = open_file(root, rel)
    with os.fdopen(fd, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise UnsafePath(errno.EFBIG, f"{rel}: larger than {limit >> 20} MiB")
    return data


def read_text(root: Path, rel: str | os.PathLike, **kw) -> str:
    return read_bytes(root, rel, **kw).decode("utf-8", "replace")


def write_text(root: Path, rel: str | os.PathLike, text: str) -> Path:
    """Write ``root/rel`` (making folders), refusing links and files with other hard links."""
    fd = open_file(root, rel, os.O_WRONLY | os.O_CREAT, make_dirs=True)
    with os.fdopen(fd, "wb") as f:
        if os.fstat(f.fileno()).st_nlink > 1:
            raise UnsafePath(errno.EMLINK, f"{rel}: has other hard links (not written)")
        f.truncate(0)
        f.write(text.encode())
    return root / rel


def is_file(root: Path, rel: str | os.PathLike) -> bool:
    """True when ``root/rel`` is a regular file reached without links."""
    try:
        os.close(open_file(root, rel))
    except OSError:
        return False
    return True


def is_dir(root: Path, rel: str | os.PathLike) -> bool:
    try:
        fd = _walk(root, _parts(rel), make_dirs=False)
    except OSError:
        return False
    os.close(fd)
    return True
