"""The assessment ledger's pages (/assessment), its Excel export, the drill-down to the orders behind a
figure, the weights and the monthly close (admin), and the JSON API (/api/v1/assessment)."""

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from zhili.access import readable
from zhili.assessment import export, ledger
from zhili.assessment.kpi import HOURS_FORMULA, HOURS_LABEL, KPI_BY_KEY, KPIS
from zhili.auth.dependencies import ApiSubject, DbSession, PageSubject, verify_csrf
from zhili.auth.subject import ROLE_LABELS, Subject
from zhili.errors import FieldProblem, Invalid, NotFound
from zhili.idempotency import CommittingRoute
from zhili.kit.i18n import N_, _
from zhili.models import Role, StaffRole, WorkOrder
from zhili.templating import render
from zhili.work_order.workflow import STATUS_LABELS

router = APIRouter(route_class=CommittingRoute, include_in_schema=False)
api = APIRouter(prefix="/api/v1", route_class=CommittingRoute, tags=["assessment"])
CSRF = [Depends(verify_csrf)]
READERS = (Role.admin, Role.dispatcher, Role.command_leader, Role.viewer, Role.department_handler)
DIMENSION_LABELS = {"department": N_("部门"), "town": N_("乡镇街道"), "village": N_("村社区"), "grid": N_("网格"),
                    "person": N_("人员")}
PERSON_ROLES = (Role.hotline_agent, Role.dispatcher, Role.department_handler, Role.grid_worker, Role.grid_chief)

DimensionQ = Annotated[str, Query(max_length=20)]
PeriodQ = Annotated[str | None, Query(max_length=30)]


def _read(session: Session, subject: Subject, dimension: str, period: str | None,
          role: str | None = None) -> ledger.Ledger:
    subject.require(*READERS)
    result = ledger.ledger(session, subject, ledger.parse_dimension(dimension),
                           ledger.parse_period(period) if period else ledger.this_month())
    if role and result.dimension == "person":
        if role not in {r.value for r in PERSON_ROLES}:
            raise Invalid(_("岗位“{r}”无法识别", r=role), [FieldProblem("role", _("岗位无法识别"))])
        holders = {str(i) for i in session.scalars(select(StaffRole.staff_id).where(StaffRole.role == role))}
        result.rows = ledger.rank([r for r in result.rows if r.key in holders], result.weights)
    return result


def _title(subject: Subject, result: ledger.Ledger) -> str:
    return _("{area}{period}{dim}考评排名", area=subject.region_name, period=result.period.label,
             dim=_(DIMENSION_LABELS[result.dimension]))


@router.get("/assessment")
def assessment_page(request: Request, subject: PageSubject, session: DbSession, dimension: DimensionQ = "department",
                    period: PeriodQ = None, role: Annotated[str | None, Query(max_length=30)] = None,
                    closed: Annotated[str | None, Query(max_length=10)] = None) -> Response:
    result = _read(session, subject, dimension, period, role)
    recent = [ledger.this_month()]
    for _i in range(11):
        recent.append(recent[-1].previous())
    kpis = [k for k in KPIS if ledger.applies(k, result.dimension)]
    return render(request, "assessment/ledger.html", {
        "ledger": result, "kpis": kpis, "title": _title(subject, result), "dimension_labels": DIMENSION_LABELS,
        "months": recent, "role": role or "", "person_roles": [(r.value, ROLE_LABELS[r]) for r in PERSON_ROLES],
        "closed": closed, "can_admin": subject.has(Role.admin), "query": _query(result.dimension, result.period.key),
        "all_kpis": KPIS, "hours_label": HOURS_LABEL, "hours_formula": HOURS_FORMULA,
    })


def _query(dimension: str, period: str) -> str:
    return f"dimension={dimension}&period={quote(period)}"


@router.get("/assessment/export.xlsx")
def export_xlsx(subject: PageSubject, session: DbSession, dimension: DimensionQ = "department",
                period: PeriodQ = None, role: Annotated[str | None, Query(max_length=30)] = None) -> Response:
    result = _read(session, subject, dimension, period, role)
    title = _title(subject, result)
    data = export.workbook(result, title, _(DIMENSION_LABELS[result.dimension]))
    name = quote(f"{title}.xlsx")
    return Response(data, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename=assessment.xlsx; filename*=UTF-8''{name}"})


@router.get("/assessment/orders")
def drill_page(request: Request, subject: PageSubject, session: DbSession, kpi: Annotated[str, Query(max_length=30)],
               key: Annotated[str, Query(max_length=15)], part: Literal["numerator", "denominator"] = "numerator",
               dimension: DimensionQ = "department", period: PeriodQ = None) -> Response:
    result = _read(session, subject, dimension, period)
    if kpi not in KPI_BY_KEY:
        raise Invalid(_("指标“{k}”不存在", k=kpi), [FieldProblem("kpi", _("指标不存在"))])
    figure = KPI_BY_KEY[kpi]
    if not ledger.visible(session, subject, result.dimension, [ledger.Row(key=key, name=key, figures={})]):
        raise NotFound(_("考评对象不存在或不在您的管辖范围内"))
    ids = ledger.orders_behind(session, subject, result.dimension, key, result.period, figure, part, result.as_of)
    orders = list(session.scalars(readable(subject, WorkOrder).where(WorkOrder.id.in_(ids))
                                  .order_by(WorkOrder.id.desc()))) if ids else []
    row = next((r for r in result.rows if r.key == key), None)
    return render(request, "assessment/drill.html", {
        "ledger": result, "kpi": figure, "part": part, "orders": orders, "row": row, "key": key,
        "limit": ledger.DRILL_LIMIT, "status_labels": STATUS_LABELS,
        "back": f"/assessment?{_query(result.dimension, result.period.key)}",
        "dimension_label": _(DIMENSION_LABELS[result.dimension]),
    })


@router.post("/assessment/weights", dependencies=CSRF)
async def save_weights(request: Request, subject: PageSubject, session: DbSession) -> Response:
    subject.require(Role.admin)
    form = await request.form()
    values: dict[str, float] = {}
    problems = []
    for k in KPIS:
        raw = str(form.get(f"w_{k.key}", "0")).strip() or "0"
        try:
            values[k.key] = float(raw)
        except ValueError:
            problems.append(FieldProblem(f"w_{k.key}", _("{k} 的权重应为数字", k=_(k.label)), "10"))
    if problems:
        raise Invalid(_("权重应为 0 到 100 之间的数"), problems)
    ledger.set_weights(session, subject, values)
    back = str(form.get("next", "/assessment"))
    return RedirectResponse(back if back.startswith("/assessment") else "/assessment", status_code=303)


@router.post("/assessment/close", dependencies=CSRF)
async def close_period(request: Request, subject: PageSubject, session: DbSession) -> Response:
    subject.require(Role.admin)
    form = await request.form()
    period = ledger.parse_period(str(form.get("period", "")))
    ledger.close_month(session, period, subject.display_name)
    return RedirectResponse(f"/assessment?period={period.key}&closed=1", status_code=303)


# The JSON API -------------------------------------------------------------------------------------


@api.get("/assessment")
def assessment_api(subject: ApiSubject, session: DbSession, dimension: DimensionQ = "department",
                   period: PeriodQ = None) -> dict[str, Any]:
    """The ledger of a period (month 2026-10, quarter 2026-Q4, year 2026, or 2026-10-01~2026-10-15) for one
    dimension (department, town, village, grid, person): every KPI's numerator, denominator and rate per
    row, the composite score, the rank and its change since the previous period."""
    result = _read(session, subject, dimension, period)
    return {
        "period": result.period.key, "dimension": result.dimension, "as_of": result.as_of.isoformat(),
        "closed": result.snapshot is not None, "weights": result.weights,
        "kpis": [{"key": k.key, "label": _(k.label), "formula": _(k.formula), "higher_is_better": k.higher_is_better}
                 for k in KPIS if ledger.applies(k, result.dimension)],
        "rows": [{"key": r.key, "name": r.name, "rank": r.rank, "change": r.change, "score": r.score,
                  "handling_hours": r.hours,
                  "figures": {k: {"numerator": f.numerator, "denominator": f.denominator, "rate": f.rate}
                              for k, f in r.figures.items()}} for r in result.rows],
    }
