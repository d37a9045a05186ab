"""Base data end to end through the JSON API: validation of real identity-number and phone edge cases,
the grid a record lands in, history with masked numbers, merging, and the grid worker's scope."""

from sqlalchemy import select

from tests.factories import COMMUNITY_A, COMMUNITY_B, login
from tests.world_basedata import ID_A
from zhili.basedata.checks import check_credit_code, check_resident_id, credit_check_char
from zhili.kit.codes import id_check_digit
from zhili.models import AuditLog, Change, DisputeParty, Resident

GRID_A1, GRID_A2, GRID_B = COMMUNITY_A + "001", COMMUNITY_A + "002", COMMUNITY_B + "001"


def _id(first17: str) -> str:
    return first17 + id_check_digit(first17)


def test_identity_number_edge_cases():
    assert check_resident_id(_id("11010519491231002")) is None
    assert check_resident_id(_id("11010519491231002").lower()) is None  # a lower-case x is the same number
    x = "33992219900101001X"
    assert check_resident_id(x) is None  # check digit X
    assert check_resident_id(x[:-1] + "1") is not None  # wrong check digit
    assert check_resident_id(_id("33992219900230001")) is not None  # 30 February
    assert check_resident_id(_id("33992230990101001")) is not None  # born in 3099
    assert check_resident_id(_id("99992219900101001")) is not None  # no such province
    assert check_resident_id("3399221990010100") is not None  # 16 digits


def test_credit_code_check_character():
    assert check_credit_code("91350100M000100Y43") is None
    assert check_credit_code("91350100M000100Y44") is not None
    code = "91330122MA2B3C4D5"
    assert check_credit_code(code + credit_check_char(code)) is None
    assert check_credit_code("91330122MA2B3C4D5I") is not None  # I is not in the alphabet


def test_resident_created_with_derived_gender_and_birth(world, client):
    headers = login(client, "towna-admin")
    number = _id("33992219880214002")  # 17th digit 2: a woman
    r = client.post("/api/v1/residents", headers=headers, json={
        "name": "测试人", "id_number": number, "phone": "138 0013 8000", "kind": "floating", "grid_code": GRID_A2})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["gender"] == "F" and body["birth_date"] == "1988-02-14"
    assert body["id_number"] == number[:6] + "********" + number[-4:]  # masked on the way out
    assert body["phone"] == "138****8000" and body["area_code"] == GRID_A2
    # The full number finds the person; the masked one does not.
    found = client.get("/api/v1/residents", headers=headers, params={"q": number}).json()
    assert [x["id"] for x in found["items"]] == [body["id"]]
    assert client.get("/api/v1/residents", headers=headers, params={"q": "13800138000"}).json()["total"] == 1
    assert client.get("/api/v1/residents", headers=headers, params={"q": body["id_number"]}).json()["total"] == 0


def test_bad_numbers_are_refused_with_a_sentence(world, client):
    headers = login(client, "towna-admin")
    for field, value in (("id_number", ID_A[:-1] + "9"), ("phone", "1380013800"), ("phone", "12345678901")):
        r = client.post("/api/v1/residents", headers=headers, json={"name": "某", field: value, "grid_code": GRID_A1})
        assert r.status_code == 422, (field, value, r.text)
        assert r.json()["errors"][0]["field"] == field
    # The same person twice: refused, naming the record, never the number in full.
    r = client.post("/api/v1/residents", headers=headers, json={"name": "某", "id_number": ID_A, "grid_code": GRID_A1})
    assert r.status_code == 409 and ID_A not in r.text


def test_address_tree_takes_the_grid_from_position_or_parent(world, client):
    headers = login(client, "towna-admin")
    road = client.post("/api/v1/addresses", headers=headers,
                       json={"level": "road", "name": "和平路", "lon": 119.57, "lat": 29.25}).json()
    assert road["area_code"] == GRID_A2  # the point lies in the second grid
    building = client.post("/api/v1/addresses", headers=headers,
                           json={"parent_id": road["id"], "level": "building", "name": "3号楼"}).json()
    room = client.post("/api/v1/addresses", headers=headers,
                       json={"parent_id": building["id"], "level": "room", "name": "301室"}).json()
    assert room["full_name"] == "和平路 3号楼 301室" and room["area_code"] == GRID_A2
    bad = client.post("/api/v1/addresses", headers=headers,
                      json={"parent_id": room["id"], "level": "building", "name": "x"})
    assert bad.status_code == 422
    house = client.post("/api/v1/houses", headers=headers, json={"address_id": room["id"], "rented": True}).json()
    person = client.post("/api/v1/residents", headers=headers, json={"name": "住户甲", "house_id": house["id"]}).json()
    assert person["address"] == "和平路 3号楼 301室"
    # Renaming the road renames every address below; moving it moves houses and residents with it.
    r = client.patch(f"/api/v1/addresses/{road['id']}", headers=headers,
                     json={"name": "和平大道", "lon": 119.52, "lat": 29.25})
    assert r.status_code == 200, r.text
    assert client.get(f"/api/v1/addresses/{room['id']}", headers=headers).json()["full_name"] == "和平大道 3号楼 301室"
    assert client.get(f"/api/v1/residents/{person['id']}", headers=headers).json()["area_code"] == GRID_A1
    # A point outside town A's area is refused.
    r = client.post("/api/v1/addresses", headers=headers,
                    json={"level": "road", "name": "x", "lon": 119.85, "lat": 29.25})
    assert r.status_code == 403


def test_history_records_who_what_and_masks_numbers(world, client, db_session):
    headers = login(client, "towna-admin")
    rid = world.extra_ids["A"]["resident_id"]
    new_phone = "13612345678"
    r = client.patch(f"/api/v1/residents/{rid}", headers=headers, json={"phone": new_phone, "workplace": "县医院"})
    assert r.status_code == 200, r.text
    changes = client.get(f"/api/v1/residents/{rid}/history", headers=headers).json()
    latest = changes[0]
    assert latest["action"] == "update" and latest["staff_name"] == "甲街道管理员"
    assert latest["fields"]["workplace"] == ["", "县医院"]
    assert latest["fields"]["phone"] == ["137****1111", "136****5678"]
    stored = db_session.scalars(select(Change)).all()
    assert all(new_phone not in str(c.fields) for c in stored)


def test_reveal_shows_the_full_number_and_is_audited(world, client, db_session):
    headers = login(client, "towna-viewer")
    rid = world.extra_ids["A"]["resident_id"]
    r = client.post(f"/api/v1/residents/{rid}/reveal", headers=headers, json={"field": "id_number"})
    assert r.status_code == 200 and r.json()["value"] == ID_A
    log = db_session.scalars(select(AuditLog).where(AuditLog.action == "personal.reveal")).all()
    assert len(log) == 1
    assert (log[0].actor_name, log[0].target_type, log[0].target_id, log[0].detail["field"]) == \
        ("甲街道领导", "resident", str(rid), "id_number")
    assert log[0].region_code == COMMUNITY_A
    # Town B's person does not exist for town A: no value, no log row.
    other = world.extra_ids["B"]["resident_id"]
    r = client.post(f"/api/v1/residents/{other}/reveal", headers=headers, json={"field": "id_number"})
    assert r.status_code == 404


def test_grid_worker_sees_only_its_grid(world, client):
    admin = login(client, "towna-admin")
    client.post("/api/v1/residents", headers=admin, json={"name": "二网格居民", "grid_code": GRID_A2})
    worker = login(client, "towna-gw")  # works grid A 001 only
    seen = client.get("/api/v1/residents", headers=worker).json()["items"]
    assert "甲一居民" in {r["name"] for r in seen} and {r["area_code"] for r in seen} == {GRID_A1}
    assert "二网格居民" in {r["name"] for r in client.get("/api/v1/residents", headers=admin).json()["items"]}
    # Nor may it file a record in the other grid.
    r = client.post("/api/v1/residents", headers=worker, json={"name": "越界", "grid_code": GRID_A2})
    assert r.status_code in (403, 422)


def test_merge_moves_every_reference(world, client, db_session):
    from zhili.models import Dispute

    headers = login(client, "towna-admin")
    keep = world.extra_ids["A"]["resident_id"]
    dup = client.post("/api/v1/residents", headers=headers,
                      json={"name": "甲一居民", "phone": "13700001111", "grid_code": GRID_A1,
                            "workplace": "甲街道农贸市场"}).json()
    dups = client.get(f"/api/v1/residents/{keep}/duplicates", headers=headers).json()
    assert [d["id"] for d in dups] == [dup["id"]]
    party_ids = _dispute_party(db_session, dup["id"], Dispute)
    r = client.post(f"/api/v1/residents/{keep}/merge", headers=headers, json={"other_id": dup["id"]})
    assert r.status_code == 200, r.text
    assert r.json()["workplace"] == "甲街道农贸市场"  # the kept record took what it lacked
    db_session.expire_all()
    assert db_session.get(Resident, dup["id"]).merged_into_id == keep
    assert {p.resident_id for p in db_session.scalars(select(DisputeParty).where(DisputeParty.id.in_(party_ids)))} \
        == {keep}
    assert dup["id"] not in {x["id"] for x in client.get("/api/v1/residents", headers=headers).json()["items"]}
    again = client.post(f"/api/v1/residents/{keep}/merge", headers=headers, json={"other_id": dup["id"]})
    assert again.status_code == 409


def _dispute_party(session, resident_id, Dispute):  # type: ignore[no-untyped-def]
    """A dispute with the duplicate as a party (the casework tables, filled directly)."""
    from datetime import date

    dispute = Dispute(code="TJ-TEST-1", name="邻里纠纷", occurred_on=date(2026, 1, 5), place="甲一幸福路",
                      category="neighbour", deadline=date(2026, 2, 5), body_region_code=COMMUNITY_A, area_code=GRID_A1)
    session.add(dispute)
    session.flush()
    party = DisputeParty(dispute_id=dispute.id, name="甲一居民", resident_id=resident_id)
    session.add(party)
    session.commit()
    return [party.id]


def test_units_and_places(world, client):
    headers = login(client, "towna-admin")
    code = "91330122MA2B3C4D5"
    code += credit_check_char(code)
    u = client.post("/api/v1/units", headers=headers, json={"name": "示例科技有限公司", "credit_code": code,
                                                             "grid_code": GRID_A1})
    assert u.status_code == 201, u.text
    assert client.post("/api/v1/units", headers=headers,
                       json={"name": "重复", "credit_code": code, "grid_code": GRID_A1}).status_code == 409
    assert client.post("/api/v1/units", headers=headers,
                       json={"name": "错码", "credit_code": code[:-1] + "0" if code[-1] != "0" else code[:-1] + "1",
                             "grid_code": GRID_A1}).status_code == 422
    polygon = {"type": "Polygon", "coordinates": [[[119.56, 29.21], [119.58, 29.21], [119.58, 29.23],
                                                   [119.56, 29.23], [119.56, 29.21]]]}
    p = client.post("/api/v1/places", headers=headers, json={"name": "示例水库", "kind": "water", "geometry": polygon})
    assert p.status_code == 201, p.text
    assert p.json()["area_code"] == GRID_A2 and p.json()["geometry"]["type"] == "Polygon"
    bowtie = {"type": "Polygon", "coordinates": [[[119.56, 29.21], [119.58, 29.23], [119.58, 29.21],
                                                  [119.56, 29.23], [119.56, 29.21]]]}
    assert client.post("/api/v1/places", headers=headers,
                       json={"name": "坏", "kind": "water", "geometry": bowtie}).status_code == 422
