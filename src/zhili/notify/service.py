"""Use cases of in-app notifications: the reader's list, the unread badge, marking read.

A notification addressed to a department or a command desk is one row shared by everyone there, so
"read" means read by that desk: whoever opens it first clears it for the colleagues too.
"""

from sqlalchemy import update
from sqlalchemy.orm import Session

from zhili.auth.subject import Subject
from zhili.kit.time import now
from zhili.models import Notification
from zhili.notify import repository as repo


def list_notifications(session: Session, subject: Subject, *, unread: bool = False,
                       limit: int = 100) -> list[Notification]:
    return list(session.scalars(repo.notifications(subject, unread=unread).limit(limit)))


def unread_count(session: Session, subject: Subject) -> int:
    return repo.unread_count(session, subject)


def mark_read(session: Session, subject: Subject, notification_id: int | None) -> int:
    """Mark one notification (404 outside the subject's scope) or, with None, all its unread ones.
    Idempotent: reading a read notification changes nothing. Returns how many changed."""
    if notification_id is not None:
        note = repo.notification(session, subject, notification_id)
        if note.read_at is not None:
            return 0
        note.read_at = now()
        session.flush()
        return 1
    ids = repo.notifications(subject, unread=True).order_by(None).with_only_columns(Notification.id)
    result = session.execute(update(Notification).where(Notification.id.in_(ids), Notification.read_at.is_(None))
                             .values(read_at=now()).execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]
