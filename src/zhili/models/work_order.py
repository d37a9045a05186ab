from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy import text as sql
from sqlalchemy.orm import Mapped, mapped_column, relationship

from zhili.db import Base
from zhili.kit.time import now
from zhili.models.base import Timestamps, UTCDateTime, str_enum
from zhili.models.category import Category, Urgency
from zhili.models.jurisdiction import Department, Grid, Region


class Channel(StrEnum):
    hotline = "hotline"  # 12345 热线
    web = "web"  # 网站 / 公众表单
    mobile = "mobile"  # 移动端 / 小程序
    open311 = "open311"  # 外部系统 (Open311)
    grid = "grid"  # 网格员巡查上报
    sensor = "sensor"  # 感知设备预警
    referral = "referral"  # 上级转办
    social = "social"  # 网络问政 / 微博 / 留言板


class OrderStatus(StrEnum):
    """The statuses of DESIGN.md's closed loop; work_order.workflow holds the moves between them."""

    registered = "registered"
    dispatched = "dispatched"
    accepted = "accepted"
    returned = "returned"
    suspended = "suspended"
    handled = "handled"
    verified = "verified"
    closed = "closed"
    cancelled = "cancelled"  # invalid, or merged into another order


# The statuses of an order still in the loop, as SQL for partial indexes (workflow.OPEN is the rule).
OPEN_SQL = ", ".join(f"'{s}'" for s in OrderStatus if s not in {OrderStatus.closed, OrderStatus.cancelled})


class WorkOrder(Timestamps, Base):
    """The tracked unit of work (工单), made from one or more appeals. `version` is bumped by every
    change: a write that read an older version fails instead of overwriting (optimistic locking)."""

    __tablename__ = "work_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[OrderStatus] = mapped_column(str_enum(OrderStatus), default=OrderStatus.registered, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    urgency: Mapped[Urgency] = mapped_column(str_enum(Urgency), default=Urgency.normal)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="RESTRICT"), index=True)
    # The command centre whose desk the order is on; escalation moves it up. Scoping reads `region_code`.
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id", ondelete="RESTRICT"), index=True)
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    # Where the matter is: the appeal's community (and grid), for the map and the grid's own list.
    place_code: Mapped[str] = mapped_column(String(12), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id", ondelete="SET NULL"), index=True)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    suggested_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"))
    # Workflow flags (see work_order.workflow.OrderState)
    extension_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    awaiting_review: Mapped[bool] = mapped_column(Boolean, default=False)
    grid_report: Mapped[bool] = mapped_column(Boolean, default=False)
    rework_count: Mapped[int] = mapped_column(Integer, default=0)
    rating: Mapped[int | None] = mapped_column(Integer)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id", ondelete="SET NULL"))
    # Deadlines: stored once from the working calendar, indexed for the sweep. The running one is `due_at`.
    stage: Mapped[str | None] = mapped_column(String(10))  # sign / handle / verify / callback, or None
    stage_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    handle_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    clock_left_seconds: Mapped[float | None] = mapped_column(Float)  # handling time left while suspended
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # set by the sweep when first overdue
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # set by the sweep at the yellow share
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))

    category: Mapped[Category | None] = relationship(lazy="joined")
    region: Mapped[Region] = relationship(lazy="joined")
    grid: Mapped[Grid | None] = relationship(lazy="joined")
    suggested_department: Mapped[Department | None] = relationship(lazy="joined")
    assignments: Mapped[list["Assignment"]] = relationship(
        back_populates="work_order", lazy="selectin", order_by="Assignment.id", cascade="all, delete-orphan"
    )
    appeals: Mapped[list["Appeal"]] = relationship(back_populates="work_order", lazy="selectin",
                                                   order_by="Appeal.id")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_work_orders_open_due", "status", "due_at"),
        # The command map and the ledger read whole months of a county's orders: on PostgreSQL these
        # covering indexes answer its counts from the index alone (the codes are LIKE-prefix filtered).
        Index("ix_work_orders_created_cover", "created_at",
              postgresql_include=["place_code", "region_code", "category_id"]),
        Index("ix_work_orders_closed_cover", "closed_at",
              postgresql_include=["status", "rating", "place_code", "region_code"]),
        Index("ix_work_orders_open_place", "place_code",
              postgresql_ops={"place_code": "text_pattern_ops"},
              postgresql_include=["region_code", "grid_id", "due_at", "overdue_at", "warned_at", "lon", "lat"],
              postgresql_where=sql(f"status IN ({OPEN_SQL})"), sqlite_where=sql(f"status IN ({OPEN_SQL})")),
    )


class Appeal(Timestamps, Base):
    """What someone reported through one channel (诉求). Merged duplicates stay linked to the order."""

    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(primary_key=True)
    tracking_code: Mapped[str] = mapped_column(String(16), unique=True)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel))
    caller_name: Mapped[str] = mapped_column(String(50), default="")
    caller_phone: Mapped[str] = mapped_column(String(20), default="", index=True)
    caller_id_number: Mapped[str] = mapped_column(String(18), default="")  # 身份证号, when the matter needs it
    # The caller asked the departments not to see who they are; the phone stays for the callback.
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str] = mapped_column(Text)
    address: Mapped[str] = mapped_column(String(200), default="")
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    region_code: Mapped[str] = mapped_column(String(12), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="SET NULL"))
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    external_id: Mapped[str] = mapped_column(String(100), default="", index=True)  # the outside system's own id
    # The outside system (API key) that filed it, and what it sent besides the text: the Open311 service
    # definition's attribute values, and a link to its own photo.
    source_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"), index=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    media_url: Mapped[str] = mapped_column(String(500), default="")

    work_order: Mapped[WorkOrder] = relationship(back_populates="appeals")

    # The map's density layer: a window of appeals' positions, read from the index on PostgreSQL.
    __table_args__ = (Index("ix_appeals_created_cover", "created_at",
                            postgresql_include=["lon", "lat", "work_order_id"]),)


class AssignmentRole(StrEnum):
    lead = "lead"  # 主办
    assist = "assist"  # 协办


class AssignmentState(StrEnum):
    pending = "pending"  # dispatched, not signed
    signed = "signed"
    returned = "returned"
    done = "done"
    withdrawn = "withdrawn"  # recalled, or replaced by a re-dispatch


class Assignment(Base):
    """One department's part of an order (派遣记录)."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="RESTRICT"), index=True)
    role: Mapped[AssignmentRole] = mapped_column(str_enum(AssignmentRole))
    state: Mapped[AssignmentState] = mapped_column(str_enum(AssignmentState), default=AssignmentState.pending)
    dispatched_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))

    work_order: Mapped[WorkOrder] = relationship(back_populates="assignments")
    department: Mapped[Department] = relationship(lazy="joined")


class OrderEvent(Base):
    """Append-only (工单流转记录): the audit trail, the timeline, the source of every KPI."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(100))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(30), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    rework: Mapped[bool] = mapped_column(Boolean, default=False)
    # Shown on the citizen's tracking page (without staff names).
    public: Mapped[bool] = mapped_column(Boolean, default=True)


class OutboxMessage(Base):
    """Written in the same transaction as its event; a sender delivers it after commit. A crash between
    commit and send loses nothing: the row is still unsent."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("order_events.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # inapp / sms / live
    recipient: Mapped[str] = mapped_column(String(100), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)

    event: Mapped[OrderEvent] = relationship()


class IntakeState(StrEnum):
    queued = "queued"  # acknowledged, not yet filed
    filed = "filed"  # its work order exists
    rejected = "rejected"  # could not be filed (the category was retired meanwhile, ...): `problems` says why


class IntakeItem(Base):
    """An appeal acknowledged on the queued path (受理队列, zhili.intake): stored durably with one insert,
    committed together with other requests' (group commit), and filed as a work order by the intake
    worker moments later. Its `token` becomes the appeal's tracking code."""

    __tablename__ = "intake_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(16), unique=True)
    state: Mapped[IntakeState] = mapped_column(str_enum(IntakeState), default=IntakeState.queued)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    # Who filed it: an outside system's key, or a staff account (the native API).
    source_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id", ondelete="SET NULL"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)  # the checked AppealCreate
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id", ondelete="SET NULL"))
    problems: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    filed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_intake_items_state_id", "state", "id"),)
