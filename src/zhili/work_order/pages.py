"""Pages of the closed loop for staff: the hotline desk, the dispatcher's queue, the order page, the
department inbox, the grid worker's phone page and the leader's overview.

Thin like the admin pages: reads come from work_order.repository (every one built on `readable`),
every move goes through `service.act` (the same function as the JSON API), and forms are validated by
the API's own schemas. A form may say which screen it came from (`back`): the order page gets its body
re-rendered, a list screen gets a one-line confirmation and an `orders-changed` event its lists reload on.
"""

from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from zhili.auth.dependencies import DbSession, PageSubject, verify_csrf
from zhili.auth.subject import Subject
from zhili.category import repository as crepo
from zhili.dispatch import service as smart
from zhili.errors import AppError, FieldProblem, Invalid
from zhili.idempotency import CommittingRoute
from zhili.jurisdiction import repository as jrepo
from zhili.kit.i18n import _
from zhili.kit.pagination import PageParams, paginate
from zhili.kit.time import now
from zhili.models import AssignmentRole, AssignmentState, Channel, Role, Urgency, WorkOrder
from zhili.templating import form_model, is_fragment, local_time, render
from zhili.work_order import repository as repo
from zhili.work_order import service
from zhili.work_order.schemas import ActionIn, AppealCreate, WorkOrderOut
from zhili.work_order.workflow import (
    ACTION_LABELS,
    INPUT_LABELS,
    MOVES,
    OPEN,
    RATING_LABELS,
    STATUS_LABELS,
    Action,
    AnyOf,
    Input,
    Status,
)

router = APIRouter(route_class=CommittingRoute, include_in_schema=False)

Paging = Annotated[PageParams, Depends()]
CSRF = [Depends(verify_csrf)]
Search = Annotated[str | None, Query(max_length=100)]
Choice = Annotated[str | None, Query(max_length=30)]
CodeFilter = Annotated[str | None, Query(pattern=r"^(\d{12})?$")]
Text = Annotated[str, Form(max_length=5000)]
Short = Annotated[str, Form(max_length=200)]
PhotoKeys = Annotated[str, Form(max_length=2000)]  # comma-separated upload keys
MAX_CHOICES = 2000
# Colour counts and the overview read at most this many open orders (a county's open desk fits well inside).
MAX_OPEN = 5000
OPEN_VALUES = [s.value for s in Status if s in OPEN]

# Inputs offered beside the ones a move needs.
OPTIONAL: dict[Action, tuple[Input, ...]] = {
    Action.dispatch: (Input.category, Input.assisting),
    Action.report: (Input.photos,),
    Action.self_handle: (Input.photos,),
    Action.callback: (Input.comment,),
    Action.answer: (),
}
# How each action's button looks: the loop's forward moves, the refusals, and the side actions.
FORWARD = {Action.dispatch, Action.sign, Action.report, Action.verify_pass, Action.callback, Action.answer,
           Action.self_handle, Action.close, Action.approve_extension, Action.accept_return, Action.resume}
REFUSAL = {Action.cancel, Action.return_, Action.verify_fail, Action.reject_return, Action.reject_extension,
           Action.close_dissatisfied, Action.recall, Action.merge}
BACKS = ("order", "hotline", "inbox", "grid", "orders")


# Shared pieces ---------------------------------------------------------------------------------


def _departments(session: Session, subject: Subject) -> list[Any]:
    return list(session.scalars(jrepo.departments(subject, active=True).limit(MAX_CHOICES)))


def _categories(session: Session, subject: Subject) -> list[Any]:
    return list(session.scalars(crepo.categories(subject, leaves_only=True, active=True).limit(MAX_CHOICES)))


def _outs(session: Session, rows: list[WorkOrder]) -> list[WorkOrderOut]:
    at = now()
    return [service.order_out(session, o, at) for o in rows]


def _list(session: Session, stmt: Any, limit: int = 100) -> list[WorkOrderOut]:
    return _outs(session, list(session.scalars(stmt.limit(limit)).unique()))


def _fields(action: Action) -> list[dict[str, Any]]:
    """The inputs of an action's form: exactly what its move needs (required), then the optional extras."""
    fields: list[dict[str, Any]] = []
    for need in MOVES[action].needs:
        if isinstance(need, AnyOf):
            fields.extend({"name": n.value, "label": _(INPUT_LABELS[n]), "required": False, "any_of": True}
                          for n in need.names)
        else:
            fields.append({"name": need.value, "label": _(INPUT_LABELS[need]), "required": True, "any_of": False})
    fields.extend({"name": n.value, "label": _(INPUT_LABELS[n]), "required": False, "any_of": False}
                  for n in OPTIONAL.get(action, ()))
    return fields


def _action_forms(actions: list[str]) -> list[dict[str, Any]]:
    forms = []
    for value in actions:
        action = Action(value)
        style = "primary" if action in FORWARD else "outline-danger" if action in REFUSAL else "outline-secondary"
        forms.append({"action": value, "label": _(ACTION_LABELS[action]), "fields": _fields(action), "style": style})
    return forms


def _ctx_labels() -> dict[str, Any]:
    return {"status_labels": {s.value: _(label) for s, label in STATUS_LABELS.items()},
            "rating_labels": [(int(r), _(label)) for r, label in RATING_LABELS.items()],
            "action_labels": {a.value: _(label) for a, label in ACTION_LABELS.items()},
            "fields_of": {a.value: _fields(a) for a in Action}}


def _local_dt(value: str) -> str | None:
    """<input type=datetime-local> sends a wall-clock time; it is Beijing time unless it says otherwise."""
    value = value.strip()
    if not value:
        return None
    if len(value) == 16 and "T" in value:
        return value + ":00+08:00"
    return value


def _number(value: str) -> str | None:
    return value.strip() or None


# The order page and every move -----------------------------------------------------------------


def _order_ctx(session: Session, subject: Subject, order: WorkOrder) -> dict[str, Any]:
    detail = service.order_detail(session, subject, order)
    needs = {f["name"] for a in detail.allowed_actions for f in _fields(Action(a))}
    wants_departments = needs & {"department", "assisting", "departments"}
    return {"o": detail, "forms": _action_forms(detail.allowed_actions),
            "dept_names": {a.department.code: a.department.name for a in detail.assignments},
            "departments": _departments(session, subject) if wants_departments else [],
            "categories": _categories(session, subject) if "category" in needs else [],
            "smart": smart.order_view(session, subject, order), **_ctx_labels()}


@router.get("/orders/{order_id}")
def order_page(request: Request, order_id: int, subject: PageSubject, session: DbSession) -> Response:
    order = repo.order(session, subject, order_id)
    template = "work_order/_order.html" if is_fragment(request) else "work_order/order.html"
    return render(request, template, _order_ctx(session, subject, order))


@router.post("/orders/{order_id}/act/{action}", dependencies=CSRF)
def act(
    request: Request, order_id: int, action: Action, subject: PageSubject, session: DbSession,
    reason: Text = "", department: Short = "", category: Short = "", comment: Text = "", target: Short = "",
    report: Text = "", answer: Text = "", rating: Short = "", due_at: Short = "", extra: Short = "",
    response_due: Short = "", photos: PhotoKeys = "", expected_version: Short = "", back: Short = "order",
    assisting: Annotated[list[str], Form(max_length=20)] = [],  # noqa: B006 (FastAPI copies defaults)
    departments: Annotated[list[str], Form(max_length=20)] = [],  # noqa: B006
) -> Response:
    data = form_model(ActionIn, {
        "reason": reason, "department": department or None, "category": category.strip() or None,
        "comment": comment, "target": target.strip() or None,
        "report": report, "answer": answer, "rating": _number(rating), "due_at": _local_dt(due_at),
        "extra": extra.strip() or None, "response_due": _local_dt(response_due),
        "photos": _keys(photos),
        "assisting": [c for c in assisting if c], "departments": [c for c in departments if c],
        "expected_version": expected_version if expected_version.strip().isdigit() else None,
    })
    order = service.act(session, subject, order_id, action, data)
    if "hx-request" not in request.headers:
        return RedirectResponse(f"/orders/{order.id}", status_code=303)
    if back not in BACKS or back == "order":
        return render(request, "work_order/_order.html", {**_order_ctx(session, subject, order), "done": action.value})
    message = _("{code}：已{action}，当前状态「{status}」", code=order.code, action=_(ACTION_LABELS[action]),
                status=_(STATUS_LABELS[Status(order.status)]))
    return render(request, "work_order/_done.html", {"message": message, "order_id": order.id},
                  headers={"HX-Trigger": "orders-changed"})


# The dispatcher's queue ------------------------------------------------------------------------

COLOURS = ("green", "yellow", "red")


def _queue_filters(status: str | None, colour: str | None, category_code: str | None, within: str | None,
                   department_id: str | None, overdue: str | None, q: str | None, sort: str | None,
                   flag: str | None) -> dict[str, Any]:
    return {
        "status": status if status in {s.value for s in Status} else "",
        "colour": colour if colour in COLOURS else "",
        "category_code": (category_code or "").strip(), "within": within or "",
        "department_id": int(department_id) if department_id and department_id.isdigit() else "",
        "overdue": overdue if overdue in ("true", "false") else "", "q": q or "",
        "sort": "due" if sort == "due" else "new", "flag": flag if flag in repo.QUEUE_FLAGS else "",
    }


@router.get("/orders")
def orders_page(
    request: Request, subject: PageSubject, session: DbSession, params: Paging,
    status: Choice = None, colour: Choice = None, category_code: Choice = None, within: CodeFilter = None,
    department_id: Choice = None, overdue: Choice = None, q: Search = None, sort: Choice = None,
    flag: Choice = None,
) -> Response:
    f = _queue_filters(status, colour, category_code, within, department_id, overdue, q, sort, flag)
    stmt = repo.queue(subject, flag=f["flag"] or None, sort=f["sort"], status=[f["status"]] if f["status"] else None,
                      category_code=f["category_code"] or None, within=f["within"] or None,
                      department_id=f["department_id"] or None, q=f["q"] or None,
                      overdue={"true": True, "false": False}.get(f["overdue"]))
    if f["colour"]:
        # The colour is computed on the working calendar, not stored: filter the open orders in hand.
        everything = [o for o in _list(session, stmt.where(WorkOrder.due_at.is_not(None)), MAX_OPEN)
                      if o.colour == f["colour"]]
        total, items = len(everything), everything[params.offset:params.offset + params.page_size]
    else:
        rows, total = paginate(session, stmt, params)
        items = _outs(session, rows)
    ctx: dict[str, Any] = {"items": items, "total": total, "params": params, "filters": f,
                           "can_dispatch": subject.has(Role.dispatcher, Role.command_leader, Role.hotline_agent),
                           **_ctx_labels()}
    if is_fragment(request):
        return render(request, "work_order/_queue_table.html", ctx)
    ctx.update(categories=_categories(session, subject), departments=_departments(session, subject),
               regions=list(session.scalars(jrepo.regions(subject).limit(MAX_CHOICES))),
               tab_counts=_tab_counts(session, subject))
    return render(request, "work_order/orders.html", ctx)


def _tab_counts(session: Session, subject: Subject) -> dict[str, int]:
    counts = repo.status_counts(session, subject)
    flags = {flag: paginate(session, repo.queue(subject, flag=flag), PageParams(page=1, page_size=1))[1]
             for flag in repo.QUEUE_FLAGS}
    return {**counts, **flags}


@router.post("/orders/dispatch", dependencies=CSRF)
def bulk_dispatch(
    request: Request, subject: PageSubject, session: DbSession, department: Short = "",
    order_ids: Annotated[list[str], Form(max_length=200)] = [],  # noqa: B006
) -> Response:
    """One lead department for several registered orders; each is its own move, and one refusal does not
    undo the others (each runs in a savepoint)."""
    ids = [int(i) for i in order_ids if i.isdigit()]
    problems = []
    if not ids:
        problems.append(FieldProblem("order_ids", _("请至少勾选一张工单")))
    if not department.strip():
        problems.append(FieldProblem("department", _("请选择主办部门")))
    if problems:
        raise Invalid(problems[0].problem, problems)
    results = []
    for order_id in ids:
        try:
            with session.begin_nested():
                order = service.act(session, subject, order_id, Action.dispatch, ActionIn(department=department))
            results.append({"id": order_id, "code": order.code, "ok": True, "message": _("已派遣")})
        except AppError as exc:
            results.append({"id": order_id, "code": f"#{order_id}", "ok": False, "message": exc.message})
    headers = {"HX-Trigger": "orders-changed"} if any(r["ok"] for r in results) else None
    if "hx-request" not in request.headers:
        return RedirectResponse("/orders", status_code=303)
    return render(request, "work_order/_bulk_result.html", {"results": results}, headers=headers)


# The hotline desk ------------------------------------------------------------------------------


@router.get("/hotline")
def hotline_page(request: Request, subject: PageSubject, session: DbSession) -> Response:
    return render(request, "work_order/hotline.html", {
        "categories": _categories(session, subject), "urgencies": _urgencies(),
        "regions": list(session.scalars(jrepo.regions(subject).limit(MAX_CHOICES))),
    })


def _urgencies() -> list[tuple[str, str]]:
    return [(Urgency.normal.value, _("一般")), (Urgency.urgent.value, _("紧急")), (Urgency.critical.value, _("特急"))]


@router.get("/hotline/history")
def caller_history(request: Request, subject: PageSubject, session: DbSession,
                   phone: Annotated[str, Query(max_length=20)] = "",
                   caller_phone: Annotated[str, Query(max_length=20)] = "") -> Response:
    """The caller's earlier appeals; the hotline form's phone field asks as it is typed (`caller_phone`)."""
    phone = (phone or caller_phone).strip()
    rows: list[Any] = []
    total = 0
    if len(phone) >= 3:
        rows, total = paginate(session, repo.appeals_by_phone(subject, phone), PageParams(page=1, page_size=10))
    recent = smart.repeat_counts(session, subject, [phone]).get(phone, 0) if total else 0
    return render(request, "work_order/_history.html",
                  {"phone": phone, "appeals": rows, "total": total, "recent": recent,
                   "repeat": recent >= smart.REPEAT_MIN, "repeat_days": smart.REPEAT_DAYS, **_ctx_labels()})


@router.get("/hotline/suggest")
def suggest_category(request: Request, subject: PageSubject, session: DbSession,
                     text: Annotated[str, Query(max_length=5000)] = "") -> Response:
    """The classifier's top three for the appeal being typed; a click picks the category."""
    choices = smart.suggest(session, text) if len(text.strip()) >= 6 else []
    return render(request, "work_order/_suggest.html", {"choices": choices})


@router.get("/hotline/similar")
def similar_closed(request: Request, subject: PageSubject, session: DbSession,
                   category_code: Choice = None, q: Search = None) -> Response:
    """The knowledge base of the desk: closed orders of the same category and how they were answered."""
    items = []
    if (category_code or "").strip() or (q or "").strip():
        stmt = repo.orders(subject, status=[Status.closed.value], category_code=(category_code or "").strip() or None,
                           q=q)
        for order in session.scalars(stmt.limit(8)).unique():
            said = [e.data.get("answer") or e.data.get("report") for e in repo.events(session, order.id)]
            outcome = next((text for text in reversed(said) if text), "")
            items.append({"order": order, "outcome": outcome})
    return render(request, "work_order/_similar.html", {"items": items, "searched": bool(category_code or q)})


def _keys(photos: str) -> list[str]:
    """Photo keys as the photo field holds them: comma-separated (the upload script fills it in)."""
    return [p.strip() for p in photos.replace("，", ",").split(",") if p.strip()]


def _appeal_data(values: dict[str, Any]) -> AppealCreate:
    for key in ("lon", "lat"):
        values[key] = _number(values[key])
    values["region_code"] = values["region_code"] or None
    values["category_code"] = values["category_code"] or None
    return form_model(AppealCreate, values)


@router.post("/hotline", dependencies=CSRF)
def file_from_hotline(
    request: Request, subject: PageSubject, session: DbSession,
    caller_name: Annotated[str, Form(max_length=50)] = "", caller_phone: Annotated[str, Form(max_length=20)] = "",
    anonymous: Annotated[bool, Form()] = False, address: Short = "", lon: Short = "", lat: Short = "",
    region_code: Short = "", category_code: Short = "", urgency: Short = "normal", text: Text = "",
    photos: PhotoKeys = "",
) -> Response:
    data = _appeal_data({"channel": Channel.hotline, "caller_name": caller_name, "caller_phone": caller_phone,
                         "anonymous": anonymous, "address": address, "lon": lon, "lat": lat,
                         "region_code": region_code, "category_code": category_code, "urgency": urgency or "normal",
                         "text": text, "photos": _keys(photos)})
    appeal, order = service.file_appeal(session, subject, data)
    if "hx-request" not in request.headers:
        return RedirectResponse(f"/orders/{order.id}", status_code=303)
    detail = service.order_detail(session, subject, order)
    return render(request, "work_order/_filed.html", {"appeal": appeal, "o": detail, **_ctx_labels()},
                  headers={"HX-Trigger": "appeal-filed"})


# The department inbox --------------------------------------------------------------------------


@router.get("/inbox")
def inbox_page(request: Request, subject: PageSubject, session: DbSession) -> Response:
    ctx: dict[str, Any] = {"to_sign": [], "handling": [], "assisting": [], "extension_pending": set()}
    dept = subject.department_id
    if dept is not None:
        lead, assist = AssignmentRole.lead, AssignmentRole.assist
        ctx.update(
            to_sign=_list(session, repo.assigned(subject, dept, role=lead, states=[AssignmentState.pending],
                                                 status=[Status.dispatched.value]), 200),
            assisting=_list(session, repo.assigned(subject, dept, role=assist,
                                                   states=[AssignmentState.pending, AssignmentState.signed],
                                                   status=OPEN_VALUES), 200),
        )
        handling = list(session.scalars(repo.assigned(
            subject, dept, role=lead, states=[AssignmentState.signed],
            status=[Status.accepted.value, Status.suspended.value]).limit(200)).unique())
        ctx.update(handling=_outs(session, handling), extension_pending={o.id for o in handling if o.extension_pending})
    ctx.update(_ctx_labels(), has_department=dept is not None)
    template = "work_order/_inbox_lists.html" if is_fragment(request) else "work_order/inbox.html"
    return render(request, template, ctx)


# The grid worker's phone page ------------------------------------------------------------------


@router.get("/grid")
def grid_page(request: Request, subject: PageSubject, session: DbSession) -> Response:
    ctx: dict[str, Any] = {
        "to_verify": _list(session, repo.orders(subject, status=[Status.handled.value]), 100),
        "mine": _list(session, repo.patrol_reports(subject, subject.id, status=[Status.registered.value]), 100),
        **_ctx_labels(),
    }
    if is_fragment(request):
        return render(request, "work_order/_grid_lists.html", ctx)
    ctx.update(categories=_categories(session, subject), urgencies=_urgencies())
    return render(request, "work_order/grid.html", ctx)


@router.post("/grid/report", dependencies=CSRF)
def grid_report(
    request: Request, subject: PageSubject, session: DbSession, address: Short = "", lon: Short = "",
    lat: Short = "", category_code: Short = "", urgency: Short = "normal", text: Text = "", photos: PhotoKeys = "",
) -> Response:
    data = _appeal_data({"channel": Channel.grid, "caller_name": subject.display_name, "address": address,
                         "lon": lon, "lat": lat, "category_code": category_code,
                         # Without a point, the report is placed in the worker's own area.
                         "region_code": "" if lon.strip() else subject.region_code,
                         "urgency": urgency or "normal", "text": text, "photos": _keys(photos)})
    _appeal, order = service.file_appeal(session, subject, data)
    if "hx-request" not in request.headers:
        return RedirectResponse("/grid", status_code=303)
    return render(request, "work_order/_done.html",
                  {"message": _("已上报：{code}（{title}）", code=order.code, title=order.title), "order_id": order.id},
                  headers={"HX-Trigger": "orders-changed"})


# The leader's overview -------------------------------------------------------------------------


@router.get("/overview")
def overview_page(request: Request, subject: PageSubject, session: DbSession) -> Response:
    counts = repo.status_counts(session, subject)
    open_orders = _list(session, repo.queue(subject, sort="due", status=OPEN_VALUES), MAX_OPEN)
    colours = Counter(o.colour for o in open_orders if o.colour)
    overdue = [o for o in open_orders if o.colour == "red"]
    by_dept: dict[str, list[int]] = {}
    for o in open_orders:
        if o.lead_department:
            row = by_dept.setdefault(o.lead_department.name, [0, 0])
            row[0] += 1
            row[1] += o.colour == "red"
    departments = sorted(by_dept.items(), key=lambda kv: (-kv[1][0], kv[0]))
    return render(request, "work_order/overview.html", {
        "counts": counts, "open_total": sum(n for s, n in counts.items() if s in OPEN_VALUES),
        "total": sum(counts.values()), "colours": colours, "overdue": overdue[:50], "overdue_total": len(overdue),
        "departments": departments, "statuses": [s.value for s in Status], "now_text": local_time(now()),
        **_ctx_labels(),
    })
