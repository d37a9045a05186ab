"""Every query of casework, each built on `readable(subject, Model)`."""

from datetime import date
from typing import Any

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import Session

from zhili.access import get_readable, readable
from zhili.auth.subject import Subject
from zhili.kit.i18n import _
from zhili.models import (
    CaseEvent,
    Department,
    Dispute,
    DisputeStatus,
    Grid,
    KeyPerson,
    KeyPersonKind,
    Petition,
    PetitionStatus,
    ReceptionDay,
    Region,
    Resident,
    Role,
    Staff,
    StaffRole,
)
from zhili.models.jurisdiction import DepartmentKind

OPEN_DISPUTE = (DisputeStatus.registered, DisputeStatus.mediating)
OPEN_PETITION = (PetitionStatus.received, PetitionStatus.accepted)


def _write_lock(session: Session, model: Any, row_id: int) -> None:
    """SQLite has no row locks: take the database write lock before reading, so that two moves on
    the same case queue here instead of both reading the old state (PostgreSQL uses FOR UPDATE)."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(model).where(model.id == row_id).values(id=model.id)
                        .execution_options(synchronize_session=False))


def dispute(session: Session, subject: Subject, dispute_id: int, lock: bool = False) -> Dispute:
    if lock:
        _write_lock(session, Dispute, dispute_id)
        stmt = (readable(subject, Dispute).where(Dispute.id == dispute_id)
                .with_for_update(of=Dispute).execution_options(populate_existing=True))
        row = session.scalars(stmt).unique().first()
        if row is not None:
            return row  # type: ignore[no-any-return]
    return get_readable(session, subject, Dispute, Dispute.id == dispute_id, what=_("纠纷"))


def disputes(subject: Subject, *, status: str | None = None, level: str | None = None,
             overdue: bool = False, risk: bool = False, mediator_id: int | None = None, desk: bool = False,
             q: str | None = None, on: date | None = None) -> Select[Any]:
    stmt = readable(subject, Dispute)
    if status == "open":
        stmt = stmt.where(Dispute.status.in_(OPEN_DISPUTE))
    elif status:
        stmt = stmt.where(Dispute.status == status)
    if level:
        stmt = stmt.where(Dispute.level == level)
    if overdue and on is not None:
        stmt = stmt.where(Dispute.status.in_(OPEN_DISPUTE), Dispute.deadline < on)
    if risk:
        stmt = stmt.where(Dispute.criminal_risk.is_(True))
    if mediator_id is not None:
        stmt = stmt.where(Dispute.mediator_id == mediator_id)
    if desk:
        stmt = stmt.where(Dispute.body_region_code == subject.region_code)
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(Dispute.name.like(like), Dispute.code.like(like), Dispute.place.like(like)))
    return stmt.order_by(Dispute.id.desc())


def dispute_by_client_key(session: Session, subject: Subject, key: str) -> Dispute | None:
    return session.scalars(readable(subject, Dispute).where(Dispute.client_key == key)).unique().first()


def dispute_counts(session: Session, subject: Subject, on: date) -> dict[str, int]:
    base = readable(subject, Dispute).order_by(None).subquery()
    counts = {str(s): n for s, n in session.execute(select(base.c.status, func.count()).group_by(base.c.status))}
    counts["overdue"] = session.scalar(select(func.count()).select_from(base).where(
        base.c.status.in_([s.value for s in OPEN_DISPUTE]), base.c.deadline < on)) or 0
    counts["risk"] = session.scalar(select(func.count()).select_from(base).where(base.c.criminal_risk.is_(True))) or 0
    counts["all"] = sum(n for k, n in counts.items() if k in {s.value for s in DisputeStatus})
    return counts


def events(session: Session, case: str, case_id: int) -> list[CaseEvent]:
    return list(session.scalars(select(CaseEvent).where(CaseEvent.case == case, CaseEvent.case_id == case_id)
                                .order_by(CaseEvent.id)))


def region(session: Session, code: str) -> Region | None:
    return session.scalar(select(Region).where(Region.code == code))


def grid(session: Session, code: str) -> Grid | None:
    return session.scalar(select(Grid).where(Grid.code == code))


def police_for(session: Session, area_code: str) -> Department | None:
    """The police of an area: the town's police station (派出所, a department of kind `agency` whose
    name says 派出所) or, if the town has none, the county's public-security bureau (公安局)."""
    town, county = area_code[:9] + "000", area_code[:6] + "000000"
    station = session.scalar(select(Department).join(Department.region).where(
        Region.code == town, Department.active.is_(True), Department.kind == DepartmentKind.agency,
        Department.name.like("%派出所%")).order_by(Department.id).limit(1))
    if station is not None:
        return station
    return session.scalar(select(Department).join(Department.region).where(
        Region.code == county, Department.active.is_(True), Department.name.like("%公安局")
    ).order_by(Department.id).limit(1))


def staff_with_role(subject: Subject, *roles: Role) -> Select[Any]:
    has = select(StaffRole.staff_id).where(StaffRole.role.in_(roles))
    return readable(subject, Staff).where(Staff.active.is_(True), Staff.id.in_(has)).order_by(Staff.id)


def staff_member(session: Session, subject: Subject, staff_id: int, *roles: Role) -> Staff | None:
    return session.scalars(staff_with_role(subject, *roles).where(Staff.id == staff_id)).unique().first()


def areas(session: Session, subject: Subject, limit: int = 3000) -> list[tuple[str, str]]:
    """The grids and communities a case may lie in, for a form's choice: (code, name)."""
    from zhili.models import Grid as G

    grids = session.execute(readable(subject, G).with_only_columns(G.code, G.name).order_by(G.code).limit(limit))
    out = [(c, n) for c, n in grids if not subject.grid_bound or c in subject.grid_codes]
    if not subject.grid_bound:
        communities = session.execute(readable(subject, Region).where(Region.level == "village")
                                      .with_only_columns(Region.code, Region.name).order_by(Region.code).limit(limit))
        out += [(c, n) for c, n in communities]
    return sorted(out)


def resident_by_index(session: Session, subject: Subject, index: str) -> Resident | None:
    if not index:
        return None
    return session.scalars(readable(subject, Resident).where(Resident.id_number_index == index,
                                                             Resident.merged_into_id.is_(None))
                           .order_by(Resident.id).limit(1)).unique().first()


# Petitions --------------------------------------------------------------------------------------


def petition(session: Session, subject: Subject, petition_id: int, lock: bool = False) -> Petition:
    if lock:
        _write_lock(session, Petition, petition_id)
        stmt = (readable(subject, Petition).where(Petition.id == petition_id)
                .with_for_update(of=Petition).execution_options(populate_existing=True))
        row = session.scalars(stmt).unique().first()
        if row is not None:
            return row  # type: ignore[no-any-return]
    return get_readable(session, subject, Petition, Petition.id == petition_id, what=_("信访件"))


def petitions(subject: Subject, *, status: str | None = None, overdue: bool = False, on: date | None = None,
              leader_id: int | None = None, q: str | None = None, form: str | None = None) -> Select[Any]:
    stmt = readable(subject, Petition)
    if status == "open":
        stmt = stmt.where(Petition.status.in_(OPEN_PETITION))
    elif status:
        stmt = stmt.where(Petition.status == status)
    if form:
        stmt = stmt.where(Petition.form == form)
    if overdue and on is not None:
        stmt = stmt.where(or_((Petition.status == PetitionStatus.received) & (Petition.accept_due_on < on),
                              (Petition.status == PetitionStatus.accepted) & (Petition.handle_due_on < on)))
    if leader_id is not None:
        stmt = stmt.where(Petition.leader_id == leader_id)
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(Petition.title.like(like), Petition.code.like(like),
                              Petition.petitioner_name.like(like)))
    return stmt.order_by(Petition.id.desc())


def petition_counts(session: Session, subject: Subject, on: date) -> dict[str, int]:
    base = readable(subject, Petition).order_by(None).subquery()
    counts = {str(s): n for s, n in session.execute(select(base.c.status, func.count()).group_by(base.c.status))}
    counts["overdue"] = session.scalar(select(func.count()).select_from(base).where(or_(
        (base.c.status == PetitionStatus.received.value) & (base.c.accept_due_on < on),
        (base.c.status == PetitionStatus.accepted.value) & (base.c.handle_due_on < on)))) or 0
    counts["all"] = sum(n for k, n in counts.items() if k in {s.value for s in PetitionStatus})
    return counts


def petition_by_client_key(session: Session, subject: Subject, key: str) -> Petition | None:
    return session.scalars(readable(subject, Petition).where(Petition.client_key == key)).unique().first()


def earlier_petitions(session: Session, subject: Subject, p: Petition, limit: int = 50) -> list[Petition]:
    """The same petitioner's other cases: the same identity number (blind index) or the same phone."""
    same = []
    if p.id_number_index:
        same.append(Petition.id_number_index == p.id_number_index)
    if p.phone_index:
        same.append(Petition.phone_index == p.phone_index)
    if not same:
        return []
    return list(session.scalars(readable(subject, Petition).where(or_(*same), Petition.id != p.id)
                                .order_by(Petition.received_on.desc(), Petition.id.desc()).limit(limit)).unique())


def repeat_counts(session: Session, subject: Subject, rows: list[Petition]) -> dict[int, int]:
    """For a page of petitions: how many other readable cases each petitioner has."""
    indexes = {p.id_number_index for p in rows if p.id_number_index}
    phones = {p.phone_index for p in rows if p.phone_index}
    if not indexes and not phones:
        return {}
    others = session.execute(readable(subject, Petition).with_only_columns(
        Petition.id, Petition.id_number_index, Petition.phone_index).where(or_(
            Petition.id_number_index.in_(indexes or {"-"}), Petition.phone_index.in_(phones or {"-"}))).order_by(None))
    found = list(others)
    out: dict[int, int] = {}
    for p in rows:
        out[p.id] = sum(1 for oid, idx, ph in found if oid != p.id and (
            (p.id_number_index and idx == p.id_number_index) or (p.phone_index and ph == p.phone_index)))
    return out


def petition_key_person(session: Session, resident_id: int | None) -> KeyPerson | None:
    if resident_id is None:
        return None
    return session.scalar(select(KeyPerson).where(KeyPerson.resident_id == resident_id,
                                                  KeyPerson.kind == KeyPersonKind.petition))


def resident(session: Session, subject: Subject, resident_id: int) -> Resident | None:
    return session.scalars(readable(subject, Resident).where(Resident.id == resident_id)).unique().first()


def reception_days(subject: Subject, *, leader_id: int | None = None, since: date | None = None) -> Select[Any]:
    stmt = readable(subject, ReceptionDay)
    if leader_id is not None:
        stmt = stmt.where(ReceptionDay.leader_id == leader_id)
    if since is not None:
        stmt = stmt.where(ReceptionDay.on >= since)
    return stmt.order_by(ReceptionDay.on, ReceptionDay.id)


def reception_day(session: Session, subject: Subject, day_id: int) -> ReceptionDay:
    return get_readable(session, subject, ReceptionDay, ReceptionDay.id == day_id, what=_("接访日"))


def petitions_on_days(session: Session, subject: Subject, day_ids: list[int]) -> list[Petition]:
    if not day_ids:
        return []
    return list(session.scalars(readable(subject, Petition).where(Petition.reception_day_id.in_(day_ids))
                                .order_by(Petition.id)).unique())
