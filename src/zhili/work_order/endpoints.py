"""JSON API of the closed loop: file appeals, list and read work orders, and take every move."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from zhili.auth.dependencies import ApiSubject, DbSession
from zhili.idempotency import CommittingRoute
from zhili.kit.pagination import Page, PageParams, paginate
from zhili.models import Appeal
from zhili.work_order import repository as repo
from zhili.work_order import service
from zhili.work_order.schemas import ActionIn, AppealCreate, AppealFiled, WorkOrderDetail, WorkOrderOut
from zhili.work_order.workflow import Action, Status

router = APIRouter(route_class=CommittingRoute, prefix="/api/v1", tags=["work orders"])
Paging = Annotated[PageParams, Depends()]


@router.post("/appeals", response_model=AppealFiled, status_code=201, summary="登记诉求（生成待派遣工单）")
def file_appeal(body: AppealCreate, subject: ApiSubject, session: DbSession) -> AppealFiled:
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
