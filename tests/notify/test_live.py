"""Live updates: who sees which order's events, the broadcaster, the stream's text, the route."""

import asyncio

import anyio
from sqlalchemy import select

from tests.factories import page_login
from zhili.access import readable
from zhili.auth.service import subject_for_staff
from zhili.models import Assignment, Department, WorkOrder
from zhili.notify import live
from zhili.notify.endpoints import event_lines


def _event(db_session, order_id: int, outbox_id: int = 1) -> live.LiveEvent:  # type: ignore[no-untyped-def]
    order = db_session.get(WorkOrder, order_id)
    departments = db_session.scalars(select(Assignment.department_id).where(Assignment.work_order_id == order_id))
    return live.LiveEvent(id=outbox_id, order_id=order.id, code=order.code, action="dispatch", status=order.status,
                          region_code=order.region_code, place_code=order.place_code,
                          department_ids=tuple(departments))


def test_the_live_filter_agrees_with_readable_orders(world, db_session):
    order_a = db_session.get(WorkOrder, world.orders["A"])
    order_a.assignments.append(Assignment(department_id=world.departments["D-COUNTY-CG"].id, role="lead"))
    db_session.commit()
    for username in world.staff:
        subject = subject_for_staff(world.staff[username])
        readable_ids = set(db_session.scalars(readable(subject, WorkOrder).with_only_columns(WorkOrder.id)))
        for order_id in world.orders.values():
            assert live.visible(subject, _event(db_session, order_id)) == (order_id in readable_ids), username
    towna = subject_for_staff(world.staff["towna-viewer"])
    assert live.visible(towna, _event(db_session, world.orders["A"]))
    assert not live.visible(towna, _event(db_session, world.orders["B"]))  # the control: the filter can refuse
    assert db_session.scalar(select(Department.id).where(Department.code == "D-COUNTY-CG"))


def test_the_stream_sends_readable_events_and_keepalives(world, db_session):
    subject = subject_for_staff(world.staff["towna-viewer"])
    event_a, event_b = _event(db_session, world.orders["A"], 7), _event(db_session, world.orders["B"], 8)
    bus = live.Broadcaster()

    async def main() -> list[str]:
        ready = asyncio.Event()
        lines = event_lines(subject, bus, keepalive=0.05, ready=ready)
        got = [await anext(lines)]
        pending = asyncio.ensure_future(anext(lines))
        await ready.wait()
        bus.publish(event_b)  # town B's: filtered out
        bus.publish(event_a)
        got.append(await pending)
        got.append(await anext(lines))  # nothing more: a keepalive comment
        await lines.aclose()
        return got

    opening, sent, quiet = anyio.run(main)
    assert opening.startswith("retry:")
    assert sent.startswith("id: 7\nevent: order\n") and f'"order_id": {world.orders["A"]}' in sent
    assert world.orders["B"] != world.orders["A"] and quiet == ": keepalive\n\n"
    assert bus.subscriber_count == 0  # closing the stream unsubscribes


def test_a_slow_subscriber_loses_its_oldest_events_not_the_publisher(world, db_session):
    bus = live.Broadcaster(queue_size=2)
    events = [_event(db_session, world.orders["A"], i) for i in range(5)]

    async def main() -> list[int]:
        async with bus.subscribe() as queue:
            for e in events:
                bus.publish(e)
            await asyncio.sleep(0.01)  # let call_soon_threadsafe run
            return [queue.get_nowait().id for _i in range(queue.qsize())]

    assert anyio.run(main) == [3, 4]


def test_the_stream_route_needs_a_signed_in_page_user(world, client):
    r = client.get("/events/stream", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    page_login(client, "towna-viewer")
    r = client.get("/events/stream")  # not an EventSource: the opening, then the end
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    assert r.text.startswith("retry:")


def test_the_postgresql_listener_relays_notify_into_the_bus(world, db_session):
    import pytest

    if db_session.get_bind().dialect.name != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    from sqlalchemy import func

    url = db_session.get_bind().url.render_as_string(hide_password=False)
    event = _event(db_session, world.orders["A"], 42)
    bus = live.Broadcaster()

    async def main() -> live.LiveEvent:
        async with bus.subscribe() as queue:
            task = asyncio.create_task(live.listen_forever(bus, url))
            try:
                with anyio.fail_after(10):
                    while True:  # until the listener is listening: notify, then look
                        await anyio.to_thread.run_sync(_notify, event)
                        try:
                            return await asyncio.wait_for(queue.get(), 0.2)
                        except TimeoutError:
                            continue
            finally:
                task.cancel()

    def _notify(e: live.LiveEvent) -> None:
        from zhili.db import session_scope

        with session_scope() as s:
            s.execute(select(func.pg_notify(live.CHANNEL, e.to_json())))

    assert anyio.run(main) == event
