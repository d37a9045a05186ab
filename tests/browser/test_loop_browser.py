"""The closed loop in a real browser: every person in their own browser context, signed in through /login,
working on their own screen (hotline desk, queue and order page, department inbox, the grid worker's
phone page, the citizen's tracking page).

Screenshots of every step go to test-artifacts/screenshots/loop-*.png (gitignored), for a person to look at.
"""

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx2 as httpx
import pytest

from tests.browser.test_admin_browser import CHROMIUM, SHOTS, _chromium_or_skip, live_server  # noqa: F401
from tests.factories import COMMUNITY_A, PASSWORD, World, login

pytestmark = pytest.mark.browser

PHONE = "13912345678"
DESKTOP = {"width": 1440, "height": 900}
PHONE_SIZE = {"width": 390, "height": 844}


class People:
    """One browser; a fresh context (own cookies, own session) per person."""

    def __init__(self, browser: Any, base: str) -> None:
        self.browser, self.base = browser, base
        self.contexts: list[Any] = []
        self.errors: list[str] = []

    def open(self, username: str | None, viewport: dict[str, int] = DESKTOP) -> Any:
        context = self.browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai",
                                           is_mobile=viewport is PHONE_SIZE, has_touch=viewport is PHONE_SIZE)
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        # Script errors and server failures; 4xx answers are not expected on these paths either.
        page.on("pageerror", lambda exc: self.errors.append(f"{username}: {exc}"))
        page.on("response", lambda r: self.errors.append(f"{username}: {r.status} {r.url}")
                if r.status >= 400 and "/favicon" not in r.url else None)
        if username:
            page.goto(f"{self.base}/login")
            page.fill("#username", username)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(lambda url: "/login" not in url)
        return page


@pytest.fixture
def people(live_server: tuple[str, World]) -> Iterator[People]:  # noqa: F811
    _chromium_or_skip()
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run"])
        crowd = People(browser, live_server[0])
        yield crowd
        for context in crowd.contexts:
            context.close()
        browser.close()


@pytest.fixture
def api(live_server: tuple[str, World]) -> Iterator[httpx.Client]:  # noqa: F811
    """The JSON API of the same live server, for the steps a test only needs as a starting point."""
    with httpx.Client(base_url=live_server[0], timeout=15) as c:
        yield c


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"loop-{name}.png"), full_page=True)


def expect(target: Any) -> Any:
    from playwright.sync_api import expect as pw_expect

    pw_expect.set_options(timeout=10_000)  # a slow CI machine; a passing step returns at once
    return pw_expect(target)


def api_file(api: httpx.Client, phone: str = PHONE, text: str = "小区门口路灯坏了三天") -> dict:
    r = api.post("/api/v1/appeals", headers=login(api, "county-agent"), json={
        "caller_name": "李四", "caller_phone": phone, "text": text, "region_code": COMMUNITY_A,
        "category_code": "T.SRGL"})
    assert r.status_code == 201, r.text
    return r.json()


def api_move(api: httpx.Client, username: str, order_id: int, action: str, **body: Any) -> dict:
    r = api.post(f"/api/v1/work-orders/{order_id}/{action}", json=body, headers=login(api, username))
    assert r.status_code == 200, f"{action}: {r.status_code} {r.text}"
    return r.json()


def timeline(page: Any) -> list[str]:
    """The order page's timeline as its events' actions, in the order shown."""
    classes = page.eval_on_selector_all("#order-main ol.zl-timeline > li", "els => els.map(e => e.className)")
    return [re.search(r"zl-tl-(\w+)", c).group(1) for c in classes]  # type: ignore[union-attr]


def act_on_order(page: Any, action: str, **fields: str) -> None:
    """Open the action's form on the order page (a disclosure, or a bare button), fill it in and send it;
    waits for the order page's body to come back."""
    main = page.locator("#order-main")
    version = main.get_attribute("data-version")
    box = main.locator(f"details.zl-act[data-action={action}]")
    if box.count():
        if box.get_attribute("open") is None:
            box.locator("summary").click()
        for name, value in fields.items():
            control = box.locator(f"[name={name}]")
            if name == "rating":
                box.locator(f"input[name=rating][value='{value}'] + label").click()
            elif control.evaluate("e => e.tagName") == "SELECT":
                control.select_option(value)
            else:
                control.fill(value)
        box.locator("button[type=submit]").click()
    else:
        assert not fields, f"{action} takes no input here"
        main.locator(f"form[hx-post$='/act/{action}'] button[type=submit]").click()
    # The swapped body carries the order's next version.
    expect(page.locator(f"#order-main:not([data-version='{version}'])")).to_be_attached()
    expect(page.locator("#order-main .alert-success")).to_be_visible()


def act_in_row(page: Any, row: Any, flash: str, action: str, done: str, **fields: str) -> None:
    """The same on a list screen (inbox, grid): the form sits in the order's row, the answer in a flash."""
    box = row.locator(f"details.zl-act[data-action={action}]")
    if box.count():
        if box.get_attribute("open") is None:
            box.locator("summary").click()
        for name, value in fields.items():
            box.locator(f"[name={name}]").fill(value)
        box.locator("button[type=submit]").click()
    else:
        row.locator(f"form[hx-post$='/act/{action}'] button[type=submit]").click()
    expect(page.locator(f"{flash} .alert-success")).to_contain_text(done)


def deadline(page: Any) -> datetime:
    text = page.locator("#order-main .zl-dl > div").filter(has_text="当前期限").locator("dd").inner_text()
    found = re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", text)
    assert found, text
    return datetime.strptime(found.group(0), "%Y-%m-%d %H:%M")


def open_from_queue(page: Any, base: str, tab: str, order_id: int, code: str) -> Any:
    """The dispatcher finds the order in the queue under a tab and opens it."""
    page.goto(f"{base}/orders")
    page.locator("ul.zl-tabs a", has_text=tab).click()
    link = page.locator(f"#queue-table a.zl-code[href='/orders/{order_id}']")
    expect(link).to_have_text(code)
    return link


def test_the_whole_loop_with_five_accounts(people: People, api: httpx.Client):
    base = people.base

    # The hotline agent takes the call and files it.
    agent = people.open("county-agent")
    expect(agent).to_have_url(f"{base}/hotline")
    agent.fill("#caller-phone", PHONE)
    expect(agent.locator("#caller-history [data-zl-history-empty]")).to_be_visible()
    agent.fill("#caller-name", "李四")
    agent.select_option("#appeal-category", "T.SRGL")
    agent.select_option("#appeal-region", COMMUNITY_A)
    agent.fill("#appeal-address", "人民路 88 号小区东门")
    agent.fill("#appeal-text", "小区门口路灯坏了三天，晚上很黑")
    shot(agent, "01-hotline-filled")
    agent.click("#hotline-form button[type=submit]")
    tracking = agent.locator("#hotline-result [data-zl-tracking]")
    expect(tracking).to_have_text(re.compile(r"^[A-Z0-9]{10}$"))
    code = tracking.inner_text()
    order_link = agent.locator("#hotline-result a.zl-code")
    order_code = order_link.inner_text()
    order_id = int(order_link.get_attribute("href").rsplit("/", 1)[1])
    expect(agent.locator("#hotline-result")).to_contain_text("县综合行政执法局")  # the suggested department
    expect(agent.locator("#appeal-text")).to_have_value("")  # the form is ready for the next call
    shot(agent, "02-hotline-filed")

    # The town's dispatcher finds it waiting and dispatches it on the order page.
    dispatcher = people.open("towna-viewer")
    open_from_queue(dispatcher, base, "待派遣", order_id, order_code).click()
    expect(dispatcher).to_have_url(f"{base}/orders/{order_id}")
    shot(dispatcher, "03-order-registered")
    act_on_order(dispatcher, "dispatch", department="D-COUNTY-CG")
    expect(dispatcher.locator("#order-main .zl-order-head .zl-status")).to_have_text("待签收")
    shot(dispatcher, "04-order-dispatched")

    # The department's handler signs it, then reports it done, from the inbox.
    handler = people.open("county-handler")
    expect(handler).to_have_url(f"{base}/inbox")
    row = handler.locator(f"#inbox-lists tr[data-order-id='{order_id}']")
    expect(row).to_contain_text(order_code)
    shot(handler, "05-inbox-to-sign")
    act_in_row(handler, row, "#inbox-flash", "sign", "已签收")
    # The lists reload on their own: the order moves to 办理中, where it can be reported.
    report = row.locator("details.zl-act[data-action=report]")
    expect(report).to_be_visible()
    act_in_row(handler, row, "#inbox-flash", "report", "已反馈处置结果", report="已更换灯泡，恢复照明")
    expect(row).to_have_count(0)
    shot(handler, "06-inbox-reported")

    # The grid worker checks it on site, on the phone.
    grid = people.open("towna-gw", PHONE_SIZE)
    expect(grid).to_have_url(f"{base}/grid")
    card = grid.locator(f"#grid-lists .zl-task[data-order-id='{order_id}']")
    expect(card).to_contain_text(order_code)
    shot(grid, "07-grid-to-verify")
    act_in_row(grid, card, "#grid-flash", "verify_pass", "已核查通过")
    expect(card).to_have_count(0)
    shot(grid, "08-grid-verified")

    # The agent calls the citizen back and records the rating on the order page.
    agent.goto(f"{base}/orders/{order_id}")
    expect(agent.locator("#order-main .zl-order-head .zl-status")).to_have_text("待回访")
    act_on_order(agent, "callback", rating="5", comment="修得很快")
    expect(agent.locator("#order-main .zl-order-head .zl-status")).to_have_text("已办结")
    expect(agent.locator("#order-main .zl-dl")).to_contain_text("非常满意")
    assert timeline(agent) == ["register", "dispatch", "sign", "report", "verify_pass", "callback"]
    steps = agent.locator("#order-main ol.zl-timeline > li")
    expect(steps.nth(1)).to_contain_text("县综合行政执法局")
    expect(steps.nth(3)).to_contain_text("已更换灯泡，恢复照明")
    expect(steps.nth(5)).to_contain_text("修得很快")
    expect(agent.locator("#order-main .zl-actions-panel")).to_contain_text("工单已结束")
    shot(agent, "09-order-closed")

    # The citizen, without an account, looks it up with the tracking code and sees it closed.
    citizen = people.open(None, PHONE_SIZE)
    track(citizen, base, code, PHONE[-4:])
    expect(citizen.locator(".zl-card .zl-status")).to_have_text("已办结")
    expect(citizen.locator("ol.zl-timeline > li")).to_have_count(6)
    expect(citizen.locator("input[name=rating]")).to_have_count(0)  # the agent's callback already rated it
    expect(citizen.locator("body")).not_to_contain_text("县综合行政执法局")  # no department names for citizens
    shot(citizen, "10-track-closed")

    # A second order walked to 待回访 (verified) through the API: the citizen rates it on the tracking page,
    # and the rating closes it.
    second = api_file(api, phone="13700001234", text="楼下垃圾桶满了没人清")
    order = second["work_order"]
    api_move(api, "towna-viewer", order["id"], "dispatch", department="D-COUNTY-CG")
    api_move(api, "county-handler", order["id"], "sign")
    api_move(api, "county-handler", order["id"], "report", report="已清运")
    assert api_move(api, "towna-gw", order["id"], "verify_pass")["status"] == "verified"
    track(citizen, base, second["tracking_code"], "1234")
    expect(citizen.locator(".zl-card .zl-status")).to_have_text("已办理完毕，请您评价")
    shot(citizen, "11-track-rate")
    citizen.click("label[for=rating-5]")
    citizen.fill("#comment", "清得很干净")
    citizen.click("form[action='/public/track/rate'] button[type=submit]")
    expect(citizen.locator("body")).to_contain_text("感谢您的评价")
    expect(citizen.locator(".zl-card .zl-status")).to_have_text("已办结")
    shot(citizen, "12-track-rated")
    agent.goto(f"{base}/orders/{order['id']}")
    expect(agent.locator("#order-main .zl-order-head .zl-status")).to_have_text("已办结")
    assert timeline(agent)[-1] == "callback"
    assert not people.errors, people.errors


def track(page: Any, base: str, code: str, phone4: str) -> None:
    page.goto(f"{base}/public/track")
    page.fill("#code", code)
    page.fill("#phone4", phone4)
    page.click("form[action='/public/track'] button[type=submit]")
    expect(page.locator(".zl-card .zl-status")).to_be_visible()


def test_a_return_is_reviewed_and_the_order_re_dispatched(people: People, api: httpx.Client):
    base = people.base
    filed = api_file(api)
    order_id, order_code = filed["work_order"]["id"], filed["work_order"]["code"]
    api_move(api, "towna-viewer", order_id, "dispatch", department="D-COUNTY-CG")

    # The city management bureau says it is not theirs, with a reason.
    handler = people.open("county-handler")
    row = handler.locator(f"#inbox-lists tr[data-order-id='{order_id}']")
    box = row.locator("details.zl-act[data-action=return]")
    box.locator("summary").click()
    box.locator("button[type=submit]").click()  # without a reason the browser asks for one
    assert box.locator("textarea[name=reason]").evaluate("e => !e.validity.valid")
    shot(handler, "20-inbox-return-form")
    act_in_row(handler, row, "#inbox-flash", "return", "已退回", reason="路灯归住建部门管理")
    expect(row).to_have_count(0)
    shot(handler, "21-inbox-returned")

    # The dispatcher reviews it under 待审核退回, accepts the return, and sends it to the other bureau.
    dispatcher = people.open("towna-viewer")
    tab = dispatcher.locator("ul.zl-tabs a", has_text="待审核退回")
    expect(tab.locator(".badge")).to_have_text("1")
    open_from_queue(dispatcher, base, "待审核退回", order_id, order_code)
    shot(dispatcher, "22-queue-returns")
    dispatcher.click(f"#queue-table a.zl-code[href='/orders/{order_id}']")
    expect(dispatcher.locator("#order-main ol.zl-timeline")).to_contain_text("路灯归住建部门管理")
    shot(dispatcher, "23-order-returned")
    act_on_order(dispatcher, "accept_return")
    expect(dispatcher.locator("#order-main .zl-order-head .zl-status")).to_have_text("待派遣")
    act_on_order(dispatcher, "dispatch", department="D-COUNTY-ZJ")
    expect(dispatcher.locator("#order-main .zl-order-head .zl-status")).to_have_text("待签收")
    expect(dispatcher.locator("#order-main .zl-dl")).to_contain_text("县住房和城乡建设局")
    shot(dispatcher, "24-order-redispatched")

    # The housing bureau signs it.
    zj = people.open("county-zj")
    zj_row = zj.locator(f"#inbox-lists tr[data-order-id='{order_id}']")
    expect(zj_row).to_contain_text(order_code)
    act_in_row(zj, zj_row, "#inbox-flash", "sign", "已签收")
    expect(zj_row.locator("details.zl-act[data-action=report]")).to_be_visible()
    shot(zj, "25-inbox-zj-signed")

    dispatcher.reload()
    expect(dispatcher.locator("#order-main .zl-order-head .zl-status")).to_have_text("处置中")
    assert timeline(dispatcher) == ["register", "dispatch", "return", "accept_return", "dispatch", "sign"]
    assignments = dispatcher.locator("#order-main table tbody tr")
    expect(assignments.filter(has_text="县综合行政执法局")).to_contain_text("已退回")
    expect(assignments.filter(has_text="县住房和城乡建设局")).to_contain_text("已签收")
    shot(dispatcher, "26-order-signed-by-zj")
    assert not people.errors, people.errors


def test_an_extension_moves_the_deadline_later(people: People, api: httpx.Client):
    base = people.base
    filed = api_file(api)
    order_id, order_code = filed["work_order"]["id"], filed["work_order"]["code"]
    api_move(api, "towna-viewer", order_id, "dispatch", department="D-COUNTY-CG")

    handler = people.open("county-handler")
    row = handler.locator(f"#inbox-lists tr[data-order-id='{order_id}']")
    act_in_row(handler, row, "#inbox-flash", "sign", "已签收")
    expect(row.locator("details.zl-act[data-action=request_extension]")).to_be_visible()
    act_in_row(handler, row, "#inbox-flash", "request_extension", "已申请延期", reason="需采购灯杆配件，到货要三天")
    expect(row).to_contain_text("延期待审批")
    expect(row.locator("details.zl-act[data-action=request_extension]")).to_have_count(0)  # asked once
    shot(handler, "30-inbox-extension-requested")

    dispatcher = people.open("towna-viewer")
    expect(dispatcher.locator("ul.zl-tabs a", has_text="延期申请").locator(".badge")).to_have_text("1")
    open_from_queue(dispatcher, base, "延期申请", order_id, order_code).click()
    expect(dispatcher.locator("#order-main .zl-order-head")).to_contain_text("延期待审批")
    expect(dispatcher.locator("#order-main ol.zl-timeline")).to_contain_text("需采购灯杆配件")
    before = deadline(dispatcher)
    shot(dispatcher, "31-order-extension-pending")
    act_on_order(dispatcher, "approve_extension", extra="2wd")
    expect(dispatcher.locator("#order-main .zl-order-head")).not_to_contain_text("延期待审批")
    after = deadline(dispatcher)
    assert after > before, (before, after)
    assert timeline(dispatcher) == ["register", "dispatch", "sign", "request_extension", "approve_extension"]
    shot(dispatcher, "32-order-extension-approved")

    # The handler's inbox shows the new deadline and offers the request again.
    handler.reload()
    expect(row).not_to_contain_text("延期待审批")
    expect(row).to_contain_text(after.strftime("%Y-%m-%d %H:%M"))
    shot(handler, "33-inbox-after-extension")
    assert not people.errors, people.errors
