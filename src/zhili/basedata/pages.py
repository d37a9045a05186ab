"""Pages of base data under /base: lists with filters, detail pages with their history, forms that
work on a phone (grid workers correct records on site), the "显示" button that reveals one personal
number (logged), exports and imports.

Thin like the other pages: reads come from basedata.repository (every one built on `readable`),
writes go through basedata.service with the API's own schemas (`form_model`). A form that worked
sends the browser to the record's page (HX-Redirect for htmx, 303 otherwise).
"""

from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from zhili.auth.dependencies import DbSession, PageSubject, verify_csrf
from zhili.auth.subject import Subject
from zhili.basedata import history, imports, privacy, service
from zhili.basedata import repository as repo
from zhili.basedata.labels import (
    ACTION_LABELS,
    ENTITY_LABELS,
    EXPORT_STATUS_LABELS,
    FIELD_LABELS,
    GENDER_LABELS,
    LEVEL_LABELS,
    PLACE_KIND_LABELS,
    RESIDENT_KIND_LABELS,
    UNIT_KIND_LABELS,
    USE_LABELS,
)
from zhili.basedata.schemas import (
    AddressCreate,
    AddressUpdate,
    DecisionIn,
    ExportRequestIn,
    HouseCreate,
    HouseUpdate,
    MergeIn,
    PlaceCreate,
    PlaceUpdate,
    ResidentCreate,
    ResidentUpdate,
    RevealIn,
    UnitCreate,
    UnitUpdate,
)
from zhili.config import get_settings
from zhili.errors import FieldProblem, Invalid
from zhili.idempotency import CommittingRoute
from zhili.kit import i18n
from zhili.kit.i18n import _
from zhili.kit.pagination import PageParams, paginate
from zhili.kit.protect import mask_id_number, mask_phone
from zhili.models import Address, AddressLevel, ImportJob, Role
from zhili.templating import form_model, is_fragment, render
from zhili.transfer import jobs
from zhili.transfer.endpoints import XLSX_TYPE
from zhili.transfer.files import accepted_formats

router = APIRouter(route_class=CommittingRoute, prefix="/base", include_in_schema=False)

Paging = Annotated[PageParams, Depends()]
CSRF = [Depends(verify_csrf)]
Search = Annotated[str | None, Query(max_length=100)]
Choice = Annotated[str | None, Query(max_length=30)]
Within = Annotated[str | None, Query(pattern=r"^(\d{12}|\d{15})?$")]
MAX_FIELD = 5000
PAGE_SIZE = 30


async def form_data(request: Request) -> dict[str, str]:
    """The posted form as text (files aside); an overlong value is refused, never cut."""
    form = await request.form()
    out: dict[str, str] = {}
    for key, value in form.multi_items():
        if not isinstance(value, str) or key == "csrf_token":
            continue
        if len(value) > MAX_FIELD:
            message = _("最多 {n} 个字符", n=MAX_FIELD)
            raise Invalid(message, [FieldProblem(key, message)])
        out[key] = value.strip()
    return out


Form = Annotated[dict[str, str], Depends(form_data)]


def _go(request: Request, url: str) -> Response:
    if "hx-request" in request.headers:
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def _ip(request: Request) -> str:
    return request.client.host if request.client else ""


def _pick(form: dict[str, str], names: tuple[str, ...], *, blank_keeps: tuple[str, ...] = (),
          flags: tuple[str, ...] = (), numbers: tuple[str, ...] = ()) -> dict[str, Any]:
    """Form fields for a schema: a blank number is None, a blank personal number keeps the stored one,
    a checkbox is true when sent (a hidden "0" before it says the box was on the form)."""
    out: dict[str, Any] = {}
    for name in names:
        if name in flags:
            if name in form:
                out[name] = form[name] not in ("", "0", "false")
            continue
        if name not in form:
            continue
        value = form[name]
        if name in blank_keeps and value == "":
            continue
        if name in numbers:
            out[name] = value or None
            continue
        out[name] = value
    return out


def _labels() -> dict[str, Any]:
    return {
        "level_labels": {k.value: _(v) for k, v in LEVEL_LABELS.items()},
        "use_labels": {k.value: _(v) for k, v in USE_LABELS.items()},
        "resident_kinds": {k.value: _(v) for k, v in RESIDENT_KIND_LABELS.items()},
        "unit_kinds": {k.value: _(v) for k, v in UNIT_KIND_LABELS.items()},
        "place_kinds": {k.value: _(v) for k, v in PLACE_KIND_LABELS.items()},
        "gender_labels": {k: _(v) for k, v in GENDER_LABELS.items()},
        "field_labels": {k: _(v) for k, v in FIELD_LABELS.items()},
        "action_labels": {k.value: _(v) for k, v in ACTION_LABELS.items()},
        "entity_labels": {k: _(v) for k, v in ENTITY_LABELS.items()},
        "export_labels": {k.value: _(v) for k, v in EXPORT_STATUS_LABELS.items()},
        "mask_id": mask_id_number, "mask_phone": mask_phone,
    }


def _ctx(session: Session, subject: Subject, **extra: Any) -> dict[str, Any]:
    return {**_labels(), "can_write": service.can_write(subject), "can_merge": service.can_merge(subject),
            "is_admin": subject.has(Role.admin), **extra}


def _paging(params: PageParams) -> PageParams:
    return params if "page_size" in params.model_fields_set else params.model_copy(update={"page_size": PAGE_SIZE})


def _history(session: Session, subject: Subject, entity: str, entity_id: int) -> list[Any]:
    return history.entries(session, subject, entity, entity_id)


# Overview --------------------------------------------------------------------------------------


@router.get("")
def overview(request: Request, subject: PageSubject, session: DbSession, q: Search = None) -> Response:
    found: list[Any] = []
    if q and q.strip():
        found = list(session.scalars(repo.residents(subject, q=q, status="all").limit(20)).unique())
    return render(request, "basedata/overview.html", _ctx(session, subject, counts=repo.counts(session, subject),
                                                            q=q or "", found=found))


# Masked exports (before the detail routes: "export.csv" is not an id) ------------------------------


def _masked(request: Request, session: Session, subject: Subject, kind: str, filters: dict[str, Any]) -> Response:
    path = privacy.masked_export(session, subject, kind, filters, _ip(request))
    ascii_name, name = privacy.file_name(kind, masked=True)
    return FileResponse(path, media_type="text/csv; charset=utf-8", background=BackgroundTask(path.unlink),
                        headers={"Content-Disposition":
                                 f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"})


@router.get("/residents/export.csv")
def export_residents(request: Request, subject: PageSubject, session: DbSession, q: Search = None,
                     kind: Choice = None, within: Within = None, status: Choice = None) -> Response:
    return _masked(request, session, subject, "residents", {"q": q, "kind": kind, "within": within, "status": status})


@router.get("/houses/export.csv")
def export_houses(request: Request, subject: PageSubject, session: DbSession, q: Search = None, use: Choice = None,
                  rented: Choice = None, group_rental: Choice = None, within: Within = None) -> Response:
    return _masked(request, session, subject, "houses",
                   {"q": q, "use": use, "rented": rented, "group_rental": group_rental, "within": within})


@router.get("/units/export.csv")
def export_units(request: Request, subject: PageSubject, session: DbSession, q: Search = None, kind: Choice = None,
                 within: Within = None) -> Response:
    return _masked(request, session, subject, "units", {"q": q, "kind": kind, "within": within})


@router.get("/places/export.csv")
def export_places(request: Request, subject: PageSubject, session: DbSession, q: Search = None, kind: Choice = None,
                  within: Within = None) -> Response:
    return _masked(request, session, subject, "places", {"q": q, "kind": kind, "within": within})


# Residents -------------------------------------------------------------------------------------

RESIDENT_FIELDS = ("name", "id_number", "phone", "kind", "house_id", "grid_code", "household_head", "relation",
                   "ethnicity", "origin", "nationality", "workplace", "note", "gender", "birth_date", "moved_out_on")


def _resident_form(form: dict[str, str], *, create: bool) -> dict[str, Any]:
    data = _pick(form, RESIDENT_FIELDS, blank_keeps=() if create else ("id_number", "phone"),
                 flags=("household_head",), numbers=("house_id", "birth_date", "moved_out_on", "grid_code"))
    if data.get("house_id") is None and "house_id" in data and not data.get("grid_code"):
        data.pop("house_id")  # no house chosen: the grid decides (or, editing, nothing changes)
    if data.get("gender") is None:
        data.pop("gender", None)
    return data


def _filters(subject: Subject | None = None, **values: Any) -> dict[str, str]:
    """The list's filters as the page repeats them (links, the form): a `within` outside the subject's
    area still filters the list (to nothing) but is never echoed."""
    within = values.get("within")
    if within and subject is not None and not _visible(subject, str(within)):
        values["within"] = None
    return {k: str(v) for k, v in values.items() if v not in (None, "")}


def _visible(subject: Subject, code: str) -> bool:
    if subject.grid_bound:
        return code in subject.grid_codes
    return code.startswith(subject.scope_prefix)


@router.get("/residents")
def residents_page(request: Request, subject: PageSubject, session: DbSession, params: Paging, q: Search = None,
                   kind: Choice = None, within: Within = None,
                   status: Annotated[str, Query(pattern="^(current|moved_out|all)?$")] = "current") -> Response:
    params = _paging(params)
    kind = kind if kind in RESIDENT_KIND_LABELS else None
    rows, total = paginate(session, repo.residents(subject, q=q, kind=kind, within=within, status=status or "current"),
                           params)
    filters = _filters(subject, q=q, kind=kind, within=within, status=status)
    ctx = _ctx(session, subject, items=rows, total=total, params=params, filters=filters,
               query=urlencode(filters), grids=repo.my_grids(session, subject, 500))
    if is_fragment(request):
        return render(request, "basedata/_residents.html", ctx)
    return render(request, "basedata/residents.html", ctx)


@router.get("/residents/new")
def new_resident(request: Request, subject: PageSubject, session: DbSession,
                 grid_code: Within = None) -> Response:
    subject.require(*service.WRITERS)
    return render(request, "basedata/resident_form.html",
                  _ctx(session, subject, r=None, house=None, grids=repo.my_grids(session, subject),
                       grid_code=grid_code or ""))


@router.post("/residents", dependencies=CSRF)
def create_resident(request: Request, subject: PageSubject, session: DbSession, form: Form) -> Response:
    data = form_model(ResidentCreate, _resident_form(form, create=True))
    row = service.create_resident(session, subject, data)
    return _go(request, f"/base/residents/{row.id}?saved=1")


@router.get("/residents/{resident_id}")
def resident_page(request: Request, resident_id: int, subject: PageSubject, session: DbSession,
                  saved: bool = False) -> Response:
    r = repo.resident(session, subject, resident_id)
    return render(request, "basedata/resident.html", _ctx(
        session, subject, r=r, saved=saved, changes=_history(session, subject, "resident", r.id),
        duplicates=repo.resident_duplicates(session, subject, r) if r.merged_into_id is None else [],
        grids=repo.my_grids(session, subject), house=r.house,
        household=repo.household(session, subject, r.house_id) if r.house_id else []))


@router.post("/residents/{resident_id}", dependencies=CSRF)
def update_resident(request: Request, resident_id: int, subject: PageSubject, session: DbSession,
                    form: Form) -> Response:
    data = form_model(ResidentUpdate, _resident_form(form, create=False))
    row = service.update_resident(session, subject, resident_id, data)
    return _go(request, f"/base/residents/{row.id}?saved=1")


@router.post("/residents/{resident_id}/merge", dependencies=CSRF)
def merge_resident(request: Request, resident_id: int, subject: PageSubject, session: DbSession,
                   form: Form) -> Response:
    data = form_model(MergeIn, {"other_id": form.get("other_id") or None})
    row = service.merge_residents(session, subject, resident_id, data.other_id)
    return _go(request, f"/base/residents/{row.id}?saved=1")


def _revealed(request: Request, value: str, field: str = "") -> Response:
    return render(request, "basedata/_revealed.html", {"value": value, "field": field})


@router.post("/residents/{resident_id}/reveal", dependencies=CSRF)
def reveal_resident(request: Request, resident_id: int, subject: PageSubject, session: DbSession,
                    form: Form) -> Response:
    data = form_model(RevealIn, {"field": form.get("field"), "reason": form.get("reason", "")})
    r = repo.resident(session, subject, resident_id)
    return _revealed(request, service.reveal(session, subject, "resident", r, data.field, reason=data.reason,
                                             ip=_ip(request)), data.field)


# Houses ----------------------------------------------------------------------------------------

HOUSE_FIELDS = ("address_id", "use", "owner_name", "owner_phone", "floor_area_m2", "rented", "group_rental", "note")


def _house_form(form: dict[str, str], *, create: bool) -> dict[str, Any]:
    data = _pick(form, HOUSE_FIELDS, blank_keeps=() if create else ("owner_phone",),
                 flags=("rented", "group_rental"), numbers=("address_id", "floor_area_m2"))
    if not create:
        data.pop("address_id", None)
    return data


@router.get("/houses")
def houses_page(request: Request, subject: PageSubject, session: DbSession, params: Paging, q: Search = None,
                use: Choice = None, rented: Choice = None, group_rental: Choice = None,
                within: Within = None) -> Response:
    params = _paging(params)
    use = use if use in USE_LABELS else None
    flag = {"true": True, "false": False}
    rows, total = paginate(session, repo.houses(subject, q=q, use=use, rented=flag.get(rented or ""),
                                                group_rental=flag.get(group_rental or ""), within=within), params)
    filters = _filters(subject, q=q, use=use, rented=rented if rented in flag else None,
                       group_rental=group_rental if group_rental in flag else None, within=within)
    ctx = _ctx(session, subject, items=rows, total=total, params=params, filters=filters, query=urlencode(filters),
               counts=repo.resident_counts(session, [h.id for h in rows]), grids=repo.my_grids(session, subject, 500))
    if is_fragment(request):
        return render(request, "basedata/_houses.html", ctx)
    return render(request, "basedata/houses.html", ctx)


@router.get("/houses/new")
def new_house(request: Request, subject: PageSubject, session: DbSession, address_id: int | None = None,
              q: Search = None) -> Response:
    subject.require(*service.WRITERS)
    address = repo.address(session, subject, address_id) if address_id else None
    candidates = []
    if address is None and q and q.strip():
        candidates = list(session.scalars(repo.addresses(subject, q=q).where(
            Address.level != AddressLevel.road).limit(30)).unique())
    taken = repo.houses_at(session, [a.id for a in candidates])
    return render(request, "basedata/house_form.html",
                  _ctx(session, subject, h=None, address=address, candidates=candidates, taken=taken, q=q or ""))


@router.post("/houses", dependencies=CSRF)
def create_house(request: Request, subject: PageSubject, session: DbSession, form: Form) -> Response:
    row = service.create_house(session, subject, form_model(HouseCreate, _house_form(form, create=True)))
    return _go(request, f"/base/houses/{row.id}?saved=1")


@router.get("/houses/{house_id}")
def house_page(request: Request, house_id: int, subject: PageSubject, session: DbSession,
               saved: bool = False) -> Response:
    h = repo.house(session, subject, house_id)
    return render(request, "basedata/house.html", _ctx(
        session, subject, h=h, saved=saved, household=repo.household(session, subject, h.id),
        changes=_history(session, subject, "house", h.id), address=h.address,
        path=repo.ancestors(h.address)))


@router.post("/houses/{house_id}", dependencies=CSRF)
def update_house(request: Request, house_id: int, subject: PageSubject, session: DbSession, form: Form) -> Response:
    row = service.update_house(session, subject, house_id, form_model(HouseUpdate, _house_form(form, create=False)))
    return _go(request, f"/base/houses/{row.id}?saved=1")


@router.get("/houses/{house_id}/residents/new")
def new_house_resident(request: Request, house_id: int, subject: PageSubject, session: DbSession) -> Response:
    """The door-knocking checklist's "add a resident to this house" form."""
    h = repo.house(session, subject, house_id)
    subject.require(*service.WRITERS)
    return render(request, "basedata/resident_form.html",
                  _ctx(session, subject, r=None, house=h, grids=[], grid_code=""))


@router.post("/houses/{house_id}/reveal", dependencies=CSRF)
def reveal_house(request: Request, house_id: int, subject: PageSubject, session: DbSession, form: Form) -> Response:
    data = form_model(RevealIn, {"field": form.get("field"), "reason": form.get("reason", "")})
    h = repo.house(session, subject, house_id)
    return _revealed(request, service.reveal(session, subject, "house", h, data.field, reason=data.reason,
                                             ip=_ip(request)), data.field)


# Addresses -------------------------------------------------------------------------------------


@router.get("/addresses")
def addresses_page(request: Request, subject: PageSubject, session: DbSession, params: Paging, q: Search = None,
                   within: Within = None) -> Response:
    params = _paging(params)
    searching = bool(q and q.strip())
    stmt = repo.addresses(subject, q=q, within=within) if searching else repo.addresses(subject, roots=True,
                                                                                          within=within)
    rows, total = paginate(session, stmt, params)
    filters = _filters(subject, q=q, within=within)
    ctx = _ctx(session, subject, items=rows, total=total, params=params, filters=filters, searching=searching,
               children=repo.child_counts(session, [a.id for a in rows]),
               houses=repo.houses_at(session, [a.id for a in rows]), grids=repo.my_grids(session, subject, 500))
    if is_fragment(request):
        return render(request, "basedata/_addresses.html", ctx)
    return render(request, "basedata/addresses.html", ctx)


ADDRESS_FIELDS = ("parent_id", "level", "name", "grid_code", "lon", "lat")


@router.post("/addresses", dependencies=CSRF)
def create_address(request: Request, subject: PageSubject, session: DbSession, form: Form) -> Response:
    data = form_model(AddressCreate, _pick(form, ADDRESS_FIELDS, numbers=("parent_id", "grid_code", "lon", "lat")))
    row = service.create_address(session, subject, data)
    return _go(request, f"/base/addresses/{row.id}?saved=1")


@router.get("/addresses/{address_id}")
def address_page(request: Request, address_id: int, subject: PageSubject, session: DbSession, params: Paging,
                 saved: bool = False) -> Response:
    a = repo.address(session, subject, address_id)
    params = params.model_copy(update={"page_size": 100}) if "page_size" not in params.model_fields_set else params
    rows, total = paginate(session, repo.addresses(subject, parent_id=a.id), params)
    house = repo.houses_at(session, [a.id]).get(a.id)
    return render(request, "basedata/address.html", _ctx(
        session, subject, a=a, saved=saved, path=repo.ancestors(a), items=rows, total=total, params=params,
        children=repo.child_counts(session, [c.id for c in rows]), houses=repo.houses_at(session, [c.id for c in rows]),
        house=house, changes=_history(session, subject, "address", a.id),
        next_levels=[lv for lv in AddressLevel if service.LEVEL_ORDER[lv] > service.LEVEL_ORDER[a.level]]))


@router.post("/addresses/{address_id}", dependencies=CSRF)
def update_address(request: Request, address_id: int, subject: PageSubject, session: DbSession,
                   form: Form) -> Response:
    data = form_model(AddressUpdate, _pick(form, ("name", "grid_code", "lon", "lat"),
                                           numbers=("grid_code", "lon", "lat")))
    row = service.update_address(session, subject, address_id, data)
    return _go(request, f"/base/addresses/{row.id}?saved=1")


# Units -----------------------------------------------------------------------------------------

UNIT_FIELDS = ("name", "kind", "credit_code", "legal_person", "phone", "employees", "address_id", "grid_code", "note")


def _unit_form(form: dict[str, str], *, create: bool) -> dict[str, Any]:
    return _pick(form, UNIT_FIELDS, blank_keeps=() if create else ("phone",),
                 numbers=("employees", "address_id", "grid_code"))


@router.get("/units")
def units_page(request: Request, subject: PageSubject, session: DbSession, params: Paging, q: Search = None,
               kind: Choice = None, within: Within = None) -> Response:
    params = _paging(params)
    kind = kind if kind in UNIT_KIND_LABELS else None
    rows, total = paginate(session, repo.units(subject, q=q, kind=kind, within=within), params)
    filters = _filters(subject, q=q, kind=kind, within=within)
    ctx = _ctx(session, subject, items=rows, total=total, params=params, filters=filters, query=urlencode(filters),
               grids=repo.my_grids(session, subject, 500))
    if is_fragment(request):
        return render(request, "basedata/_units.html", ctx)
    return render(request, "basedata/units.html", ctx)


@router.get("/units/new")
def new_unit(request: Request, subject: PageSubject, session: DbSession) -> Response:
    subject.require(*service.WRITERS)
    return render(request, "basedata/unit_form.html", _ctx(session, subject, u=None,
                                                           grids=repo.my_grids(session, subject)))


@router.post("/units", dependencies=CSRF)
def create_unit(request: Request, subject: PageSubject, session: DbSession, form: Form) -> Response:
    row = service.create_unit(session, subject, form_model(UnitCreate, _unit_form(form, create=True)))
    return _go(request, f"/base/units/{row.id}?saved=1")


@router.get("/units/{unit_id}")
def unit_page(request: Request, unit_id: int, subject: PageSubject, session: DbSession,
              saved: bool = False) -> Response:
    u = repo.unit(session, subject, unit_id)
    return render(request, "basedata/unit.html", _ctx(
        session, subject, u=u, saved=saved, changes=_history(session, subject, "unit", u.id),
        duplicates=repo.unit_duplicates(session, subject, u) if u.merged_into_id is None else [],
        grids=repo.my_grids(session, subject)))


@router.post("/units/{unit_id}", dependencies=CSRF)
def update_unit(request: Request, unit_id: int, subject: PageSubject, session: DbSession, form: Form) -> Response:
    row = service.update_unit(session, subject, unit_id, form_model(UnitUpdate, _unit_form(form, create=False)))
    return _go(request, f"/base/units/{row.id}?saved=1")


@router.post("/units/{unit_id}/merge", dependencies=CSRF)
def merge_unit(request: Request, unit_id: int, subject: PageSubject, session: DbSession, form: Form) -> Response:
    data = form_model(MergeIn, {"other_id": form.get("other_id") or None})
    row = service.merge_units(session, subject, unit_id, data.other_id)
    return _go(request, f"/base/units/{row.id}?saved=1")


@router.post("/units/{unit_id}/reveal", dependencies=CSRF)
def reveal_unit(request: Request, unit_id: int, subject: PageSubject, session: DbSession, form: Form) -> Response:
    data = form_model(RevealIn, {"field": form.get("field"), "reason": form.get("reason", "")})
    u = repo.unit(session, subject, unit_id)
    return _revealed(request, service.reveal(session, subject, "unit", u, data.field, reason=data.reason,
                                             ip=_ip(request)), data.field)


# Places ----------------------------------------------------------------------------------------

PLACE_FIELDS = ("name", "kind", "geometry", "lon", "lat", "manager", "phone", "capacity", "grid_code", "note")


def _place_form(form: dict[str, str], *, create: bool) -> dict[str, Any]:
    data = _pick(form, PLACE_FIELDS, blank_keeps=("geometry",) if not create else (),
                 numbers=("lon", "lat", "capacity", "grid_code", "geometry"))
    if not create and "phone" in data and data["phone"] == "":
        data.pop("phone")
    if not create and data.get("lon") is None and data.get("lat") is None:
        data.pop("lon", None)
        data.pop("lat", None)
    return data


@router.get("/places")
def places_page(request: Request, subject: PageSubject, session: DbSession, params: Paging, q: Search = None,
                kind: Choice = None, within: Within = None) -> Response:
    params = _paging(params)
    kind = kind if kind in PLACE_KIND_LABELS else None
    rows, total = paginate(session, repo.places(subject, q=q, kind=kind, within=within), params)
    filters = _filters(subject, q=q, kind=kind, within=within)
    ctx = _ctx(session, subject, items=rows, total=total, params=params, filters=filters, query=urlencode(filters),
               grids=repo.my_grids(session, subject, 500))
    if is_fragment(request):
        return render(request, "basedata/_places.html", ctx)
    return render(request, "basedata/places.html", ctx)


@router.get("/places/new")
def new_place(request: Request, subject: PageSubject, session: DbSession) -> Response:
    subject.require(*service.WRITERS)
    return render(request, "basedata/place_form.html", _ctx(session, subject, p=None,
                                                            grids=repo.my_grids(session, subject)))


@router.post("/places", dependencies=CSRF)
def create_place(request: Request, subject: PageSubject, session: DbSession, form: Form) -> Response:
    row = service.create_place(session, subject, form_model(PlaceCreate, _place_form(form, create=True)))
    return _go(request, f"/base/places/{row.id}?saved=1")


@router.get("/places/{place_id}")
def place_page(request: Request, place_id: int, subject: PageSubject, session: DbSession,
               saved: bool = False) -> Response:
    p = repo.place(session, subject, place_id)
    return render(request, "basedata/place.html", _ctx(
        session, subject, p=p, saved=saved, changes=_history(session, subject, "place", p.id),
        grids=repo.my_grids(session, subject)))


@router.post("/places/{place_id}", dependencies=CSRF)
def update_place(request: Request, place_id: int, subject: PageSubject, session: DbSession, form: Form) -> Response:
    row = service.update_place(session, subject, place_id, form_model(PlaceUpdate, _place_form(form, create=False)))
    return _go(request, f"/base/places/{row.id}?saved=1")


@router.post("/places/{place_id}/reveal", dependencies=CSRF)
def reveal_place(request: Request, place_id: int, subject: PageSubject, session: DbSession, form: Form) -> Response:
    data = form_model(RevealIn, {"field": form.get("field"), "reason": form.get("reason", "")})
    p = repo.place(session, subject, place_id)
    return _revealed(request, service.reveal(session, subject, "place", p, data.field, reason=data.reason,
                                             ip=_ip(request)), data.field)


# Exports of personal data ------------------------------------------------------------------------


@router.get("/exports")
def exports_page(request: Request, subject: PageSubject, session: DbSession, params: Paging,
                 kind: Choice = None, q: Search = None, within: Within = None, status: Choice = None,
                 use: Choice = None, rented: Choice = None, group_rental: Choice = None) -> Response:
    params = _paging(params)
    rows, total = paginate(session, repo.export_requests(subject), params)
    draft = privacy.clean_filters(_filters(subject, q=q, within=within, status=status, use=use, rented=rented,
                                           group_rental=group_rental))
    return render(request, "basedata/exports.html", _ctx(
        session, subject, items=rows, total=total, params=params, kinds=privacy.KIND_LABELS,
        kind=kind if kind in privacy.KINDS else "residents", draft=draft,
        downloadable={r.id: privacy.downloadable(r, subject) for r in rows},
        max_downloads=privacy.MAX_DOWNLOADS, valid_hours=int(privacy.VALID_FOR.total_seconds() // 3600)))


@router.post("/exports", dependencies=CSRF)
def request_export(request: Request, subject: PageSubject, session: DbSession, form: Form) -> Response:
    filters = {k.removeprefix("f_"): v for k, v in form.items() if k.startswith("f_") and v}
    data = form_model(ExportRequestIn, {"kind": form.get("kind"), "purpose": form.get("purpose", ""),
                                        "filters": filters})
    privacy.request_export(session, subject, data, _ip(request))
    return _go(request, "/base/exports")


@router.post("/exports/{export_id}/decision", dependencies=CSRF)
def decide_export(request: Request, export_id: int, subject: PageSubject, session: DbSession, form: Form) -> Response:
    data = form_model(DecisionIn, {"approve": form.get("approve") or None, "note": form.get("note", "")})
    privacy.decide(session, subject, export_id, data.approve, data.note, _ip(request))
    return _go(request, "/base/exports")


@router.get("/exports/{export_id}/download")
def download_export(request: Request, export_id: int, subject: PageSubject, session: DbSession) -> Response:
    row, path = privacy.download(session, subject, export_id, _ip(request))
    ascii_name, name = privacy.file_name(row.kind, masked=False)
    return FileResponse(path, media_type="text/csv; charset=utf-8", background=BackgroundTask(path.unlink),
                        headers={"Content-Disposition":
                                 f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"})


# Imports ---------------------------------------------------------------------------------------


def _imports_ctx(session: Session, subject: Subject, params: PageParams) -> dict[str, Any]:
    rows, total = paginate(session, jobs.listing(subject).where(ImportJob.kind.in_(list(imports.KINDS))),
                           params)
    return {"jobs": rows, "total": total, "params": params, "progress": {j.id: jobs.progress_of(j) for j in rows}}


def _job_ctx(job: Any) -> dict[str, Any]:
    spec = imports.KINDS.get(job.kind)
    labels = {c.name: _(c.label) for c in spec.columns} if spec else {}
    return {"job": job, "job_progress": jobs.progress_of(job), "problems": [FieldProblem(**p) for p in job.report],
            "field_labels": labels, "kind_label": _(spec.label) if spec else job.kind, "job_root": "/base/imports"}


@router.get("/imports")
def imports_page(request: Request, subject: PageSubject, session: DbSession, params: Paging,
                 kind: Choice = None) -> Response:
    subject.require(Role.admin)
    ctx = _imports_ctx(session, subject, params.model_copy(update={"page_size": 20}))
    if is_fragment(request):
        return render(request, "basedata/_jobs.html", ctx)
    settings = get_settings()
    return render(request, "basedata/imports.html", {
        **ctx, "kinds": imports.KINDS, "kind": kind if kind in imports.KINDS else "residents", "job": None,
        "formats": accepted_formats(), "max_mb": round(settings.import_max_bytes / 1048576)})


def _template(session: Session, subject: Subject, kind: str, ext: str) -> Response:
    subject.require(Role.admin)
    if kind not in imports.KINDS:
        message = _("请选择要导入的数据类型")
        raise Invalid(message, [FieldProblem("kind", message, "、".join(imports.KINDS))])
    content = imports.template(session, subject, kind, ext)
    media = "text/csv; charset=utf-8" if ext == "csv" else XLSX_TYPE
    return Response(content, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="zhili-{kind}-template.{ext}"'})


@router.get("/imports/template.csv")
def template_csv(subject: PageSubject, session: DbSession, kind: Choice = "residents") -> Response:
    return _template(session, subject, kind or "residents", "csv")


@router.get("/imports/template.xlsx")
def template_xlsx(subject: PageSubject, session: DbSession, kind: Choice = "residents") -> Response:
    return _template(session, subject, kind or "residents", "xlsx")


@router.post("/imports", dependencies=CSRF)
def upload(request: Request, subject: PageSubject, session: DbSession, file: Annotated[UploadFile, File()],
           form: Form) -> Response:
    kind = form.get("kind", "")
    if kind not in imports.KINDS:
        message = _("请选择要导入的数据类型")
        raise Invalid(message, [FieldProblem("kind", message, "、".join(imports.KINDS))])
    job, _source = jobs.submit(session, subject, file.file, file.filename or "", kind, kind=kind)
    task = BackgroundTask(jobs.start, job.id, subject, kind, i18n.get_locale())
    if "hx-request" not in request.headers:
        return RedirectResponse(f"/base/imports/{job.id}", status_code=303, background=task)
    response = render(request, "transfer/_job.html", _job_ctx(job),
                      headers={"HX-Trigger": "imports-changed", "HX-Push-Url": f"/base/imports/{job.id}"})
    response.background = task
    return response


@router.get("/imports/{job_id}")
def job_page(request: Request, job_id: int, subject: PageSubject, session: DbSession, params: Paging) -> Response:
    job = jobs.get(session, subject, job_id)
    if is_fragment(request):
        finished = job.status in jobs.FINISHED
        return render(request, "transfer/_job.html", _job_ctx(job),
                      headers={"HX-Trigger": "imports-changed"} if finished else None)
    settings = get_settings()
    ctx = _imports_ctx(session, subject, params.model_copy(update={"page_size": 20}))
    return render(request, "basedata/imports.html", {
        **ctx, **_job_ctx(job), "kinds": imports.KINDS,
        "kind": job.kind if job.kind in imports.KINDS else "residents",
        "formats": accepted_formats(), "max_mb": round(settings.import_max_bytes / 1048576)})
