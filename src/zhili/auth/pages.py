"""Sign-in, sign-out, the language switch, and the admin pages for API keys and the audit log."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from zhili.access import can_see_region, get_readable, readable
from zhili.auth import service
from zhili.auth.dependencies import DbSession, PageSubject, current_staff, verify_csrf
from zhili.auth.schemas import ApiKeyCreate
from zhili.auth.subject import Subject
from zhili.errors import AppError, FieldProblem, Invalid
from zhili.idempotency import CommittingRoute
from zhili.jurisdiction import repository as jurisdiction_repo
from zhili.jurisdiction.service import require_manages
from zhili.kit import i18n
from zhili.kit.i18n import _
from zhili.kit.pagination import PageParams, paginate
from zhili.middleware import LOCALE_COOKIE
from zhili.models import ApiKey, Role
from zhili.templating import done, form_model, is_fragment, render

router = APIRouter(route_class=CommittingRoute, include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never bounce a user to another host after login."""
    if not target or not target.startswith("/") or target.startswith("//") or target.startswith("/login"):
        return "/"
    return target


# Each role's own start page, the first that applies (an agent who also dispatches starts at the hotline).
START_PAGES = (
    ((Role.hotline_agent,), "/hotline"),
    ((Role.dispatcher, Role.command_leader), "/orders"),
    ((Role.department_handler,), "/inbox"),
    ((Role.grid_worker, Role.grid_chief), "/grid"),
    ((Role.viewer,), "/overview"),
    ((Role.admin,), "/admin/regions"),
)


@router.get("/")
def home(request: Request, session: DbSession) -> Response:
    staff = current_staff(request, session)
    if staff is None:
        return RedirectResponse("/login", status_code=303)
    target = next((page for wanted, page in START_PAGES if staff.roles.intersection(wanted)), "/admin/regions")
    return RedirectResponse(target, status_code=303)


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    return render(request, "auth/login.html", {"next": _safe_next(next), "username": "", "error": None})


@router.post("/login", dependencies=[Depends(verify_csrf)])
def login(
    request: Request, session: DbSession,
    username: Annotated[str, Form(max_length=50)], password: Annotated[str, Form(max_length=128)],
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    try:
        staff = service.authenticate(session, username, password, request.client.host if request.client else "")
    except AppError as exc:
        session.commit()  # the failed attempt and any lock-out must stick
        return render(request, "auth/login.html", {"next": _safe_next(next), "username": username,
                                                   "error": exc.message}, status_code=exc.status_code)
    csrf = request.session.get("csrf")
    request.session.clear()  # a fresh session on login: no fixation
    request.session.update({"sid": staff.id, "v": staff.session_version, "csrf": csrf})
    response = RedirectResponse(_safe_next(next), status_code=303)
    if staff.locale in i18n.LOCALES:
        response.set_cookie(LOCALE_COOKIE, staff.locale, max_age=365 * 86400, samesite="lax")
    return response


@router.post("/logout", dependencies=[Depends(verify_csrf)])
def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.post("/locale", dependencies=[Depends(verify_csrf)])
def switch_locale(lang: Annotated[str, Form(max_length=10)],
                  next: Annotated[str, Form(max_length=500)] = "/") -> Response:
    response = RedirectResponse(_safe_next(next) if next != "/login" else "/login", status_code=303)
    if lang in i18n.LOCALES:
        response.set_cookie(LOCALE_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return response


# API keys and the audit log (admins only, like their JSON API) ------------------------------------

Paging = Annotated[PageParams, Depends()]


def _key_ctx(session: Session, subject: Subject, params: PageParams) -> dict[str, Any]:
    rows, total = paginate(session, readable(subject, ApiKey).order_by(ApiKey.id.desc()), params)
    return {"keys": rows, "total": total, "params": params,
            "manageable": {k.id for k in rows if can_see_region(subject, k.region.code)}}


@router.get("/admin/api-keys")
def api_keys_page(request: Request, subject: PageSubject, session: DbSession, params: Paging) -> Response:
    subject.require(Role.admin)
    ctx = _key_ctx(session, subject, params)
    if is_fragment(request):
        return render(request, "auth/_api_key_table.html", ctx)
    regions = list(session.scalars(jurisdiction_repo.regions(subject).limit(2000)))
    return render(request, "auth/api_keys.html", {**ctx, "regions": regions})


@router.post("/admin/api-keys", dependencies=[Depends(verify_csrf)])
def create_api_key(
    request: Request, subject: PageSubject, session: DbSession,
    name: Annotated[str, Form(max_length=100)] = "", region_code: Annotated[str, Form(max_length=12)] = "",
    roles: Annotated[list[str], Form(max_length=20)] = [],  # noqa: B006 (FastAPI copies defaults)
    channels: Annotated[list[str], Form(max_length=10)] = [],  # noqa: B006
    rate_limit: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    if not roles:
        raise Invalid(_("请至少选择一个角色"), [FieldProblem("roles", _("请至少选择一个角色"))])
    data = form_model(ApiKeyCreate, {"name": name, "region_code": region_code or None, "roles": roles,
                                     "channels": channels, "rate_limit": rate_limit.strip() or None})
    key, plain = service.issue_api_key(session, subject, data.name, data.region_code, data.roles, data.channels,
                                       data.rate_limit)
    # The plain key exists only in this answer: it is never stored, so a plain post cannot redirect.
    template = "auth/_api_key_created.html" if "hx-request" in request.headers else "auth/api_key_created.html"
    return render(request, template, {"key": key, "plain": plain}, headers={"HX-Trigger": "api-keys-changed"})


@router.post("/admin/api-keys/{key_id}/revoke", dependencies=[Depends(verify_csrf)])
def revoke_api_key(request: Request, key_id: int, subject: PageSubject, session: DbSession) -> Response:
    key = get_readable(session, subject, ApiKey, ApiKey.id == key_id, what=_("API 密钥 #{id}", id=key_id))
    require_manages(subject, key.region.code)
    service.revoke_api_key(session, key, subject)
    return done(request, "/admin/api-keys", "auth/_api_key_row.html", {"k": key, "manageable": {key.id}})


@router.get("/admin/audit")
def audit_page(
    request: Request, subject: PageSubject, session: DbSession, params: Paging,
    action: Annotated[str | None, Query(max_length=50)] = None,
    actor: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    subject.require(Role.admin)
    rows, total = paginate(session, service.audit_query(subject, action or None, (actor or "").strip() or None),
                           params)
    ctx = {"rows": rows, "total": total, "params": params, "action": action or "", "actor": actor or "",
           "region_names": jurisdiction_repo.region_names(session, subject, {r.region_code for r in rows
                                                                             if r.region_code})}
    return render(request, "auth/_audit_table.html" if is_fragment(request) else "auth/audit.html", ctx)
