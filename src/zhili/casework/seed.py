"""Demo casework for every grid of the demo county: disputes at every stage (some escalated, a couple
flagged 民转刑), petitions in every town (some overdue, one repeat petitioner each), leaders' reception
days, volunteer teams with activities and hours, and household links. Clearly fictional people.

Runs after the base-data seed: parties, petitioners and links use its residents and houses where a
grid has them. Bulk inserts with few flushes, so the ~250 demo grids take seconds on SQLite."""

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zhili.casework.disputes import bodies, notify_risk
from zhili.casework.labels import ACCEPT_DAYS, DISPUTE_DAYS, HANDLE_DAYS, today
from zhili.kit.codes import id_check_digit
from zhili.kit.protect import blind_index
from zhili.models import (
    Activity,
    CaseEvent,
    Dispute,
    DisputeCategory,
    DisputeParty,
    DisputeScale,
    DisputeStatus,
    Grid,
    House,
    HouseholdLink,
    LinkContact,
    LinkedHouse,
    MediationLevel,
    MediationSession,
    Petition,
    PetitionForm,
    PetitionStatus,
    ReceptionDay,
    Region,
    Resident,
    Role,
    ServiceHours,
    Staff,
    StaffRole,
    Volunteer,
    VolunteerTeam,
)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈"
GIVEN = ("建国", "秀英", "志强", "丽华", "海燕", "卫东", "桂兰", "国平", "春梅", "小军", "晓峰", "玉珍", "德明",
         "红霞", "金凤", "永福", "文斌", "淑芬", "立新", "美玲", "子涵", "浩然", "雨轩", "欣怡")
DISPUTE_KINDS: list[tuple[DisputeCategory, str, str]] = [
    (DisputeCategory.neighbour, "{a}与{b}楼上漏水纠纷", "楼上卫生间渗水导致楼下天花板霉变，双方就维修费用协商未果。"),
    (DisputeCategory.neighbour, "{a}与{b}噪声扰民纠纷", "一方夜间装修噪声较大，另一方多次交涉无果。"),
    (DisputeCategory.land, "{a}与{b}宅基地边界纠纷", "双方对院墙位置有争议，涉及约 3 平方米土地。"),
    (DisputeCategory.family, "{a}家庭赡养纠纷", "子女之间就老人赡养费用分担产生矛盾。"),
    (DisputeCategory.property, "{a}等业主与物业服务费纠纷", "业主认为物业服务不到位，拒交物业费。"),
    (DisputeCategory.labour, "{a}等人讨要工资纠纷", "务工人员反映包工头拖欠工资约 2 万元。"),
    (DisputeCategory.damages, "{a}与{b}交通事故赔偿纠纷", "电动车与行人相撞，双方就医疗费赔偿有分歧。"),
    (DisputeCategory.contract, "{a}与{b}土地流转合同纠纷", "承包方未按期支付流转费用。"),
    (DisputeCategory.environment, "{a}等村民与养殖场异味纠纷", "村民反映养殖场异味和污水影响生活。"),
]
PETITION_KINDS = [
    ("反映小区停车位被长期占用", "小区内多个公共车位被个别住户私自加装地锁占用，多次向物业反映未解决。"),
    ("要求解决征地补偿款发放问题", "本组土地被征收后，部分补偿款至今未发放到户。"),
    ("反映企业排放异味影响居住", "附近企业夜间排放刺激性气味，影响周边居民休息。"),
    ("要求落实低保待遇", "家庭困难，申请低保未获批准，要求重新审核。"),
    ("反映农村道路损坏未修复", "村道多处塌陷，雨天出行困难。"),
    ("反映拖欠工程款问题", "承建村委会办公楼后，尚有工程款未结算。"),
]
CONTACT_NOTES = ("家中一切正常", "老人血压偏高，已提醒就医", "反映楼道灯不亮", "")
COUNTY_PREFIX = "339922"


class _People:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def name(self) -> str:
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)

    def phone(self) -> str:
        return self.rng.choice(("138", "139", "158", "187", "135")) + f"{self.rng.randrange(10**8):08d}"

    def id_number(self) -> str:
        born = date(1950, 1, 1) + timedelta(days=self.rng.randrange(60 * 365))
        first17 = f"{COUNTY_PREFIX}{born:%Y%m%d}{self.rng.randrange(1000):03d}"
        return first17 + id_check_digit(first17)


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour - 8 if hour >= 8 else 0), tzinfo=UTC)  # Beijing office hours


def seed_demo(session: Session, rng: random.Random) -> dict[str, int]:
    people = _People(rng)
    grids = list(session.scalars(select(Grid).order_by(Grid.code)))
    regions = {r.code: r for r in session.scalars(select(Region))}
    staff_by_role = _staff_by_role(session)
    counts = {"disputes": 0, "petitions": 0, "reception_days": 0, "volunteer_teams": 0, "volunteers": 0,
              "activities": 0, "household_links": 0}
    residents = _residents_per_grid(session, grids)
    base = (session.scalar(select(func.max(Dispute.id))) or 0) + 1
    day = today()
    events: list[tuple[Dispute, str, str, dict[str, Any], datetime]] = []
    flagged: list[Dispute] = []
    disputes: list[Dispute] = []
    for gi, grid in enumerate(grids):
        town = grid.code[:9] + "000"
        mediators = staff_by_role.get((town, Role.mediator), []) or staff_by_role.get(("", Role.mediator), [])
        for k in range(2):
            d = _dispute(session, rng, people, grid, residents.get(grid.code, []), base + len(disputes),
                         mediators, day, events, gi, k)
            disputes.append(d)
            if gi % 97 == 5 and k == 0:
                flagged.append(d)
    session.add_all(disputes)
    session.flush()
    for d in flagged:
        note = "一方当事人情绪激动，扬言要采取过激行为"
        notify_risk(session, d, note)
        events.append((d, "flag_risk", note, {}, _at(day - timedelta(days=1), 16)))
    session.add_all(CaseEvent(case="dispute", case_id=d.id, action=a, note=n, data=data, staff_name="演示数据", at=at)
                    for d, a, n, data, at in events)
    counts["disputes"] = len(disputes)
    counts.update(_petitions(session, rng, people, regions, grids, residents, staff_by_role, day))
    counts.update(_volunteers(session, rng, people, regions, grids, day))
    session.flush()
    return counts


def _staff_by_role(session: Session) -> dict[tuple[str, Role], list[Staff]]:
    """(town code, role) → staff; ("", role) → the county's."""
    out: dict[tuple[str, Role], list[Staff]] = {}
    for s, role in session.execute(select(Staff, StaffRole.role).join(StaffRole, StaffRole.staff_id == Staff.id)
                                   .where(Staff.active.is_(True)).order_by(Staff.id)):
        code = s.region.code
        key = code[:9] + "000" if s.region.level == "town" else ("" if s.region.level == "county" else code)
        out.setdefault((key, role), []).append(s)
    return out


def _residents_per_grid(session: Session, grids: list[Grid]) -> dict[str, list[Resident]]:
    out: dict[str, list[Resident]] = {}
    for g in grids:
        rows = list(session.scalars(select(Resident).where(Resident.area_code == g.code, Resident.id_number != "")
                                    .order_by(Resident.id).limit(6)))
        if rows:
            out[g.code] = rows
    return out


def _party(rng: random.Random, people: _People, pool: list[Resident], side: str) -> DisputeParty:
    if pool and rng.random() < 0.7:
        r = rng.choice(pool)
        return DisputeParty(name=r.name, id_number=r.id_number, id_number_index=blind_index(r.id_number),
                            phone=r.phone, side=side, resident_id=r.id)
    number = people.id_number()
    return DisputeParty(name=people.name(), id_number=number, id_number_index=blind_index(number),
                        phone=people.phone(), side=side)


def _dispute(session: Session, rng: random.Random, people: _People, grid: Grid, pool: list[Resident], n: int,
             mediators: list[Staff], day: date, events: list[Any], gi: int, k: int) -> Dispute:
    category, name_t, summary = DISPUTE_KINDS[(gi * 2 + k) % len(DISPUTE_KINDS)]
    parties = [_party(rng, people, pool, "申请方"), _party(rng, people, pool, "被申请方")]
    scale = DisputeScale.general if rng.random() < 0.8 else DisputeScale.large
    started = day - timedelta(days=rng.randrange(1, 50))
    choices = bodies(session, grid.code) if (gi + k) % 5 == 0 else None
    village = choices[0] if choices else None
    community = grid.code[:12]
    d = Dispute(code=f"MD{started:%Y%m%d}{n:06d}", name=name_t.format(a=parties[0].name, b=parties[1].name)[:120],
                occurred_on=started - timedelta(days=rng.randrange(0, 5)),
                place=f"{grid.name}{rng.randrange(1, 30)}号附近",
                scale=scale, category=category, people_count=rng.choice((2, 2, 3, 4, 6)), summary=summary,
                deadline=started + timedelta(days=DISPUTE_DAYS[scale]), level=MediationLevel.village,
                body=village.name if village else f"{grid.region.name}人民调解委员会", body_region_code=community,
                area_code=grid.code, grid_id=grid.id, status=DisputeStatus.registered, parties=parties,
                created_at=_at(started, 9))
    events.append((d, "register", summary[:200], {"body": d.body}, _at(started, 9)))
    stage = (gi + k * 3) % 6  # 0 registered, 1 mediating, 2 resolved, 3 closed, 4 failed→escalated, 5 mediating late
    mediator = mediators[(gi + k) % len(mediators)] if mediators else None
    if stage >= 1 and mediator is not None:
        d.mediator_id, d.status, d.method = mediator.id, DisputeStatus.mediating, "人民调解"
        events.append((d, "assign", "", {"body": d.body, "mediator": mediator.display_name}, _at(started, 11)))
        d.sessions.append(MediationSession(at=_at(started + timedelta(days=1), 14), mediator_id=mediator.id,
                                           mediator_name=mediator.display_name, attendees="双方当事人、网格员",
                                           record="听取双方陈述，释法明理，双方同意进一步协商。"))
        events.append((d, "session", "听取双方陈述，释法明理", {}, _at(started + timedelta(days=1), 14)))
    if stage in (2, 3):
        d.status, d.success = DisputeStatus.resolved, True
        d.agreement = d.outcome = "双方自愿达成调解协议，一方赔偿另一方损失，并于 7 日内履行完毕。"
        d.follow_up_on = started + timedelta(days=10)
        events.append((d, "resolve", d.agreement, {"method": "人民调解"}, _at(started + timedelta(days=3), 15)))
    if stage == 3:
        d.status, d.assessment = DisputeStatus.closed, rng.choice(("优秀", "良好"))
        d.followed_up_at = d.closed_at = _at(started + timedelta(days=10), 10)
        events.append((d, "follow_up", "协议已履行，双方无异议", {"assessment": d.assessment}, d.followed_up_at))
    if stage == 4:
        town = grid.code[:9] + "000"
        d.level, d.body_region_code, d.mediator_id = MediationLevel.town, town, None
        d.body = f"{grid.region.parent.name if grid.region.parent else ''}综治中心"
        d.status = DisputeStatus.registered
        d.deadline = max(d.deadline, day + timedelta(days=DISPUTE_DAYS[scale] // 2))
        events.append((d, "fail", "双方分歧较大，村级调解未果", {}, _at(started + timedelta(days=4), 16)))
        events.append((d, "escalate", "涉及多个部门，上报乡镇综治中心", {"body": d.body},
                       _at(started + timedelta(days=5), 9)))
        if gi % 40 == 4:
            d.level, d.body_region_code = MediationLevel.county, grid.code[:6] + "000000"
            d.body = "临溪县矛盾纠纷调处化解中心"
            events.append((d, "escalate", "跨乡镇，上报县“一站式”中心", {"body": d.body},
                           _at(started + timedelta(days=6), 9)))
    return d


def _petitions(session: Session, rng: random.Random, people: _People, regions: dict[str, Region], grids: list[Grid],
               residents: dict[str, list[Resident]], staff_by_role: dict[tuple[str, Role], list[Staff]],
               day: date) -> dict[str, int]:
    towns = sorted(c for c, r in regions.items() if r.level == "town")
    grids_of: dict[str, list[Grid]] = {}
    for g in grids:
        grids_of.setdefault(g.code[:9] + "000", []).append(g)
    rows: list[Petition] = []
    events: list[tuple[Petition, str, str, dict[str, Any], datetime]] = []
    days: list[ReceptionDay] = []
    base = (session.scalar(select(func.max(Petition.id))) or 0) + 1
    for ti, town in enumerate(towns):
        town_grids = grids_of.get(town, [])
        leaders = staff_by_role.get((town, Role.command_leader), []) + staff_by_role.get((town, Role.viewer), [])
        if not town_grids:
            continue
        for leader_i, day_leader in enumerate(leaders[:2]):
            days.append(ReceptionDay(leader_id=day_leader.id, on=day + timedelta(days=3 + 7 * leader_i),
                                     place=f"{regions[town].name}信访接待室", region_code=town, note="领导坐班接访"))
        repeat_id, repeat_phone = people.id_number(), people.phone()
        for k in range(6):
            repeat = k in (0, 1)  # one petitioner, twice: the repeat petitioner of the town
            grid = town_grids[(0 if repeat else k * 7 + ti) % len(town_grids)]
            title, content = PETITION_KINDS[(ti + (0 if repeat else k)) % len(PETITION_KINDS)]
            pool = residents.get(grid.code, [])
            if repeat and pool:
                person = pool[0]
                name, number, phone, resident_id = person.name, person.id_number, person.phone, person.id
            elif repeat:
                name, number, phone, resident_id = "郑某某", repeat_id, repeat_phone, None
            else:
                name, number, phone, resident_id = people.name(), people.id_number(), people.phone(), None
            received = day - timedelta(days=(70, 5, 20, 30, 3, 90)[k])
            status = (PetitionStatus.accepted, PetitionStatus.received, PetitionStatus.received,
                      PetitionStatus.accepted, PetitionStatus.received, PetitionStatus.closed)[k]
            leader = leaders[k % len(leaders)] if leaders else None
            p = Petition(code=f"XF{received:%Y%m%d}{base + len(rows):06d}", form=list(PetitionForm)[k % 3],
                         petitioner_name=name, id_number=number, id_number_index=blind_index(number), phone=phone,
                         phone_index=blind_index(phone), people_count=6 if k == 3 else 1, resident_id=resident_id,
                         title=title if k != 1 else title + "（再次反映）", content=content, received_on=received,
                         status=status, accept_due_on=received + timedelta(days=ACCEPT_DAYS),
                         leader_id=leader.id if leader else None, region_code=town, area_code=grid.code,
                         created_at=_at(received, 9))
            events.append((p, "register", title, {"form": p.form.value}, _at(received, 9)))
            if status in (PetitionStatus.accepted, PetitionStatus.closed):
                p.accepted_on = received + timedelta(days=5)
                p.handle_due_on = p.accepted_on + timedelta(days=HANDLE_DAYS)
                p.decision = "予以受理"
                events.append((p, "accept", "予以受理", {"handle_due_on": p.handle_due_on.isoformat()},
                               _at(p.accepted_on, 10)))
            if status == PetitionStatus.closed:
                p.answer = "经调查核实，已责成相关部门限期整改，并将处理结果书面告知信访人。"
                p.answered_on = received + timedelta(days=40)
                p.satisfied, p.closed_at = True, _at(received + timedelta(days=45), 10)
                events.append((p, "answer", p.answer, {}, _at(p.answered_on, 10)))
                events.append((p, "close", "", {"satisfied": True}, p.closed_at))
            rows.append(p)
    session.add_all(rows)
    session.add_all(days)
    session.flush()
    by_town: dict[str, list[ReceptionDay]] = {}
    for rd in days:
        by_town.setdefault(rd.region_code, []).append(rd)
    for p in rows:
        town_days = by_town.get(p.region_code)
        if town_days and p.status == PetitionStatus.received:
            chosen = town_days[p.id % len(town_days)]
            p.reception_day_id = chosen.id
            events.append((p, "schedule", "", {"on": chosen.on.isoformat(), "place": chosen.place},
                           _at(p.received_on, 15)))
    session.add_all(CaseEvent(case="petition", case_id=p.id, action=a, note=n, data=data, staff_name="演示数据", at=at)
                    for p, a, n, data, at in events)
    return {"petitions": len(rows), "reception_days": len(days)}


def _volunteers(session: Session, rng: random.Random, people: _People, regions: dict[str, Region],
                grids: list[Grid], day: date) -> dict[str, int]:
    communities = sorted({g.code[:12] for g in grids})
    teams = [VolunteerTeam(name=f"大祥红·{regions[c].name}志愿服务队", area_code=c, leader_name=people.name(),
                           phone=people.phone(), note="党员志愿者为骨干，参与环境整治、邻里互助和平安巡防")
             for c in communities if c in regions]
    session.add_all(teams)
    session.flush()
    first_grid: dict[str, Grid] = {}
    for g in grids:
        first_grid.setdefault(g.code[:12], g)
    members: list[Volunteer] = []
    for t in teams:
        g = first_grid[t.area_code]
        for _i in range(rng.randrange(5, 9)):
            phone = people.phone()
            members.append(Volunteer(team_id=t.id, name=people.name(), phone=phone, phone_index=blind_index(phone),
                                     skills=rng.choice(("理发", "家电维修", "急救", "调解", "摄影", "")),
                                     joined_on=day - timedelta(days=rng.randrange(30, 900)), area_code=g.code,
                                     grid_id=g.id))
    activities: list[Activity] = []
    for t in teams:
        for title in ("清扫背街小巷", "关爱独居老人", "平安巡防"):
            activities.append(Activity(team_id=t.id, title=title, on=day - timedelta(days=rng.randrange(1, 60)),
                                       place=regions[t.area_code].name, area_code=t.area_code))
    session.add_all(members)
    session.add_all(activities)
    session.flush()
    by_team: dict[int, list[Volunteer]] = {}
    for v in members:
        by_team.setdefault(v.team_id, []).append(v)
    session.add_all(ServiceHours(activity_id=a.id, volunteer_id=v.id, hours=rng.choice((1.0, 1.5, 2.0, 3.0)))
                    for a in activities for v in rng.sample(by_team[a.team_id], k=min(4, len(by_team[a.team_id]))))
    links = _links(session, rng, grids, by_team, first_grid, teams, day)
    return {"volunteer_teams": len(teams), "volunteers": len(members), "activities": len(activities),
            "household_links": links}


def _links(session: Session, rng: random.Random, grids: list[Grid], by_team: dict[int, list[Volunteer]],
           first_grid: dict[str, Grid], teams: list[VolunteerTeam], day: date) -> int:
    team_of = {t.area_code: t for t in teams}
    links: list[HouseholdLink] = []
    for g in grids:
        houses = list(session.scalars(select(House.id).where(House.area_code == g.code).order_by(House.id).limit(8)))
        if len(houses) < 5:
            continue
        team = team_of.get(g.code[:12])
        volunteer = by_team[team.id][0] if team and by_team.get(team.id) else None
        links.append(HouseholdLink(linker_name=volunteer.name if volunteer else "联户代表",
                                   linker_phone=volunteer.phone if volunteer else "",
                                   volunteer_id=volunteer.id if volunteer else None, area_code=g.code, grid_id=g.id,
                                   houses=[LinkedHouse(house_id=h) for h in houses]))
    session.add_all(links)
    session.flush()
    contacts = []
    for lk in links:
        for lh in lk.houses[:-2]:  # the last two of every link wait for a visit
            contacts.append(LinkContact(link_id=lk.id, house_id=lh.house_id,
                                        at=_at(day - timedelta(days=rng.randrange(1, 45)), 15),
                                        note=rng.choice(CONTACT_NOTES)))
    session.add_all(contacts)
    return len(links)
