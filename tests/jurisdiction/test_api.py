from tests.factories import COMMUNITY_A, COMMUNITY_B, COUNTY, TOWN_A, login


def square(w: float, s: float, e: float, n: float) -> dict:
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def test_region_created_under_its_parent_with_level_and_kind(client, world):
    admin = login(client, "towna-admin")
    r = client.post("/api/v1/regions", headers=admin, json={"code": "339922001002", "name": "甲二社区"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["level"], body["kind"], body["parent_code"]) == ("village", "community", TOWN_A)
    assert [p["code"] for p in body["path"]] == [TOWN_A]


def test_region_codes_are_checked_with_a_sentence_that_says_what_is_right(client, world):
    admin = login(client, "county-admin")
    cases = {
        "12345": "12 位数字",
        "009922001000": "省级代码",
        "339922450000": "乡级代码 450 超出范围",
        "339922001450": "村级代码 450 超出范围",
        "339922002001": "上级区划 339922002000 不存在",
    }
    for code, expected in cases.items():
        r = client.post("/api/v1/regions", headers=admin, json={"code": code, "name": "测试"})
        assert r.status_code == 422, (code, r.text)
        assert expected in r.text, (code, r.text)


def test_a_town_admin_cannot_create_regions_elsewhere_or_rename_the_county(client, world):
    admin = login(client, "towna-admin")
    r = client.post("/api/v1/regions", headers=admin, json={"code": "339922101202", "name": "别处"})
    assert r.status_code == 422 and "管辖范围" in r.text
    assert client.patch(f"/api/v1/regions/{COUNTY}", headers=admin, json={"name": "改名"}).status_code == 404


def test_duplicate_region_code_is_a_conflict(client, world):
    admin = login(client, "county-admin")
    r = client.post("/api/v1/regions", headers=admin, json={"code": COMMUNITY_A, "name": "重复"})
    assert r.status_code == 409


def test_region_lists_filter_by_level_parent_and_search_and_paginate(client, world):
    admin = login(client, "county-admin")
    towns = client.get("/api/v1/regions?level=town", headers=admin).json()
    assert [x["name"] for x in towns["items"]] == ["甲街道", "乙镇"]
    kids = client.get(f"/api/v1/regions?parent_code={TOWN_A}", headers=admin).json()
    assert [x["code"] for x in kids["items"]] == [COMMUNITY_A]
    found = client.get("/api/v1/regions?q=乙镇", headers=admin).json()
    assert {x["code"] for x in found["items"]} == {"339922101000", COMMUNITY_B}
    page = client.get("/api/v1/regions?page=2&page_size=2", headers=admin).json()
    assert page["total"] == 5 and page["page"] == 2 and len(page["items"]) == 2


def test_grid_round_trips_geojson_and_members(client, world):
    admin = login(client, "towna-admin")
    body = {"code": COMMUNITY_A + "003", "name": "甲一社区第三网格", "kind": "special",
            "boundary": square(119.5, 29.2, 119.6, 29.2)}  # degenerate: zero height
    r = client.post("/api/v1/grids", headers=admin, json=body)
    assert r.status_code == 422
    # Move grid 002 aside first, then put the new grid in the freed strip.
    r = client.patch(f"/api/v1/grids/{COMMUNITY_A}002", headers=admin,
                     json={"boundary": square(119.55, 29.2, 119.6, 29.25)})
    assert r.status_code == 200, r.text
    body["boundary"] = square(119.55, 29.25, 119.6, 29.3)
    body["workers"] = ["towna-gw"]
    body["volunteers"] = [{"name": "志愿者甲", "phone": "13800138000"}]
    r = client.post("/api/v1/grids", headers=admin, json=body)
    assert r.status_code == 201, r.text
    grid = r.json()
    assert grid["boundary"]["type"] == "Polygon"
    assert grid["boundary"]["coordinates"][0][0] == [119.55, 29.25] or [119.55, 29.25] in grid["boundary"][
        "coordinates"][0]
    assert [w["username"] for w in grid["workers"]] == ["towna-gw"]
    assert grid["volunteers"][0]["name"] == "志愿者甲"
    assert 25_000_000 < grid["area_m2"] < 35_000_000


def test_overlapping_grids_of_one_community_are_refused(client, world):
    admin = login(client, "towna-admin")
    body = {"code": COMMUNITY_A + "009", "name": "重叠网格", "boundary": square(119.52, 29.21, 119.58, 29.25)}
    r = client.post("/api/v1/grids", headers=admin, json=body)
    assert r.status_code == 422
    text = r.text
    assert "重叠" in text and COMMUNITY_A + "001" in text and COMMUNITY_A + "002" in text


def test_grid_outside_its_community_or_under_a_missing_one_is_refused(client, world):
    admin = login(client, "county-admin")
    far = {"code": COMMUNITY_A + "010", "name": "越界", "boundary": square(119.9, 29.5, 119.95, 29.55)}
    r = client.post("/api/v1/grids", headers=admin, json=far)
    assert r.status_code == 422 and "超出所属社区" in r.text
    orphan = {"code": "339922001005001", "name": "无主", "boundary": square(119.5, 29.2, 119.51, 29.21)}
    r = client.post("/api/v1/grids", headers=admin, json=orphan)
    assert r.status_code == 422 and "不存在" in r.text


def test_grid_boundary_must_be_a_polygon_in_china_lon_first(client, world):
    admin = login(client, "county-admin")
    for boundary, expected in [
        ({"type": "Point", "coordinates": [119.5, 29.2]}, "Polygon"),
        (square(29.2, 119.5, 29.3, 119.6), "经度"),
        ("POLYGON((1 2, 3", "WKT"),
        ({"type": "Polygon", "coordinates": "nope"}, "坐标"),
    ]:
        r = client.post("/api/v1/grids", headers=admin,
                        json={"code": COMMUNITY_A + "011", "name": "x", "boundary": boundary})
        assert r.status_code == 422 and expected in r.text, (boundary, r.text)


def test_grid_workers_must_hold_the_role_and_serve_the_area(client, world):
    admin = login(client, "county-admin")
    r = client.patch(f"/api/v1/grids/{COMMUNITY_A}001", headers=admin, json={"workers": ["towna-viewer"]})
    assert r.status_code == 422 and "网格员" in r.text
    r = client.patch(f"/api/v1/grids/{COMMUNITY_A}001", headers=admin, json={"workers": ["townb-gw"]})
    assert r.status_code == 422 and "不属于" in r.text


def test_department_crud_and_conflicts(client, world):
    admin = login(client, "towna-admin")
    body = {"code": "D-A-ZF", "name": "甲街道综合执法队", "kind": "agency", "region_code": TOWN_A,
            "phone": "0571-87654321"}
    r = client.post("/api/v1/departments", headers=admin, json=body)
    assert r.status_code == 201, r.text
    dept_id = r.json()["id"]
    assert client.post("/api/v1/departments", headers=admin, json=body).status_code == 409
    r = client.patch(f"/api/v1/departments/{dept_id}", headers=admin, json={"active": False})
    assert r.json()["active"] is False
    bad = client.post("/api/v1/departments", headers=admin, json={**body, "code": "D-A-X", "phone": "12"})
    assert bad.status_code == 422 and "电话" in bad.text
    # County units are visible to the town (it routes work to them) but not its to change.
    county_dept = world.departments["D-COUNTY-CG"].id
    assert client.get(f"/api/v1/departments/{county_dept}", headers=admin).status_code == 200
    assert client.patch(f"/api/v1/departments/{county_dept}", headers=admin, json={"name": "x"}).status_code == 403


def test_staff_created_with_roles_department_and_grid(client, world):
    admin = login(client, "towna-admin")
    r = client.post("/api/v1/staff", headers=admin, json={
        "username": "towna-gw2", "display_name": "王网格", "phone": "13912345678", "password": "Grid-pass-1",
        "roles": ["grid_worker"], "region_code": COMMUNITY_A, "grid_code": COMMUNITY_A + "002"})
    assert r.status_code == 201, r.text
    assert r.json()["grid_code"] == COMMUNITY_A + "002"
    grid = client.get(f"/api/v1/grids/{COMMUNITY_A}002", headers=admin).json()
    assert [w["username"] for w in grid["workers"]] == ["towna-gw2"]
    r = client.post("/api/v1/staff", headers=admin, json={
        "username": "towna-h", "display_name": "处置员", "password": "Handle-pass-1",
        "roles": ["department_handler"], "region_code": TOWN_A})
    assert r.status_code == 422 and "部门" in r.text
    r = client.post("/api/v1/staff", headers=admin, json={
        "username": "towna-weak", "display_name": "弱密码", "password": "12345678",
        "roles": ["viewer"], "region_code": TOWN_A})
    assert r.status_code == 422 and "密码" in r.text


def test_staff_list_filters(client, world):
    admin = login(client, "county-admin")
    handlers = client.get("/api/v1/staff?role=department_handler", headers=admin).json()["items"]
    assert {s["username"] for s in handlers} == {"county-handler", "county-handler2", "county-zj", "towna-police",
                                                 "townb-police"}
    in_a = client.get(f"/api/v1/staff?region_code={TOWN_A}", headers=admin).json()["items"]
    assert {s["username"] for s in in_a} == {"towna-admin", "towna-viewer", "towna-police", "towna-gw"}
    found = client.get("/api/v1/staff?q=乙镇", headers=admin).json()["items"]
    assert {s["username"] for s in found} == {"townb-admin", "townb-police", "townb-gw"}


def test_department_staff_see_only_their_department(client, world):
    police = login(client, "towna-police")
    depts = client.get("/api/v1/departments", headers=police).json()["items"]
    assert [d["code"] for d in depts] == ["D-A-PCS"]
    people = client.get("/api/v1/staff", headers=police).json()["items"]
    assert [p["username"] for p in people] == ["towna-police"]


def test_non_admins_read_but_cannot_write(client, world):
    viewer = login(client, "towna-viewer")
    assert client.get("/api/v1/grids", headers=viewer).status_code == 200
    r = client.post("/api/v1/regions", headers=viewer, json={"code": "339922001003", "name": "x"})
    assert r.status_code == 403 and "系统管理员" in r.text


def test_english_locale_translates_api_errors(client, world):
    admin = login(client, "towna-admin")
    r = client.post("/api/v1/regions", headers={**admin, "Accept-Language": "en"},
                    json={"code": "12", "name": "x"})
    assert r.status_code == 422
    assert "12 digits" in r.json()["detail"]
