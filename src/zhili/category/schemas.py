from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from zhili.jurisdiction.schemas import DepartmentRef, RegionCode
from zhili.models import CategoryKind, Stage, Urgency


def _limit_text(value: str) -> str:
    from zhili.category.service import check_limit

    if problem := check_limit(value):
        raise ValueError(problem)
    return value


LimitText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=12), AfterValidator(_limit_text)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30, pattern=r"^[A-Za-z0-9.]+$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class DeadlineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    urgency: Urgency
    stage: Stage
    limit: LimitText


class DeadlineOut(BaseModel):
    urgency: Urgency
    stage: Stage
    limit: str
    label: str
    inherited_from: str | None = None


class CategoryCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Code
    name: Name
    kind: CategoryKind
    parent_code: Code | None = None
    default_department_code: str | None = None
    description: Annotated[str, StringConstraints(max_length=2000)] = ""
    public: bool = True
    deadlines: list[DeadlineIn] = Field(default_factory=list, max_length=12)


class CategoryUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name | None = None
    default_department_code: str | None = None
    description: Annotated[str, StringConstraints(max_length=2000)] | None = None
    public: bool | None = None
    active: bool | None = None
    deadlines: list[DeadlineIn] | None = Field(default=None, max_length=12)


class CategoryOut(BaseModel):
    id: int
    code: str
    name: str
    kind: CategoryKind
    parent_code: str | None
    depth: int
    leaf: bool
    public: bool
    active: bool
    default_department: DepartmentRef | None


class CategoryDetail(CategoryOut):
    description: str
    path: list[str]
    deadlines: list[DeadlineOut]


class RuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    category_code: Code
    region_code: RegionCode
    lead_department_code: str
    assist_department_codes: list[str] = Field(default_factory=list, max_length=20)
    note: Annotated[str, StringConstraints(max_length=500)] = ""


class RuleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lead_department_code: str | None = None
    assist_department_codes: list[str] | None = Field(default=None, max_length=20)
    note: Annotated[str, StringConstraints(max_length=500)] | None = None
    active: bool | None = None


class RuleOut(BaseModel):
    id: int
    category_code: str
    category_name: str
    region_code: str
    region_name: str
    lead_department: DepartmentRef
    assist_departments: list[DepartmentRef]
    note: str
    active: bool


class RoutingOut(BaseModel):
    """Where an appeal of this category in this region would go, and why."""

    category_code: str
    region_code: str
    urgency: Urgency
    lead_department: DepartmentRef | None
    assist_departments: list[DepartmentRef]
    rule_id: int | None
    reason: str
    deadlines: list[DeadlineOut]
