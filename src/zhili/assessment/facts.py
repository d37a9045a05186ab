"""Facts projected from the event log: what every KPI counts, one row per order and one per dispatch.

The KPIs are computed from the event log, not from counters the workflow keeps: `derive` reads an
order's events alone (the deadlines in force are on each event's `clock`, see
zhili.work_order.service._clock) and says when it was registered, dispatched, signed, handled and
closed, whether each step beat its deadline, how often it was reworked or redirected, and how the
caller rated it. `catch_up` keeps the `order_facts` and `dispatch_facts` tables current by re-deriving
every order that has events newer than its facts; they can be thrown away and rebuilt from the log at
any time (`zhili assessment rebuild`).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from zhili.dispatch.service import REPEAT_DAYS  # one period for repeat callers and 重复诉求率
from zhili.kit.time import aware
from zhili.models import Appeal, Department, DispatchFact, OrderEvent, OrderFact, ProjectionMark, WorkOrder

MARK = "assessment_facts"
# An event is written some time before its transaction commits; the catch-up looks back this far so
# that a late commit is never missed (its order is simply re-derived once more).
LOOK_BACK = timedelta(minutes=10)
BATCH = 1000


@dataclass
class Event:
    """The part of an OrderEvent the projection reads."""

    id: int
    at: datetime
    action: str
    to_status: str
    actor_id: int | None
    rework: bool
    data: dict[str, Any]


@dataclass
class Dispatch:
    department: str
    dispatcher_id: int | None
    at: datetime
    sign_due: datetime | None
    automatic: bool
    signed_at: datetime | None = None
    signer_id: int | None = None
    redirected: bool = False


@dataclass
class Derived:
    registered_at: datetime
    last_event_id: int
    channel: str = ""
    registrar_id: int | None = None
    dispatches: list[Dispatch] = field(default_factory=list)
    handler_id: int | None = None
    handled_at: datetime | None = None
    handle_due: datetime | None = None
    closed_at: datetime | None = None
    reworks: int = 0
    cancelled: bool = False
    merged: bool = False
    rating: int | None = None
    answered: bool = False

    @property
    def lead(self) -> Dispatch | None:
        """The dispatch that stuck: the last one not returned or recalled."""
        return next((d for d in reversed(self.dispatches) if not d.redirected), None)


def _when(text: Any) -> datetime | None:
    return aware(datetime.fromisoformat(text)) if isinstance(text, str) and text else None


def derive(events: Sequence[Event]) -> Derived:
    """What an order's events (oldest first) say about it."""
    first = events[0]
    facts = Derived(registered_at=first.at, last_event_id=max(e.id for e in events))
    handle_due: datetime | None = None  # the handling deadline in force before the current event
    for e in events:
        clock = e.data.get("clock") or {}
        current = facts.dispatches[-1] if facts.dispatches else None
        match e.action:
            case "register":
                facts.registered_at, facts.registrar_id = e.at, e.actor_id
                facts.channel = str(e.data.get("channel", ""))
            case "dispatch":
                facts.dispatches.append(Dispatch(
                    department=str(e.data.get("department", "")), dispatcher_id=e.actor_id, at=e.at,
                    sign_due=_when(clock.get("due")) if clock.get("stage") == "sign" else None,
                    automatic=bool(e.data.get("automatic"))))
            case "reject_return" if current is not None:  # back to the same department: a new time to sign
                current.sign_due = _when(clock.get("due")) if clock.get("stage") == "sign" else current.sign_due
            case "sign" if current is not None and current.signed_at is None:
                current.signed_at, current.signer_id = e.at, e.actor_id
            case "accept_return" | "recall" if current is not None:
                current.redirected = True
            case "report":
                facts.handled_at, facts.handle_due, facts.handler_id = e.at, handle_due, e.actor_id
            case "self_handle":
                facts.handled_at, facts.handle_due, facts.handler_id = e.at, None, e.actor_id
            case "answer":
                facts.answered = True
            case "callback":
                rating = e.data.get("rating")
                facts.rating = int(rating) if rating is not None else None
            case "cancel":
                facts.cancelled = True
            case "merge":
                facts.merged = True
        if e.rework:
            facts.reworks += 1
        if e.to_status == "closed" and facts.closed_at is None:
            facts.closed_at = e.at
        if clock.get("handle_due"):
            handle_due = _when(clock["handle_due"])
    if facts.handled_at is None:
        facts.handle_due = handle_due  # still to be handled: the deadline running now
    return facts


# Keeping the tables current ---------------------------------------------------------------------


def catch_up(session: Session, *, batch: int = BATCH) -> int:
    """Re-derive every order with events newer than its facts. Returns how many were re-derived.
    Concurrent callers queue on the mark row, so no order is derived twice at once."""
    mark = session.get(ProjectionMark, MARK, with_for_update=True)
    if mark is None:
        mark = ProjectionMark(name=MARK, seen_at=None)
        session.add(mark)
        session.flush()
    recent = select(OrderEvent.work_order_id.label("order_id"), func.max(OrderEvent.id).label("newest"),
                    func.max(OrderEvent.at).label("at")).group_by(OrderEvent.work_order_id)
    if mark.seen_at is not None:
        recent = recent.where(OrderEvent.at >= aware(mark.seen_at) - LOOK_BACK)  # type: ignore[operator]
    sub = recent.subquery()
    rows = session.execute(select(sub.c.order_id, sub.c.at)
                           .outerjoin(OrderFact, OrderFact.order_id == sub.c.order_id)
                           .where((OrderFact.last_event_id.is_(None)) | (sub.c.newest > OrderFact.last_event_id))
                           ).all()
    stale = [r.order_id for r in rows]
    for start in range(0, len(stale), batch):
        rebuild(session, stale[start:start + batch])
    newest = session.scalar(select(func.max(OrderEvent.at)))
    if newest is not None:
        mark.seen_at = newest
    return len(stale)


def rebuild(session: Session, order_ids: Iterable[int]) -> None:
    """Replace the facts of these orders with what their events say now."""
    ids = list(order_ids)
    if not ids:
        return
    orders = {r.id: r for r in session.execute(
        select(WorkOrder.id, WorkOrder.place_code, WorkOrder.region_code, WorkOrder.grid_id, WorkOrder.category_id)
        .where(WorkOrder.id.in_(ids)))}
    by_order: dict[int, list[Event]] = {}
    for r in session.execute(select(OrderEvent.work_order_id, OrderEvent.id, OrderEvent.at, OrderEvent.action,
                                    OrderEvent.to_status, OrderEvent.actor_id, OrderEvent.rework, OrderEvent.data)
                             .where(OrderEvent.work_order_id.in_(ids)).order_by(OrderEvent.id)):
        by_order.setdefault(r.work_order_id, []).append(
            Event(r.id, aware(r.at), r.action, r.to_status, r.actor_id, r.rework, r.data or {}))  # type: ignore[arg-type]
    departments = {k: v for k, v in session.execute(select(Department.code, Department.id))}
    repeats = _repeats(session, ids)
    session.execute(delete(DispatchFact).where(DispatchFact.order_id.in_(ids)))
    session.execute(delete(OrderFact).where(OrderFact.order_id.in_(ids)))
    order_rows, dispatch_rows = [], []
    for order_id, events in by_order.items():
        order = orders.get(order_id)
        if order is None:
            continue
        facts = derive(events)
        lead = facts.lead
        order_rows.append({
            "order_id": order_id, "last_event_id": facts.last_event_id, "place_code": order.place_code,
            "region_code": order.region_code, "grid_id": order.grid_id, "category_id": order.category_id,
            "channel": facts.channel, "registered_at": facts.registered_at, "registrar_id": facts.registrar_id,
            "lead_department_id": departments.get(lead.department) if lead else None,
            "dispatcher_id": lead.dispatcher_id if lead else None, "handler_id": facts.handler_id,
            "first_dispatch_at": facts.dispatches[0].at if facts.dispatches else None,
            "handled_at": facts.handled_at, "handle_due": facts.handle_due, "closed_at": facts.closed_at,
            "reworks": facts.reworks, "cancelled": facts.cancelled, "merged": facts.merged, "rating": facts.rating,
            "answered": facts.answered, "repeat": order_id in repeats,
        })
        for d in facts.dispatches:
            if d.department in departments:
                dispatch_rows.append({
                    "order_id": order_id, "department_id": departments[d.department], "place_code": order.place_code,
                    "region_code": order.region_code, "dispatcher_id": d.dispatcher_id, "dispatched_at": d.at,
                    "sign_due": d.sign_due, "signed_at": d.signed_at, "signer_id": d.signer_id,
                    "redirected": d.redirected, "automatic": d.automatic})
    if order_rows:
        session.execute(insert(OrderFact), order_rows)
    if dispatch_rows:
        session.execute(insert(DispatchFact), dispatch_rows)


def _repeats(session: Session, order_ids: list[int]) -> set[int]:
    """Orders whose first appeal came from a caller who had appealed in the REPEAT_DAYS before."""
    firsts: dict[int, tuple[str, datetime]] = {}
    for r in session.execute(select(Appeal.work_order_id, Appeal.caller_phone, Appeal.created_at)
                             .where(Appeal.work_order_id.in_(order_ids)).order_by(Appeal.id)):
        if r.work_order_id not in firsts:
            firsts[r.work_order_id] = (r.caller_phone, aware(r.created_at))  # type: ignore[assignment]
    phones = {p for p, _at in firsts.values() if p}
    if not phones:
        return set()
    since = min(at for _p, at in firsts.values()) - timedelta(days=REPEAT_DAYS)
    earlier: dict[str, list[tuple[datetime, int]]] = {}
    for phone, created, other in session.execute(
            select(Appeal.caller_phone, Appeal.created_at, Appeal.work_order_id)
            .where(Appeal.caller_phone.in_(phones), Appeal.created_at >= since)):
        earlier.setdefault(phone, []).append((aware(created), other))  # type: ignore[arg-type]
    window = timedelta(days=REPEAT_DAYS)
    return {order_id for order_id, (phone, at) in firsts.items() if phone and any(
        other != order_id and at - window <= when < at for when, other in earlier.get(phone, ()))}
