"""The grid worker's phone pages for field work (/field), patrol coverage for the grid chief and the
town (/field/coverage), and the door-knocking campaign (/campaigns). Thin: every change goes through
fieldwork.service, forms through the API's schemas."""

import json
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from zhili.auth.dependencies import DbSession, PageSubject, verify_csrf
from zhili.auth.subject import Subject
from zhili.category import repository as crepo
from zhili.errors import FieldProblem, Invalid
from zhili.fieldwork import repository as repo
from zhili.fieldwork import service
from zhili.fieldwork.schemas import CampaignIn, ProblemIn, VisitIn
from zhili.idempotency import CommittingRoute
from zhili.jurisdiction import repository as jrepo
from zhili.keyperson import repository as kp_repo
from zhili.keyperson.kinds import KIND_LABELS, RISK_LABELS, VISIT_LABELS
from zhili.keyperson.plan import local_day
from zhili.kit.i18n import _
from zhili.kit.protect import mask_phone
from zhili.kit.time import now
from zhili.models.basedata import Address, House
from zhili.models.keyperson import VisitKind
from zhili.templating import form_model, is_fragment, render

router = APIRouter(route_class=CommittingRoute, include_in_schema=False)
CSRF = [Depends(verify_csrf)]
Choice = Annotated[str | None, Query(max_length=30)]
Short = Annotated[str, Form(max_length=200)]
Text = Annotated[str, Form(max_length=5000)]
Trail = Annotated[str, Form(max_length=400_000)]
PERIODS = (7, 30, 90)


def _labels() -> dict[str, Any]:
    return {"visit_labels": {k.value: _(v) for k, v in VISIT_LABELS.items()},
            "kind_labels": {k.value: _(v) for k, v in KIND_LABELS.items()},
            "risk_labels": {k.value: _(v) for k, v in RISK_LABELS.items()}, "mask_phone": mask_phone}


def _blank_none(value: str) -> str | None:
    return value.strip() or None


def _trail(text: str) -> list[Any]:
    if not text.strip():
        return []
    try:
        points = json.loads(text)
    except ValueError:
        points = None
    if not isinstance(points, list):
        message = _("轨迹数据无法识别，请重新开始巡查")
        raise Invalid(message, [FieldProblem("trail", message)])
    return points


# The field page --------------------------------------------------------------------------------


def _field_ctx(session: Session, subject: Subject) -> dict[str, Any]:
    at = now()
    today = local_day(at)
    return {
        "grids": list(session.scalars(repo.grids(subject).limit(200))),
        "due": list(session.scalars(kp_repo.key_persons(subject).limit(30))),
        "campaigns": list(session.scalars(repo.campaigns(subject, running_on=today).limit(10))),
        "mine": list(session.scalars(repo.visits(subject, staff_id=subject.id).limit(10))),
        "today": today, **_labels(),
    }


@router.get("/field")
def field_page(request: Request, subject: PageSubject, session: DbSession) -> Response:
    ctx = _field_ctx(session, subject)
    if is_fragment(request):
        return render(request, "fieldwork/_mine.html", ctx)
    ctx["categories"] = list(session.scalars(crepo.categories(subject, leaves_only=True, active=True).limit(2000)))
    return render(request, "fieldwork/field.html", ctx)


@router.post("/field/visits", dependencies=CSRF)
def record(request: Request, subject: PageSubject, session: DbSession, kind: Short = "patrol", grid_code: Short = "",
           seen: Text = "", lon: Short = "", lat: Short = "", trail: Trail = "", started_at: Short = "",
           client_key: Short = "", report: Short = "") -> Response:
    values: dict[str, Any] = {"kind": kind or None, "grid_code": _blank_none(grid_code), "seen": seen,
                              "lon": _blank_none(lon), "lat": _blank_none(lat), "trail": _trail(trail),
                              "started_at": _blank_none(started_at), "client_key": _blank_none(client_key)}
    if report == "1":
        values["problem"] = {}
    if kind != VisitKind.patrol.value:
        raise Invalid(_("此处只记录巡查；走访请在重点人员档案或敲门清单中记录"),
                      [FieldProblem("kind", _("此处只记录巡查；走访请在重点人员档案或敲门清单中记录"))])
    visit, _new = service.record_visit(session, subject, form_model(VisitIn, values))
    if "hx-request" not in request.headers:
        return RedirectResponse(f"/field/visits/{visit.id}", status_code=303)
    message = _("巡查已保存") if not visit.work_order_id else _("巡查已保存，发现的问题已上报")
    return render(request, "fieldwork/_saved.html", {"message": message, "visit": visit},
                  headers={"HX-Trigger": "visits-changed"})


@router.get("/field/visits/{visit_id}")
def visit_page(request: Request, visit_id: int, subject: PageSubject, session: DbSession) -> Response:
    visit = repo.visit(session, subject, visit_id)
    person = kp_repo.key_person(session, subject, visit.key_person_id) if visit.key_person_id else None
    return render(request, "fieldwork/visit.html", {
        "v": visit, "person": person, "trail_json": json.dumps([[p[0], p[1]] for p in visit.trail]),
        "categories": list(session.scalars(crepo.categories(subject, leaves_only=True, active=True).limit(2000))),
        **_labels()})


@router.post("/field/visits/{visit_id}/problem", dependencies=CSRF)
def report_problem(request: Request, visit_id: int, subject: PageSubject, session: DbSession, text: Text = "",
                   category_code: Short = "", urgency: Short = "normal") -> Response:
    data = form_model(ProblemIn, {"text": text, "category_code": _blank_none(category_code),
                                  "urgency": urgency or "normal"})
    order = service.report_problem(session, subject, visit_id, data)
    if "hx-request" not in request.headers:
        return RedirectResponse(f"/orders/{order.id}", status_code=303)
    return render(request, "work_order/_done.html",
                  {"message": _("已上报：{code}（{title}）", code=order.code, title=order.title), "order_id": order.id},
                  headers={"HX-Trigger": "visits-changed"})


# Coverage --------------------------------------------------------------------------------------


@router.get("/field/coverage")
def coverage_page(request: Request, subject: PageSubject, session: DbSession, grid_code: Choice = None,
                  days: Choice = None) -> Response:
    period = int(days) if days and days.isdigit() and int(days) in PERIODS else 30
    at = now()
    since = at - timedelta(days=period)
    grids = list(session.scalars(repo.grids(subject).limit(2000)))
    ctx: dict[str, Any] = {"days": period, "periods": PERIODS, "grid": None, **_labels()}
    if grid_code and grid_code.isdigit():
        grid = repo.grid(session, subject, grid_code)
        rows = repo.coverage(session, subject, since, local_day(at), [grid.code])
        patrols = list(session.scalars(repo.visits(subject, kind=VisitKind.patrol, grid_code=grid.code, since=since)
                                       .limit(200)))
        ctx.update(grid=grid, row=rows[0], workers=repo.workers(session, subject, grid.code, since),
                   patrols=patrols, trails=json.dumps([
                       {"id": v.id, "who": v.staff.display_name, "at": v.started_at.isoformat(),
                        "points": [[p[0], p[1]] for p in v.trail] or ([[v.lon, v.lat]] if v.lon is not None else [])}
                       for v in patrols]))
    else:
        ctx["rows"] = repo.coverage(session, subject, since, local_day(at), [g.code for g in grids])
    return render(request, "fieldwork/coverage.html", ctx)


# The door-knocking campaign --------------------------------------------------------------------


@router.get("/campaigns")
def campaigns_page(request: Request, subject: PageSubject, session: DbSession) -> Response:
    rows = []
    for c in session.scalars(repo.campaigns(subject).limit(100)):
        grids = repo.progress(session, subject, c)
        rows.append({"c": c, "houses": sum(g.houses for g in grids), "visited": sum(g.visited for g in grids)})
    can_create = subject.has(*service.CAMPAIGN_ROLES) and not subject.grid_bound
    regions = list(session.scalars(jrepo.regions(subject).limit(2000))) if can_create else []
    return render(request, "fieldwork/campaigns.html", {"rows": rows, "can_create": can_create, "regions": regions,
                                                        "today": local_day(now())})


@router.post("/campaigns", dependencies=CSRF)
def create_campaign(request: Request, subject: PageSubject, session: DbSession, name: Short = "",
                    region_code: Short = "", starts_on: Short = "", ends_on: Short = "", note: Text = "") -> Response:
    data = form_model(CampaignIn, {"name": name, "region_code": region_code, "starts_on": starts_on or None,
                                   "ends_on": ends_on or None, "note": note})
    campaign = service.create_campaign(session, subject, data)
    if "hx-request" in request.headers:
        return Response(status_code=204, headers={"HX-Redirect": f"/campaigns/{campaign.id}"})
    return RedirectResponse(f"/campaigns/{campaign.id}", status_code=303)


def _checklist(session: Session, subject: Subject, campaign_id: int, grid_code: str | None, todo: bool,
               q: str) -> dict[str, Any]:
    c = repo.campaign(session, subject, campaign_id)
    grids = repo.progress(session, subject, c)
    code = grid_code if grid_code and grid_code.isdigit() else None
    if code is None and len(grids) == 1:
        code = grids[0].grid_code
    houses: list[Any] = []
    if code is not None:
        repo.grid(session, subject, code)
        stmt = repo.campaign_houses(subject, c, code)
        if q:
            stmt = stmt.where(House.address_id.in_(
                select(Address.id).where(Address.full_name.contains(q, autoescape=True))))
        houses = list(session.scalars(stmt.limit(1000)))
    done = repo.knocked(session, c.id, [h.id for h in houses])
    people = repo.resident_counts(session, [h.id for h in houses])
    rows = [{"h": h, "visit": done.get(h.id), "people": people.get(h.id, 0)} for h in houses]
    rows.sort(key=lambda r: (r["visit"] is not None, r["h"].address.full_name))
    if todo:
        rows = [r for r in rows if r["visit"] is None]
    today = local_day(now())
    return {"c": c, "grids": grids, "grid_code": code or "", "rows": rows, "todo": todo, "q": q,
            "running": c.starts_on <= today <= c.ends_on, "total": len(houses), "visited": len(done),
            "mask_phone": mask_phone}


@router.get("/campaigns/{campaign_id}")
def campaign_page(request: Request, campaign_id: int, subject: PageSubject, session: DbSession,
                  grid_code: Choice = None, todo: Choice = None,
                  q: Annotated[str | None, Query(max_length=50)] = None) -> Response:
    ctx = _checklist(session, subject, campaign_id, grid_code, todo == "1", (q or "").strip())
    template = "fieldwork/_checklist.html" if is_fragment(request) else "fieldwork/campaign.html"
    return render(request, template, ctx)


@router.post("/campaigns/{campaign_id}/knock", dependencies=CSRF)
def knock(request: Request, campaign_id: int, subject: PageSubject, session: DbSession, house_id: Short = "",
          seen: Text = "", client_key: Short = "") -> Response:
    if not house_id.isdigit():
        raise Invalid(_("请选择一户"), [FieldProblem("house_id", _("请选择一户"))])
    data = form_model(VisitIn, {"kind": VisitKind.door_knock, "campaign_id": campaign_id, "house_id": int(house_id),
                                "seen": seen, "client_key": _blank_none(client_key)})
    visit, _new = service.record_visit(session, subject, data)
    if "hx-request" not in request.headers:
        return RedirectResponse(f"/campaigns/{campaign_id}?grid_code={visit.area_code}", status_code=303)
    campaign = repo.campaign(session, subject, campaign_id)
    return render(request, "fieldwork/_knocked.html", {"visit": visit, "c": campaign})
