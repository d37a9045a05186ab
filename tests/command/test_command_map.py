"""The command map's reads: an area with its children and their load, the side panel's figures, the
layers (orders, clusters, density, workers), scoping, and the GCJ-02 edge."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import COMMUNITY_A, COUNTY, TOWN_A, TOWN_B, World, page_login
from zhili.command import service
from zhili.config import get_settings
from zhili.kit import geo
from zhili.models import WorkOrder
from zhili.work_order.schemas import AppealCreate
from zhili.work_order.service import file_appeal

GRID_A1 = COMMUNITY_A + "001"


@pytest.fixture
def points(db_session: Session, world: World) -> list[int]:
    """Three appeals with map points in 甲一社区 grid 1; one of them overdue."""
    ids = []
    for i, text in enumerate(("路灯不亮", "井盖缺失", "垃圾堆放")):
        _appeal, order = file_appeal(db_session, None, AppealCreate(
            text=text, caller_phone=f"1390000100{i}", region_code=COMMUNITY_A, category_code="T.SRGL",
            lon=119.52 + i * 0.001, lat=29.25))
        ids.append(order.id)
    late = db_session.get(WorkOrder, ids[0])
    assert late is not None
    from zhili.kit.time import now

    late.due_at = late.overdue_at = now()
    db_session.commit()
    return ids


def test_the_county_shows_its_towns_with_their_load(points: list[int], client: TestClient) -> None:
    page_login(client, "county-leader")
    body = client.get("/command/area.json").json()
    assert body["area"]["code"] == COUNTY and [c["name"] for c in body["trail"]] == ["临溪县"]
    towns = {f["properties"]["code"]: f["properties"] for f in body["children"]["features"]}
    assert set(towns) == {TOWN_A, TOWN_B}
    assert towns[TOWN_A]["open"] == 4 and towns[TOWN_A]["overdue"] == 1 and towns[TOWN_A]["load"] == "high"
    community = client.get("/command/area.json", params={"code": COMMUNITY_A}).json()
    assert [c["name"] for c in community["trail"]] == ["临溪县", "甲街道", "甲一社区"]
    assert {f["properties"]["level"] for f in community["children"]["features"]} == {"grid"}
    grid = client.get("/command/area.json", params={"code": GRID_A1}).json()
    assert grid["area"]["level"] == "grid" and grid["trail"][-1]["code"] == GRID_A1


def test_the_panel_counts_the_area(points: list[int], client: TestClient) -> None:
    page_login(client, "county-leader")
    s = client.get("/command/summary.json", params={"code": TOWN_A}).json()
    assert s["today"]["intake"] == 4 and s["open"] == 4 and s["overdue"] == 1
    assert s["top_categories"][0] == {"name": "市容城管", "count": 4}
    assert len(s["trend"]["days"]) == 30 and s["trend"]["intake"][-1] == 4
    grid = client.get("/command/summary.json", params={"code": GRID_A1}).json()
    assert grid["open"] == 3  # the world's own order in 甲一社区 has no point, so no grid


def test_orders_are_markers_or_clusters(points: list[int], client: TestClient,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    page_login(client, "county-leader")
    layer = client.get("/command/orders.json", params={"bbox": "119.5,29.2,119.6,29.3", "zoom": 14}).json()
    assert not layer["clustered"] and {o["id"] for o in layer["orders"]} == set(points)
    assert {o["colour"] for o in layer["orders"]} >= {"red"}
    outside = client.get("/command/orders.json", params={"bbox": "119.8,29.2,119.9,29.3"}).json()
    assert outside["total"] == 0
    monkeypatch.setattr(service, "MAX_MARKERS", 1)
    clustered = client.get("/command/orders.json", params={"zoom": 8}).json()
    assert clustered["clustered"] and sum(c["count"] for c in clustered["clusters"]) == 3
    assert sum(c["overdue"] for c in clustered["clusters"]) == 1
    heat = client.get("/command/heat.json", params={"zoom": 12}).json()
    assert sum(c["count"] for c in heat["cells"]) == 3 and len(heat["cells"][0]["boundary"]) == 6
    one = client.get(f"/command/order/{points[0]}.json").json()
    assert one["colour"] == "red" and one["timeline"][0]["label"] == "登记"
    bad = client.get("/command/orders.json", params={"bbox": "north"})
    assert bad.status_code == 422 and "bbox" in bad.text


def test_a_town_sees_only_its_town(points: list[int], client: TestClient) -> None:
    page_login(client, "towna-viewer")
    body = client.get("/command/area.json").json()
    assert body["area"]["code"] == TOWN_A and body["trail"][0]["code"] == TOWN_A
    assert client.get("/command/area.json", params={"code": TOWN_B}).status_code == 404
    assert client.get("/command/summary.json", params={"code": COUNTY}).status_code == 404
    assert client.get("/command").status_code == 200


def test_grid_workers_report_where_they_are(world: World, client: TestClient) -> None:
    token = page_login(client, "towna-gw")
    r = client.post("/grid/position", data={"csrf_token": token, "lon": "119.53", "lat": "29.26"})
    assert r.status_code == 204
    assert client.post("/grid/position", data={"csrf_token": token, "lon": "999", "lat": "29"}).status_code == 422
    page_login(client, "county-leader")
    workers = client.get("/command/workers.json").json()["workers"]
    assert [(w["name"], w["grid"]) for w in workers] == [("甲一网格员", "甲一社区第一网格")]


def test_gcj02_tiles_get_gcj02_coordinates(points: list[int], client: TestClient,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "map_tile_crs", "gcj02")
    page_login(client, "county-leader")
    one = client.get(f"/command/order/{points[1]}.json").json()
    assert (one["lon"], one["lat"]) == pytest.approx(geo.wgs84_to_gcj02(119.521, 29.25))
    # The viewport comes back in GCJ-02 and is turned into WGS-84 before the query.
    a, b = geo.wgs84_to_gcj02(119.5, 29.2)
    c, d = geo.wgs84_to_gcj02(119.6, 29.3)
    layer = client.get("/command/orders.json", params={"bbox": f"{a},{b},{c},{d}"}).json()
    assert layer["total"] == 3


def test_gcj02_round_trip() -> None:
    lon, lat = geo.wgs84_to_gcj02(116.397, 39.908)
    assert (lon, lat) == pytest.approx((116.40324, 39.90940), abs=1e-4)  # the published offset in Beijing
    assert geo.gcj02_to_wgs84(lon, lat) == pytest.approx((116.397, 39.908), abs=1e-7)
    assert geo.wgs84_to_gcj02(-71.06, 42.36) == (-71.06, 42.36)  # outside China: no offset
