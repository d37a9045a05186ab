"""Open311 GeoReport v2 at /open311/v2/: every resource as .json and .xml, every refusal in the spec's
error document (`[{"code": 400, "description": "…"}]`, or `<errors><error>…` for .xml).

Refusals are answered here, not by the app's handlers, so that the rest of the API keeps its own error
shape. A refused request writes nothing: the session is rolled back before the answer (the app's
session dependency would otherwise commit, since the handler returned normally).
"""

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import ImmutableMultiDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from zhili.auth.dependencies import LazyDb, current_staff
from zhili.auth.service import (
    API_KEY_PREFIX,
    api_key_subject,
    known_bearer_subject,
    subject_for_staff,
    subject_from_bearer,
)
from zhili.auth.subject import Subject
from zhili.config import get_settings
from zhili.errors import AppError, FieldProblem, Forbidden
from zhili.idempotency import CommittingRoute
from zhili.intake import service as intake
from zhili.kit.i18n import _
from zhili.models import Region
from zhili.open311 import formats, service
from zhili.open311.formats import Format
from zhili.open311.schemas import RequestsQuery, ServiceRequestIn, form_values
from zhili.templating import form_model
from zhili.work_order.attachments import path_of

# What a refusal's status becomes in Open311: a bad key is 403, bad input is 400.
OPEN311_STATUS = {401: 403, 422: 400}
SESSION_KEY = "open311_session"


class Open311Route(CommittingRoute):
    """Answers the refusals of a route in Open311's error document, in the format the path asked for."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer_refusals(request: Request) -> Response:
            try:
                return await handler(request)
            except (AppError, RequestValidationError, StarletteHTTPException) as exc:
                session: Session | None = getattr(request.state, SESSION_KEY, None)
                if session is not None:
                    await run_in_threadpool(session.rollback)
                return refusal(request, exc)

        return answer_refusals


def refusal(request: Request, exc: AppError | RequestValidationError | StarletteHTTPException) -> Response:
    fmt = Format.xml if request.path_params.get("fmt") == Format.xml else Format.json
    headers: dict[str, str] = {}
    if isinstance(exc, AppError):
        status, descriptions, headers = exc.status_code, _descriptions(exc.message, exc.problems), exc.headers
    elif isinstance(exc, RequestValidationError):
        from zhili.app import validation_problems  # the one place pydantic's messages are translated

        status, descriptions = 422, _descriptions("", validation_problems(exc))
    else:
        status, descriptions = exc.status_code, [str(exc.detail)]
    status = OPEN311_STATUS.get(status, status)
    return formats.respond(fmt, "errors", [{"code": status, "description": d} for d in descriptions], status,
                           headers)


def _descriptions(message: str, problems: list[FieldProblem]) -> list[str]:
    """One error per field, named as the client sent it, with what was expected."""
    if not problems:
        return [message]
    return [_("{f}：{p}", f=p.field, p=p.problem) + (_("（应为：{e}）", e=p.expected) if p.expected else "")
            for p in problems]


router = APIRouter(route_class=Open311Route, prefix="/open311/v2", tags=["Open311 GeoReport v2"])


# Dependencies -------------------------------------------------------------------------------------


async def _session(request: Request, session: LazyDb) -> Session:
    setattr(request.state, SESSION_KEY, session)
    return session


Db = Annotated[Session, Depends(_session)]


async def _arguments(request: Request) -> AsyncIterator[ImmutableMultiDict[str, Any]]:
    """The query string, and for a POST its form (urlencoded or multipart) after it: a field sent in
    both is read from the form (the last value of a name wins). Files sent along are closed afterwards."""
    items: list[tuple[str, Any]] = list(request.query_params.multi_items())
    form = await request.form() if request.method == "POST" else None
    try:
        yield ImmutableMultiDict(items + (form.multi_items() if form is not None else []))
    finally:
        if form is not None:
            await form.close()


Arguments = Annotated[ImmutableMultiDict[str, Any], Depends(_arguments)]


async def _format(fmt: str) -> Format:
    return formats.parse_format(fmt)


Fmt = Annotated[Format, Depends(_format)]


def _key_subject(request: Request, session: Session, key: str) -> Subject:
    subject = api_key_subject(session, key)
    request.state.subject = subject  # whose Idempotency-Keys these are (zhili.idempotency)
    return subject


async def submitter(request: Request, session: Db, arguments: Arguments) -> Subject:
    """The key's outside system: from what the process keeps when it can (no thread, no query)."""
    key = str(arguments.get("api_key") or "").strip()
    if not key:
        raise Forbidden(_("缺少 api_key：提交服务请求需要本平台签发的 API 密钥"))
    subject = known_bearer_subject(key) if key.startswith(API_KEY_PREFIX) else None
    if subject is None:
        return await run_in_threadpool(_key_subject, request, session, key)
    request.state.subject = subject  # whose Idempotency-Keys these are (zhili.idempotency)
    return subject


def reader(request: Request, session: Db, arguments: Arguments) -> Subject | None:
    """An API key; else a signed-in staff account (bearer token or page session); else, where the
    deployment allows open reads, no one (None)."""
    key = str(arguments.get("api_key") or "").strip()
    if key:
        return _key_subject(request, session, key)
    scheme, _sep, token = request.headers.get("authorization", "").partition(" ")
    subject: Subject | None = None
    if scheme.lower() == "bearer" and token.strip():
        subject = subject_from_bearer(session, token.strip())
    elif (staff := current_staff(request, session)) is not None:
        subject = subject_for_staff(staff)
    if subject is None and not get_settings().open311_open_read:
        raise Forbidden(_("缺少 api_key：查询服务请求需要本平台签发的 API 密钥"))
    request.state.subject = subject
    return subject


async def _jurisdiction(session: Db, arguments: Arguments) -> Region | None:
    value = str(arguments.get("jurisdiction_id") or "").strip()
    if not value or value == get_settings().open311_jurisdiction_id:
        return None  # the deployment's own: no query
    return await run_in_threadpool(service.jurisdiction, session, value)


Submitter = Annotated[Subject, Depends(submitter)]
Reader = Annotated[Subject | None, Depends(reader)]
Jurisdiction = Annotated[Region | None, Depends(_jurisdiction)]


# Routes -------------------------------------------------------------------------------------------


@router.get("/discovery.{fmt}", summary="服务发现（discovery）")
def discovery(request: Request, fmt: Fmt) -> Response:
    return formats.respond(fmt, "discovery", service.discovery(str(request.base_url)))


@router.get("/services.{fmt}", summary="服务列表：可受理外部提交的事项分类")
def list_services(fmt: Fmt, session: Db, _where: Jurisdiction) -> Response:
    return formats.respond(fmt, "services", service.services(session))


@router.get("/services/{service_code}.{fmt}", summary="服务定义：该分类要求填写的属性")
def service_definition(service_code: str, fmt: Fmt, session: Db, _where: Jurisdiction) -> Response:
    return formats.respond(fmt, "service_definition", service.service_definition(session, service_code))


@router.post("/requests.{fmt}", summary="提交服务请求（受理后答复 token，随即登记为工单）")
async def create_request(request: Request, fmt: Fmt, session: Db, subject: Submitter, arguments: Arguments,
                         _where: Jurisdiction) -> Response:
    """Form fields (urlencoded or multipart) as in GeoReport v2: api_key, service_code, lat + long or
    address_string or address_id (a 12-digit region code or a 15-digit grid code), attribute[CODE] and
    attribute[CODE][], description, first_name, last_name, phone, email, device_id, account_id, media_url.
    Without a point, address_string files under the most specific region or grid of the key's area that
    it names, else under the key's own region.

    Answers the request's token once it is stored (the queued intake, zhili.intake): the
    service_request_id follows at tokens/{token}.{fmt} when it has been filed, within a second.
    `async`: it waits for the group commit without holding a thread."""
    data = form_model(ServiceRequestIn, form_values(arguments.multi_items()))
    accepted, answer = await run_in_threadpool(service.submit, session, subject, data)  # may read places
    response = formats.respond(fmt, "service_requests", answer)
    await intake.store_async(request, session, accepted, response)
    return response


@router.get("/requests.{fmt}", summary="查询服务请求（默认最近 90 天，最多 1000 条）")
def list_requests(request: Request, fmt: Fmt, session: Db, subject: Reader, arguments: Arguments,
                  where: Jurisdiction) -> Response:
    """Query arguments as in GeoReport v2: api_key (or a signed-in staff account), service_request_id (a
    comma list; then the other filters are ignored), service_code (a comma list), start_date and end_date
    (W3C datetimes; at most 90 days apart, the last 90 days by default), status (open, closed),
    jurisdiction_id (a region code narrows the list to that region)."""
    query = form_model(RequestsQuery, dict(arguments))
    return formats.respond(fmt, "service_requests",
                           service.find_requests(session, subject, query, where, str(request.base_url)))


@router.get("/requests/{service_request_id}.{fmt}", summary="查询一条服务请求；.jpg/.png/.webp/.heic 为它的照片")
def get_request(request: Request, service_request_id: str, fmt: str, session: Db, subject: Reader,
                _where: Jurisdiction) -> Response:
    if fmt in service.PHOTO_EXTENSIONS.values():  # the photo its media_url points at
        found = service.photo(session, subject, service_request_id, fmt)
        return FileResponse(path_of(found.key), media_type=found.content_type,
                            headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"})
    return formats.respond(formats.parse_format(fmt), "service_requests",
                           service.one_request(session, subject, service_request_id, str(request.base_url)))


@router.get("/tokens/{token}.{fmt}", summary="由查询码（token）查服务请求编号")
def get_token(token: str, fmt: Fmt, session: Db, subject: Reader, _where: Jurisdiction) -> Response:
    return formats.respond(fmt, "service_requests", service.token(session, subject, token))
