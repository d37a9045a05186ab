"""Tabular files read one row at a time, never whole: CSV (UTF-8 with or without BOM, GBK/GB18030),
gzip-compressed CSV (.csv.gz), and Excel .xlsx (openpyxl's read-only mode, which parses the sheet as
a stream).

Rows come out as (number, {header: text}). `number` is the 1-based data row: the first row under the
header is 1, and a blank row is skipped but still counted, so a number points at the same row a
person sees under the header in a spreadsheet. The header is the first non-blank row; a column
without a header is ignored, and of two columns with the same header the first wins. Cells are
text: Excel numbers lose a trailing ".0" (phone numbers, codes), Excel dates become
"YYYY-MM-DD HH:MM:SS" as typed (local wall-clock time).

Problems with the file as a whole raise ImportRejected with one problem on the field "file".
"""

import codecs
import csv
import gzip
import io
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, BinaryIO, cast

from zhili.errors import FieldProblem, ImportRejected, ImportReport
from zhili.jurisdiction.imports import MAX_XLSX_UNPACKED_BYTES, _text
from zhili.kit.i18n import N_, _

# How much of a CSV file decides its encoding and delimiter.
SNIFF_BYTES = 1 << 20
SNIFF_CHUNK = 1 << 16
COUNT_CHUNK = 1 << 20


def file_problem(message: str, expected: str = "") -> ImportRejected:
    return ImportRejected(message, ImportReport(problems=[FieldProblem("file", message, expected)]))


def file_kind(name: str) -> str | None:
    """"csv", "csv.gz" or "xlsx" by the file name; None for anything else."""
    lower = name.lower()
    if lower.endswith((".csv.gz", ".txt.gz", ".gz")):
        return "csv.gz"
    if lower.endswith((".csv", ".txt")):
        return "csv"
    if lower.endswith(".xlsx"):
        return "xlsx"
    return None


def accepted_formats() -> str:
    return _("CSV（.csv，UTF-8 或 GBK 编码）、压缩的 CSV（.csv.gz）或 Excel（.xlsx）")


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """The data rows of a CSV, .csv.gz or .xlsx file, streamed (see the module docstring)."""
    kind = file_kind(path.name)
    if kind is None:
        message = _("不支持的文件格式“{name}”", name=path.name)
        if path.name.lower().endswith(".xls"):
            message = _("不支持旧版 Excel（.xls）文件：请在 Excel 中“另存为” .xlsx 或 CSV（UTF-8）后上传")
        raise file_problem(message, accepted_formats())
    records = _xlsx_records(path) if kind == "xlsx" else _csv_records(path, compressed=kind == "csv.gz")
    return _rows(records)


def count_rows(path: Path) -> int | None:
    """About how many data rows the file holds, for a progress bar: the line count of a CSV (a quoted
    cell with a line break counts twice), the stored sheet size of an .xlsx; None when unknown."""
    kind = file_kind(path.name)
    try:
        if kind == "xlsx":
            return _xlsx_size(path)
        if kind is None:
            return None
        lines, last = 0, b"\n"
        with _open_binary(path, compressed=kind == "csv.gz") as raw:
            while chunk := raw.read(COUNT_CHUNK):
                lines += chunk.count(b"\n")
                last = chunk[-1:]
        lines += last != b"\n"  # a last line without its line break
        return max(lines - 1, 0)
    except (OSError, EOFError, zipfile.BadZipFile, KeyError, ValueError):
        return None  # unreadable: read_rows says why


def _rows(records: Iterable[Sequence[Any]]) -> Iterator[tuple[int, dict[str, str]]]:
    header: list[tuple[int, str]] | None = None
    number = 0
    for record in records:
        cells = [cell_text(c) for c in record]
        if header is None:
            if any(cells):
                header = _header(cells)
            continue
        number += 1
        if not any(cells):
            continue
        yield number, {name: cells[i] if i < len(cells) else "" for i, name in header}


def _header(cells: list[str]) -> list[tuple[int, str]]:
    seen: set[str] = set()
    out = []
    for i, name in enumerate(cells):
        name = name.replace("\ufeff", "").strip()
        if name and name not in seen:
            seen.add(name)
            out.append((i, name))
    return out


def cell_text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    return _text(value)


# CSV -------------------------------------------------------------------------------------------


def _open_binary(path: Path, *, compressed: bool) -> BinaryIO:
    return cast(BinaryIO, gzip.open(path, "rb")) if compressed else path.open("rb")


def _csv_records(path: Path, *, compressed: bool) -> Iterator[list[str]]:
    with _open_binary(path, compressed=compressed) as raw:
        try:
            encoding, delimiter = _sniff(raw.read(SNIFF_BYTES))
        except (OSError, EOFError) as exc:
            raise file_problem(_("无法读取压缩文件：文件已损坏或不是 gzip 格式")) from exc
        raw.seek(0)
        text = io.TextIOWrapper(raw, encoding=encoding, newline="")
        reader = csv.reader(text, delimiter=delimiter)
        try:
            yield from reader
        except UnicodeDecodeError as exc:
            raise file_problem(_("文件第 {n} 行附近的文字不是 {e} 编码", n=reader.line_num + 1, e=encoding),
                               _("整个文件使用同一种编码：UTF-8 或 GBK")) from exc
        except csv.Error as exc:
            raise file_problem(_("CSV 文件格式有误（第 {n} 行）：{e}", n=reader.line_num, e=str(exc))) from exc
        except (OSError, EOFError) as exc:
            raise file_problem(_("无法读取压缩文件：文件已损坏或不完整")) from exc


def _sniff(head: bytes) -> tuple[str, str]:
    """The encoding and the delimiter, from the first bytes of the file."""
    encoding = _encoding(head)
    end = head.find(b"\n")
    first_line = head[:end if end >= 0 else len(head)].decode(encoding, errors="ignore")
    return encoding, "\t" if "\t" in first_line and "," not in first_line else ","


def _encoding(head: bytes) -> str:
    """UTF-8 with its BOM, UTF-16 with its BOM, UTF-8, or else GB18030 (the superset of GBK that Excel
    in China writes for "CSV (逗号分隔)")."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for start in range(0, len(head), SNIFF_CHUNK):  # checked piece by piece: the text is not kept
            decoder.decode(head[start:start + SNIFF_CHUNK], final=False)  # the sample may end mid-character
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


# Excel -----------------------------------------------------------------------------------------

_UNREADABLE_XLSX = N_("无法读取 Excel 文件：文件已损坏或不是 .xlsx 格式，请在 Excel 中重新“另存为” .xlsx")


def _check_xlsx(path: Path) -> None:
    """openpyxl streams the sheet but keeps the shared-strings table in memory: refuse a workbook whose
    table would unpack to far more than any real sheet needs (a zip bomb, or a file for CSV)."""
    try:
        with zipfile.ZipFile(path) as archive:
            strings = sum(i.file_size for i in archive.infolist() if i.filename.endswith("sharedStrings.xml"))
    except (zipfile.BadZipFile, OSError) as exc:
        raise file_problem(_(_UNREADABLE_XLSX)) from exc
    if strings > MAX_XLSX_UNPACKED_BYTES:
        raise file_problem(_("Excel 文件中的文字过多，无法逐行读取"), _("请在 Excel 中“另存为” CSV（UTF-8）后导入"))


def _xlsx_records(path: Path) -> Iterator[Sequence[Any]]:
    import openpyxl

    _check_xlsx(path)
    # A damaged workbook fails deep inside openpyxl with whatever the broken part provokes.
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise file_problem(_(_UNREADABLE_XLSX)) from exc
    try:
        if not workbook.worksheets:
            raise file_problem(_(_UNREADABLE_XLSX))
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # a wrong stored size must not pad every row to 16,384 columns
        try:
            yield from sheet.iter_rows(values_only=True)
        except Exception as exc:
            raise file_problem(_(_UNREADABLE_XLSX)) from exc
    finally:
        workbook.close()


def _xlsx_size(path: Path) -> int | None:
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        rows = workbook.worksheets[0].max_row if workbook.worksheets else None
    finally:
        workbook.close()
    return max(rows - 1, 0) if rows else None


# Writing small tables ----------------------------------------------------------------------------


def table_file(kind: str, rows: list[list[str]], sheet_title: str) -> bytes:
    """A small table as CSV (UTF-8 with BOM, for Excel) or .xlsx (bold header, every cell text, so
    that Excel keeps long codes whole)."""
    if kind == "csv":
        buffer = io.StringIO()
        csv.writer(buffer).writerows(rows)
        return ("\ufeff" + buffer.getvalue()).encode()
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = sheet_title
    for row in rows:
        sheet.append(row)
    for i, name in enumerate(rows[0], start=1):
        sheet.cell(1, i).font = Font(bold=True)
        sheet.column_dimensions[get_column_letter(i)].width = max(12, 2 * len(name) + 4)
        for cell_row in range(1, len(rows) + 1):
            sheet.cell(cell_row, i).number_format = "@"
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def batches(rows: Iterable[tuple[int, dict[str, str]]], size: int) -> Iterator[list[tuple[int, dict[str, str]]]]:
    """Numbered rows in lists of `size`: an importer checks and writes one batch at a time."""
    batch: list[tuple[int, dict[str, str]]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
