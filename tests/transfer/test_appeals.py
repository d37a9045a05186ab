"""Historical appeals import: good rows become orders with their history; any bad row refuses the file."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from tests.factories import COMMUNITY_A, COMMUNITY_B, TOWN_A
from tests.transfer.history import POINT_A, POINT_B, many, numbered, row
from zhili.auth.service import subject_for_staff
from zhili.errors import ImportRejected, Invalid
from zhili.models import Appeal, Assignment, OrderEvent, OutboxMessage, Staff, WorkOrder
from zhili.transfer.appeals import BATCH_SIZE, MAX_PROBLEMS, import_appeals, parse_time


def utc(text: str) -> datetime:
    """A Beijing wall-clock time, in UTC."""
    parsed = parse_time(text)
    assert parsed is not None
    return parsed


def imported(session, external_id: str) -> tuple[WorkOrder, Appeal, list[OrderEvent]]:  # type: ignore[no-untyped-def]
    appeal = session.scalar(select(Appeal).where(Appeal.external_id == external_id))
    assert appeal is not None, external_id
    order = session.get(WorkOrder, appeal.work_order_id)
    events = list(session.scalars(select(OrderEvent).where(OrderEvent.work_order_id == order.id)
                                  .order_by(OrderEvent.id)))
    return order, appeal, events


def staff_subject(session, username: str):  # type: ignore[no-untyped-def]
    return subject_for_staff(session.scalar(select(Staff).where(Staff.username == username)))


def count(session, model) -> int:  # type: ignore[no-untyped-def]
    return session.scalar(select(func.count()).select_from(model))


# Good rows -------------------------------------------------------------------------------------


def test_a_closed_row_gets_its_history_at_the_historical_times(world, db_session):
    report = import_appeals(db_session, numbered([row(external_id="OLD-1", rating="4")]), source="旧热线")
    assert (report.rows, report.created) == (1, 1)

    order, appeal, events = imported(db_session, "OLD-1")
    assert order.status == "closed" and order.rating == 4
    assert order.code == f"GD20240304{order.id:06d}"
    assert order.created_at == utc("2024-03-04 09:00") and order.closed_at == utc("2024-03-06 10:00")
    # 5 working days from Monday 09:00 (the test category's handling limit), on the working calendar.
    assert order.handle_due_at == utc("2024-03-11 09:00")
    assert order.due_at is None and order.stage is None and order.overdue_at is None
    assert (order.region_code, order.place_code) == (TOWN_A, COMMUNITY_A)
    assert [(e.action, e.from_status, e.to_status, e.at) for e in events] == [
        ("register", None, "registered", utc("2024-03-04 09:00")),
        ("dispatch", "registered", "dispatched", utc("2024-03-04 09:00")),
        ("report", "dispatched", "handled", utc("2024-03-06 10:00")),
        ("callback", "handled", "closed", utc("2024-03-06 10:00")),
    ]
    assert all(e.data["imported"] is True and e.data["source"] == "旧热线" for e in events)
    assert events[2].data["report"] == "已更换灯泡" and events[3].data["rating"] == 4
    assert events[2].department_id == world.departments["D-A-PCS"].id
    assert appeal.tracking_code and len(appeal.tracking_code) == 10
    assert appeal.attributes == {"import_source": "旧热线", "import_row": 1}
    lead = db_session.scalar(select(Assignment).where(Assignment.work_order_id == order.id))
    assert (lead.state, lead.role, lead.dispatched_at) == ("done", "lead", utc("2024-03-04 09:00"))


def test_late_and_open_orders_are_marked_overdue_with_an_event(world, db_session):
    import_appeals(db_session, numbered([
        row(external_id="LATE", closed_at="2024-03-20 16:00"),
        row(external_id="OPEN", closed_at="", status="accepted", due_at="2024-04-01 17:30"),
        row(external_id="WAITING", closed_at="", status="", department_code=""),
    ]), source="旧热线")

    late, _appeal, events = imported(db_session, "LATE")
    assert late.overdue_at == late.handle_due_at == utc("2024-03-11 09:00")
    assert [e.action for e in events] == ["register", "dispatch", "overdue", "report", "close"]
    assert events[2].data["stage"] == "handle" and events[2].public is False

    still_open, _appeal, events = imported(db_session, "OPEN")
    assert (still_open.status, still_open.stage) == ("accepted", "handle")
    assert still_open.due_at == still_open.handle_due_at == still_open.overdue_at == utc("2024-04-01 17:30")
    assert [e.action for e in events] == ["register", "dispatch", "sign", "overdue"]

    waiting, _appeal, events = imported(db_session, "WAITING")
    assert waiting.status == "registered" and waiting.due_at is None and waiting.overdue_at is None
    assert [e.action for e in events] == ["register"]


def test_a_point_in_a_grid_places_the_order_like_a_live_appeal(world, db_session):
    import_appeals(db_session, numbered([row(external_id="P", lon=POINT_A[0], lat=POINT_A[1], region_code="",
                                             channel="网格上报", urgency="特急", status="已办结")]), source="s")
    order, appeal, _events = imported(db_session, "P")
    assert order.grid_id == world.grids[COMMUNITY_A + "001"].id
    assert (order.place_code, appeal.region_code, order.region_code) == (COMMUNITY_A, COMMUNITY_A, TOWN_A)
    assert (order.channel, order.urgency, order.grid_report) == ("grid", "critical", True)


def test_closing_without_a_department_is_an_answer_and_cancelling_is_a_cancel(world, db_session):
    import_appeals(db_session, numbered([
        row(external_id="ANSWERED", department_code=""),
        row(external_id="VOID", status="cancelled", closure_note="重复来电"),
    ]), source="s")
    _order, _appeal, events = imported(db_session, "ANSWERED")
    assert [(e.action, e.to_status) for e in events] == [("register", "registered"), ("answer", "closed")]
    assert events[1].data["answer"] == "已更换灯泡"
    order, _appeal, events = imported(db_session, "VOID")
    assert order.status == "cancelled" and events[-1].action == "cancel" and events[-1].reason == "重复来电"


def test_history_sends_no_notifications(world, db_session):
    before = count(db_session, OutboxMessage)
    import_appeals(db_session, numbered([row()]), source="s")
    assert count(db_session, OutboxMessage) == before


def test_chinese_headers_are_accepted(world, db_session):
    rows = [(1, {"原系统编号*": "ZH-1", "受理时间（北京时间）": "2024/3/4 9:00", "诉求内容": "噪音扰民",
                 "区划代码": COMMUNITY_A, "状态": "待派遣"})]
    import_appeals(db_session, rows, source="s")
    order, _appeal, _events = imported(db_session, "ZH-1")
    assert order.status == "registered" and order.created_at == utc("2024-03-04 09:00")


def test_progress_is_told_after_every_batch(world, db_session):
    seen: list[tuple[int, int]] = []
    import_appeals(db_session, many(BATCH_SIZE + 5), source="s", progress=lambda n, bad: seen.append((n, bad)))
    assert seen == [(BATCH_SIZE, 0), (BATCH_SIZE + 5, 0)]


# Bad rows --------------------------------------------------------------------------------------

BAD_ROWS = [
    ({"external_id": ""}, "external_id"),
    ({"external_id": "x" * 101}, "external_id"),
    ({"received_at": ""}, "received_at"),
    ({"received_at": "去年春天"}, "received_at"),
    ({"received_at": "2099-01-01 09:00", "closed_at": ""}, "received_at"),
    ({"text": ""}, "text"),
    ({"channel": "飞鸽传书"}, "channel"),
    ({"caller_phone": "12"}, "caller_phone"),
    ({"lon": "119.52"}, "lat"),
    ({"lon": "999", "lat": "29.25"}, "lon"),
    ({"lon": "100.0", "lat": "20.0", "region_code": ""}, "lon"),
    ({"region_code": ""}, "region_code"),
    ({"region_code": "3.39922E+11"}, "region_code"),
    ({"region_code": "339922009009"}, "region_code"),
    ({"category_code": "NOPE"}, "category_code"),
    ({"department_code": "NOPE"}, "department_code"),
    ({"urgency": "很急"}, "urgency"),
    ({"status": "archived"}, "status"),
    ({"status": "dispatched", "closed_at": "", "department_code": ""}, "department_code"),
    ({"closed_at": "2024-03-01 09:00"}, "closed_at"),
    ({"status": "closed", "closed_at": ""}, "closed_at"),
    ({"status": "accepted"}, "closed_at"),
    ({"rating": "7"}, "rating"),
    ({"rating": "5", "status": "accepted", "closed_at": ""}, "rating"),
    ({"due_at": "2024-03-01 09:00"}, "due_at"),
]


@pytest.mark.parametrize(("values", "field"), BAD_ROWS, ids=[f"{f}:{v}" for v, f in BAD_ROWS])
def test_a_bad_row_is_reported_by_row_and_field_and_nothing_is_stored(world, db_session, values, field):
    orders = count(db_session, WorkOrder)
    rows = numbered([row(external_id="G-1"), row(**{"external_id": "BAD", **values}), row(external_id="G-3")])
    with pytest.raises(ImportRejected) as refused:
        import_appeals(db_session, rows, source="s")
    db_session.rollback()
    assert {(p.row, p.field) for p in refused.value.report.problems} == {(2, field)}
    assert "1 行有问题" in refused.value.message
    assert count(db_session, WorkOrder) == orders


def test_a_file_without_a_required_column_is_refused_before_any_row(world, db_session):
    rows = [(1, {"external_id": "A", "text": "x", "region_code": COMMUNITY_A})]
    with pytest.raises(ImportRejected) as refused:
        import_appeals(db_session, rows, source="s")
    assert [(p.field, p.row) for p in refused.value.report.problems] == [("received_at", None)]


def test_an_empty_input_or_a_blank_source_is_refused(world, db_session):
    with pytest.raises(ImportRejected):
        import_appeals(db_session, [], source="s")
    with pytest.raises(Invalid):
        import_appeals(db_session, numbered([row()]), source="  ")


def test_duplicate_external_ids_in_one_file_name_the_first_row(world, db_session):
    rows = numbered([row(external_id="D-1"), row(external_id="D-2"), row(external_id="D-1")])
    with pytest.raises(ImportRejected) as refused:
        import_appeals(db_session, rows, source="s")
    [problem] = refused.value.report.problems
    assert (problem.row, problem.field) == (3, "external_id") and "第 1 行" in problem.problem


def test_a_duplicate_in_a_later_batch_is_found_without_remembering_every_id(world, db_session):
    rows = list(many(BATCH_SIZE + 10))
    rows.append((len(rows) + 1, rows[4][1]))  # row 5 again, two batches later
    with pytest.raises(ImportRejected) as refused:
        import_appeals(db_session, rows, source="s")
    [problem] = refused.value.report.problems
    assert (problem.row, problem.field) == (BATCH_SIZE + 11, "external_id") and "第 5 行" in problem.problem


def test_an_external_id_imported_before_from_the_same_source_is_refused(world, db_session):
    import_appeals(db_session, numbered([row(external_id="R-1")]), source="旧热线")
    db_session.commit()
    first, _appeal, _events = imported(db_session, "R-1")
    with pytest.raises(ImportRejected) as refused:
        import_appeals(db_session, numbered([row(external_id="R-2"), row(external_id="R-1")]), source="旧热线")
    db_session.rollback()
    [problem] = refused.value.report.problems
    assert problem.row == 2 and first.code in problem.problem
    # Another old system may use the same numbers.
    import_appeals(db_session, numbered([row(external_id="R-1")]), source="网络问政平台")


def test_the_report_keeps_the_first_problems_and_counts_them_all(world, db_session):
    bad = ((i, row(external_id=f"B-{i}", text="")) for i in range(1, MAX_PROBLEMS + 201))
    with pytest.raises(ImportRejected) as refused:
        import_appeals(db_session, bad, source="s")
    report = refused.value.report
    assert len(report.problems) == MAX_PROBLEMS and report.problems[-1].row == MAX_PROBLEMS
    assert (report.problem_count, report.bad_rows, report.rows) == (MAX_PROBLEMS + 200,) * 3


# Scope -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("values", "field"), [
    ({"region_code": COMMUNITY_B, "department_code": ""}, "region_code"),
    ({"region_code": "", "lon": POINT_B[0], "lat": POINT_B[1], "department_code": ""}, "lon"),
    ({"department_code": "D-townb-PCS"}, "department_code"),
])
def test_a_town_admin_imports_only_into_its_own_town(world, db_session, values, field):
    subject = staff_subject(db_session, "towna-admin")
    with pytest.raises(ImportRejected) as refused:
        import_appeals(db_session, numbered([row(**values)]), source="s", subject=subject)
    assert [p.field for p in refused.value.report.problems] == [field]
    import_appeals(db_session, numbered([row()]), source="s", subject=subject)


def test_times_read_as_beijing_time_unless_they_say_otherwise():
    assert parse_time("2024-03-04 09:00") == datetime(2024, 3, 4, 1, 0, tzinfo=UTC)
    assert parse_time("2024-03-04T09:00:00Z") == datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
    assert parse_time("2024/3/4 9:05:30") == datetime(2024, 3, 4, 1, 5, 30, tzinfo=UTC)
    assert parse_time("2024-13-01 09:00") is None and parse_time("yesterday") is None
