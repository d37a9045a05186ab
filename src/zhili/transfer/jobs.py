"""Import jobs of the admin page: the upload is streamed to the upload folder, an ImportJob row records
it, and a thread of the server runs the import while the page polls its progress.

The job's statuses: queued (created by the upload request) → running (claimed by its thread) → done,
rejected (bad rows: nothing stored, the report kept on the job) or failed (an unexpected error, or
the server stopped mid-way; nothing stored either, the import being one transaction).

Progress while running: the thread keeps it in this process's memory (`_live`), which every request
of the process reads. On PostgreSQL it is also written to the job row about once a second, in its own
transaction, so that other server processes see it too; on SQLite the import holds the database's
only write lock until it commits, so the row is written only when the job ends.

The final status is written in the import's own transaction when the import succeeds (the rows and
"done" commit together), and in a transaction of its own otherwise.
"""

import logging
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final

from sqlalchemy import Select
from sqlalchemy.orm import Session

from zhili.auth.subject import Subject
from zhili.config import get_settings
from zhili.db import get_sessionmaker
from zhili.errors import FieldProblem, ImportRejected, Invalid, TooLarge
from zhili.kit import i18n
from zhili.kit.i18n import N_, _
from zhili.kit.time import now
from zhili.models import ImportJob, Role
from zhili.transfer import repository as repo
from zhili.transfer.appeals import AppealImportReport, check_source, import_appeals, template_rows
from zhili.transfer.files import accepted_formats, count_rows, file_kind, read_rows, table_file

log = logging.getLogger("zhili.imports")

KIND_APPEALS: Final = "appeals"
QUEUED, RUNNING, DONE, REJECTED, FAILED = "queued", "running", "done", "rejected", "failed"
FINISHED: Final = frozenset({DONE, REJECTED, FAILED})
PROGRESS_EVERY_SECONDS: Final = 1.0
COPY_CHUNK: Final = 1 << 20
INTERRUPTED = N_("服务器在导入过程中停止，导入未完成，未写入任何数据；请重新上传文件")
CRASHED = N_("导入时发生意外错误，未写入任何数据；请联系管理员查看服务器日志")

# Job id → (processed rows, bad rows) of the jobs running in this process.
_live: dict[int, tuple[int, int]] = {}


@dataclass(frozen=True)
class Progress:
    processed: int
    bad: int
    total: int | None

    @property
    def percent(self) -> int | None:
        if not self.total:
            return None
        return min(99, self.processed * 100 // self.total)


def progress_of(job: ImportJob) -> Progress:
    processed, bad = _live.get(job.id, (job.processed_rows, job.bad_rows))
    return Progress(processed, bad, job.total_rows)


# The admin page's reads and writes -----------------------------------------------------------------


def listing(subject: Subject) -> Select[Any]:
    """The jobs of the subject's area, newest first (an admin's, or those of the regions below it)."""
    subject.require(Role.admin)
    return repo.jobs(subject)


def get(session: Session, subject: Subject, job_id: int) -> ImportJob:
    subject.require(Role.admin)
    return repo.job(session, subject, job_id)


def template(session: Session, subject: Subject, kind: str) -> bytes:
    """The import template as CSV or .xlsx, its example row naming codes of the subject's area."""
    subject.require(Role.admin)
    return table_file(kind, template_rows(repo.example_codes(session, subject)), _("历史工单"))


def submit(session: Session, subject: Subject, stream: BinaryIO, filename: str, source: str,
           kind: str = KIND_APPEALS) -> tuple[ImportJob, str]:
    """Save an upload and queue its job; the caller commits, then `start`s it with the returned source.
    `kind` is "appeals" or one of the base-data kinds (zhili.basedata.imports.KINDS)."""
    subject.require(Role.admin)
    if kind == KIND_APPEALS:
        source = check_source(source)
    path = save_upload(stream, filename)
    job = ImportJob(kind=kind, filename=filename[:200], path=str(path), status=QUEUED,
                    region_code=subject.region_code, total_rows=count_rows(path),
                    created_by_id=subject.id if subject.kind == "staff" else None)
    session.add(job)
    session.flush()
    return job, source


def save_upload(stream: BinaryIO, filename: str) -> Path:
    """Copy an upload to the upload folder in chunks, refusing it past `import_max_bytes`."""
    kind = file_kind(filename)
    if kind is None:
        message = _("不支持的文件格式“{name}”", name=filename)
        raise Invalid(message, [FieldProblem("file", message, accepted_formats())])
    settings = get_settings()
    folder = Path(settings.upload_dir) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{secrets.token_hex(12)}.{kind}"
    written = 0
    with path.open("wb") as out:
        while chunk := stream.read(COPY_CHUNK):
            written += len(chunk)
            if written > settings.import_max_bytes:
                out.close()
                path.unlink()
                raise TooLarge(_("文件超过 {mb} MB 上限，请拆分后分批导入",
                                 mb=round(settings.import_max_bytes / 1048576)))
            out.write(chunk)
    return path


def start(job_id: int, subject: Subject, source: str, locale: str) -> None:
    """Run a committed job in a thread of this process (the report speaks the uploader's language)."""
    threading.Thread(target=run, args=(job_id, subject, source, locale), name=f"import-{job_id}", daemon=True).start()


# Running it ------------------------------------------------------------------------------------


def run(job_id: int, subject: Subject, source: str, locale: str) -> None:
    i18n.set_locale(locale)
    factory = get_sessionmaker()
    with factory() as session:
        repo.lock_job(session, job_id)  # held until the import commits or rolls back
        if not _claim(job_id):
            session.rollback()
            return
        job = session.get(ImportJob, job_id)
        assert job is not None
        path = Path(job.path)
        _live[job_id] = (0, 0)
        try:
            if job.kind == KIND_APPEALS:
                report = import_appeals(session, read_rows(path), source=source, subject=subject,
                                        progress=_reporter(job_id))
            else:  # a base-data kind: addresses, houses, residents, units, places
                from zhili.basedata.imports import import_kind

                report = import_kind(session, job.kind, read_rows(path), subject=subject, progress=_reporter(job_id))
            repo.set_job(session, job_id, _finished(DONE, rows=report.rows, imported=report.created))
            session.commit()
        except ImportRejected as exc:
            session.rollback()
            _finish(job_id, _rejected(exc))
        except Invalid as exc:
            session.rollback()
            _finish(job_id, _finished(REJECTED, message=exc.message,
                                      report=[p.as_dict() for p in exc.problems]))
        except Exception:
            session.rollback()
            log.exception("import job %s failed", job_id)
            _finish(job_id, _finished(FAILED, message=_(CRASHED)))
        finally:
            _live.pop(job_id, None)
            path.unlink(missing_ok=True)


def _claim(job_id: int) -> bool:
    with get_sessionmaker()() as session, session.begin():
        return repo.claim_job(session, job_id, {"started_at": now()})


def _reporter(job_id: int) -> "_Reporter":
    return _Reporter(job_id, persist=not get_settings().is_sqlite)


class _Reporter:
    """The import's progress callback: memory always, the job row at most once a second (PostgreSQL)."""

    def __init__(self, job_id: int, *, persist: bool) -> None:
        self.job_id = job_id
        self.persist = persist
        self.saved_at = 0.0

    def __call__(self, processed: int, bad: int) -> None:
        _live[self.job_id] = (processed, bad)
        if self.persist and time.monotonic() - self.saved_at >= PROGRESS_EVERY_SECONDS:
            self.saved_at = time.monotonic()
            with get_sessionmaker()() as session, session.begin():
                repo.set_job(session, self.job_id, {"processed_rows": processed, "bad_rows": bad})


def _finished(status: str, *, rows: int | None = None, imported: int = 0, bad: int = 0, message: str = "",
              report: list[dict[str, object]] | None = None) -> dict[str, object]:
    values: dict[str, object] = {"status": status, "imported_rows": imported, "bad_rows": bad, "message": message,
                                 "report": report or [], "finished_at": now(), "path": ""}
    if rows is not None:
        values["processed_rows"] = rows
    return values


def _rejected(exc: ImportRejected) -> dict[str, object]:
    """Bad rows: the page says how many and lists them, the message adds only what the list cannot say
    (that it is cut short). A bad file as a whole: the message says what is wrong with it."""
    report = exc.report
    if not isinstance(report, AppealImportReport) or not report.bad_rows:
        return _finished(REJECTED, message=exc.message, report=[p.as_dict() for p in report.problems])
    message = ""
    if report.problem_count > len(report.problems):
        message = _("共 {n} 处问题，下表列出前 {k} 处。", n=report.problem_count, k=len(report.problems))
    return _finished(REJECTED, rows=report.rows, bad=report.bad_rows, message=message,
                     report=[p.as_dict() for p in report.problems])


def _finish(job_id: int, values: dict[str, object]) -> None:
    with get_sessionmaker()() as session, session.begin():
        repo.set_job(session, job_id, values)


# After a crash ---------------------------------------------------------------------------------


def fail_interrupted_jobs(session: Session) -> int:
    """Mark as failed every queued or running job whose runner is gone (the server stopped during the
    import), and delete its upload. Call it at startup; the caller commits. Returns how many.

    Safe with several server processes on PostgreSQL: a job whose runner still holds its lock (in
    another process) is left alone. Nothing of a failed job was stored: the import is one transaction.
    """
    failed = 0
    for job in repo.unfinished_jobs(session):
        if not repo.runner_gone(session, job.id):
            continue
        if job.path:
            Path(job.path).unlink(missing_ok=True)
        repo.set_job(session, job.id, _finished(FAILED, message=_(INTERRUPTED)))
        failed += 1
    return failed
