"""Pydantic in/out models of the key-person API, kept apart from the ORM. Identity numbers and phones
only ever leave masked."""

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from zhili.jurisdiction.schemas import Phone
from zhili.kit.i18n import _
from zhili.kit.protect import mask_id_number, mask_phone
from zhili.models.keyperson import (
    CareWarning,
    CheckIn,
    CheckInKind,
    HelperKind,
    KeyPerson,
    KeyPersonKind,
    LeaveRequest,
    LeaveState,
    Risk,
    RiskChange,
    WarningKind,
)

Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=500)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def check_point(lon: float | None, lat: float | None) -> None:
    if (lon is None) != (lat is None):
        raise ValueError(_("经度和纬度须同时填写"))
    if lon is not None and lat is not None and not (73 <= lon <= 136 and 3 <= lat <= 54):
        raise ValueError(_("坐标不在中国境内：请使用 WGS-84 经纬度，经度在前（例如 119.8, 29.45）"))


class HelperIn(Strict):
    kind: HelperKind
    staff_id: int | None = Field(default=None, description="a staff account; its name is used if `name` is empty")
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] = ""
    phone: Phone = ""


class KeyPersonCreate(Strict):
    resident_id: int
    kind: KeyPersonKind
    risk: Risk = Risk.green
    details: dict[str, Any] = Field(default_factory=dict, max_length=20,
                                    description="the kind's own fields (GET /api/v1/key-person-kinds)")
    since: date | None = Field(default=None, description="列管日期; default today")
    note: Note = ""
    helpers: list[HelperIn] = Field(default_factory=list, max_length=10)


class KeyPersonUpdate(Strict):
    details: dict[str, Any] | None = Field(default=None, max_length=20)
    since: date | None = None
    until: date | None = None
    note: Note | None = None
    active: bool | None = Field(default=None, description="false: 解除列管 (clears its warnings)")


class RiskIn(Strict):
    risk: Risk
    reason: Reason


class HelpersIn(Strict):
    helpers: list[HelperIn] = Field(max_length=10)


class CheckInIn(Strict):
    kind: CheckInKind
    at: datetime | None = Field(default=None, description="default now; an earlier time records it late (补录)")
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""

    @model_validator(mode="after")
    def _position(self) -> "CheckInIn":
        check_point(self.lon, self.lat)
        if self.kind == CheckInKind.locate and self.lon is None:
            raise ValueError(_("定位须有位置（经度、纬度）"))
        return self


class LeaveIn(Strict):
    destination: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=100)]
    reason: Reason
    starts_on: date
    ends_on: date

    @model_validator(mode="after")
    def _dates(self) -> "LeaveIn":
        if self.ends_on < self.starts_on:
            raise ValueError(_("返回日期不能早于外出日期"))
        return self


class LeaveDecisionIn(Strict):
    approve: bool
    note: Note = ""


class LeaveReturnIn(Strict):
    note: Note = ""


class VisitRuleIn(Strict):
    kind: KeyPersonKind
    risk: Risk
    interval_days: int = Field(ge=1, le=366)


class VisitRulesIn(Strict):
    rules: list[VisitRuleIn] = Field(min_length=1, max_length=30)


# Out -------------------------------------------------------------------------------------------


class HelperOut(BaseModel):
    id: int
    kind: HelperKind
    staff_id: int | None
    name: str
    phone: str


class RiskChangeOut(BaseModel):
    old: Risk | None
    new: Risk
    reason: str
    staff_id: int | None
    at: datetime

    @classmethod
    def of(cls, r: RiskChange) -> "RiskChangeOut":
        return cls(old=r.old, new=r.new, reason=r.reason, staff_id=r.staff_id, at=r.at)


class KeyPersonOut(BaseModel):
    id: int
    resident_id: int
    name: str
    id_number: str = Field(description="masked")
    phone: str = Field(description="masked")
    kind: KeyPersonKind
    risk: Risk
    details: dict[str, Any]
    since: date | None
    until: date | None
    active: bool
    note: str
    last_visit_at: datetime | None
    visit_due_on: date | None
    area_code: str
    grid_id: int | None
    helpers: list[HelperOut]

    @classmethod
    def of(cls, p: KeyPerson) -> "KeyPersonOut":
        r = p.resident
        return cls(id=p.id, resident_id=p.resident_id, name=r.name, id_number=mask_id_number(r.id_number or ""),
                   phone=mask_phone(r.phone) if r.phone else "", kind=p.kind, risk=p.risk, details=p.details,
                   since=p.since, until=p.until, active=p.active, note=p.note, last_visit_at=p.last_visit_at,
                   visit_due_on=p.visit_due_on, area_code=p.area_code, grid_id=p.grid_id,
                   helpers=[HelperOut(id=h.id, kind=h.kind, staff_id=h.staff_id, name=h.name,
                                      phone=mask_phone(h.phone) if h.phone else "") for h in p.helpers])


class KeyPersonDetail(KeyPersonOut):
    risk_history: list[RiskChangeOut]


class CheckInOut(BaseModel):
    id: int
    key_person_id: int
    kind: CheckInKind
    at: datetime
    lon: float | None
    lat: float | None
    note: str

    @classmethod
    def of(cls, c: CheckIn) -> "CheckInOut":
        return cls(id=c.id, key_person_id=c.key_person_id, kind=c.kind, at=c.at, lon=c.lon, lat=c.lat, note=c.note)


class LeaveOut(BaseModel):
    id: int
    key_person_id: int
    destination: str
    reason: str
    starts_on: date
    ends_on: date
    state: LeaveState
    decided_by_id: int | None
    decided_at: datetime | None
    decision_note: str
    returned_at: datetime | None

    @classmethod
    def of(cls, x: LeaveRequest) -> "LeaveOut":
        return cls(id=x.id, key_person_id=x.key_person_id, destination=x.destination, reason=x.reason,
                   starts_on=x.starts_on, ends_on=x.ends_on, state=x.state, decided_by_id=x.decided_by_id,
                   decided_at=x.decided_at, decision_note=x.decision_note, returned_at=x.returned_at)


class CareWarningOut(BaseModel):
    id: int
    key_person_id: int
    name: str
    kind: WarningKind
    concerns_on: date
    message: str
    area_code: str
    raised_at: datetime
    cleared_at: datetime | None

    @classmethod
    def of(cls, w: CareWarning) -> "CareWarningOut":
        return cls(id=w.id, key_person_id=w.key_person_id, name=w.key_person.resident.name, kind=w.kind,
                   concerns_on=w.concerns_on, message=w.message, area_code=w.area_code, raised_at=w.raised_at,
                   cleared_at=w.cleared_at)


class VisitRuleOut(BaseModel):
    kind: KeyPersonKind
    risk: Risk
    interval_days: int


class DetailFieldOut(BaseModel):
    name: str
    label: str
    kind: str
    required: bool
    choices: list[str]
    low: int | None
    high: int | None


class KindOut(BaseModel):
    kind: KeyPersonKind
    label: str
    fields: list[DetailFieldOut]
