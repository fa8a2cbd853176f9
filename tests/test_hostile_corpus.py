"""``course grade`` against a hostile class — as root and as an unprivileged user.

One batch per mode holds every case: honest failures (an infinite loop, a fork bomb, a
corrupt notebook, …), attacks (remount ``/``, leave the cgroup, enter a host namespace,
signal a host process, escalate in the database, read the hidden tests, daemonize, fill
the disk, plant links for the grader, …) and, graded after them on the same workers,
honest submissions that must keep their scores. Sharing the batch shares its set-up.

What an attack achieved is judged from outside, never from its own report: canary files
in the grader's home, the repository and /tmp must be unchanged; a canary process must
be alive and a canary TCP service unvisited; marker files that a successful attack would
create must not exist; no process may be left; and nothing secret — the grader's
environment, the hidden tests' code, the canary's contents — may appear in any report.

The unprivileged run drops to ``nobody`` with setpriv (the test runs as root in CI).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

from course import toolchains
from course.grading import grade as grading, spec
from course.sandbox import detect

from helpers import REPO, alive, cmdlines, counting_listener

pytestmark = pytest.mark.skipif(not toolchains.available("node"), reason=toolchains.find("node").hint or "")

BASE = "01-nodejs/01-express-user-lookup.ipynb"  # a Node exercise with visible and hidden tests
NAME = Path(BASE).name
CELL_TIMEOUT = 8
HIDDEN_CODE = "def rejects_a_bad_id"  # only in solutions/: the hidden test's code
NOBODY = 65534


def _nb(kind: str):
    root = REPO / ("solutions" if kind == "solution" else "exercises")
    return nbformat.read(root / BASE, as_version=4)


def _code(src: str):
    return nbformat.v4.new_code_cell(src)


def _server_cell(nb):
    return next(c for c in nb.cells if c.source.startswith("%%node --save work/server.js"))


def _with(cell_source: str):
    """The solved notebook with one extra cell before the server's."""
    nb = _nb("solution")
    nb.cells.insert(3, _code(cell_source))
    return nb


@dataclass
class Canaries:
    """What a successful attack would change, set up outside the sandbox."""

    home: Path
    token: str = field(default_factory=lambda: os.urandom(6).hex())
    port: int = 0
    connections: list = field(default_factory=list)
    process: subprocess.Popen | None = None

    @property
    def secret(self) -> str:
        return f"secret-{self.token}"

    @property
    def home_file(self) -> Path:
        return self.home / "instructor-notes.txt"

    @property
    def tmp_dir(self) -> Path:
        return Path("/tmp") / f"canary-{self.token}"

    def pwned(self, what: str) -> Path:
        return Path("/tmp") / f"pwned-{what}-{self.token}"

    def start(self) -> "Canaries":
        self.home_file.write_text(f"home canary {self.token}\n")
        (self.home / ".bashrc").write_text("# the instructor's shell\n")
        self.tmp_dir.mkdir()
        (self.tmp_dir / "keep.txt").write_text(f"tmp canary {self.token}\n")
        self.process = subprocess.Popen(["sleep", "600"])
        self._srv, self.connections = counting_listener()
        self.port = self._srv.getsockname()[1]
        return self

    def stop(self) -> None:
        self._srv.close()
        if self.process:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.tmp_dir, ignore_errors=True)


def _corpus(root: Path, c: Canaries) -> dict[str, tuple]:
    """learner name → expected (status, score) or (status, substring of the learner's message)."""
    cases: dict[str, tuple] = {}

    def add(learner, nb, expect, name=NAME):
        d = root / learner
        d.mkdir(parents=True)
        if isinstance(nb, bytes):
            (d / name).write_bytes(nb)
        else:
            nbformat.write(nb, d / name)
        cases[learner] = expect

    # -- honest failures: their verdicts must stay right --------------------------------
    add("h-untouched", _nb("exercise"), ("fail", 0))
    add("h-corrupt", b"{ this is not json", ("error", "not a readable notebook"))
    empty = _nb("exercise")
    empty.cells = []
    add("h-empty", empty, ("error", "the notebook is empty"))
    deleted = _nb("solution")
    deleted.cells = [x for x in deleted.cells if "course.check(" not in x.source and
                     "checks" not in x.metadata.get("tags", [])]
    add("h-deleted-check-cell", deleted, ("pass", 3))  # the grader's checks come from solutions/
    tampered = _nb("exercise")
    for x in tampered.cells:
        if "checks" in x.metadata.get("tags", []) or "course.check(" in x.source:
            x.source = "print('PASS: all checks passed')"
    add("h-tampered-check-cell", tampered, ("fail", 0))
    dup = _nb("solution")
    for x in dup.cells:
        x["id"] = "same-id"
    add("h-duplicate-cell-ids", dup, ("pass", 3))
    swapped = _nb("solution")
    other = next(ex.id for ex in spec.catalogue().values() if ex.solution.name != NAME)
    swapped.metadata["course"]["id"] = other
    add("h-swapped-metadata", swapped, ("pass", 3))  # the file name decides
    add("h-renamed-notebook", _nb("solution"), ("pass", 3), name="my-copy.ipynb")  # the metadata decides
    add("h-error-in-one-cell", _with("raise ValueError('a typo in an unrelated cell')"), ("pass", 3))
    add("h-infinite-loop", _with("while True:\n    pass"), ("error", f"timed out after {CELL_TIMEOUT} s in cell"))
    add("h-fork-bomb", _with("import os\nwhile True:\n    os.fork()"), ("error", "process limit"))
    add("h-memory-hog", _with("hog = b'x' * (1536 * 1024 * 1024)"), ("error", "memory limit"))
    add("h-output-flood", _with("%%node\nconst line = 'z'.repeat(1023) + '\\n';\n"
                                "for (let i = 0; i < 200 * 1024; i++) process.stdout.write(line);"), ("pass", 3))
    big = "with open('big.bin', 'wb') as f:\n    for _ in range(16):\n        f.write(b'x' * (64 << 20))"
    add("h-big-file", _with(big), ("pass", 3))
    add("h-os-exit", _with("import os\nos._exit(0)"), ("error", "the kernel died in cell"))
    stubborn = _nb("solution")
    cell = _server_cell(stubborn)
    cell.source = cell.source.replace('app.listen(', 'process.on("SIGTERM", () => {});\napp.listen(')
    add("h-ignores-sigterm", stubborn, ("pass", 3))
    unbound = _nb("solution")
    cell = _server_cell(unbound)
    cell.source = cell.source.replace("--serve users", "--serve users --ready-timeout 3").replace(
        'app.listen(Number(process.env.PORT), "127.0.0.1");', "setInterval(() => {}, 1000);")
    add("h-never-binds", unbound, ("fail", "never answered on port"))

    # -- attacks ---------------------------------------------------------------------------
    add("a-remount-and-write-outside", _with(f"""
import subprocess
print(subprocess.run(['mount', '-o', 'remount,rw', '/'], capture_output=True, text=True).stderr)
for path in ['/usr/pwned-{c.token}', '{REPO}/ESCAPED-{c.token}', '{c.home_file}', '{c.tmp_dir}/keep.txt',
             '/tmp/pwned-tmp-{c.token}', '{c.home}/.bashrc']:
    try:
        open(path, 'a').write('pwned')
    except OSError as e:
        print(path, e)"""), ("pass", 3))
    add("a-leave-the-cgroup-then-hog", _with("""
import os
for root, dirs, files in os.walk('/sys/fs/cgroup'):
    if 'cgroup.procs' in files:
        try:
            open(os.path.join(root, 'cgroup.procs'), 'w').write(str(os.getpid()))
        except OSError:
            pass
hog = b'x' * (1536 * 1024 * 1024)"""), ("error", "memory limit"))
    add("a-enter-host-namespaces", _with(f"""
import ctypes, os, socket, subprocess
libc = ctypes.CDLL(None, use_errno=True)
for pid in ('1', 'self'):
    for ns in ('net', 'mnt', 'pid', 'user'):
        try:
            print(ns, libc.setns(os.open(f'/proc/{{pid}}/ns/{{ns}}', os.O_RDONLY), 0))
        except OSError as e:
            print(ns, e)
print(subprocess.run(['nsenter', '-t', '1', '-a', 'true'], capture_output=True, text=True).stderr)
print(socket.socket().connect_ex(('127.0.0.1', {c.port})))"""), ("pass", 3))
    add("a-signal-and-trace-host", _with(f"""
import ctypes, os, signal
libc = ctypes.CDLL(None, use_errno=True)
for pid in ({c.process.pid}, {os.getpid()}, 1):
    print(pid, libc.ptrace(16, pid, 0, 0))
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError as e:
        print(e)"""), ("pass", 3))
    everything = _nb("solution")
    everything.cells.insert(4, _code("import os\nos.kill(-1, 9)"))  # once its server runs
    add("a-kill-everything-it-can", everything, ("pass", 3))
    add("a-kill-the-worker", _with("""
import os, signal, subprocess
os.kill(os.getppid(), signal.SIGKILL)
subprocess.run(['pkill', '-9', '-f', 'course.grading'])"""), ("pass", 3))
    add("a-database-escalation", _with(f"""
import os, psycopg
conn = psycopg.connect(os.environ['DATABASE_URL'], autocommit=True)
for q in ["COPY (SELECT 1) TO PROGRAM 'touch {c.pwned('copy')}'", "ALTER ROLE current_user SUPERUSER",
          "CREATE EXTENSION vector", "CREATE FUNCTION f() RETURNS int AS 'libc.so.6', 'abs' LANGUAGE c",
          "SET ROLE postgres", "CREATE ROLE intruder SUPERUSER LOGIN"]:
    try:
        conn.execute(q)
        conn.execute("COPY (SELECT 1) TO PROGRAM 'touch {c.pwned('escalated')}'")
    except psycopg.Error as e:
        print(type(e).__name__)
base = os.environ['DATABASE_URL'].rsplit('@', 1)[1].rsplit('/', 1)[0]
for user in ('postgres', 'nobody'):
    try:
        psycopg.connect(f'postgresql://{{user}}@{{base}}/postgres', connect_timeout=3)
        open('/tmp/pwned', 'w')
    except psycopg.Error as e:
        print(user, type(e).__name__)"""), ("pass", 3))
    exfil = _with(f"""
import glob, os
loot = [repr(dict(os.environ))]
for path in ['{REPO}/solutions/{BASE}', '{REPO}/tests/test_hostile_corpus.py', '{c.home_file}',
             *glob.glob('/proc/*/environ'), *glob.glob('{REPO}/solutions/*/*.ipynb')]:
    try:
        loot.append(open(path, errors='replace').read()[:5000])
    except OSError as e:
        loot.append(f'blocked {{path}} {{e.errno}}')
os.makedirs('work', exist_ok=True)
open('work/loot.txt', 'w').write('\\n'.join(loot))""")
    cell = _server_cell(exfil)
    cell.source = cell.source.replace('import pg from "pg";', f'''import pg from "pg";
import fs from "node:fs";
for (const p of ["work/loot.txt", "{REPO}/solutions/{BASE}", "{c.home_file}", "/proc/1/environ"]) {{
  try {{ console.log("LOOT", fs.readFileSync(p, "utf8").slice(0, 4000)); }}
  catch (e) {{ console.log("blocked", p, e.code); }}
}}
console.log("ENV", JSON.stringify(process.env));''')
    add("a-exfiltrate-through-the-report", exfil, ("pass", 3))
    add("a-daemonize", _with(f"""
import os, subprocess, sys
subprocess.Popen(['sleep', '300', 'daemon-{c.token}'], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execvp('sleep', ['sleep', '301', 'daemon-{c.token}'])
    os._exit(0)"""), ("pass", 3))
    add("a-fill-the-disk", _with("""
import os
os.makedirs('fill', exist_ok=True)
for i in range(64):
    with open(f'fill/{i}', 'wb') as f:
        f.write(b'x' * (64 << 20))"""), ("error", "disk limit"))
    add("a-fill-the-database", _with("""
import os, psycopg
conn = psycopg.connect(os.environ['DATABASE_URL'], autocommit=True)
conn.execute("CREATE TABLE filler AS SELECT repeat(md5(g::text), 32) AS s FROM generate_series(1, 800000) AS g")
"""), ("error", "disk limit"))
    add("a-fill-tmp", _with("""
try:
    with open('/tmp/fill', 'wb') as f:
        for i in range(64):
            f.write(b'x' * (16 << 20))
except OSError as e:
    print(e)"""), ("pass", 3))
    planted = _nb("solution")
    planted.cells.insert(4, _code(f"""
import os, pathlib
pathlib.Path('.tmp').mkdir(exist_ok=True)
for link, target in [('.tmp/executed.ipynb', '{c.home_file}'), ('work/server.js', '{REPO}/solutions/{BASE}'),
                     ('.scratch/logs/check-0-0-server.log', '{c.home_file}')]:
    pathlib.Path(link).parent.mkdir(parents=True, exist_ok=True)
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink(target, link)"""))
    add("a-plant-links-for-the-grader", planted, ("fail", 0))

    # -- honest submissions graded after the hostile ones: full marks, or their own partial mark
    for n in range(1, 4):
        add(f"z-honest-{n}", _nb("solution"), ("pass", 3))
    partial = _nb("solution")
    cell = _server_cell(partial)
    cell.source = cell.source.replace("if (!Number.isInteger(id)) {", "if (false) {")
    add("z-partly-correct", partial, ("fail", 2))
    return cases


def _digest(root: Path, skip=(".venv", ".git", ".course", ".pytest_cache", "__pycache__", "node_modules")) -> str:
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in skip)
        for name in sorted(filenames):
            p = Path(dirpath, name)
            if p.is_file() and not p.is_symlink():
                h.update(str(p.relative_to(root)).encode())
                h.update(p.read_bytes())
    return h.hexdigest()


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def _traversable_by_others(path: Path) -> bool:
    return all(d.stat().st_mode & 0o001 for d in path.parents)


def _nobody_python(tmp: Path) -> str:
    """A Python that ``nobody`` can run, with this environment's packages (the course's own
    may live under a private folder, as pyenv's does under /root)."""
    if _traversable_by_others(Path(os.path.realpath(sys.executable))):
        return sys.executable
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    system = shutil.which(version, path="/usr/bin:/usr/local/bin")
    if system is None:
        pytest.fail(f"nobody cannot run {sys.executable} and there is no system {version} to use instead")
    venv = tmp / "nobody-venv"
    subprocess.run([system, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next(Path(p) for p in sys.path if p.endswith("site-packages") and Path(p).is_dir())
    (venv / "lib" / version / "site-packages" / "course-env.pth").write_text(
        f"import site; site.addsitedir({str(site)!r})\n")
    return str(venv / "bin" / "python")


@dataclass
class Run:
    mode: str
    cases: dict
    report: dict
    out: Path
    canaries: Canaries
    before: dict
    after: dict


def _grade(mode: str, tmp: Path) -> Run:
    home = tmp / "home"
    home.mkdir()
    canaries = Canaries(home)
    subs = tmp / "submissions"
    out = tmp / "grades"
    if mode == "nobody":
        for d in (tmp, home):
            os.chown(d, NOBODY, NOBODY)
    canaries.start()
    cases = _corpus(subs, canaries)
    # the instructor's files in their home (the grader itself may add its caches there)
    before = {"submissions": _digest(subs), "repo": _digest(REPO), "home": _files(home),
              "tmp": _digest(canaries.tmp_dir)}
    procs_before = set(cmdlines())
    try:
        if mode == "root":
            os.environ["COURSE_TEST_SECRET"] = canaries.secret
            try:
                report = grading.grade(sorted(subs.iterdir()), jobs=2, out=out, cell_timeout=CELL_TIMEOUT,
                                       submission_timeout=120, progress=False)
            finally:
                os.environ.pop("COURSE_TEST_SECRET", None)
        else:
            python = _nobody_python(tmp)
            subprocess.run(["chown", "-R", f"{NOBODY}:{NOBODY}", str(tmp)], check=True)
            env = {"PATH": os.environ["PATH"], "HOME": str(home), "LANG": "C.UTF-8",
                   "COURSE_TEST_SECRET": canaries.secret}
            done = subprocess.run(
                ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", python, "-m", "course",
                 "grade", *map(str, sorted(subs.iterdir())), "--jobs", "2", "--out", str(out),
                 "--cell-timeout", str(CELL_TIMEOUT), "--submission-timeout", "120", "-q"],
                env=env, cwd=str(tmp), capture_output=True, text=True, timeout=900)
            assert done.returncode == 0, done.stdout + done.stderr
            report = json.loads((out / "summary.json").read_text())
            report["learners"] = [json.loads((out / learner["name"] / "results.json").read_text())
                                  for learner in report["learners"]]
        time.sleep(0.5)  # let the last SIGKILLs land
        ours = str(REPO).encode()  # (other checkouts on this machine may be grading too)
        leftover = {pid: cmd for pid, cmd in cmdlines().items()
                    if pid not in procs_before and alive(pid) and
                    (canaries.token.encode() in cmd or (ours in cmd and (b"backend-lab-grade-" in cmd or b"bwrap" in cmd
                                                                        or b"ipykernel" in cmd or b"postgres" in cmd)))}
        after = {"submissions": _digest(subs), "repo": _digest(REPO),
                 "home": {p: _read(home / p) for p in before["home"]},
                 "tmp": _digest(canaries.tmp_dir), "leftover": leftover,
                 "canary_alive": canaries.process.poll() is None,
                 "pwned": sorted(str(p) for p in Path("/tmp").glob(f"pwned*{canaries.token}*")) +
                 [p for p in ("/tmp/pwned", f"/usr/pwned-{canaries.token}", f"{REPO}/ESCAPED-{canaries.token}")
                  if os.path.lexists(p)]}
    finally:
        canaries.stop()
    return Run(mode, cases, report, out, canaries, before, after)


MODES = ["root", "nobody"] if os.geteuid() == 0 else ["user"]


@pytest.fixture(scope="module", params=MODES)
def run(request):
    mode = request.param
    if mode == "user":  # a developer's own `make test`: the normal-user path, in-process
        mode = "root"
    # not under pytest's temporary folder, which is private to the user running the tests
    tmp = Path(tempfile.mkdtemp(prefix=f"hostile-{request.param}-"))
    tmp.chmod(0o755)
    try:
        yield _grade(mode, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_every_case_gets_its_verdict(run):
    by_name = {learner["name"]: learner for learner in run.report["learners"]}
    assert set(by_name) == set(run.cases), "every submission must appear in the report"
    assert "cell 4 raised ValueError: a typo" in by_name["h-error-in-one-cell"]["message"]
    problems = []
    for learner, (status, expect) in run.cases.items():
        got = by_name[learner]
        if isinstance(expect, int):
            ok = got["status"] == status and got["score"] == expect
        else:
            ok = got["status"] == status and expect in (got["message"] or "") + json.dumps(got["tests"])
        if not ok:
            problems.append(f"{learner}: expected {status}/{expect!r}, got {got['status']} "
                            f"{got['score']}/{got['max_score']}: {got['message']}")
    assert not problems, f"[{run.mode}]\n" + "\n".join(problems)


def test_honest_learners_after_hostile_ones_keep_their_scores(run):
    by_name = {learner["name"]: learner for learner in run.report["learners"]}
    for n in range(1, 4):
        assert by_name[f"z-honest-{n}"]["score"] == 3, by_name[f"z-honest-{n}"]
    assert by_name["z-partly-correct"]["score"] == 2


def test_nothing_outside_the_workspaces_changed(run):
    for key in ("repo", "home", "tmp", "submissions"):
        assert run.before[key] == run.after[key], f"[{run.mode}] {key} changed"
    assert run.after["pwned"] == [], f"[{run.mode}] an attack left its mark: {run.after['pwned']}"


def test_no_process_is_left_and_the_host_is_untouched(run):
    assert run.after["leftover"] == {}, f"[{run.mode}] left running: {run.after['leftover']}"
    assert run.after["canary_alive"], f"[{run.mode}] a host process was killed"
    assert run.canaries.connections == [], f"[{run.mode}] a host service on 127.0.0.1 was reached"
    if run.mode == "root" and detect.capabilities().cgroups:
        for base in (detect.CGROUP_ROOTS["pids"], detect.CGROUP_ROOTS["memory"]):
            assert not list(base.rglob("backend-lab-*")), "a submission's cgroup was left behind"


def test_no_secret_reaches_a_report(run):
    text = "\n".join(p.read_text(errors="replace") for p in run.out.rglob("*") if p.is_file())
    assert "blocked" in text or "LOOT" in text, "the exfiltration attempt should have logged something"
    for secret in (run.canaries.secret, f"home canary {run.canaries.token}", HIDDEN_CODE):
        assert secret not in text, f"[{run.mode}] {secret!r} leaked into the reports"


def test_reports_in_every_format_say_what_was_isolated(run):
    out = run.out
    solved = json.loads((out / "z-honest-1" / "results.json").read_text())
    assert solved["version"] == 3 and solved["status"] == "pass"
    assert {"name", "status", "message", "output", "test_code", "score", "max_score", "tags"} <= set(solved["tests"][0])
    hidden = [t for t in solved["tests"] if t["hidden"]]
    assert hidden and all(t["test_code"] == "" for t in hidden), "hidden tests are reported without their code"
    assert "bubblewrap" in solved["sandbox"]["sandbox"]
    assert ("root" if run.mode == "root" and os.geteuid() == 0 else "normal user") in solved["sandbox"]["sandbox"]
    gs = json.loads((out / "z-honest-1" / "gradescope.json").read_text())
    assert gs["score"] == 3 and {t["status"] for t in gs["tests"]} == {"passed"}
    assert (out / "h-untouched" / "junit.xml").read_text().count("<failure") == 3
    gradebook = (out / "gradebook.csv").read_text().splitlines()
    assert gradebook[0].startswith("learner,") and len(gradebook) == len(run.report["learners"]) + 1
    html = (out / "report.html").read_text()
    assert "error-handling" in html and "h-untouched" in html


def test_grading_the_course_gives_full_marks_to_solutions_and_zero_to_exercises(tmp_path):
    solutions = tmp_path / "instructor"
    exercises = tmp_path / "learner"
    for ex in spec.catalogue().values():
        (solutions / ex.section).mkdir(parents=True, exist_ok=True)
        (exercises / ex.section).mkdir(parents=True, exist_ok=True)
        shutil.copy(ex.solution, solutions / ex.section)
        shutil.copy(ex.exercise_path, exercises / ex.section)
    report = grading.grade([solutions, exercises], jobs=2, out=tmp_path / "grades", progress=False,
                           formats=("json",))
    by_name = {learner["name"]: learner for learner in report["learners"]}
    instructor, learner = by_name["instructor"], by_name["learner"]
    failing = [f"{t['name']}: {t['message']}" for t in instructor["tests"] if t["status"] != "pass"]
    assert not failing and instructor["score"] == instructor["max_score"] > 0, "\n".join(failing)
    passing = [t["name"] for t in learner["tests"] if t["status"] == "pass"]
    assert not passing, f"checks that pass on an untouched exercise cannot fail: {passing}"
    assert learner["score"] == 0


def test_with_no_sandbox_limits_still_hold_and_every_report_says_so(tmp_path):
    """``--no-sandbox``: the instructor's explicit choice where no sandbox can be made. The
    memory hog must still be stopped at 1 GiB, the PostgreSQL of the worker must survive a
    fork bomb's clean-up, and the report must say that nothing was isolated."""
    root = tmp_path / "submissions"
    cases = {"solved": ("pass", None), "memory-hog": ("error", "killed at the 1 GiB memory limit"),
             "zz-after": ("pass", None)}
    for learner, cell in [("solved", None), ("memory-hog", "hog = b'x' * (1536 * 1024 * 1024)"), ("zz-after", None)]:
        nb = _with(cell) if cell else _nb("solution")
        (root / learner).mkdir(parents=True)
        nbformat.write(nb, root / learner / NAME)
    report = grading.grade(sorted(root.iterdir()), jobs=1, out=tmp_path / "grades", cell_timeout=30,
                           submission_timeout=120, progress=False, formats=("json",), no_sandbox=True)
    by_name = {learner["name"]: learner for learner in report["learners"]}
    for learner, (status, message) in cases.items():
        got = by_name[learner]
        assert got["status"] == status, f"{learner}: {got['status']} {got['message']}"
        assert message is None or message in got["message"], f"{learner}: {got['message']}"
    assert by_name["zz-after"]["score"] == 3, "the next learner on the same worker is unaffected"
    assert report["sandbox"]["sandbox"].startswith("NONE")
    assert all("WITHOUT a sandbox" in learner["message"] for learner in report["learners"]), \
        "every learner's report says so"
    assert "NOT isolated" in report["sandbox"]["network"]
    solved = json.loads((tmp_path / "grades" / "solved" / "results.json").read_text())
    assert solved["sandbox"]["sandbox"].startswith("NONE")
