"""Pydantic in/out models of the jurisdiction API, kept apart from the ORM."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from zhili.auth.passwords import check_password_strength
from zhili.kit.codes import (
    RegionLevel,
    check_grid_code,
    check_phone,
    check_region_code,
)
from zhili.models import GridKind, Role
from zhili.models.jurisdiction import DepartmentKind


def _validated(check):  # type: ignore[no-untyped-def]
    def run(value: str) -> str:
        problem = check(value)
        if problem:
            raise ValueError(problem)
        return value

    return AfterValidator(run)


def _optional_phone(value: str) -> str:
    if value and (problem := check_phone(value)):
        raise ValueError(problem)
    return value


def _password(value: str) -> str:
    if problem := check_password_strength(value):
        raise ValueError(problem)
    return value


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
RegionCode = Annotated[str, StringConstraints(strip_whitespace=True), _validated(check_region_code)]
GridCode = Annotated[str, StringConstraints(strip_whitespace=True), _validated(check_grid_code)]
Phone = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=20), AfterValidator(_optional_phone)
]
Password = Annotated[str, StringConstraints(max_length=128), AfterValidator(_password)]
Username = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=2, max_length=50, pattern=r"^[A-Za-z0-9_.\-]+$")
]
Boundary = dict[str, Any] | str


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Regions ---------------------------------------------------------------------------------------


class RegionCreate(Strict):
    code: RegionCode
    name: Name
    boundary: Boundary | None = None


class RegionUpdate(Strict):
    name: Name | None = None
    boundary: Boundary | None = None


class RegionOut(BaseModel):
    code: str
    name: str
    level: RegionLevel
    kind: str | None
    parent_code: str | None
    has_boundary: bool


class RegionDetail(RegionOut):
    boundary: dict[str, Any] | None
    path: list[RegionOut]
    children: int
    grids: int


# Grids -----------------------------------------------------------------------------------------


class Volunteer(Strict):
    name: Name
    phone: Phone = ""


class GridCreate(Strict):
    code: GridCode
    name: Name
    kind: GridKind = GridKind.basic
    boundary: Boundary
    note: Annotated[str, StringConstraints(max_length=500)] = ""
    chief: Username | None = None
    workers: list[Username] = Field(default_factory=list, max_length=50)
    volunteers: list[Volunteer] = Field(default_factory=list, max_length=200)


class GridUpdate(Strict):
    name: Name | None = None
    kind: GridKind | None = None
    boundary: Boundary | None = None
    note: Annotated[str, StringConstraints(max_length=500)] | None = None
    chief: Username | None = None
    workers: list[Username] | None = Field(default=None, max_length=50)
    volunteers: list[Volunteer] | None = Field(default=None, max_length=200)


class PersonRef(BaseModel):
    username: str | None
    name: str
    phone: str


class GridOut(BaseModel):
    code: str
    name: str
    kind: GridKind
    region_code: str
    region_name: str
    area_m2: float
    chief: PersonRef | None
    workers: list[PersonRef]
    volunteers: list[PersonRef]


class GridDetail(GridOut):
    boundary: dict[str, Any]
    note: str


# Departments -----------------------------------------------------------------------------------


class DepartmentCreate(Strict):
    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=32,
                                           pattern=r"^[A-Za-z0-9_\-]+$")]
    name: Name
    short_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=30)] = ""
    kind: DepartmentKind = DepartmentKind.government
    region_code: RegionCode
    phone: Phone = ""
    duties: Annotated[str, StringConstraints(max_length=2000)] = ""


class DepartmentUpdate(Strict):
    name: Name | None = None
    short_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=30)] | None = None
    kind: DepartmentKind | None = None
    phone: Phone | None = None
    duties: Annotated[str, StringConstraints(max_length=2000)] | None = None
    active: bool | None = None


class DepartmentOut(BaseModel):
    id: int
    code: str
    name: str
    short_name: str
    kind: DepartmentKind
    region_code: str
    region_name: str
    phone: str
    duties: str
    active: bool


# Staff -----------------------------------------------------------------------------------------


class StaffCreate(Strict):
    username: Username
    display_name: Name
    phone: Phone = ""
    password: Password
    roles: list[Role] = Field(min_length=1)
    region_code: RegionCode
    department_code: str | None = None
    grid_code: GridCode | None = None
    locale: str = "zh-CN"


class StaffUpdate(Strict):
    display_name: Name | None = None
    phone: Phone | None = None
    password: Password | None = None
    roles: list[Role] | None = Field(default=None, min_length=1)
    region_code: RegionCode | None = None
    department_code: str | None = None
    grid_code: GridCode | None = None
    active: bool | None = None
    unlock: bool = False


class DepartmentRef(BaseModel):
    id: int
    code: str
    name: str


class StaffOut(BaseModel):
    id: int
    username: str
    display_name: str
    phone: str
    roles: list[Role]
    region_code: str
    region_name: str
    department: DepartmentRef | None
    grid_code: str | None
    active: bool
    locked: bool
    last_login_at: datetime | None
