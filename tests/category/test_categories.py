from sqlalchemy import func, select

from tests.factories import COMMUNITY_A, COMMUNITY_B, COUNTY, TOWN_A, login
from zhili.category.catalog import install
from zhili.models import Category


def test_standard_catalogue_crosses_kinds_and_areas_and_carries_the_standard_limits(world, db_session, client):
    installed = install(db_session, world.regions[COUNTY], demo_rules=True)
    db_session.commit()
    assert db_session.scalar(select(func.count(Category.id))) == installed + 3  # plus the factories' own
    headers = login(client, "towna-viewer")
    leaves = client.get("/api/v1/categories?leaves_only=true&q=投诉&page_size=500", headers=headers).json()
    assert leaves["total"] == 20 and all(c["kind"] == "appeal" and c["leaf"] for c in leaves["items"])

    def handle(code: str, urgency: str = "normal") -> dict:
        detail = client.get(f"/api/v1/categories/{code}", headers=headers).json()
        return next(d for d in detail["deadlines"] if d["stage"] == "handle" and d["urgency"] == urgency)

    # GB/T 30428 events keep their minor-class limits; 12345 leaves inherit their kind's.
    assert handle("E0102")["limit"] == "4wh" and handle("E0102")["label"] == "4 个工作时"
    assert handle("E0104")["limit"] == "5wh"
    assert handle("E0101")["limit"] == "15wd"
    inherited = handle("12345.TS.SRGL")
    assert inherited["limit"] == "5wd" and inherited["inherited_from"] == "12345.TS"
    assert handle("12345.TS.SRGL", "critical")["limit"] == "24h"
    assert client.get("/api/v1/categories/C0101", headers=headers).json()["name"] == "上水井盖"


def test_routing_prefers_the_deepest_region_then_the_deepest_category(world, client):
    admin = login(client, "county-admin")

    def lead(category: str, region: str) -> str | None:
        r = client.get("/api/v1/routing/preview", params={"category_code": category, "region_code": region},
                       headers=admin)
        assert r.status_code == 200, r.text
        body = r.json()
        return body["lead_department"]["code"] if body["lead_department"] else None

    # Each town's own rule for 社会治安 sends it to the town's police station.
    assert lead("T.SHZA", COMMUNITY_A) == "D-A-PCS"
    assert lead("T.SHZA", COMMUNITY_B) == "D-townb-PCS"
    # No rule: the category's default department.
    assert lead("T.SRGL", COMMUNITY_A) == "D-COUNTY-CG"
    # A county rule on the whole tree does not override a town's rule on a deeper category…
    r = client.post("/api/v1/responsibility-rules", headers=admin, json={
        "category_code": "T", "region_code": COUNTY, "lead_department_code": "D-COUNTY-ZJ"})
    assert r.status_code == 201, r.text
    assert lead("T.SHZA", COMMUNITY_A) == "D-A-PCS"
    assert lead("T.SRGL", COMMUNITY_A) == "D-COUNTY-ZJ"  # …but beats a mere default
    # …and a town rule on the root beats the county's rule on a leaf: the town's own list comes first.
    client.post("/api/v1/responsibility-rules", headers=admin, json={
        "category_code": "T.SRGL", "region_code": COUNTY, "lead_department_code": "D-COUNTY-CG",
        "assist_department_codes": ["D-COUNTY-ZJ"]})
    client.post("/api/v1/responsibility-rules", headers=admin, json={
        "category_code": "T", "region_code": TOWN_A, "lead_department_code": "D-A-PCS"})
    assert lead("T.SRGL", COMMUNITY_A) == "D-A-PCS"
    body = client.get("/api/v1/routing/preview", params={"category_code": "T.SRGL", "region_code": COMMUNITY_B},
                      headers=admin).json()
    assert body["lead_department"]["code"] == "D-COUNTY-CG"
    assert [d["code"] for d in body["assist_departments"]] == ["D-COUNTY-ZJ"]
    assert "派单规则" in body["reason"]
    assert {d["stage"] for d in body["deadlines"]} == {"sign", "handle", "verify", "callback"}


def test_rules_are_scoped_and_checked(world, client):
    town_a = login(client, "towna-admin")
    ok = client.post("/api/v1/responsibility-rules", headers=town_a, json={
        "category_code": "T.SRGL", "region_code": TOWN_A, "lead_department_code": "D-A-PCS"})
    assert ok.status_code == 201, ok.text
    again = client.post("/api/v1/responsibility-rules", headers=town_a, json={
        "category_code": "T.SRGL", "region_code": TOWN_A, "lead_department_code": "D-A-PCS"})
    assert again.status_code == 409
    elsewhere = client.post("/api/v1/responsibility-rules", headers=town_a, json={
        "category_code": "T.SRGL", "region_code": "339922101000", "lead_department_code": "D-A-PCS"})
    assert elsewhere.status_code == 403
    foreign_lead = client.post("/api/v1/responsibility-rules", headers=town_a, json={
        "category_code": "T.SHZA", "region_code": COMMUNITY_A, "lead_department_code": "D-townb-PCS"})
    assert foreign_lead.status_code == 422 and "D-townb-PCS" in foreign_lead.text
    listed = client.get("/api/v1/responsibility-rules", headers=town_a).json()["items"]
    assert {r["region_code"] for r in listed} == {TOWN_A}
    rule_id = ok.json()["id"]
    r = client.patch(f"/api/v1/responsibility-rules/{rule_id}", headers=town_a, json={"active": False})
    assert r.status_code == 200 and r.json()["active"] is False


def test_only_top_level_admins_edit_the_category_tree(world, client):
    body = {"code": "T.NEW", "name": "新分类", "kind": "appeal", "parent_code": "T",
            "deadlines": [{"urgency": "urgent", "stage": "handle", "limit": "2wd"}]}
    assert client.post("/api/v1/categories", headers=login(client, "towna-admin"), json=body).status_code == 403
    county = login(client, "county-admin")
    r = client.post("/api/v1/categories", headers=county, json=body)
    assert r.status_code == 201, r.text
    deadlines = {(d["urgency"], d["stage"]): d for d in r.json()["deadlines"]}
    own = deadlines[("urgent", "handle")]
    assert own["limit"] == "2wd" and own["inherited_from"] is None
    assert deadlines[("normal", "handle")]["inherited_from"] == "T"
    bad = client.post("/api/v1/categories", headers=county, json={**body, "code": "T.BAD", "deadlines": [
        {"urgency": "normal", "stage": "handle", "limit": "three days"}]})
    assert bad.status_code == 422 and "4wh" in bad.text
    assert client.post("/api/v1/categories", headers=county, json=body).status_code == 409
    r = client.patch("/api/v1/categories/T.NEW", headers=county, json={"default_department_code": "D-COUNTY-CG"})
    assert r.json()["default_department"]["code"] == "D-COUNTY-CG"
