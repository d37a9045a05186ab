"""What the JSON API and the forms accept and answer. Numbers are checked here (identity number with
its GB 11643 check digit and birth date, phones, credit codes) so that both interfaces refuse the
same input with the same sentence; personal numbers go out masked unless revealed."""

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from zhili.basedata.checks import (
    check_credit_code,
    check_resident_id,
    normal_id_number,
    normal_phone,
    phone_problem,
)
from zhili.models.basedata import AddressLevel, HouseUse, PlaceKind, ResidentKind, UnitKind

Name = Annotated[str, Field(min_length=1, max_length=50)]
Note = Annotated[str, Field(max_length=500)]
Short = Annotated[str, Field(max_length=100)]
# A grid's 15-digit code, or a community's 12-digit code where no grid holds the record.
AreaCode = Annotated[str | None, Field(default=None, pattern=r"^(\d{12}|\d{15})?$")]
Lon = Annotated[float | None, Field(default=None, ge=73, le=136)]
Lat = Annotated[float | None, Field(default=None, ge=3, le=54)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("grid_code", mode="before", check_fields=False)
    @classmethod
    def _empty_code(cls, value: Any) -> Any:
        return None if value == "" else value


def _phone(value: str | None) -> str | None:
    if value is None:
        return None
    value = normal_phone(value)
    problem = phone_problem(value)
    if problem:
        raise ValueError(problem)
    return value


# Addresses -------------------------------------------------------------------------------------


class AddressCreate(_In):
    parent_id: int | None = None
    level: AddressLevel
    name: Annotated[str, Field(min_length=1, max_length=60)]
    grid_code: AreaCode = None
    lon: Lon = None
    lat: Lat = None


class AddressUpdate(_In):
    name: Annotated[str | None, Field(default=None, min_length=1, max_length=60)] = None
    grid_code: AreaCode = None
    lon: Lon = None
    lat: Lat = None


class AddressOut(BaseModel):
    id: int
    parent_id: int | None
    level: AddressLevel
    name: str
    full_name: str
    area_code: str
    grid_code: str | None
    lon: float | None
    lat: float | None
    house_id: int | None = None


# Houses ----------------------------------------------------------------------------------------


class HouseFields(_In):
    use: HouseUse | None = None
    owner_name: Annotated[str | None, Field(default=None, max_length=50)] = None
    owner_phone: Annotated[str | None, Field(default=None, max_length=20)] = None
    floor_area_m2: Annotated[float | None, Field(default=None, ge=0, le=1_000_000)] = None
    rented: bool | None = None
    group_rental: bool | None = None
    note: Note | None = None

    @field_validator("owner_phone")
    @classmethod
    def _check_phone(cls, value: str | None) -> str | None:
        return _phone(value)


class HouseCreate(HouseFields):
    address_id: int


class HouseUpdate(HouseFields):
    pass


class HouseOut(BaseModel):
    id: int
    address_id: int
    address: str
    use: HouseUse
    owner_name: str
    owner_phone: str  # masked
    floor_area_m2: float | None
    rented: bool
    group_rental: bool
    note: str
    area_code: str
    grid_code: str | None
    residents: int = 0


# Residents -------------------------------------------------------------------------------------


class ResidentFields(_In):
    name: Name | None = None
    id_number: Annotated[str | None, Field(default=None, max_length=20)] = None
    phone: Annotated[str | None, Field(default=None, max_length=20)] = None
    kind: ResidentKind | None = None
    house_id: int | None = None
    grid_code: AreaCode = None
    household_head: bool | None = None
    relation: Annotated[str | None, Field(default=None, max_length=20)] = None
    ethnicity: Annotated[str | None, Field(default=None, max_length=20)] = None
    origin: Short | None = None
    nationality: Annotated[str | None, Field(default=None, max_length=40)] = None
    workplace: Short | None = None
    note: Note | None = None
    gender: Literal["", "M", "F"] | None = None  # only without an identity number (it says the gender)
    birth_date: date | None = None  # likewise
    moved_out_on: date | None = None

    @field_validator("id_number")
    @classmethod
    def _id_number(cls, value: str | None) -> str | None:
        if not value:
            return value
        value = normal_id_number(value)
        problem = check_resident_id(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("phone")
    @classmethod
    def _check_phone(cls, value: str | None) -> str | None:
        return _phone(value)


class ResidentCreate(ResidentFields):
    name: Name


class ResidentUpdate(ResidentFields):
    pass


class ResidentOut(BaseModel):
    id: int
    name: str
    id_number: str  # masked
    gender: str
    birth_date: date | None
    phone: str  # masked
    kind: ResidentKind
    house_id: int | None
    address: str
    household_head: bool
    relation: str
    ethnicity: str
    origin: str
    nationality: str
    workplace: str
    note: str
    area_code: str
    grid_code: str | None
    moved_out_on: date | None
    merged_into_id: int | None
    updated_at: datetime


# Units -----------------------------------------------------------------------------------------


class UnitFields(_In):
    name: Annotated[str | None, Field(default=None, min_length=1, max_length=100)] = None
    kind: UnitKind | None = None
    credit_code: Annotated[str | None, Field(default=None, max_length=20)] = None
    legal_person: Annotated[str | None, Field(default=None, max_length=50)] = None
    phone: Annotated[str | None, Field(default=None, max_length=20)] = None
    employees: Annotated[int | None, Field(default=None, ge=0, le=10_000_000)] = None
    address_id: int | None = None
    grid_code: AreaCode = None
    note: Note | None = None

    @field_validator("credit_code")
    @classmethod
    def _credit(cls, value: str | None) -> str | None:
        if not value:
            return value
        value = value.strip().upper()
        problem = check_credit_code(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("phone")
    @classmethod
    def _check_phone(cls, value: str | None) -> str | None:
        return _phone(value)


class UnitCreate(UnitFields):
    name: Annotated[str, Field(min_length=1, max_length=100)]


class UnitUpdate(UnitFields):
    pass


class UnitOut(BaseModel):
    id: int
    name: str
    kind: UnitKind
    credit_code: str
    legal_person: str
    phone: str  # masked
    employees: int | None
    address_id: int | None
    address: str
    note: str
    area_code: str
    grid_code: str | None
    merged_into_id: int | None


# Places ----------------------------------------------------------------------------------------


class PlaceFields(_In):
    name: Annotated[str | None, Field(default=None, min_length=1, max_length=100)] = None
    kind: PlaceKind | None = None
    # GeoJSON Point, Polygon or MultiPolygon (object or text); or lon/lat for a point.
    geometry: dict[str, Any] | Annotated[str, Field(max_length=200_000)] | None = None
    lon: Lon = None
    lat: Lat = None
    manager: Annotated[str | None, Field(default=None, max_length=50)] = None
    phone: Annotated[str | None, Field(default=None, max_length=20)] = None
    capacity: Annotated[int | None, Field(default=None, ge=0, le=10_000_000)] = None
    address_id: int | None = None
    grid_code: AreaCode = None
    note: Note | None = None

    @field_validator("phone")
    @classmethod
    def _check_phone(cls, value: str | None) -> str | None:
        return _phone(value)


class PlaceCreate(PlaceFields):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    kind: PlaceKind


class PlaceUpdate(PlaceFields):
    pass


class PlaceOut(BaseModel):
    id: int
    name: str
    kind: PlaceKind
    geometry: dict[str, Any]
    lon: float
    lat: float
    manager: str
    phone: str  # masked
    capacity: int | None
    address_id: int | None
    note: str
    area_code: str
    grid_code: str | None


# History, privacy, merging ------------------------------------------------------------------------


class ChangeOut(BaseModel):
    id: int
    entity: str
    entity_id: int
    action: str
    fields: dict[str, Any]
    staff_name: str
    at: datetime


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    other_id: int = Field(description="The duplicate: merged into this record, then marked merged_into_id")


class RevealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    field: Literal["id_number", "phone", "owner_phone"]
    reason: Annotated[str, Field(max_length=200)] = ""


class Revealed(BaseModel):
    field: str
    value: str


ExportKind = Literal["residents", "houses", "units", "places"]


class ExportRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    kind: ExportKind
    purpose: Annotated[str, Field(min_length=4, max_length=500)]
    filters: dict[str, Annotated[str, Field(max_length=100)]] = Field(default_factory=dict, max_length=10)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    approve: bool
    note: Annotated[str, Field(max_length=500)] = ""


class ExportRequestOut(BaseModel):
    id: int
    kind: str
    filters: dict[str, Any]
    purpose: str
    status: str
    requested_by_name: str
    requested_at: datetime
    decided_by_name: str
    decided_at: datetime | None
    decision_note: str
    expires_at: datetime | None
    downloads: int
    downloadable: bool = False

