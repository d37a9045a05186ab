"""Admin pages for regions, grids, departments and staff.

As thin as the JSON API beside them: every read starts from a repository query built on
`readable(subject, ...)` (so a row outside the subject's area is a 404), every write calls the same
service function as the API, with the form fields validated by the API's own schemas. Forms post with
htmx and get a fragment back; without JavaScript they get a redirect or the error page.
"""

import json
import re
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from zhili.access import can_see_region
from zhili.auth.dependencies import DbSession, PageSubject, verify_csrf
from zhili.auth.subject import Subject
from zhili.errors import ImportRejected, ImportReport, Invalid
from zhili.idempotency import CommittingRoute
from zhili.jurisdiction import imports, service
from zhili.jurisdiction import repository as repo
from zhili.jurisdiction.schemas import (
    DepartmentCreate,
    DepartmentUpdate,
    GridUpdate,
    RegionCreate,
    RegionUpdate,
    StaffCreate,
    StaffUpdate,
)
from zhili.kit.i18n import _
from zhili.kit.pagination import PageParams, paginate
from zhili.models import Department, Grid, GridKind, Region, Role, Staff
from zhili.models.jurisdiction import DepartmentKind
from zhili.templating import done, form_model, is_fragment, render

router = APIRouter(route_class=CommittingRoute, prefix="/admin", include_in_schema=False)

Paging = Annotated[PageParams, Depends()]
Search = Annotated[str | None, Query(max_length=100)]
# Filters come from forms, where "no choice" is an empty string.
CodeFilter = Annotated[str | None, Query(pattern=r"^(\d{12})?$")]
Choice = Annotated[str | None, Query(max_length=30)]
CSRF = [Depends(verify_csrf)]
# Option lists of the forms (regions, grids, departments of the subject's area) stop here.
MAX_CHOICES = 2000

E = TypeVar("E", bound=StrEnum)


def _choice(enum: type[E], value: str | None) -> E | None:
    return enum(value) if value in {e.value for e in enum} else None


def _yes_no(value: str | None) -> bool | None:
    return {"true": True, "false": False}.get(value or "")


def _can_manage(subject: Subject, region_code: str | None = None) -> bool:
    """Whether to show write controls; the services decide (and refuse with 403) either way."""
    return subject.has(Role.admin) and (region_code is None or can_see_region(subject, region_code))


def _region_choices(session: Session, subject: Subject) -> list[Region]:
    return list(session.scalars(repo.regions(subject).limit(MAX_CHOICES)))


# Regions ---------------------------------------------------------------------------------------


def _region_items(session: Session, rows: list[Region]) -> list[dict[str, Any]]:
    children = repo.child_counts(session, [r.id for r in rows])
    grids = repo.grid_counts(session, [r.code for r in rows])
    return [{"region": service.region_out(r), "children": children.get(r.id, 0), "grids": grids[r.code]}
            for r in rows]


def _region_listing(session: Session, subject: Subject, current: Region, q: str | None,
                    params: PageParams) -> dict[str, Any]:
    """The children of the current node, or with a search its whole subtree."""
    searching = bool(q and q.strip())
    stmt = repo.regions(subject, within=current.code, q=q) if searching else repo.regions(
        subject, parent_code=current.code)
    rows, total = paginate(session, stmt, params)
    return {"current": current, "items": _region_items(session, rows), "total": total, "params": params,
            "q": q or "", "searching": searching, "can_manage": _can_manage(subject)}


@router.get("/regions")
def regions_page(request: Request, subject: PageSubject, session: DbSession, params: Paging,
                 code: CodeFilter = None, q: Search = None) -> Response:
    current = repo.region(session, subject, code or subject.region_code)
    ctx = _region_listing(session, subject, current, q, params)
    ctx["detail"] = service.region_detail(session, subject, current)
    if is_fragment(request):
        # The counts in the card's head change with creations and imports: swapped in out of band.
        return render(request, "jurisdiction/_region_table.html", {**ctx, "facts_oob": True})
    return render(request, "jurisdiction/regions.html", ctx)


@router.post("/regions/import", dependencies=CSRF)
def import_regions(request: Request, subject: PageSubject, session: DbSession,
                   file: Annotated[UploadFile, File()], dry_run: Annotated[bool, Form()] = False) -> Response:
    return _import(request, session, subject, imports.import_regions, file, dry_run, "regions-changed")


@router.post("/regions", dependencies=CSRF)
def create_region(request: Request, subject: PageSubject, session: DbSession,
                  code: Annotated[str, Form(max_length=20)] = "",
                  name: Annotated[str, Form(max_length=100)] = "") -> Response:
    region = service.create_region(session, subject, form_model(RegionCreate, {"code": code, "name": name}))
    parent = region.parent.code if region.parent else region.code
    return done(request, f"/admin/regions?code={parent}", "_flash.html",
                {"message": _("已新建区划：{n}（{c}）", n=region.name, c=region.code)}, trigger="regions-changed")


@router.get("/regions/{region_code}/row")
def region_row(request: Request, region_code: str, subject: PageSubject, session: DbSession,
               edit: bool = False) -> Response:
    """One row of the region table, shown or in place for renaming."""
    region = repo.region(session, subject, region_code)
    return render(request, "jurisdiction/_region_row.html",
                  {"item": _region_items(session, [region])[0], "edit": edit, "can_manage": _can_manage(subject)})


@router.post("/regions/{region_code}", dependencies=CSRF)
def rename_region(request: Request, region_code: str, subject: PageSubject, session: DbSession,
                  name: Annotated[str, Form(max_length=100)] = "") -> Response:
    region = service.update_region(session, subject, region_code, form_model(RegionUpdate, {"name": name}))
    back = f"/admin/regions?code={region.parent.code if region.parent else region.code}"
    return done(request, back, "jurisdiction/_region_row.html",
                {"item": _region_items(session, [region])[0], "edit": False, "can_manage": _can_manage(subject)})


# Imports (regions and grids) -------------------------------------------------------------------

Importer = Callable[..., ImportReport]


def _import(request: Request, session: Session, subject: Subject, run: Importer, file: UploadFile,
            dry_run: bool, trigger: str) -> Response:
    content = imports.read_upload(file.file)
    filename = file.filename or ""
    ctx: dict[str, Any] = {"dry_run": dry_run, "filename": filename}
    try:
        report = run(session, subject, filename, content, dry_run=dry_run)
    except (ImportRejected, Invalid) as exc:
        # All or nothing: the refusal is answered with its report, so make sure nothing is committed.
        session.rollback()
        report = exc.report if isinstance(exc, ImportRejected) else ImportReport(problems=exc.problems)
        ctx.update(report=report, rejected=True, message=exc.message)
        template = "_import_report.html" if "hx-request" in request.headers else "import_result.html"
        return render(request, template, ctx, status_code=exc.status_code)
    ctx.update(report=report, rejected=False)
    if "hx-request" not in request.headers:
        return render(request, "import_result.html", ctx)
    headers = {"HX-Trigger": trigger} if not dry_run else None
    return render(request, "_import_report.html", ctx, headers=headers)


# Grids -----------------------------------------------------------------------------------------


def _grid_listing(session: Session, subject: Subject, current: Region, q: str | None, kind: str | None,
                  params: PageParams) -> dict[str, Any]:
    stmt = repo.grids(subject, within=current.code, kind=_choice(GridKind, kind), q=q)
    rows, total = paginate(session, stmt, params)
    names = service.member_usernames(session, rows)
    return {"current": current, "items": [service.grid_out(g, names) for g in rows], "total": total,
            "params": params, "q": q or "", "kind": _choice(GridKind, kind) or ""}


@router.get("/grids")
def grids_page(request: Request, subject: PageSubject, session: DbSession, params: Paging,
               within: CodeFilter = None, q: Search = None, kind: Choice = None) -> Response:
    current = repo.region(session, subject, within or subject.region_code)
    ctx = _grid_listing(session, subject, current, q, kind, params)
    if is_fragment(request):
        return render(request, "jurisdiction/_grid_table.html", ctx)
    ctx.update(detail=service.region_detail(session, subject, current),
               children=list(session.scalars(repo.regions(subject, parent_code=current.code))),
               can_manage=_can_manage(subject))
    return render(request, "jurisdiction/grids.html", ctx)


def _feature(geometry: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "geometry": json.loads(geometry), "properties": properties}


@router.get("/grids/map.geojson")
def grids_geojson(subject: PageSubject, session: DbSession, within: CodeFilter = None) -> Response:
    """The map's data: region outlines of the area (drawn underneath) and its grids, one collection."""
    current = repo.region(session, subject, within or subject.region_code)
    features = [
        _feature(r.boundary, {"layer": "region", "code": r.code, "name": r.name, "level": r.level})
        for r in session.scalars(repo.regions(subject, within=current.code)) if r.boundary
    ]
    grids: list[Grid] = list(session.scalars(repo.grids(subject, within=current.code)))
    names = service.member_usernames(session, grids)
    for grid in grids:
        out = service.grid_out(grid, names)
        features.append(_feature(grid.boundary, {
            "layer": "grid", "code": out.code, "name": out.name, "kind": out.kind,
            "community": out.region_name, "area_m2": out.area_m2,
            "chief": out.chief.name if out.chief else "", "workers": [w.name for w in out.workers],
            "url": f"/admin/grids/{out.code}",
        }))
    return JSONResponse({"type": "FeatureCollection", "features": features}, media_type="application/geo+json")


@router.post("/grids/import", dependencies=CSRF)
def import_grids(request: Request, subject: PageSubject, session: DbSession,
                 file: Annotated[UploadFile, File()], dry_run: Annotated[bool, Form()] = False) -> Response:
    return _import(request, session, subject, imports.import_grids, file, dry_run, "grids-changed")


def _grid_form(session: Session, subject: Subject, grid: Grid) -> dict[str, Any]:
    detail = service.grid_detail(session, grid)
    chiefs = list(session.scalars(repo.grid_member_candidates(subject, grid.code, Role.grid_chief)))
    workers = list(session.scalars(repo.grid_member_candidates(subject, grid.code, Role.grid_worker)))
    path = service.region_detail(session, subject, grid.region).path
    features = [_feature(grid.boundary, {"layer": "grid", "code": grid.code, "name": grid.name, "kind": grid.kind})]
    if grid.region.boundary:
        features.insert(0, _feature(grid.region.boundary, {"layer": "region", "level": grid.region.level}))
    return {"grid": detail, "path": path, "community": grid.region, "chiefs": chiefs, "workers": workers,
            "map_data": {"type": "FeatureCollection", "features": features},
            "current_workers": {w.username for w in detail.workers if w.username},
            "can_manage": _can_manage(subject, grid.code[:12])}


@router.get("/grids/{grid_code}")
def grid_page(request: Request, grid_code: str, subject: PageSubject, session: DbSession) -> Response:
    grid = repo.grid(session, subject, grid_code)
    return render(request, "jurisdiction/grid.html", _grid_form(session, subject, grid))


def _volunteers(text: str) -> list[dict[str, str]]:
    """One volunteer a line: a name, then optionally a phone number (space, comma or tab between)."""
    people = []
    for line in text.splitlines():
        parts = [p for p in re.split(r"[\s,，、;；]+", line.strip()) if p]
        if parts:
            people.append({"name": parts[0], "phone": parts[1] if len(parts) > 1 else ""})
    return people


@router.post("/grids/{grid_code}", dependencies=CSRF)
def update_grid(
    request: Request, grid_code: str, subject: PageSubject, session: DbSession,
    name: Annotated[str, Form(max_length=100)] = "", kind: Annotated[str, Form(max_length=20)] = "basic",
    note: Annotated[str, Form(max_length=500)] = "", chief: Annotated[str, Form(max_length=50)] = "",
    workers: Annotated[list[str], Form(max_length=50)] = [],  # noqa: B006 (FastAPI copies defaults)
    volunteers: Annotated[str, Form(max_length=10000)] = "",
) -> Response:
    data = form_model(GridUpdate, {"name": name, "kind": kind, "note": note, "chief": chief or None,
                                   "workers": workers, "volunteers": _volunteers(volunteers)})
    grid = service.update_grid(session, subject, grid_code, data)
    ctx = _grid_form(session, subject, grid)
    ctx["saved"] = _("已保存网格：{n}", n=grid.name)
    return done(request, f"/admin/grids/{grid.code}", "jurisdiction/_grid_form.html", ctx)


# Departments -----------------------------------------------------------------------------------


@router.get("/departments")
def departments_page(
    request: Request, subject: PageSubject, session: DbSession, params: Paging,
    region_code: CodeFilter = None, kind: Choice = None, active: Choice = None, q: Search = None,
) -> Response:
    stmt = repo.departments(subject, region_code=region_code or None, kind=_choice(DepartmentKind, kind),
                            active=_yes_no(active), q=q)
    rows, total = paginate(session, stmt, params)
    ctx: dict[str, Any] = {
        "items": [service.department_out(d) for d in rows], "total": total, "params": params,
        "manageable": {d.id for d in rows if _can_manage(subject, d.region.code)},
        "filters": {"region_code": region_code or "", "kind": _choice(DepartmentKind, kind) or "",
                    "active": active if _yes_no(active) is not None else "", "q": q or ""},
    }
    if is_fragment(request):
        return render(request, "jurisdiction/_department_table.html", ctx)
    # The region filter offers the regions that have units the subject sees (its own area and above).
    seen = {d.region.code: d.region for d in session.scalars(repo.departments(subject).limit(MAX_CHOICES))}
    ctx.update(filter_regions=sorted(seen.values(), key=lambda r: r.code),
               regions=_region_choices(session, subject), can_manage=_can_manage(subject))
    return render(request, "jurisdiction/departments.html", ctx)


@router.post("/departments", dependencies=CSRF)
def create_department(
    request: Request, subject: PageSubject, session: DbSession,
    code: Annotated[str, Form(max_length=32)] = "", name: Annotated[str, Form(max_length=100)] = "",
    short_name: Annotated[str, Form(max_length=30)] = "", kind: Annotated[str, Form(max_length=20)] = "",
    region_code: Annotated[str, Form(max_length=12)] = "", phone: Annotated[str, Form(max_length=20)] = "",
    duties: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    data = form_model(DepartmentCreate, {"code": code, "name": name, "short_name": short_name,
                                         "kind": kind or DepartmentKind.government, "region_code": region_code,
                                         "phone": phone, "duties": duties})
    dept = service.create_department(session, subject, data)
    return done(request, f"/admin/departments/{dept.id}", "_flash.html",
                {"message": _("已新建部门：{n}", n=dept.name)}, trigger="departments-changed")


@router.get("/departments/{department_id}")
def department_page(request: Request, department_id: int, subject: PageSubject, session: DbSession) -> Response:
    dept = repo.department(session, subject, department_id)
    return render(request, "jurisdiction/department.html", _department_form(subject, dept))


def _department_form(subject: Subject, dept: Department) -> dict[str, Any]:
    return {"dept": service.department_out(dept), "can_manage": _can_manage(subject, dept.region.code)}


@router.post("/departments/{department_id}", dependencies=CSRF)
def update_department(
    request: Request, department_id: int, subject: PageSubject, session: DbSession,
    name: Annotated[str, Form(max_length=100)] = "", short_name: Annotated[str, Form(max_length=30)] = "",
    kind: Annotated[str, Form(max_length=20)] = "", phone: Annotated[str, Form(max_length=20)] = "",
    duties: Annotated[str, Form(max_length=2000)] = "", active: Annotated[str, Form(max_length=5)] = "true",
) -> Response:
    data = form_model(DepartmentUpdate, {"name": name, "short_name": short_name, "kind": kind,
                                         "phone": phone, "duties": duties, "active": active})
    dept = service.update_department(session, subject, department_id, data)
    ctx = _department_form(subject, dept)
    ctx["saved"] = _("已保存部门：{n}", n=dept.name)
    return done(request, f"/admin/departments/{dept.id}", "jurisdiction/_department_form.html", ctx)


# Staff -----------------------------------------------------------------------------------------


def _staff_choices(session: Session, subject: Subject) -> dict[str, Any]:
    return {
        "regions": _region_choices(session, subject),
        "departments": list(session.scalars(repo.departments(subject, active=True).limit(MAX_CHOICES))),
        "grids": list(session.scalars(repo.grids(subject).limit(MAX_CHOICES))),
    }


@router.get("/staff")
def staff_page(
    request: Request, subject: PageSubject, session: DbSession, params: Paging,
    region_code: CodeFilter = None, role: Choice = None, department_id: Choice = None,
    active: Choice = None, q: Search = None,
) -> Response:
    dept_id = int(department_id) if department_id and department_id.isdigit() else None
    stmt = repo.staff_list(subject, region_code=region_code or None, role=_choice(Role, role),
                           department_id=dept_id, active=_yes_no(active), q=q)
    rows, total = paginate(session, stmt, params)
    ctx: dict[str, Any] = {
        "items": [service.staff_out(s) for s in rows], "total": total, "params": params,
        "manageable": {s.id for s in rows if _can_manage(subject, s.region.code)},
        "filters": {"region_code": region_code or "", "role": _choice(Role, role) or "",
                    "department_id": dept_id or "", "active": active if _yes_no(active) is not None else "",
                    "q": q or ""},
    }
    if is_fragment(request):
        return render(request, "jurisdiction/_staff_table.html", ctx)
    ctx.update(_staff_choices(session, subject), can_manage=_can_manage(subject))
    return render(request, "jurisdiction/staff.html", ctx)


@router.post("/staff", dependencies=CSRF)
def create_staff(
    request: Request, subject: PageSubject, session: DbSession,
    username: Annotated[str, Form(max_length=50)] = "", display_name: Annotated[str, Form(max_length=50)] = "",
    phone: Annotated[str, Form(max_length=20)] = "", password: Annotated[str, Form(max_length=128)] = "",
    roles: Annotated[list[str], Form(max_length=20)] = [],  # noqa: B006
    region_code: Annotated[str, Form(max_length=12)] = "",
    department_code: Annotated[str, Form(max_length=32)] = "", grid_code: Annotated[str, Form(max_length=15)] = "",
) -> Response:
    data = form_model(StaffCreate, {
        "username": username, "display_name": display_name, "phone": phone, "password": password,
        "roles": roles, "region_code": region_code, "department_code": department_code or None,
        "grid_code": grid_code or None,
    })
    staff = service.create_staff(session, subject, data)
    return done(request, f"/admin/staff/{staff.id}", "_flash.html",
                {"message": _("已新建账号：{u}（{n}）", u=staff.username, n=staff.display_name)},
                trigger="staff-changed")


@router.get("/staff/{staff_id}")
def staff_member_page(request: Request, staff_id: int, subject: PageSubject, session: DbSession) -> Response:
    staff = repo.staff(session, subject, staff_id)
    return render(request, "jurisdiction/staff_member.html", _staff_form(session, subject, staff))


def _staff_form(session: Session, subject: Subject, staff: Staff) -> dict[str, Any]:
    ctx: dict[str, Any] = {"person": service.staff_out(staff), "is_self": staff.id == subject.id,
                           "can_manage": _can_manage(subject, staff.region.code)}
    ctx.update(_staff_choices(session, subject))
    return ctx


@router.post("/staff/{staff_id}", dependencies=CSRF)
def update_staff(
    request: Request, staff_id: int, subject: PageSubject, session: DbSession,
    display_name: Annotated[str, Form(max_length=50)] = "", phone: Annotated[str, Form(max_length=20)] = "",
    roles: Annotated[list[str], Form(max_length=20)] = [],  # noqa: B006
    region_code: Annotated[str, Form(max_length=12)] = "",
    department_code: Annotated[str, Form(max_length=32)] = "", grid_code: Annotated[str, Form(max_length=15)] = "",
    active: Annotated[str, Form(max_length=5)] = "true", password: Annotated[str, Form(max_length=128)] = "",
    unlock: Annotated[bool, Form()] = False,
) -> Response:
    data = form_model(StaffUpdate, {
        "display_name": display_name, "phone": phone, "roles": roles, "region_code": region_code,
        "department_code": department_code or None, "grid_code": grid_code or None, "active": active,
        "password": password or None, "unlock": unlock,
    })
    staff = service.update_staff(session, subject, staff_id, data)
    ctx = _staff_form(session, subject, staff)
    ctx["saved"] = _("已保存账号：{u}", u=staff.username)
    return done(request, f"/admin/staff/{staff.id}", "jurisdiction/_staff_form.html", ctx)
