"""The closed-loop pages through the browser's eyes (TestClient with a signed-in session), on both databases."""

import re

import pytest

from tests.factories import COMMUNITY_A, page_login

HX = {"HX-Request": "true"}


def _file(client, token, **extra) -> str:  # type: ignore[no-untyped-def]
    data = {"csrf_token": token, "caller_name": "李四", "caller_phone": "13912345678", "text": "小区门口路灯坏了三天",
            "region_code": COMMUNITY_A, "category_code": "T.SRGL", "urgency": "normal", **extra}
    r = client.post("/hotline", data=data, headers=HX)
    assert r.status_code == 200, r.text
    return r.text


def _order_id(html: str) -> int:
    return int(re.search(r'href="/orders/(\d+)"', html).group(1))  # type: ignore[union-attr]


def _version(client, order_id: int) -> str:  # type: ignore[no-untyped-def]
    page = client.get(f"/orders/{order_id}").text
    return re.search(r'name="expected_version" value="(\d+)"', page).group(1)  # type: ignore[union-attr]


def _act(client, token, order_id, action, expect=200, **data):  # type: ignore[no-untyped-def]
    r = client.post(f"/orders/{order_id}/act/{action}", data={"csrf_token": token, **data}, headers=HX)
    assert r.status_code == expect, f"{action}: {r.status_code} {r.text[:500]}"
    return r


@pytest.mark.parametrize(("user", "page", "expected"), [
    ("county-agent", "/hotline", "登记诉求"),
    ("towna-viewer", "/orders", "工单队列"),
    ("county-handler", "/inbox", "待签收"),
    ("towna-gw", "/grid", "上报巡查发现的问题"),
    ("county-leader", "/orders", "工单队列"),
])
def test_each_role_has_its_start_page_and_menu(user, page, expected, world, client):
    page_login(client, user)
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == page
    r = client.get(page)
    assert r.status_code == 200 and expected in r.text
    assert f'href="{page}"' in r.text  # the work menu offers it


def test_admins_start_at_the_region_tree_and_keep_the_admin_menu(world, client):
    page_login(client, "county-admin")
    assert client.get("/", follow_redirects=False).headers["location"] == "/admin/regions"
    menu = client.get("/admin/regions").text
    assert 'href="/admin/api-keys"' in menu and 'href="/inbox"' not in menu


def test_an_order_of_another_town_is_not_found(world, client):
    page_login(client, "towna-viewer")
    assert client.get(f"/orders/{world.orders['A']}").status_code == 200
    assert client.get(f"/orders/{world.orders['B']}").status_code == 404
    token = page_login(client, "towna-viewer")
    r = client.post(f"/orders/{world.orders['B']}/act/dispatch", data={"csrf_token": token,
                                                                        "department": "D-COUNTY-CG"}, headers=HX)
    assert r.status_code == 404


def test_the_agent_files_from_the_hotline_and_sees_the_tracking_code(world, client):
    token = page_login(client, "county-agent")
    html = _file(client, token)
    code = re.search(r"data-zl-tracking>([A-Z0-9]{10})<", html)
    assert code, html
    assert "县综合行政执法局" in html and "派遣给建议部门" in html  # the category's default department
    order_id = _order_id(html)
    r = _act(client, token, order_id, "dispatch", department="D-COUNTY-CG", back="hotline")
    assert "已派遣" in r.text and r.headers["HX-Trigger"] == "orders-changed"
    assert "待签收" in client.get(f"/orders/{order_id}").text


def test_a_consultation_is_answered_at_once(world, client):
    token = page_login(client, "county-agent")
    order_id = _order_id(_file(client, token, text="请问居住证在哪里办理"))
    _act(client, token, order_id, "answer", answer="到甲街道便民服务中心办理", back="hotline")
    page = client.get(f"/orders/{order_id}").text
    assert "已办结" in page and "到甲街道便民服务中心办理" in page


def test_the_caller_history_shows_earlier_appeals_of_the_number(world, client):
    token = page_login(client, "county-agent")
    _file(client, token)
    r = client.get("/hotline/history", params={"caller_phone": "13912345678"}, headers=HX)
    assert r.status_code == 200 and "小区门口路灯坏了三天" in r.text and "1 条" in r.text
    other = client.get("/hotline/history", params={"phone": "13700000000"}, headers=HX)
    assert "没有以前的诉求" in other.text


def test_the_knowledge_base_finds_closed_orders_of_the_category(world, client):
    token = page_login(client, "county-agent")
    order_id = _order_id(_file(client, token, text="路灯报修怎么处理"))
    _act(client, token, order_id, "answer", answer="已转路灯所，三天内修复", back="hotline")
    r = client.get("/hotline/similar", params={"category_code": "T.SRGL"}, headers=HX)
    assert "已转路灯所，三天内修复" in r.text


def test_invalid_appeal_answers_with_the_problem(world, client):
    token = page_login(client, "county-agent")
    r = client.post("/hotline", data={"csrf_token": token, "text": "x"}, headers=HX)
    assert r.status_code == 422 and "alert-danger" in r.text


def test_a_dispatcher_dispatches_from_the_order_page_and_the_timeline_shows_it(world, client):
    token = page_login(client, "towna-viewer")
    order_id = world.orders["A"]
    page = client.get(f"/orders/{order_id}").text
    assert f'hx-post="/orders/{order_id}/act/dispatch"' in page and "甲一社区路灯不亮" in page
    r = _act(client, token, order_id, "dispatch", department="D-COUNTY-CG", assisting=["D-COUNTY-ZJ"],
             expected_version=_version(client, order_id))
    assert 'id="order-main"' in r.text and "待签收" in r.text
    timeline = r.text.split("办理过程")[1]
    assert "派遣" in timeline and "县派遣员" not in timeline and "甲街道领导" in timeline
    assert "县综合行政执法局" in timeline and "县住房和城乡建设局" in timeline


def test_a_move_without_its_input_says_what_is_missing(world, client):
    token = page_login(client, "towna-viewer")
    r = _act(client, token, world.orders["A"], "cancel", expect=422)
    assert "理由" in r.text


def test_a_stale_page_gets_a_clear_conflict(world, client):
    token = page_login(client, "towna-viewer")
    order_id = world.orders["A"]
    seen = _version(client, order_id)
    _act(client, token, order_id, "dispatch", department="D-COUNTY-CG", expected_version=seen)
    r = _act(client, token, order_id, "recall", expect=409, reason="派错了", expected_version=seen)
    assert "已被他人更新" in r.text and "刷新" in r.text


def test_a_handler_signs_and_reports_from_the_inbox(world, client):
    dispatcher = page_login(client, "towna-viewer")
    _act(client, dispatcher, world.orders["A"], "dispatch", department="D-COUNTY-CG")
    token = page_login(client, "county-handler")
    inbox = client.get("/inbox").text
    assert "甲一社区路灯不亮" in inbox.split("办理中")[0]  # waiting to be signed
    order_id = world.orders["A"]
    r = _act(client, token, order_id, "sign", back="inbox", expected_version=_version(client, order_id))
    assert "已签收" in r.text or "签收" in r.text
    lists = client.get("/inbox", headers=HX).text
    assert f'data-order-id="{order_id}"' in lists.split("办理中")[1].split("协办任务")[0]
    _act(client, token, order_id, "report", back="inbox", report="已更换灯泡")
    assert "待核查" in client.get(f"/orders/{order_id}").text
    assert "甲一社区路灯不亮" not in client.get("/inbox", headers=HX).text


def test_another_department_cannot_sign(world, client):
    dispatcher = page_login(client, "towna-viewer")
    _act(client, dispatcher, world.orders["A"], "dispatch", department="D-COUNTY-CG")
    page_login(client, "county-zj")
    assert client.get(f"/orders/{world.orders['A']}").status_code == 404  # not its department's order


def test_a_grid_worker_verifies_on_site(world, client):
    dispatcher = page_login(client, "towna-viewer")
    order_id = world.orders["A"]
    _act(client, dispatcher, order_id, "dispatch", department="D-COUNTY-CG")
    handler = page_login(client, "county-handler")
    _act(client, handler, order_id, "sign")
    _act(client, handler, order_id, "report", report="已更换灯泡")
    token = page_login(client, "towna-gw")
    page = client.get("/grid").text
    assert f'data-order-id="{order_id}"' in page.split("我上报的待处理问题")[0]
    r = _act(client, token, order_id, "verify_pass", back="grid")
    assert "核查通过" in r.text
    assert "待回访" in client.get(f"/orders/{order_id}").text


def test_a_grid_worker_reports_and_handles_it_itself(world, client):
    token = page_login(client, "towna-gw")
    r = client.post("/grid/report", data={"csrf_token": token, "text": "井盖松动", "lon": "119.52", "lat": "29.25",
                                          "category_code": "T.SRGL"}, headers=HX)
    assert r.status_code == 200 and "已上报" in r.text
    order_id = _order_id(r.text)
    mine = client.get("/grid", headers=HX).text.split("我上报的待处理问题")[1]
    assert f'data-order-id="{order_id}"' in mine
    _act(client, token, order_id, "self_handle", back="grid", report="已现场固定")
    assert "已办结" in client.get(f"/orders/{order_id}").text


def test_bulk_dispatch_reports_each_order(world, client):
    agent = page_login(client, "county-agent")
    first, second = _order_id(_file(client, agent)), _order_id(_file(client, agent))
    token = page_login(client, "towna-viewer")
    queue = client.get("/orders", params={"status": "registered"}).text
    assert f'name="order_ids" value="{first}"' in queue and f'name="order_ids" value="{second}"' in queue
    _act(client, token, first, "cancel", reason="重复")  # one of them is no longer waiting
    r = client.post("/orders/dispatch", data={"csrf_token": token, "department": "D-COUNTY-CG",
                                              "order_ids": [str(first), str(second)]}, headers=HX)
    assert r.status_code == 200
    assert "1 张成功，1 张未派遣" in r.text
    assert "已作废" in r.text  # why the first one was refused
    assert "待签收" in client.get(f"/orders/{second}").text


def test_the_queue_filters_by_tab_and_colour(world, client):
    token = page_login(client, "towna-viewer")
    _act(client, token, world.orders["A"], "dispatch", department="D-COUNTY-CG")
    green = client.get("/orders", params={"colour": "green"}, headers=HX).text
    assert "甲一社区路灯不亮" in green
    assert "甲一社区路灯不亮" not in client.get("/orders", params={"colour": "red"}, headers=HX).text
    assert "甲一社区路灯不亮" not in client.get("/orders", params={"flag": "extension_pending"}, headers=HX).text
    assert "甲一社区路灯不亮" in client.get("/orders", params={"sort": "due", "status": "dispatched"},
                                            headers=HX).text


def test_the_overview_counts(world, client):
    page_login(client, "county-leader")
    page = client.get("/overview").text
    assert 'href="/overview"' in page
    assert "按状态" in page and "各部门在办工单" in page
    assert re.search(r'href="/orders\?status=registered">.*?<b>2</b>', page, re.S)  # both towns' orders


def _in_english(client, username: str) -> str:  # type: ignore[no-untyped-def]
    token = page_login(client, username)
    r = client.post("/locale", data={"csrf_token": token, "lang": "en", "next": "/"}, follow_redirects=False)
    assert r.status_code == 303
    return token


def test_english_pages_say_english(world, client):
    _in_english(client, "towna-viewer")
    page = client.get(f"/orders/{world.orders['A']}").text
    assert '<html lang="en">' in page
    assert "Timeline" in page and "Dispatch" in page and "办理过程" not in page
    queue = client.get("/orders").text
    assert "Work orders" in queue and "Returns to review" in queue


# What the English pages may still show in Chinese: data (names, titles, the caller) and the language button.
CHINESE_DATA = ("甲一社区路灯不亮", "测试诉求", "社会治安", "市容城管", "张三", "中文", "县热线坐席", "群众")


@pytest.mark.parametrize(("user", "url"), [
    ("towna-viewer", "/orders"), ("towna-viewer", "ORDER"), ("towna-viewer", "/overview"),
    ("county-agent", "/hotline"), ("county-handler", "/inbox"), ("towna-gw", "/grid"),
])
def test_english_pages_leave_no_chinese_label(user, url, world, client):
    _in_english(client, user)
    r = client.get(f"/orders/{world.orders['A']}" if url == "ORDER" else url)
    assert r.status_code == 200 and '<html lang="en">' in r.text
    text = r.text
    names = [*(r.name for r in world.regions.values()), *(g.name for g in world.grids.values()),
             *(d.name for d in world.departments.values()), *(s.display_name for s in world.staff.values()),
             *CHINESE_DATA]
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, "")
    left = re.findall(r"[\u4e00-\u9fff][^<>\"]{0,20}", text)
    assert not left, f"{url} still shows Chinese in English: {left[:10]}"
