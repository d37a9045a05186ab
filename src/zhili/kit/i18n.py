"""zh-CN is the source language; English is a catalog read from every locale/en/LC_MESSAGES/*.po.

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
    """All .po files of a locale, merged: each domain keeps its own file (core.po, pages.po, ...)."""
    merged: dict[str, str] = {}
    for path in sorted((_CATALOG_DIR / locale / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as fh:
            catalog = read_po(fh)
        merged.update({str(m.id): str(m.string) for m in catalog if m.id and m.string})
    return merged


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


def N_(message: str) -> str:
    """Marks a string for translation where it is defined; `_()` translates it where it is shown."""
    return message


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
