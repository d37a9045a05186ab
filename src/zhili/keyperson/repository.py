"""Every query of the key-person area; each read made for a user starts from `readable`."""

from datetime import date
from typing import Any

from sqlalchemy import Select, case, or_, select
from sqlalchemy.orm import Session

from zhili.access import get_readable, readable
from zhili.auth.subject import Subject
from zhili.errors import NotFound
from zhili.kit.i18n import _
from zhili.kit.protect import blind_index
from zhili.models import Grid
from zhili.models.basedata import Resident
from zhili.models.keyperson import (
    CareWarning,
    CheckIn,
    KeyPerson,
    KeyPersonKind,
    LeaveRequest,
    LeaveState,
    Risk,
    RiskChange,
    Visit,
    WarningKind,
)


def key_persons(subject: Subject, *, kind: KeyPersonKind | None = None, risk: Risk | None = None,
                q: str | None = None, grid_code: str | None = None, overdue_before: date | None = None,
                active: bool | None = True) -> Select[Any]:
    stmt = readable(subject, KeyPerson)
    if kind is not None:
        stmt = stmt.where(KeyPerson.kind == kind)
    if risk is not None:
        stmt = stmt.where(KeyPerson.risk == risk)
    if active is not None:
        stmt = stmt.where(KeyPerson.active.is_(active))
    if grid_code:
        stmt = stmt.where(KeyPerson.area_code == grid_code)
    if overdue_before is not None:
        stmt = stmt.where(KeyPerson.visit_due_on < overdue_before)
    if q and q.strip():
        text = q.strip()
        match = Resident.name.contains(text, autoescape=True)
        if len(text) >= 11:
            index = blind_index(text)
            match = or_(match, Resident.id_number_index == index, Resident.phone_index == index)
        stmt = stmt.where(KeyPerson.resident_id.in_(select(Resident.id).where(match)))
    # Red first, then the most pressing visit; a stable tie-break.
    risk_order = {Risk.red.value: 0, Risk.yellow.value: 1, Risk.green.value: 2}
    return stmt.order_by(case(risk_order, value=KeyPerson.risk, else_=3), KeyPerson.visit_due_on.asc().nulls_last(),
                         KeyPerson.id)


def key_person(session: Session, subject: Subject, key_person_id: int) -> KeyPerson:
    return get_readable(session, subject, KeyPerson, KeyPerson.id == key_person_id, what=_("重点人员"))


def residents(subject: Subject, q: str) -> Select[Any]:
    """Residents to pick from: by name, or by a full identity number or phone (exact, via the blind index)."""
    text = q.strip()
    match = Resident.name.contains(text, autoescape=True)
    if len(text) >= 11:
        index = blind_index(text)
        match = or_(match, Resident.id_number_index == index, Resident.phone_index == index)
    return (readable(subject, Resident).where(match, Resident.merged_into_id.is_(None), Resident.moved_out_on.is_(None))
            .order_by(Resident.name, Resident.id))


def resident(session: Session, subject: Subject, resident_id: int) -> Resident:
    return get_readable(session, subject, Resident, Resident.id == resident_id, Resident.merged_into_id.is_(None),
                        what=_("居民"))


def readable_ids(subject: Subject) -> Select[Any]:
    return readable(subject, KeyPerson).with_only_columns(KeyPerson.id).order_by(None)


def leave(session: Session, subject: Subject, leave_id: int) -> LeaveRequest:
    row = session.scalar(select(LeaveRequest).where(LeaveRequest.id == leave_id,
                                                    LeaveRequest.key_person_id.in_(readable_ids(subject))))
    if row is None:
        raise NotFound(_("{what} 不存在或不在您的管辖范围内", what=_("请假记录")))
    return row


def leaves(session: Session, key_person_id: int, limit: int = 50) -> list[LeaveRequest]:
    return list(session.scalars(select(LeaveRequest).where(LeaveRequest.key_person_id == key_person_id)
                                .order_by(LeaveRequest.starts_on.desc(), LeaveRequest.id.desc()).limit(limit)))


def pending_leaves(subject: Subject) -> Select[Any]:
    return (select(LeaveRequest).where(LeaveRequest.key_person_id.in_(readable_ids(subject)),
                                       LeaveRequest.state.in_([LeaveState.pending, LeaveState.overdue]))
            .order_by(LeaveRequest.starts_on, LeaveRequest.id))


def checkins(session: Session, key_person_id: int, limit: int = 30) -> list[CheckIn]:
    return list(session.scalars(select(CheckIn).where(CheckIn.key_person_id == key_person_id)
                                .order_by(CheckIn.at.desc(), CheckIn.id.desc()).limit(limit)))


def risk_history(session: Session, key_person_id: int) -> list[RiskChange]:
    return list(session.scalars(select(RiskChange).where(RiskChange.key_person_id == key_person_id)
                                .order_by(RiskChange.at.desc(), RiskChange.id.desc())))


def visits(session: Session, key_person_id: int, limit: int = 30) -> list[Visit]:
    return list(session.scalars(select(Visit).where(Visit.key_person_id == key_person_id)
                                .order_by(Visit.started_at.desc(), Visit.id.desc()).limit(limit)))


def warnings(subject: Subject, *, open_only: bool = True, kind: WarningKind | None = None,
             key_person_id: int | None = None) -> Select[Any]:
    stmt = readable(subject, CareWarning)
    if open_only:
        stmt = stmt.where(CareWarning.cleared_at.is_(None))
    if kind is not None:
        stmt = stmt.where(CareWarning.kind == kind)
    if key_person_id is not None:
        stmt = stmt.where(CareWarning.key_person_id == key_person_id)
    return stmt.order_by(CareWarning.raised_at.desc(), CareWarning.id.desc())


def grids(subject: Subject) -> Select[Any]:
    """The grids an account may pick: its own when it works grids, else every grid of its area."""
    stmt = readable(subject, Grid)
    if subject.grid_bound:
        stmt = stmt.where(Grid.code.in_(subject.grid_codes))
    return stmt.order_by(Grid.code)
