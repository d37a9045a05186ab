"""Local working-calendar decisions (CalendarOverride): a region makes a working day a holiday, or the
reverse, for itself and everything below it; the nearest region's decision wins over its ancestors'.

Queries, use cases and the in/out models of the override sit together here while the idea is this small.
Reads are scoped by `readable(subject, CalendarOverride)` (own subtree and the ancestors above it);
writes belong to admins of the region (`require_manages`).
"""

import calendar as pycal
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any

import chinese_calendar
from pydantic import BaseModel, ConfigDict, StringConstraints
from sqlalchemy import Select, extract, select
from sqlalchemy.orm import Session

from zhili.access import readable
from zhili.auth import audit
from zhili.auth.subject import Subject
from zhili.errors import NotFound
from zhili.jurisdiction import repository as jrepo
from zhili.jurisdiction.schemas import RegionCode
from zhili.jurisdiction.service import require_manages
from zhili.kit.calendar import SHANGHAI, statutory_workday
from zhili.kit.i18n import _
from zhili.kit.time import now
from zhili.models import CalendarOverride, Region

# Years before 2004 and after the last announced schedule are not in chinese-calendar.
FIRST_YEAR, LAST_YEAR = 2004, 2100


class OverrideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    region_code: RegionCode
    day: date
    is_workday: bool
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""


class OverrideOut(BaseModel):
    region_code: str
    region_name: str
    day: date
    is_workday: bool
    note: str
    # Set by an ancestor region (applies here unless this region decides otherwise).
    inherited: bool


# Queries ---------------------------------------------------------------------------------------


def _overrides_for(subject: Subject, region: Region, year: int | None = None) -> Select[Any]:
    """The region's own rows and its ancestors' (within what the subject may read)."""
    codes = [r.code for r in _chain(region)]
    stmt = readable(subject, CalendarOverride).where(Region.code.in_(codes))
    if year is not None:
        stmt = stmt.where(extract("year", CalendarOverride.day) == year)
    return stmt.add_columns(Region.code, Region.name).order_by(CalendarOverride.day)


def _own(session: Session, region_id: int, day: date) -> CalendarOverride | None:
    """The region's own row for the day; the caller has checked that the subject manages the region."""
    return session.scalar(select(CalendarOverride).where(CalendarOverride.region_id == region_id,
                                                        CalendarOverride.day == day))


def _chain(region: Region) -> list[Region]:
    chain = [region]
    while chain[-1].parent is not None:
        chain.append(chain[-1].parent)  # type: ignore[arg-type]
    return chain


# Use cases -------------------------------------------------------------------------------------


def list_overrides(session: Session, subject: Subject, region_code: str, year: int) -> list[OverrideOut]:
    """What applies to the region in the year: one row per day, the nearest region's decision winning."""
    region = jrepo.region(session, subject, region_code)
    depth = {r.code: i for i, r in enumerate(_chain(region))}
    best: dict[date, tuple[int, OverrideOut]] = {}
    for row, code, name in session.execute(_overrides_for(subject, region, year)).all():
        out = OverrideOut(region_code=code, region_name=name, day=row.day, is_workday=row.is_workday,
                          note=row.note, inherited=code != region.code)
        if row.day not in best or depth[code] < best[row.day][0]:
            best[row.day] = (depth[code], out)
    return [out for _d, out in sorted(best.values(), key=lambda item: item[1].day)]


def set_override(session: Session, subject: Subject, data: OverrideIn) -> OverrideOut:
    """Create or update the region's decision for the day (idempotent: the same call twice is one row)."""
    require_manages(subject, data.region_code)
    region = jrepo.region(session, subject, data.region_code)
    row = _own(session, region.id, data.day)
    if row is None:
        row = CalendarOverride(region_id=region.id, day=data.day, is_workday=data.is_workday, note=data.note)
        session.add(row)
    else:
        row.is_workday, row.note = data.is_workday, data.note
    session.flush()
    audit.record(session, "calendar.set", actor_id=subject.id, actor_name=subject.name,
                 target_type="calendar", target_id=data.day.isoformat(), region_code=region.code,
                 is_workday=data.is_workday, note=data.note)
    return OverrideOut(region_code=region.code, region_name=region.name, day=row.day, is_workday=row.is_workday,
                       note=row.note, inherited=False)


def delete_override(session: Session, subject: Subject, region_code: str, day: date) -> None:
    require_manages(subject, region_code)
    region = jrepo.region(session, subject, region_code)
    row = _own(session, region.id, day)
    if row is None:
        raise NotFound(_("{r}没有为 {d} 单独设置", r=region.name, d=day.isoformat()))
    session.delete(row)
    session.flush()
    audit.record(session, "calendar.delete", actor_id=subject.id, actor_name=subject.name,
                 target_type="calendar", target_id=day.isoformat(), region_code=region.code)


def this_year() -> int:
    return now().astimezone(SHANGHAI).year


# The year grid ---------------------------------------------------------------------------------


def year_covered(year: int) -> bool:
    """Whether chinese-calendar has the State Council's schedule (holidays and 调休) for the year."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


@dataclass
class DayCell:
    day: date
    # workday | weekend | holiday (a statutory holiday on a weekday or weekend) | adjusted (调休 working day)
    national: str
    holiday: str  # chinese_calendar's English name of the holiday ("Spring Festival"), or ""
    workday: bool  # after overrides
    override: OverrideOut | None = None


@dataclass
class Month:
    number: int
    weeks: list[list[DayCell | None]] = field(default_factory=list)
    workdays: int = 0


def _national(day: date) -> tuple[str, str]:
    weekend = day.weekday() >= 5
    workday = statutory_workday(day)
    name = ""
    try:
        is_holiday, holiday = chinese_calendar.get_holiday_detail(day)
        name = str(holiday) if is_holiday and holiday else ""
    except NotImplementedError:
        name = ""
    if workday and weekend:
        return "adjusted", ""
    if not workday and not weekend:
        return "holiday", name
    if not workday and name:
        return "holiday", name  # a weekend inside a holiday stretch
    return ("workday" if workday else "weekend"), ""


def day_cell(day: date, override: OverrideOut | None) -> DayCell:
    national, name = _national(day)
    workday = override.is_workday if override else statutory_workday(day)
    return DayCell(day=day, national=national, holiday=name, workday=workday, override=override)


def year_grid(year: int, overrides: list[OverrideOut]) -> list[Month]:
    by_day = {o.day: o for o in overrides}
    months = []
    for number in range(1, 13):
        month = Month(number)
        for week in pycal.Calendar(firstweekday=0).monthdatescalendar(year, number):
            row: list[DayCell | None] = []
            for d in week:
                if d.month != number:
                    row.append(None)
                    continue
                cell = day_cell(d, by_day.get(d))
                month.workdays += cell.workday
                row.append(cell)
            month.weeks.append(row)
        months.append(month)
    return months
