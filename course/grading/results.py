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


@dataclasses.dataclass(frozen=True)
class Verdict:
    """Why a whole submission got the ``error`` status instead of test-by-test scores, and
    whose failure it was. ``by_grader`` ones (the grader crashed, the instructor's checks
    would not load, a worker died before the submission reached it) make ``course grade``
    exit 3: they are the instructor's to fix. The learner's (a timeout, a limit, a corrupt
    notebook) are grades like any other. Travels as JSON between grading processes."""

    message: str
    by_grader: bool = False

    def __str__(self) -> str:
        return f"error: {self.message}"

    def to_json(self) -> dict:
        return {"message": self.message, "by_grader": self.by_grader}

    @classmethod
    def from_json(cls, data: dict) -> "Verdict":
        return cls(str(data["message"]), bool(data.get("by_grader")))


@dataclasses.dataclass
class Graded:
    """One submission's grading, as it travels from the grading child to the worker process
    (JSON lines), to the Dask client (pickled) and into the reports.

    ``ok``: the instructor's tests ran (whatever they found). ``verdict``: why the whole
    submission is an error instead (a limit, a timeout, a grader failure). ``error``: the
    cell that raised, when the notebook stopped early but the tests still ran."""

    tests: list[TestResult] = dataclasses.field(default_factory=list)
    verdict: Verdict | None = None
    ok: bool = False
    exercise: str | None = None
    error: str | None = None
    executed: bool = False
    execution_s: float = 0.0
    tests_s: float = 0.0
    work_s: float = 0.0
    trace: str | None = None  # the grader's own traceback, when it crashed (its log, not reports)

    @classmethod
    def failed(cls, verdict: Verdict, **fields) -> "Graded":
        """A submission that could not be graded, and why."""
        return cls(verdict=verdict, **fields)

    def to_json(self) -> dict:
        data = dataclasses.asdict(self)
        data["tests"] = [t.to_json() for t in self.tests]
        data["verdict"] = self.verdict.to_json() if self.verdict else None
        return data

    @classmethod
    def from_json(cls, data: dict) -> "Graded":
        fields = {f.name for f in dataclasses.fields(cls)}
        known = {k: v for k, v in data.items() if k in fields}
        known["tests"] = [TestResult.from_json(t) for t in data.get("tests", [])]
        known["verdict"] = Verdict.from_json(data["verdict"]) if data.get("verdict") else None
        return cls(**known)


def shorten(text: str, limit: int = OUTPUT_LIMIT) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 20] + "\n… (truncated)"
