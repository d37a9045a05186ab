"""Outside systems: each API key files appeals only as its allowed channels, within its rate limit."""

import re

from sqlalchemy import select

from tests.factories import COMMUNITY_A, TOWN_A, login, page_login
from zhili.models import ApiKey, Appeal

APPEAL = {"text": "小区门口路灯不亮", "region_code": COMMUNITY_A}


def _issue(client, **extra) -> dict:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/api-keys", json={"name": "街道小程序", "region_code": TOWN_A, **extra},
                    headers=login(client, "towna-admin"))
    assert r.status_code == 201, r.text
    return r.json()


def test_an_appeal_records_the_systems_own_channel_and_the_system(client, world, db_session):
    key = _issue(client, channels=["mobile", "web"])
    assert key["channels"] == ["mobile", "web"] and key["rate_limit"] is None
    bearer = {"Authorization": f"Bearer {key['key']}"}
    r = client.post("/api/v1/appeals", json=APPEAL, headers=bearer)
    assert r.status_code == 201, r.text
    assert r.json()["work_order"]["channel"] == "mobile"
    appeal = db_session.scalars(select(Appeal).where(Appeal.tracking_code == r.json()["tracking_code"])).one()
    assert appeal.source_key_id == key["id"]
    assert client.post("/api/v1/appeals", json={**APPEAL, "channel": "web"}, headers=bearer).status_code == 201
    refused = client.post("/api/v1/appeals", json={**APPEAL, "channel": "hotline"}, headers=bearer)
    assert refused.status_code == 403 and "hotline" in refused.json()["detail"]


def test_a_key_without_channels_files_nothing(client, world):
    key = _issue(client, channels=[])
    r = client.post("/api/v1/appeals", json=APPEAL, headers={"Authorization": f"Bearer {key['key']}"})
    assert r.status_code == 403 and "渠道" in r.json()["detail"]


def test_over_the_rate_limit_answers_429_with_retry_after(client, world):
    key = _issue(client, channels=["mobile"], rate_limit=2)
    bearer = {"Authorization": f"Bearer {key['key']}"}
    answers = [client.get("/api/v1/auth/me", headers=bearer) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert 1 <= int(answers[2].headers["Retry-After"]) <= 60
    assert "每分钟最多 2 次" in answers[2].json()["detail"]
    # Staff tokens have no limit.
    staff = login(client, "towna-admin")
    assert all(client.get("/api/v1/auth/me", headers=staff).status_code == 200 for _ in range(5))


def test_the_limit_is_per_key(client, world):
    first = _issue(client, rate_limit=1)
    second = _issue(client, rate_limit=1)
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {first['key']}"}).status_code == 200
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {second['key']}"}).status_code == 200
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {first['key']}"}).status_code == 429


def test_bad_channels_and_limits_are_refused_with_a_message(client, world):
    admin = login(client, "towna-admin")
    r = client.post("/api/v1/api-keys", json={"name": "x", "channels": ["fax"]}, headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"].startswith("channels")
    r = client.post("/api/v1/api-keys", json={"name": "x", "rate_limit": 0}, headers=admin)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "rate_limit"


def test_the_admin_page_issues_a_key_with_channels_and_a_limit(client, world, db_session):
    csrf = page_login(client, "towna-admin")
    page = client.get("/admin/api-keys")
    assert "允许登记的渠道" in page.text and "每分钟" in page.text
    r = client.post("/admin/api-keys", data={"csrf_token": csrf, "name": "市民App", "region_code": TOWN_A,
                                             "roles": ["citizen"], "channels": ["mobile", "open311"],
                                             "rate_limit": "600"})
    assert r.status_code == 200, r.text
    assert re.search(r"zk_[0-9a-f]{12}_", r.text)
    key = db_session.scalars(select(ApiKey).where(ApiKey.name == "市民App")).one()
    assert key.channels == ["mobile", "open311"] and key.rate_limit == 600
    listed = client.get("/admin/api-keys")
    assert "移动端" in listed.text and "600" in listed.text
    bad = client.post("/admin/api-keys", data={"csrf_token": csrf, "name": "y", "roles": ["citizen"],
                                               "rate_limit": "-5"}, headers={"HX-Request": "true"})
    assert bad.status_code == 422
