"""Jinja2 environment shared by every page: translations, CSRF token, vendored asset paths."""

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse

from zhili.auth.subject import ROLE_LABELS
from zhili.config import get_settings
from zhili.kit import i18n

ROOT = Path(__file__).resolve().parent
VENDOR = {
    "bootstrap": "vendor/bootstrap-5.3.9",
    "htmx": "vendor/htmx-2.0.11",
    "leaflet": "vendor/leaflet-1.9.4",
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
templates.env.globals.update(vendor=VENDOR, role_labels=ROLE_LABELS, get_locale=i18n.get_locale)


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
