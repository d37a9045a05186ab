"""JSON API of exports: the work-order list as an Excel or CSV file, with the list's filters."""

import os
import tempfile
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, Response, StreamingResponse
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask

from zhili.auth.dependencies import ApiSubject, DbSession
from zhili.auth.subject import Subject
from zhili.idempotency import CommittingRoute
from zhili.transfer import export
from zhili.work_order.workflow import Status

router = APIRouter(route_class=CommittingRoute, prefix="/api/v1", tags=["work orders"])

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Format = Literal["xlsx", "csv"]


@router.get("/work-orders/export", summary="导出工单（Excel 或 CSV，筛选条件同工单列表）", response_class=Response,
            responses={200: {"content": {XLSX_TYPE: {}, "text/csv": {}}, "description": "the file"}})
def export_orders(
    subject: ApiSubject, session: DbSession,
    format_: Annotated[Format, Query(alias="format")] = "xlsx",
    status: Annotated[list[Status] | None, Query()] = None,
    category_code: Annotated[str | None, Query(max_length=30)] = None,
    within: Annotated[str | None, Query(pattern=r"^\d{1,12}$")] = None,
    department_id: int | None = None, overdue: bool | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    filters = export.OrderFilters.of(status=[s.value for s in status or []], category_code=category_code,
                                     within=within, department_id=department_id, overdue=overdue, q=q)
    return download(session, subject, filters, format_)


def download(session: Session, subject: Subject, filters: export.OrderFilters, kind: Format) -> Response:
    """The export as a file download: CSV streamed as it is written, Excel from a temporary file that
    is deleted once sent."""
    ascii_name, name = export.file_name(kind)
    headers = {"Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"}
    if kind == "csv":
        return StreamingResponse(export.csv_stream(subject, filters), media_type="text/csv; charset=utf-8",
                                 headers=headers)
    handle, temporary = tempfile.mkstemp(prefix="zhili-export-", suffix=".xlsx")
    os.close(handle)
    path = Path(temporary)
    try:
        export.write_xlsx(session, subject, filters, path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return FileResponse(path, media_type=XLSX_TYPE, headers=headers, background=BackgroundTask(path.unlink))
