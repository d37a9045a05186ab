"""JSON API of the closed loop: file appeals, list and read work orders, and take every move."""

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from zhili.auth.dependencies import ApiSubject, DbSession, LazyApiSubject, LazyDb
from zhili.auth.subject import Subject
from zhili.idempotency import CommittingRoute
from zhili.intake import service as intake
from zhili.intake.schemas import IntakeStatus
from zhili.kit.pagination import Page, PageParams, paginate
from zhili.models import Appeal, IntakeState
from zhili.work_order import repository as repo
from zhili.work_order import service
from zhili.work_order.schemas import ActionIn, AppealCreate, AppealFiled, WorkOrderDetail, WorkOrderOut
from zhili.work_order.workflow import Action, Status

router = APIRouter(route_class=CommittingRoute, prefix="/api/v1", tags=["work orders"])
Paging = Annotated[PageParams, Depends()]


@router.post("/appeals", response_model=AppealFiled, status_code=201, summary="登记诉求（生成待派遣工单）",
             responses={202: {"model": IntakeStatus, "description": "Prefer: respond-async: 已受理，随即登记"}})
async def file_appeal(request: Request, body: AppealCreate, subject: LazyApiSubject, session: LazyDb,
                      prefer: Annotated[str, Header(description="respond-async：受理后即答复 202，工单随即登记")] = ""
                      ) -> AppealFiled | Response:
    """Files the appeal and answers the new work order (201). With `Prefer: respond-async` (RFC 7240),
    for systems that send many at once, it is checked just the same, stored in one insert and answered
    202 with its tracking code; the work order follows within a second (GET /api/v1/intake/{code}).

    `async`: the queued path needs no thread and, with what the process keeps, no query; the direct
    path files in the thread pool."""
    if "respond-async" in prefer.lower():
        accepted = intake.accept(session, subject, body)
        href = f"/api/v1/intake/{accepted.token}"
        queued = IntakeStatus(tracking_code=accepted.token, state=IntakeState.queued,
                              received_at=accepted.row["received_at"], href=href)
        response = Response(queued.model_dump_json(), status_code=202, media_type="application/json",
                            headers={"Location": href, "Preference-Applied": "respond-async"})
        await intake.store_async(request, session, accepted, response)
        return response
    return await run_in_threadpool(_file_now, session, subject, body)


def _file_now(session: Session, subject: Subject, body: AppealCreate) -> AppealFiled:
    appeal, order = service.file_appeal(session, subject, body)
    return AppealFiled(tracking_code=appeal.tracking_code, work_order=service.order_detail(session, subject, order))


class CallerAppeal(BaseModel):
    tracking_code: str
    order_id: int
    order_code: str
    status: str
    text: str
    created_at: str


@router.get("/appeals", response_model=Page[CallerAppeal], summary="来电人的历史诉求")
def caller_history(subject: ApiSubject, session: DbSession, params: Paging,
                   phone: Annotated[str, Query(min_length=3, max_length=20)]) -> Page[CallerAppeal]:
    rows, total = paginate(session, repo.appeals_by_phone(subject, phone), params)
    return Page.of([_caller_appeal(a) for a in rows], total, params)


def _caller_appeal(a: Appeal) -> CallerAppeal:
    return CallerAppeal(tracking_code=a.tracking_code, order_id=a.work_order.id, order_code=a.work_order.code,
                        status=a.work_order.status, text=a.text[:200], created_at=a.created_at.isoformat())


@router.get("/work-orders", response_model=Page[WorkOrderOut])
def list_orders(
    subject: ApiSubject, session: DbSession, params: Paging,
    status: Annotated[list[Status] | None, Query()] = None,
    category_code: Annotated[str | None, Query(max_length=30)] = None,
    within: Annotated[str | None, Query(pattern=r"^\d{1,12}$")] = None,
    department_id: int | None = None, overdue: bool | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> Page[WorkOrderOut]:
    stmt = repo.orders(subject, status=[s.value for s in status] if status else None, category_code=category_code,
                       within=within, department_id=department_id, overdue=overdue, q=q)
    rows, total = paginate(session, stmt, params)
    return Page.of([service.order_out(session, o) for o in rows], total, params)


@router.get("/work-orders/{order_id}", response_model=WorkOrderDetail)
def get_order(order_id: int, subject: ApiSubject, session: DbSession) -> WorkOrderDetail:
    return service.order_detail(session, subject, repo.order(session, subject, order_id))


@router.post("/work-orders/{order_id}/{action}", response_model=WorkOrderDetail,
             summary="工单流转：派遣、签收、退回、延期、挂账、上报、督办、反馈、核查、回访、办结…")
def take_action(order_id: int, action: Action, body: ActionIn, subject: ApiSubject,
                session: DbSession) -> WorkOrderDetail:
    order = service.act(session, subject, order_id, action, body)
    return service.order_detail(session, subject, order)
