"""Working-calendar overrides through the JSON API: set, list, delete, and who may see and change them."""

from sqlalchemy import func, select

from tests.factories import COMMUNITY_A, COUNTY, TOWN_A, TOWN_B, login
from zhili.models import AuditLog, CalendarOverride

URL = "/api/v1/calendar-overrides"


def _put(client, headers, region_code, day, is_workday, note=""):  # type: ignore[no-untyped-def]
    return client.put(URL, json={"region_code": region_code, "day": day, "is_workday": is_workday, "note": note},
                      headers=headers)


def test_set_list_update_and_delete_an_override(client, world, db_session):
    headers = login(client, "towna-admin")
    r = _put(client, headers, TOWN_A, "2026-07-20", False, "防汛调休")
    assert r.status_code == 200, r.text
    assert r.json() == {"region_code": TOWN_A, "region_name": "甲街道", "day": "2026-07-20", "is_workday": False,
                        "note": "防汛调休", "inherited": False}
    # Setting the same day again updates the one row.
    assert _put(client, headers, TOWN_A, "2026-07-20", True, "改为上班").status_code == 200
    rows = client.get(URL, params={"region_code": TOWN_A, "year": 2026}, headers=headers).json()
    assert [(o["day"], o["is_workday"], o["note"]) for o in rows] == [("2026-07-20", True, "改为上班")]
    assert db_session.scalar(select(func.count(CalendarOverride.id))) == 1
    assert client.get(URL, params={"region_code": TOWN_A, "year": 2027}, headers=headers).json() == []

    r = client.delete(URL, params={"region_code": TOWN_A, "day": "2026-07-20"}, headers=headers)
    assert r.status_code == 204
    assert client.get(URL, params={"region_code": TOWN_A, "year": 2026}, headers=headers).json() == []
    assert client.delete(URL, params={"region_code": TOWN_A, "day": "2026-07-20"}, headers=headers).status_code == 404
    actions = db_session.scalars(select(AuditLog.action).where(AuditLog.action.startswith("calendar."))).all()
    assert sorted(actions) == ["calendar.delete", "calendar.set", "calendar.set"]


def test_a_town_admin_cannot_change_another_town_or_the_county(client, world, db_session):
    headers = login(client, "towna-admin")
    assert _put(client, headers, TOWN_B, "2026-07-20", False).status_code == 403
    assert _put(client, headers, COUNTY, "2026-07-20", False).status_code == 403
    assert client.delete(URL, params={"region_code": TOWN_B, "day": "2026-07-20"}, headers=headers).status_code == 403
    assert db_session.scalar(select(func.count(CalendarOverride.id))) == 0
    # Nor may a non-admin of the town itself.
    viewer = login(client, "towna-viewer")
    assert _put(client, viewer, TOWN_A, "2026-07-20", False).status_code == 403


def test_a_town_sees_its_own_and_the_county_overrides_never_another_town(client, world):
    county, town_b = login(client, "county-admin"), login(client, "townb-admin")
    assert _put(client, county, COUNTY, "2026-05-06", False, "全县调休").status_code == 200
    assert _put(client, town_b, TOWN_B, "2026-05-07", False, "乙镇townb庙会").status_code == 200
    town_a = login(client, "towna-admin")
    assert _put(client, town_a, TOWN_A, "2026-05-06", True, "甲街道照常上班").status_code == 200

    rows = client.get(URL, params={"year": 2026}, headers=town_a).json()
    # The town's own decision wins over the county's for the same day; town B's never shows.
    assert [(o["region_code"], o["day"], o["inherited"]) for o in rows] == [(TOWN_A, "2026-05-06", False)]
    assert "townb" not in str(rows)
    rows = client.get(URL, params={"year": 2026, "region_code": COMMUNITY_A}, headers=town_a).json()
    assert [(o["region_code"], o["inherited"]) for o in rows] == [(TOWN_A, True)]

    assert _put(client, county, COUNTY, "2026-10-09", True, "国庆补班").status_code == 200
    rows = client.get(URL, params={"year": 2026}, headers=town_a).json()
    assert (COUNTY, "2026-10-09", True) in [(o["region_code"], o["day"], o["inherited"]) for o in rows]
    assert client.get(URL, params={"region_code": TOWN_B, "year": 2026}, headers=town_a).status_code == 404
    # A town admin may not delete the county's decision it inherits.
    assert client.delete(URL, params={"region_code": COUNTY, "day": "2026-10-09"}, headers=town_a).status_code == 403


def test_bad_override_input_is_refused(client, world):
    headers = login(client, "towna-admin")
    assert _put(client, headers, TOWN_A, "2026-02-30", False).status_code == 422
    assert _put(client, headers, "12345", "2026-02-01", False).status_code == 422
    assert client.put(URL, json={"region_code": TOWN_A, "day": "2026-02-01"}, headers=headers).status_code == 422
    assert client.get(URL, params={"year": 99999}, headers=headers).status_code == 422
