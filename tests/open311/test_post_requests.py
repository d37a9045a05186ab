"""POST requests: a service request enters the same closed loop as every channel, or is refused in the
spec's error document naming each field."""

from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from tests.factories import COMMUNITY_A, COMMUNITY_B, TOWN_A
from tests.open311.conftest import BASE, POINT_A, POINT_B, drain, errors, filed, post, xml
from zhili.auth import ratelimit
from zhili.auth.service import create_api_key, revoke_api_key, subject_for_staff
from zhili.models import ApiKey, Appeal, Channel, IntakeItem, IntakeState, OrderEvent, Role, WorkOrder

RESPONSE_FIELDS = ["token", "service_notice", "account_id"]


def _appeal(db_session, token: str) -> Appeal:  # type: ignore[no-untyped-def]
    """The appeal a token became, once the intake worker has filed what is queued."""
    drain()
    db_session.expire_all()
    appeal = db_session.scalar(select(Appeal).where(Appeal.tracking_code == token))
    assert appeal is not None
    return appeal


def test_a_request_becomes_a_registered_order_on_the_towns_desk(client, world, keys, well, db_session):
    r = post(client, keys.a, service_code="T.JG", description="人行道上的井盖裂了，晚上看不见", first_name="小明",
             last_name="王", phone="+86 139 1234 5678", email="wang@example.cn", account_id="u-778",
             device_id="dev-1", address_string="甲一社区文化路 12 号门口", media_url="https://img.example.cn/1.jpg",
             **POINT_A, **{"attribute[DAMAGE]": "broken", "attribute[RISK][]": "walk", "attribute[DEPTH]": "1.5",
                           "attribute[SEEN]": "2026-11-20T21:00:00"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    (answer,) = r.json()
    assert list(answer) == RESPONSE_FIELDS and answer["account_id"] == "u-778"
    assert len(answer["token"]) == 10 and answer["service_notice"].startswith("已受理，正在登记为工单")

    appeal = _appeal(db_session, answer["token"])
    order = appeal.work_order
    key = db_session.scalar(select(ApiKey).where(ApiKey.name == "a 市民随手拍"))
    assert order.code.startswith("GD") and order.status == "registered"
    assert order.region_code == TOWN_A and order.grid is not None and order.grid.code == COMMUNITY_A + "001"
    assert order.channel == Channel.open311 and appeal.channel == Channel.open311
    assert appeal.source_key_id == key.id
    assert (appeal.caller_name, appeal.caller_phone, appeal.external_id) == ("王小明", "13912345678", "u-778")
    assert appeal.text == "人行道上的井盖裂了，晚上看不见" and appeal.address == "甲一社区文化路 12 号门口"
    assert appeal.media_url == "https://img.example.cn/1.jpg"
    assert appeal.attributes == {"DAMAGE": "broken", "RISK": ["walk"], "DEPTH": 1.5,
                                 "SEEN": "2026-11-20T21:00:00+08:00"}
    assert order.suggested_department is not None and order.suggested_department.code == "D-COUNTY-ZJ"
    events = db_session.scalars(select(OrderEvent).where(OrderEvent.work_order_id == order.id)).all()
    assert [(e.action, e.to_status, e.data) for e in events] == [("register", "registered", {"channel": "open311"})]


def test_the_xml_answer_and_a_multipart_body(client, keys, well, db_session):
    fields = {"api_key": keys.a, "service_code": "T.JG", **POINT_A, "attribute[DAMAGE]": "missing"}
    r = client.post(f"{BASE}/requests.xml", files={k: (None, v) for k, v in fields.items()})
    assert r.status_code == 200, r.text
    root = xml(r)
    assert root.tag == "service_requests" and [e.tag for e in root] == ["request"]
    assert [e.tag for e in root[0]] == RESPONSE_FIELDS
    token = root[0].findtext("token")
    assert token and _appeal(db_session, token).work_order.code.startswith("GD")
    assert root[0].findtext("account_id") == ""  # none sent: an empty element
    # Without a description, the service's name stands for the text.
    assert _appeal(db_session, token).text == "井盖"


def test_a_multivaluelist_takes_every_value_sent(client, keys, well, db_session):
    r = post(client, keys.a, fields={"service_code": "T.JG", **POINT_A, "attribute[DAMAGE]": "broken",
                                     "attribute[RISK][]": ["car", "dark", "car"]})
    assert r.status_code == 200, r.text
    assert _appeal(db_session, r.json()[0]["token"]).attributes["RISK"] == ["car", "dark"]


def test_the_order_records_the_keys_first_channel(client, world, db_session):
    _row, plain = create_api_key(db_session, "掌上临溪", world.regions[TOWN_A], [Role.citizen], None,
                                 channels=["mobile", "open311"])
    db_session.commit()
    answer = filed(client, plain)
    appeal = _appeal(db_session, answer["token"])
    assert appeal.channel == Channel.mobile and appeal.work_order.channel == Channel.mobile


# Where: lat/long, address_id, address_string -----------------------------------------------------


def test_address_id_files_under_a_region_or_inside_a_grid(client, world, keys, db_session):
    by_region = post(client, keys.a, service_code="T.SRGL", description="村口垃圾没人清", address_id=COMMUNITY_A)
    assert by_region.status_code == 200, by_region.text
    order = _appeal(db_session, by_region.json()[0]["token"]).work_order
    assert (order.place_code, order.grid_id, order.lon) == (COMMUNITY_A, None, None)

    grid = COMMUNITY_A + "002"
    by_grid = post(client, keys.a, service_code="T.SRGL", description="路边垃圾没人清", address_id=grid)
    assert by_grid.status_code == 200, by_grid.text
    order = _appeal(db_session, by_grid.json()[0]["token"]).work_order
    assert order.grid is not None and order.grid.code == grid and order.place_code == COMMUNITY_A


def test_address_string_alone_files_under_the_most_specific_place_it_names(client, world, keys, db_session):
    def place(text: str, key: str = keys.a) -> tuple[str, str | None]:
        r = post(client, key, service_code="T.SRGL", description="垃圾堆了三天", address_string=text)
        assert r.status_code == 200, r.text
        order = _appeal(db_session, r.json()[0]["token"]).work_order
        return order.place_code, order.grid.code if order.grid else None

    assert place("甲街道甲一社区第二网格旁的小路") == (COMMUNITY_A, COMMUNITY_A + "002")  # the grid beats its community
    assert place("甲街道甲一社区菜市场") == (COMMUNITY_A, None)  # the community beats its town
    assert place("甲街道政府对面") == (TOWN_A, None)
    assert place("人民路 8 号") == (TOWN_A, None)  # nothing named: the key's own region
    # Only places in the key's area count: town A's key naming a town B village still files in town A.
    assert place("乙镇一村村口") == (TOWN_A, None)
    assert place("乙镇一村村口", keys.b) == (COMMUNITY_B, None)


# Refusals ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bad_input_is_400_naming_each_field(client, keys, well, fmt):
    def refused(**fields: str) -> list[str]:
        return errors(post(client, keys.a, fmt, fields=fields), 400, fmt)

    assert refused(description="路灯不亮", **POINT_A) == ["service_code：必填"]
    assert refused(service_code="T.SRGL", description="路灯不亮")[0].startswith("lat/long：请给出地点")
    assert refused(service_code="T.SRGL", lat="29.25")[0].startswith("lat/long：lat 和 long 须同时填写")
    assert refused(service_code="T.SRGL", lat="北纬29", long="119.52") == ["lat：应为数字"]
    assert refused(service_code="T.SRGL", lat="95", long="119.52") == ["lat：应不大于 90"]
    assert refused(service_code="T.SRGL", lat="29", long="10")[0].startswith("lat/long：坐标不在中国境内")
    outside = refused(service_code="T.SRGL", lat="31.2", long="121.4")  # Shanghai: in China, in no grid here
    assert outside[0].startswith("lat/long：该坐标不在本平台的任何网格内")
    assert refused(service_code="T.SRGL", address_id="12345") == ["address_id：应为 12 位区划代码或 15 位网格编码"]
    assert refused(service_code="T.SRGL", address_id="339922001999") == ["address_id：区划 339922001999 不存在"]
    assert refused(service_code="T.SRGL", address_id=COMMUNITY_B)[0].startswith("address_id：地点不在您的管辖范围")
    assert refused(service_code="T.SRGL", **POINT_B)[0].startswith("lat/long：地点不在您的管辖范围")
    assert refused(service_code="T.SRGL", phone="12", **POINT_A)[0].startswith("phone：电话号码应为")
    assert refused(service_code="T.SRGL", description="坏", **POINT_A) == ["description：至少 2 个字符"]
    assert refused(service_code="T.SRGL", media_url="ftp://x", **POINT_A) == [
        "media_url：应为 http:// 或 https:// 开头的网址"]
    assert refused(service_code="T.SRGL", email="wang@", **POINT_A) == ["email：邮箱地址格式不正确"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_attribute_values_are_checked_against_the_definition(client, keys, well, fmt):
    def refused(**attributes: str | list[str]) -> list[str]:
        fields = {"service_code": "T.JG", **POINT_A, **{f"attribute[{k}]": v for k, v in attributes.items()}}
        return errors(post(client, keys.a, fmt, fields=fields), 400, fmt)

    assert refused() == ["attribute[DAMAGE]：必填：井盖是什么情况？"]
    bad = refused(DAMAGE="gone")
    assert bad == ["attribute[DAMAGE]：不是可选值：gone（应为：取值之一：missing（井盖缺失）、broken（破损））"]
    unknown = refused(DAMAGE="broken", COLOR="red")
    assert unknown == [
        "attribute[COLOR]：分类「井盖」没有属性 COLOR（应为：可用属性：DAMAGE、RISK、DEPTH、SEEN、POLE）"]
    assert refused(DAMAGE="broken", DEPTH="很深") == ["attribute[DEPTH]：应为数字：很深（应为：米）"]
    assert refused(DAMAGE="broken", SEEN="昨天晚上")[0].startswith("attribute[SEEN]：应为 ISO 8601 时间")
    assert refused(DAMAGE="broken", SAFETY="好的") == ["attribute[SAFETY]：属性 SAFETY 仅作说明，不接收取值"]
    both = refused(DAMAGE="gone", RISK="fly")
    assert [d.split("：")[0] for d in both] == ["attribute[DAMAGE]", "attribute[RISK]"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_unknown_service_is_404(client, keys, world, fmt):
    assert "NOPE" in errors(post(client, keys.a, fmt, service_code="NOPE", **POINT_A), 404, fmt)[0]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_unknown_jurisdiction_is_404(client, keys, world, fmt):
    r = post(client, keys.a, fmt, service_code="T.SRGL", jurisdiction_id="beijing", **POINT_A)
    assert "beijing" in errors(r, 404, fmt)[0]
    assert post(client, keys.a, fmt, service_code="T.SRGL", jurisdiction_id=TOWN_A, **POINT_A).status_code == 200


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_api_key_is_required_valid_unrevoked_and_allowed_a_channel(client, world, keys, db_session, fmt):
    def refused(key: str | None) -> str:
        return errors(post(client, key, fmt, service_code="T.SRGL", **POINT_A), 403, fmt)[0]

    assert "缺少 api_key" in refused(None)
    assert "格式不正确" in refused("not-a-key")
    assert "API 密钥无效" in refused(keys.a[:-4] + "AAAA")
    row, plain = create_api_key(db_session, "已停用的接口", world.regions[TOWN_A], [Role.citizen], None)
    revoke_api_key(db_session, row, subject_for_staff(world.staff["towna-admin"]))
    _none, mute = create_api_key(db_session, "只读接口", world.regions[TOWN_A], [Role.citizen], None, channels=[])
    db_session.commit()
    assert "已被吊销" in refused(plain)
    assert "没有允许的渠道" in refused(mute)
    assert db_session.scalar(select(func.count(WorkOrder.id))) == 2  # the world's own two: nothing filed


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_key_over_its_rate_limit_is_told_when_to_retry(client, world, db_session, monkeypatch, fmt):
    # One fixed minute, 45 s in: the third request in it is refused, 15 s before the next minute.
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 29_500_000 * 60 + 45.0))
    _row, plain = create_api_key(db_session, "限流接口", world.regions[TOWN_A], [Role.citizen], None, rate_limit=2)
    db_session.commit()
    for _i in range(2):
        assert post(client, plain, fmt, service_code="T.SRGL", **POINT_A).status_code == 200
    r = post(client, plain, fmt, service_code="T.SRGL", **POINT_A)
    assert "每分钟最多 2 次" in errors(r, 429, fmt)[0]
    assert r.headers["Retry-After"] == "15"
    drain()
    assert db_session.scalar(select(func.count(WorkOrder.id))) == 4  # the world's two and the two accepted


def test_an_idempotent_retry_files_nothing_twice(client, keys, world, db_session):
    fields = {"api_key": keys.a, "service_code": "T.SRGL", "description": "路灯不亮", **POINT_A}
    first = client.post(f"{BASE}/requests.json", data=fields, headers={"Idempotency-Key": "order-77"})
    again = client.post(f"{BASE}/requests.json", data=fields, headers={"Idempotency-Key": "order-77"})
    assert first.status_code == again.status_code == 200, again.text
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert db_session.scalar(select(func.count(IntakeItem.id))) == 1
    drain()
    assert db_session.scalar(select(func.count(Appeal.id))) == 3  # the world's two and this one
    # The same key with another body is a mistake, not a retry: refused in the spec's error document.
    other = client.post(f"{BASE}/requests.json", data={**fields, "description": "路灯白天也亮"},
                        headers={"Idempotency-Key": "order-77"})
    assert "Idempotency-Key" in errors(other, 400)[0]
    assert db_session.scalar(select(func.count(IntakeItem.id))) == 1


def test_a_token_says_queued_then_names_its_request(client, keys, world, db_session):
    r = post(client, keys.a, service_code="T.SRGL", description="路灯不亮", **POINT_A)
    token = r.json()[0]["token"]
    pending = client.get(f"{BASE}/tokens/{token}.json", params={"api_key": keys.a})
    assert pending.status_code == 200
    assert pending.json() == [{"token": token, "service_notice": "已受理，正在登记为工单，请稍后再查"}]
    # Another town's key cannot tell that the token exists.
    assert client.get(f"{BASE}/tokens/{token}.json", params={"api_key": keys.b}).status_code == 404
    assert drain() == {"filed": 1, "rejected": 0}
    (found,) = client.get(f"{BASE}/tokens/{token}.json", params={"api_key": keys.a}).json()
    assert found["token"] == token and found["service_request_id"] == _appeal(db_session, token).work_order.code
    assert drain() == {"filed": 0, "rejected": 0}  # filed once


def test_a_request_that_can_no_longer_be_filed_says_why(client, keys, well, db_session):
    r = post(client, keys.a, service_code="T.JG", **POINT_A, **{"attribute[DAMAGE]": "broken"})
    token = r.json()[0]["token"]
    well.active = False  # retired between the answer and the filing
    db_session.commit()
    assert drain() == {"filed": 0, "rejected": 1}
    (found,) = client.get(f"{BASE}/tokens/{token}.json", params={"api_key": keys.a}).json()
    assert "service_request_id" not in found and "T.JG 不存在或已停用" in found["service_notice"]
    item = db_session.scalar(select(IntakeItem).where(IntakeItem.token == token))
    assert item.state == IntakeState.rejected and item.work_order_id is None
