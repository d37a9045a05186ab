from datetime import datetime

from pydantic import BaseModel, Field

from zhili.models import IntakeItem, IntakeState


class IntakeStatus(BaseModel):
    """An appeal on the queued path: queued, filed (its work order named) or rejected (with why)."""

    tracking_code: str = Field(description="the caller's tracking code, and the appeal's once filed")
    state: IntakeState
    received_at: datetime
    filed_at: datetime | None = None
    work_order_id: int | None = None
    work_order_code: str | None = None
    problems: list[dict[str, str]] = Field(default_factory=list)
    href: str = Field(description="where to ask again")

    @classmethod
    def of(cls, item: IntakeItem, order_code: str | None) -> "IntakeStatus":
        return cls(tracking_code=item.token, state=item.state, received_at=item.received_at, filed_at=item.filed_at,
                   work_order_id=item.work_order_id, work_order_code=order_code, problems=item.problems or [],
                   href=f"/api/v1/intake/{item.token}")
