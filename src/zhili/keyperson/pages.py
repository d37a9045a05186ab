"""Pages of key persons: the list, registration from a resident, the person's file (details, risk,
helpers, visits, check-ins, leave), the warnings desk and the visit plan. Thin: every change goes
through keyperson.service (the same functions as the JSON API), forms through the API's schemas."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from zhili.auth.dependencies import DbSession, PageSubject, verify_csrf
from zhili.auth.subject import Subject
from zhili.errors import FieldProblem, Invalid
from zhili.fieldwork import service as field
from zhili.fieldwork.schemas import VisitIn
from zhili.idempotency import CommittingRoute
from zhili.keyperson import repository as repo
from zhili.keyperson import service
from zhili.keyperson.kinds import (
    CHECKIN_LABELS,
    DETAILS,
    HELPER_LABELS,
    KIND_LABELS,
    LEAVE_LABELS,
    RISK_LABELS,
    VISIT_LABELS,
    WARNING_LABELS,
    detail_rows,
)
from zhili.keyperson.plan import DEFAULT_DAYS, interval_days, local_day, rules
from zhili.keyperson.schemas import (
    CheckInIn,
    HelperIn,
    KeyPersonCreate,
    KeyPersonUpdate,
    LeaveDecisionIn,
    LeaveIn,
    LeaveReturnIn,
    RiskIn,
    VisitRuleIn,
    VisitRulesIn,
)
from zhili.keyperson.warnings import day_counts
from zhili.kit.i18n import _
from zhili.kit.pagination import PageParams, paginate
from zhili.kit.protect import mask_id_number, mask_phone
from zhili.kit.time import now
from zhili.models import Role
from zhili.models.keyperson import CareWarning, KeyPerson, KeyPersonKind, Risk, VisitKind, WarningKind
from zhili.templating import form_model, is_fragment, render

router = APIRouter(route_class=CommittingRoute, include_in_schema=False)
CSRF = [Depends(verify_csrf)]
Paging = Annotated[PageParams, Depends()]
Choice = Annotated[str | None, Query(max_length=30)]
Search = Annotated[str | None, Query(max_length=50)]
Short = Annotated[str, Form(max_length=200)]
Text = Annotated[str, Form(max_length=5000)]


def _labels() -> dict[str, Any]:
    return {
        "kind_labels": {k.value: _(v) for k, v in KIND_LABELS.items()},
        "risk_labels": {k.value: _(v) for k, v in RISK_LABELS.items()},
        "helper_labels": {k.value: _(v) for k, v in HELPER_LABELS.items()},
        "checkin_labels": {k.value: _(v) for k, v in CHECKIN_LABELS.items()},
        "leave_labels": {k.value: _(v) for k, v in LEAVE_LABELS.items()},
        "warning_labels": {k.value: _(v) for k, v in WARNING_LABELS.items()},
        "visit_labels": {k.value: _(v) for k, v in VISIT_LABELS.items()},
        "mask_id": mask_id_number, "mask_phone": mask_phone,
    }


def _enum(enum: Any, value: str | None) -> Any:
    return enum(value) if value in {e.value for e in enum} else None


def _blank_none(value: str) -> str | None:
    return value.strip() or None


def _details_from(form: Any) -> dict[str, str]:
    return {k[2:]: str(v) for k, v in form.items() if k.startswith("d_") and str(v).strip()}


def _can_write(subject: Subject) -> bool:
    return subject.has(*service.WRITERS)


# The list --------------------------------------------------------------------------------------


@router.get("/key-persons")
def list_page(request: Request, subject: PageSubject, session: DbSession, params: Paging, kind: Choice = None,
              risk: Choice = None, q: Search = None, grid_code: Choice = None, overdue: Choice = None) -> Response:
    today = local_day(now())
    f: dict[str, Any] = {"kind": kind if _enum(KeyPersonKind, kind) else "", "risk": risk if _enum(Risk, risk) else "",
         "q": (q or "").strip(), "grid_code": grid_code if grid_code and grid_code.isdigit() else "",
         "overdue": overdue == "1"}
    stmt = repo.key_persons(subject, kind=_enum(KeyPersonKind, kind), risk=_enum(Risk, risk),
                            q=str(f["q"]) or None, grid_code=str(f["grid_code"]) or None,
                            overdue_before=today if f["overdue"] else None)
    rows, total = paginate(session, stmt, params)
    ctx: dict[str, Any] = {"items": rows, "total": total, "params": params, "filters": f, "today": today,
                           "can_write": _can_write(subject), **_labels()}
    if is_fragment(request):
        return render(request, "keyperson/_list.html", ctx)
    ctx["grids"] = list(session.scalars(repo.grids(subject).limit(500)))
    return render(request, "keyperson/list.html", ctx)


# Registration ----------------------------------------------------------------------------------


@router.get("/key-persons/new")
def new_page(request: Request, subject: PageSubject, session: DbSession,
             resident_id: Annotated[int | None, Query()] = None, kind: Choice = None) -> Response:
    subject.require(*service.WRITERS)
    resident = repo.resident(session, subject, resident_id) if resident_id else None
    chosen = _enum(KeyPersonKind, kind) or KeyPersonKind.released
    return render(request, "keyperson/new.html", {"resident": resident, "kind": chosen.value,
                                                  "fields": DETAILS[chosen], "values": {}, **_labels()})


@router.get("/key-persons/residents")
def pick_resident(request: Request, subject: PageSubject, session: DbSession, q: Search = None) -> Response:
    text = (q or "").strip()
    rows = list(session.scalars(repo.residents(subject, text).limit(20))) if len(text) >= 1 else []
    return render(request, "keyperson/_residents.html", {"residents": rows, "q": text, **_labels()})


@router.get("/key-persons/fields")
def kind_fields(request: Request, subject: PageSubject, kind: Choice = None) -> Response:
    chosen = _enum(KeyPersonKind, kind) or KeyPersonKind.released
    return render(request, "keyperson/_fields.html", {"fields": DETAILS[chosen], "values": {}})


@router.post("/key-persons", dependencies=CSRF)
async def register(request: Request, subject: PageSubject, session: DbSession) -> Response:
    form = await request.form()
    resident = str(form.get("resident_id") or "")
    if not resident.isdigit():
        raise Invalid(_("请先搜索并选择一位居民"), [FieldProblem("resident_id", _("请先搜索并选择一位居民"))])
    data = form_model(KeyPersonCreate, {
        "resident_id": int(resident), "kind": form.get("kind") or None, "risk": form.get("risk") or "green",
        "details": _details_from(form), "since": _blank_none(str(form.get("since") or "")),
        "note": str(form.get("note") or "")})
    person = service.register(session, subject, data)
    if "hx-request" in request.headers:
        return Response(status_code=204, headers={"HX-Redirect": f"/key-persons/{person.id}"})
    return RedirectResponse(f"/key-persons/{person.id}", status_code=303)


# The person's file -----------------------------------------------------------------------------


def _file_ctx(session: Session, subject: Subject, person: KeyPerson) -> dict[str, Any]:
    at = now()
    today = local_day(at)
    signs, locates = day_counts(session, person.id, today)
    return {
        "p": person, "r": person.resident, "today": today,
        "details": detail_rows(KeyPersonKind(person.kind), person.details),
        "fields": DETAILS[KeyPersonKind(person.kind)], "values": person.details,
        "history": repo.risk_history(session, person.id), "leaves": repo.leaves(session, person.id),
        "checkins": repo.checkins(session, person.id, 10), "visits": repo.visits(session, person.id, 10),
        "open_warnings": list(session.scalars(repo.warnings(subject, key_person_id=person.id).limit(20))),
        "signs_today": signs, "locates_today": locates, "corrections": person.kind == KeyPersonKind.corrections,
        "can_write": _can_write(subject), "can_decide": subject.has(*service.DECIDERS),
        "interval": interval_days(session, KeyPersonKind(person.kind), Risk(person.risk)), **_labels(),
    }


@router.get("/key-persons/{key_person_id}")
def file_page(request: Request, key_person_id: int, subject: PageSubject, session: DbSession) -> Response:
    person = repo.key_person(session, subject, key_person_id)
    template = "keyperson/_file.html" if is_fragment(request) else "keyperson/file.html"
    return render(request, template, _file_ctx(session, subject, person))


def _after(request: Request, session: Session, subject: Subject, person_id: int, message: str) -> Response:
    """htmx: the file's body again with a one-line confirmation; a plain form: back to the file."""
    if "hx-request" not in request.headers:
        return RedirectResponse(f"/key-persons/{person_id}", status_code=303)
    person = repo.key_person(session, subject, person_id)
    return render(request, "keyperson/_file.html", {**_file_ctx(session, subject, person), "flash": message})


@router.post("/key-persons/{key_person_id}/edit", dependencies=CSRF)
async def edit(request: Request, key_person_id: int, subject: PageSubject, session: DbSession) -> Response:
    form = await request.form()
    data = form_model(KeyPersonUpdate, {
        "details": _details_from(form), "note": str(form.get("note") or ""),
        "since": _blank_none(str(form.get("since") or "")), "until": _blank_none(str(form.get("until") or "")),
        "active": form.get("active") != "0"})
    service.update(session, subject, key_person_id, data)
    return _after(request, session, subject, key_person_id, _("档案已保存"))


@router.post("/key-persons/{key_person_id}/risk", dependencies=CSRF)
def change_risk(request: Request, key_person_id: int, subject: PageSubject, session: DbSession,
                risk: Short = "", reason: Text = "") -> Response:
    service.change_risk(session, subject, key_person_id, form_model(RiskIn, {"risk": risk or None, "reason": reason}))
    return _after(request, session, subject, key_person_id, _("风险等级已调整"))


@router.post("/key-persons/{key_person_id}/helpers", dependencies=CSRF)
def add_helper(request: Request, key_person_id: int, subject: PageSubject, session: DbSession,
               kind: Short = "", name: Short = "", phone: Short = "") -> Response:
    data = form_model(HelperIn, {"kind": kind or None, "name": name, "phone": phone})
    service.add_helper(session, subject, key_person_id, data)
    return _after(request, session, subject, key_person_id, _("已添加帮扶责任人"))


@router.post("/key-persons/{key_person_id}/helpers/remove", dependencies=CSRF)
def remove_helper(request: Request, key_person_id: int, subject: PageSubject, session: DbSession,
                  helper_id: Short = "") -> Response:
    if not helper_id.isdigit():
        raise Invalid(_("请选择要移除的帮扶责任人"), [FieldProblem("helper_id", _("请选择要移除的帮扶责任人"))])
    service.remove_helper(session, subject, key_person_id, int(helper_id))
    return _after(request, session, subject, key_person_id, _("已移除帮扶责任人"))


@router.post("/key-persons/{key_person_id}/check-ins", dependencies=CSRF)
def check_in(request: Request, key_person_id: int, subject: PageSubject, session: DbSession,
             kind: Short = "", lon: Short = "", lat: Short = "", note: Short = "") -> Response:
    data = form_model(CheckInIn, {"kind": kind or None, "lon": _blank_none(lon), "lat": _blank_none(lat),
                                  "note": note})
    row = service.check_in(session, subject, key_person_id, data)
    label = _(CHECKIN_LABELS[row.kind])
    return _after(request, session, subject, key_person_id, _("已记录{kind}", kind=label))


@router.post("/key-persons/{key_person_id}/leaves", dependencies=CSRF)
def request_leave(request: Request, key_person_id: int, subject: PageSubject, session: DbSession,
                  destination: Short = "", reason: Text = "", starts_on: Short = "", ends_on: Short = "") -> Response:
    data = form_model(LeaveIn, {"destination": destination, "reason": reason, "starts_on": starts_on or None,
                                "ends_on": ends_on or None})
    service.request_leave(session, subject, key_person_id, data)
    return _after(request, session, subject, key_person_id, _("请假申请已登记，等待网格长或乡镇中心审批"))


@router.post("/key-persons/{key_person_id}/visits", dependencies=CSRF)
def record_visit(request: Request, key_person_id: int, subject: PageSubject, session: DbSession,
                 seen: Text = "", lon: Short = "", lat: Short = "", client_key: Short = "") -> Response:
    if len(seen.strip()) < 2:
        raise Invalid(_("请填写走访情况"), [FieldProblem("seen", _("请填写走访情况"))])
    data = form_model(VisitIn, {"kind": VisitKind.visit, "key_person_id": key_person_id, "seen": seen,
                                "lon": _blank_none(lon), "lat": _blank_none(lat),
                                "client_key": _blank_none(client_key)})
    field.record_visit(session, subject, data)
    return _after(request, session, subject, key_person_id, _("走访已记录，下次走访日期已更新"))


@router.post("/key-persons/leaves/{leave_id}/decide", dependencies=CSRF)
def decide_leave(request: Request, leave_id: int, subject: PageSubject, session: DbSession,
                 decision: Short = "", note: Short = "", back: Short = "") -> Response:
    if decision not in ("approve", "reject"):
        raise Invalid(_("请选择批准或不批准"), [FieldProblem("decision", _("请选择批准或不批准"))])
    leave = service.decide_leave(session, subject, leave_id,
                                 form_model(LeaveDecisionIn, {"approve": decision == "approve", "note": note}))
    message = _("已批准请假") if decision == "approve" else _("已不批准请假")
    if back == "warnings":
        return _warnings_after(request, session, subject, message)
    return _after(request, session, subject, leave.key_person_id, message)


@router.post("/key-persons/leaves/{leave_id}/return", dependencies=CSRF)
def return_leave(request: Request, leave_id: int, subject: PageSubject, session: DbSession,
                 note: Short = "", back: Short = "") -> Response:
    leave = service.return_leave(session, subject, leave_id, form_model(LeaveReturnIn, {"note": note}))
    if back == "warnings":
        return _warnings_after(request, session, subject, _("已销假"))
    return _after(request, session, subject, leave.key_person_id, _("已销假"))


# The warnings desk -----------------------------------------------------------------------------


def _warnings_ctx(session: Session, subject: Subject, kind: str | None, cleared: bool) -> dict[str, Any]:
    chosen = _enum(WarningKind, kind)
    stmt = repo.warnings(subject, open_only=not cleared, kind=chosen)
    if cleared:
        stmt = stmt.where(CareWarning.cleared_at.is_not(None))
    return {"warnings": list(session.scalars(stmt.limit(300))),
            "leaves": list(session.scalars(repo.pending_leaves(subject).limit(200))),
            "filters": {"kind": chosen.value if chosen else "", "cleared": cleared},
            "can_decide": subject.has(*service.DECIDERS), "can_write": _can_write(subject), **_labels()}


def _warnings_after(request: Request, session: Session, subject: Subject, message: str) -> Response:
    if "hx-request" not in request.headers:
        return RedirectResponse("/care-warnings", status_code=303)
    return render(request, "keyperson/_warnings.html", {**_warnings_ctx(session, subject, None, False),
                                                        "flash": message})


@router.get("/care-warnings")
def warnings_page(request: Request, subject: PageSubject, session: DbSession, kind: Choice = None,
                  cleared: Choice = None) -> Response:
    ctx = _warnings_ctx(session, subject, kind, cleared == "1")
    template = "keyperson/_warnings.html" if is_fragment(request) else "keyperson/warnings.html"
    return render(request, template, ctx)


# The visit plan --------------------------------------------------------------------------------


@router.get("/admin/visit-rules")
def rules_page(request: Request, subject: PageSubject, session: DbSession) -> Response:
    table = rules(session)
    return render(request, "keyperson/rules.html", {
        "table": {(k.value, r.value): d for (k, r), d in table.items()}, "kinds": list(KeyPersonKind),
        "risks": [Risk.red, Risk.yellow, Risk.green], "defaults": DEFAULT_DAYS,
        "can_edit": subject.has(Role.admin) and subject.region_level in ("county", "city"), **_labels()})


@router.post("/admin/visit-rules", dependencies=CSRF)
async def save_rules(request: Request, subject: PageSubject, session: DbSession) -> Response:
    form = await request.form()
    rows = []
    for k in KeyPersonKind:
        for r in Risk:
            value = str(form.get(f"days_{k.value}_{r.value}") or "").strip()
            if value:
                rows.append(form_model(VisitRuleIn, {"kind": k, "risk": r, "interval_days": value}))
    if not rows:
        raise Invalid(_("请至少填写一项走访间隔"))
    changed = service.set_rules(session, subject, VisitRulesIn(rules=rows))
    if "hx-request" not in request.headers:
        return RedirectResponse("/admin/visit-rules", status_code=303)
    message = _("已保存：{n} 项间隔有变化，相关人员的下次走访日期已重算", n=changed)
    return render(request, "_flash.html", {"message": message})

