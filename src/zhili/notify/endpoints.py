"""In-app notifications (a list page, the unread badge, marking read) and the live event stream.

Thin, like every page: the subject comes from the cookie session, reads and writes go through
notify.service, scoped by `readable(subject, Notification)`.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response, StreamingResponse

from zhili.auth.dependencies import DbSession, PageSubject, page_subject, verify_csrf
from zhili.auth.subject import Subject
from zhili.db import session_scope
from zhili.errors import FieldProblem, Invalid
from zhili.idempotency import CommittingRoute
from zhili.kit.i18n import _
from zhili.notify import live, service
from zhili.templating import done, is_fragment, render

router = APIRouter(route_class=CommittingRoute, include_in_schema=False)
CSRF = [Depends(verify_csrf)]
KEEPALIVE_SECONDS = 15.0
RETRY_MS = 5000  # how long a browser waits before reconnecting a dropped stream


@router.get("/notifications")
def notifications_page(request: Request, subject: PageSubject, session: DbSession, unread: bool = False) -> Response:
    rows = service.list_notifications(session, subject, unread=unread)
    ctx = {"notifications": rows, "unread": unread, "count": service.unread_count(session, subject)}
    if is_fragment(request):
        return render(request, "notify/_list.html", ctx)
    return render(request, "notify/list.html", ctx)


@router.get("/notifications/count")
def notifications_count(request: Request, subject: PageSubject, session: DbSession) -> Response:
    return render(request, "notify/_count.html", {"count": service.unread_count(session, subject)})


@router.post("/notifications/read", dependencies=CSRF)
def mark_read(request: Request, subject: PageSubject, session: DbSession,
              notification_id: Annotated[str | None, Form()] = None) -> Response:
    """One notification (form field `notification_id`), or every unread one when it is left out."""
    wanted: int | None = None
    if notification_id not in (None, ""):
        if not str(notification_id).isdigit():
            problem = _("通知编号应为整数")
            raise Invalid(problem, [FieldProblem("notification_id", problem)])
        wanted = int(str(notification_id))
    service.mark_read(session, subject, wanted)
    return done(request, "/notifications", "notify/_count.html", {"count": service.unread_count(session, subject)},
                trigger="notifications-changed")


# Live updates ------------------------------------------------------------------------------------


def _stream_subject(request: Request) -> Subject:
    # Its own short session: the stream stays open for hours and must not hold a pooled connection.
    with session_scope() as session:
        return page_subject(request, session)


def sse(event: live.LiveEvent) -> str:
    return f"id: {event.id}\nevent: order\ndata: {json.dumps(event.public_data(), ensure_ascii=False)}\n\n"


async def event_lines(subject: Subject, bus: live.Broadcaster, keepalive: float = KEEPALIVE_SECONDS,
                      ready: asyncio.Event | None = None) -> AsyncIterator[str]:
    """The stream's text: the reconnect hint, then every event of an order the subject may read, with a
    comment line whenever nothing happened for `keepalive` seconds (proxies close silent connections).
    `ready` is set once subscribed, so that a caller knows no event published after it can be missed."""
    yield f"retry: {RETRY_MS}\n\n"
    async with bus.subscribe() as queue:
        if ready is not None:
            ready.set()
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), keepalive)
            except TimeoutError:
                yield ": keepalive\n\n"
                continue
            if live.visible(subject, event):
                yield sse(event)


@router.get("/events/stream")
async def event_stream(request: Request) -> Response:
    subject = await anyio.to_thread.run_sync(_stream_subject, request)
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    if "text/event-stream" not in request.headers.get("accept", ""):
        # Not an EventSource (a probe, a prefetch, a link opened by hand): the opening and the end, so
        # that nothing holds a connection open for a client that cannot read events.
        return Response(f"retry: {RETRY_MS}\n\n", media_type="text/event-stream", headers=headers)
    return StreamingResponse(event_lines(subject, live.bus), media_type="text/event-stream", headers=headers)
