"""The app under check: read its Procfile, build it if needed, start it, wait, stop it.

The learner's app can be written in any language, so the only interface is the one a
platform (Heroku, Fly, Kubernetes) gives: a ``web:`` command, environment variables, a
port, signals and stdout. One module per job:

* :mod:`.procfile` — parse and validate the ``web:`` line (exec'd without a shell);
* :mod:`.prepare` — ``npm ci`` / ``go build`` / ``mvn package`` / a private venv, cached;
* :mod:`.log` — the app's output through a bounded reader (no full disk, no full pipe);
* :mod:`.process` — spawn in its own session with the contract's environment, stop the group;
* :mod:`.readiness` — wait until ``GET /health`` gets an HTTP answer, or say why not;
* :mod:`.ports` — which ports the app listens on instead (``/proc``), for the hint.
"""
from __future__ import annotations

from .errors import ANSI_ESCAPE, AppStartError
from .log import LOG_CAP, BoundedLog
from .ports import listening_ports
from .prepare import BUILD_TIMEOUT, COPY_IGNORE, Prepared, app_cache_dir, prepare
from .process import START_TIMEOUT, STOP_GRACE, AppProcess, contract_env
from .procfile import AppSpec, load_spec, substitute
from .readiness import PROBE_TIMEOUT, wait_ready

__all__ = ["ANSI_ESCAPE", "BUILD_TIMEOUT", "COPY_IGNORE", "LOG_CAP", "PROBE_TIMEOUT", "START_TIMEOUT",
           "STOP_GRACE", "AppProcess", "AppSpec", "AppStartError", "BoundedLog", "Prepared", "app_cache_dir",
           "contract_env", "listening_ports", "load_spec", "prepare", "substitute", "wait_ready"]
