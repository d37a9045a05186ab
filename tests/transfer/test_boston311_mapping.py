"""Boston 311 onto the demo county: the mapping covers the real file, every code it names exists in the
demo, every case becomes a valid intake body, and the mapped points fall where they should.

The real file is read from ../shared/data; tests that need it skip when it is absent.
"""

import csv
import gzip
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
import shapely
from shapely.geometry import box
from sqlalchemy import select
from sqlalchemy.orm import Session

from zhili.category.attributes import check_attributes
from zhili.category.catalog import install
from zhili.jurisdiction.demo import build_demo
from zhili.kit import geo
from zhili.models import Category, Department, Grid, Region
from zhili.open311.schemas import ServiceRequestIn
from zhili.transfer import boston311
from zhili.transfer.boston311 import Case, Frame, load_mapping
from zhili.work_order.schemas import AppealCreate

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "boston311" / "boston311_2015.csv.gz"


def _require_data() -> Path:
    if not DATA.exists():
        pytest.skip(f"Boston 311 data is absent: {DATA} (see ../shared/data/README.md)")
    return DATA


@pytest.fixture(scope="module")
def mapping() -> boston311.Mapping:
    return load_mapping()


@pytest.fixture(scope="module")
def raw_rows() -> list[dict[str, str]]:
    """The file read plainly with the csv module, independently of boston311.cases()."""
    with gzip.open(_require_data(), "rt", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def real_cases() -> list[Case]:
    return list(boston311.cases(_require_data()))


@pytest.fixture
def demo(db_session: Session) -> Session:
    build_demo(db_session, "Demo@2026", "$argon2id$stand-in-hash")
    county = db_session.scalars(select(Region).where(Region.level == "county")).one()
    install(db_session, county, demo_rules=True)
    db_session.commit()
    return db_session


# The mapping file ---------------------------------------------------------------------------------


def test_every_type_subject_source_and_neighborhood_of_the_real_file_is_mapped(mapping, raw_rows):
    types = {(r["SUBJECT"], r["TYPE"]) for r in raw_rows}
    missing = sorted(f"{s} / {t}" for s, t in types if t not in mapping.types and (s, t) not in mapping.subject_types)
    assert not missing, "add to [types] in boston311_mapping.toml:\n" + "\n".join(missing)
    assert {r["SUBJECT"] for r in raw_rows} <= set(mapping.subjects)
    assert {r["Source"] for r in raw_rows} <= set(mapping.channels)
    assert {r["neighborhood"] for r in raw_rows} <= set(mapping.neighborhoods)
    assert len({t for _s, t in types}) == 158


def test_every_code_in_the_mapping_exists_in_the_seeded_demo(mapping, demo):
    categories = {c.code: c for c in demo.scalars(select(Category))}
    parents = {c.parent_id for c in categories.values()}
    targets = [*mapping.types.values(), *mapping.subject_types.values(), *mapping.subjects.values()]
    for target in targets:
        category = categories.get(target.category_code)
        assert category is not None, target
        assert category.kind != "group" and category.id not in parents, f"{target.category_code} is not a leaf"
        assert category.active and category.public, target.category_code
        # What an Open311 POST of the benchmark sends passes the category's service definition.
        _values, problems = check_attributes(demo, category, dict(target.attributes), enforce_required=True)
        assert not problems, (target.zh, problems)
    departments = set(demo.scalars(select(Department.code)))
    assert set(mapping.departments.values()) <= departments
    assert {t.department_code for t in targets if t.department_code} <= departments
    towns = {r.code: r for r in demo.scalars(select(Region).where(Region.level == "town"))}
    assert set(mapping.neighborhoods.values()) <= set(towns)
    assert set(mapping.frames) == set(towns), "every town has a frame, and every frame is a town"


def test_target_boxes_lie_inside_their_towns_and_the_city_box_inside_the_county(mapping, demo):
    regions = {r.code: r for r in demo.scalars(select(Region).where(Region.level.in_(("county", "town"))))}
    for code, frame in mapping.frames.items():
        assert geo.loads(regions[code].boundary).contains(box(*frame.target)), code
    county = next(r for r in regions.values() if r.level == "county")
    assert geo.loads(county.boundary).contains(box(*mapping.city.target))


def test_a_mapping_naming_an_unknown_department_is_refused(tmp_path):
    text = boston311.MAPPING_FILE.read_text(encoding="utf-8")
    bad = tmp_path / "mapping.toml"
    bad.write_text(text.replace('department = "城管" }', 'department = "不存在的部门" }', 1), encoding="utf-8")
    with pytest.raises(ValueError, match="不存在的部门"):
        load_mapping(bad)


def test_a_frame_maps_its_source_corners_onto_its_target_corners_and_clamps_outside():
    frame = Frame(source=(-71.2, 42.2, -71.0, 42.4), target=(119.7, 29.4, 119.8, 29.5))
    assert frame.project(-71.2, 42.2) == pytest.approx((119.7, 29.4))
    assert frame.project(-71.1, 42.3) == pytest.approx((119.75, 29.45))
    assert frame.project(-70.0, 43.0) == pytest.approx((119.8, 29.5))


# Parsing ------------------------------------------------------------------------------------------


def _record(**values: str) -> dict[str, str]:
    base = dict.fromkeys(boston311.COLUMNS, "")
    base.update(CASE_ENQUIRY_ID="1", OPEN_DT="01/05/2015 12:40:41 PM", CASE_STATUS="Open",
                TYPE="Street Light Outages", SUBJECT="Public Works Department", Source="Constituent Call")
    base.update(values)
    return base


def test_a_row_is_parsed_with_noon_and_midnight_the_american_way():
    case = boston311.parse_row(2, _record(OPEN_DT="01/05/2015 12:40:41 PM", CLOSED_DT="01/06/2015 12:05:00 AM",
                                          LATITUDE="42.35", LONGITUDE="-71.08"))
    assert case.opened == datetime(2015, 1, 5, 12, 40, 41)
    assert case.closed == datetime(2015, 1, 6, 0, 5, 0)
    assert (case.lat, case.lon) == (42.35, -71.08)
    assert not case.unreadable


def test_the_default_geocode_and_unreadable_values_carry_no_point():
    assert boston311.parse_row(2, _record(LATITUDE="42.3594", LONGITUDE="-71.0587")).lat is None
    case = boston311.parse_row(3, _record(LATITUDE="north", LONGITUDE="-71.08", TARGET_DT="13/40/2015 01:00:00 PM"))
    assert case.lat is None and case.target is None
    assert dict(case.unreadable) == {"LATITUDE": "north", "TARGET_DT": "13/40/2015 01:00:00 PM"}


def test_boston_rules_name_each_broken_field(mapping):
    good = boston311.parse_row(2, _record())
    assert boston311.problems(good, mapping) == []
    bad = boston311.parse_row(3, _record(OPEN_DT="", CASE_STATUS="Closed", TYPE="Nope", SUBJECT="Nobody",
                                         Source="Carrier pigeon"))
    reasons = {(p.field, p.reason) for p in boston311.problems(bad, mapping)}
    assert reasons == {("OPEN_DT", "missing_opened"), ("CLOSED_DT", "closed_without_date"),
                       ("TYPE", "unmapped_type"), ("Source", "unmapped_source")}
    early = boston311.parse_row(4, _record(CASE_STATUS="Closed", CLOSED_DT="01/05/2015 12:40:29 PM"))
    [problem] = boston311.problems(early, mapping)
    assert (problem.row, problem.field, problem.reason) == (4, "CLOSED_DT", "closed_before_opened")


def test_a_repeated_case_id_is_rejected_after_its_first_row(mapping):
    rows = [boston311.parse_row(2, _record()), boston311.parse_row(3, _record())]
    rejected: list[boston311.Rejection] = []
    assert [c.row for c in boston311.screen(rows, mapping, rejected)] == [2]
    assert [(r.row, r.reason) for r in rejected] == [(3, "duplicate_id")]


def test_a_location_loses_its_town_state_and_zip():
    assert boston311.short_location("29 Hereford St  Boston  MA  02115") == "29 Hereford St"
    assert boston311.short_location("11  S Fairview St  Roslindale  MA  02131") == "11 S Fairview St"
    assert boston311.short_location("INTERSECTION of Boylston St & Dartmouth St  Boston  MA") == \
        "Boylston St & Dartmouth St 路口"
    assert boston311.short_location("") == ""


# The real file --------------------------------------------------------------------------------------


def test_cases_come_in_arrival_order_and_all_of_them(real_cases, raw_rows):
    assert len(real_cases) == len(raw_rows)
    opened = [c.opened for c in real_cases if c.opened is not None]
    assert opened == sorted(opened)
    assert {c.case_id for c in real_cases} == {r["CASE_ENQUIRY_ID"] for r in raw_rows}
    # Row numbers point back at the file: the first row under the header is row 1.
    by_row = {c.row: c for c in real_cases}
    for i in (0, 1, len(raw_rows) // 2, len(raw_rows) - 1):
        assert by_row[i + 1].case_id == raw_rows[i]["CASE_ENQUIRY_ID"]


def test_every_real_case_gives_a_valid_appeal_body_and_open311_form(real_cases, mapping):
    for case in real_cases:
        body = boston311.appeal_payload(case, mapping)
        appeal = AppealCreate.model_validate(body)
        assert appeal.external_id == case.case_id and appeal.category_code and appeal.channel
        assert appeal.text.startswith(appeal.title)
        form = ServiceRequestIn.model_validate(boston311.open311_form(case, mapping))
        assert form.service_code == appeal.category_code and form.description == appeal.text
        assert form.address_id == appeal.region_code and form.account_id == case.case_id
        if appeal.lon is None:
            assert form.lat is None and form.long is None
        else:
            assert (form.long, form.lat) == pytest.approx((appeal.lon, appeal.lat), abs=1e-6)


def test_channels_follow_the_source_of_the_real_rows(real_cases, mapping):
    counts = Counter((c.source, boston311.appeal_payload(c, mapping)["channel"]) for c in real_cases)
    assert counts[("Constituent Call", "hotline")] > 50_000
    assert {channel for (_source, channel) in counts} == {"hotline", "mobile", "web", "grid", "social"}


def test_rows_at_the_default_geocode_are_filed_by_region_code(real_cases, raw_rows, mapping):
    no_point = {r["CASE_ENQUIRY_ID"] for r in raw_rows if r["LATITUDE"].strip() in ("", "42.3594")}
    assert 0.1 < len(no_point) / len(raw_rows) < 0.2  # the README's "about 14 %"
    for case in real_cases:
        body = boston311.appeal_payload(case, mapping)
        assert ("lon" not in body) == (case.case_id in no_point)
        assert body["region_code"] == mapping.neighborhoods[case.neighborhood]


def test_mapped_points_lie_in_the_county_and_in_grids_of_their_town(real_cases, mapping, demo):
    county = geo.loads(demo.scalars(select(Region.boundary).where(Region.level == "county")).one())
    grids = list(demo.scalars(select(Grid)))
    tree = shapely.STRtree([geo.loads(g.boundary) for g in grids])
    located = [(c, p) for c in real_cases if (p := mapping.point(c)) is not None]
    assert len(located) > 0.8 * len(real_cases)
    points = shapely.points([p for _c, p in located])
    assert shapely.covers(county, points).all()
    point_index, grid_index = tree.query(points, predicate="within")
    in_grid = dict(zip(point_index.tolist(), grid_index.tolist(), strict=False))
    assert len(in_grid) >= 0.8 * len(located), f"only {len(in_grid)} of {len(located)} points fall in a grid"
    in_town = [c for i, (c, _p) in enumerate(located) if c.neighborhood not in mapping.citywide]
    same_town = sum(1 for i, (c, _p) in enumerate(located)
                    if c.neighborhood not in mapping.citywide and i in in_grid
                    and grids[in_grid[i]].code[:9] == mapping.region_code(c)[:9])
    assert same_town >= 0.95 * len(in_town), f"{same_town} of {len(in_town)} points fall in their own town"


def test_the_load_spreads_over_all_ten_towns(real_cases, mapping):
    per_town = Counter(mapping.region_code(c) for c in real_cases)
    assert len(per_town) == 10
    assert max(per_town.values()) < 0.3 * len(real_cases)
    assert min(per_town.values()) > 0.02 * len(real_cases)
