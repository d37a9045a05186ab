"""Use cases of the key-person area. The JSON API and the pages call these same functions; services
never commit (the request or the task does)."""

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhili.access import get_readable
from zhili.auth.subject import Subject
from zhili.basedata import history
from zhili.errors import Conflict, FieldProblem, Invalid
from zhili.keyperson import repository as repo
from zhili.keyperson import warnings
from zhili.keyperson.kinds import KIND_LABELS, clean_details
from zhili.keyperson.plan import local_day, refresh_due
from zhili.keyperson.schemas import (
    CheckInIn,
    HelperIn,
    KeyPersonCreate,
    KeyPersonUpdate,
    LeaveDecisionIn,
    LeaveIn,
    LeaveReturnIn,
    RiskIn,
    VisitRulesIn,
)
from zhili.kit.i18n import _
from zhili.kit.protect import mask_phone
from zhili.kit.time import aware, now
from zhili.models import Role, Staff
from zhili.models.basedata import ChangeAction
from zhili.models.keyperson import (
    CheckIn,
    Helper,
    KeyPerson,
    KeyPersonKind,
    LeaveRequest,
    LeaveState,
    Risk,
    RiskChange,
    VisitRule,
    WarningKind,
)

# Who keeps the ledger: the grid's people and the town centre. Leaders read it.
WRITERS = (Role.grid_worker, Role.grid_chief, Role.admin, Role.command_leader, Role.dispatcher)
# Who decides a leave request: the grid chief or the town centre.
DECIDERS = (Role.grid_chief, Role.command_leader, Role.dispatcher, Role.admin)
# A check-in time may run a little ahead of the server's clock (a phone's), not more.
CLOCK_SKEW = timedelta(minutes=5)


def _history(session: Session, subject: Subject, person: KeyPerson, action: ChangeAction,
             fields: dict[str, Any]) -> None:
    """The base-data change log (zhili.basedata.history, entity "key_person"): a creation with every
    column, a change with the fields this service says changed (phones are written masked)."""
    before = None if action == ChangeAction.create else history.snapshot(person)
    history.record(session, subject, "key_person", person, before, action,
                   extra=None if action == ChangeAction.create else fields)


def _staff_id(subject: Subject) -> int | None:
    return subject.id if subject.kind == "staff" else None


# Registration and the ledger -------------------------------------------------------------------


def register(session: Session, subject: Subject, data: KeyPersonCreate, at: datetime | None = None) -> KeyPerson:
    """A resident listed as a key person of one kind (a person may be listed under several kinds)."""
    subject.require(*WRITERS)
    at = at or now()
    resident = repo.resident(session, subject, data.resident_id)
    details = clean_details(data.kind, data.details)
    taken = session.scalar(select(KeyPerson.id).where(KeyPerson.resident_id == resident.id,
                                                      KeyPerson.kind == data.kind))
    if taken is not None:
        raise Conflict(_("{name} 已登记为{kind}，请在其档案中修改", name=resident.name,
                         kind=_(KIND_LABELS[data.kind])))
    person = KeyPerson(resident_id=resident.id, resident=resident, kind=data.kind, risk=data.risk, details=details,
                       since=data.since or local_day(at), note=data.note, active=True, area_code=resident.area_code,
                       grid_id=resident.grid_id)
    if data.kind == KeyPersonKind.corrections:
        person.until = date.fromisoformat(details["ends_on"])
    session.add(person)
    session.flush()
    session.add(RiskChange(key_person_id=person.id, old=None, new=data.risk, reason=_("登记列管"),
                           staff_id=_staff_id(subject), at=at))
    for h in data.helpers:
        person.helpers.append(_helper(session, subject, h))
    refresh_due(session, person, local_day(at))
    _history(session, subject, person, ChangeAction.create,
             {"kind": [None, data.kind.value], "risk": [None, data.risk.value], "resident_id": [None, resident.id]})
    session.flush()
    if data.risk == Risk.red:
        warnings.raise_warning(session, person, WarningKind.risk_raised, local_day(at),
                               warnings.risk_message(person, _("登记列管")), at)
    return person


def update(session: Session, subject: Subject, key_person_id: int, data: KeyPersonUpdate,
           at: datetime | None = None) -> KeyPerson:
    subject.require(*WRITERS)
    at = at or now()
    person = repo.key_person(session, subject, key_person_id)
    changed: dict[str, Any] = {}
    if data.details is not None:
        details = clean_details(KeyPersonKind(person.kind), data.details)
        if details != person.details:
            changed["details"] = [person.details, details]
            person.details = details
            if person.kind == KeyPersonKind.corrections:
                person.until = date.fromisoformat(details["ends_on"])
    for name in ("since", "until", "note", "active"):
        value = getattr(data, name)
        if value is not None and value != getattr(person, name):
            old = getattr(person, name)
            changed[name] = [str(old) if old is not None else None, str(value)]
            setattr(person, name, value)
    if person.since and person.until and person.until < person.since:
        raise Invalid(_("解除列管日期不能早于列管日期"), [FieldProblem("until", _("解除列管日期不能早于列管日期"))])
    if changed:
        refresh_due(session, person, local_day(at))
        _history(session, subject, person, ChangeAction.update, changed)
        session.flush()
        warnings.resolve(session, person, at)
    return person


def change_risk(session: Session, subject: Subject, key_person_id: int, data: RiskIn,
                at: datetime | None = None) -> KeyPerson:
    """A new risk level with its reason, in the history; the visit plan follows at once, and a rise to
    red tells the grid chief and the town centre."""
    subject.require(*WRITERS)
    at = at or now()
    person = repo.key_person(session, subject, key_person_id)
    old = Risk(person.risk)
    if data.risk == old:
        raise Invalid(_("风险等级未变化"), [FieldProblem("risk", _("风险等级未变化"))])
    person.risk = data.risk
    session.add(RiskChange(key_person_id=person.id, old=old, new=data.risk, reason=data.reason,
                           staff_id=_staff_id(subject), at=at))
    refresh_due(session, person, local_day(at))
    _history(session, subject, person, ChangeAction.update, {"risk": [old.value, data.risk.value]})
    session.flush()
    if data.risk == Risk.red:
        warnings.raise_warning(session, person, WarningKind.risk_raised, local_day(at),
                               warnings.risk_message(person, data.reason), at)
    warnings.resolve(session, person, at)
    return person


def _helper(session: Session, subject: Subject, data: HelperIn) -> Helper:
    name, phone = data.name, data.phone
    staff_id = None
    if data.staff_id is not None:
        staff = get_readable(session, subject, Staff, Staff.id == data.staff_id, what=_("工作人员"))
        staff_id, name = staff.id, name or staff.display_name
        phone = phone or staff.phone or ""
    if not name:
        message = _("请填写帮扶责任人姓名或选择工作人员")
        raise Invalid(message, [FieldProblem("name", message)])
    return Helper(kind=data.kind, staff_id=staff_id, name=name, phone=phone)


def add_helper(session: Session, subject: Subject, key_person_id: int, data: HelperIn) -> KeyPerson:
    subject.require(*WRITERS)
    person = repo.key_person(session, subject, key_person_id)
    if len(person.helpers) >= 10:
        raise Invalid(_("帮扶责任人最多 10 名"))
    helper = _helper(session, subject, data)
    person.helpers.append(helper)
    _history(session, subject, person, ChangeAction.update,
             {"helper": [None, f"{helper.name} {mask_phone(helper.phone) if helper.phone else ''}".strip()]})
    session.flush()
    return person


def remove_helper(session: Session, subject: Subject, key_person_id: int, helper_id: int) -> KeyPerson:
    subject.require(*WRITERS)
    person = repo.key_person(session, subject, key_person_id)
    helper = next((h for h in person.helpers if h.id == helper_id), None)
    if helper is None:
        raise Invalid(_("该帮扶责任人不在此人的名单中"), [FieldProblem("helper_id", _("该帮扶责任人不在此人的名单中"))])
    person.helpers.remove(helper)
    _history(session, subject, person, ChangeAction.update, {"helper": [helper.name, None]})
    session.flush()
    return person


def replace_helpers(session: Session, subject: Subject, key_person_id: int, helpers: list[HelperIn]) -> KeyPerson:
    subject.require(*WRITERS)
    person = repo.key_person(session, subject, key_person_id)
    new = [_helper(session, subject, h) for h in helpers]
    old_names = [h.name for h in person.helpers]
    person.helpers.clear()
    session.flush()
    person.helpers.extend(new)
    _history(session, subject, person, ChangeAction.update, {"helpers": [old_names, [h.name for h in new]]})
    session.flush()
    return person


# Check-ins -------------------------------------------------------------------------------------


def check_in(session: Session, subject: Subject, key_person_id: int, data: CheckInIn,
             at: datetime | None = None) -> CheckIn:
    """A sign-in or a location, now or recorded late (补录); a late one that completes a day clears
    that day's missed-check-in warning."""
    subject.require(*WRITERS)
    at = at or now()
    person = repo.key_person(session, subject, key_person_id)
    if not person.active:
        raise Conflict(_("此人已解除列管，不再签到"))
    when = aware(data.at) or at
    if when > at + CLOCK_SKEW:
        raise Invalid(_("签到时间不能晚于现在"), [FieldProblem("at", _("签到时间不能晚于现在"))])
    row = CheckIn(key_person_id=person.id, kind=data.kind, at=when, lon=data.lon, lat=data.lat,
                  recorded_by_id=_staff_id(subject), note=data.note)
    session.add(row)
    session.flush()
    warnings.resolve(session, person, at)
    return row


# Leave requests --------------------------------------------------------------------------------


def request_leave(session: Session, subject: Subject, key_person_id: int, data: LeaveIn) -> LeaveRequest:
    subject.require(*WRITERS)
    person = repo.key_person(session, subject, key_person_id)
    if not person.active:
        raise Conflict(_("此人已解除列管，无需请假"))
    open_states = [LeaveState.pending, LeaveState.approved, LeaveState.overdue]
    overlapping = session.scalar(select(LeaveRequest.id).where(
        LeaveRequest.key_person_id == person.id, LeaveRequest.state.in_(open_states),
        LeaveRequest.starts_on <= data.ends_on, LeaveRequest.ends_on >= data.starts_on).limit(1))
    if overlapping is not None:
        raise Conflict(_("这段时间已有未销假的请假，请先处理那一条"))
    leave = LeaveRequest(key_person_id=person.id, destination=data.destination, reason=data.reason,
                         starts_on=data.starts_on, ends_on=data.ends_on, state=LeaveState.pending)
    session.add(leave)
    session.flush()
    return leave


def decide_leave(session: Session, subject: Subject, leave_id: int, data: LeaveDecisionIn,
                 at: datetime | None = None) -> LeaveRequest:
    subject.require(*DECIDERS)
    leave = repo.leave(session, subject, leave_id)
    if leave.state != LeaveState.pending:
        raise Conflict(_("该请假已处理，不能再审批"))
    if not data.approve and not data.note:
        raise Invalid(_("不批准时请说明理由"), [FieldProblem("note", _("不批准时请说明理由"))])
    leave.state = LeaveState.approved if data.approve else LeaveState.rejected
    leave.decided_by_id = _staff_id(subject)
    leave.decided_at = at or now()
    leave.decision_note = data.note
    session.flush()
    return leave


def return_leave(session: Session, subject: Subject, leave_id: int, data: LeaveReturnIn,
                 at: datetime | None = None) -> LeaveRequest:
    """销假: the person is back; an overdue leave's warning clears."""
    subject.require(*WRITERS)
    at = at or now()
    leave = repo.leave(session, subject, leave_id)
    if leave.state not in (LeaveState.approved, LeaveState.overdue):
        raise Conflict(_("只有已批准或逾期未归的请假可以销假"))
    leave.state = LeaveState.returned
    leave.returned_at = at
    if data.note:
        leave.decision_note = (leave.decision_note + "；" if leave.decision_note else "") + data.note
    session.flush()
    person = repo.key_person(session, subject, leave.key_person_id)
    warnings.resolve(session, person, at)
    return leave


# The visit plan --------------------------------------------------------------------------------


def set_rules(session: Session, subject: Subject, data: VisitRulesIn, at: datetime | None = None) -> int:
    """Change intervals; every active key person of a changed (kind, risk) gets its due day again."""
    subject.require(Role.admin)
    if subject.region_level not in ("county", "city"):
        raise Invalid(_("走访计划全县统一，只有县级管理员可以修改"))
    at = at or now()
    changed: set[tuple[str, str]] = set()
    for rule in data.rules:
        row = session.scalar(select(VisitRule).where(VisitRule.kind == rule.kind, VisitRule.risk == rule.risk))
        if row is None:
            session.add(VisitRule(kind=rule.kind, risk=rule.risk, interval_days=rule.interval_days))
        elif row.interval_days != rule.interval_days:
            row.interval_days = rule.interval_days
        else:
            continue
        changed.add((rule.kind.value, rule.risk.value))
    session.flush()
    for kind, risk in sorted(changed):
        for person in session.scalars(select(KeyPerson).where(KeyPerson.kind == kind, KeyPerson.risk == risk,
                                                              KeyPerson.active.is_(True))):
            refresh_due(session, person, local_day(at))
    session.flush()
    return len(changed)


def note_visit(session: Session, person: KeyPerson, visited_at: datetime, at: datetime) -> None:
    """A visit to the person (fieldwork records it): the plan moves on and an overdue warning clears."""
    visited = aware(visited_at)
    last = aware(person.last_visit_at)
    if visited is not None and (last is None or visited > last):
        person.last_visit_at = visited
    refresh_due(session, person, local_day(at))
    session.flush()
    warnings.resolve(session, person, at)
