"""Exports of the order list to Excel (.xlsx) and CSV: every order the /orders list would show with
the same filters (work_order.repository.queue, hence the same scope), not just one page.

Both stream: rows are read `yield_per` at a time, CSV is sent as it is written (with a UTF-8 BOM, so
that Excel opens the Chinese text correctly), and Excel is written by openpyxl's write-only mode to a
temporary file. Times are Beijing time; statuses, urgencies and channels are their Chinese names (or
English ones, for an English-speaking user). Text that a spreadsheet would run as a formula (a
citizen's "=HYPERLINK(…)") is written as text.
"""

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy.orm import Session

from zhili.auth.subject import Subject
from zhili.db import get_sessionmaker
from zhili.errors import FieldProblem, Invalid
from zhili.kit.calendar import SHANGHAI
from zhili.kit.i18n import N_, _
from zhili.kit.time import now
from zhili.models import OrderStatus
from zhili.transfer import repository as repo
from zhili.transfer.clocks import Clocks
from zhili.transfer.labels import CHANNEL_LABELS, URGENCY_LABELS
from zhili.work_order.repository import QUEUE_FLAGS
from zhili.work_order.workflow import STATUS_LABELS

YIELD_PER: Final = 1000
CSV_FLUSH_CHARS: Final = 64 * 1024
# Excel's sheet holds 1,048,576 rows: the title and header rows, then the orders.
XLSX_MAX_ROWS: Final = 1_048_576 - 2
COLOURS: Final = {"green": N_("正常"), "yellow": N_("临期"), "red": N_("超期")}
FLAG_LABELS: Final = {"extension_pending": N_("延期申请"), "awaiting_review": N_("不满意待审核")}
FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")
TIME_FORMAT: Final = "%Y-%m-%d %H:%M"


@dataclass(frozen=True)
class Column:
    title: str
    width: float
    value: Callable[[dict[str, Any], "Labels"], Any]


@dataclass(frozen=True)
class Labels:
    """The names shown in a file, translated once when the export starts (the rows are written later,
    possibly in another thread)."""

    status: dict[str, str]
    urgency: dict[str, str]
    channel: dict[str, str]
    colour: dict[str, str]
    yes: str
    no: str

    @classmethod
    def translated(cls) -> "Labels":
        return cls(status={s.value: _(label) for s, label in STATUS_LABELS.items()},
                   urgency={u.value: _(label) for u, label in URGENCY_LABELS.items()},
                   channel={c.value: _(label) for c, label in CHANNEL_LABELS.items()},
                   colour={c: _(label) for c, label in COLOURS.items()}, yes=_("是"), no=_("否"))


def _local(value: datetime | None) -> datetime | None:
    """Beijing wall-clock time without a zone: what a spreadsheet cell can hold."""
    return value.astimezone(SHANGHAI).replace(tzinfo=None) if value else None


COLUMNS: Final = (
    Column(N_("工单编号"), 18, lambda r, lb: r["code"]),
    Column(N_("标题"), 28, lambda r, lb: r["title"]),
    Column(N_("状态"), 9, lambda r, lb: lb.status.get(str(r["status"]), str(r["status"]))),
    Column(N_("紧急程度"), 9, lambda r, lb: lb.urgency.get(str(r["urgency"]), str(r["urgency"]))),
    Column(N_("来源渠道"), 11, lambda r, lb: lb.channel.get(str(r["channel"]), str(r["channel"]))),
    Column(N_("事项分类"), 16, lambda r, lb: r["category_name"] or ""),
    Column(N_("分类编码"), 14, lambda r, lb: r["category_code"] or ""),
    Column(N_("事发地"), 14, lambda r, lb: r["place_name"] or ""),
    Column(N_("区划代码"), 14, lambda r, lb: r["place_code"]),
    Column(N_("网格编码"), 17, lambda r, lb: r["grid_code"] or ""),
    Column(N_("主办部门"), 20, lambda r, lb: r["lead_department"] or ""),
    Column(N_("地址"), 26, lambda r, lb: r["address"]),
    Column(N_("经度"), 11, lambda r, lb: r["lon"]),
    Column(N_("纬度"), 11, lambda r, lb: r["lat"]),
    Column(N_("登记时间"), 17, lambda r, lb: _local(r["created_at"])),
    Column(N_("办理期限"), 17, lambda r, lb: _local(r["handle_due_at"])),
    Column(N_("当前环节期限"), 17, lambda r, lb: _local(r["due_at"])),
    Column(N_("办结时间"), 17, lambda r, lb: _local(r["closed_at"])),
    Column(N_("期限状态"), 9, lambda r, lb: lb.colour.get(r["colour"], "") if r["colour"] else ""),
    Column(N_("曾超期"), 8, lambda r, lb: lb.yes if r["overdue_at"] else lb.no),
    Column(N_("满意度"), 8, lambda r, lb: r["rating"]),
    Column(N_("返工次数"), 9, lambda r, lb: r["rework_count"]),
    Column(N_("诉求内容"), 60, lambda r, lb: r["description"]),
)


@dataclass(frozen=True)
class OrderFilters:
    """The filters of the /orders list (and of the API's order list), already checked."""

    status: tuple[str, ...] = ()
    colour: str = ""
    category_code: str = ""
    within: str = ""
    department_id: int | None = None
    overdue: bool | None = None
    q: str = ""
    sort: str = "new"
    flag: str = ""

    @classmethod
    def of(cls, *, status: list[str] | None = None, colour: str | None = None, category_code: str | None = None,
           within: str | None = None, department_id: str | int | None = None, overdue: str | bool | None = None,
           q: str | None = None, sort: str | None = None, flag: str | None = None) -> "OrderFilters":
        """Filters as a form or a query sends them: unknown values are ignored, like the list does."""
        statuses = {s.value for s in OrderStatus}
        if isinstance(department_id, str):
            department_id = int(department_id) if department_id.isdigit() else None
        if isinstance(overdue, str):
            overdue = {"true": True, "false": False}.get(overdue)
        return cls(status=tuple(s for s in status or () if s in statuses),
                   colour=colour if colour in COLOURS else "", category_code=(category_code or "").strip(),
                   within=(within or "").strip(), department_id=department_id or None, overdue=overdue,
                   q=(q or "").strip(), sort="due" if sort == "due" else "new",
                   flag=flag if flag in QUEUE_FLAGS else "")

    def query(self) -> dict[str, Any]:
        return {"status": list(self.status) or None, "category_code": self.category_code or None,
                "within": self.within or None, "department_id": self.department_id, "q": self.q or None,
                "overdue": self.overdue, "sort": self.sort, "flag": self.flag or None}

    def describe(self, session: Session, subject: Subject, labels: Labels) -> str:
        names = repo.filter_names(session, subject, category_code=self.category_code or None,
                                  within=self.within or None, department_id=self.department_id)
        parts = []
        if self.status:
            parts.append(_("状态：{v}", v="、".join(labels.status[s] for s in self.status)))
        if self.flag:
            parts.append(_(FLAG_LABELS[self.flag]))
        if self.colour:
            parts.append(_("期限：{v}", v=labels.colour[self.colour]))
        if "category" in names:
            parts.append(_("分类：{v}", v=names["category"]))
        if "within" in names:
            parts.append(_("区域：{v}", v=names["within"]))
        if "department" in names:
            parts.append(_("主办部门：{v}", v=names["department"]))
        if self.overdue is not None:
            parts.append(_("已超期") if self.overdue else _("未超期"))
        if self.q:
            parts.append(_("搜索：“{v}”", v=self.q))
        return "；".join(parts) or _("全部工单")


def rows(session: Session, subject: Subject, filters: OrderFilters, labels: Labels) -> Iterator[list[Any]]:
    """The export's rows, as cell values (times in Beijing time, without a zone)."""
    clocks, at = Clocks(session), now()
    stmt = repo.export_rows(subject, **filters.query()).execution_options(yield_per=YIELD_PER)
    for row in session.execute(stmt):
        colour = clocks.colour(region_id=row.region_id, category_id=row.category_id, urgency=str(row.urgency),
                               stage=row.stage, started=row.stage_started_at, due=row.due_at, at=at)
        if filters.colour and (colour is None or colour.value != filters.colour):
            continue
        values = {**row._mapping, "colour": colour.value if colour else None}
        yield [column.value(values, labels) for column in COLUMNS]


def titles() -> list[str]:
    return [_(c.title) for c in COLUMNS]


def file_name(extension: str) -> tuple[str, str]:
    """An ASCII name and a Chinese one (for browsers that read RFC 5987 names)."""
    stamp = f"{now().astimezone(SHANGHAI):%Y%m%d-%H%M}"
    return f"work-orders-{stamp}.{extension}", f"{_('工单导出')}-{stamp}.{extension}"


# CSV -------------------------------------------------------------------------------------------


def csv_stream(subject: Subject, filters: OrderFilters) -> Iterator[bytes]:
    """The CSV file in pieces, read through its own session: the request's is closed before a
    streamed answer is sent."""
    labels, header = Labels.translated(), titles()

    def pieces() -> Iterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        yield "\ufeff".encode()
        with get_sessionmaker()() as session:
            for values in rows(session, subject, filters, labels):
                writer.writerow([_csv_cell(v) for v in values])
                if buffer.tell() >= CSV_FLUSH_CHARS:
                    yield buffer.getvalue().encode()
                    buffer.seek(0)
                    buffer.truncate()
        yield buffer.getvalue().encode()

    return pieces()


def _csv_cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime(TIME_FORMAT)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


# Excel -----------------------------------------------------------------------------------------


def write_xlsx(session: Session, subject: Subject, filters: OrderFilters, path: Path) -> None:
    """Write the export to `path`; refused (nothing written) beyond what one sheet holds."""
    stmt = repo.export_rows(subject, **filters.query())
    if repo.count(session, stmt) > XLSX_MAX_ROWS:
        message = _("符合条件的工单超过 Excel 的 {n} 行上限，请缩小筛选范围，或导出 CSV", n=f"{XLSX_MAX_ROWS:,}")
        raise Invalid(message, [FieldProblem("format", message, "csv")])
    labels = Labels.translated()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("工单"))
    sheet.freeze_panes = "A3"
    for i, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = column.width
    title = WriteOnlyCell(sheet, value=_("{region} 工单导出 · {filters} · 导出时间 {at}（北京时间）",
                                         region=subject.region_name, filters=filters.describe(session, subject, labels),
                                         at=f"{now().astimezone(SHANGHAI):%Y-%m-%d %H:%M}"))
    title.font = Font(bold=True, size=12)
    sheet.append([title])
    sheet.append([_header_cell(sheet, text) for text in titles()])
    sheet.auto_filter.ref = f"A2:{get_column_letter(len(COLUMNS))}2"
    for values in rows(session, subject, filters, labels):
        sheet.append([_xlsx_cell(sheet, v) for v in values])
    workbook.save(path)


def _header_cell(sheet: Any, text: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=text)
    cell.font = Font(bold=True)
    cell.fill = PatternFill("solid", fgColor="E8EEF5")
    cell.alignment = Alignment(vertical="center")
    return cell


def _xlsx_cell(sheet: Any, value: Any) -> Any:
    if isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd hh:mm"
        return cell
    if isinstance(value, str) and value.startswith("="):  # openpyxl would store it as a formula
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    return value

