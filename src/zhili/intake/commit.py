"""Group commit for the queued intake: many requests' rows, one transaction.

A request hands its intake row (and its idempotency record, when it carried a key) to the process's
committer and awaits it. The committer's thread takes whatever has gathered meanwhile, up to
MAX_BATCH, and writes it in one transaction: the idempotency records with ON CONFLICT DO NOTHING, the
intake rows of the requests whose record went in (or that had no key) in one multi-row insert, then
one commit. Only then is each waiting request told, so an acknowledgement always follows a commit.
While one batch commits the next gathers: the busier the server, the bigger the batches and the fewer
commits per appeal, which is what lets a queued appeal cost a fraction of a filed one.

A retry whose key is already recorded, committed earlier or in the same batch, gets the first answer
(or Invalid, when the key was used for another request). A batch that fails as a whole (a database
error) is written again one request at a time, so one bad row refuses only its own request.
"""

import asyncio
import logging
import queue
import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, insert, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from zhili.errors import AppError
from zhili.idempotency import Replay, check_replay
from zhili.kit.i18n import _
from zhili.models import IdempotencyRecord, IntakeItem

log = logging.getLogger("zhili.intake")

MAX_BATCH = 500
WAIT_SECONDS = 30.0  # a request gives up (503) if its batch has not committed by then


class Unavailable(AppError):
    status_code = 503


@dataclass
class Pending:
    """One request's rows, and what became of them."""

    item: dict[str, Any]  # intake_items values
    answer: dict[str, Any] | None  # idempotency_records values, when the request carried a key
    outcome: Exception | None = None  # None: stored; else Replay, Invalid, or the database's error
    waiter: tuple[asyncio.AbstractEventLoop, "asyncio.Future[None]"] | None = None  # an async request's

    def settle(self, outcome: Exception | None) -> None:
        self.outcome = outcome
        if self.waiter is not None:
            loop, future = self.waiter
            loop.call_soon_threadsafe(_resolve, future)


def _resolve(future: "asyncio.Future[None]") -> None:
    if not future.done():
        future.set_result(None)


class GroupCommit:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None  # kept open between batches (no pool checkout, no ping)
        self._queue: queue.SimpleQueue[Pending] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="zhili-intake-commit", daemon=True)
        self._thread.start()

    async def store_async(self, pending: Pending) -> None:
        """Wait (without holding a thread) until the row is committed; raise Replay/Invalid for a used
        key, Unavailable if the database does not answer in time."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        pending.waiter = (loop, future)
        self._queue.put(pending)
        try:
            await asyncio.wait_for(future, WAIT_SECONDS)
        except TimeoutError:
            raise Unavailable(_("受理繁忙，请稍后重试（带同一个 Idempotency-Key 重试不会重复登记）")) from None
        if pending.outcome is not None:
            raise pending.outcome

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._flush(batch)

    def _flush(self, batch: list[Pending]) -> None:
        try:
            if self._conn is None or self._conn.closed or self._conn.invalidated:
                self._conn = self.engine.connect()
            with self._conn.begin():
                outcomes = write(self._conn, batch)
        except Exception as exc:
            if self._conn is not None:
                self._conn.close()  # a fresh connection for the next try: this one may be broken
                self._conn = None
            if len(batch) == 1:
                log.exception("intake row could not be stored")
                batch[0].settle(Unavailable(_("受理暂时失败，请稍后重试（带同一个 Idempotency-Key 重试不会重复登记）")))
                return
            log.warning("intake batch of %d failed (%s); storing one by one", len(batch), exc)
            for one in batch:
                self._flush([one])
            return
        for pending, outcome in zip(batch, outcomes, strict=True):
            pending.settle(outcome)


def write(conn: Connection, batch: list[Pending]) -> list[Exception | None]:
    """Store a batch in the caller's transaction; return each request's outcome (None: stored)."""
    outcomes: list[Exception | None] = [None] * len(batch)
    firsts: dict[tuple[str, str], int] = {}
    losers: list[int] = []
    for i, pending in enumerate(batch):
        if pending.answer is not None:
            key = (pending.answer["owner"], pending.answer["key"])
            if key in firsts:
                losers.append(i)  # its twin in this very batch goes first
            else:
                firsts[key] = i
    if firsts:
        answers = [answer for i in firsts.values() if (answer := batch[i].answer) is not None]
        recorded = {tuple(row) for row in conn.execute(
            _insert_ignoring_conflicts(conn).returning(IdempotencyRecord.owner, IdempotencyRecord.key), answers)}
        losers += [i for key, i in firsts.items() if key not in recorded]
    if losers:
        wanted = [((batch[i].answer or {})["owner"], (batch[i].answer or {})["key"]) for i in losers]
        rows = {(r.owner, r.key): r for r in conn.execute(select(IdempotencyRecord).where(
            tuple_(IdempotencyRecord.owner, IdempotencyRecord.key).in_(wanted)))}
        for i, key in zip(losers, wanted, strict=True):
            row = rows[key]
            record = IdempotencyRecord(owner=row.owner, key=row.key, request_hash=row.request_hash,
                                       status_code=row.status_code, content_type=row.content_type, body=row.body)
            try:
                outcomes[i] = check_replay(record, (batch[i].answer or {})["request_hash"])
            except AppError as exc:
                outcomes[i] = exc
    stored = [batch[i].item for i in range(len(batch)) if outcomes[i] is None]
    if stored:
        conn.execute(insert(IntakeItem), stored)
    return outcomes


def _insert_ignoring_conflicts(conn: Connection) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(IdempotencyRecord).on_conflict_do_nothing(index_elements=["owner", "key"])


_committers: dict[int, GroupCommit] = {}
_lock = threading.Lock()


def committer(engine: Engine) -> GroupCommit:
    """The process's committer for this engine (one thread each)."""
    with _lock:
        found = _committers.get(id(engine))
        if found is None or found.engine is not engine:
            found = _committers[id(engine)] = GroupCommit(engine)
        return found


__all__ = ["GroupCommit", "Pending", "Replay", "Unavailable", "committer", "write"]
