"""Install an app's dependencies or build it, once per change of its inputs.

The submission folder is treated as read-only, with one exception: ``npm ci`` creates
``node_modules`` in it (Node resolves packages relative to the code). Everything else
(Python venvs, Go binaries, Maven jars) goes to a cache folder keyed by the app's path,
under the user cache (``~/.cache/backend-lab/apps/``).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Callable

from ... import paths, toolchains
from .conflicts import classify
from .errors import AppStartError
from .launcher import HostLauncher, Launcher
from .procfile import AppSpec

BUILD_TIMEOUT = 900.0
COPY_IGNORE = (".git", "node_modules", ".venv", "venv", "__pycache__", ".idea", ".vscode")

Progress = Callable[[str], None]


@dataclasses.dataclass
class Prepared:
    """How to run a prepared app: where, which command, and what goes first on PATH."""

    spec: AppSpec
    cwd: Path
    command: tuple[str, ...]
    path_prefix: list[str]
    venv: Path | None = None  # the private venv made from requirements.txt
    steps: list[str] = dataclasses.field(default_factory=list)  # what prepare did, for the report


def app_cache_dir(app_dir: Path) -> Path:
    key = hashlib.sha256(str(app_dir.resolve()).encode()).hexdigest()[:16]
    return paths.CACHE / "apps" / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', app_dir.name)[:30]}-{key}"


def _hash_files(files: list[Path]) -> str:
    h = hashlib.sha256()
    for f in sorted(files):
        h.update(str(f).encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def _tree_files(root: Path, ignore: tuple[str, ...]) -> list[Path]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in ignore]
        out.extend(Path(dirpath) / n for n in filenames)
    return out


class _Stamp:
    """A file holding the hash of what a prepare step consumed; equal hash = skip."""

    def __init__(self, path: Path, digest: str):
        self.path, self.digest = path, digest

    def fresh(self) -> bool:
        return self.path.is_file() and self.path.read_text().strip() == self.digest

    def write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(self.digest + "\n")


def _build(argv: list[str], *, cwd: Path, what: str, env: dict[str, str] | None = None,
           launcher: Launcher) -> float:
    start = time.monotonic()
    result = launcher.run(argv, cwd=cwd, env=env or {}, timeout=BUILD_TIMEOUT)
    if not result.ok:
        reason = "timed out" if result.timed_out else f"failed (exit {result.returncode})"
        output = (result.stdout[-4000:] + "\n" + result.stderr_tail).strip()
        conflict = None if result.timed_out else classify(output)
        if conflict is not None:  # name the clashing packages and the way out, not just "failed"
            raise AppStartError(conflict.message(what), output, code=conflict.code)
        raise AppStartError(f"`{what}` {reason} in {cwd}.", output)
    return time.monotonic() - start


def _npm_script(app_dir: Path, name: str) -> bool:
    try:
        return name in json.loads((app_dir / "package.json").read_text()).get("scripts", {})
    except (OSError, ValueError):
        return False


def _sync_copy(src: Path, dst: Path, keep: tuple[str, ...]) -> None:
    """Make ``dst`` a copy of ``src`` (minus VCS/dependency folders), keeping build outputs ``keep``."""
    dst.mkdir(parents=True, exist_ok=True)
    for child in dst.iterdir():
        if child.name in keep:
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    shutil.copytree(src, dst, symlinks=True, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns(*COPY_IGNORE, *keep))


def _build_in_copy(app_dir: Path, src: Path, *, stamp_name: str, output: str, keep: tuple[str, ...],
                   argv: list[str], env: dict[str, str] | None, label: str, what: str,
                   prepared: "Prepared", say: Progress, launcher: Launcher, note: str = "") -> Path:
    """Build in a private copy of the app (the submission is never written to), once per
    change of its files; returns the copy, where the ``web:`` command then runs."""
    stamp = _Stamp(src.parent / f"{stamp_name}.stamp", _hash_files(_tree_files(app_dir, COPY_IGNORE + (output,))))
    if not (stamp.fresh() and (src / output).exists()):
        say(f"{what} (in a private copy{note})…")
        _sync_copy(app_dir, src, keep=keep)
        took = _build(argv, cwd=src, env=env, what=what, launcher=launcher)
        stamp.write()
        prepared.steps.append(f"{label} ({took:.1f} s)")
    return src


def prepare(spec: AppSpec, *, progress: Progress | None = None, launcher: Launcher | None = None,
            cache: Path | None = None) -> Prepared:
    """Install dependencies or build, once per change of the inputs (stamp with their hash).

    * ``package-lock.json`` → ``npm ci`` in the app folder (creates ``node_modules`` there);
    * ``go.mod`` → a private copy in the cache, ``go build -o app .`` there, and the
      ``web:`` command runs in that copy (so ``web: ./app`` finds the binary);
    * ``pom.xml`` → the same with ``mvn -q -B package -DskipTests`` (``web: java -jar target/….jar``);
    * ``requirements.txt`` → a venv in the cache that also sees the course's packages,
      put first on PATH so ``python`` is that venv.

    ``launcher`` runs each step (the grader's sandbox; by default here); ``cache`` replaces
    the user cache folder (the grader's is inside the submission's workspace).
    """
    say = progress or (lambda _msg: None)
    launcher = launcher or HostLauncher()
    app_dir = spec.app_dir
    cache = cache or app_cache_dir(app_dir)
    prepared = Prepared(spec, app_dir, spec.command, [os.path.dirname(sys.executable)])

    if (app_dir / "package-lock.json").is_file():
        # devDependencies (typescript, ...) are needed to build, whatever the caller's NODE_ENV
        npm_env = {"NODE_ENV": "development"}
        stamp = _Stamp(cache / "npm-ci.stamp", _hash_files([app_dir / "package-lock.json"]))
        if not (stamp.fresh() and (app_dir / "node_modules").is_dir()):
            say("npm ci (installs node_modules in the app folder)…")
            took = _build([toolchains.require("npm"), "ci", "--no-audit", "--no-fund"], cwd=app_dir,
                          what="npm ci", env=npm_env, launcher=launcher)
            stamp.write()
            prepared.steps.append(f"npm ci ({took:.1f} s)")
        if _npm_script(app_dir, "build"):  # TypeScript (NestJS): compile when a source changed
            sources = _tree_files(app_dir, COPY_IGNORE + ("dist", "build"))
            stamp = _Stamp(cache / "npm-build.stamp", _hash_files(sources))
            if not stamp.fresh():
                say("npm run build…")
                took = _build([toolchains.require("npm"), "run", "build"], cwd=app_dir, what="npm run build",
                              env=npm_env, launcher=launcher)
                stamp.write()
                prepared.steps.append(f"npm run build ({took:.1f} s)")

    if (app_dir / "go.mod").is_file():
        from ...runners.go import go_env

        prepared.cwd = _build_in_copy(
            app_dir, cache / "go-src", stamp_name="go-build", output="app", keep=(), say=say,
            argv=[toolchains.require("go"), "build", "-o", "app", "."], env=go_env(),
            label="go build", what="go build -o app .", prepared=prepared, launcher=launcher)

    if (app_dir / "pom.xml").is_file():
        prepared.cwd = _build_in_copy(
            app_dir, cache / "maven-src", stamp_name="maven", output="target", keep=("target",), say=say,
            argv=[toolchains.require("maven"), "-q", "-B", "-Dstyle.color=never", "package", "-DskipTests"],
            env=None, label="mvn package", what="mvn -q -B package -DskipTests",
            note=" (the first build downloads dependencies)", prepared=prepared, launcher=launcher)

    if (app_dir / "requirements.txt").is_file():
        venv = cache / "venv"
        stamp = _Stamp(cache / "venv.stamp",
                       _hash_files([app_dir / "requirements.txt"]) + sys.executable)
        if not (stamp.fresh() and (venv / "bin" / "python").exists()):
            say("pip install -r requirements.txt (into a private venv)…")
            took = _make_venv(venv, app_dir / "requirements.txt", launcher)
            stamp.write()
            prepared.steps.append(f"pip install ({took:.1f} s)")
        prepared.path_prefix.insert(0, str(venv / "bin"))
        prepared.venv = venv
    return prepared


def _make_venv(venv: Path, requirements: Path, launcher: Launcher) -> float:
    """A venv whose ``python`` also sees the course's packages (a ``.pth`` file), so
    requirements the course already has install instantly and offline."""
    start = time.monotonic()
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    _build([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=venv.parent, what="python -m venv",
           launcher=launcher)
    import sysconfig

    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    site = venv / "lib" / version / "site-packages"  # where a venv of this Python keeps them
    course_site = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    site.mkdir(parents=True, exist_ok=True)
    (site / "backend-lab-course.pth").write_text("\n".join(sorted(course_site)) + "\n")
    _build([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q",
            "--disable-pip-version-check", "-r", str(requirements)], cwd=requirements.parent,
           what="pip install -r requirements.txt", launcher=launcher)
    return time.monotonic() - start


# -- run inside a grading sandbox --------------------------------------------------------
def to_json(prepared: Prepared) -> dict:
    return {"cwd": str(prepared.cwd), "command": list(prepared.command), "path_prefix": prepared.path_prefix,
            "venv": str(prepared.venv) if prepared.venv else None, "steps": prepared.steps}


def from_json(spec: AppSpec, data: dict) -> Prepared:
    return Prepared(spec, Path(data["cwd"]), tuple(data["command"]), list(data["path_prefix"]),
                    Path(data["venv"]) if data["venv"] else None, list(data["steps"]))


def in_sandbox(spec: AppSpec, launcher, cache: Path, *, progress: Progress | None = None) -> Prepared:
    """:func:`prepare`, run as one command in ``launcher`` (the grader's sandbox): every step and
    every file it writes happen there, never in the grader, which only reads the JSON answer
    (a folder the app can write must not be written by the grader: a planted link would send
    the grader's writes anywhere)."""
    (progress or (lambda _m: None))("preparing the app (in the sandbox)…")
    result = launcher.run([sys.executable, "-m", "course.checklist.app.build", str(spec.app_dir), str(cache)],
                          cwd=spec.app_dir, timeout=BUILD_TIMEOUT * 2)
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if not result.ok or not lines:
        raise AppStartError("Preparing the app failed in the sandbox.",
                            (result.stdout[-4000:] + "\n" + result.stderr_tail).strip())
    answer = json.loads(lines[-1])
    if "error" in answer:
        raise AppStartError(answer["error"], answer.get("output", ""), code=answer.get("code", ""))
    return from_json(spec, answer)
