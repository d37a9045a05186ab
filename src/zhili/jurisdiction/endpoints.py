"""JSON API for regions, grids, departments and staff: thin, scoped, paginated."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, UploadFile

from zhili.auth.dependencies import ApiSubject, DbSession
from zhili.idempotency import CommittingRoute
from zhili.jurisdiction import imports, service
from zhili.jurisdiction import repository as repo
from zhili.jurisdiction.schemas import (
    DepartmentCreate,
    DepartmentOut,
    DepartmentUpdate,
    GridCreate,
    GridDetail,
    GridOut,
    GridUpdate,
    RegionCreate,
    RegionDetail,
    RegionOut,
    RegionUpdate,
    StaffCreate,
    StaffOut,
    StaffUpdate,
)
from zhili.kit.codes import RegionLevel
from zhili.kit.pagination import Page, PageParams, paginate
from zhili.models import GridKind, Role
from zhili.models.jurisdiction import DepartmentKind

router = APIRouter(route_class=CommittingRoute, prefix="/api/v1")
Paging = Annotated[PageParams, Depends()]
Search = Annotated[str | None, Query(max_length=100, description="名称或代码")]
CodeFilter = Annotated[str | None, Query(pattern=r"^\d{1,12}$", description="区划代码（含其下级）")]


@router.get("/regions", response_model=Page[RegionOut], tags=["jurisdiction"])
def list_regions(
    subject: ApiSubject, session: DbSession, params: Paging, level: RegionLevel | None = None,
    parent_code: CodeFilter = None, within: CodeFilter = None, q: Search = None,
) -> Page[RegionOut]:
    stmt = repo.regions(subject, level=level, parent_code=parent_code, within=within, q=q)
    rows, total = paginate(session, stmt, params)
    return Page.of([service.region_out(r) for r in rows], total, params)


@router.post("/regions", response_model=RegionDetail, status_code=201, tags=["jurisdiction"])
def create_region(body: RegionCreate, subject: ApiSubject, session: DbSession) -> RegionDetail:
    region = service.create_region(session, subject, body)
    return service.region_detail(session, subject, region)


@router.get("/regions/{region_code}", response_model=RegionDetail, tags=["jurisdiction"])
def get_region(region_code: str, subject: ApiSubject, session: DbSession) -> RegionDetail:
    return service.region_detail(session, subject, repo.region(session, subject, region_code))


@router.patch("/regions/{region_code}", response_model=RegionDetail, tags=["jurisdiction"])
def update_region(region_code: str, body: RegionUpdate, subject: ApiSubject, session: DbSession) -> RegionDetail:
    region = service.update_region(session, subject, region_code, body)
    return service.region_detail(session, subject, region)


@router.get("/grids", response_model=Page[GridOut], tags=["jurisdiction"])
def list_grids(
    subject: ApiSubject, session: DbSession, params: Paging, within: CodeFilter = None,
    kind: GridKind | None = None, q: Search = None,
) -> Page[GridOut]:
    rows, total = paginate(session, repo.grids(subject, within=within, kind=kind, q=q), params)
    names = service.member_usernames(session, rows)
    return Page.of([service.grid_out(g, names) for g in rows], total, params)


@router.post("/grids", response_model=GridDetail, status_code=201, tags=["jurisdiction"])
def create_grid(body: GridCreate, subject: ApiSubject, session: DbSession) -> GridDetail:
    return service.grid_detail(session, service.create_grid(session, subject, body))


@router.get("/grids/{grid_code}", response_model=GridDetail, tags=["jurisdiction"])
def get_grid(grid_code: str, subject: ApiSubject, session: DbSession) -> GridDetail:
    return service.grid_detail(session, repo.grid(session, subject, grid_code))


@router.patch("/grids/{grid_code}", response_model=GridDetail, tags=["jurisdiction"])
def update_grid(grid_code: str, body: GridUpdate, subject: ApiSubject, session: DbSession) -> GridDetail:
    return service.grid_detail(session, service.update_grid(session, subject, grid_code, body))


@router.get("/departments", response_model=Page[DepartmentOut], tags=["jurisdiction"])
def list_departments(
    subject: ApiSubject, session: DbSession, params: Paging, region_code: CodeFilter = None,
    kind: DepartmentKind | None = None, active: bool | None = None, q: Search = None,
) -> Page[DepartmentOut]:
    stmt = repo.departments(subject, region_code=region_code, kind=kind, active=active, q=q)
    rows, total = paginate(session, stmt, params)
    return Page.of([service.department_out(d) for d in rows], total, params)


@router.post("/departments", response_model=DepartmentOut, status_code=201, tags=["jurisdiction"])
def create_department(body: DepartmentCreate, subject: ApiSubject, session: DbSession) -> DepartmentOut:
    return service.department_out(service.create_department(session, subject, body))


@router.get("/departments/{department_id}", response_model=DepartmentOut, tags=["jurisdiction"])
def get_department(department_id: int, subject: ApiSubject, session: DbSession) -> DepartmentOut:
    return service.department_out(repo.department(session, subject, department_id))


@router.patch("/departments/{department_id}", response_model=DepartmentOut, tags=["jurisdiction"])
def update_department(department_id: int, body: DepartmentUpdate, subject: ApiSubject,
                      session: DbSession) -> DepartmentOut:
    return service.department_out(service.update_department(session, subject, department_id, body))


@router.get("/staff", response_model=Page[StaffOut], tags=["jurisdiction"])
def list_staff(
    subject: ApiSubject, session: DbSession, params: Paging, region_code: CodeFilter = None,
    role: Role | None = None, department_id: int | None = None, active: bool | None = None, q: Search = None,
) -> Page[StaffOut]:
    stmt = repo.staff_list(subject, region_code=region_code, role=role, department_id=department_id,
                           active=active, q=q)
    rows, total = paginate(session, stmt, params)
    return Page.of([service.staff_out(s) for s in rows], total, params)


@router.post("/staff", response_model=StaffOut, status_code=201, tags=["jurisdiction"])
def create_staff(body: StaffCreate, subject: ApiSubject, session: DbSession) -> StaffOut:
    return service.staff_out(service.create_staff(session, subject, body))


@router.get("/staff/{staff_id}", response_model=StaffOut, tags=["jurisdiction"])
def get_staff(staff_id: int, subject: ApiSubject, session: DbSession) -> StaffOut:
    return service.staff_out(repo.staff(session, subject, staff_id))


@router.patch("/staff/{staff_id}", response_model=StaffOut, tags=["jurisdiction"])
def update_staff(staff_id: int, body: StaffUpdate, subject: ApiSubject, session: DbSession) -> StaffOut:
    return service.staff_out(service.update_staff(session, subject, staff_id, body))


# Imports: all-or-nothing uploads of region and grid files -----------------------------------------


@router.post("/regions/import", response_model=imports.ImportResult, tags=["jurisdiction"])
def import_regions(file: UploadFile, subject: ApiSubject, session: DbSession,
                   dry_run: bool = False) -> imports.ImportResult:
    content = imports.read_upload(file.file)
    report = imports.import_regions(session, subject, file.filename or "", content, dry_run=dry_run)
    return imports.ImportResult.of(report, dry_run)


@router.post("/grids/import", response_model=imports.ImportResult, tags=["jurisdiction"])
def import_grids(file: UploadFile, subject: ApiSubject, session: DbSession,
                 dry_run: bool = False) -> imports.ImportResult:
    content = imports.read_upload(file.file)
    report = imports.import_grids(session, subject, file.filename or "", content, dry_run=dry_run)
    return imports.ImportResult.of(report, dry_run)
