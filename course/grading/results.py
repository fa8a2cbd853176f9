"""What a test run produces: typed, from the test to every export."""
from __future__ import annotations

import dataclasses
import enum

OUTPUT_LIMIT = 500  # Exercism's limit for a test's output


class Status(str, enum.Enum):
    """A test's outcome. ``error``: the test could not judge (the learner's code would not
    start, or the test itself broke), as opposed to ``fail``: it judged, and the rule is broken."""

    PASS = "pass"
    FAIL = "fail"
    ERROR = "error"


@dataclasses.dataclass
class TestResult:
    name: str
    status: Status
    score: float
    max_score: float
    message: str | None
    output: str
    test_code: str  # empty for hidden tests: learners never see their code
    tags: list[str]
    hidden: bool = False
    hint: str | None = None
    exchange: dict | None = None  # the request and response that decided it
    duration_s: float = 0.0
    task_id: int | None = None

    __test__ = False  # not a pytest test class

    def to_json(self) -> dict:
        data = dataclasses.asdict(self)
        data["status"] = self.status.value
        data["duration_s"] = round(self.duration_s, 3)
        return data

    @classmethod
    def from_json(cls, data: dict) -> "TestResult":
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{**{k: v for k, v in data.items() if k in fields}, "status": Status(data["status"])})


def shorten(text: str, limit: int = OUTPUT_LIMIT) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 20] + "\n… (truncated)"
