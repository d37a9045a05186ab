"""Volunteers (志愿者) in teams tied to grids, their activities and hours, and household linking (联户:
one representative or volunteer links 5–15 households and logs contacts with them)."""

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from zhili.db import Base
from zhili.kit.protect import Sealed
from zhili.kit.time import now
from zhili.models.base import Timestamps, UTCDateTime
from zhili.models.basedata import House


class VolunteerTeam(Timestamps, Base):
    """A volunteer team (志愿服务队, e.g. 大祥红) over a region or one grid."""

    __tablename__ = "volunteer_teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    area_code: Mapped[str] = mapped_column(String(15), index=True)
    leader_name: Mapped[str] = mapped_column(String(50), default="")
    phone: Mapped[str] = mapped_column(Sealed(), default="")
    note: Mapped[str] = mapped_column(String(500), default="")

    members: Mapped[list["Volunteer"]] = relationship(back_populates="team", order_by="Volunteer.id",
                                                      lazy="selectin")


class Volunteer(Timestamps, Base):
    __tablename__ = "volunteers"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("volunteer_teams.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(Sealed(), default="")
    phone_index: Mapped[str] = mapped_column(String(40), default="", index=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"))
    skills: Mapped[str] = mapped_column(String(200), default="")
    joined_on: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    area_code: Mapped[str] = mapped_column(String(15), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id", ondelete="SET NULL"), index=True)

    team: Mapped[VolunteerTeam] = relationship(back_populates="members", lazy="joined")


class Activity(Timestamps, Base):
    """A volunteer activity (志愿活动) and the hours each member served in it."""

    __tablename__ = "volunteer_activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("volunteer_teams.id", ondelete="RESTRICT"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    on: Mapped[date] = mapped_column(Date, index=True)
    place: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(String(1000), default="")
    area_code: Mapped[str] = mapped_column(String(15), index=True)


class ServiceHours(Base):
    __tablename__ = "volunteer_hours"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("volunteer_activities.id", ondelete="CASCADE"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"), index=True)
    hours: Mapped[float] = mapped_column(Float)

    volunteer: Mapped[Volunteer] = relationship(lazy="joined")

    __table_args__ = (UniqueConstraint("activity_id", "volunteer_id", name="uq_volunteer_hours_once"),)


class HouseholdLink(Timestamps, Base):
    """A household link (联户): a representative or volunteer and the 5–15 households it links."""

    __tablename__ = "household_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    linker_name: Mapped[str] = mapped_column(String(50))
    linker_phone: Mapped[str] = mapped_column(Sealed(), default="")
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id", ondelete="SET NULL"))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"))
    area_code: Mapped[str] = mapped_column(String(15), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id", ondelete="SET NULL"), index=True)

    houses: Mapped[list["LinkedHouse"]] = relationship(cascade="all, delete-orphan", order_by="LinkedHouse.id",
                                                        lazy="selectin")


class LinkedHouse(Base):
    __tablename__ = "household_link_houses"

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("household_links.id", ondelete="CASCADE"), index=True)
    house_id: Mapped[int] = mapped_column(ForeignKey("houses.id", ondelete="CASCADE"), unique=True)

    house: Mapped[House] = relationship(lazy="joined")


class LinkContact(Base):
    """A contact a linker logged with a linked household (联户走访记录)."""

    __tablename__ = "household_link_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("household_links.id", ondelete="CASCADE"), index=True)
    house_id: Mapped[int] = mapped_column(ForeignKey("houses.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    note: Mapped[str] = mapped_column(String(500), default="")
