"""All-or-nothing imports of base data from CSV or Excel: addresses, houses, residents, units, places.

Like the appeals import (transfer.appeals): rows are read, checked and written a batch at a time in
the caller's one transaction, so memory stays bounded; every bad row and field is reported (the
first MAX_PROBLEMS of them, and how many there were); if any row is bad, ImportRejected is raised
and the caller rolls everything back. Good rows are written as the file is read even after a bad
one, so that a later row can find an earlier one (an address under an address of the same file, a
repeated identity number) through the database, not through a set of everything seen.

Ids are taken before writing (the table's sequence on PostgreSQL; max + 1 under SQLite's write
lock), so that rows go in with COPY / executemany and each gets its "created by import" history
entry in the same pass. A record of this import is one whose id is at least the first id taken.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

from shapely import STRtree
from shapely.geometry import Point
from sqlalchemy import Table, func, insert, select, text, update
from sqlalchemy.orm import Session

from zhili.access import readable
from zhili.auth.subject import Subject
from zhili.basedata import repository as repo
from zhili.basedata.checks import (
    birth_date_of,
    check_credit_code,
    check_resident_id,
    gender_of,
    normal_id_number,
    normal_phone,
)
from zhili.basedata.labels import (
    LEVEL_LABELS,
    PLACE_KIND_LABELS,
    RESIDENT_KIND_LABELS,
    UNIT_KIND_LABELS,
    USE_LABELS,
)
from zhili.basedata.service import LEVEL_ORDER, parse_geometry
from zhili.errors import AppError, FieldProblem, ImportRejected
from zhili.jurisdiction.imports import _header
from zhili.kit import geo, i18n
from zhili.kit.codes import check_phone
from zhili.kit.i18n import N_, _
from zhili.kit.protect import Sealed, blind_index, seal
from zhili.kit.time import now
from zhili.models import Address, AddressLevel, Change, Grid, House, Place, Region, Resident, Unit
from zhili.transfer import repository as trepo
from zhili.transfer.appeals import AppealImportReport
from zhili.transfer.files import batches, table_file

BATCH_SIZE: Final = 1000
MAX_PROBLEMS: Final = 1000
YES: Final = frozenset({"是", "y", "yes", "true", "1", "√", "✓"})
NO: Final = frozenset({"否", "n", "no", "false", "0", ""})


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    example: str = ""
    hint: str = ""


@dataclass(frozen=True)
class Spec:
    label: str
    model: Any
    entity: str
    columns: tuple[Column, ...]
    check: Callable[["_Fields", "_Importer"], dict[str, Any] | None]
    # Checks that need the whole batch and the database (references, duplicates); fills the rows.
    resolve: Callable[["_Importer", list[tuple["_Fields", dict[str, Any]]]], None]


AREA_HINT = N_("15 位网格编码；没有地址或坐标时必填（无网格时可填 12 位社区代码）")
ADDRESS_HINT = N_("完整的标准地址，与地址库一致，例如 幸福路 3号楼 2单元 301室")


class _Fields:
    """One row's text by field name, and the problems found in it."""

    def __init__(self, number: int, values: dict[str, str]) -> None:
        self.number = number
        self.values = values
        self.problems: list[FieldProblem] = []

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    def problem(self, name: str, problem: str, expected: str = "") -> None:
        self.problems.append(FieldProblem(name, problem, expected, self.number))

    def text(self, name: str, limit: int, *, required: bool = False) -> str:
        value = self.get(name)
        if required and not value:
            self.problem(name, _("必填"))
        elif len(value) > limit:
            self.problem(name, _("最多 {n} 个字符", n=limit))
            return value[:limit]
        return value

    def choice(self, name: str, labels: dict[Any, str], default: Any) -> Any:
        value = self.get(name)
        if not value:
            return default
        for member, label in labels.items():  # "街路巷/村组" answers to either half too
            names = (member.value, _(label).lower(), label, *label.split("/"), *_(label).lower().split("/"))
            if value.lower() in names:
                return member
        choices = "、".join(_(label) for label in labels.values())
        self.problem(name, _("“{v}”无法识别", v=value), _("以下之一：{e}", e=choices))
        return default

    def flag(self, name: str) -> bool:
        value = self.get(name).lower()
        if value in YES:
            return True
        if value not in NO:
            self.problem(name, _("“{v}”无法识别", v=value), _("是 或 否"))
        return False

    def numeric(self, name: str, low: float, high: float, *, whole: bool = False) -> float | None:
        value = self.get(name)
        if not value:
            return None
        try:
            n = float(value)
        except ValueError:
            n = float("nan")
        if not low <= n <= high or (whole and n != int(n)):
            self.problem(name, _("应为 {a} 到 {b} 之间的数字", a=low, b=high))
            return None
        return n

    def phone(self, name: str) -> str:
        value = normal_phone(self.get(name))
        if value:
            problem = check_phone(value)
            if problem:
                self.problem(name, problem)
        return value

    def day(self, name: str) -> date | None:
        value = self.get(name).split(" ")[0].replace("/", "-")
        if not value:
            return None
        try:
            return date.fromisoformat("-".join(p.zfill(2) for p in value.split("-")))
        except ValueError:
            self.problem(name, _("日期“{v}”无法识别", v=self.get(name)), _("YYYY-MM-DD，例如 1985-03-12"))
            return None


class _Areas:
    """The grids and communities an import may file into (the subject's, or all for the command line),
    and an R-tree of the grids for positions."""

    def __init__(self, session: Session, subject: Subject | None) -> None:
        self.subject = subject
        grids = readable(subject, Grid) if subject is not None else select(Grid)
        rows = session.execute(grids.with_only_columns(Grid.id, Grid.code, Grid.boundary).order_by(Grid.id))
        self.grids: dict[str, int] = {}
        shapes, self.places = [], []
        for gid, code, boundary in rows:
            self.grids[code] = gid
            shapes.append(geo.loads(boundary))
            self.places.append((code, gid))
        self.tree = STRtree(shapes)
        regions = readable(subject, Region) if subject is not None else select(Region)
        self.communities = set(session.scalars(regions.with_only_columns(Region.code)
                                               .where(Region.level == "village")))

    def allowed(self, area: str) -> bool:
        s = self.subject
        if s is None:
            return True
        return area in s.grid_codes if s.grid_bound else area.startswith(s.scope_prefix)

    def of_code(self, f: _Fields, name: str) -> tuple[str, int | None] | None:
        code = f.get(name)
        if "E+" in code.upper():
            f.problem(name, _("编码被 Excel 显示成了科学计数法（{v}），后几位已丢失", v=code),
                      _("把该列设为“文本”格式后重新填写完整编码"))
            return None
        if len(code) == 15 and code in self.grids:
            found: tuple[str, int | None] = (code, self.grids[code])
        elif len(code) == 12 and code in self.communities:
            found = (code, None)
        else:
            f.problem(name, _("网格或社区 {c} 不存在或不在您的管辖范围内", c=code), _(AREA_HINT))
            return None
        if not self.allowed(found[0]):
            f.problem(name, _("{c} 不在您负责的网格内", c=code))
            return None
        return found

    def of_point(self, f: _Fields, name: str, lon: float, lat: float) -> tuple[str, int] | None:
        hits = self.tree.query(Point(lon, lat), predicate="covered_by")
        if not len(hits):
            return None
        code, gid = self.places[min(hits)]
        if not self.allowed(code):
            f.problem(name, _("该位置在网格 {c}，不在您负责的范围内", c=code))
            return None
        return code, gid


@dataclass
class _Importer:
    session: Session
    spec: Spec
    subject: Subject | None
    areas: _Areas
    report: AppealImportReport = field(default_factory=AppealImportReport)
    first_id: int | None = None
    next_id: int | None = None
    at: Any = field(default_factory=now)
    actor: str = ""

    def ids(self, n: int) -> list[int]:
        table = self.spec.model.__tablename__
        if trepo.is_postgres(self.session):
            ids = list(self.session.scalars(text(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) "
                                                 "FROM generate_series(1, :n)"), {"n": n}))
        else:
            if self.next_id is None:
                self.session.execute(update(self.spec.model).where(self.spec.model.id == -1)
                                     .values(id=self.spec.model.id).execution_options(synchronize_session=False))
                self.next_id = (self.session.scalar(select(func.max(self.spec.model.id))) or 0) + 1
            ids = list(range(self.next_id, self.next_id + n))
            self.next_id += n
        if self.first_id is None and ids:
            self.first_id = ids[0]
        return ids

    def from_this_file(self, row_id: int) -> bool:
        return self.first_id is not None and row_id >= self.first_id

    def add(self, batch: list[tuple[int, dict[str, str]]], columns: dict[str, str]) -> None:
        checked: list[tuple[_Fields, dict[str, Any]]] = []
        for number, raw in batch:
            self.report.rows += 1
            f = _Fields(number, {columns[k]: v.strip() for k, v in raw.items() if k in columns and v})
            row = self.spec.check(f, self)
            checked.append((f, row or {}))
        self.spec.resolve(self, checked)
        good = []
        for f, row in checked:
            if f.problems:
                self.report.add(f.problems)
            else:
                good.append(row)
        self.write(good)

    def write(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        fresh = [r for r in rows if "id" not in r]
        for row, row_id in zip(fresh, self.ids(len(fresh)), strict=True):
            row["id"] = row_id
        for row in rows:
            row.setdefault("created_at", self.at)
            row.setdefault("updated_at", self.at)
        insert_rows(self.session, self.spec.model, rows)
        changes = [{"entity": self.spec.entity, "entity_id": r["id"], "action": "create",
                    "fields": {"import": [None, self.spec.entity]}, "staff_id": self._staff_id(),
                    "staff_name": self.actor, "area_code": r["area_code"], "at": self.at} for r in rows]
        insert_rows(self.session, Change, changes)
        self.report.created += len(rows)

    def _staff_id(self) -> int | None:
        s = self.subject
        return s.id if s is not None and s.kind == "staff" and s.id > 0 else None


def insert_rows(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """Bulk insert with the sealed columns sealed on both databases: COPY (transfer.repository) writes
    values as given, so they are sealed here first; a Core executemany seals through the column type."""
    if not rows:
        return
    if not trepo.is_postgres(session):
        session.execute(insert(model.__table__), rows)
        return
    table: Table = model.__table__
    sealed = [c.name for c in table.columns if isinstance(c.type, Sealed) and c.name in rows[0]]
    for row in rows:
        for name in sealed:
            row[name] = seal(row[name] or "")
    trepo.insert_rows(session, model, rows)


# Addresses -------------------------------------------------------------------------------------

ADDRESS_COLUMNS = (
    Column("parent", N_("上级地址"), ("上级",), example="幸福路 3号楼", hint=N_("上级地址的完整名称；街路巷/村组留空")),
    Column("name", N_("名称"), ("地址名称",), True, "2单元", N_("本级名称，例如 幸福路、3号楼、2单元、301室")),
    Column("level", N_("层级"), ("地址层级",), True, "单元", N_("街路巷/村组、楼栋/门牌、单元、户室")),
    Column("grid_code", N_("网格编码"), ("所属网格",), hint=AREA_HINT),
    Column("lon", N_("经度"), ("lng",), hint=N_("WGS-84；落在网格内的点决定所属网格")),
    Column("lat", N_("纬度"), ()),
)


def _check_address(f: _Fields, imp: _Importer) -> dict[str, Any] | None:
    name = f.text("name", 60, required=True)
    level = f.choice("level", LEVEL_LABELS, None) if f.get("level") else None
    if not f.get("level"):
        f.problem("level", _("必填"))
    lon = f.numeric("lon", 73, 136)
    lat = f.numeric("lat", 3, 54)
    if (lon is None) != (lat is None) and not f.problems:
        f.problem("lat" if lat is None else "lon", _("经度和纬度须同时填写"))
    row: dict[str, Any] = {"name": name, "level": level.value if level else None, "lon": lon, "lat": lat,
                           "parent": f.get("parent")}
    if lon is not None and lat is not None:
        hit = imp.areas.of_point(f, "lon", lon, lat)
        if hit:
            row["area_code"], row["grid_id"] = hit
    if "area_code" not in row and f.get("grid_code"):
        hit2 = imp.areas.of_code(f, "grid_code")
        if hit2:
            row["area_code"], row["grid_id"] = hit2
    if level is not None and level != AddressLevel.road and not row["parent"]:
        f.problem("parent", _("楼栋、单元和户室须填写上级地址"))
    if level == AddressLevel.road and row["parent"]:
        f.problem("level", _("街路巷/村组没有上级地址"))
    return row


def _resolve_addresses(imp: _Importer, checked: list[tuple[_Fields, dict[str, Any]]]) -> None:
    """Parents from the database (earlier batches and earlier imports) or earlier rows of this batch,
    which are written with the batch: rows are given their ids here, in file order."""
    session = imp.session
    names = {row["parent"] for f, row in checked if row.get("parent")}
    known = repo.by_full_names(session, imp.subject, names) if imp.subject else _all_by_full_names(session, names)
    batch: dict[str, dict[str, Any]] = {}
    pool = iter(imp.ids(len(checked)))  # ids in file order: a child written in the batch names its parent's
    own_full = [((row["parent"] + " " + row["name"]) if row.get("parent") else row["name"]) for f, row in checked]
    taken = _existing_full_names(session, own_full)
    for (f, row), full in zip(checked, own_full, strict=True):
        parent_row = batch.get(row.get("parent", "")) if row.get("parent") else None
        parent = known.get(row["parent"]) if row.get("parent") and parent_row is None else None
        if row.get("parent") and parent is None and parent_row is None:
            f.problem("parent", _("上级地址“{p}”不存在（须先导入或在本文件前面的行中）", p=row["parent"]))
        p_level = parent_row["level"] if parent_row else (parent.level.value if parent else None)
        level = AddressLevel(row["level"]) if row.get("level") else None
        if p_level and level is not None and LEVEL_ORDER[level] <= LEVEL_ORDER[AddressLevel(p_level)]:
            f.problem("level", _("“{a}”不能挂在“{b}”之下", a=_(LEVEL_LABELS[AddressLevel(row["level"])]),
                                 b=_(LEVEL_LABELS[AddressLevel(p_level)])))
        if "area_code" not in row:
            if parent_row is not None and parent_row.get("area_code"):
                row["area_code"], row["grid_id"] = parent_row["area_code"], parent_row.get("grid_id")
            elif parent is not None:
                row["area_code"], row["grid_id"] = parent.area_code, parent.grid_id
            elif not f.problems:
                f.problem("grid_code", _("没有上级地址和网格内坐标时，网格编码必填"), _(AREA_HINT))
        if full in batch or full in taken:
            f.problem("name", _("地址“{a}”已存在", a=full))
        if f.problems:
            continue
        row["id"] = next(pool)
        row["parent_id"] = parent_row["id"] if parent_row else (parent.id if parent else None)
        row["full_name"] = full
        row.setdefault("grid_id", None)
        batch[full] = row
    for _f, row in checked:
        row.pop("parent", None)


def _all_by_full_names(session: Session, names: Iterable[str]) -> dict[str, Address]:
    wanted = list(names)
    return {a.full_name: a for a in session.scalars(select(Address).where(Address.full_name.in_(wanted)))} \
        if wanted else {}


def _existing_full_names(session: Session, names: list[str]) -> set[str]:
    return set(session.scalars(select(Address.full_name).where(Address.full_name.in_(list(set(names))))))


# Houses ----------------------------------------------------------------------------------------

HOUSE_COLUMNS = (
    Column("address", N_("地址"), ("房屋地址", "完整地址"), True, "幸福路 3号楼 2单元 301室", ADDRESS_HINT),
    Column("use", N_("用途"), ("房屋用途",), example="住宅", hint=N_("住宅、商业、办公、厂房仓储、商住混合、其他")),
    Column("owner_name", N_("房主"), ("产权人", "房主姓名"), example="王建国"),
    Column("owner_phone", N_("房主电话"), ("产权人电话",), example="13800138000"),
    Column("floor_area_m2", N_("面积"), ("建筑面积", "面积（㎡）"), example="89.5"),
    Column("rented", N_("出租屋"), ("是否出租",), example="否", hint=N_("是 或 否")),
    Column("group_rental", N_("群租房"), ("是否群租",), example="否", hint=N_("是 或 否")),
    Column("note", N_("备注"), ()),
)


def _check_house(f: _Fields, imp: _Importer) -> dict[str, Any] | None:
    phone = f.phone("owner_phone")
    group = f.flag("group_rental")
    return {"address": f.text("address", 300, required=True), "use": f.choice("use", USE_LABELS, "residential"),
            "owner_name": f.text("owner_name", 50), "owner_phone": phone,
            "owner_phone_index": blind_index(phone) if phone else "",
            "floor_area_m2": f.numeric("floor_area_m2", 0, 1_000_000), "rented": f.flag("rented") or group,
            "group_rental": group, "note": f.text("note", 500)}


def _addresses_for(imp: _Importer, checked: list[tuple[_Fields, dict[str, Any]]]) -> dict[str, Address]:
    names = {row["address"] for _f, row in checked if row.get("address")}
    if imp.subject is not None:
        return repo.by_full_names(imp.session, imp.subject, names)
    return _all_by_full_names(imp.session, names)


def _resolve_houses(imp: _Importer, checked: list[tuple[_Fields, dict[str, Any]]]) -> None:
    found = _addresses_for(imp, checked)
    houses = repo.houses_at(imp.session, [a.id for a in found.values()])
    seen: dict[int, int] = {}
    for f, row in checked:
        name = row.pop("address", "")
        if not name:
            continue
        a = found.get(name)
        if a is None:
            f.problem("address", _("地址“{a}”不在地址库中（或不在您的管辖范围内），请先导入地址", a=name))
            continue
        if a.level == AddressLevel.road:
            f.problem("address", _("房屋应登记在楼栋/门牌或户室地址上，而不是街路巷上"))
        elif a.id in seen:
            f.problem("address", _("与第 {r} 行是同一地址", r=seen[a.id]))
        elif a.id in houses:
            f.problem("address", _("地址“{a}”已登记房屋（#{id}）", a=name, id=houses[a.id].id))
        elif not imp.areas.allowed(a.area_code):
            f.problem("address", _("{c} 不在您负责的网格内", c=a.area_code))
        seen.setdefault(a.id, f.number)
        row.update(address_id=a.id, area_code=a.area_code, grid_id=a.grid_id,
                   use=getattr(row["use"], "value", row["use"]))


# Residents -------------------------------------------------------------------------------------

RESIDENT_COLUMNS = (
    Column("name", N_("姓名"), (), True, "王建国"),
    Column("id_number", N_("身份证号"), ("公民身份号码", "证件号码"), example="339922198503120011",
           hint=N_("18 位，校验位正确；请把该列设为“文本”格式")),
    Column("gender", N_("性别"), (), example="男", hint=N_("有身份证号时由号码得出")),
    Column("birth_date", N_("出生日期"), ("出生年月",), hint=N_("YYYY-MM-DD；有身份证号时由号码得出")),
    Column("phone", N_("电话"), ("联系电话", "手机号"), example="13800138000"),
    Column("kind", N_("人口类型"), ("类型",), example="户籍人口", hint=N_("户籍人口、流动人口、境外人员、留守人员")),
    Column("address", N_("住址"), ("地址", "居住地址"), example="幸福路 3号楼 2单元 301室",
           hint=N_("已登记房屋的完整地址；或不填而写网格编码")),
    Column("grid_code", N_("网格编码"), ("所属网格",), hint=AREA_HINT),
    Column("household_head", N_("户主"), ("是否户主",), example="是", hint=N_("是 或 否")),
    Column("relation", N_("与户主关系"), ("关系",), example="本人"),
    Column("ethnicity", N_("民族"), (), example="汉族"),
    Column("origin", N_("户籍地"), ("籍贯",)),
    Column("nationality", N_("国籍"), ()),
    Column("workplace", N_("工作单位"), ("服务处所",)),
    Column("note", N_("备注"), ()),
)
GENDERS: Final = {"男": "M", "女": "F", "m": "M", "f": "F", "male": "M", "female": "F"}


def _check_resident(f: _Fields, imp: _Importer) -> dict[str, Any] | None:
    id_number = normal_id_number(f.get("id_number"))
    row: dict[str, Any] = {"name": f.text("name", 50, required=True), "id_number": "", "id_number_index": "",
                           "gender": "", "birth_date": None}
    if id_number:
        if "E+" in id_number:
            f.problem("id_number", _("身份证号被 Excel 显示成了科学计数法（{v}），后几位已丢失", v=id_number),
                      _("把该列设为“文本”格式后重新填写完整号码"))
        else:
            problem = check_resident_id(id_number, imp.at.date())
            if problem:
                f.problem("id_number", problem)
            else:
                row.update(id_number=id_number, id_number_index=blind_index(id_number),
                           gender=gender_of(id_number), birth_date=birth_date_of(id_number))
    gender = f.get("gender").lower()
    if gender:
        if gender not in GENDERS:
            f.problem("gender", _("“{v}”无法识别", v=f.get("gender")), _("男 或 女"))
        elif row["gender"] and GENDERS[gender] != row["gender"]:
            f.problem("gender", _("性别与身份证号不符"))
        elif not row["gender"]:
            row["gender"] = GENDERS[gender]
    born = f.day("birth_date")
    if born is not None and row["birth_date"] is None:
        row["birth_date"] = born
    phone = f.phone("phone")
    row.update(phone=phone, phone_index=blind_index(phone) if phone else "",
               kind=f.choice("kind", RESIDENT_KIND_LABELS, "registered"),
               household_head=f.flag("household_head"), relation=f.text("relation", 20),
               ethnicity=f.text("ethnicity", 20), origin=f.text("origin", 100),
               nationality=f.text("nationality", 40), workplace=f.text("workplace", 100), note=f.text("note", 500),
               address=f.text("address", 300), house_id=None, moved_out_on=None, merged_into_id=None)
    row["kind"] = getattr(row["kind"], "value", row["kind"])
    if not row["address"]:
        if not f.get("grid_code"):
            f.problem("grid_code", _("住址和网格编码至少填写一项"), _(AREA_HINT))
        else:
            hit = imp.areas.of_code(f, "grid_code")
            if hit:
                row["area_code"], row["grid_id"] = hit
    return row


def _resolve_residents(imp: _Importer, checked: list[tuple[_Fields, dict[str, Any]]]) -> None:
    addresses = _addresses_for(imp, [(f, r) for f, r in checked if r.get("address")])
    houses = repo.houses_at(imp.session, [a.id for a in addresses.values()])
    indexes = [r["id_number_index"] for _f, r in checked if r.get("id_number_index")]
    earlier: dict[str, tuple[int, str]] = {}
    for start in range(0, len(indexes), 500):
        chunk = indexes[start:start + 500]
        earlier.update({ix: (rid, name) for ix, rid, name in imp.session.execute(
            select(Resident.id_number_index, Resident.id, Resident.name)
            .where(Resident.id_number_index.in_(chunk), Resident.merged_into_id.is_(None)))})
    in_batch: dict[str, int] = {}
    for f, row in checked:
        name = row.pop("address", "")
        if name:
            a = addresses.get(name)
            house = houses.get(a.id) if a is not None else None
            if a is None:
                f.problem("address", _("住址“{a}”不在地址库中（或不在您的管辖范围内）", a=name), _(ADDRESS_HINT))
            elif house is None:
                f.problem("address", _("地址“{a}”还没有登记房屋，请先导入房屋", a=name))
            elif not imp.areas.allowed(house.area_code):
                f.problem("address", _("{c} 不在您负责的网格内", c=house.area_code))
            else:
                row.update(house_id=house.id, area_code=house.area_code, grid_id=house.grid_id)
        ix = row.get("id_number_index")
        if ix:
            if ix in in_batch:
                f.problem("id_number", _("与第 {r} 行的身份证号重复", r=in_batch[ix]), _("同一人只登记一次"))
            elif ix in earlier:
                rid, who = earlier[ix]
                if imp.from_this_file(rid):
                    f.problem("id_number", _("与本文件前面的一行（{n}）身份证号重复", n=who), _("同一人只登记一次"))
                else:
                    f.problem("id_number", _("该身份证号已登记（人口记录 #{id}）", id=rid), _("同一人只登记一次"))
            else:
                in_batch[ix] = f.number


# Units -----------------------------------------------------------------------------------------

UNIT_COLUMNS = (
    Column("name", N_("名称"), ("单位名称",), True, "临溪县示例科技有限公司"),
    Column("kind", N_("类型"), ("单位类型",), example="企业",
           hint=N_("企业、个体工商户、事业单位、机关、社会组织、其他")),
    Column("credit_code", N_("统一社会信用代码"), ("信用代码",), example="91330122MA2B3C4D5J",
           hint=N_("18 位，校验位正确")),
    Column("legal_person", N_("法定代表人"), ("负责人",)),
    Column("phone", N_("电话"), ("联系电话",)),
    Column("employees", N_("从业人数"), ("员工人数",)),
    Column("address", N_("地址"), ("单位地址",), hint=ADDRESS_HINT),
    Column("grid_code", N_("网格编码"), ("所属网格",), hint=AREA_HINT),
    Column("note", N_("备注"), ()),
)


def _check_unit(f: _Fields, imp: _Importer) -> dict[str, Any] | None:
    code = f.get("credit_code").upper()
    if code:
        problem = check_credit_code(code)
        if problem:
            f.problem("credit_code", problem)
    phone = f.phone("phone")
    employees = f.numeric("employees", 0, 10_000_000, whole=True)
    row: dict[str, Any] = {
        "name": f.text("name", 100, required=True), "kind": f.choice("kind", UNIT_KIND_LABELS, "enterprise"),
        "credit_code": code, "legal_person": f.text("legal_person", 50), "phone": phone,
        "phone_index": blind_index(phone) if phone else "",
        "employees": int(employees) if employees is not None else None,
        "address": f.text("address", 300), "address_id": None, "note": f.text("note", 500), "merged_into_id": None}
    row["kind"] = getattr(row["kind"], "value", row["kind"])
    if not row["address"]:
        if not f.get("grid_code"):
            f.problem("grid_code", _("地址和网格编码至少填写一项"), _(AREA_HINT))
        else:
            hit = imp.areas.of_code(f, "grid_code")
            if hit:
                row["area_code"], row["grid_id"] = hit
    return row


def _resolve_units(imp: _Importer, checked: list[tuple[_Fields, dict[str, Any]]]) -> None:
    addresses = _addresses_for(imp, [(f, r) for f, r in checked if r.get("address")])
    codes = [r["credit_code"] for _f, r in checked if r.get("credit_code")]
    earlier: dict[str, int] = {}
    if codes:
        earlier = {code: uid for code, uid in imp.session.execute(select(Unit.credit_code, Unit.id).where(
            Unit.credit_code.in_(codes), Unit.merged_into_id.is_(None)))}
    in_batch: dict[str, int] = {}
    for f, row in checked:
        name = row.pop("address", "")
        if name:
            a = addresses.get(name)
            if a is None:
                f.problem("address", _("地址“{a}”不在地址库中（或不在您的管辖范围内）", a=name), _(ADDRESS_HINT))
            elif not imp.areas.allowed(a.area_code):
                f.problem("address", _("{c} 不在您负责的网格内", c=a.area_code))
            else:
                row.update(address_id=a.id, area_code=a.area_code, grid_id=a.grid_id)
        code = row.get("credit_code")
        if code:
            if code in in_batch:
                f.problem("credit_code", _("与第 {r} 行的统一社会信用代码重复", r=in_batch[code]))
            elif code in earlier:
                f.problem("credit_code", _("统一社会信用代码 {c} 已登记（单位 #{id}）；如属重复请合并",
                                           c=code, id=earlier[code]))
            else:
                in_batch[code] = f.number


# Places ----------------------------------------------------------------------------------------

PLACE_COLUMNS = (
    Column("name", N_("名称"), ("场所名称",), True, "临溪县第一中学"),
    Column("kind", N_("类型"), ("场所类型",), True, "学校",
           hint=N_("学校、医院、景区、水域、市场、危化品场所、人员密集场所、其他")),
    Column("lon", N_("经度"), ("lng",), example="119.8012", hint=N_("WGS-84；点位，或用“范围”给出多边形")),
    Column("lat", N_("纬度"), (), example="29.4521"),
    Column("geometry", N_("范围"), ("边界", "geojson"), hint=N_("GeoJSON Polygon，可选")),
    Column("manager", N_("负责人"), ()),
    Column("phone", N_("电话"), ("联系电话",)),
    Column("capacity", N_("容纳人数"), ("最大承载量",)),
    Column("grid_code", N_("网格编码"), ("所属网格",), hint=AREA_HINT),
    Column("note", N_("备注"), ()),
)


def _check_place(f: _Fields, imp: _Importer) -> dict[str, Any] | None:
    phone = f.phone("phone")
    capacity = f.numeric("capacity", 0, 10_000_000, whole=True)
    row: dict[str, Any] = {
        "name": f.text("name", 100, required=True), "kind": f.choice("kind", PLACE_KIND_LABELS, "other"),
        "manager": f.text("manager", 50), "phone": phone, "phone_index": blind_index(phone) if phone else "",
        "capacity": int(capacity) if capacity is not None else None, "address_id": None, "note": f.text("note", 500)}
    row["kind"] = getattr(row["kind"], "value", row["kind"])
    if not f.get("kind"):
        f.problem("kind", _("必填"))
    lon, lat = f.numeric("lon", 73, 136), f.numeric("lat", 3, 54)
    try:
        located = parse_geometry(f.get("geometry") or None, lon, lat)
    except AppError as exc:
        f.problem(exc.problems[0].field if exc.problems else "geometry", exc.message)
        return row
    if located is None:
        f.problem("lon", _("请填写经纬度或范围"))
        return row
    row["geometry"], row["lon"], row["lat"] = located
    hit = imp.areas.of_point(f, "lon", row["lon"], row["lat"])
    if hit:
        row["area_code"], row["grid_id"] = hit
    elif f.get("grid_code"):
        hit2 = imp.areas.of_code(f, "grid_code")
        if hit2:
            row["area_code"], row["grid_id"] = hit2
    elif not f.problems:
        f.problem("lon", _("该位置不在任何网格内，请核对坐标或填写网格编码"))
    return row


def _no_references(imp: _Importer, checked: list[tuple[_Fields, dict[str, Any]]]) -> None:
    return None


KINDS: Final = {
    "addresses": Spec(N_("标准地址"), Address, "address", ADDRESS_COLUMNS, _check_address, _resolve_addresses),
    "houses": Spec(N_("实有房屋"), House, "house", HOUSE_COLUMNS, _check_house, _resolve_houses),
    "residents": Spec(N_("实有人口"), Resident, "resident", RESIDENT_COLUMNS, _check_resident, _resolve_residents),
    "units": Spec(N_("实有单位"), Unit, "unit", UNIT_COLUMNS, _check_unit, _resolve_units),
    "places": Spec(N_("重点场所"), Place, "place", PLACE_COLUMNS, _check_place, _no_references),
}


# Running ---------------------------------------------------------------------------------------


def _headers(spec: Spec) -> dict[str, str]:
    return {_header(alias): c.name for c in spec.columns
            for alias in (c.name, c.label, i18n._catalog("en").get(c.label, c.name), *c.aliases)}


def _columns(spec: Spec, first: dict[str, str]) -> dict[str, str]:
    known = _headers(spec)
    columns: dict[str, str] = {}
    for header in first:
        name = known.get(_header(header))
        if name and name not in columns.values():
            columns[header] = name
    missing = [c for c in spec.columns if c.required and c.name not in columns.values()]
    if missing:
        problems = [FieldProblem(c.name, _("缺少“{f}”列", f=_(c.label)),
                                 _("表头写作以下任一列名：{names}", names="、".join((_(c.label), c.name, *c.aliases))))
                    for c in missing]
        raise ImportRejected(_("表头缺少必需的列：{names}", names="、".join(_(c.label) for c in missing)),
                             AppealImportReport(problems=problems))
    return columns


def import_kind(session: Session, kind: str, rows: Iterable[tuple[int, dict[str, str]]], *,
                subject: Subject | None = None, progress: Callable[[int, int], None] | None = None
                ) -> AppealImportReport:
    """Import one kind of base data from (row number, {header: text}) pairs, all or nothing: writes in
    the caller's transaction, never commits, raises ImportRejected (roll back!) when any row is bad.
    With a `subject`, every record must lie in its area (a grid worker's: its grids)."""
    spec = KINDS[kind]
    importer = _Importer(session, spec, subject, _Areas(session, subject),
                         actor=subject.display_name if subject is not None else _("批量导入"))
    columns: dict[str, str] | None = None
    for batch in batches(rows, BATCH_SIZE):
        if columns is None:
            columns = _columns(spec, batch[0][1])
        importer.add(batch, columns)
        batch.clear()
        if progress is not None:
            progress(importer.report.rows, importer.report.bad_rows)
    report = importer.report
    if report.rows == 0:
        message = _("文件中没有数据行")
        raise ImportRejected(message, AppealImportReport(problems=[FieldProblem("file", message)]))
    if report.problems:
        raise ImportRejected(_("{n} 行有问题，未导入任何数据", n=report.bad_rows), report)
    return report


def template(session: Session, subject: Subject, kind: str, ext: str) -> bytes:
    """The import template: the header (* on the required columns) and one example row, its grid code
    one of the subject's."""
    spec = KINDS[kind]
    grids = repo.my_grids(session, subject, 1)
    example = {"grid_code": grids[0].code if grids else ""}
    rows = [[_(c.label) + ("*" if c.required else "") for c in spec.columns],
            [example.get(c.name) or c.example for c in spec.columns]]
    return table_file(ext, rows, _(spec.label))


