"""Use cases of the field log. The JSON API and the phone pages call these same functions.

A phone on a weak network retries: a visit carries the phone's `client_key`, and a retry (or its
racing twin, stopped by the unique column) gets the first visit back instead of a second one. A door
knock is once per house and campaign: knocking again answers the first visit. Filing a visit's
problem twice answers the order filed the first time.
"""

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhili.access import can_see_region, get_readable
from zhili.auth.subject import Subject
from zhili.errors import Conflict, FieldProblem, Forbidden, Invalid
from zhili.fieldwork import repository as repo
from zhili.fieldwork.schemas import CampaignIn, ProblemIn, VisitIn
from zhili.keyperson import repository as kp_repo
from zhili.keyperson import service as kp_service
from zhili.keyperson.plan import local_day
from zhili.kit.codes import subtree_prefix
from zhili.kit.i18n import _
from zhili.kit.time import aware, now
from zhili.models import Channel, Region, Role, WorkOrder
from zhili.models.basedata import House
from zhili.models.keyperson import Campaign, Visit, VisitKind
from zhili.work_order import service as orders
from zhili.work_order.schemas import AppealCreate

FIELD_ROLES = (Role.grid_worker, Role.grid_chief, Role.admin, Role.command_leader, Role.dispatcher)
CAMPAIGN_ROLES = (Role.admin, Role.command_leader, Role.dispatcher)
CLOCK_SKEW = timedelta(minutes=5)


def _invalid(field: str, message: str) -> Invalid:
    return Invalid(message, [FieldProblem(field, message)])


def record_visit(session: Session, subject: Subject, data: VisitIn, at: datetime | None = None) -> tuple[Visit, bool]:
    """(the visit, whether it is new). A visit to a key person moves their visit plan on."""
    subject.require(*FIELD_ROLES)
    if subject.kind != "staff":
        raise Forbidden(_("走访记录须由工作人员账号提交"))
    at = at or now()
    if data.client_key:
        earlier = repo.by_client_key(session, data.client_key)
        if earlier is not None:
            return _same_author(subject, earlier), False
    started = aware(data.started_at) or at
    ended = aware(data.ended_at) or at
    if started > at + CLOCK_SKEW or ended > at + CLOCK_SKEW:
        raise _invalid("started_at", _("走访时间不能晚于现在"))
    if ended < started:
        raise _invalid("ended_at", _("结束时间不能早于开始时间"))
    visit = Visit(kind=data.kind, staff_id=subject.id, started_at=started, ended_at=ended,
                  trail=[[float(p[0]), float(p[1]), *(p[2:] if len(p) == 3 else [])] for p in data.trail],
                  lon=data.lon, lat=data.lat, seen=data.seen, client_key=data.client_key)
    if visit.lon is None and visit.trail:
        visit.lon, visit.lat = visit.trail[-1][0], visit.trail[-1][1]
    person = None
    match data.kind:
        case VisitKind.visit:
            if data.key_person_id is None and data.house_id is None:
                raise _invalid("key_person_id", _("走访须选择一名重点人员或一户房屋"))
            if data.key_person_id is not None:
                person = kp_repo.key_person(session, subject, data.key_person_id)
                visit.key_person_id, visit.area_code, visit.grid_id = person.id, person.area_code, person.grid_id
            if data.house_id is not None:
                house = _house(session, subject, data.house_id)
                visit.house_id = house.id
                if person is None:
                    visit.area_code, visit.grid_id = house.area_code, house.grid_id
        case VisitKind.door_knock:
            if data.campaign_id is None or data.house_id is None:
                raise _invalid("house_id", _("敲门走访须指明活动和房屋"))
            campaign = repo.campaign(session, subject, data.campaign_id)
            house = _house(session, subject, data.house_id)
            _check_campaign(campaign, house, at)
            first = repo.knocked(session, campaign.id, [house.id]).get(house.id)
            if first is not None:
                return first, False
            visit.campaign_id, visit.house_id = campaign.id, house.id
            visit.area_code, visit.grid_id = house.area_code, house.grid_id
        case VisitKind.patrol:
            code = data.grid_code or (subject.grid_codes[0] if subject.grid_codes else None)
            if code is None:
                raise _invalid("grid_code", _("请选择巡查的网格"))
            grid = repo.grid(session, subject, code)
            visit.area_code, visit.grid_id = grid.code, grid.id
    try:
        with session.begin_nested():
            session.add(visit)
            session.flush()
    except IntegrityError:
        earlier = repo.by_client_key(session, data.client_key) if data.client_key else None
        if earlier is None:
            raise
        return _same_author(subject, earlier), False
    if person is not None:
        kp_service.note_visit(session, person, ended, at)
    if data.problem is not None:
        report_problem(session, subject, visit.id, data.problem)
    return visit, True


def _same_author(subject: Subject, visit: Visit) -> Visit:
    if visit.staff_id != subject.id:
        raise Conflict(_("该提交键已被另一次提交使用，请刷新页面后重试"))
    return visit


def _house(session: Session, subject: Subject, house_id: int) -> House:
    return get_readable(session, subject, House, House.id == house_id, what=_("房屋"))


def _check_campaign(campaign: Campaign, house: House, at: datetime) -> None:
    today = local_day(at)
    if today < campaign.starts_on:
        raise Conflict(_("敲门行动「{n}」将于 {d} 开始", n=campaign.name, d=campaign.starts_on))
    if today > campaign.ends_on:
        raise Conflict(_("敲门行动「{n}」已于 {d} 结束", n=campaign.name, d=campaign.ends_on))
    if not house.area_code.startswith(subtree_prefix(campaign.region_code)):
        raise _invalid("house_id", _("这户不在本次敲门行动的范围内"))


def report_problem(session: Session, subject: Subject, visit_id: int, data: ProblemIn) -> WorkOrder:
    """What was seen becomes an appeal on the channel "grid", linked to the visit; asked twice, the
    order filed the first time."""
    subject.require(*FIELD_ROLES)
    visit = repo.visit(session, subject, visit_id)
    if visit.work_order_id is not None:
        existing = session.get(WorkOrder, visit.work_order_id)
        if existing is not None:
            return existing
    if visit.staff_id != subject.id and subject.grid_bound:
        raise Forbidden(_("只能上报自己走访中发现的问题"))
    text = data.text or visit.seen
    if len(text.strip()) < 2:
        raise _invalid("text", _("请描述发现的问题"))
    where = visit.house.address.full_name if visit.house is not None else ""
    appeal = AppealCreate(channel=Channel.grid, caller_name=subject.display_name, text=text, address=where,
                          lon=visit.lon, lat=visit.lat,
                          region_code=None if visit.lon is not None else visit.area_code[:12],
                          category_code=data.category_code or None, urgency=data.urgency)
    _appeal, order = orders.file_appeal(session, subject, appeal)
    visit.work_order_id, visit.found_problem = order.id, True
    session.flush()
    return order


def create_campaign(session: Session, subject: Subject, data: CampaignIn) -> Campaign:
    subject.require(*CAMPAIGN_ROLES)
    if subject.grid_bound:
        raise Forbidden(_("敲门行动由乡镇（街道）或县级发起"))
    region = session.scalar(select(Region).where(Region.code == data.region_code))
    if region is None or not can_see_region(subject, region.code):
        raise _invalid("region_code", _("区划 {c} 不存在或不在您的管辖范围内", c=data.region_code))
    campaign = Campaign(name=data.name, region_code=region.code, starts_on=data.starts_on, ends_on=data.ends_on,
                        note=data.note)
    session.add(campaign)
    session.flush()
    return campaign
