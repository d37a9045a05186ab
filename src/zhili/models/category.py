from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from zhili.db import Base
from zhili.models.base import Timestamps, str_enum
from zhili.models.jurisdiction import Department, Region


class CategoryKind(StrEnum):
    group = "group"  # an inner node: a root, an appeal kind (投诉 …), a major class (市容环境 …)
    appeal = "appeal"  # 12345 appeal kind × subject area (投诉 · 环境保护)
    component = "component"  # GB/T 30428 部件 (井盖, 路灯 …)
    event = "event"  # GB/T 30428 事件 (暴露垃圾, 占道经营 …)


class Urgency(StrEnum):
    normal = "normal"  # 一般
    urgent = "urgent"  # 紧急
    critical = "critical"  # 特急


class Stage(StrEnum):
    """The four clocks of a work order."""

    sign = "sign"  # 签收
    handle = "handle"  # 处置
    verify = "verify"  # 核查
    callback = "callback"  # 回访


class Category(Timestamps, Base):
    """A node of the category tree (事项分类). Leaves are what appeals are filed under."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[CategoryKind] = mapped_column(str_enum(CategoryKind))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="RESTRICT"), index=True)
    # Materialised path of ids ("/1/7/42/"): ancestors and subtrees without recursive queries.
    path: Mapped[str] = mapped_column(String(200), index=True, default="/")
    depth: Mapped[int] = mapped_column(Integer, default=0)
    default_department_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id", ondelete="SET NULL"), index=True
    )
    description: Mapped[str] = mapped_column(Text, default="")
    # Whether outside channels (the citizen form, Open311) may file under this leaf.
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort: Mapped[int] = mapped_column(Integer, default=0)

    parent: Mapped["Category | None"] = relationship(remote_side="Category.id")
    default_department: Mapped[Department | None] = relationship(lazy="joined")
    # Written through here; read through category.service.effective_deadlines (which inherits).
    deadlines: Mapped[list["CategoryDeadline"]] = relationship(cascade="all, delete-orphan")

    @property
    def ancestor_ids(self) -> list[int]:
        return [int(p) for p in self.path.strip("/").split("/") if p][:-1]


class CategoryDeadline(Base):
    """The time allowed for one stage of one urgency, as a limit text: "4wh", "15wd", "2h"."""

    __tablename__ = "category_deadlines"

    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True)
    urgency: Mapped[Urgency] = mapped_column(str_enum(Urgency), primary_key=True)
    stage: Mapped[Stage] = mapped_column(str_enum(Stage), primary_key=True)
    limit: Mapped[str] = mapped_column(String(12))


class ResponsibilityRule(Timestamps, Base):
    """权责清单 / 派单目录: appeals of a category (and its subtree) in a region (and its subtree) go to a
    lead department, with assisting departments. The most specific rule wins."""

    __tablename__ = "responsibility_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id", ondelete="CASCADE"), index=True)
    lead_department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="RESTRICT"), index=True)
    note: Mapped[str] = mapped_column(String(500), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    category: Mapped[Category] = relationship(lazy="joined")
    region: Mapped[Region] = relationship(lazy="joined")
    lead_department: Mapped[Department] = relationship(lazy="joined")
    assists: Mapped[list["RuleAssist"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="RuleAssist.department_id"
    )

    __table_args__ = (UniqueConstraint("category_id", "region_id", name="uq_responsibility_rules_category_region"),)


class RuleAssist(Base):
    __tablename__ = "rule_assists"

    rule_id: Mapped[int] = mapped_column(ForeignKey("responsibility_rules.id", ondelete="CASCADE"), primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True)

    department: Mapped[Department] = relationship(lazy="joined")


class AttributeType(StrEnum):
    """The datatypes of an Open311 service definition attribute."""

    string = "string"
    number = "number"
    datetime = "datetime"
    text = "text"
    singlevaluelist = "singlevaluelist"
    multivaluelist = "multivaluelist"


class ServiceAttribute(Timestamps, Base):
    """An extra field an admin asks for under one category leaf (Open311 service definition attribute):
    e.g. 井盖 → 井盖类型 (singlevaluelist). Outside appeals are validated against it."""

    __tablename__ = "service_attributes"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(50))
    datatype: Mapped[AttributeType] = mapped_column(str_enum(AttributeType))
    # variable false: an informational line shown to the caller, with no value to send.
    variable: Mapped[bool] = mapped_column(Boolean, default=True)
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(String(300))  # the question put to the caller
    datatype_description: Mapped[str] = mapped_column(String(300), default="")
    order: Mapped[int] = mapped_column(Integer, default=0)
    # For the list types: [{"key": "round", "name": "圆形"}, …] in the order shown.
    values: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    __table_args__ = (UniqueConstraint("category_id", "code", name="uq_service_attributes_category_code"),)
