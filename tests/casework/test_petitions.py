"""Petitions on the statutory clocks: 15 days to decide, 60 to handle, one extension of at most 30
approved by a command leader; repeat petitioners and their key-person record; reception days."""

from datetime import timedelta

from sqlalchemy import select

from tests.factories import COMMUNITY_A, login, page_login
from tests.world_casework import ID_A
from zhili.casework.labels import today
from zhili.models import KeyPerson, KeyPersonKind, Petition

GRID_A = COMMUNITY_A + "001"


def _register(client, headers, **extra):  # type: ignore[no-untyped-def]
    body = {"form": "letter", "petitioner_name": "周某", "title": "小区停车位被占", "content": "多次反映未解决",
            "area_code": GRID_A, **extra}
    return client.post("/api/v1/petitions", json=body, headers=headers)


def test_acceptance_and_handling_clocks_and_one_leader_approved_extension(cw_world, client):
    office = login(client, "towna-viewer")  # a dispatcher of town A: the petition office
    r = _register(client, office, client_key="xf-1")
    assert r.status_code == 201, r.text
    p = r.json()
    assert p["accept_due_on"] == (today() + timedelta(days=15)).isoformat() and p["colour"] == "green"
    assert _register(client, office, client_key="xf-1").json()["id"] == p["id"]
    r = client.post(f"/api/v1/petitions/{p['id']}/refuse", json={}, headers=office)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = client.post(f"/api/v1/petitions/{p['id']}/accept",
                    json={"leader_id": cw_world.staff["towna-leader"].id}, headers=office)
    body = r.json()
    assert body["status"] == "accepted" and body["leader_name"] == "甲街道指挥长"
    assert body["handle_due_on"] == (today() + timedelta(days=60)).isoformat()
    r = client.post(f"/api/v1/petitions/{p['id']}/extend", json={"days": 30, "reason": "需要鉴定"}, headers=office)
    assert r.status_code == 403  # a dispatcher cannot approve its own extension
    leader = login(client, "towna-leader")
    r = client.post(f"/api/v1/petitions/{p['id']}/extend", json={"days": 31, "reason": "需要鉴定"}, headers=leader)
    assert r.status_code == 422
    r = client.post(f"/api/v1/petitions/{p['id']}/extend", json={"days": 20, "reason": "需要鉴定"}, headers=leader)
    assert r.json()["handle_due_on"] == (today() + timedelta(days=80)).isoformat() and r.json()["extended_days"] == 20
    again = client.post(f"/api/v1/petitions/{p['id']}/extend", json={"days": 5, "reason": "再延"}, headers=leader)
    assert again.status_code == 409
    r = client.post(f"/api/v1/petitions/{p['id']}/answer", json={"answer": "已协调物业清理"}, headers=office)
    assert r.json()["status"] == "answered"
    r = client.post(f"/api/v1/petitions/{p['id']}/close", json={"satisfied": True}, headers=office)
    assert r.json()["status"] == "closed" and r.json()["satisfied"] is True
    labels = [e["action"] for e in r.json()["events"]]
    assert labels == ["register", "set_leader", "accept", "extend", "answer", "close"]


def test_late_petitions_are_overdue_and_red(cw_world, client, db_session):
    office = login(client, "towna-viewer")
    p = _register(client, office, received_on=(today() - timedelta(days=20)).isoformat()).json()
    assert p["overdue"] is True and p["colour"] == "red"
    listed = client.get("/api/v1/petitions?overdue=true", headers=office).json()
    assert [x["id"] for x in listed["items"]] == [p["id"]]
    r = client.post(f"/api/v1/petitions/{p['id']}/accept", json={}, headers=office)
    assert r.json()["overdue"] is False  # the handling clock starts afresh
    assert r.json()["events"][-1]["data"]["late"] is True
    future = _register(client, office, received_on=(today() + timedelta(days=1)).isoformat())
    assert future.status_code == 422


def test_repeat_petitioner_shows_earlier_cases_and_becomes_a_key_person_once(cw_world, client, db_session):
    office = login(client, "towna-viewer")
    first = _register(client, office, id_number=ID_A, title="第一次反映").json()
    second = _register(client, office, phone="13600136000", id_number="", title="第二次反映").json()
    # The world's town A petition has the same identity number and phone: both are repeats of it.
    assert {e["title"] for e in second["earlier"]} == {"甲一社区噪声扰民"}
    detail = client.get(f"/api/v1/petitions/{first['id']}", headers=office).json()
    assert {e["title"] for e in detail["earlier"]} == {"甲一社区噪声扰民"}
    assert detail["resident_id"] is not None and detail["key_person_id"] is None
    assert "list_key_person" in detail["allowed_actions"]
    listed = client.get("/api/v1/petitions?q=第一次", headers=office).json()
    assert listed["items"][0]["repeat_count"] == 1
    r = client.post(f"/api/v1/petitions/{first['id']}/list_key_person", json={}, headers=office)
    assert r.status_code == 200 and r.json()["key_person_id"] is not None
    kp = db_session.scalar(select(KeyPerson).where(KeyPerson.id == r.json()["key_person_id"]))
    assert kp.kind == KeyPersonKind.petition and kp.resident_id == detail["resident_id"]
    assert client.post(f"/api/v1/petitions/{first['id']}/list_key_person", json={},
                       headers=office).status_code == 409
    assert client.post(f"/api/v1/petitions/{second['id']}/list_key_person", json={},
                       headers=office).status_code == 409  # no resident matched by identity number


def test_reception_day_takes_cases_and_shows_them_per_leader(cw_world, client, db_session):
    office = login(client, "towna-viewer")
    leader_id = cw_world.staff["towna-leader"].id
    r = client.post("/api/v1/reception-days", json={"leader_id": leader_id, "on": (today() + timedelta(days=7))
                                                     .isoformat(), "place": "甲街道信访接待室"}, headers=office)
    assert r.status_code == 201
    day_id = r.json()["id"]
    past = client.post("/api/v1/reception-days", json={"leader_id": leader_id, "place": "x",
                                                       "on": (today() - timedelta(days=1)).isoformat()}, headers=office)
    assert past.status_code == 422
    p = _register(client, office).json()
    r = client.post(f"/api/v1/petitions/{p['id']}/schedule", json={"reception_day_id": day_id}, headers=office)
    assert r.json()["leader_name"] == "甲街道指挥长" and r.json()["reception_day_id"] == day_id
    days = client.get(f"/api/v1/reception-days?leader_id={leader_id}", headers=office).json()
    assert [x["code"] for x in days[0]["petitions"]] == [p["code"]]
    page_login(client, "towna-viewer")
    page = client.get("/petitions/reception")
    assert page.status_code == 200 and p["code"] in page.text and "甲街道指挥长" in page.text


def test_petition_pages_register_and_act(cw_world, client, db_session):
    token = page_login(client, "towna-viewer")
    assert client.get("/petitions/new").status_code == 200
    form = {"csrf_token": token, "form": "visit", "petitioner_name": "吴某", "title": "路灯长期不亮",
            "content": "晚上出行不便", "area_code": GRID_A, "phone": "13812345678", "client_key": "page-xf"}
    r = client.post("/petitions", data=form, headers={"HX-Request": "true"})
    assert r.status_code == 204 and r.headers["HX-Redirect"].startswith("/petitions/")
    page = client.get(r.headers["HX-Redirect"])
    assert "路灯长期不亮" in page.text and "138****5678" in page.text
    pid = db_session.scalar(select(Petition.id).where(Petition.client_key == "page-xf"))
    r = client.post(f"/petitions/{pid}/act/refuse", data={"csrf_token": token, "reason": "属于诉讼事项"},
                    headers={"HX-Request": "true"})
    assert r.status_code == 200 and "不予受理" in r.text
    listed = client.get("/petitions?tab=not_accepted")
    assert "路灯长期不亮" in listed.text
