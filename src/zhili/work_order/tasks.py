"""Background work of the closed loop: the deadline sweep, and the loop that runs it with the outbox sender.

The sweep follows DESIGN's rule for periodic work: one cheap query finds candidates on the stored,
indexed deadline columns; then each candidate gets its own short transaction that locks the row
(`FOR UPDATE SKIP LOCKED` on PostgreSQL, the database write lock on SQLite), re-checks it, and claims
it with a compare-and-set UPDATE. However many sweeps run at once, in threads or worker processes on
several machines, an order is marked overdue (or warned) once and gets one event and one set of
outbox rows. A sweep that dies half-way loses nothing: the next one finds the unmarked rest.

Marking does not bump the order's `version`: it is the system noting the time, not a move, and a
person who is about to act on the version they saw must not be refused because a clock ticked.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import datetime

import anyio
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from zhili.config import get_settings
from zhili.dispatch import service as smart
from zhili.kit.calendar import Colour, TimeUnit, deadline_colour
from zhili.kit.i18n import N_, _
from zhili.kit.time import aware
from zhili.models import AssignmentRole, AssignmentState, OrderEvent, OutboxMessage, Stage, WorkOrder
from zhili.work_order.service import calendar, stage_limit
from zhili.work_order.workflow import OPEN

log = logging.getLogger("zhili.tasks")

SessionFactory = Callable[[], Session]

OVERDUE, WARN = "overdue", "warn"
# Labels of the events the system writes (the workflow's ACTION_LABELS hold the people's moves).
SYSTEM_ACTOR = N_("系统")


@dataclass
class SweepCounts:
    candidates: int = 0
    overdue: int = 0
    warned: int = 0
    skipped: int = 0  # locked by another sweep, changed meanwhile, or not (yet) at the warning share

    def as_dict(self) -> dict[str, int]:
        return {"candidates": self.candidates, "overdue": self.overdue, "warned": self.warned,
                "skipped": self.skipped}


def _candidates(session: Session, at: datetime) -> list[tuple[int, str]]:
    """(order id, what to check) for every running, unmarked clock: red if past due, else maybe yellow.

    Red is decided here exactly on `due_at`. Yellow needs the working calendar (a share of working
    time), so every running clock not yet warned is a candidate, checked in Python with the calendar's
    cached day arithmetic; kit.calendar is built to keep that cheap for thousands of orders.
    """
    open_ = [s.value for s in OPEN]
    rows = session.execute(
        select(WorkOrder.id, WorkOrder.due_at)
        .where(WorkOrder.status.in_(open_), WorkOrder.due_at.is_not(None), WorkOrder.overdue_at.is_(None))
        .where((WorkOrder.due_at <= at) | WorkOrder.warned_at.is_(None))
        .order_by(WorkOrder.due_at, WorkOrder.id)
    ).all()
    return [(order_id, OVERDUE if aware(due_at) <= at else WARN) for order_id, due_at in rows]  # type: ignore[operator]


def _lock(session: Session, order_id: int) -> WorkOrder | None:
    """The order, locked for this transaction, re-read; None if another worker holds it right now."""
    if session.get_bind().dialect.name == "sqlite":
        # No row locks: a no-op write takes the database's write lock first, so the read below sees the
        # latest commit and no one else writes until we commit (the same trick as repository.order).
        session.execute(update(WorkOrder).where(WorkOrder.id == order_id).values(version=WorkOrder.version)
                        .execution_options(synchronize_session=False))
    stmt = (select(WorkOrder).where(WorkOrder.id == order_id).with_for_update(skip_locked=True, of=WorkOrder)
            .execution_options(populate_existing=True))
    return session.scalars(stmt).unique().first()


def _colour(session: Session, order: WorkOrder, at: datetime) -> Colour | None:
    if order.due_at is None or order.stage_started_at is None or order.stage is None:
        return None
    unit = stage_limit(session, order, Stage(order.stage)).unit
    return deadline_colour(order.stage_started_at, order.due_at, at, calendar(order.region, session),
                           TimeUnit(unit), get_settings().warn_share)


def _claim(session: Session, order: WorkOrder, what: str, at: datetime) -> bool:
    """Compare-and-set: only the first claimant of this clock (same stage, same due time) wins."""
    column = WorkOrder.overdue_at if what == OVERDUE else WorkOrder.warned_at
    result = session.execute(
        update(WorkOrder)
        .where(WorkOrder.id == order.id, column.is_(None), WorkOrder.due_at == order.due_at,
               WorkOrder.stage == order.stage)
        .values({column.key: at})
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def _lead_department_code(order: WorkOrder) -> str | None:
    live = (AssignmentState.pending, AssignmentState.signed, AssignmentState.done)
    lead = next((a for a in order.assignments if a.role == AssignmentRole.lead and a.state in live), None)
    return lead.department.code if lead else None


def _record(session: Session, order: WorkOrder, what: str, at: datetime) -> None:
    """The event row and its outbox: the lead department and the command desk are told, the map updates."""
    event = OrderEvent(work_order_id=order.id, at=at, actor_id=None, actor_name=_(SYSTEM_ACTOR), action=what,
                       from_status=order.status, to_status=order.status, public=False,
                       data={"stage": order.stage, "due_at": order.due_at.isoformat() if order.due_at else None})
    session.add(event)
    session.flush()
    payload = {"order": order.code, "action": what, "status": str(order.status), "stage": order.stage}
    recipients = [f"region:{order.region_code}"]
    lead = _lead_department_code(order)
    if lead:
        recipients.insert(0, f"department:{lead}")
    for recipient in recipients:
        session.add(OutboxMessage(event_id=event.id, kind="inapp", recipient=recipient, payload=payload))
    session.add(OutboxMessage(event_id=event.id, kind="live", payload=payload))


def _step(session: Session, order_id: int, what: str, at: datetime) -> str | None:
    """One candidate, inside the caller's transaction: re-check under the lock, claim, record."""
    order = _lock(session, order_id)
    if order is None or order.due_at is None or str(order.status) not in {s.value for s in OPEN}:
        return None
    if order.overdue_at is not None:
        return None
    if order.due_at <= at:
        what = OVERDUE  # a warning candidate that ran out meanwhile is simply overdue now
    elif what == OVERDUE or order.warned_at is not None:
        return None  # re-dated (an extension) or warned by someone else since the candidate query
    elif _colour(session, order, at) is not Colour.yellow:
        return None
    if not _claim(session, order, what, at):
        return None
    _record(session, order, what, at)
    return what


def sweep(session_factory: SessionFactory, at: datetime) -> SweepCounts:
    """Mark every clock that ran out (red) or reached the warning share (yellow) at `at`, once."""
    counts = SweepCounts()
    with session_factory() as session:
        candidates = _candidates(session, at)
    counts.candidates = len(candidates)
    for order_id, what in candidates:
        try:
            with session_factory() as session, session.begin():
                done = _step(session, order_id, what, at)
        except Exception:  # one bad order must not stop the sweep; the next sweep retries it
            log.exception("deadline sweep failed on work order %s", order_id)
            done = None
        if done == OVERDUE:
            counts.overdue += 1
        elif done == WARN:
            counts.warned += 1
        else:
            counts.skipped += 1
    return counts


# Running in the web process ----------------------------------------------------------------------


def run_once(session_factory: SessionFactory, at: datetime) -> dict[str, int]:
    """One round of background work: the sweep, then the outbox it (and every request) filled."""
    from zhili.assessment import ledger as assessment
    from zhili.notify.sender import deliver

    counts = sweep(session_factory, at).as_dict()
    counts.update({f"sent_{k}": v for k, v in deliver(session_factory).as_dict().items()})
    counts.update(housekeeping(session_factory))
    counts.update(smart.scheduled_retrain(session_factory))
    counts.update(assessment.background(session_factory))
    from zhili.keyperson import warnings as care

    counts.update(care.sweep(session_factory, at).as_dict())
    return counts


def housekeeping(session_factory: SessionFactory) -> dict[str, int]:
    """Forget what has served its time: idempotent answers after a day, finished rate-limit windows,
    queued appeals filed a week ago."""
    from zhili import idempotency
    from zhili.auth import ratelimit
    from zhili.intake import service as intake

    with session_factory() as session, session.begin():
        conn = session.connection()
        return {"forgot_answers": idempotency.forget_old(conn), "forgot_rate_windows": ratelimit.forget_old(conn),
                "forgot_intake": intake.forget_old(session)}


async def _background_loop(session_factory: SessionFactory, interval: float) -> None:
    from zhili.kit.time import now

    while True:
        await asyncio.sleep(interval)  # first round after one interval: startup stays quick
        try:
            await anyio.to_thread.run_sync(run_once, session_factory, now())
        except Exception:  # logged and retried next round; the loop itself never dies of it
            log.exception("background round failed")


async def _live_loop(session_factory: SessionFactory, interval: float) -> None:
    """Drain the outbox often, so the live map and the badges move within a second of a change; the
    sender claims each row, so this and the background round never deliver one twice."""
    from zhili.notify.sender import deliver

    while True:
        await asyncio.sleep(interval)
        try:
            await anyio.to_thread.run_sync(deliver, session_factory)
        except Exception:
            log.exception("live delivery round failed")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """In-process background work for the embedded default (and the PostgreSQL live relay).

    Tests drive `sweep` and `deliver` directly with explicit times, so nothing starts under
    environment "test": no test depends on a timer.
    """
    settings = get_settings()
    import os
    if os.environ.get("ZHILI_THREADS"):
        anyio.to_thread.current_default_thread_limiter().total_tokens = int(os.environ["ZHILI_THREADS"])
    tasks: list[asyncio.Task[None]] = []
    if settings.environment != "test":
        from zhili.db import get_sessionmaker, session_scope
        from zhili.notify import live
        from zhili.transfer.jobs import fail_interrupted_jobs

        with session_scope() as session:  # an import the last server stopped in the middle of
            fail_interrupted_jobs(session)

        if not settings.is_sqlite:
            # Every web process relays NOTIFY into its own subscribers, whoever sent it.
            tasks.append(asyncio.create_task(live.listen_forever(live.bus, settings.database_url)))
        if settings.run_background:
            from zhili.intake import service as intake

            tasks.append(asyncio.create_task(_background_loop(get_sessionmaker(), settings.sweep_interval_seconds)))
            tasks.append(asyncio.create_task(_live_loop(get_sessionmaker(), settings.live_interval_seconds)))
            tasks.append(asyncio.create_task(intake.loop(get_sessionmaker())))
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(asyncio.CancelledError, Exception):
                await task
