"""The seed's error codes (its ``error_codes`` block), each with the seed's message and recovery.

The tools name them where the situation arises, so a learner who meets one can look it up in
the seed and in the lessons: ``course new`` says FRAMEWORK_NOT_SUPPORTED, ``course check``
says ASYNC_PATTERN_MISMATCH when an app blocks its event loop (checks/health_check.py) and
DEPENDENCY_CONFLICT when preparing an app fails on a version conflict (checklist/app/conflicts.py).
"""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class ErrorCode:
    code: str
    message: str  # the seed's words
    recovery: str  # the seed's words


FRAMEWORK_NOT_SUPPORTED = ErrorCode("FRAMEWORK_NOT_SUPPORTED", "Requested framework not in supported list",
                                    "Use one of supported frameworks or request addition")
ASYNC_PATTERN_MISMATCH = ErrorCode("ASYNC_PATTERN_MISMATCH", "Sync/async pattern conflict detected",
                                   "Ensure consistent async/await usage")
DEPENDENCY_CONFLICT = ErrorCode("DEPENDENCY_CONFLICT", "Package version conflict detected",
                                "Check package.json/requirements.txt compatibility")

SEED_CODES = (FRAMEWORK_NOT_SUPPORTED, ASYNC_PATTERN_MISMATCH, DEPENDENCY_CONFLICT)
