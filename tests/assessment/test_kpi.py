"""The KPIs on a hand-built event history: seven orders of September 2026 whose every step is written
as the workflow writes it (the deadlines in force on each event's `clock`), and every figure below
worked out by hand from that history.

    O1 hotline, 甲一社区 grid 1: dispatched to 城管 09:10 (sign by 13:10), signed 10:00, handled 09-03
       09:10 (due 09-08), verified, rated 5 → closed.
    O2 hotline, 甲一社区: dispatched to 住建 (returned, return accepted), then to 城管 (sign by 09-02 17:00,
       signed 18:00: late), handled 09-20 (due 09-10: late), verification failed (rework; new due
       09-28), handled again 09-21, rated 2, closed as dissatisfied.
    O3 web, 乙镇一村: dispatched to 城管, signed in time, handling due 09-05, still open.
    O4 hotline, 甲一社区, O1's caller again: answered on the call (首呼解决), a repeat appeal.
    O5 hotline, 甲一社区: cancelled as invalid.      O6 grid report, 甲一社区: handled by the grid itself.
    O7 hotline, 甲一社区: merged into O1.
"""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from tests.factories import COMMUNITY_A, COMMUNITY_B, World
from zhili.assessment import facts, ledger
from zhili.assessment.kpi import DEFAULT_WEIGHTS, KPI_BY_KEY, Figure, score
from zhili.errors import Conflict
from zhili.models import Appeal, OrderEvent, WorkOrder

SH = ZoneInfo("Asia/Shanghai")
SEPTEMBER = ledger.parse_period("2026-09")


def t(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 9, day, hour, minute, tzinfo=SH)


class History:
    def __init__(self, session: Session, world: World) -> None:
        self.s, self.w, self.orders = session, world, {}

    def order(self, name: str, channel: str, place: str, at: datetime, phone: str, grid: bool = False) -> None:
        region = self.w.regions[place[:9] + "000"]
        o = WorkOrder(code=f"GDTEST{name}", status="registered", region_id=region.id, region_code=region.code,
                      place_code=place, channel=channel, title=name,
                      grid_id=self.w.grids[place + "001"].id if grid else None)
        self.s.add(o)
        self.s.flush()
        self.s.add(Appeal(tracking_code=f"TT{name}", channel=channel, caller_phone=phone, text=name,
                          region_code=place, work_order_id=o.id, created_at=at))
        self.orders[name] = o
        self.event(name, at, "register", "registered", actor="county-agent", data={"channel": channel})

    def event(self, name: str, at: datetime, action: str, to: str, *, actor: str | None = None,
              data: dict[str, Any] | None = None, rework: bool = False, stage: str | None = None,
              due: datetime | None = None, handle_due: datetime | None = None) -> None:
        payload = dict(data or {})
        if stage or handle_due:
            payload["clock"] = {"stage": stage, "due": due.isoformat() if due else None,
                                "handle_due": handle_due.isoformat() if handle_due else None}
        staff = self.w.staff[actor] if actor else None
        self.s.add(OrderEvent(work_order_id=self.orders[name].id, at=at, action=action, to_status=to,
                              actor_id=staff.id if staff else None, actor_name=staff.display_name if staff else "系统",
                              data=payload, rework=rework))
        self.s.flush()


@pytest.fixture
def history(db_session: Session, world: World) -> History:
    return september(History(db_session, world))


def september(h: History) -> History:
    """The seven orders of the module docstring, committed."""
    db_session = h.s
    cg, zj = {"department": "D-COUNTY-CG"}, {"department": "D-COUNTY-ZJ"}
    d = "county-dispatcher"
    h.order("O1", "hotline", COMMUNITY_A, t(1, 9), "13900000001", grid=True)
    h.event("O1", t(1, 9, 10), "dispatch", "dispatched", actor=d, data=cg, stage="sign", due=t(1, 13, 10),
            handle_due=t(8, 18))
    h.event("O1", t(1, 10), "sign", "accepted", actor="county-handler", data=cg, stage="handle", due=t(8, 18),
            handle_due=t(8, 18))
    h.event("O1", t(3, 9, 10), "report", "handled", actor="county-handler", stage="verify", due=t(4, 9),
            handle_due=t(8, 18))
    h.event("O1", t(3, 15), "verify_pass", "verified", actor="towna-gw", stage="callback", due=t(5, 9),
            handle_due=t(8, 18))
    h.event("O1", t(4, 10), "callback", "closed", actor="county-agent", data={"rating": 5}, handle_due=t(8, 18))

    h.order("O2", "hotline", COMMUNITY_A, t(1, 9, 30), "13900000002")
    h.event("O2", t(1, 10), "dispatch", "dispatched", actor=d, data=zj, stage="sign", due=t(2, 12),
            handle_due=t(9, 18))
    h.event("O2", t(1, 11), "return", "returned", actor="county-zj", data=zj, handle_due=t(9, 18))
    h.event("O2", t(1, 14), "accept_return", "registered", actor=d, handle_due=t(9, 18))
    h.event("O2", t(2, 9), "dispatch", "dispatched", actor=d, data=cg, stage="sign", due=t(2, 17),
            handle_due=t(10, 18))
    h.event("O2", t(2, 18), "sign", "accepted", actor="county-handler2", data=cg, stage="handle", due=t(10, 18),
            handle_due=t(10, 18))
    h.event("O2", t(20, 10), "report", "handled", actor="county-handler2", stage="verify", due=t(21, 9),
            handle_due=t(10, 18))
    h.event("O2", t(20, 15), "verify_fail", "accepted", actor="towna-gw", rework=True, stage="handle",
            due=t(28, 18), handle_due=t(28, 18))
    h.event("O2", t(21, 10), "report", "handled", actor="county-handler2", stage="verify", due=t(22, 9),
            handle_due=t(28, 18))
    h.event("O2", t(21, 16), "verify_pass", "verified", actor="towna-gw", stage="callback", due=t(23, 9),
            handle_due=t(28, 18))
    h.event("O2", t(22, 10), "callback", "verified", actor="county-agent", data={"rating": 2}, handle_due=t(28, 18))
    h.event("O2", t(23, 9), "close_dissatisfied", "closed", actor=d, handle_due=t(28, 18))

    h.order("O3", "web", COMMUNITY_B, t(2, 8), "13900000003")
    h.event("O3", t(2, 8, 30), "dispatch", "dispatched", actor=d, data=cg, stage="sign", due=t(2, 12, 30),
            handle_due=t(5, 18))
    h.event("O3", t(2, 9), "sign", "accepted", actor="county-handler", data=cg, stage="handle", due=t(5, 18),
            handle_due=t(5, 18))

    h.order("O4", "hotline", COMMUNITY_A, t(10, 9), "13900000001")
    h.event("O4", t(10, 9, 5), "answer", "closed", actor="county-agent", data={"answer": "已答复"})
    h.order("O5", "hotline", COMMUNITY_A, t(11, 9), "13900000005")
    h.event("O5", t(11, 9, 30), "cancel", "cancelled", actor=d)
    h.order("O6", "grid", COMMUNITY_A, t(12, 9), "")
    h.event("O6", t(12, 9, 20), "self_handle", "closed", actor="towna-gw", data={"report": "已清理"})
    h.order("O7", "hotline", COMMUNITY_A, t(1, 9, 20), "13900000007")
    h.event("O7", t(1, 9, 25), "merge", "cancelled", actor=d, data={"target": "GDTESTO1"})
    db_session.commit()
    return h


def _rows(session: Session, world: World, dimension: str, who: str = "county-leader") -> dict[str, ledger.Row]:
    from zhili.auth.service import subject_for_staff

    got = ledger.ledger(session, subject_for_staff(world.staff[who]), dimension, SEPTEMBER)  # type: ignore[arg-type]
    return {r.name: r for r in got.rows}


def _f(row: ledger.Row, key: str) -> tuple[int, int]:
    f = row.figures[key]
    return f.numerator, f.denominator


def test_department_figures_are_the_hand_counted_ones(history: History, db_session: Session, world: World) -> None:
    rows = _rows(db_session, world, "department")
    cg, zj = rows["县综合行政执法局"], rows["县住房和城乡建设局"]
    assert _f(cg, "closure") == (2, 3)
    assert _f(cg, "closure_in_time") == (2, 3)  # O2 was handled again by its reworked deadline
    assert _f(cg, "handling") == (2, 3)
    assert _f(cg, "handling_in_time") == (2, 3)
    assert _f(cg, "rework") == (1, 2)
    assert _f(cg, "dispatch_accuracy") == (3, 3)
    assert _f(zj, "dispatch_accuracy") == (0, 1)  # returned, and the return accepted
    assert _f(cg, "sign_in_time") == (2, 3)  # O2 signed an hour late
    assert _f(zj, "sign_in_time") == (0, 0)
    assert _f(cg, "closed_in_time") == (2, 3)  # O3's deadline has passed without handling
    assert _f(cg, "satisfaction") == (1, 2)
    assert "first_call" not in cg.figures and "registration_accuracy" not in cg.figures
    assert cg.hours == 264.0  # (48 h + 480 h) / 2
    # 20·⅔ + 20·⅔ + 15·⅔ + 10·(1 − ½) + 5·1 + 10·⅔ + 20·½ = 63.33; 住建 has only its wrong dispatch
    assert cg.score == 63.33 and zj.score == 0.0
    assert (cg.rank, zj.rank) == (1, 2)


def test_region_figures_are_the_hand_counted_ones(history: History, db_session: Session, world: World) -> None:
    rows = _rows(db_session, world, "town")
    a, b = rows["甲街道"], rows["乙镇"]
    assert _f(a, "registration_accuracy") == (5, 6)  # O5 invalid; O7 merged is not a wrong registration
    assert _f(a, "first_call") == (1, 3)  # O1, O2, O4 (O5 invalid, O7 merged)
    assert _f(a, "repeat") == (1, 6)  # O4: O1's caller nine days later
    assert _f(a, "closure") == (4, 4)  # O1, O2, O4, O6
    assert _f(a, "closure_in_time") == (4, 4)
    assert _f(b, "closure") == (0, 1)
    grids = _rows(db_session, world, "grid")
    assert _f(grids["甲一社区第一网格"], "closure") == (1, 1)
    # The town's own viewer sees its town only.
    assert set(_rows(db_session, world, "town", "towna-viewer")) == {"甲街道"}


def test_person_figures_follow_who_was_responsible(history: History, db_session: Session, world: World) -> None:
    rows = _rows(db_session, world, "person")
    assert _f(rows["县派遣员"], "dispatch_accuracy") == (3, 4)
    assert _f(rows["县城管处置员二"], "rework") == (1, 1)
    assert _f(rows["县热线坐席"], "first_call") == (1, 3)


def test_every_figure_drills_down_to_its_orders(history: History, db_session: Session, world: World) -> None:
    from zhili.auth.service import subject_for_staff

    leader = subject_for_staff(world.staff["county-leader"])
    cg = str(world.departments["D-COUNTY-CG"].id)
    ids = ledger.orders_behind(db_session, leader, "department", cg, SEPTEMBER, KPI_BY_KEY["sign_in_time"],
                               "numerator", datetime.now(SH))
    assert set(ids) == {history.orders["O1"].id, history.orders["O3"].id}
    ids = ledger.orders_behind(db_session, leader, "department", cg, SEPTEMBER, KPI_BY_KEY["closure"],
                               "denominator", datetime.now(SH))
    assert set(ids) == {history.orders[n].id for n in ("O1", "O2", "O3")}


def test_facts_follow_new_events_and_a_closed_month_never_changes(history: History, db_session: Session,
                                                                   world: World) -> None:
    before = _rows(db_session, world, "department")["县综合行政执法局"]
    snap = ledger.close_month(db_session, SEPTEMBER, "test")
    db_session.commit()
    with pytest.raises(Conflict):
        ledger.close_month(db_session, SEPTEMBER, "test")
    with pytest.raises(Conflict):
        ledger.close_month(db_session, ledger.this_month(), "test")
    # O3 is handled and rated afterwards: the facts follow, the published September does not.
    history.event("O3", datetime.now(SH), "report", "handled", actor="county-handler", handle_due=t(5, 18))
    history.event("O3", datetime.now(SH), "callback", "closed", actor="county-agent", data={"rating": 5})
    db_session.commit()
    assert facts.catch_up(db_session) >= 1
    fact = db_session.get(facts.OrderFact, history.orders["O3"].id)
    assert fact is not None and fact.rating == 5 and fact.handled_at is not None
    after = _rows(db_session, world, "department")["县综合行政执法局"]
    assert _f(after, "closure") == _f(before, "closure") == (2, 3)
    assert after.score == before.score and snap.period == "2026-09"


def test_the_score_weights_the_rates_that_have_data() -> None:
    figures = {"closure": Figure(1, 2), "rework": Figure(1, 4), "satisfaction": Figure(0, 0)}
    assert score(figures, {"closure": 1, "rework": 1, "satisfaction": 5}) == 62.5  # (½ + ¾) / 2
    assert score({}, DEFAULT_WEIGHTS) is None


def test_periods_parse_and_step_back() -> None:
    assert ledger.parse_period("2026-01").previous().key == "2025-12"
    assert ledger.parse_period("2026-Q1").previous().key == "2025-Q4"
    q = ledger.parse_period("2026-Q3")
    assert (q.first.isoformat(), q.last.isoformat()) == ("2026-07-01", "2026-09-30")
    assert ledger.parse_period("2026-10-01~2026-10-10").previous().key == "2026-09-21~2026-09-30"
    with pytest.raises(Exception, match="2026-10"):
        ledger.parse_period("last month")
