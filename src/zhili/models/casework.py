"""Disputes (矛盾纠纷, GB/T 31000-2015 fields) and petitions (信访, 信访工作条例 2022), each with its own
append-only log (`case_events`)."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from zhili.db import Base
from zhili.kit.protect import Sealed
from zhili.kit.time import now
from zhili.models.base import Timestamps, UTCDateTime, str_enum
from zhili.models.staff import Staff


class DisputeScale(StrEnum):
    general = "general"  # 一般
    large = "large"  # 较大
    major = "major"  # 重大


class DisputeCategory(StrEnum):
    family = "family"  # 婚姻家庭
    neighbour = "neighbour"  # 邻里纠纷
    land = "land"  # 山林土地 / 宅基地
    property = "property"  # 物业纠纷
    contract = "contract"  # 合同纠纷
    labour = "labour"  # 劳动争议
    damages = "damages"  # 损害赔偿
    demolition = "demolition"  # 征地拆迁
    environment = "environment"  # 环境污染
    medical = "medical"  # 医疗纠纷
    business = "business"  # 生产经营
    other = "other"  # 其他


class MediationLevel(StrEnum):
    """The three levels a dispute climbs (村 → 乡镇 → 县 "一站式" centre)."""

    village = "village"  # 村(居)调委会
    town = "town"  # 乡镇(街道)综治中心
    county = "county"  # 县级矛盾纠纷调处化解中心


class DisputeStatus(StrEnum):
    registered = "registered"  # 已登记
    mediating = "mediating"  # 调解中
    resolved = "resolved"  # 调解成功 (协议达成)
    failed = "failed"  # 调解不成 (引导诉讼/仲裁)
    closed = "closed"  # 已回访结案


class Dispute(Timestamps, Base):
    """A dispute case (矛盾纠纷): GB/T 31000's 名称, 发生日期, 地点, 规模, 类别, 涉及人数, 当事人 (parties),
    化解时限 (`deadline`), 化解方式 (`method`), 化解组织 (`body`), 是否成功, 化解情况 (`outcome`), 考评."""

    __tablename__ = "disputes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    occurred_on: Mapped[date] = mapped_column(Date)
    place: Mapped[str] = mapped_column(String(200))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    scale: Mapped[DisputeScale] = mapped_column(str_enum(DisputeScale), default=DisputeScale.general)
    category: Mapped[DisputeCategory] = mapped_column(str_enum(DisputeCategory))
    people_count: Mapped[int] = mapped_column(Integer, default=2)
    summary: Mapped[str] = mapped_column(Text, default="")  # 纠纷简要情况
    deadline: Mapped[date] = mapped_column(Date, index=True)
    method: Mapped[str] = mapped_column(String(30), default="")  # 人民调解 / 行政调解 / 司法调解 / 诉讼 …
    level: Mapped[MediationLevel] = mapped_column(str_enum(MediationLevel), default=MediationLevel.village)
    body: Mapped[str] = mapped_column(String(100), default="")  # 化解组织: 幸福村调委会, 派出所调解室 …
    body_region_code: Mapped[str] = mapped_column(String(12), index=True)  # whose desk the case is on
    mediator_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"), index=True)
    status: Mapped[DisputeStatus] = mapped_column(str_enum(DisputeStatus), default=DisputeStatus.registered)
    success: Mapped[bool | None] = mapped_column(Boolean)
    outcome: Mapped[str] = mapped_column(Text, default="")  # 化解情况
    agreement: Mapped[str] = mapped_column(Text, default="")  # 调解协议
    assessment: Mapped[str] = mapped_column(String(200), default="")  # 考评
    criminal_risk: Mapped[bool] = mapped_column(Boolean, default=False)  # 民转刑 risk, flagged to the police
    criminal_risk_note: Mapped[str] = mapped_column(String(500), default="")
    follow_up_on: Mapped[date | None] = mapped_column(Date)  # 回访
    followed_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    area_code: Mapped[str] = mapped_column(String(15), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id", ondelete="SET NULL"), index=True)
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    client_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    mediator: Mapped[Staff | None] = relationship(foreign_keys=[mediator_id], lazy="joined")
    parties: Mapped[list["DisputeParty"]] = relationship(
        back_populates="dispute", cascade="all, delete-orphan", order_by="DisputeParty.id", lazy="selectin")
    sessions: Mapped[list["MediationSession"]] = relationship(
        cascade="all, delete-orphan", order_by="MediationSession.at", lazy="selectin")


class DisputeParty(Base):
    """A party to a dispute (当事人); linked to the resident record where one is known."""

    __tablename__ = "dispute_parties"

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("disputes.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    id_number: Mapped[str] = mapped_column(Sealed(), default="")
    id_number_index: Mapped[str] = mapped_column(String(40), default="", index=True)
    phone: Mapped[str] = mapped_column(Sealed(), default="")
    side: Mapped[str] = mapped_column(String(20), default="")  # 申请方 / 被申请方
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"), index=True)

    dispute: Mapped[Dispute] = relationship(back_populates="parties")


class MediationSession(Base):
    """One mediation session (调解记录)."""

    __tablename__ = "mediation_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("disputes.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    mediator_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    mediator_name: Mapped[str] = mapped_column(String(50), default="")
    attendees: Mapped[str] = mapped_column(String(300), default="")
    record: Mapped[str] = mapped_column(Text)


class PetitionForm(StrEnum):
    letter = "letter"  # 来信
    visit = "visit"  # 来访
    online = "online"  # 网上信访


class PetitionStatus(StrEnum):
    received = "received"  # 已登记, acceptance to be decided within 15 days
    not_accepted = "not_accepted"  # 不予受理 (with the reason and the channel to use instead)
    accepted = "accepted"  # 已受理, handled within 60 days
    answered = "answered"  # 已出具处理意见
    closed = "closed"  # 已办结 (satisfied, or review exhausted)


class Petition(Timestamps, Base):
    """A petition case (信访件): accept or refuse within 15 days of receipt, handle within 60 of
    acceptance, extendable once by up to 30 with approval; one responsible leader (包案领导)."""

    __tablename__ = "petitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    form: Mapped[PetitionForm] = mapped_column(str_enum(PetitionForm))
    petitioner_name: Mapped[str] = mapped_column(String(50))
    id_number: Mapped[str] = mapped_column(Sealed(), default="")
    id_number_index: Mapped[str] = mapped_column(String(40), default="", index=True)
    phone: Mapped[str] = mapped_column(Sealed(), default="")
    phone_index: Mapped[str] = mapped_column(String(40), default="", index=True)
    people_count: Mapped[int] = mapped_column(Integer, default=1)  # 5 or more: 集体访
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    content: Mapped[str] = mapped_column(Text)
    received_on: Mapped[date] = mapped_column(Date)
    status: Mapped[PetitionStatus] = mapped_column(str_enum(PetitionStatus), default=PetitionStatus.received)
    accept_due_on: Mapped[date] = mapped_column(Date, index=True)
    accepted_on: Mapped[date | None] = mapped_column(Date)
    handle_due_on: Mapped[date | None] = mapped_column(Date, index=True)
    extended_days: Mapped[int] = mapped_column(Integer, default=0)
    extension_reason: Mapped[str] = mapped_column(String(500), default="")
    extension_approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"))
    reception_day_id: Mapped[int | None] = mapped_column(ForeignKey("reception_days.id", ondelete="SET NULL"))
    decision: Mapped[str] = mapped_column(Text, default="")  # 受理 / 不予受理 reason
    answer: Mapped[str] = mapped_column(Text, default="")  # 处理意见
    answered_on: Mapped[date | None] = mapped_column(Date)
    satisfied: Mapped[bool | None] = mapped_column(Boolean)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    region_code: Mapped[str] = mapped_column(String(12), index=True)  # the office handling it
    area_code: Mapped[str] = mapped_column(String(15), index=True)  # where the matter lies
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    client_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    leader: Mapped[Staff | None] = relationship(foreign_keys=[leader_id], lazy="joined")


class ReceptionDay(Timestamps, Base):
    """A leader's reception day (领导接访日) with the cases scheduled for it."""

    __tablename__ = "reception_days"

    id: Mapped[int] = mapped_column(primary_key=True)
    leader_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="RESTRICT"), index=True)
    on: Mapped[date] = mapped_column(Date, index=True)
    place: Mapped[str] = mapped_column(String(100))
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    note: Mapped[str] = mapped_column(String(500), default="")

    leader: Mapped[Staff] = relationship(lazy="joined")


class CaseEvent(Base):
    """Append-only log of a dispute or petition: who did what when (`case` is dispute / petition)."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case: Mapped[str] = mapped_column(String(10))
    case_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(30))
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    staff_name: Mapped[str] = mapped_column(String(50), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    __table_args__ = (Index("ix_case_events_case", "case", "case_id", "id"),)
