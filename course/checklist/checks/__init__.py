"""One black-box check per checklist item, in checklist order (the seed's 11, then the extras).

Each module exposes ``check(target) -> Result``. The engine runs all of them except
health-check and graceful-shutdown concurrently (each with its own client address),
then health-check alone (it blocks the database), then graceful-shutdown last (it
ends the app).
"""
from __future__ import annotations

from typing import Callable

from course.checklist.items import ALL_ITEM_IDS
from course.checklist.model import Result, Target

from . import (compression, connection_pooling, cors, error_handling, graceful_shutdown,
               health_check, logs, metrics, rate_limiting, request_validation, security_headers, tracing)

_MODULES = (error_handling, logs, request_validation, compression, cors, rate_limiting,
            connection_pooling, graceful_shutdown, health_check, metrics, security_headers, tracing)

CHECKS: dict[str, Callable[[Target], Result]] = {m.ITEM_ID: m.check for m in _MODULES}

if tuple(CHECKS) != ALL_ITEM_IDS:  # a module's ITEM_ID drifted from items.yaml
    raise ImportError(f"checks {tuple(CHECKS)} are not in checklist order {ALL_ITEM_IDS}")

__all__ = ["CHECKS"]
