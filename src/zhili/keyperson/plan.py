"""The visit plan: how often a key person is visited, from the kind and the risk level. An admin's
VisitRule row wins; without one, the defaults below (red weekly, yellow monthly, green quarterly)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhili.kit.time import aware
from zhili.models.keyperson import KeyPerson, KeyPersonKind, Risk, VisitRule

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
DEFAULT_DAYS = {Risk.red: 7, Risk.yellow: 30, Risk.green: 90}


def local_day(at: datetime) -> date:
    """The calendar day people live in (Beijing time) of a stored UTC instant."""
    moment = aware(at)
    assert moment is not None
    return moment.astimezone(LOCAL_TZ).date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a local day as aware instants."""
    start = datetime(day.year, day.month, day.day, tzinfo=LOCAL_TZ)
    return start, start + timedelta(days=1)


def rules(session: Session) -> dict[tuple[KeyPersonKind, Risk], int]:
    """Every (kind, risk) and its interval in days: the admin's rows over the defaults."""
    table = {(k, r): DEFAULT_DAYS[r] for k in KeyPersonKind for r in Risk}
    for rule in session.scalars(select(VisitRule)):
        table[(KeyPersonKind(rule.kind), Risk(rule.risk))] = rule.interval_days
    return table


def interval_days(session: Session, kind: KeyPersonKind, risk: Risk) -> int:
    days = session.scalar(select(VisitRule.interval_days).where(VisitRule.kind == kind, VisitRule.risk == risk))
    return days if days is not None else DEFAULT_DAYS[Risk(risk)]


def refresh_due(session: Session, person: KeyPerson, today: date) -> None:
    """`visit_due_on` = the last visit (or, before any, the day the person was listed) + the interval.
    Called after every visit, risk change and rule change, so the stored column is always current."""
    if not person.active:
        person.visit_due_on = None
        return
    base = local_day(person.last_visit_at) if person.last_visit_at else (person.since or today)
    person.visit_due_on = base + timedelta(days=interval_days(session, KeyPersonKind(person.kind), Risk(person.risk)))
