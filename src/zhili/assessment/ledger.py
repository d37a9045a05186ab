"""The assessment ledger: the KPIs of zhili.assessment.kpi per department, region (town, village, grid)
or person over a period, with the composite score, the ranking and its change since the previous
period; every figure drills down to its orders. A closed month is read from its snapshot, so a
published ranking never changes afterwards."""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Final, Literal, get_args

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session

from zhili.access import readable
from zhili.assessment import facts
from zhili.assessment.kpi import DEFAULT_WEIGHTS, KPIS, Figure, Kpi, score
from zhili.auth.subject import Subject
from zhili.errors import Conflict, FieldProblem, Invalid
from zhili.kit.calendar import SHANGHAI as LOCAL
from zhili.kit.i18n import _
from zhili.kit.time import aware, now
from zhili.models import (
    AssessmentSnapshot,
    AssessmentWeights,
    Department,
    DispatchFact,
    Grid,
    OrderFact,
    Region,
    Staff,
)

Dimension = Literal["department", "town", "village", "grid", "person"]
DIMENSIONS: Final = get_args(Dimension)
CLOSE_AFTER_DAYS = 5  # a month closes on the 5th of the next: time for its last callbacks
DRILL_LIMIT = 500

F, D = OrderFact, DispatchFact


# Periods ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    key: str  # "2026-10", "2026-Q4", "2026", or "2026-10-01~2026-10-15"
    first: date
    last: date  # inclusive

    @property
    def start(self) -> datetime:
        return datetime(self.first.year, self.first.month, self.first.day, tzinfo=LOCAL)

    @property
    def end(self) -> datetime:
        nxt = self.last + timedelta(days=1)
        return datetime(nxt.year, nxt.month, nxt.day, tzinfo=LOCAL)

    @property
    def is_month(self) -> bool:
        return re.fullmatch(r"\d{4}-\d{2}", self.key) is not None

    @property
    def label(self) -> str:
        if self.is_month:
            return _("{y}年{m}月", y=self.first.year, m=self.first.month)
        if re.fullmatch(r"\d{4}-Q[1-4]", self.key):
            return _("{y}年第{q}季度", y=self.first.year, q=self.key[-1])
        if re.fullmatch(r"\d{4}", self.key):
            return _("{y}年", y=self.first.year)
        return f"{self.first:%Y-%m-%d} ~ {self.last:%Y-%m-%d}"

    def previous(self) -> "Period":
        if self.is_month:
            return month(self.first - timedelta(days=1))
        if re.fullmatch(r"\d{4}-Q[1-4]", self.key):
            q = int(self.key[-1])
            return parse_period(f"{self.first.year - (q == 1)}-Q{4 if q == 1 else q - 1}")
        if re.fullmatch(r"\d{4}", self.key):
            return parse_period(str(self.first.year - 1))
        days = (self.last - self.first).days + 1
        return span(self.first - timedelta(days=days), self.first - timedelta(days=1))


def month(day: date) -> Period:
    first = day.replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    return Period(f"{first:%Y-%m}", first, nxt - timedelta(days=1))


def span(first: date, last: date) -> Period:
    return Period(f"{first:%Y-%m-%d}~{last:%Y-%m-%d}", first, last)


def this_month(at: datetime | None = None) -> Period:
    return month((at or now()).astimezone(LOCAL).date())


def parse_period(text: str) -> Period:
    """A month "2026-10", a quarter "2026-Q4", a year "2026", or a range "2026-10-01~2026-10-15"."""
    value = text.strip()
    try:
        if m := re.fullmatch(r"(\d{4})-(\d{2})", value):
            return month(date(int(m[1]), int(m[2]), 1))
        if m := re.fullmatch(r"(\d{4})-Q([1-4])", value):
            first = date(int(m[1]), 3 * int(m[2]) - 2, 1)
            return Period(value, first, month(date(first.year, first.month + 2, 1)).last)
        if re.fullmatch(r"\d{4}", value):
            return Period(value, date(int(value), 1, 1), date(int(value), 12, 31))
        if m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})~(\d{4}-\d{2}-\d{2})", value):
            first, last = date.fromisoformat(m[1]), date.fromisoformat(m[2])
            if first <= last and (last - first).days <= 3660:
                return span(first, last)
    except ValueError:
        pass
    message = _("考评期间“{v}”无法识别：请写成 2026-10（月）、2026-Q4（季度）、2026（年）或 2026-10-01~2026-10-15",
                v=text)
    raise Invalid(message, [FieldProblem("period", message, "2026-10")])


def parse_dimension(text: str) -> Dimension:
    if text not in DIMENSIONS:
        message = _("考评对象“{v}”无法识别：可选 department、town、village、grid、person", v=text)
        raise Invalid(message, [FieldProblem("dimension", message, "department")])
    return text  # type: ignore[return-value]


# Rows -------------------------------------------------------------------------------------------


@dataclass
class Row:
    key: str
    name: str
    figures: dict[str, Figure]
    hours_total: float = 0.0
    hours_count: int = 0
    score: float | None = None
    rank: int | None = None
    change: int | None = None  # places gained since the previous period (negative: lost)

    @property
    def hours(self) -> float | None:
        return round(self.hours_total / self.hours_count, 1) if self.hours_count else None

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "name": self.name, "hours_total": self.hours_total, "hours_count": self.hours_count,
                "figures": {k: [f.numerator, f.denominator] for k, f in self.figures.items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Row":
        return cls(key=data["key"], name=data["name"], hours_total=data["hours_total"],
                   hours_count=data["hours_count"],
                   figures={k: Figure(int(n), int(d)) for k, (n, d) in data["figures"].items()})


@dataclass
class Ledger:
    dimension: Dimension
    period: Period
    rows: list[Row]
    weights: dict[str, float]
    as_of: datetime
    snapshot: AssessmentSnapshot | None = None
    kpis: tuple[Kpi, ...] = field(default=KPIS)


def applies(kpi: Kpi, dimension: Dimension) -> bool:
    return dimension not in kpi.not_for


def _hours(session: Session) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(F.handled_at) - func.julianday(F.first_dispatch_at)) * 24.0
    return func.extract("epoch", F.handled_at - F.first_dispatch_at) / 3600.0


def _scope(stmt: Select[Any], subject: Subject | None, source: str) -> Select[Any]:
    if subject is None:
        return stmt
    table = F if source == "orders" else D
    prefix = subject.scope_prefix
    stmt = stmt.where(or_(table.place_code.startswith(prefix, autoescape=True),
                          table.region_code.startswith(prefix, autoescape=True)))
    if subject.department_id is not None:
        column = F.lead_department_id if source == "orders" else D.department_id
        stmt = stmt.where(column == subject.department_id)
    return stmt


def _in_period(source: str, period: Period) -> ColumnElement[bool]:
    column = F.registered_at if source == "orders" else D.dispatched_at
    return and_(column >= period.start, column < period.end)


def _group(dimension: Dimension, source: str, person: str) -> Any:
    table: Any = F if source == "orders" else D
    match dimension:
        case "department":
            return F.lead_department_id if source == "orders" else D.department_id
        case "town":
            return func.substr(table.place_code, 1, 9)
        case "village":
            return func.substr(table.place_code, 1, 12)
        case "grid":
            return F.grid_id  # dispatches join their order's facts for it
        case "person":
            return getattr(table, person)  # type: ignore[no-any-return]


def _base(source: str, dimension: Dimension) -> Select[Any]:
    if source == "dispatches" and dimension == "grid":
        return select().select_from(D).join(F, F.order_id == D.order_id)
    return select().select_from(F if source == "orders" else D)


def compute(session: Session, subject: Subject | None, dimension: Dimension, period: Period,
            as_of: datetime) -> list[Row]:
    """The ledger's rows, unranked, from the facts as they stand (the caller catches them up)."""
    rows: dict[str, Row] = {}

    def row(key: Any) -> Row:
        k = str(key)
        return rows.setdefault(k, Row(key=k, name=k, figures={}))

    kpis = [k for k in KPIS if applies(k, dimension)]
    groups: dict[tuple[str, str], list[Kpi]] = {}
    for kpi in kpis:
        groups.setdefault((kpi.source, kpi.person if dimension == "person" else ""), []).append(kpi)
    for (source, person), members in groups.items():
        key = _group(dimension, source, person)
        columns: list[Any] = [key.label("key")]
        for kpi in members:
            columns.append(func.sum(case((kpi.numerator(as_of), 1), else_=0)).label(f"n_{kpi.key}"))
            columns.append(func.sum(case((kpi.denominator(as_of), 1), else_=0)).label(f"d_{kpi.key}"))
        with_hours = source == "orders" and person in ("", "handler_id")
        if with_hours:
            done = and_(F.first_dispatch_at.is_not(None), F.handled_at.is_not(None), F.handled_at <= as_of,
                        F.cancelled.is_(False), F.merged.is_(False))
            columns.append(func.sum(case((done, _hours(session)), else_=0.0)).label("hours_total"))
            columns.append(func.sum(case((done, 1), else_=0)).label("hours_count"))
        stmt = _scope(_base(source, dimension).add_columns(*columns), subject, source)
        stmt = stmt.where(_in_period(source, period), key.is_not(None)).group_by(key)
        for r in session.execute(stmt).mappings():
            target = row(r["key"])
            for kpi in members:
                target.figures[kpi.key] = Figure(int(r[f"n_{kpi.key}"] or 0), int(r[f"d_{kpi.key}"] or 0))
            if with_hours:
                target.hours_total, target.hours_count = float(r["hours_total"] or 0), int(r["hours_count"] or 0)
    _name(session, dimension, list(rows.values()))
    return list(rows.values())


def _pairs(session: Session, stmt: Any) -> dict[Any, Any]:
    return {k: v for k, v in session.execute(stmt)}


def _name(session: Session, dimension: Dimension, rows: list[Row]) -> None:
    if not rows:
        return
    keys = [r.key for r in rows]
    match dimension:
        case "department":
            names = _pairs(session, select(Department.id, Department.name)
                           .where(Department.id.in_([int(k) for k in keys])))
        case "town" | "village":
            padded = {k.ljust(12, "0"): k for k in keys}
            names = {padded[c]: n for c, n in session.execute(select(Region.code, Region.name)
                                                              .where(Region.code.in_(list(padded))))}
        case "grid":
            names = _pairs(session, select(Grid.id, Grid.name).where(Grid.id.in_([int(k) for k in keys])))
        case "person":
            names = _pairs(session, select(Staff.id, Staff.display_name)
                           .where(Staff.id.in_([int(k) for k in keys])))
    for r in rows:
        r.name = str(names.get(int(r.key) if r.key.isdigit() and dimension in ("department", "grid", "person")
                               else r.key, r.key))


def rank(rows: list[Row], weights: dict[str, float], previous: list[Row] | None = None) -> list[Row]:
    """Scores and places, best first; `change` is the places gained since `previous`."""
    for r in rows:
        r.score = score(r.figures, weights)
    ordered = sorted(rows, key=lambda r: (r.score is None, -(r.score or 0), r.name))
    for place, r in enumerate(ordered, 1):
        r.rank = place if r.score is not None else None
    if previous is not None:
        before = {r.key: r.rank for r in rank(previous, weights)}
        for r in ordered:
            was = before.get(r.key)
            r.change = was - r.rank if was is not None and r.rank is not None else None
    return ordered


# Weights and snapshots --------------------------------------------------------------------------


def weights(session: Session) -> dict[str, float]:
    row = session.get(AssessmentWeights, 1)
    return {**DEFAULT_WEIGHTS, **(row.weights if row else {})}


def set_weights(session: Session, subject: Subject, values: dict[str, float]) -> dict[str, float]:
    problems = [FieldProblem(k, _("权重应为 0 到 100 之间的数")) for k, v in values.items()
                if k not in DEFAULT_WEIGHTS or not 0 <= v <= 100]
    if problems:
        raise Invalid(_("权重有误：每项应为 0 到 100 之间的数"), problems)
    if not any(v > 0 for v in values.values()):
        raise Invalid(_("至少要有一项指标的权重大于 0"), [FieldProblem("weights", _("至少要有一项指标的权重大于 0"))])
    row = session.get(AssessmentWeights, 1)
    if row is None:
        row = AssessmentWeights(id=1)
        session.add(row)
    row.weights, row.updated_by = dict(values), subject.display_name
    session.flush()
    return weights(session)


def snapshot(session: Session, period: Period) -> AssessmentSnapshot | None:
    if not period.is_month:
        return None
    return session.scalar(select(AssessmentSnapshot).where(AssessmentSnapshot.period == period.key))


def close_month(session: Session, period: Period, closed_by: str, at: datetime | None = None) -> AssessmentSnapshot:
    """Freeze a finished month: every dimension's figures for the whole deployment, as they stand now."""
    at = at or now()
    if not period.is_month:
        raise Invalid(_("只能按月关账"), [FieldProblem("period", _("只能按月关账"), "2026-10")])
    if period.end > at:
        raise Conflict(_("{p}尚未结束，不能关账", p=period.label))
    if snapshot(session, period) is not None:
        raise Conflict(_("{p}已关账，已发布的排名不再改变", p=period.label))
    facts.catch_up(session)
    rows = {d: [r.to_json() for r in compute(session, None, d, period, at)] for d in DIMENSIONS}
    snap = AssessmentSnapshot(period=period.key, closed_at=at, closed_by=closed_by, weights=weights(session),
                              rows=rows)
    session.add(snap)
    session.flush()
    return snap


def close_due(session: Session, at: datetime | None = None) -> str | None:
    """Close last month once CLOSE_AFTER_DAYS of this month have passed (the background round calls this)."""
    at = at or now()
    local = at.astimezone(LOCAL)
    if local.day <= CLOSE_AFTER_DAYS:
        return None
    last = month(local.date().replace(day=1) - timedelta(days=1))
    if snapshot(session, last) is not None:
        return None
    return close_month(session, last, _("系统自动关账"), at).period


def background(session_factory: Any) -> dict[str, int]:
    """The background round's part: keep the facts current, close last month when it is due."""
    with session_factory() as session, session.begin():
        derived = facts.catch_up(session)
        closed = close_due(session)
    return {"facts_derived": derived, "months_closed": int(closed is not None)}


def visible(session: Session, subject: Subject, dimension: Dimension, rows: list[Row]) -> list[Row]:
    """A snapshot holds the whole deployment: keep the rows this subject may read."""
    match dimension:
        case "department":
            ids = {str(i) for i in session.scalars(readable(subject, Department).with_only_columns(Department.id))}
        case "grid":
            ids = {str(i) for i in session.scalars(readable(subject, Grid).with_only_columns(Grid.id))}
        case "person":
            ids = {str(i) for i in session.scalars(readable(subject, Staff).with_only_columns(Staff.id))}
        case "town" | "village":
            return [r for r in rows if r.key.startswith(subject.scope_prefix)]
    return [r for r in rows if r.key in ids]


def ledger(session: Session, subject: Subject, dimension: Dimension, period: Period) -> Ledger:
    snap = snapshot(session, period)
    if snap is not None:
        rows = visible(session, subject, dimension, [Row.from_json(r) for r in snap.rows.get(dimension, [])])
        w = dict(snap.weights)
        as_of = aware(snap.closed_at) or snap.closed_at
    else:
        facts.catch_up(session)
        as_of, w = now(), weights(session)
        rows = compute(session, subject, dimension, period, as_of)
    prev_period = period.previous()
    prev_snap = snapshot(session, prev_period)
    if prev_snap is not None:
        previous = visible(session, subject, dimension, [Row.from_json(r) for r in prev_snap.rows.get(dimension, [])])
    else:
        previous = compute(session, subject, dimension, prev_period, min(as_of, prev_period.end))
    return Ledger(dimension, period, rank(rows, w, previous), w, as_of, snap)


# Drill-down --------------------------------------------------------------------------------------


def orders_behind(session: Session, subject: Subject, dimension: Dimension, key: str, period: Period, kpi: Kpi,
                  part: Literal["numerator", "denominator"], as_of: datetime) -> list[int]:
    """The ids of the orders a figure counts (its numerator or denominator), newest first."""
    facts.catch_up(session)
    source = kpi.source
    group = _group(dimension, source, kpi.person)
    predicate = (kpi.numerator if part == "numerator" else kpi.denominator)(as_of)
    order_id = F.order_id if source == "orders" else D.order_id
    stmt = _scope(_base(source, dimension).add_columns(order_id), subject, source)
    stmt = stmt.where(_in_period(source, period), predicate, group == _typed(dimension, key))
    return list(dict.fromkeys(session.scalars(stmt.order_by(order_id.desc()).limit(DRILL_LIMIT))))


def _typed(dimension: Dimension, key: str) -> Any:
    if dimension in ("department", "grid", "person"):
        if not key.isdigit():
            raise Invalid(_("考评对象编号有误"), [FieldProblem("key", _("考评对象编号有误"))])
        return int(key)
    return key
