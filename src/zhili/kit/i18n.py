"""zh-CN is the source language; English is a catalog read from locale/en/LC_MESSAGES/messages.po.

Text is written in Chinese and wrapped in `_()`; the request's locale lives in a context variable so
that services, templates and error messages all speak the caller's language.
"""

from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po

LOCALES = ("zh-CN", "en")
_current: ContextVar[str] = ContextVar("zhili_locale", default="zh-CN")
_CATALOG_DIR = Path(__file__).resolve().parent.parent / "locale"


@lru_cache
def _catalog(locale: str) -> dict[str, str]:
    path = _CATALOG_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        catalog = read_po(fh)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string}


def set_locale(locale: str) -> None:
    _current.set(locale if locale in LOCALES else "zh-CN")


def get_locale() -> str:
    return _current.get()


def gettext(message: str) -> str:
    locale = _current.get()
    if locale == "zh-CN":
        return message
    return _catalog(locale).get(message, message)


def _(message: str, **params: object) -> str:
    text = gettext(message)
    return text.format(**params) if params else text


def pick_locale(cookie: str | None, accept_language: str | None, default: str) -> str:
    if cookie in LOCALES:
        return cookie  # type: ignore[return-value]
    if accept_language:
        first = accept_language.split(",")[0].strip().lower()
        if first.startswith("en"):
            return "en"
        if first.startswith("zh"):
            return "zh-CN"
    return default
