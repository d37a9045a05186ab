"""Care warnings (预警提醒): raised once, cleared when the cause is gone, told to the grid chief and
the town centre.

`sweep(session_factory, at)` follows the platform's rule for periodic work: cheap queries find the
candidates, then each gets its own short transaction. "Once" is the database's: a warning is unique
per (person, kind, day it concerns), inserted in a savepoint, so two sweeps racing write one row and
one set of notifications (written in the same transaction as the warning, never without it).
Clearing is a compare-and-set on `cleared_at`. A day of check-ins is judged only when it is over.
"""

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhili.keyperson.kinds import KIND_LABELS
from zhili.keyperson.plan import day_bounds, local_day
from zhili.kit.i18n import _
from zhili.models import GridDuty, GridMember, Notification
from zhili.models.keyperson import (
    CareWarning,
    CheckIn,
    CheckInKind,
    KeyPerson,
    KeyPersonKind,
    LeaveRequest,
    LeaveState,
    Risk,
    WarningKind,
)

log = logging.getLogger("zhili.keyperson")
SessionFactory = Callable[[], Session]
# 社区矫正: one location and two sign-ins a day (一天一定位两签到).
SIGNS_A_DAY, LOCATES_A_DAY = 2, 1
# How many finished days back a sweep still judges (a sweep that did not run for a while catches up).
CHECKIN_LOOKBACK_DAYS = 3


@dataclass
class WarningCounts:
    raised: int = 0
    cleared: int = 0
    leaves_overdue: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"care_raised": self.raised, "care_cleared": self.cleared, "leaves_overdue": self.leaves_overdue}


def town_code(area_code: str) -> str:
    return area_code[:9] + "000"


def _notify(session: Session, person: KeyPerson, warning: CareWarning) -> None:
    """The grid's chiefs by name, and the town's command desk (its dispatchers and command leaders)."""
    title = _("重点人员预警：{name}", name=person.resident.name)[:200]
    url = f"/key-persons/{person.id}"
    chiefs: list[int] = []
    if person.grid_id is not None:
        chiefs = [s for s in session.scalars(select(GridMember.staff_id).where(
            GridMember.grid_id == person.grid_id, GridMember.duty == GridDuty.chief,
            GridMember.staff_id.is_not(None))) if s is not None]
    for staff_id in chiefs:
        session.add(Notification(staff_id=staff_id, title=title, body=warning.message, url=url))
    session.add(Notification(region_code=town_code(person.area_code), title=title, body=warning.message, url=url))


def raise_warning(session: Session, person: KeyPerson, kind: WarningKind, concerns_on: date, message: str,
                  at: datetime) -> CareWarning | None:
    """The warning and its notifications, or None if it was raised before (by anyone, at any time)."""
    known = session.scalar(select(CareWarning.id).where(
        CareWarning.key_person_id == person.id, CareWarning.kind == kind, CareWarning.concerns_on == concerns_on))
    if known is not None:
        return None
    warning = CareWarning(key_person_id=person.id, kind=kind, concerns_on=concerns_on, message=message[:300],
                          area_code=person.area_code, raised_at=at)
    try:
        with session.begin_nested():
            session.add(warning)
            session.flush()
    except IntegrityError:
        return None  # a racing sweep wrote it first
    _notify(session, person, warning)
    session.flush()
    return warning


def clear(session: Session, warning_ids: list[int], at: datetime) -> int:
    if not warning_ids:
        return 0
    result = session.execute(update(CareWarning).where(CareWarning.id.in_(warning_ids),
                                                       CareWarning.cleared_at.is_(None))
                             .values(cleared_at=at).execution_options(synchronize_session=False))
    return int(result.rowcount)  # type: ignore[attr-defined]


# The messages ----------------------------------------------------------------------------------


def _who(person: KeyPerson) -> str:
    return _("{name}（{kind}）", name=person.resident.name, kind=_(KIND_LABELS[KeyPersonKind(person.kind)]))


def visit_overdue_message(person: KeyPerson) -> str:
    return _("{who}应于 {due} 前走访，已逾期未访", who=_who(person), due=person.visit_due_on)


def checkin_message(person: KeyPerson, day: date, signs: int, locates: int) -> str:
    return _("{who} {day} 签到 {signs}/2 次、定位 {locates}/1 次，未做到“一天一定位两签到”",
             who=_who(person), day=day, signs=signs, locates=locates)


def leave_message(person: KeyPerson, leave: LeaveRequest) -> str:
    return _("{who}请假外出（{dest}），应于 {ends} 销假，逾期未归", who=_who(person), dest=leave.destination,
             ends=leave.ends_on)


def risk_message(person: KeyPerson, reason: str) -> str:
    return _("{who}风险等级调为红色：{reason}", who=_who(person), reason=reason)


# What a person's own change resolves at once (a visit, a check-in, a return, a lower risk) ------


def resolve(session: Session, person: KeyPerson, at: datetime) -> int:
    """Clear this person's open warnings whose cause is gone; the sweep does the same for everyone."""
    return clear(session, [w.id for w in _open_for(session, [person.id]) if _resolved(session, person, w, at)], at)


def _open_for(session: Session, person_ids: list[int]) -> list[CareWarning]:
    return list(session.scalars(select(CareWarning).where(CareWarning.key_person_id.in_(person_ids),
                                                          CareWarning.cleared_at.is_(None))))


def _resolved(session: Session, person: KeyPerson, warning: CareWarning, at: datetime) -> bool:
    if not person.active:
        return True
    today = local_day(at)
    match WarningKind(warning.kind):
        case WarningKind.visit_overdue:
            return person.visit_due_on is None or person.visit_due_on >= today \
                or person.visit_due_on != warning.concerns_on
        case WarningKind.risk_raised:
            return Risk(person.risk) != Risk.red
        case WarningKind.leave_overdue:
            return session.scalar(select(LeaveRequest.id).where(
                LeaveRequest.key_person_id == person.id, LeaveRequest.state == LeaveState.overdue,
                LeaveRequest.ends_on == warning.concerns_on).limit(1)) is None
        case WarningKind.checkin_missed:
            signs, locates = day_counts(session, person.id, warning.concerns_on)
            return signs >= SIGNS_A_DAY and locates >= LOCATES_A_DAY


def day_counts(session: Session, person_id: int, day: date) -> tuple[int, int]:
    """(sign-ins, locations) of a person on a local day."""
    start, end = day_bounds(day)
    kinds = list(session.scalars(select(CheckIn.kind).where(CheckIn.key_person_id == person_id,
                                                            CheckIn.at >= start, CheckIn.at < end)))
    return (sum(1 for k in kinds if k == CheckInKind.sign), sum(1 for k in kinds if k == CheckInKind.locate))


# The sweep -------------------------------------------------------------------------------------


def _each(session_factory: SessionFactory, ids: list[int], step: Callable[[Session, KeyPerson], int]) -> int:
    done = 0
    for person_id in ids:
        try:
            with session_factory() as session, session.begin():
                person = session.get(KeyPerson, person_id, populate_existing=True)
                if person is not None and person.active:
                    done += step(session, person)
        except Exception:  # one bad row must not stop the sweep; the next sweep retries it
            log.exception("care-warning sweep failed on key person %s", person_id)
    return done


def sweep(session_factory: SessionFactory, at: datetime) -> WarningCounts:
    """Raise what is due at `at` (overdue visits, overdue leaves, missed check-ins of finished days)
    and clear what has been resolved meanwhile."""
    counts = WarningCounts()
    today = local_day(at)
    counts.leaves_overdue = _mark_overdue_leaves(session_factory, today, at)
    with session_factory() as session:
        raised = select(CareWarning.id).where(CareWarning.key_person_id == KeyPerson.id,
                                              CareWarning.kind == WarningKind.visit_overdue,
                                              CareWarning.concerns_on == KeyPerson.visit_due_on)
        overdue_visits = list(session.scalars(select(KeyPerson.id).where(
            KeyPerson.active.is_(True), KeyPerson.visit_due_on < today, ~exists(raised)).order_by(KeyPerson.id)))
        leaves = list(session.execute(select(LeaveRequest.key_person_id, LeaveRequest.id).where(
            LeaveRequest.state == LeaveState.overdue, ~exists(select(CareWarning.id).where(
                CareWarning.key_person_id == LeaveRequest.key_person_id,
                CareWarning.kind == WarningKind.leave_overdue, CareWarning.concerns_on == LeaveRequest.ends_on))
        ).order_by(LeaveRequest.id)))
        missed = _missed_checkins(session, today)

    def visit_step(session: Session, person: KeyPerson) -> int:
        if person.visit_due_on is None or person.visit_due_on >= today:
            return 0
        return raise_warning(session, person, WarningKind.visit_overdue, person.visit_due_on,
                             visit_overdue_message(person), at) is not None

    counts.raised += _each(session_factory, overdue_visits, visit_step)
    for person_id, leave_id in leaves:
        def leave_step(session: Session, person: KeyPerson, leave_id: int = leave_id) -> int:
            leave = session.get(LeaveRequest, leave_id)
            if leave is None or leave.state != LeaveState.overdue:
                return 0
            return raise_warning(session, person, WarningKind.leave_overdue, leave.ends_on,
                                 leave_message(person, leave), at) is not None
        counts.raised += _each(session_factory, [person_id], leave_step)
    for person_id, day, signs, locates in missed:
        def checkin_step(session: Session, person: KeyPerson, day: date = day, signs: int = signs,
                         locates: int = locates) -> int:
            return raise_warning(session, person, WarningKind.checkin_missed, day,
                                 checkin_message(person, day, signs, locates), at) is not None
        counts.raised += _each(session_factory, [person_id], checkin_step)
    counts.cleared = _clear_resolved(session_factory, at)
    return counts


def _mark_overdue_leaves(session_factory: SessionFactory, today: date, at: datetime) -> int:
    with session_factory() as session, session.begin():
        result = session.execute(update(LeaveRequest).where(LeaveRequest.state == LeaveState.approved,
                                                            LeaveRequest.ends_on < today)
                                 .values(state=LeaveState.overdue, updated_at=at)
                                 .execution_options(synchronize_session=False))
        return int(result.rowcount)  # type: ignore[attr-defined]


def _missed_checkins(session: Session, today: date) -> list[tuple[int, date, int, int]]:
    """(person, day, sign-ins, locations) for each finished day in the look-back window that fell short,
    for active community-corrections persons listed on that day and not yet warned about it."""
    first = today - timedelta(days=CHECKIN_LOOKBACK_DAYS)
    people = {p.id: p for p in session.scalars(select(KeyPerson).where(
        KeyPerson.active.is_(True), KeyPerson.kind == KeyPersonKind.corrections))}
    if not people:
        return []
    start, _end = day_bounds(first)
    _start, end = day_bounds(today - timedelta(days=1))
    tally: dict[tuple[int, date], list[int]] = defaultdict(lambda: [0, 0])
    for person_id, kind, at in session.execute(select(CheckIn.key_person_id, CheckIn.kind, CheckIn.at).where(
            CheckIn.key_person_id.in_(list(people)), CheckIn.at >= start, CheckIn.at < end)):
        tally[(person_id, local_day(at))][0 if kind == CheckInKind.sign else 1] += 1
    warned = {(p, d) for p, d in session.execute(select(CareWarning.key_person_id, CareWarning.concerns_on).where(
        CareWarning.kind == WarningKind.checkin_missed, CareWarning.concerns_on >= first))}
    out = []
    for person_id, person in people.items():
        listed = person.since or local_day(person.created_at)
        for offset in range(CHECKIN_LOOKBACK_DAYS, 0, -1):
            day = today - timedelta(days=offset)
            if day < listed or (person.until and day > person.until) or (person_id, day) in warned:
                continue
            signs, locates = tally[(person_id, day)]
            if signs < SIGNS_A_DAY or locates < LOCATES_A_DAY:
                out.append((person_id, day, signs, locates))
    return out


def _clear_resolved(session_factory: SessionFactory, at: datetime) -> int:
    with session_factory() as session, session.begin():
        open_ = list(session.scalars(select(CareWarning).where(CareWarning.cleared_at.is_(None))))
        people = {p.id: p for p in session.scalars(select(KeyPerson).where(
            KeyPerson.id.in_({w.key_person_id for w in open_})))} if open_ else {}
        gone = [w.id for w in open_ if w.key_person_id not in people
                or _resolved(session, people[w.key_person_id], w, at)]
        return clear(session, gone, at)


def open_counts(session: Session, stmt_ids: object) -> dict[int, int]:
    """Open warnings per key person among the ids of a scoped statement (for lists)."""
    rows = session.execute(select(CareWarning.key_person_id, CareWarning.id).where(
        and_(CareWarning.key_person_id.in_(stmt_ids), CareWarning.cleared_at.is_(None))))  # type: ignore[arg-type]
    counts: dict[int, int] = defaultdict(int)
    for person_id, _id in rows:
        counts[person_id] += 1
    return dict(counts)
