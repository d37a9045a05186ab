"""Domain errors carry their HTTP status; the web layer renders them as JSON or a page."""

from dataclasses import dataclass, field


@dataclass
class FieldProblem:
    """One thing wrong with one input field, said so a person can fix it."""

    field: str
    problem: str
    expected: str = ""
    row: int | None = None

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"field": self.field, "problem": self.problem}
        if self.expected:
            out["expected"] = self.expected
        if self.row is not None:
            out["row"] = self.row
        return out


class AppError(Exception):
    status_code = 400
    # Set on errors whose request must still commit what it wrote (a refused login counts the attempt).
    keep_changes = False

    def __init__(self, message: str, problems: list[FieldProblem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or []
        self.headers: dict[str, str] = {}


class Invalid(AppError):
    status_code = 422


class NotFound(AppError):
    status_code = 404


class Conflict(AppError):
    status_code = 409


class Forbidden(AppError):
    status_code = 403


class Unauthorized(AppError):
    status_code = 401


class TooLarge(AppError):
    status_code = 413


class Locked(AppError):
    status_code = 423


class TooManyRequests(AppError):
    status_code = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.headers["Retry-After"] = str(retry_after)


@dataclass
class ImportReport:
    """Row-by-row outcome of an all-or-nothing import."""

    problems: list[FieldProblem] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


class ImportRejected(AppError):
    status_code = 422

    def __init__(self, message: str, report: ImportReport) -> None:
        super().__init__(message, report.problems)
        self.report = report
