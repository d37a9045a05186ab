"""Use cases of volunteers and household links; services never commit."""

from datetime import timedelta

from sqlalchemy.orm import Session

from zhili.auth.subject import Subject
from zhili.errors import Conflict, FieldProblem, Invalid
from zhili.jurisdiction.repository import area_name
from zhili.kit.codes import check_phone, subtree_prefix
from zhili.kit.i18n import _
from zhili.kit.protect import blind_index, mask_phone
from zhili.kit.time import aware, now
from zhili.models import (
    Activity,
    HouseholdLink,
    LinkContact,
    LinkedHouse,
    Role,
    ServiceHours,
    Volunteer,
    VolunteerTeam,
)
from zhili.volunteer import repository as repo
from zhili.volunteer.schemas import (
    MAX_HOUSES,
    MIN_HOUSES,
    ActivityIn,
    ActivityOut,
    ContactIn,
    ContactOut,
    LinkDetail,
    LinkedHouseOut,
    LinkIn,
    LinkOut,
    MemberIn,
    StaleHouse,
    TeamDetail,
    TeamIn,
    TeamOut,
    VolunteerOut,
)

# Who organises volunteers: the grid's chief and workers, the centres, the administrators.
ORGANISERS = (Role.grid_chief, Role.grid_worker, Role.dispatcher, Role.command_leader, Role.admin)
# A linked household not contacted for this long is listed for a nudge (一个月).
STALE_AFTER = timedelta(days=30)


def _phone(value: str, field: str) -> str:
    value = value.replace(" ", "")
    if value and (problem := check_phone(value)):
        raise Invalid(problem, [FieldProblem(field, problem, "13800138000")])
    return value


def _area(session: Session, subject: Subject, code: str) -> tuple[str, int | None]:
    if subject.grid_bound and code not in subject.grid_codes:
        raise Invalid(_("只能在本人网格内操作"), [FieldProblem("area_code", _("不是您负责的网格"))])
    if not code.startswith(subject.scope_prefix):
        raise Invalid(_("该区域不在您的管辖范围内"), [FieldProblem("area_code", _("不在管辖范围内"))])
    if len(code) == 15:
        g = repo.grid(session, code)
        if g is None:
            raise Invalid(_("网格 {c} 不存在", c=code), [FieldProblem("area_code", _("网格不存在"))])
        return code, g.id
    if repo.region(session, code) is None:
        raise Invalid(_("区划 {c} 不存在", c=code), [FieldProblem("area_code", _("区划不存在"))])
    return code, None


def create_team(session: Session, subject: Subject, data: TeamIn) -> VolunteerTeam:
    subject.require(*ORGANISERS)
    code, _grid = _area(session, subject, data.area_code)
    team = VolunteerTeam(name=data.name, area_code=code, leader_name=data.leader_name,
                         phone=_phone(data.phone, "phone"), note=data.note)
    session.add(team)
    session.flush()
    return team


def add_member(session: Session, subject: Subject, team_id: int, data: MemberIn) -> Volunteer:
    subject.require(*ORGANISERS)
    team = repo.team(session, subject, team_id)
    code, grid_id = team.area_code, None
    if data.grid_code:
        prefix = team.area_code if len(team.area_code) == 15 else subtree_prefix(team.area_code)
        if not data.grid_code.startswith(prefix):
            raise Invalid(_("志愿者的网格应在队伍所属区域内"), [FieldProblem("grid_code", _("不在队伍区域内"))])
        code, grid_id = _area(session, subject, data.grid_code)
    elif len(code) == 15:
        grid = repo.grid(session, code)
        grid_id = grid.id if grid else None
    phone = _phone(data.phone, "phone")
    v = Volunteer(team_id=team.id, name=data.name, phone=phone, phone_index=blind_index(phone), skills=data.skills,
                  joined_on=data.joined_on, area_code=code, grid_id=grid_id)
    session.add(v)
    session.flush()
    return v


def add_activity(session: Session, subject: Subject, team_id: int, data: ActivityIn) -> Activity:
    """An activity and each member's hours in it; every member counted once."""
    subject.require(*ORGANISERS)
    team = repo.team(session, subject, team_id)
    members = {v.id for v in repo.members(session, team.id)}
    problems = []
    seen: set[int] = set()
    for i, h in enumerate(data.hours):
        if h.volunteer_id not in members:
            problems.append(FieldProblem(f"hours.{i}.volunteer_id", _("不是本队志愿者")))
        elif h.volunteer_id in seen:
            problems.append(FieldProblem(f"hours.{i}.volunteer_id", _("同一志愿者只能记录一次时长")))
        seen.add(h.volunteer_id)
    if data.on > now().date() + timedelta(days=1):
        problems.append(FieldProblem("on", _("只能记录已开展的活动")))
    if problems:
        raise Invalid(problems[0].problem, problems)
    a = Activity(team_id=team.id, title=data.title, on=data.on, place=data.place, description=data.description,
                 area_code=team.area_code)
    session.add(a)
    session.flush()
    session.add_all(ServiceHours(activity_id=a.id, volunteer_id=h.volunteer_id, hours=h.hours) for h in data.hours)
    session.flush()
    return a


def team_outs(session: Session, teams: list[VolunteerTeam]) -> list[TeamOut]:
    totals = repo.team_totals(session, [t.id for t in teams])
    return [TeamOut(id=t.id, name=t.name, area_code=t.area_code, area_name=area_name(session, t.area_code),
                    leader_name=t.leader_name, phone=mask_phone(t.phone) if t.phone else "", note=t.note,
                    members=totals[t.id][0], hours=round(totals[t.id][1], 1), activities=totals[t.id][2])
            for t in teams]


def team_detail(session: Session, subject: Subject, team: VolunteerTeam) -> TeamDetail:
    members = repo.members(session, team.id)
    hours = repo.volunteer_hours(session, [v.id for v in members])
    acts = repo.activities(session, subject, team.id)
    sums = repo.activity_sums(session, [a.id for a in acts])
    return TeamDetail(
        **team_outs(session, [team])[0].model_dump(),
        volunteers=sorted([VolunteerOut(id=v.id, name=v.name, phone=mask_phone(v.phone) if v.phone else "",
                                        skills=v.skills, joined_on=v.joined_on, active=v.active,
                                        area_code=v.area_code, hours=round(hours.get(v.id, 0.0), 1))
                           for v in members], key=lambda v: (-v.hours, v.id)),
        recent_activities=[ActivityOut(id=a.id, title=a.title, on=a.on, place=a.place, description=a.description,
                                       hours=round(sums.get(a.id, (0.0, 0))[0], 1), people=sums.get(a.id, (0.0, 0))[1])
                           for a in acts])


# Household links --------------------------------------------------------------------------------


def create_link(session: Session, subject: Subject, data: LinkIn) -> HouseholdLink:
    """One linker, 5–15 households, each household linked once across the whole deployment."""
    subject.require(*ORGANISERS)
    ids = list(dict.fromkeys(data.house_ids))
    if len(ids) != len(data.house_ids):
        raise Invalid(_("同一户不能重复选择"), [FieldProblem("house_ids", _("有重复的房屋"))])
    if not MIN_HOUSES <= len(ids) <= MAX_HOUSES:
        raise Invalid(_("每名联户代表联系 {a}–{b} 户", a=MIN_HOUSES, b=MAX_HOUSES),
                      [FieldProblem("house_ids", _("应为 {a}–{b} 户", a=MIN_HOUSES, b=MAX_HOUSES))])
    houses = {h.id: h for h in repo.readable_houses(session, subject, ids)}
    missing = [i for i in ids if i not in houses]
    if missing:
        raise Invalid(_("房屋不存在或不在您的管辖范围内：{ids}", ids=", ".join(map(str, missing))),
                      [FieldProblem("house_ids", _("房屋不存在或不在管辖范围内"))])
    taken = repo.already_linked(session, ids)
    if taken:
        raise Conflict(_("以下房屋已由其他联户代表联系：{a}", a="、".join(houses[i].address.full_name for i in taken)))
    volunteer = None
    if data.volunteer_id is not None:
        volunteer = repo.volunteer(session, subject, data.volunteer_id)
        if volunteer is None:
            raise Invalid(_("志愿者不存在或不在您的管辖范围内"), [FieldProblem("volunteer_id", _("志愿者不存在"))])
    first = houses[ids[0]]
    link = HouseholdLink(linker_name=data.linker_name, linker_phone=_phone(data.linker_phone, "linker_phone"),
                         volunteer_id=volunteer.id if volunteer else None, area_code=first.area_code,
                         grid_id=first.grid_id, houses=[LinkedHouse(house_id=i) for i in ids])
    session.add(link)
    session.flush()
    return link


def log_contact(session: Session, subject: Subject, link_id: int, data: ContactIn) -> LinkContact:
    subject.require(*ORGANISERS)
    link = repo.link(session, subject, link_id)
    if data.house_id not in {h.house_id for h in link.houses}:
        raise Invalid(_("该户不在此联户名单中"), [FieldProblem("house_id", _("不在联户名单中"))])
    contact = LinkContact(link_id=link.id, house_id=data.house_id, at=now(), note=data.note)
    session.add(contact)
    session.flush()
    return contact


def link_outs(session: Session, links: list[HouseholdLink]) -> list[LinkOut]:
    last = repo.last_contacts(session, [lk.id for lk in links])
    cutoff = now() - STALE_AFTER
    out = []
    for lk in links:
        stale = sum(1 for h in lk.houses if (at := aware(last.get((lk.id, h.house_id)))) is None or at < cutoff)
        out.append(LinkOut(id=lk.id, linker_name=lk.linker_name,
                           linker_phone=mask_phone(lk.linker_phone) if lk.linker_phone else "",
                           volunteer_id=lk.volunteer_id, area_code=lk.area_code, houses=len(lk.houses), stale=stale))
    return out


def link_detail(session: Session, subject: Subject, link: HouseholdLink) -> LinkDetail:
    last = repo.last_contacts(session, [link.id])
    cutoff = now() - STALE_AFTER
    addresses = {h.house_id: h.house.address.full_name for h in link.houses}
    linked = []
    for h in link.houses:
        at = aware(last.get((link.id, h.house_id)))
        linked.append(LinkedHouseOut(house_id=h.house_id, address=addresses[h.house_id], owner_name=h.house.owner_name,
                                     last_contact_at=at, stale=at is None or at < cutoff))
    return LinkDetail(
        **link_outs(session, [link])[0].model_dump(), linked=linked,
        contacts=[ContactOut(house_id=c.house_id, address=addresses.get(c.house_id, ""), at=c.at, note=c.note)
                  for c in repo.contacts(session, link.id)])


def stale(session: Session, subject: Subject) -> list[StaleHouse]:
    """Linked households nobody contacted in the last month, the longest-forgotten first."""
    rows = repo.stale_pairs(session, subject, now() - STALE_AFTER)
    links = {lk.id: lk for lk in session.scalars(repo.links(subject).where(
        HouseholdLink.id.in_({r[0].link_id for r in rows}))).unique()} if rows else {}
    return [StaleHouse(link_id=lh.link_id, linker_name=links[lh.link_id].linker_name if lh.link_id in links else "",
                       house_id=lh.house_id, address=lh.house.address.full_name, last_contact_at=aware(at))
            for lh, at in rows]
