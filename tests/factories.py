"""A small two-town jurisdiction for tests: town A (甲街道) and town B (乙镇) under one county.

Every row that belongs to town B carries the marker "乙镇" in its name and the ASCII marker
"townb" in its username or code, so that a scoping test can look for leaks in any response.
"""

from dataclasses import dataclass, field

from shapely.geometry import box
from sqlalchemy.orm import Session, object_session

from zhili.auth.passwords import hash_password
from zhili.auth.service import create_api_key
from zhili.category.service import add_category
from zhili.kit import geo
from zhili.models import (
    CategoryDeadline,
    CategoryKind,
    Department,
    Grid,
    GridDuty,
    GridKind,
    GridMember,
    ImportJob,
    Region,
    ResponsibilityRule,
    Role,
    Staff,
    StaffRole,
    Stage,
    Urgency,
    WorkOrder,
)
from zhili.models.jurisdiction import DepartmentKind
from zhili.work_order.schemas import AppealCreate
from zhili.work_order.service import file_appeal

PASSWORD = "Test@2026pw"
CITY, COUNTY = "339900000000", "339922000000"
TOWN_A, TOWN_B = "339922001000", "339922101000"
COMMUNITY_A, COMMUNITY_B = "339922001001", "339922101201"
B_MARKERS = ("乙镇", "townb", "339922101")


@dataclass
class World:
    regions: dict[str, Region] = field(default_factory=dict)
    grids: dict[str, Grid] = field(default_factory=dict)
    departments: dict[str, Department] = field(default_factory=dict)
    staff: dict[str, Staff] = field(default_factory=dict)
    api_keys: dict[str, int] = field(default_factory=dict)
    rules: dict[str, int] = field(default_factory=dict)
    orders: dict[str, int] = field(default_factory=dict)
    import_jobs: dict[str, int] = field(default_factory=dict)
    # Path-parameter values of the grid's base data and casework, per town: {"A": {...}, "B": {...}},
    # filled by tests/world_*.py (each area adds its rows there, town B's marked like every other).
    extra_ids: dict[str, dict[str, object]] = field(default_factory=lambda: {"A": {}, "B": {}})

    def path_ids(self, town: str) -> dict[str, object]:
        """One row of each kind in town "A" or "B", by the path-parameter names the routes use."""
        a = town == "A"
        order = object_session(self.regions[CITY]).get(WorkOrder, self.orders["A" if a else "B"])  # type: ignore[union-attr]
        return {
            "region_code": COMMUNITY_A if a else COMMUNITY_B,
            "grid_code": (COMMUNITY_A if a else COMMUNITY_B) + "001",
            "department_id": self.departments["D-A-PCS" if a else "D-townb-PCS"].id,
            "staff_id": self.staff["towna-viewer" if a else "townb-admin"].id,
            "key_id": self.api_keys["A" if a else "B"],
            "rule_id": self.rules["A" if a else "B"],
            # Categories are deployment-wide: the same row for both towns (the scoping test knows).
            "category_code": "T.SHZA",
            "order_id": self.orders["A" if a else "B"],
            "action": "dispatch",
            "job_id": self.import_jobs["A" if a else "B"],
            # Open311: a request is its order's code, its token the appeal's tracking code; .json for {fmt}.
            "service_request_id": order.code,  # type: ignore[union-attr]
            "token": order.appeals[0].tracking_code,  # type: ignore[union-attr]
            "service_code": "T.SHZA",
            "attribute_code": "DAMAGE",
            "fmt": "json",
            **self.extra_ids["A" if a else "B"],
        }


def _region(session: Session, w: World, code: str, name: str, level: str, parent: str | None,
            bounds: tuple[float, float, float, float]) -> Region:
    geom = box(*bounds)
    r = Region(code=code, name=name, level=level, parent=w.regions.get(parent) if parent else None,
               boundary=geo.dumps(geom), min_lon=bounds[0], min_lat=bounds[1], max_lon=bounds[2], max_lat=bounds[3])
    session.add(r)
    w.regions[code] = r
    return r


def _grid(session: Session, w: World, code: str, name: str, community: str,
          bounds: tuple[float, float, float, float]) -> Grid:
    geom = box(*bounds)
    g = Grid(code=code, name=name, kind=GridKind.basic, region=w.regions[community], boundary=geo.dumps(geom),
             min_lon=bounds[0], min_lat=bounds[1], max_lon=bounds[2], max_lat=bounds[3], area_m2=geo.area_m2(geom))
    session.add(g)
    w.grids[code] = g
    return g


def staff(session: Session, w: World, username: str, name: str, roles: list[Role], region: str,
          department: str | None = None, password_hash: str | None = None) -> Staff:
    s = Staff(username=username, display_name=name, phone="13900000000", password_hash=password_hash or "",
              region=w.regions[region], department=w.departments.get(department) if department else None,
              role_rows=[StaffRole(role=r) for r in roles])
    session.add(s)
    w.staff[username] = s
    return s


def build_world(session: Session) -> World:
    w = World()
    pw = hash_password(PASSWORD)
    _region(session, w, CITY, "云州市", "city", None, (119.0, 29.0, 121.0, 30.0))
    _region(session, w, COUNTY, "临溪县", "county", CITY, (119.5, 29.2, 120.1, 29.7))
    _region(session, w, TOWN_A, "甲街道", "town", COUNTY, (119.5, 29.2, 119.8, 29.7))
    _region(session, w, TOWN_B, "乙镇", "town", COUNTY, (119.8, 29.2, 120.1, 29.7))
    _region(session, w, COMMUNITY_A, "甲一社区", "village", TOWN_A, (119.5, 29.2, 119.6, 29.3))
    _region(session, w, COMMUNITY_B, "乙镇一村", "village", TOWN_B, (119.8, 29.2, 119.9, 29.3))
    session.flush()
    _grid(session, w, COMMUNITY_A + "001", "甲一社区第一网格", COMMUNITY_A, (119.5, 29.2, 119.55, 29.3))
    _grid(session, w, COMMUNITY_A + "002", "甲一社区第二网格", COMMUNITY_A, (119.55, 29.2, 119.6, 29.3))
    _grid(session, w, COMMUNITY_B + "001", "乙镇一村第一网格", COMMUNITY_B, (119.8, 29.2, 119.9, 29.3))
    for code, name, region, kind in [
        ("D-COUNTY-CG", "县综合行政执法局", COUNTY, DepartmentKind.government),
        ("D-COUNTY-ZJ", "县住房和城乡建设局", COUNTY, DepartmentKind.government),
        ("D-A-PCS", "甲街道派出所", TOWN_A, DepartmentKind.agency),
        ("D-townb-PCS", "乙镇派出所", TOWN_B, DepartmentKind.agency),
    ]:
        d = Department(code=code, name=name, kind=kind, region=w.regions[region])
        session.add(d)
        w.departments[code] = d
    session.flush()
    staff(session, w, "county-admin", "县管理员", [Role.admin], COUNTY, password_hash=pw)
    staff(session, w, "county-dispatcher", "县派遣员", [Role.dispatcher], COUNTY, password_hash=pw)
    staff(session, w, "county-handler", "县城管处置员", [Role.department_handler], COUNTY, "D-COUNTY-CG",
          password_hash=pw)
    staff(session, w, "county-handler2", "县城管处置员二", [Role.department_handler], COUNTY, "D-COUNTY-CG",
          password_hash=pw)
    staff(session, w, "county-zj", "县住建处置员", [Role.department_handler], COUNTY, "D-COUNTY-ZJ",
          password_hash=pw)
    staff(session, w, "county-agent", "县热线坐席", [Role.hotline_agent], COUNTY, password_hash=pw)
    staff(session, w, "county-leader", "县指挥长", [Role.command_leader], COUNTY, password_hash=pw)
    staff(session, w, "towna-admin", "甲街道管理员", [Role.admin], TOWN_A, password_hash=pw)
    staff(session, w, "towna-viewer", "甲街道领导", [Role.viewer, Role.dispatcher], TOWN_A, password_hash=pw)
    staff(session, w, "towna-police", "甲街道民警", [Role.department_handler], TOWN_A, "D-A-PCS", password_hash=pw)
    gw = staff(session, w, "towna-gw", "甲一网格员", [Role.grid_worker], COMMUNITY_A, password_hash=pw)
    staff(session, w, "townb-admin", "乙镇管理员", [Role.admin], TOWN_B, password_hash=pw)
    staff(session, w, "townb-police", "乙镇民警", [Role.department_handler], TOWN_B, "D-townb-PCS",
          password_hash=pw)
    gwb = staff(session, w, "townb-gw", "乙镇网格员", [Role.grid_worker], COMMUNITY_B, password_hash=pw)
    session.flush()
    w.grids[COMMUNITY_A + "001"].members.append(GridMember(duty=GridDuty.worker, staff_id=gw.id, name=gw.display_name))
    w.grids[COMMUNITY_B + "001"].members.append(
        GridMember(duty=GridDuty.worker, staff_id=gwb.id, name=gwb.display_name))
    # A small category tree (the full catalogue is tested in tests/category) and a rule per town.
    root = add_category(session, None, "T", "测试诉求", CategoryKind.group)
    root.deadlines = [CategoryDeadline(urgency=Urgency.normal, stage=stage, limit=limit)
                      for stage, limit in zip(Stage, ("4wh", "5wd", "1wd", "2wd"), strict=True)]
    security = add_category(session, root, "T.SHZA", "社会治安", CategoryKind.appeal)
    add_category(session, root, "T.SRGL", "市容城管", CategoryKind.appeal, w.departments["D-COUNTY-CG"])
    for town, code, dept in (("A", TOWN_A, "D-A-PCS"), ("B", TOWN_B, "D-townb-PCS")):
        rule = ResponsibilityRule(category_id=security.id, region_id=w.regions[code].id,
                                  lead_department_id=w.departments[dept].id)
        session.add(rule)
        session.flush()
        w.rules[town] = rule.id
    for town, community, text in (("A", COMMUNITY_A, "甲一社区路灯不亮"), ("B", COMMUNITY_B, "乙镇一村道路积水")):
        _appeal, order = file_appeal(session, None, AppealCreate(
            text=text, caller_name="张三", caller_phone="13800138000", region_code=community, category_code="T.SRGL"))
        w.orders[town] = order.id
    for town, code, name in (("A", TOWN_A, "甲街道接口"), ("B", TOWN_B, "乙镇接口")):
        key, _plain = create_api_key(session, name, w.regions[code], [Role.citizen], None)
        w.api_keys[town] = key.id
    for town, code, filename in (("A", TOWN_A, "甲街道历史工单.csv"), ("B", TOWN_B, "乙镇历史工单-townb.csv")):
        job = ImportJob(kind="appeals", filename=filename, status="done", region_code=code, processed_rows=3,
                        imported_rows=3)
        session.add(job)
        session.flush()
        w.import_jobs[town] = job.id
    session.flush()
    from tests import world_basedata, world_casework, world_keyperson

    for area in (world_basedata, world_keyperson, world_casework):
        area.add(session, w)
    session.flush()
    return w


def login(client, username: str, password: str = PASSWORD) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Bearer headers for the JSON API."""
    r = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def page_login(client, username: str, password: str = PASSWORD) -> str:  # type: ignore[no-untyped-def]
    """Signs the TestClient in through the login form; returns the CSRF token for later posts."""
    import re

    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    r = client.post("/login", data={"username": username, "password": password, "csrf_token": token, "next": "/"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    return token
