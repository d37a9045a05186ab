"""Every query of base data. Reads made for a person start from `readable(subject, …)`; the few
unscoped reads (a duplicate anywhere, an address's subtree while it is moved) say why."""

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from zhili.access import get_readable, in_subtree, readable
from zhili.auth.subject import Subject
from zhili.basedata.checks import normal_phone
from zhili.errors import NotFound
from zhili.kit.codes import check_id_number, check_phone, check_region_code, subtree_prefix
from zhili.kit.i18n import _
from zhili.kit.protect import blind_index
from zhili.models import Address, Grid, House, Place, Region, Resident, Role, Unit
from zhili.models.basedata import ExportRequest


def _like(value: str) -> str:
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _within(column: Any, within: str | None) -> ColumnElement[bool] | None:
    """A grid (15 digits) or a region's subtree (12 digits) the list is narrowed to."""
    if not within:
        return None
    if len(within) == 15:
        return column == within  # type: ignore[no-any-return]
    if len(within) == 12 and within.isdigit() and check_region_code(within) is None:
        return column.startswith(subtree_prefix(within), autoescape=True)  # type: ignore[no-any-return]
    return column == within  # type: ignore[no-any-return]


def looks_like_id_number(q: str) -> bool:
    return check_id_number(q.upper()) is None


def looks_like_phone(q: str) -> bool:
    return bool(re.fullmatch(r"[\d\-]{7,13}", q)) and check_phone(q) is None


# Addresses -------------------------------------------------------------------------------------


def addresses(subject: Subject, *, parent_id: int | None = None, roots: bool = False, q: str | None = None,
              within: str | None = None, level: str | None = None) -> Select[Any]:
    stmt = readable(subject, Address)
    if roots:
        stmt = stmt.where(Address.parent_id.is_(None))
    elif parent_id is not None:
        stmt = stmt.where(Address.parent_id == parent_id)
    if q and q.strip():
        stmt = stmt.where(Address.full_name.ilike(_like(q.strip()), escape="\\"))
    if level:
        stmt = stmt.where(Address.level == level)
    narrowed = _within(Address.area_code, within)
    if narrowed is not None:
        stmt = stmt.where(narrowed)
    return stmt.order_by(Address.full_name, Address.id)


def address(session: Session, subject: Subject, address_id: int) -> Address:
    return get_readable(session, subject, Address, Address.id == address_id,
                        what=_("地址 #{id}", id=address_id))


def child_counts(session: Session, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = session.execute(select(Address.parent_id, func.count()).where(Address.parent_id.in_(ids))
                           .group_by(Address.parent_id))
    return {parent: n for parent, n in rows if parent is not None}


def sibling(session: Session, parent_id: int | None, name: str, area_code: str) -> Address | None:
    """An element of the same name under the same parent (anywhere: the unique key is global)."""
    stmt = select(Address).where(Address.name == name)
    if parent_id is None:
        stmt = stmt.where(Address.parent_id.is_(None), Address.area_code == area_code)
    else:
        stmt = stmt.where(Address.parent_id == parent_id)
    return session.scalars(stmt.limit(1)).first()


def descendants(session: Session, address_id: int) -> list[Address]:
    """The whole subtree below an address, level by level. Unscoped on purpose: renaming or moving an
    element must keep every address below it consistent, whoever reads them."""
    found: list[Address] = []
    frontier = [address_id]
    while frontier:
        level = list(session.scalars(select(Address).where(Address.parent_id.in_(frontier)).order_by(Address.id)))
        found += level
        frontier = [a.id for a in level]
    return found


def ancestors(address: Address) -> list[Address]:
    path: list[Address] = []
    node = address.parent
    while node is not None and len(path) < 10:
        path.insert(0, node)
        node = node.parent
    return path


def houses_at(session: Session, address_ids: Iterable[int]) -> dict[int, House]:
    ids = list(address_ids)
    if not ids:
        return {}
    return {h.address_id: h for h in session.scalars(select(House).where(House.address_id.in_(ids)))}


def by_full_names(session: Session, subject: Subject, names: Iterable[str]) -> dict[str, Address]:
    """Addresses the subject may read, by their full name (the first where two share one)."""
    wanted = list(set(names))
    out: dict[str, Address] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        for a in session.scalars(readable(subject, Address).where(Address.full_name.in_(chunk))
                                 .order_by(Address.id.desc())):
            out[a.full_name] = a
    return out


# Houses ----------------------------------------------------------------------------------------


def houses(subject: Subject, *, q: str | None = None, use: str | None = None, rented: bool | None = None,
           group_rental: bool | None = None, within: str | None = None) -> Select[Any]:
    stmt = readable(subject, House).join(House.address)
    if q and q.strip():
        q = q.strip()
        if looks_like_phone(q):
            stmt = stmt.where(House.owner_phone_index == blind_index(normal_phone(q)))
        else:
            stmt = stmt.where(or_(Address.full_name.ilike(_like(q), escape="\\"),
                                  House.owner_name.ilike(_like(q), escape="\\")))
    if use:
        stmt = stmt.where(House.use == use)
    if rented is not None:
        stmt = stmt.where(House.rented.is_(rented))
    if group_rental is not None:
        stmt = stmt.where(House.group_rental.is_(group_rental))
    narrowed = _within(House.area_code, within)
    if narrowed is not None:
        stmt = stmt.where(narrowed)
    return stmt.order_by(Address.full_name, House.id)


def house(session: Session, subject: Subject, house_id: int) -> House:
    return get_readable(session, subject, House, House.id == house_id, what=_("房屋 #{id}", id=house_id))


def resident_counts(session: Session, house_ids: list[int]) -> dict[int, int]:
    if not house_ids:
        return {}
    rows = session.execute(select(Resident.house_id, func.count()).where(
        Resident.house_id.in_(house_ids), Resident.merged_into_id.is_(None), Resident.moved_out_on.is_(None))
        .group_by(Resident.house_id))
    return {h: n for h, n in rows if h is not None}


# Residents -------------------------------------------------------------------------------------

STATUSES = ("current", "moved_out", "all")


def residents(subject: Subject, *, q: str | None = None, kind: str | None = None, within: str | None = None,
              house_id: int | None = None, status: str = "current") -> Select[Any]:
    stmt = readable(subject, Resident).where(Resident.merged_into_id.is_(None))
    if q and q.strip():
        q = q.strip()
        if looks_like_id_number(q):
            stmt = stmt.where(Resident.id_number_index == blind_index(q.upper()))
        elif looks_like_phone(q):
            stmt = stmt.where(Resident.phone_index == blind_index(normal_phone(q)))
        else:
            at = select(House.id).join(House.address).where(Address.full_name.ilike(_like(q), escape="\\"))
            stmt = stmt.where(or_(Resident.name.ilike(_like(q), escape="\\"), Resident.house_id.in_(at)))
    if kind:
        stmt = stmt.where(Resident.kind == kind)
    if house_id is not None:
        stmt = stmt.where(Resident.house_id == house_id)
    if status == "current":
        stmt = stmt.where(Resident.moved_out_on.is_(None))
    elif status == "moved_out":
        stmt = stmt.where(Resident.moved_out_on.is_not(None))
    narrowed = _within(Resident.area_code, within)
    if narrowed is not None:
        stmt = stmt.where(narrowed)
    return stmt.order_by(Resident.id.desc())


def household(session: Session, subject: Subject, house_id: int) -> list[Resident]:
    stmt = readable(subject, Resident).where(Resident.house_id == house_id, Resident.merged_into_id.is_(None))
    return list(session.scalars(stmt.order_by(Resident.household_head.desc(), Resident.moved_out_on.is_not(None),
                                              Resident.id)).unique())


def resident(session: Session, subject: Subject, resident_id: int) -> Resident:
    return get_readable(session, subject, Resident, Resident.id == resident_id,
                        what=_("人口记录 #{id}", id=resident_id))


def resident_with_id_number(session: Session, index: str, but: int | None = None) -> Resident | None:
    """A live record with this identity number anywhere: one person is registered once. Unscoped on
    purpose; the caller says only what the subject may know."""
    stmt = select(Resident).where(Resident.id_number_index == index, Resident.merged_into_id.is_(None))
    if but is not None:
        stmt = stmt.where(Resident.id != but)
    return session.scalars(stmt.limit(1)).first()


def resident_duplicates(session: Session, subject: Subject, r: Resident) -> list[Resident]:
    same: list[ColumnElement[bool]] = []
    if r.id_number_index:
        same.append(Resident.id_number_index == r.id_number_index)
    if r.phone_index:
        same.append((Resident.name == r.name) & (Resident.phone_index == r.phone_index))
    if r.birth_date is not None:
        same.append((Resident.name == r.name) & (Resident.birth_date == r.birth_date))
    if not same:
        return []
    stmt = readable(subject, Resident).where(Resident.id != r.id, Resident.merged_into_id.is_(None), or_(*same))
    return list(session.scalars(stmt.order_by(Resident.id).limit(20)).unique())


def house_head(session: Session, house_id: int, but: int) -> list[Resident]:
    return list(session.scalars(select(Resident).where(Resident.house_id == house_id, Resident.id != but,
                                                       Resident.household_head.is_(True))))


# Units -----------------------------------------------------------------------------------------


def units(subject: Subject, *, q: str | None = None, kind: str | None = None, within: str | None = None) -> Select[Any]:
    stmt = readable(subject, Unit).where(Unit.merged_into_id.is_(None))
    if q and q.strip():
        q = q.strip()
        if looks_like_phone(q):
            stmt = stmt.where(Unit.phone_index == blind_index(normal_phone(q)))
        else:
            stmt = stmt.where(or_(Unit.name.ilike(_like(q), escape="\\"), Unit.credit_code == q.upper(),
                                  Unit.legal_person == q))
    if kind:
        stmt = stmt.where(Unit.kind == kind)
    narrowed = _within(Unit.area_code, within)
    if narrowed is not None:
        stmt = stmt.where(narrowed)
    return stmt.order_by(Unit.name, Unit.id)


def unit(session: Session, subject: Subject, unit_id: int) -> Unit:
    return get_readable(session, subject, Unit, Unit.id == unit_id, what=_("单位 #{id}", id=unit_id))


def unit_duplicates(session: Session, subject: Subject, u: Unit) -> list[Unit]:
    same: list[ColumnElement[bool]] = [Unit.name == u.name]
    if u.credit_code:
        same.append(Unit.credit_code == u.credit_code)
    stmt = readable(subject, Unit).where(Unit.id != u.id, Unit.merged_into_id.is_(None), or_(*same))
    return list(session.scalars(stmt.order_by(Unit.id).limit(20)).unique())


# Places ----------------------------------------------------------------------------------------


def places(subject: Subject, *, q: str | None = None, kind: str | None = None,
           within: str | None = None) -> Select[Any]:
    stmt = readable(subject, Place)
    if q and q.strip():
        stmt = stmt.where(or_(Place.name.ilike(_like(q.strip()), escape="\\"),
                              Place.manager.ilike(_like(q.strip()), escape="\\")))
    if kind:
        stmt = stmt.where(Place.kind == kind)
    narrowed = _within(Place.area_code, within)
    if narrowed is not None:
        stmt = stmt.where(narrowed)
    return stmt.order_by(Place.name, Place.id)


def place(session: Session, subject: Subject, place_id: int) -> Place:
    return get_readable(session, subject, Place, Place.id == place_id, what=_("场所 #{id}", id=place_id))


# Grids and regions -------------------------------------------------------------------------------


def grid_by_code(session: Session, subject: Subject, code: str) -> Grid | None:
    return session.scalars(readable(subject, Grid).where(Grid.code == code)).unique().first()


def community_by_code(session: Session, subject: Subject, code: str) -> Region | None:
    return session.scalars(readable(subject, Region).where(Region.code == code, Region.level == "village")).first()


def my_grids(session: Session, subject: Subject, limit: int = 2000) -> list[Grid]:
    """The grids the subject may file records in: its own for a grid worker, else its area's."""
    stmt = readable(subject, Grid)
    if subject.grid_bound:
        stmt = stmt.where(Grid.code.in_(subject.grid_codes))
    return list(session.scalars(stmt.order_by(Grid.code).limit(limit)).unique())


def counts(session: Session, subject: Subject) -> dict[str, int]:
    def n(stmt: Select[Any]) -> int:
        return session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0

    return {"addresses": n(addresses(subject)), "houses": n(houses(subject)), "residents": n(residents(subject)),
            "units": n(units(subject)), "places": n(places(subject)),
            "rented": n(houses(subject, rented=True)), "floating": n(residents(subject, kind="floating"))}


# Export requests -----------------------------------------------------------------------------------


def export_requests(subject: Subject) -> Select[Any]:
    """Requests of the subject's area for an administrator, the subject's own otherwise (zhili.access
    does not list them: scoped here by region, like import jobs)."""
    stmt = select(ExportRequest).where(in_subtree(subject, ExportRequest.region_code))
    if not subject.has(Role.admin):  # a purpose is the requester's business and the approvers'
        stmt = stmt.where(ExportRequest.requested_by_id == subject.id)
    return stmt.order_by(ExportRequest.id.desc())


def export_request(session: Session, subject: Subject, export_id: int) -> ExportRequest:
    found = session.scalar(export_requests(subject).where(ExportRequest.id == export_id))
    if found is None:
        raise NotFound(_("{what} 不存在或不在您的管辖范围内", what=_("导出申请 #{id}", id=export_id)))
    return found
