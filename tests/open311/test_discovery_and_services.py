"""GeoReport v2 discovery, the service list and service definitions, in both formats."""

import pytest
from sqlalchemy import update

from tests.factories import COUNTY, TOWN_A
from tests.open311.conftest import BASE, errors, xml
from zhili.category.catalog import install
from zhili.config import get_settings
from zhili.models import Category

SERVICE_FIELDS = ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"]
ATTRIBUTE_FIELDS = ["variable", "code", "datatype", "required", "datatype_description", "order", "description",
                    "values"]


def test_discovery_names_this_endpoint_and_both_formats(client):
    body = client.get(f"{BASE}/discovery.json").json()
    assert set(body) == {"changeset", "contact", "key_service", "endpoints"}
    (endpoint,) = body["endpoints"]
    assert endpoint == {"specification": "http://wiki.open311.org/GeoReport_v2",
                        "url": "http://testserver/open311/v2", "changeset": body["changeset"],
                        "type": "production", "formats": ["text/xml", "application/json"]}
    assert "12345" in body["contact"] and "API 密钥" in body["key_service"]

    root = xml(client.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    assert [e.tag for e in root] == ["changeset", "contact", "key_service", "endpoints"]
    endpoint_xml = root.find("endpoints/endpoint")
    assert endpoint_xml is not None
    assert [e.tag for e in endpoint_xml] == ["specification", "url", "changeset", "type", "formats"]
    assert [f.text for f in endpoint_xml.findall("formats/format")] == ["text/xml", "application/json"]


def test_services_are_the_public_active_leaves(client, world, well, db_session):
    body = client.get(f"{BASE}/services.json").json()
    assert [s["service_code"] for s in body] == ["T.SHZA", "T.SRGL", "T.JG"]
    assert all(list(s) == SERVICE_FIELDS and s["type"] == "realtime" for s in body)
    jg = body[2]
    assert jg == {"service_code": "T.JG", "service_name": "井盖", "description": "", "metadata": True,
                  "type": "realtime", "keywords": "测试诉求", "group": "测试诉求"}
    assert body[0]["metadata"] is False  # no attributes: nothing more to ask
    # An internal-only leaf, an inactive one, and a node with an active child are not services.
    db_session.execute(update(Category).where(Category.code == "T.SHZA").values(public=False))
    db_session.execute(update(Category).where(Category.code == "T.SRGL").values(active=False))
    db_session.commit()
    assert [s["service_code"] for s in client.get(f"{BASE}/services.json").json()] == ["T.JG"]

    root = xml(client.get(f"{BASE}/services.xml"))
    assert root.tag == "services" and [e.tag for e in root] == ["service"]
    assert [e.tag for e in root[0]] == SERVICE_FIELDS
    assert root[0].findtext("metadata") == "true" and root[0].findtext("service_code") == "T.JG"


def test_service_definition_lists_the_attributes_in_order(client, well):
    body = client.get(f"{BASE}/services/T.JG.json").json()
    assert list(body) == ["service_code", "attributes"] and body["service_code"] == "T.JG"
    assert [a["code"] for a in body["attributes"]] == ["DAMAGE", "RISK", "DEPTH", "SEEN", "POLE", "SAFETY"]
    damage = body["attributes"][0]
    assert list(damage) == ATTRIBUTE_FIELDS
    assert damage == {"variable": True, "code": "DAMAGE", "datatype": "singlevaluelist", "required": True,
                      "datatype_description": "", "order": 1, "description": "井盖是什么情况？",
                      "values": [{"key": "missing", "name": "井盖缺失"}, {"key": "broken", "name": "破损"}]}
    assert body["attributes"][5]["variable"] is False  # an informational line, with nothing to send

    root = xml(client.get(f"{BASE}/services/T.JG.xml"))
    assert root.tag == "service_definition" and [e.tag for e in root] == ["service_code", "attributes"]
    attributes = root.findall("attributes/attribute")
    assert len(attributes) == 6 and [e.tag for e in attributes[0]] == ATTRIBUTE_FIELDS
    assert [(v.findtext("key"), v.findtext("name")) for v in attributes[0].findall("values/value")] == [
        ("missing", "井盖缺失"), ("broken", "破损")]
    assert attributes[0].findtext("required") == "true" and attributes[0].findtext("order") == "1"


def test_a_leaf_without_attributes_has_an_empty_definition(client, world):
    assert client.get(f"{BASE}/services/T.SRGL.json").json() == {"service_code": "T.SRGL", "attributes": []}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_or_internal_services_are_404(client, world, db_session, fmt):
    assert "NOPE" in errors(client.get(f"{BASE}/services/NOPE.{fmt}"), 404, fmt)[0]
    assert errors(client.get(f"{BASE}/services/T.{fmt}"), 404, fmt)  # a group, not a leaf
    db_session.execute(update(Category).where(Category.code == "T.SHZA").values(public=False))
    db_session.commit()
    assert errors(client.get(f"{BASE}/services/T.SHZA.{fmt}"), 404, fmt)


def test_an_unknown_format_is_404(client):
    assert ".yaml" in errors(client.get(f"{BASE}/services.yaml"), 404)[0]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_jurisdiction_id_is_the_deployments_own_or_one_of_its_regions(client, world, monkeypatch, fmt):
    assert client.get(f"{BASE}/services.{fmt}", params={"jurisdiction_id": TOWN_A}).status_code == 200
    assert "linxi.gov.cn" in errors(client.get(f"{BASE}/services.{fmt}", params={"jurisdiction_id": "linxi.gov.cn"}),
                                    404, fmt)[0]
    assert errors(client.get(f"{BASE}/services.{fmt}", params={"jurisdiction_id": "339922999000"}), 404, fmt)
    monkeypatch.setattr(get_settings(), "open311_jurisdiction_id", "linxi.gov.cn")
    assert client.get(f"{BASE}/services.{fmt}", params={"jurisdiction_id": "linxi.gov.cn"}).status_code == 200


def test_the_demo_catalogue_describes_its_well_covers_lamps_and_noise(client, world, db_session):
    install(db_session, world.regions[COUNTY], demo_rules=True)
    db_session.commit()
    described = {s["service_code"] for s in client.get(f"{BASE}/services.json").json() if s["metadata"]}
    assert {"C0101", "C0102", "C0108", "C0110", "E0301", "E0503"} <= described
    assert "E0101" not in described
    well = client.get(f"{BASE}/services/C0102.json").json()["attributes"]
    assert [a["code"] for a in well] == ["WELL_DAMAGE", "WELL_TYPE"] and well[0]["required"]
    noise = client.get(f"{BASE}/services/E0301.json").json()["attributes"]
    assert noise[0]["datatype"] == "multivaluelist" and noise[1]["datatype"] == "datetime"
    lamp = client.get(f"{BASE}/services/C0110.json").json()["attributes"]
    assert lamp[1] == {**lamp[1], "code": "POLE_NUMBER", "datatype": "string", "required": False}
    gas = client.get(f"{BASE}/services/E0503.json").json()["attributes"]
    assert gas[0]["variable"] is False
    groups = {s["service_code"]: (s["group"], s["keywords"]) for s in client.get(f"{BASE}/services.json").json()}
    assert groups["C0102"] == ("公用设施", "城市管理部件, 公用设施")
