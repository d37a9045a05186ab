"""Attachments, in-app notifications and working-calendar overrides."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from zhili.db import Base
from zhili.kit.time import now
from zhili.models.base import UTCDateTime


class Attachment(Base):
    """An uploaded photo or document. Uploaded first (answering its key), then referenced by an appeal or
    an event; until then only its uploader may read it. Files live under the upload folder by `key`."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    appeal_id: Mapped[int | None] = mapped_column(ForeignKey("appeals.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("order_events.id", ondelete="CASCADE"), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)


class Notification(Base):
    """An in-app message to one account or to everyone of a department, made from an outbox row."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"), index=True)
    region_code: Mapped[str] = mapped_column(String(12), default="", index=True)  # a command desk, if to one
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id", ondelete="SET NULL"), unique=True)
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(1000), default="")
    url: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now, index=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CalendarOverride(Base):
    """A local decision about one day (a working day made a holiday, or the reverse), for a region and
    everything below it; the nearest region's decision wins."""

    __tablename__ = "calendar_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(200), default="")

    __table_args__ = (UniqueConstraint("region_id", "day", name="uq_calendar_overrides_region_day"),)


class ImportJob(Base):
    """One bulk import (historical appeals, Boston 311 …) started from the admin page or the CLI:
    its progress for the page to poll, and its row-by-row report. All-or-nothing: `imported_rows` is
    0 unless the job is done."""

    __tablename__ = "import_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))  # appeals / boston311
    filename: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(String(500), default="")  # the uploaded file while it is processed
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)  # queued/running/done/rejected/failed
    region_code: Mapped[str] = mapped_column(String(12), default="", index=True)  # whose import it is (scope)
    total_rows: Mapped[int | None] = mapped_column(Integer)
    processed_rows: Mapped[int] = mapped_column(Integer, default=0)
    imported_rows: Mapped[int] = mapped_column(Integer, default=0)
    bad_rows: Mapped[int] = mapped_column(Integer, default=0)
    report: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # the first problems, row by row
    message: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
