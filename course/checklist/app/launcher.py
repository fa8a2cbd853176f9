"""Where an app's build steps and the app itself run: here, or inside a grading sandbox.

``course check`` runs a learner's app on the learner's own machine (:class:`HostLauncher`:
the caller's environment, plus the contract's variables). The grader passes its
submission's :class:`~course.sandbox.jail.Jail` instead, which has the same two
methods: every build step and the app then run in a sandbox, with the learner's
environment and nothing of the grader's.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Protocol

from ... import procs

HIDDEN_FROM_APPS = ("VIRTUAL_ENV", "PYTHONHOME", "PYTHONPATH")  # the course's own Python is not the app's


class Launcher(Protocol):
    def run(self, argv: list[str], *, cwd: Path, timeout: float | None = ...,
            env: Mapping[str, str] | None = None) -> procs.RunResult:
        """Run a build step to completion; ``env`` holds only the variables to add."""

    def spawn(self, argv: list[str], *, cwd: Path, stdout=None, stderr=None,
              env: Mapping[str, str] | None = None):
        """Start the app (a Popen, or something that behaves like one)."""


class HostLauncher:
    """On this machine, as this user: what ``course check`` does."""

    @staticmethod
    def _env(extra: Mapping[str, str] | None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in HIDDEN_FROM_APPS}
        env.update(extra or {})
        return env

    def run(self, argv, *, cwd, timeout=None, env=None):
        return procs.run(argv, cwd=cwd, env=self._env(env), echo=None, timeout=timeout)

    def spawn(self, argv, *, cwd, stdout=None, stderr=None, env=None):
        return procs.spawn(argv, cwd=cwd, env=self._env(env), stdout=stdout, stderr=stderr)
