"""Pydantic in/out models of appeals and work orders."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from zhili.jurisdiction.schemas import DepartmentRef, Phone
from zhili.kit.codes import check_id_number
from zhili.kit.i18n import _
from zhili.models import Channel, Urgency

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]


def _in_china(lon: float | None, lat: float | None) -> None:
    if (lon is None) != (lat is None):
        raise ValueError(_("经度和纬度须同时填写"))
    if lon is not None and lat is not None and not (73 <= lon <= 136 and 3 <= lat <= 54):
        raise ValueError(_("坐标不在中国境内：请使用 WGS-84 经纬度，经度在前（例如 119.8, 29.45）"))


def _optional_id_number(value: str) -> str:
    if value and (problem := check_id_number(value)):
        raise ValueError(problem)
    return value


class AppealCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: Channel | None = Field(default=None, description="default: hotline (staff), else the key's own channel")
    caller_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] = ""
    caller_phone: Phone = ""
    caller_id_number: Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, max_length=18),
                                AfterValidator(_optional_id_number)] = ""
    anonymous: bool = False
    title: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] = ""
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=5000)]
    address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    region_code: Annotated[str, StringConstraints(pattern=r"^\d{12}$")] | None = None
    category_code: Annotated[str, StringConstraints(max_length=30)] | None = None
    urgency: Urgency = Urgency.normal
    external_id: Annotated[str, StringConstraints(max_length=100)] = ""
    photos: list[str] = Field(default_factory=list, max_length=20, description="keys from POST /api/v1/attachments")
    attributes: dict[str, str | list[str]] = Field(default_factory=dict, max_length=50,
                                                   description="values for the category's service attributes")
    media_url: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500,
                                                pattern=r"^(https?://\S+)?$")] = ""

    @model_validator(mode="after")
    def _place(self) -> "AppealCreate":
        _in_china(self.lon, self.lat)
        if self.lon is None and not self.region_code:
            raise ValueError(_("请给出地点：地图坐标（lon/lat）或所在区划代码（region_code）"))
        return self


class ActionIn(BaseModel):
    """The inputs of any move; each action reads the ones it needs (work_order.workflow.Input)."""

    model_config = ConfigDict(extra="forbid")
    reason: Text = ""
    department: str | None = Field(default=None, description="lead department code (dispatch)")
    category: Annotated[str, StringConstraints(max_length=30)] | None = Field(
        default=None, description="category leaf code (dispatch): files the order under it, correcting the proposal")
    assisting: list[str] = Field(default_factory=list, max_length=20)
    departments: list[str] = Field(default_factory=list, max_length=20)
    rating: int | None = None
    comment: Text = ""
    target: str | None = Field(default=None, description="the order code a duplicate is merged into")
    due_at: datetime | None = None
    extra: Annotated[str, StringConstraints(max_length=12)] | None = None
    response_due: datetime | None = None
    report: Text = ""
    answer: Text = ""
    photos: list[str] = Field(default_factory=list, max_length=20)
    expected_version: int | None = Field(default=None, description="refuse with 409 if the order changed since")

    @model_validator(mode="after")
    def _aware(self) -> "ActionIn":
        for name in ("due_at", "response_due"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(_("{f} 须带时区，例如 2026-12-01T17:30:00+08:00", f=name))
        return self


class AssignmentOut(BaseModel):
    id: int
    department: DepartmentRef
    role: str
    state: str
    dispatched_at: datetime
    signed_at: datetime | None


class EventOut(BaseModel):
    id: int
    at: datetime
    actor_name: str
    action: str
    action_label: str
    from_status: str | None
    to_status: str
    reason: str
    data: dict[str, Any]
    rework: bool


class AppealOut(BaseModel):
    id: int
    tracking_code: str
    channel: Channel
    caller_name: str
    caller_phone: str
    caller_id_number: str
    anonymous: bool
    text: str
    address: str
    created_at: datetime
    photos: list[str] = Field(default_factory=list, description="attachment keys")


class WorkOrderOut(BaseModel):
    id: int
    code: str
    status: str
    status_label: str
    version: int
    urgency: Urgency
    category_code: str | None
    category_name: str | None
    region_code: str
    place_code: str
    grid_code: str | None
    channel: Channel
    title: str
    address: str
    lon: float | None
    lat: float | None
    stage: str | None
    due_at: datetime | None
    colour: str | None
    rework_count: int
    rating: int | None
    lead_department: DepartmentRef | None
    created_at: datetime
    closed_at: datetime | None


class WorkOrderDetail(WorkOrderOut):
    description: str
    suggested_department: DepartmentRef | None
    extension_pending: bool
    awaiting_review: bool
    merged_into: str | None
    assignments: list[AssignmentOut]
    appeals: list[AppealOut]
    events: list[EventOut]
    allowed_actions: list[str]


class AppealFiled(BaseModel):
    tracking_code: str
    work_order: WorkOrderDetail
