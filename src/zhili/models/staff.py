from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from zhili.db import Base
from zhili.models.base import Timestamps, UTCDateTime, str_enum
from zhili.models.jurisdiction import Department, GridMember, Region


class Role(StrEnum):
    citizen = "citizen"  # 群众
    hotline_agent = "hotline_agent"  # 12345 坐席
    dispatcher = "dispatcher"  # 指挥中心派遣员
    command_leader = "command_leader"  # 指挥长/值班长
    department_handler = "department_handler"  # 职能部门处置员
    grid_worker = "grid_worker"  # 网格员
    grid_chief = "grid_chief"  # 网格长
    mediator = "mediator"  # 调解员
    viewer = "viewer"  # 领导
    admin = "admin"  # 系统管理员


class Staff(Timestamps, Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True)
    display_name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id", ondelete="RESTRICT"), index=True)
    department_id: Mapped[int | None] = mapped_column(
        ForeignKey("departments.id", ondelete="RESTRICT"), index=True
    )
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Bumped on password change or deactivation: every session and token issued before is void.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    locale: Mapped[str] = mapped_column(String(10), default="zh-CN")

    region: Mapped[Region] = relationship(lazy="joined")
    department: Mapped[Department | None] = relationship(lazy="joined")
    # The grids this account serves as chief or worker (GridMember is the one source of that).
    grid_memberships: Mapped[list[GridMember]] = relationship(
        lazy="selectin", order_by=GridMember.id, viewonly=True
    )
    role_rows: Mapped[list["StaffRole"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="StaffRole.role"
    )

    @property
    def roles(self) -> set[Role]:
        return {r.role for r in self.role_rows}

    @property
    def grid_code(self) -> str | None:
        return self.grid_memberships[0].grid.code if self.grid_memberships else None


class StaffRole(Base):
    __tablename__ = "staff_roles"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[Role] = mapped_column(str_enum(Role, 30), primary_key=True)
