"""Every query of notifications; each starts from `readable(subject, Notification)`."""

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from zhili.access import get_readable, readable
from zhili.auth.subject import Subject
from zhili.kit.i18n import _
from zhili.models import Notification


def notifications(subject: Subject, *, unread: bool = False) -> Select[Any]:
    stmt = readable(subject, Notification)
    if unread:
        stmt = stmt.where(Notification.read_at.is_(None))
    return stmt.order_by(Notification.created_at.desc(), Notification.id.desc())


def unread_count(session: Session, subject: Subject) -> int:
    ids = readable(subject, Notification).where(Notification.read_at.is_(None)).with_only_columns(Notification.id)
    return int(session.scalar(select(func.count()).select_from(ids.subquery())) or 0)


def notification(session: Session, subject: Subject, notification_id: int) -> Notification:
    return get_readable(session, subject, Notification, Notification.id == notification_id,
                        what=_("通知 #{id}", id=notification_id))
