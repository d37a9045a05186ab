"""Key persons (重点人员 / 特殊人群) and the grid workers' field log: visits, patrols and the
door-knocking campaign (敲门行动). Rows carry the grid's `area_code` for scoping (see basedata)."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from zhili.db import Base
from zhili.kit.protect import Sealed
from zhili.kit.time import now
from zhili.models.base import Timestamps, UTCDateTime, str_enum
from zhili.models.basedata import House, Resident
from zhili.models.staff import Staff


class KeyPersonKind(StrEnum):
    released = "released"  # 刑满释放人员
    corrections = "corrections"  # 社区矫正对象
    mental = "mental"  # 严重精神障碍患者
    drug = "drug"  # 吸毒人员
    aids = "aids"  # 艾滋病危险人员
    youth = "youth"  # 重点青少年
    petition = "petition"  # 信访重点人员


class Risk(StrEnum):
    green = "green"
    yellow = "yellow"
    red = "red"


class KeyPerson(Timestamps, Base):
    """A resident under care and control of one kind; kind-specific fields live in `details`.
    `visit_due_on` is the next visit the plan asks for (from the kind and risk's interval)."""

    __tablename__ = "key_persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[KeyPersonKind] = mapped_column(str_enum(KeyPersonKind))
    risk: Mapped[Risk] = mapped_column(str_enum(Risk), default=Risk.green)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    since: Mapped[date | None] = mapped_column(Date)  # 列管日期
    until: Mapped[date | None] = mapped_column(Date)  # 解除列管 (e.g. the end of community corrections)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str] = mapped_column(String(500), default="")
    last_visit_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    visit_due_on: Mapped[date | None] = mapped_column(Date, index=True)
    area_code: Mapped[str] = mapped_column(String(15), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id", ondelete="SET NULL"), index=True)

    resident: Mapped[Resident] = relationship(lazy="joined")
    helpers: Mapped[list["Helper"]] = relationship(
        back_populates="key_person", cascade="all, delete-orphan", order_by="Helper.id", lazy="selectin")

    __table_args__ = (UniqueConstraint("resident_id", "kind", name="uq_key_persons_resident_kind"),)


class RiskChange(Base):
    """The history of a key person's risk level, with the reason (风险等级调整)."""

    __tablename__ = "key_person_risks"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_person_id: Mapped[int] = mapped_column(ForeignKey("key_persons.id", ondelete="CASCADE"), index=True)
    old: Mapped[Risk | None] = mapped_column(str_enum(Risk, name="old_risk"))
    new: Mapped[Risk] = mapped_column(str_enum(Risk, name="new_risk"))
    reason: Mapped[str] = mapped_column(String(500), default="")
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)


class HelperKind(StrEnum):
    grid_worker = "grid_worker"  # 网格员
    police = "police"  # 民警
    cadre = "cadre"  # 村(社区)干部
    family = "family"  # 家属
    doctor = "doctor"  # 医生 (严重精神障碍)
    social_worker = "social_worker"  # 社工


class Helper(Base):
    """One of a key person's helpers (帮扶责任人): staff with an account, or a name and phone."""

    __tablename__ = "key_person_helpers"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_person_id: Mapped[int] = mapped_column(ForeignKey("key_persons.id", ondelete="CASCADE"), index=True)
    kind: Mapped[HelperKind] = mapped_column(str_enum(HelperKind))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(Sealed(), default="")

    key_person: Mapped[KeyPerson] = relationship(back_populates="helpers")
    staff: Mapped[Staff | None] = relationship(lazy="joined")


class VisitRule(Base):
    """How often a key person of a kind and risk is visited (e.g. red weekly, yellow monthly); an admin
    may change them. Kinds and risks without a row use keyperson.plan's defaults."""

    __tablename__ = "visit_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[KeyPersonKind] = mapped_column(str_enum(KeyPersonKind))
    risk: Mapped[Risk] = mapped_column(str_enum(Risk))
    interval_days: Mapped[int] = mapped_column(Integer)

    __table_args__ = (UniqueConstraint("kind", "risk", name="uq_visit_rules_kind_risk"),)


class CheckInKind(StrEnum):
    sign = "sign"  # 签到
    locate = "locate"  # 定位


class CheckIn(Base):
    """A key person's check-in with position (社区矫正: one location and two sign-ins a day)."""

    __tablename__ = "key_person_checkins"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_person_id: Mapped[int] = mapped_column(ForeignKey("key_persons.id", ondelete="CASCADE"))
    kind: Mapped[CheckInKind] = mapped_column(str_enum(CheckInKind))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(200), default="")

    __table_args__ = (Index("ix_key_person_checkins_person_at", "key_person_id", "at"),)


class LeaveState(StrEnum):
    pending = "pending"  # 待审批
    approved = "approved"  # 已批准 (away)
    rejected = "rejected"  # 未批准
    returned = "returned"  # 已销假
    overdue = "overdue"  # 逾期未归 (set by the sweep)


class LeaveRequest(Timestamps, Base):
    """A key person's request to leave the area (请假外出), approved, and closed on return (销假)."""

    __tablename__ = "key_person_leaves"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_person_id: Mapped[int] = mapped_column(ForeignKey("key_persons.id", ondelete="CASCADE"), index=True)
    destination: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(500))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    state: Mapped[LeaveState] = mapped_column(str_enum(LeaveState), default=LeaveState.pending)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str] = mapped_column(String(500), default="")
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    key_person: Mapped[KeyPerson] = relationship(lazy="joined")


class WarningKind(StrEnum):
    visit_overdue = "visit_overdue"  # 走访逾期
    checkin_missed = "checkin_missed"  # 漏签到 / 漏定位
    leave_overdue = "leave_overdue"  # 请假逾期未归
    risk_raised = "risk_raised"  # 风险等级升为红色


class CareWarning(Base):
    """A warning about a key person (预警提醒) for the grid chief and the town centre; raised once per
    (person, kind, day it concerns) and cleared when the cause is gone."""

    __tablename__ = "care_warnings"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_person_id: Mapped[int] = mapped_column(ForeignKey("key_persons.id", ondelete="CASCADE"), index=True)
    kind: Mapped[WarningKind] = mapped_column(str_enum(WarningKind))
    concerns_on: Mapped[date] = mapped_column(Date)
    message: Mapped[str] = mapped_column(String(300))
    area_code: Mapped[str] = mapped_column(String(15), index=True)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)

    key_person: Mapped[KeyPerson] = relationship(lazy="joined")

    __table_args__ = (UniqueConstraint("key_person_id", "kind", "concerns_on", name="uq_care_warnings_once"),)


class VisitKind(StrEnum):
    visit = "visit"  # 走访 (a key person, a household)
    patrol = "patrol"  # 巡查
    door_knock = "door_knock"  # 敲门行动


class Visit(Base):
    """A grid worker's visit or patrol (走访 / 巡查): when, where (position trail), what was seen; a
    problem found becomes an appeal in the closed loop (`work_order_id`)."""

    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[VisitKind] = mapped_column(str_enum(VisitKind))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="RESTRICT"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    key_person_id: Mapped[int | None] = mapped_column(ForeignKey("key_persons.id", ondelete="SET NULL"), index=True)
    house_id: Mapped[int | None] = mapped_column(ForeignKey("houses.id", ondelete="SET NULL"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"), index=True)
    # [[lon, lat, iso time], …] as the phone reported them
    trail: Mapped[list[Any]] = mapped_column(JSON, default=list)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    seen: Mapped[str] = mapped_column(Text, default="")  # 走访情况 / 巡查情况
    found_problem: Mapped[bool] = mapped_column(Boolean, default=False)
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id", ondelete="SET NULL"))
    area_code: Mapped[str] = mapped_column(String(15), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id", ondelete="SET NULL"), index=True)
    client_key: Mapped[str | None] = mapped_column(String(64), unique=True)  # a retried submission's key

    staff: Mapped[Staff] = relationship(lazy="joined")
    house: Mapped[House | None] = relationship(lazy="joined")


class Campaign(Timestamps, Base):
    """A door-knocking campaign (敲门行动) over a region: every household in it visited once."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(500), default="")
