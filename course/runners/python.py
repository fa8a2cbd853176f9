"""Python snippets in a child process (for servers: the kernel itself runs plain cells)."""
from __future__ import annotations

import sys

from .base import Program, Runner, write_if_changed


class PythonRunner(Runner):
    language = "python"
    label = "Python"
    missing_module_pattern = r"ModuleNotFoundError"

    def build(self, source, *, server=False, timeout=60.0):
        d = self.workdir(source)
        path = write_if_changed(d / "cell.py", source)
        # this interpreter, so the course's packages (fastapi, uvicorn, ...) are importable
        return Program([sys.executable, "-u", str(path)], cwd=d, env={"PYTHONUNBUFFERED": "1"},
                       source_path=path)
