"""`zhili bench dashboard` on SQLite with a small N, through the entry point the CLI uses
(`zhili.bench.run`): every figure is there, the orders carry several events each, and the facts the
generator derived while generating are the ones the projection (`facts.rebuild`) derives from the
stored events and appeals. No wall-clock assertions."""

import os
import random
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from zhili.assessment import facts
from zhili.assessment.ledger import compute, parse_period
from zhili.bench import run
from zhili.db import make_engine, reset_caches
from zhili.kit.time import aware
from zhili.models import DispatchFact, OrderEvent, OrderFact, WorkOrder

ORDERS = 2000
SAMPLE = 50
MAP_QUERIES = {"summary_county", "summary_town", "summary_village", "summary_grid", "area_view_county",
               "area_view_town", "orders_layer_town_viewport", "heat_layer_town_viewport_30d"}
LEDGER_QUERIES = {"ledger_department_month", "ledger_town_month", "ledger_department_year", "ledger_town_year"}
SWEEP = {"warn", "overdue"}


@pytest.fixture(scope="module")
def bench() -> Iterator[tuple[dict[str, Any], Engine]]:
    """The bench's JSON, and an engine on the scratch database it filled (the tests' own database is
    given back to the other tests afterwards)."""
    saved = {k: os.environ.get(k) for k in ("ZHILI_DATABASE_URL", "ZHILI_BENCH_DATABASE_URL")}
    os.environ.pop("ZHILI_BENCH_DATABASE_URL", None)  # a scratch SQLite file, whatever the test pass
    try:
        result = run("dashboard", orders=ORDERS)
        url = os.environ["ZHILI_DATABASE_URL"]
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        reset_caches()
    engine = make_engine(url)
    yield result, engine
    engine.dispose()


def test_the_json_has_every_figure(bench: tuple[dict[str, Any], Engine]) -> None:
    result, _engine = bench
    assert result["benchmark"] == "dashboard" and result["backend"] == "sqlite"
    assert result["orders"] == ORDERS
    assert set(result["queries"]) == MAP_QUERIES | LEDGER_QUERIES
    for figures in result["queries"].values():
        assert {"p50_ms", "p95_ms", "p50_x_floor", "p95_x_floor", "n"} <= set(figures)
    assert {"p50_ms", "p95_ms"} <= set(result["floor_count_order_events"])
    assert {"map_met", "year_ledger_met", "worst_map_p95_ms", "worst_year_ledger_p95_ms"} <= set(result["targets"])
    assert result["load_seconds"] >= 0 and result["machine"]


def test_rows_and_events_per_order(bench: tuple[dict[str, Any], Engine]) -> None:
    result, engine = bench
    rows = result["rows"]
    assert rows["work_orders"] == rows["appeals"] == rows["order_facts"] == ORDERS
    assert result["events"] == rows["order_events"]
    assert 5 <= result["events"] / ORDERS <= 8  # register, dispatch, sign, report, verify, callback, and detours
    assert 0.8 * ORDERS <= rows["dispatch_facts"] <= 1.2 * ORDERS
    generated = result["generated"]
    assert 0 < generated["open_share"] < 0.05 and 0 < generated["reworked_share"] < 0.2
    assert min(generated["repeat_share"], generated["cancelled_share"], generated["answered_share"]) > 0
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(OrderFact)) == ORDERS
        assert session.scalar(select(func.count()).select_from(OrderEvent)) == result["events"]
        # The projection's mark is set: catching up finds no order whose facts lag its events.
        assert facts.catch_up(session) == 0
        session.rollback()


def _facts(session: Session, ids: list[int]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    orders = [tuple(getattr(f, c.key) for c in OrderFact.__table__.columns)
              for f in session.scalars(select(OrderFact).where(OrderFact.order_id.in_(ids))
                                       .order_by(OrderFact.order_id))]
    dispatches = [tuple(getattr(d, c.key) for c in DispatchFact.__table__.columns if c.key != "id")
                  for d in session.scalars(select(DispatchFact).where(DispatchFact.order_id.in_(ids))
                                           .order_by(DispatchFact.order_id, DispatchFact.dispatched_at))]
    return orders, dispatches


def _ledger(session: Session, dimension: str, period: str) -> dict[str, tuple[Any, ...]]:
    as_of = aware(session.scalar(select(func.max(OrderEvent.at))))
    assert as_of is not None
    rows = compute(session, None, dimension, parse_period(period), as_of)  # type: ignore[arg-type]
    return {r.key: (r.name, {k: (f.numerator, f.denominator) for k, f in r.figures.items()},
                    round(r.hours_total, 3), r.hours_count) for r in rows}


def test_the_generators_facts_are_the_projections(bench: tuple[dict[str, Any], Engine]) -> None:
    result, engine = bench
    first, now = result["generated"]["first"][:10], result["generated"]["now"][:10]
    periods = [f"{first}~{now}", result["periods"]["year"], result["periods"]["month"]]
    with Session(engine) as session:
        ids = sorted(random.Random(7).sample(range(1, ORDERS + 1), SAMPLE))
        loaded = _facts(session, ids)
        ledgers = {(d, p): _ledger(session, d, p) for d in ("department", "town") for p in periods}
        assert ledgers[("department", periods[0])], "the ledger over the whole span has rows"

        facts.rebuild(session, ids)  # from the stored events and appeals
        session.flush()
        session.expire_all()
        assert _facts(session, ids) == loaded

        facts.rebuild(session, list(range(1, ORDERS + 1)))
        session.flush()
        session.expire_all()
        for (dimension, period), rows in ledgers.items():
            assert _ledger(session, dimension, period) == rows, (dimension, period)
        session.rollback()


def test_order_columns_follow_their_events(bench: tuple[dict[str, Any], Engine]) -> None:
    _result, engine = bench
    with Session(engine) as session:
        ids = sorted(random.Random(11).sample(range(1, ORDERS + 1), SAMPLE))
        for order in session.scalars(select(WorkOrder).where(WorkOrder.id.in_(ids))):
            events = list(session.scalars(select(OrderEvent).where(OrderEvent.work_order_id == order.id)
                                          .order_by(OrderEvent.id)))
            moves = [e for e in events if e.action not in SWEEP]
            assert moves[0].action == "register" and aware(moves[0].at) == aware(order.created_at)
            assert all(a.at <= b.at for a, b in zip(events, events[1:], strict=False))
            assert moves[-1].to_status == order.status
            clock = moves[-1].data.get("clock") or {}
            assert clock.get("stage") == order.stage
            assert clock.get("due") == (aware(order.due_at).isoformat() if order.due_at else None)  # type: ignore[union-attr]
            if order.status in ("closed", "cancelled"):
                assert aware(order.closed_at) == aware(moves[-1].at)
            if order.overdue_at is not None:
                assert any(e.action == "overdue" and aware(e.at) == aware(order.overdue_at) for e in events)
            assert order.appeals[0].created_at == order.created_at
