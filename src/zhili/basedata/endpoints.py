"""JSON API of base data: addresses, houses, residents, units and places; their history, duplicates,
merging, revealing one personal number (logged), and exports of personal data with approval."""

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from zhili.auth.dependencies import ApiSubject, DbSession
from zhili.basedata import history, privacy, service
from zhili.basedata import repository as repo
from zhili.basedata.schemas import (
    AddressCreate,
    AddressOut,
    AddressUpdate,
    ChangeOut,
    DecisionIn,
    ExportRequestIn,
    ExportRequestOut,
    HouseCreate,
    HouseOut,
    HouseUpdate,
    MergeIn,
    PlaceCreate,
    PlaceOut,
    PlaceUpdate,
    ResidentCreate,
    ResidentOut,
    ResidentUpdate,
    Revealed,
    RevealIn,
    UnitCreate,
    UnitOut,
    UnitUpdate,
)
from zhili.idempotency import CommittingRoute
from zhili.kit.pagination import Page, PageParams, paginate
from zhili.models.basedata import ExportRequest

router = APIRouter(route_class=CommittingRoute, prefix="/api/v1", tags=["base data"])
Paging = Annotated[PageParams, Depends()]
Search = Annotated[str | None, Query(max_length=100)]
Within = Annotated[str | None, Query(pattern=r"^(\d{12}|\d{15})?$", description="网格编码或区划代码")]
Choice = Annotated[str | None, Query(max_length=30)]


def _ip(request: Request) -> str:
    return request.client.host if request.client else ""


def _changes(rows: list[Any]) -> list[ChangeOut]:
    return [ChangeOut(id=c.id, entity=c.entity, entity_id=c.entity_id, action=c.action.value, fields=c.fields,
                      staff_name=c.staff_name, at=c.at) for c in rows]


# Masked exports (declared before the detail routes: "export.csv" is not an id) ------------------


def _masked(request: Request, kind: str, subject: Any, session: Any, filters: dict[str, Any]) -> FileResponse:
    path = privacy.masked_export(session, subject, kind, filters, _ip(request))
    ascii_name, name = privacy.file_name(kind, masked=True)
    return FileResponse(path, media_type="text/csv; charset=utf-8", background=BackgroundTask(path.unlink),
                        headers={"Content-Disposition":
                                 f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"})


EXPORT_DOC = "脱敏导出 CSV（身份证号、电话脱敏；无需审批，记入审计日志；筛选条件同列表）"


@router.get("/residents/export.csv", response_class=FileResponse, summary=EXPORT_DOC)
def export_residents(request: Request, subject: ApiSubject, session: DbSession, q: Search = None,
                     within: Within = None, kind: Choice = None, status: Choice = None) -> FileResponse:
    return _masked(request, "residents", subject, session, {"q": q, "within": within, "kind": kind, "status": status})


@router.get("/houses/export.csv", response_class=FileResponse, summary=EXPORT_DOC)
def export_houses(request: Request, subject: ApiSubject, session: DbSession, q: Search = None,
                  within: Within = None, use: Choice = None, rented: Choice = None,
                  group_rental: Choice = None) -> FileResponse:
    return _masked(request, "houses", subject, session,
                   {"q": q, "within": within, "use": use, "rented": rented, "group_rental": group_rental})


@router.get("/units/export.csv", response_class=FileResponse, summary=EXPORT_DOC)
def export_units(request: Request, subject: ApiSubject, session: DbSession, q: Search = None,
                 within: Within = None, kind: Choice = None) -> FileResponse:
    return _masked(request, "units", subject, session, {"q": q, "within": within, "kind": kind})


@router.get("/places/export.csv", response_class=FileResponse, summary=EXPORT_DOC)
def export_places(request: Request, subject: ApiSubject, session: DbSession, q: Search = None,
                  within: Within = None, kind: Choice = None) -> FileResponse:
    return _masked(request, "places", subject, session, {"q": q, "within": within, "kind": kind})


# Addresses -------------------------------------------------------------------------------------


@router.get("/addresses", response_model=Page[AddressOut], summary="标准地址（一标）")
def list_addresses(subject: ApiSubject, session: DbSession, params: Paging, q: Search = None, within: Within = None,
                   parent_id: int | None = None, roots: bool = False) -> Page[AddressOut]:
    rows, total = paginate(session, repo.addresses(subject, parent_id=parent_id, roots=roots, q=q, within=within),
                           params)
    houses = repo.houses_at(session, [a.id for a in rows])
    return Page.of([service.address_out(session, a, houses[a.id].id if a.id in houses else None) for a in rows],
                   total, params)


@router.post("/addresses", response_model=AddressOut, status_code=201)
def create_address(body: AddressCreate, subject: ApiSubject, session: DbSession) -> AddressOut:
    return service.address_out(session, service.create_address(session, subject, body))


@router.get("/addresses/{address_id}", response_model=AddressOut)
def get_address(address_id: int, subject: ApiSubject, session: DbSession) -> AddressOut:
    a = repo.address(session, subject, address_id)
    house = repo.houses_at(session, [a.id]).get(a.id)
    return service.address_out(session, a, house.id if house else None)


@router.patch("/addresses/{address_id}", response_model=AddressOut)
def update_address(address_id: int, body: AddressUpdate, subject: ApiSubject, session: DbSession) -> AddressOut:
    return service.address_out(session, service.update_address(session, subject, address_id, body))


@router.get("/addresses/{address_id}/history", response_model=list[ChangeOut])
def address_history(address_id: int, subject: ApiSubject, session: DbSession) -> list[ChangeOut]:
    repo.address(session, subject, address_id)
    return _changes(history.entries(session, subject, "address", address_id))


# Houses ----------------------------------------------------------------------------------------


@router.get("/houses", response_model=Page[HouseOut], summary="实有房屋")
def list_houses(subject: ApiSubject, session: DbSession, params: Paging, q: Search = None, within: Within = None,
                use: Choice = None, rented: bool | None = None, group_rental: bool | None = None) -> Page[HouseOut]:
    rows, total = paginate(session, repo.houses(subject, q=q, use=use, rented=rented, group_rental=group_rental,
                                                within=within), params)
    counts = repo.resident_counts(session, [h.id for h in rows])
    return Page.of([service.house_out(h, counts.get(h.id, 0)) for h in rows], total, params)


@router.post("/houses", response_model=HouseOut, status_code=201)
def create_house(body: HouseCreate, subject: ApiSubject, session: DbSession) -> HouseOut:
    return service.house_out(service.create_house(session, subject, body))


@router.get("/houses/{house_id}", response_model=HouseOut)
def get_house(house_id: int, subject: ApiSubject, session: DbSession) -> HouseOut:
    h = repo.house(session, subject, house_id)
    return service.house_out(h, repo.resident_counts(session, [h.id]).get(h.id, 0))


@router.patch("/houses/{house_id}", response_model=HouseOut)
def update_house(house_id: int, body: HouseUpdate, subject: ApiSubject, session: DbSession) -> HouseOut:
    return service.house_out(service.update_house(session, subject, house_id, body))


@router.get("/houses/{house_id}/residents", response_model=list[ResidentOut], summary="房屋内的住户")
def house_residents(house_id: int, subject: ApiSubject, session: DbSession) -> list[ResidentOut]:
    repo.house(session, subject, house_id)
    return [service.resident_out(r) for r in repo.household(session, subject, house_id)]


@router.get("/houses/{house_id}/history", response_model=list[ChangeOut])
def house_history(house_id: int, subject: ApiSubject, session: DbSession) -> list[ChangeOut]:
    repo.house(session, subject, house_id)
    return _changes(history.entries(session, subject, "house", house_id))


@router.post("/houses/{house_id}/reveal", response_model=Revealed, summary="显示房主完整电话（记入审计日志）")
def reveal_house(request: Request, house_id: int, body: RevealIn, subject: ApiSubject, session: DbSession) -> Revealed:
    h = repo.house(session, subject, house_id)
    return Revealed(field=body.field, value=service.reveal(session, subject, "house", h, body.field,
                                                           reason=body.reason, ip=_ip(request)))


# Residents -------------------------------------------------------------------------------------


@router.get("/residents", response_model=Page[ResidentOut], summary="实有人口（身份证号、电话脱敏）")
def list_residents(subject: ApiSubject, session: DbSession, params: Paging,
                   q: Annotated[str | None, Query(max_length=100,
                                                  description="姓名、完整身份证号、完整电话或地址")] = None,
                   kind: Choice = None, within: Within = None, house_id: int | None = None,
                   status: Annotated[str, Query(pattern="^(current|moved_out|all)$")] = "current") -> Page[ResidentOut]:
    rows, total = paginate(session, repo.residents(subject, q=q, kind=kind, within=within, house_id=house_id,
                                                   status=status), params)
    return Page.of([service.resident_out(r) for r in rows], total, params)


@router.post("/residents", response_model=ResidentOut, status_code=201)
def create_resident(body: ResidentCreate, subject: ApiSubject, session: DbSession) -> ResidentOut:
    return service.resident_out(service.create_resident(session, subject, body))


@router.get("/residents/{resident_id}", response_model=ResidentOut)
def get_resident(resident_id: int, subject: ApiSubject, session: DbSession) -> ResidentOut:
    return service.resident_out(repo.resident(session, subject, resident_id))


@router.patch("/residents/{resident_id}", response_model=ResidentOut)
def update_resident(resident_id: int, body: ResidentUpdate, subject: ApiSubject, session: DbSession) -> ResidentOut:
    return service.resident_out(service.update_resident(session, subject, resident_id, body))


@router.get("/residents/{resident_id}/history", response_model=list[ChangeOut])
def resident_history(resident_id: int, subject: ApiSubject, session: DbSession) -> list[ChangeOut]:
    repo.resident(session, subject, resident_id)
    return _changes(history.entries(session, subject, "resident", resident_id))


@router.get("/residents/{resident_id}/duplicates", response_model=list[ResidentOut],
            summary="疑似重复：同一身份证号，或同名且同电话/同出生日期")
def resident_duplicates(resident_id: int, subject: ApiSubject, session: DbSession) -> list[ResidentOut]:
    r = repo.resident(session, subject, resident_id)
    return [service.resident_out(d) for d in repo.resident_duplicates(session, subject, r)]


@router.post("/residents/{resident_id}/merge", response_model=ResidentOut, summary="把重复记录合并到本记录")
def merge_resident(resident_id: int, body: MergeIn, subject: ApiSubject, session: DbSession) -> ResidentOut:
    return service.resident_out(service.merge_residents(session, subject, resident_id, body.other_id))


@router.post("/residents/{resident_id}/reveal", response_model=Revealed,
             summary="显示完整身份证号或电话（记入审计日志）")
def reveal_resident(request: Request, resident_id: int, body: RevealIn, subject: ApiSubject,
                    session: DbSession) -> Revealed:
    r = repo.resident(session, subject, resident_id)
    return Revealed(field=body.field, value=service.reveal(session, subject, "resident", r, body.field,
                                                           reason=body.reason, ip=_ip(request)))


# Units -----------------------------------------------------------------------------------------


@router.get("/units", response_model=Page[UnitOut], summary="实有单位与社会组织")
def list_units(subject: ApiSubject, session: DbSession, params: Paging, q: Search = None, kind: Choice = None,
               within: Within = None) -> Page[UnitOut]:
    rows, total = paginate(session, repo.units(subject, q=q, kind=kind, within=within), params)
    return Page.of([service.unit_out(u) for u in rows], total, params)


@router.post("/units", response_model=UnitOut, status_code=201)
def create_unit(body: UnitCreate, subject: ApiSubject, session: DbSession) -> UnitOut:
    return service.unit_out(service.create_unit(session, subject, body))


@router.get("/units/{unit_id}", response_model=UnitOut)
def get_unit(unit_id: int, subject: ApiSubject, session: DbSession) -> UnitOut:
    return service.unit_out(repo.unit(session, subject, unit_id))


@router.patch("/units/{unit_id}", response_model=UnitOut)
def update_unit(unit_id: int, body: UnitUpdate, subject: ApiSubject, session: DbSession) -> UnitOut:
    return service.unit_out(service.update_unit(session, subject, unit_id, body))


@router.get("/units/{unit_id}/history", response_model=list[ChangeOut])
def unit_history(unit_id: int, subject: ApiSubject, session: DbSession) -> list[ChangeOut]:
    repo.unit(session, subject, unit_id)
    return _changes(history.entries(session, subject, "unit", unit_id))


@router.get("/units/{unit_id}/duplicates", response_model=list[UnitOut])
def unit_duplicates(unit_id: int, subject: ApiSubject, session: DbSession) -> list[UnitOut]:
    u = repo.unit(session, subject, unit_id)
    return [service.unit_out(d) for d in repo.unit_duplicates(session, subject, u)]


@router.post("/units/{unit_id}/merge", response_model=UnitOut)
def merge_unit(unit_id: int, body: MergeIn, subject: ApiSubject, session: DbSession) -> UnitOut:
    return service.unit_out(service.merge_units(session, subject, unit_id, body.other_id))


@router.post("/units/{unit_id}/reveal", response_model=Revealed)
def reveal_unit(request: Request, unit_id: int, body: RevealIn, subject: ApiSubject, session: DbSession) -> Revealed:
    u = repo.unit(session, subject, unit_id)
    return Revealed(field=body.field, value=service.reveal(session, subject, "unit", u, body.field,
                                                           reason=body.reason, ip=_ip(request)))


# Places ----------------------------------------------------------------------------------------


@router.get("/places", response_model=Page[PlaceOut], summary="重点场所")
def list_places(subject: ApiSubject, session: DbSession, params: Paging, q: Search = None, kind: Choice = None,
                within: Within = None) -> Page[PlaceOut]:
    rows, total = paginate(session, repo.places(subject, q=q, kind=kind, within=within), params)
    return Page.of([service.place_out(p) for p in rows], total, params)


@router.post("/places", response_model=PlaceOut, status_code=201)
def create_place(body: PlaceCreate, subject: ApiSubject, session: DbSession) -> PlaceOut:
    return service.place_out(service.create_place(session, subject, body))


@router.get("/places/{place_id}", response_model=PlaceOut)
def get_place(place_id: int, subject: ApiSubject, session: DbSession) -> PlaceOut:
    return service.place_out(repo.place(session, subject, place_id))


@router.patch("/places/{place_id}", response_model=PlaceOut)
def update_place(place_id: int, body: PlaceUpdate, subject: ApiSubject, session: DbSession) -> PlaceOut:
    return service.place_out(service.update_place(session, subject, place_id, body))


@router.get("/places/{place_id}/history", response_model=list[ChangeOut])
def place_history(place_id: int, subject: ApiSubject, session: DbSession) -> list[ChangeOut]:
    repo.place(session, subject, place_id)
    return _changes(history.entries(session, subject, "place", place_id))


@router.post("/places/{place_id}/reveal", response_model=Revealed)
def reveal_place(request: Request, place_id: int, body: RevealIn, subject: ApiSubject, session: DbSession) -> Revealed:
    p = repo.place(session, subject, place_id)
    return Revealed(field=body.field, value=service.reveal(session, subject, "place", p, body.field,
                                                           reason=body.reason, ip=_ip(request)))


# Exports of personal data ------------------------------------------------------------------------


def export_out(row: ExportRequest, subject: Any) -> ExportRequestOut:
    return ExportRequestOut(id=row.id, kind=row.kind, filters=row.filters, purpose=row.purpose, status=row.status.value,
                            requested_by_name=row.requested_by_name, requested_at=row.requested_at,
                            decided_by_name=row.decided_by_name, decided_at=row.decided_at,
                            decision_note=row.decision_note, expires_at=row.expires_at, downloads=row.downloads,
                            downloadable=privacy.downloadable(row, subject))


@router.get("/base-exports", response_model=Page[ExportRequestOut], summary="个人信息导出申请")
def list_exports(subject: ApiSubject, session: DbSession, params: Paging) -> Page[ExportRequestOut]:
    rows, total = paginate(session, repo.export_requests(subject), params)
    return Page.of([export_out(r, subject) for r in rows], total, params)


@router.post("/base-exports", response_model=ExportRequestOut, status_code=201,
             summary="申请导出未脱敏的个人信息（须管理员批准）")
def request_export(request: Request, body: ExportRequestIn, subject: ApiSubject,
                   session: DbSession) -> ExportRequestOut:
    return export_out(privacy.request_export(session, subject, body, _ip(request)), subject)


@router.get("/base-exports/{export_id}", response_model=ExportRequestOut)
def get_export(export_id: int, subject: ApiSubject, session: DbSession) -> ExportRequestOut:
    return export_out(repo.export_request(session, subject, export_id), subject)


@router.post("/base-exports/{export_id}/decision", response_model=ExportRequestOut, summary="审批导出申请（管理员）")
def decide_export(request: Request, export_id: int, body: DecisionIn, subject: ApiSubject,
                  session: DbSession) -> ExportRequestOut:
    return export_out(privacy.decide(session, subject, export_id, body.approve, body.note, _ip(request)), subject)


@router.get("/base-exports/{export_id}/download", response_class=FileResponse,
            summary="下载获批的导出文件（仅申请人，限时限次，记入审计日志）")
def download_export(request: Request, export_id: int, subject: ApiSubject, session: DbSession) -> FileResponse:
    row, path = privacy.download(session, subject, export_id, _ip(request))
    ascii_name, name = privacy.file_name(row.kind, masked=False)
    return FileResponse(path, media_type="text/csv; charset=utf-8", background=BackgroundTask(path.unlink),
                        headers={"Content-Disposition":
                                 f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"})
