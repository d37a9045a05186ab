"""The /base pages: lists masked, the reveal button logged, the door-knocking links, forms on a phone,
and the export approval: request, a second administrator approves, the requester downloads."""

import re

from sqlalchemy import select

from tests.factories import COMMUNITY_A, page_login
from tests.world_basedata import ID_A
from zhili.models import AuditLog, Resident


def test_lists_and_pages_mask_numbers(world, client):
    page_login(client, "towna-admin")
    ids = world.extra_ids["A"]
    for url in ("/base", "/base/residents", "/base/houses", "/base/addresses", "/base/units", "/base/places",
                f"/base/residents/{ids['resident_id']}", f"/base/houses/{ids['house_id']}"):
        r = client.get(url)
        assert r.status_code == 200, url
        assert ID_A not in r.text and "13700001111" not in r.text, url
    listing = client.get("/base/residents").text
    assert ID_A[:6] + "********" + ID_A[-4:] in listing and "甲一居民" in listing


def test_reveal_button_shows_the_number_and_logs_it(world, client, db_session):
    token = page_login(client, "towna-viewer")
    rid = world.extra_ids["A"]["resident_id"]
    page = client.get(f"/base/residents/{rid}").text
    assert f'hx-post="/base/residents/{rid}/reveal"' in page
    r = client.post(f"/base/residents/{rid}/reveal", data={"field": "phone"}, headers={"X-CSRF-Token": token,
                                                                                       "HX-Request": "true"})
    assert r.status_code == 200 and "13700001111" in r.text
    row = db_session.scalars(select(AuditLog).where(AuditLog.action == "personal.reveal")).one()
    assert row.detail["field"] == "phone" and row.target_id == str(rid)
    # The admin's audit page lists it.
    page_login(client, "towna-admin")
    assert "personal.reveal" in client.get("/admin/audit").text


def test_door_knocking_links_add_a_resident_to_a_house(world, client, db_session):
    token = page_login(client, "towna-gw")
    hid = world.extra_ids["A"]["house_id"]
    house = client.get(f"/base/houses/{hid}")
    assert house.status_code == 200 and f"/base/houses/{hid}/residents/new" in house.text
    form = client.get(f"/base/houses/{hid}/residents/new")
    assert form.status_code == 200 and 'name="house_id"' in form.text and 'name="viewport"' in form.text
    r = client.post("/base/residents", data={"csrf_token": token, "name": "新住户", "house_id": str(hid),
                                             "kind": "floating", "relation": "租户", "household_head": "0",
                                             "id_number": "", "phone": ""}, follow_redirects=False)
    assert r.status_code == 303, r.text
    person = db_session.scalars(select(Resident).where(Resident.name == "新住户")).one()
    assert person.house_id == hid and person.area_code == COMMUNITY_A + "001"
    assert client.get(r.headers["location"]).status_code == 200
    # A bad number on the phone form answers with the field named, not a crash.
    bad = client.post("/base/residents", data={"csrf_token": token, "name": "x", "house_id": str(hid),
                                               "id_number": ID_A[:-1] + "9"}, headers={"HX-Request": "true"})
    assert bad.status_code == 422 and 'data-zl-field="id_number"' in bad.text


def test_grid_worker_cannot_open_another_grids_house(world, client):
    from zhili.models import Address, House

    page_login(client, "towna-gw")
    assert client.get(f"/base/houses/{world.extra_ids['B']['house_id']}").status_code == 404
    assert House and Address  # the town A house of grid 002 is tested through the API (test_records)


def test_export_needs_another_admins_approval_and_is_logged(world, client, db_session):
    token = page_login(client, "towna-viewer")
    r = client.post("/base/exports", data={"csrf_token": token, "kind": "residents", "purpose": "敲门行动入户核查",
                                           "f_within": COMMUNITY_A + "001"}, follow_redirects=False)
    assert r.status_code == 303
    from zhili.models.basedata import ExportRequest

    request = db_session.scalars(select(ExportRequest).where(ExportRequest.purpose == "敲门行动入户核查")).one()
    assert client.get(f"/base/exports/{request.id}/download").status_code == 409  # not approved yet
    admin_token = page_login(client, "towna-admin")
    page = client.get("/base/exports").text
    assert f"/base/exports/{request.id}/decision" in page
    r = client.post(f"/base/exports/{request.id}/decision", data={"csrf_token": admin_token, "approve": "true"},
                    follow_redirects=False)
    assert r.status_code == 303
    assert client.get(f"/base/exports/{request.id}/download").status_code == 403  # the approver is not the requester
    page_login(client, "towna-viewer")
    download = client.get(f"/base/exports/{request.id}/download")
    assert download.status_code == 200 and ID_A in download.text  # unmasked, for the requester
    masked = client.get("/base/residents/export.csv")
    assert masked.status_code == 200 and ID_A not in masked.text and ID_A[-4:] in masked.text
    actions = set(db_session.scalars(select(AuditLog.action).where(AuditLog.action.like("personal.%"))))
    assert {"personal.export_request", "personal.export_approve", "personal.export_download",
            "personal.export"} <= actions


def test_import_page_and_templates(world, client):
    page_login(client, "towna-admin")
    assert client.get("/base/imports?kind=houses").status_code == 200
    csv = client.get("/base/imports/template.csv?kind=residents")
    assert csv.status_code == 200 and "姓名*" in csv.text and re.search(r"\d{15}", csv.text)
    assert client.get("/base/imports/template.xlsx?kind=places").status_code == 200
