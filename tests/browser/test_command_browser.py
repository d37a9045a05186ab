"""The live command map (一张图) in a real browser, on a wall screen and on a phone: the county is drawn
with its towns, a click drills down town → community → grid (the trail, the URL and the back button
follow), and an appeal the hotline files in another browser appears on the leader's map, live, as a
marker in its deadline colour, with the panel's figures updated and the order's card one click away.

Screenshots go to test-artifacts/screenshots/command-*.png (gitignored), for a person to look at.
"""

import asyncio
import contextlib
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.test_admin_browser import SHOTS, live_server  # noqa: F401
from tests.browser.test_loop_browser import PHONE_SIZE, People, expect, people  # noqa: F401
from tests.factories import COMMUNITY_A, COUNTY, TOWN_A, TOWN_B, World
from zhili.config import get_settings
from zhili.db import get_sessionmaker
from zhili.notify import live
from zhili.notify.sender import deliver

pytestmark = pytest.mark.browser

WALL = {"width": 1920, "height": 1080}
GRID_1, GRID_2 = COMMUNITY_A + "001", COMMUNITY_A + "002"
SIZES = {"wall": WALL, "phone": PHONE_SIZE}


def shot(page: Any, size: str, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"command-{size}-{name}.png"), full_page=True)


def area(page: Any, code: str) -> None:
    """The map shows `code`: drawn, and the page says so."""
    expect(page.locator("body")).to_have_attribute("data-zl-area", code)
    expect(page.locator("#command-map")).to_have_attribute("data-state", "ready")


def drill(page: Any, code: str) -> None:
    """Click a child's shape on the map (a real click, where a person would tap)."""
    shape = page.locator(f"#command-map path.zl-area-{code}")
    expect(shape).to_have_count(1)
    shape.click()
    area(page, code)


def file_on_the_hotline(agent: Any, text: str, lon: float, lat: float) -> tuple[int, str]:
    agent.fill("#caller-phone", "13911112222")
    agent.fill("#caller-name", "钱七")
    agent.select_option("#appeal-category", "T.SRGL")
    agent.select_option("#appeal-region", COMMUNITY_A)
    agent.fill("#appeal-text", text)
    agent.fill("#hl-lon", f"{lon:.6f}")
    agent.fill("#hl-lat", f"{lat:.6f}")
    agent.click("#hotline-form button[type=submit]")
    link = agent.locator("#hotline-result a.zl-code")
    expect(agent.locator("#appeal-text")).to_have_value("")
    return int(link.get_attribute("href").rsplit("/", 1)[1]), link.inner_text().strip()


@pytest.fixture
def relay(live_server: tuple[str, World]) -> Iterator[None]:  # noqa: F811
    """On PostgreSQL the sender only NOTIFYs; every web process relays the notices into its own bus (the
    lifespan starts that relay, and the test server runs without a lifespan), so start it here."""
    settings = get_settings()
    if settings.is_sqlite:
        yield
        return
    loop = asyncio.new_event_loop()
    task = loop.create_task(live.listen_forever(live.bus, settings.database_url, retry_seconds=0.5))

    def run() -> None:
        with contextlib.suppress(asyncio.CancelledError):
            loop.run_until_complete(task)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield
    loop.call_soon_threadsafe(task.cancel)
    thread.join(timeout=5)


@pytest.mark.parametrize("size", list(SIZES))
def test_the_command_map_drills_down_and_shows_new_appeals_live(
        size: str, people: People, live_server: tuple[str, World], relay: None) -> None:  # noqa: F811
    base = people.base
    leader = people.open("county-leader", SIZES[size])
    leader.goto(f"{base}/command")

    # The county, its two towns as the base layer, the day's figures and both charts.
    area(leader, COUNTY)
    expect(leader.locator(f"#command-map path.zl-area-{TOWN_A}")).to_have_count(1)
    expect(leader.locator(f"#command-map path.zl-area-{TOWN_B}")).to_have_count(1)
    expect(leader.locator("#command-panel [data-zl-trail]")).to_be_hidden()  # nothing above the top
    expect(leader.locator("#command-panel [data-zl-name]")).to_have_text("临溪县")
    expect(leader.locator("[data-zl-kpi=open] .zl-kpi-value")).to_have_text("2")  # one open order per town
    expect(leader.locator("[data-zl-kpi=intake] .zl-kpi-value")).to_have_text("2")
    expect(leader.locator("[data-zl-chart=trend] canvas")).to_have_count(1)
    expect(leader.locator("[data-zl-chart=categories] canvas")).to_have_count(1)
    expect(leader.locator("[data-zl-up]")).to_be_disabled()
    expect(leader.locator("[data-zl-children] tr")).to_have_count(2)
    leader.evaluate("window.zlSamePage = true")  # gone if anything below reloads the page
    shot(leader, size, "01-county")

    # Town → community → grid, by clicking their shapes; the trail and the URL follow.
    drill(leader, TOWN_A)
    expect(leader.locator("[data-zl-trail]")).to_contain_text("临溪县")
    expect(leader.locator("[data-zl-trail] .active")).to_have_text("甲街道")
    expect(leader).to_have_url(re.compile(rf"/command\?code={TOWN_A}$"))
    expect(leader.locator(f"#command-map path.zl-area-{TOWN_B}")).to_have_count(0)
    expect(leader.locator("[data-zl-kpi=open] .zl-kpi-value")).to_have_text("1")
    shot(leader, size, "02-town")

    drill(leader, COMMUNITY_A)
    expect(leader.locator("[data-zl-trail] .active")).to_have_text("甲一社区")
    expect(leader.locator(f"#command-map path.zl-area-{GRID_2}")).to_have_count(1)
    drill(leader, GRID_1)
    expect(leader.locator("[data-zl-trail] .active")).to_have_text("甲一社区第一网格")
    expect(leader.locator("[data-zl-trail]")).to_contain_text("甲一社区")
    expect(leader.locator("#command-map path.zl-area")).to_have_count(0)  # a grid has no children
    expect(leader.locator("[data-zl-children-card]")).to_be_hidden()
    shot(leader, size, "03-grid")

    # Back up: "返回上级", the browser's back button, and the trail.
    leader.click("[data-zl-up]")
    area(leader, COMMUNITY_A)
    leader.go_back()
    area(leader, GRID_1)
    leader.locator("[data-zl-trail] a", has_text="甲街道").click()
    area(leader, TOWN_A)
    leader.reload()  # the URL alone brings the same area back
    area(leader, TOWN_A)
    leader.evaluate("window.zlSamePage = true")
    drill(leader, COMMUNITY_A)
    expect(leader.locator("[data-zl-kpi=intake] .zl-kpi-value")).to_have_text("1")

    # The hotline files an appeal in the community, with a point on its map: the leader's map shows it
    # within a moment, without a reload, and the day's intake counts it.
    expect(leader.locator("body")).to_have_attribute("data-zl-live", "open")
    expect(leader.locator("[data-zl-live-state]")).to_contain_text("实时")
    agent = people.open("county-agent")
    order_id, order_code = file_on_the_hotline(agent, "甲一社区健身广场路灯不亮，晚上很黑", 119.575, 29.25)
    deliver(get_sessionmaker())  # the outbox round the background loop runs in production
    marker = leader.locator(f".zl-order-marker[data-code='{order_code}']")
    expect(marker).to_be_visible()
    expect(marker).to_have_class(re.compile(r"zl-order-(green|yellow|red|none)"))
    expect(leader.locator("[data-zl-kpi=intake] .zl-kpi-value")).to_have_text("2")
    expect(leader.locator("[data-zl-kpi=open] .zl-kpi-value")).to_have_text("2")
    assert leader.evaluate("window.zlSamePage === true"), "the page reloaded"
    shot(leader, size, "04-live-marker")

    # The marker opens the order's card with its timeline and a link to the order page.
    marker.click()
    card = leader.locator("#command-panel [data-zl-order-card]")
    expect(card).to_be_visible()
    expect(card).to_contain_text(order_code)
    expect(card.locator("ol.zl-timeline li")).not_to_have_count(0)
    expect(card.locator("a[data-zl-open-order]")).to_have_attribute("href", f"/orders/{order_id}")
    shot(leader, size, "05-order-card")

    # The other layers draw without errors; the heat layer shows the new appeal's cell.
    layers = leader.locator("[data-zl-layers]")
    if layers.get_attribute("open") is None:  # folded on a phone
        layers.locator("summary").click()
    for name in ("heat", "hot", "workers"):
        layers.locator(f"input[data-zl-layer={name}]").set_checked(True)
    expect(leader.locator("#command-map path.zl-heat-cell")).not_to_have_count(0)
    shot(leader, size, "06-layers")
    assert not people.errors, people.errors
