"""Smart dispatch inside the platform, on both databases: the classifier trained on a slice of the real
teddy2020c messages under the test world's categories, its proposals at filing, the auto-dispatch, the
dispatcher's top three and correction, the retrain that learns the correction, and repeat callers."""

import csv
import re
from collections import Counter

import pytest
from sqlalchemy import func, select

from tests.dispatch.corpus import BUS, DATA, require_data, train_on_slice
from tests.factories import COMMUNITY_A, TOWN_A, page_login
from zhili.config import get_settings
from zhili.db import get_sessionmaker
from zhili.dispatch import service
from zhili.models import (
    Appeal,
    ClassifierExample,
    ClassifierModel,
    ExampleSource,
    OrderEvent,
    Proposal,
    WorkOrder,
)

HX = {"HX-Request": "true"}


@pytest.fixture
def trained(world, db_session):  # type: ignore[no-untyped-def]
    done = train_on_slice(db_session, world)
    assert done.version == 1
    return done


def _file(client, token, text: str, **extra) -> int:  # type: ignore[no-untyped-def]
    data = {"csrf_token": token, "caller_name": "王五", "caller_phone": "13900001111", "text": text,
            "region_code": COMMUNITY_A, "urgency": "normal", **extra}
    r = client.post("/hotline", data=data, headers=HX)
    assert r.status_code == 200, r.text
    return int(re.search(r'href="/orders/(\d+)"', r.text).group(1))  # type: ignore[union-attr]


def _move(client, token, db_session, order_id: int, action: str, **data: str) -> None:  # type: ignore[no-untyped-def]
    version = str(db_session.scalar(select(WorkOrder.version).where(WorkOrder.id == order_id)))
    r = client.post(f"/orders/{order_id}/act/{action}", headers=HX,
                    data={"csrf_token": token, "expected_version": version, **data})
    assert r.status_code == 200, r.text[:300]
    db_session.expire_all()


def test_a_sure_proposal_is_dispatched_by_the_rules_at_once(trained, client, db_session, monkeypatch):
    monkeypatch.setattr(get_settings(), "auto_dispatch_threshold", 0.5)
    token = page_login(client, "county-agent")
    order_id = _file(client, token, BUS)
    order = db_session.get(WorkOrder, order_id)
    proposal = db_session.get(Proposal, order_id)
    assert proposal is not None and proposal.top_code == "T.JTYS" and proposal.automatic
    assert proposal.confidence >= 0.5 and len(proposal.choices) == 3
    assert order.category.code == "T.JTYS" and order.status == "dispatched"
    assert [a.department.code for a in order.assignments] == ["D-COUNTY-ZJ"]  # the category's default department
    event = db_session.scalars(select(OrderEvent).where(OrderEvent.work_order_id == order_id,
                                                        OrderEvent.action == "dispatch")).one()
    assert event.actor_name == "智能派单" and event.data["automatic"] is True
    assert order.due_at is not None  # the sign clock runs


def test_an_unsure_proposal_waits_and_the_dispatchers_correction_is_learnt(trained, client, db_session,
                                                                            monkeypatch):
    monkeypatch.setattr(get_settings(), "auto_dispatch_threshold", 1.0)  # nothing is sure enough
    token = page_login(client, "county-agent")
    order_id = _file(client, token, BUS)
    order = db_session.get(WorkOrder, order_id)
    assert order.status == "registered" and order.category is None
    proposal = db_session.get(Proposal, order_id)
    assert proposal is not None and proposal.top_code == "T.JTYS" and not proposal.automatic

    token = page_login(client, "county-dispatcher")
    page = client.get(f"/orders/{order_id}").text
    assert "智能分派" in page and page.count("data-zl-choice=") == 3 and "按此派遣" in page
    # The dispatcher knows better: this one belongs to 市容城管 (the county's city management).
    version = re.search(r'name="expected_version" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
    r = client.post(f"/orders/{order_id}/act/dispatch", headers=HX, data={
        "csrf_token": token, "expected_version": version, "category": "T.SRGL", "department": "D-COUNTY-CG"})
    assert r.status_code == 200, r.text[:500]
    db_session.expire_all()
    order = db_session.get(WorkOrder, order_id)
    proposal = db_session.get(Proposal, order_id)
    assert order.status == "dispatched" and order.category.code == "T.SRGL"
    assert proposal.decided_code == "T.SRGL" and proposal.accepted is False
    correction = db_session.scalars(select(ClassifierExample).where(
        ClassifierExample.source == ExampleSource.correction)).one()
    assert correction.category_code == "T.SRGL" and correction.work_order_id == order_id

    # Recalled and dispatched again under the first proposal: the order's one example follows the decision.
    _move(client, token, db_session, order_id, "recall", reason="派错了")
    _move(client, token, db_session, order_id, "dispatch", category="T.JTYS", department="D-COUNTY-ZJ")
    examples = db_session.scalars(select(ClassifierExample).where(ClassifierExample.work_order_id == order_id)).all()
    assert [(e.category_code, e.source) for e in examples] == [("T.JTYS", ExampleSource.confirmed)]
    assert db_session.get(Proposal, order_id).accepted is True
    # Back to the correction the admin page counts below.
    _move(client, token, db_session, order_id, "recall", reason="还是城管")
    _move(client, token, db_session, order_id, "dispatch", category="T.SRGL", department="D-COUNTY-CG")

    # The admin page counts it; the scheduled retrain is due (new examples, the model is old enough).
    page_login(client, "county-admin")
    admin = client.get("/admin/classifier").text
    assert "各分类建议采纳率" in admin and "0%" in admin
    with get_sessionmaker()() as session:
        assert service.retrain_due(session, hours=0)
        assert not service.retrain_due(session, hours=24)
    assert service.scheduled_retrain(get_sessionmaker()) == {}  # the schedule: the model is younger than a day
    done = service.retrain(get_sessionmaker())
    assert done is not None and done.version == 2 and done.corrections == 1
    with get_sessionmaker()() as session:
        active = session.scalars(select(ClassifierModel).where(ClassifierModel.active)).all()
        assert [m.version for m in active] == [2]
        assert service.serving(session)[0] == 2  # type: ignore[index]  # this process swapped without a restart


def test_an_order_filed_with_a_category_gets_no_proposal(trained, client, db_session):
    token = page_login(client, "county-agent")
    order_id = _file(client, token, BUS, category_code="T.SRGL")
    assert db_session.get(Proposal, order_id) is None
    assert db_session.scalar(select(func.count()).select_from(Proposal)) == 0


def test_without_a_model_nothing_is_proposed(world, client, db_session):
    token = page_login(client, "county-agent")
    order_id = _file(client, token, BUS)
    assert db_session.get(Proposal, order_id) is None
    assert db_session.get(WorkOrder, order_id).status == "registered"


def _busiest_writer() -> list[str]:
    """The real messages of the person who wrote most often in unlabeled_messages.csv."""
    require_data()
    with (DATA / "unlabeled_messages.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    user, _n = Counter(r["user"] for r in rows).most_common(1)[0]
    return [f"{r['subject']}。{r['detail']}"[:2000] for r in rows if r["user"] == user]


def test_a_caller_who_rings_again_and_again_is_flagged(world, client):
    token = page_login(client, "county-agent")
    texts = _busiest_writer()[:3]  # one real person's messages, filed by one phone
    order_ids = [_file(client, token, t, category_code="T.SRGL", caller_phone="13700007777") for t in texts]
    history = client.get("/hotline/history", params={"phone": "13700007777"}, headers=HX).text
    assert "重复来电" in history and "来电 3 次" in history
    assert "重复来电" not in client.get("/hotline/history", params={"phone": "13800138000"}, headers=HX).text

    page_login(client, "county-dispatcher")
    assert "data-zl-repeat" in client.get(f"/orders/{order_ids[-1]}").text
    report = client.get("/reports/repeat-callers").text
    assert "13700007777" in report and "13800138000" not in report  # once is not a repeat
    # Another town does not see this town's callers; a department handler has no such report.
    page_login(client, "townb-admin")
    assert "13700007777" not in client.get("/reports/repeat-callers").text
    page_login(client, "townb-police")
    assert client.get("/reports/repeat-callers").status_code == 403


def test_a_place_named_in_the_text_puts_an_order_without_a_point_on_the_map(world, client, db_session):
    token = page_login(client, "county-agent")
    order_id = _file(client, token, "甲一社区第二网格菜市场门口下水道堵塞，污水漫到路面", category_code="T.SRGL",
                     region_code=TOWN_A)
    order = db_session.get(WorkOrder, order_id)
    assert order.grid is not None and order.grid.code == COMMUNITY_A + "002"
    assert order.place_code == COMMUNITY_A and order.lon is not None
    assert order.region_code == TOWN_A  # still on the town's desk


def test_a_probable_duplicate_is_suggested_and_merged_in_one_click(world, client, db_session):
    token = page_login(client, "county-agent")
    first = _file(client, token, "甲一社区菜市场门口下水道堵塞，污水漫到路面，气味很大", category_code="T.SRGL",
                  caller_phone="13600001111")
    other = _file(client, token, "甲一社区幼儿园门口的路灯不亮已经一周了", category_code="T.SRGL",
                  caller_phone="13600002222")
    second = _file(client, token, "菜市场门口下水道又堵了，污水流到马路上，臭气熏天", category_code="T.SRGL",
                   caller_phone="13600003333")
    token = page_login(client, "county-dispatcher")
    page = client.get(f"/orders/{second}").text
    first_code = db_session.get(WorkOrder, first).code
    other_code = db_session.get(WorkOrder, other).code
    assert "疑似重复工单" in page and f'data-zl-duplicate="{first_code}"' in page
    assert f'data-zl-duplicate="{other_code}"' not in page
    version = re.search(r'name="expected_version" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
    r = client.post(f"/orders/{second}/act/merge", headers=HX,
                    data={"csrf_token": token, "expected_version": version, "target": first_code})
    assert r.status_code == 200, r.text[:300]
    db_session.expire_all()
    assert db_session.get(WorkOrder, second).status == "cancelled"
    assert len(db_session.get(WorkOrder, first).appeals) == 2


def test_hot_issues_of_the_week_become_a_supervised_task(world, client, db_session):
    token = page_login(client, "county-agent")
    complaints = ["甲一社区锦绣花园小区旁工地夜间施工噪音扰民，凌晨还在打桩",
                  "锦绣花园小区旁边的工地晚上施工噪音太大，严重影响休息",
                  "投诉锦绣花园旁工地夜间施工扰民，打桩声音很大睡不着"]
    for i, text in enumerate(complaints):
        _file(client, token, text, category_code="T.SRGL", caller_phone=f"1350000000{i}")
    _file(client, token, "甲一社区幼儿园门口的垃圾桶满了没人清理", category_code="T.SRGL", caller_phone="13500009999")
    page_login(client, "county-leader")
    page = client.get("/hot-issues").text
    assert "热点问题" in page and page.count("data-zl-hot=") == 1 and "锦绣花园" in page
    appeal_ids = re.findall(r'name="appeal_ids" value="(\d+)"', page)
    assert len(appeal_ids) == 3
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    label = re.search(r'name="label" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    r = client.post("/hot-issues/task", data={"csrf_token": token, "label": label, "appeal_ids": appeal_ids},
                    follow_redirects=False)
    assert r.status_code == 303, r.text[:300]
    task_id = int(r.headers["location"].rsplit("=", 1)[1])
    task = db_session.get(WorkOrder, task_id)
    assert task.status == "dispatched" and task.title.startswith("热点问题：")
    assert [a.department.code for a in task.assignments] == ["D-COUNTY-CG"]  # 市容城管's department
    actions = [e.action for e in db_session.scalars(select(OrderEvent).where(OrderEvent.work_order_id == task_id))]
    assert actions == ["register", "dispatch", "supervise"]
    assert "已转督办任务" in client.get("/hot-issues").text
    again = client.post("/hot-issues/task", data={"csrf_token": token, "label": label, "appeal_ids": appeal_ids})
    assert again.status_code == 409  # one task per hot issue
    token = page_login(client, "county-dispatcher")  # a dispatcher reads hot issues but does not open tasks
    assert "转为督办任务" not in client.get("/hot-issues").text
    others = [str(i) for i in db_session.scalars(select(Appeal.id)) if str(i) not in appeal_ids][:2]
    refused = client.post("/hot-issues/task", data={"csrf_token": token, "label": "另一个", "appeal_ids": others})
    assert refused.status_code == 403  # supervision is a command leader's
    assert db_session.scalar(select(func.count()).select_from(WorkOrder).where(
        WorkOrder.title.startswith("热点问题"))) == 1  # the refused one left nothing behind


def test_the_hotline_form_suggests_categories_as_the_agent_types(trained, client):
    page_login(client, "county-agent")
    html = client.get("/hotline/suggest", params={"text": BUS}, headers=HX).text
    assert html.count("data-zl-pick=") == 3 and 'data-zl-pick="T.JTYS"' in html
    assert "data-zl-pick" not in client.get("/hotline/suggest", params={"text": "你好"}, headers=HX).text
