"""A grid worker's day on a phone-size screen (issue 8), in a real browser: from the grid page to a key
person due for a visit, the visit recorded; a community-corrections check-in; a patrol whose problem is
reported into the closed loop; a dispute registered on the spot. Then the deadline sweep runs and the
town centre, on its desktop, sees the warnings about the person who missed yesterday's check-ins.

Screenshots go to test-artifacts/screenshots/grid-day-*.png (gitignored), for a person to look at.
"""

import re
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.browser.test_admin_browser import SHOTS, live_server  # noqa: F401
from tests.browser.test_loop_browser import PHONE_SIZE, People, expect, people  # noqa: F401
from tests.factories import COMMUNITY_A, World
from tests.world_keyperson import household
from zhili.db import get_sessionmaker
from zhili.keyperson.warnings import sweep
from zhili.kit.time import now
from zhili.models import CheckIn, KeyPerson, KeyPersonKind, Risk, Visit, WorkOrder
from zhili.models.casework import Dispute

pytestmark = pytest.mark.browser

GRID = COMMUNITY_A + "001"


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"grid-day-{name}.png"), full_page=True)


def fits_the_phone(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_SIZE["width"], f"{page.url} scrolls sideways on a phone ({width}px)"


def a_person_under_corrections(world: World) -> int:
    """Listed two days ago, not yet checked in; the visit plan says a visit was due yesterday."""
    with get_sessionmaker()() as session:
        _house, resident = household(session, world, GRID, "甲一路", "12号", "孙矫正", "330122199203150016",
                                     "13700005678")
        person = KeyPerson(resident_id=resident.id, kind=KeyPersonKind.corrections, risk=Risk.yellow,
                           details={"correction_type": "缓刑", "starts_on": "2026-01-01", "ends_on": "2027-06-30",
                                    "place": "临溪县司法局"},
                           since=date.today() - timedelta(days=2), visit_due_on=date.today() - timedelta(days=1),
                           area_code=GRID, grid_id=world.grids[GRID].id)
        session.add(person)
        session.commit()
        return person.id


def test_a_grid_workers_day_on_a_phone(people: People, live_server: tuple[str, World]) -> None:  # noqa: F811
    base, world = live_server
    corrections_id = a_person_under_corrections(world)
    due_id = int(world.extra_ids["A"]["key_person_id"])  # 甲镇张某: his visit is ten days overdue

    phone = people.open("towna-gw", PHONE_SIZE)
    phone.goto(f"{base}/grid")
    shot(phone, "1-grid")
    phone.locator("main a[href='/field']").first.click()
    phone.wait_for_url(f"{base}/field")
    expect(phone.locator(f"a[href='/key-persons/{due_id}']")).to_be_visible()
    fits_the_phone(phone)
    shot(phone, "2-field")

    # The visit: open the person due, say what was seen, save.
    phone.locator(f"a[href='/key-persons/{due_id}']").click()
    phone.wait_for_url(f"{base}/key-persons/{due_id}")
    phone.fill("#kv-seen", "本人在家，情绪稳定，在小区超市打零工")
    phone.fill("#kv-lon", "119.52")
    phone.fill("#kv-lat", "29.25")
    phone.locator("form[action$='/visits'] button[type=submit]").click()
    expect(phone.locator("#kp-flash .alert-success")).to_be_visible()
    fits_the_phone(phone)
    shot(phone, "3-visited")

    # The check-in of the person under community corrections: a sign-in with its position.
    phone.goto(f"{base}/key-persons/{corrections_id}")
    phone.fill("#ci-lon", "119.521")
    phone.fill("#ci-lat", "29.251")
    phone.locator("button[name=kind][value=sign]").click()
    expect(phone.locator("#kp-flash .alert-success")).to_be_visible()
    expect(phone.get_by_text("今日：签到 1/2 · 定位 0/1")).to_be_visible()
    shot(phone, "4-check-in")

    # A patrol that found a problem: what was seen, the box ticked, saved — an appeal in the loop.
    phone.goto(f"{base}/field")
    phone.fill("#fw-seen", "甲一路12号门前窨井盖破损，已设临时警示")
    phone.fill("#fw-lon", "119.522")
    phone.fill("#fw-lat", "29.252")
    phone.check("#fw-report")
    phone.locator("form[action='/field/visits'] button[type=submit]").click()
    order_link = phone.locator("#fw-flash a[href^='/orders/']")
    expect(order_link).to_be_visible()
    order_id = int(order_link.get_attribute("href").rsplit("/", 1)[1])  # type: ignore[union-attr]
    shot(phone, "5-patrol-reported")

    # A dispute met on the way, registered on the spot.
    phone.goto(f"{base}/disputes/new")
    phone.fill("#dn-name", "甲一路12号与14号漏水纠纷")
    phone.select_option("#dn-category", "neighbour")
    phone.fill("#dn-place", "甲一路12号")
    phone.locator("input[name=party_name]").nth(0).fill("周某")
    phone.locator("input[name=party_phone]").nth(0).fill("13912340001")
    phone.locator("input[name=party_name]").nth(1).fill("吴某")
    fits_the_phone(phone)
    phone.click("button[type=submit]")
    phone.wait_for_url(re.compile(r"/disputes/\d+$"))
    shot(phone, "6-dispute")

    with get_sessionmaker()() as session:
        visits = {v.kind for v in session.scalars(select(Visit).where(Visit.staff_id == world.staff["towna-gw"].id,
                                                                       Visit.started_at >= now() - timedelta(hours=1)))}
        assert {"visit", "patrol"} <= visits
        order = session.get(WorkOrder, order_id)
        assert order is not None and order.channel == "grid" and order.grid_id == world.grids[GRID].id
        assert session.scalar(select(CheckIn.kind).where(CheckIn.key_person_id == corrections_id)) == "sign"
        dispute = session.scalars(select(Dispute).where(Dispute.name == "甲一路12号与14号漏水纠纷")).one()
        assert dispute.area_code == GRID and [p.name for p in dispute.parties] == ["周某", "吴某"]

    # The sweep: yesterday's check-ins missing and a visit overdue for 孙矫正; 甲镇张某 was just visited.
    sweep(get_sessionmaker(), now())
    centre = people.open("towna-viewer")
    centre.goto(f"{base}/care-warnings")
    warnings = centre.locator("#kw-warnings")
    expect(warnings).to_contain_text("孙矫正")
    expect(warnings).not_to_contain_text("甲镇张某")
    expect(centre.locator("main")).to_contain_text("杭州")  # 甲镇张某's leave waits for the centre's decision
    shot(centre, "7-town-warnings")
    assert not people.errors, people.errors
