from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

from zhili.jurisdiction.schemas import DepartmentRef, RegionCode
from zhili.kit.i18n import _
from zhili.models import AttributeType, CategoryKind, Stage, Urgency


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


# Service attributes (the Open311 service definition of a leaf) -----------------------------------

LIST_TYPES = (AttributeType.singlevaluelist, AttributeType.multivaluelist)
# Codes and keys travel in form field names and values: attribute[CODE]=KEY, attribute[CODE][]=KEY.
AttributeCode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50,
                                                 pattern=r"^[A-Za-z0-9_-]+$")]


class AttributeValue(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50,
                                          pattern=r"^[^\[\],]+$")]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class AttributeIn(BaseModel):
    """An attribute as a whole: PUT replaces every field (the code stays: appeals keep their values by it)."""

    model_config = ConfigDict(extra="forbid")
    datatype: AttributeType
    variable: bool = True
    required: bool = False
    description: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
    datatype_description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] = ""
    order: int | None = Field(default=None, ge=1, le=1000, description="position, 1 first; default: last")
    values: list[AttributeValue] = Field(default_factory=list, max_length=100)

    @field_validator("required")
    @classmethod
    def _informational_is_optional(cls, required: bool, info: ValidationInfo) -> bool:
        if required and info.data.get("variable") is False:
            raise ValueError(_("仅作说明的属性（variable 为 false）不接收取值，不能设为必填"))
        return required

    @field_validator("values")
    @classmethod
    def _values_fit_the_datatype(cls, values: list[AttributeValue], info: ValidationInfo) -> list[AttributeValue]:
        datatype = info.data.get("datatype")
        if datatype in LIST_TYPES and not values:
            raise ValueError(_("列表类型至少需要一个选项"))
        if datatype is not None and datatype not in LIST_TYPES and values:
            raise ValueError(_("只有单选、多选列表类型才有选项"))
        keys = [v.key for v in values]
        if repeated := sorted({k for k in keys if keys.count(k) > 1}):
            raise ValueError(_("选项的键重复：{k}", k=_("、").join(repeated)))
        return values


class AttributeCreate(AttributeIn):
    code: AttributeCode


class AttributeOut(BaseModel):
    """Field for field the attribute of an Open311 service definition, in the spec's order."""

    variable: bool
    code: str
    datatype: AttributeType
    required: bool
    datatype_description: str
    order: int
    description: str
    values: list[AttributeValue]
