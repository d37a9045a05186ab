"""The queued intake (受理队列): acknowledge an appeal after one durable insert, file it moments later.

Filing an appeal as a work order takes a dozen statements (the order, its appeal, the register event
and its outbox rows, the routing suggestion). An outside system or a hotline switch sending thousands
an hour should not wait for all of that. On the queued path, `accept` checks the appeal exactly as
filing would (place, jurisdiction, category, channel, attribute values: bad input is refused at once,
naming each field), then stores it as one `intake_items` row through the group commit
(zhili.intake.commit) and answers with its token, the tracking code the caller keeps. `file_queued`,
run by the intake worker a few times a second, files queued rows as work orders in batches, each
through `work_order.service.file_appeals`, so the order is exactly what the direct path makes.

Open311 POST always takes this path (the spec's `token` answer); the native API takes it when the
client sends `Prefer: respond-async` (RFC 7240), answering 202. A row whose filing fails after all
(its category was retired meanwhile) is marked rejected with the reasons, which its token shows.
"""

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, selectinload
from starlette.concurrency import run_in_threadpool

from zhili import idempotency
from zhili.access import readable
from zhili.auth.service import subject_for_api_key, subject_for_staff
from zhili.auth.subject import Subject, SubjectKind
from zhili.db import get_engine
from zhili.errors import AppError, FieldProblem, NotFound
from zhili.intake import reference
from zhili.intake.commit import Pending, committer
from zhili.intake.schemas import IntakeStatus
from zhili.kit.i18n import _
from zhili.kit.time import now
from zhili.models import ApiKey, Appeal, IntakeItem, IntakeState, Staff, WorkOrder
from zhili.work_order.schemas import AppealCreate
from zhili.work_order.service import (
    CheckedAppeal,
    Filing,
    Remembering,
    check_appeal,
    file_appeals,
    new_tracking_code,
)

log = logging.getLogger("zhili.intake")

# Rows filed per transaction: on SQLite the filing holds the database's one write lock, which the
# acknowledgements wait for, so it takes fewer at a time.
BATCH = {"postgresql": 200, "sqlite": 20}
KEEP_FILED_DAYS = 7  # a filed row's token resolves through its appeal's tracking code after that

SessionFactory = Callable[[], Session]


@dataclass(frozen=True)
class Accepted:
    """A checked appeal about to be queued: the token it will be known by, and where it goes."""

    token: str
    checked: CheckedAppeal
    row: dict[str, Any]


def accept(session: Session, subject: Subject, data: AppealCreate) -> Accepted:
    """Check an appeal as filing would; raise what filing would raise. Writes nothing."""
    checked = check_appeal(session, subject, data, reference.kept)
    payload = data.model_dump(mode="json", exclude_defaults=True)
    payload["channel"] = checked.channel.value
    token = new_tracking_code()
    row = {"token": token, "state": IntakeState.queued, "received_at": now(), "payload": payload,
           "source_key_id": subject.id if subject.kind == SubjectKind.api_key else None,
           "staff_id": subject.id if subject.kind == SubjectKind.staff else None}
    return Accepted(token=token, checked=checked, row=row)


async def store_async(request: Request, session: Session, accepted: Accepted, response: Response) -> None:
    """Commit the row, with the answer's idempotency record when the request carried a key; only then
    may `response` go out. Raises Replay (a retry: answer as the first time) or Invalid.

    The request's own session commits first if it was used (a key's last use, noted while checking):
    on SQLite it would otherwise hold the write lock the committer needs."""
    if session.in_transaction():
        await run_in_threadpool(session.commit)
    answer = idempotency.answer_record(request, response)
    await committer(get_engine()).store_async(Pending(item=accepted.row, answer=answer))
    idempotency.recorded_elsewhere(request)


# Filing -------------------------------------------------------------------------------------------


def file_queued(session_factory: SessionFactory, limit: int | None = None) -> dict[str, int]:
    """File up to `limit` queued rows, oldest first, in one transaction. Rows are claimed with a
    compare-and-set UPDATE (after FOR UPDATE SKIP LOCKED on PostgreSQL), so any number of workers file
    each row once. Each row is checked first, and one that fails its check is marked rejected; should
    filing a checked row still fail, the batch is rolled back and filed again with a savepoint per row,
    so that the failing row alone is rejected."""
    try:
        return _file_batch(session_factory, limit, careful=False)
    except _Unexpected:
        return _file_batch(session_factory, limit, careful=True)


class _Unexpected(Exception):
    """Filing a row that passed its check failed: file the batch again, a savepoint per row."""


def _file_batch(session_factory: SessionFactory, limit: int | None, *, careful: bool) -> dict[str, int]:
    counts = {"filed": 0, "rejected": 0}
    with session_factory() as session, session.begin():
        dialect = session.get_bind().dialect.name
        pick = (select(IntakeItem.id).where(IntakeItem.state == IntakeState.queued).order_by(IntakeItem.id)
                .limit(limit or BATCH.get(dialect, 20)))
        if dialect == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        ids = list(session.scalars(pick))
        if not ids:
            return counts
        at = now()
        claimed = list(session.scalars(update(IntakeItem).where(IntakeItem.id.in_(ids),
                                                                IntakeItem.state == IntakeState.queued)
                                       .values(state=IntakeState.filed, filed_at=at).returning(IntakeItem.id)))
        items = session.scalars(select(IntakeItem).where(IntakeItem.id.in_(claimed)).order_by(IntakeItem.id)
                                .execution_options(populate_existing=True))
        subjects: dict[tuple[str, int], Subject | None] = {}
        reads = Remembering(session, reference.kept)
        ready: list[tuple[IntakeItem, Filing]] = []
        for item in items:
            try:
                subject = _subject(session, item, subjects)
                data = AppealCreate.model_validate(item.payload)
                check_appeal(session, subject, data, reads)
            except (AppError, ValueError) as exc:
                _reject(item, _problems(exc))
                counts["rejected"] += 1
                continue
            ready.append((item, (subject, data, item.token)))
        if not careful:
            try:
                filed = file_appeals(session, [filing for _item, filing in ready], reads)
            except Exception as exc:
                raise _Unexpected from exc
            for (item, _filing), (_appeal, order) in zip(ready, filed, strict=True):
                item.work_order_id = order.id
            counts["filed"] += len(ready)
            return counts
        for item, filing in ready:
            try:
                with session.begin_nested():
                    ((_appeal, order),) = file_appeals(session, [filing], reads)
            except Exception as exc:
                log.exception("queued appeal %s could not be filed", item.token)
                _reject(item, _problems(exc))
                counts["rejected"] += 1
                continue
            item.work_order_id = order.id
            counts["filed"] += 1
    return counts


def _problems(exc: Exception) -> list[dict[str, Any]]:
    if isinstance(exc, AppError):
        return [p.as_dict() for p in exc.problems] or [{"field": "", "problem": exc.message}]
    # A bug or a lost race must not hold the queue up: this row stops here, saying so.
    return [{"field": "", "problem": _("登记时发生内部错误，请重新提交或联系管理员")}]


def _reject(item: IntakeItem, problems: list[dict[str, Any]]) -> None:
    item.state = IntakeState.rejected
    item.problems = problems


def _subject(session: Session, item: IntakeItem, known: dict[tuple[str, int], Subject | None]) -> Subject:
    """Who sent the row, as they were when it was accepted (a key revoked since still files what it sent)."""
    kind, ident = ("key", item.source_key_id) if item.source_key_id else ("staff", item.staff_id)
    if ident is None:
        raise AppError(_("提交方已被删除，无法登记"), [FieldProblem("", _("提交方已被删除，无法登记"))])
    if (kind, ident) not in known:
        if kind == "key":
            key = session.scalar(select(ApiKey).options(selectinload(ApiKey.region)).where(ApiKey.id == ident))
            known[(kind, ident)] = subject_for_api_key(key) if key else None
        else:
            staff = session.get(Staff, ident)
            known[(kind, ident)] = subject_for_staff(staff) if staff else None
    subject = known[(kind, ident)]
    if subject is None:
        raise AppError(_("提交方已被删除，无法登记"), [FieldProblem("", _("提交方已被删除，无法登记"))])
    return subject


def drain(session_factory: SessionFactory) -> dict[str, int]:
    """File everything queued now (tests, the CLI, the benchmark's drain)."""
    total = {"filed": 0, "rejected": 0}
    while True:
        counts = file_queued(session_factory)
        if not any(counts.values()):
            return total
        for k, v in counts.items():
            total[k] += v


def forget_old(session: Session) -> int:
    """Drop filed rows after KEEP_FILED_DAYS (their tokens live on as the appeals' tracking codes)."""
    from datetime import timedelta

    result = session.execute(delete(IntakeItem).where(IntakeItem.state == IntakeState.filed,
                                                      IntakeItem.filed_at < now() - timedelta(days=KEEP_FILED_DAYS)))
    return result.rowcount or 0  # type: ignore[attr-defined, no-any-return]


# Looking up -----------------------------------------------------------------------------------------


def queued_item(session: Session, subject: Subject | None, token: str) -> IntakeItem | None:
    """The row behind a token, if `subject` sent it (None: nobody's to read)."""
    if subject is None:
        return None
    item = session.scalar(select(IntakeItem).where(IntakeItem.token == token))
    if item is None:
        return None
    mine = (item.source_key_id == subject.id) if subject.kind == SubjectKind.api_key else (item.staff_id == subject.id)
    return item if mine else None


def status(session: Session, subject: Subject, token: str) -> IntakeStatus:
    """What became of a tracking code: the queued row, for whoever sent it; else the filed appeal, for
    whoever may read its work order."""
    item = queued_item(session, subject, token)
    if item is not None:
        order = session.get(WorkOrder, item.work_order_id) if item.work_order_id else None
        return IntakeStatus.of(item, order.code if order else None)
    orders = readable(subject, WorkOrder).with_only_columns(WorkOrder.id)
    appeal = session.scalar(select(Appeal).where(Appeal.tracking_code == token, Appeal.work_order_id.in_(orders)))
    if appeal is None:
        raise NotFound(_("受理号 {t} 不存在，或不在您可查询的范围内", t=token[:20]))
    return IntakeStatus(tracking_code=token, state=IntakeState.filed, received_at=appeal.created_at,
                        filed_at=appeal.created_at, work_order_id=appeal.work_order_id,
                        work_order_code=appeal.work_order.code, href=f"/api/v1/intake/{token}")


# Running ------------------------------------------------------------------------------------------

POLL_SECONDS = 0.2


def run_forever(session_factory: SessionFactory, stop: threading.Event) -> None:
    """File queued rows as they come, until `stop` is set (a thread of `zhili worker`)."""
    while not stop.is_set():
        try:
            counts = file_queued(session_factory)
        except Exception:
            log.exception("filing queued appeals failed")
            counts = {}
        if not any(counts.values()):
            stop.wait(POLL_SECONDS)


async def loop(session_factory: SessionFactory) -> None:
    """File queued rows as they come (in the web process, with the other background work)."""
    import anyio

    while True:
        try:
            counts = await anyio.to_thread.run_sync(file_queued, session_factory)
        except Exception:
            log.exception("filing queued appeals failed")
            counts = {}
        if not any(counts.values()):
            await asyncio.sleep(POLL_SECONDS)
