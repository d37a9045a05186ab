"""Use cases of the jurisdiction domain: regions, grids, departments and staff.

Checks are split from writes (`*_problems` then `apply_*`) so that the single-row API and the
all-or-nothing importers share one set of rules.
"""

from collections.abc import Iterable
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from zhili.access import can_see_region
from zhili.auth import audit
from zhili.auth.passwords import hash_password
from zhili.auth.subject import Subject
from zhili.errors import Conflict, FieldProblem, Forbidden, Invalid
from zhili.jurisdiction import repository as repo
from zhili.jurisdiction.schemas import (
    DepartmentCreate,
    DepartmentOut,
    DepartmentRef,
    DepartmentUpdate,
    GridCreate,
    GridDetail,
    GridOut,
    GridUpdate,
    PersonRef,
    RegionCreate,
    RegionDetail,
    RegionOut,
    RegionUpdate,
    StaffCreate,
    StaffOut,
    StaffUpdate,
)
from zhili.kit import geo
from zhili.kit.codes import (
    RegionLevel,
    check_grid_code,
    check_region_code,
    parent_code,
    region_level,
    subtree_prefix,
    town_kind,
    village_kind,
)
from zhili.kit.i18n import _
from zhili.kit.time import aware, now
from zhili.models import Department, Grid, GridDuty, GridKind, GridMember, Region, Role, Staff, StaffRole

# A grid may stray this share of its area outside its community (digitising noise), no more.
OUTSIDE_TOLERANCE = 0.01


def require_admin(subject: Subject) -> None:
    subject.require(Role.admin)


def require_manages(subject: Subject, region_code: str) -> None:
    require_admin(subject)
    if not can_see_region(subject, region_code):
        raise Forbidden(_("您只能管理本辖区（{name}）及其下级的数据", name=subject.region_name))


def _invalid(problems: list[FieldProblem]) -> Invalid:
    first = problems[0]
    return Invalid(f"{first.field}: {first.problem}", problems)


def _set_bbox(row: Region | Grid, geom: BaseGeometry | None) -> None:
    if geom is None:
        row.boundary = None  # type: ignore[assignment]
        row.min_lon = row.min_lat = row.max_lon = row.max_lat = None  # type: ignore[assignment]
        return
    row.boundary = geo.dumps(geom)
    row.min_lon, row.min_lat, row.max_lon, row.max_lat = geom.bounds


def parse_boundary(value: Any, field: str = "boundary") -> tuple[BaseGeometry | None, FieldProblem | None]:
    if value is None or value == "":
        return None, None
    try:
        return geo.parse_polygon(value), None
    except geo.GeometryError as exc:
        return None, FieldProblem(field, str(exc), _("WGS-84 经纬度的 GeoJSON Polygon/MultiPolygon 或 WKT"))


# Regions ---------------------------------------------------------------------------------------


def region_kind(region: Region) -> str | None:
    match region.level:
        case RegionLevel.town:
            return town_kind(region.code).value
        case RegionLevel.village:
            return village_kind(region.code).value
        case _:
            return None


def region_out(region: Region) -> RegionOut:
    return RegionOut(
        code=region.code, name=region.name, level=region.level, kind=region_kind(region),
        parent_code=region.parent.code if region.parent else None, has_boundary=region.boundary is not None,
    )


def region_detail(session: Session, subject: Subject, region: Region) -> RegionDetail:
    path: list[RegionOut] = []
    node = region.parent
    while node is not None and can_see_region(subject, node.code):
        path.insert(0, region_out(node))
        node = node.parent
    return RegionDetail(
        **region_out(region).model_dump(),
        boundary=geo.loads(region.boundary).__geo_interface__ if region.boundary else None,
        path=path, children=repo.count_children(session, region.id),
        grids=repo.count_grids(session, subtree_prefix(region.code)),
    )


def region_problems(
    session: Session, subject: Subject, code: str, name: str, *, pending: Iterable[str] = (),
) -> list[FieldProblem]:
    """Rules for a new region: a good code inside the subject's area whose parent exists (in the
    database or earlier in the same import)."""
    if problem := check_region_code(code):
        return [FieldProblem("code", problem, "330122101201")]
    problems: list[FieldProblem] = []
    if not name.strip():
        problems.append(FieldProblem("name", _("名称不能为空"), _("例如 凤鸣社区")))
    if not can_see_region(subject, code) or code == subject.region_code:
        problems.append(FieldProblem("code", _("区划 {c} 不在您的管辖范围（{n}）之下", c=code,
                                                n=subject.region_name), subject.scope_prefix + "…"))
        return problems
    parent = parent_code(code)
    if parent and parent not in pending and repo.region_by_code(session, parent) is None:
        problems.append(FieldProblem("code", _("上级区划 {p} 不存在，请先建立上级区划", p=parent), parent))
    return problems


def create_region(session: Session, subject: Subject, data: RegionCreate) -> Region:
    require_admin(subject)
    if repo.region_by_code(session, data.code):
        raise Conflict(_("区划代码 {c} 已存在", c=data.code))
    problems = region_problems(session, subject, data.code, data.name)
    geom, problem = parse_boundary(data.boundary)
    if problem:
        problems.append(problem)
    if problems:
        raise _invalid(problems)
    region = apply_region(session, None, data.code, data.name, geom)
    audit.record(session, "region.create", actor_id=subject.id, actor_name=subject.name,
                 target_type="region", target_id=region.code, region_code=region.code, name=region.name)
    return region


def apply_region(
    session: Session, region: Region | None, code: str, name: str, geom: BaseGeometry | None,
    keep_boundary: bool = False,
) -> Region:
    if region is None:
        parent = repo.region_by_code(session, parent_code(code) or "")
        region = Region(code=code, level=region_level(code), parent=parent,
                        parent_id=parent.id if parent else None)
        session.add(region)
    region.name = name.strip()
    if not keep_boundary or geom is not None:
        _set_bbox(region, geom)
    session.flush()
    return region


def update_region(session: Session, subject: Subject, code: str, data: RegionUpdate) -> Region:
    region = repo.region(session, subject, code)
    require_manages(subject, region.code)
    geom, problem = parse_boundary(data.boundary)
    if problem:
        raise _invalid([problem])
    fields = data.model_fields_set
    apply_region(session, region, region.code, data.name if data.name else region.name, geom,
                 keep_boundary="boundary" not in fields)
    audit.record(session, "region.update", actor_id=subject.id, actor_name=subject.name,
                 target_type="region", target_id=region.code, region_code=region.code,
                 fields=sorted(fields))
    return region


# Grids -----------------------------------------------------------------------------------------


def grid_out(grid: Grid, staff_names: dict[int, str] | None = None) -> GridOut:
    names = staff_names or {}
    people: dict[GridDuty, list[PersonRef]] = {d: [] for d in GridDuty}
    for m in grid.members:
        people[m.duty].append(
            PersonRef(username=names.get(m.staff_id) if m.staff_id else None, name=m.name, phone=m.phone)
        )
    return GridOut(
        code=grid.code, name=grid.name, kind=grid.kind, region_code=grid.region.code,
        region_name=grid.region.name, area_m2=round(grid.area_m2, 1),
        chief=people[GridDuty.chief][0] if people[GridDuty.chief] else None,
        workers=people[GridDuty.worker], volunteers=people[GridDuty.volunteer],
    )


def member_usernames(session: Session, grids: Iterable[Grid]) -> dict[int, str]:
    ids = {m.staff_id for g in grids for m in g.members if m.staff_id}
    if not ids:
        return {}
    return dict(session.execute(select(Staff.id, Staff.username).where(Staff.id.in_(ids))).all())  # type: ignore[arg-type]


def grid_detail(session: Session, grid: Grid) -> GridDetail:
    out = grid_out(grid, member_usernames(session, [grid]))
    return GridDetail(**out.model_dump(), boundary=geo.loads(grid.boundary).__geo_interface__, note=grid.note)


def grid_problems(
    session: Session, subject: Subject, code: str, geom: BaseGeometry | None, *,
    exclude_codes: Iterable[str] = (), pending: Iterable[tuple[str, BaseGeometry]] = (),
) -> tuple[list[FieldProblem], Region | None]:
    """A grid must sit under an existing community in the subject's area, inside its boundary,
    and overlap none of that community's other grids (stored, or earlier in the same import)."""
    if problem := check_grid_code(code):
        return [FieldProblem("code", problem, "330122101201001")], None
    community_code = code[:12]
    if not can_see_region(subject, community_code):
        return [FieldProblem("code", _("网格 {c} 所属社区不在您的管辖范围（{n}）之内", c=code,
                                       n=subject.region_name), subject.scope_prefix + "…")], None
    community = repo.region_by_code(session, community_code)
    if community is None:
        return [FieldProblem("code", _("所属社区（村）{c} 不存在，请先导入行政区划", c=community_code),
                             community_code)], None
    if geom is None:
        return [], community
    problems: list[FieldProblem] = []
    if community.boundary:
        outer = geo.loads(community.boundary)
        outside = geo.outside_m2(geom, outer)
        if outside > max(geo.OVERLAP_TOLERANCE_M2, OUTSIDE_TOLERANCE * geo.area_m2(geom)):
            problems.append(FieldProblem(
                "boundary",
                _("网格有约 {a} 平方米超出所属社区 {n} 的边界", a=round(outside), n=community.name),
                _("网格边界应位于社区边界之内")))
    skip = set(exclude_codes) | {code}
    others = [(g.code, geo.loads(g.boundary)) for g in repo.community_grids(session, community.id)
              if g.code not in skip]
    # `exclude_codes` names stored versions being replaced; their new shapes in `pending` still count.
    others += [(c, g) for c, g in pending if c[:12] == community_code and c != code]
    for other_code, other in others:
        shared = geo.overlap_m2(geom, other)
        if shared >= geo.OVERLAP_TOLERANCE_M2:
            problems.append(FieldProblem(
                "boundary", _("与同一社区的网格 {o} 重叠约 {a} 平方米", o=other_code, a=round(shared)),
                _("同一社区的网格之间只能共边，不能重叠")))
    return problems, community


def _member_problems(
    session: Session, grid_code: str, chief: str | None, workers: list[str] | None,
) -> tuple[list[FieldProblem], Staff | None, list[Staff]]:
    problems: list[FieldProblem] = []

    def resolve(username: str, field: str, role: Role) -> Staff | None:
        staff = repo.staff_by_username(session, username)
        # The member's own area must contain the grid (a community's chief serves its grids).
        if staff is None or not grid_code.startswith(subtree_prefix(staff.region.code)):
            problems.append(FieldProblem(field, _("账号 {u} 不存在或不属于该网格所在辖区", u=username)))
            return None
        if role not in staff.roles:
            problems.append(FieldProblem(field, _("账号 {u} 没有“{r}”角色", u=username,
                                                  r=_("网格长") if role == Role.grid_chief else _("网格员"))))
            return None
        return staff

    chief_row = resolve(chief, "chief", Role.grid_chief) if chief else None
    worker_rows = [s for u in (workers or []) if (s := resolve(u, "workers", Role.grid_worker))]
    return problems, chief_row, worker_rows


def _replace_members(grid: Grid, duty: GridDuty, people: list[tuple[Staff | None, str, str]]) -> None:
    """An account that already serves the grid keeps its row (its duty and contact refreshed): deleting
    and re-inserting the same (grid, staff) pair in one flush breaks the unique constraint, because the
    unit of work runs inserts before deletes."""
    rows_by_staff = {m.staff_id: m for m in grid.members if m.staff_id is not None}
    rows = []
    for staff, name, phone in people:
        row = rows_by_staff.get(staff.id) if staff else None
        if row is None:
            row = GridMember(duty=duty, staff_id=staff.id if staff else None, name=name, phone=phone)
        else:
            row.duty, row.name, row.phone = duty, name, phone
        rows.append(row)
    grid.members = [m for m in grid.members if m.duty != duty and m not in rows] + rows


def apply_grid(
    session: Session, grid: Grid | None, community: Region, code: str, name: str, kind: GridKind,
    geom: BaseGeometry | None, note: str | None = None,
) -> Grid:
    if grid is None:
        grid = Grid(code=code, region_id=community.id, region=community)
        session.add(grid)
    grid.name = name.strip()
    grid.kind = kind
    if note is not None:
        grid.note = note
    if geom is not None:
        _set_bbox(grid, geom)
        grid.area_m2 = geo.area_m2(geom)
    session.flush()
    return grid


def create_grid(session: Session, subject: Subject, data: GridCreate) -> Grid:
    require_manages(subject, data.code[:12])
    if session.scalar(select(exists().where(Grid.code == data.code))):
        raise Conflict(_("网格编码 {c} 已存在", c=data.code))
    geom, problem = parse_boundary(data.boundary)
    problems = [problem] if problem else []
    more, community = grid_problems(session, subject, data.code, geom)
    problems += more
    member_problems, chief, workers = _member_problems(session, data.code, data.chief, data.workers)
    problems += member_problems
    if problems or community is None:
        raise _invalid(problems)
    grid = apply_grid(session, None, community, data.code, data.name, data.kind, geom, data.note)
    _set_people(grid, chief, workers, data.volunteers, chief_given=True, workers_given=True)
    session.flush()
    audit.record(session, "grid.create", actor_id=subject.id, actor_name=subject.name,
                 target_type="grid", target_id=grid.code, region_code=community.code, name=grid.name)
    return grid


def _set_people(grid: Grid, chief: Staff | None, workers: list[Staff], volunteers: list[Any] | None, *,
                chief_given: bool, workers_given: bool) -> None:
    if chief_given:
        _replace_members(grid, GridDuty.chief, [(chief, chief.display_name, chief.phone)] if chief else [])
    if workers_given:
        _replace_members(grid, GridDuty.worker, [(w, w.display_name, w.phone) for w in workers])
    if volunteers is not None:
        _replace_members(grid, GridDuty.volunteer, [(None, v.name, v.phone) for v in volunteers])


def update_grid(session: Session, subject: Subject, code: str, data: GridUpdate) -> Grid:
    grid = repo.grid(session, subject, code)
    require_manages(subject, grid.code[:12])
    geom, problem = parse_boundary(data.boundary)
    problems = [problem] if problem else []
    if geom is not None:
        problems += grid_problems(session, subject, grid.code, geom)[0]
    fields = data.model_fields_set
    member_problems, chief, workers = _member_problems(session, grid.code, data.chief, data.workers)
    problems += member_problems
    if problems:
        raise _invalid(problems)
    apply_grid(session, grid, grid.region, grid.code, data.name or grid.name, data.kind or grid.kind, geom,
               data.note)
    _set_people(grid, chief, workers, data.volunteers, chief_given="chief" in fields,
                workers_given="workers" in fields)
    session.flush()
    audit.record(session, "grid.update", actor_id=subject.id, actor_name=subject.name,
                 target_type="grid", target_id=grid.code, region_code=grid.region.code, fields=sorted(fields))
    return grid


# Departments -----------------------------------------------------------------------------------


def department_out(d: Department) -> DepartmentOut:
    return DepartmentOut(id=d.id, code=d.code, name=d.name, short_name=d.short_name, kind=d.kind,
                         region_code=d.region.code, region_name=d.region.name, phone=d.phone,
                         duties=d.duties, active=d.active)


def create_department(session: Session, subject: Subject, data: DepartmentCreate) -> Department:
    require_manages(subject, data.region_code)
    region = repo.region_by_code(session, data.region_code)
    if region is None:
        raise _invalid([FieldProblem("region_code", _("区划 {c} 不存在", c=data.region_code))])
    if session.scalar(select(Department.id).where(Department.code == data.code)):
        raise Conflict(_("部门编码 {c} 已存在", c=data.code))
    if session.scalar(select(Department.id).where(Department.region_id == region.id,
                                                  Department.name == data.name)):
        raise Conflict(_("{r}已有名为“{n}”的部门", r=region.name, n=data.name))
    dept = Department(code=data.code, name=data.name, short_name=data.short_name, kind=data.kind,
                      region_id=region.id, region=region, phone=data.phone, duties=data.duties)
    session.add(dept)
    session.flush()
    audit.record(session, "department.create", actor_id=subject.id, actor_name=subject.name,
                 target_type="department", target_id=dept.id, region_code=region.code, name=dept.name)
    return dept


def update_department(session: Session, subject: Subject, department_id: int,
                      data: DepartmentUpdate) -> Department:
    dept = repo.department(session, subject, department_id)
    require_manages(subject, dept.region.code)
    changes = data.model_dump(exclude_unset=True)
    if (
        changes.get("name") not in (None, dept.name)
        and session.scalar(select(Department.id).where(Department.region_id == dept.region_id,
                                                       Department.name == changes["name"]))
    ):
        raise Conflict(_("{r}已有名为“{n}”的部门", r=dept.region.name, n=changes["name"]))
    for key, value in changes.items():
        if value is not None:
            setattr(dept, key, value)
    session.flush()
    audit.record(session, "department.update", actor_id=subject.id, actor_name=subject.name,
                 target_type="department", target_id=dept.id, region_code=dept.region.code,
                 fields=sorted(changes))
    return dept


# Staff -----------------------------------------------------------------------------------------


def staff_out(s: Staff) -> StaffOut:
    locked_until = aware(s.locked_until)
    return StaffOut(
        id=s.id, username=s.username, display_name=s.display_name, phone=s.phone,
        roles=sorted(s.roles), region_code=s.region.code, region_name=s.region.name,
        department=DepartmentRef(id=s.department.id, code=s.department.code, name=s.department.name)
        if s.department else None,
        grid_code=s.grid_code, active=s.active, locked=bool(locked_until and locked_until > now()),
        last_login_at=s.last_login_at,
    )


def _staff_refs(
    session: Session, subject: Subject, region_code: str, department_code: str | None,
    grid_code: str | None, roles: set[Role],
) -> tuple[list[FieldProblem], Region | None, Department | None, Grid | None]:
    problems: list[FieldProblem] = []
    region = repo.region_by_code(session, region_code)
    if region is None or not can_see_region(subject, region_code):
        problems.append(FieldProblem("region_code", _("区划 {c} 不存在或不在您的管辖范围内", c=region_code)))
    dept = None
    if department_code:
        dept = repo.department_by_code(session, subject, department_code)
        if dept is None:
            problems.append(FieldProblem("department_code", _("部门 {c} 不存在或不在您的管辖范围内",
                                                             c=department_code)))
    if Role.department_handler in roles and not department_code:
        problems.append(FieldProblem("department_code", _("职能部门处置员必须指定所属部门")))
    grid = None
    if grid_code:
        grid = session.scalar(select(Grid).where(Grid.code == grid_code))
        if grid is None or not can_see_region(subject, grid_code[:12]):
            problems.append(FieldProblem("grid_code", _("网格 {c} 不存在或不在您的管辖范围内", c=grid_code)))
            grid = None
        elif region is not None and not grid_code.startswith(subtree_prefix(region.code)):
            problems.append(FieldProblem("grid_code", _("网格 {g} 不在所属区划 {r} 之内", g=grid_code,
                                                        r=region.name)))
        elif not roles & {Role.grid_worker, Role.grid_chief}:
            problems.append(FieldProblem("grid_code", _("只有网格员或网格长可以指定网格")))
    return problems, region, dept, grid


def _assign_grid(session: Session, staff: Staff, grid: Grid | None) -> None:
    for m in repo.memberships_of(session, staff.id):
        if m.duty != GridDuty.volunteer:
            session.delete(m)
    session.flush()
    if grid is not None:
        duty = GridDuty.worker if Role.grid_worker in staff.roles else GridDuty.chief
        session.add(GridMember(grid_id=grid.id, staff_id=staff.id, duty=duty, name=staff.display_name,
                               phone=staff.phone))
    session.flush()
    session.expire(staff, ["grid_memberships"])


def create_staff(session: Session, subject: Subject, data: StaffCreate) -> Staff:
    require_manages(subject, data.region_code)
    if repo.staff_by_username(session, data.username):
        raise Conflict(_("用户名 {u} 已被使用", u=data.username))
    roles = set(data.roles)
    problems, region, dept, grid = _staff_refs(session, subject, data.region_code, data.department_code,
                                               data.grid_code, roles)
    if problems or region is None:
        raise _invalid(problems)
    staff = Staff(username=data.username, display_name=data.display_name, phone=data.phone,
                  password_hash=hash_password(data.password), region_id=region.id, region=region,
                  department_id=dept.id if dept else None, department=dept, locale=data.locale,
                  role_rows=[StaffRole(role=r) for r in sorted(roles)])
    session.add(staff)
    session.flush()
    _assign_grid(session, staff, grid)
    audit.record(session, "staff.create", actor_id=subject.id, actor_name=subject.name, target_type="staff",
                 target_id=staff.id, region_code=region.code, username=staff.username,
                 roles=sorted(roles))
    return staff


def update_staff(session: Session, subject: Subject, staff_id: int, data: StaffUpdate) -> Staff:
    staff = repo.staff(session, subject, staff_id)
    require_manages(subject, staff.region.code)
    changes = data.model_dump(exclude_unset=True, exclude={"password", "unlock"})
    roles = set(data.roles) if data.roles is not None else staff.roles
    if staff.id == subject.id and (data.active is False or Role.admin not in roles):
        raise Forbidden(_("不能停用自己的账号或去掉自己的管理员角色"))
    region_code = data.region_code or staff.region.code
    dept_code = data.department_code if "department_code" in data.model_fields_set else (
        staff.department.code if staff.department else None)
    grid_code = data.grid_code if "grid_code" in data.model_fields_set else staff.grid_code
    problems, region, dept, grid = _staff_refs(session, subject, region_code, dept_code or None,
                                               grid_code, roles)
    if problems or region is None:
        raise _invalid(problems)
    for key in ("display_name", "phone", "active"):
        if getattr(data, key) is not None:
            setattr(staff, key, getattr(data, key))
    staff.region, staff.region_id = region, region.id
    staff.department, staff.department_id = dept, dept.id if dept else None
    if data.roles is not None and roles != staff.roles:
        staff.role_rows = [StaffRole(role=r) for r in sorted(roles)]
    if data.active is False:
        staff.session_version += 1
    if data.password:
        staff.password_hash = hash_password(data.password)
        staff.session_version += 1
        audit.record(session, "staff.password_reset", actor_id=subject.id, actor_name=subject.name,
                     target_type="staff", target_id=staff.id, region_code=region.code)
    if data.unlock:
        staff.locked_until, staff.failed_logins = None, 0
        audit.record(session, "staff.unlock", actor_id=subject.id, actor_name=subject.name,
                     target_type="staff", target_id=staff.id, region_code=region.code)
    session.flush()
    if "grid_code" in data.model_fields_set or data.roles is not None:
        _assign_grid(session, staff, grid)
    if changes:
        audit.record(session, "staff.update", actor_id=subject.id, actor_name=subject.name,
                     target_type="staff", target_id=staff.id, region_code=region.code,
                     fields=sorted(changes), roles=sorted(roles))
    return staff


def change_own_password(session: Session, staff: Staff, old: str, new: str) -> None:
    from zhili.auth.passwords import check_password_strength, verify_password

    if not verify_password(staff.password_hash, old):
        raise Invalid(_("原密码不正确"), [FieldProblem("old_password", _("原密码不正确"))])
    if problem := check_password_strength(new):
        raise Invalid(problem, [FieldProblem("new_password", problem)])
    staff.password_hash = hash_password(new)
    staff.session_version += 1
    audit.record(session, "staff.password_change", actor_id=staff.id, actor_name=staff.username,
                 target_type="staff", target_id=staff.id, region_code=staff.region.code)
