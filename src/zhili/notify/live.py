"""Live updates: an in-process broadcaster of order events, fed across processes by PostgreSQL NOTIFY.

On SQLite everything runs in one process: the outbox sender publishes straight into `bus` after its
commit. On PostgreSQL the sender only `NOTIFY`s (in its transaction, so the notice leaves on commit
and never for a rolled-back send), and every web process `LISTEN`s and republishes into its own
`bus`; publishing locally as well would show each event twice in the sender's own process.

The broadcaster never blocks a publisher: each subscriber has a bounded queue, and a subscriber too
slow to keep up loses its oldest events (the page refreshes the order when it next looks), not the
others' events.
"""

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy.engine import make_url

from zhili.access import can_see_region
from zhili.auth.subject import Subject

log = logging.getLogger("zhili.live")

CHANNEL = "zhili_live"
QUEUE_SIZE = 100


@dataclass(frozen=True)
class LiveEvent:
    """What happened to an order, with what is needed to decide who may see it (never sent as is)."""

    id: int  # the outbox row's id: the SSE event id
    order_id: int
    code: str
    action: str
    status: str
    region_code: str
    place_code: str
    department_ids: tuple[int, ...] = field(default=())

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> "LiveEvent":
        data: dict[str, Any] = json.loads(text)
        data["department_ids"] = tuple(data.get("department_ids") or ())
        return cls(**data)

    def public_data(self) -> dict[str, Any]:
        """What a subscriber's browser gets: the order and the move, not the scoping internals."""
        return {"order_id": self.order_id, "code": self.code, "action": self.action, "status": self.status}


def visible(subject: Subject, event: LiveEvent) -> bool:
    """Whether `subject` may read the event's order: the rule of `readable(subject, WorkOrder)` applied
    to the event's own codes (a database query per event per subscriber would not scale). The place or
    the command desk lies in the subject's area; a department's account also needs an assignment of its
    department. tests/notify/test_live.py holds this to the same answers as the query."""
    if not (can_see_region(subject, event.place_code) or can_see_region(subject, event.region_code)):
        return False
    return subject.department_id is None or subject.department_id in event.department_ids


class Broadcaster:
    """Fan-out from any thread to asyncio subscribers (each on its own event loop's queue)."""

    def __init__(self, queue_size: int = QUEUE_SIZE) -> None:
        self._queue_size = queue_size
        self._subscribers: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue[LiveEvent]]] = set()
        self._lock = threading.Lock()

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def publish(self, event: LiveEvent) -> None:
        """Thread-safe and non-blocking: called from the sender's worker thread or the listener."""
        with self._lock:
            subscribers = list(self._subscribers)
        for loop, queue in subscribers:
            try:
                loop.call_soon_threadsafe(_offer, queue, event)
            except RuntimeError:  # that subscriber's loop has closed
                with self._lock:
                    self._subscribers.discard((loop, queue))

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[LiveEvent]]:
        entry = (asyncio.get_running_loop(), asyncio.Queue[LiveEvent](self._queue_size))
        with self._lock:
            self._subscribers.add(entry)
        try:
            yield entry[1]
        finally:
            with self._lock:
                self._subscribers.discard(entry)


def _offer(queue: asyncio.Queue[LiveEvent], event: LiveEvent) -> None:
    if queue.full():
        queue.get_nowait()  # drop the oldest for this slow subscriber only
    queue.put_nowait(event)


bus = Broadcaster()


def libpq_dsn(database_url: str) -> str:
    """SQLAlchemy's URL (postgresql+psycopg://…) as psycopg's own connection string."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


async def listen_forever(target: Broadcaster, database_url: str, retry_seconds: float = 5.0) -> None:
    """Relay `NOTIFY zhili_live` into `target` until cancelled; reconnects after any failure."""
    import psycopg

    while True:
        try:
            async with await psycopg.AsyncConnection.connect(libpq_dsn(database_url), autocommit=True) as conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                async for notice in conn.notifies():
                    try:
                        target.publish(LiveEvent.from_json(notice.payload))
                    except (ValueError, TypeError):
                        log.warning("ignoring a malformed live notice: %.200s", notice.payload)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("live listener lost its connection; retrying in %s s", retry_seconds)
            await asyncio.sleep(retry_seconds)
