"""Service attributes of a category leaf (its Open311 service definition): kept by the catalogue's admins
through the JSON API and the category page, and checked on every appeal that brings values."""

import re

import pytest
from sqlalchemy import select

from tests.factories import login, page_login
from zhili.category.attributes import add_attribute, check_attributes
from zhili.category.schemas import AttributeCreate
from zhili.models import AuditLog, Category, ServiceAttribute

HX = {"HX-Request": "true"}
URL = "/api/v1/categories/T.SHZA/attributes"
DAMAGE = {"code": "DAMAGE", "datatype": "singlevaluelist", "required": True, "description": "井盖是什么情况？",
          "values": [{"key": "missing", "name": "井盖缺失"}, {"key": "broken", "name": "破损"}]}


def _codes(client, headers) -> list[str]:  # type: ignore[no-untyped-def]
    r = client.get(URL, headers=headers)
    assert r.status_code == 200, r.text
    return [a["code"] for a in r.json()]


def _stored(db_session) -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
    db_session.expire_all()
    return [(a.code, a.order) for a in db_session.scalars(select(ServiceAttribute).order_by(ServiceAttribute.order))]


# JSON API ----------------------------------------------------------------------------------------


def test_an_admin_keeps_the_definition_in_order(client, world, db_session):
    admin = login(client, "county-admin")
    r = client.post(URL, json=DAMAGE, headers=admin)
    assert r.status_code == 201, r.text
    assert r.json() == {"variable": True, "code": "DAMAGE", "datatype": "singlevaluelist", "required": True,
                        "datatype_description": "", "order": 1, "description": "井盖是什么情况？",
                        "values": DAMAGE["values"]}
    for code in ("SHAPE", "NOTE"):
        body = {"code": code, "datatype": "string", "description": code}
        assert client.post(URL, json=body, headers=admin).status_code == 201
    # A new attribute may go to a given place; the others move down.
    first = {"code": "SEEN", "datatype": "datetime", "description": "什么时候发现的？", "order": 1}
    assert client.post(URL, json=first, headers=admin).json()["order"] == 1
    assert _codes(client, admin) == ["SEEN", "DAMAGE", "SHAPE", "NOTE"]
    # PUT replaces the attribute; its `order` moves it, and left out, it keeps its place.
    moved = client.put(f"{URL}/SEEN", headers=admin,
                       json={"datatype": "datetime", "description": "发现时间", "order": 3})
    assert moved.status_code == 200 and moved.json()["description"] == "发现时间"
    assert _stored(db_session) == [("DAMAGE", 1), ("SHAPE", 2), ("SEEN", 3), ("NOTE", 4)]
    kept = client.put(f"{URL}/NOTE", headers=admin, json={"datatype": "text", "description": "补充说明"})
    assert kept.json()["order"] == 4 and kept.json()["datatype"] == "text"
    # Deleting renumbers the rest.
    assert client.delete(f"{URL}/SHAPE", headers=admin).status_code == 204
    assert _stored(db_session) == [("DAMAGE", 1), ("SEEN", 2), ("NOTE", 3)]
    actions = db_session.scalars(select(AuditLog.action).where(AuditLog.action.startswith("category.attribute")))
    assert sorted(set(actions)) == ["category.attribute.create", "category.attribute.delete",
                                    "category.attribute.update"]
    # Every account reads the definition, like the category tree.
    assert _codes(client, login(client, "towna-viewer")) == ["DAMAGE", "SEEN", "NOTE"]


@pytest.mark.parametrize(("body", "field", "problem"), [
    ({**DAMAGE, "values": []}, "values", "列表类型至少需要一个选项"),
    ({**DAMAGE, "datatype": "number"}, "values", "只有单选、多选列表类型才有选项"),
    ({**DAMAGE, "values": [{"key": "a", "name": "甲"}, {"key": "a", "name": "乙"}]}, "values", "选项的键重复：a"),
    ({**DAMAGE, "variable": False}, "required", "不能设为必填"),
    ({**DAMAGE, "code": "井盖[1]"}, "code", "格式不正确"),
    ({**DAMAGE, "values": [{"key": "a,b", "name": "甲"}]}, "values.0.key", "格式不正确"),
    ({**DAMAGE, "description": ""}, "description", "至少 1 个字符"),
    ({**DAMAGE, "datatype": "photo"}, "datatype", "取值应为以下之一"),
])
def test_bad_definitions_are_refused_field_by_field(client, world, body, field, problem):
    r = client.post(URL, json=body, headers=login(client, "county-admin"))
    assert r.status_code == 422, r.text
    problems = {p["field"]: p["problem"] for p in r.json()["errors"]}
    assert problem in problems[field], problems


def test_conflicts_and_missing_rows(client, world):
    admin = login(client, "county-admin")
    assert client.post(URL, json=DAMAGE, headers=admin).status_code == 201
    again = client.post(URL, json=DAMAGE, headers=admin)
    assert again.status_code == 409 and "已有属性 DAMAGE" in again.json()["detail"]
    group = client.post("/api/v1/categories/T/attributes", json=DAMAGE, headers=admin)
    assert group.status_code == 409 and "叶子分类" in group.json()["detail"]
    missing = client.put(f"{URL}/NOPE", json={"datatype": "string", "description": "x"}, headers=admin)
    assert missing.status_code == 404 and "NOPE" in missing.json()["detail"]
    assert client.delete(f"{URL}/NOPE", headers=admin).status_code == 404
    assert client.get("/api/v1/categories/NOPE/attributes", headers=admin).status_code == 404


def test_only_the_catalogues_admins_change_it(client, world, db_session):
    for username in ("towna-admin", "towna-viewer"):
        r = client.post(URL, json=DAMAGE, headers=login(client, username))
        assert r.status_code == 403, r.text
    assert client.post(URL, json=DAMAGE).status_code == 401
    assert _stored(db_session) == []


# The category page -------------------------------------------------------------------------------


def test_the_page_adds_edits_moves_and_deletes_attributes(client, world, db_session):
    token = page_login(client, "county-admin")
    page = client.get("/admin/categories/T.SHZA")
    assert page.status_code == 200 and "服务属性" in page.text and "还没有属性" in page.text
    form = {"csrf_token": token, "code": "DAMAGE", "datatype": "singlevaluelist", "variable": "true",
            "required": "true", "description": "井盖是什么情况？", "values": "missing=井盖缺失\nbroken=破损\n\n裂缝"}
    r = client.post("/admin/categories/T.SHZA/attributes", data=form, headers=HX)
    assert r.status_code == 200, r.text
    assert "已新增属性 DAMAGE" in r.text and "井盖缺失" in r.text
    stored = db_session.scalar(select(ServiceAttribute).where(ServiceAttribute.code == "DAMAGE"))
    assert stored.values == [{"key": "missing", "name": "井盖缺失"}, {"key": "broken", "name": "破损"},
                             {"key": "裂缝", "name": "裂缝"}]
    assert stored.required is True
    note = {"csrf_token": token, "code": "NOTE", "datatype": "text", "description": "补充说明"}
    assert client.post("/admin/categories/T.SHZA/attributes", data=note, headers=HX).status_code == 200
    # Edit: the form holds the whole attribute; an unticked box means not required.
    edit = {"csrf_token": token, "datatype": "singlevaluelist", "variable": "true", "description": "井盖怎么了？",
            "values": "missing=缺失"}
    r = client.post("/admin/categories/T.SHZA/attributes/DAMAGE", data=edit, headers=HX)
    assert r.status_code == 200 and "已保存属性 DAMAGE" in r.text
    db_session.expire_all()
    stored = db_session.scalar(select(ServiceAttribute).where(ServiceAttribute.code == "DAMAGE"))
    assert (stored.description, stored.required, stored.values) == ("井盖怎么了？", False,
                                                                     [{"key": "missing", "name": "缺失"}])
    r = client.post("/admin/categories/T.SHZA/attributes/NOTE/move", data={"csrf_token": token, "position": "1"},
                    headers=HX)
    assert r.status_code == 200 and "移到第 1 位" in r.text
    assert _stored(db_session) == [("NOTE", 1), ("DAMAGE", 2)]
    r = client.post("/admin/categories/T.SHZA/attributes/NOTE/delete", data={"csrf_token": token}, headers=HX)
    assert r.status_code == 200 and "已删除属性 NOTE" in r.text
    assert _stored(db_session) == [("DAMAGE", 1)]


def test_a_refused_form_comes_back_with_what_was_typed(client, world, db_session):
    token = page_login(client, "county-admin")
    form = {"csrf_token": token, "code": "SIZE", "datatype": "singlevaluelist", "description": "井盖多大？",
            "values": ""}
    r = client.post("/admin/categories/T.SHZA/attributes", data=form, headers=HX)
    assert r.status_code == 422
    assert "列表类型至少需要一个选项" in r.text and "<strong>选项</strong>" in r.text
    assert 'value="SIZE"' in r.text and 'value="井盖多大？"' in r.text
    assert _stored(db_session) == []
    # Without htmx, the whole page answers with the same message.
    page = client.post("/admin/categories/T.SHZA/attributes", data=form)
    assert page.status_code == 422 and "分类信息与办理时限" in page.text and "列表类型至少需要一个选项" in page.text


def test_a_town_admin_reads_the_definition_but_gets_no_forms(client, world, db_session):
    add_attribute(db_session, db_session.scalar(select(Category).where(Category.code == "T.SHZA")),
                  AttributeCreate.model_validate(DAMAGE))
    db_session.commit()
    token = page_login(client, "towna-admin")
    page = client.get("/admin/categories/T.SHZA").text
    assert "井盖是什么情况？" in page and "只读：服务属性" in page
    assert not re.search(r'hx-post="/admin/categories/T\.SHZA/attributes', page)
    r = client.post("/admin/categories/T.SHZA/attributes/DAMAGE/delete", data={"csrf_token": token}, headers=HX)
    assert r.status_code == 403 and "市、县（区）级系统管理员" in r.text
    assert _stored(db_session) == [("DAMAGE", 1)]
    assert client.post("/admin/categories/T.SHZA/attributes/DAMAGE/delete", headers=HX).status_code == 403  # no CSRF


def test_a_group_says_where_attributes_belong(client, world):
    page_login(client, "county-admin")
    assert "属性只能设在叶子分类上" in client.get("/admin/categories/T").text


# Checking values -------------------------------------------------------------------------------------


def test_values_are_cleaned_to_their_datatypes(world, db_session):
    category = db_session.scalar(select(Category).where(Category.code == "T.SHZA"))
    for body in [DAMAGE,
                 {"code": "RISK", "datatype": "multivaluelist", "description": "风险",
                  "values": [{"key": "car", "name": "车行道"}, {"key": "dark", "name": "无照明"}]},
                 {"code": "DEPTH", "datatype": "number", "description": "深度"},
                 {"code": "SEEN", "datatype": "datetime", "description": "发现时间"},
                 {"code": "INFO", "datatype": "string", "variable": False, "description": "请远离"}]:
        add_attribute(db_session, category, AttributeCreate.model_validate(body))
    clean, problems = check_attributes(db_session, category, {
        "DAMAGE": " broken ", "RISK": ["dark", "", "car", "dark"], "DEPTH": "2", "SEEN": "2026-11-20T21:00:00Z"})
    assert problems == []
    assert clean == {"DAMAGE": "broken", "RISK": ["dark", "car"], "DEPTH": 2, "SEEN": "2026-11-20T21:00:00+00:00"}
    assert check_attributes(db_session, category, {"DAMAGE": "broken", "SEEN": "2026-11-20 21:00"})[0]["SEEN"] == \
        "2026-11-20T21:00:00+08:00"  # no offset: Beijing time
    _clean, problems = check_attributes(db_session, category, {"RISK": ["", " "], "DEPTH": "nan", "INFO": "好"})
    assert [(p.field, p.problem) for p in problems] == [
        ("attribute[INFO]", "属性 INFO 仅作说明，不接收取值"),
        ("attribute[DAMAGE]", "必填：井盖是什么情况？"),
        ("attribute[DEPTH]", "应为数字：nan"),
    ]
    _clean, problems = check_attributes(db_session, category, {"DAMAGE": ["missing", "broken"]})
    assert [p.problem for p in problems] == ["只能填一个值"]
    # Channels whose pages do not ask for the attributes may leave required ones out, but not send bad ones.
    assert check_attributes(db_session, category, {}, enforce_required=False) == ({}, [])
    _clean, problems = check_attributes(db_session, category, {"DEPTH": "深"}, enforce_required=False)
    assert [p.field for p in problems] == ["attribute[DEPTH]"]
