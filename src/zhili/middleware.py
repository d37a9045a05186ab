"""ASGI middleware: request locale, upload size limit, and idempotent replays of API writes."""

import hashlib
from datetime import timedelta
from http.cookies import SimpleCookie

import anyio
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zhili.config import get_settings
from zhili.db import session_scope
from zhili.kit import i18n
from zhili.kit.time import aware, now
from zhili.models import IdempotencyRecord

LOCALE_COOKIE = "zhili_lang"


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
        limit = get_settings().upload_max_bytes
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


# A record still "in progress" after this long belongs to a request that died; a retry may proceed.
STALE_IN_PROGRESS = timedelta(seconds=60)
REPLAY_TTL = timedelta(hours=24)


class IdempotencyMiddleware:
    """A write under /api/ or /open311/ that carries an Idempotency-Key answers every retry with the
    first answer and runs the handler once. Keys are per caller (hash of the Authorization header)."""

    WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        key = headers.get("idempotency-key", "").strip()
        path: str = scope.get("path", "")
        if not key or scope["method"] not in self.WRITE_METHODS or not path.startswith(("/api/", "/open311/")):
            await self.app(scope, receive, send)
            return
        if len(key) > 200:
            await _error(400, i18n._("Idempotency-Key 不能超过 200 个字符"))(scope, receive, send)
            return
        body = b""
        more = True
        while more:
            msg = await receive()
            body += msg.get("body", b"")
            more = msg.get("more_body", False)
        owner = hashlib.sha256(headers.get("authorization", "anonymous").encode()).hexdigest()[:64]
        request_hash = hashlib.sha256(scope["method"].encode() + path.encode() + b"\0" + body).hexdigest()

        claim = await anyio.to_thread.run_sync(self._claim, owner, key, scope["method"], path, request_hash)
        if isinstance(claim, JSONResponse):
            await claim(scope, receive, send)
            return
        if isinstance(claim, IdempotencyRecord):
            replay = Response((claim.body or "").encode(), status_code=claim.status_code or 200,
                              headers={"content-type": claim.content_type or "application/json",
                                       "idempotent-replayed": "true"})
            await replay(scope, receive, send)
            return

        sent_body = False

        async def replay_body() -> Message:
            nonlocal sent_body
            if sent_body:
                return {"type": "http.disconnect"}
            sent_body = True
            return {"type": "http.request", "body": body, "more_body": False}

        status = 500
        content_type = ""
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal status, content_type
            if message["type"] == "http.response.start":
                status = message["status"]
                content_type = Headers(raw=message.get("headers", [])).get("content-type", "")
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_body, capture)
        finally:
            await anyio.to_thread.run_sync(self._finish, owner, key, status, content_type, b"".join(chunks))

    @staticmethod
    def _claim(owner: str, key: str, method: str, path: str,
               request_hash: str) -> IdempotencyRecord | JSONResponse | None:
        """None: this request owns the key now. A record: replay it. A response: refuse."""
        try:
            return IdempotencyMiddleware._claim_once(owner, key, method, path, request_hash)
        except IntegrityError:  # a concurrent twin inserted the key first
            return _error(409, i18n._("相同 Idempotency-Key 的请求正在处理中，请稍后重试"))

    @staticmethod
    def _claim_once(owner: str, key: str, method: str, path: str,
                    request_hash: str) -> IdempotencyRecord | JSONResponse | None:
        with session_scope() as session:
            session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now() - REPLAY_TTL))
            row = session.scalar(select(IdempotencyRecord).where(
                IdempotencyRecord.owner == owner, IdempotencyRecord.key == key))
            if row is not None:
                if row.request_hash != request_hash:
                    return _error(422, i18n._("该 Idempotency-Key 已用于另一个不同的请求，请为新请求换一个键"))
                if row.status_code is not None:
                    session.expunge(row)
                    return row
                if now() - (aware(row.created_at) or now()) < STALE_IN_PROGRESS:
                    return _error(409, i18n._("相同 Idempotency-Key 的请求正在处理中，请稍后重试"))
                session.delete(row)
                session.flush()
            session.add(IdempotencyRecord(owner=owner, key=key, method=method, path=path,
                                          request_hash=request_hash))
        return None

    @staticmethod
    def _finish(owner: str, key: str, status: int, content_type: str, body: bytes) -> None:
        with session_scope() as session:
            row = session.scalar(select(IdempotencyRecord).where(
                IdempotencyRecord.owner == owner, IdempotencyRecord.key == key))
            if row is None:
                return
            if status >= 500:
                session.delete(row)  # nothing was committed: let a retry run the handler again
                return
            row.status_code = status
            row.content_type = content_type
            row.body = body.decode("utf-8", errors="replace")

