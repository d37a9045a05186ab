from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from zhili.db import Base
from zhili.kit.time import now
from zhili.models.base import UTCDateTime, str_enum


class ExampleSource(StrEnum):
    seed = "seed"  # a labelled message the deployment started from (the demo: teddy2020c, mapped)
    correction = "correction"  # a dispatcher chose another category than the classifier's first proposal
    confirmed = "confirmed"  # a dispatcher dispatched under the classifier's first proposal


class ClassifierExample(Base):
    """A message with the category leaf it belongs under (训练样本): what the next retrain learns from."""

    __tablename__ = "classifier_examples"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    category_code: Mapped[str] = mapped_column(String(30), index=True)
    source: Mapped[ExampleSource] = mapped_column(str_enum(ExampleSource))
    # Seeds from a published corpus are already segmented (space-separated words).
    segmented: Mapped[bool] = mapped_column(Boolean, default=False)
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)


class ClassifierModel(Base):
    """One trained version of the appeal classifier (分类模型). Exactly one is active; every process
    serves the active one and swaps to a newer one when it appears, without a restart."""

    __tablename__ = "classifier_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    trained_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    training_seconds: Mapped[float] = mapped_column(Float)
    examples: Mapped[int] = mapped_column(Integer)  # how many it learnt from
    corrections: Mapped[int] = mapped_column(Integer, default=0)  # of which dispatcher corrections
    last_example_id: Mapped[int] = mapped_column(Integer)  # the newest example it saw
    labels: Mapped[list[str]] = mapped_column(JSON)
    data: Mapped[bytes] = mapped_column(LargeBinary)  # zhili.dispatch.classifier.TextModel.to_bytes()


class Proposal(Base):
    """What the classifier proposed for one order (智能分类建议), and what the dispatcher decided.

    `choices` are the top three, best first: [{"code", "name", "confidence"}]. `decided_code` is the
    category the order was dispatched under; `accepted` whether it was the first choice."""

    __tablename__ = "dispatch_proposals"

    work_order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), primary_key=True)
    model_version: Mapped[int] = mapped_column(Integer)
    choices: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    top_code: Mapped[str] = mapped_column(String(30), index=True)
    confidence: Mapped[float] = mapped_column(Float)
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)  # dispatched without a dispatcher
    # Where it happened, as read from the text: {"text", "kind", "name", "code", "located"} or {}.
    place: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    decided_code: Mapped[str | None] = mapped_column(String(30))
    accepted: Mapped[bool | None] = mapped_column(Boolean)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)


class HotIssue(Base):
    """A hot issue (热点问题) the command centre turned into a supervised task: the cluster as it was
    when the task was made, and the task's order."""

    __tablename__ = "hot_issues"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    place: Mapped[str] = mapped_column(String(100), default="")
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    appeal_ids: Mapped[list[int]] = mapped_column(JSON)
    messages: Mapped[int] = mapped_column(Integer)
    callers: Mapped[int] = mapped_column(Integer)
    heat: Mapped[float] = mapped_column(Float)
    region_code: Mapped[str] = mapped_column(String(12), index=True)  # the command centre that made it
    task_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
