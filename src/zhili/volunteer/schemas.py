"""In/out models of volunteers and household links: the JSON API and the page forms read the same ones."""

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

MIN_HOUSES, MAX_HOUSES = 5, 15


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TeamIn(Strict):
    name: str = Field(min_length=2, max_length=100, description="队伍名称，如：大祥红·幸福社区志愿服务队")
    area_code: str = Field(pattern=r"^(\d{12}|\d{15})$", description="所属区划代码（12 位）或网格编码（15 位）")
    leader_name: str = Field(default="", max_length=50)
    phone: str = Field(default="", max_length=20)
    note: str = Field(default="", max_length=500)


class MemberIn(Strict):
    name: str = Field(min_length=1, max_length=50)
    phone: str = Field(default="", max_length=20)
    skills: str = Field(default="", max_length=200)
    joined_on: date | None = None
    grid_code: str | None = Field(default=None, pattern=r"^\d{15}$", description="所在网格，默认与队伍相同")


class HoursIn(Strict):
    volunteer_id: int
    hours: float = Field(gt=0, le=24)


class ActivityIn(Strict):
    title: str = Field(min_length=2, max_length=120)
    on: date
    place: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=1000)
    hours: list[HoursIn] = Field(default_factory=list, max_length=500)


class LinkIn(Strict):
    linker_name: str = Field(min_length=1, max_length=50, description="联户代表或志愿者姓名")
    linker_phone: str = Field(default="", max_length=20)
    volunteer_id: int | None = None
    house_ids: list[int] = Field(min_length=MIN_HOUSES, max_length=MAX_HOUSES, description="联系的 5–15 户（实有房屋）")


class ContactIn(Strict):
    house_id: int
    note: str = Field(default="", max_length=500)


class VolunteerOut(BaseModel):
    id: int
    name: str
    phone: str  # masked
    skills: str
    joined_on: date | None
    active: bool
    area_code: str
    hours: float


class TeamOut(BaseModel):
    id: int
    name: str
    area_code: str
    area_name: str
    leader_name: str
    phone: str  # masked
    note: str
    members: int
    hours: float
    activities: int


class ActivityOut(BaseModel):
    id: int
    title: str
    on: date
    place: str
    description: str
    hours: float
    people: int


class TeamDetail(TeamOut):
    volunteers: list[VolunteerOut]
    recent_activities: list[ActivityOut]


class LinkedHouseOut(BaseModel):
    house_id: int
    address: str
    owner_name: str
    last_contact_at: datetime | None
    stale: bool


class LinkOut(BaseModel):
    id: int
    linker_name: str
    linker_phone: str  # masked
    volunteer_id: int | None
    area_code: str
    houses: int
    stale: int


class ContactOut(BaseModel):
    house_id: int
    address: str
    at: datetime
    note: str


class LinkDetail(LinkOut):
    linked: list[LinkedHouseOut]
    contacts: list[ContactOut]


class StaleHouse(BaseModel):
    link_id: int
    linker_name: str
    house_id: int
    address: str
    last_contact_at: datetime | None
