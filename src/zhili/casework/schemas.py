"""Pydantic in/out models of disputes and petitions: the JSON API and the page forms read the same ones."""

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from zhili.models import DisputeCategory, DisputeScale, DisputeStatus, MediationLevel, PetitionForm, PetitionStatus

AreaCode = Field(default=None, pattern=r"^(\d{12}|\d{15})$",
                 description="网格编码（15 位）或社区（村）区划代码（12 位）；网格员可省略，默认本人网格")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PartyIn(Strict):
    name: str = Field(min_length=1, max_length=50)
    id_number: str = Field(default="", max_length=18, description="居民身份证号（GB 11643，校验码会核对）")
    phone: str = Field(default="", max_length=20)
    side: str = Field(default="", max_length=20, description="申请方 / 被申请方 / 第三人")


class DisputeCreate(Strict):
    name: str = Field(min_length=2, max_length=120, description="纠纷名称")
    occurred_on: date | None = Field(default=None, description="发生日期，默认今天")
    place: str = Field(min_length=1, max_length=200, description="发生地点")
    lon: float | None = Field(default=None, ge=-180, le=180)
    lat: float | None = Field(default=None, ge=-90, le=90)
    scale: DisputeScale = DisputeScale.general
    category: DisputeCategory
    people_count: int = Field(default=2, ge=1, le=100000, description="涉及人数")
    summary: str = Field(default="", max_length=5000)
    deadline: date | None = Field(default=None, description="化解时限，默认按规模：一般 15 天、较大 30 天、重大 45 天")
    area_code: str | None = AreaCode
    parties: list[PartyIn] = Field(default_factory=list, max_length=30)
    client_key: str | None = Field(default=None, max_length=64, description="客户端生成的唯一键：重试不会重复登记")


class DisputeAction(StrEnum):
    assign = "assign"
    session = "session"
    resolve = "resolve"
    fail = "fail"
    follow_up = "follow_up"
    escalate = "escalate"
    flag_risk = "flag_risk"
    clear_risk = "clear_risk"
    add_party = "add_party"


class DisputeActionIn(Strict):
    body: str | None = Field(default=None, max_length=20, description="化解组织：village / town / police / county")
    mediator_id: int | None = None
    record: str = Field(default="", max_length=5000, description="调解记录")
    attendees: str = Field(default="", max_length=300)
    agreement: str = Field(default="", max_length=5000, description="调解协议内容")
    outcome: str = Field(default="", max_length=5000, description="化解情况")
    method: str = Field(default="", max_length=30, description="化解方式")
    reason: str = Field(default="", max_length=1000)
    note: str = Field(default="", max_length=1000)
    assessment: str = Field(default="", max_length=200, description="考评")
    party: PartyIn | None = None


class PartyOut(BaseModel):
    id: int
    name: str
    id_number: str  # masked
    phone: str  # masked
    side: str
    resident_id: int | None


class SessionOut(BaseModel):
    at: datetime
    mediator_name: str
    attendees: str
    record: str


class EventOut(BaseModel):
    action: str
    label: str
    note: str
    staff_name: str
    at: datetime
    data: dict[str, object]


class DisputeOut(BaseModel):
    id: int
    code: str
    name: str
    occurred_on: date
    place: str
    scale: DisputeScale
    category: DisputeCategory
    people_count: int
    deadline: date
    overdue: bool
    colour: str
    level: MediationLevel
    body: str
    body_region_code: str
    mediator_id: int | None
    mediator_name: str
    status: DisputeStatus
    success: bool | None
    criminal_risk: bool
    area_code: str
    created_at: datetime


class DisputeDetail(DisputeOut):
    summary: str
    method: str
    outcome: str
    agreement: str
    assessment: str
    criminal_risk_note: str
    follow_up_on: date | None
    followed_up_at: datetime | None
    closed_at: datetime | None
    lon: float | None
    lat: float | None
    parties: list[PartyOut]
    sessions: list[SessionOut]
    events: list[EventOut]
    allowed_actions: list[DisputeAction]


class PetitionCreate(Strict):
    form: PetitionForm
    petitioner_name: str = Field(min_length=1, max_length=50)
    id_number: str = Field(default="", max_length=18)
    phone: str = Field(default="", max_length=20)
    people_count: int = Field(default=1, ge=1, le=100000)
    title: str = Field(min_length=2, max_length=120)
    content: str = Field(min_length=2, max_length=10000)
    received_on: date | None = Field(default=None, description="收到日期，默认今天；受理期限从此起算 15 日")
    area_code: str | None = AreaCode
    leader_id: int | None = Field(default=None, description="包案领导（指挥长或领导角色）")
    client_key: str | None = Field(default=None, max_length=64)


class PetitionAction(StrEnum):
    accept = "accept"
    refuse = "refuse"
    set_leader = "set_leader"
    extend = "extend"
    answer = "answer"
    close = "close"
    schedule = "schedule"
    list_key_person = "list_key_person"


class PetitionActionIn(Strict):
    reason: str = Field(default="", max_length=2000)
    leader_id: int | None = None
    days: int | None = Field(default=None, ge=1, le=30, description="延期天数，至多 30 日")
    answer: str = Field(default="", max_length=10000)
    satisfied: bool | None = None
    reception_day_id: int | None = None
    note: str = Field(default="", max_length=1000)


class EarlierPetition(BaseModel):
    id: int
    code: str
    title: str
    received_on: date
    status: PetitionStatus


class PetitionOut(BaseModel):
    id: int
    code: str
    form: PetitionForm
    petitioner_name: str
    people_count: int
    collective: bool
    title: str
    received_on: date
    status: PetitionStatus
    accept_due_on: date
    handle_due_on: date | None
    due_on: date | None
    colour: str
    overdue: bool
    leader_id: int | None
    leader_name: str
    region_code: str
    area_code: str
    repeat_count: int = 0


class PetitionDetail(PetitionOut):
    id_number: str  # masked
    phone: str  # masked
    content: str
    accepted_on: date | None
    extended_days: int
    extension_reason: str
    decision: str
    answer: str
    answered_on: date | None
    satisfied: bool | None
    closed_at: datetime | None
    resident_id: int | None
    key_person_id: int | None
    reception_day_id: int | None
    reception_day: str
    earlier: list[EarlierPetition]
    events: list[EventOut]
    allowed_actions: list[PetitionAction]


class ReceptionDayIn(Strict):
    leader_id: int
    on: date
    place: str = Field(min_length=1, max_length=100)
    note: str = Field(default="", max_length=500)


class ReceptionDayOut(BaseModel):
    id: int
    leader_id: int
    leader_name: str
    on: date
    place: str
    region_code: str
    note: str
    petitions: list[PetitionOut]
