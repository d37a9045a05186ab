"""Every query of volunteers and household links, each built on `readable(subject, Model)`."""

from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from zhili.access import get_readable, readable
from zhili.auth.subject import Subject
from zhili.kit.i18n import _
from zhili.models import (
    Activity,
    Grid,
    House,
    HouseholdLink,
    LinkContact,
    LinkedHouse,
    Region,
    ServiceHours,
    Volunteer,
    VolunteerTeam,
)


def teams(subject: Subject, q: str | None = None) -> Select[Any]:
    stmt = readable(subject, VolunteerTeam)
    if q:
        stmt = stmt.where(VolunteerTeam.name.like(f"%{q.strip()}%"))
    return stmt.order_by(VolunteerTeam.area_code, VolunteerTeam.id)


def team(session: Session, subject: Subject, team_id: int) -> VolunteerTeam:
    return get_readable(session, subject, VolunteerTeam, VolunteerTeam.id == team_id, what=_("志愿服务队"))


def _pairs(result: Any) -> dict[Any, Any]:
    return {k: v for k, v in result}


def team_totals(session: Session, team_ids: list[int]) -> dict[int, tuple[int, float, int]]:
    """(members, hours, activities) per team."""
    if not team_ids:
        return {}
    members = _pairs(session.execute(select(Volunteer.team_id, func.count()).where(Volunteer.team_id.in_(team_ids))
                                   .group_by(Volunteer.team_id)))
    hours = _pairs(session.execute(select(Activity.team_id, func.coalesce(func.sum(ServiceHours.hours), 0.0))
                                 .join(ServiceHours, ServiceHours.activity_id == Activity.id)
                                 .where(Activity.team_id.in_(team_ids)).group_by(Activity.team_id)))
    activities = _pairs(session.execute(select(Activity.team_id, func.count()).where(Activity.team_id.in_(team_ids))
                                      .group_by(Activity.team_id)))
    return {t: (int(members.get(t, 0)), float(hours.get(t, 0.0)), int(activities.get(t, 0))) for t in team_ids}


def volunteer_hours(session: Session, volunteer_ids: list[int]) -> dict[int, float]:
    if not volunteer_ids:
        return {}
    rows = session.execute(select(ServiceHours.volunteer_id, func.sum(ServiceHours.hours))
                           .where(ServiceHours.volunteer_id.in_(volunteer_ids)).group_by(ServiceHours.volunteer_id))
    return {v: float(h or 0) for v, h in rows}


def activities(session: Session, subject: Subject, team_id: int, limit: int = 50) -> list[Activity]:
    return list(session.scalars(readable(subject, Activity).where(Activity.team_id == team_id)
                                .order_by(Activity.on.desc(), Activity.id.desc()).limit(limit)))


def activity_sums(session: Session, activity_ids: list[int]) -> dict[int, tuple[float, int]]:
    if not activity_ids:
        return {}
    rows = session.execute(select(ServiceHours.activity_id, func.sum(ServiceHours.hours), func.count())
                           .where(ServiceHours.activity_id.in_(activity_ids)).group_by(ServiceHours.activity_id))
    return {a: (float(h or 0), int(n)) for a, h, n in rows}


def members(session: Session, team_id: int) -> list[Volunteer]:
    return list(session.scalars(select(Volunteer).where(Volunteer.team_id == team_id).order_by(Volunteer.id)))


def grid(session: Session, code: str) -> Grid | None:
    return session.scalar(select(Grid).where(Grid.code == code))


def region(session: Session, code: str) -> Region | None:
    return session.scalar(select(Region).where(Region.code == code))


def volunteer(session: Session, subject: Subject, volunteer_id: int) -> Volunteer | None:
    return session.scalars(readable(subject, Volunteer).where(Volunteer.id == volunteer_id)).unique().first()


# Household links --------------------------------------------------------------------------------


def links(subject: Subject) -> Select[Any]:
    return readable(subject, HouseholdLink).order_by(HouseholdLink.area_code, HouseholdLink.id)


def link(session: Session, subject: Subject, link_id: int, lock: bool = False) -> HouseholdLink:
    return get_readable(session, subject, HouseholdLink, HouseholdLink.id == link_id, what=_("联户"))


def readable_houses(session: Session, subject: Subject, ids: list[int]) -> list[House]:
    return list(session.scalars(readable(subject, House).where(House.id.in_(ids))).unique())


def already_linked(session: Session, house_ids: list[int]) -> list[int]:
    return list(session.scalars(select(LinkedHouse.house_id).where(LinkedHouse.house_id.in_(house_ids))))


def unlinked_houses(subject: Subject, area_code: str | None = None) -> Select[Any]:
    stmt = readable(subject, House).where(House.id.not_in(select(LinkedHouse.house_id)))
    if area_code:
        stmt = stmt.where(House.area_code == area_code)
    return stmt.order_by(House.area_code, House.id)


def last_contacts(session: Session, link_ids: list[int]) -> dict[tuple[int, int], datetime]:
    """(link, house) → its latest contact."""
    if not link_ids:
        return {}
    rows = session.execute(select(LinkContact.link_id, LinkContact.house_id, func.max(LinkContact.at))
                           .where(LinkContact.link_id.in_(link_ids))
                           .group_by(LinkContact.link_id, LinkContact.house_id))
    return {(lk, h): at for lk, h, at in rows}


def contacts(session: Session, link_id: int, limit: int = 100) -> list[LinkContact]:
    return list(session.scalars(select(LinkContact).where(LinkContact.link_id == link_id)
                                .order_by(LinkContact.at.desc(), LinkContact.id.desc()).limit(limit)))


def stale_pairs(session: Session, subject: Subject, before: datetime, limit: int = 500) -> list[tuple[Any, ...]]:
    """Linked households with no contact since `before`: (link, linked house row, last contact or None)."""
    last = (select(LinkContact.link_id, LinkContact.house_id, func.max(LinkContact.at).label("last_at"))
            .group_by(LinkContact.link_id, LinkContact.house_id).subquery())
    scoped = readable(subject, HouseholdLink).with_only_columns(HouseholdLink.id).order_by(None)
    stmt = (select(LinkedHouse, last.c.last_at)
            .outerjoin(last, (last.c.link_id == LinkedHouse.link_id) & (last.c.house_id == LinkedHouse.house_id))
            .where(LinkedHouse.link_id.in_(scoped), (last.c.last_at.is_(None)) | (last.c.last_at < before))
            .order_by(last.c.last_at.is_not(None), last.c.last_at, LinkedHouse.id).limit(limit))
    return [tuple(r) for r in session.execute(stmt).unique()]


def upper_regions(session: Session, subject: Subject) -> list[tuple[str, str]]:
    """Towns and the county a team may cover as a whole (grids and communities are offered beside)."""
    rows = session.execute(readable(subject, Region).where(Region.level.in_(("town", "county")))
                           .with_only_columns(Region.code, Region.name).order_by(Region.code).limit(200))
    return [(c, n) for c, n in rows]
