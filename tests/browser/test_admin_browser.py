"""The admin pages in a real browser: Debian's Chromium driven by Playwright against a live server.

Screenshots of every step go to test-artifacts/screenshots/ (gitignored), for a person to look at.
"""

import json
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from shapely.geometry import box
from sqlalchemy.orm import Session

from tests.factories import COMMUNITY_A, PASSWORD, TOWN_A, World, build_world
from zhili.kit import geo
from zhili.models import Region

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
# A second community of town A with room for new grids (the seeded ones cover their communities).
NEW_COMMUNITY = "339922001002"
NEW_BOUNDS = (119.6, 29.2, 119.7, 29.3)


def _chromium_or_skip() -> None:
    if shutil.which(CHROMIUM) or Path(CHROMIUM).exists():
        return
    reason = f"{CHROMIUM} is missing: install it with `apt-get install chromium fonts-wqy-microhei`"
    if os.environ.get("CI") == "true":
        pytest.fail(reason + " (CI=true: the browser tests must run)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live_server(app, db_session: Session) -> Iterator[tuple[str, World]]:  # type: ignore[no-untyped-def]
    import uvicorn

    world = build_world(db_session)
    geom = box(*NEW_BOUNDS)
    db_session.add(Region(code=NEW_COMMUNITY, name="甲二社区", level="village", parent=world.regions[TOWN_A],
                          boundary=geo.dumps(geom), min_lon=NEW_BOUNDS[0], min_lat=NEW_BOUNDS[1],
                          max_lon=NEW_BOUNDS[2], max_lat=NEW_BOUNDS[3]))
    db_session.commit()

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", world
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser_page(live_server: tuple[str, World]):  # type: ignore[no-untyped-def]
    _chromium_or_skip()
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run"])
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN",
                                      timezone_id="Asia/Shanghai")
        page = context.new_page()
        page.set_default_timeout(15_000)
        errors: list[str] = []
        # Script errors and server failures; 4xx answers are part of the tests (a refused import is 422).
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 500 else None)
        yield page, live_server[0], errors
        context.close()
        browser.close()


def sign_in(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    # Each role lands on its own start page; these tests then work on the admin pages.
    page.wait_for_url(lambda url: "/login" not in url)
    if not page.url.startswith(f"{base}/admin/regions"):
        page.goto(f"{base}/admin/regions")


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def feature(code: str, name: str, bounds: tuple[float, float, float, float], kind: str = "basic") -> dict:
    w, s, e, n = bounds
    return {"type": "Feature", "properties": {"code": code, "name": name, "kind": kind},
            "geometry": {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}}


def grid_paths(page) -> int:  # type: ignore[no-untyped-def]
    return int(page.eval_on_selector_all("#zl-grid-map path.zl-grid", "els => els.length"))


def upload(page, path: Path) -> None:  # type: ignore[no-untyped-def]
    form = page.locator('form[hx-post="/admin/grids/import"]')
    form.locator("input[type=file]").set_input_files(str(path))
    form.locator("button[type=submit]").click()


def test_grid_import_from_the_map_page(browser_page, tmp_path: Path):  # type: ignore[no-untyped-def]
    page, base, errors = browser_page
    sign_in(page, base, "county-admin")
    page.goto(f"{base}/admin/grids")
    page.wait_for_selector("#zl-grid-map[data-state=ready]")
    before = grid_paths(page)
    assert before == 3  # both towns' grids, drawn over the region outlines
    assert page.eval_on_selector_all("#zl-grid-map path.zl-region", "els => els.length") >= 5
    shot(page, "01-grids-county")

    first, second = NEW_COMMUNITY + "001", NEW_COMMUNITY + "002"
    good = [feature(first, "甲二社区第一网格", (119.6, 29.2, 119.65, 29.3)),
            feature(second, "甲二社区第二网格", (119.65, 29.2, 119.7, 29.3), kind="special")]
    # Latitude and longitude swapped: the third feature lies nowhere in China.
    bad_file = tmp_path / "grids-bad.geojson"
    bad_file.write_text(json.dumps({"type": "FeatureCollection", "features": [
        *good, feature(NEW_COMMUNITY + "003", "颠倒的网格", (29.2, 119.6, 29.3, 119.7))]}, ensure_ascii=False))
    upload(page, bad_file)
    report = page.wait_for_selector("#grid-import-result [data-zl-import=rejected]")
    text = report.inner_text()
    assert "未导入任何数据" in text
    rows = page.eval_on_selector_all("#grid-import-result tbody tr",
                                     "trs => trs.map(tr => [...tr.cells].map(td => td.innerText.trim()))")
    assert rows and rows[0][0] == "3" and "boundary" in rows[0][1], rows
    assert "中国" in rows[0][2] or "经度" in rows[0][2], rows
    assert grid_paths(page) == before
    assert "甲二社区第一网格" not in page.inner_text("#grid-table")
    shot(page, "02-grids-import-rejected")

    good_file = tmp_path / "grids-good.geojson"
    good_file.write_text(json.dumps({"type": "FeatureCollection", "features": good}, ensure_ascii=False))
    upload(page, good_file)
    page.wait_for_selector("#grid-import-result [data-zl-import=imported]")
    assert "新建 2 条" in page.inner_text("#grid-import-result")
    page.wait_for_function("document.querySelectorAll('#zl-grid-map path.zl-grid').length === 5")
    assert page.eval_on_selector_all("#zl-grid-map path.zl-grid-special", "els => els.length") == 1
    page.wait_for_selector(f'#grid-table tr[data-grid-code="{first}"]')
    shot(page, "03-grids-import-done")

    # A row of the table finds its grid on the map.
    page.click(f'#grid-table tr[data-grid-code="{second}"] td:nth-child(2)')
    popup = page.wait_for_selector(".leaflet-popup-content")
    assert "甲二社区第二网格" in popup.inner_text() and second in popup.inner_text()
    shot(page, "04-grids-row-zoomed")

    page.goto(f"{base}/admin/grids/{second}")
    page.wait_for_selector("[data-zl-map][data-state=ready]")
    shot(page, "05-grid-detail")
    assert not errors, errors


PAGES = {
    "regions": "/admin/regions",
    "department": "/admin/departments/{department}",
    "staff-member": "/admin/staff/{staff}",
    "regions-town": f"/admin/regions?code={TOWN_A}",
    "grids-town": f"/admin/grids?within={TOWN_A}",
    "grid": f"/admin/grids/{COMMUNITY_A}001",
    "departments": "/admin/departments",
    "staff": "/admin/staff",
    "api-keys": "/admin/api-keys",
    "audit": "/admin/audit",
}


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_every_admin_page_in_both_languages(browser_page, live_server, lang):  # type: ignore[no-untyped-def]
    page, base, errors = browser_page
    world = live_server[1]
    ids = {"department": world.departments["D-A-PCS"].id, "staff": world.staff["towna-gw"].id}
    sign_in(page, base, "county-admin")
    if lang == "en":
        page.click("nav form[action='/locale'] button")
        page.wait_for_selector("html[lang=en]")
    for name, url in PAGES.items():
        page.goto(base + url.format(**ids))
        if page.locator("[data-zl-map]").count():
            page.wait_for_selector("[data-zl-map][data-state=ready]")
        assert page.locator("main").inner_text().strip(), name
        shot(page, f"10-{name}-{lang}")
    # The forms that open on demand, and what they say about bad input.
    page.goto(base + "/admin/staff")
    page.click("button[data-bs-target='#staff-create']")
    page.wait_for_selector("#staff-create.show")
    page.fill("#staff-username", "new.person")
    page.fill("#staff-name", "新同事")
    page.fill("#staff-password", "weakpass")
    page.click("#staff-create button[type=submit]")
    page.wait_for_selector("#staff-create-result .alert-danger")
    assert page.locator("#staff-password.is-invalid").count() == 1
    shot(page, f"11-staff-create-invalid-{lang}")
    page.goto(base + "/admin/api-keys")
    page.fill("#key-name", "12345 平台")
    page.click("form[hx-post='/admin/api-keys'] button[type=submit]")
    page.wait_for_selector("[data-zl-new-key]")
    assert page.input_value("#new-api-key").startswith("zk_")
    page.wait_for_selector("#api-key-table >> text=12345 平台")
    shot(page, f"12-api-key-created-{lang}")
    assert not errors, errors


def test_regions_live_search_create_and_rename(browser_page):  # type: ignore[no-untyped-def]
    page, base, errors = browser_page
    sign_in(page, base, "towna-admin")
    page.fill("#region-search input[name=q]", "甲二")
    page.wait_for_function("!document.querySelector('#region-table').innerText.includes('甲一社区')")
    assert "甲二社区" in page.inner_text("#region-table")
    assert "q=" in page.url  # the filter is in the address, so a reload or a shared link keeps it
    page.fill("#region-search input[name=q]", "")
    page.wait_for_function("document.querySelector('#region-table').innerText.includes('甲一社区')")

    page.fill("#region-code", "339922001450")
    page.fill("#region-name", "越界社区")
    page.click("form[hx-post='/admin/regions'] button[type=submit]")
    page.wait_for_selector("#region-create-result .alert-danger")
    assert "450" in page.inner_text("#region-create-result")
    assert page.locator("#region-code.is-invalid").count() == 1
    shot(page, "20-region-create-invalid")
    page.fill("#region-code", "339922001003")
    page.fill("#region-name", "甲三社区")
    page.click("form[hx-post='/admin/regions'] button[type=submit]")
    page.wait_for_selector("#region-create-result .alert-success")
    page.wait_for_selector("#region-table >> text=甲三社区")
    assert page.input_value("#region-code") == ""  # the form is ready for the next one
    assert "下级区划 3" in page.inner_text("#region-facts")

    row = page.locator("#region-339922001003")
    row.locator("button", has_text="改名").click()
    page.fill("#region-339922001003 input[name=name]", "甲三新社区")
    shot(page, "21-region-rename")
    page.click("#region-339922001003 button[type=submit]")
    page.wait_for_selector("#region-339922001003 >> text=甲三新社区")
    assert page.locator("#region-339922001003 input").count() == 0
    shot(page, "22-regions-after-rename")
    assert not errors, errors


def test_a_viewer_sees_read_only_pages(browser_page):  # type: ignore[no-untyped-def]
    page, base, errors = browser_page
    sign_in(page, base, "towna-viewer")
    assert page.locator("form[hx-post='/admin/regions']").count() == 0
    assert page.locator("nav >> text=API 密钥").count() == 0
    shot(page, "30-viewer-regions")
    page.goto(f"{base}/admin/grids")
    page.wait_for_selector("#zl-grid-map[data-state=ready]")
    assert page.locator("form[hx-post='/admin/grids/import']").count() == 0
    shot(page, "31-viewer-grids")
    page.goto(f"{base}/admin/grids/{COMMUNITY_A}001")
    assert page.locator("fieldset[disabled]").count() == 1
    shot(page, "32-viewer-grid")
    assert not errors, errors
