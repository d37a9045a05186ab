"""Pages of imports and exports: /admin/imports (upload a file of historical appeals, watch its job,
read its report, look back at earlier jobs) and the /orders list's Excel and CSV downloads.

Thin like the other pages: the job functions (transfer.jobs) check the admin role and the scope, the
export takes the /orders list's own filters.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from zhili.auth.dependencies import DbSession, PageSubject, verify_csrf
from zhili.auth.subject import Subject
from zhili.config import get_settings
from zhili.errors import FieldProblem
from zhili.idempotency import CommittingRoute
from zhili.kit import i18n
from zhili.kit.i18n import _
from zhili.kit.pagination import PageParams, paginate
from zhili.models import ImportJob
from zhili.templating import is_fragment, render
from zhili.transfer import export, jobs
from zhili.transfer.appeals import COLUMNS, FIELD_LABELS, MAX_PROBLEMS
from zhili.transfer.endpoints import XLSX_TYPE, download
from zhili.transfer.files import accepted_formats

router = APIRouter(route_class=CommittingRoute, include_in_schema=False)

CSRF = [Depends(verify_csrf)]
Paging = Annotated[PageParams, Depends()]
Choice = Annotated[str | None, Query(max_length=30)]
Search = Annotated[str | None, Query(max_length=100)]
CodeFilter = Annotated[str | None, Query(pattern=r"^(\d{12})?$")]
DEFAULT_SOURCE = "legacy"
JOB_LIST_SIZE = 20


# Imports ---------------------------------------------------------------------------------------


def _jobs_ctx(session: Session, subject: Subject, params: PageParams) -> dict[str, Any]:
    rows, total = paginate(session, jobs.listing(subject), params)
    return {"jobs": rows, "total": total, "params": params, "progress": {j.id: jobs.progress_of(j) for j in rows}}


def _job_ctx(job: ImportJob) -> dict[str, Any]:
    return {"job": job, "job_progress": jobs.progress_of(job), "problems": [FieldProblem(**p) for p in job.report],
            "field_labels": {name: _(label) for name, label in FIELD_LABELS.items()}, "max_problems": MAX_PROBLEMS}


@router.get("/admin/imports")
def imports_page(request: Request, subject: PageSubject, session: DbSession, params: Paging) -> Response:
    ctx = _jobs_ctx(session, subject, params.model_copy(update={"page_size": JOB_LIST_SIZE}))
    if is_fragment(request):
        return render(request, "transfer/_jobs.html", ctx)
    return render(request, "transfer/imports.html", {**ctx, **_page_ctx(), "job": None})


def _page_ctx() -> dict[str, Any]:
    settings = get_settings()
    return {"columns": COLUMNS, "formats": accepted_formats(), "max_mb": round(settings.import_max_bytes / 1048576),
            "default_source": DEFAULT_SOURCE}


@router.get("/admin/imports/template.csv")
def template_csv(subject: PageSubject, session: DbSession) -> Response:
    return _template(session, subject, "csv", "text/csv; charset=utf-8")


@router.get("/admin/imports/template.xlsx")
def template_xlsx(subject: PageSubject, session: DbSession) -> Response:
    return _template(session, subject, "xlsx", XLSX_TYPE)


def _template(session: Session, subject: Subject, kind: str, media_type: str) -> Response:
    content = jobs.template(session, subject, kind)
    return Response(content, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="zhili-appeals-template.{kind}"'})


@router.post("/admin/imports", dependencies=CSRF)
def upload(request: Request, subject: PageSubject, session: DbSession, file: Annotated[UploadFile, File()],
           source: Annotated[str, Form(max_length=200)] = DEFAULT_SOURCE) -> Response:
    job, source = jobs.submit(session, subject, file.file, file.filename or "", source)
    # Started after the answer, hence after the commit: the thread must find the job's row.
    task = BackgroundTask(jobs.start, job.id, subject, source, i18n.get_locale())
    if "hx-request" not in request.headers:
        return RedirectResponse(f"/admin/imports/{job.id}", status_code=303, background=task)
    response = render(request, "transfer/_job.html", _job_ctx(job),
                      headers={"HX-Trigger": "imports-changed", "HX-Push-Url": f"/admin/imports/{job.id}"})
    response.background = task
    return response


@router.get("/admin/imports/{job_id}")
def job_page(request: Request, job_id: int, subject: PageSubject, session: DbSession, params: Paging) -> Response:
    job = jobs.get(session, subject, job_id)
    if is_fragment(request):
        finished = job.status in jobs.FINISHED
        return render(request, "transfer/_job.html", _job_ctx(job),
                      headers={"HX-Trigger": "imports-changed"} if finished else None)
    ctx = _jobs_ctx(session, subject, params.model_copy(update={"page_size": JOB_LIST_SIZE}))
    return render(request, "transfer/imports.html", {**ctx, **_page_ctx(), **_job_ctx(job)})


# Exports of the order list ---------------------------------------------------------------------


def _filters(status: str | None, colour: str | None, category_code: str | None, within: str | None,
             department_id: str | None, overdue: str | None, q: str | None, sort: str | None,
             flag: str | None) -> export.OrderFilters:
    return export.OrderFilters.of(status=[status] if status else None, colour=colour, category_code=category_code,
                                  within=within, department_id=department_id, overdue=overdue, q=q, sort=sort,
                                  flag=flag)


@router.get("/orders/export.xlsx")
def export_xlsx(subject: PageSubject, session: DbSession, status: Choice = None, colour: Choice = None,
                category_code: Choice = None, within: CodeFilter = None, department_id: Choice = None,
                overdue: Choice = None, q: Search = None, sort: Choice = None, flag: Choice = None) -> Response:
    filters = _filters(status, colour, category_code, within, department_id, overdue, q, sort, flag)
    return download(session, subject, filters, "xlsx")


@router.get("/orders/export.csv")
def export_csv(subject: PageSubject, session: DbSession, status: Choice = None, colour: Choice = None,
               category_code: Choice = None, within: CodeFilter = None, department_id: Choice = None,
               overdue: Choice = None, q: Search = None, sort: Choice = None, flag: Choice = None) -> Response:
    filters = _filters(status, colour, category_code, within, department_id, overdue, q, sort, flag)
    return download(session, subject, filters, "csv")
