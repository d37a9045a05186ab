"""Every query of the field log; each read made for a user starts from `readable`."""

from collections import defaultdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from zhili.access import get_readable, readable
from zhili.auth.subject import Subject
from zhili.fieldwork.schemas import GridCoverage, GridProgress, WorkerCoverage
from zhili.kit.codes import subtree_prefix
from zhili.kit.i18n import _
from zhili.kit.time import aware
from zhili.models import Grid, Staff
from zhili.models.basedata import House, Resident
from zhili.models.keyperson import Campaign, KeyPerson, Visit, VisitKind


def visits(subject: Subject, *, kind: VisitKind | None = None, staff_id: int | None = None,
           grid_code: str | None = None, key_person_id: int | None = None,
           since: datetime | None = None) -> Select[Any]:
    stmt = readable(subject, Visit)
    if kind is not None:
        stmt = stmt.where(Visit.kind == kind)
    if staff_id is not None:
        stmt = stmt.where(Visit.staff_id == staff_id)
    if grid_code:
        stmt = stmt.where(Visit.area_code == grid_code)
    if key_person_id is not None:
        stmt = stmt.where(Visit.key_person_id == key_person_id)
    if since is not None:
        stmt = stmt.where(Visit.started_at >= since)
    return stmt.order_by(Visit.started_at.desc(), Visit.id.desc())


def visit(session: Session, subject: Subject, visit_id: int) -> Visit:
    return get_readable(session, subject, Visit, Visit.id == visit_id, what=_("走访记录"))


def by_client_key(session: Session, client_key: str) -> Visit | None:
    return session.scalar(select(Visit).where(Visit.client_key == client_key))


def campaigns(subject: Subject, *, running_on: date | None = None) -> Select[Any]:
    stmt = readable(subject, Campaign)
    if running_on is not None:
        stmt = stmt.where(Campaign.starts_on <= running_on, Campaign.ends_on >= running_on)
    return stmt.order_by(Campaign.starts_on.desc(), Campaign.id.desc())


def campaign(session: Session, subject: Subject, campaign_id: int) -> Campaign:
    return get_readable(session, subject, Campaign, Campaign.id == campaign_id, what=_("敲门行动"))


def campaign_houses(subject: Subject, campaign: Campaign, grid_code: str | None = None) -> Select[Any]:
    """The households of the campaign that the subject may see (a grid worker: its grids' only)."""
    stmt = readable(subject, House).where(House.area_code.startswith(subtree_prefix(campaign.region_code),
                                                                     autoescape=True))
    if grid_code:
        stmt = stmt.where(House.area_code == grid_code)
    return stmt


def knocked(session: Session, campaign_id: int, house_ids: list[int]) -> dict[int, Visit]:
    """The door-knocking visit of each house already visited in the campaign (the first one)."""
    if not house_ids:
        return {}
    out: dict[int, Visit] = {}
    for v in session.scalars(select(Visit).where(Visit.campaign_id == campaign_id, Visit.kind == VisitKind.door_knock,
                                                 Visit.house_id.in_(house_ids)).order_by(Visit.id)):
        if v.house_id is not None:
            out.setdefault(v.house_id, v)
    return out


def resident_counts(session: Session, house_ids: list[int]) -> dict[int, int]:
    if not house_ids:
        return {}
    rows = session.execute(select(Resident.house_id, func.count()).where(
        Resident.house_id.in_(house_ids), Resident.merged_into_id.is_(None), Resident.moved_out_on.is_(None))
        .group_by(Resident.house_id))
    return {h: n for h, n in rows if h is not None}


def progress(session: Session, subject: Subject, campaign: Campaign) -> list[GridProgress]:
    """Households and visited households per grid, for the grids the subject may see."""
    houses = campaign_houses(subject, campaign).subquery()
    per_grid = select(houses.c.area_code, func.count()).group_by(houses.c.area_code)
    totals: dict[str, int] = {a: b for a, b in session.execute(per_grid)}
    visited_rows = session.execute(
        select(houses.c.area_code, func.count(func.distinct(Visit.house_id)))
        .join(Visit, Visit.house_id == houses.c.id)
        .where(Visit.campaign_id == campaign.id, Visit.kind == VisitKind.door_knock)
        .group_by(houses.c.area_code))
    visited: dict[str, int] = {a: b for a, b in visited_rows}
    names = {a: b for a, b in session.execute(select(Grid.code, Grid.name).where(Grid.code.in_(list(totals))))} \
        if totals else {}
    return [GridProgress(grid_code=code, grid_name=names.get(code, code), houses=n, visited=visited.get(code, 0))
            for code, n in sorted(totals.items())]


def grids(subject: Subject) -> Select[Any]:
    stmt = readable(subject, Grid)
    if subject.grid_bound:
        stmt = stmt.where(Grid.code.in_(subject.grid_codes))
    return stmt.order_by(Grid.code)


def grid(session: Session, subject: Subject, code: str) -> Grid:
    return get_readable(session, subject, Grid, Grid.code == code,
                        *([Grid.code.in_(subject.grid_codes)] if subject.grid_bound else []), what=_("网格"))


def coverage(session: Session, subject: Subject, since: datetime, today: date,
             grid_codes: list[str]) -> list[GridCoverage]:
    """Per grid, since `since`: visits, patrols and door knocks; the share of its active key persons
    whose visit is not overdue; the share of its houses visited; the last patrol."""
    if not grid_codes:
        return []
    names = {a: b for a, b in session.execute(select(Grid.code, Grid.name).where(Grid.code.in_(grid_codes)))}
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    last: dict[str, datetime] = {}
    scoped = visits(subject, since=since).where(Visit.area_code.in_(grid_codes)).order_by(None).subquery()
    for code, kind, n, latest in session.execute(
            select(scoped.c.area_code, scoped.c.kind, func.count(), func.max(scoped.c.started_at))
            .group_by(scoped.c.area_code, scoped.c.kind)):
        counts[code][str(kind)] = n
        if kind == VisitKind.patrol and latest is not None:
            last[code] = aware(latest)  # type: ignore[assignment]
    people = readable(subject, KeyPerson).where(KeyPerson.active.is_(True), KeyPerson.area_code.in_(grid_codes)) \
        .order_by(None).subquery()
    persons: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for code, due in session.execute(select(people.c.area_code, people.c.visit_due_on)):
        persons[code][0] += 1
        persons[code][1] += due is None or due >= today
    houses = readable(subject, House).where(House.area_code.in_(grid_codes)).order_by(None).subquery()
    per_grid = select(houses.c.area_code, func.count()).group_by(houses.c.area_code)
    house_totals: dict[str, int] = {a: b for a, b in session.execute(per_grid)}
    house_visited: dict[str, int] = {a: b for a, b in session.execute(
        select(houses.c.area_code, func.count(func.distinct(Visit.house_id)))
        .join(Visit, Visit.house_id == houses.c.id).where(Visit.started_at >= since)
        .group_by(houses.c.area_code))}
    return [GridCoverage(grid_code=code, grid_name=names.get(code, code), visits=counts[code]["visit"],
                         patrols=counts[code]["patrol"], door_knocks=counts[code]["door_knock"],
                         key_persons=persons[code][0], on_plan=persons[code][1], houses=house_totals.get(code, 0),
                         houses_visited=house_visited.get(code, 0), last_patrol_at=last.get(code))
            for code in grid_codes]


def workers(session: Session, subject: Subject, grid_code: str, since: datetime) -> list[WorkerCoverage]:
    scoped = visits(subject, since=since, grid_code=grid_code).order_by(None).subquery()
    tally: dict[int, dict[str, Any]] = {}
    for staff_id, kind, n, latest in session.execute(
            select(scoped.c.staff_id, scoped.c.kind, func.count(), func.max(scoped.c.started_at))
            .group_by(scoped.c.staff_id, scoped.c.kind)):
        row = tally.setdefault(staff_id, {"visit": 0, "patrol": 0, "door_knock": 0, "last": None})
        row[str(kind)] = n
        if kind == VisitKind.patrol:
            row["last"] = aware(latest)
    names = {a: b for a, b in session.execute(select(Staff.id, Staff.display_name).where(Staff.id.in_(list(tally))))} \
        if tally else {}
    out = [WorkerCoverage(staff_id=s, name=names.get(s, str(s)), visits=r["visit"], patrols=r["patrol"],
                          door_knocks=r["door_knock"], last_patrol_at=r["last"]) for s, r in tally.items()]
    return sorted(out, key=lambda w: (-(w.visits + w.patrols + w.door_knocks), w.name))
