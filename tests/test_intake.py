"""The queued intake: acknowledged after one durable insert (group commit), filed moments later, once."""

import asyncio
import threading

from sqlalchemy import func, select

from tests.factories import COMMUNITY_A, TOWN_A, login
from zhili.db import get_engine, get_sessionmaker
from zhili.errors import Invalid
from zhili.idempotency import Replay
from zhili.intake import commit
from zhili.intake import service as intake
from zhili.kit.time import now
from zhili.models import Appeal, IntakeItem, IntakeState, WorkOrder

ASYNC = {"Prefer": "respond-async"}
BODY = {"text": "文化路路灯不亮三天了", "lon": 119.52, "lat": 29.25, "category_code": "T.SRGL",
        "caller_phone": "13800138000"}


def drain() -> dict[str, int]:
    return intake.drain(get_sessionmaker())


def test_respond_async_answers_202_and_the_order_follows(client, world, db_session):
    agent = login(client, "county-agent")
    r = client.post("/api/v1/appeals", json=BODY, headers={**agent, **ASYNC})
    assert r.status_code == 202, r.text
    queued = r.json()
    token = queued["tracking_code"]
    assert queued["state"] == "queued" and queued["work_order_code"] is None
    assert r.headers["Location"] == f"/api/v1/intake/{token}" == queued["href"]
    assert r.headers["Preference-Applied"] == "respond-async"
    assert client.get(f"/api/v1/intake/{token}", headers=agent).json()["state"] == "queued"
    # Only who sent it may ask.
    assert client.get(f"/api/v1/intake/{token}", headers=login(client, "county-dispatcher")).status_code == 404

    assert drain() == {"filed": 1, "rejected": 0}
    filed = client.get(f"/api/v1/intake/{token}", headers=agent).json()
    order = db_session.scalar(select(WorkOrder).where(WorkOrder.id == filed["work_order_id"]))
    assert filed["state"] == "filed" and filed["work_order_code"] == order.code
    appeal = db_session.scalar(select(Appeal).where(Appeal.tracking_code == token))
    assert appeal.work_order_id == order.id and appeal.caller_phone == "13800138000"
    assert order.status == "registered" and order.region_code == TOWN_A and order.grid.code == COMMUNITY_A + "001"
    assert order.channel == "hotline" and appeal.created_by_id is not None


def test_respond_async_refuses_bad_input_at_once_and_queues_nothing(client, world, db_session):
    agent = login(client, "county-agent")
    r = client.post("/api/v1/appeals", json={**BODY, "category_code": "NOPE", "lon": 100.0, "lat": 30.0},
                    headers={**agent, **ASYNC})
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"lon", "category_code"}
    assert db_session.scalar(select(func.count(IntakeItem.id))) == 0


def test_a_retried_async_appeal_is_queued_once(client, world, db_session):
    headers = {**login(client, "county-agent"), **ASYNC, "Idempotency-Key": "switch-0001"}
    first = client.post("/api/v1/appeals", json=BODY, headers=headers)
    again = client.post("/api/v1/appeals", json=BODY, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    other = client.post("/api/v1/appeals", json={**BODY, "text": "另一件事情"}, headers=headers)
    assert other.status_code == 422 and "Idempotency-Key" in other.json()["detail"]
    assert drain() == {"filed": 1, "rejected": 0}
    assert db_session.scalar(select(func.count(IntakeItem.id))) == 1


# The group commit -------------------------------------------------------------------------------


def _pending(key: str | None, request_hash: str = "h1") -> commit.Pending:
    from zhili.work_order.service import new_tracking_code

    item = {"token": new_tracking_code(), "state": IntakeState.queued, "received_at": now(),
            "payload": dict(BODY), "source_key_id": None, "staff_id": None}
    answer = None if key is None else {
        "owner": "o" * 64, "key": key, "method": "POST", "path": "/api/v1/appeals", "request_hash": request_hash,
        "status_code": 202, "content_type": "application/json", "body": f'{{"tracking_code":"{item["token"]}"}}'}
    return commit.Pending(item=item, answer=answer)


def test_twins_in_one_batch_store_once_and_the_second_replays_the_first(world, db_session):
    first, twin, stranger, keyless = _pending("k-1"), _pending("k-1"), _pending("k-1", "h2"), _pending(None)
    with get_engine().begin() as conn:
        outcomes = commit.write(conn, [first, twin, stranger, keyless])
    assert outcomes[0] is None and outcomes[3] is None
    assert isinstance(outcomes[1], Replay) and first.item["token"] in outcomes[1].row.body
    assert isinstance(outcomes[2], Invalid)
    tokens = set(db_session.scalars(select(IntakeItem.token)))
    assert tokens == {first.item["token"], keyless.item["token"]}
    # A retry in a later batch replays the committed answer.
    with get_engine().begin() as conn:
        (later,) = commit.write(conn, [_pending("k-1")])
    assert isinstance(later, Replay) and first.item["token"] in later.row.body


def _store_all(pendings: list[commit.Pending]) -> list[BaseException | None]:
    """Every pending stored at once, as requests on one event loop do; each one's outcome."""
    committer = commit.committer(get_engine())

    async def all_at_once() -> list[BaseException | None]:
        return list(await asyncio.gather(*(committer.store_async(p) for p in pendings), return_exceptions=True))

    return asyncio.run(all_at_once())


def test_many_requests_storing_at_once_are_each_stored_once(world, db_session):
    pendings = [_pending(f"t-{i}") for i in range(40)] + [_pending("t-0")]  # and one retry racing its twin
    outcomes = _store_all(pendings)
    assert outcomes.count(None) == 40 and sum(isinstance(o, Replay) for o in outcomes) == 1
    assert db_session.scalar(select(func.count(IntakeItem.id))) == 40


def test_filing_workers_running_at_once_file_each_row_once(world, db_session):
    assert _store_all([_pending(None) for _i in range(30)]) == [None] * 30
    # These rows have no sender: each is rejected, once, and says why.
    counts: list[dict[str, int]] = []
    threads = [threading.Thread(target=lambda: counts.append(intake.file_queued(get_sessionmaker(), limit=7)))
               for _i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    counts.append(drain())
    assert sum(c["rejected"] for c in counts) == 30 and sum(c["filed"] for c in counts) == 0
    problems = db_session.scalars(select(IntakeItem.problems)).all()
    assert all(p == [{"field": "", "problem": "提交方已被删除，无法登记"}] for p in problems)


def test_the_worker_thread_files_what_is_queued(client, world, db_session):
    agent = login(client, "county-agent")
    token = client.post("/api/v1/appeals", json=BODY, headers={**agent, **ASYNC}).json()["tracking_code"]
    stop = threading.Event()
    worker = threading.Thread(target=intake.run_forever, args=(get_sessionmaker(), stop))
    worker.start()
    try:
        for _i in range(200):  # until filed; the worker polls every 0.2 s
            if client.get(f"/api/v1/intake/{token}", headers=agent).json()["state"] == "filed":
                break
            stop.wait(0.05)
    finally:
        stop.set()
        worker.join()
    assert client.get(f"/api/v1/intake/{token}", headers=agent).json()["state"] == "filed"


def test_a_row_that_fails_after_its_check_is_rejected_alone(client, world, db_session, monkeypatch):
    agent = {**login(client, "county-agent"), **ASYNC}
    tokens = [client.post("/api/v1/appeals", json={**BODY, "text": f"第 {i} 件事情"}, headers=agent)
              .json()["tracking_code"] for i in range(3)]
    real = intake.file_appeals

    def failing_on_the_second(session, filings, reads):  # type: ignore[no-untyped-def]
        if any(code == tokens[1] for _subject, _data, code in filings):
            raise RuntimeError("a bug")
        return real(session, filings, reads)

    monkeypatch.setattr(intake, "file_appeals", failing_on_the_second)
    assert drain() == {"filed": 2, "rejected": 1}
    states = {t: client.get(f"/api/v1/intake/{t}", headers=agent).json() for t in tokens}
    assert [states[t]["state"] for t in tokens] == ["filed", "rejected", "filed"]
    assert states[tokens[1]]["problems"] == [{"field": "", "problem": "登记时发生内部错误，请重新提交或联系管理员"}]
    assert db_session.scalar(select(func.count(Appeal.id)).where(Appeal.tracking_code.in_(tokens))) == 2
