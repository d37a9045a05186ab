"""The deadline sweep and the per-region working calendar, on both databases.

Times are passed in (`sweep(factory, at)`) rather than waited for: nothing here depends on the clock.
"""

import threading
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from tests.factories import COUNTY, TOWN_A, TOWN_B, login
from tests.work_order.test_loop import move
from zhili.db import get_sessionmaker
from zhili.kit.calendar import SHANGHAI, Limit, add_working_seconds, due, working_seconds_between
from zhili.models import CalendarOverride, OrderEvent, OutboxMessage, WorkOrder
from zhili.work_order.service import calendar
from zhili.work_order.tasks import sweep
from zhili.work_order.workflow import event_label


def _dispatch(client, world, town: str = "A") -> None:  # type: ignore[no-untyped-def]
    dispatcher = login(client, "county-dispatcher")
    move(client, dispatcher, world.orders[town], "dispatch", department="D-COUNTY-CG")


def _order(db_session, order_id: int) -> WorkOrder:  # type: ignore[no-untyped-def]
    db_session.expire_all()
    return db_session.get(WorkOrder, order_id)


def _events(db_session, action: str) -> list[OrderEvent]:  # type: ignore[no-untyped-def]
    db_session.expire_all()
    return list(db_session.scalars(select(OrderEvent).where(OrderEvent.action == action)))


def test_sweep_marks_an_overdue_order_once_even_when_run_twice(world, client, db_session):
    _dispatch(client, world)
    order = _order(db_session, world.orders["A"])
    at = order.due_at + timedelta(minutes=1)
    first = sweep(get_sessionmaker(), at)
    second = sweep(get_sessionmaker(), at + timedelta(hours=1))
    assert (first.overdue, second.overdue, second.candidates) == (1, 0, 0)
    order = _order(db_session, world.orders["A"])
    assert order.overdue_at == at and order.status == "dispatched"
    [event] = _events(db_session, "overdue")
    assert event.public is False and event.actor_name == "系统" and event.actor_id is None
    assert event.from_status == event.to_status == "dispatched"
    outbox = db_session.scalars(select(OutboxMessage).where(OutboxMessage.event_id == event.id)).all()
    assert sorted((m.kind, m.recipient) for m in outbox) == [
        ("inapp", "department:D-COUNTY-CG"), ("inapp", f"region:{TOWN_A}"), ("live", "")]
    assert event_label(event.action) == "超期"  # how the timeline names it


def test_concurrent_sweeps_never_mark_an_order_twice(world, client, db_session):
    _dispatch(client, world, "A")
    _dispatch(client, world, "B")
    at = max(_order(db_session, world.orders[t]).due_at for t in "AB") + timedelta(minutes=1)
    barrier = threading.Barrier(4)
    results = []

    def run() -> None:
        barrier.wait()
        results.append(sweep(get_sessionmaker(), at))

    threads = [threading.Thread(target=run) for _i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.overdue for r in results) == 2
    assert sorted(e.work_order_id for e in _events(db_session, "overdue")) == sorted(world.orders.values())
    assert len(db_session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "live")
                                  .join(OrderEvent).where(OrderEvent.action == "overdue")).all()) == 2


def test_an_order_turns_yellow_at_the_warning_share_then_red(world, client, db_session):
    _dispatch(client, world)
    order = _order(db_session, world.orders["A"])
    cal = calendar(order.region, db_session)
    allowed = working_seconds_between(order.stage_started_at, order.due_at, cal)
    early = add_working_seconds(order.stage_started_at, allowed * 0.5, cal)
    late = add_working_seconds(order.stage_started_at, allowed * 0.85, cal)
    assert sweep(get_sessionmaker(), early).warned == 0
    assert _order(db_session, order.id).warned_at is None
    counts = sweep(get_sessionmaker(), late)
    assert (counts.warned, counts.overdue) == (1, 0)
    assert sweep(get_sessionmaker(), late).warned == 0  # warned once
    assert _order(db_session, order.id).warned_at == late
    assert sweep(get_sessionmaker(), order.due_at + timedelta(seconds=1)).overdue == 1
    assert [len(_events(db_session, a)) for a in ("warn", "overdue")] == [1, 1]


def test_a_suspended_order_is_never_marked(world, client, db_session):
    _dispatch(client, world)
    move(client, login(client, "county-handler"), world.orders["A"], "sign")
    order = move(client, login(client, "towna-viewer"), world.orders["A"], "suspend", reason="等待法院判决")
    assert order["due_at"] is None
    counts = sweep(get_sessionmaker(), datetime.now(SHANGHAI) + timedelta(days=400))
    assert counts.candidates == 0 and _events(db_session, "overdue") == [] and _events(db_session, "warn") == []


def test_a_closed_stage_is_not_marked_after_it_moved_on(world, client, db_session):
    """The sweep re-checks under the lock: a candidate signed for meanwhile has a new clock."""
    _dispatch(client, world)
    sign_due = _order(db_session, world.orders["A"]).due_at
    move(client, login(client, "county-handler"), world.orders["A"], "sign")
    assert sweep(get_sessionmaker(), sign_due + timedelta(seconds=1)).overdue == 0


# The working calendar of a region ----------------------------------------------------------------

DAY = date(2025, 3, 12)  # an ordinary Wednesday


def _override(db_session, region_code: str, day: date, is_workday: bool) -> None:  # type: ignore[no-untyped-def]
    from zhili.models import Region

    region = db_session.scalar(select(Region).where(Region.code == region_code))
    db_session.add(CalendarOverride(region_id=region.id, day=day, is_workday=is_workday, note="测试"))
    db_session.commit()


def _region(db_session, code: str):  # type: ignore[no-untyped-def]
    from zhili.models import Region

    db_session.expire_all()
    db_session.info.pop("zhili.calendars", None)
    return db_session.scalar(select(Region).where(Region.code == code))


def test_the_nearest_regions_override_decides_a_due_time(world, db_session):
    start = datetime.combine(DAY - timedelta(days=1), time(17, 0), SHANGHAI)
    four_hours = Limit.parse("4wh")
    national = due(start, four_hours, calendar())
    assert national.astimezone(SHANGHAI).date() == DAY
    _override(db_session, COUNTY, DAY, False)  # the county makes the day a holiday ...
    assert due(start, four_hours, calendar(_region(db_session, TOWN_B))).astimezone(SHANGHAI).date() > DAY
    _override(db_session, TOWN_A, DAY, True)  # ... town A keeps working
    assert due(start, four_hours, calendar(_region(db_session, TOWN_A))) == national
    assert due(start, four_hours, calendar(_region(db_session, TOWN_B))) > national


def test_dispatch_uses_the_calendar_of_the_orders_region(world, client, db_session):
    today = datetime.now(SHANGHAI).date()
    for i in range(40):
        _override(db_session, TOWN_A, today + timedelta(days=i), False)  # town A closes for 40 days
    _dispatch(client, world, "A")
    _dispatch(client, world, "B")
    a, b = _order(db_session, world.orders["A"]), _order(db_session, world.orders["B"])
    assert a.due_at.astimezone(SHANGHAI).date() >= today + timedelta(days=40)
    assert b.due_at < a.due_at - timedelta(days=30)


def test_a_worker_round_sweeps_and_delivers(world, client, db_session, tmp_path, monkeypatch):
    from zhili.config import get_settings
    from zhili.notify.worker import run_forever

    monkeypatch.setattr(get_settings(), "sms_outbox_file", str(tmp_path / "sms.jsonl"))
    run_forever(interval=0, rounds=1)  # registration's live rows: delivered, nothing else to do
    db_session.expire_all()
    assert db_session.scalars(select(OutboxMessage).where(OutboxMessage.sent_at.is_(None))).all() == []
