"""JSON API of the field log: visits and patrols, problems found, door-knocking campaigns, coverage."""

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from zhili.auth.dependencies import ApiSubject, DbSession
from zhili.fieldwork import repository as repo
from zhili.fieldwork import service
from zhili.fieldwork.schemas import CampaignDetail, CampaignIn, CampaignOut, GridCoverage, ProblemIn, VisitIn, VisitOut
from zhili.idempotency import CommittingRoute
from zhili.keyperson.plan import local_day
from zhili.kit.pagination import Page, PageParams, paginate
from zhili.kit.time import now
from zhili.models.keyperson import VisitKind
from zhili.work_order.schemas import WorkOrderOut
from zhili.work_order.service import order_out

router = APIRouter(route_class=CommittingRoute, prefix="/api/v1", tags=["visits and patrols"])
Paging = Annotated[PageParams, Depends()]
GridCode = Annotated[str | None, Query(pattern=r"^\d{15}$")]


@router.get("/visits", response_model=Page[VisitOut], summary="走访、巡查记录")
def list_visits(subject: ApiSubject, session: DbSession, params: Paging, kind: VisitKind | None = None,
                grid_code: GridCode = None, key_person_id: int | None = None,
                mine: Annotated[bool, Query(description="only the caller's own")] = False) -> Page[VisitOut]:
    stmt = repo.visits(subject, kind=kind, grid_code=grid_code, key_person_id=key_person_id,
                       staff_id=subject.id if mine else None)
    rows, total = paginate(session, stmt, params)
    return Page.of([VisitOut.of(v) for v in rows], total, params)


@router.post("/visits", response_model=VisitOut, status_code=201,
             summary="记录走访、巡查或敲门走访（client_key 重试不重复）")
def record_visit(body: VisitIn, subject: ApiSubject, session: DbSession, response: Response) -> VisitOut:
    visit, new = service.record_visit(session, subject, body)
    if not new:
        response.status_code = 200
    return VisitOut.of(visit)


@router.get("/visits/{visit_id}", response_model=VisitOut)
def read_visit(visit_id: int, subject: ApiSubject, session: DbSession) -> VisitOut:
    return VisitOut.of(repo.visit(session, subject, visit_id))


@router.post("/visits/{visit_id}/problem", response_model=WorkOrderOut, summary="把走访中发现的问题上报为诉求")
def report_problem(visit_id: int, body: ProblemIn, subject: ApiSubject, session: DbSession) -> WorkOrderOut:
    order = service.report_problem(session, subject, visit_id, body)
    return order_out(session, order, now())


@router.get("/campaigns", response_model=Page[CampaignOut], summary="敲门行动")
def list_campaigns(subject: ApiSubject, session: DbSession, params: Paging) -> Page[CampaignOut]:
    rows, total = paginate(session, repo.campaigns(subject), params)
    out = []
    for c in rows:
        grids = repo.progress(session, subject, c)
        out.append(CampaignOut.of(c, sum(g.houses for g in grids), sum(g.visited for g in grids)))
    return Page.of(out, total, params)


@router.post("/campaigns", response_model=CampaignOut, status_code=201, summary="发起敲门行动")
def create_campaign(body: CampaignIn, subject: ApiSubject, session: DbSession) -> CampaignOut:
    return CampaignOut.of(service.create_campaign(session, subject, body))


@router.get("/campaigns/{campaign_id}", response_model=CampaignDetail, summary="敲门行动进度（按网格）")
def read_campaign(campaign_id: int, subject: ApiSubject, session: DbSession) -> CampaignDetail:
    c = repo.campaign(session, subject, campaign_id)
    grids = repo.progress(session, subject, c)
    return CampaignDetail(**CampaignOut.of(c, sum(g.houses for g in grids), sum(g.visited for g in grids))
                          .model_dump(), grids=grids)


@router.get("/patrol-coverage", response_model=list[GridCoverage], summary="网格巡查覆盖")
def coverage(subject: ApiSubject, session: DbSession, days: Annotated[int, Query(ge=1, le=366)] = 30,
             grid_code: GridCode = None) -> list[GridCoverage]:
    at = now()
    since = at - timedelta(days=days)
    codes = [grid_code] if grid_code else [g.code for g in session.scalars(repo.grids(subject).limit(2000))]
    if grid_code:
        repo.grid(session, subject, grid_code)
    rows = repo.coverage(session, subject, since, local_day(at), codes)
    if grid_code:
        for row in rows:
            row.workers = repo.workers(session, subject, row.grid_code, since)
    return rows
