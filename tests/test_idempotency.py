from sqlalchemy import func, select

from tests.factories import TOWN_A, login
from zhili.models import Department


def _count(db_session) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count(Department.id)))


def test_a_retried_write_answers_as_the_first_and_creates_nothing(client, world, db_session):
    headers = {**login(client, "towna-admin"), "Idempotency-Key": "retry-1"}
    body = {"code": "D-A-NEW", "name": "甲街道新部门", "region_code": TOWN_A}
    before = _count(db_session)
    first = client.post("/api/v1/departments", json=body, headers=headers)
    second = client.post("/api/v1/departments", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers.get("idempotent-replayed") == "true"
    assert _count(db_session) == before + 1


def test_the_same_key_with_another_body_is_refused(client, world):
    headers = {**login(client, "towna-admin"), "Idempotency-Key": "retry-2"}
    client.post("/api/v1/departments", json={"code": "D-A-1", "name": "一", "region_code": TOWN_A}, headers=headers)
    r = client.post("/api/v1/departments", json={"code": "D-A-2", "name": "二", "region_code": TOWN_A},
                    headers=headers)
    assert r.status_code == 422 and "Idempotency-Key" in r.json()["detail"]


def test_keys_belong_to_their_caller(client, world, db_session):
    body = {"code": "D-A-3", "name": "三", "region_code": TOWN_A}
    a = client.post("/api/v1/departments", json=body,
                    headers={**login(client, "towna-admin"), "Idempotency-Key": "shared"})
    b = client.post("/api/v1/departments", json=body,
                    headers={**login(client, "county-admin"), "Idempotency-Key": "shared"})
    assert a.status_code == 201
    assert b.status_code == 409  # a real second attempt by another caller: the code is taken
    assert "idempotent-replayed" not in b.headers


def test_a_refused_write_is_replayed_too(client, world):
    headers = {**login(client, "towna-admin"), "Idempotency-Key": "bad-1"}
    body = {"code": "D-A-4", "name": "四", "region_code": "339922101000"}  # another town: refused
    first = client.post("/api/v1/departments", json=body, headers=headers)
    second = client.post("/api/v1/departments", json=body, headers=headers)
    assert first.status_code == second.status_code == 403
    assert first.json() == second.json()
