"""The demo county: 云州市临溪县, a fictional county of ten towns, a hundred villages and communities,
some 250 grids, its departments and an account for every role.

Everything is drawn from one seeded `random.Random`, and every loop runs over lists in a fixed order,
so two runs on empty databases write the same codes, names, polygons, phones and usernames.

Polygons are Voronoi cells of seeded points clipped to their parent's outline: towns tile the county,
villages tile their town and grids tile their village. Neighbouring cells come from one diagram, so
their shared edges carry the very same floating-point vertices and never overlap; the coordinates are
written at full precision so that this survives the round trip through GeoJSON.
"""

import math
import random
from dataclasses import dataclass
from typing import TypeVar

import shapely
from shapely import affinity
from shapely.geometry import MultiPoint, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy.orm import Session

from zhili.kit import geo
from zhili.kit.codes import RegionLevel, TownKind, VillageKind, check_grid_code, check_region_code, town_kind
from zhili.models import Department, Grid, GridDuty, GridKind, GridMember, Region, Role, Staff, StaffRole
from zhili.models.jurisdiction import DepartmentKind

SEED = 339922
CITY_CODE = "339900000000"
COUNTY_CODE = "339922000000"
CITY_NAME = "云州市"
COUNTY_NAME = "临溪县"
# The county's bounding box (WGS-84): about 39 km east–west and 33 km north–south.
COUNTY_BOX = (119.6, 29.3, 120.0, 29.6)
AREA_CODE = "0576"  # landline prefix of the fictional 云州市


@dataclass
class DemoAccount:
    username: str
    password: str
    role: str
    region_code: str
    department: str | None
    grid_code: str | None
    display_name: str


@dataclass(frozen=True)
class _TownPlan:
    number: str  # the town's 3 digits of the division code
    name: str
    # Where the town's seat lies, as an angle (degrees, counter-clockwise from east) and a fraction of the
    # county's half-extent from its centre: streets cluster round the centre, towns ring them.
    angle: float
    radius: float
    villages: int  # villages and communities in the town
    communities: int  # how many of them are 社区 (the rest are 村)
    special_places: tuple[str, ...]  # 专属网格 in this town


_TOWNS = (
    _TownPlan("001", "城关街道", 120, 0.15, 10, 10, ("临溪中学", "县人民医院")),
    _TownPlan("002", "东湖街道", 0, 0.16, 8, 7, ("东湖公园", "临溪高铁站")),
    _TownPlan("003", "南山街道", 240, 0.16, 8, 6, ("临溪实验小学",)),
    _TownPlan("101", "溪口镇", 0, 0.62, 13, 2, ("溪口古镇景区",)),
    _TownPlan("102", "白沙镇", 50, 0.62, 11, 1, ("白沙工业园区",)),
    _TownPlan("103", "青石镇", 100, 0.62, 13, 2, ("青石水库",)),
    _TownPlan("104", "桃源镇", 150, 0.62, 10, 1, ("桃源农贸市场",)),
    _TownPlan("105", "枫林镇", 310, 0.62, 12, 1, ("枫林茶博园",)),
    _TownPlan("201", "白云乡", 200, 0.64, 8, 1, ("白云山景区",)),
    _TownPlan("202", "岭下乡", 255, 0.64, 7, 0, ()),
)

_COMMUNITY_NAMES = (
    "凤鸣", "文昌", "中山", "解放", "新华", "锦绣", "和平", "朝阳", "湖滨", "金桥", "翠苑", "望江", "清风",
    "南苑", "北门", "西园", "长乐", "永安", "康宁", "兴隆", "丰乐", "春晖", "明珠", "星河", "府前", "学院",
    "滨江", "荷花池", "紫薇", "桂花园", "东门", "西门", "溪滨", "新城", "德政", "状元", "育才", "新街",
)
_VILLAGE_NAMES = (
    "桥头", "柳塘", "石门", "溪头", "竹坞", "枫树湾", "桃花坞", "梅岭", "松林", "杨家埠", "李家坪", "何家庄",
    "上洋", "下洋", "前岙", "后畈", "东坑", "西坞", "南岭", "北山", "高岭", "黄泥岗", "白石", "青山", "金竹",
    "龙潭", "马鞍山", "鹤溪", "云峰", "荷塘", "莲花", "大坪", "小溪", "新塘", "古樟", "双溪", "三门", "五里亭",
    "九龙", "十里铺", "沙埠", "塘下", "岩头", "坑口", "岭脚", "田畈", "茶园", "樟树下", "杏坑", "栗园",
    "葛岭", "蒋家", "周家", "吴宅", "郑家山", "陈家坞", "徐家畈", "方山", "叶家", "潘岙", "应家", "俞源",
    "朱家墩", "楼下", "门前山", "水碓", "石塘", "泉口", "乌石", "洞坑", "横山", "环溪", "官塘", "芝溪",
    "长林", "里坑", "外坑", "湖头", "塘头", "堰口", "桐坑", "银坑", "铜山", "麻车", "碧湖",
)

_SURNAMES = (
    "王", "陈", "张", "李", "吴", "周", "徐", "朱", "杨", "金", "叶", "胡", "郑", "应", "楼", "蒋", "方", "俞",
    "潘", "何", "黄", "林", "赵", "孙", "刘", "沈", "杜", "程", "施", "卢", "章", "汪", "邵", "傅", "姜", "鲍",
)
_GIVEN_NAMES = (
    "建国", "志强", "海燕", "丽娟", "伟", "芳", "敏", "静", "磊", "洋", "勇", "军", "杰", "娟", "涛", "明", "超",
    "秀英", "桂英", "晓东", "晓燕", "红梅", "建华", "国庆", "文杰", "佳怡", "子涵", "宇轩", "浩然", "欣怡",
    "梓萱", "雨桐", "思远", "俊杰", "慧敏", "丽华", "春燕", "国强", "卫东", "志明", "永红", "晓峰", "建平",
    "秀兰", "玉兰", "美玲", "立新", "振华", "海军", "晨", "琳", "鹏", "婷", "雪", "斌", "波", "辉", "萍",
    "一鸣", "嘉豪", "雅琴", "素芬", "金宝", "春华", "月娥", "成龙", "永强", "丹丹",
)
_MOBILE_PREFIXES = ("139", "138", "137", "136", "135", "158", "159", "150", "151", "152", "187", "188", "133",
                    "153", "177", "180", "181", "189", "199", "186")

# County departments: (ascii slug for the handler's username, name, short name, kind, duties).
# The slug is part of a stable username (handler-cg), so never reorder or rename it.
_G, _A, _E, _C = DepartmentKind.government, DepartmentKind.agency, DepartmentKind.enterprise, DepartmentKind.command
_COUNTY_DEPARTMENTS: tuple[tuple[str, str, str, DepartmentKind, str], ...] = (
    ("zhzx", "县社会治理中心", "社治中心", _C, "全县社会治理综合指挥：诉求分拨、工单派遣督办、预警研判、考核评价。"),
    ("zfw", "县委政法委", "政法委", _G, "统筹平安建设、综治工作和网格化管理，牵头矛盾纠纷多元化解。"),
    ("cg", "县综合行政执法局", "城管", _G, "市容环境、占道经营、违法搭建、户外广告、渣土运输等城市管理执法。"),
    ("zj", "县住房和城乡建设局", "住建", _G, "房屋安全、物业管理、建筑工地、市政设施和城乡建设管理。"),
    ("jj", "县公安局交通警察大队", "交警", _A, "道路交通秩序、违法停车、交通事故处理、交通信号设施。"),
    ("scjg", "县市场监督管理局", "市场监管", _G, "食品药品安全、价格和计量投诉、无证经营、消费维权。"),
    ("sthj", "市生态环境局临溪分局", "生态环境", _A, "大气、水、噪声和固体废物污染的监管与投诉处置。"),
    ("sl", "县水利局", "水利", _G, "河道、水库、山塘管理，防汛抗旱，水域安全。"),
    ("sw", "临溪水务集团有限公司", "水务", _E, "城乡供水、排水管网、停水、水质和管道抢修。"),
    ("gd", "国网临溪县供电公司", "供电", _E, "供电抢修、停电、线路和变压器安全隐患。"),
    ("rq", "临溪港华燃气有限公司", "燃气", _E, "管道燃气供应、燃气泄漏抢险、燃气设施安全检查。"),
    ("wj", "县卫生健康局", "卫健", _G, "医疗服务、公共卫生、传染病防控和医患纠纷。"),
    ("jy", "县教育局", "教育", _G, "中小学和幼儿园管理、招生入学、校园周边安全、培训机构监管。"),
    ("mz", "县民政局", "民政", _G, "社会救助、养老服务、殡葬管理、社会组织和村（社区）治理。"),
    ("rs", "县人力资源和社会保障局", "人社", _G, "就业创业、社会保险、欠薪投诉和劳动保障监察。"),
    ("xf", "县信访局", "信访", _G, "来信来访和网上信访的登记、交办、督办和复查复核。"),
    ("zr", "县自然资源和规划局", "自然资源", _G, "国土空间规划、土地和矿产执法、地质灾害防治。"),
    ("jt", "县交通运输局", "交通", _G, "道路和桥梁养护、公交客运、出租车和网约车管理。"),
    ("ny", "县农业农村局", "农业农村", _G, "农业生产、农村人居环境、农村宅基地、动植物疫病防控。"),
    ("wl", "县文化和广电旅游体育局", "文广旅体", _G, "文化市场、旅游景区、体育场馆和文物保护。"),
    ("yj", "县应急管理局", "应急", _G, "安全生产监管、应急预案、防灾减灾和应急救援协调。"),
    ("xfjy", "县消防救援大队", "消防", _A, "火灾扑救、抢险救援、消防安全检查和消防通道隐患。"),
    ("yb", "县医疗保障局", "医保", _G, "医保参保、待遇结算和医保基金监管。"),
    ("sf", "县司法局", "司法", _G, "人民调解、法律援助、社区矫正和普法宣传。"),
    ("sj", "县数据局", "数据", _G, "政务数据共享、公共数据平台和本平台的运行保障。"),
    ("dx", "中国电信临溪分公司", "电信", _E, "通信线路、宽带和移动网络故障，通信设施隐患。"),
    ("ga", "县公安局", "公安", _G, "社会治安、户籍管理、重点人员管控和治安案件查处。"),
    ("zwb", "县政务服务管理办公室", "政务服务", _G, "政务服务中心和 12345 政务服务热线的运行管理。"),
    ("swj", "县商务局", "商务", _G, "商贸流通、农贸市场建设、成品油和报废车回收监管。"),
    ("tyjr", "县退役军人事务局", "退役军人", _G, "退役军人安置、优抚褒扬和权益维护。"),
    ("fl", "县妇女联合会", "妇联", _G, "妇女儿童权益维护、婚姻家庭纠纷调解和家庭教育指导。"),
)
# The first handler account in the list is the one `zhili demo` prints: make it the everyday one, 城管.
_FIRST_HANDLER = "cg"

_DIGITS = "零一二三四五六七八九"


def _chinese_number(n: int) -> str:
    """1–99 as written in grid names: 一, 十, 十二, 二十, 二十三."""
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _DIGITS[ones]
    return ("" if tens == 1 else _DIGITS[tens]) + "十" + (_DIGITS[ones] if ones else "")


# Geometry -------------------------------------------------------------------------------------


def _outline(rng: random.Random, box: tuple[float, float, float, float], vertices: int = 90) -> Polygon:
    """An irregular but star-shaped outline that fills `box` exactly: a circle whose radius wobbles by
    a few low harmonics, stretched onto the box."""
    harmonics = [(k, rng.uniform(0, 2 * math.pi), rng.uniform(0.04, 0.09) / math.sqrt(k))
                 for k in (2, 3, 4, 5, 7, 9, 12)]
    points = []
    for i in range(vertices):
        t = 2 * math.pi * i / vertices
        r = 1 + sum(a * math.sin(k * t + phase) for k, phase, a in harmonics)
        points.append((r * math.cos(t), r * math.sin(t)))
    shape = Polygon(points)
    minx, miny, maxx, maxy = shape.bounds
    west, south, east, north = box
    shape = affinity.translate(shape, -minx, -miny)
    shape = affinity.scale(shape, (east - west) / (maxx - minx), (north - south) / (maxy - miny), origin=(0, 0))
    return affinity.translate(shape, west, south)


def _polygonal(geom: BaseGeometry) -> Polygon | MultiPolygon:
    """The areal part of a clipped cell: clipping a convex cell against a wavy outline can leave stray
    points or lines (touching corners), which carry no area."""
    if isinstance(geom, Polygon | MultiPolygon):
        return geom
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, Polygon) and not p.is_empty]
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


def _tile(area: Polygon | MultiPolygon, seeds: list[Point]) -> list[Polygon | MultiPolygon]:
    """Voronoi cells of `seeds` clipped to `area`, in the order of `seeds`. They cover `area` and meet
    only along shared edges."""
    if len(seeds) == 1:
        return [area]  # the very same coordinates as the parent, so the union is exact
    cells = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=area, ordered=True)
    return [_polygonal(cell.intersection(area)) for cell in cells.geoms]


def _random_points(rng: random.Random, area: Polygon | MultiPolygon, n: int) -> list[Point]:
    minx, miny, maxx, maxy = area.bounds
    points: list[Point] = []
    while len(points) < n:
        p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if area.contains(p):
            points.append(p)
    return points


def _relaxed_tiles(rng: random.Random, area: Polygon | MultiPolygon, n: int) -> list[Polygon | MultiPolygon]:
    """`n` cells of similar size: random seeds moved a few times to their cell's centroid (Lloyd's
    algorithm), which turns the slivers of a raw random diagram into plausible blocks."""
    seeds = _random_points(rng, area, n)
    for _ in range(3):
        cells = _tile(area, seeds)
        seeds = [c.centroid if area.contains(c.centroid) else c.representative_point() for c in cells]
    return _tile(area, seeds)


_Cell = TypeVar("_Cell", bound=BaseGeometry)


def _reading_order(cells: list[_Cell]) -> list[_Cell]:
    """Grid numbering order: rows from north to south, each row from west to east. The cells are cut
    into about √n rows by the latitude of their centroids."""
    n = len(cells)
    rows = max(1, round(math.sqrt(n)))
    per_row = max(1, math.ceil(n / rows))
    centres = [c.centroid for c in cells]
    by_lat = sorted(range(n), key=lambda i: (-centres[i].y, centres[i].x))
    order: list[int] = []
    for start in range(0, n, per_row):
        order += sorted(by_lat[start:start + per_row], key=lambda i: centres[i].x)
    return [cells[i] for i in order]


def _bbox(geom: BaseGeometry) -> dict[str, float]:
    minx, miny, maxx, maxy = geom.bounds
    return {"min_lon": minx, "min_lat": miny, "max_lon": maxx, "max_lat": maxy}


# People ---------------------------------------------------------------------------------------


class _People:
    """Names and mobile numbers, drawn from the one seeded generator and never handed out twice, so that
    a dispatcher looking for 王建国 finds one person."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.names: set[str] = set()  # membership only: iteration order never reaches the output
        self.phones: set[str] = set()

    def name(self) -> str:
        while True:
            candidate = self.rng.choice(_SURNAMES) + self.rng.choice(_GIVEN_NAMES)
            if candidate not in self.names:
                self.names.add(candidate)
                return candidate

    def phone(self) -> str:
        while True:
            candidate = self.rng.choice(_MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if candidate not in self.phones:
                self.phones.add(candidate)
                return candidate


# The county -----------------------------------------------------------------------------------


class _Builder:
    def __init__(self, session: Session, password: str, password_hash: str) -> None:
        self.session = session
        self.password = password
        self.password_hash = password_hash
        self.rng = random.Random(SEED)
        self.people = _People(self.rng)
        self.rows: list[object] = []
        self.accounts: list[DemoAccount] = []
        # GridMember rows wait for the first flush, which gives chiefs and workers their ids:
        # (grid, duty, account or None for a volunteer, name, phone), in the order they are listed.
        self.memberships: list[tuple[Grid, GridDuty, Staff | None, str, str]] = []

    def region(self, code: str, name: str, level: RegionLevel, parent: Region | None,
               shape: Polygon | MultiPolygon) -> Region:
        assert check_region_code(code) is None, code
        row = Region(code=code, name=name, level=level, parent=parent, boundary=geo.dumps(shape), **_bbox(shape))
        self.rows.append(row)
        return row

    def grid(self, code: str, name: str, kind: GridKind, community: Region, shape: Polygon | MultiPolygon) -> Grid:
        assert check_grid_code(code) is None, code
        # `members=[]` marks the collection as loaded: appending to it after the flush costs no query.
        row = Grid(code=code, name=name, kind=kind, region=community, boundary=geo.dumps(shape),
                   area_m2=geo.area_m2(shape), note="", members=[], **_bbox(shape))
        self.rows.append(row)
        return row

    def staff(self, username: str, role: Role, region: Region, department: Department | None = None,
              grid_code: str | None = None) -> Staff:
        row = Staff(username=username, display_name=self.people.name(), phone=self.people.phone(),
                    password_hash=self.password_hash, region=region, department=department,
                    role_rows=[StaffRole(role=role)])
        self.rows.append(row)
        self.accounts.append(DemoAccount(
            username=username, password=self.password, role=role.value, region_code=region.code,
            department=department.name if department else None, grid_code=grid_code,
            display_name=row.display_name))
        return row

    def build(self) -> list[DemoAccount]:
        county_shape = _outline(self.rng, COUNTY_BOX)
        # The city reaches well beyond the county (its other districts are not part of the demo).
        city_shape = _outline(self.rng, (119.3, 29.1, 120.5, 29.95))
        if not city_shape.contains(county_shape):
            city_shape = city_shape.union(county_shape)
        city = self.region(CITY_CODE, CITY_NAME, RegionLevel.city, None, city_shape)
        county = self.region(COUNTY_CODE, COUNTY_NAME, RegionLevel.county, city, county_shape)

        departments = self.county_departments(county)
        self.county_staff(county, departments)

        cx, cy = county_shape.centroid.x, county_shape.centroid.y
        half_w, half_h = (COUNTY_BOX[2] - COUNTY_BOX[0]) / 2, (COUNTY_BOX[3] - COUNTY_BOX[1]) / 2
        seats = [Point(cx + t.radius * half_w * math.cos(math.radians(t.angle)),
                       cy + t.radius * half_h * math.sin(math.radians(t.angle))) for t in _TOWNS]
        town_shapes = _tile(county_shape, seats)
        community_names = list(_COMMUNITY_NAMES)
        village_names = list(_VILLAGE_NAMES)
        self.rng.shuffle(community_names)
        self.rng.shuffle(village_names)
        for plan, seat, shape in zip(_TOWNS, seats, town_shapes, strict=True):
            town = self.region(COUNTY_CODE[:6] + plan.number + "000", plan.name, RegionLevel.town, county, shape)
            self.town_departments_and_staff(town, plan)
            places = list(plan.special_places)
            for community, cell in self.villages(town, plan, seat, shape, community_names, village_names):
                self.grids(community, cell, places)

        self.session.add_all(self.rows)
        self.session.flush()
        # Appended through the relationship so that `grid.members` in this session is complete, chief and
        # worker first (members are listed by id).
        for grid, duty, staff, name, phone in self.memberships:
            grid.members.append(GridMember(duty=duty, staff_id=staff.id if staff else None, name=name, phone=phone))
        self.session.flush()
        return self.accounts

    def county_departments(self, county: Region) -> dict[str, Department]:
        departments: dict[str, Department] = {}
        for i, (slug, name, short, kind, duties) in enumerate(_COUNTY_DEPARTMENTS, start=1):
            departments[slug] = Department(
                code=f"D{COUNTY_CODE[:6]}-{i:03d}", name=name, short_name=short, kind=kind, region=county,
                phone=f"{AREA_CODE}-8{self.rng.randrange(10**7):07d}", duties=duties)
            self.rows.append(departments[slug])
        return departments

    def county_staff(self, county: Region, departments: dict[str, Department]) -> None:
        # The order matters: `zhili demo` prints the first account of each role.
        for username, role in (
            ("admin", Role.admin), ("leader", Role.command_leader), ("dispatcher", Role.dispatcher),
            ("dispatcher2", Role.dispatcher), ("agent1", Role.hotline_agent), ("agent2", Role.hotline_agent),
            ("agent3", Role.hotline_agent), ("viewer", Role.viewer), ("mediator", Role.mediator),
            ("citizen", Role.citizen),
        ):
            self.staff(username, role, county)
        slugs = [_FIRST_HANDLER] + [slug for slug in departments if slug != _FIRST_HANDLER]
        for slug in slugs:
            self.staff(f"handler-{slug}", Role.department_handler, county, departments[slug])

    def town_departments_and_staff(self, town: Region, plan: _TownPlan) -> None:
        short = plan.name.removesuffix("街道").removesuffix("镇").removesuffix("乡")
        prefix = town.code[:9]
        centre = Department(
            code=f"D{prefix}-001", name=f"{plan.name}综治中心", short_name=f"{short}综治", kind=DepartmentKind.command,
            region=town, phone=f"{AREA_CODE}-8{self.rng.randrange(10**7):07d}",
            duties="本乡镇（街道）社会治理综合指挥：网格事件受理、派遣、督办，矛盾纠纷调处。")
        police = Department(
            code=f"D{prefix}-002", name=f"{short}派出所", short_name=f"{short}所", kind=DepartmentKind.agency,
            region=town, phone=f"{AREA_CODE}-8{self.rng.randrange(10**7):07d}",
            duties="辖区治安管理、户籍管理、110 警情处置和矛盾纠纷联调。")
        self.rows += [centre, police]
        user = f"t{plan.number}"
        for suffix, role in (("admin", Role.admin), ("leader", Role.command_leader),
                             ("dispatcher", Role.dispatcher), ("mediator", Role.mediator),
                             ("viewer", Role.viewer)):
            self.staff(f"{user}-{suffix}", role, town)
        self.staff(f"{user}-police", Role.department_handler, town, police)

    def villages(
        self, town: Region, plan: _TownPlan, seat: Point, shape: Polygon | MultiPolygon,
        community_names: list[str], village_names: list[str],
    ) -> list[tuple[Region, Polygon | MultiPolygon]]:
        cells = _relaxed_tiles(self.rng, shape, plan.villages)
        street = town_kind(town.code) == TownKind.street
        # Communities (社区) are the built-up cells: in a street everything but its outer edge, in a
        # town or township the cells round its seat.
        by_distance = sorted(cells, key=lambda c: c.centroid.distance(seat))
        communities, villages = by_distance[:plan.communities], by_distance[plan.communities:]
        out = []
        for kind, group in ((VillageKind.community, communities), (VillageKind.village, villages)):
            first = 1 if kind == VillageKind.community else 201
            for i, cell in enumerate(_reading_order(group)):
                if kind == VillageKind.village:
                    name = village_names.pop() + "村"
                elif i == 0 and not street:
                    name = town.name[:-1] + "社区"  # the seat's community carries the town's name
                else:
                    name = community_names.pop() + "社区"
                code = town.code[:9] + f"{first + i:03d}"
                out.append((self.region(code, name, RegionLevel.village, town, cell), cell))
        return out

    def grids(self, community: Region, shape: Polygon | MultiPolygon, places: list[str]) -> None:
        urban = community.code[9:] < "200"
        street = town_kind(community.code) == TownKind.street
        if urban:
            n = self.rng.randint(3, 5) if street else self.rng.randint(3, 4)
        else:
            n = self.rng.randint(2, 3) if street else self.rng.randint(1, 3)
        cells = _reading_order(_relaxed_tiles(self.rng, shape, n))
        grids = []
        for i, cell in enumerate(cells, start=1):
            code = f"{community.code}{i:03d}"
            grids.append(self.grid(code, f"{community.name}第{_chinese_number(i)}网格", GridKind.basic, community,
                                   cell))
        chief = self.staff(f"gc-{community.code}", Role.grid_chief, community, grid_code=grids[0].code)
        for grid in grids:
            worker = self.staff(f"gw-{grid.code}", Role.grid_worker, community, grid_code=grid.code)
            self.memberships += [(grid, GridDuty.chief, chief, chief.display_name, chief.phone),
                                 (grid, GridDuty.worker, worker, worker.display_name, worker.phone)]
            for _ in range(self.rng.randint(1, 3)):
                self.memberships.append((grid, GridDuty.volunteer, None, self.people.name(), self.people.phone()))
        self.special_grid(grids, places)

    def special_grid(self, grids: list[Grid], places: list[str]) -> None:
        """Hand the town's next special place (a school, a hospital, a scenic spot) one cell of this
        community. Some communities are skipped at random so that the places spread over the town;
        with two or three places per town and seven to thirteen communities, every place finds one."""
        if len(grids) < 2 or not places or self.rng.random() < 0.4:
            return
        grid = grids[self.rng.randrange(len(grids))]
        grid.kind = GridKind.special
        grid.name = f"{places.pop(0)}专属网格"


def build_demo(session: Session, password: str, password_hash: str) -> list[DemoAccount]:
    """Insert the whole demo county into an EMPTY database via the ORM (session.add / add_all, flush;
    never commit). Every account gets `password_hash`: hashing hundreds of passwords would take minutes.
    Returns one DemoAccount per staff account, county accounts first, in a stable order."""
    return _Builder(session, password, password_hash).build()
