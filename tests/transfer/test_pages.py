"""The admin import page: upload → job → progress fragment → result, the report, templates, scope."""

import re
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.factories import COMMUNITY_B, TOWN_A, page_login
from tests.transfer.history import csv_bytes, row
from zhili.auth.service import subject_for_staff
from zhili.config import get_settings
from zhili.models import Appeal, ImportJob, Staff
from zhili.transfer.appeals import import_appeals
from zhili.transfer.files import read_rows
from zhili.transfer.jobs import fail_interrupted_jobs

HTMX = {"HX-Request": "true"}


def upload(client, token: str, content: bytes, filename: str = "历史工单.csv", source: str = "旧热线",  # type: ignore[no-untyped-def]
           headers: dict[str, str] | None = None):
    return client.post("/admin/imports", data={"csrf_token": token, "source": source},
                       files={"file": (filename, content, "text/csv")}, headers=HTMX if headers is None else headers,
                       follow_redirects=False)


def job_id(fragment: str) -> int:
    found = re.search(r'data-zl-job-id="(\d+)"', fragment)
    assert found, fragment[:500]
    return int(found.group(1))


def finished(client, job: int):  # type: ignore[no-untyped-def]
    """Poll the job's fragment as the page does, until the job is over (the thread runs meanwhile)."""
    for _attempt in range(600):
        r = client.get(f"/admin/imports/{job}", headers=HTMX)
        assert r.status_code == 200, r.text
        status = re.search(r'data-zl-job="(\w+)"', r.text).group(1)  # type: ignore[union-attr]
        if status not in ("queued", "running"):
            return r
        time.sleep(0.05)
    pytest.fail(f"import job {job} did not finish")


def imported_count(db_session) -> int:  # type: ignore[no-untyped-def]
    db_session.rollback()  # see what the job's thread committed
    return db_session.scalar(select(func.count()).select_from(Appeal).where(Appeal.external_id != ""))


def test_an_upload_becomes_a_job_whose_fragment_polls_until_the_result(world, client, db_session):
    token = page_login(client, "towna-admin")
    page = client.get("/admin/imports")
    assert page.status_code == 200 and 'name="file"' in page.text and "甲街道历史工单.csv" in page.text

    content = csv_bytes([row(external_id=f"P-{i}") for i in range(3)], encoding="gbk")
    r = upload(client, token, content)
    assert r.status_code == 200, r.text
    job = job_id(r.text)
    assert 'hx-trigger="every 1s"' in r.text and r.headers["HX-Push-Url"] == f"/admin/imports/{job}"

    done = finished(client, job)
    assert 'data-zl-job="done"' in done.text and "3 条诉求" in done.text
    assert 'hx-trigger="every 1s"' not in done.text  # the polling stops with the result
    assert done.headers["HX-Trigger"] == "imports-changed"
    assert imported_count(db_session) == 3
    stored = db_session.get(ImportJob, job)
    assert (stored.status, stored.imported_rows, stored.processed_rows, stored.region_code) == ("done", 3, 3, TOWN_A)
    assert stored.path == "" and not list((Path(get_settings().upload_dir) / "imports").glob("*.csv"))
    listing = client.get("/admin/imports", headers=HTMX)
    assert "历史工单.csv" in listing.text and f"/admin/imports/{job}" in listing.text


def test_a_rejected_upload_shows_the_report_row_by_row_and_stores_nothing(world, client, db_session):
    token = page_login(client, "towna-admin")
    content = csv_bytes([row(external_id="OK"), row(external_id="BAD", received_at="明天"),
                         row(external_id="TOWN-B", region_code=COMMUNITY_B, department_code="")])
    result = finished(client, job_id(upload(client, token, content).text))
    assert 'data-zl-job="rejected"' in result.text and "未导入任何数据" in result.text
    assert re.search(r"<td>2</td>\s*<td[^>]*>受理时间", result.text)
    assert re.search(r"<td>3</td>\s*<td[^>]*>区划代码", result.text)
    assert imported_count(db_session) == 0
    job = db_session.scalar(select(ImportJob).where(ImportJob.status == "rejected"))
    assert (job.bad_rows, job.imported_rows) == (2, 0)
    assert [(p["row"], p["field"]) for p in job.report] == [(2, "received_at"), (3, "region_code")]


def test_a_plain_form_post_is_redirected_to_the_job_page(world, client):
    token = page_login(client, "towna-admin")
    r = upload(client, token, csv_bytes([row()]), headers={})
    assert r.status_code == 303
    job = int(r.headers["location"].rsplit("/", 1)[1])
    finished(client, job)
    page = client.get(r.headers["location"])
    assert page.status_code == 200 and "<html" in page.text and 'data-zl-job="done"' in page.text


def test_a_running_job_shows_its_progress_bar(world, client, db_session):
    job = ImportJob(kind="appeals", filename="大文件.csv", status="running", region_code=TOWN_A, total_rows=200,
                    processed_rows=50, bad_rows=2)
    db_session.add(job)
    db_session.commit()
    page_login(client, "towna-admin")
    r = client.get(f"/admin/imports/{job.id}", headers=HTMX)
    assert 'hx-trigger="every 1s"' in r.text and "width: 25%" in r.text and "约 200 行" in r.text
    assert "HX-Trigger" not in r.headers


def test_a_job_left_running_by_a_stopped_server_is_failed_at_startup(world, client, db_session, tmp_path):
    leftover = tmp_path / "upload.csv"
    leftover.write_text("x")
    job = ImportJob(kind="appeals", filename="中断.csv", status="running", region_code=TOWN_A, path=str(leftover))
    db_session.add(job)
    db_session.commit()
    assert fail_interrupted_jobs(db_session) == 1
    db_session.commit()
    db_session.refresh(job)
    assert job.status == "failed" and "重新上传" in job.message and not leftover.exists()
    page_login(client, "towna-admin")
    r = client.get(f"/admin/imports/{job.id}")
    assert 'data-zl-job="failed"' in r.text and "导入失败" in r.text


def test_town_b_cannot_see_town_a_jobs(world, client):
    token = page_login(client, "towna-admin")
    job = job_id(upload(client, token, csv_bytes([row()])).text)
    finished(client, job)
    client.post("/logout", data={"csrf_token": token})
    page_login(client, "townb-admin")
    assert client.get(f"/admin/imports/{job}").status_code == 404
    listing = client.get("/admin/imports").text
    assert "历史工单.csv" not in listing and "甲街道" not in listing and "乙镇历史工单-townb.csv" in listing


def test_only_admins_import(world, client):
    token = page_login(client, "towna-viewer")
    assert client.get("/admin/imports").status_code == 403
    assert upload(client, token, csv_bytes([row()])).status_code == 403
    assert client.get("/admin/imports/template.csv").status_code == 403


@pytest.mark.parametrize(("filename", "content", "status"), [
    ("历史工单.pdf", b"%PDF-1.4", 422),
    ("历史工单.csv", csv_bytes([row()]), 422),  # with a blank source
])
def test_a_wrong_upload_is_refused_before_any_job(world, client, db_session, filename, content, status):
    token = page_login(client, "towna-admin")
    source = "   " if filename.endswith(".csv") else "旧热线"
    r = upload(client, token, content, filename=filename, source=source)
    assert r.status_code == status and "alert" in r.text
    assert db_session.scalar(select(func.count()).select_from(ImportJob)) == 2  # the world's own two


def test_an_upload_over_the_import_limit_is_refused(world, client, monkeypatch):
    monkeypatch.setattr(get_settings(), "import_max_bytes", 100)
    token = page_login(client, "towna-admin")
    r = upload(client, token, csv_bytes([row(), row(external_id="H-2")]))
    assert r.status_code == 413 and "上限" in r.text


@pytest.mark.parametrize(("kind", "locale", "id_header", "region_header"), [
    ("csv", "zh-CN", "原系统编号*", "区划代码"),
    ("xlsx", "zh-CN", "原系统编号*", "区划代码"),
    ("csv", "en", "Original ID*", "Division code"),
])
def test_the_template_has_the_header_and_an_example_row_that_imports(world, client, db_session, tmp_path, kind,
                                                                     locale, id_header, region_header):
    token = page_login(client, "towna-admin")
    client.post("/locale", data={"csrf_token": token, "lang": locale, "next": "/"})
    r = client.get(f"/admin/imports/template.{kind}")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    path = tmp_path / f"template.{kind}"
    path.write_bytes(r.content)
    rows = list(read_rows(path))
    assert len(rows) == 1 and id_header in rows[0][1]
    assert rows[0][1][region_header] == TOWN_A
    subject = subject_for_staff(db_session.scalar(select(Staff).where(Staff.username == "towna-admin")))
    report = import_appeals(db_session, rows, source="模板", subject=subject)
    assert report.created == 1


def test_an_import_upload_may_pass_the_general_upload_limit(client, world):
    """conftest sets the general limit to 2 MiB; the import page takes files up to import_max_bytes."""
    big = b"x" * (3 * 1024 * 1024)
    elsewhere = client.post("/admin/grids/import", content=big, headers={"content-type": "text/csv"})
    assert elsewhere.status_code == 413
    imports = client.post("/admin/imports", content=big, headers={"content-type": "text/csv"})
    assert imports.status_code != 413  # refused later, for what it is (no session, no CSRF), not its size
