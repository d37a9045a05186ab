"""Pydantic in/out models of visits, patrols and campaigns."""

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from zhili.keyperson.schemas import check_point
from zhili.kit.i18n import _
from zhili.models import Urgency
from zhili.models.keyperson import Campaign, Visit, VisitKind

MAX_TRAIL = 2000  # points of one patrol (one every 10 s for more than five hours)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProblemIn(Strict):
    text: Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)] = Field(
        default="", description="default: what was seen")
    category_code: Annotated[str, StringConstraints(max_length=30)] | None = None
    urgency: Urgency = Urgency.normal


class VisitIn(Strict):
    kind: VisitKind
    key_person_id: int | None = None
    house_id: int | None = None
    campaign_id: int | None = None
    grid_code: Annotated[str, StringConstraints(pattern=r"^\d{15}$")] | None = Field(
        default=None, description="a patrol's grid; default the worker's own")
    started_at: datetime | None = None
    ended_at: datetime | None = None
    trail: list[Annotated[list[Any], Field(min_length=2, max_length=3)]] = Field(
        default_factory=list, max_length=MAX_TRAIL, description="[[lon, lat, ISO time?], …] (WGS-84)")
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    seen: Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)] = ""
    problem: ProblemIn | None = Field(default=None, description="file what was seen as an appeal (channel grid)")
    client_key: Annotated[str, StringConstraints(strip_whitespace=True, min_length=8, max_length=64)] | None = Field(
        default=None, description="the phone's key for this submission: a retry returns the first visit")

    @model_validator(mode="after")
    def _check(self) -> "VisitIn":
        check_point(self.lon, self.lat)
        for point in self.trail:
            lon, lat = point[0], point[1]
            if not isinstance(lon, int | float) or not isinstance(lat, int | float) or isinstance(lon, bool):
                raise ValueError(_("轨迹点应为 [经度, 纬度, 时间]"))
            check_point(float(lon), float(lat))
            if len(point) == 3 and not isinstance(point[2], str | None):
                raise ValueError(_("轨迹点应为 [经度, 纬度, 时间]"))
        if self.started_at and self.ended_at and self.ended_at < self.started_at:
            raise ValueError(_("结束时间不能早于开始时间"))
        return self


class CampaignIn(Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=100)]
    region_code: Annotated[str, StringConstraints(pattern=r"^\d{12}$")]
    starts_on: date
    ends_on: date
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""

    @model_validator(mode="after")
    def _dates(self) -> "CampaignIn":
        if self.ends_on < self.starts_on:
            raise ValueError(_("结束日期不能早于开始日期"))
        return self


class VisitOut(BaseModel):
    id: int
    kind: VisitKind
    staff_id: int
    staff_name: str
    started_at: datetime
    ended_at: datetime | None
    key_person_id: int | None
    house_id: int | None
    campaign_id: int | None
    trail: list[Any]
    lon: float | None
    lat: float | None
    seen: str
    found_problem: bool
    work_order_id: int | None
    area_code: str
    grid_id: int | None

    @classmethod
    def of(cls, v: Visit) -> "VisitOut":
        return cls(id=v.id, kind=v.kind, staff_id=v.staff_id, staff_name=v.staff.display_name, started_at=v.started_at,
                   ended_at=v.ended_at, key_person_id=v.key_person_id, house_id=v.house_id, campaign_id=v.campaign_id,
                   trail=v.trail, lon=v.lon, lat=v.lat, seen=v.seen, found_problem=v.found_problem,
                   work_order_id=v.work_order_id, area_code=v.area_code, grid_id=v.grid_id)


class GridProgress(BaseModel):
    grid_code: str
    grid_name: str
    houses: int
    visited: int


class CampaignOut(BaseModel):
    id: int
    name: str
    region_code: str
    starts_on: date
    ends_on: date
    note: str
    houses: int = 0
    visited: int = 0

    @classmethod
    def of(cls, c: Campaign, houses: int = 0, visited: int = 0) -> "CampaignOut":
        return cls(id=c.id, name=c.name, region_code=c.region_code, starts_on=c.starts_on, ends_on=c.ends_on,
                   note=c.note, houses=houses, visited=visited)


class CampaignDetail(CampaignOut):
    grids: list[GridProgress]


class WorkerCoverage(BaseModel):
    staff_id: int
    name: str
    visits: int
    patrols: int
    door_knocks: int
    last_patrol_at: datetime | None


class GridCoverage(BaseModel):
    grid_code: str
    grid_name: str
    visits: int
    patrols: int
    door_knocks: int
    key_persons: int
    on_plan: int
    houses: int
    houses_visited: int
    last_patrol_at: datetime | None
    workers: list[WorkerCoverage] = Field(default_factory=list)
