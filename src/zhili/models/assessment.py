"""The assessment ledger's storage (考评): facts projected from the event log, the composite score's
weights, the monthly snapshots that freeze a published ranking; and the grid workers' last positions
for the command map."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from zhili.db import Base
from zhili.kit.time import now
from zhili.models.base import UTCDateTime


class OrderFact(Base):
    """One order as the KPIs see it, derived from its events alone (zhili.assessment.facts): never
    edited, re-derived whenever the order gets a new event. `last_event_id` is the newest event
    it reflects."""

    __tablename__ = "order_facts"

    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(Integer)
    place_code: Mapped[str] = mapped_column(String(12), index=True)
    region_code: Mapped[str] = mapped_column(String(12))
    grid_id: Mapped[int | None] = mapped_column(Integer, index=True)
    category_id: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(20))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    registrar_id: Mapped[int | None] = mapped_column(Integer)  # who registered it (a hotline agent…)
    lead_department_id: Mapped[int | None] = mapped_column(Integer, index=True)  # the lead that handled it
    dispatcher_id: Mapped[int | None] = mapped_column(Integer)  # who made the dispatch that stuck
    handler_id: Mapped[int | None] = mapped_column(Integer)  # who reported it handled
    first_dispatch_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    handle_due: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the deadline in force when handled
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reworks: Mapped[int] = mapped_column(Integer, default=0)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)  # 作废 as invalid
    merged: Mapped[bool] = mapped_column(Boolean, default=False)  # cancelled into another order
    rating: Mapped[int | None] = mapped_column(Integer)  # the last callback's
    answered: Mapped[bool] = mapped_column(Boolean, default=False)  # answered on the call (首呼解决)
    repeat: Mapped[bool] = mapped_column(Boolean, default=False)  # the caller's earlier appeal was open/recent

    __table_args__ = (Index("ix_order_facts_dept_registered", "lead_department_id", "registered_at"),)


class DispatchFact(Base):
    """One dispatch of an order to a lead department, and what became of it (签收, 退回/改派)."""

    __tablename__ = "dispatch_facts"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int] = mapped_column(Integer, index=True)
    place_code: Mapped[str] = mapped_column(String(12))
    region_code: Mapped[str] = mapped_column(String(12))
    dispatcher_id: Mapped[int | None] = mapped_column(Integer)
    dispatched_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    sign_due: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signer_id: Mapped[int | None] = mapped_column(Integer)
    redirected: Mapped[bool] = mapped_column(Boolean, default=False)  # returned and accepted, or recalled
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)


class ProjectionMark(Base):
    """How far a projection has read the event log (the newest event time it has seen)."""

    __tablename__ = "projection_marks"

    name: Mapped[str] = mapped_column(String(30), primary_key=True)
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now, onupdate=now)


class AssessmentWeights(Base):
    """The composite score's weights, set by an admin (one row per deployment)."""

    __tablename__ = "assessment_weights"

    id: Mapped[int] = mapped_column(primary_key=True)
    weights: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    updated_by: Mapped[str] = mapped_column(String(100), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now, onupdate=now)


class AssessmentSnapshot(Base):
    """A closed month (考评月报): its figures for every dimension as published, never changed afterwards."""

    __tablename__ = "assessment_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(7), unique=True)  # "2026-10"
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    closed_by: Mapped[str] = mapped_column(String(100))
    weights: Mapped[dict[str, float]] = mapped_column(JSON)
    rows: Mapped[dict[str, Any]] = mapped_column(JSON)  # dimension -> list of rows with their counts


class WorkerPosition(Base):
    """A grid worker's last known position (the patrol page sends it), for the command map."""

    __tablename__ = "worker_positions"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now, index=True)
