"""The submission limits on their own: a cgroup, the /proc watchdog, the disk watch.

Real processes, no sandbox; each limit is driven over its edge and must say which one it
was. No timing is asserted: a watcher polls, so the tests wait (with a generous bound)
for the verdict instead.
"""
from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from course import procs
from course.sandbox import detect, limits
from course.sandbox.limits import Cgroup, DiskWatch, Limit, TreeWatch

CGROUPS = detect.capabilities(no_sandbox=True).cgroups


def _until(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


HOG = "b = bytearray(1536 << 20)\nimport time\ntime.sleep(60)"
# 200 MiB, then 7 forked copies that share it until written: 1.6 GiB of RSS, 200 MiB of PSS
SHARED_COPIES = ("import os, time\nb = bytearray(200 << 20)\n"
                 "for _ in range(7):\n    if os.fork() == 0:\n        time.sleep(60)\ntime.sleep(60)")
SPAWNER = ("import subprocess, sys, time\n"
           "kids = [subprocess.Popen(['sleep', '60']) for _ in range(int(sys.argv[1]))]\n"
           "time.sleep(60)")


@pytest.mark.skipif(CGROUPS is None, reason="needs root and a writable cgroup hierarchy")
class TestCgroup:
    def test_a_command_entered_through_the_prefix_is_a_member_and_is_killed(self):
        cg = Cgroup(limits.cgroup_name(900), CGROUPS)
        try:
            proc = procs.spawn([*cg.prefix(), "sleep", "60"])
            assert _until(lambda: proc.pid in cg.members())
            assert cg.hit() is None
            cg.kill_all()
            assert proc.wait(timeout=10) == -9
        finally:
            cg.close()
        assert not any(d.exists() for d in cg.dirs.values()), "close() removes the cgroup"

    def test_memory_past_the_limit_is_the_memory_verdict(self):
        cg = Cgroup(limits.cgroup_name(901), CGROUPS)
        try:
            proc = procs.spawn([*cg.prefix(), sys.executable, "-c", HOG])
            proc.wait(timeout=60)
            assert cg.hit() is Limit.MEMORY
        finally:
            cg.close()

    def test_a_fork_bomb_is_the_process_verdict(self):
        cg = Cgroup(limits.cgroup_name(902), CGROUPS)
        try:
            proc = procs.spawn([*cg.prefix(), sys.executable, "-c", SPAWNER, str(detect.PIDS_LIMIT + 50)])
            assert _until(lambda: cg.hit() is Limit.PROCESSES, 60)
            procs.stop(proc, grace=0)
        finally:
            cg.close()

    def test_stale_cgroups_of_a_dead_creator_are_removed(self):
        child = subprocess.run([sys.executable, "-c",
                                "from course.sandbox import detect, limits\n"
                                f"limits.Cgroup(limits.cgroup_name(903), {CGROUPS!r})"], check=True)
        assert child.returncode == 0
        stale = [d for c in ("pids", "memory") for d in detect.CGROUP_ROOTS[c].rglob("backend-lab-*-903")]
        assert stale, "the child left its cgroup behind"
        limits.remove_stale_cgroups()
        assert not any(d.exists() for d in stale)


class TestTreeWatch:
    def test_unsandboxed_it_spares_what_existed_before_and_its_children(self):
        """The grader's PostgreSQL forks a backend per connection: those backends are new,
        but they are not the learner's (the bug that once killed every later learner's
        database)."""
        postmaster = subprocess.Popen([sys.executable, "-c", "import subprocess, time\ntime.sleep(0.5)\n"
                                       "subprocess.Popen(['sleep', '60'])\ntime.sleep(60)"])
        watch = TreeWatch(sandboxed=False)
        learner = procs.spawn(["sleep", "60"])
        try:
            assert _until(lambda: any(ppid == postmaster.pid for ppid, _ in limits.snapshot().values()))
            backend = next(pid for pid, (ppid, _) in limits.snapshot().items() if ppid == postmaster.pid)
            members = watch.members()
            assert learner.pid in members
            assert postmaster.pid not in members and backend not in members
        finally:
            watch.close()
            postmaster.kill()
            postmaster.wait()

    def test_sandboxed_it_follows_the_roots_it_is_given(self):
        watch = TreeWatch(sandboxed=True)
        root = subprocess.Popen([sys.executable, "-c", SPAWNER, "3"])
        other = subprocess.Popen(["sleep", "60"])
        try:
            watch.add_root(root.pid)
            assert _until(lambda: len(watch.members()) == 4)
            assert other.pid not in watch.members()
            watch.kill_all()
            assert root.wait(timeout=10) == -9
        finally:
            watch.close()
            other.kill()
            other.wait()

    def test_too_many_processes_is_the_process_verdict(self):
        watch = TreeWatch(sandboxed=True, pids_limit=20)
        root = subprocess.Popen([sys.executable, "-c", SPAWNER, "40"])
        try:
            watch.add_root(root.pid)
            assert _until(lambda: watch.hit() is Limit.PROCESSES)
            assert _until(lambda: root.poll() is not None), "the tree is killed"
        finally:
            watch.close()

    def test_memory_is_counted_once_for_pages_shared_after_fork(self):
        """Forked copies share their pages: proportional set size, not RSS, decides."""
        watch = TreeWatch(sandboxed=True, memory_limit=700 << 20)
        root = subprocess.Popen([sys.executable, "-c", SHARED_COPIES])
        try:
            watch.add_root(root.pid)
            assert _until(lambda: len(watch.members()) == 8)
            table = limits.snapshot()
            rss = sum(table[p][1] for p in watch.members())
            assert rss > 700 << 20, "the copies' RSS adds up past the limit…"
            time.sleep(1)  # several polls
            assert watch.hit() is None, "…but they share one 200 MiB buffer"
        finally:
            watch.close()

    def test_memory_maps_that_do_not_answer_are_a_fork_bomb_and_do_not_stall_the_watch(self, monkeypatch):
        """Under a fork bomb, reading ``smaps_rollup`` blocks on the memory map's lock that the
        forks hold (seen as ``nobody``: the watchdog stalled and the bomb ran to the cell's
        timeout). Here the read is made to block; the copies' RSS is past the limit."""
        released = threading.Event()
        monkeypatch.setattr(limits, "proportional_bytes", lambda pid, fallback: released.wait(60) and fallback)
        watch = TreeWatch(sandboxed=True, memory_limit=700 << 20)
        root = subprocess.Popen([sys.executable, "-c", SHARED_COPIES])
        try:
            watch.add_root(root.pid)
            assert _until(lambda: watch.hit() is Limit.PROCESSES)
            assert _until(lambda: root.poll() is not None), "the tree is killed"
        finally:
            released.set()
            watch.close()

    def test_memory_past_the_limit_is_the_memory_verdict(self):
        watch = TreeWatch(sandboxed=True, memory_limit=512 << 20)
        root = subprocess.Popen([sys.executable, "-c", HOG.replace("1536", "700")])
        try:
            watch.add_root(root.pid)
            assert _until(lambda: watch.hit() is Limit.MEMORY)
        finally:
            watch.close()


def test_disk_watch_stops_a_writer_and_counts_what_else_it_is_given(tmp_path):
    killed = []
    extra = [0]
    watch = DiskWatch([tmp_path], lambda: killed.append(1), limit=50 << 20, poll_s=0.05,
                      extra=lambda: extra[0])
    try:
        (tmp_path / "small").write_bytes(b"x" * (10 << 20))
        time.sleep(0.3)
        assert not watch.hit
        extra[0] = 45 << 20  # a database that grew: 10 + 45 MiB
        assert _until(lambda: watch.hit)
        assert killed == [1]
    finally:
        watch.close()


def test_disk_usage_does_not_follow_links(tmp_path):
    big = tmp_path / "outside"
    big.mkdir()
    (big / "f").write_bytes(b"x" * (5 << 20))
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "link").symlink_to(big)
    assert limits.disk_usage([ws], cap=1 << 30) < 1 << 20
