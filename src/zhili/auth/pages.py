"""Sign-in, sign-out and the language switch."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from zhili.auth import service
from zhili.auth.dependencies import DbSession, current_staff, verify_csrf
from zhili.errors import AppError
from zhili.kit import i18n
from zhili.middleware import LOCALE_COOKIE
from zhili.templating import render

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never bounce a user to another host after login."""
    if not target or not target.startswith("/") or target.startswith("//") or target.startswith("/login"):
        return "/"
    return target


@router.get("/")
def home(request: Request, session: DbSession) -> Response:
    if current_staff(request, session) is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse("/admin/regions", status_code=303)


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
