"""JSON API for categories, responsibility rules, the routing preview and the working calendar."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from zhili.auth.dependencies import ApiSubject, DbSession
from zhili.category import attributes, service
from zhili.category import calendar as work_calendar
from zhili.category import repository as repo
from zhili.category.calendar import OverrideIn, OverrideOut
from zhili.category.schemas import (
    AttributeCreate,
    AttributeIn,
    AttributeOut,
    CategoryCreate,
    CategoryDetail,
    CategoryOut,
    CategoryUpdate,
    RoutingOut,
    RuleCreate,
    RuleOut,
    RuleUpdate,
)
from zhili.idempotency import CommittingRoute
from zhili.kit.pagination import Page, PageParams, paginate
from zhili.models import CategoryKind, Urgency

router = APIRouter(route_class=CommittingRoute, prefix="/api/v1", tags=["category"])
Paging = Annotated[PageParams, Depends()]
CodeFilter = Annotated[str | None, Query(pattern=r"^\d{1,12}$")]
CategoryCode = Annotated[str | None, Query(max_length=30)]


@router.get("/categories", response_model=Page[CategoryOut])
def list_categories(
    subject: ApiSubject, session: DbSession, params: Paging, parent_code: CategoryCode = None,
    kind: CategoryKind | None = None, active: bool | None = None, leaves_only: bool = False,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> Page[CategoryOut]:
    stmt = repo.categories(subject, parent_code=parent_code, kind=kind, active=active, q=q, leaves_only=leaves_only)
    rows, total = paginate(session, stmt, params)
    return Page.of(service.category_outs(session, rows), total, params)


@router.post("/categories", response_model=CategoryDetail, status_code=201)
def create_category(body: CategoryCreate, subject: ApiSubject, session: DbSession) -> CategoryDetail:
    return service.category_detail(session, service.create_category(session, subject, body))


@router.get("/categories/{category_code}", response_model=CategoryDetail)
def get_category(category_code: str, subject: ApiSubject, session: DbSession) -> CategoryDetail:
    return service.category_detail(session, repo.category(session, subject, category_code))


@router.patch("/categories/{category_code}", response_model=CategoryDetail)
def update_category(category_code: str, body: CategoryUpdate, subject: ApiSubject,
                    session: DbSession) -> CategoryDetail:
    return service.category_detail(session, service.update_category(session, subject, category_code, body))


# Service attributes: what a leaf asks outside channels for (its Open311 service definition) ------------


@router.get("/categories/{category_code}/attributes", response_model=list[AttributeOut],
            summary="分类的属性（Open311 服务定义）")
def list_attributes(category_code: str, subject: ApiSubject, session: DbSession) -> list[AttributeOut]:
    """Readable by every account, like the category tree; the same definition is public in Open311."""
    return [attributes.attribute_out(a) for a in attributes.definition(session, subject, category_code)]


@router.post("/categories/{category_code}/attributes", response_model=AttributeOut, status_code=201)
def create_attribute(category_code: str, body: AttributeCreate, subject: ApiSubject,
                     session: DbSession) -> AttributeOut:
    return attributes.attribute_out(attributes.create_attribute(session, subject, category_code, body))


@router.put("/categories/{category_code}/attributes/{attribute_code}", response_model=AttributeOut)
def update_attribute(category_code: str, attribute_code: str, body: AttributeIn, subject: ApiSubject,
                     session: DbSession) -> AttributeOut:
    """Replaces the attribute; `order` moves it (1 first), left out it keeps its place."""
    return attributes.attribute_out(attributes.update_attribute(session, subject, category_code, attribute_code,
                                                                body))


@router.delete("/categories/{category_code}/attributes/{attribute_code}", status_code=204)
def delete_attribute(category_code: str, attribute_code: str, subject: ApiSubject, session: DbSession) -> Response:
    attributes.delete_attribute(session, subject, category_code, attribute_code)
    return Response(status_code=204)


@router.get("/responsibility-rules", response_model=Page[RuleOut])
def list_rules(
    subject: ApiSubject, session: DbSession, params: Paging, category_code: CategoryCode = None,
    region_code: CodeFilter = None, department_id: int | None = None, active: bool | None = None,
) -> Page[RuleOut]:
    stmt = repo.rules(subject, category_code=category_code, region_code=region_code, department_id=department_id,
                      active=active)
    rows, total = paginate(session, stmt, params)
    return Page.of([service.rule_out(r) for r in rows], total, params)


@router.post("/responsibility-rules", response_model=RuleOut, status_code=201)
def create_rule(body: RuleCreate, subject: ApiSubject, session: DbSession) -> RuleOut:
    return service.rule_out(service.create_rule(session, subject, body))


@router.get("/responsibility-rules/{rule_id}", response_model=RuleOut)
def get_rule(rule_id: int, subject: ApiSubject, session: DbSession) -> RuleOut:
    return service.rule_out(repo.rule(session, subject, rule_id))


@router.patch("/responsibility-rules/{rule_id}", response_model=RuleOut)
def update_rule(rule_id: int, body: RuleUpdate, subject: ApiSubject, session: DbSession) -> RuleOut:
    return service.rule_out(service.update_rule(session, subject, rule_id, body))


@router.get("/routing/preview", response_model=RoutingOut, summary="这条诉求会派给谁")
def routing_preview(
    subject: ApiSubject, session: DbSession,
    category_code: Annotated[str, Query(max_length=30)],
    region_code: Annotated[str, Query(pattern=r"^\d{12}$")],
    urgency: Urgency = Urgency.normal,
) -> RoutingOut:
    return service.preview(session, subject, category_code, region_code, urgency)


# Working-calendar overrides ---------------------------------------------------------------------
# Query and body parameters only: a region's day is addressed by (region_code, day), never by row id.


Year = Annotated[int | None, Query(ge=work_calendar.FIRST_YEAR, le=work_calendar.LAST_YEAR)]


@router.get("/calendar-overrides", response_model=list[OverrideOut], summary="本区划某年的工作日历调整")
def list_calendar_overrides(subject: ApiSubject, session: DbSession, region_code: CodeFilter = None,
                            year: Year = None) -> list[OverrideOut]:
    """The days that differ from the national schedule for the region (its own and its ancestors')."""
    return work_calendar.list_overrides(session, subject, region_code or subject.region_code,
                                        year or work_calendar.this_year())


@router.put("/calendar-overrides", response_model=OverrideOut)
def set_calendar_override(body: OverrideIn, subject: ApiSubject, session: DbSession) -> OverrideOut:
    return work_calendar.set_override(session, subject, body)


@router.delete("/calendar-overrides", status_code=204)
def delete_calendar_override(subject: ApiSubject, session: DbSession,
                             region_code: Annotated[str, Query(pattern=r"^\d{12}$")], day: date) -> Response:
    work_calendar.delete_override(session, subject, region_code, day)
    return Response(status_code=204)
