"""Volunteer teams, members, activities and hours with their totals; household links of 5–15 houses,
each house linked once, contacts logged, and the households nobody contacted for a month."""

from datetime import timedelta

from sqlalchemy import select

from tests.factories import COMMUNITY_A, login, page_login
from tests.world_casework import houses
from zhili.kit.time import now
from zhili.models import LinkContact


def test_team_activity_hours_add_up_per_member_and_team(world, client):
    gw = login(client, "towna-gw")
    body = {"name": "大祥红·甲一网格志愿服务队", "area_code": COMMUNITY_A + "001", "leader_name": "陈队长",
            "phone": "13512345678"}
    r = client.post("/api/v1/volunteer-teams", json=body, headers=gw)
    assert r.status_code == 201, r.text
    team = r.json()
    assert team["phone"] == "135****5678"
    ids = [client.post(f"/api/v1/volunteer-teams/{team['id']}/members", json={"name": n, "phone": "13512340000"},
                       headers=gw).json()["id"] for n in ("甲", "乙", "丙")]
    on = (now().date() - timedelta(days=1)).isoformat()
    body = {"title": "清扫楼道", "on": on, "hours": [{"volunteer_id": ids[0], "hours": 2}, {"volunteer_id": ids[1],
                                                                                           "hours": 1.5}]}
    assert client.post(f"/api/v1/volunteer-teams/{team['id']}/activities", json=body, headers=gw).status_code == 201
    body = {"title": "关爱老人", "on": on, "hours": [{"volunteer_id": ids[0], "hours": 3}]}
    assert client.post(f"/api/v1/volunteer-teams/{team['id']}/activities", json=body, headers=gw).status_code == 201
    detail = client.get(f"/api/v1/volunteer-teams/{team['id']}", headers=gw).json()
    assert detail["hours"] == 6.5 and detail["activities"] == 2 and detail["members"] == 3
    assert [(v["name"], v["hours"]) for v in detail["volunteers"]] == [("甲", 5.0), ("乙", 1.5), ("丙", 0.0)]
    other_team = world.extra_ids["A"]["team_id"]
    stranger = {"title": "x活动", "on": on, "hours": [{"volunteer_id": ids[0], "hours": 1}]}
    r = client.post(f"/api/v1/volunteer-teams/{other_team}/activities", json=stranger,
                    headers=login(client, "towna-admin"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "hours.0.volunteer_id"
    twice = {"title": "两次", "on": on,
             "hours": [{"volunteer_id": ids[0], "hours": 1}, {"volunteer_id": ids[0], "hours": 1}]}
    assert client.post(f"/api/v1/volunteer-teams/{team['id']}/activities", json=twice, headers=gw).status_code == 422
    r = client.post("/api/v1/volunteer-teams", json={"name": "越界的队", "area_code": COMMUNITY_A + "002"}, headers=gw)
    assert r.status_code == 422  # a grid worker organises in its own grid only


def test_links_take_5_to_15_houses_each_once_and_stale_ones_are_listed(world, client, db_session):
    rows = houses(db_session, world, "A", n=12)
    db_session.commit()
    ids = [h.id for h in rows]
    gw = login(client, "towna-gw")
    r = client.post("/api/v1/household-links", json={"linker_name": "林代表", "house_ids": ids[:4]}, headers=gw)
    assert r.status_code == 422
    r = client.post("/api/v1/household-links", json={"linker_name": "林代表", "house_ids": ids[:5] + ids[:1]},
                    headers=gw)
    assert r.status_code == 422
    r = client.post("/api/v1/household-links", json={"linker_name": "林代表", "house_ids": ids[:6]}, headers=gw)
    assert r.status_code == 201, r.text
    link = r.json()
    assert link["houses"] == 6 and link["stale"] == 6
    r = client.post("/api/v1/household-links", json={"linker_name": "何代表", "house_ids": ids[5:11]}, headers=gw)
    assert r.status_code == 409 and "甲一社区联户路6号" in r.json()["detail"]
    r = client.post(f"/api/v1/household-links/{link['id']}/contacts", json={"house_id": ids[0], "note": "老人身体好"},
                    headers=gw)
    assert r.status_code == 201
    r = client.post(f"/api/v1/household-links/{link['id']}/contacts", json={"house_id": ids[11]}, headers=gw)
    assert r.status_code == 422  # not on this link's list
    # One contact is older than a month: that household is stale again.
    old = LinkContact(link_id=link["id"], house_id=ids[1], at=now() - timedelta(days=40), note="上次")
    db_session.add(old)
    db_session.commit()
    stale = {s["house_id"] for s in client.get("/api/v1/household-links/stale", headers=gw).json()
             if s["link_id"] == link["id"]}
    assert stale == set(ids[1:6])
    detail = client.get(f"/api/v1/household-links/{link['id']}", headers=gw).json()
    assert detail["stale"] == 5 and detail["contacts"][0]["note"] == "老人身体好"
    assert db_session.scalar(select(LinkContact.id).where(LinkContact.note == "老人身体好")) is not None


def test_volunteer_pages_work_for_a_grid_worker(world, client, db_session):
    token = page_login(client, "towna-gw")
    r = client.post("/volunteers/teams", data={"csrf_token": token, "name": "甲一网格夜巡队",
                                               "area_code": COMMUNITY_A + "001"}, follow_redirects=False)
    assert r.status_code == 303
    team_url = r.headers["location"]
    r = client.post(team_url + "/members", data={"csrf_token": token, "name": "郑某"}, follow_redirects=False)
    assert r.status_code == 303
    page = client.get(team_url)
    assert "郑某" in page.text and "甲一网格夜巡队" in page.text
    vid = next(v["id"] for v in client.get("/api/v1/volunteer-teams/" + team_url.rsplit("/", 1)[1],
                                           headers=login(client, "towna-gw")).json()["volunteers"])
    page_login(client, "towna-gw")
    token = page_login(client, "towna-gw")
    r = client.post(team_url + "/activities", data={"csrf_token": token, "title": "夜间巡逻",
                                                    "on": now().date().isoformat(), f"hours_{vid}": "2.5"},
                    follow_redirects=False)
    assert r.status_code == 303
    assert "2.5" in client.get(team_url).text
    links = client.get("/volunteers/links")
    assert links.status_code == 200 and "甲联户代表" in links.text and "从未联系" in links.text
    assert client.get("/volunteers").status_code == 200
