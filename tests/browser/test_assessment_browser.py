"""The assessment ledger in a real browser, as a county leader uses it: the September ranking, a
figure drilled down to its orders, the Excel report downloaded and opened, the printable page; at a
desktop and a phone size. Screenshots: test-artifacts/screenshots/assessment-*.png."""

import io
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from tests.assessment.test_kpi import History, september
from tests.browser.test_admin_browser import SHOTS, live_server  # noqa: F401
from tests.browser.test_loop_browser import DESKTOP, PHONE_SIZE, People, people  # noqa: F401
from tests.factories import World

pytestmark = pytest.mark.browser


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"assessment-{name}.png"), full_page=True)


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_ledger_ranks_drills_down_and_exports(size: str, people: People,  # noqa: F811
                                                  live_server: tuple[str, World],  # noqa: F811
                                                  db_session: Session) -> None:
    from playwright.sync_api import expect

    base, world = live_server
    september(History(db_session, world))
    leader = people.open("county-leader", DESKTOP if size == "desktop" else PHONE_SIZE)
    leader.goto(f"{base}/assessment?period=2026-09")
    rows = leader.locator("table[data-zl-ledger] tbody tr")
    expect(rows.first).to_contain_text("县综合行政执法局")
    expect(rows.first.locator("[data-zl-score]")).to_have_text("63.33")
    expect(rows.nth(1)).to_contain_text("县住房和城乡建设局")
    shot(leader, f"{size}-01-ranking")

    # 按时签收率 of 城管: 2 of 3; its numerator is O1 and O3.
    cell = rows.first.locator("[data-zl-kpi=sign_in_time]")
    expect(cell).to_contain_text("2/3")
    cell.locator("a.zl-rate").click()
    drill = leader.locator("table[data-zl-drill]")
    expect(drill).to_contain_text("GDTESTO1")
    expect(drill).to_contain_text("GDTESTO3")
    expect(drill).not_to_contain_text("GDTESTO2")
    shot(leader, f"{size}-02-drill-down")
    leader.go_back()

    with leader.expect_download() as download:
        leader.click("[data-zl-export]")
    with open(download.value.path(), "rb") as f:
        ws = load_workbook(io.BytesIO(f.read())).active
    assert ws.cell(5, 2).value == "县综合行政执法局" and ws.cell(5, 3).value == 63.33

    leader.goto(f"{base}/assessment?period=2026-09&dimension=town")
    expect(leader.locator("table[data-zl-ledger]")).to_contain_text("甲街道")
    leader.emulate_media(media="print")
    expect(leader.locator("nav.zl-nav")).to_be_hidden()
    shot(leader, f"{size}-03-print")
    assert not people.errors, people.errors
