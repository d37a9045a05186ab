"""The closed loop's use cases: file an appeal (which makes a registered work order), and `act()`, the one
function through which every move of every order passes, from the JSON API and the pages alike.

`act()` locks the order row (FOR UPDATE on PostgreSQL; SQLite serialises writers) and, if the caller
says which version it saw, refuses a stale move. The workflow table decides whether the move is
allowed; this module adds what needs the database (jurisdiction, the actor's department, merge
targets), applies the effects, appends the immutable event with its outbox rows, and recomputes the
deadline columns on the working calendar.
"""

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Protocol, assert_never

from shapely.geometry import Point
from shapely.prepared import prep as prepared
from sqlalchemy import select
from sqlalchemy.orm import Session, defaultload, defer, lazyload, object_session
from sqlalchemy.orm.attributes import set_committed_value

from zhili.access import can_see_region
from zhili.auth.subject import Subject, SubjectKind
from zhili.category import repository as crepo
from zhili.category.attributes import attributes_of, check_values
from zhili.category.service import effective_deadlines, suggested_lead
from zhili.config import get_settings
from zhili.dispatch import service as smart
from zhili.errors import Conflict, FieldProblem, Forbidden, Invalid, NotFound
from zhili.jurisdiction import repository as jrepo
from zhili.jurisdiction.schemas import DepartmentRef
from zhili.kit import geo
from zhili.kit.calendar import (
    Colour,
    Limit,
    WorkingCalendar,
    add_working_seconds,
    deadline_colour,
    due,
    parse_periods,
    working_seconds_between,
)
from zhili.kit.codes import ancestor_codes
from zhili.kit.i18n import _
from zhili.kit.time import now
from zhili.models import (
    Appeal,
    Assignment,
    AssignmentRole,
    AssignmentState,
    CalendarOverride,
    Category,
    CategoryKind,
    Channel,
    Department,
    Grid,
    OrderEvent,
    OutboxMessage,
    Proposal,
    Region,
    Role,
    ServiceAttribute,
    Stage,
    WorkOrder,
)
from zhili.work_order import repository as repo
from zhili.work_order.attachments import attach
from zhili.work_order.schemas import (
    ActionIn,
    AppealCreate,
    AppealOut,
    AssignmentOut,
    EventOut,
    WorkOrderDetail,
    WorkOrderOut,
)
from zhili.work_order.workflow import (
    ACTION_LABELS,
    STATUS_LABELS,
    Action,
    Clock,
    OrderState,
    Outcome,
    Status,
    allowed_actions,
    decide,
    event_label,
    running_stage,
)

# Used when a category sets no limit for a stage (sign, handle, verify, callback).
FALLBACK_LIMITS = {Stage.sign: "4wh", Stage.handle: "5wd", Stage.verify: "1wd", Stage.callback: "2wd"}
# Actions a department handler takes on its own department's lead assignment.
HANDLER_ACTIONS = {Action.sign, Action.return_, Action.request_extension, Action.report}
# The auto-dispatch acts as the command centre would (a dispatcher's move, on the same table).
AUTO_DISPATCHER = frozenset({Role.dispatcher})
TRACKING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over the phone


@lru_cache(maxsize=8)
def _national_calendar(working_hours: str) -> WorkingCalendar:
    # One shared instance per configured day, so its per-date caches fill once per process.
    return WorkingCalendar(periods=parse_periods(working_hours))


def calendar(region: Region | None = None, session: Session | None = None) -> WorkingCalendar:
    """The working calendar of a region: the configured working hours, the national schedule, and the
    CalendarOverride rows of the region and its ancestors, the nearest region's decision winning a day.

    Reads through `session` or the region's own session; no subject, because a deadline is the same
    whoever looks at it (the sweep has no subject at all). Cached in the session's `info` for the rest
    of the unit of work (a request or one sweep step): an override edited meanwhile applies from the
    next one.
    """
    hours = get_settings().working_hours
    if region is None:
        return _national_calendar(hours)
    session = session or object_session(region)
    if session is None:
        raise RuntimeError("calendar(region) needs the region attached to a session, or a session")
    cache: dict[tuple[int, str], WorkingCalendar] = session.info.setdefault("zhili.calendars", {})
    key = (region.id, hours)
    if key not in cache:
        chain: list[Region] = [region]
        while chain[-1].parent is not None:
            chain.append(chain[-1].parent)  # type: ignore[arg-type]
        depth = {r.id: i for i, r in enumerate(chain)}
        nearest: dict[date, tuple[int, bool]] = {}
        rows = session.execute(select(CalendarOverride.region_id, CalendarOverride.day, CalendarOverride.is_workday)
                               .where(CalendarOverride.region_id.in_(depth)))
        for region_id, day, is_workday in rows:
            if day not in nearest or depth[region_id] < nearest[day][0]:
                nearest[day] = (depth[region_id], is_workday)
        if nearest:
            cache[key] = WorkingCalendar(periods=parse_periods(hours),
                                         overrides={d: v for d, (_depth, v) in nearest.items()})
        else:
            cache[key] = _national_calendar(hours)
    return cache[key]


# Intake ----------------------------------------------------------------------------------------


def locate(session: Session, lon: float, lat: float) -> Grid | None:
    """The grid containing a point: a bounding-box query, then the exact test in shapely on the grid's
    parsed boundary, kept per process for as long as the grid is unchanged (boundaries are read only
    when a grid is new or edited)."""
    point = Point(lon, lat)
    candidates = session.scalars(select(Grid).options(defer(Grid.boundary), lazyload(Grid.members),
                                                      defaultload(Grid.region).defer(Region.boundary))
                                 .where(Grid.min_lon <= lon, Grid.max_lon >= lon,
                                        Grid.min_lat <= lat, Grid.max_lat >= lat))
    return next((g for g in candidates if grid_shape(g).covers(point)), None)


_GRID_SHAPES: dict[tuple[int, datetime], Any] = {}


def grid_shape(grid: Grid) -> Any:
    key = (grid.id, grid.updated_at)
    shape = _GRID_SHAPES.get(key)
    if shape is None:
        if len(_GRID_SHAPES) > 100_000:
            _GRID_SHAPES.clear()
        shape = _GRID_SHAPES[key] = prepared(geo.loads(grid.boundary))
    return shape


TRACKING_TABLE = bytes(ord(TRACKING_ALPHABET[b % len(TRACKING_ALPHABET)]) for b in range(256))  # 256 = 8 × 32


def new_tracking_code() -> str:
    return secrets.token_bytes(10).translate(TRACKING_TABLE).decode()


def command_region(region: Region) -> Region:
    """The command centre that gets a new order: the town's (a village's appeal goes to its town)."""
    node = region
    while node.level == "village" and node.parent is not None:
        node = node.parent
    return node


@dataclass(frozen=True)
class CheckedAppeal:
    """Where an appeal goes and what it is, once `check_appeal` found nothing wrong with it."""

    place: Region
    grid: Grid | None
    category: Category | None
    channel: Channel
    attributes: dict[str, Any]


class Lookups(Protocol):
    """What checking an appeal reads: through the request's session (`InSession`), or from what the
    process keeps for a few seconds (zhili.intake.reference), where a check must cost no query."""

    def locate(self, lon: float, lat: float) -> Grid | None: ...

    def region(self, code: str) -> Region | None: ...

    def category(self, code: str) -> tuple[Category, list[ServiceAttribute]] | None: ...


@dataclass(frozen=True)
class InSession:
    session: Session

    def locate(self, lon: float, lat: float) -> Grid | None:
        return locate(self.session, lon, lat)

    def region(self, code: str) -> Region | None:
        return jrepo.region_by_code(self.session, code)

    def category(self, code: str) -> tuple[Category, list[ServiceAttribute]] | None:
        found = crepo.category_by_code(self.session, code)
        return (found, attributes_of(self.session, found)) if found is not None else None

    # What filing reads besides (not part of Lookups: checking needs neither).

    def load_regions(self, place: Region) -> None:
        """The place's ancestors into the session: the command desk and the routing walk them."""
        jrepo.load_regions(self.session, ancestor_codes(place.code))

    def suggested_lead(self, category: Category, place: Region) -> Department | None:
        return suggested_lead(self.session, category, place)


def check_appeal(session: Session, subject: Subject | None, data: AppealCreate,
                 lookups: Lookups | None = None) -> CheckedAppeal:
    """Everything that can refuse an appeal, without writing: its place (a grid, else the region it
    names), the subject's jurisdiction, the category, the channel and the attribute values. Raises
    Invalid naming every field at once (Forbidden for a channel the key may not file as)."""
    read = lookups or InSession(session)
    problems: list[FieldProblem] = []
    grid = read.locate(data.lon, data.lat) if data.lon is not None and data.lat is not None else None
    place: Region | None = grid.region if grid else None
    if place is None and data.region_code:
        place = read.region(data.region_code)
        if place is None:
            problems.append(FieldProblem("region_code", _("区划 {c} 不存在", c=data.region_code)))
    if place is None and not problems:
        problems.append(FieldProblem("lon", _("该坐标不在本平台的任何网格内，请核对位置或填写区划代码"),
                                     expected=_("辖区内的 WGS-84 坐标")))
    if place is not None and subject is not None and not can_see_region(subject, place.code):
        problems.append(FieldProblem("region_code", _("地点不在您的管辖范围（{n}）内", n=subject.region_name)))
    category: Category | None = None
    attributes: dict[str, Any] = {}
    if data.category_code:
        found = read.category(data.category_code)
        category, definition = found if found is not None else (None, [])
        if category is None or not category.active:
            problems.append(FieldProblem("category_code", _("分类 {c} 不存在或已停用", c=data.category_code)))
        elif subject is None and not category.public:
            problems.append(FieldProblem("category_code", _("该分类不受理公众直接提交")))
        else:  # attributes: the category's service definition
            outside = subject is not None and subject.kind == SubjectKind.api_key
            attributes, more = check_values(category, definition, data.attributes, enforce_required=outside)
            problems += more
    channel = _channel(subject, data.channel)
    if problems or place is None:
        raise Invalid(problems[0].problem, problems)
    return CheckedAppeal(place=place, grid=grid, category=category, channel=channel, attributes=attributes)


class Remembering(InSession):
    """`InSession` that reads each category, region and grid once per session: for a unit of work that
    files many appeals (the intake worker's batch). Points are placed with the process's grid index
    (zhili.intake.reference), the grid then read through the session's identity map."""

    def __init__(self, session: Session, index: Any) -> None:
        super().__init__(session)
        self.index = index
        self._categories: dict[str, tuple[Category, list[ServiceAttribute]] | None] = {}
        self._regions: dict[str, Region | None] = {}
        self._loaded: set[str] = set()
        self._leads: dict[tuple[int, str], int | None] = {}
        self._grids: dict[int, Grid | None] = {}

    def locate(self, lon: float, lat: float) -> Grid | None:
        found = self.index.locate(lon, lat)
        if found is None:
            return None
        if found.id not in self._grids:
            with self.session.no_autoflush:
                self._grids[found.id] = self.session.get(Grid, found.id, options=[defer(Grid.boundary),
                                                                                  lazyload(Grid.members)])
        grid = self._grids[found.id]
        return grid if grid is not None and grid_shape(grid).covers(Point(lon, lat)) else super().locate(lon, lat)

    def region(self, code: str) -> Region | None:
        if code not in self._regions:
            self._regions[code] = super().region(code)
        return self._regions[code]

    def category(self, code: str) -> tuple[Category, list[ServiceAttribute]] | None:
        if code not in self._categories:
            self._categories[code] = super().category(code)
        return self._categories[code]

    def load_regions(self, place: Region) -> None:
        if place.code not in self._loaded:
            super().load_regions(place)
            self._loaded.add(place.code)

    def suggested_lead(self, category: Category, place: Region) -> Department | None:
        key = (category.id, place.code)
        if key not in self._leads:
            with self.session.no_autoflush:
                found = super().suggested_lead(category, place)
            self._leads[key] = found.id if found is not None else None
        ident = self._leads[key]
        return self.session.get(Department, ident) if ident is not None else None


def file_appeal(session: Session, subject: Subject | None, data: AppealCreate,
                tracking_code: str | None = None) -> tuple[Appeal, WorkOrder]:
    """An appeal from any channel becomes a registered work order on its town's command desk, with the
    routing suggestion of the responsibility list. `subject` is None for the public citizen form;
    `tracking_code` is the one the queued path already gave the caller (zhili.intake)."""
    ((appeal, order),) = file_appeals(session, [(subject, data, tracking_code)], InSession(session))
    return appeal, order


Filing = tuple[Subject | None, AppealCreate, str | None]  # who, what, and the tracking code if given


def file_appeals(session: Session, filings: list[Filing], reads: InSession) -> list[tuple[Appeal, WorkOrder]]:
    """`file_appeal` for many at once (the intake worker's batch): every order is inserted in one
    statement, then every appeal, event and outbox row, so a batch costs a handful of statements.
    Each is checked first; the first refusal raises (the caller checks them beforehand)."""
    checked = [check_appeal(session, subject, data, reads) for subject, data, _code in filings]
    orders = [_new_order(session, subject, data, c, reads)
              for (subject, data, _code), c in zip(filings, checked, strict=True)]
    session.add_all(orders)
    session.flush()  # the orders' ids, for their codes
    filed = []
    for (subject, data, code), c, order in zip(filings, checked, orders, strict=True):
        order.code = _order_code(order)
        appeal = _new_appeal(session, subject, data, c, order, code)
        _event(session, order, subject, "register", None, Status.registered, data={"channel": c.channel.value})
        filed.append((appeal, order))
    _triage(session, [(a, o, c) for (a, o), c in zip(filed, checked, strict=True)], reads)
    if any(data.photos for _subject, data, _code in filings):
        session.flush()  # the appeals' ids, for their photos
        for (subject, data, _code), (appeal, _order) in zip(filings, filed, strict=True):
            if data.photos:
                if subject is None:
                    message = _("公众表单的照片随表单一起上传")
                    raise Invalid(message, [FieldProblem("photos", message)])
                attach(session, subject, data.photos, appeal=appeal)
    session.flush()
    return filed


def _triage(session: Session, filed: list[tuple[Appeal, WorkOrder, CheckedAppeal]], reads: InSession) -> None:
    """Orders filed without a map point are placed by their text where it names a known place; orders
    filed without a category get the classifier's proposal, and a sure one is filed under its first
    choice and dispatched by the responsibility rules at once (a grid worker's own report stays with
    the grid, which may handle it itself)."""
    places = {o.id: smart.locate_place(session, o) for _a, o, _c in filed if o.lon is None}
    open_ = [(a, o, c) for a, o, c in filed if c.category is None and c.channel != Channel.grid]
    if not open_:
        return
    for (appeal, order, checked), proposed in zip(open_, smart.propose(session, [o for _a, o, _c in open_]),
                                                  strict=True):
        if proposed is not None:
            proposed.proposal.place = places.get(order.id, {})
        if proposed is None or not proposed.sure:
            continue
        category = proposed.category
        order.category, order.category_id, appeal.category_id = category, category.id, category.id
        lead = reads.suggested_lead(category, checked.place)
        order.suggested_department_id = lead.id if lead else None
        if lead is not None:
            _dispatch_automatically(session, order, lead, proposed.proposal)


def _dispatch_automatically(session: Session, order: WorkOrder, lead: Department, proposal: Proposal) -> None:
    outcome = decide(state_of(order), Action.dispatch, AUTO_DISPATCHER, {"department": lead.code})
    _assign(order, lead, [])
    before, order.status = Status(order.status), outcome.status
    _reclock(session, order, outcome, None)
    proposal.automatic, proposal.decided_code = True, proposal.top_code
    _event(session, order, None, Action.dispatch.value, before, outcome.status, actor=_("智能派单"),
           data={"department": lead.code, "assisting": [], "automatic": True, "category": proposal.top_code,
                 "confidence": proposal.confidence})


def open_task(session: Session, subject: Subject, *, title: str, description: str, category: Category | None,
              place: Region, lead: Department, assists: list[Department], response_due: datetime) -> WorkOrder:
    """A supervised task (督办任务) the command centre opens itself, from a hot issue: an order with no
    appeal of its own, dispatched at once to the departments concerned and supervised until
    `response_due`. Refused unless the subject may dispatch and supervise."""
    InSession(session).load_regions(place)
    region = command_region(place)
    order = WorkOrder(code=f"new-{secrets.token_hex(6)}", category=category,
                      category_id=category.id if category else None, region_id=region.id, region=region,
                      region_code=region.code, place_code=place.code, address=place.name,
                      channel=Channel.referral, title=title[:120],
                      description=description, created_by_id=_staff_id(subject), suggested_department_id=lead.id)
    session.add(order)
    session.flush()
    order.code = _order_code(order)
    set_committed_value(order, "assignments", [])
    set_committed_value(order, "appeals", [])
    _event(session, order, subject, "register", None, Status.registered, data={"channel": Channel.referral.value})
    fields = {"department": lead.code, "assisting": [d.code for d in assists], "response_due": response_due}
    for action in (Action.dispatch, Action.supervise):  # `decide` refuses a subject who may not
        outcome = decide(state_of(order), action, subject.roles, fields)
        if action is Action.dispatch:
            _assign(order, lead, assists)
            data: dict[str, Any] = {"department": lead.code, "assisting": fields["assisting"]}
        else:
            data = {"response_due": response_due.isoformat()}
        before, order.status = Status(order.status), outcome.status
        _reclock(session, order, outcome, None)
        _event(session, order, subject, action.value, before, outcome.status, data=data)
    session.flush()
    return order


def _order_code(order: WorkOrder) -> str:
    """工单编号: GD, the filing date, the row id (flushed)."""
    return f"GD{now():%Y%m%d}{order.id:06d}"


def _new_order(session: Session, subject: Subject | None, data: AppealCreate, checked: CheckedAppeal,
               reads: InSession) -> WorkOrder:
    place, grid, category, channel = checked.place, checked.grid, checked.category, checked.channel
    reads.load_regions(place)
    region = command_region(place)
    suggestion = reads.suggested_lead(category, place) if category else None
    return WorkOrder(
        code=f"new-{secrets.token_hex(6)}", urgency=data.urgency, category_id=category.id if category else None,
        category=category, region_id=region.id, region=region, region_code=region.code, place_code=place.code,
        grid_id=grid.id if grid else None, grid=grid, channel=channel, title=data.title or data.text[:40],
        description=data.text, address=data.address, lon=data.lon, lat=data.lat,
        suggested_department_id=suggestion.id if suggestion else None,
        grid_report=channel == Channel.grid, created_by_id=_staff_id(subject),
    )


def _new_appeal(session: Session, subject: Subject | None, data: AppealCreate, checked: CheckedAppeal,
                order: WorkOrder, tracking_code: str | None) -> Appeal:
    appeal = Appeal(tracking_code=tracking_code or new_tracking_code(), channel=checked.channel,
                    caller_name=data.caller_name, caller_phone=data.caller_phone,
                    caller_id_number=data.caller_id_number, anonymous=data.anonymous, text=data.text,
                    address=data.address, lon=data.lon, lat=data.lat, region_code=checked.place.code,
                    category_id=order.category_id, work_order_id=order.id, created_by_id=_staff_id(subject),
                    external_id=data.external_id, attributes=checked.attributes, media_url=data.media_url,
                    source_key_id=subject.id if subject is not None and subject.kind == SubjectKind.api_key else None)
    session.add(appeal)
    # A new order has no assignments and this one appeal: say so, so that reading them costs no query.
    set_committed_value(order, "assignments", [])
    set_committed_value(order, "appeals", [appeal])
    return appeal


def _staff_id(subject: Subject | None) -> int | None:
    return subject.id if subject is not None and subject.kind == SubjectKind.staff else None


def _channel(subject: Subject | None, asked: Channel | None) -> Channel:
    """Staff file as the hotline unless they say otherwise; an outside system files only as the channels
    its key allows, its first one by default."""
    if subject is None or subject.kind != SubjectKind.api_key:
        return asked or Channel.hotline
    if not subject.channels:
        raise Forbidden(_("API 密钥「{n}」未被授权登记诉求（没有允许的渠道），请联系管理员", n=subject.name))
    channel = asked or Channel(subject.channels[0])
    if channel.value not in subject.channels:
        raise Forbidden(_("API 密钥「{n}」不允许以「{c}」渠道登记诉求", n=subject.name, c=channel.value))
    return channel


# Moves -----------------------------------------------------------------------------------------


def state_of(order: WorkOrder) -> OrderState:
    return OrderState(status=Status(order.status), extension_pending=order.extension_pending,
                      awaiting_review=order.awaiting_review, grid_report=order.grid_report)


def _fields(data: ActionIn) -> dict[str, object]:
    return {k: v for k, v in data.model_dump(exclude={"expected_version"}).items() if v not in (None, "", [])}


def act(session: Session, subject: Subject, order_id: int, action: Action, data: ActionIn) -> WorkOrder:
    order = repo.order(session, subject, order_id, lock=True)
    if data.expected_version is not None and data.expected_version != order.version:
        raise Conflict(_("工单已被他人更新（您看到的是第 {a} 版，现在是第 {b} 版），请刷新后再操作",
                         a=data.expected_version, b=order.version))
    outcome = decide(state_of(order), action, subject.roles, _fields(data))
    if action in HANDLER_ACTIONS:
        _require_lead_assignment(order, subject, action)
    before = Status(order.status)
    extra = _apply(session, subject, order, outcome, data)
    order.status = outcome.status
    order.extension_pending = outcome.after.extension_pending
    order.awaiting_review = outcome.after.awaiting_review
    if outcome.rework:
        order.rework_count += 1
    _reclock(session, order, outcome, extra.pop("_handle_due", None))
    if outcome.status in (Status.closed, Status.cancelled):
        order.closed_at = now()
    event = _event(session, order, subject, action.value, before, outcome.status, reason=data.reason,
                   rework=outcome.rework, data=extra)
    if data.photos and action in (Action.report, Action.self_handle):
        session.flush()  # the event's id, for the photos
        attach(session, subject, data.photos, event=event)
    session.flush()
    return order


def _require_lead_assignment(order: WorkOrder, subject: Subject, action: Action) -> None:
    wanted = AssignmentState.pending if action in (Action.sign, Action.return_) else AssignmentState.signed
    if not any(a.department_id == subject.department_id and a.role == AssignmentRole.lead and a.state == wanted
               for a in order.assignments):
        raise Forbidden(_("只有主办部门「{d}」的处置员可以「{a}」", d=_lead_name(order) or _("（未派遣）"),
                          a=_(ACTION_LABELS[action])))


def lead_assignment(order: WorkOrder) -> Assignment | None:
    live = (AssignmentState.pending, AssignmentState.signed, AssignmentState.done)
    return next((a for a in order.assignments if a.role == AssignmentRole.lead and a.state in live), None)


def _lead_name(order: WorkOrder) -> str | None:
    lead = lead_assignment(order)
    return lead.department.name if lead else None


def _department(session: Session, subject: Subject, code: str, field: str) -> Department:
    dept = jrepo.department_by_code(session, subject, code)
    if dept is None or not dept.active:
        raise Invalid(_("部门 {c} 不存在、已停用或不在您的管辖范围内", c=code),
                      [FieldProblem(field, _("部门 {c} 不存在、已停用或不在您的管辖范围内", c=code))])
    return dept


def _recategorise(session: Session, order: WorkOrder, code: str) -> dict[str, str]:
    """The dispatcher files the order under another category leaf (or under one, where it had none)."""
    category = crepo.category_by_code(session, code)
    if category is None or not category.active or category.kind == CategoryKind.group:
        message = _("分类 {c} 不存在、已停用或不是末级分类", c=code)
        raise Invalid(message, [FieldProblem("category", message)])
    if order.category_id == category.id:
        return {}
    order.category, order.category_id = category, category.id
    for appeal in order.appeals:
        appeal.category_id = category.id
    return {"category": category.code}


def _assign(order: WorkOrder, lead: Department, assists: list[Department]) -> None:
    """A dispatch's assignments: the lead department's, then each assisting one's."""
    order.assignments.append(Assignment(department_id=lead.id, department=lead, role=AssignmentRole.lead))
    for d in assists:
        order.assignments.append(Assignment(department_id=d.id, department=d, role=AssignmentRole.assist))


def _withdraw(order: WorkOrder, *roles: AssignmentRole) -> None:
    for a in order.assignments:
        if a.role in roles and a.state in (AssignmentState.pending, AssignmentState.signed):
            a.state = AssignmentState.withdrawn


def _apply(session: Session, subject: Subject, order: WorkOrder, outcome: Outcome,
           data: ActionIn) -> dict[str, Any]:
    """What a move does besides changing the status. Returns the event's data."""
    action = outcome.action
    match action:
        case Action.dispatch:
            chosen = _department(session, subject, data.department or "", "department")
            assists = [_department(session, subject, c, "assisting") for c in data.assisting if c != chosen.code]
            _withdraw(order, AssignmentRole.lead, AssignmentRole.assist)
            _assign(order, chosen, assists)
            recategorised = _recategorise(session, order, data.category) if data.category else {}
            smart.record_decision(session, subject, order)
            return {"department": chosen.code, "assisting": [d.code for d in assists], **recategorised}
        case Action.add_assist:
            have = {a.department_id for a in order.assignments if a.state != AssignmentState.withdrawn}
            added = [_department(session, subject, c, "departments") for c in data.departments]
            for d in added:
                if d.id not in have:
                    order.assignments.append(Assignment(department_id=d.id, department=d,
                                                        role=AssignmentRole.assist))
            return {"departments": [d.code for d in added]}
        case Action.sign:
            lead = lead_assignment(order)
            assert lead is not None
            lead.state, lead.signed_at, lead.signed_by_id = AssignmentState.signed, now(), subject.id
            return {"department": lead.department.code}
        case Action.return_:
            lead = lead_assignment(order)
            assert lead is not None
            lead.state = AssignmentState.returned
            return {"department": lead.department.code}
        case Action.reject_return:
            returned = next(a for a in reversed(order.assignments) if a.role == AssignmentRole.lead)
            returned.state = AssignmentState.pending
            return {"department": returned.department.code}
        case Action.recall | Action.accept_return:
            _withdraw(order, AssignmentRole.lead, AssignmentRole.assist)
            return {}
        case Action.report:
            for a in order.assignments:
                if a.state == AssignmentState.signed:
                    a.state = AssignmentState.done
            return {"report": data.report, "photos": data.photos}
        case Action.approve_extension:
            base = order.handle_due_at or now()
            new_due = data.due_at or due(base, _limit(data.extra or ""), calendar(order.region))
            if new_due <= base:
                raise Invalid(_("新的期限应晚于原期限"), [FieldProblem("due_at", _("新的期限应晚于原期限"))])
            return {"_handle_due": new_due, "due_at": new_due.isoformat()}
        case Action.escalate:
            parent = order.region.parent
            if parent is None:
                raise Conflict(_("{r}已是最高一级指挥中心，无法再上报", r=order.region.name))
            order.region, order.region_id, order.region_code = parent, parent.id, parent.code
            return {"to_region": parent.code}
        case Action.supervise:
            return {"response_due": data.response_due.isoformat() if data.response_due else None}
        case Action.callback:
            order.rating = int(outcome.rating) if outcome.rating is not None else None
            return {"rating": order.rating, "comment": data.comment}
        case Action.merge:
            target = repo.order_by_code(session, subject, data.target or "")
            if target is None:
                raise NotFound(_("要合并到的工单 {c} 不存在或不在您的管辖范围内", c=data.target))
            if target.id == order.id or Status(target.status) in (Status.closed, Status.cancelled):
                raise Conflict(_("只能合并到另一张未办结的工单"))
            for appeal in list(order.appeals):
                appeal.work_order_id = target.id
            order.merged_into_id = target.id
            return {"target": target.code}
        case Action.self_handle:
            return {"report": data.report, "photos": data.photos}
        case Action.answer:
            return {"answer": data.answer}
        case (Action.request_extension | Action.reject_extension | Action.suspend | Action.resume
              | Action.verify_pass | Action.verify_fail | Action.close_dissatisfied | Action.reopen | Action.close
              | Action.cancel):
            return {}
        case _:
            assert_never(action)


# Deadlines -------------------------------------------------------------------------------------


def _limit(text: str) -> Limit:
    try:
        return Limit.parse(text)
    except ValueError as exc:
        raise Invalid(str(exc), [FieldProblem("extra", str(exc), "3wd")]) from exc


def stage_limit(session: Session, order: WorkOrder, stage: Stage) -> Limit:
    """The category's limit for this stage at the order's urgency (inherited up the tree), or the fallback."""
    text = FALLBACK_LIMITS[stage]
    if order.category is not None:
        for d in effective_deadlines(session, order.category):
            if d.stage == stage and d.urgency == order.urgency:
                text = d.limit
    return Limit.parse(text)


def _reclock(session: Session, order: WorkOrder, outcome: Outcome, new_handle_due: datetime | None) -> None:
    """Recompute the running stage and its due time after a move; the clock stops while suspended."""
    cal, at = calendar(order.region), now()
    status = outcome.status
    if outcome.clock is Clock.stop:
        order.clock_left_seconds = (working_seconds_between(at, order.handle_due_at, cal)
                                    if order.handle_due_at else None)
    if new_handle_due is not None:
        order.handle_due_at = new_handle_due
    stage = running_stage(status)
    if stage is None:
        order.stage, order.stage_started_at, order.due_at = None, None, None
        return
    entering = stage.value != order.stage or outcome.rework or outcome.action in (Action.dispatch,
                                                                                   Action.reject_return)
    if stage is Stage.sign and entering:
        order.handle_due_at = due(at, stage_limit(session, order, Stage.handle), cal)
    if stage is Stage.handle:
        if outcome.clock is Clock.start and order.clock_left_seconds is not None:
            order.handle_due_at = add_working_seconds(at, max(order.clock_left_seconds, 0), cal)
            order.clock_left_seconds = None
        elif outcome.rework:
            order.handle_due_at = due(at, stage_limit(session, order, Stage.handle), cal)
        if order.handle_due_at is None:
            order.handle_due_at = due(at, stage_limit(session, order, Stage.handle), cal)
        if entering or outcome.clock is Clock.start:
            order.stage_started_at = at
        order.stage, order.due_at = stage.value, order.handle_due_at
        order.overdue_at = order.warned_at = None if entering else order.overdue_at
        return
    if entering:
        order.stage, order.stage_started_at = stage.value, at
        order.due_at = due(at, stage_limit(session, order, stage), cal)
        order.overdue_at = order.warned_at = None


def colour(session: Session, order: WorkOrder, at: datetime | None = None) -> Colour | None:
    if order.due_at is None or order.stage_started_at is None or order.stage is None:
        return None
    unit = stage_limit(session, order, Stage(order.stage)).unit
    return deadline_colour(order.stage_started_at, order.due_at, at or now(), calendar(order.region), unit,
                           warn_share=get_settings().warn_share)


# Events and their outbox -----------------------------------------------------------------------


def _event(session: Session, order: WorkOrder, subject: Subject | None, action: str, before: Status | None,
           after: Status, *, reason: str = "", rework: bool = False,
           data: Mapping[str, Any] | None = None, actor: str | None = None) -> OrderEvent:
    """`actor` names a system actor (the auto-dispatch) where there is no subject."""
    internal = action in (Action.supervise.value, Action.escalate.value, Action.add_assist.value,
                          Action.request_extension.value, Action.reject_extension.value)
    event = OrderEvent(work_order_id=order.id, actor_id=subject.id if subject and subject.kind == "staff" else None,
                       actor_name=actor or (subject.display_name if subject else _("群众")),
                       department_id=subject.department_id if subject else None, action=action,
                       from_status=before.value if before else None, to_status=after.value, reason=reason,
                       data={**(data or {}), **_clock(order)}, rework=rework, public=not internal)
    session.add(event)
    # The outbox rows reach the event through the relationship: one flush writes them all in order.
    payload = {"order": order.code, "action": action, "status": after.value}
    session.add(OutboxMessage(event=event, kind="live", payload=payload))
    if action in (Action.dispatch.value, Action.add_assist.value, Action.reject_return.value):
        for a in order.assignments:
            if a.state == AssignmentState.pending:
                session.add(OutboxMessage(event=event, kind="inapp", recipient=f"department:{a.department.code}",
                                          payload=payload))
    if after is Status.closed and before is not Status.closed:
        for appeal in order.appeals:
            if appeal.caller_phone:
                session.add(OutboxMessage(event=event, kind="sms", recipient=appeal.caller_phone,
                                          payload={**payload, "tracking_code": appeal.tracking_code}))
    return event


def _clock(order: WorkOrder) -> dict[str, Any]:
    """The deadlines running after a move, kept on its event: the event log alone then tells whether
    each step was on time (zhili.assessment.facts), whatever the order's columns say later."""
    if order.stage is None and order.handle_due_at is None:
        return {}
    return {"clock": {"stage": order.stage, "due": order.due_at.isoformat() if order.due_at else None,
                      "handle_due": order.handle_due_at.isoformat() if order.handle_due_at else None}}


# Read models -----------------------------------------------------------------------------------


def _dept_ref(d: Department | None) -> DepartmentRef | None:
    return DepartmentRef(id=d.id, code=d.code, name=d.name) if d else None


def order_out(session: Session, order: WorkOrder, at: datetime | None = None) -> WorkOrderOut:
    lead = lead_assignment(order)
    c = colour(session, order, at)
    return WorkOrderOut(
        id=order.id, code=order.code, status=order.status, status_label=_(STATUS_LABELS[Status(order.status)]),
        version=order.version, urgency=order.urgency, category_code=order.category.code if order.category else None,
        category_name=order.category.name if order.category else None, region_code=order.region_code,
        place_code=order.place_code, grid_code=order.grid.code if order.grid else None, channel=order.channel,
        title=order.title, address=order.address, lon=order.lon, lat=order.lat, stage=order.stage,
        due_at=order.due_at, colour=c.value if c else None, rework_count=order.rework_count, rating=order.rating,
        lead_department=_dept_ref(lead.department) if lead else None, created_at=order.created_at,
        closed_at=order.closed_at,
    )


def _appeal_out(appeal: Appeal, subject: Subject, photos: list[str]) -> AppealOut:
    # An anonymous caller stays unknown to departments; the command centre keeps the phone for the callback.
    hide = appeal.anonymous and subject.department_id is not None
    return AppealOut(id=appeal.id, tracking_code=appeal.tracking_code, channel=appeal.channel,
                     caller_name=_("匿名") if hide else appeal.caller_name,
                     caller_phone="" if hide else appeal.caller_phone,
                     # The identity number is for the command centre, never for departments.
                     caller_id_number="" if subject.department_id is not None else appeal.caller_id_number,
                     anonymous=appeal.anonymous,
                     text=appeal.text, address=appeal.address, created_at=appeal.created_at, photos=photos)


def order_detail(session: Session, subject: Subject, order: WorkOrder) -> WorkOrderDetail:
    photos = repo.photo_keys(session, [a.id for a in order.appeals])
    merged = session.get(WorkOrder, order.merged_into_id) if order.merged_into_id else None
    events = [EventOut(id=e.id, at=e.at, actor_name=e.actor_name, action=e.action,
                       action_label=event_label(e.action), from_status=e.from_status, to_status=e.to_status,
                       reason=e.reason, data=e.data, rework=e.rework) for e in repo.events(session, order.id)]
    return WorkOrderDetail(
        **order_out(session, order).model_dump(), description=order.description,
        suggested_department=_dept_ref(order.suggested_department), extension_pending=order.extension_pending,
        awaiting_review=order.awaiting_review, merged_into=merged.code if merged else None,
        assignments=[AssignmentOut(id=a.id, department=DepartmentRef(id=a.department.id, code=a.department.code,
                                                                      name=a.department.name),
                                   role=a.role, state=a.state, dispatched_at=a.dispatched_at, signed_at=a.signed_at)
                     for a in order.assignments],
        appeals=[_appeal_out(a, subject, photos[a.id]) for a in order.appeals], events=events,
        allowed_actions=[a.value for a in allowed_actions(state_of(order), subject.roles)],
    )

