"""Base data on a phone-size screen, in a real browser: a grid worker opens a house from the door-knocking
list, adds a resident, reveals a number and corrects a record; nothing scrolls sideways.

Screenshots go to test-artifacts/screenshots/base-*.png (gitignored), for a person to look at.
"""

from typing import Any

import pytest

from tests.browser.test_admin_browser import SHOTS, live_server  # noqa: F401
from tests.browser.test_loop_browser import PHONE_SIZE, People, expect, people  # noqa: F401
from tests.factories import World

pytestmark = pytest.mark.browser


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"base-{name}.png"), full_page=True)


def fits_the_phone(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_SIZE["width"], f"{page.url} scrolls sideways on a phone ({width}px)"


def test_grid_worker_corrects_a_household_on_a_phone(people: People, live_server: tuple[str, World]) -> None:  # noqa: F811
    base, world = live_server
    house_id = world.extra_ids["A"]["house_id"]
    phone = people.open("towna-gw", PHONE_SIZE)
    phone.goto(f"{base}/base/houses/{house_id}")
    fits_the_phone(phone)
    shot(phone, "house")
    phone.click("text=添加住户")
    phone.wait_for_url(f"**/base/houses/{house_id}/residents/new")
    fits_the_phone(phone)
    phone.fill("#f-name", "赵新来")
    phone.fill("#f-id_number", "33992219900101001X")  # already registered: refused, the field marked
    phone.click("button[type=submit]")
    expect(phone.locator("#resident-errors .alert-danger")).to_be_visible()
    shot(phone, "resident-refused")
    people.errors.clear()  # the 409 above was expected
    phone.fill("#f-id_number", "")
    phone.select_option("#f-kind", "floating")
    phone.click("button[type=submit]")
    phone.wait_for_url("**/base/residents/*?saved=1")
    expect(phone.locator("text=已保存")).to_be_visible()
    fits_the_phone(phone)
    shot(phone, "resident")
    phone.goto(f"{base}/base/residents/{world.extra_ids['A']['resident_id']}")
    phone.locator(".zl-reveal button").first.click()
    expect(phone.locator("text=已记录查看")).to_be_visible()
    shot(phone, "revealed")
    phone.goto(f"{base}/base/residents")
    fits_the_phone(phone)
    shot(phone, "residents")
    assert not people.errors, people.errors


def test_admin_reads_the_ledger_on_a_desktop(people: People, live_server: tuple[str, World]) -> None:  # noqa: F811
    base, world = live_server
    desk = people.open("towna-admin")
    ids = world.extra_ids["A"]
    for name, url in (("overview", "/base"), ("resident-desktop", f"/base/residents/{ids['resident_id']}"),
                      ("exports", "/base/exports"), ("imports", "/base/imports"),
                      ("address", f"/base/addresses/{ids['address_id']}")):
        desk.goto(base + url)
        expect(desk.locator("h1")).to_be_visible()
        shot(desk, name)
    assert not people.errors, people.errors
