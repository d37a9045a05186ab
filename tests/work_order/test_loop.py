"""The closed loop through the JSON API, on both databases."""

import threading
from datetime import datetime

from sqlalchemy import func, select

from tests.factories import COMMUNITY_A, login
from zhili.models import OrderEvent, OutboxMessage


def file(client, headers, **extra) -> dict:  # type: ignore[no-untyped-def]
    body = {"caller_name": "李四", "caller_phone": "13912345678", "text": "小区门口路灯坏了三天",
            "region_code": COMMUNITY_A, "category_code": "T.SRGL", **extra}
    r = client.post("/api/v1/appeals", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def move(client, headers, order_id: int, action: str, expect: int = 200, **body) -> dict:  # type: ignore[no-untyped-def]
    r = client.post(f"/api/v1/work-orders/{order_id}/{action}", json=body, headers=headers)
    assert r.status_code == expect, f"{action}: {r.status_code} {r.text}"
    return r.json()


def test_an_appeal_goes_round_the_whole_loop(world, client, db_session):
    agent, dispatcher = login(client, "county-agent"), login(client, "towna-viewer")
    handler, grid_worker = login(client, "county-handler"), login(client, "towna-gw")
    filed = file(client, agent)
    order = filed["work_order"]
    assert len(filed["tracking_code"]) == 10
    assert order["status"] == "registered" and order["region_code"] == "339922001000"
    assert order["suggested_department"]["code"] == "D-COUNTY-CG"  # the category's default department
    assert order["due_at"] is None  # no clock runs while the order waits at the centre

    order = move(client, dispatcher, order["id"], "dispatch", department="D-COUNTY-CG")
    assert order["status"] == "dispatched" and order["stage"] == "sign" and order["colour"] == "green"
    sign_due = datetime.fromisoformat(order["due_at"])
    order = move(client, handler, order["id"], "sign")
    assert order["status"] == "accepted" and order["stage"] == "handle"
    assert datetime.fromisoformat(order["due_at"]) > sign_due  # 5 working days against 4 working hours
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    upload = client.post("/api/v1/attachments", files={"file": ("after.png", png, "image/png")}, headers=handler)
    assert upload.status_code == 201, upload.text
    order = move(client, handler, order["id"], "report", report="已更换灯泡", photos=[upload.json()["key"]])
    assert order["status"] == "handled" and order["stage"] == "verify"
    # The photo now belongs to the order: the grid worker who verifies on site can open it.
    photo = client.get("/api/v1/attachments", params={"key": upload.json()["key"]}, headers=grid_worker)
    assert photo.status_code == 200 and photo.content == png
    order = move(client, grid_worker, order["id"], "verify_pass")
    assert order["status"] == "verified" and order["stage"] == "callback"
    order = move(client, agent, order["id"], "callback", rating=5, comment="很快")
    assert order["status"] == "closed" and order["rating"] == 5 and order["closed_at"]
    assert order["due_at"] is None and order["allowed_actions"] == []
    assert [e["action"] for e in order["events"]] == ["register", "dispatch", "sign", "report", "verify_pass",
                                                       "callback"]
    assert [e["to_status"] for e in order["events"]][-1] == "closed"
    sms = db_session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "sms")).all()
    assert [m.recipient for m in sms] == ["13912345678"]


def test_a_return_is_reviewed_before_re_dispatch(world, client):
    dispatcher, handler, zj = login(client, "towna-viewer"), login(client, "county-handler"), login(client, "county-zj")
    order = file(client, login(client, "county-agent"))["work_order"]
    move(client, dispatcher, order["id"], "dispatch", department="D-COUNTY-CG")
    refused = move(client, handler, order["id"], "return", expect=422)
    assert "理由" in refused["detail"]
    order = move(client, handler, order["id"], "return", reason="路灯归住建管")
    assert order["status"] == "returned"
    move(client, dispatcher, order["id"], "dispatch", expect=409)  # not before the review
    order = move(client, dispatcher, order["id"], "accept_return")
    assert order["status"] == "registered"
    order = move(client, dispatcher, order["id"], "dispatch", department="D-COUNTY-ZJ")
    move(client, handler, order["id"], "sign", expect=403)  # no longer the city management bureau's
    order = move(client, zj, order["id"], "sign")
    assert order["status"] == "accepted"
    states = {(a["department"]["code"], a["state"]) for a in order["assignments"]}
    assert states == {("D-COUNTY-CG", "returned"), ("D-COUNTY-ZJ", "signed")}


def test_an_extension_moves_the_handling_deadline(world, client):
    dispatcher, handler = login(client, "towna-viewer"), login(client, "county-handler")
    order = file(client, login(client, "county-agent"))["work_order"]
    move(client, dispatcher, order["id"], "dispatch", department="D-COUNTY-CG")
    order = move(client, handler, order["id"], "sign")
    before = datetime.fromisoformat(order["due_at"])
    move(client, dispatcher, order["id"], "approve_extension", expect=409, extra="2wd")  # nothing asked yet
    order = move(client, handler, order["id"], "request_extension", reason="需采购配件")
    assert order["extension_pending"] is True
    order = move(client, dispatcher, order["id"], "approve_extension", extra="2wd")
    assert order["extension_pending"] is False
    after = datetime.fromisoformat(order["due_at"])
    assert after > before and (after - before).days >= 2


def test_suspension_stops_the_clock_and_resume_restarts_it(world, client):
    dispatcher, handler = login(client, "towna-viewer"), login(client, "county-handler")
    order = file(client, login(client, "county-agent"))["work_order"]
    move(client, dispatcher, order["id"], "dispatch", department="D-COUNTY-CG")
    move(client, handler, order["id"], "sign")
    order = move(client, dispatcher, order["id"], "suspend", reason="等待法院判决")
    assert order["status"] == "suspended" and order["due_at"] is None and order["colour"] is None
    order = move(client, dispatcher, order["id"], "resume")
    assert order["status"] == "accepted" and order["due_at"] is not None


def test_dissatisfied_callback_waits_for_the_centre_and_reopening_counts_as_rework(world, client):
    agent, dispatcher, handler = login(client, "county-agent"), login(client, "towna-viewer"), login(
        client, "county-handler")
    order = file(client, agent)["work_order"]
    move(client, dispatcher, order["id"], "dispatch", department="D-COUNTY-CG")
    move(client, handler, order["id"], "sign")
    move(client, handler, order["id"], "report", report="已处理")
    move(client, dispatcher, order["id"], "verify_pass")
    order = move(client, agent, order["id"], "callback", rating=2, comment="还是不亮")
    assert order["status"] == "verified" and order["awaiting_review"] is True
    order = move(client, dispatcher, order["id"], "reopen", reason="群众反映仍未修好")
    assert order["status"] == "accepted" and order["rework_count"] == 1


def test_only_the_lead_department_signs_and_a_stale_version_is_refused(world, client):
    dispatcher = login(client, "towna-viewer")
    order = file(client, login(client, "county-agent"))["work_order"]
    order = move(client, dispatcher, order["id"], "dispatch", department="D-COUNTY-CG")
    zj = login(client, "county-zj")
    move(client, zj, order["id"], "sign", expect=404)  # not its department's order: it does not exist for it
    order = move(client, dispatcher, order["id"], "add_assist", departments=["D-COUNTY-ZJ"])
    refused = move(client, zj, order["id"], "sign", expect=403)  # an assisting department does not sign
    assert "县综合行政执法局" in refused["detail"]
    stale = move(client, login(client, "county-handler"), order["id"], "sign", expect=409,
                 expected_version=order["version"] - 1)
    assert "刷新" in stale["detail"]


def test_two_handlers_signing_at_once_make_exactly_one_event(world, client, db_session):
    dispatcher = login(client, "towna-viewer")
    order = file(client, login(client, "county-agent"))["work_order"]
    move(client, dispatcher, order["id"], "dispatch", department="D-COUNTY-CG")
    heads = [login(client, "county-handler"), login(client, "county-handler2")]
    barrier, answers = threading.Barrier(2), []

    def sign(headers: dict) -> None:
        barrier.wait()
        answers.append(client.post(f"/api/v1/work-orders/{order['id']}/sign", json={}, headers=headers).status_code)

    threads = [threading.Thread(target=sign, args=(h,)) for h in heads]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [200, 409]
    signs = db_session.scalar(select(func.count(OrderEvent.id)).where(
        OrderEvent.work_order_id == order["id"], OrderEvent.action == "sign"))
    assert signs == 1


def test_merging_a_duplicate_keeps_its_appeal_linked(world, client):
    agent, dispatcher = login(client, "county-agent"), login(client, "towna-viewer")
    first = file(client, agent)
    second = file(client, agent, caller_phone="13700001111")
    merged = move(client, dispatcher, second["work_order"]["id"], "merge", target=first["work_order"]["code"])
    assert merged["status"] == "cancelled" and merged["merged_into"] == first["work_order"]["code"]
    target = client.get(f"/api/v1/work-orders/{first['work_order']['id']}", headers=dispatcher).json()
    assert {a["tracking_code"] for a in target["appeals"]} == {first["tracking_code"], second["tracking_code"]}


def test_caller_history_and_anonymity_towards_departments(world, client):
    agent = login(client, "county-agent")
    filed = file(client, agent, caller_phone="13655556666", anonymous=True)
    history = client.get("/api/v1/appeals", params={"phone": "13655556666"}, headers=agent).json()
    assert [a["tracking_code"] for a in history["items"]] == [filed["tracking_code"]]
    dispatcher = login(client, "towna-viewer")
    move(client, dispatcher, filed["work_order"]["id"], "dispatch", department="D-COUNTY-CG")
    seen_by_department = client.get(f"/api/v1/work-orders/{filed['work_order']['id']}",
                                    headers=login(client, "county-handler")).json()
    assert seen_by_department["appeals"][0]["caller_phone"] == ""
    assert seen_by_department["appeals"][0]["caller_name"] == "匿名"


def test_intake_checks_place_category_and_phone(world, client):
    agent = login(client, "county-agent")
    for body, expected in [
        ({"text": "有问题", "caller_phone": "123"}, "电话"),
        ({"text": "有问题", "lon": 119.55}, "经度和纬度"),
        ({"text": "有问题", "lon": 10.0, "lat": 20.0}, "中国"),
        ({"text": "有问题"}, "地点"),
        ({"text": "有问题", "region_code": COMMUNITY_A, "category_code": "NOPE"}, "NOPE"),
        ({"text": "有问题", "lon": 121.5, "lat": 31.2}, "网格"),
    ]:
        r = client.post("/api/v1/appeals", json=body, headers=agent)
        assert r.status_code == 422 and expected in r.text, (body, r.text)
    # A point inside a grid places the order there.
    order = file(client, agent, region_code=None, lon=119.52, lat=29.25)["work_order"]
    assert order["grid_code"] == COMMUNITY_A + "001" and order["place_code"] == COMMUNITY_A


def test_identity_numbers_are_checked_and_kept_from_departments(world, client):
    from zhili.kit.codes import id_check_digit

    agent, dispatcher = login(client, "county-agent"), login(client, "towna-viewer")
    r = client.post("/api/v1/appeals", headers=agent, json={
        "text": "申请低保需要开证明", "region_code": COMMUNITY_A, "caller_id_number": "330122199001011234"})
    assert r.status_code == 422 and "校验码" in r.text
    good = "33012219900101123" + id_check_digit("33012219900101123")
    order = file(client, agent, caller_id_number=good.lower())["work_order"]
    assert order["appeals"][0]["caller_id_number"] == good.upper()
    move(client, dispatcher, order["id"], "dispatch", department="D-COUNTY-CG")
    seen = client.get(f"/api/v1/work-orders/{order['id']}", headers=login(client, "county-handler")).json()
    assert seen["appeals"][0]["caller_id_number"] == ""
