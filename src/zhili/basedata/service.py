"""Use cases of base data, shared by the JSON API, the pages and the importers: create, edit, place
in a grid, merge duplicates and reveal a personal number. Services never commit.

Where a record lies: a position inside a grid picks that grid; an address element without one
inherits its parent's grid; a house lies where its address does, a resident where its house does;
else the form names a grid (or a community, where no grid holds the record). A grid worker may only
file records in its own grids, anyone else anywhere in its area.
"""

from datetime import date
from typing import Any, Final

from pydantic import BaseModel
from sqlalchemy import update
from sqlalchemy.orm import Session

from zhili.auth.audit import record as audit
from zhili.auth.subject import Subject
from zhili.basedata import history
from zhili.basedata import repository as repo
from zhili.basedata.checks import birth_date_of, gender_of
from zhili.basedata.labels import LEVEL_LABELS
from zhili.basedata.schemas import (
    AddressCreate,
    AddressOut,
    AddressUpdate,
    HouseCreate,
    HouseOut,
    HouseUpdate,
    PlaceCreate,
    PlaceOut,
    PlaceUpdate,
    ResidentCreate,
    ResidentOut,
    ResidentUpdate,
    UnitCreate,
    UnitOut,
    UnitUpdate,
)
from zhili.errors import Conflict, FieldProblem, Forbidden, Invalid
from zhili.kit import geo
from zhili.kit.i18n import _
from zhili.kit.protect import blind_index, mask_id_number, mask_phone
from zhili.models import (
    Address,
    AddressLevel,
    ChangeAction,
    DisputeParty,
    House,
    HouseholdLink,
    KeyPerson,
    Petition,
    Place,
    Resident,
    Role,
    Unit,
    Volunteer,
)
from zhili.work_order.service import locate

WRITERS: Final = (Role.admin, Role.grid_worker, Role.grid_chief)
MERGERS: Final = (Role.admin, Role.grid_chief)
LEVEL_ORDER: Final = {AddressLevel.road: 0, AddressLevel.building: 1, AddressLevel.unit: 2, AddressLevel.room: 3}
# Which personal numbers each kind of record may reveal.
REVEALABLE: Final = {"resident": ("id_number", "phone"), "house": ("owner_phone",), "unit": ("phone",),
                     "place": ("phone",)}


def can_write(subject: Subject) -> bool:
    return subject.has(*WRITERS)


def can_merge(subject: Subject) -> bool:
    return subject.has(*MERGERS)


def _invalid(field: str, message: str, expected: str = "") -> Invalid:
    return Invalid(message, [FieldProblem(field, message, expected)])


def grid_code_of(area_code: str) -> str | None:
    return area_code if len(area_code) == 15 else None


# Where a record lies ---------------------------------------------------------------------------


def check_scope(subject: Subject, area_code: str) -> None:
    """Refuse a record outside what the subject may file in (a grid worker: its own grids)."""
    ok = area_code in subject.grid_codes if subject.grid_bound else area_code.startswith(subject.scope_prefix)
    if not ok:
        raise Forbidden(_("该位置（{c}）不在您负责的网格或辖区内", c=area_code))


def area_of_code(session: Session, subject: Subject, code: str, field: str = "grid_code") -> tuple[str, int | None]:
    """A grid's code, or a community's code (records that no grid holds)."""
    if len(code) == 15:
        grid = repo.grid_by_code(session, subject, code)
        if grid is None:
            raise _invalid(field, _("网格 {c} 不存在或不在您的管辖范围内", c=code))
        check_scope(subject, grid.code)
        return grid.code, grid.id
    community = repo.community_by_code(session, subject, code)
    if community is None:
        raise _invalid(field, _("社区（村）{c} 不存在或不在您的管辖范围内", c=code),
                       _("15 位网格编码，或 12 位社区（村）区划代码"))
    check_scope(subject, community.code)
    return community.code, None


def area_of_point(session: Session, subject: Subject, lon: float, lat: float) -> tuple[str, int] | None:
    grid = locate(session, lon, lat)
    if grid is None:
        return None
    check_scope(subject, grid.code)
    return grid.code, grid.id


def _both_or_neither(lon: float | None, lat: float | None) -> None:
    if (lon is None) != (lat is None):
        raise _invalid("lat" if lat is None else "lon", _("经度和纬度须同时填写"))


# Addresses -------------------------------------------------------------------------------------


def create_address(session: Session, subject: Subject, data: AddressCreate) -> Address:
    subject.require(*WRITERS)
    _both_or_neither(data.lon, data.lat)
    parent = repo.address(session, subject, data.parent_id) if data.parent_id is not None else None
    if parent is None and data.level != AddressLevel.road:
        raise _invalid("parent_id", _("楼栋、单元和户室须挂在上级地址下"), _("先选择所在的街路巷或楼栋"))
    if parent is not None and LEVEL_ORDER[data.level] <= LEVEL_ORDER[parent.level]:
        raise _invalid("level", _("“{a}”不能挂在“{b}”之下", a=_(LEVEL_LABELS[data.level]),
                                  b=_(LEVEL_LABELS[parent.level])))
    area, grid_id = _address_area(session, subject, parent, data.grid_code, data.lon, data.lat)
    if repo.sibling(session, parent.id if parent else None, data.name, area) is not None:
        where = parent.full_name if parent else area
        raise Conflict(_("{p} 下已有“{n}”", p=where, n=data.name))
    row = Address(parent_id=parent.id if parent else None, level=data.level, name=data.name,
                  full_name=f"{parent.full_name} {data.name}" if parent else data.name,
                  area_code=area, grid_id=grid_id, lon=data.lon, lat=data.lat)
    row.parent = parent
    session.add(row)
    history.record(session, subject, "address", row, None, ChangeAction.create)
    return row


def _address_area(session: Session, subject: Subject, parent: Address | None, grid_code: str | None,
                  lon: float | None, lat: float | None) -> tuple[str, int | None]:
    if lon is not None and lat is not None:
        hit = area_of_point(session, subject, lon, lat)
        if hit is not None:
            return hit
        if parent is None and not grid_code:
            raise _invalid("lon", _("该坐标不在任何网格内，请核对坐标或填写所属网格"))
    if grid_code:
        return area_of_code(session, subject, grid_code)
    if parent is not None:
        check_scope(subject, parent.area_code)
        return parent.area_code, parent.grid_id
    raise _invalid("grid_code", _("请填写所属网格编码，或给出网格内的坐标"), _("15 位网格编码"))


def update_address(session: Session, subject: Subject, address_id: int, data: AddressUpdate) -> Address:
    subject.require(*WRITERS)
    row = repo.address(session, subject, address_id)
    check_scope(subject, row.area_code)
    given = data.model_fields_set
    before = history.snapshot(row)
    if data.name and data.name != row.name:
        if repo.sibling(session, row.parent_id, data.name, row.area_code) is not None:
            raise Conflict(_("{p} 下已有“{n}”", p=row.parent.full_name if row.parent else row.area_code, n=data.name))
        row.name = data.name
        row.full_name = f"{row.parent.full_name} {data.name}" if row.parent else data.name
        for d in repo.descendants(session, row.id):  # parents come first: each reads a current parent
            d_before = history.snapshot(d)
            d.full_name = f"{d.parent.full_name} {d.name}" if d.parent else d.name
            history.record(session, subject, "address", d, d_before, ChangeAction.update)
    moved = {"lon", "lat", "grid_code"} & given
    if moved:
        lon = data.lon if "lon" in given else row.lon
        lat = data.lat if "lat" in given else row.lat
        _both_or_neither(lon, lat)
        row.lon, row.lat = lon, lat
        area, grid_id = _address_area(session, subject, row.parent, data.grid_code, lon, lat)
        if area != row.area_code:
            _regrid(session, subject, row, area, grid_id)
    history.record(session, subject, "address", row, before, ChangeAction.update)
    return row


def _regrid(session: Session, subject: Subject, row: Address, area: str, grid_id: int | None) -> None:
    """Move an address to another grid with everything that lies there: the elements below it that
    have no position of their own, their houses and units, and the houses' residents."""
    row.area_code, row.grid_id = area, grid_id
    moved = [row.id]
    for d in repo.descendants(session, row.id):
        if d.lon is None and d.parent_id in moved:
            d_before = history.snapshot(d)
            d.area_code, d.grid_id = area, grid_id
            history.record(session, subject, "address", d, d_before, ChangeAction.update)
            moved.append(d.id)
    for house in repo.houses_at(session, moved).values():
        h_before = history.snapshot(house)
        house.area_code, house.grid_id = area, grid_id
        history.record(session, subject, "house", house, h_before, ChangeAction.update)
        _move_household(session, subject, house)
    for unit in session.query(Unit).filter(Unit.address_id.in_(moved)):
        u_before = history.snapshot(unit)
        unit.area_code, unit.grid_id = area, grid_id
        history.record(session, subject, "unit", unit, u_before, ChangeAction.update)


def _move_household(session: Session, subject: Subject, house: House) -> None:
    for r in session.query(Resident).filter(Resident.house_id == house.id):
        if (r.area_code, r.grid_id) != (house.area_code, house.grid_id):
            before = history.snapshot(r)
            r.area_code, r.grid_id = house.area_code, house.grid_id
            history.record(session, subject, "resident", r, before, ChangeAction.update)


def address_out(session: Session, a: Address, house_id: int | None = None) -> AddressOut:
    return AddressOut(id=a.id, parent_id=a.parent_id, level=a.level, name=a.name, full_name=a.full_name,
                      area_code=a.area_code, grid_code=grid_code_of(a.area_code), lon=a.lon, lat=a.lat,
                      house_id=house_id)


# Houses ----------------------------------------------------------------------------------------


def create_house(session: Session, subject: Subject, data: HouseCreate) -> House:
    subject.require(*WRITERS)
    address = repo.address(session, subject, data.address_id)
    check_scope(subject, address.area_code)
    if address.level == AddressLevel.road:
        raise _invalid("address_id", _("房屋应登记在楼栋/门牌或户室地址上，而不是街路巷上"))
    existing = repo.houses_at(session, [address.id]).get(address.id)
    if existing is not None:
        raise Conflict(_("地址“{a}”已登记房屋（#{id}）", a=address.full_name, id=existing.id))
    row = House(address_id=address.id, area_code=address.area_code, grid_id=address.grid_id,
                use=data.use or "residential",
                owner_name="", owner_phone="", owner_phone_index="", rented=False, group_rental=False, note="")
    row.address = address
    _apply_house(row, data)
    session.add(row)
    history.record(session, subject, "house", row, None, ChangeAction.create)
    return row


def _apply_house(row: House, data: BaseModel) -> None:
    values = data.model_dump(exclude_unset=True, exclude={"address_id"})
    for key, value in values.items():
        if value is None and key not in ("floor_area_m2",):
            continue
        setattr(row, key, value)
    if "owner_phone" in values and values["owner_phone"] is not None:
        row.owner_phone_index = blind_index(row.owner_phone)
    if row.group_rental:
        row.rented = True  # a group rental is a rental


def update_house(session: Session, subject: Subject, house_id: int, data: HouseUpdate) -> House:
    subject.require(*WRITERS)
    row = repo.house(session, subject, house_id)
    check_scope(subject, row.area_code)
    before = history.snapshot(row)
    _apply_house(row, data)
    history.record(session, subject, "house", row, before, ChangeAction.update)
    return row


def house_out(h: House, residents: int = 0) -> HouseOut:
    return HouseOut(id=h.id, address_id=h.address_id, address=h.address.full_name, use=h.use, owner_name=h.owner_name,
                    owner_phone=mask_phone(h.owner_phone), floor_area_m2=h.floor_area_m2, rented=h.rented,
                    group_rental=h.group_rental, note=h.note, area_code=h.area_code,
                    grid_code=grid_code_of(h.area_code), residents=residents)


# Residents -------------------------------------------------------------------------------------


def create_resident(session: Session, subject: Subject, data: ResidentCreate) -> Resident:
    subject.require(*WRITERS)
    row = Resident(name=data.name, id_number="", id_number_index="", gender="", phone="", phone_index="",
                   kind=data.kind or "registered", household_head=False, relation="", ethnicity="", origin="",
                   nationality="", workplace="", note="")
    _place_resident(session, subject, row, data, new=True)
    _apply_resident(session, row, data)
    session.add(row)
    session.flush()
    _one_head(session, subject, row)
    history.record(session, subject, "resident", row, None, ChangeAction.create)
    return row


def _place_resident(session: Session, subject: Subject, row: Resident, data: BaseModel, *, new: bool) -> None:
    given = data.model_fields_set
    house_id = getattr(data, "house_id", None)
    grid_code = getattr(data, "grid_code", None)
    if house_id is not None:
        house = repo.house(session, subject, house_id)
        check_scope(subject, house.area_code)
        row.house_id, row.house = house.id, house
        row.area_code, row.grid_id = house.area_code, house.grid_id
    elif grid_code:
        if "house_id" in given:  # explicitly out of the house
            row.house_id, row.house = None, None
        if row.house_id is None:
            row.area_code, row.grid_id = area_of_code(session, subject, grid_code)
    elif new:
        raise _invalid("house_id", _("请选择所住房屋，或填写所属网格"), _("房屋编号，或 15 位网格编码"))


def _apply_resident(session: Session, row: Resident, data: BaseModel) -> None:
    values = data.model_dump(exclude_unset=True, exclude={"house_id", "grid_code"})
    id_number = values.pop("id_number", None)
    phone = values.pop("phone", None)
    gender = values.pop("gender", None)
    born = values.pop("birth_date", None)
    for key, value in values.items():
        if value is None and key != "moved_out_on":
            continue
        setattr(row, key, value)
    if id_number is not None and id_number != row.id_number:
        if id_number:
            index = blind_index(id_number)
            twin = repo.resident_with_id_number(session, index, but=row.id)
            if twin is not None:
                raise Conflict(_("身份证号 {n} 已登记（人口记录 #{id}）；同一人只登记一次，如属重复请合并",
                                 n=mask_id_number(id_number), id=twin.id))
            row.id_number, row.id_number_index = id_number, index
            row.gender, row.birth_date = gender_of(id_number), birth_date_of(id_number)
        else:
            row.id_number, row.id_number_index = "", ""
    if not row.id_number:  # without the number, the form says the gender and the birth date
        if gender is not None:
            row.gender = gender
        if born is not None:
            if born > date.today():
                raise _invalid("birth_date", _("出生日期不能晚于今天"))
            row.birth_date = born
    if phone is not None:
        row.phone, row.phone_index = phone, blind_index(phone)


def _one_head(session: Session, subject: Subject, row: Resident) -> None:
    """A household has one head: naming a new one steps the old one down (on the record)."""
    if not (row.household_head and row.house_id):
        return
    for other in repo.house_head(session, row.house_id, row.id):
        before = history.snapshot(other)
        other.household_head = False
        history.record(session, subject, "resident", other, before, ChangeAction.update)


def update_resident(session: Session, subject: Subject, resident_id: int, data: ResidentUpdate) -> Resident:
    subject.require(*WRITERS)
    row = repo.resident(session, subject, resident_id)
    check_scope(subject, row.area_code)
    if row.merged_into_id is not None:
        raise Conflict(_("该记录已合并到人口记录 #{id}，请修改那一条", id=row.merged_into_id))
    before = history.snapshot(row)
    _place_resident(session, subject, row, data, new=False)
    _apply_resident(session, row, data)
    _one_head(session, subject, row)
    history.record(session, subject, "resident", row, before, ChangeAction.update)
    return row


def resident_out(r: Resident) -> ResidentOut:
    return ResidentOut(
        id=r.id, name=r.name, id_number=mask_id_number(r.id_number), gender=r.gender, birth_date=r.birth_date,
        phone=mask_phone(r.phone), kind=r.kind, house_id=r.house_id,
        address=r.house.address.full_name if r.house else "", household_head=r.household_head, relation=r.relation,
        ethnicity=r.ethnicity, origin=r.origin, nationality=r.nationality, workplace=r.workplace, note=r.note,
        area_code=r.area_code, grid_code=grid_code_of(r.area_code), moved_out_on=r.moved_out_on,
        merged_into_id=r.merged_into_id, updated_at=r.updated_at)


# Merging duplicates ----------------------------------------------------------------------------

# Fields a kept record takes from its duplicate when it has none of its own.
RESIDENT_FILLS: Final = ("ethnicity", "origin", "nationality", "workplace", "relation")
# Every reference to a resident elsewhere: moved to the kept record.
RESIDENT_REFERENCES: Final = (KeyPerson, DisputeParty, Petition, Volunteer, HouseholdLink)


def merge_residents(session: Session, subject: Subject, keep_id: int, other_id: int) -> Resident:
    """Merge a duplicate into the kept record: the kept one takes what it lacks, every reference to the
    duplicate moves to it, and the duplicate stays (for its history) marked `merged_into_id`."""
    subject.require(*MERGERS)
    if keep_id == other_id:
        raise _invalid("other_id", _("不能把记录与自身合并"))
    keep = repo.resident(session, subject, keep_id)
    other = repo.resident(session, subject, other_id)
    for r in (keep, other):
        check_scope(subject, r.area_code)
        if r.merged_into_id is not None:
            raise Conflict(_("人口记录 #{id} 已合并到 #{to}", id=r.id, to=r.merged_into_id))
    kinds = {k.kind for k in session.query(KeyPerson).filter(KeyPerson.resident_id == keep.id)}
    clash = [k for k in session.query(KeyPerson).filter(KeyPerson.resident_id == other.id) if k.kind in kinds]
    if clash:
        raise Conflict(_("两条记录都已列为同一类重点人员（#{a}），请先在重点人员中解除其中一条", a=clash[0].id))
    keep_before, other_before = history.snapshot(keep), history.snapshot(other)
    if not keep.id_number and other.id_number:
        keep.id_number, keep.id_number_index = other.id_number, other.id_number_index
        keep.gender, keep.birth_date = other.gender, other.birth_date
        other.id_number_index = ""  # one live record per number; the sealed number stays for the history
    if not keep.phone and other.phone:
        keep.phone, keep.phone_index = other.phone, other.phone_index
    if keep.house_id is None and other.house_id is not None:
        keep.house_id, keep.house = other.house_id, other.house
        keep.area_code, keep.grid_id = other.area_code, other.grid_id
    for name in RESIDENT_FILLS:
        if not getattr(keep, name) and getattr(other, name):
            setattr(keep, name, getattr(other, name))
    if other.note and other.note not in keep.note:
        keep.note = (keep.note + "；" + other.note).strip("；")[:500]
    moved = 0
    for model in RESIDENT_REFERENCES:
        result = session.execute(update(model).where(model.resident_id == other.id)  # type: ignore[attr-defined]
                                 .values(resident_id=keep.id).execution_options(synchronize_session=False))
        moved += result.rowcount  # type: ignore[attr-defined]
    other.merged_into_id = keep.id
    other.household_head = False
    session.flush()
    session.expire_all()
    keep = repo.resident(session, subject, keep_id)
    other = repo.resident(session, subject, other_id)
    history.record(session, subject, "resident", keep, keep_before, ChangeAction.merge,
                   extra={"merged_from": [None, other.id], "references": [None, moved]})
    history.record(session, subject, "resident", other, other_before, ChangeAction.merged)
    return keep


def merge_units(session: Session, subject: Subject, keep_id: int, other_id: int) -> Unit:
    subject.require(*MERGERS)
    if keep_id == other_id:
        raise _invalid("other_id", _("不能把记录与自身合并"))
    keep = repo.unit(session, subject, keep_id)
    other = repo.unit(session, subject, other_id)
    for u in (keep, other):
        check_scope(subject, u.area_code)
        if u.merged_into_id is not None:
            raise Conflict(_("单位 #{id} 已合并到 #{to}", id=u.id, to=u.merged_into_id))
    keep_before, other_before = history.snapshot(keep), history.snapshot(other)
    for name in ("credit_code", "legal_person", "employees", "address_id"):
        if not getattr(keep, name) and getattr(other, name):
            setattr(keep, name, getattr(other, name))
    if not keep.phone and other.phone:
        keep.phone, keep.phone_index = other.phone, other.phone_index
    other.merged_into_id = keep.id
    history.record(session, subject, "unit", keep, keep_before, ChangeAction.merge,
                   extra={"merged_from": [None, other.id]})
    history.record(session, subject, "unit", other, other_before, ChangeAction.merged)
    return keep


# Units -----------------------------------------------------------------------------------------


def create_unit(session: Session, subject: Subject, data: UnitCreate) -> Unit:
    subject.require(*WRITERS)
    row = Unit(name=data.name, kind=data.kind or "enterprise", credit_code="", legal_person="", phone="",
               phone_index="", note="")
    _place_unit(session, subject, row, data, new=True)
    _apply_unit(session, row, data)
    session.add(row)
    history.record(session, subject, "unit", row, None, ChangeAction.create)
    return row


def _place_unit(session: Session, subject: Subject, row: Unit, data: BaseModel, *, new: bool) -> None:
    address_id = getattr(data, "address_id", None)
    grid_code = getattr(data, "grid_code", None)
    if address_id is not None:
        address = repo.address(session, subject, address_id)
        check_scope(subject, address.area_code)
        row.address_id, row.address = address.id, address
        row.area_code, row.grid_id = address.area_code, address.grid_id
    elif grid_code:
        row.area_code, row.grid_id = area_of_code(session, subject, grid_code)
    elif new:
        raise _invalid("address_id", _("请选择单位地址，或填写所属网格"), _("地址编号，或 15 位网格编码"))


def _apply_unit(session: Session, row: Unit, data: BaseModel) -> None:
    values = data.model_dump(exclude_unset=True, exclude={"address_id", "grid_code"})
    phone = values.pop("phone", None)
    for key, value in values.items():
        if value is None and key != "employees":
            continue
        setattr(row, key, value)
    if phone is not None:
        row.phone, row.phone_index = phone, blind_index(phone)
    if row.credit_code:
        twin = session.query(Unit).filter(Unit.credit_code == row.credit_code, Unit.merged_into_id.is_(None),
                                          Unit.id != (row.id or 0)).first()
        if twin is not None:
            raise Conflict(_("统一社会信用代码 {c} 已登记（单位 #{id}）；如属重复请合并",
                             c=row.credit_code, id=twin.id))


def update_unit(session: Session, subject: Subject, unit_id: int, data: UnitUpdate) -> Unit:
    subject.require(*WRITERS)
    row = repo.unit(session, subject, unit_id)
    check_scope(subject, row.area_code)
    if row.merged_into_id is not None:
        raise Conflict(_("该记录已合并到单位 #{id}，请修改那一条", id=row.merged_into_id))
    before = history.snapshot(row)
    _place_unit(session, subject, row, data, new=False)
    _apply_unit(session, row, data)
    history.record(session, subject, "unit", row, before, ChangeAction.update)
    return row


def unit_out(u: Unit) -> UnitOut:
    return UnitOut(id=u.id, name=u.name, kind=u.kind, credit_code=u.credit_code, legal_person=u.legal_person,
                   phone=mask_phone(u.phone), employees=u.employees, address_id=u.address_id,
                   address=u.address.full_name if u.address else "", note=u.note, area_code=u.area_code,
                   grid_code=grid_code_of(u.area_code), merged_into_id=u.merged_into_id)


# Places ----------------------------------------------------------------------------------------


def parse_geometry(value: Any, lon: float | None, lat: float | None) -> tuple[str, float, float] | None:
    """A place's GeoJSON (Point, Polygon or MultiPolygon) and a point inside it; or a point from
    lon/lat; None when neither is given."""
    import json

    from shapely.geometry import Point, mapping, shape

    if value in (None, "", {}):
        if lon is None or lat is None:
            _both_or_neither(lon, lat)
            return None
        return json.dumps({"type": "Point", "coordinates": [lon, lat]}), lon, lat
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise _invalid("geometry", _("位置不是有效的 GeoJSON：{e}", e=exc.msg)) from exc
    if isinstance(value, dict) and value.get("type") == "Point":
        try:
            point = shape(value)
        except Exception as exc:  # shapely's own errors, whatever the bad coordinates provoke
            raise _invalid("geometry", _("点坐标格式不正确：应为 [经度, 纬度]")) from exc
        if not (73 <= point.x <= 136 and 3 <= point.y <= 54):
            raise _invalid("geometry", _("坐标不在中国境内：请确认使用 WGS-84 经纬度，且经度在前、纬度在后"))
        return json.dumps(mapping(point)), point.x, point.y
    try:
        polygon = geo.parse_polygon(value)
    except geo.GeometryError as exc:
        raise _invalid("geometry", str(exc)) from exc
    inside: Point = polygon.representative_point()
    return geo.dumps(polygon), inside.x, inside.y


def create_place(session: Session, subject: Subject, data: PlaceCreate) -> Place:
    subject.require(*WRITERS)
    row = Place(name=data.name, kind=data.kind, manager="", phone="", phone_index="", note="")
    _place_place(session, subject, row, data, new=True)
    _apply_place(row, data)
    session.add(row)
    history.record(session, subject, "place", row, None, ChangeAction.create)
    return row


def _place_place(session: Session, subject: Subject, row: Place, data: BaseModel, *, new: bool) -> None:
    given = data.model_fields_set
    grid_code = getattr(data, "grid_code", None)
    address_id = getattr(data, "address_id", None)
    geometry, lon, lat = getattr(data, "geometry", None), getattr(data, "lon", None), getattr(data, "lat", None)
    if not new and not geometry and lon is not None and lat is not None \
            and abs(lon - row.lon) < 1e-6 and abs(lat - row.lat) < 1e-6:
        lon = lat = None  # the form sent the point it shows: a polygon stays a polygon
    located = parse_geometry(geometry, lon, lat)
    if located is None and new:
        raise _invalid("geometry", _("请给出场所位置：地图上的点（经纬度）或范围（GeoJSON 多边形）"))
    address = repo.address(session, subject, address_id) if address_id is not None else None
    if address is not None:
        row.address_id = address.id
    if located is not None:
        row.geometry, row.lon, row.lat = located
        hit = area_of_point(session, subject, row.lon, row.lat)
        if hit is not None:
            row.area_code, row.grid_id = hit
            return
    if grid_code:
        row.area_code, row.grid_id = area_of_code(session, subject, grid_code)
    elif address is not None:
        check_scope(subject, address.area_code)
        row.area_code, row.grid_id = address.area_code, address.grid_id
    elif located is not None or "grid_code" in given:
        raise _invalid("geometry", _("该位置不在任何网格内，请核对坐标或填写所属网格"))


def _apply_place(row: Place, data: BaseModel) -> None:
    values = data.model_dump(exclude_unset=True, exclude={"geometry", "lon", "lat", "address_id", "grid_code"})
    phone = values.pop("phone", None)
    for key, value in values.items():
        if value is None and key != "capacity":
            continue
        setattr(row, key, value)
    if phone is not None:
        row.phone, row.phone_index = phone, blind_index(phone)


def update_place(session: Session, subject: Subject, place_id: int, data: PlaceUpdate) -> Place:
    subject.require(*WRITERS)
    row = repo.place(session, subject, place_id)
    check_scope(subject, row.area_code)
    before = history.snapshot(row)
    _place_place(session, subject, row, data, new=False)
    _apply_place(row, data)
    history.record(session, subject, "place", row, before, ChangeAction.update)
    return row


def place_out(p: Place) -> PlaceOut:
    import json

    return PlaceOut(id=p.id, name=p.name, kind=p.kind, geometry=json.loads(p.geometry), lon=p.lon, lat=p.lat,
                    manager=p.manager, phone=mask_phone(p.phone), capacity=p.capacity, address_id=p.address_id,
                    note=p.note, area_code=p.area_code, grid_code=grid_code_of(p.area_code))


# Revealing a personal number ---------------------------------------------------------------------


def reveal(session: Session, subject: Subject, entity: str, row: Any, field: str, *, reason: str = "",
           ip: str = "") -> str:
    """The full value of one sealed field, shown to someone who may read the record, and written to
    the audit log: who saw whose number, which one and when."""
    if field not in REVEALABLE.get(entity, ()):
        raise _invalid("field", _("该记录没有可显示的字段“{f}”", f=field),
                       "、".join(REVEALABLE.get(entity, ())))
    value: str = getattr(row, field) or ""
    audit(session, "personal.reveal", actor_id=subject.id if subject.kind == "staff" else None,
          actor_name=subject.display_name, target_type=entity, target_id=row.id,
          region_code=(row.area_code or "")[:12], ip=ip, field=field, name=getattr(row, "name", "") or
          getattr(row, "owner_name", ""), reason=reason[:200])
    return value


