"""``course grade`` on Dask: a real ``dask scheduler`` and two ``dask worker`` processes on
127.0.0.1, started here — the same TCP path as workers on other machines.

Results on the cluster must be those of the embedded cluster (apart from timings); a
worker killed mid-batch must not lose a submission; Ctrl-C must leave nothing running;
and a worker whose course differs from the grader's is refused.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

from course import procs, toolchains
from course.errors import CourseError
from course.grading import cluster, grade as grading

from helpers import REPO, alive, cmdlines

pytestmark = pytest.mark.skipif(not toolchains.available("node"), reason=toolchains.find("node").hint or "")

NODE = "01-nodejs/01-express-user-lookup.ipynb"
PYTHON = "02-python/01-fastapi-users.ipynb"
TIMINGS = {"duration_s", "work_s", "execution_s", "tests_s"}
DASK = str(Path(sys.executable).with_name("dask"))


def _submissions(root: Path) -> list[Path]:
    """Six learners: solved and untouched copies of a Node and a Python exercise, a typo, a partial."""
    def nb(kind: str, rel: str):
        return nbformat.read(REPO / ("solutions" if kind == "solution" else "exercises") / rel, as_version=4)

    cases = {"a-solved-node": nb("solution", NODE), "b-untouched-node": nb("exercise", NODE),
             "c-solved-python": nb("solution", PYTHON), "d-untouched-python": nb("exercise", PYTHON)}
    typo = nb("solution", NODE)
    typo.cells.insert(3, nbformat.v4.new_code_cell("raise ValueError('a typo')"))
    cases["e-typo"] = typo
    partial = nb("solution", NODE)
    server = next(c for c in partial.cells if c.source.startswith("%%node --save work/server.js"))
    server.source = server.source.replace("if (!Number.isInteger(id)) {", "if (false) {")
    cases["f-partial"] = partial
    out = []
    for name, book in cases.items():
        d = root / name
        d.mkdir(parents=True)
        rel = NODE if "node" in name or name in ("e-typo", "f-partial") else PYTHON
        nbformat.write(book, d / Path(rel).name)
        out.append(d)
    return out


def _comparable(report: dict) -> dict:
    """The report without what may differ between two runs of the same class: timings."""
    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in TIMINGS}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    report = strip(report)
    for learner in report["learners"]:
        for test in [*learner["tests"], *(t for ex in learner["exercises"] for t in ex["tests"])]:
            test["output"] = ""  # server logs carry times
    return report


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """``dask scheduler`` and two ``dask worker`` processes (no nanny: a killed worker stays dead)."""
    port = procs.free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = tmp_path_factory.mktemp("dask")
    scheduler = procs.spawn([DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                            stdout=open(logs / "scheduler.log", "wb"), stderr=subprocess.STDOUT,
                            env={**os.environ, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1"})
    workers = [procs.spawn([DASK, "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                            "--memory-limit", "0", "--name", f"w{n}"],
                           stdout=open(logs / f"worker{n}.log", "wb"), stderr=subprocess.STDOUT,
                           cwd=str(logs))
               for n in range(2)]
    from distributed import Client

    with Client(address, timeout=60) as client:
        client.wait_for_workers(2, timeout=60)
    yield address, workers
    for p in [*workers, scheduler]:
        procs.stop(p, grace=5)


def test_a_class_graded_on_a_cluster_gets_the_reports_of_the_embedded_one(tmp_path, dask_cluster):
    address, _ = dask_cluster
    subs = _submissions(tmp_path / "subs")
    local = grading.grade(subs, jobs=2, out=tmp_path / "local", progress=False)
    remote = grading.grade(subs, scheduler=address, out=tmp_path / "cluster", progress=False)
    assert _comparable(remote) == _comparable(local)
    by_name = {learner["name"]: learner for learner in remote["learners"]}
    assert by_name["a-solved-node"]["score"] == 3 and by_name["c-solved-python"]["status"] == "pass"
    assert by_name["b-untouched-node"]["score"] == 0 and by_name["f-partial"]["score"] == 2
    for fmt in ("results.json", "gradescope.json", "junit.xml"):
        assert (tmp_path / "cluster" / "a-solved-node" / fmt).exists()


def test_a_worker_killed_mid_batch_loses_no_submission(tmp_path, dask_cluster):
    address, workers = dask_cluster
    subs = _submissions(tmp_path / "subs")
    result: dict = {}
    runner = threading.Thread(target=lambda: result.update(
        grading.grade(subs, scheduler=address, out=tmp_path / "grades", progress=False)))
    runner.start()
    busy = _wait_for_two_busy_gradings(*(w.pid for w in workers))
    victim = workers[0]
    os.kill(victim.pid, signal.SIGKILL)
    runner.join(600)
    assert busy, "the batch never had two submissions in flight"
    assert not runner.is_alive() and result, "the batch did not complete"
    names = {learner["name"] for learner in result["learners"]}
    assert names == {p.name for p in subs}, "every submission is in the report"
    by_name = {learner["name"]: learner for learner in result["learners"]}
    assert by_name["a-solved-node"]["score"] == 3 and by_name["c-solved-python"]["score"] == 7
    time.sleep(1)
    left = [pid for pid, cmd in cmdlines().items() if b"course.grading.worker" in cmd and alive(pid)
            and _parent_is(pid, victim.pid)]
    assert left == [], "the killed worker's grading process must not outlive it"


def _wait_for_two_busy_gradings(*roots: int, timeout: float = 120) -> bool:
    """Until two kernels under the grading processes of ``roots`` run at once (each worker
    busy); kernels of other batches on the machine don't count."""
    from course.sandbox.limits import descendants, snapshot

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ours = descendants(snapshot(), list(roots))
        kernels = [pid for pid, cmd in cmdlines().items() if pid in ours and b"ipykernel_launcher" in cmd
                   and b"backend-lab-grade-" in cmd]
        if len(kernels) >= 2:
            return True
        time.sleep(0.2)
    return False


def _parent_is(pid: int, parent: int) -> bool:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]) == parent
    except (OSError, ValueError, IndexError):
        return False


def test_a_worker_with_another_course_is_refused(tmp_path, dask_cluster):
    address, _ = dask_cluster
    mine = cluster.identity()
    stranger = cluster.Settings({**mine, "checks": "0" * 16})
    with pytest.raises(CourseError, match="not the grader's.*install the same course"):
        cluster.run([("x", {})], settings=stranger, jobs=1, scheduler=address, on_result=lambda *a: None)


def test_ctrl_c_stops_the_batch_and_leaves_nothing_running(tmp_path):
    subs = _submissions(tmp_path / "subs")
    proc = subprocess.Popen([sys.executable, "-m", "course", "grade", *map(str, subs), "--jobs", "2",
                             "--out", str(tmp_path / "grades"), "-q"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    assert _wait_for_two_busy_gradings(proc.pid), "grading never started"
    tree = _descendants(proc.pid)
    assert len(tree) > 5, "the grader, its workers, their grading processes and kernels"
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, out.decode()[-2000:]
    time.sleep(2)
    left = {pid: cmdlines().get(pid) for pid in tree if alive(pid)}
    assert left == {}, f"left running after Ctrl-C: {left}"


def _descendants(root: int) -> set[int]:
    from course.sandbox.limits import descendants, snapshot

    return descendants(snapshot(), [root]) - {root}
