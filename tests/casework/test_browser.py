"""Casework in a real browser: a grid worker registers a dispute on a phone-size screen, the town
centre assigns it and flags the 民转刑 risk, and the petition and household-link pages render.
Screenshots go to test-artifacts/screenshots/casework-*.png for a person to look at."""

import re

import pytest

from tests.browser.test_admin_browser import SHOTS, live_server  # noqa: F401
from tests.browser.test_loop_browser import PHONE_SIZE, People, people  # noqa: F401

pytestmark = pytest.mark.browser


def test_grid_worker_registers_on_a_phone_and_the_centre_works_the_case(people, live_server):  # noqa: F811
    base, world = live_server
    phone = people.open("towna-gw", PHONE_SIZE)
    phone.goto(f"{base}/disputes/new")
    phone.fill("#dn-name", "张某与李某楼道堆物纠纷")
    phone.select_option("#dn-category", "neighbour")
    phone.fill("#dn-place", "甲一社区7幢2单元")
    phone.locator("input[name=party_name]").nth(0).fill("张某")
    phone.locator("input[name=party_phone]").nth(0).fill("13912345678")
    phone.locator("input[name=party_name]").nth(1).fill("李某")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_SIZE["width"], f"the phone page scrolls sideways ({width}px)"
    phone.screenshot(path=str(SHOTS / "casework-phone-register.png"), full_page=True)
    phone.click("button[type=submit]")
    phone.wait_for_url(re.compile(r"/disputes/\d+$"))
    assert "139****5678" in phone.content()
    phone.screenshot(path=str(SHOTS / "casework-phone-case.png"), full_page=True)
    case_url = phone.url

    centre = people.open("towna-admin")
    centre.goto(f"{base}/disputes?tab=open")
    assert "张某与李某楼道堆物纠纷" in centre.content()
    centre.screenshot(path=str(SHOTS / "casework-disputes.png"), full_page=True)
    centre.goto(case_url)
    centre.click("details[data-action=assign] summary")
    centre.select_option("#da-assign-body", "police")
    centre.click("details[data-action=assign] button[type=submit]")
    centre.wait_for_selector("text=甲街道派出所调解室")
    centre.click("details[data-action=flag_risk] summary")
    centre.fill("#da-flag_risk-note", "李某扬言报复")
    centre.click("details[data-action=flag_risk] button[type=submit]")
    centre.wait_for_selector(".alert-danger >> text=李某扬言报复")
    centre.screenshot(path=str(SHOTS / "casework-case.png"), full_page=True)

    centre.goto(f"{base}/petitions/{world.extra_ids['A']['petition_id']}")
    assert "甲一社区噪声扰民" in centre.content()
    centre.screenshot(path=str(SHOTS / "casework-petition.png"), full_page=True)
    centre.goto(f"{base}/volunteers/links")
    assert "甲联户代表" in centre.content()
    centre.screenshot(path=str(SHOTS / "casework-links.png"), full_page=True)
    assert not people.errors, people.errors
