"""Exports of the order list: the /orders list's filters and scope, Excel and CSV, pages and API."""

import csv
import html
import io
from datetime import datetime

import pytest
from openpyxl import load_workbook

from tests.factories import COMMUNITY_A, COMMUNITY_B, login, page_login
from tests.transfer.history import numbered, row
from zhili.transfer.appeals import import_appeals

CODE, STATUS, TITLE, CREATED, DEADLINE_STATE = "工单编号", "状态", "标题", "登记时间", "期限状态"


@pytest.fixture
def history(world, db_session):  # type: ignore[no-untyped-def]
    """Imported orders in both towns: closed, open and overdue, answered."""
    import_appeals(db_session, numbered([
        row(external_id="A-CLOSED", title="甲一社区路灯不亮"),
        row(external_id="A-OPEN", title="=HYPERLINK(\"http://evil\")", status="accepted", closed_at="",
            due_at="2024-04-01 17:30"),
        row(external_id="A-ANSWERED", title="咨询社保", department_code=""),
        row(external_id="B-CLOSED", title="乙镇一村道路积水", region_code=COMMUNITY_B, department_code="D-townb-PCS"),
    ]), source="旧热线")
    db_session.commit()
    return world


def read_csv(body: bytes) -> list[dict[str, str]]:
    assert body.startswith("\ufeff".encode()), "Excel needs the BOM to read UTF-8"
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def test_csv_export_of_the_page_takes_the_list_filters_and_scope(history, client):
    page_login(client, "towna-viewer")
    r = client.get("/orders/export.csv", params={"status": "closed"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"] and ".csv" in r.headers["content-disposition"]
    rows = read_csv(r.content)
    assert sorted(x[TITLE] for x in rows) == ["咨询社保", "甲一社区路灯不亮"]
    closed = next(x for x in rows if x[TITLE] == "甲一社区路灯不亮")
    assert closed[STATUS] == "已办结" and closed[CREATED] == "2024-03-04 09:00"  # Beijing time
    assert closed["主办部门"] == "甲街道派出所" and closed["区划代码"] == COMMUNITY_A and closed["曾超期"] == "否"

    everything = read_csv(client.get("/orders/export.csv").content)
    assert len(everything) == 4  # three imported and the world's live order, all in town A
    assert not [x for x in everything if "乙镇" in x[TITLE] or "乙镇" in x["事发地"]]
    searched = read_csv(client.get("/orders/export.csv", params={"q": "路灯"}).content)
    assert [x[TITLE] for x in searched] == ["甲一社区路灯不亮", "甲一社区路灯不亮"]


def test_a_cell_a_spreadsheet_would_run_is_written_as_text(history, client):
    page_login(client, "towna-viewer")
    rows = read_csv(client.get("/orders/export.csv", params={"status": "accepted"}).content)
    assert [x[TITLE] for x in rows] == ["'=HYPERLINK(\"http://evil\")"]
    assert rows[0][DEADLINE_STATE] == "超期" and rows[0]["曾超期"] == "是"


def test_the_deadline_colour_filter_of_the_list_applies(history, client):
    page_login(client, "towna-viewer")
    red = read_csv(client.get("/orders/export.csv", params={"colour": "red"}).content)
    assert [x[STATUS] for x in red] == ["处置中"]
    assert read_csv(client.get("/orders/export.csv", params={"colour": "green"}).content) == []


def test_xlsx_export_has_a_title_a_bold_frozen_header_and_local_times(history, client, tmp_path):
    page_login(client, "towna-viewer")
    r = client.get("/orders/export.xlsx", params={"status": "closed", "within": COMMUNITY_A})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxml")
    path = tmp_path / "orders.xlsx"
    path.write_bytes(r.content)
    sheet = load_workbook(path).worksheets[0]
    title = sheet["A1"].value
    assert "甲街道" in title and "状态：已办结" in title and "区域：甲一社区" in title and "导出时间" in title
    header = [c.value for c in sheet[2]]
    assert header[:3] == [CODE, TITLE, STATUS] and sheet["A2"].font.bold
    assert sheet.freeze_panes == "A3"
    assert sheet.column_dimensions["W"].width == 60  # the appeal text gets room
    rows = [dict(zip(header, (c.value for c in r), strict=True)) for r in sheet.iter_rows(min_row=3)]
    assert sorted(x[TITLE] for x in rows) == ["咨询社保", "甲一社区路灯不亮"]
    assert rows[0][CREATED] == datetime(2024, 3, 4, 9, 0) and rows[0]["来源渠道"] == "12345 热线"


def test_the_api_exports_with_the_list_filters_for_its_caller(history, client, tmp_path):
    headers = login(client, "towna-admin")
    r = client.get("/api/v1/work-orders/export", params={"format": "csv", "status": ["closed", "accepted"]},
                   headers=headers)
    assert r.status_code == 200, r.text
    assert len(read_csv(r.content)) == 3
    r = client.get("/api/v1/work-orders/export", headers=headers)
    path = tmp_path / "api.xlsx"
    path.write_bytes(r.content)
    sheet = load_workbook(path).worksheets[0]
    assert sheet.max_row == 2 + 4
    [formula_like] = [c for c in sheet["B"] if str(c.value).startswith("=")]
    assert formula_like.data_type == "s"  # text, not a formula Excel would run
    assert client.get("/api/v1/work-orders/export", params={"format": "pdf"}, headers=headers).status_code == 422
    assert client.get("/api/v1/work-orders/export").status_code == 401


def test_a_department_exports_only_what_it_was_given(history, client):
    page_login(client, "towna-police")
    rows = read_csv(client.get("/orders/export.csv").content)
    assert sorted(x[TITLE] for x in rows) == ["'=HYPERLINK(\"http://evil\")", "甲一社区路灯不亮"]


def test_the_order_list_offers_both_downloads(history, client):
    page_login(client, "towna-viewer")
    page = client.get("/orders")
    assert 'href="/orders/export.xlsx"' in page.text and 'href="/orders/export.csv"' in page.text
    # The links take the list's filters from its filter form when clicked.
    assert "new FormData(document.getElementById('queue-filter'))" in html.unescape(page.text)
