"""The outbox sender and the notification pages, on both databases."""

import json
import re

import pytest
from sqlalchemy import select

from tests.factories import TOWN_A, login, page_login
from tests.work_order.test_loop import move
from zhili.db import get_sessionmaker
from zhili.models import Notification, OrderEvent, OutboxMessage
from zhili.notify import live
from zhili.notify.sender import deliver
from zhili.notify.sms import FileSmsGateway, SmsMessage


class Recorder(live.Broadcaster):
    """A bus that remembers what was published (the in-process path, SQLite)."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[live.LiveEvent] = []

    def publish(self, event: live.LiveEvent) -> None:
        self.events.append(event)


class BrokenGateway:
    def send(self, message: SmsMessage) -> None:
        raise ConnectionError("gateway down")


def _add_sms(db_session, order_id: int) -> int:  # type: ignore[no-untyped-def]
    event = db_session.scalar(select(OrderEvent).where(OrderEvent.work_order_id == order_id))
    row = OutboxMessage(event_id=event.id, kind="sms", recipient="13800138000",
                        payload={"order": "x", "action": "close", "status": "closed", "tracking_code": "ABCDEFGH23"})
    db_session.add(row)
    db_session.commit()
    return row.id


def _unsent(db_session) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    db_session.expire_all()
    return list(db_session.scalars(select(OutboxMessage).where(OutboxMessage.sent_at.is_(None))))


def test_deliver_turns_the_outbox_into_notifications_and_text_messages_once(world, client, db_session, tmp_path):
    move(client, login(client, "county-dispatcher"), world.orders["A"], "dispatch", department="D-COUNTY-CG")
    _add_sms(db_session, world.orders["A"])
    gateway, bus = FileSmsGateway(tmp_path / "sms.jsonl"), Recorder()
    first = deliver(get_sessionmaker(), sms=gateway, bus=bus)
    second = deliver(get_sessionmaker(), sms=gateway, bus=bus)
    assert (first.inapp, first.sms, first.failed) == (1, 1, 0)
    assert second.as_dict() == {"inapp": 0, "sms": 0, "live": 0, "failed": 0}
    assert _unsent(db_session) == []
    [note] = db_session.scalars(select(Notification)).all()
    assert note.department_id == world.departments["D-COUNTY-CG"].id and note.url == f"/orders/{world.orders['A']}"
    assert "待签收" in note.title and note.outbox_id is not None
    lines = (tmp_path / "sms.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    sms = json.loads(lines[0])
    assert sms["to"] == "13800138000" and sms["text"].startswith("【临溪县12345】您的诉求（查询码 ABCDEFGH23）")
    is_pg = db_session.get_bind().dialect.name == "postgresql"
    # Registration (A, B) and dispatch (A) wrote live rows; on PostgreSQL they go out by NOTIFY instead.
    assert first.live == 3
    assert len(bus.events) == (0 if is_pg else 3)
    if not is_pg:
        assert {e.order_id for e in bus.events} == set(world.orders.values())


def test_a_failed_delivery_stays_unsent_and_counts_the_attempt(world, db_session, tmp_path):
    sms_id = _add_sms(db_session, world.orders["A"])
    counts = deliver(get_sessionmaker(), sms=BrokenGateway(), bus=Recorder())
    assert counts.failed == 1 and counts.live == 2  # the others went out regardless
    [row] = _unsent(db_session)
    assert (row.id, row.attempts) == (sms_id, 1)
    deliver(get_sessionmaker(), sms=BrokenGateway(), bus=Recorder())
    assert _unsent(db_session)[0].attempts == 2
    assert deliver(get_sessionmaker(), sms=FileSmsGateway(tmp_path / "sms.jsonl"), bus=Recorder()).sms == 1
    assert _unsent(db_session) == []


def test_an_unknown_recipient_is_kept_for_later(world, db_session):
    event = db_session.scalar(select(OrderEvent))
    db_session.add(OutboxMessage(event_id=event.id, kind="inapp", recipient="department:NOPE", payload={}))
    db_session.commit()
    assert deliver(get_sessionmaker(), sms=BrokenGateway(), bus=Recorder()).failed == 1
    assert [m.recipient for m in _unsent(db_session)] == ["department:NOPE"]




def test_live_rows_are_notified_across_processes_on_postgresql(world, db_session):
    if db_session.get_bind().dialect.name != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite publishes in process (tested above)")
    import psycopg

    url = db_session.get_bind().url.render_as_string(hide_password=False)
    with psycopg.connect(live.libpq_dsn(url), autocommit=True) as conn:
        conn.execute(f"LISTEN {live.CHANNEL}")
        deliver(get_sessionmaker(), sms=BrokenGateway(), bus=Recorder())
        received = [live.LiveEvent.from_json(n.payload) for n in conn.notifies(timeout=5, stop_after=2)]
    assert {e.order_id for e in received} == set(world.orders.values())
    assert {e.action for e in received} == {"register"}


# Pages ------------------------------------------------------------------------------------------


def _sweep_notes(world, client, db_session):  # type: ignore[no-untyped-def]
    """Two desk notifications, one per town, through the real sender."""
    from datetime import timedelta

    from zhili.models import WorkOrder
    from zhili.work_order.tasks import sweep

    dispatcher = login(client, "county-dispatcher")
    for town in "AB":
        move(client, dispatcher, world.orders[town], "dispatch", department="D-COUNTY-CG")
    db_session.expire_all()
    at = max(db_session.get(WorkOrder, world.orders[t]).due_at for t in "AB") + timedelta(minutes=1)
    assert sweep(get_sessionmaker(), at).overdue == 2
    deliver(get_sessionmaker(), sms=BrokenGateway(), bus=Recorder())
    return db_session.scalars(select(Notification).where(Notification.region_code != "")
                              .order_by(Notification.region_code)).all()


def test_a_desk_reads_and_clears_its_own_notifications_only(world, client, db_session):
    note_a, note_b = _sweep_notes(world, client, db_session)
    assert note_a.region_code == TOWN_A and "已超期" in note_a.title
    token = page_login(client, "towna-viewer")  # town A's dispatcher
    assert client.get("/notifications/count").text.count(">1<") == 1
    page = client.get("/notifications")
    assert page.status_code == 200 and note_a.title in page.text and note_b.title not in page.text
    refused = client.post("/notifications/read", data={"csrf_token": token, "notification_id": str(note_b.id)})
    assert refused.status_code == 404
    bad = client.post("/notifications/read", data={"csrf_token": token, "notification_id": "abc"})
    assert bad.status_code == 422
    r = client.post("/notifications/read", data={"csrf_token": token, "notification_id": str(note_a.id)},
                    headers={"HX-Request": "true"})
    assert r.status_code == 200 and re.search(r">\s*0\s*<", r.text)
    db_session.expire_all()
    assert db_session.get(Notification, note_a.id).read_at is not None
    assert db_session.get(Notification, note_b.id).read_at is None


def test_marking_all_read_needs_the_csrf_token(world, client, db_session):
    _sweep_notes(world, client, db_session)
    token = page_login(client, "county-handler")  # the lead department of both orders
    assert client.post("/notifications/read", data={}).status_code == 403
    assert client.post("/notifications/read", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    db_session.expire_all()
    dept = world.departments["D-COUNTY-CG"].id
    notes = db_session.scalars(select(Notification).where(Notification.department_id == dept)).all()
    assert len(notes) == 4 and all(n.read_at is not None for n in notes)  # 2 dispatched, 2 overdue
