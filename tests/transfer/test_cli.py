"""`zhili import appeals` and `zhili export orders`."""

import csv
import gzip
import io

from openpyxl import load_workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.factories import COMMUNITY_B
from tests.transfer.history import csv_bytes, row
from zhili.cli import app
from zhili.models import Appeal

runner = CliRunner()


def imported(db_session) -> int:  # type: ignore[no-untyped-def]
    db_session.rollback()
    return db_session.scalar(select(func.count()).select_from(Appeal).where(Appeal.external_id != ""))


def test_import_appeals_reports_the_rows_imported(world, db_session, tmp_path):
    path = tmp_path / "history.csv.gz"
    path.write_bytes(gzip.compress(csv_bytes([row(external_id=f"C-{i}") for i in range(5)])))
    r = runner.invoke(app, ["import", "appeals", str(path), "--source", "旧热线"])
    assert r.exit_code == 0, r.output
    assert "5 rows imported" in r.output and "rows/s" in r.output
    assert imported(db_session) == 5
    again = runner.invoke(app, ["import", "appeals", str(path), "--source", "旧热线"])
    assert again.exit_code == 1 and "已从“旧热线”导入过" in again.output


def test_import_appeals_prints_the_report_and_fails_on_a_bad_row(world, db_session, tmp_path):
    path = tmp_path / "history.csv"
    path.write_bytes(csv_bytes([row(external_id="OK"), row(external_id="BAD", closed_at="2020-01-01 08:00")]))
    r = runner.invoke(app, ["import", "appeals", str(path)])
    assert r.exit_code == 1, r.output
    assert "closed_at" in r.output and "办结时间早于受理时间" in r.output and "Nothing was imported" in r.output
    assert imported(db_session) == 0


def test_export_orders_writes_csv_and_xlsx_with_filters(world, db_session, tmp_path):
    path = tmp_path / "history.csv"
    path.write_bytes(csv_bytes([row(external_id="A"), row(external_id="B", region_code=COMMUNITY_B,
                                                          department_code="D-townb-PCS")]))
    assert runner.invoke(app, ["import", "appeals", str(path)]).exit_code == 0

    out = tmp_path / "closed.csv"
    r = runner.invoke(app, ["export", "orders", "--status", "closed", "-o", str(out)])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    assert sorted(x["区划代码"] for x in rows) == ["339922001001", COMMUNITY_B]  # the whole deployment

    out = tmp_path / "town-b.xlsx"
    r = runner.invoke(app, ["export", "orders", "--within", COMMUNITY_B, "-o", str(out)])
    assert r.exit_code == 0, r.output
    sheet = load_workbook(out).worksheets[0]
    assert sheet.max_row == 2 + 2  # the imported order and the world's live one in 乙镇一村

    bad = runner.invoke(app, ["export", "orders", "--status", "archived", "-o", str(tmp_path / "x.csv")])
    assert bad.exit_code == 2 and "unknown status" in bad.output
