"""create_app(): middleware, error handlers and every router."""

import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from zhili import __version__
from zhili.auth.dependencies import LoginRequired
from zhili.config import get_settings
from zhili.errors import AppError, FieldProblem, ImportRejected
from zhili.idempotency import IdempotencyMiddleware, Replay
from zhili.kit.i18n import _
from zhili.middleware import BodyLimitMiddleware, LocaleMiddleware

log = logging.getLogger("zhili")
STATIC = Path(__file__).resolve().parent / "static"


def wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith(("/api/", "/open311/")) or "application/json" in request.headers.get("accept", "")


def validation_problems(exc: RequestValidationError) -> list[FieldProblem]:
    problems = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "form")]
        field = ".".join(loc) or _("请求体")
        problems.append(FieldProblem(field, _pydantic_message(err)))
    return problems


def _pydantic_message(err: Any) -> str:
    """Pydantic's English messages, said in the caller's language for the common kinds."""
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    messages = {
        "json_invalid": lambda: _("请求体不是有效的 JSON（{m}）", m=ctx.get("error", "")),
        "missing": lambda: _("必填"),
        "extra_forbidden": lambda: _("不认识的字段，请检查拼写"),
        "model_attributes_type": lambda: _("请求体应为 JSON 对象，并设置 Content-Type: application/json"),
        "dict_type": lambda: _("应为 JSON 对象"),
        "string_type": lambda: _("应为文本"),
        "string_too_short": lambda: _("至少 {n} 个字符", n=ctx.get("min_length")),
        "string_too_long": lambda: _("最多 {n} 个字符", n=ctx.get("max_length")),
        "string_pattern_mismatch": lambda: _("格式不正确（应匹配 {p}）", p=ctx.get("pattern")),
        "int_parsing": lambda: _("应为整数"),
        "int_type": lambda: _("应为整数"),
        "float_parsing": lambda: _("应为数字"),
        "bool_parsing": lambda: _("应为 true 或 false"),
        "list_type": lambda: _("应为数组"),
        "too_short": lambda: _("至少需要 {n} 项", n=ctx.get("min_length")),
        "too_long": lambda: _("最多 {n} 项", n=ctx.get("max_length")),
        "enum": lambda: _("取值应为以下之一：{e}", e=ctx.get("expected")),
        "literal_error": lambda: _("取值应为以下之一：{e}", e=ctx.get("expected")),
        "greater_than_equal": lambda: _("应不小于 {n}", n=ctx.get("ge")),
        "less_than_equal": lambda: _("应不大于 {n}", n=ctx.get("le")),
    }
    if kind in messages:
        return messages[kind]()
    return str(err.get("msg", "")).removeprefix("Value error, ")


def _error_page(request: Request, status: int, message: str, problems: list[FieldProblem]) -> Response:
    from zhili.templating import render

    template = "_error_fragment.html" if request.headers.get("hx-request") else "error.html"
    return render(request, template, {"status": status, "message": message, "problems": problems},
                  status_code=status)


def _respond(request: Request, status: int, message: str, problems: list[FieldProblem],
             extra: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> Response:
    headers = dict(headers or {})
    if wants_json(request):
        body: dict[str, Any] = {"detail": message, "errors": [p.as_dict() for p in problems]}
        body.update(extra or {})
        if status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        return JSONResponse(body, status_code=status, headers=headers)
    response = _error_page(request, status, message, problems)
    response.headers.update(headers)
    return response


def create_app() -> FastAPI:
    settings = get_settings()
    from zhili.work_order.tasks import lifespan

    app = FastAPI(
        lifespan=lifespan,
        title="Zhili 治理",
        version=__version__,
        description=_("市域社会治理现代化综合指挥平台 API"),
        docs_url="/docs",
        redoc_url=None,
    )

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        target = "/login?next=" + request.url.path
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(ImportRejected)
    async def _import_rejected(request: Request, exc: ImportRejected) -> Response:
        report = exc.report
        return _respond(request, exc.status_code, exc.message, exc.problems,
                        {"rows": report.rows, "created": 0, "updated": 0})

    @app.exception_handler(Replay)
    async def _replay(request: Request, exc: Replay) -> Response:
        return exc.response()

    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> Response:
        return _respond(request, exc.status_code, exc.message, exc.problems, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = validation_problems(exc)
        message = "; ".join(f"{p.field}: {p.problem}" for p in problems[:3])
        return _respond(request, 422, message, problems)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = {404: _("页面或接口不存在"), 405: _("不支持该请求方法")}.get(exc.status_code, str(exc.detail))
        return _respond(request, exc.status_code, message, [])

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> Response:
        # Checks run before writes, so this is a race with a concurrent identical write.
        log.warning("integrity error on %s %s: %s", request.method, request.url.path, exc.orig)
        return _respond(request, 409, _("与同时提交的另一项修改冲突（例如相同的编码），请刷新后重试"), [])

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, exc: StaleDataError) -> Response:
        # The row's version moved between our read and our write: another person acted first.
        return _respond(request, 409, _("该记录刚被他人更新，请刷新后再操作"), [])

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _respond(request, 500, _("服务器内部错误，已记录日志；请稍后重试或联系管理员"), [])

    # Outermost first: locale for every message, then size limit, then idempotent replay.
    app.add_middleware(SessionMiddleware, secret_key=settings.secret_key, session_cookie=settings.session_cookie,
                       max_age=settings.session_max_age_seconds, same_site="lax",
                       https_only=settings.environment == "production")
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(LocaleMiddleware)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    from zhili.assessment import pages as assessment_pages
    from zhili.auth import endpoints as auth_api
    from zhili.auth import pages as auth_pages
    from zhili.category import endpoints as category_api
    from zhili.category import pages as category_pages
    from zhili.command import pages as command_pages
    from zhili.dispatch import pages as dispatch_pages
    from zhili.intake import endpoints as intake_api
    from zhili.jurisdiction import endpoints as jurisdiction_api
    from zhili.jurisdiction import pages as jurisdiction_pages
    from zhili.notify import endpoints as notify_api
    from zhili.open311 import endpoints as open311_api
    from zhili.transfer import endpoints as transfer_api
    from zhili.transfer import pages as transfer_pages
    from zhili.work_order import attachments as attachment_api
    from zhili.work_order import endpoints as work_order_api
    from zhili.work_order import pages as work_order_pages
    from zhili.work_order import public as public_pages

    # Routes are matched in order, one by one: the intake's busiest routes come first. The transfer
    # routers go before the work-order ones: /work-orders/export and /orders/export.* are not order ids.
    app.include_router(open311_api.router)
    app.include_router(transfer_api.router)
    app.include_router(work_order_api.router)
    app.include_router(intake_api.router)
    app.include_router(auth_api.router)
    app.include_router(jurisdiction_api.router)
    app.include_router(category_api.router)
    app.include_router(transfer_pages.router)
    app.include_router(attachment_api.router)
    app.include_router(attachment_api.page_router)
    app.include_router(notify_api.router)
    app.include_router(work_order_pages.router)
    app.include_router(dispatch_pages.router)
    app.include_router(command_pages.router)
    app.include_router(assessment_pages.router)
    app.include_router(assessment_pages.api)
    app.include_router(category_pages.router)
    app.include_router(public_pages.router)
    app.include_router(auth_pages.router)
    app.include_router(jurisdiction_pages.router)
    from zhili.basedata import endpoints as basedata_api
    from zhili.basedata import pages as basedata_pages

    app.include_router(basedata_api.router)
    app.include_router(basedata_pages.router)
    from zhili.casework import endpoints as casework_api
    from zhili.casework import pages as casework_pages
    from zhili.volunteer import endpoints as volunteer_api
    from zhili.volunteer import pages as volunteer_pages

    for casework_router in (casework_api.router, casework_pages.router, volunteer_api.router, volunteer_pages.router):
        app.include_router(casework_router)

    from zhili.fieldwork import endpoints as fieldwork_api
    from zhili.fieldwork import pages as fieldwork_pages
    from zhili.keyperson import endpoints as keyperson_api
    from zhili.keyperson import pages as keyperson_pages

    for field_router in (keyperson_api.router, fieldwork_api.router, keyperson_pages.router, fieldwork_pages.router):
        app.include_router(field_router)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app
