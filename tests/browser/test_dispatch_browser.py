"""Smart dispatch in a real browser: an appeal filed without a category is dispatched automatically;
another gets the top three and the dispatcher's correction is recorded; a probable duplicate is
suggested and merged in one click; the hot-issue page shows the week's issue and makes it a task.

Screenshots go to test-artifacts/screenshots/dispatch-*.png (gitignored), for a person to look at.
"""

import re
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.browser.test_admin_browser import SHOTS, live_server  # noqa: F401
from tests.browser.test_loop_browser import People, people  # noqa: F401
from tests.dispatch.corpus import BUS, train_on_slice
from tests.factories import COMMUNITY_A, World
from zhili.config import get_settings
from zhili.models import ClassifierExample, ExampleSource, Proposal, WorkOrder

pytestmark = pytest.mark.browser

UNSURE = "我想反映一个问题，麻烦帮忙转给相关部门"
NOISE = ["甲一社区锦绣花园小区旁工地夜间施工噪音扰民，凌晨还在打桩",
         "锦绣花园小区旁边的工地晚上施工噪音太大，严重影响休息",
         "投诉锦绣花园旁工地夜间施工扰民，打桩声音很大睡不着"]


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"dispatch-{name}.png"), full_page=True)


def _file(agent: Any, phone: str, text: str, category: str = "") -> int:
    agent.fill("#caller-phone", phone)
    agent.fill("#caller-name", "赵六")
    agent.select_option("#appeal-category", category or [])
    agent.select_option("#appeal-region", COMMUNITY_A)
    agent.fill("#appeal-text", text)
    agent.click("#hotline-form button[type=submit]")
    link = agent.locator("#hotline-result a.zl-code")
    from playwright.sync_api import expect

    expect(agent.locator("#appeal-text")).to_have_value("")
    return int(link.get_attribute("href").rsplit("/", 1)[1])


def test_smart_dispatch_end_to_end(people: People, live_server: tuple[str, World],  # noqa: F811
                                   db_session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    from playwright.sync_api import expect

    base, world = live_server
    train_on_slice(db_session, world)
    monkeypatch.setattr(get_settings(), "auto_dispatch_threshold", 0.9)

    # The agent files two calls without choosing a category: a clear one and a vague one.
    agent = people.open("county-agent")
    sure_id = _file(agent, "13911110001", BUS)
    expect(agent.locator("#hotline-result")).to_contain_text("县住房和城乡建设局")
    unsure_id = _file(agent, "13911110002", UNSURE)
    shot(agent, "01-filed")
    db_session.expire_all()
    assert db_session.get(WorkOrder, sure_id).status == "dispatched"  # auto-dispatched by the rules
    assert db_session.get(WorkOrder, unsure_id).status == "registered"

    dispatcher = people.open("county-dispatcher")
    dispatcher.goto(f"{base}/orders/{sure_id}")
    expect(dispatcher.locator("[data-zl-auto]")).to_contain_text("自动派遣")
    expect(dispatcher.locator("ol.zl-timeline")).to_contain_text("智能派单")
    shot(dispatcher, "02-auto-dispatched")

    # The vague one waits with the top three; the dispatcher picks the second (a correction).
    dispatcher.goto(f"{base}/orders/{unsure_id}")
    choices = dispatcher.locator(".zl-choice")
    expect(choices).to_have_count(3)
    shot(dispatcher, "03-top-three")
    second = choices.nth(1)
    chosen = second.get_attribute("data-zl-choice")
    second.locator("button[type=submit]").click()
    expect(dispatcher.locator("#order-main .zl-order-head .zl-status")).to_have_text("待签收")
    shot(dispatcher, "04-corrected")
    db_session.expire_all()
    proposal = db_session.get(Proposal, unsure_id)
    assert proposal.decided_code == chosen and proposal.accepted is False
    assert db_session.scalars(select(ClassifierExample).where(
        ClassifierExample.source == ExampleSource.correction)).one().work_order_id == unsure_id

    # Three neighbours call about the same building site: a duplicate is suggested and merged.
    ids = [_file(agent, f"1391111002{i}", text, "T.SRGL") for i, text in enumerate(NOISE)]
    dispatcher.goto(f"{base}/orders/{ids[-1]}")
    duplicate = dispatcher.locator(".zl-dup").first
    expect(duplicate).to_be_visible()
    shot(dispatcher, "05-duplicate")
    target = duplicate.get_attribute("data-zl-duplicate")
    duplicate.locator("button[type=submit]").click()
    expect(dispatcher.locator("#order-main .zl-order-head .zl-status")).to_have_text("已作废")
    expect(dispatcher.locator("#order-main .zl-order-head")).to_contain_text(f"已合并到 {target}")

    # The leader sees the week's hot issue and makes it a supervised task in one click.
    leader = people.open("county-leader")
    leader.goto(f"{base}/hot-issues")
    hot = leader.locator("[data-zl-hot]").filter(has_text="锦绣花园")
    expect(hot).to_have_count(1)
    shot(leader, "06-hot-issues")
    hot.locator("button[type=submit]").click()
    expect(leader.locator(".alert-success")).to_contain_text("已转为督办任务")
    expect(leader.locator("[data-zl-hot]").filter(has_text="锦绣花园")).to_contain_text("已转督办任务")
    leader.locator(".alert-success a").click()
    expect(leader.locator("#order-main")).to_contain_text("热点问题：")
    expect(leader.locator("ol.zl-timeline")).to_contain_text("督办")
    shot(leader, "07-task")

    admin = people.open("county-admin")
    admin.goto(f"{base}/admin/classifier")
    expect(admin.locator("[data-zl-acceptance]")).to_be_visible()
    shot(admin, "08-classifier-admin")
    assert not people.errors, people.errors
    assert re.match(r"^12345|^T\.", chosen or "")
