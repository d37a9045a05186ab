"""The admin pages of categories, the responsibility list with its routing preview, and the working calendar."""

import re

from sqlalchemy import select

from tests.factories import COMMUNITY_A, COMMUNITY_B, TOWN_A, page_login
from zhili.models import CalendarOverride, Category, CategoryDeadline, ResponsibilityRule

HX = {"HX-Request": "true"}


def _limits(**cells: str) -> list[str]:
    """The 12 cells of the deadline grid in form order (一般/紧急/特急 × 签收/处置/核查/回访)."""
    order = [f"{u}_{s}" for u in ("normal", "urgent", "critical") for s in ("sign", "handle", "verify", "callback")]
    return [cells.get(key, "") for key in order]


def _own_deadlines(db_session, code):  # type: ignore[no-untyped-def]
    db_session.expire_all()
    category = db_session.scalar(select(Category).where(Category.code == code))
    return {(d.urgency.value, d.stage.value): d.limit for d in db_session.scalars(
        select(CategoryDeadline).where(CategoryDeadline.category_id == category.id))}


def test_each_page_renders_for_an_admin(client, world):
    page_login(client, "county-admin")
    for url, expected in [
        ("/admin/categories", "测试诉求"),
        ("/admin/categories?code=T", "社会治安"),
        ("/admin/categories/T.SHZA", "办理时限"),
        ("/admin/rules", "甲街道派出所"),
        (f"/admin/rules/{world.rules['A']}", "甲街道派出所"),
        ("/admin/calendar?year=2026", "工作日历"),
    ]:
        r = client.get(url)
        assert r.status_code == 200, f"{url}: {r.status_code} {r.text[:300]}"
        assert expected in r.text, url
    assert "新建下级分类" in client.get("/admin/categories/T.SHZA").text
    assert "新建规则" in client.get("/admin/rules").text


def test_non_admins_see_no_edit_controls(client, world):
    # A town admin reads the deployment-wide catalogue but cannot edit it.
    page_login(client, "towna-admin")
    r = client.get("/admin/categories/T.SHZA")
    assert r.status_code == 200 and "只读" in r.text and "新建下级分类" not in r.text
    assert re.search(r"<fieldset\s+disabled", r.text)
    # A viewer sees the rules and the calendar without forms.
    page_login(client, "towna-viewer")
    r = client.get("/admin/rules")
    assert r.status_code == 200 and "新建规则" not in r.text and 'hx-post="/admin/rules"' not in r.text
    r = client.get(f"/admin/rules/{world.rules['A']}")
    assert r.status_code == 200 and "只读" in r.text
    r = client.get("/admin/calendar/day", params={"day": "2026-02-17"})
    assert r.status_code == 200 and "设为工作日" not in r.text and "只读" in r.text


def test_town_admin_is_refused_when_posting_to_the_catalogue(client, world, db_session):
    token = page_login(client, "towna-admin")
    r = client.post("/admin/categories/T.SHZA", data={"csrf_token": token, "name": "改名", "limits": _limits()},
                    headers=HX)
    assert r.status_code == 403
    db_session.expire_all()
    assert db_session.scalar(select(Category.name).where(Category.code == "T.SHZA")) == "社会治安"


def test_deadline_grid_saves_and_shows_inheritance(client, world, db_session):
    token = page_login(client, "county-admin")
    # Before: T.SHZA inherits everything from T; the placeholder says so.
    page = client.get("/admin/categories/T.SHZA").text
    assert "5wd（继承自 T）" in page
    form = {"csrf_token": token, "name": "社会治安", "default_department_code": "", "public": "true",
            "active": "true", "limits": _limits(normal_handle="3wd", urgent_sign="2h")}
    r = client.post("/admin/categories/T.SHZA", data=form, headers=HX)
    assert r.status_code == 200, r.text
    assert "已保存分类" in r.text and "3 个工作日" in r.text and "2 小时" in r.text
    assert _own_deadlines(db_session, "T.SHZA") == {("normal", "handle"): "3wd", ("urgent", "sign"): "2h"}
    # The cells left empty still inherit (the sign-in limit comes from T), and the page says where from.
    page = client.get("/admin/categories/T.SHZA").text
    assert 'value="3wd"' in page and "4wh（继承自 T）" in page
    # The tree shows the category's own normal handling limit.
    assert "3 个工作日" in client.get("/admin/categories?code=T").text


def test_a_bad_limit_shows_an_inline_error_and_saves_nothing(client, world, db_session):
    token = page_login(client, "county-admin")
    form = {"csrf_token": token, "name": "社会治安改", "public": "true", "active": "true",
            "limits": _limits(normal_handle="3 weeks", normal_sign="2h")}
    r = client.post("/admin/categories/T.SHZA", data=form, headers=HX)
    assert r.status_code == 422
    assert "未保存" in r.text and "is-invalid" in r.text and 'value="3 weeks"' in r.text
    assert "4wh（工作时）" in r.text  # the service's hint for the units, beside the cell
    assert _own_deadlines(db_session, "T.SHZA") == {}
    assert db_session.scalar(select(Category.name).where(Category.code == "T.SHZA")) == "社会治安"


def test_a_child_category_is_created_under_its_parent(client, world, db_session):
    token = page_login(client, "county-admin")
    r = client.post("/admin/categories", data={"csrf_token": token, "parent_code": "T.SHZA", "code": "T.SHZA.ZS",
                                                "name": "噪声扰民", "kind": "appeal", "public": "true"}, headers=HX)
    assert r.status_code == 200 and "已新建分类" in r.text, r.text
    page = client.get("/admin/categories/T.SHZA.ZS").text
    assert "噪声扰民" in page and "5wd（继承自 T）" in page
    r = client.post("/admin/categories", data={"csrf_token": token, "parent_code": "T.SHZA", "code": "T.SHZA.ZS",
                                                "name": "重复", "kind": "appeal"}, headers=HX)
    assert r.status_code == 409


def test_rules_filter_create_and_deactivate(client, world, db_session):
    token = page_login(client, "towna-admin")
    r = client.get("/admin/rules", params={"category_code": "T.SRGL"}, headers=HX)
    assert r.status_code == 200 and "没有找到" in r.text
    r = client.post("/admin/rules", data={"csrf_token": token, "category_code": "T.SRGL", "region_code": TOWN_A,
                                          "lead_department_code": "D-A-PCS",
                                          "assist_department_codes": ["D-COUNTY-CG"], "note": "街面秩序"}, headers=HX)
    assert r.status_code == 200 and "已新建派单规则" in r.text, r.text
    rule = db_session.scalar(select(ResponsibilityRule).join(ResponsibilityRule.category)
                             .where(Category.code == "T.SRGL"))
    assert rule is not None and [a.department.code for a in rule.assists] == ["D-COUNTY-CG"]
    r = client.get("/admin/rules", params={"category_code": "T.SRGL"}, headers=HX)
    assert "县综合行政执法局" in r.text and "街面秩序" in r.text
    r = client.post(f"/admin/rules/{rule.id}", data={"csrf_token": token, "lead_department_code": "D-A-PCS",
                                                      "note": "停用", "active": "false"}, headers=HX)
    assert r.status_code == 200 and "已保存派单规则" in r.text
    db_session.expire_all()
    assert db_session.get(ResponsibilityRule, rule.id).active is False
    # Town B's rule is not the town's to see, let alone edit.
    assert client.get(f"/admin/rules/{world.rules['B']}").status_code == 404


def test_preview_shows_the_lead_reason_and_deadlines(client, world):
    page_login(client, "towna-admin")
    r = client.get("/admin/rules/preview", params={"category_code": "T.SHZA", "region_code": COMMUNITY_A,
                                                   "urgency": "normal"}, headers=HX)
    assert r.status_code == 200
    assert "甲街道派出所" in r.text and f"#{world.rules['A']}" in r.text
    assert all(label in r.text for label in ("4 个工作时", "5 个工作日", "1 个工作日", "2 个工作日"))
    # Without a rule: the category's default department, said so.
    r = client.get("/admin/rules/preview", params={"category_code": "T.SRGL", "region_code": COMMUNITY_A}, headers=HX)
    assert "县综合行政执法局" in r.text and "默认责任部门" in r.text
    # Nothing chosen yet: a prompt; another town's place: not found.
    assert "选择分类和发生地" in client.get("/admin/rules/preview", headers=HX).text
    r = client.get("/admin/rules/preview", params={"category_code": "T.SHZA", "region_code": COMMUNITY_B}, headers=HX)
    assert r.status_code == 404 and "乙镇" not in r.text


def test_calendar_shows_spring_festival_and_a_toggled_override(client, world, db_session):
    token = page_login(client, "towna-admin")
    page = client.get("/admin/calendar", params={"year": 2026}).text
    # 2026-02-17 (春节, a Tuesday) is a statutory holiday; 2026-02-14 (Saturday) an adjusted working day.
    assert re.search(r'zl-day-holiday[^"]*"[^>]*data-day="2026-02-17"', page)
    assert re.search(r'zl-day-adjusted[^"]*"[^>]*data-day="2026-02-14"', page)
    assert "春节" in client.get("/admin/calendar/day", params={"day": "2026-02-17"}).text
    assert "尚未收录" not in page

    r = client.post("/admin/calendar", data={"csrf_token": token, "region_code": TOWN_A, "day": "2026-03-09",
                                             "is_workday": "false", "note": "甲街道运动会"}, headers=HX)
    assert r.status_code == 200 and "已将 2026-03-09 设为休息日" in r.text
    assert 'id="month-3" hx-swap-oob="true"' in r.text
    assert db_session.scalar(select(CalendarOverride.note)) == "甲街道运动会"
    page = client.get("/admin/calendar", params={"year": 2026}).text
    assert re.search(r'zl-day-own[^"]*"[^>]*data-day="2026-03-09"', page) and "甲街道运动会" in page

    r = client.post("/admin/calendar/delete", data={"csrf_token": token, "region_code": TOWN_A, "day": "2026-03-09"},
                    headers=HX)
    assert r.status_code == 200 and "已清除" in r.text
    assert db_session.scalar(select(CalendarOverride.id)) is None


def test_calendar_marks_inherited_overrides_and_uncovered_years(client, world):
    token = page_login(client, "county-admin")
    client.post("/admin/calendar", data={"csrf_token": token, "region_code": "339922000000", "day": "2026-04-13",
                                         "is_workday": "false", "note": "全县调休"}, headers=HX)
    page_login(client, "towna-admin")
    page = client.get("/admin/calendar", params={"year": 2026}).text
    assert re.search(r'zl-day-inherited[^"]*"[^>]*data-day="2026-04-13"', page) and "来自临溪县" in page
    assert "尚未收录" in client.get("/admin/calendar", params={"year": 2027}).text


def test_pages_speak_english(client, world):
    token = page_login(client, "county-admin")
    client.post("/locale", data={"csrf_token": token, "lang": "en", "next": "/"})
    page = client.get("/admin/categories/T.SHZA").text
    assert "Time limits" in page and "Sign for" in page and "Urgent" in page and "inherited from T" in page
    assert "处置" not in page
    page = client.get("/admin/rules").text
    assert "Who would this appeal go to" in page
    page = client.get("/admin/calendar", params={"year": 2026}).text
    assert "Working calendar" in page and "Statutory holiday" in page
    assert "Spring Festival" in client.get("/admin/calendar/day", params={"day": "2026-02-17"}).text
