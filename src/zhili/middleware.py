"""ASGI middleware: request locale and upload size limit (idempotent writes: zhili.idempotency)."""

from http.cookies import SimpleCookie

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zhili.config import get_settings
from zhili.kit import i18n

LOCALE_COOKIE = "zhili_lang"
IMPORT_PATH = "/admin/imports"


class LocaleMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = Headers(scope=scope)
            cookie = SimpleCookie(headers.get("cookie", ""))
            chosen = cookie[LOCALE_COOKIE].value if LOCALE_COOKIE in cookie else None
            i18n.set_locale(i18n.pick_locale(chosen, headers.get("accept-language"),
                                             get_settings().default_locale))
        await self.app(scope, receive, send)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": message, "errors": []}, status_code=status)


class BodyLimitMiddleware:
    """Refuse oversize bodies before they are read into memory: by Content-Length, or while streaming."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = get_settings()
        # A historical-appeals file is streamed to disk by its page, so it may be far larger.
        limit = settings.import_max_bytes if scope["path"] == IMPORT_PATH else settings.upload_max_bytes
        message = i18n._("上传内容超过 {mb} MB 上限，请拆分后再上传", mb=round(limit / 1048576, 1))
        length = Headers(scope=scope).get("content-length")
        if length and length.isdigit() and int(length) > limit:
            await _error(413, message)(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    raise _TooLarge()
            return msg

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _error(413, message)(scope, receive, send)


class _TooLarge(Exception):
    pass
