"""GET requests, one request, tokens and photos: the spec's fields, filters and window, the order's progress
as an outside system sees it, and who may read what."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select, update

from tests.factories import COMMUNITY_A, TOWN_A, TOWN_B, login, page_login
from tests.open311.conftest import BASE, POINT_B, errors, filed, xml
from zhili.auth.service import subject_for_staff
from zhili.config import get_settings
from zhili.kit.time import now
from zhili.models import Category, Channel, WorkOrder
from zhili.open311 import service
from zhili.work_order.schemas import ActionIn
from zhili.work_order.service import act
from zhili.work_order.workflow import Action

REQUEST_FIELDS = ["service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _get(client, key: str | None, path: str = "requests.json", **params: str):  # type: ignore[no-untyped-def]
    return client.get(f"{BASE}/{path}", params={**({"api_key": key} if key else {}), **params})


def _codes(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    return [r["service_request_id"] for r in response.json()]


def _act(db_session, world, who: str, code: str, action: Action, **inputs: object) -> None:  # type: ignore[no-untyped-def]
    order = db_session.scalar(select(WorkOrder).where(WorkOrder.code == code))
    act(db_session, subject_for_staff(world.staff[who]), order.id, action, ActionIn.model_validate(inputs))
    db_session.commit()


def _backdate(db_session, code: str, days: int) -> None:  # type: ignore[no-untyped-def]
    db_session.execute(update(WorkOrder).where(WorkOrder.code == code)
                       .values(created_at=now() - timedelta(days=days)))
    db_session.commit()


def test_a_request_reads_back_with_every_field_of_the_spec(client, world, keys, db_session):
    answer = filed(client, keys.a, address_string="文化路 12 号", media_url="https://img.example.cn/2.jpg")
    (one,) = _get(client, keys.a, f"requests/{answer['service_request_id']}.json").json()
    assert list(one) == REQUEST_FIELDS
    assert one == {**one, "service_request_id": answer["service_request_id"], "status": "open",
                   "status_notes": "诉求已受理", "service_name": "市容城管", "service_code": "T.SRGL",
                   "description": "小区门口路灯坏了三天", "agency_responsible": None,
                   "service_notice": "已由甲街道受理",
                   "expected_datetime": None, "address": "文化路 12 号", "address_id": COMMUNITY_A + "001",
                   "zipcode": None, "lat": 29.25, "long": 119.52, "media_url": "https://img.example.cn/2.jpg"}
    order = db_session.scalar(select(WorkOrder).where(WorkOrder.code == answer["service_request_id"]))
    assert one["requested_datetime"].endswith("+08:00")
    assert datetime.fromisoformat(one["requested_datetime"]) == order.created_at.replace(microsecond=0)

    root = xml(_get(client, keys.a, f"requests/{answer['service_request_id']}.xml"))
    assert root.tag == "service_requests" and [e.tag for e in root] == ["request"]
    assert [e.tag for e in root[0]] == REQUEST_FIELDS
    assert root[0].findtext("long") == "119.52" and root[0].findtext("zipcode") == ""


def test_xml_escapes_markup_and_drops_what_xml_cannot_carry(client, world, keys):
    code = filed(client, keys.a, description="井盖<破了> & 塌陷\x0b\x01")["service_request_id"]
    root = xml(_get(client, keys.a, f"requests/{code}.xml"))
    assert root[0].findtext("description") == "井盖<破了> & 塌陷"


def test_the_list_is_newest_first_in_both_formats(client, world, keys):
    first, second = filed(client, keys.a), filed(client, keys.a)
    world_a = _codes(_get(client, keys.a))[-1]
    assert _codes(_get(client, keys.a)) == [second["service_request_id"], first["service_request_id"], world_a]
    root = xml(_get(client, keys.a, "requests.xml"))
    assert root.tag == "service_requests" and [e.tag for e in root] == ["request"] * 3
    assert [e.findtext("service_request_id") for e in root] == [second["service_request_id"],
                                                               first["service_request_id"], world_a]
    assert all([c.tag for c in e] == REQUEST_FIELDS for e in root)


def test_filters_by_id_service_status_and_dates(client, world, keys, db_session):
    lamp, other = filed(client, keys.a)["service_request_id"], filed(client, keys.a)["service_request_id"]
    world_a = _codes(_get(client, keys.a))[-1]
    assert _codes(_get(client, keys.a, service_code="T.SHZA")) == []
    assert _codes(_get(client, keys.a, service_code="T.SHZA,T.SRGL")) == [other, lamp, world_a]
    _act(db_session, world, "towna-viewer", lamp, Action.answer, answer="已告知城管夜间巡查")
    assert _codes(_get(client, keys.a, status="closed")) == [lamp]
    assert _codes(_get(client, keys.a, status="open")) == [other, world_a]
    assert _codes(_get(client, keys.a, status="open,closed")) == [other, lamp, world_a]
    # With service_request_id the other filters are ignored, as the spec says.
    assert _codes(_get(client, keys.a, service_request_id=f"{lamp},{other}", status="open",
                       service_code="T.SHZA")) == [other, lamp]
    yesterday = (now() - timedelta(days=1)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert _codes(_get(client, keys.a, end_date=yesterday)) == []
    # A "+08:00" left unencoded in a query string arrives as " 08:00": still read as the offset.
    local = (now() - timedelta(days=1)).astimezone(service.SHANGHAI).strftime("%Y-%m-%dT%H:%M:%S")
    assert _codes(client.get(f"{BASE}/requests.json?api_key={keys.a}&start_date={local}+08:00")) == [
        other, lamp, world_a]


def test_the_default_window_is_the_last_90_days(client, world, keys, db_session):
    old, recent = filed(client, keys.a)["service_request_id"], filed(client, keys.a)["service_request_id"]
    _backdate(db_session, old, 100)
    listed = _codes(_get(client, keys.a))
    assert recent in listed and old not in listed
    start = (now() - timedelta(days=120)).date().isoformat()
    end = (now() - timedelta(days=60)).date().isoformat()
    assert _codes(_get(client, keys.a, start_date=start, end_date=end)) == [old]
    # Only a start: the 90 days from it.
    assert _codes(_get(client, keys.a, start_date=start)) == [old]
    assert _codes(_get(client, keys.a, service_request_id=old)) == [old]  # by id, whenever it was filed


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bad_filters_are_400(client, world, keys, fmt):
    def refused(**params: str) -> list[str]:
        return errors(_get(client, keys.a, f"requests.{fmt}", **params), 400, fmt)

    too_long = refused(start_date="2026-01-01", end_date="2026-06-01")
    assert too_long == ["end_date：查询时间范围不能超过 90 天，请分段查询"]
    assert refused(start_date="2026-06-01", end_date="2026-05-01") == ["start_date：start_date 应早于 end_date"]
    assert refused(start_date="上周")[0].startswith("start_date：应为 W3C 日期时间")
    assert refused(status="pending") == ["status：只能是 open 或 closed（多个用逗号分隔）"]


def test_the_cap_is_1000_requests_newest_first(client, world, keys, db_session):
    town = world.regions[TOWN_A]
    at = now()
    db_session.execute(insert(WorkOrder), [
        {"code": f"BULK{i:06d}", "status": "registered", "version": 1, "urgency": "normal", "region_id": town.id,
         "region_code": TOWN_A, "place_code": COMMUNITY_A, "channel": Channel.open311, "title": "批量",
         "description": "批量", "created_at": at - timedelta(minutes=i + 1), "updated_at": at}
        for i in range(1001)])
    db_session.commit()
    listed = _codes(_get(client, keys.a))
    assert len(listed) == service.MAX_REQUESTS == 1000
    # The world's own order is the newest; of the 1001 older ones the two oldest fall off the end.
    assert listed[1:3] == ["BULK000000", "BULK000001"] and listed[-1] == "BULK000998"
    assert "BULK000999" not in listed and "BULK001000" not in listed


def test_status_notes_agency_and_expected_time_follow_the_loop(client, world, keys, db_session):
    code = filed(client, keys.a)["service_request_id"]

    def read() -> dict:
        (one,) = _get(client, keys.a, f"requests/{code}.json").json()
        return one

    _act(db_session, world, "towna-viewer", code, Action.dispatch, department="D-COUNTY-CG")
    order = db_session.scalar(select(WorkOrder).where(WorkOrder.code == code))
    one = read()
    assert one["agency_responsible"] == "县综合行政执法局"
    assert one["status_notes"] == "已派给承办部门" and one["status"] == "open"
    assert one["expected_datetime"] == order.handle_due_at.astimezone(service.SHANGHAI).isoformat(timespec="seconds")
    assert one["service_notice"].startswith("已由甲街道受理，预计 ")
    # A superior's supervision is internal: the public notes stay where they were, and name no one.
    _act(db_session, world, "county-leader", code, Action.supervise, response_due=now() + timedelta(days=1))
    assert read()["status_notes"] == "已派给承办部门"
    _act(db_session, world, "county-handler", code, Action.sign)
    _act(db_session, world, "county-handler", code, Action.report, report="已更换灯泡")
    one = read()
    assert one["status_notes"] == "承办部门已办理：已更换灯泡" and "处置员" not in str(one)
    _act(db_session, world, "towna-viewer", code, Action.verify_pass)
    _act(db_session, world, "towna-viewer", code, Action.close, reason="群众未接电话，按满意办结")
    one = read()
    assert one["status"] == "closed" and one["service_notice"] == "已办结"
    assert one["status_notes"] == "已办结：群众未接电话，按满意办结"


def test_a_cancelled_request_is_closed(client, world, keys, db_session):
    code = filed(client, keys.a)["service_request_id"]
    _act(db_session, world, "towna-viewer", code, Action.cancel, reason="重复提交")
    (one,) = _get(client, keys.a, f"requests/{code}.json").json()
    assert (one["status"], one["status_notes"], one["service_notice"]) == ("closed", "已作废：重复提交", "已作废")


def test_a_photo_filed_with_the_appeal_is_served_at_its_media_url(client, world, keys, monkeypatch, tmp_path):
    monkeypatch.setattr(get_settings(), "upload_dir", str(tmp_path / "uploads"))
    agent = login(client, "county-agent")
    upload = client.post("/api/v1/attachments", files={"file": ("well.png", PNG, "image/png")}, headers=agent)
    assert upload.status_code == 201, upload.text
    filed_by_phone = client.post("/api/v1/appeals", headers=agent, json={
        "caller_phone": "13912345678", "text": "井盖缺了一块", "region_code": COMMUNITY_A, "category_code": "T.SRGL",
        "photos": [upload.json()["key"]]})
    assert filed_by_phone.status_code == 201, filed_by_phone.text
    code = filed_by_phone.json()["work_order"]["code"]
    (one,) = _get(client, keys.a, f"requests/{code}.json").json()
    assert one["media_url"] == f"http://testserver/open311/v2/requests/{code}.png"
    photo = client.get(one["media_url"], params={"api_key": keys.a})
    assert photo.status_code == 200 and photo.content == PNG and photo.headers["content-type"] == "image/png"
    assert errors(client.get(one["media_url"].replace(".png", ".jpg"), params={"api_key": keys.a}), 404)
    # Read like the request itself: town B's key is told nothing.
    assert errors(client.get(one["media_url"], params={"api_key": keys.b}), 404)
    assert errors(client.get(one["media_url"]), 403)


def test_a_token_names_its_request(client, world, keys):
    answer = filed(client, keys.a)
    body = _get(client, keys.a, f"tokens/{answer['token']}.json").json()
    assert body == [{"service_request_id": answer["service_request_id"], "token": answer["token"]}]
    root = xml(_get(client, keys.a, f"tokens/{answer['token']}.xml"))
    assert root.tag == "service_requests" and [e.tag for e in root[0]] == ["service_request_id", "token"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_requests_and_tokens_are_404(client, world, keys, fmt):
    assert "GD00000000000000" in errors(_get(client, keys.a, f"requests/GD00000000000000.{fmt}"), 404, fmt)[0]
    assert "ZZZZZZZZZZ" in errors(_get(client, keys.a, f"tokens/ZZZZZZZZZZ.{fmt}"), 404, fmt)[0]
    assert errors(_get(client, keys.a, f"requests.{fmt}", jurisdiction_id="nowhere"), 404, fmt)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_reading_needs_a_valid_key(client, world, keys, fmt):
    assert "缺少 api_key" in errors(_get(client, None, f"requests.{fmt}"), 403, fmt)[0]
    assert errors(_get(client, "zk_nope_nope", f"requests.{fmt}"), 403, fmt)
    assert errors(_get(client, None, f"tokens/ZZZZZZZZZZ.{fmt}"), 403, fmt)


def test_a_towns_key_never_reads_another_towns_requests(client, world, keys):
    a, b_answer = filed(client, keys.a), filed(client, keys.b, description="乙镇积水", **POINT_B)
    listed = _get(client, keys.a).text
    assert a["service_request_id"] in listed and b_answer["service_request_id"] not in listed and "乙镇" not in listed
    assert errors(_get(client, keys.a, f"requests/{b_answer['service_request_id']}.json"), 404)
    assert errors(_get(client, keys.a, f"tokens/{b_answer['token']}.json"), 404)
    assert _codes(_get(client, keys.a, service_request_id=b_answer["service_request_id"])) == []
    # The control: town B's key reads its own.
    assert b_answer["service_request_id"] in _codes(_get(client, keys.b))


def test_jurisdiction_id_narrows_the_list_to_a_region(client, world, keys, db_session):
    from zhili.auth.service import create_api_key
    from zhili.models import Role

    _row, county = create_api_key(db_session, "县级接口", world.regions["339922000000"], [Role.citizen], None)
    db_session.commit()
    both = _codes(_get(client, county))
    assert len(both) == 2
    assert len(_codes(_get(client, county, jurisdiction_id=TOWN_B))) == 1
    assert set(_codes(_get(client, county, jurisdiction_id=TOWN_A))) | set(
        _codes(_get(client, county, jurisdiction_id=TOWN_B))) == set(both)


def test_signed_in_staff_read_their_own_area_without_a_key(client, world):
    page_login(client, "towna-admin")
    mine = _codes(client.get(f"{BASE}/requests.json"))
    assert len(mine) == 1 and "乙镇" not in client.get(f"{BASE}/requests.json").text
    bearer = login(client, "townb-admin")
    theirs = client.get(f"{BASE}/requests.json", headers=bearer).json()
    assert [r["description"] for r in theirs] == ["乙镇一村道路积水"]


def test_open_read_shows_every_public_request_to_anyone(client, world, keys, db_session, monkeypatch):
    monkeypatch.setattr(get_settings(), "open311_open_read", True)
    assert len(_codes(_get(client, None))) == 2  # both towns', no key needed
    # A request under an internal category stays behind a key.
    db_session.execute(update(Category).where(Category.code == "T.SRGL").values(public=False))
    db_session.commit()
    assert _codes(_get(client, None)) == []
    assert len(_codes(_get(client, keys.a))) == 1  # the key still reads its own area in full
    assert errors(_get(client, "zk_nope_nope"), 403)  # a key sent is still checked
