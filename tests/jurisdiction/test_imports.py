"""Region and grid imports from GeoJSON, CSV and Excel: all or nothing, with a row-by-row report."""

import io
import json
import os

import pytest
from openpyxl import Workbook

from tests.factories import COMMUNITY_A, COUNTY, login

# A second community of 甲街道, east of 甲一社区 (119.5–119.6), with room for new grids.
NEW = "339922001002"
NEW_BOX = (119.6, 29.2, 119.7, 29.3)
# Three grids that tile NEW: west and east halves of the south strip, and the north strip.
TILES = {
    NEW + "001": (119.60, 29.20, 119.65, 29.25),
    NEW + "002": (119.65, 29.20, 119.70, 29.25),
    NEW + "003": (119.60, 29.25, 119.70, 29.30),
}


def square(w: float, s: float, e: float, n: float) -> dict:
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def wkt(w: float, s: float, e: float, n: float) -> str:
    return f"POLYGON(({w} {s}, {e} {s}, {e} {n}, {w} {n}, {w} {s}))"


def feature(code: str, name: str, bounds: tuple[float, float, float, float] | None, **props: object) -> dict:
    return {"type": "Feature", "properties": {"code": code, "name": name, **props},
            "geometry": square(*bounds) if bounds else None}


def collection(*features: dict) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}, ensure_ascii=False).encode()


def tiles_file(**names: str) -> bytes:
    return collection(*(feature(code, names.get(code[-3:], f"甲二社区网格{code[-3:]}"), box)
                        for code, box in TILES.items()))


def upload(client, what: str, filename: str, content: bytes, headers: dict, **params: object):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/{what}/import", headers=headers, params=params,
                       files={"file": (filename, content, "application/octet-stream")})


def grids_in(client, headers: dict, within: str) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    r = client.get("/api/v1/grids", headers=headers, params={"within": within, "page_size": 500})
    assert r.status_code == 200, r.text
    return {g["code"]: g for g in r.json()["items"]}


@pytest.fixture
def admin(client, world) -> dict:  # type: ignore[no-untyped-def]
    """Town A's admin, with an empty community NEW to import grids into."""
    headers = login(client, "towna-admin")
    r = client.post("/api/v1/regions", headers=headers,
                    json={"code": NEW, "name": "甲二社区", "boundary": square(*NEW_BOX)})
    assert r.status_code == 201, r.text
    return headers


# Grids -----------------------------------------------------------------------------------------


def test_geojson_grids_are_created_then_a_reimport_updates_them_without_duplicates(client, admin):
    r = upload(client, "grids", "甲二社区网格.geojson", tiles_file(), admin)
    assert r.status_code == 200, r.text
    assert r.json() == {"rows": 3, "created": 3, "updated": 0, "dry_run": False, "errors": []}
    stored = grids_in(client, admin, NEW)
    assert sorted(stored) == sorted(TILES)
    assert {g["kind"] for g in stored.values()} == {"basic"}
    assert 26_000_000 < stored[NEW + "001"]["area_m2"] < 28_000_000

    r = upload(client, "grids", "甲二社区网格.geojson", tiles_file(**{"002": "东南网格"}), admin)
    assert r.status_code == 200, r.text
    assert (r.json()["created"], r.json()["updated"]) == (0, 3)
    stored = grids_in(client, admin, NEW)
    assert len(stored) == 3 and stored[NEW + "002"]["name"] == "东南网格"


def test_one_bad_feature_refuses_the_whole_file_and_the_report_names_each_row(client, admin):
    content = collection(
        feature(NEW + "001", "好网格一", TILES[NEW + "001"]),
        feature(NEW + "002", "好网格二", TILES[NEW + "002"]),
        feature(NEW + "003", "压线网格", (119.64, 29.20, 119.66, 29.25)),  # overlaps rows 1 and 2
        feature(NEW + "000", "坏编码", (119.60, 29.25, 119.61, 29.26)),
        feature(NEW + "005", "越界网格", (119.71, 29.20, 119.72, 29.21)),  # east of the community
        feature(NEW + "006", "", (119.62, 29.26, 119.63, 29.27)),
    )
    r = upload(client, "grids", "grids.geojson", content, admin)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["detail"] == "4 行有问题，未导入任何数据"
    assert body["rows"] == 6 and body["created"] == 0
    found = {(e["row"], e["field"]) for e in body["errors"]}
    assert found == {(3, "boundary"), (4, "code"), (5, "boundary"), (6, "name")}
    overlap = [e["problem"] for e in body["errors"] if e["row"] == 3]
    assert any(NEW + "001" in p and "重叠" in p for p in overlap)
    assert any(NEW + "002" in p for p in overlap)
    assert any("超出所属社区" in e["problem"] for e in body["errors"] if e["row"] == 5)
    assert grids_in(client, admin, NEW) == {}


def test_a_file_may_redraw_stored_grids_that_it_also_lists(client, world):
    """Community A is tiled by two stored grids; a file that redraws both and adds a third passes."""
    admin = login(client, "towna-admin")
    content = collection(
        feature(COMMUNITY_A + "001", "甲一西", (119.50, 29.20, 119.55, 29.25)),
        feature(COMMUNITY_A + "002", "甲一东", (119.55, 29.20, 119.60, 29.25)),
        feature(COMMUNITY_A + "003", "甲一北", (119.50, 29.25, 119.60, 29.30), kind="专属网格"),
    )
    r = upload(client, "grids", "redraw.json", content, admin)
    assert r.status_code == 200, r.text
    assert (r.json()["created"], r.json()["updated"]) == (1, 2)
    stored = grids_in(client, admin, COMMUNITY_A)
    assert stored[COMMUNITY_A + "003"]["kind"] == "special"
    assert [w["username"] for w in stored[COMMUNITY_A + "001"]["workers"]] == ["towna-gw"]  # members kept
    # Without redrawing 001 the new grid overlaps it, and nothing is written.
    content = collection(feature(COMMUNITY_A + "004", "重叠", (119.50, 29.20, 119.52, 29.22)))
    r = upload(client, "grids", "overlap.geojson", content, admin)
    assert r.status_code == 422 and COMMUNITY_A + "001" in r.text


def test_duplicate_codes_in_one_file_are_reported_on_the_later_row(client, admin):
    content = collection(feature(NEW + "001", "一", TILES[NEW + "001"]),
                         feature(NEW + "002", "二", TILES[NEW + "002"]),
                         feature(NEW + "001", "又一", TILES[NEW + "003"]))
    r = upload(client, "grids", "dup.geojson", content, admin)
    assert r.status_code == 422
    [error] = r.json()["errors"]
    assert (error["row"], error["field"]) == (3, "code") and "第 1 行重复" in error["problem"]


def test_csv_with_chinese_headers_wkt_and_a_bom(client, admin):
    lines = ["网格编码,网格名称,类型,边界,备注,网格长电话"]
    lines += [f'{code},网格{code[-3:]},{"专属网格" if code.endswith("3") else "基础"},"{wkt(*box)}",第{i}号,139'
              for i, (code, box) in enumerate(TILES.items(), start=1)]
    content = "\ufeff".encode() + "\r\n".join(lines).encode()
    r = upload(client, "grids", "网格.csv", content, admin)
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 3
    stored = grids_in(client, admin, NEW)
    assert stored[NEW + "003"]["kind"] == "special" and stored[NEW + "001"]["kind"] == "basic"
    detail = client.get(f"/api/v1/grids/{NEW}002", headers=admin).json()
    assert detail["note"] == "第2号" and detail["name"] == "网格002"


def test_csv_saved_by_excel_in_gbk_is_read(client, admin):
    lines = ["编码,名称,边界"] + [f'{code},甲二社区第{code[-1]}网格,"{wkt(*box)}"' for code, box in TILES.items()]
    r = upload(client, "grids", "grids.csv", "\r\n".join(lines).encode("gbk"), admin)
    assert r.status_code == 200, r.text
    assert grids_in(client, admin, NEW)[NEW + "002"]["name"] == "甲二社区第2网格"


def test_csv_rows_are_numbered_as_the_spreadsheet_shows_them(client, admin):
    lines = ["code,name,boundary", f'{NEW}001,一,"{wkt(*TILES[NEW + "001"])}"', "", f"{NEW}002,二,POLYGON((1 2"]
    r = upload(client, "grids", "grids.csv", "\n".join(lines).encode(), admin)
    assert r.status_code == 422
    assert [(e["row"], e["field"]) for e in r.json()["errors"]] == [(4, "boundary")]


def test_csv_without_a_required_column_names_the_column(client, admin):
    r = upload(client, "grids", "grids.csv", f"网格编码,网格名称\n{NEW}001,一\n".encode(), admin)
    assert r.status_code == 422
    [error] = r.json()["errors"]
    assert (error["row"], error["field"]) == (1, "boundary") and "边界" in error["expected"]


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_xlsx_with_a_title_row_and_numeric_codes(client, admin):
    rows: list[list[object]] = [["甲二社区网格导入表"], ["网格编码（15位）*", "网格名称*", "类型", "边界"]]
    rows += [[int(code), f"网格{code[-3:]}", "special" if code.endswith("2") else "", wkt(*box)]
             for code, box in TILES.items()]
    r = upload(client, "grids", "网格.xlsx", _xlsx(rows), admin)
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 3
    assert grids_in(client, admin, NEW)[NEW + "002"]["kind"] == "special"
    # A bad cell is reported by the row number Excel shows: title 1, header 2, data from 3.
    rows[4][3] = wkt(119.65, 29.2, 119.75, 29.25)
    r = upload(client, "grids", "网格.xlsx", _xlsx(rows), admin)
    assert r.status_code == 422
    assert {(e["row"], e["field"]) for e in r.json()["errors"]} == {(5, "boundary")}


def test_dry_run_reports_what_would_change_and_writes_nothing(client, admin):
    r = upload(client, "grids", "grids.geojson", tiles_file(), admin, dry_run=True)
    assert r.status_code == 200, r.text
    assert r.json() == {"rows": 3, "created": 3, "updated": 0, "dry_run": True, "errors": []}
    assert grids_in(client, admin, NEW) == {}
    log = client.get("/api/v1/audit-log", headers=admin, params={"action": "grid.import"}).json()
    assert log["total"] == 0


def test_an_import_leaves_one_audit_row_with_its_counts(client, admin):
    assert upload(client, "grids", "grids.geojson", tiles_file(), admin).status_code == 200
    log = client.get("/api/v1/audit-log", headers=admin, params={"action": "grid.import"}).json()
    assert log["total"] == 1
    detail = log["items"][0]["detail"]
    assert (detail["rows"], detail["created"], detail["updated"]) == (3, 3, 0)
    assert detail["filename"] == "grids.geojson"


def test_three_hundred_grids_import_in_one_pass(client, admin):
    """A 20×15 lattice over NEW; each grid is checked against its neighbours in the same file."""
    cols, rows = 20, 15
    w, s, e, n = NEW_BOX
    dx, dy = (e - w) / cols, (n - s) / rows
    features = [feature(f"{NEW}{i * cols + j + 1:03d}", f"网格{i * cols + j + 1}",
                        (w + j * dx, s + i * dy, w + (j + 1) * dx, s + (i + 1) * dy))
                for i in range(rows) for j in range(cols)]
    r = upload(client, "grids", "lattice.geojson", collection(*features), admin)
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 300
    r = upload(client, "grids", "lattice.geojson", collection(*features), admin)
    assert (r.json()["created"], r.json()["updated"]) == (0, 300)


# Regions ---------------------------------------------------------------------------------------


def test_region_file_creates_a_town_and_its_communities_in_any_order(client, world):
    admin = login(client, "county-admin")
    lines = [
        "区划代码,区划名称,边界",
        f'339922002002,丙二村,"{wkt(119.65, 29.45, 119.7, 29.5)}"',
        "339922002001,丙一社区,",
        "339922002000,丙街道,",
        f"{COMMUNITY_A},甲一社区（新名）,",  # existing: renamed, boundary kept
    ]
    r = upload(client, "regions", "区划.csv", "\n".join(lines).encode(), admin)
    assert r.status_code == 200, r.text
    assert (r.json()["created"], r.json()["updated"]) == (3, 1)
    village = client.get("/api/v1/regions/339922002002", headers=admin).json()
    assert (village["level"], village["parent_code"], village["has_boundary"]) == ("village", "339922002000", True)
    town = client.get("/api/v1/regions/339922002000", headers=admin).json()
    assert (town["parent_code"], town["children"]) == (COUNTY, 2)
    renamed = client.get(f"/api/v1/regions/{COMMUNITY_A}", headers=admin).json()
    assert renamed["name"] == "甲一社区（新名）" and renamed["has_boundary"]
    again = upload(client, "regions", "区划.csv", "\n".join(lines).encode(), admin)
    assert (again.json()["created"], again.json()["updated"]) == (0, 4)


def test_region_geojson_reports_a_missing_parent_by_feature_number(client, world):
    admin = login(client, "county-admin")
    content = collection(feature("339922003001", "丁一社区", None),  # parent 339922003000 is nowhere
                         feature("339922002000", "丙街道", (119.6, 29.4, 119.8, 29.7)),
                         feature("339922002001", "丙一社区", None))
    r = upload(client, "regions", "regions.geojson", content, admin)
    assert r.status_code == 422
    assert [(e["row"], e["field"]) for e in r.json()["errors"]] == [(1, "code")]
    assert "339922003000" in r.json()["errors"][0]["problem"]
    assert client.get("/api/v1/regions/339922002000", headers=admin).status_code == 404


def test_a_town_admin_cannot_import_regions_of_another_town(client, world):
    admin = login(client, "towna-admin")
    lines = ["code,name", "339922001003,甲三社区", "339922101202,乙镇二村"]
    r = upload(client, "regions", "regions.csv", "\n".join(lines).encode(), admin)
    assert r.status_code == 422
    [error] = r.json()["errors"]
    assert (error["row"], error["field"]) == (3, "code") and "管辖范围" in error["problem"]
    assert client.get("/api/v1/regions/339922001003", headers=admin).status_code == 404


def test_region_dry_run_writes_nothing(client, world):
    admin = login(client, "towna-admin")
    r = upload(client, "regions", "r.csv", "code,name\n339922001003,甲三社区\n".encode(), admin, dry_run=True)
    assert r.status_code == 200 and r.json()["created"] == 1 and r.json()["dry_run"] is True
    assert client.get("/api/v1/regions/339922001003", headers=admin).status_code == 404


# Refusals --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("filename", "content", "expected"), [
    ("grids.geojson", b'{"type": "FeatureCollection", "features": [', "JSON"),
    ("grids.geojson", b'{"type": "Point", "coordinates": [1, 2]}', "FeatureCollection"),
    ("grids.json", b'{"type": "FeatureCollection", "features": []}', "没有数据行"),
    ("grids.xlsx", os.urandom(4096), "Excel"),
    ("grids.xlsx", b"PK\x03\x04" + b"\0" * 200, "Excel"),
    ("grids.csv", b"", "为空"),
    ("grids.csv", "网格编码,网格名称,边界\n".encode(), "没有数据行"),
    ("grids.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 100, ".xlsx"),
    ("grids.pdf", b"%PDF-1.4", ".geojson"),
    ("grids", b"\x00\x01binary", ".csv"),
    ("grids.geojson", b"[" * 100_000, "GeoJSON"),
])
def test_unreadable_files_are_refused_with_a_message(client, admin, filename, content, expected):
    r = upload(client, "grids", filename, content, admin)
    assert 400 <= r.status_code < 500, r.text
    assert expected in r.json()["detail"], r.text
    assert r.json()["errors"] and r.json()["errors"][0]["field"] == "file"


def test_non_admins_may_not_import(client, world):
    viewer = login(client, "towna-viewer")
    r = upload(client, "grids", "grids.geojson", tiles_file(), viewer)
    assert r.status_code == 403
    r = upload(client, "regions", "r.csv", b"code,name\n339922001003,x\n", viewer)
    assert r.status_code == 403


def test_english_locale_translates_the_report(client, admin):
    content = collection(feature(NEW + "001", "", TILES[NEW + "001"]))
    r = client.post("/api/v1/grids/import", headers={**admin, "Accept-Language": "en"},
                    files={"file": ("g.geojson", content)})
    assert r.status_code == 422
    assert r.json()["detail"] == "1 row(s) have problems; nothing was imported"


def test_rows_that_are_not_features_or_have_mangled_codes_are_named(client, admin):
    content = json.dumps({"type": "FeatureCollection", "features": [
        feature(NEW + "001", "一", TILES[NEW + "001"]), "not a feature",
        {"type": "Feature", "properties": ["x"], "geometry": None},
        feature("3.39922E+14", "科学计数", TILES[NEW + "002"]),
    ]}).encode()
    r = upload(client, "grids", "g.geojson", content, admin)
    assert r.status_code == 422
    errors = {(e["row"], e["field"]): e for e in r.json()["errors"]}
    assert set(errors) == {(2, "feature"), (3, "properties"), (4, "code")}
    assert "科学计数法" in errors[(4, "code")]["problem"] and "文本" in errors[(4, "code")]["expected"]


def test_an_oversize_upload_is_refused_even_past_the_middleware():
    from zhili.config import get_settings
    from zhili.errors import TooLarge
    from zhili.jurisdiction.imports import read_upload

    limit = get_settings().upload_max_bytes
    assert read_upload(io.BytesIO(b"x" * limit)) == b"x" * limit
    with pytest.raises(TooLarge):
        read_upload(io.BytesIO(b"x" * (limit + 1)))
