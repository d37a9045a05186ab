"""Pages of volunteers: the teams with their totals, a team's members, activities and hours; household
links, their contacts and the households nobody contacted for a month. Thin like every page."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from zhili.auth.dependencies import DbSession, PageSubject, verify_csrf
from zhili.auth.subject import Subject
from zhili.casework import repository as cw_repo
from zhili.errors import FieldProblem, Invalid
from zhili.idempotency import CommittingRoute
from zhili.kit.i18n import _
from zhili.kit.pagination import PageParams, paginate
from zhili.kit.time import now
from zhili.templating import form_model, render
from zhili.volunteer import repository as repo
from zhili.volunteer import service
from zhili.volunteer.schemas import MAX_HOUSES, MIN_HOUSES, ActivityIn, ContactIn, LinkIn, MemberIn, TeamIn

router = APIRouter(route_class=CommittingRoute, include_in_schema=False)
CSRF = [Depends(verify_csrf)]
Paging = Annotated[PageParams, Depends()]
Short = Annotated[str, Form(max_length=200)]
Text = Annotated[str, Form(max_length=1000)]
MAX_HOUSE_CHOICES = 300


def _go(request: Request, url: str) -> Response:
    if "hx-request" in request.headers:
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def _int(value: str) -> int | None:
    value = value.strip()
    return int(value) if value.isdigit() and len(value) < 12 else None


@router.get("/volunteers")
def teams_page(request: Request, subject: PageSubject, session: DbSession, params: Paging,
               q: Annotated[str | None, Query(max_length=100)] = None) -> Response:
    rows, total = paginate(session, repo.teams(subject, q), params)
    outs = service.team_outs(session, rows)
    return render(request, "volunteer/teams.html", {
        "teams": outs, "total": total, "params": params, "q": q or "", "areas": _team_areas(session, subject),
        "can_edit": subject.has(*service.ORGANISERS), "stale_count": len(service.stale(session, subject))})


def _team_areas(session: Session, subject: Subject) -> list[tuple[str, str]]:
    areas = cw_repo.areas(session, subject)
    if not subject.grid_bound:
        areas = repo.upper_regions(session, subject) + areas
    return areas


@router.post("/volunteers/teams", dependencies=CSRF)
def create_team(request: Request, subject: PageSubject, session: DbSession, name: Short = "", area_code: Short = "",
                leader_name: Short = "", phone: Short = "", note: Text = "") -> Response:
    data = form_model(TeamIn, {"name": name, "area_code": area_code, "leader_name": leader_name, "phone": phone,
                               "note": note})
    team = service.create_team(session, subject, data)
    return _go(request, f"/volunteers/teams/{team.id}")


@router.get("/volunteers/teams/{team_id}")
def team_page(request: Request, team_id: int, subject: PageSubject, session: DbSession) -> Response:
    team = repo.team(session, subject, team_id)
    return render(request, "volunteer/team.html", {
        "t": service.team_detail(session, subject, team), "can_edit": subject.has(*service.ORGANISERS),
        "today": now().date().isoformat()})


@router.post("/volunteers/teams/{team_id}/members", dependencies=CSRF)
def add_member(request: Request, team_id: int, subject: PageSubject, session: DbSession, name: Short = "",
               phone: Short = "", skills: Short = "", joined_on: Short = "") -> Response:
    data = form_model(MemberIn, {"name": name, "phone": phone, "skills": skills,
                                 "joined_on": joined_on.strip() or None})
    service.add_member(session, subject, team_id, data)
    return _go(request, f"/volunteers/teams/{team_id}")


@router.post("/volunteers/teams/{team_id}/activities", dependencies=CSRF)
async def add_activity(request: Request, team_id: int, subject: PageSubject, session: DbSession) -> Response:
    form = await request.form()
    hours = []
    for key, value in form.multi_items():
        if key.startswith("hours_") and str(value).strip():
            vid = _int(key.removeprefix("hours_"))
            try:
                amount = float(str(value))
            except ValueError:
                raise Invalid(_("服务时长应为数字"), [FieldProblem(key, _("应为数字"), "2.5")]) from None
            if vid is not None and amount:
                hours.append({"volunteer_id": vid, "hours": amount})
    data = form_model(ActivityIn, {"title": str(form.get("title", ""))[:200], "on": str(form.get("on", "")) or None,
                                   "place": str(form.get("place", ""))[:200],
                                   "description": str(form.get("description", ""))[:1000], "hours": hours})
    service.add_activity(session, subject, team_id, data)
    return _go(request, f"/volunteers/teams/{team_id}")


# Household links --------------------------------------------------------------------------------


@router.get("/volunteers/links")
def links_page(request: Request, subject: PageSubject, session: DbSession, params: Paging,
               area: Annotated[str | None, Query(max_length=15)] = None) -> Response:
    rows, total = paginate(session, repo.links(subject), params)
    areas = cw_repo.areas(session, subject)
    chosen = area if area in {c for c, _n in areas} else (areas[0][0] if areas else "")
    houses = list(session.scalars(repo.unlinked_houses(subject, chosen or None).limit(MAX_HOUSE_CHOICES)).unique())
    return render(request, "volunteer/links.html", {
        "links": service.link_outs(session, rows), "total": total, "params": params,
        "stale": service.stale(session, subject), "areas": areas, "area": chosen, "houses": houses,
        "can_edit": subject.has(*service.ORGANISERS), "min_houses": MIN_HOUSES, "max_houses": MAX_HOUSES})


@router.post("/volunteers/links", dependencies=CSRF)
def create_link(request: Request, subject: PageSubject, session: DbSession, linker_name: Short = "",
                linker_phone: Short = "", volunteer_id: Short = "",
                house_ids: Annotated[list[str], Form(max_length=100)] = []) -> Response:  # noqa: B006
    data = form_model(LinkIn, {"linker_name": linker_name, "linker_phone": linker_phone,
                               "volunteer_id": _int(volunteer_id),
                               "house_ids": [int(i) for i in house_ids if i.strip().isdigit() and len(i) < 12]})
    link = service.create_link(session, subject, data)
    return _go(request, f"/volunteers/links/{link.id}")


@router.get("/volunteers/links/{link_id}")
def link_page(request: Request, link_id: int, subject: PageSubject, session: DbSession) -> Response:
    link = repo.link(session, subject, link_id)
    return render(request, "volunteer/link.html", {
        "lk": service.link_detail(session, subject, link), "can_edit": subject.has(*service.ORGANISERS)})


@router.post("/volunteers/links/{link_id}/contacts", dependencies=CSRF)
def log_contact(request: Request, link_id: int, subject: PageSubject, session: DbSession, house_id: Short = "",
                note: Text = "") -> Response:
    data = form_model(ContactIn, {"house_id": _int(house_id), "note": note})
    service.log_contact(session, subject, link_id, data)
    return _go(request, f"/volunteers/links/{link_id}")
