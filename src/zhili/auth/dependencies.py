"""FastAPI dependencies: the database session of a request and the Subject it acts as."""

import secrets
from collections.abc import AsyncIterator, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from zhili import idempotency
from zhili.auth.service import known_bearer_subject, staff_for_session, subject_for_staff, subject_from_bearer
from zhili.auth.subject import Subject
from zhili.db import get_sessionmaker
from zhili.errors import AppError, Forbidden, Unauthorized
from zhili.kit.i18n import _
from zhili.models import Staff


def get_db(request: Request) -> Iterator[Session]:
    """Commit at the boundary: once, after the handler succeeded (or refused with keep_changes), with
    the answer's idempotency record in the same transaction (zhili.idempotency)."""
    session = get_sessionmaker()()
    try:
        yield session
        _commit(request, session)
    except BaseException as exc:
        _fail(request, session, exc)
        raise
    finally:
        session.close()


def _commit(request: Request, session: Session) -> None:
    idempotency.record(request, session)
    session.commit()


def _fail(request: Request, session: Session, exc: BaseException) -> None:
    if isinstance(exc, idempotency.Replay):
        session.rollback()
    elif isinstance(exc, AppError) and exc.keep_changes:
        session.commit()
    else:
        session.rollback()
        idempotency.earlier(request, session)  # lost a race to its twin: answer as the twin did


async def get_lazy_db(request: Request) -> AsyncIterator[Session]:
    """`get_db` for an `async` route that may need no database at all (the queued intake): the
    session costs nothing until used, and committing or rolling back goes to the thread pool only
    when it was."""
    session = get_sessionmaker()()
    try:
        yield session
        if session.in_transaction() or idempotency.answer_pending(request):
            await run_in_threadpool(_commit, request, session)
    except BaseException as exc:
        if session.in_transaction() or idempotency.answer_pending(request):
            await run_in_threadpool(_fail, request, session, exc)
        raise
    finally:
        session.close()


LazyDb = Annotated[Session, Depends(get_lazy_db, scope="function")]


async def lazy_api_subject(request: Request, session: LazyDb) -> Subject:
    """`api_subject` for an `async` route: from what the process keeps when it can (no thread, no
    query), else as `api_subject` does."""
    token = _bearer(request)
    subject = known_bearer_subject(token)
    if subject is None:
        subject = await run_in_threadpool(subject_from_bearer, session, token)
    request.state.subject = subject
    return subject


# scope="function": commit before the response goes out. With the default ("request") FastAPI runs the
# exit code after sending, so a page reacting to the answer (htmx's HX-Trigger reload of a list, a
# redirect) could read the database before the change was committed and show the old state.
DbSession = Annotated[Session, Depends(get_db, scope="function")]


class LoginRequired(AppError):
    """A page asked for a signed-in user; the page handler turns this into a redirect to /login."""

    status_code = 401


def _bearer(request: Request) -> str:
    scheme, _sep, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            _("缺少访问令牌：请先 POST /api/v1/auth/token 获取令牌，或使用管理员签发的 API 密钥，并在请求头中携带 Authorization: Bearer <令牌>")  # noqa: E501
        )
    return token.strip()


def api_subject(request: Request, session: DbSession) -> Subject:
    subject = subject_from_bearer(session, _bearer(request))
    request.state.subject = subject
    return subject


ApiSubject = Annotated[Subject, Depends(api_subject)]
LazyApiSubject = Annotated[Subject, Depends(lazy_api_subject)]


def current_staff(request: Request, session: Session) -> Staff | None:
    data = request.session
    if "sid" not in data:
        return None
    staff = staff_for_session(session, int(data["sid"]), int(data.get("v", 0)))
    if staff is None:
        request.session.clear()
    return staff


def page_subject(request: Request, session: DbSession) -> Subject:
    staff = current_staff(request, session)
    if staff is None:
        raise LoginRequired(_("请先登录"))
    subject = subject_for_staff(staff)
    request.state.subject = subject
    return subject


PageSubject = Annotated[Subject, Depends(page_subject)]


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


async def verify_csrf(request: Request) -> None:
    """Every state-changing page request carries the session's token (form field or htmx header)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    expected = request.session.get("csrf")
    sent = request.headers.get("x-csrf-token")
    if not sent:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            sent = str(form.get("csrf_token") or "")
    if not expected or not sent or not secrets.compare_digest(str(expected), sent):
        raise Forbidden(_("页面已过期或请求来源无效（CSRF 校验失败），请刷新页面后重试"))
