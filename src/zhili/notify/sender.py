"""The outbox sender: turns the outbox rows written with each order event into in-app notifications,
text messages and live updates.

Each row gets its own short transaction that locks it (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the
database write lock on SQLite), re-checks that it is still unsent, delivers it and marks `sent_at`:
any number of senders never deliver a row twice.

- inapp: the Notification is written in the same transaction as `sent_at` (and carries the unique
  `outbox_id`), so it exists exactly once.
- sms: the gateway is called under the row lock, then `sent_at` is committed. A crash between the
  gateway's acceptance and our commit sends the message again later: at least once, with the outbox
  id as the gateway's idempotency key.
- live: on PostgreSQL, `pg_notify` inside the transaction (PostgreSQL sends it on commit, never for a
  rollback); on SQLite, published to the in-process bus after the commit.

A row whose delivery raises stays unsent with `attempts` + 1 and is retried on later rounds; after
MAX_ATTEMPTS it is left for an administrator to look at, never deleted.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from zhili.config import get_settings
from zhili.kit.i18n import _
from zhili.kit.time import now
from zhili.models import Department, Notification, OrderEvent, OutboxMessage, Region, WorkOrder
from zhili.notify import live
from zhili.notify.sms import FileSmsGateway, SmsGateway, SmsMessage
from zhili.work_order.tasks import OVERDUE, WARN, SessionFactory

log = logging.getLogger("zhili.notify")

MAX_ATTEMPTS = 10
DISPATCHED = ("dispatch", "add_assist", "reject_return")


@dataclass
class DeliveryCounts:
    inapp: int = 0
    sms: int = 0
    live: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"inapp": self.inapp, "sms": self.sms, "live": self.live, "failed": self.failed}


def _lock(session: Session, message_id: int) -> OutboxMessage | None:
    if session.get_bind().dialect.name == "sqlite":
        # Take the write lock before reading (see work_order.repository.order): concurrent senders queue here.
        session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id)
                        .values(attempts=OutboxMessage.attempts).execution_options(synchronize_session=False))
    stmt = (select(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.sent_at.is_(None))
            .with_for_update(skip_locked=True).execution_options(populate_existing=True))
    return session.scalars(stmt).first()


def _order_of(session: Session, message: OutboxMessage) -> WorkOrder:
    event = session.get(OrderEvent, message.event_id)
    if event is None:
        raise LookupError(f"outbox {message.id}: event {message.event_id} is gone")
    order = session.get(WorkOrder, event.work_order_id)
    if order is None:
        raise LookupError(f"outbox {message.id}: work order {event.work_order_id} is gone")
    return order


def _notification_text(order: WorkOrder, action: str) -> tuple[str, str]:
    if action == OVERDUE:
        return _("工单 {code} 已超期", code=order.code), _("「{t}」已超过办理期限，请尽快处理。", t=order.title)
    if action == WARN:
        return _("工单 {code} 即将超期", code=order.code), _("「{t}」即将到期，请抓紧办理。", t=order.title)
    if action in DISPATCHED:
        return _("新工单 {code} 待签收", code=order.code), _("「{t}」已派遣到本部门，请及时签收。", t=order.title)
    return _("工单 {code} 有新动态", code=order.code), order.title


def _notification(session: Session, message: OutboxMessage, order: WorkOrder) -> Notification:
    kind, _sep, target = message.recipient.partition(":")
    title, body = _notification_text(order, str(message.payload.get("action", "")))
    note = Notification(outbox_id=message.id, work_order_id=order.id, title=title, body=body,
                        url=f"/orders/{order.id}")
    if kind == "department":
        department_id = session.scalar(select(Department.id).where(Department.code == target))
        if department_id is None:
            raise LookupError(f"outbox {message.id}: no department {target!r}")
        note.department_id = department_id
    elif kind == "region" and target:
        note.region_code = target
    elif kind == "staff" and target.isdigit():
        note.staff_id = int(target)
    else:
        raise ValueError(f"outbox {message.id}: cannot address {message.recipient!r}")
    return note


def _county_name(region: Region) -> str:
    node: Region | None = region
    while node is not None:
        if node.level in ("county", "city"):
            return node.name
        node = node.parent
    return region.name


def sms_text(order: WorkOrder, action: str, tracking_code: str) -> str:
    """The citizen's message, in the words of the county's 12345 hotline."""
    sender = _county_name(order.region)
    if order.status == "closed":
        return _("【{s}12345】您的诉求（查询码 {c}）已办结，感谢您的支持。如有疑问请拨打 12345。",
                 s=sender, c=tracking_code)
    return _("【{s}12345】您的诉求（查询码 {c}）有新进展，可凭查询码查看办理情况。", s=sender, c=tracking_code)


def _live_event(order: WorkOrder, message: OutboxMessage) -> live.LiveEvent:
    return live.LiveEvent(id=message.id, order_id=order.id, code=order.code,
                          action=str(message.payload.get("action", "")), status=str(order.status),
                          region_code=order.region_code, place_code=order.place_code,
                          department_ids=tuple(sorted({a.department_id for a in order.assignments})))


def _deliver_one(session: Session, message_id: int, gateway: SmsGateway,
                 at: datetime) -> tuple[str, live.LiveEvent | None]:
    """Inside the caller's transaction. Returns the kind delivered ("" if someone else has the row)
    and, on SQLite, the live event to publish once the transaction has committed."""
    message = _lock(session, message_id)
    if message is None:
        return "", None
    order = _order_of(session, message)
    publish_later: live.LiveEvent | None = None
    match message.kind:
        case "inapp":
            session.add(_notification(session, message, order))
        case "sms":
            action, code = str(message.payload.get("action", "")), str(message.payload.get("tracking_code", ""))
            text = sms_text(order, action, code)
            gateway.send(SmsMessage(to=message.recipient, text=text, key=f"outbox-{message.id}"))
        case "live":
            event = _live_event(order, message)
            if session.get_bind().dialect.name == "postgresql":
                session.execute(select(func.pg_notify(live.CHANNEL, event.to_json())))
            else:
                publish_later = event
        case other:
            raise ValueError(f"outbox {message.id}: unknown kind {other!r}")
    message.sent_at = at
    message.attempts += 1
    session.flush()
    return message.kind, publish_later


def deliver(session_factory: SessionFactory, limit: int = 100, *, sms: SmsGateway | None = None,
            bus: live.Broadcaster | None = None) -> DeliveryCounts:
    """Deliver up to `limit` unsent outbox rows, oldest first. Safe to run anywhere, any number of times."""
    gateway = sms or FileSmsGateway(get_settings().sms_outbox_file)
    target = bus or live.bus
    counts = DeliveryCounts()
    with session_factory() as session:
        ids = session.scalars(select(OutboxMessage.id).where(OutboxMessage.sent_at.is_(None),
                                                             OutboxMessage.attempts < MAX_ATTEMPTS)
                              .order_by(OutboxMessage.id).limit(limit)).all()
    for message_id in ids:
        try:
            with session_factory() as session, session.begin():
                kind, event = _deliver_one(session, message_id, gateway, now())
        except Exception:
            log.warning("outbox %s: delivery failed; it stays unsent for a later attempt", message_id,
                        exc_info=True)
            counts.failed += 1
            with session_factory() as session, session.begin():
                session.execute(update(OutboxMessage)
                                .where(OutboxMessage.id == message_id, OutboxMessage.sent_at.is_(None))
                                .values(attempts=OutboxMessage.attempts + 1))
            continue
        if event is not None:
            target.publish(event)  # after the commit: nobody hears of a send that was rolled back
        if kind == "inapp":
            counts.inapp += 1
        elif kind == "sms":
            counts.sms += 1
        elif kind == "live":
            counts.live += 1
    return counts
