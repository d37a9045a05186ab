"""Every query of the Open311 API.

Requests are read through `readable(subject, WorkOrder)`. The one other door is the deployment's open
read (settings.open311_open_read): then anyone may also read the requests filed under public categories,
never those of internal ones (a 举报 or a petition stays behind an API key).
"""

from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from zhili.access import readable
from zhili.auth.subject import Subject
from zhili.kit.codes import subtree_prefix
from zhili.models import Appeal, Attachment, Category, Grid, OrderEvent, Region, ServiceAttribute, WorkOrder
from zhili.models.work_order import OrderStatus
from zhili.work_order.attachments import IMAGE_TYPES

CLOSED = (OrderStatus.closed, OrderStatus.cancelled)


def visible_orders(subject: Subject | None, open_read: bool) -> Select[Any]:
    if subject is not None and not open_read:
        return readable(subject, WorkOrder)
    doors = [WorkOrder.category_id.in_(select(Category.id).where(Category.public.is_(True)))] if open_read else []
    if subject is not None:
        doors.append(WorkOrder.id.in_(readable(subject, WorkOrder).with_only_columns(WorkOrder.id)))
    return select(WorkOrder).where(or_(*doors))


def requests(stmt: Select[Any], *, codes: list[str], service_codes: list[str], statuses: list[str],
             start: datetime | None, end: datetime | None, within: str | None, limit: int) -> Select[Any]:
    """The visible orders that match, newest first, at most `limit`."""
    if codes:
        stmt = stmt.where(WorkOrder.code.in_(codes))
    if service_codes:
        stmt = stmt.where(WorkOrder.category_id.in_(select(Category.id).where(Category.code.in_(service_codes))))
    if statuses and set(statuses) != {"open", "closed"}:
        closed = WorkOrder.status.in_(CLOSED)
        stmt = stmt.where(closed if statuses[0] == "closed" else ~closed)
    if start is not None:
        stmt = stmt.where(WorkOrder.created_at >= start)
    if end is not None:
        stmt = stmt.where(WorkOrder.created_at <= end)
    if within:
        stmt = stmt.where(WorkOrder.place_code.startswith(subtree_prefix(within), autoescape=True))
    return stmt.order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc()).limit(limit)


def appeal_by_token(session: Session, orders: Select[Any], token: str) -> Appeal | None:
    ids = orders.with_only_columns(WorkOrder.id)
    return session.scalar(select(Appeal).where(Appeal.tracking_code == token, Appeal.work_order_id.in_(ids)))


def latest_public_events(session: Session, order_ids: list[int]) -> dict[int, OrderEvent]:
    if not order_ids:
        return {}
    latest = (select(func.max(OrderEvent.id)).where(OrderEvent.work_order_id.in_(order_ids),
                                                    OrderEvent.public.is_(True))
              .group_by(OrderEvent.work_order_id))
    return {e.work_order_id: e for e in session.scalars(select(OrderEvent).where(OrderEvent.id.in_(latest)))}


def first_photos(session: Session, appeal_ids: list[int]) -> dict[int, Attachment]:
    """The first photo of each appeal (documents are not media)."""
    if not appeal_ids:
        return {}
    rows = session.scalars(select(Attachment).where(Attachment.appeal_id.in_(appeal_ids),
                                                    Attachment.content_type.in_(IMAGE_TYPES))
                           .order_by(Attachment.id))
    photos: dict[int, Attachment] = {}
    for row in rows:
        photos.setdefault(row.appeal_id, row)  # type: ignore[arg-type]
    return photos


def with_attributes(session: Session, category_ids: list[int]) -> set[int]:
    if not category_ids:
        return set()
    return set(session.scalars(select(ServiceAttribute.category_id)
                               .where(ServiceAttribute.category_id.in_(category_ids)).distinct()))


def ancestor_names(session: Session, categories: list[Category]) -> dict[int, str]:
    ids = {i for c in categories for i in c.ancestor_ids}
    if not ids:
        return {}
    return dict(session.execute(select(Category.id, Category.name).where(Category.id.in_(ids))).all())  # type: ignore[arg-type]


def places_named_in(session: Session, subject: Subject, text: str) -> list[Region | Grid]:
    """The regions and grids in the subject's area whose names appear in `text`."""
    regions = session.scalars(readable(subject, Region))
    grids = session.scalars(readable(subject, Grid))
    return [p for p in [*regions, *grids] if p.name and p.name in text]


def grid_by_code(session: Session, code: str) -> Grid | None:
    """Unscoped: for resolving an address_id (file_appeal checks that the place is the caller's)."""
    return session.scalar(select(Grid).where(Grid.code == code))
