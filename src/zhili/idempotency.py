"""Idempotent writes: a write under /api/ or /open311/ that carries an Idempotency-Key runs once, and
every retry gets the first answer.

Exactly once, even across a crash: the answer is stored in the same transaction as the write it
answers. `IdempotencyMiddleware` only notes the key and hashes the body as the handler reads it;
`CommittingRoute` keeps the rendered response where the request's database session can see it; and
`record()`, called by the session dependency just before its commit, adds the record. So either both
the write and its answer are committed, or neither is: a server killed between commit and reply
leaves an answer that the client's retry is given, and a server killed before commit leaves nothing,
so the retry runs afresh. A retry that races its twin loses on the record's unique (owner, key), rolls
back its own write and replays the winner's answer.
"""

import hashlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from sqlalchemy import delete, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zhili.errors import Invalid
from zhili.kit.i18n import _
from zhili.kit.time import now
from zhili.models import IdempotencyRecord

SCOPE_KEY = "zhili.idempotency"
RESPONSE_KEY = "zhili.response"
RECORDED_KEY = "zhili.recorded"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PREFIXES = ("/api/", "/open311/")
REPLAY_TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 200


@dataclass
class Claim:
    """The key of one request, and the hash of what it sent (method, path, body as read)."""

    key: str
    method: str
    path: str
    authorization: str
    digest: Any = field(default=None)

    def request_hash(self) -> str:
        return str(self.digest.hexdigest())


class Replay(Exception):
    """Answer with the stored first answer instead."""

    def __init__(self, row: IdempotencyRecord) -> None:
        super().__init__(row.key)
        self.row = row

    def response(self) -> Response:
        return Response((self.row.body or "").encode(), status_code=self.row.status_code or 200,
                        headers={"content-type": self.row.content_type or "application/json",
                                 "idempotent-replayed": "true"})


class IdempotencyMiddleware:
    """Notes the Idempotency-Key of an API write and hashes its body as the handler reads it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS or not scope["path"].startswith(PREFIXES):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        key = headers.get("idempotency-key", "").strip()
        if not key:
            await self.app(scope, receive, send)
            return
        if len(key) > MAX_KEY_LENGTH:
            from starlette.responses import JSONResponse

            message = _("Idempotency-Key 不能超过 {n} 个字符", n=MAX_KEY_LENGTH)
            await JSONResponse({"detail": message, "errors": []}, status_code=400)(scope, receive, send)
            return
        digest = hashlib.sha256(scope["method"].encode() + scope["path"].encode() + b"\0")
        scope[SCOPE_KEY] = Claim(key=key, method=scope["method"], path=scope["path"],
                                 authorization=headers.get("authorization", ""), digest=digest)

        async def hashing() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                digest.update(message.get("body", b""))
            return message

        await self.app(scope, hashing, send)


class CommittingRoute(APIRoute):
    """Keeps the rendered response in the scope for `record()`; every router of the app uses it."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def keep_response(request: Request) -> Response:
            response = await handler(request)
            if SCOPE_KEY in request.scope:
                request.scope[RESPONSE_KEY] = response
            return response

        return keep_response


def _owner(request: Request, claim: Claim) -> str:
    """Keys are per caller: the authenticated subject when there is one (an API key sent in an Open311
    form, a token), else the Authorization header."""
    subject = getattr(request.state, "subject", None)
    basis = subject.owner_key if subject is not None else "authorization:" + claim.authorization
    return hashlib.sha256(basis.encode()).hexdigest()[:64]


def _existing(session: Session, owner: str, key: str) -> IdempotencyRecord | None:
    return session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.owner == owner,
                                                          IdempotencyRecord.key == key))


def answer_record(request: Request, response: Response) -> dict[str, Any] | None:
    """The idempotency record's values for this request's answer, or None when there is nothing to
    record: no key, or a refusal (a refusal wrote nothing, so a retry runs afresh; a 429 must not be
    replayed for a day)."""
    claim: Claim | None = request.scope.get(SCOPE_KEY)
    body = getattr(response, "body", None)
    if claim is None or request.scope.get(RECORDED_KEY) or body is None or response.status_code >= 400:
        return None
    return {"owner": _owner(request, claim), "key": claim.key, "method": claim.method, "path": claim.path,
            "request_hash": claim.request_hash(), "status_code": response.status_code,
            "content_type": response.headers.get("content-type", ""),
            "body": bytes(body).decode("utf-8", errors="replace")}


def answer_pending(request: Request) -> bool:
    """Whether this request carries a key whose answer is not recorded yet (and so may be a retry)."""
    return SCOPE_KEY in request.scope and not request.scope.get(RECORDED_KEY)


def recorded_elsewhere(request: Request) -> None:
    """The handler stored its answer's record itself (the queued intake commits it with its row)."""
    request.scope[RECORDED_KEY] = True


def check_replay(row: IdempotencyRecord, request_hash: str) -> Replay:
    """What a retry gets: the first answer, unless the key was used for a different request."""
    if row.request_hash != request_hash:
        raise Invalid(_("该 Idempotency-Key 已用于另一个不同的请求，请为新请求换一个键"))
    return Replay(row)


def record(request: Request, session: Session) -> None:
    """Add the answer's record to the request's transaction, just before its commit. If the key was
    used before (a retry, or its racing twin), raise Replay (or Invalid for another request's key);
    the caller then rolls its own write back."""
    response: Response | None = request.scope.get(RESPONSE_KEY)
    values = answer_record(request, response) if response is not None else None
    if values is None:
        return
    session.add(IdempotencyRecord(**values))
    try:
        session.flush()
    except IntegrityError:
        session.rollback()  # our write goes too: the first answer stands
        earlier(request, session)
        raise


def earlier(request: Request, session: Session) -> None:
    """After a failed write: if this key already has an answer, raise Replay (or Invalid); else return."""
    claim: Claim | None = request.scope.get(SCOPE_KEY)
    if claim is None:
        return
    row = _existing(session, _owner(request, claim), claim.key)
    if row is None:
        return
    session.expunge(row)
    raise check_replay(row, claim.request_hash())


def forget_old(conn: Connection) -> int:
    """Drop answers older than a day (run by the background sweep)."""
    result = conn.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now() - REPLAY_TTL))
    return result.rowcount or 0
