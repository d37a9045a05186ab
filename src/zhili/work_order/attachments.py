"""Attachments: photos and documents uploaded first (answering a random key), then linked to an appeal or
an order event by `attach()`. Until linked, only the uploader may read one; once linked, whoever may read
the order may read it (zhili.access._attachments).

The type of a file is decided by its first bytes, never by its name or the client's Content-Type: a
text file renamed to .jpg is refused. Files live under `settings.upload_dir/<key[:2]>/<key>`.

Downloads are `GET /api/v1/attachments?key=…` (a query parameter, not a path parameter, so that the
route-walking scoping test needs no extra factory rows); without `key` the route lists what the caller
may read.
"""

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, UploadFile
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from zhili.access import readable
from zhili.auth.dependencies import ApiSubject, DbSession, PageSubject, verify_csrf
from zhili.auth.subject import Subject, SubjectKind
from zhili.config import get_settings
from zhili.errors import AppError, FieldProblem, Forbidden, Invalid, NotFound, TooLarge
from zhili.idempotency import CommittingRoute
from zhili.kit.i18n import _
from zhili.kit.pagination import Page, PageParams, paginate
from zhili.models import Appeal, Attachment, OrderEvent

router = APIRouter(route_class=CommittingRoute, prefix="/api/v1", tags=["attachments"])
Paging = Annotated[PageParams, Depends()]

IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/heic"})
DOCUMENT_TYPES = frozenset({"application/pdf"})


class UnsupportedType(AppError):
    status_code = 415


def sniff(head: bytes) -> str | None:
    """The content type told by a file's magic bytes, or None for anything we do not accept."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    # ISO-BMFF: a box size, "ftyp", then a brand; iPhones write HEIC.
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1"):
        return "image/heic"
    return None


@dataclass(frozen=True)
class Checked:
    """An upload that passed the type and size checks, not yet stored."""

    filename: str
    content_type: str
    data: bytes


async def read_checked(upload: UploadFile, allowed: frozenset[str] = IMAGE_TYPES | DOCUMENT_TYPES,
                       field: str = "file") -> Checked:
    """Reads at most the size limit plus one byte, so an oversize file is refused without holding it all."""
    limit = get_settings().attachment_max_bytes
    data = await upload.read(limit + 1)
    name = _safe_name(upload.filename or "")
    if len(data) > limit:
        message = _("文件「{f}」超过 {mb} MB 上限", f=name, mb=round(limit / 1048576, 1))
        raise TooLarge(message, [FieldProblem(field, message)])
    if not data:
        raise Invalid(_("文件「{f}」是空的", f=name), [FieldProblem(field, _("文件「{f}」是空的", f=name))])
    kind = sniff(data[:32])
    if kind is None or kind not in allowed:
        wanted = "JPEG、PNG、WebP、HEIC" + ("、PDF" if DOCUMENT_TYPES & allowed else "")
        message = _("文件「{f}」不是可接受的格式（只收 {t}），请换一个文件", f=name, t=wanted)
        raise UnsupportedType(message, [FieldProblem(field, message)])
    return Checked(name, kind, data)


def _safe_name(name: str) -> str:
    """The last path component, without control characters, at most 200 characters."""
    base = PurePath(name.replace("\\", "/")).name
    cleaned = "".join(c for c in base if c.isprintable()).strip()
    return (cleaned or "file")[-200:]


def path_of(key: str) -> Path:
    return Path(get_settings().upload_dir) / key[:2] / key


def store(session: Session, checked: Checked, *, uploaded_by_id: int | None = None,
          appeal_id: int | None = None) -> Attachment:
    """Writes the file, then adds its row. A rolled-back request leaves an orphan file, never a row
    without a file."""
    key = secrets.token_hex(16)
    target = path_of(key)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(checked.data)
    row = Attachment(key=key, filename=checked.filename, content_type=checked.content_type, size=len(checked.data),
                     sha256=hashlib.sha256(checked.data).hexdigest(), uploaded_by_id=uploaded_by_id,
                     appeal_id=appeal_id)
    session.add(row)
    session.flush()
    return row


def _order_of(session: Session, row: Attachment) -> int | None:
    if row.appeal_id is not None:
        return session.scalar(select(Appeal.work_order_id).where(Appeal.id == row.appeal_id))
    if row.event_id is not None:
        return session.scalar(select(OrderEvent.work_order_id).where(OrderEvent.id == row.event_id))
    return None


def attach(session: Session, subject: Subject, keys: Iterable[str], *, appeal: Appeal | None = None,
           event: OrderEvent | None = None) -> list[Attachment]:
    """Links uploaded files to an appeal or an event. A key must exist and either be the subject's own
    unlinked upload, or already belong to the same order (a handler's report may cite the citizen's
    photo); anything else is refused as if it did not exist, so keys cannot be probed."""
    if (appeal is None) == (event is None):
        raise ValueError("attach() links to exactly one of appeal or event")
    order_id = appeal.work_order_id if appeal is not None else event.work_order_id  # type: ignore[union-attr]
    wanted = list(dict.fromkeys(k.strip() for k in keys if k and k.strip()))
    rows = {r.key: r for r in session.scalars(select(Attachment).where(Attachment.key.in_(wanted)))} if wanted else {}
    linked: list[Attachment] = []
    for key in wanted:
        row = rows.get(key)
        unlinked = row is not None and row.appeal_id is None and row.event_id is None
        own = unlinked and subject.kind == SubjectKind.staff and row.uploaded_by_id == subject.id  # type: ignore[union-attr]
        if row is None or not (own or (not unlinked and _order_of(session, row) == order_id)):
            message = _("附件 {k} 不存在，或不是您上传的", k=key)
            raise Invalid(message, [FieldProblem("photos", message)])
        if own:
            if appeal is not None:
                row.appeal_id = appeal.id
            else:
                row.event_id = event.id  # type: ignore[union-attr]
        linked.append(row)  # type: ignore[arg-type]
    session.flush()
    return linked


# JSON API ----------------------------------------------------------------------------------------


class AttachmentOut(BaseModel):
    key: str
    filename: str
    content_type: str
    size: int


def _out(row: Attachment) -> AttachmentOut:
    return AttachmentOut(key=row.key, filename=row.filename, content_type=row.content_type, size=row.size)


@router.post("/attachments", response_model=AttachmentOut, status_code=201, summary="上传附件（照片或 PDF）")
async def upload(file: UploadFile, subject: ApiSubject, session: DbSession) -> AttachmentOut:
    # uploaded_by_id points at a staff row: an API key has no row there to own an unlinked upload by.
    if subject.kind != SubjectKind.staff:
        raise Forbidden(_("只有工作人员账号可以上传附件"))
    checked = await read_checked(file)
    return _out(store(session, checked, uploaded_by_id=subject.id))


@router.get("/attachments", response_model=None, summary="下载附件（key=…），不带 key 时列出可读的附件")
def download_or_list(subject: ApiSubject, session: DbSession, params: Paging,
                     key: Annotated[str | None, Query(max_length=40, pattern=r"^[0-9a-f]+$")] = None,
                     ) -> Response | Page[AttachmentOut]:
    return _download_or_list(session, subject, params, key)


def _download_or_list(session: Session, subject: Subject, params: PageParams, key: str | None,
                      ) -> Response | Page[AttachmentOut]:
    stmt = readable(subject, Attachment)
    if key is None:
        rows, total = paginate(session, stmt.order_by(Attachment.id.desc()), params)
        return Page.of([_out(r) for r in rows], total, params)
    row = session.scalars(stmt.where(Attachment.key == key)).first()
    if row is None or not path_of(row.key).is_file():
        raise NotFound(_("附件不存在或不在您的管辖范围内"))
    return FileResponse(path_of(row.key), media_type=row.content_type, headers=_download_headers(row))


def _download_headers(row: Attachment) -> dict[str, Any]:
    return {"Content-Disposition": f"inline; filename*=UTF-8''{quote(row.filename, safe='')}",
            "X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"}


# The same upload for the pages: the signed-in session and its CSRF token instead of a bearer token.
page_router = APIRouter(route_class=CommittingRoute, include_in_schema=False)


@page_router.post("/uploads", response_model=AttachmentOut, status_code=201, dependencies=[Depends(verify_csrf)])
async def upload_from_page(file: UploadFile, subject: PageSubject, session: DbSession) -> AttachmentOut:
    checked = await read_checked(file, IMAGE_TYPES)
    return _out(store(session, checked, uploaded_by_id=subject.id))


@page_router.get("/uploads", response_model=None)
def view_from_page(subject: PageSubject, session: DbSession, params: Paging,
                   key: Annotated[str | None, Query(max_length=40, pattern=r"^[0-9a-f]+$")] = None,
                   ) -> Response | Page[AttachmentOut]:
    return _download_or_list(session, subject, params, key)
