"""The Open311 conformance suite's own world: an Open311 key per town, a public leaf with a service
definition, and helpers that speak both formats."""

from dataclasses import dataclass
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import select

from tests.factories import TOWN_A, TOWN_B
from zhili.auth.service import create_api_key
from zhili.category.attributes import add_attribute
from zhili.category.schemas import AttributeCreate
from zhili.category.service import add_category
from zhili.db import get_sessionmaker
from zhili.intake import service as intake
from zhili.models import Category, CategoryKind, Role

BASE = "/open311/v2"
POINT_A = {"lat": "29.25", "long": "119.52"}  # in 甲一社区第一网格
POINT_B = {"lat": "29.25", "long": "119.85"}  # in 乙镇一村第一网格


@dataclass
class Keys:
    a: str
    b: str


@pytest.fixture
def keys(world, db_session) -> Keys:  # type: ignore[no-untyped-def]
    """The plain keys of an outside system in each town, allowed the open311 channel."""
    plain = {}
    for town, region in (("a", TOWN_A), ("b", TOWN_B)):
        _row, plain[town] = create_api_key(db_session, f"{town} 市民随手拍", world.regions[region], [Role.citizen],
                                           None, channels=["open311"])
    db_session.commit()
    return Keys(**plain)


@pytest.fixture
def well(world, db_session) -> Category:  # type: ignore[no-untyped-def]
    """井盖 (T.JG): a public leaf whose definition has one attribute of each kind."""
    root = db_session.scalar(select(Category).where(Category.code == "T"))
    category = add_category(db_session, root, "T.JG", "井盖", CategoryKind.component,
                            world.departments["D-COUNTY-ZJ"])
    for attribute in [
        {"code": "DAMAGE", "datatype": "singlevaluelist", "required": True, "description": "井盖是什么情况？",
         "values": [{"key": "missing", "name": "井盖缺失"}, {"key": "broken", "name": "破损"}]},
        {"code": "RISK", "datatype": "multivaluelist", "description": "有哪些风险？",
         "values": [{"key": "car", "name": "车行道"}, {"key": "walk", "name": "人行道"},
                    {"key": "dark", "name": "无照明"}]},
        {"code": "DEPTH", "datatype": "number", "description": "井深约几米？", "datatype_description": "米"},
        {"code": "SEEN", "datatype": "datetime", "description": "什么时候发现的？"},
        {"code": "POLE", "datatype": "string", "description": "附近灯杆编号"},
        {"code": "SAFETY", "datatype": "text", "variable": False, "description": "请远离井口，不要靠近"},
    ]:
        add_attribute(db_session, category, AttributeCreate.model_validate(attribute))
    db_session.commit()
    return category


def xml(response) -> ET.Element:  # type: ignore[no-untyped-def]
    assert response.headers["content-type"].startswith("text/xml"), response.headers["content-type"]
    assert response.text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(response.content)


def post(client, key: str | None, fmt: str = "json", fields: dict | None = None, **more: str):  # type: ignore[no-untyped-def]
    data = {**({"api_key": key} if key else {}), **(fields or {}), **more}
    return client.post(f"{BASE}/requests.{fmt}", data=data)


def drain() -> dict[str, int]:
    """What the intake worker does a few times a second on a running server: file the queued requests."""
    return intake.drain(get_sessionmaker())


def filed(client, key: str, **more: str) -> dict:  # type: ignore[no-untyped-def]
    """A request filed in town A's first grid under 市容城管: its answer's one element, with the
    service_request_id its token has become once the intake worker filed it."""
    r = post(client, key, fields={"service_code": "T.SRGL", "description": "小区门口路灯坏了三天", **POINT_A, **more})
    assert r.status_code == 200, r.text
    (answer,) = r.json()
    assert "service_request_id" not in answer and answer["token"]
    drain()
    looked_up = client.get(f"{BASE}/tokens/{answer['token']}.json", params={"api_key": key})
    assert looked_up.status_code == 200, looked_up.text
    return {**answer, "service_request_id": looked_up.json()[0]["service_request_id"]}


def errors(response, status: int, fmt: str = "json") -> list[str]:  # type: ignore[no-untyped-def]
    """The descriptions of an Open311 error answer, after checking its status and shape."""
    assert response.status_code == status, f"{response.status_code} {response.text}"
    if fmt == "xml":
        root = xml(response)
        assert root.tag == "errors" and [e.tag for e in root] == ["error"] * len(root) and len(root)
        assert all(e.findtext("code") == str(status) for e in root)
        return [e.findtext("description") or "" for e in root]
    body = response.json()
    assert isinstance(body, list) and body and all(set(e) == {"code", "description"} for e in body), body
    assert all(e["code"] == status for e in body)
    return [e["description"] for e in body]
