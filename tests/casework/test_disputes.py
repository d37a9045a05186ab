"""Disputes end to end through the JSON API and the pages: registration (retries never duplicate),
parties checked, sealed, masked and linked to residents, mediation, escalation up three levels,
the 民转刑 flag that reaches the police, deadlines and the lists."""

from datetime import timedelta

from sqlalchemy import select, text

from tests.factories import COMMUNITY_A, COUNTY, TOWN_A, login, page_login
from tests.world_casework import ID_A
from zhili.casework.labels import today
from zhili.models import CaseEvent, Dispute, DisputeParty, Notification

GRID_A = COMMUNITY_A + "001"


def _register(client, headers, **extra):  # type: ignore[no-untyped-def]
    body = {"name": "王某与赵某噪声纠纷", "place": "甲一社区5幢", "category": "neighbour", "people_count": 2,
            "parties": [{"name": "王某", "id_number": ID_A, "phone": "13912345678", "side": "申请方"},
                        {"name": "赵某", "side": "被申请方"}], **extra}
    return client.post("/api/v1/disputes", json=body, headers=headers)


def test_grid_worker_registers_once_and_parties_are_sealed_masked_and_linked(cw_world, client, db_session):
    gw = login(client, "towna-gw")
    r = _register(client, gw, client_key="phone-retry-1")
    assert r.status_code == 201, r.text
    d = r.json()
    assert d["area_code"] == GRID_A and d["level"] == "village" and d["status"] == "registered"
    assert d["deadline"] == (today() + timedelta(days=15)).isoformat()
    first = d["parties"][0]
    assert first["id_number"] == ID_A[:6] + "********" + ID_A[-4:] and first["phone"] == "139****5678"
    assert first["resident_id"] is not None and d["parties"][1]["resident_id"] is None
    again = _register(client, gw, client_key="phone-retry-1")
    assert again.status_code == 200 and again.json()["id"] == d["id"]
    assert db_session.scalar(select(Dispute.id).where(Dispute.name == "王某与赵某噪声纠纷").limit(2)) == d["id"]
    raw = db_session.execute(text("select id_number from dispute_parties where dispute_id = :d order by id"),
                             {"d": d["id"]}).scalar()
    assert raw.startswith("v1:") and ID_A not in raw  # sealed at rest
    party = db_session.scalars(select(DisputeParty).where(DisputeParty.dispute_id == d["id"])).first()
    assert party.id_number == ID_A  # the model sees the plain value


def test_bad_identity_number_and_foreign_grid_are_refused_with_the_field(cw_world, client):
    gw = login(client, "towna-gw")
    bad = ID_A[:-1] + ("0" if ID_A[-1] != "0" else "1")
    r = _register(client, gw, parties=[{"name": "王某", "id_number": bad}])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "parties.0.id_number"
    r = _register(client, gw, parties=[{"name": "王某", "phone": "12345678"}])
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "parties.0.phone"
    r = _register(client, gw, area_code=COMMUNITY_A + "002")  # not the worker's grid
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "area_code"


def test_mediation_fails_then_climbs_village_town_county_on_the_log(cw_world, client, db_session):
    d = _register(client, login(client, "towna-gw")).json()
    med = login(client, "towna-mediator")
    mediator_id = cw_world.staff["towna-mediator"].id
    r = client.post(f"/api/v1/disputes/{d['id']}/assign", json={"body": "village", "mediator_id": mediator_id},
                    headers=med)
    assert r.status_code == 200 and r.json()["mediator_name"] == "甲街道调解员" and r.json()["status"] == "mediating"
    queue = client.get("/api/v1/disputes?mine=true", headers=med).json()
    assert [x["id"] for x in queue["items"]] == [d["id"]]
    r = client.post(f"/api/v1/disputes/{d['id']}/session", json={"record": "双方陈述，分歧在赔偿金额"}, headers=med)
    assert r.status_code == 200 and len(r.json()["sessions"]) == 1
    r = client.post(f"/api/v1/disputes/{d['id']}/fail", json={"outcome": "分歧较大"}, headers=med)
    assert r.json()["status"] == "failed" and r.json()["success"] is False
    r = client.post(f"/api/v1/disputes/{d['id']}/escalate", json={"reason": "村级无法化解"}, headers=med)
    body = r.json()
    assert body["level"] == "town" and body["body_region_code"] == TOWN_A and body["status"] == "registered"
    assert body["mediator_id"] is None
    r = client.post(f"/api/v1/disputes/{d['id']}/escalate", json={"reason": "涉及多个部门"}, headers=med)
    assert r.json()["level"] == "county" and r.json()["body_region_code"] == COUNTY
    assert "escalate" not in r.json()["allowed_actions"]
    r = client.post(f"/api/v1/disputes/{d['id']}/escalate", json={"reason": "再上报"}, headers=med)
    assert r.status_code == 409
    actions = db_session.scalars(select(CaseEvent.action).where(CaseEvent.case == "dispute",
                                                                CaseEvent.case_id == d["id"]).order_by(CaseEvent.id))
    assert list(actions) == ["register", "assign", "session", "fail", "escalate", "escalate"]


def test_agreement_then_follow_up_closes_and_nothing_moves_after(cw_world, client):
    d = _register(client, login(client, "towna-gw")).json()
    med = login(client, "towna-mediator")
    r = client.post(f"/api/v1/disputes/{d['id']}/resolve", json={}, headers=med)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "agreement"
    r = client.post(f"/api/v1/disputes/{d['id']}/resolve", json={"agreement": "赵某赔偿王某 800 元"}, headers=med)
    assert r.json()["status"] == "resolved" and r.json()["success"] is True and r.json()["follow_up_on"]
    r = client.post(f"/api/v1/disputes/{d['id']}/follow_up", json={"note": "已履行", "assessment": "优秀"},
                    headers=med)
    assert r.json()["status"] == "closed" and r.json()["assessment"] == "优秀"
    assert client.post(f"/api/v1/disputes/{d['id']}/session", json={"record": "x"}, headers=med).status_code == 409


def test_criminal_risk_notifies_the_town_police_and_the_town_desk(cw_world, client, db_session):
    d = _register(client, login(client, "towna-gw")).json()
    r = client.post(f"/api/v1/disputes/{d['id']}/flag_risk", json={"note": "一方扬言报复"},
                    headers=login(client, "towna-gw"))
    assert r.status_code == 200 and r.json()["criminal_risk"] is True
    notes = db_session.scalars(select(Notification).where(Notification.url == f"/disputes/{d['id']}")).all()
    police = cw_world.departments["D-A-PCS"].id
    assert {(n.department_id, n.region_code) for n in notes} == {(police, ""), (None, TOWN_A)}
    assert client.get("/api/v1/disputes?risk=true", headers=login(client, "towna-admin")).json()["total"] == 1
    page_login(client, "towna-police")
    inbox = client.get("/notifications")
    assert "民转刑风险：王某与赵某噪声纠纷" in inbox.text
    case = client.get(f"/disputes/{d['id']}")  # the police follow the link to the case
    assert case.status_code == 200 and "一方扬言报复" in case.text


def test_overdue_disputes_are_listed_and_flagged(cw_world, client, db_session):
    d = _register(client, login(client, "towna-gw")).json()
    row = db_session.get(Dispute, d["id"])
    row.deadline = today() - timedelta(days=1)
    db_session.commit()
    admin = login(client, "towna-admin")
    overdue = client.get("/api/v1/disputes?overdue=true", headers=admin).json()
    assert [x["id"] for x in overdue["items"]] == [d["id"]] and overdue["items"][0]["colour"] == "red"
    assert client.get("/api/v1/disputes?overdue=true&status=closed", headers=admin).json()["total"] == 0
    page_login(client, "towna-admin")
    page = client.get("/disputes?tab=overdue")
    assert page.status_code == 200 and "王某与赵某噪声纠纷" in page.text and "已超期" in page.text


def test_phone_page_registers_and_the_case_page_shows_the_timeline(cw_world, client):
    token = page_login(client, "towna-gw")
    page = client.get("/disputes/new")
    assert page.status_code == 200 and 'name="client_key"' in page.text
    form = {"csrf_token": token, "name": "楼上漏水纠纷", "place": "甲一社区2幢", "category": "neighbour",
            "scale": "general", "people_count": "2", "client_key": "page-key-1",
            "party_name": ["钱某", "孙某"], "party_side": ["申请方", "被申请方"],
            "party_id_number": ["", ""], "party_phone": ["13812345678", ""]}
    r = client.post("/disputes", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    again = client.post("/disputes", data=form, follow_redirects=False)
    assert again.headers["location"] == r.headers["location"]
    detail = client.get(r.headers["location"])
    assert "楼上漏水纠纷" in detail.text and "138****5678" in detail.text and "13812345678" not in detail.text
    bad = client.post("/disputes", data={**form, "client_key": "page-key-2", "party_phone": ["123", ""]},
                      headers={"HX-Request": "true"})
    assert bad.status_code == 422 and "电话号码" in bad.text


def test_mediator_acts_from_the_case_page(cw_world, client):
    d = _register(client, login(client, "towna-gw")).json()
    token = page_login(client, "towna-mediator")
    r = client.post(f"/disputes/{d['id']}/act/assign", data={"csrf_token": token, "body": "police"},
                    headers={"HX-Request": "true"})
    assert r.status_code == 200 and "甲街道派出所调解室" in r.text
    assert client.get("/disputes").status_code == 200
