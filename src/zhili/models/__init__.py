"""All models, imported here so that Alembic and the app see one metadata."""

from zhili.models.category import (
    AttributeType,
    Category,
    CategoryDeadline,
    CategoryKind,
    ResponsibilityRule,
    RuleAssist,
    ServiceAttribute,
    Stage,
    Urgency,
)
from zhili.models.jurisdiction import Department, Grid, GridDuty, GridKind, GridMember, Region
from zhili.models.security import ApiKey, AuditLog, IdempotencyRecord, RateCounter
from zhili.models.staff import Role, Staff, StaffRole
from zhili.models.support import Attachment, CalendarOverride, ImportJob, Notification
from zhili.models.work_order import (
    Appeal,
    Assignment,
    AssignmentRole,
    AssignmentState,
    Channel,
    OrderEvent,
    OrderStatus,
    OutboxMessage,
    WorkOrder,
)

__all__ = [
    "AttributeType",
    "ImportJob",
    "RateCounter",
    "ServiceAttribute",
    "Attachment",
    "CalendarOverride",
    "Notification",
    "Appeal",
    "Assignment",
    "AssignmentRole",
    "AssignmentState",
    "Channel",
    "OrderEvent",
    "OrderStatus",
    "OutboxMessage",
    "WorkOrder",
    "Category",
    "CategoryDeadline",
    "CategoryKind",
    "ResponsibilityRule",
    "RuleAssist",
    "Stage",
    "Urgency",
    "ApiKey",
    "AuditLog",
    "Department",
    "Grid",
    "GridDuty",
    "GridKind",
    "GridMember",
    "IdempotencyRecord",
    "Region",
    "Role",
    "Staff",
    "StaffRole",
]
