"""The admin pages: scoped like the API, forms that say what is wrong, read-only for non-admins, English."""

import json
import re

import pytest
from sqlalchemy import func, select

from tests.factories import B_MARKERS, COMMUNITY_A, COMMUNITY_B, TOWN_A, TOWN_B, page_login
from zhili.models import Department, Grid, Region, Staff

HX = {"HX-Request": "true"}
GRID_A = COMMUNITY_A + "001"
GRID_B = COMMUNITY_B + "001"


def leaks(text: str) -> list[str]:
    return [m for m in B_MARKERS if m in text]


def count(db_session, model, *where) -> int:  # type: ignore[no-untyped-def]
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def square(w: float, s: float, e: float, n: float) -> dict:
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def own_pages(world) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """Each page of a town A admin, with rows it must show."""
    return {
        "/admin/regions": ["甲一社区", COMMUNITY_A],
        f"/admin/regions?code={COMMUNITY_A}": ["甲一社区", "暂无下级区划"],
        "/admin/grids": ["甲一社区第一网格", "甲一社区第二网格", "甲一网格员"],
        f"/admin/grids/{GRID_A}": ["甲一社区第一网格", "towna-gw"],
        "/admin/departments": ["甲街道派出所", "县综合行政执法局"],
        f"/admin/departments/{world.departments['D-A-PCS'].id}": ["甲街道派出所"],
        "/admin/staff": ["towna-gw", "甲街道领导", "towna-police"],
        f"/admin/staff/{world.staff['towna-viewer'].id}": ["甲街道领导"],
        "/admin/api-keys": ["甲街道接口"],
        "/admin/audit": ["towna-admin", "login.success"],
    }


def test_every_page_shows_own_rows_and_no_town_b_rows(client, world):
    client.post("/api/v1/auth/token", json={"username": "townb-admin", "password": "wrong-password"})
    page_login(client, "towna-admin")
    for url, expected in own_pages(world).items():
        r = client.get(url)
        assert r.status_code == 200, (url, r.text[:500])
        for text in expected:
            assert text in r.text, (url, text)
        assert not leaks(r.text), (url, leaks(r.text))


def test_town_b_rows_are_not_found(client, world):
    page_login(client, "towna-admin")
    for url in [f"/admin/regions?code={TOWN_B}", f"/admin/regions/{COMMUNITY_B}/row", f"/admin/grids/{GRID_B}",
                f"/admin/grids?within={TOWN_B}", f"/admin/departments/{world.departments['D-townb-PCS'].id}",
                f"/admin/staff/{world.staff['townb-admin'].id}"]:
        assert client.get(url).status_code == 404, url


def test_the_county_sees_both_towns(client, world):
    """The control for the tests above: the same markers do show where they should."""
    page_login(client, "county-admin")
    assert leaks(client.get("/admin/grids").text)
    assert leaks(client.get("/admin/staff").text)


def test_grid_map_data_is_scoped_to_the_area_asked_for(client, world):
    page_login(client, "towna-admin")
    data = client.get("/admin/grids/map.geojson").json()
    grids = [f["properties"] for f in data["features"] if f["properties"]["layer"] == "grid"]
    regions = [f["properties"]["code"] for f in data["features"] if f["properties"]["layer"] == "region"]
    assert sorted(g["code"] for g in grids) == [COMMUNITY_A + "001", COMMUNITY_A + "002"]
    assert sorted(regions) == [TOWN_A, COMMUNITY_A]
    first = next(g for g in grids if g["code"] == GRID_A)
    assert first["workers"] == ["甲一网格员"] and first["kind"] == "basic" and first["community"] == "甲一社区"
    assert not leaks(json.dumps(data, ensure_ascii=False))
    r = client.get(f"/admin/grids/map.geojson?within={TOWN_B}", headers={"Accept": "application/json"})
    assert r.status_code == 404

    client.post("/logout", data={"csrf_token": page_login(client, "county-admin")})
    page_login(client, "county-admin")
    data = client.get(f"/admin/grids/map.geojson?within={TOWN_B}").json()
    codes = {f["properties"]["code"] for f in data["features"]}
    assert codes == {TOWN_B, COMMUNITY_B, GRID_B}


def test_lists_filter_live_and_answer_htmx_with_the_table_only(client, world):
    page_login(client, "county-admin")
    r = client.get("/admin/grids", params={"q": "第二"}, headers=HX)
    assert r.status_code == 200 and "<html" not in r.text
    assert COMMUNITY_A + "002" in r.text and GRID_A not in r.text
    r = client.get("/admin/regions", params={"q": "乙镇"}, headers=HX)
    assert "乙镇一村" in r.text and "甲一社区" not in r.text
    r = client.get("/admin/staff", params={"role": "grid_worker"}, headers=HX)
    assert "towna-gw" in r.text and "townb-gw" in r.text and "county-admin" not in r.text
    r = client.get("/admin/departments", params={"kind": "agency", "active": "true"}, headers=HX)
    assert "甲街道派出所" in r.text and "县综合行政执法局" not in r.text
    # Empty filter values are what a form sends for "any": not an error.
    r = client.get("/admin/staff", params={"region_code": "", "role": "", "department_id": "", "active": ""})
    assert r.status_code == 200


def test_pages_paginate(client, world):
    page_login(client, "county-admin")
    r = client.get("/admin/staff", params={"page_size": 3, "page": 2})
    assert r.status_code == 200
    assert "共 14 条" in r.text and "第 2 / 5 页" in r.text
    assert 'href="/admin/staff?page_size=3&amp;page=3"' in r.text


def test_region_create_form_shows_problems_inline_then_works(client, world, db_session):
    token = page_login(client, "towna-admin")
    r = client.post("/admin/regions", data={"csrf_token": token, "code": "33992200100", "name": ""}, headers=HX)
    assert r.status_code == 422
    assert "12 位数字" in r.text and 'data-zl-field="code"' in r.text and 'data-zl-field="name"' in r.text
    r = client.post("/admin/regions", data={"csrf_token": token, "code": "339922101202", "name": "别处"}, headers=HX)
    assert r.status_code == 422 and "管辖范围" in r.text
    r = client.post("/admin/regions", data={"csrf_token": token, "code": COMMUNITY_A, "name": "重复"}, headers=HX)
    assert r.status_code == 409 and "已存在" in r.text
    assert count(db_session, Region) == 6

    r = client.post("/admin/regions", data={"csrf_token": token, "code": "339922001002", "name": "甲二社区"},
                    headers=HX)
    assert r.status_code == 200 and "已新建区划" in r.text
    assert r.headers["HX-Trigger"] == "regions-changed"
    assert "甲二社区" in client.get("/admin/regions").text
    # Without htmx the form still works: a redirect back to the parent's page.
    r = client.post("/admin/regions", data={"csrf_token": token, "code": "339922001003", "name": "甲三社区"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/admin/regions?code={TOWN_A}"


def test_region_renamed_inline(client, world):
    token = page_login(client, "towna-admin")
    r = client.get(f"/admin/regions/{COMMUNITY_A}/row?edit=true")
    assert r.status_code == 200 and 'name="name"' in r.text and r.text.strip().startswith("<tr")
    r = client.post(f"/admin/regions/{COMMUNITY_A}", data={"csrf_token": token, "name": "甲一新社区"}, headers=HX)
    assert r.status_code == 200 and "甲一新社区" in r.text and r.text.strip().startswith("<tr")
    r = client.post(f"/admin/regions/{COMMUNITY_A}", data={"csrf_token": token, "name": "  "}, headers=HX)
    assert r.status_code == 422 and 'data-zl-field="name"' in r.text


def test_region_import_reports_each_bad_row_and_writes_nothing(client, world, db_session):
    token = page_login(client, "towna-admin")
    bad = "code,name\n339922001002,甲二社区\n3399220010,缺位\n339922001004,\n".encode()
    r = client.post("/admin/regions/import", data={"csrf_token": token},
                    files={"file": ("regions.csv", bad, "text/csv")}, headers=HX)
    assert r.status_code == 422
    assert "未导入任何数据" in r.text
    rows = re.findall(r"<tr data-zl-field=\"(\w+)\">\s*<td>(\d+)</td>", r.text)
    assert ("code", "3") in rows and ("name", "4") in rows
    assert count(db_session, Region) == 6

    good = "code,name\n339922001002,甲二社区\n339922001003,甲三社区\n".encode()
    r = client.post("/admin/regions/import", data={"csrf_token": token, "dry_run": "true"},
                    files={"file": ("regions.csv", good, "text/csv")}, headers=HX)
    assert r.status_code == 200 and "预检通过" in r.text and "HX-Trigger" not in r.headers
    assert count(db_session, Region) == 6
    r = client.post("/admin/regions/import", data={"csrf_token": token},
                    files={"file": ("regions.csv", good, "text/csv")}, headers=HX)
    assert r.status_code == 200 and "导入成功" in r.text and r.headers["HX-Trigger"] == "regions-changed"
    assert count(db_session, Region) == 8


def test_grid_import_refuses_an_overlap_and_names_the_row(client, world, db_session):
    token = page_login(client, "towna-admin")
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": COMMUNITY_A + "003", "name": "甲一第三网格"},
         "geometry": square(119.5, 29.2, 119.56, 29.25)},
    ]}
    r = client.post("/admin/grids/import", data={"csrf_token": token},
                    files={"file": ("grids.geojson", json.dumps(collection).encode(), "application/geo+json")},
                    headers=HX)
    assert r.status_code == 422 and "未导入任何数据" in r.text and "重叠" in r.text
    assert count(db_session, Grid) == 3
    r = client.post("/admin/grids/import", data={"csrf_token": token},
                    files={"file": ("grids.xls", b"\xd0\xcf\x11\xe0 old excel", "application/vnd.ms-excel")},
                    headers=HX)
    assert r.status_code == 422 and "未导入任何数据" in r.text and ".xlsx" in r.text


def test_grid_edit_page_sets_people(client, world, db_session):
    token = page_login(client, "towna-admin")
    page = client.get(f"/admin/grids/{GRID_A}")
    assert 'value="towna-gw"' in page.text and "checked" in page.text
    assert "townb-gw" not in page.text
    r = client.post(f"/admin/grids/{GRID_A}", headers=HX, data={
        "csrf_token": token, "name": "甲一社区一号网格", "kind": "special", "note": "沿河",
        "chief": "", "workers": ["towna-gw"], "volunteers": "志愿者甲 13800138000\n志愿者乙"})
    assert r.status_code == 200, r.text
    assert "已保存网格" in r.text and "志愿者乙" in r.text
    detail = client.get(f"/admin/grids/{GRID_A}").text
    assert "甲一社区一号网格" in detail and "沿河" in detail and "志愿者甲 13800138000" in detail
    r = client.post(f"/admin/grids/{GRID_A}", headers=HX, data={
        "csrf_token": token, "name": "x", "kind": "basic", "workers": ["towna-viewer"], "volunteers": "某人 12"})
    assert r.status_code == 422 and 'data-zl-field="volunteers"' in r.text


def test_department_create_and_edit(client, world, db_session):
    token = page_login(client, "towna-admin")
    form = {"csrf_token": token, "code": "D-A-ZF", "name": "甲街道综合执法队", "kind": "agency",
            "region_code": TOWN_A, "phone": "12"}
    r = client.post("/admin/departments", data=form, headers=HX)
    assert r.status_code == 422 and "电话" in r.text and 'data-zl-field="phone"' in r.text
    r = client.post("/admin/departments", data={**form, "phone": "0571-87654321"}, headers=HX)
    assert r.status_code == 200 and "已新建部门" in r.text
    dept_id = db_session.scalar(select(Department.id).where(Department.code == "D-A-ZF"))
    r = client.post(f"/admin/departments/{dept_id}", headers=HX, data={
        "csrf_token": token, "name": "甲街道综合行政执法队", "short_name": "执法队", "kind": "agency",
        "phone": "0571-87654321", "duties": "", "active": "false"})
    assert r.status_code == 200 and "已保存部门" in r.text
    listed = client.get("/admin/departments", params={"active": "false"}).text
    assert "甲街道综合行政执法队" in listed and "甲街道派出所" not in listed
    # County units are visible to the town, but read-only for it.
    county = client.get(f"/admin/departments/{world.departments['D-COUNTY-CG'].id}").text
    assert "<fieldset disabled>" in county
    r = client.post(f"/admin/departments/{world.departments['D-COUNTY-CG'].id}", headers=HX, data={
        "csrf_token": token, "name": "改名", "kind": "government", "active": "true"})
    assert r.status_code == 403


def test_staff_create_shows_each_problem_then_works(client, world, db_session):
    token = page_login(client, "towna-admin")
    base = {"csrf_token": token, "username": "towna-new", "display_name": "新同事", "phone": "13912345678",
            "password": "Start-pass-1", "roles": ["dispatcher"], "region_code": TOWN_A}
    for change, field, words in [
        ({"password": "12345678"}, "password", "密码"),
        ({"roles": []}, "roles", "至少需要 1 项"),
        ({"roles": ["department_handler"]}, "department_code", "部门"),
        ({"username": "带空格 的名字"}, "username", "格式"),
    ]:
        r = client.post("/admin/staff", data={**base, **change}, headers=HX)
        assert r.status_code == 422, (change, r.text)
        assert f'data-zl-field="{field}"' in r.text and words in r.text, (change, r.text)
    r = client.post("/admin/staff", data={**base, "roles": ["grid_worker"], "region_code": COMMUNITY_A,
                                          "grid_code": COMMUNITY_A + "002"}, headers=HX)
    assert r.status_code == 200 and "已新建账号" in r.text, r.text
    created = db_session.scalar(select(Staff).where(Staff.username == "towna-new"))
    assert created is not None and created.grid_code == COMMUNITY_A + "002"


def test_staff_edit_resets_password_and_unlocks(client, world, db_session):
    for attempt in range(5):
        client.post("/api/v1/auth/token", json={"username": "towna-viewer", "password": f"bad-{attempt}"})
    token = page_login(client, "towna-admin")
    viewer = world.staff["towna-viewer"].id
    page = client.get(f"/admin/staff/{viewer}").text
    assert "已锁定" in page and 'name="unlock"' in page
    r = client.post(f"/admin/staff/{viewer}", headers=HX, data={
        "csrf_token": token, "display_name": "甲街道领导", "phone": "13900000000",
        "roles": ["viewer", "dispatcher"], "region_code": TOWN_A, "active": "true",
        "password": "Brand-new-9", "unlock": "true"})
    assert r.status_code == 200 and "已保存账号" in r.text, r.text
    assert "已锁定" not in r.text
    # The admin cannot switch themselves off from the page either.
    me = world.staff["towna-admin"].id
    r = client.post(f"/admin/staff/{me}", headers=HX, data={
        "csrf_token": token, "display_name": "甲街道管理员", "roles": ["viewer"], "region_code": TOWN_A})
    assert r.status_code == 403
    client.post("/logout", data={"csrf_token": token})
    page_login(client, "towna-viewer", "Brand-new-9")


def test_api_key_is_shown_once_and_revoked_with_confirmation(client, world, db_session):
    token = page_login(client, "towna-admin")
    r = client.post("/admin/api-keys", headers=HX, data={"csrf_token": token, "name": "街道小程序",
                                                          "region_code": COMMUNITY_A, "roles": ["citizen"]})
    assert r.status_code == 200 and "只显示这一次" in r.text
    plain = re.search(r'value="(zk_[^"]+)"', r.text).group(1)  # type: ignore[union-attr]
    listing = client.get("/admin/api-keys").text
    assert "街道小程序" in listing and plain not in listing and "hx-confirm" in listing
    r = client.post("/admin/api-keys", headers=HX, data={"csrf_token": token, "name": "无角色"})
    assert r.status_code == 422 and 'data-zl-field="roles"' in r.text
    r = client.post("/admin/api-keys", headers=HX, data={"csrf_token": token, "name": "别处",
                                                          "region_code": TOWN_B, "roles": ["citizen"]})
    assert r.status_code == 403

    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {plain}"}).status_code == 200
    key_id = world.api_keys["A"]
    r = client.post(f"/admin/api-keys/{key_id}/revoke", data={"csrf_token": token}, headers=HX)
    assert r.status_code == 200 and "已吊销" in r.text and r.text.strip().startswith("<tr")
    r = client.post(f"/admin/api-keys/{world.api_keys['B']}/revoke", data={"csrf_token": token}, headers=HX)
    assert r.status_code == 404


def test_audit_log_filters_by_action_and_actor_in_local_time(client, world):
    token = page_login(client, "towna-admin")
    client.post("/admin/regions", data={"csrf_token": token, "code": "339922001002", "name": "甲二社区"}, headers=HX)
    r = client.get("/admin/audit", params={"action": "region."})
    assert "新建区划" in r.text and "login.success" not in r.text
    assert "甲街道" in r.text  # the region column names the region
    r = client.get("/admin/audit", params={"actor": "towna-admin", "action": "login."})
    assert "登录成功" in r.text
    stamp = re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", r.text).group(0)  # type: ignore[union-attr]
    from datetime import UTC, datetime, timedelta

    shown = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S")
    assert abs(shown - (datetime.now(UTC) + timedelta(hours=8)).replace(tzinfo=None)) < timedelta(minutes=5)


def test_a_non_admin_reads_but_sees_no_write_controls_and_is_refused(client, world, db_session):
    token = page_login(client, "towna-viewer")
    pages = {
        "/admin/regions": 'hx-post="/admin/regions"',
        "/admin/grids": 'hx-post="/admin/grids/import"',
        "/admin/departments": 'hx-post="/admin/departments"',
        "/admin/staff": 'hx-post="/admin/staff"',
    }
    for url, control in pages.items():
        r = client.get(url)
        assert r.status_code == 200, url
        assert control not in r.text and "/admin/regions/import" not in r.text, url
    assert "<fieldset disabled>" in client.get(f"/admin/grids/{GRID_A}").text
    assert "API 密钥" not in client.get("/admin/regions").text  # not in the menu either
    assert client.get("/admin/api-keys").status_code == 403
    assert client.get("/admin/audit").status_code == 403

    r = client.post("/admin/regions", data={"csrf_token": token, "code": "339922001002", "name": "甲二社区"},
                    headers=HX)
    assert r.status_code == 403 and "系统管理员" in r.text
    r = client.post("/admin/regions/import", data={"csrf_token": token}, headers=HX,
                    files={"file": ("r.csv", "code,name\n339922001002,甲二社区\n".encode(), "text/csv")})
    assert r.status_code == 403
    r = client.post("/admin/staff", headers=HX, data={
        "csrf_token": token, "username": "sneaky", "display_name": "x", "password": "Start-pass-1",
        "roles": ["admin"], "region_code": TOWN_A})
    assert r.status_code == 403
    assert count(db_session, Region) == 6 and count(db_session, Staff, Staff.username == "sneaky") == 0


def in_english(client, username: str) -> str:  # type: ignore[no-untyped-def]
    """Signs in (which sets the account's own language) and switches to English with the menu's button."""
    token = page_login(client, username)
    r = client.post("/locale", data={"csrf_token": token, "lang": "en", "next": "/admin/regions"},
                    follow_redirects=False)
    assert r.status_code == 303
    return token


# Sample data the English pages may show in Chinese: names in the database and example values.
CHINESE_DATA = ("例如", "凤鸣社区", "县综合行政执法局", "城管", "张三", "中文", "基础网格", "专属网格")


@pytest.mark.parametrize("url", ["/admin/regions", "/admin/grids", f"/admin/grids/{GRID_A}", "/admin/departments",
                                 "/admin/staff", "/admin/api-keys", "/admin/audit", "DEPT", "STAFF"])
def test_english_locale_leaves_no_chinese_label(url, client, world):
    in_english(client, "towna-admin")
    url = {"DEPT": f"/admin/departments/{world.departments['D-A-PCS'].id}",
           "STAFF": f"/admin/staff/{world.staff['towna-viewer'].id}"}.get(url, url)
    r = client.get(url)
    assert r.status_code == 200 and '<html lang="en">' in r.text
    text = r.text
    names = [*(r.name for r in world.regions.values()), *(g.name for g in world.grids.values()),
             *(d.name for d in world.departments.values()), *(s.display_name for s in world.staff.values()),
             "甲街道接口", "乙镇接口", *CHINESE_DATA]
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, "")
    left = re.findall(r"[\u4e00-\u9fff][^<>\"]{0,20}", text)
    assert not left, f"{url} still shows Chinese in English: {left[:10]}"


def test_english_labels_are_shown(client, world):
    token = in_english(client, "towna-admin")
    text = client.get("/admin/regions").text
    for label in ("Regions", "Subdivisions", "New subdivision", "Import regions", "Check only (write nothing)"):
        assert label in text, label
    r = client.post("/admin/regions", data={"csrf_token": token, "code": "12", "name": "x"}, headers=HX)
    assert "Please correct the following" in r.text and "12 digits" in r.text
