"""The demo county: a valid code tree, polygons that tile their parents, an account for every role,
and the same rows on every run."""

import hashlib
from collections import Counter, defaultdict

import pytest
from shapely import union_all
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from zhili.jurisdiction.demo import COUNTY_CODE, DemoAccount, build_demo
from zhili.kit import codes, geo
from zhili.models import Department, Grid, GridDuty, GridKind, GridMember, Region, Role, Staff
from zhili.models.jurisdiction import DepartmentKind

PASSWORD = "Demo@2026"
HASH = "$argon2id$stand-in-hash"
TOWN_ROLES = {Role.admin, Role.command_leader, Role.dispatcher, Role.mediator, Role.viewer, Role.department_handler}


@pytest.fixture
def accounts(db_session: Session) -> list[DemoAccount]:
    return build_demo(db_session, PASSWORD, HASH)


def _regions(session: Session) -> list[Region]:
    return list(session.scalars(select(Region).order_by(Region.code)))


def _grids(session: Session) -> list[Grid]:
    return list(session.scalars(select(Grid).order_by(Grid.code)))


def _assert_tiles(parent: BaseGeometry, children: list[BaseGeometry], what: str) -> None:
    """Children meet only along edges and together cover their parent to within 0.1 %."""
    for i, a in enumerate(children):
        for b in children[i + 1:]:
            assert geo.overlap_m2(a, b) < geo.OVERLAP_TOLERANCE_M2, what
    covered = geo.area_m2(union_all(children))
    assert abs(covered - geo.area_m2(parent)) < 0.001 * geo.area_m2(parent), what
    assert geo.outside_m2(union_all(children), parent) < 0.001 * geo.area_m2(parent), what


def test_demo_regions_form_a_valid_code_tree(db_session, accounts):
    regions = _regions(db_session)
    for r in regions:
        assert codes.check_region_code(r.code) is None, r.code
        assert r.level == codes.region_level(r.code)
        assert (r.parent.code if r.parent else None) == codes.parent_code(r.code)
        # The name says what the code says: 街道 001–099, 镇 100–199, 乡 200–399; 社区 001–199, 村 200–399.
        if r.level == codes.RegionLevel.town:
            suffix = {"street": "街道", "town": "镇", "township": "乡"}[codes.town_kind(r.code)]
            assert r.name.endswith(suffix), r.name
        if r.level == codes.RegionLevel.village:
            suffix = {"community": "社区", "village": "村"}[codes.village_kind(r.code)]
            assert r.name.endswith(suffix), r.name
        assert r.boundary and r.min_lon is not None
        assert (r.min_lon, r.min_lat, r.max_lon, r.max_lat) == geo.loads(r.boundary).bounds
    levels = Counter(r.level for r in regions)
    assert levels["city"] == 1 and levels["county"] == 1
    assert 8 <= levels["town"] <= 12
    assert 90 <= levels["village"] <= 110
    kinds = Counter(codes.town_kind(r.code) for r in regions if r.level == "town")
    assert kinds["street"] >= 2 and kinds["town"] >= 4 and kinds["township"] >= 1
    # Village names are unique within their town.
    names = Counter((r.code[:9], r.name) for r in regions if r.level == "village")
    assert max(names.values()) == 1


def test_demo_grids_are_coded_and_numbered_under_their_community(db_session, accounts):
    grids = _grids(db_session)
    assert len(grids) >= 230
    by_community: dict[str, list[Grid]] = defaultdict(list)
    for g in grids:
        assert codes.check_grid_code(g.code) is None, g.code
        assert g.code[:12] == g.region.code and g.region.level == codes.RegionLevel.village
        assert g.area_m2 == pytest.approx(geo.area_m2(geo.loads(g.boundary)))
        assert (g.min_lon, g.min_lat, g.max_lon, g.max_lat) == geo.loads(g.boundary).bounds
        by_community[g.code[:12]].append(g)
    communities = [r for r in _regions(db_session) if r.level == "village"]
    assert sorted(by_community) == [c.code for c in communities]  # every community has its grids
    for community_grids in by_community.values():
        assert [g.code[12:] for g in community_grids] == [f"{i:03d}" for i in range(1, len(community_grids) + 1)]
        # Numbered west to east along rows, rows north to south: cut the sequence wherever it steps back
        # west; every such run lies wholly north of the runs after it.
        centres = [geo.loads(g.boundary).centroid for g in community_grids]
        runs: list[list[float]] = [[centres[0].y]]
        for before, after in zip(centres, centres[1:], strict=False):
            if after.x > before.x:
                runs[-1].append(after.y)
            else:
                runs.append([after.y])
        for i, run in enumerate(runs[:-1]):
            assert min(run) >= max(y for later in runs[i + 1:] for y in later), community_grids[0].region.name
    special = [g for g in grids if g.kind == GridKind.special]
    assert 5 <= len(special) <= 20
    assert all(g.name.endswith("专属网格") for g in special)
    assert len({g.code[:12] for g in special}) == len(special)  # one per community at most


def test_demo_polygons_tile_their_parents(db_session, accounts):
    regions = _regions(db_session)
    shapes = {r.code: geo.loads(r.boundary) for r in regions}
    children: dict[str, list[str]] = defaultdict(list)
    for r in regions:
        if r.parent:
            children[r.parent.code].append(r.code)
    city, county = shapes["339900000000"], shapes[COUNTY_CODE]
    assert city.contains(county)
    # Where the brief puts it: around lon 119.6–120.0, lat 29.3–29.6.
    assert county.within(box(119.5, 29.2, 120.1, 29.7))
    assert geo.area_m2(county) < 0.9 * geo.area_m2(county.envelope)  # an outline, not a rectangle
    _assert_tiles(county, [shapes[c] for c in children[COUNTY_CODE]], "towns of the county")
    for town in children[COUNTY_CODE]:
        _assert_tiles(shapes[town], [shapes[c] for c in children[town]], town)
    grid_shapes: dict[str, list[BaseGeometry]] = defaultdict(list)
    for g in _grids(db_session):
        grid_shapes[g.code[:12]].append(geo.loads(g.boundary))
    for community, cells in grid_shapes.items():
        _assert_tiles(shapes[community], cells, community)


def test_demo_departments_sit_at_county_and_town_level(db_session, accounts):
    departments = list(db_session.scalars(select(Department).order_by(Department.code)))
    county = [d for d in departments if d.region.code == COUNTY_CODE]
    assert 25 <= len(county) <= 35
    assert {"县综合行政执法局", "国网临溪县供电公司", "县公安局交通警察大队"} <= {d.name for d in county}
    assert any(d.kind == DepartmentKind.command for d in county)
    towns = [r for r in _regions(db_session) if r.level == "town"]
    for town in towns:
        own = [d for d in departments if d.region_id == town.id]
        assert sorted(d.kind for d in own) == [DepartmentKind.agency, DepartmentKind.command], town.name
        assert any(d.name.endswith("派出所") for d in own)
    assert len({d.code for d in departments}) == len(departments)
    for d in departments:
        assert d.duties and d.short_name and codes.check_phone(d.phone) is None, d.name


def test_demo_staff_cover_every_role_and_every_grid(db_session, accounts):
    staff = list(db_session.scalars(select(Staff).order_by(Staff.username)))
    assert len({s.username for s in staff}) == len(staff) == len(accounts)
    assert all(s.username.isascii() and s.password_hash == HASH for s in staff)
    # Every role but the grid ones sits at county level; those sit in the communities.
    county_roles = set().union(*(s.roles for s in staff if s.region.code == COUNTY_CODE))
    assert county_roles == set(Role) - {Role.grid_worker, Role.grid_chief}
    for s in staff:
        if s.roles & {Role.grid_worker, Role.grid_chief}:
            assert s.region.level == codes.RegionLevel.village, s.username
    for town in (r for r in _regions(db_session) if r.level == "town"):
        assert set().union(*(s.roles for s in staff if s.region_id == town.id)) == TOWN_ROLES, town.name
    # Handlers belong to a department; nobody else does, since a department narrows what one sees.
    for s in staff:
        assert (s.department_id is not None) == (Role.department_handler in s.roles), s.username
    county_departments = db_session.scalars(select(Department).where(Department.region.has(code=COUNTY_CODE)))
    handled = {s.department_id for s in staff}
    assert all(d.id in handled for d in county_departments)

    members = list(db_session.scalars(select(GridMember)))
    by_grid: dict[int, Counter[GridDuty]] = defaultdict(Counter)
    for m in members:
        by_grid[m.grid_id][m.duty] += 1
        assert codes.check_phone(m.phone) is None and m.name
        assert (m.staff_id is None) == (m.duty == GridDuty.volunteer)
    grids = _grids(db_session)
    for g in grids:
        duties = by_grid[g.id]
        assert duties[GridDuty.worker] == 1 and duties[GridDuty.chief] == 1 and 1 <= duties[GridDuty.volunteer] <= 3
        assert [m.duty for m in g.members][:2] == [GridDuty.chief, GridDuty.worker]  # listed first, by id
    for s in staff:
        assert codes.check_phone(s.phone) is None, s.phone
        if Role.grid_worker in s.roles:
            assert [m.grid.code for m in s.grid_memberships] == [s.username.removeprefix("gw-")]
        if Role.grid_chief in s.roles:
            community = s.username.removeprefix("gc-")
            assert s.region.code == community
            assert [m.grid.code for m in s.grid_memberships] == [g.code for g in grids if g.code[:12] == community]

    rows = {s.username: s for s in staff}
    for a in accounts:
        row = rows[a.username]
        assert a.password == PASSWORD and a.display_name == row.display_name
        assert a.role in row.roles and a.region_code == row.region.code
        assert a.department == (row.department.name if row.department else None)
        assert a.grid_code == row.grid_code
    # `zhili demo` prints the first account of each role: the county ones come first.
    assert accounts[0].username == "admin" and accounts[0].region_code == COUNTY_CODE


def _digest(session: Session) -> str:
    """Everything a person would see, without database ids."""
    h = hashlib.sha256()
    for r in _regions(session):
        h.update(repr((r.code, r.name, r.level, r.parent.code if r.parent else None, r.boundary)).encode())
    for g in _grids(session):
        h.update(repr((g.code, g.name, g.kind, g.boundary, g.area_m2)).encode())
        h.update(repr([(m.duty, m.name, m.phone) for m in g.members]).encode())
    for d in session.scalars(select(Department).order_by(Department.code)):
        h.update(repr((d.code, d.name, d.kind, d.region.code, d.phone, d.duties)).encode())
    for s in session.scalars(select(Staff).order_by(Staff.username)):
        h.update(repr((s.username, s.display_name, s.phone, s.region.code, sorted(s.roles),
                       s.department.code if s.department else None)).encode())
    return h.hexdigest()


def test_demo_is_the_same_on_every_run(db_session):
    first = build_demo(db_session, PASSWORD, HASH)
    first_digest = _digest(db_session)
    db_session.rollback()  # nothing was committed: the database is empty again
    assert db_session.scalar(select(Region.id).limit(1)) is None
    second = build_demo(db_session, PASSWORD, HASH)
    assert second == first
    assert _digest(db_session) == first_digest
