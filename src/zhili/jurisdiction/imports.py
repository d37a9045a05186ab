"""All-or-nothing import of regions and grids from GeoJSON, Excel (.xlsx) and CSV files.

Every row is checked with the same rules as the single-row API (`service.region_problems`,
`service.grid_problems`, `service.parse_boundary`) before anything is written; one bad row refuses the
whole file with a report that names each bad row and field. Importing the same file twice updates the
rows it created the first time and changes nothing else, so a failed or doubtful upload can simply be
sent again.

Row numbers in a report are where a person finds the row in the file they uploaded:
- GeoJSON: the 1-based index of the feature in `features`;
- CSV and Excel: the spreadsheet row number as Excel shows it, the header row included (so the first
  data row under a header in row 1 is row 2);
- problems with the file as a whole (unreadable, empty, unknown format) carry no row (`row` is None).
"""

import codecs
import csv
import io
import json
import re
import zipfile
from collections import defaultdict
from collections.abc import Callable, Generator, Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, BinaryIO

from pydantic import BaseModel
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session

from zhili.auth import audit
from zhili.auth.subject import Subject
from zhili.config import get_settings
from zhili.errors import FieldProblem, ImportRejected, ImportReport, Invalid, TooLarge
from zhili.jurisdiction import service
from zhili.kit.codes import LEVEL_DEPTH, check_grid_code, check_region_code, region_level
from zhili.kit.i18n import _
from zhili.models import Grid, GridKind, Region

# A county's grids are a few thousand rows; a file far beyond that is a mistake, not a county.
MAX_ROWS = 20_000
# An .xlsx is a zip: refuse archives that would unpack to far more than any real sheet (zip bombs).
MAX_XLSX_UNPACKED_BYTES = 256 * 1024 * 1024
# Where to look for the header row: templates often carry a title row or two above it.
HEADER_SEARCH_ROWS = 10
NAME_MAX, NOTE_MAX = 100, 500
# IN lists stay well below every backend's bound-parameter limit.
_CHUNK = 500

# A village boundary written as WKT easily passes the csv module's default 128 KiB field limit; the
# upload cap bounds the field size instead.
csv.field_size_limit(max(csv.field_size_limit(), 64 * 1024 * 1024))

# Column names (and GeoJSON property names) accepted for each field, compared after `_header()`.
REGION_COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("code", "区划代码", "代码", "统计用区划代码"),
    "name": ("name", "名称", "区划名称"),
    "boundary": ("boundary", "geometry", "wkt", "geojson", "边界"),
}
GRID_COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("code", "网格编码", "编码", "网格代码"),
    "name": ("name", "网格名称", "名称"),
    "kind": ("kind", "类型", "网格类型"),
    "boundary": ("boundary", "geometry", "wkt", "geojson", "边界"),
    "note": ("note", "备注"),
}
GRID_KINDS = {
    "basic": GridKind.basic, "基础网格": GridKind.basic, "基础": GridKind.basic,
    "special": GridKind.special, "专属网格": GridKind.special, "专属": GridKind.special,
    "industry": GridKind.special,
}


class ImportResult(BaseModel):
    """The JSON answer of an accepted import (a refused one is the ImportRejected error body)."""

    rows: int
    created: int
    updated: int
    dry_run: bool
    errors: list[dict[str, Any]] = []

    @classmethod
    def of(cls, report: ImportReport, dry_run: bool) -> "ImportResult":
        return cls(rows=report.rows, created=report.created, updated=report.updated, dry_run=dry_run,
                   errors=[p.as_dict() for p in report.problems])


def read_upload(stream: BinaryIO) -> bytes:
    """The uploaded bytes, refused past the upload cap (the body-limit middleware should have refused
    already; this guards callers that reach the file another way)."""
    limit = get_settings().upload_max_bytes
    content = stream.read(limit + 1)
    if len(content) > limit:
        raise TooLarge(_("上传内容超过 {mb} MB 上限，请拆分后再上传", mb=round(limit / 1048576, 1)))
    return content


# Regions ---------------------------------------------------------------------------------------


def import_regions(
    session: Session, subject: Subject, filename: str, content: bytes, *, dry_run: bool = False,
) -> ImportReport:
    """Create or update regions from a file: `code` (12 digits), `name`, optional `boundary`.

    Level and parent follow from the code; a parent may be another row of the same file, in any order
    (rows are applied top level first). An existing region keeps its boundary when its row has none.
    Raises ImportRejected (nothing written) when any row is wrong; in a dry run nothing is written
    either way and the report says what would be created and updated.
    """
    service.require_admin(subject)
    rows = _read(filename, content, REGION_COLUMNS, required=("code", "name"))
    report = ImportReport(rows=len(rows))
    codes = {c for r in rows if not check_region_code(c := _code(r.values.get("code")))}
    existing = {r.code: r for r in _by_code(session, Region, codes)}

    first_seen: dict[str, int] = {}
    accepted: list[tuple[int, str, str, BaseGeometry | None]] = []
    for row in rows:
        if row.problems:
            report.problems += row.problems
            continue
        code, name = _code(row.values.get("code")), _text(row.values.get("name"))
        problems = _code_problems(code, check_region_code, "330122101201")
        if not problems and code in first_seen:
            problems.append(_duplicate(code, first_seen[code]))
        if problems:
            problems += _name_problems(name, required=True)
        else:
            first_seen[code] = row.number
            problems = service.region_problems(session, subject, code, name, pending=codes)
            problems += _name_problems(name, required=False)
        geom, problem = service.parse_boundary(row.values.get("boundary"))
        if problem:
            problems.append(problem)
        report.problems += _numbered(problems, row.number)
        if not problems:
            accepted.append((row.number, code, name, geom))

    _refuse_if_bad(report)
    report.created = sum(1 for _n, code, _name, _g in accepted if code not in existing)
    report.updated = len(accepted) - report.created
    if dry_run:
        return report
    # Parents before children, whatever the order of the file.
    for _number, code, name, geom in sorted(accepted, key=lambda a: (LEVEL_DEPTH[region_level(a[1])], a[0])):
        service.apply_region(session, existing.get(code), code, name, geom, keep_boundary=True)
    _audit(session, subject, "region.import", "region", filename, report)
    return report


# Grids -----------------------------------------------------------------------------------------


def import_grids(
    session: Session, subject: Subject, filename: str, content: bytes, *, dry_run: bool = False,
) -> ImportReport:
    """Create or update grids from a file: `code` (15 digits), `name`, `boundary` (required), optional
    `kind` (basic/special; a new grid without one is basic, an existing one keeps its kind) and `note`
    (an existing grid keeps its note when the file has no note column or property).

    Each grid must lie inside its community and overlap neither a stored grid of that community nor
    another grid of the file; the stored versions of grids the file replaces are not compared against,
    which is what makes a re-import of the same file pass. Raises ImportRejected (nothing written) when
    any row is wrong; a dry run writes nothing either way.
    """
    service.require_admin(subject)
    rows = _read(filename, content, GRID_COLUMNS, required=("code", "name", "boundary"))
    report = ImportReport(rows=len(rows))
    codes = {c for r in rows if not check_grid_code(c := _code(r.values.get("code")))}
    if not dry_run:
        _lock_communities(session, {c[:12] for c in codes})
    existing = {g.code: g for g in _by_code(session, Grid, codes)}
    # Per community: the file's codes (their stored versions are being replaced) and the grids of the
    # file seen so far (each pair of file grids is compared once, on the later row).
    replacing: dict[str, set[str]] = defaultdict(set)
    for code in codes:
        replacing[code[:12]].add(code)
    earlier: dict[str, list[tuple[str, BaseGeometry]]] = defaultdict(list)

    first_seen: dict[str, int] = {}
    accepted: list[tuple[Region, str, str, GridKind, BaseGeometry, str | None]] = []
    for row in rows:
        if row.problems:
            report.problems += row.problems
            continue
        code, name = _code(row.values.get("code")), _text(row.values.get("name"))
        kind, problems = _grid_kind(row.values.get("kind"), existing.get(code))
        note = _text(row.values["note"]) if "note" in row.values else None
        if note is not None and len(note) > NOTE_MAX:
            problems.append(FieldProblem("note", _("备注最多 {n} 个字符", n=NOTE_MAX)))
        problems += _name_problems(name, required=True)
        geom, problem = service.parse_boundary(row.values.get("boundary"))
        if problem:
            problems.append(problem)
        elif geom is None:
            problems.append(FieldProblem("boundary", _("网格必须有边界"),
                                         _("WGS-84 经纬度的 GeoJSON Polygon/MultiPolygon 或 WKT")))
        rule_problems = _code_problems(code, check_grid_code, "330122101201001")
        if not rule_problems and code in first_seen:
            rule_problems.append(_duplicate(code, first_seen[code]))
        community = None
        if not rule_problems:
            first_seen[code] = row.number
            neighbours = earlier[code[:12]]
            rule_problems, community = service.grid_problems(
                session, subject, code, geom, exclude_codes=replacing[code[:12]], pending=neighbours)
            if geom is not None:
                neighbours.append((code, geom))
        problems = rule_problems + problems
        report.problems += _numbered(problems, row.number)
        if not problems and community is not None and geom is not None:
            accepted.append((community, code, name, kind, geom, note))

    _refuse_if_bad(report)
    report.created = sum(1 for a in accepted if a[1] not in existing)
    report.updated = len(accepted) - report.created
    if dry_run:
        return report
    for community, code, name, kind, geom, note in accepted:
        service.apply_grid(session, existing.get(code), community, code, name, kind, geom, note)
    _audit(session, subject, "grid.import", "grid", filename, report)
    return report


def _grid_kind(value: Any, grid: Grid | None) -> tuple[GridKind, list[FieldProblem]]:
    text = _text(value).lower()
    if not text:
        return (grid.kind if grid else GridKind.basic), []
    if text in GRID_KINDS:
        return GRID_KINDS[text], []
    return GridKind.basic, [FieldProblem("kind", _("网格类型“{v}”无法识别", v=_text(value)),
                                         _("basic（基础网格）或 special（专属网格）"))]


# Shared checks ---------------------------------------------------------------------------------


def _code_problems(code: str, check: Callable[[str], str | None], example: str) -> list[FieldProblem]:
    """Problems that stop a row's code from being looked up or compared with the other rows."""
    if not code:
        return [FieldProblem("code", _("缺少代码"), example)]
    if re.fullmatch(r"\d(\.\d+)?[eE]\+?\d+", code):
        return [FieldProblem("code", _("代码被 Excel 显示成了科学计数法（{v}），后几位已丢失", v=code),
                             _("把该列设为“文本”格式后重新填写完整代码，例如 {e}", e=example))]
    if problem := check(code):
        return [FieldProblem("code", problem, example)]
    return []


def _name_problems(name: str, *, required: bool) -> list[FieldProblem]:
    if required and not name:
        return [FieldProblem("name", _("名称不能为空"))]
    if len(name) > NAME_MAX:
        return [FieldProblem("name", _("名称最多 {n} 个字符", n=NAME_MAX))]
    return []


def _duplicate(code: str, first_row: int | None) -> FieldProblem:
    return FieldProblem("code", _("代码 {c} 与第 {r} 行重复", c=code, r=first_row),
                        _("同一文件中每个代码只能出现一次"))


def _numbered(problems: list[FieldProblem], row: int) -> list[FieldProblem]:
    for p in problems:
        p.row = row
    return problems


def _refuse_if_bad(report: ImportReport) -> None:
    if not report.problems:
        return
    bad_rows = {p.row for p in report.problems if p.row is not None}
    message = _("{n} 行有问题，未导入任何数据", n=len(bad_rows)) if bad_rows else report.problems[0].problem
    raise ImportRejected(message, report)


def _by_code(session: Session, model: type[Region] | type[Grid], codes: Iterable[str]) -> list[Any]:
    ordered = sorted(codes)
    found: list[Any] = []
    for i in range(0, len(ordered), _CHUNK):
        found += session.scalars(select(model).where(model.code.in_(ordered[i:i + _CHUNK]))).unique()
    return found


def _lock_communities(session: Session, codes: set[str]) -> None:
    """Two imports into one community at the same time would each check overlaps without the other's
    grids, and both create the same new codes. Locking the community rows (PostgreSQL; SQLite has one
    writer anyway) makes the second import wait, then validate against what the first committed."""
    ordered = sorted(codes)  # one lock order for every import: no deadlocks
    for i in range(0, len(ordered), _CHUNK):
        session.execute(select(Region.id).where(Region.code.in_(ordered[i:i + _CHUNK]))
                        .order_by(Region.code).with_for_update())


def _audit(session: Session, subject: Subject, action: str, target_type: str, filename: str,
           report: ImportReport) -> None:
    audit.record(session, action, actor_id=subject.id, actor_name=subject.name, target_type=target_type,
                 region_code=subject.region_code, filename=(filename or "")[:200], rows=report.rows,
                 created=report.created, updated=report.updated)


# Reading files ---------------------------------------------------------------------------------


@dataclass
class SourceRow:
    """One data row: its number as the user finds it, and its values by field name. A field whose
    column (or property) is absent from the file is absent here; an empty cell is present and empty."""

    number: int
    values: dict[str, Any]
    problems: list[FieldProblem] = field(default_factory=list)


def _file_problem(message: str, expected: str = "") -> ImportRejected:
    return ImportRejected(message, ImportReport(problems=[FieldProblem("file", message, expected)]))


def _read(filename: str, content: bytes, columns: dict[str, tuple[str, ...]],
          required: Sequence[str]) -> list[SourceRow]:
    kind = _format(filename or "", content)
    if not content.strip() or content.strip() == codecs.BOM_UTF8:
        raise _file_problem(_("文件为空"))
    if kind == "geojson":
        rows = _geojson_rows(content, columns)
    else:
        with closing(_xlsx_cells(content) if kind == "xlsx" else _csv_cells(content)) as cells:
            rows = _table_rows(cells, columns, required)
    if not rows:
        raise _file_problem(_("文件中没有数据行"), _("表头下方每行一条记录，或 GeoJSON 的 features 中每项一条"))
    return rows


def _format(filename: str, content: bytes) -> str:
    """By extension; a name without a known one is recognised by its first bytes."""
    ext = PurePosixPath(filename.replace("\\", "/")).suffix.lower()
    accepted = _("GeoJSON（.geojson/.json）、Excel（.xlsx）或 CSV（.csv）")
    if ext in (".geojson", ".json"):
        return "geojson"
    if ext in (".xlsx", ".xlsm"):
        return "xlsx"
    if ext in (".csv", ".txt", ".tsv"):
        return "csv"
    if ext == ".xls" or content.startswith(b"\xd0\xcf\x11\xe0"):  # the old binary Excel format
        message = _("不支持旧版 Excel（.xls）文件：请在 Excel 中“另存为” .xlsx 或 CSV（UTF-8）后上传")
        raise Invalid(message, [FieldProblem("file", message, accepted)])
    if content.startswith(b"PK\x03\x04"):
        return "xlsx"
    if content.lstrip(codecs.BOM_UTF8 + b" \t\r\n")[:1] == b"{":
        return "geojson"
    message = _("不支持的文件格式“{ext}”：请上传 {accepted} 文件", ext=ext or filename, accepted=accepted)
    raise Invalid(message, [FieldProblem("file", message, accepted)])


def _decode(content: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030, the superset of GBK that Excel in
    China writes when it saves "CSV (逗号分隔)"."""
    if content.startswith(codecs.BOM_UTF8):
        encodings: tuple[str, ...] = ("utf-8-sig",)
    elif content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ("utf-16",)
    else:
        encodings = ("utf-8", "gb18030")
    for encoding in encodings:
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _file_problem(_("无法识别文件的文字编码"), _("UTF-8 或 GBK 编码的文本"))


def _header(name: Any) -> str:
    """A column or property name as compared with the aliases: trimmed, lower-case, without a
    required-marker star or a note in brackets (“网格编码（15位）*”)."""
    text = re.sub(r"[（(【\[].*?[)）】\]]", "", str(name or ""))
    return text.replace("\ufeff", "").strip().rstrip("*＊").strip().lower()


def _aliases(columns: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {_header(alias): name for name, aliases in columns.items() for alias in aliases}


def _geojson_rows(content: bytes, columns: dict[str, tuple[str, ...]]) -> list[SourceRow]:
    try:
        data = json.loads(_decode(content))
    except json.JSONDecodeError as exc:
        raise _file_problem(_("文件不是有效的 JSON：第 {line} 行第 {col} 列，{msg}", line=exc.lineno,
                              col=exc.colno, msg=exc.msg)) from exc
    except RecursionError as exc:
        raise _file_problem(_("文件不是有效的 GeoJSON：嵌套层数过多")) from exc
    expected = _("GeoJSON FeatureCollection，每个 Feature 的 properties 含 code、name，geometry 为边界")
    if isinstance(data, dict) and data.get("type") == "Feature":
        data = {"type": "FeatureCollection", "features": [data]}
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise _file_problem(_("GeoJSON 文件的顶层应为 FeatureCollection"), expected)
    features = data.get("features")
    if not isinstance(features, list):
        raise _file_problem(_("GeoJSON 的 features 应为数组"), expected)
    if len(features) > MAX_ROWS:
        raise _file_problem(_("文件超过 {n} 行，请拆分后分批导入", n=MAX_ROWS))
    aliases = _aliases(columns)
    rows = []
    for number, feature in enumerate(features, start=1):
        row = SourceRow(number, {})
        rows.append(row)
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            row.problems.append(FieldProblem("feature", _("不是 GeoJSON Feature 对象"), expected, number))
            continue
        properties = feature.get("properties") or {}
        if not isinstance(properties, dict):
            row.problems.append(FieldProblem("properties", _("properties 应为对象"), expected, number))
            continue
        for key, value in properties.items():
            name = aliases.get(_header(key))
            if name and name not in row.values:
                row.values[name] = value
        if feature.get("geometry") is not None:
            row.values["boundary"] = feature["geometry"]
    return rows


def _csv_cells(content: bytes) -> Generator[tuple[int, Sequence[Any]], None, None]:
    text = _decode(content)
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        # Records, not physical lines: a quoted cell may hold a line break, and Excel shows it as one row.
        yield from enumerate(reader, start=1)
    except csv.Error as exc:
        raise _file_problem(_("CSV 文件格式有误：{e}", e=str(exc))) from exc


def _xlsx_cells(content: bytes) -> Generator[tuple[int, Sequence[Any]], None, None]:
    import openpyxl

    unreadable = _("无法读取 Excel 文件：文件已损坏或不是 .xlsx 格式，请在 Excel 中重新“另存为” .xlsx")
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise _file_problem(unreadable) from exc
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise _file_problem(_("Excel 文件解压后过大，请拆分后分批导入"))
    # A damaged workbook fails deep inside openpyxl with whatever the broken part provokes (KeyError,
    # XML syntax errors, TypeError...): all of them mean the same thing to the person uploading.
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:
        raise _file_problem(unreadable) from exc
    try:
        if not workbook.worksheets:
            raise _file_problem(unreadable)
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # a wrong stored size must not pad every row to 16,384 columns
        try:
            yield from enumerate(sheet.iter_rows(values_only=True), start=1)
        except ImportRejected:
            raise
        except Exception as exc:
            raise _file_problem(unreadable) from exc
    finally:
        workbook.close()


def _blank(cells: Sequence[Any]) -> bool:
    return all(_text(c) == "" for c in cells)


def _table_rows(cells: Iterable[tuple[int, Sequence[Any]]], columns: dict[str, tuple[str, ...]],
                required: Sequence[str]) -> list[SourceRow]:
    """Rows under the header of a sheet or CSV. The header is the first row, among the first few
    non-blank ones, that names the code column; unknown columns are ignored."""
    aliases = _aliases(columns)
    header_row, positions = 0, {}  # field name → column index (the first such column wins)
    rows: list[SourceRow] = []
    first_nonblank: tuple[int, Sequence[Any]] | None = None
    for number, record in cells:
        if not header_row:
            if _blank(record):
                continue
            first_nonblank = first_nonblank or (number, record)
            found = _positions(record, aliases)
            if "code" in found:
                header_row, positions = number, found
            elif number - first_nonblank[0] >= HEADER_SEARCH_ROWS:
                break
            continue
        if _blank(record):
            continue
        if len(rows) >= MAX_ROWS:
            raise _file_problem(_("文件超过 {n} 行，请拆分后分批导入", n=MAX_ROWS))
        rows.append(SourceRow(number, {name: record[i] if i < len(record) else None
                                       for name, i in positions.items()}))
    if not header_row:
        if first_nonblank is None:
            return []
        header_row, positions = first_nonblank[0], _positions(first_nonblank[1], aliases)
    missing = [name for name in required if name not in positions]
    if missing:
        problems = [FieldProblem(name, _("缺少“{f}”列", f=name),
                                 _("表头写作以下任一列名：{names}", names="、".join(columns[name])), header_row)
                    for name in missing]
        raise ImportRejected(_("表头缺少必需的列：{names}", names="、".join(missing)),
                             ImportReport(problems=problems, rows=len(rows)))
    return rows


def _positions(record: Sequence[Any], aliases: dict[str, str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for i, cell in enumerate(record):
        name = aliases.get(_header(cell))
        if name and name not in found:
            found[name] = i
    return found


def _text(value: Any) -> str:
    """A cell as text: Excel keeps long codes as numbers (339922001001.0), which are written back whole."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value).strip()


def _code(value: Any) -> str:
    text = _text(value)
    # "339922001001.0" is what pandas and some exporters write for a numeric column.
    return re.sub(r"^(\d+)\.0+$", r"\1", text)
