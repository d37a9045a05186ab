"""Demo base data for every grid of the demo county (jurisdiction.demo): addresses, houses, residents
of every kind, units and places. Clearly fictional: names come from a generator over common surnames
and given names; identity numbers carry the fictional county's code 339922 (prefecture "99" does not
exist in Zhejiang) with valid GB 11643 check digits; phones are 1990576xxxx, a block chosen to carry
the fictional city's area code, written in a running sequence; credit codes carry the county code and
valid check characters.

Everything is drawn from the caller's `random.Random`, so two runs write the same rows.
"""

import json
import random
from datetime import date, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhili.basedata.checks import credit_check_char
from zhili.kit import geo
from zhili.kit.codes import id_check_digit
from zhili.kit.protect import blind_index
from zhili.models import (
    Address,
    AddressLevel,
    Grid,
    House,
    HouseUse,
    Place,
    PlaceKind,
    Resident,
    ResidentKind,
    Unit,
    UnitKind,
)

COUNTY: Final = "339922"
SURNAMES: Final = ("王", "陈", "张", "李", "吴", "周", "徐", "朱", "杨", "金", "叶", "胡", "郑", "应", "楼", "蒋",
                   "方", "俞", "潘", "何", "黄", "林", "赵", "孙", "刘", "沈", "杜", "程", "施", "卢", "章", "汪")
GIVEN: Final = ("建国", "志强", "海燕", "丽娟", "伟", "芳", "敏", "静", "磊", "洋", "勇", "军", "杰", "娟", "涛",
                "明", "秀英", "桂英", "晓东", "晓燕", "红梅", "建华", "国庆", "文杰", "佳怡", "子涵", "宇轩", "浩然",
                "欣怡", "梓萱", "雨桐", "思远", "俊杰", "慧敏", "丽华", "春燕", "国强", "卫东", "志明", "永红")
ROADS: Final = ("和平路", "解放路", "人民路", "建设路", "文化路", "新华街", "青年路", "振兴路", "幸福里", "安居巷",
                "育才路", "长乐街", "永安路", "兴业路", "康宁街", "丰收路")
ORIGINS: Final = ("安徽省阜阳市", "江西省上饶市", "河南省信阳市", "贵州省毕节市", "四川省达州市", "湖南省邵阳市")
COUNTRIES: Final = ("越南", "韩国", "意大利", "巴基斯坦")
PLACE_KINDS: Final = (PlaceKind.school, PlaceKind.hospital, PlaceKind.market, PlaceKind.water, PlaceKind.scenic,
                      PlaceKind.hazardous, PlaceKind.venue)
PLACE_NAMES: Final = {PlaceKind.school: "小学", PlaceKind.hospital: "卫生服务站", PlaceKind.market: "农贸市场",
                      PlaceKind.water: "山塘", PlaceKind.scenic: "文化公园", PlaceKind.hazardous: "加油站",
                      PlaceKind.venue: "文化礼堂"}
UNITS: Final = ((UnitKind.shop, "便利店"), (UnitKind.enterprise, "五金加工厂"), (UnitKind.social_org, "老年协会"),
                (UnitKind.shop, "理发店"), (UnitKind.institution, "幼儿园"))


class _Numbers:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.phones = 0
        self.ids: set[str] = set()

    def phone(self) -> str:
        self.phones += 1
        return f"1990576{self.phones % 10000:04d}"

    def id_number(self, born: date, male: bool) -> str:
        while True:
            seq = self.rng.randrange(100)
            gender = self.rng.choice((1, 3, 5, 7, 9) if male else (0, 2, 4, 6, 8))
            first17 = f"{COUNTY}{born:%Y%m%d}{seq:02d}{gender}"
            number = first17 + id_check_digit(first17)
            if number not in self.ids:
                self.ids.add(number)
                return number


def seed_demo(session: Session, rng: random.Random) -> dict[str, int]:
    """Fill every grid with base data (flushes, never commits). Returns the counts written."""
    numbers = _Numbers(rng)
    counts = {"addresses": 0, "houses": 0, "residents": 0, "units": 0, "places": 0}
    grids = list(session.scalars(select(Grid).order_by(Grid.code)))
    for n, grid in enumerate(grids):
        shape = geo.loads(grid.boundary)
        inside = shape.representative_point()
        road_name = f"{grid.region.name.removesuffix('社区').removesuffix('村')}{ROADS[n % len(ROADS)]}"
        road = Address(level=AddressLevel.road, name=road_name, full_name=road_name, area_code=grid.code,
                       grid_id=grid.id, lon=round(inside.x, 6), lat=round(inside.y, 6))
        session.add(road)
        counts["addresses"] += 1
        for b in range(1, 4):
            building = Address(parent=road, level=AddressLevel.building, name=f"{b}号楼",
                               full_name=f"{road_name} {b}号楼", area_code=grid.code, grid_id=grid.id)
            session.add(building)
            counts["addresses"] += 1
            for floor in (1, 2):
                for door in (1, 2):
                    room_name = f"{floor}0{door}室"
                    room = Address(parent=building, level=AddressLevel.room, name=room_name,
                                   full_name=f"{road_name} {b}号楼 {room_name}", area_code=grid.code, grid_id=grid.id)
                    session.add(room)
                    counts["addresses"] += 1
                    counts["residents"] += _household(session, rng, numbers, grid, room)
                    counts["houses"] += 1
        for unit_kind, suffix in rng.sample(UNITS, 2):
            name = f"{road_name.removesuffix('路').removesuffix('街')}{suffix}"
            credit = ""
            if unit_kind != UnitKind.shop:
                body = f"92{COUNTY}{rng.randrange(10**9):09d}"[:17]
                credit = body + credit_check_char(body)
            phone = numbers.phone()
            session.add(Unit(name=name, kind=unit_kind, credit_code=credit, legal_person=_name(rng), phone=phone,
                             phone_index=blind_index(phone), employees=rng.randint(2, 60), address=building,
                             area_code=grid.code, grid_id=grid.id))
            counts["units"] += 1
        place_kind = PLACE_KINDS[n % len(PLACE_KINDS)]
        point = shape.representative_point()
        phone = numbers.phone()
        session.add(Place(name=f"{grid.region.name}{PLACE_NAMES[place_kind]}", kind=place_kind,
                          geometry=json.dumps({"type": "Point", "coordinates": [point.x, point.y]}),
                          lon=point.x, lat=point.y, manager=_name(rng), phone=phone, phone_index=blind_index(phone),
                          capacity=rng.choice((50, 120, 300, 800)), area_code=grid.code, grid_id=grid.id))
        counts["places"] += 1
        if n % 25 == 24:
            session.flush()
    session.flush()
    return counts


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _household(session: Session, rng: random.Random, numbers: _Numbers, grid: Grid, room: Address) -> int:
    rented = rng.random() < 0.2
    owner = _name(rng)
    owner_phone = numbers.phone()
    house = House(address=room, use=HouseUse.residential, owner_name=owner, owner_phone=owner_phone,
                  owner_phone_index=blind_index(owner_phone), floor_area_m2=float(rng.choice((58, 76, 89, 102, 120))),
                  rented=rented, group_rental=rented and rng.random() < 0.1, area_code=grid.code, grid_id=grid.id)
    session.add(house)
    surname = owner[0]
    today = date(2026, 1, 1)
    members: list[tuple[str, str, ResidentKind, int, bool]] = []  # name, relation, kind, age, male
    if rented:
        for i in range(rng.randint(1, 3)):
            kind = ResidentKind.overseas if rng.random() < 0.05 else ResidentKind.floating
            members.append((_name(rng), "租户" if i else "承租人", kind, rng.randint(19, 55), rng.random() < 0.5))
    else:
        head_age = rng.randint(30, 80)
        members.append((owner, "本人", ResidentKind.registered, head_age, True))
        members.append((surname + rng.choice(GIVEN), "配偶", ResidentKind.registered, head_age - rng.randint(0, 4),
                        False))
        if head_age < 60 and rng.random() < 0.7:
            child_age = rng.randint(3, max(head_age - 22, 4))
            left = rng.random() < 0.15 and child_age < 16
            kind = ResidentKind.left_behind if left else ResidentKind.registered
            members.append((surname + rng.choice(GIVEN), "子" if rng.random() < 0.5 else "女", kind, child_age,
                            rng.random() < 0.5))
    for i, (name, relation, kind, age, male) in enumerate(members):
        born = today - timedelta(days=365 * age + rng.randrange(365))
        overseas = kind == ResidentKind.overseas
        id_number = "" if overseas else numbers.id_number(born, male)
        phone = numbers.phone() if age >= 16 else ""
        session.add(Resident(
            name=name, id_number=id_number, id_number_index=blind_index(id_number) if id_number else "",
            gender="M" if male else "F", birth_date=born, phone=phone, phone_index=blind_index(phone) if phone else "",
            kind=kind, house=house, household_head=i == 0, relation=relation, ethnicity="" if overseas else "汉族",
            origin=rng.choice(ORIGINS) if kind == ResidentKind.floating else "",
            nationality=rng.choice(COUNTRIES) if overseas else "", area_code=grid.code, grid_id=grid.id))
    return len(members)
