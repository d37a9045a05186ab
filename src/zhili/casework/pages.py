"""Pages of casework: the dispute list and mediator's queue, the registration form (phone-sized for grid
workers), the case page with its timeline; the petition office's list, case page and the leaders'
reception days. Thin: every move goes through the same service function as the JSON API."""

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from zhili.auth.dependencies import DbSession, PageSubject, verify_csrf
from zhili.auth.subject import Subject
from zhili.casework import disputes, petitions
from zhili.casework import repository as repo
from zhili.casework.labels import (
    ACCEPT_DAYS,
    CATEGORY_LABELS,
    DISPUTE_DAYS,
    DISPUTE_STATUS_LABELS,
    FORM_LABELS,
    HANDLE_DAYS,
    LEVEL_LABELS,
    MAX_EXTENSION_DAYS,
    METHODS,
    PETITION_STATUS_LABELS,
    SCALE_LABELS,
    SIDES,
    today,
)
from zhili.casework.schemas import (
    DisputeAction,
    DisputeActionIn,
    DisputeCreate,
    PetitionAction,
    PetitionActionIn,
    PetitionCreate,
    ReceptionDayIn,
)
from zhili.idempotency import CommittingRoute
from zhili.jurisdiction.repository import area_name
from zhili.kit.i18n import _
from zhili.kit.pagination import PageParams, paginate
from zhili.models import DisputeStatus, MediationLevel, PetitionStatus, Role
from zhili.templating import form_model, is_fragment, render

router = APIRouter(route_class=CommittingRoute, include_in_schema=False)
CSRF = [Depends(verify_csrf)]
Paging = Annotated[PageParams, Depends()]
Choice = Annotated[str | None, Query(max_length=30)]
Search = Annotated[str | None, Query(max_length=100)]
Short = Annotated[str, Form(max_length=200)]
Text = Annotated[str, Form(max_length=10000)]
Many = Annotated[list[str], Form(max_length=30)]
DISPUTE_TABS = ("open", "mine", "desk", "overdue", "risk", *[s.value for s in DisputeStatus], "all")
PETITION_TABS = ("open", "overdue", "mine", *[s.value for s in PetitionStatus], "all")


def _labels() -> dict[str, Any]:
    return {
        "scale_labels": {k.value: _(v) for k, v in SCALE_LABELS.items()},
        "category_labels": {k.value: _(v) for k, v in CATEGORY_LABELS.items()},
        "level_labels": {k.value: _(v) for k, v in LEVEL_LABELS.items()},
        "dispute_status_labels": {k.value: _(v) for k, v in DISPUTE_STATUS_LABELS.items()},
        "form_labels": {k.value: _(v) for k, v in FORM_LABELS.items()},
        "petition_status_labels": {k.value: _(v) for k, v in PETITION_STATUS_LABELS.items()},
        "methods": [_(m) for m in METHODS], "sides": [_(s) for s in SIDES],
    }


def _opt_int(value: str) -> int | None:
    value = value.strip()
    return int(value) if value.isdigit() and len(value) < 12 else None


def _blank(value: str) -> str | None:
    return value.strip() or None


def go(request: Request, url: str) -> Response:
    """After a form that made something: the browser goes to it (htmx follows HX-Redirect)."""
    if "hx-request" in request.headers:
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


# Disputes ---------------------------------------------------------------------------------------


@router.get("/disputes")
def disputes_page(request: Request, subject: PageSubject, session: DbSession, params: Paging,
                  tab: Choice = None, level: Choice = None, q: Search = None) -> Response:
    default = "mine" if subject.has(Role.mediator) else "open"
    tab = tab if tab in DISPUTE_TABS else default
    level = level if level in {lv.value for lv in MediationLevel} else ""
    status = tab if tab in {s.value for s in DisputeStatus} or tab == "open" else None
    stmt = repo.disputes(subject, status=status, level=level or None, overdue=tab == "overdue", risk=tab == "risk",
                         mediator_id=subject.id if tab == "mine" else None, desk=tab == "desk", q=q, on=today())
    rows, total = paginate(session, stmt, params)
    ctx = {"items": [disputes.dispute_out(d) for d in rows], "total": total, "params": params, "tab": tab,
           "level": level, "q": q or "", "counts": repo.dispute_counts(session, subject, today()),
           "can_register": subject.has(*disputes.REGISTRARS), **_labels()}
    if is_fragment(request):
        return render(request, "casework/_dispute_table.html", ctx)
    return render(request, "casework/disputes.html", ctx)


@router.get("/disputes/new")
def new_dispute_page(request: Request, subject: PageSubject, session: DbSession) -> Response:
    subject.require(*disputes.REGISTRARS)
    return render(request, "casework/dispute_new.html", {
        "areas": repo.areas(session, subject), "client_key": secrets.token_hex(16), "today": today().isoformat(),
        "days": {k.value: v for k, v in DISPUTE_DAYS.items()}, **_labels()})


@router.post("/disputes", dependencies=CSRF)
def register_dispute(
    request: Request, subject: PageSubject, session: DbSession, name: Short = "", occurred_on: Short = "",
    place: Short = "", lon: Short = "", lat: Short = "", scale: Short = "general", category: Short = "",
    people_count: Short = "2", summary: Text = "", deadline: Short = "", area_code: Short = "",
    client_key: Short = "", party_name: Many = [], party_id_number: Many = [],  # noqa: B006
    party_phone: Many = [], party_side: Many = [],  # noqa: B006
) -> Response:
    parties = []
    for i, pname in enumerate(party_name):
        if pname.strip():
            parties.append({"name": pname, "id_number": _at(party_id_number, i), "phone": _at(party_phone, i),
                            "side": _at(party_side, i)})
    data = form_model(DisputeCreate, {
        "name": name, "occurred_on": _blank(occurred_on), "place": place, "lon": _blank(lon), "lat": _blank(lat),
        "scale": scale or "general", "category": category, "people_count": people_count.strip() or "2",
        "summary": summary, "deadline": _blank(deadline), "area_code": _blank(area_code),
        "client_key": _blank(client_key), "parties": parties})
    d, _created = disputes.register(session, subject, data)
    return go(request, f"/disputes/{d.id}")


def _at(values: list[str], i: int) -> str:
    return values[i].strip() if i < len(values) else ""


def _dispute_ctx(session: Session, subject: Subject, dispute_id: int) -> dict[str, Any]:
    d = repo.dispute(session, subject, dispute_id)
    detail = disputes.dispute_detail(session, subject, d)
    wants = set(detail.allowed_actions)
    return {"d": detail, "bodies": disputes.bodies(session, d.area_code) if DisputeAction.assign in wants else [],
            "mediators": list(session.scalars(repo.staff_with_role(subject, Role.mediator).limit(500)).unique())
            if DisputeAction.assign in wants else [], "today": today(), "area_name": area_name(session, d.area_code),
            **_labels()}


@router.get("/disputes/{dispute_id}")
def dispute_page(request: Request, dispute_id: int, subject: PageSubject, session: DbSession) -> Response:
    template = "casework/_dispute.html" if is_fragment(request) else "casework/dispute.html"
    return render(request, template, _dispute_ctx(session, subject, dispute_id))


@router.post("/disputes/{dispute_id}/act/{dispute_action}", dependencies=CSRF)
def dispute_act(
    request: Request, dispute_id: int, dispute_action: DisputeAction, subject: PageSubject, session: DbSession,
    body: Short = "", mediator_id: Short = "", record: Text = "", attendees: Short = "", agreement: Text = "",
    outcome: Text = "", method: Short = "", reason: Text = "", note: Text = "", assessment: Short = "",
    party_name: Short = "", party_id_number: Short = "", party_phone: Short = "", party_side: Short = "",
) -> Response:
    party = ({"name": party_name, "id_number": party_id_number, "phone": party_phone, "side": party_side}
             if party_name.strip() else None)
    data = form_model(DisputeActionIn, {
        "body": _blank(body), "mediator_id": _opt_int(mediator_id), "record": record, "attendees": attendees,
        "agreement": agreement, "outcome": outcome, "method": method, "reason": reason, "note": note,
        "assessment": assessment, "party": party})
    d = disputes.act(session, subject, dispute_id, dispute_action, data)
    if "hx-request" not in request.headers:
        return RedirectResponse(f"/disputes/{d.id}", status_code=303)
    return render(request, "casework/_dispute.html", {**_dispute_ctx(session, subject, d.id),
                                                      "done": dispute_action.value})


# Petitions --------------------------------------------------------------------------------------


@router.get("/petitions")
def petitions_page(request: Request, subject: PageSubject, session: DbSession, params: Paging,
                   tab: Choice = None, form: Choice = None, q: Search = None) -> Response:
    tab = tab if tab in PETITION_TABS else "open"
    form = form if form in {k.value for k in FORM_LABELS} else ""
    status = tab if tab in {s.value for s in PetitionStatus} or tab == "open" else None
    stmt = repo.petitions(subject, status=status, overdue=tab == "overdue", on=today(),
                          leader_id=subject.id if tab == "mine" else None, q=q, form=form or None)
    rows, total = paginate(session, stmt, params)
    repeats = repo.repeat_counts(session, subject, rows)
    ctx = {"items": [petitions.petition_out(p, repeats.get(p.id, 0)) for p in rows], "total": total,
           "params": params, "tab": tab, "form": form, "q": q or "",
           "counts": repo.petition_counts(session, subject, today()),
           "can_register": subject.has(*petitions.OFFICE), **_labels()}
    if is_fragment(request):
        return render(request, "casework/_petition_table.html", ctx)
    return render(request, "casework/petitions.html", ctx)


def _leaders(session: Session, subject: Subject) -> list[Any]:
    return list(session.scalars(repo.staff_with_role(subject, *petitions.LEADERS).limit(500)).unique())


@router.get("/petitions/new")
def new_petition_page(request: Request, subject: PageSubject, session: DbSession) -> Response:
    subject.require(*petitions.OFFICE)
    return render(request, "casework/petition_new.html", {
        "areas": repo.areas(session, subject), "leaders": _leaders(session, subject),
        "client_key": secrets.token_hex(16), "today": today().isoformat(), "accept_days": ACCEPT_DAYS, **_labels()})


@router.post("/petitions", dependencies=CSRF)
def register_petition(
    request: Request, subject: PageSubject, session: DbSession, form: Short = "", petitioner_name: Short = "",
    id_number: Short = "", phone: Short = "", people_count: Short = "1", title: Short = "", content: Text = "",
    received_on: Short = "", area_code: Short = "", leader_id: Short = "", client_key: Short = "",
) -> Response:
    data = form_model(PetitionCreate, {
        "form": form, "petitioner_name": petitioner_name, "id_number": id_number, "phone": phone,
        "people_count": people_count.strip() or "1", "title": title, "content": content,
        "received_on": _blank(received_on), "area_code": _blank(area_code), "leader_id": _opt_int(leader_id),
        "client_key": _blank(client_key)})
    p, _created = petitions.register(session, subject, data)
    return go(request, f"/petitions/{p.id}")


@router.get("/petitions/reception")
def reception_page(request: Request, subject: PageSubject, session: DbSession,
                   leader_id: Choice = None) -> Response:
    chosen = _opt_int(leader_id or "")
    days = list(session.scalars(repo.reception_days(subject, leader_id=chosen, since=today()).limit(500)).unique())
    outs = petitions.reception_day_outs(session, subject, days)
    by_leader: dict[str, list[Any]] = {}
    for day in outs:
        by_leader.setdefault(day.leader_name, []).append(day)
    return render(request, "casework/reception.html", {
        "by_leader": by_leader, "leaders": _leaders(session, subject), "leader_id": chosen,
        "can_add": subject.has(*petitions.OFFICE), "today": today().isoformat()})


@router.post("/petitions/reception", dependencies=CSRF)
def add_reception_day(request: Request, subject: PageSubject, session: DbSession, leader_id: Short = "",
                      on: Short = "", place: Short = "", note: Short = "") -> Response:
    data = form_model(ReceptionDayIn, {"leader_id": _opt_int(leader_id), "on": _blank(on), "place": place,
                                       "note": note})
    petitions.add_reception_day(session, subject, data)
    return go(request, "/petitions/reception")


def _petition_ctx(session: Session, subject: Subject, petition_id: int) -> dict[str, Any]:
    p = repo.petition(session, subject, petition_id)
    detail = petitions.petition_detail(session, subject, p)
    wants = set(detail.allowed_actions)
    days = (list(session.scalars(repo.reception_days(subject, since=today()).limit(200)).unique())
            if PetitionAction.schedule in wants else [])
    leaders = _leaders(session, subject) if wants & {PetitionAction.set_leader, PetitionAction.accept} else []
    return {"p": detail, "days": days, "leaders": leaders, "max_extension": MAX_EXTENSION_DAYS,
            "handle_days": HANDLE_DAYS, "area_name": area_name(session, p.area_code), **_labels()}


@router.get("/petitions/{petition_id}")
def petition_page(request: Request, petition_id: int, subject: PageSubject, session: DbSession) -> Response:
    template = "casework/_petition.html" if is_fragment(request) else "casework/petition.html"
    return render(request, template, _petition_ctx(session, subject, petition_id))


@router.post("/petitions/{petition_id}/act/{petition_action}", dependencies=CSRF)
def petition_act(
    request: Request, petition_id: int, petition_action: PetitionAction, subject: PageSubject, session: DbSession,
    reason: Text = "", leader_id: Short = "", days: Short = "", answer: Text = "", satisfied: Short = "",
    reception_day_id: Short = "", note: Text = "",
) -> Response:
    data = form_model(PetitionActionIn, {
        "reason": reason, "leader_id": _opt_int(leader_id), "days": days.strip() or None, "answer": answer,
        "satisfied": satisfied.strip() or None, "reception_day_id": _opt_int(reception_day_id), "note": note})
    p = petitions.act(session, subject, petition_id, petition_action, data)
    if "hx-request" not in request.headers:
        return RedirectResponse(f"/petitions/{p.id}", status_code=303)
    return render(request, "casework/_petition.html", {**_petition_ctx(session, subject, p.id),
                                                       "done": petition_action.value})
