"""JSON API of key persons: the ledger, risk, helpers, check-ins, leave requests, warnings, the visit plan."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from zhili.auth.dependencies import ApiSubject, DbSession
from zhili.idempotency import CommittingRoute
from zhili.keyperson import repository as repo
from zhili.keyperson import service
from zhili.keyperson.kinds import DETAILS, KIND_LABELS
from zhili.keyperson.plan import local_day, rules
from zhili.keyperson.schemas import (
    CareWarningOut,
    CheckInIn,
    CheckInOut,
    DetailFieldOut,
    HelpersIn,
    KeyPersonCreate,
    KeyPersonDetail,
    KeyPersonOut,
    KeyPersonUpdate,
    KindOut,
    LeaveDecisionIn,
    LeaveIn,
    LeaveOut,
    LeaveReturnIn,
    RiskChangeOut,
    RiskIn,
    VisitRuleOut,
    VisitRulesIn,
)
from zhili.kit.i18n import _
from zhili.kit.pagination import Page, PageParams, paginate
from zhili.kit.time import now
from zhili.models.keyperson import KeyPerson, KeyPersonKind, Risk, WarningKind

router = APIRouter(route_class=CommittingRoute, prefix="/api/v1", tags=["key persons"])
Paging = Annotated[PageParams, Depends()]


def _detail(session: Session, person: KeyPerson) -> KeyPersonDetail:
    return KeyPersonDetail(**KeyPersonOut.of(person).model_dump(),
                           risk_history=[RiskChangeOut.of(r) for r in repo.risk_history(session, person.id)])


@router.get("/key-person-kinds", response_model=list[KindOut], summary="重点人员类别及各类专项字段")
def kinds(subject: ApiSubject) -> list[KindOut]:
    return [KindOut(kind=k, label=_(KIND_LABELS[k]), fields=[
        DetailFieldOut(name=f.name, label=_(f.label), kind=f.kind, required=f.required, choices=list(f.choices),
                       low=f.low, high=f.high) for f in DETAILS[k]]) for k in KeyPersonKind]


@router.get("/key-persons", response_model=Page[KeyPersonOut], summary="重点人员列表")
def list_key_persons(
    subject: ApiSubject, session: DbSession, params: Paging, kind: KeyPersonKind | None = None,
    risk: Risk | None = None, q: Annotated[str | None, Query(max_length=50)] = None,
    grid_code: Annotated[str | None, Query(pattern=r"^\d{15}$")] = None,
    overdue: Annotated[bool, Query(description="only those whose visit is overdue")] = False,
    active: bool = True,
) -> Page[KeyPersonOut]:
    stmt = repo.key_persons(subject, kind=kind, risk=risk, q=q, grid_code=grid_code, active=active,
                            overdue_before=local_day(now()) if overdue else None)
    rows, total = paginate(session, stmt, params)
    return Page.of([KeyPersonOut.of(p) for p in rows], total, params)


@router.post("/key-persons", response_model=KeyPersonDetail, status_code=201, summary="从实有人口登记重点人员")
def register(body: KeyPersonCreate, subject: ApiSubject, session: DbSession) -> KeyPersonDetail:
    return _detail(session, service.register(session, subject, body))


@router.get("/key-persons/{key_person_id}", response_model=KeyPersonDetail)
def read(key_person_id: int, subject: ApiSubject, session: DbSession) -> KeyPersonDetail:
    return _detail(session, repo.key_person(session, subject, key_person_id))


@router.patch("/key-persons/{key_person_id}", response_model=KeyPersonDetail, summary="修改专项信息、解除列管")
def update(key_person_id: int, body: KeyPersonUpdate, subject: ApiSubject, session: DbSession) -> KeyPersonDetail:
    return _detail(session, service.update(session, subject, key_person_id, body))


@router.post("/key-persons/{key_person_id}/risk", response_model=KeyPersonDetail, summary="调整风险等级（须说明理由）")
def change_risk(key_person_id: int, body: RiskIn, subject: ApiSubject, session: DbSession) -> KeyPersonDetail:
    return _detail(session, service.change_risk(session, subject, key_person_id, body))


@router.put("/key-persons/{key_person_id}/helpers", response_model=KeyPersonDetail, summary="设置帮扶责任人")
def set_helpers(key_person_id: int, body: HelpersIn, subject: ApiSubject, session: DbSession) -> KeyPersonDetail:
    return _detail(session, service.replace_helpers(session, subject, key_person_id, body.helpers))


@router.get("/key-persons/{key_person_id}/check-ins", response_model=list[CheckInOut])
def list_checkins(key_person_id: int, subject: ApiSubject, session: DbSession,
                  limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[CheckInOut]:
    person = repo.key_person(session, subject, key_person_id)
    return [CheckInOut.of(c) for c in repo.checkins(session, person.id, limit)]


@router.post("/key-persons/{key_person_id}/check-ins", response_model=CheckInOut, status_code=201,
             summary="签到或定位（社区矫正：一天一定位两签到）")
def check_in(key_person_id: int, body: CheckInIn, subject: ApiSubject, session: DbSession) -> CheckInOut:
    return CheckInOut.of(service.check_in(session, subject, key_person_id, body))


@router.get("/key-persons/{key_person_id}/leaves", response_model=list[LeaveOut])
def list_leaves(key_person_id: int, subject: ApiSubject, session: DbSession) -> list[LeaveOut]:
    person = repo.key_person(session, subject, key_person_id)
    return [LeaveOut.of(x) for x in repo.leaves(session, person.id)]


@router.post("/key-persons/{key_person_id}/leaves", response_model=LeaveOut, status_code=201, summary="请假外出")
def request_leave(key_person_id: int, body: LeaveIn, subject: ApiSubject, session: DbSession) -> LeaveOut:
    return LeaveOut.of(service.request_leave(session, subject, key_person_id, body))


@router.post("/leaves/{leave_id}/decision", response_model=LeaveOut, summary="审批请假（网格长或乡镇中心）")
def decide_leave(leave_id: int, body: LeaveDecisionIn, subject: ApiSubject, session: DbSession) -> LeaveOut:
    return LeaveOut.of(service.decide_leave(session, subject, leave_id, body))


@router.post("/leaves/{leave_id}/return", response_model=LeaveOut, summary="销假")
def return_leave(leave_id: int, body: LeaveReturnIn, subject: ApiSubject, session: DbSession) -> LeaveOut:
    return LeaveOut.of(service.return_leave(session, subject, leave_id, body))


@router.get("/care-warnings", response_model=Page[CareWarningOut], summary="重点人员预警")
def list_warnings(subject: ApiSubject, session: DbSession, params: Paging, kind: WarningKind | None = None,
                  open_only: bool = True) -> Page[CareWarningOut]:
    rows, total = paginate(session, repo.warnings(subject, open_only=open_only, kind=kind), params)
    return Page.of([CareWarningOut.of(w) for w in rows], total, params)


@router.get("/visit-rules", response_model=list[VisitRuleOut], summary="走访计划（各类别、风险等级的走访间隔）")
def list_rules(subject: ApiSubject, session: DbSession) -> list[VisitRuleOut]:
    return [VisitRuleOut(kind=k, risk=r, interval_days=d) for (k, r), d in rules(session).items()]


@router.put("/visit-rules", response_model=list[VisitRuleOut], summary="修改走访间隔（县级管理员）")
def set_rules(body: VisitRulesIn, subject: ApiSubject, session: DbSession) -> list[VisitRuleOut]:
    service.set_rules(session, subject, body)
    return [VisitRuleOut(kind=k, risk=r, interval_days=d) for (k, r), d in rules(session).items()]
