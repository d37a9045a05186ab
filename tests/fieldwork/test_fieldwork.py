"""Visits and patrols, problems found on patrol, coverage, and the door-knocking campaign."""

from sqlalchemy import func, select

from tests.factories import COMMUNITY_A, COMMUNITY_B, TOWN_A, login, page_login
from tests.world_keyperson import household
from zhili.models import Appeal, Channel
from zhili.models.basedata import House
from zhili.models.keyperson import Visit, VisitKind

TRAIL = [[119.52, 29.25, "2026-03-01T01:00:00Z"], [119.521, 29.251, "2026-03-01T01:05:00Z"]]


def test_a_retried_patrol_is_saved_once(world, client, db_session):
    headers = login(client, "towna-gw")
    body = {"kind": "patrol", "trail": TRAIL, "seen": "沿河巡查", "client_key": "phone-key-12345678"}
    first = client.post("/api/v1/visits", headers=headers, json=body)
    again = client.post("/api/v1/visits", headers=headers, json=body)
    assert first.status_code == 201 and again.status_code == 200, first.text
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["area_code"] == COMMUNITY_A + "001"
    assert (first.json()["lon"], first.json()["lat"]) == (119.521, 29.251)
    assert db_session.scalar(select(func.count()).select_from(Visit).where(Visit.client_key == body["client_key"])) == 1
    bad = client.post("/api/v1/visits", headers=headers, json={**body, "client_key": None, "trail": [[200, 29.2]]})
    assert bad.status_code == 422
    other_grid = client.post("/api/v1/visits", headers=headers,
                             json={"kind": "patrol", "grid_code": COMMUNITY_B + "001"})
    assert other_grid.status_code == 404


def test_a_problem_found_on_patrol_becomes_one_appeal(world, client, db_session):
    headers = login(client, "towna-gw")
    visit = client.post("/api/v1/visits", headers=headers, json={
        "kind": "patrol", "trail": TRAIL, "seen": "幸福路 3 号井盖缺失，有行人跌落危险"}).json()
    first = client.post(f"/api/v1/visits/{visit['id']}/problem", headers=headers, json={})
    again = client.post(f"/api/v1/visits/{visit['id']}/problem", headers=headers, json={})
    assert first.status_code == 200, first.text
    assert first.json()["id"] == again.json()["id"]
    appeal = db_session.scalar(select(Appeal).where(Appeal.work_order_id == first.json()["id"]))
    assert appeal.channel == Channel.grid and "井盖缺失" in appeal.text
    assert client.get(f"/api/v1/visits/{visit['id']}", headers=headers).json()["work_order_id"] == first.json()["id"]


def test_two_taps_on_the_phone_page_report_the_patrol(world, client):
    token = page_login(client, "towna-gw")
    page = client.get("/field")
    assert page.status_code == 200 and "开始巡查" in page.text and "甲镇张某" in page.text
    r = client.post("/field/visits", headers={"HX-Request": "true"}, data={
        "csrf_token": token, "kind": "patrol", "seen": "路灯不亮两盏", "lon": "119.52", "lat": "29.25",
        "trail": "[]", "client_key": "page-key-000001", "report": "1"})
    assert r.status_code == 200 and "发现的问题已上报" in r.text, r.text
    assert r.headers["HX-Trigger"] == "visits-changed"
    assert "/orders/" in r.text
    broken = client.post("/field/visits", data={"csrf_token": token, "kind": "patrol", "trail": "{oops"})
    assert broken.status_code == 422


def test_door_knocking_marks_each_household_once_and_shows_progress(world, client, db_session):
    house, _r = household(db_session, world, COMMUNITY_A + "001", "甲一路", "9号", "孙八")
    db_session.commit()
    admin = login(client, "towna-admin")
    created = client.post("/api/v1/campaigns", headers=admin, json={
        "name": "甲街道春季敲门", "region_code": TOWN_A, "starts_on": "2020-01-01", "ends_on": "2099-12-31"})
    assert created.status_code == 201, created.text
    campaign_id = created.json()["id"]
    assert client.post("/api/v1/campaigns", headers=login(client, "towna-gw"), json={
        "name": "网格员发起", "region_code": COMMUNITY_A, "starts_on": "2020-01-01", "ends_on": "2099-12-31"}
    ).status_code == 403
    token = page_login(client, "towna-gw")
    page = client.get(f"/campaigns/{campaign_id}")
    assert page.status_code == 200
    assert f"/base/houses/{house.id}" in page.text and f"/base/houses/{house.id}/residents/new" in page.text
    for _twice in range(2):
        r = client.post(f"/campaigns/{campaign_id}/knock", headers={"HX-Request": "true"},
                        data={"csrf_token": token, "house_id": house.id, "seen": "人口信息核实无误"})
        assert r.status_code == 200 and "已走访" in r.text
    knocks = db_session.scalar(select(func.count()).select_from(Visit).where(
        Visit.campaign_id == campaign_id, Visit.kind == VisitKind.door_knock))
    assert knocks == 1
    progress = client.get(f"/api/v1/campaigns/{campaign_id}", headers=admin).json()
    [grid] = [g for g in progress["grids"] if g["grid_code"] == COMMUNITY_A + "001"]
    houses = db_session.scalar(select(func.count()).select_from(House).where(House.area_code == COMMUNITY_A + "001"))
    assert (grid["houses"], grid["visited"]) == (houses, 1)


def test_coverage_counts_patrols_people_on_plan_and_houses(world, client, db_session):
    houses = db_session.scalar(select(func.count()).select_from(House).where(House.area_code == COMMUNITY_A + "001"))
    headers = login(client, "towna-admin")
    rows = {r["grid_code"]: r for r in client.get("/api/v1/patrol-coverage", headers=headers).json()}
    a1 = rows[COMMUNITY_A + "001"]
    assert (a1["patrols"], a1["key_persons"], a1["on_plan"], a1["houses"]) == (1, 1, 0, houses)
    assert a1["last_patrol_at"] is not None
    assert COMMUNITY_B + "001" not in rows
    detail = client.get("/api/v1/patrol-coverage", headers=headers, params={"grid_code": COMMUNITY_A + "001"}).json()
    assert [w["name"] for w in detail[0]["workers"]] == ["甲一网格员"]
    page_login(client, "towna-admin")
    page = client.get("/field/coverage", params={"grid_code": COMMUNITY_A + "001"})
    assert page.status_code == 200 and "甲一网格员" in page.text and "data-zl-trails" in page.text
