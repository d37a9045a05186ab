"""Base data of the grids (一标三实, GB/T 31000-2015): standard addresses, houses, residents, units and
places, each held by a grid. `area_code` is the grid's 15-digit code, or the community's 12-digit code
where no grid holds the row: scoping is a prefix match on it, as everywhere, and a grid worker's
scope is the set of its grids' codes (zhili.access)."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from zhili.db import Base
from zhili.kit.protect import Sealed
from zhili.kit.time import now
from zhili.models.base import Timestamps, UTCDateTime, str_enum
from zhili.models.jurisdiction import Grid


class AddressLevel(StrEnum):
    road = "road"  # 街路巷 / 自然村组
    building = "building"  # 楼栋 / 门牌
    unit = "unit"  # 单元
    room = "room"  # 户室


class Address(Timestamps, Base):
    """A standard address element (标准地址): road or village group → building → unit → room."""

    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("addresses.id", ondelete="RESTRICT"), index=True)
    level: Mapped[AddressLevel] = mapped_column(str_enum(AddressLevel))
    name: Mapped[str] = mapped_column(String(60))  # this element only: 幸福路, 3号楼, 2单元, 301室
    full_name: Mapped[str] = mapped_column(String(300), index=True)  # 幸福路 3号楼 2单元 301室
    area_code: Mapped[str] = mapped_column(String(15), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id", ondelete="SET NULL"), index=True)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)

    parent: Mapped["Address | None"] = relationship(remote_side=[id], lazy="joined", join_depth=1)
    grid: Mapped[Grid | None] = relationship(lazy="joined")

    __table_args__ = (UniqueConstraint("parent_id", "name", name="uq_addresses_parent_name"),)


class HouseUse(StrEnum):
    residential = "residential"  # 住宅
    commercial = "commercial"  # 商业
    office = "office"  # 办公
    industrial = "industrial"  # 厂房仓储
    mixed = "mixed"  # 商住混合
    other = "other"  # 其他


class House(Timestamps, Base):
    """An actual house (实有房屋) at a room- or building-level address; the household unit for visits."""

    __tablename__ = "houses"

    id: Mapped[int] = mapped_column(primary_key=True)
    address_id: Mapped[int] = mapped_column(ForeignKey("addresses.id", ondelete="RESTRICT"), unique=True)
    use: Mapped[HouseUse] = mapped_column(str_enum(HouseUse), default=HouseUse.residential)
    owner_name: Mapped[str] = mapped_column(String(50), default="")
    owner_phone: Mapped[str] = mapped_column(Sealed(), default="")
    owner_phone_index: Mapped[str] = mapped_column(String(40), default="", index=True)
    floor_area_m2: Mapped[float | None] = mapped_column(Float)
    rented: Mapped[bool] = mapped_column(Boolean, default=False)  # 出租屋
    group_rental: Mapped[bool] = mapped_column(Boolean, default=False)  # 群租房
    note: Mapped[str] = mapped_column(String(500), default="")
    area_code: Mapped[str] = mapped_column(String(15), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id", ondelete="SET NULL"), index=True)

    address: Mapped[Address] = relationship(lazy="joined")


class ResidentKind(StrEnum):
    registered = "registered"  # 户籍人口
    floating = "floating"  # 流动人口
    overseas = "overseas"  # 境外人员
    left_behind = "left_behind"  # 留守人员


class Resident(Timestamps, Base):
    """An actual resident (实有人口). The identity number and phone are sealed; their blind indexes
    find a person by exact number. A merged duplicate points at the record it was merged into."""

    __tablename__ = "residents"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), index=True)
    id_number: Mapped[str] = mapped_column(Sealed(), default="")
    id_number_index: Mapped[str] = mapped_column(String(40), default="", index=True)
    gender: Mapped[str] = mapped_column(String(1), default="")  # M / F (from the identity number)
    birth_date: Mapped[date | None] = mapped_column(Date)
    phone: Mapped[str] = mapped_column(Sealed(), default="")
    phone_index: Mapped[str] = mapped_column(String(40), default="", index=True)
    kind: Mapped[ResidentKind] = mapped_column(str_enum(ResidentKind), default=ResidentKind.registered)
    house_id: Mapped[int | None] = mapped_column(ForeignKey("houses.id", ondelete="SET NULL"), index=True)
    household_head: Mapped[bool] = mapped_column(Boolean, default=False)  # 户主
    relation: Mapped[str] = mapped_column(String(20), default="")  # 与户主关系
    ethnicity: Mapped[str] = mapped_column(String(20), default="")
    origin: Mapped[str] = mapped_column(String(100), default="")  # 户籍地 (for floating residents)
    nationality: Mapped[str] = mapped_column(String(40), default="")  # 境外人员
    workplace: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(String(500), default="")
    area_code: Mapped[str] = mapped_column(String(15), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id", ondelete="SET NULL"), index=True)
    moved_out_on: Mapped[date | None] = mapped_column(Date)
    # Indexed: deleting or merging a resident looks up the records merged into it.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"), index=True)

    house: Mapped[House | None] = relationship(lazy="joined")


class UnitKind(StrEnum):
    enterprise = "enterprise"  # 企业
    shop = "shop"  # 个体工商户
    institution = "institution"  # 事业单位
    government = "government"  # 机关
    social_org = "social_org"  # 社会组织
    other = "other"


class Unit(Timestamps, Base):
    """An actual unit or organisation (实有单位 / 社会组织)."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[UnitKind] = mapped_column(str_enum(UnitKind), default=UnitKind.enterprise)
    credit_code: Mapped[str] = mapped_column(String(18), default="", index=True)  # 统一社会信用代码
    legal_person: Mapped[str] = mapped_column(String(50), default="")
    phone: Mapped[str] = mapped_column(Sealed(), default="")
    phone_index: Mapped[str] = mapped_column(String(40), default="", index=True)
    employees: Mapped[int | None] = mapped_column(Integer)
    address_id: Mapped[int | None] = mapped_column(ForeignKey("addresses.id", ondelete="SET NULL"), index=True)
    note: Mapped[str] = mapped_column(String(500), default="")
    area_code: Mapped[str] = mapped_column(String(15), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id", ondelete="SET NULL"), index=True)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"), index=True)

    address: Mapped[Address | None] = relationship(lazy="joined")


class PlaceKind(StrEnum):
    school = "school"  # 学校
    hospital = "hospital"  # 医院
    scenic = "scenic"  # 景区
    water = "water"  # 水域
    market = "market"  # 市场
    hazardous = "hazardous"  # 危化品场所
    venue = "venue"  # 人员密集场所
    other = "other"


class Place(Timestamps, Base):
    """A key place (重点场所) as a point or a polygon (GeoJSON, WGS-84)."""

    __tablename__ = "places"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[PlaceKind] = mapped_column(str_enum(PlaceKind))
    geometry: Mapped[str] = mapped_column(Text)  # GeoJSON Point or Polygon
    lon: Mapped[float] = mapped_column(Float)  # a representative point inside it
    lat: Mapped[float] = mapped_column(Float)
    manager: Mapped[str] = mapped_column(String(50), default="")
    phone: Mapped[str] = mapped_column(Sealed(), default="")
    phone_index: Mapped[str] = mapped_column(String(40), default="", index=True)
    capacity: Mapped[int | None] = mapped_column(Integer)  # people it holds (crowd limits)
    address_id: Mapped[int | None] = mapped_column(ForeignKey("addresses.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(500), default="")
    area_code: Mapped[str] = mapped_column(String(15), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id", ondelete="SET NULL"), index=True)


class ChangeAction(StrEnum):
    create = "create"
    update = "update"
    merge = "merge"  # this record absorbed another (detail names it)
    merged = "merged"  # this record was merged into another
    delete = "delete"


class Change(Base):
    """Append-only history of every base-data record (变更记录): who changed which fields when, with
    the old and new values. Sealed fields are recorded masked, never in the clear."""

    __tablename__ = "base_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(20))  # address / house / resident / unit / place / key_person …
    entity_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[ChangeAction] = mapped_column(str_enum(ChangeAction))
    # {field: [old, new]}
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    staff_name: Mapped[str] = mapped_column(String(50), default="")
    area_code: Mapped[str] = mapped_column(String(15), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    __table_args__ = (Index("ix_base_changes_entity", "entity", "entity_id", "id"),)


class ExportStatus(StrEnum):
    pending = "pending"  # 待审批
    approved = "approved"  # 已批准 (downloadable until expires_at)
    denied = "denied"  # 未批准
    withdrawn = "withdrawn"  # 申请人撤回


class ExportRequest(Base):
    """A request to export personal data unmasked (个人信息导出申请): a staff member states the purpose
    and the list filters, an administrator of the area other than the requester decides, and the
    requester alone downloads the file a limited number of times before it expires. Every step is
    also written to the audit log."""

    __tablename__ = "base_export_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # residents / houses / units / places
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    purpose: Mapped[str] = mapped_column(String(500))
    status: Mapped[ExportStatus] = mapped_column(str_enum(ExportStatus), default=ExportStatus.pending, index=True)
    region_code: Mapped[str] = mapped_column(String(12), index=True)  # the requester's region (scope)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"), index=True)
    requested_by_name: Mapped[str] = mapped_column(String(50), default="")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    decided_by_name: Mapped[str] = mapped_column(String(50), default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str] = mapped_column(String(500), default="")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    downloads: Mapped[int] = mapped_column(Integer, default=0)
    last_downloaded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
