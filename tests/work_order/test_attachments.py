"""Attachments: uploaded by staff, checked by their first bytes, readable by the uploader until linked,
then by whoever may read the order."""

import pytest
from sqlalchemy import select

from tests.factories import login
from zhili.auth.service import create_api_key, subject_for_staff
from zhili.config import get_settings
from zhili.errors import Invalid
from zhili.models import Appeal, Attachment, Role
from zhili.work_order.attachments import attach, path_of, sniff

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 200 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


@pytest.fixture(autouse=True)
def _uploads(tmp_path, monkeypatch):
    monkeypatch.setattr(get_settings(), "upload_dir", str(tmp_path / "uploads"))


def upload(client, headers, data: bytes, name: str = "路灯.jpg", expect: int = 201) -> dict:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/attachments", files={"file": (name, data, "image/jpeg")}, headers=headers)
    assert r.status_code == expect, r.text
    return r.json()


def test_magic_bytes_decide_the_type():
    assert sniff(JPEG) == "image/jpeg" and sniff(PNG) == "image/png" and sniff(PDF) == "application/pdf"
    assert sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert sniff(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00") == "image/heic"
    assert sniff(b"just some text pretending") is None


def test_an_upload_is_stored_under_its_key_and_read_back_by_its_uploader(world, client):
    handler = login(client, "county-handler")
    body = upload(client, handler, JPEG)
    assert body["content_type"] == "image/jpeg" and body["size"] == len(JPEG) and body["filename"] == "路灯.jpg"
    assert path_of(body["key"]).read_bytes() == JPEG
    assert path_of(body["key"]).parent.name == body["key"][:2]
    r = client.get("/api/v1/attachments", params={"key": body["key"]}, headers=handler)
    assert r.status_code == 200 and r.content == JPEG
    assert r.headers["content-type"] == "image/jpeg"
    assert r.headers["content-disposition"] == "inline; filename*=UTF-8''%E8%B7%AF%E7%81%AF.jpg"
    listed = client.get("/api/v1/attachments", headers=handler).json()
    assert [a["key"] for a in listed["items"]] == [body["key"]]


def test_a_text_file_named_jpg_is_refused(world, client, db_session):
    r = client.post("/api/v1/attachments", files={"file": ("photo.jpg", b"hello, I am text", "image/jpeg")},
                    headers=login(client, "county-handler"))
    assert r.status_code == 415 and "photo.jpg" in r.json()["detail"]
    assert db_session.scalar(select(Attachment)) is None


def test_an_oversize_file_is_refused_with_413(world, client, db_session, monkeypatch):
    monkeypatch.setattr(get_settings(), "attachment_max_bytes", 100)
    r = client.post("/api/v1/attachments", files={"file": ("big.jpg", JPEG, "image/jpeg")},
                    headers=login(client, "county-handler"))
    assert r.status_code == 413 and "MB" in r.json()["detail"]
    assert db_session.scalar(select(Attachment)) is None


def test_an_api_key_cannot_upload(world, client, db_session):
    _key, plain = create_api_key(db_session, "外部渠道", world.regions["339922001000"], [Role.citizen], None)
    db_session.commit()
    upload(client, {"Authorization": f"Bearer {plain}"}, JPEG, expect=403)


def test_download_is_scoped_to_the_order_once_linked(world, client, db_session):
    handler = login(client, "towna-police")
    key = upload(client, handler, PDF, "报告.pdf")["key"]
    viewer, town_b = login(client, "towna-viewer"), login(client, "townb-admin")
    assert client.get("/api/v1/attachments", params={"key": key}, headers=viewer).status_code == 404  # not yet

    appeal = db_session.scalar(select(Appeal).where(Appeal.work_order_id == world.orders["A"]))
    police = subject_for_staff(world.staff["towna-police"])
    attach(db_session, police, [key], appeal=appeal)
    db_session.commit()

    r = client.get("/api/v1/attachments", params={"key": key}, headers=viewer)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert client.get("/api/v1/attachments", params={"key": key}, headers=town_b).status_code == 404
    assert key not in client.get("/api/v1/attachments", headers=town_b).text


def test_attach_refuses_someone_elses_upload_and_unknown_keys(world, client, db_session):
    key = upload(client, login(client, "towna-police"), JPEG)["key"]
    appeal = db_session.scalar(select(Appeal).where(Appeal.work_order_id == world.orders["A"]))
    other = subject_for_staff(world.staff["towna-viewer"])
    with pytest.raises(Invalid):
        attach(db_session, other, [key], appeal=appeal)
    with pytest.raises(Invalid):
        attach(db_session, other, ["0" * 32], appeal=appeal)
    # Once linked to the order, citing it again from the same order is fine; from another order it is not.
    attach(db_session, subject_for_staff(world.staff["towna-police"]), [key], appeal=appeal)
    assert [a.key for a in attach(db_session, other, [key], appeal=appeal)] == [key]
    appeal_b = db_session.scalar(select(Appeal).where(Appeal.work_order_id == world.orders["B"]))
    with pytest.raises(Invalid):
        attach(db_session, other, [key], appeal=appeal_b)


def test_a_grid_worker_attaches_a_photo_to_a_patrol_report_from_the_page(world, client, db_session):
    from sqlalchemy import select

    from tests.factories import page_login
    from zhili.models import Appeal, Attachment

    token = page_login(client, "towna-gw")
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 200
    refused = client.post("/uploads", files={"file": ("x.jpg", jpeg, "image/jpeg")})
    assert refused.status_code == 403  # no CSRF token
    text_as_jpeg = client.post("/uploads", files={"file": ("x.jpg", b"just text", "image/jpeg")},
                               headers={"X-CSRF-Token": token})
    assert text_as_jpeg.status_code == 415
    up = client.post("/uploads", files={"file": ("井盖.jpg", jpeg, "image/jpeg")}, headers={"X-CSRF-Token": token})
    assert up.status_code == 201, up.text
    key = up.json()["key"]
    r = client.post("/grid/report", data={"csrf_token": token, "text": "人民路井盖破损", "photos": key},
                    headers={"HX-Request": "true"})
    assert r.status_code == 200, r.text
    row = db_session.scalar(select(Attachment).where(Attachment.key == key))
    appeal = db_session.get(Appeal, row.appeal_id)
    assert appeal is not None and appeal.text == "人民路井盖破损"
    page = client.get(f"/orders/{appeal.work_order_id}")
    assert f'src="/uploads?key={key}"' in page.text
    photo = client.get("/uploads", params={"key": key})
    assert photo.status_code == 200 and photo.content == jpeg
