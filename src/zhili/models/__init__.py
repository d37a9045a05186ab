"""All models, imported here so that Alembic and the app see one metadata."""

from zhili.models.jurisdiction import Department, Grid, GridDuty, GridKind, GridMember, Region
from zhili.models.security import ApiKey, AuditLog, IdempotencyRecord
from zhili.models.staff import Role, Staff, StaffRole

__all__ = [
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
