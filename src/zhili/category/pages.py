"""Admin pages for the category tree with its deadlines, the responsibility list (派单目录) with the routing
preview, and the working calendar.

Thin like the jurisdiction pages: reads start from the repositories' scoped statements, writes call the
same service functions as the JSON API with the form fields validated by the API's schemas.
"""

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from zhili.access import can_see_region
from zhili.auth.dependencies import DbSession, PageSubject, verify_csrf
from zhili.auth.subject import Subject
from zhili.category import attributes, service
from zhili.category import calendar as work_calendar
from zhili.category import repository as repo
from zhili.category.calendar import OverrideIn
from zhili.category.schemas import (
    AttributeCreate,
    AttributeIn,
    CategoryCreate,
    CategoryUpdate,
    DeadlineIn,
    RuleCreate,
    RuleUpdate,
)
from zhili.config import get_settings
from zhili.errors import AppError, FieldProblem
from zhili.idempotency import CommittingRoute
from zhili.jurisdiction import repository as jrepo
from zhili.kit.calendar import WorkingCalendar, parse_periods
from zhili.kit.codes import RegionLevel
from zhili.kit.i18n import _
from zhili.kit.pagination import PageParams, paginate
from zhili.models import AttributeType, Category, CategoryKind, Region, Role, Stage, Urgency
from zhili.templating import done, form_model, is_fragment, render

router = APIRouter(route_class=CommittingRoute, prefix="/admin", include_in_schema=False)

Paging = Annotated[PageParams, Depends()]
Search = Annotated[str | None, Query(max_length=100)]
CodeFilter = Annotated[str | None, Query(pattern=r"^(\d{12})?$")]
CategoryFilter = Annotated[str | None, Query(max_length=30)]
Choice = Annotated[str | None, Query(max_length=30)]
CSRF = [Depends(verify_csrf)]
MAX_CHOICES = 2000
# The deadline grid, row by row: what the form's `limits` fields are, in order.
CELLS = [(u, s) for u in Urgency for s in Stage]


def _yes_no(value: str | None) -> bool | None:
    return {"true": True, "false": False}.get(value or "")


def _is_admin(subject: Subject) -> bool:
    return subject.has(Role.admin)


def _edits_catalogue(subject: Subject) -> bool:
    """Whether to show the catalogue's write controls; service.require_catalogue_admin decides either way."""
    return _is_admin(subject) and subject.region_level in (RegionLevel.city, RegionLevel.county)


def _problems(exc: RequestValidationError) -> list[FieldProblem]:
    from zhili.app import validation_problems  # the one place pydantic's messages are translated

    return validation_problems(exc)


# Categories ------------------------------------------------------------------------------------


def _category_items(session: Session, rows: list[Category]) -> list[dict[str, Any]]:
    outs = service.category_outs(session, rows)
    items = []
    for row, out in zip(rows, outs, strict=True):
        handle = next((d for d in service.effective_deadlines(session, row)
                       if d.urgency == Urgency.normal and d.stage == Stage.handle), None)
        items.append({"c": out, "handle": handle})
    return items


def _path(session: Session, subject: Subject, codes: list[str]) -> list[Category]:
    return [repo.category(session, subject, code) for code in codes]


@router.get("/categories")
def categories_page(request: Request, subject: PageSubject, session: DbSession, params: Paging,
                    code: CategoryFilter = None, q: Search = None) -> Response:
    """The tree as a drill-down: the children of `code` (the roots without it), or a search of the whole tree."""
    current = repo.category(session, subject, code) if code else None
    searching = bool(q and q.strip())
    if searching:
        stmt = repo.categories(subject, q=q)
    elif current is not None:
        stmt = repo.categories(subject, parent_code=current.code)
    else:
        stmt = repo.categories(subject, roots_only=True)
    rows, total = paginate(session, stmt, params)
    ctx: dict[str, Any] = {"current": current, "items": _category_items(session, rows), "total": total,
                           "params": params, "q": q or "", "searching": searching,
                           "can_edit": _edits_catalogue(subject)}
    if is_fragment(request):
        return render(request, "category/_category_table.html", ctx)
    ctx["path"] = _path(session, subject, service.category_detail(session, current).path) if current else []
    ctx["departments"] = _departments(session, subject)
    ctx["detail"] = service.category_detail(session, current) if current else None
    return render(request, "category/categories.html", ctx)


def _departments(session: Session, subject: Subject) -> list[Any]:
    return list(session.scalars(jrepo.departments(subject, active=True).limit(MAX_CHOICES)))


@router.post("/categories", dependencies=CSRF)
def create_category(
    request: Request, subject: PageSubject, session: DbSession,
    parent_code: Annotated[str, Form(max_length=30)] = "", code: Annotated[str, Form(max_length=30)] = "",
    name: Annotated[str, Form(max_length=100)] = "", kind: Annotated[str, Form(max_length=20)] = "",
    default_department_code: Annotated[str, Form(max_length=32)] = "",
    public: Annotated[str, Form(max_length=5)] = "true",
) -> Response:
    data = form_model(CategoryCreate, {
        "parent_code": parent_code or None, "code": code, "name": name, "kind": kind or CategoryKind.appeal,
        "default_department_code": default_department_code or None, "public": public})
    category = service.create_category(session, subject, data)
    return done(request, f"/admin/categories/{category.code}", "category/_created.html",
                {"message": _("已新建分类：{n}（{c}）", n=category.name, c=category.code),
                 "href": f"/admin/categories/{category.code}", "link": _("打开并设置时限")},
                trigger="categories-changed")


def _category_form(session: Session, subject: Subject, category: Category,
                   values: dict[tuple[Urgency, Stage], str] | None = None) -> dict[str, Any]:
    detail = service.category_detail(session, category)
    effective = {(d.urgency, d.stage): d for d in detail.deadlines}
    # What each cell would inherit if left empty: the parent's effective deadlines.
    inherited = ({(d.urgency, d.stage): d for d in service.effective_deadlines(session, category.parent)}
                 if category.parent is not None else {})
    own = {k: d.limit for k, d in effective.items() if d.inherited_from is None}
    return {"category": detail, "effective": effective, "inherited": inherited,
            "values": values if values is not None else own, "cell_errors": {},
            "departments": _departments(session, subject), "can_edit": _edits_catalogue(subject),
            "urgencies": list(Urgency), "stages": list(Stage)}


@router.get("/categories/{category_code}")
def category_page(request: Request, category_code: str, subject: PageSubject, session: DbSession) -> Response:
    category = repo.category(session, subject, category_code)
    ctx = _category_form(session, subject, category)
    ctx["path"] = _path(session, subject, ctx["category"].path)
    ctx["children"] = service.category_outs(session, list(session.scalars(
        repo.categories(subject, parent_code=category.code).limit(MAX_CHOICES))))
    ctx.update(_attributes_ctx(session, category))
    return render(request, "category/category.html", ctx)


@router.post("/categories/{category_code}", dependencies=CSRF)
def update_category(
    request: Request, category_code: str, subject: PageSubject, session: DbSession,
    name: Annotated[str, Form(max_length=100)] = "", description: Annotated[str, Form(max_length=2000)] = "",
    default_department_code: Annotated[str, Form(max_length=32)] = "",
    public: Annotated[str, Form(max_length=5)] = "true", active: Annotated[str, Form(max_length=5)] = "true",
    limits: Annotated[list[str], Form(max_length=len(CELLS))] = [],  # noqa: B006 (FastAPI copies defaults)
) -> Response:
    """Saves the panel. Every refusal comes back as the same form with the problem beside its field, so the
    deadline grid keeps what was typed; a cell left empty inherits from the parent."""
    category = repo.category(session, subject, category_code)
    values = dict(zip(CELLS, [v.strip() for v in limits], strict=False)) if limits else None
    cell_errors = {cell: problem for cell, text in (values or {}).items()
                   if text and (problem := service.check_limit(text))}
    error, problems, status = "", [], 422
    if cell_errors:
        error = _("有 {n} 个时限无法识别，请按提示更正（未保存）").format(n=len(cell_errors))
    else:
        deadlines = None if values is None else [
            DeadlineIn(urgency=u, stage=s, limit=text) for (u, s), text in values.items() if text]
        try:
            data = form_model(CategoryUpdate, {
                "name": name, "description": description, "public": public, "active": active,
                "default_department_code": default_department_code or None, "deadlines": deadlines})
            category = service.update_category(session, subject, category_code, data)
        except RequestValidationError as exc:
            problems = _problems(exc)
            error = _("请更正以下问题")
        except AppError as exc:
            session.rollback()
            error, problems, status = exc.message, exc.problems, exc.status_code
            category = repo.category(session, subject, category_code)
    if error:
        ctx = _category_form(session, subject, category, values)
        ctx.update(cell_errors=cell_errors, error=error, problems=problems,
                   form={"name": name, "description": description})
        if is_fragment(request):
            return render(request, "category/_category_form.html", ctx, status_code=status)
        ctx["path"] = _path(session, subject, ctx["category"].path)
        ctx["children"] = []
        ctx.update(_attributes_ctx(session, category))
        return render(request, "category/category.html", ctx, status_code=status)
    ctx = _category_form(session, subject, category)
    ctx["saved"] = _("已保存分类：{n}", n=category.name)
    return done(request, f"/admin/categories/{category.code}", "category/_category_form.html", ctx)


# Service attributes of a leaf (its Open311 service definition) ---------------------------------


class AttributeForm(BaseModel):
    """The attribute form as typed; the API's schemas (AttributeCreate, AttributeIn) validate it."""

    code: str = Field("", max_length=200)
    datatype: str = Field("", max_length=30)
    variable: str = Field("true", max_length=5)
    required: str = Field("", max_length=5)
    description: str = Field("", max_length=2000)
    datatype_description: str = Field("", max_length=2000)
    values: str = Field("", max_length=20000)
    order: str = Field("", max_length=6)

    def fields(self) -> dict[str, Any]:
        return {"datatype": self.datatype, "variable": self.variable, "required": self.required or "false",
                "description": self.description, "datatype_description": self.datatype_description,
                "values": self.options(), "order": self.order.strip() or None}

    def options(self) -> list[dict[str, str]]:
        """One option a line, "key=名称"; a line without "=" is its own key and name."""
        options = []
        for line in self.values.splitlines():
            if line.strip():
                key, _sep, name = line.partition("=")
                options.append({"key": key.strip(), "name": (name or key).strip()})
        return options


AttributeFields = Annotated[AttributeForm, Form()]


def _attributes_ctx(session: Session, category: Category) -> dict[str, Any]:
    return {"attributes": [attributes.attribute_out(a) for a in attributes.attributes_of(session, category)],
            "datatypes": list(AttributeType)}


def _attribute_change(request: Request, session: Session, subject: Subject, category_code: str,
                      write: Callable[[], str], form: AttributeForm | None = None,
                      editing: str | None = None) -> Response:
    """Runs one change of the definition and answers with the attributes section; a refusal comes back
    in the section, beside the form that was sent and with what was typed."""
    try:
        saved = write()
    except (AppError, RequestValidationError) as exc:
        session.rollback()
        category = repo.category(session, subject, category_code)
        ctx = _category_form(session, subject, category)
        ctx.update(_attributes_ctx(session, category), attribute_form=form, editing=editing)
        if isinstance(exc, AppError):
            ctx.update(attribute_error=exc.message, attribute_problems=exc.problems)
            status = exc.status_code
        else:
            ctx.update(attribute_error=_("请更正以下问题"), attribute_problems=_problems(exc))
            status = 422
        if is_fragment(request):
            return render(request, "category/_attributes.html", ctx, status_code=status)
        ctx.update(path=_path(session, subject, ctx["category"].path), children=[])
        return render(request, "category/category.html", ctx, status_code=status)
    category = repo.category(session, subject, category_code)
    ctx = _category_form(session, subject, category)
    ctx.update(_attributes_ctx(session, category), attribute_saved=saved)
    return done(request, f"/admin/categories/{category.code}#attributes", "category/_attributes.html", ctx)


@router.post("/categories/{category_code}/attributes", dependencies=CSRF)
def create_attribute(request: Request, category_code: str, subject: PageSubject, session: DbSession,
                     form: AttributeFields) -> Response:
    def write() -> str:
        data = form_model(AttributeCreate, {"code": form.code, **form.fields()})
        return _("已新增属性 {a}", a=attributes.create_attribute(session, subject, category_code, data).code)

    return _attribute_change(request, session, subject, category_code, write, form)


@router.post("/categories/{category_code}/attributes/{attribute_code}", dependencies=CSRF)
def update_attribute(request: Request, category_code: str, attribute_code: str, subject: PageSubject,
                     session: DbSession, form: AttributeFields) -> Response:
    def write() -> str:
        data = form_model(AttributeIn, form.fields())
        return _("已保存属性 {a}", a=attributes.update_attribute(session, subject, category_code, attribute_code,
                                                               data).code)

    return _attribute_change(request, session, subject, category_code, write, form, editing=attribute_code)


@router.post("/categories/{category_code}/attributes/{attribute_code}/move", dependencies=CSRF)
def move_attribute(request: Request, category_code: str, attribute_code: str, subject: PageSubject,
                   session: DbSession, position: Annotated[int, Form(ge=1, le=1000)] = 1) -> Response:
    def write() -> str:
        moved = attributes.move_attribute(session, subject, category_code, attribute_code, position)
        return _("已将属性 {a} 移到第 {n} 位", a=moved.code, n=moved.order)

    return _attribute_change(request, session, subject, category_code, write)


@router.post("/categories/{category_code}/attributes/{attribute_code}/delete", dependencies=CSRF)
def delete_attribute(request: Request, category_code: str, attribute_code: str, subject: PageSubject,
                     session: DbSession) -> Response:
    def write() -> str:
        attributes.delete_attribute(session, subject, category_code, attribute_code)
        return _("已删除属性 {a}", a=attribute_code)

    return _attribute_change(request, session, subject, category_code, write)


# Responsibility rules --------------------------------------------------------------------------


def _rule_choices(session: Session, subject: Subject) -> dict[str, Any]:
    regions = list(session.scalars(jrepo.regions(subject).limit(MAX_CHOICES)))
    return {
        "regions": regions,
        "rule_regions": [r for r in regions if r.level != RegionLevel.village],
        "departments": _departments(session, subject),
        "leaf_categories": service.category_outs(session, list(session.scalars(
            repo.categories(subject, active=True).limit(MAX_CHOICES)))),
    }


@router.get("/rules")
def rules_page(
    request: Request, subject: PageSubject, session: DbSession, params: Paging,
    category_code: CategoryFilter = None, region_code: CodeFilter = None, department_id: Choice = None,
    active: Choice = None,
) -> Response:
    dept_id = int(department_id) if department_id and department_id.isdigit() else None
    stmt = repo.rules(subject, category_code=(category_code or "").strip() or None, region_code=region_code or None,
                      department_id=dept_id, active=_yes_no(active))
    rows, total = paginate(session, stmt, params)
    ctx: dict[str, Any] = {
        "items": [service.rule_out(r) for r in rows], "total": total, "params": params,
        "manageable": {r.id for r in rows if _is_admin(subject) and service.can_manage_rule(subject, r)},
        "filters": {"category_code": category_code or "", "region_code": region_code or "",
                    "department_id": dept_id or "", "active": active if _yes_no(active) is not None else ""},
    }
    if is_fragment(request):
        return render(request, "category/_rule_table.html", ctx)
    ctx.update(_rule_choices(session, subject), can_manage=_is_admin(subject), urgencies=list(Urgency))
    return render(request, "category/rules.html", ctx)


@router.get("/rules/preview")
def rule_preview(request: Request, subject: PageSubject, session: DbSession,
                 category_code: CategoryFilter = None, region_code: CodeFilter = None,
                 urgency: Choice = None) -> Response:
    """这条诉求会派给谁: the same routing an appeal gets, for a category, a place and an urgency."""
    level = Urgency(urgency) if urgency in {u.value for u in Urgency} else Urgency.normal
    code = (category_code or "").strip()
    routing = service.preview(session, subject, code, region_code, level) if code and region_code else None
    return render(request, "category/_rule_preview.html", {"routing": routing, "stages": list(Stage)})


@router.post("/rules", dependencies=CSRF)
def create_rule(
    request: Request, subject: PageSubject, session: DbSession,
    category_code: Annotated[str, Form(max_length=30)] = "", region_code: Annotated[str, Form(max_length=12)] = "",
    lead_department_code: Annotated[str, Form(max_length=32)] = "",
    assist_department_codes: Annotated[list[str], Form(max_length=20)] = [],  # noqa: B006
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    data = form_model(RuleCreate, {"category_code": category_code.strip(), "region_code": region_code,
                                   "lead_department_code": lead_department_code,
                                   "assist_department_codes": [c for c in assist_department_codes if c],
                                   "note": note})
    rule = service.create_rule(session, subject, data)
    return done(request, f"/admin/rules/{rule.id}", "category/_created.html",
                {"message": _("已新建派单规则 #{id}：{r} · {c} → {d}", id=rule.id, r=rule.region.name,
                              c=rule.category.name, d=rule.lead_department.name),
                 "href": f"/admin/rules/{rule.id}", "link": _("查看")}, trigger="rules-changed")


def _rule_form(session: Session, subject: Subject, rule_id: int) -> dict[str, Any]:
    rule = repo.rule(session, subject, rule_id)
    return {"rule": service.rule_out(rule), "departments": _departments(session, subject),
            "can_manage": _is_admin(subject) and service.can_manage_rule(subject, rule)}


@router.get("/rules/{rule_id}")
def rule_page(request: Request, rule_id: int, subject: PageSubject, session: DbSession) -> Response:
    return render(request, "category/rule.html", _rule_form(session, subject, rule_id))


@router.post("/rules/{rule_id}", dependencies=CSRF)
def update_rule(
    request: Request, rule_id: int, subject: PageSubject, session: DbSession,
    lead_department_code: Annotated[str, Form(max_length=32)] = "",
    assist_department_codes: Annotated[list[str], Form(max_length=20)] = [],  # noqa: B006
    note: Annotated[str, Form(max_length=500)] = "", active: Annotated[str, Form(max_length=5)] = "true",
) -> Response:
    data = form_model(RuleUpdate, {"lead_department_code": lead_department_code or None,
                                   "assist_department_codes": [c for c in assist_department_codes if c],
                                   "note": note, "active": active})
    rule = service.update_rule(session, subject, rule_id, data)
    ctx = _rule_form(session, subject, rule.id)
    ctx["saved"] = _("已保存派单规则 #{id}", id=rule.id)
    return done(request, f"/admin/rules/{rule.id}", "category/_rule_form.html", ctx, trigger="rules-changed")


# Working calendar ------------------------------------------------------------------------------

Year = Annotated[int | None, Query(ge=work_calendar.FIRST_YEAR, le=work_calendar.LAST_YEAR)]


def _calendar_region(session: Session, subject: Subject, region_code: str | None) -> Region:
    return jrepo.region(session, subject, region_code or subject.region_code)


def _working_hours() -> dict[str, Any]:
    text = get_settings().working_hours
    try:
        periods = parse_periods(text)
    except ValueError:
        return {"text": text, "periods": [], "hours": None}
    hours = WorkingCalendar(periods=periods).day_seconds / 3600
    return {"text": text, "periods": [(a.strftime("%H:%M"), b.strftime("%H:%M")) for a, b in periods],
            "hours": int(hours) if hours.is_integer() else round(hours, 2)}


def _calendar_ctx(session: Session, subject: Subject, region: Region, year: int) -> dict[str, Any]:
    overrides = work_calendar.list_overrides(session, subject, region.code, year)
    return {"region": region, "year": year, "overrides": overrides,
            "months": work_calendar.year_grid(year, overrides), "covered": work_calendar.year_covered(year),
            "can_manage": _is_admin(subject) and can_see_region(subject, region.code), "today": date.today()}


@router.get("/calendar")
def calendar_page(request: Request, subject: PageSubject, session: DbSession, year: Year = None,
                  region_code: CodeFilter = None) -> Response:
    region = _calendar_region(session, subject, region_code)
    ctx = _calendar_ctx(session, subject, region, year or work_calendar.this_year())
    ctx.update(hours=_working_hours(), regions=[r for r in session.scalars(jrepo.regions(subject).limit(MAX_CHOICES))
                                                if r.level != RegionLevel.village])
    return render(request, "category/calendar.html", ctx)


def _day_ctx(session: Session, subject: Subject, region: Region, day: date) -> dict[str, Any]:
    ctx = _calendar_ctx(session, subject, region, day.year)
    override = next((o for o in ctx["overrides"] if o.day == day), None)
    ctx["cell"] = work_calendar.day_cell(day, override)
    return ctx


@router.get("/calendar/day")
def calendar_day(request: Request, subject: PageSubject, session: DbSession,
                 day: Annotated[date | None, Query()] = None, region_code: CodeFilter = None) -> Response:
    """The side panel of one day: what the national schedule says, what applies here, and the form."""
    region = _calendar_region(session, subject, region_code)
    return render(request, "category/_calendar_day.html", _day_ctx(session, subject, region, day or date.today()))


def _calendar_changed(request: Request, session: Session, subject: Subject, region_code: str, day: date,
                      message: str) -> Response:
    region = _calendar_region(session, subject, region_code)
    ctx = _day_ctx(session, subject, region, day)
    ctx.update(saved=message, oob=True)
    return done(request, f"/admin/calendar?year={day.year}&region_code={region.code}",
                "category/_calendar_day.html", ctx)


@router.post("/calendar", dependencies=CSRF)
def set_calendar_day(
    request: Request, subject: PageSubject, session: DbSession,
    region_code: Annotated[str, Form(max_length=12)] = "", day: Annotated[str, Form(max_length=10)] = "",
    is_workday: Annotated[str, Form(max_length=5)] = "", note: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    data = form_model(OverrideIn, {"region_code": region_code, "day": day, "is_workday": is_workday,
                                   "note": note})
    out = work_calendar.set_override(session, subject, data)
    what = _("工作日") if out.is_workday else _("休息日")
    return _calendar_changed(request, session, subject, out.region_code, out.day,
                             _("已将 {d} 设为{w}", d=out.day.isoformat(), w=what))


@router.post("/calendar/delete", dependencies=CSRF)
def clear_calendar_day(
    request: Request, subject: PageSubject, session: DbSession,
    region_code: Annotated[str, Form(max_length=12)] = "", day: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    data = form_model(OverrideIn, {"region_code": region_code, "day": day, "is_workday": True})
    work_calendar.delete_override(session, subject, data.region_code, data.day)
    return _calendar_changed(request, session, subject, data.region_code, data.day,
                             _("已清除 {d} 的本级设置，恢复全国安排", d=data.day.isoformat()))
