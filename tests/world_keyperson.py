"""The test world's key persons, visits and campaigns: a row of each in town A and in town B (marked
乙镇 / townb), and their ids in `w.extra_ids` under the path-parameter names the routes use."""

from datetime import date, timedelta

from sqlalchemy.orm import Session

from tests.factories import COMMUNITY_A, COMMUNITY_B, TOWN_A, TOWN_B, World
from zhili.kit.protect import blind_index
from zhili.kit.time import now
from zhili.models.basedata import Address, AddressLevel, House, Resident
from zhili.models.keyperson import (
    Campaign,
    Helper,
    HelperKind,
    KeyPerson,
    KeyPersonKind,
    LeaveRequest,
    Risk,
    RiskChange,
    Visit,
    VisitKind,
)

# Valid GB 11643 numbers (check digits computed), one per town.
ID_A, ID_B = "330122198001010021", "330122198502020033"


def household(session: Session, w: World, grid_code: str, street: str, number: str, name: str,
              id_number: str = "", phone: str = "") -> tuple[House, Resident]:
    """An address, its house and one resident in a grid: what the base-data pages would have made."""
    grid = w.grids[grid_code]
    address = Address(level=AddressLevel.building, name=f"{street}{number}", full_name=f"{street}{number}",
                      area_code=grid_code, grid_id=grid.id, lon=(grid.min_lon + grid.max_lon) / 2,
                      lat=(grid.min_lat + grid.max_lat) / 2)
    session.add(address)
    session.flush()
    house = House(address_id=address.id, owner_name=name, area_code=grid_code, grid_id=grid.id)
    session.add(house)
    session.flush()
    resident = Resident(name=name, id_number=id_number, id_number_index=blind_index(id_number), phone=phone,
                        phone_index=blind_index(phone), house_id=house.id, household_head=True, area_code=grid_code,
                        grid_id=grid.id)
    session.add(resident)
    session.flush()
    return house, resident


def add(session: Session, w: World) -> None:
    today = date.today()
    for town, community, region, street, name, id_number in (
            ("A", COMMUNITY_A, TOWN_A, "甲一路", "甲镇张某", ID_A),
            ("B", COMMUNITY_B, TOWN_B, "乙镇一村幸福路", "乙镇李某", ID_B)):
        grid_code = community + "001"
        house, resident = household(session, w, grid_code, street, "1号", name, id_number, "13912345678")
        person = KeyPerson(resident_id=resident.id, kind=KeyPersonKind.released, risk=Risk.yellow,
                           details={"crime": "盗窃罪", "released_on": "2025-06-01"}, since=today - timedelta(days=40),
                           visit_due_on=today - timedelta(days=10), area_code=grid_code, grid_id=w.grids[grid_code].id)
        session.add(person)
        session.flush()
        session.add(RiskChange(key_person_id=person.id, old=None, new=Risk.yellow, reason="登记列管"))
        session.add(Helper(key_person_id=person.id, kind=HelperKind.police, name=f"{name[:2]}民警",
                           phone="13800001111"))
        leave = LeaveRequest(key_person_id=person.id, destination="杭州", reason="探亲", starts_on=today,
                             ends_on=today + timedelta(days=3))
        session.add(leave)
        gw = w.staff["towna-gw" if town == "A" else "townb-gw"]
        visit = Visit(kind=VisitKind.patrol, staff_id=gw.id, started_at=now() - timedelta(hours=1), ended_at=now(),
                      trail=[[119.52, 29.25, None], [119.53, 29.26, None]] if town == "A" else [[119.85, 29.25, None]],
                      seen=f"{street}巡查正常", area_code=grid_code, grid_id=w.grids[grid_code].id)
        session.add(visit)
        campaign = Campaign(name=f"{'甲街道' if town == 'A' else '乙镇'}敲门行动", region_code=region,
                            starts_on=today - timedelta(days=1), ends_on=today + timedelta(days=30))
        session.add(campaign)
        session.flush()
        w.extra_ids[town].update(key_person_id=person.id, leave_id=leave.id, visit_id=visit.id,
                                 campaign_id=campaign.id)
