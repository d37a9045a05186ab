from enum import StrEnum

from sqlalchemy import Boolean, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from zhili.db import Base
from zhili.kit.codes import RegionLevel
from zhili.models.base import Timestamps, str_enum


class Region(Timestamps, Base):
    """A node of the division tree. `code` is the 12-digit statistical code; its significant prefix
    (4/6/9/12 digits by level) is shared by the whole subtree, which is how scoping works."""

    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[RegionLevel] = mapped_column(str_enum(RegionLevel))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id", ondelete="RESTRICT"), index=True)
    boundary: Mapped[str | None] = mapped_column(Text)  # GeoJSON (WGS-84)
    min_lon: Mapped[float | None] = mapped_column(Float)
    min_lat: Mapped[float | None] = mapped_column(Float)
    max_lon: Mapped[float | None] = mapped_column(Float)
    max_lat: Mapped[float | None] = mapped_column(Float)

    # Lazy by primary key: a parent already in the session (load_regions) costs no query.
    parent: Mapped["Region | None"] = relationship(remote_side="Region.id")


class GridKind(StrEnum):
    basic = "basic"  # 基础网格
    special = "special"  # 专属网格


class Grid(Timestamps, Base):
    """A leaf polygon under a community: 15-digit code = community code + 3-digit sequence."""

    __tablename__ = "grids"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(15), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[GridKind] = mapped_column(str_enum(GridKind), default=GridKind.basic)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id", ondelete="RESTRICT"), index=True)
    boundary: Mapped[str] = mapped_column(Text)  # GeoJSON (WGS-84)
    min_lon: Mapped[float] = mapped_column(Float)
    min_lat: Mapped[float] = mapped_column(Float)
    max_lon: Mapped[float] = mapped_column(Float)
    max_lat: Mapped[float] = mapped_column(Float)
    area_m2: Mapped[float] = mapped_column(Float)
    note: Mapped[str] = mapped_column(String(500), default="")

    region: Mapped[Region] = relationship(lazy="joined")
    members: Mapped[list["GridMember"]] = relationship(
        back_populates="grid", cascade="all, delete-orphan", order_by="GridMember.id", lazy="selectin"
    )

    __table_args__ = (Index("ix_grids_bbox", "min_lon", "max_lon", "min_lat", "max_lat"),)


class GridDuty(StrEnum):
    chief = "chief"  # 网格长
    worker = "worker"  # 网格员
    volunteer = "volunteer"  # 网格志愿者 (often without an account)


class GridMember(Base):
    """Who serves a grid. Chiefs and workers are staff accounts; volunteers may be just a name and phone."""

    __tablename__ = "grid_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id", ondelete="CASCADE"), index=True)
    duty: Mapped[GridDuty] = mapped_column(str_enum(GridDuty))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20), default="")

    grid: Mapped[Grid] = relationship(back_populates="members", lazy="joined")

    __table_args__ = (UniqueConstraint("grid_id", "staff_id", name="uq_grid_members_grid_staff"),)


class DepartmentKind(StrEnum):
    government = "government"  # 党政机关 / 职能部门
    agency = "agency"  # 派出机构（派出所、中队…）
    enterprise = "enterprise"  # 公共服务企业（供电、燃气、水务…）
    command = "command"  # 指挥中心 / 综治中心


class Department(Timestamps, Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    short_name: Mapped[str] = mapped_column(String(30), default="")
    kind: Mapped[DepartmentKind] = mapped_column(str_enum(DepartmentKind), default=DepartmentKind.government)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id", ondelete="RESTRICT"), index=True)
    phone: Mapped[str] = mapped_column(String(20), default="")
    duties: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    region: Mapped[Region] = relationship(lazy="joined")

    __table_args__ = (UniqueConstraint("region_id", "name", name="uq_departments_region_name"),)
