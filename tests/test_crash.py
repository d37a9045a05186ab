"""kill -9 the server in the middle of an intake run, filed (201) or queued (202): every appeal it
acknowledged is stored exactly once, and clients retrying with their Idempotency-Keys create no
duplicate (issue 5)."""

import asyncio
import threading
from pathlib import Path

import httpx2 as httpx
import pytest
from sqlalchemy import func, select

from tests.factories import COMMUNITY_A, login
from zhili.db import get_sessionmaker
from zhili.intake import service as intake
from zhili.kit.serving import ServerProcess
from zhili.models import Appeal, IdempotencyRecord

APPEALS = 240
CONCURRENCY = 12
KILL_AFTER = 60  # acknowledged answers before the power cut


def _body(i: int) -> dict[str, object]:
    return {"text": f"第 {i} 号诉求：小区门口路灯不亮", "region_code": COMMUNITY_A, "external_id": f"crash-{i}",
            "caller_phone": "13800138000"}


async def _send_all(url: str, headers: dict[str, str], indices: list[int],
                    on_answer: "callable[[int, httpx.Response], None]") -> None:  # type: ignore[valid-type]
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in indices:
        queue.put_nowait(i)

    async def client_loop(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            i = queue.get_nowait()
            try:
                r = await client.post("/api/v1/appeals", json=_body(i),
                                      headers={**headers, "Idempotency-Key": f"key-{i}"})
            except httpx.HTTPError:
                continue  # no answer: the client does not know whether it was stored
            on_answer(i, r)

    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(CONCURRENCY)))


def _stored(db_session) -> dict[str, int]:  # type: ignore[no-untyped-def]
    db_session.expire_all()
    rows = db_session.execute(select(Appeal.external_id, func.count()).where(Appeal.external_id.like("crash-%"))
                              .group_by(Appeal.external_id))
    return {external_id: n for external_id, n in rows}


def _drain() -> None:
    """File what the queued path acknowledged (the intake worker's work on a running server)."""
    intake.drain(get_sessionmaker())


@pytest.mark.parametrize(("prefer", "acknowledged_status"), [("", 201), ("respond-async", 202)],
                         ids=["filed", "queued"])
def test_acknowledged_appeals_survive_a_kill_9_exactly_once(client, world, db_session, tmp_path: Path, prefer: str,
                                                           acknowledged_status: int):
    headers = {**login(client, "county-agent"), **({"Prefer": prefer} if prefer else {})}
    first: dict[int, dict[str, object]] = {}
    server = ServerProcess({}, workers=2, log=tmp_path / "server.log").start()
    killed = threading.Event()

    def acknowledged(i: int, r: httpx.Response) -> None:
        if r.status_code == acknowledged_status:
            first[i] = r.json()
            if len(first) >= KILL_AFTER and not killed.is_set():
                killed.set()
                server.kill()  # mid-run: other requests are in flight right now

    try:
        asyncio.run(_send_all(server.url, headers, list(range(APPEALS)), acknowledged))
    finally:
        server.kill()
    assert killed.is_set() and KILL_AFTER <= len(first) < APPEALS

    _drain()
    stored = _stored(db_session)
    for i in first:  # acknowledged means stored, once
        assert stored.get(f"crash-{i}") == 1, i
    assert all(n == 1 for n in stored.values())

    # Every client retries everything it sent, answered or not, with the same keys.
    retried: dict[int, httpx.Response] = {}
    with ServerProcess({}, workers=2, log=tmp_path / "server2.log") as again:
        asyncio.run(_send_all(again.url, headers, list(range(APPEALS)), lambda i, r: retried.__setitem__(i, r)))
    assert sorted(retried) == list(range(APPEALS))
    assert all(r.status_code == acknowledged_status for r in retried.values())
    for i, answer in first.items():  # the retry of an acknowledged appeal is its first answer, replayed
        assert retried[i].headers.get("idempotent-replayed") == "true"
        assert retried[i].json()["tracking_code"] == answer["tracking_code"]

    _drain()
    stored = _stored(db_session)
    assert len(stored) == APPEALS and all(n == 1 for n in stored.values())
    assert db_session.scalar(select(func.count(IdempotencyRecord.id))) == APPEALS


def test_racing_twins_of_one_request_store_it_once(client, world, db_session, tmp_path: Path):
    """Ten copies of one request in flight at once on two server processes: one write, ten equal answers."""
    headers = {**login(client, "county-agent"), "Idempotency-Key": "twin"}

    async def burst(url: str) -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=url, timeout=30) as c:
            return list(await asyncio.gather(*(c.post("/api/v1/appeals", json=_body(7), headers=headers)
                                               for _ in range(10))))

    with ServerProcess({}, workers=2, log=tmp_path / "server.log") as server:
        answers = asyncio.run(burst(server.url))
    assert [r.status_code for r in answers] == [201] * 10
    assert len({r.json()["tracking_code"] for r in answers}) == 1
    assert _stored(db_session) == {"crash-7": 1}
