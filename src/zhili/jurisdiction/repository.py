"""Every query of the jurisdiction domain; each starts from `readable(subject, ...)`."""

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, defer

from zhili.access import get_readable, readable
from zhili.auth.subject import Subject
from zhili.kit.codes import RegionLevel, parent_code, subtree_prefix
from zhili.kit.i18n import _
from zhili.models import Department, Grid, GridMember, Region, Role, Staff, StaffRole


def _text(q: str | None) -> str | None:
    return q.strip() if q and q.strip() else None


def regions(
    subject: Subject, *, level: RegionLevel | None = None, parent_code: str | None = None,
    within: str | None = None, q: str | None = None,
) -> Select[Any]:
    stmt = readable(subject, Region)
    if level:
        stmt = stmt.where(Region.level == level)
    if parent_code:
        parent = select(Region.id).where(Region.code == parent_code).scalar_subquery()
        stmt = stmt.where(Region.parent_id == parent)
    if within:
        stmt = stmt.where(Region.code.startswith(subtree_prefix(within), autoescape=True))
    if text := _text(q):
        stmt = stmt.where(or_(Region.name.contains(text, autoescape=True),
                              Region.code.startswith(text, autoescape=True)))
    return stmt.order_by(Region.code)


def region(session: Session, subject: Subject, code: str) -> Region:
    return get_readable(session, subject, Region, Region.code == code, what=_("行政区划 {c}", c=code))


def region_by_code(session: Session, code: str) -> Region | None:
    """Unscoped: for validating references (the caller checks scope)."""
    return session.scalar(select(Region).where(Region.code == code))


def load_regions(session: Session, codes: Iterable[str]) -> list[Region]:
    """Unscoped: bring these regions into the session at once (walking `parent` then costs no query)."""
    wanted = list(codes)
    if not wanted:
        return []
    return list(session.scalars(select(Region).options(defer(Region.boundary)).where(Region.code.in_(wanted))))


def count_children(session: Session, region_id: int) -> int:
    return session.scalar(select(func.count()).where(Region.parent_id == region_id)) or 0


def grids(
    subject: Subject, *, within: str | None = None, kind: str | None = None, q: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> Select[Any]:
    stmt = readable(subject, Grid)
    if within:
        stmt = stmt.where(Grid.code.startswith(subtree_prefix(within), autoescape=True))
    if kind:
        stmt = stmt.where(Grid.kind == kind)
    if text := _text(q):
        stmt = stmt.where(or_(Grid.name.contains(text, autoescape=True), Grid.code.startswith(text, autoescape=True)))
    if bbox:
        w, s, e, n = bbox
        stmt = stmt.where(Grid.max_lon >= w, Grid.min_lon <= e, Grid.max_lat >= s, Grid.min_lat <= n)
    return stmt.order_by(Grid.code)


def grid(session: Session, subject: Subject, code: str) -> Grid:
    return get_readable(session, subject, Grid, Grid.code == code, what=_("网格 {c}", c=code))


def community_grids(session: Session, region_id: int) -> list[Grid]:
    return list(session.scalars(select(Grid).where(Grid.region_id == region_id)))


def count_grids(session: Session, code_prefix: str) -> int:
    return session.scalar(select(func.count(Grid.id)).where(Grid.code.startswith(code_prefix))) or 0


def departments(
    subject: Subject, *, region_code: str | None = None, kind: str | None = None,
    active: bool | None = None, q: str | None = None,
) -> Select[Any]:
    stmt = readable(subject, Department)
    if region_code:
        stmt = stmt.where(Region.code == region_code)
    if kind:
        stmt = stmt.where(Department.kind == kind)
    if active is not None:
        stmt = stmt.where(Department.active == active)
    if text := _text(q):
        stmt = stmt.where(or_(Department.name.contains(text, autoescape=True), Department.code == text))
    return stmt.order_by(Region.code, Department.code)


def department(session: Session, subject: Subject, department_id: int) -> Department:
    what = _("职能部门 #{id}", id=department_id)
    return get_readable(session, subject, Department, Department.id == department_id, what=what)


def department_by_code(session: Session, subject: Subject, code: str) -> Department | None:
    return session.scalars(readable(subject, Department).where(Department.code == code)).first()


def staff_list(
    subject: Subject, *, region_code: str | None = None, role: Role | None = None,
    department_id: int | None = None, active: bool | None = None, q: str | None = None,
) -> Select[Any]:
    stmt = readable(subject, Staff)
    if region_code:
        stmt = stmt.where(Region.code.startswith(subtree_prefix(region_code), autoescape=True))
    if role:
        stmt = stmt.where(Staff.id.in_(select(StaffRole.staff_id).where(StaffRole.role == role)))
    if department_id:
        stmt = stmt.where(Staff.department_id == department_id)
    if active is not None:
        stmt = stmt.where(Staff.active == active)
    if text := _text(q):
        stmt = stmt.where(or_(Staff.username.contains(text, autoescape=True),
                              Staff.display_name.contains(text, autoescape=True),
                              Staff.phone.startswith(text, autoescape=True)))
    return stmt.order_by(Region.code, Staff.username)


def staff(session: Session, subject: Subject, staff_id: int) -> Staff:
    return get_readable(session, subject, Staff, Staff.id == staff_id, what=_("工作人员 #{id}", id=staff_id))


def staff_by_username(session: Session, username: str) -> Staff | None:
    return session.scalar(select(Staff).where(Staff.username == username))


def memberships_of(session: Session, staff_id: int) -> list[GridMember]:
    return list(session.scalars(select(GridMember).where(GridMember.staff_id == staff_id)))


def child_counts(session: Session, region_ids: list[int]) -> dict[int, int]:
    """Direct children of each region, in one grouped query (for a page of rows)."""
    if not region_ids:
        return {}
    stmt = (select(Region.parent_id, func.count()).where(Region.parent_id.in_(region_ids))
            .group_by(Region.parent_id))
    return {parent: n for parent, n in session.execute(stmt).all()}  # type: ignore[misc]


def grid_counts(session: Session, codes: list[str]) -> dict[str, int]:
    """Grids in each region's subtree: one grouped query per code length present (a page of rows is
    usually one level, so one query)."""
    wanted: dict[int, set[str]] = {}
    for code in codes:
        prefix = subtree_prefix(code)
        wanted.setdefault(len(prefix), set()).add(prefix)
    found: dict[str, int] = {}
    for length, prefixes in wanted.items():
        head = func.substr(Grid.code, 1, length)
        stmt = select(head, func.count()).where(head.in_(sorted(prefixes))).group_by(head)
        found.update({prefix: n for prefix, n in session.execute(stmt).all()})
    return {code: found.get(subtree_prefix(code), 0) for code in codes}


def region_names(session: Session, subject: Subject, codes: set[str]) -> dict[str, str]:
    """Names of the given regions that the subject may see (others are left out)."""
    if not codes:
        return {}
    stmt = readable(subject, Region).where(Region.code.in_(sorted(codes)))
    return {r.code: r.name for r in session.scalars(stmt)}


def grid_member_candidates(subject: Subject, grid_code: str, role: Role) -> Select[Any]:
    """Active accounts with the role whose own area contains the grid (its community or above), the
    only ones `service.update_grid` accepts as the grid's chief or workers."""
    codes, code = [], grid_code[:12]
    while code:
        codes.append(code)
        code = parent_code(code) or ""
    return staff_list(subject, role=role, active=True).where(Region.code.in_(codes))


def area_name(session: Session, code: str) -> str:
    """The name of a grid (15-digit code) or a region (12-digit), for a row's `area_code`."""
    if len(code) == 15:
        return session.scalar(select(Grid.name).where(Grid.code == code)) or code
    return session.scalar(select(Region.name).where(Region.code == code)) or code
