"""The citizen's pages: file an appeal without an account, follow it, rate the result."""

import re

import pytest
from sqlalchemy import func, select

from tests.factories import login
from tests.work_order.test_attachments import JPEG
from zhili.config import get_settings
from zhili.models import Appeal, Attachment, Category, OrderEvent, WorkOrder
from zhili.work_order.public import LOOKUPS, SUBMISSIONS

IN_GRID_A = {"lon": "119.52", "lat": "29.25"}  # inside 甲一社区第一网格


@pytest.fixture(autouse=True)
def _fresh(tmp_path, monkeypatch):
    SUBMISSIONS.reset()
    LOOKUPS.reset()
    monkeypatch.setattr(get_settings(), "upload_dir", str(tmp_path / "uploads"))
    yield
    SUBMISSIONS.reset()
    LOOKUPS.reset()


def form_tokens(client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    page = client.get("/public/appeal")
    assert page.status_code == 200
    return {name: re.search(rf'name="{name}" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
            for name in ("csrf_token", "form_token")}


def submit(client, tokens=None, files=None, **fields):  # type: ignore[no-untyped-def]
    data = {"caller_name": "王五", "caller_phone": "13912345678", "category_code": "T.SRGL",
            "address": "甲一社区东门", "text": "小区东门路灯坏了一周", **IN_GRID_A, **(tokens or form_tokens(client)),
            **fields}
    return client.post("/public/appeal", data=data, files=files)


def tracking_code(page: str) -> str:
    return re.search(r'id="tracking-code">([A-Z0-9]{10})<', page).group(1)  # type: ignore[union-attr]


def appeals(db_session) -> int:  # type: ignore[no-untyped-def]
    return db_session.scalar(select(func.count()).select_from(Appeal))


def test_a_citizen_files_an_appeal_with_a_photo_without_an_account(world, client, db_session):
    r = submit(client, files=[("photos", ("门口.jpg", JPEG, "image/jpeg"))])
    assert r.status_code == 200, r.text
    code = tracking_code(r.text)
    assert "查询码" in r.text and f"/public/track?code={code}" in r.text
    appeal = db_session.scalar(select(Appeal).where(Appeal.tracking_code == code))
    assert appeal.channel == "web" and appeal.caller_phone == "13912345678" and not appeal.anonymous
    assert appeal.work_order.place_code == "339922001001" and appeal.work_order.status == "registered"
    photo = db_session.scalar(select(Attachment).where(Attachment.appeal_id == appeal.id))
    assert photo.content_type == "image/jpeg" and photo.filename == "门口.jpg" and photo.uploaded_by_id is None


def test_the_public_form_shows_public_leaf_categories_only(world, client, db_session):
    db_session.execute(Category.__table__.update().where(Category.code == "T.SHZA").values(public=False))
    db_session.commit()
    page = client.get("/public/appeal").text
    assert "市容城管" in page and "社会治安" not in page and 'value="T"' not in page
    assert "navbar" not in page  # no staff navigation


def test_an_appeal_without_a_point_goes_to_the_top_command_desk(world, client, db_session):
    r = submit(client, lon="", lat="")
    order = db_session.scalar(select(Appeal).where(Appeal.tracking_code == tracking_code(r.text))).work_order
    assert order.region_code == "339900000000"


def test_an_anonymous_caller_is_hidden_from_the_department(world, client, db_session):
    code = tracking_code(submit(client, anonymous="1").text)
    order_id = db_session.scalar(select(Appeal).where(Appeal.tracking_code == code)).work_order_id
    r = client.post(f"/api/v1/work-orders/{order_id}/dispatch", json={"department": "D-COUNTY-CG"},
                    headers=login(client, "towna-viewer"))
    assert r.status_code == 200, r.text
    seen = client.get(f"/api/v1/work-orders/{order_id}", headers=login(client, "county-handler")).json()
    assert seen["appeals"][0]["caller_name"] == "匿名" and seen["appeals"][0]["caller_phone"] == ""
    centre = client.get(f"/api/v1/work-orders/{order_id}", headers=login(client, "towna-viewer")).json()
    assert centre["appeals"][0]["caller_phone"] == "13912345678"  # kept for the callback


def test_a_retried_post_with_the_same_form_token_files_nothing_new(world, client, db_session):
    tokens = form_tokens(client)
    first = submit(client, tokens)
    before = appeals(db_session)
    again = submit(client, tokens)
    assert again.status_code == 200 and "已经提交过了" in again.text
    assert tracking_code(again.text) == tracking_code(first.text)
    assert appeals(db_session) == before


@pytest.mark.parametrize(("fields", "says"), [
    ({"caller_phone": "12345678"}, "11 位手机号"),
    ({"caller_phone": ""}, "请填写手机号"),
    ({"text": ""}, "请把问题写清楚"),
    ({"category_code": "T"}, "请从列表中选择问题类别"),
    ({"category_code": "NOPE"}, "请从列表中选择问题类别"),
    ({"lon": "119.52", "lat": ""}, "地图位置不完整"),
    ({"lon": "abc", "lat": "29"}, "地图位置无效"),
])
def test_bad_input_is_answered_on_the_form_and_files_nothing(world, client, db_session, fields, says):
    before = appeals(db_session)
    r = submit(client, **fields)
    assert r.status_code == 422 and says in r.text
    assert 'name="text"' in r.text  # the form again, with what was typed
    assert appeals(db_session) == before


def test_a_photo_that_is_really_text_is_refused(world, client, db_session):
    before = appeals(db_session)
    r = submit(client, files=[("photos", ("a.jpg", b"not an image at all", "image/jpeg"))])
    assert r.status_code == 415 and "a.jpg" in r.text
    assert appeals(db_session) == before


def test_the_form_needs_the_session_csrf_token(world, client, db_session):
    tokens = form_tokens(client)
    r = submit(client, {**tokens, "csrf_token": "forged"})
    assert r.status_code == 403 and appeals(db_session) == 2


def test_too_many_submissions_from_one_address_are_refused(world, client, db_session):
    for _i in range(10):
        assert submit(client).status_code == 200
    r = submit(client)
    assert r.status_code == 429 and "提交过于频繁" in r.text
    assert appeals(db_session) == 12


# Tracking and rating ------------------------------------------------------------------------------


def track(client, code: str, phone4: str):  # type: ignore[no-untyped-def]
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/public/track").text).group(1)  # type: ignore[union-attr]
    return client.post("/public/track", data={"code": code, "phone4": phone4, "csrf_token": csrf})


def rate(client, code: str, rating: int, comment: str = ""):  # type: ignore[no-untyped-def]
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/public/track").text).group(1)  # type: ignore[union-attr]
    return client.post("/public/track/rate", data={"code": code, "phone4": "5678", "rating": str(rating),
                                                   "comment": comment, "csrf_token": csrf})


def handled_and_verified(client, db_session, code: str) -> int:  # type: ignore[no-untyped-def]
    order_id = db_session.scalar(select(Appeal.work_order_id).where(Appeal.tracking_code == code))
    dispatcher, handler = login(client, "towna-viewer"), login(client, "county-handler")
    for who, action, body in [(dispatcher, "dispatch", {"department": "D-COUNTY-CG"}), (handler, "sign", {}),
                              (handler, "report", {"report": "已更换灯泡"}),
                              (login(client, "towna-gw"), "verify_pass", {})]:
        r = client.post(f"/api/v1/work-orders/{order_id}/{action}", json=body, headers=who)
        assert r.status_code == 200, r.text
    return order_id


def test_tracking_needs_the_right_phone_digits(world, client):
    code = tracking_code(submit(client).text)
    wrong = track(client, code, "0000")
    assert wrong.status_code == 404 and "小区东门路灯" not in wrong.text and "没有找到" in wrong.text
    assert track(client, "ZZZZZZZZZZ", "5678").status_code == 404
    right = track(client, code.lower(), "5678")
    assert right.status_code == 200 and "小区东门路灯" in right.text and "已受理" in right.text


def test_the_public_timeline_names_no_staff_or_department(world, client, db_session):
    code = tracking_code(submit(client).text)
    handled_and_verified(client, db_session, code)
    page = track(client, code, "5678").text
    for label in ("诉求已受理", "已派给承办部门", "承办部门已签收", "承办部门已办理", "办理结果已核查", "请您评价"):
        assert label in page
    for secret in ("县城管处置员", "县综合行政执法局", "甲街道领导", "甲一网格员", "D-COUNTY-CG", "已更换灯泡"):
        assert secret not in page


def test_the_citizen_rates_a_verified_order_and_it_closes(world, client, db_session):
    code = tracking_code(submit(client).text)
    order_id = handled_and_verified(client, db_session, code)
    assert "非常满意" in track(client, code, "5678").text
    r = rate(client, code, 5, "修得很快")
    assert r.status_code == 200 and "感谢您的评价" in r.text and "已办结" in r.text
    db_session.expire_all()
    order = db_session.get(WorkOrder, order_id)
    assert order.status == "closed" and order.rating == 5
    event = db_session.scalar(select(OrderEvent).where(OrderEvent.work_order_id == order_id,
                                                       OrderEvent.action == "callback"))
    assert event.actor_name == "群众" and event.actor_id is None and event.data["comment"] == "修得很快"
    assert rate(client, code, 4).status_code == 409  # once only


def test_a_dissatisfied_rating_leaves_the_order_awaiting_review(world, client, db_session):
    code = tracking_code(submit(client).text)
    order_id = handled_and_verified(client, db_session, code)
    r = rate(client, code, 2, "灯还是不亮")
    assert r.status_code == 200 and "复核" in r.text
    db_session.expire_all()
    order = db_session.get(WorkOrder, order_id)
    assert order.status == "verified" and order.awaiting_review and order.rating == 2
    again = track(client, code, "5678").text
    assert "正在复核" in again and 'name="rating"' not in again


def test_rating_needs_a_level_and_a_verified_order(world, client, db_session):
    code = tracking_code(submit(client).text)
    assert rate(client, code, 4).status_code == 409  # not handled yet
    handled_and_verified(client, db_session, code)
    assert rate(client, code, 9).status_code == 422


def test_a_merged_appeal_shows_the_order_it_was_merged_into(world, client, db_session):
    kept = tracking_code(submit(client).text)
    dup = tracking_code(submit(client, text="东门路灯不亮，晚上很黑").text)
    kept_order = db_session.scalar(select(Appeal).where(Appeal.tracking_code == kept)).work_order
    dup_id = db_session.scalar(select(Appeal.work_order_id).where(Appeal.tracking_code == dup))
    r = client.post(f"/api/v1/work-orders/{dup_id}/merge", json={"target": kept_order.code},
                    headers=login(client, "towna-viewer"))
    assert r.status_code == 200, r.text
    page = track(client, dup, "5678").text
    assert "合并办理" in page and kept_order.code in page
    assert "合并办理" not in track(client, kept, "5678").text.split("办理过程")[0]


def test_the_area_outline_names_no_region(world, client):
    r = client.get("/public/area.geojson")
    assert r.status_code == 200
    features = r.json()["features"]
    assert {f["properties"]["level"] for f in features} == {"city", "county", "town"}
    assert all(set(f["properties"]) == {"level"} for f in features)
    assert "乙镇" not in r.text and "339922" not in r.text


def test_the_tracking_form_prefills_only_a_well_formed_code(world, client):
    assert 'value="ABCDEFGHJK"' in client.get("/public/track", params={"code": "abcdefghjk"}).text
    assert "339922101000" not in client.get("/public/track", params={"code": "339922101000"}).text
