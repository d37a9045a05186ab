"""All-or-nothing import of historical appeals and their work orders (历史诉求与工单导入).

Each row is one appeal of an old system and the order it became: checked field by field (and against
the regions, grids, categories and departments it names), then written with SQLAlchemy Core in
batches, in the caller's one transaction. If any row is bad, the caller's transaction must be rolled
back: `import_appeals` raises ImportRejected with a report naming each bad row and field (the first
`MAX_PROBLEMS` problems, and how many there were in all) after reading the whole input, so one
upload shows every mistake.

Memory stays bounded whatever the size of the input: rows are read, checked and written a batch at a
time. Duplicate outside ids are found through the database, not a set of every id seen: every good
row is written as it goes (inside the transaction, and still when earlier rows were bad), so a later
row with the same id finds it there, like one imported from the same source before.

Imported history reads like live history, for the order page and for KPIs computed from the event
log: the order is registered at `received_at`, dispatched then when it names a department, and
handled and closed at `closed_at`; each event carries {"imported": true, "source": …}. The deadline
columns are filled as the live loop would have left them (`handle_due_at` from the file or the
category's limit on the working calendar; `overdue_at` and an "overdue" event when the order was
closed late or is still open past its due time). No notification or text message is sent: the outbox
stays empty, the callers heard about their matter long ago.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from shapely import STRtree
from shapely.geometry import Point
from sqlalchemy.orm import Session

from zhili.access import can_see_region
from zhili.auth.subject import Subject
from zhili.errors import FieldProblem, ImportRejected, ImportReport, Invalid
from zhili.jurisdiction.imports import _header
from zhili.kit import geo, i18n
from zhili.kit.calendar import SHANGHAI, due
from zhili.kit.codes import check_phone
from zhili.kit.i18n import N_, _
from zhili.kit.time import now
from zhili.models import (
    Appeal,
    Assignment,
    AssignmentRole,
    AssignmentState,
    Category,
    Channel,
    Department,
    OrderEvent,
    OrderStatus,
    Region,
    Stage,
    Urgency,
    WorkOrder,
)
from zhili.transfer import repository as repo
from zhili.transfer.clocks import Clocks
from zhili.transfer.files import batches, read_rows
from zhili.transfer.labels import (
    CHANNEL_LABELS,
    CHANNEL_NAMES,
    STATUS_NAMES,
    URGENCY_LABELS,
    URGENCY_NAMES,
    E,
    lookup,
)
from zhili.work_order.service import command_region, new_tracking_code
from zhili.work_order.workflow import STATUS_LABELS, Action, running_stage

__all__ = ["COLUMNS", "AppealImportReport", "check_source", "import_appeals", "read_rows", "template_rows"]

BATCH_SIZE: Final = 1000
MAX_PROBLEMS: Final = 1000
SOURCE_MAX: Final = 100
TEXT_MAX, NAME_MAX, TITLE_MAX, ADDRESS_MAX, CODE_MAX, ID_MAX = 5000, 50, 120, 200, 30, 100
# Statuses an order reaches only through a department: the row must name its lead department.
NEEDS_DEPARTMENT: Final = frozenset({OrderStatus.dispatched, OrderStatus.accepted, OrderStatus.returned,
                                     OrderStatus.suspended, OrderStatus.handled, OrderStatus.verified})
FINISHED: Final = frozenset({OrderStatus.closed, OrderStatus.cancelled})
ASSIGNMENT_STATE: Final = {
    OrderStatus.dispatched: AssignmentState.pending, OrderStatus.accepted: AssignmentState.signed,
    OrderStatus.suspended: AssignmentState.signed, OrderStatus.returned: AssignmentState.returned,
    OrderStatus.handled: AssignmentState.done, OrderStatus.verified: AssignmentState.done,
    OrderStatus.closed: AssignmentState.done, OrderStatus.cancelled: AssignmentState.withdrawn,
}
# The moves that lead from "dispatched" to each later status (the live loop's own actions).
MOVES_AFTER_DISPATCH: Final = {
    OrderStatus.accepted: (Action.sign,),
    OrderStatus.returned: (Action.return_,),
    OrderStatus.suspended: (Action.suspend,),
    OrderStatus.handled: (Action.report,),
    OrderStatus.verified: (Action.report, Action.verify_pass),
}
MOVE_TARGET: Final = {Action.sign: OrderStatus.accepted, Action.return_: OrderStatus.returned,
                      Action.suspend: OrderStatus.suspended, Action.report: OrderStatus.handled,
                      Action.verify_pass: OrderStatus.verified}
# Events a department takes (its id goes on the event, as on a live one).
DEPARTMENT_ACTIONS: Final = frozenset({Action.sign.value, Action.return_.value, Action.report.value})
IMPORT_ACTOR = N_("历史数据导入")


@dataclass(frozen=True)
class Column:
    """A column of the import file: its field name, its Chinese header, other headers accepted, and
    what the format help and the template's example row say about it."""

    name: str
    label: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    example: str = ""
    hint: str = ""


COLUMNS: Final = (
    Column("external_id", N_("原系统编号"), ("外部编号", "原工单编号", "原编号"), True, "RX-2023-000187",
           N_("旧系统中的编号；同一来源的编号不能重复")),
    Column("channel", N_("渠道"), ("来源渠道", "受理渠道"), example="12345 热线",
           hint=N_("12345 热线、网站、移动端、网格上报等，或 hotline、web…；默认 12345 热线")),
    Column("received_at", N_("受理时间"), ("登记时间", "来电时间", "诉求时间"), True, "2023-05-08 09:12",
           N_("ISO 8601 或 YYYY-MM-DD HH:MM[:SS]，不带时区的按北京时间")),
    Column("caller_name", N_("诉求人"), ("来电人", "姓名", "联系人"), example="王女士"),
    Column("caller_phone", N_("联系电话"), ("电话", "手机号"), example="13800138000",
           hint=N_("11 位手机号或带区号的座机")),
    Column("text", N_("诉求内容"), ("内容", "问题描述"), True, "小区门口路灯连续三晚不亮，夜间行人看不清路。"),
    Column("title", N_("标题"), example="小区门口路灯不亮", hint=N_("不填取诉求内容的前 40 个字")),
    Column("address", N_("地址"), ("事发地址", "事发地点"), example="凤鸣路 18 号"),
    Column("lon", N_("经度"), ("lng", "longitude"), hint=N_("WGS-84；落在网格内的点自动归入该网格")),
    Column("lat", N_("纬度"), ("latitude",)),
    Column("region_code", N_("区划代码"), ("所属区划代码", "行政区划代码"),
           hint=N_("12 位；没有网格内的坐标时必填")),
    Column("category_code", N_("分类编码"), ("事项分类编码", "事项分类"), hint=N_("本平台的事项分类编码")),
    Column("urgency", N_("紧急程度"), example="一般", hint=N_("一般、紧急或特急；默认一般")),
    Column("department_code", N_("主办部门编码"), ("主办部门", "部门编码"),
           hint=N_("本平台的部门编码；已派遣之后的各状态必填")),
    Column("status", N_("状态"), ("工单状态",), example="已办结",
           hint=N_("默认：有办结时间为已办结，否则为待派遣")),
    Column("due_at", N_("办理期限"), ("处置期限",), example="2023-05-15 17:30",
           hint=N_("不填则按事项分类的办理时限计算")),
    Column("closed_at", N_("办结时间"), example="2023-05-10 16:40", hint=N_("已办结、已作废的工单必填")),
    Column("rating", N_("满意度"), ("评价",), example="5", hint=N_("1–5，5 为非常满意；仅限已办结的工单")),
    Column("closure_note", N_("办结说明"), ("处置情况", "办理结果"), example="已更换灯泡，恢复照明。"),
)
FIELD_LABELS: Final = {c.name: c.label for c in COLUMNS}
# Headers are compared as jurisdiction.imports compares them (trimmed, lower-case, without "*" or a
# note in brackets); the English names of the labels count too (the template follows the locale).
HEADERS: Final = {_header(alias): c.name for c in COLUMNS
                  for alias in (c.name, c.label, i18n._catalog("en").get(c.label, c.name), *c.aliases)}


def template_rows(codes: Mapping[str, str]) -> list[list[str]]:
    """The import template: the header (in the user's language, * on the required columns) and one
    example row, with `codes` that exist in this deployment where the row names one."""
    header = [_(c.label) + ("*" if c.required else "") for c in COLUMNS]
    return [header, [codes.get(c.name) or c.example for c in COLUMNS]]


def check_source(source: str) -> str:
    """The name of an import's source, trimmed; refused when empty or too long."""
    source = source.strip()
    if not source or len(source) > SOURCE_MAX:
        message = _("来源名称必填，最多 {n} 个字符", n=SOURCE_MAX)
        raise Invalid(message, [FieldProblem("source", message, _("例如 旧热线系统"))])
    return source


@dataclass
class AppealImportReport(ImportReport):
    """The report of an appeals import: `problems` keeps the first MAX_PROBLEMS of `problem_count`."""

    bad_rows: int = 0
    problem_count: int = 0

    def add(self, problems: list[FieldProblem]) -> None:
        self.bad_rows += 1
        self.problem_count += len(problems)
        self.problems += problems[:max(MAX_PROBLEMS - len(self.problems), 0)]


def import_appeals(
    session: Session,
    rows: Iterable[tuple[int, dict[str, str]]],
    *,
    source: str,
    subject: Subject | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import historical appeals and their orders from (row number, {column: value}) pairs.

    `source` names the old system: an external_id already imported from it is refused. With a
    `subject`, every row's place and department must lie within its jurisdiction. Writes in the
    caller's transaction and never commits; raises ImportRejected (roll back!) if any row is bad.
    `progress(processed, bad)` is called after every batch.
    """
    source = check_source(source)
    repo.lock_source(session, source)
    importer = _Importer(session, source, subject)
    for batch in batches(rows, BATCH_SIZE):
        importer.add(batch)
        batch.clear()  # the rows go before the next batch is read, not after
        if progress is not None:
            progress(importer.report.rows, importer.report.bad_rows)
    report = importer.report
    if report.rows == 0:
        message = _("文件中没有数据行")
        raise ImportRejected(message, AppealImportReport(problems=[FieldProblem("file", message)]))
    if report.problems:
        raise ImportRejected(_("{n} 行有问题，未导入任何数据", n=report.bad_rows), report)
    return report


# One row ---------------------------------------------------------------------------------------


@dataclass
class _Row:
    """A row whose every field is well-formed, with the rows and ids it refers to resolved."""

    number: int
    external_id: str
    channel: Channel
    received_at: datetime
    caller_name: str
    caller_phone: str
    text: str
    title: str
    address: str
    lon: float | None
    lat: float | None
    urgency: Urgency
    status: OrderStatus
    due_at: datetime | None
    closed_at: datetime | None
    rating: int | None
    closure_note: str
    place: Region
    grid_id: int | None
    category: Category | None
    department: Department | None


class _Fields:
    """The text of one row by field name, and the problems found in it."""

    def __init__(self, number: int, values: dict[str, str]) -> None:
        self.number = number
        self.values = values
        self.problems: list[FieldProblem] = []

    def text(self, name: str, limit: int, *, required: bool = False) -> str:
        value = self.values.get(name, "")
        if required and not value:
            self.problem(name, _("必填"))
        elif len(value) > limit:
            self.problem(name, _("最多 {n} 个字符", n=limit))
        return value

    def problem(self, name: str, problem: str, expected: str = "") -> None:
        self.problems.append(FieldProblem(name, problem, expected, self.number))

    def when(self, name: str, *, required: bool = False) -> datetime | None:
        value = self.values.get(name, "")
        if not value:
            if required:
                self.problem(name, _("必填"), _("例如 2023-05-08 09:12"))
            return None
        parsed = parse_time(value)
        if parsed is None:
            self.problem(name, _("时间“{v}”无法识别", v=value),
                         _("ISO 8601 或“YYYY-MM-DD HH:MM[:SS]”（北京时间），例如 2023-05-08 09:12"))
        return parsed

    def number_in(self, name: str, low: float, high: float) -> float | None:
        value = self.values.get(name, "")
        if not value:
            return None
        try:
            number = float(value)
        except ValueError:
            number = float("nan")
        if not low <= number <= high:  # also NaN, inf and text
            self.problem(name, _("应为 {a} 到 {b} 之间的数字", a=low, b=high))
            return None
        return number

    def choice(self, name: str, names: dict[str, E], default: E, labels: Mapping[E, str]) -> E:
        value = self.values.get(name, "")
        if not value:
            return default
        found = lookup(names, value)
        if found is None:
            choices = "、".join(f"{_(label)}（{member.value}）" for member, label in labels.items())
            self.problem(name, _("“{v}”无法识别", v=value), _("以下之一：{e}", e=choices))
        return found or default


def parse_time(value: str) -> datetime | None:
    """ISO 8601, or "YYYY-MM-DD HH:MM[:SS]" (also with "/" and without leading zeros); a time without
    an offset is Beijing time. Returned in UTC."""
    text = value.strip().replace("/", "-")
    parsed: datetime | None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = _loose_time(text)
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=SHANGHAI)
    return parsed.astimezone(UTC)


def _loose_time(text: str) -> datetime | None:
    date_part, _sep, time_part = text.partition(" ")
    try:
        year, month, day = (int(p) for p in date_part.split("-"))
        clock = [int(p) for p in time_part.split(":")] if time_part else [0, 0]
        if not 2 <= len(clock) <= 3:
            return None
        hour, minute, second = (*clock, 0)[:3]
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None


# The importer ----------------------------------------------------------------------------------


class _GridIndex:
    """Every grid in an R-tree: a point finds its grid without a query per row, like
    work_order.service.locate (the lowest grid id wins where grids touch)."""

    def __init__(self, session: Session) -> None:
        rows = repo.grid_places(session)
        self.places = [(grid_id, code) for grid_id, _boundary, code in rows]
        self.tree = STRtree([geo.loads(boundary) for _id, boundary, _code in rows])

    def locate(self, lon: float, lat: float) -> tuple[int, str] | None:
        hits = self.tree.query(Point(lon, lat), predicate="covered_by")
        return self.places[min(hits)] if len(hits) else None


class _Importer:
    def __init__(self, session: Session, source: str, subject: Subject | None) -> None:
        self.session = session
        self.source = source
        self.subject = subject
        self.at = now()
        self.report = AppealImportReport()
        self.clocks = Clocks(session)
        self.grids: _GridIndex | None = None
        self.columns: dict[str, str] = {}
        self.regions: dict[str, Region | None] = {}
        self.categories: dict[str, Category | None] = {}
        self.departments: dict[str, Department | None] = {}
        self.next_id: int | None = None  # SQLite: the next free order id (we hold the write lock)
        self.first_id: int | None = None  # the first order id of this import
        self.actor = _(IMPORT_ACTOR)

    def add(self, batch: list[tuple[int, dict[str, str]]]) -> None:
        if not self.columns:
            self.columns = _columns(batch[0][1])
            self.grids = _GridIndex(self.session)
        checked = [self._check(number, values) for number, values in batch]
        self.report.rows += len(batch)
        rows = self._without_duplicates(checked)
        if rows:
            self._write(rows)

    # Checks ----------------------------------------------------------------------------------

    def _check(self, number: int, raw: dict[str, str]) -> tuple[_Fields, _Row | None]:
        f = _Fields(number, {name: (raw.get(column) or "").strip() for column, name in self.columns.items()})
        external_id = f.text("external_id", ID_MAX, required=True)
        channel = f.choice("channel", CHANNEL_NAMES, Channel.hotline, CHANNEL_LABELS)
        received_at = f.when("received_at", required=True)
        caller_name = f.text("caller_name", NAME_MAX)
        caller_phone = f.text("caller_phone", 20)
        if caller_phone and (problem := check_phone(caller_phone)):
            f.problem("caller_phone", problem)
        text = f.text("text", TEXT_MAX, required=True)
        title = f.text("title", TITLE_MAX) or text[:40]
        address = f.text("address", ADDRESS_MAX)
        lon, lat = f.number_in("lon", -180, 180), f.number_in("lat", -90, 90)
        if (f.values.get("lon", "") == "") != (f.values.get("lat", "") == ""):
            f.problem("lat" if f.values.get("lon") else "lon", _("经度和纬度须同时填写"))
        urgency = f.choice("urgency", URGENCY_NAMES, Urgency.normal, URGENCY_LABELS)
        due_at, closed_at = f.when("due_at"), f.when("closed_at")
        status = f.choice("status", STATUS_NAMES, OrderStatus.closed if closed_at else OrderStatus.registered,
                          STATUS_LABELS)
        rating = self._rating(f, status)
        closure_note = f.text("closure_note", TEXT_MAX)
        self._check_times(f, status, received_at, due_at, closed_at)
        place, grid_id = self._place(f, lon, lat)
        category = self._category(f)
        department = self._department(f, status)
        if f.problems or received_at is None or place is None:
            return f, None
        return f, _Row(number=f.number, external_id=external_id, channel=channel, received_at=received_at,
                       caller_name=caller_name, caller_phone=caller_phone, text=text, title=title,
                       address=address, lon=lon, lat=lat, urgency=urgency, status=status, due_at=due_at,
                       closed_at=closed_at, rating=rating, closure_note=closure_note, place=place,
                       grid_id=grid_id, category=category, department=department)

    def _rating(self, f: _Fields, status: OrderStatus) -> int | None:
        value = f.values.get("rating", "")
        if not value:
            return None
        if value not in {"1", "2", "3", "4", "5"}:
            f.problem("rating", _("满意度“{v}”无法识别", v=value), _("1–5 的整数（5 为非常满意）"))
            return None
        if status != OrderStatus.closed:
            f.problem("rating", _("只有已办结的工单有满意度"))
        return int(value)

    def _check_times(self, f: _Fields, status: OrderStatus, received_at: datetime | None,
                     due_at: datetime | None, closed_at: datetime | None) -> None:
        if received_at is not None and received_at > self.at:
            f.problem("received_at", _("受理时间不能晚于现在"))
        if closed_at is not None:
            if received_at is not None and closed_at < received_at:
                f.problem("closed_at", _("办结时间早于受理时间"), _("不早于受理时间"))
            if closed_at > self.at:
                f.problem("closed_at", _("办结时间不能晚于现在"))
            if status not in FINISHED:
                f.problem("closed_at", _("只有已办结或已作废的工单有办结时间"))
        elif status in FINISHED:
            f.problem("closed_at", _("已办结或已作废的工单须填写办结时间"))
        if due_at is not None and received_at is not None and due_at < received_at:
            f.problem("due_at", _("办理期限早于受理时间"), _("不早于受理时间"))

    def _place(self, f: _Fields, lon: float | None, lat: float | None) -> tuple[Region | None, int | None]:
        """The community of the grid containing the point, else the region named by code."""
        assert self.grids is not None
        hit = self.grids.locate(lon, lat) if lon is not None and lat is not None else None
        code = hit[1] if hit else f.values.get("region_code", "")
        if not code:
            if lon is not None:
                f.problem("lon", _("该坐标不在任何网格内，请核对坐标或填写区划代码"))
            else:
                f.problem("region_code", _("没有网格内的坐标时，区划代码必填"), _("12 位区划代码，例如 339922001001"))
            return None, None
        region = self._region(f, code)
        if region is not None and self.subject is not None and not can_see_region(self.subject, region.code):
            f.problem("region_code" if hit is None else "lon",
                      _("地点不在您的管辖范围（{n}）内", n=self.subject.region_name))
            return None, None
        return region, hit[0] if hit else None

    def _region(self, f: _Fields, code: str) -> Region | None:
        if not (len(code) == 12 and code.isdigit()):
            expected = _("12 位数字，例如 339922001001")
            if "E+" in code.upper():
                f.problem("region_code", _("区划代码被 Excel 显示成了科学计数法（{v}），后几位已丢失", v=code),
                          _("把该列设为“文本”格式后重新填写完整代码"))
            else:
                f.problem("region_code", _("区划代码“{v}”格式不对", v=code), expected)
            return None
        if code not in self.regions:
            self.regions[code] = repo.region_by_code(self.session, code)
        if self.regions[code] is None:
            f.problem("region_code", _("区划 {c} 不存在", c=code))
        return self.regions[code]

    def _category(self, f: _Fields) -> Category | None:
        code = f.text("category_code", CODE_MAX)
        if not code:
            return None
        if code not in self.categories:
            self.categories[code] = repo.category_by_code(self.session, code)
        if self.categories[code] is None:
            f.problem("category_code", _("分类 {c} 不存在", c=code))
        return self.categories[code]

    def _department(self, f: _Fields, status: OrderStatus) -> Department | None:
        code = f.text("department_code", CODE_MAX)
        if not code:
            if status in NEEDS_DEPARTMENT:
                f.problem("department_code", _("状态为“{s}”的工单须填写主办部门", s=_(STATUS_LABELS[status])))
            return None
        if code not in self.departments:
            self.departments[code] = repo.department_by_code(self.session, self.subject, code)
        if self.departments[code] is None:
            f.problem("department_code", _("部门 {c} 不存在或不在您的管辖范围内", c=code))
        return self.departments[code]

    def _without_duplicates(self, checked: list[tuple[_Fields, _Row | None]]) -> list[_Row]:
        """The good rows, after refusing outside ids seen earlier in this batch, earlier in the file
        (already written in this transaction) or in an earlier import from the same source."""
        first_in_batch: dict[str, int] = {}
        ids = {f.values["external_id"] for f, _row in checked if f.values.get("external_id")}
        earlier = {ext: (attrs, order_id, code) for ext, attrs, order_id, code
                   in repo.imported_appeals(self.session, ids) if (attrs or {}).get("import_source") == self.source}
        good: list[_Row] = []
        for f, row in checked:
            external_id = f.values.get("external_id", "")
            if external_id in earlier:
                attrs, order_id, code = earlier[external_id]
                if self.first_id is not None and order_id >= self.first_id:
                    f.problem("external_id", _("原系统编号 {v} 与第 {r} 行重复", v=external_id,
                                               r=attrs.get("import_row")), _("同一文件中每个编号只能出现一次"))
                else:
                    f.problem("external_id", _("原系统编号 {v} 已从“{s}”导入过（工单 {c}）", v=external_id,
                                               s=self.source, c=code))
            elif external_id in first_in_batch:
                f.problem("external_id", _("原系统编号 {v} 与第 {r} 行重复", v=external_id,
                                           r=first_in_batch[external_id]), _("同一文件中每个编号只能出现一次"))
            elif external_id:
                first_in_batch[external_id] = f.number
            if f.problems:
                self.report.add(f.problems)
            elif row is not None:
                good.append(row)
        return good

    # Writing ---------------------------------------------------------------------------------

    def _order_ids(self, n: int) -> list[int]:
        if repo.is_postgres(self.session):
            ids = repo.next_order_ids(self.session, n)
        else:
            if self.next_id is None:
                repo.take_sqlite_write_lock(self.session)
                self.next_id = repo.max_order_id(self.session) + 1
            ids = list(range(self.next_id, self.next_id + n))
            self.next_id += n
        if self.first_id is None:
            self.first_id = ids[0]
        return ids

    def _tracking_codes(self, n: int) -> list[str]:
        """Fresh codes, unique in the file and in the database (earlier batches included)."""
        codes: set[str] = set()
        while len(codes) < n:
            fresh = {new_tracking_code() for _i in range(n - len(codes))} - codes
            codes |= fresh - repo.taken_tracking_codes(self.session, fresh)
        return list(codes)

    def _write(self, rows: list[_Row]) -> None:
        orders, appeals, assignments, events = [], [], [], []
        for row, order_id, tracking in zip(rows, self._order_ids(len(rows)), self._tracking_codes(len(rows)),
                                           strict=True):
            order, history = self._order(row, order_id)
            orders.append(order)
            appeals.append(self._appeal(row, order_id, tracking))
            if row.department is not None and row.status != OrderStatus.registered:
                assignments.append({"work_order_id": order_id, "department_id": row.department.id,
                                    "role": AssignmentRole.lead.value, "state": ASSIGNMENT_STATE[row.status].value,
                                    "dispatched_at": row.received_at, "signed_at": None, "signed_by_id": None})
            events += history
        for model, batch in ((WorkOrder, orders), (Appeal, appeals), (Assignment, assignments), (OrderEvent, events)):
            repo.insert_rows(self.session, model, batch)
        self.report.created += len(rows)

    def _order(self, row: _Row, order_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        region = command_region(row.place)
        dispatched = row.department is not None and row.status != OrderStatus.registered
        category_id = row.category.id if row.category else None
        cal = self.clocks.calendar(region.id)
        handle_due = row.due_at
        if handle_due is None and dispatched:
            handle_due = due(row.received_at, self.clocks.limit(category_id, row.urgency, Stage.handle), cal)
        stage = running_stage(row.status)
        stage_due = None
        if stage is Stage.handle:
            stage_due = handle_due
        elif stage is not None:
            stage_due = due(row.received_at, self.clocks.limit(category_id, row.urgency, stage), cal)
        overdue: tuple[datetime, Stage] | None = None
        if row.status == OrderStatus.closed and handle_due is not None and row.closed_at is not None \
                and row.closed_at > handle_due:
            overdue = (handle_due, Stage.handle)
        elif stage is not None and stage_due is not None and stage_due <= self.at:
            overdue = (stage_due, stage)
        order = {
            "id": order_id, "code": f"GD{row.received_at.astimezone(SHANGHAI):%Y%m%d}{order_id:06d}",
            "status": row.status.value, "version": 1, "urgency": row.urgency.value, "category_id": category_id,
            "region_id": region.id, "region_code": region.code, "place_code": row.place.code,
            "grid_id": row.grid_id, "channel": row.channel.value, "title": row.title, "description": row.text,
            "address": row.address, "lon": row.lon, "lat": row.lat,
            "suggested_department_id": row.department.id if row.department and not dispatched else None,
            "extension_pending": False, "awaiting_review": False, "grid_report": row.channel == Channel.grid,
            "rework_count": 0, "rating": row.rating, "merged_into_id": None,
            "stage": stage.value if stage else None, "stage_started_at": row.received_at if stage else None,
            "due_at": stage_due, "handle_due_at": handle_due, "clock_left_seconds": None,
            "overdue_at": overdue[0] if overdue else None, "warned_at": None,
            "closed_at": row.closed_at if row.status in FINISHED else None, "created_by_id": None,
            "created_at": row.received_at, "updated_at": self.at,
        }
        return order, self._history(row, order_id, dispatched, overdue)

    def _history(self, row: _Row, order_id: int, dispatched: bool,
                 overdue: tuple[datetime, Stage] | None) -> list[dict[str, Any]]:
        """The order's events in time order, each from the status the previous one left."""
        dept = row.department
        steps: list[tuple[str, OrderStatus | None, datetime, dict[str, Any]]] = [
            ("register", OrderStatus.registered, row.received_at, {"channel": row.channel.value})]
        if dispatched:
            assert dept is not None
            steps.append((Action.dispatch.value, OrderStatus.dispatched, row.received_at,
                          {"department": dept.code, "assisting": []}))
        for action in MOVES_AFTER_DISPATCH.get(row.status, ()):
            steps.append((action.value, MOVE_TARGET[action], row.received_at, {}))
        if row.closed_at is not None:
            steps += self._closing(row, row.closed_at)
        if overdue is not None:
            steps.append(("overdue", None, overdue[0], {"stage": overdue[1].value, "due_at": overdue[0].isoformat()}))
        steps.sort(key=lambda s: s[2])  # stable: events of the same instant keep their order
        events, before = [], None
        for name, after, at, data in steps:
            to_status = after or before
            assert to_status is not None
            events.append({
                "work_order_id": order_id, "at": at, "actor_id": None, "actor_name": self.actor,
                "department_id": dept.id if dept is not None and name in DEPARTMENT_ACTIONS else None,
                "action": name, "from_status": before.value if before else None, "to_status": to_status.value,
                "reason": row.closure_note if name == Action.cancel.value else "",
                "data": {**data, "imported": True, "source": self.source}, "rework": False,
                "public": name != "overdue",
            })
            before = to_status
        return events

    def _closing(self, row: _Row, at: datetime) -> list[tuple[str, OrderStatus | None, datetime, dict[str, Any]]]:
        if row.status == OrderStatus.cancelled:
            return [(Action.cancel.value, OrderStatus.cancelled, at, {})]
        if row.department is None:  # answered at the desk, never dispatched
            return [(Action.answer.value, OrderStatus.closed, at, {"answer": row.closure_note})]
        handled = (Action.report.value, OrderStatus.handled, at, {"report": row.closure_note, "photos": []})
        if row.rating is not None:
            return [handled, (Action.callback.value, OrderStatus.closed, at, {"rating": row.rating, "comment": ""})]
        return [handled, (Action.close.value, OrderStatus.closed, at, {})]

    def _appeal(self, row: _Row, order_id: int, tracking: str) -> dict[str, Any]:
        return {
            "tracking_code": tracking, "channel": row.channel.value, "caller_name": row.caller_name,
            "caller_phone": row.caller_phone, "caller_id_number": "", "anonymous": False, "text": row.text,
            "address": row.address, "lon": row.lon, "lat": row.lat, "region_code": row.place.code,
            "category_id": row.category.id if row.category else None, "work_order_id": order_id,
            "created_by_id": None, "external_id": row.external_id, "source_key_id": None,
            "attributes": {"import_source": self.source, "import_row": row.number}, "media_url": "",
            "created_at": row.received_at, "updated_at": self.at,
        }


def _columns(first: dict[str, str]) -> dict[str, str]:
    """The file's columns by field name (read from the first row's keys); a missing required column
    refuses the whole file."""
    columns: dict[str, str] = {}
    for header in first:
        name = HEADERS.get(_header(header))
        if name and name not in columns.values():
            columns[header] = name
    present = set(columns.values())
    missing = [c for c in COLUMNS if c.required and c.name not in present]
    if not {"region_code", "lon"} & present:
        missing.append(next(c for c in COLUMNS if c.name == "region_code"))
    if missing:
        problems = [FieldProblem(c.name, _("缺少“{f}”列", f=_(c.label)),
                                 _("表头写作以下任一列名：{names}", names="、".join((_(c.label), c.name, *c.aliases))))
                    for c in missing]
        raise ImportRejected(_("表头缺少必需的列：{names}", names="、".join(_(c.label) for c in missing)),
                             AppealImportReport(problems=problems))
    return columns
