"""Deadline arithmetic for many orders at once (an import computes a million due times, an export a
colour per open order): the same rules as work_order.service, with the category limits and the
working calendars read once per category and region instead of once per order."""

from datetime import datetime

from sqlalchemy.orm import Session

from zhili.category.service import effective_deadlines
from zhili.config import get_settings
from zhili.kit.calendar import Colour, Limit, WorkingCalendar, deadline_colour
from zhili.models import Category, Region, Stage, Urgency
from zhili.work_order.service import FALLBACK_LIMITS, calendar


class Clocks:
    """Limits per (category, urgency, stage), inherited down the category tree, falling back like a live
    order's; calendars per command region. Both are bounded by the size of the configuration."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._limits: dict[tuple[int | None, str, Stage], Limit] = {}
        self._calendars: dict[int, WorkingCalendar] = {}

    def limit(self, category_id: int | None, urgency: Urgency | str, stage: Stage) -> Limit:
        key = (category_id, str(urgency), stage)
        if key not in self._limits:
            text = FALLBACK_LIMITS[stage]
            category = self.session.get(Category, category_id) if category_id is not None else None
            if category is not None:
                for d in effective_deadlines(self.session, category):
                    if d.stage == stage and d.urgency == urgency:
                        text = d.limit
            self._limits[key] = Limit.parse(text)
        return self._limits[key]

    def calendar(self, region_id: int) -> WorkingCalendar:
        if region_id not in self._calendars:
            region = self.session.get(Region, region_id)
            self._calendars[region_id] = calendar(region, self.session)
        return self._calendars[region_id]

    def colour(self, *, region_id: int, category_id: int | None, urgency: str, stage: str | None,
               started: datetime | None, due: datetime | None, at: datetime) -> Colour | None:
        """The colour the order list shows: None when no clock runs."""
        if stage is None or started is None or due is None:
            return None
        unit = self.limit(category_id, urgency, Stage(stage)).unit
        return deadline_colour(started, due, at, self.calendar(region_id), unit, get_settings().warn_share)
