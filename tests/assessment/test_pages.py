"""The ledger as its users meet it: the page ranks and drills down, the Excel report opens, the API
answers, an admin sets the weights and closes a month, bad input gets a message."""

import io

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from tests.assessment.test_kpi import History, history  # noqa: F401
from tests.factories import World, login, page_login


def test_the_page_ranks_and_drills_down(history: History, client: TestClient) -> None:  # noqa: F811
    page_login(client, "county-leader")
    page = client.get("/assessment", params={"period": "2026-09"})
    assert page.status_code == 200, page.text
    text = page.text
    assert text.index("县综合行政执法局") < text.index("县住房和城乡建设局")  # ranked: 63.33 before 0.00
    assert "63.33" in text and "66.7%" in text and "按期结案率" in text
    drill = client.get("/assessment/orders", params={"period": "2026-09", "dimension": "department",
                                                     "key": str(history.w.departments["D-COUNTY-CG"].id),
                                                     "kpi": "sign_in_time", "part": "numerator"})
    assert drill.status_code == 200
    assert "GDTESTO1" in drill.text and "GDTESTO3" in drill.text and "GDTESTO2" not in drill.text
    towns = client.get("/assessment", params={"period": "2026-09", "dimension": "town"})
    assert "甲街道" in towns.text and "首呼解决率" in towns.text


def test_the_excel_report_opens_and_matches_the_page(history: History, client: TestClient) -> None:  # noqa: F811
    page_login(client, "county-leader")
    r = client.get("/assessment/export.xlsx", params={"period": "2026-09"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(r.content)).active
    assert "考评排名" in ws["A1"].value and "2026年9月" in ws["A2"].value
    header = [c.value for c in ws[4]]
    assert header[:3] == ["排名", "部门", "综合得分"]
    first = [c.value for c in ws[5]]
    assert first[:3] == [1, "县综合行政执法局", 63.33]
    assert first[header.index("结案率")] == 2 / 3


def test_the_api_gives_counts_and_rates(history: History, client: TestClient) -> None:  # noqa: F811
    headers = login(client, "county-leader")
    r = client.get("/api/v1/assessment", params={"period": "2026-09", "dimension": "department"}, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    cg = next(row for row in body["rows"] if row["name"] == "县综合行政执法局")
    assert cg["rank"] == 1 and cg["figures"]["rework"] == {"numerator": 1, "denominator": 2, "rate": 0.5}
    assert {k["key"] for k in body["kpis"]} >= {"closure", "satisfaction", "sign_in_time"}
    bad = client.get("/api/v1/assessment", params={"period": "last month"}, headers=headers)
    assert bad.status_code == 422 and "2026-10" in bad.text


def test_admin_weights_and_close_a_month(history: History,  # noqa: F811
                                          client: TestClient, db_session: Session, world: World) -> None:
    token = page_login(client, "county-admin")
    weights = {f"w_{k}": "0" for k in ("closure", "closure_in_time", "handling", "handling_in_time", "rework",
                                         "dispatch_accuracy", "registration_accuracy", "sign_in_time",
                                         "closed_in_time", "first_call", "satisfaction", "repeat")}
    weights["w_satisfaction"] = "1"
    r = client.post("/assessment/weights", data={"csrf_token": token, **weights}, follow_redirects=False)
    assert r.status_code == 303
    page = client.get("/assessment", params={"period": "2026-09"})
    assert "50.00" in page.text  # 城管's satisfaction alone: 1 of 2
    weights["w_satisfaction"] = "abc"
    bad = client.post("/assessment/weights", data={"csrf_token": token, **weights})
    assert bad.status_code == 422 and "满意率" in bad.text
    r = client.post("/assessment/close", data={"csrf_token": token, "period": "2026-09"}, follow_redirects=False)
    assert r.status_code == 303
    assert "已关账" in client.get("/assessment", params={"period": "2026-09"}).text
    again = client.post("/assessment/close", data={"csrf_token": token, "period": "2026-09"})
    assert again.status_code == 409 and "已关账" in again.text


def test_only_admins_change_weights(history: History, client: TestClient) -> None:  # noqa: F811
    token = page_login(client, "county-leader")
    r = client.post("/assessment/weights", data={"csrf_token": token, "w_closure": "5"})
    assert r.status_code == 403
