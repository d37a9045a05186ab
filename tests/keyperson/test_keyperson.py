"""Key persons end to end through the JSON API and the pages: registration with kind-specific fields,
risk and its history, the visit plan, check-ins, leave, and the warnings the sweep raises and clears."""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from tests.factories import COMMUNITY_A, TOWN_A, login, page_login
from zhili.db import get_sessionmaker
from zhili.keyperson.plan import LOCAL_TZ, local_day
from zhili.keyperson.warnings import sweep
from zhili.kit.time import now
from zhili.models import Notification
from zhili.models.keyperson import CareWarning, CheckIn, CheckInKind, KeyPerson, LeaveRequest, WarningKind

CORRECTIONS = {"correction_type": "缓刑", "starts_on": "2026-01-01", "ends_on": "2027-06-30", "place": "临溪县司法局"}


def _register(client, headers, resident_id, kind="corrections", risk="yellow", details=None):
    return client.post("/api/v1/key-persons", headers=headers, json={
        "resident_id": resident_id, "kind": kind, "risk": risk, "details": CORRECTIONS if details is None else details})


def _warnings(db_session, person_id, kind):
    db_session.expire_all()
    return list(db_session.scalars(select(CareWarning).where(CareWarning.key_person_id == person_id,
                                                             CareWarning.kind == kind)))


def test_kind_fields_are_checked_per_kind(world, client, resident):
    headers = login(client, "towna-gw")
    r = _register(client, headers, resident.id, details={"correction_type": "劳改", "starts_on": "2026-05-01",
                                                         "ends_on": "2026-01-01"})
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"details.correction_type", "details.ends_on", "details.place"} <= fields
    r = _register(client, headers, resident.id, kind="mental", details={"diagnosis": "精神分裂症", "danger_level": 7})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "details.danger_level"


def test_registration_masks_numbers_and_plans_the_first_visit(world, client, resident):
    headers = login(client, "towna-gw")
    r = _register(client, headers, resident.id)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["id_number"] == "330122********0018" and body["phone"] == "137****1234"
    assert "330122199001010018" not in r.text
    assert body["until"] == "2027-06-30"
    assert date.fromisoformat(body["visit_due_on"]) == date.fromisoformat(body["since"]) + timedelta(days=30)
    assert [h["new"] for h in body["risk_history"]] == ["yellow"]
    again = _register(client, headers, resident.id)
    assert again.status_code == 409


def test_a_grid_worker_sees_only_its_grids_people(world, client, resident, other_grid_resident):
    admin = login(client, "towna-admin")
    assert _register(client, admin, other_grid_resident.id, kind="petition",
                     details={"summary": "征地补偿"}).status_code == 201
    gw = login(client, "towna-gw")
    names = {p["name"] for p in client.get("/api/v1/key-persons", headers=gw).json()["items"]}
    assert "钱七" not in names and "甲镇张某" in names
    names = {p["name"] for p in client.get("/api/v1/key-persons", headers=admin).json()["items"]}
    assert "钱七" in names


def test_risk_change_is_kept_with_reason_and_red_tells_chief_and_town(world, client, resident, chief, db_session):
    headers = login(client, "towna-gw")
    person = _register(client, headers, resident.id).json()
    assert client.post(f"/api/v1/key-persons/{person['id']}/risk", headers=headers,
                       json={"risk": "yellow", "reason": "没变"}).status_code == 422
    r = client.post(f"/api/v1/key-persons/{person['id']}/risk", headers=headers,
                    json={"risk": "red", "reason": "近期多次酒后滋事"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [(h["old"], h["new"], h["reason"]) for h in body["risk_history"]][0] == ("yellow", "red", "近期多次酒后滋事")
    assert date.fromisoformat(body["visit_due_on"]) == date.fromisoformat(body["since"]) + timedelta(days=7)
    [warning] = _warnings(db_session, person["id"], WarningKind.risk_raised)
    assert warning.cleared_at is None
    notes = list(db_session.scalars(select(Notification).where(Notification.url == f"/key-persons/{person['id']}")))
    assert {n.staff_id for n in notes if n.staff_id} == {chief.id}
    assert {n.region_code for n in notes if n.region_code} == {TOWN_A}
    client.post(f"/api/v1/key-persons/{person['id']}/risk", headers=headers,
                json={"risk": "yellow", "reason": "情绪稳定"})
    assert _warnings(db_session, person["id"], WarningKind.risk_raised)[0].cleared_at is not None


def test_overdue_visit_warns_once_and_a_visit_clears_it(world, client, db_session):
    person_id = world.extra_ids["A"]["key_person_id"]  # the world's person is ten days overdue
    at = now()
    first = sweep(get_sessionmaker(), at)
    second = sweep(get_sessionmaker(), at + timedelta(minutes=5))
    [warning] = _warnings(db_session, person_id, WarningKind.visit_overdue)
    assert first.raised >= 1 and second.raised == 0
    assert db_session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.url == f"/key-persons/{person_id}")) == 1  # no chief: the town only
    headers = login(client, "towna-gw")
    r = client.post("/api/v1/visits", headers=headers, json={"kind": "visit", "key_person_id": person_id,
                                                              "seen": "本人在家，情况稳定"})
    assert r.status_code == 201, r.text
    db_session.expire_all()
    person = db_session.get(KeyPerson, person_id)
    assert person.visit_due_on == local_day(now()) + timedelta(days=30)
    assert _warnings(db_session, person_id, WarningKind.visit_overdue)[0].cleared_at is not None
    assert warning.id == _warnings(db_session, person_id, WarningKind.visit_overdue)[0].id


def test_missed_checkins_warn_for_the_day_and_a_late_record_clears_it(world, client, resident, db_session):
    headers = login(client, "towna-gw")
    person = _register(client, headers, resident.id).json()
    db_session.execute(KeyPerson.__table__.update().where(KeyPerson.id == person["id"])
                       .values(since=date.today() - timedelta(days=10)))
    db_session.commit()
    day = local_day(now()) - timedelta(days=1)
    morning = datetime(day.year, day.month, day.day, 9, tzinfo=LOCAL_TZ)
    r = client.post(f"/api/v1/key-persons/{person['id']}/check-ins", headers=headers,
                    json={"kind": "sign", "at": morning.isoformat()})
    assert r.status_code == 201, r.text
    assert client.post(f"/api/v1/key-persons/{person['id']}/check-ins", headers=headers,
                       json={"kind": "locate"}).status_code == 422  # a location needs a position
    sweep(get_sessionmaker(), now())
    missed = {w.concerns_on: w for w in _warnings(db_session, person["id"], WarningKind.checkin_missed)}
    assert day in missed and "签到 1/2 次、定位 0/1 次" in missed[day].message
    for kind, hour, point in (("sign", 17, {}), ("locate", 12, {"lon": 119.52, "lat": 29.25})):
        at = datetime(day.year, day.month, day.day, hour, tzinfo=LOCAL_TZ).isoformat()
        assert client.post(f"/api/v1/key-persons/{person['id']}/check-ins", headers=headers,
                           json={"kind": kind, "at": at, **point}).status_code == 201
    db_session.expire_all()
    assert db_session.get(CareWarning, missed[day].id).cleared_at is not None
    assert db_session.scalar(select(func.count()).select_from(CheckIn).where(
        CheckIn.key_person_id == person["id"], CheckIn.kind == CheckInKind.sign)) == 2


def test_leave_is_decided_by_the_chief_and_an_overdue_return_is_warned(world, client, resident, chief, db_session):
    gw = login(client, "towna-gw")
    person = _register(client, gw, resident.id).json()
    start = local_day(now())
    r = client.post(f"/api/v1/key-persons/{person['id']}/leaves", headers=gw, json={
        "destination": "杭州市", "reason": "探亲", "starts_on": str(start), "ends_on": str(start + timedelta(days=2))})
    assert r.status_code == 201, r.text
    leave_id = r.json()["id"]
    assert client.post(f"/api/v1/leaves/{leave_id}/decision", headers=gw,
                       json={"approve": True}).status_code == 403
    gc = login(client, "towna-gc")
    assert client.post(f"/api/v1/leaves/{leave_id}/decision", headers=gc, json={"approve": False}).status_code == 422
    r = client.post(f"/api/v1/leaves/{leave_id}/decision", headers=gc, json={"approve": True, "note": "按时销假"})
    assert r.json()["state"] == "approved"
    assert client.post(f"/api/v1/leaves/{leave_id}/decision", headers=gc, json={"approve": True}).status_code == 409
    later = datetime.combine(start + timedelta(days=4), datetime.min.time(), tzinfo=UTC) + timedelta(hours=4)
    sweep(get_sessionmaker(), later)
    db_session.expire_all()
    assert db_session.get(LeaveRequest, leave_id).state == "overdue"
    [warning] = _warnings(db_session, person["id"], WarningKind.leave_overdue)
    assert client.post(f"/api/v1/leaves/{leave_id}/return", headers=gw, json={}).json()["state"] == "returned"
    db_session.expire_all()
    assert db_session.get(CareWarning, warning.id).cleared_at is not None


def test_visit_rules_move_due_dates_and_only_the_county_admin_changes_them(world, client, db_session):
    body = {"rules": [{"kind": "released", "risk": "yellow", "interval_days": 14}]}
    assert client.put("/api/v1/visit-rules", headers=login(client, "towna-admin"), json=body).status_code == 422
    r = client.put("/api/v1/visit-rules", headers=login(client, "county-admin"), json=body)
    assert r.status_code == 200
    assert {"kind": "released", "risk": "yellow", "interval_days": 14} in r.json()
    db_session.expire_all()
    person = db_session.get(KeyPerson, world.extra_ids["A"]["key_person_id"])
    assert person.visit_due_on == person.since + timedelta(days=14)


def test_the_file_page_records_a_visit_and_the_warnings_page_lists_it(world, client, resident, chief, db_session):
    token = page_login(client, "towna-gw")
    page = client.get("/key-persons/new", params={"resident_id": resident.id})
    assert page.status_code == 200 and "赵六" in page.text and "330122199001010018" not in page.text
    r = client.post("/key-persons", data={"csrf_token": token, "resident_id": resident.id, "kind": "mental",
                                          "risk": "red", "d_diagnosis": "精神分裂症", "d_danger_level": "3"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    person_id = int(r.headers["location"].rsplit("/", 1)[1])
    page = client.get(f"/key-persons/{person_id}")
    assert "精神分裂症" in page.text and "330122********0018" in page.text
    r = client.post(f"/key-persons/{person_id}/visits", headers={"HX-Request": "true"},
                    data={"csrf_token": token, "seen": "本人在家，按时服药", "client_key": "visit-key-0001"})
    assert r.status_code == 200 and "本人在家，按时服药" in r.text
    page_login(client, "towna-gc")
    page = client.get("/care-warnings")
    assert page.status_code == 200 and "赵六" in page.text  # the red risk raised at registration
    grid = client.get("/key-persons", params={"grid_code": COMMUNITY_A + "001", "risk": "red"})
    assert "赵六" in grid.text and "甲镇张某" not in grid.text


def test_changes_are_written_to_the_base_data_history(world, client, resident, db_session):
    from zhili.models.basedata import Change

    headers = login(client, "towna-gw")
    person = _register(client, headers, resident.id).json()
    client.post(f"/api/v1/key-persons/{person['id']}/risk", headers=headers, json={"risk": "red", "reason": "酒后滋事"})
    rows = list(db_session.scalars(select(Change).where(Change.entity == "key_person",
                                                        Change.entity_id == person["id"]).order_by(Change.id)))
    assert [r.action for r in rows] == ["create", "update"]
    assert rows[1].fields["risk"] == ["yellow", "red"] and rows[1].staff_name == "甲一网格员"
