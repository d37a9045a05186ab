"""The KPIs of the assessment ledger (DESIGN.md, "Standards worth following"), each defined once: its
name, the formula a person reads on the page, and the two SQL predicates over the facts projected from
the event log (zhili.assessment.facts) that count its numerator and denominator.

Periods select by when the matter started: orders registered in the period (dispatches: dispatched in
it); the steps are counted as they stand at `as_of` (now, or when a month was closed).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from sqlalchemy import ColumnElement, and_, or_, true

from zhili.kit.i18n import N_
from zhili.models import DispatchFact, OrderFact

Source = Literal["orders", "dispatches"]
Predicate = Callable[[datetime], ColumnElement[bool]]

F, D = OrderFact, DispatchFact


def _valid() -> ColumnElement[bool]:
    """Orders that should be closed: neither invalid nor merged into another."""
    return and_(F.cancelled.is_(False), F.merged.is_(False))


def _closed(at: datetime) -> ColumnElement[bool]:
    return and_(F.closed_at.is_not(None), F.closed_at <= at)


def _handled(at: datetime) -> ColumnElement[bool]:
    return and_(F.handled_at.is_not(None), F.handled_at <= at)


def _handled_in_time() -> ColumnElement[bool]:
    """Handled by the deadline in force (extensions included); a matter with no handling deadline
    (answered on the call, handled by the grid itself) is in time."""
    return or_(F.handle_due.is_(None), F.handled_at <= F.handle_due)


def _dispatched(at: datetime) -> ColumnElement[bool]:
    return and_(_valid(), F.first_dispatch_at.is_not(None), F.first_dispatch_at <= at)


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    formula: str
    source: Source
    numerator: Predicate
    denominator: Predicate
    higher_is_better: bool = True
    # The person a row of the per-person ledger is about: a column of the source.
    person: str = "handler_id"
    # Dimensions it means nothing for (a department does not register or answer calls).
    not_for: frozenset[str] = frozenset()
    weight: float = 0.0  # the default weight in the composite score
    hotline: bool = False


KPIS: Final = (
    Kpi("closure", N_("结案率"), N_("结案数 ÷ 应结案数（本期登记、未作废未合并的工单）"), "orders",
        lambda at: and_(_valid(), _closed(at)), lambda at: _valid(), weight=20),
    Kpi("closure_in_time", N_("按期结案率"),
        N_("按期结案数 ÷ 应结案数；按期：在办理期限（含批准的延期）内处置完毕"), "orders",
        lambda at: and_(_valid(), _closed(at), _handled_in_time()), lambda at: _valid(), weight=20),
    Kpi("handling", N_("处置率"), N_("处置数 ÷ 应处置数（已派遣、未作废未合并的工单）"), "orders",
        lambda at: and_(_dispatched(at), _handled(at)), _dispatched, weight=0),
    Kpi("handling_in_time", N_("按期处置率"), N_("按期处置数 ÷ 应处置数"), "orders",
        lambda at: and_(_dispatched(at), _handled(at), _handled_in_time()), _dispatched, weight=15),
    Kpi("rework", N_("返工率"), N_("返工数 ÷ 处置数；返工：核查不通过或不满意重办过的工单"), "orders",
        lambda at: and_(_dispatched(at), _handled(at), F.reworks > 0), lambda at: and_(_dispatched(at), _handled(at)),
        higher_is_better=False, weight=10),
    Kpi("dispatch_accuracy", N_("准确派遣率"),
        N_("（派遣数 − 退回改派数）÷ 派遣数；退回改派：部门退回经审核同意，或指挥中心撤回"),
        "dispatches", lambda at: D.redirected.is_(False), lambda at: true(), person="dispatcher_id", weight=5),
    Kpi("registration_accuracy", N_("准确立案率"), N_("（立案数 − 作废数）÷ 立案数"), "orders",
        lambda at: F.cancelled.is_(False), lambda at: true(), person="registrar_id", not_for=frozenset({"department"})),
    Kpi("sign_in_time", N_("按时签收率"),
        N_("按时签收数 ÷ 应签收数（已签收或签收期限已到、未被改派的派遣）"), "dispatches",
        lambda at: and_(D.redirected.is_(False), D.signed_at.is_not(None), D.signed_at <= at,
                        or_(D.sign_due.is_(None), D.signed_at <= D.sign_due)),
        lambda at: and_(D.redirected.is_(False), or_(and_(D.signed_at.is_not(None), D.signed_at <= at),
                                                     and_(D.sign_due.is_not(None), D.sign_due <= at))),
        person="signer_id", weight=10, hotline=True),
    Kpi("closed_in_time", N_("按时办结率"), N_("按时办结数 ÷ 应办结数（已办结或办理期限已到的工单）"), "orders",
        lambda at: and_(_valid(), _closed(at), _handled_in_time()),
        lambda at: and_(_valid(), or_(_closed(at), and_(F.handle_due.is_not(None), F.handle_due <= at))),
        hotline=True),
    Kpi("first_call", N_("首呼解决率"), N_("当场答复办结数 ÷ 热线登记数（未作废未合并）"), "orders",
        lambda at: and_(F.channel == "hotline", _valid(), F.answered.is_(True)),
        lambda at: and_(F.channel == "hotline", _valid()), person="registrar_id",
        not_for=frozenset({"department"}), hotline=True),
    Kpi("satisfaction", N_("满意率"), N_("回访评价为基本满意、满意、非常满意的工单 ÷ 回访评价的工单"), "orders",
        lambda at: F.rating >= 3, lambda at: F.rating.is_not(None), weight=20, hotline=True),
    Kpi("repeat", N_("重复诉求率"), N_("重复诉求数 ÷ 登记数；重复：同一来电号码 30 日内已有诉求"), "orders",
        lambda at: F.repeat.is_(True), lambda at: true(), higher_is_better=False, person="registrar_id",
        not_for=frozenset({"department"}), hotline=True),
)
KPI_BY_KEY: Final = {k.key: k for k in KPIS}

# Shown beside the rates, not part of the composite score: an average, not a share.
HOURS_LABEL: Final = N_("平均处置时长")
HOURS_FORMULA: Final = N_("首次派遣到处置完毕的平均自然小时数（本期已处置的工单）")

DEFAULT_WEIGHTS: Final = {k.key: k.weight for k in KPIS}


@dataclass(frozen=True)
class Figure:
    """A KPI's counts for one row of the ledger."""

    numerator: int
    denominator: int

    @property
    def rate(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None


def score(figures: Mapping[str, Figure], weights: Mapping[str, float]) -> float | None:
    """The composite score out of 100: the weighted mean of the rates that have a denominator (a rate
    where lower is better counts as 1 − rate). None when no weighted KPI has any data."""
    total = weight_sum = 0.0
    for kpi in KPIS:
        w = weights.get(kpi.key, 0.0)
        figure = figures.get(kpi.key)
        rate = figure.rate if figure else None
        if w <= 0 or rate is None:
            continue
        total += w * (rate if kpi.higher_is_better else 1 - rate)
        weight_sum += w
    return round(100 * total / weight_sum, 2) if weight_sum else None

