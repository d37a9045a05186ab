"""Demo key persons, visits, patrols and a door-knocking campaign for every grid of the demo county.

Runs after the base-data seed (it lists residents that seed wrote) and before any commit; every
choice comes from the caller's `random.Random`, so the same seed writes the same rows. All people
are fictional: names, numbers and stories are generated.
"""

import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhili.jurisdiction.demo import COUNTY_CODE
from zhili.keyperson import warnings
from zhili.keyperson.plan import DEFAULT_DAYS, LOCAL_TZ, local_day, refresh_due
from zhili.kit.time import now
from zhili.models import Grid, GridDuty, GridMember
from zhili.models.basedata import House, Resident
from zhili.models.keyperson import (
    Campaign,
    CheckIn,
    CheckInKind,
    Helper,
    HelperKind,
    KeyPerson,
    KeyPersonKind,
    LeaveRequest,
    LeaveState,
    Risk,
    RiskChange,
    Visit,
    VisitKind,
    WarningKind,
)

_KINDS = [
    (KeyPersonKind.released, 20),
    (KeyPersonKind.corrections, 15),
    (KeyPersonKind.mental, 20),
    (KeyPersonKind.drug, 10),
    (KeyPersonKind.aids, 5),
    (KeyPersonKind.youth, 15),
    (KeyPersonKind.petition, 15),
]
_RISKS = [(Risk.green, 60), (Risk.yellow, 30), (Risk.red, 10)]
_CRIMES = ("盗窃罪", "诈骗罪", "故意伤害罪", "寻衅滋事罪", "危险驾驶罪", "开设赌场罪", "交通肇事罪")
_DIAGNOSES = ("精神分裂症", "双相情感障碍", "偏执性精神病", "分裂情感性障碍")
_DEMANDS = (
    "征地补偿款分配不均",
    "宅基地界址纠纷多次上访",
    "工伤认定结果不服",
    "拆迁安置面积争议",
    "农民工工资被拖欠",
    "邻里采光纠纷长期未解决",
)
_SEEN = (
    "本人在家，情绪稳定，近期在附近工地务工。",
    "家属反映生活正常，按时服药。",
    "未见本人，电话联系已确认在外务工。",
    "本人思想稳定，提出希望帮助介绍工作。",
    "与家属沟通，了解近期收入困难，已转告社区。",
    "本人在家，屋内整洁，无异常。",
)
_PATROL = (
    "沿主干道巡查一圈，路灯、井盖完好。",
    "农贸市场周边秩序良好。",
    "河道沿线巡查，护栏一处松动已拍照。",
    "小区楼道巡查，发现杂物堆放已劝导清理。",
    "学校周边上下学时段秩序正常。",
)
_FAMILY = ("父亲", "母亲", "妻子", "丈夫", "哥哥", "姐姐")


def _pick(rng: random.Random, weighted: list[tuple[Any, int]]) -> Any:
    return rng.choices([v for v, _w in weighted], weights=[w for _v, w in weighted])[0]


def _details(rng: random.Random, kind: KeyPersonKind, today: date, guardian: str) -> dict[str, Any]:
    match kind:
        case KeyPersonKind.released:
            return {
                "crime": rng.choice(_CRIMES),
                "sentence": f"{rng.randint(1, 6)}年{rng.randint(0, 11)}个月",
                "released_on": (today - timedelta(days=rng.randint(30, 1500))).isoformat(),
                "resettlement": rng.choice(("已就业", "已落实低保", "待安置", "自主经营")),
            }
        case KeyPersonKind.corrections:
            start = today - timedelta(days=rng.randint(20, 400))
            return {
                "correction_type": rng.choice(("管制", "缓刑", "假释", "暂予监外执行")),
                "starts_on": start.isoformat(),
                "ends_on": (start + timedelta(days=rng.randint(300, 900))).isoformat(),
                "place": "临溪县司法局",
            }
        case KeyPersonKind.mental:
            return {"diagnosis": rng.choice(_DIAGNOSES), "guardian": guardian, "danger_level": rng.randint(0, 4)}
        case KeyPersonKind.drug:
            return {
                "drug_type": rng.choice(("冰毒", "海洛因", "氯胺酮")),
                "rehab_status": rng.choice(("社区戒毒", "社区康复", "戒断三年未复吸")),
            }
        case KeyPersonKind.aids:
            return {"follow_up": "按季度随访，已纳入关怀救助"}
        case KeyPersonKind.youth:
            return {"category": rng.choice(("闲散青少年", "有不良行为青少年", "农村留守儿童"))}
        case KeyPersonKind.petition:
            return {"summary": rng.choice(_DEMANDS)}


def _point(rng: random.Random, grid: Grid) -> tuple[float, float]:
    return (round(rng.uniform(grid.min_lon, grid.max_lon), 6), round(rng.uniform(grid.min_lat, grid.max_lat), 6))


def _checkins(session: Session, rng: random.Random, person: KeyPerson, grid: Grid, today: date, at: datetime) -> int:
    """Two sign-ins and a location a day for the last three days, one day in ten a sign-in short; today's morning."""
    made = 0
    for back in (3, 2, 1, 0):
        day = today - timedelta(days=back)
        short = back > 0 and rng.random() < 0.1
        for hour, kind in ((9, CheckInKind.sign), (13, CheckInKind.locate), (18, CheckInKind.sign)):
            if (back == 0 and hour > 12) or (short and hour == 18):
                continue
            lon, lat = _point(rng, grid)
            moment = datetime(day.year, day.month, day.day, hour, rng.randint(0, 59), tzinfo=LOCAL_TZ)
            session.add(CheckIn(key_person_id=person.id, kind=kind, lon=lon, lat=lat, at=moment))
            made += 1
    return made


def seed_demo(session: Session, rng: random.Random) -> dict[str, int]:
    at = now()
    today = local_day(at)
    grids = list(session.scalars(select(Grid).order_by(Grid.code)))
    residents: dict[int, list[Resident]] = defaultdict(list)
    for r in session.scalars(
        select(Resident).where(Resident.grid_id.is_not(None), Resident.merged_into_id.is_(None)).order_by(Resident.id)
    ):
        residents[r.grid_id].append(r)  # type: ignore[index]
    houses: dict[int, list[int]] = defaultdict(list)
    for house_id, grid_id in session.execute(
        select(House.id, House.grid_id).where(House.grid_id.is_not(None)).order_by(House.id)
    ):
        houses[grid_id or 0].append(house_id)
    members: dict[int, dict[str, list[GridMember]]] = defaultdict(lambda: defaultdict(list))
    for m in session.scalars(select(GridMember).where(GridMember.staff_id.is_not(None)).order_by(GridMember.id)):
        members[m.grid_id][str(m.duty)].append(m)
    counts = {"key_persons": 0, "visits": 0, "patrols": 0, "checkins": 0, "care_warnings": 0, "door_knocks": 0}
    campaign = Campaign(
        name="2026 年平安临溪敲门行动",
        region_code=COUNTY_CODE,
        starts_on=today - timedelta(days=10),
        ends_on=today + timedelta(days=20),
        note="每户必到、每人必见、底数必清：核实人口房屋，排查重点人员和隐患。",
    )
    session.add(campaign)
    session.flush()
    people: list[KeyPerson] = []
    visits: list[Visit] = []
    person_visits: list[tuple[KeyPerson, Visit]] = []
    for grid in grids:
        workers = members[grid.id].get(GridDuty.worker.value, []) or members[grid.id].get(GridDuty.chief.value, [])
        worker = workers[0] if workers else None
        pool = residents.get(grid.id, [])
        for resident in rng.sample(pool, min(len(pool), rng.randint(2, 4))):
            kind = _pick(rng, _KINDS)
            risk = _pick(rng, _RISKS)
            since = today - timedelta(days=rng.randint(20, 900))
            guardian = rng.choice(_FAMILY)
            person = KeyPerson(
                resident=resident,
                resident_id=resident.id,
                kind=kind,
                risk=risk,
                details=_details(rng, kind, today, guardian),
                since=since,
                active=True,
                area_code=resident.area_code,
                grid_id=grid.id,
            )
            if kind == KeyPersonKind.corrections:
                person.until = date.fromisoformat(person.details["ends_on"])
            # Mostly on plan; one in eight is overdue (the warnings desk has something to show).
            interval = DEFAULT_DAYS[risk]
            late = rng.random() < 0.125
            gap = rng.randint(interval + 2, interval + 20) if late else rng.randint(0, max(interval - 2, 0))
            person.last_visit_at = at - timedelta(days=gap, hours=rng.randint(0, 8))
            session.add(person)
            people.append(person)
            if worker is not None:
                person.helpers.append(
                    Helper(kind=HelperKind.grid_worker, staff_id=worker.staff_id, name=worker.name, phone=worker.phone)
                )
            person.helpers.append(
                Helper(
                    kind=rng.choice((HelperKind.police, HelperKind.cadre)),
                    name=f"{resident.name[0]}{rng.choice(('警官', '书记', '主任'))}",
                    phone=f"139{rng.randint(10000000, 99999999)}",
                )
            )
            if kind == KeyPersonKind.mental:
                person.helpers.append(
                    Helper(
                        kind=HelperKind.family,
                        name=f"{resident.name[0]}{guardian}",
                        phone=f"138{rng.randint(10000000, 99999999)}",
                    )
                )
            if worker is not None:
                for back in (gap, gap + interval):
                    person_visits.append(
                        (
                            person,
                            Visit(
                                kind=VisitKind.visit,
                                staff_id=worker.staff_id,
                                started_at=at - timedelta(days=back, hours=2),
                                ended_at=at - timedelta(days=back, hours=1),
                                seen=rng.choice(_SEEN),
                                area_code=person.area_code,
                                grid_id=grid.id,
                            ),
                        )
                    )
        if worker is not None:
            for back in range(rng.randint(2, 4)):
                lon, lat = _point(rng, grid)
                start = at - timedelta(days=back * 2 + rng.randint(0, 1), hours=rng.randint(1, 6))
                trail = []
                for step in range(rng.randint(6, 14)):
                    lon = min(max(lon + rng.uniform(-0.0008, 0.0008), grid.min_lon), grid.max_lon)
                    lat = min(max(lat + rng.uniform(-0.0008, 0.0008), grid.min_lat), grid.max_lat)
                    trail.append([round(lon, 6), round(lat, 6), (start + timedelta(minutes=3 * step)).isoformat()])
                visits.append(
                    Visit(
                        kind=VisitKind.patrol,
                        staff_id=worker.staff_id,
                        started_at=start,
                        ended_at=start + timedelta(minutes=3 * len(trail)),
                        trail=trail,
                        lon=trail[-1][0],
                        lat=trail[-1][1],
                        seen=rng.choice(_PATROL),
                        area_code=grid.code,
                        grid_id=grid.id,
                    )
                )
                counts["patrols"] += 1
            grid_houses = houses.get(grid.id, [])
            for house_id in rng.sample(grid_houses, min(len(grid_houses), max(1, len(grid_houses) * 2 // 5), 20)):
                visits.append(
                    Visit(
                        kind=VisitKind.door_knock,
                        staff_id=worker.staff_id,
                        campaign_id=campaign.id,
                        house_id=house_id,
                        started_at=at - timedelta(days=rng.randint(0, 9), hours=3),
                        ended_at=at - timedelta(days=rng.randint(0, 9), hours=2),
                        seen=rng.choice(("人口信息核实无误", "新增租户 1 人，已登记", "户主外出，已电话核实", "")),
                        area_code=grid.code,
                        grid_id=grid.id,
                    )
                )
                counts["door_knocks"] += 1
    session.flush()
    for person, visit in person_visits:
        visit.key_person_id = person.id
        visits.append(visit)
    session.add_all(visits)
    counts["visits"] = sum(1 for v in visits if v.kind == VisitKind.visit)
    grid_of = {g.id: g for g in grids}
    for person in people:
        listed = datetime(*(person.since or today).timetuple()[:3], 1, tzinfo=at.tzinfo)
        first = Risk.green if person.risk != Risk.red else Risk.yellow
        session.add(RiskChange(key_person_id=person.id, old=None, new=first, reason="登记列管", at=listed))
        if person.risk != first:
            session.add(
                RiskChange(
                    key_person_id=person.id,
                    old=first,
                    new=person.risk,
                    at=at - timedelta(days=rng.randint(5, 60)),
                    reason=rng.choice(("近期情绪波动较大", "家属反映有异常言行", "多次无故外出", "近期多次越级上访")),
                )
            )
        refresh_due(session, person, today)
        if person.kind == KeyPersonKind.corrections:
            counts["checkins"] += _checkins(session, rng, person, grid_of[person.grid_id or 0], today, at)
            if rng.random() < 0.3:
                session.add(
                    LeaveRequest(
                        key_person_id=person.id,
                        destination=rng.choice(("杭州市", "金华市", "上海市")),
                        reason=rng.choice(("探亲", "就医复查", "务工面试")),
                        state=LeaveState.pending,
                        starts_on=today + timedelta(days=rng.randint(1, 5)),
                        ends_on=today + timedelta(days=rng.randint(6, 10)),
                    )
                )
    session.flush()
    for person in people:
        overdue = person.visit_due_on is not None and person.visit_due_on < today
        if overdue and warnings.raise_warning(
            session,
            person,
            WarningKind.visit_overdue,
            person.visit_due_on,  # type: ignore[arg-type]
            warnings.visit_overdue_message(person),
            at,
        ):
            counts["care_warnings"] += 1
    counts["key_persons"] = len(people)
    counts["campaigns"] = 1
    return counts
