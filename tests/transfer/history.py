"""Rows and files of historical appeals for the transfer tests (the world of tests/factories.py)."""

import csv
import io
from collections.abc import Iterable, Iterator
from pathlib import Path

from openpyxl import Workbook

from tests.factories import COMMUNITY_A
from zhili.transfer.appeals import COLUMNS

FIELDS = [c.name for c in COLUMNS]
# Inside 甲一社区第一网格 (tests/factories.py).
POINT_A = ("119.52", "29.25")
POINT_B = ("119.85", "29.25")


def row(**values: str) -> dict[str, str]:
    """One history row with every column present (as a file has them), closed on time by default."""
    base = {name: "" for name in FIELDS}
    base.update(external_id="H-1", received_at="2024-03-04 09:00", text="甲一社区路灯不亮，夜里看不见路",
                region_code=COMMUNITY_A, department_code="D-A-PCS", category_code="T.SHZA",
                closed_at="2024-03-06 10:00", closure_note="已更换灯泡", caller_phone="13800138000")
    base.update(values)
    return base


def numbered(rows: Iterable[dict[str, str]]) -> list[tuple[int, dict[str, str]]]:
    return list(enumerate(rows, start=1))


def many(n: int, prefix: str = "M") -> Iterator[tuple[int, dict[str, str]]]:
    """`n` good rows, made one at a time."""
    for i in range(1, n + 1):
        yield i, row(external_id=f"{prefix}-{i:07d}", text=f"第 {i} 条历史诉求：小区门口路灯不亮，夜间行人看不清路")


def csv_bytes(rows: Iterable[dict[str, str]], *, encoding: str = "utf-8",
              headers: dict[str, str] | None = None) -> bytes:
    """A CSV file of the rows; `headers` renames columns (e.g. to their Chinese names)."""
    names = headers or {}
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([names.get(f, f) for f in FIELDS])
    for r in rows:
        writer.writerow([r[f] for f in FIELDS])
    return buffer.getvalue().encode(encoding)


def xlsx_file(path: Path, rows: Iterable[list[object]]) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for r in rows:
        sheet.append(r)
    workbook.save(path)
    return path
