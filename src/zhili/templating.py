"""Jinja2 environment shared by every page (translations, CSRF token, vendored asset paths, local time)
and the few helpers every page handler uses."""

from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, ValidationError
from starlette.responses import HTMLResponse, RedirectResponse, Response

from zhili.auth.subject import ROLE_LABELS
from zhili.config import get_settings
from zhili.kit import i18n
from zhili.work_order.workflow import CHANNEL_LABELS

ROOT = Path(__file__).resolve().parent
VENDOR = {
    "bootstrap": "vendor/bootstrap-5.3.9",
    "htmx": "vendor/htmx-2.0.11",
    "leaflet": "vendor/leaflet-1.9.4",
    "echarts": "vendor/echarts-6.1.0",
}


def _template_dirs() -> list[Path]:
    """templates/ holds the base layout; each domain keeps its own <domain>/templates/."""
    return [ROOT / "templates", *sorted(p for p in ROOT.glob("*/templates") if p.is_dir())]


_env = Environment(
    loader=FileSystemLoader([str(p) for p in _template_dirs()]),
    extensions=["jinja2.ext.i18n"],
    autoescape=select_autoescape(["html", "xml"]),
)
templates = Jinja2Templates(env=_env)
_env.install_gettext_callables(  # type: ignore[attr-defined]
    gettext=i18n.gettext, ngettext=lambda s, p, n: i18n.gettext(s if n == 1 else p), newstyle=True
)
templates.env.globals.update(vendor=VENDOR, role_labels=ROLE_LABELS, channel_labels=CHANNEL_LABELS,
                             get_locale=i18n.get_locale)
# Times are stored in UTC and shown where the platform's people are.
LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return value.astimezone(LOCAL_TZ).strftime(fmt) if value else ""


templates.env.filters["local_time"] = local_time


def render(request: Request, name: str, context: dict[str, Any] | None = None,
           status_code: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    from zhili.auth.dependencies import csrf_token

    ctx: dict[str, Any] = {
        "subject": getattr(request.state, "subject", None),
        "csrf_token": csrf_token(request),
        "settings": get_settings(),
        "locale": i18n.get_locale(),
    }
    ctx.update(context or {})
    return templates.TemplateResponse(request, name, ctx, status_code=status_code, headers=headers)


# Page helpers -----------------------------------------------------------------------------------

M = TypeVar("M", bound=BaseModel)


def is_fragment(request: Request) -> bool:
    """An htmx request for part of a page (not a history restore, which wants the whole page)."""
    return "hx-request" in request.headers and "hx-history-restore-request" not in request.headers


def form_model(model: type[M], values: dict[str, Any]) -> M:
    """Form fields through the JSON API's own schema, so both interfaces accept the same input; a
    refusal is answered like any other bad input (422 with one problem per field)."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None


def done(request: Request, redirect_to: str, template: str, context: dict[str, Any] | None = None,
         trigger: str | None = None) -> Response:
    """A form that worked: htmx gets a fragment (and an event other parts of the page listen for);
    a plain form post is redirected back."""
    if "hx-request" in request.headers:
        return render(request, template, context, headers={"HX-Trigger": trigger} if trigger else None)
    return RedirectResponse(redirect_to, status_code=303)
