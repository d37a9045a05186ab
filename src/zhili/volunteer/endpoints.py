"""JSON API of volunteers and household links (/api/v1/volunteer-teams, /api/v1/household-links)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from zhili.auth.dependencies import ApiSubject, DbSession
from zhili.idempotency import CommittingRoute
from zhili.kit.pagination import Page, PageParams, paginate
from zhili.volunteer import repository as repo
from zhili.volunteer import service
from zhili.volunteer.schemas import (
    ActivityIn,
    ActivityOut,
    ContactIn,
    ContactOut,
    LinkDetail,
    LinkIn,
    LinkOut,
    MemberIn,
    StaleHouse,
    TeamDetail,
    TeamIn,
    TeamOut,
    VolunteerOut,
)

router = APIRouter(route_class=CommittingRoute, prefix="/api/v1", tags=["volunteers"])
Paging = Annotated[PageParams, Depends()]


@router.get("/volunteer-teams", response_model=Page[TeamOut], summary="志愿服务队及其人数、时长合计")
def list_teams(subject: ApiSubject, session: DbSession, params: Paging,
               q: Annotated[str | None, Query(max_length=100)] = None) -> Page[TeamOut]:
    rows, total = paginate(session, repo.teams(subject, q), params)
    return Page.of(service.team_outs(session, rows), total, params)


@router.post("/volunteer-teams", response_model=TeamDetail, status_code=201, summary="新建志愿服务队")
def create_team(body: TeamIn, subject: ApiSubject, session: DbSession) -> TeamDetail:
    return service.team_detail(session, subject, service.create_team(session, subject, body))


@router.get("/volunteer-teams/{team_id}", response_model=TeamDetail, summary="志愿服务队：队员时长与活动")
def get_team(team_id: int, subject: ApiSubject, session: DbSession) -> TeamDetail:
    return service.team_detail(session, subject, repo.team(session, subject, team_id))


@router.post("/volunteer-teams/{team_id}/members", response_model=VolunteerOut, status_code=201, summary="添加志愿者")
def add_member(team_id: int, body: MemberIn, subject: ApiSubject, session: DbSession) -> VolunteerOut:
    v = service.add_member(session, subject, team_id, body)
    return next(x for x in service.team_detail(session, subject, repo.team(session, subject, team_id)).volunteers
                if x.id == v.id)


@router.post("/volunteer-teams/{team_id}/activities", response_model=ActivityOut, status_code=201,
             summary="记录志愿活动及每人服务时长")
def add_activity(team_id: int, body: ActivityIn, subject: ApiSubject, session: DbSession) -> ActivityOut:
    a = service.add_activity(session, subject, team_id, body)
    return ActivityOut(id=a.id, title=a.title, on=a.on, place=a.place, description=a.description,
                       hours=round(sum(h.hours for h in body.hours), 1), people=len(body.hours))


@router.get("/household-links", response_model=Page[LinkOut], summary="联户名单")
def list_links(subject: ApiSubject, session: DbSession, params: Paging) -> Page[LinkOut]:
    rows, total = paginate(session, repo.links(subject), params)
    return Page.of(service.link_outs(session, rows), total, params)


@router.get("/household-links/stale", response_model=list[StaleHouse], summary="一个月未联系的联户家庭")
def stale_links(subject: ApiSubject, session: DbSession) -> list[StaleHouse]:
    return service.stale(session, subject)


@router.post("/household-links", response_model=LinkDetail, status_code=201, summary="新建联户（5–15 户）")
def create_link(body: LinkIn, subject: ApiSubject, session: DbSession) -> LinkDetail:
    return service.link_detail(session, subject, service.create_link(session, subject, body))


@router.get("/household-links/{link_id}", response_model=LinkDetail, summary="联户详情与联系记录")
def get_link(link_id: int, subject: ApiSubject, session: DbSession) -> LinkDetail:
    return service.link_detail(session, subject, repo.link(session, subject, link_id))


@router.post("/household-links/{link_id}/contacts", response_model=ContactOut, status_code=201, summary="记录联系")
def log_contact(link_id: int, body: ContactIn, subject: ApiSubject, session: DbSession) -> ContactOut:
    c = service.log_contact(session, subject, link_id, body)
    detail = service.link_detail(session, subject, repo.link(session, subject, link_id))
    address = next((h.address for h in detail.linked if h.house_id == c.house_id), "")
    return ContactOut(house_id=c.house_id, address=address, at=c.at, note=c.note)
