"""JSON API of casework: disputes, petitions and reception days (/api/v1/...)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from zhili.auth.dependencies import ApiSubject, DbSession
from zhili.casework import disputes, petitions
from zhili.casework import repository as repo
from zhili.casework.labels import today
from zhili.casework.schemas import (
    DisputeAction,
    DisputeActionIn,
    DisputeCreate,
    DisputeDetail,
    DisputeOut,
    PetitionAction,
    PetitionActionIn,
    PetitionCreate,
    PetitionDetail,
    PetitionOut,
    ReceptionDayIn,
    ReceptionDayOut,
)
from zhili.idempotency import CommittingRoute
from zhili.kit.pagination import Page, PageParams, paginate
from zhili.models import DisputeStatus, MediationLevel, PetitionForm, PetitionStatus

router = APIRouter(route_class=CommittingRoute, prefix="/api/v1", tags=["casework"])
Paging = Annotated[PageParams, Depends()]
Search = Annotated[str | None, Query(max_length=100)]


@router.get("/disputes", response_model=Page[DisputeOut], summary="矛盾纠纷列表")
def list_disputes(subject: ApiSubject, session: DbSession, params: Paging,
                  status: Annotated[DisputeStatus | None, Query()] = None,
                  level: Annotated[MediationLevel | None, Query()] = None,
                  overdue: bool = False, risk: bool = False, mine: bool = False, desk: bool = False,
                  q: Search = None) -> Page[DisputeOut]:
    """Filters: `status`, `level`, `overdue` (open and past 化解时限), `risk` (民转刑), `mine` (my mediation
    queue), `desk` (on my region's desk)."""
    stmt = repo.disputes(subject, status=status.value if status else None, level=level.value if level else None,
                         overdue=overdue, risk=risk, mediator_id=subject.id if mine else None, desk=desk, q=q,
                         on=today())
    rows, total = paginate(session, stmt, params)
    return Page.of([disputes.dispute_out(d) for d in rows], total, params)


@router.post("/disputes", response_model=DisputeDetail, status_code=201, summary="登记矛盾纠纷")
def register_dispute(body: DisputeCreate, subject: ApiSubject, session: DbSession, response: Response) -> DisputeDetail:
    """A retried post with the same `client_key` answers the first registration (200), never a second."""
    d, created = disputes.register(session, subject, body)
    if not created:
        response.status_code = 200
    return disputes.dispute_detail(session, subject, d)


@router.get("/disputes/{dispute_id}", response_model=DisputeDetail, summary="纠纷详情（当事人已脱敏）与流转记录")
def get_dispute(dispute_id: int, subject: ApiSubject, session: DbSession) -> DisputeDetail:
    return disputes.dispute_detail(session, subject, repo.dispute(session, subject, dispute_id))


@router.post("/disputes/{dispute_id}/{dispute_action}", response_model=DisputeDetail,
             summary="纠纷流转：指派、调解记录、达成协议、调解不成、回访、上报、民转刑标记、添加当事人")
def dispute_action(dispute_id: int, dispute_action: DisputeAction, body: DisputeActionIn, subject: ApiSubject,
                   session: DbSession) -> DisputeDetail:
    d = disputes.act(session, subject, dispute_id, dispute_action, body)
    return disputes.dispute_detail(session, subject, d)


@router.get("/petitions", response_model=Page[PetitionOut], summary="信访件列表")
def list_petitions(subject: ApiSubject, session: DbSession, params: Paging,
                   status: Annotated[PetitionStatus | None, Query()] = None,
                   form: Annotated[PetitionForm | None, Query()] = None,
                   overdue: bool = False, mine: bool = False, q: Search = None) -> Page[PetitionOut]:
    """`overdue`: past the acceptance or handling limit; `mine`: cases I am the responsible leader of."""
    stmt = repo.petitions(subject, status=status.value if status else None, form=form.value if form else None,
                          overdue=overdue, on=today(), leader_id=subject.id if mine else None, q=q)
    rows, total = paginate(session, stmt, params)
    repeats = repo.repeat_counts(session, subject, rows)
    return Page.of([petitions.petition_out(p, repeats.get(p.id, 0)) for p in rows], total, params)


@router.post("/petitions", response_model=PetitionDetail, status_code=201, summary="登记信访件")
def register_petition(body: PetitionCreate, subject: ApiSubject, session: DbSession,
                      response: Response) -> PetitionDetail:
    p, created = petitions.register(session, subject, body)
    if not created:
        response.status_code = 200
    return petitions.petition_detail(session, subject, p)


@router.get("/petitions/{petition_id}", response_model=PetitionDetail, summary="信访件详情、重复信访与流转记录")
def get_petition(petition_id: int, subject: ApiSubject, session: DbSession) -> PetitionDetail:
    return petitions.petition_detail(session, subject, repo.petition(session, subject, petition_id))


@router.post("/petitions/{petition_id}/{petition_action}", response_model=PetitionDetail,
             summary="信访件流转：受理、不予受理、包案领导、延期（须指挥长）、答复、办结、安排接访、列为重点人员")
def petition_action(petition_id: int, petition_action: PetitionAction, body: PetitionActionIn,
                    subject: ApiSubject, session: DbSession) -> PetitionDetail:
    p = petitions.act(session, subject, petition_id, petition_action, body)
    return petitions.petition_detail(session, subject, p)


@router.get("/reception-days", response_model=list[ReceptionDayOut], summary="领导接访日及安排的信访件")
def list_reception_days(subject: ApiSubject, session: DbSession, leader_id: int | None = None,
                        upcoming: bool = True) -> list[ReceptionDayOut]:
    stmt = repo.reception_days(subject, leader_id=leader_id, since=today() if upcoming else None)
    return petitions.reception_day_outs(session, subject, list(session.scalars(stmt.limit(500)).unique()))


@router.post("/reception-days", response_model=ReceptionDayOut, status_code=201, summary="安排领导接访日")
def add_reception_day(body: ReceptionDayIn, subject: ApiSubject, session: DbSession) -> ReceptionDayOut:
    row = petitions.add_reception_day(session, subject, body)
    return petitions.reception_day_outs(session, subject, [row])[0]
