"""Every query of the work-order domain; each starts from `readable(subject, WorkOrder)`."""

from typing import Any

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import Session

from zhili.access import get_readable, readable
from zhili.auth.subject import Subject
from zhili.kit.codes import subtree_prefix
from zhili.kit.i18n import _
from zhili.models import (
    Appeal,
    Assignment,
    AssignmentRole,
    Attachment,
    Category,
    IdempotencyRecord,
    OrderEvent,
    Region,
    WorkOrder,
)


def orders(subject: Subject, *, status: list[str] | None = None, category_code: str | None = None,
           within: str | None = None, department_id: int | None = None, q: str | None = None,
           overdue: bool | None = None) -> Select[Any]:
    stmt = readable(subject, WorkOrder)
    if status:
        stmt = stmt.where(WorkOrder.status.in_(status))
    if category_code:
        stmt = stmt.where(WorkOrder.category_id.in_(
            select(Category.id).where(or_(Category.code == category_code,
                                          Category.code.startswith(category_code + ".", autoescape=True)))))
    if within:
        stmt = stmt.where(WorkOrder.place_code.startswith(subtree_prefix(within), autoescape=True))
    if department_id:
        stmt = stmt.where(WorkOrder.id.in_(select(Assignment.work_order_id).where(
            Assignment.department_id == department_id, Assignment.role == AssignmentRole.lead)))
    if q and q.strip():
        text = q.strip()
        stmt = stmt.where(or_(WorkOrder.code == text, WorkOrder.title.contains(text, autoescape=True),
                              WorkOrder.address.contains(text, autoescape=True)))
    if overdue is not None:
        stmt = stmt.where(WorkOrder.overdue_at.is_not(None) if overdue else WorkOrder.overdue_at.is_(None))
    return stmt.order_by(WorkOrder.id.desc())


def order(session: Session, subject: Subject, order_id: int, *, lock: bool = False) -> WorkOrder:
    """One readable order; with `lock`, the row is locked (FOR UPDATE on PostgreSQL) and re-read."""
    stmt = readable(subject, WorkOrder).where(WorkOrder.id == order_id)
    if lock:
        if session.get_bind().dialect.name == "sqlite":
            # SQLite has no row locks: a no-op write takes the database's write lock (like BEGIN IMMEDIATE),
            # so the read below sees whatever a concurrent writer committed, and no one writes until we do.
            session.execute(update(WorkOrder).where(WorkOrder.id == order_id)
                            .values(version=WorkOrder.version).execution_options(synchronize_session=False))
        stmt = stmt.with_for_update(of=WorkOrder).execution_options(populate_existing=True)
    row = session.scalars(stmt).unique().first()
    if row is None:
        return get_readable(session, subject, WorkOrder, WorkOrder.id == order_id,
                            what=_("工单 #{id}", id=order_id))
    return row


def order_by_code(session: Session, subject: Subject, code: str) -> WorkOrder | None:
    return session.scalars(readable(subject, WorkOrder).where(WorkOrder.code == code)).first()


def events(session: Session, order_id: int) -> list[OrderEvent]:
    return list(session.scalars(select(OrderEvent).where(OrderEvent.work_order_id == order_id)
                                .order_by(OrderEvent.id)))


def appeals_by_phone(subject: Subject, phone: str) -> Select[Any]:
    return (select(Appeal).join(Appeal.work_order).where(Appeal.caller_phone == phone)
            .where(WorkOrder.id.in_(readable(subject, WorkOrder).with_only_columns(WorkOrder.id)))
            .order_by(Appeal.id.desc()))


# Queries of the staff pages (work_order/pages.py) -------------------------------------------------

QUEUE_FLAGS = ("extension_pending", "awaiting_review")


def queue(subject: Subject, *, flag: str | None = None, sort: str = "new", **filters: Any) -> Select[Any]:
    """The dispatcher's queue: `orders()` with the review flags and the chosen order (due first or newest)."""
    stmt = orders(subject, **filters)
    if flag == "extension_pending":
        stmt = stmt.where(WorkOrder.extension_pending.is_(True))
    elif flag == "awaiting_review":
        stmt = stmt.where(WorkOrder.awaiting_review.is_(True))
    if sort == "due":
        stmt = stmt.order_by(None).order_by(WorkOrder.due_at.is_(None), WorkOrder.due_at, WorkOrder.id)
    return stmt


def assigned(subject: Subject, department_id: int, *, role: AssignmentRole, states: list[str],
             status: list[str] | None = None) -> Select[Any]:
    """Orders on which a department holds an assignment of this role in one of these states, due first."""
    stmt = readable(subject, WorkOrder).where(WorkOrder.id.in_(select(Assignment.work_order_id).where(
        Assignment.department_id == department_id, Assignment.role == role, Assignment.state.in_(states))))
    if status:
        stmt = stmt.where(WorkOrder.status.in_(status))
    return stmt.order_by(WorkOrder.due_at.is_(None), WorkOrder.due_at, WorkOrder.id)


def patrol_reports(subject: Subject, staff_id: int, *, status: list[str]) -> Select[Any]:
    """A grid worker's own patrol reports (the ones it may handle itself)."""
    return (readable(subject, WorkOrder).where(WorkOrder.grid_report.is_(True), WorkOrder.created_by_id == staff_id,
                                               WorkOrder.status.in_(status)).order_by(WorkOrder.id.desc()))


def status_counts(session: Session, subject: Subject) -> dict[str, int]:
    ids = readable(subject, WorkOrder).with_only_columns(WorkOrder.id)
    rows = session.execute(select(WorkOrder.status, func.count()).where(WorkOrder.id.in_(ids))
                           .group_by(WorkOrder.status))
    return {str(s): n for s, n in rows}



def photo_keys(session: Session, appeal_ids: list[int]) -> dict[int, list[str]]:
    """The photo keys of each appeal, in upload order: one query for all of an order's appeals."""
    keys: dict[int, list[str]] = {i: [] for i in appeal_ids}
    if appeal_ids:
        rows = session.execute(select(Attachment.appeal_id, Attachment.key)
                               .where(Attachment.appeal_id.in_(appeal_ids)).order_by(Attachment.id))
        for appeal_id, key in rows:
            if appeal_id is not None:
                keys[appeal_id].append(key)
    return keys


# For the public pages (no subject: what they show is decided by the tracking code and phone digits) ------


def _public_leaves() -> Select[Any]:
    parents = select(Category.parent_id).where(Category.parent_id.is_not(None), Category.active.is_(True))
    return select(Category).where(Category.public.is_(True), Category.active.is_(True), Category.id.not_in(parents))


def public_leaf_categories(session: Session) -> tuple[list[Category], dict[int, str]]:
    """Active public leaves in tree order, and the names of their parents."""
    leaves = list(session.scalars(_public_leaves().order_by(Category.path)))
    names = dict(session.execute(select(Category.id, Category.name).where(
        Category.id.in_({c.parent_id for c in leaves if c.parent_id}))).all())  # type: ignore[arg-type]
    return leaves, names


def public_leaf(session: Session, code: str) -> Category | None:
    """The active public leaf with this code (None if there is none, or it has active children)."""
    found: Category | None = session.scalar(_public_leaves().where(Category.code == code))
    return found


def root_region(session: Session) -> Region | None:
    return session.scalar(select(Region).where(Region.parent_id.is_(None)).order_by(Region.code).limit(1))


def outlines(session: Session) -> list[Region]:
    """The city, county and town outlines (the public map's base)."""
    return list(session.scalars(select(Region).where(Region.level.in_(["city", "county", "town"]),
                                                     Region.boundary.is_not(None))))


def form_claim(session: Session, owner: str, token: str) -> IdempotencyRecord | None:
    return session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.owner == owner,
                                                          IdempotencyRecord.key == token))


def appeal_by_tracking_code(session: Session, code: str) -> Appeal | None:
    return session.scalar(select(Appeal).where(Appeal.tracking_code == code))


def public_events(session: Session, order_id: int) -> list[OrderEvent]:
    return list(session.scalars(select(OrderEvent).where(OrderEvent.work_order_id == order_id,
                                                         OrderEvent.public.is_(True)).order_by(OrderEvent.id)))
