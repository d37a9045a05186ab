"""Reading import files row by row: encodings, gzip, Excel, and memory that does not grow with the file."""

import gzip
import tracemalloc
from datetime import datetime
from pathlib import Path

import pytest

from tests.transfer.history import FIELDS, csv_bytes, many, row, xlsx_file
from zhili.errors import ImportRejected
from zhili.transfer.appeals import BATCH_SIZE, import_appeals
from zhili.transfer.files import count_rows, read_rows

CHINESE = {"external_id": "原系统编号", "text": "诉求内容", "received_at": "受理时间"}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_in_every_encoding_excel_writes(tmp_path, encoding):
    path = tmp_path / "历史.csv"
    path.write_bytes(csv_bytes([row(text="噪音扰民，夜里施工")], encoding=encoding, headers=CHINESE))
    [(number, values)] = list(read_rows(path))
    assert number == 1
    assert values["原系统编号"] == "H-1" and values["诉求内容"] == "噪音扰民，夜里施工"


def test_gzipped_csv_is_read_as_it_is_decompressed(tmp_path):
    path = tmp_path / "history.csv.gz"
    path.write_bytes(gzip.compress(csv_bytes([row(external_id="A"), row(external_id="B")])))
    assert [v["external_id"] for _n, v in read_rows(path)] == ["A", "B"]
    assert count_rows(path) == 2


def test_rows_are_numbered_under_the_header_and_blank_rows_skipped(tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_text("\n原系统编号,诉求内容\nA,一\n,\nB,二\n", encoding="utf-8")
    assert list(read_rows(path)) == [(1, {"原系统编号": "A", "诉求内容": "一"}),
                                     (3, {"原系统编号": "B", "诉求内容": "二"})]


def test_excel_cells_become_text_as_people_typed_them(tmp_path):
    path = xlsx_file(tmp_path / "history.xlsx", [
        ["原系统编号", "受理时间", "联系电话", "经度", "区划代码"],
        ["X-1", datetime(2024, 3, 4, 9, 30), 13800138000, 119.52, 339922001001],
    ])
    [(number, values)] = list(read_rows(path))
    assert number == 1
    assert values == {"原系统编号": "X-1", "受理时间": "2024-03-04 09:30:00", "联系电话": "13800138000",
                      "经度": "119.52", "区划代码": "339922001001"}
    assert count_rows(path) == 1


@pytest.mark.parametrize(("name", "content", "words"), [
    ("old.xls", b"\xd0\xcf\x11\xe0 old excel", "旧版 Excel"),
    ("notes.docx", b"PK\x03\x04", "不支持的文件格式"),
    ("broken.xlsx", b"not a zip at all", "无法读取 Excel"),
    ("broken.csv.gz", b"not gzip", "压缩文件"),
    ("mixed.csv", "原系统编号,诉求内容\n".encode() + b"A," + "汉字".encode() * 300000 + b"\n"
     + b"B," + "汉字".encode("gbk") + b"\n", "编码"),
])
def test_an_unreadable_file_is_refused_with_one_sentence(tmp_path, name, content, words):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImportRejected) as refused:
        list(read_rows(path))
    [problem] = refused.value.report.problems
    assert problem.field == "file" and problem.row is None and words in problem.problem


def _write_big_csv(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(",".join(FIELDS) + "\n")
        for _number, values in many(n):
            out.write(",".join(values[f] for f in FIELDS) + "\n")


def test_reading_20k_rows_keeps_only_a_row_or_so_in_memory(tmp_path):
    path = tmp_path / "big.csv"
    _write_big_csv(path, 20_000)
    tracemalloc.start()
    try:
        all_rows = list(read_rows(path))
        whole = tracemalloc.get_traced_memory()[0]
        del all_rows
        tracemalloc.reset_peak()
        start = tracemalloc.get_traced_memory()[0]
        seen = sum(1 for _row in read_rows(path))
        streamed = tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()
    assert seen == 20_000
    assert whole > 10 * 1024 * 1024  # the control: the file held as a list
    assert streamed < 2 * 1024 * 1024, f"peak {streamed} bytes while streaming"


def test_importing_20k_rows_never_holds_more_than_a_batch(world, db_session):
    """Counts the row dicts alive while the import runs: a generator makes them one at a time, and the
    import must let each batch go before asking for the next."""
    alive, most = 0, 0

    class Row(dict):  # type: ignore[type-arg]
        def __del__(self) -> None:
            nonlocal alive
            alive -= 1

    def rows():  # type: ignore[no-untyped-def]
        nonlocal alive, most
        for number, values in many(20_000):
            alive += 1
            most = max(most, alive)
            yield number, Row(values)

    report = import_appeals(db_session, rows(), source="big")
    assert report.created == 20_000
    assert most <= BATCH_SIZE + 1, f"{most} rows alive at once"
