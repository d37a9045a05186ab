"""The test world's disputes, petitions, reception days and volunteers: a row of each in town A and in
town B (marked 乙镇 / townb), and their ids in `w.extra_ids` under the path-parameter names the routes use."""

from datetime import timedelta

from sqlalchemy.orm import Session

from tests.factories import COMMUNITY_A, COMMUNITY_B, TOWN_A, TOWN_B, World
from zhili.casework.labels import today
from zhili.kit.protect import blind_index
from zhili.models import (
    Address,
    AddressLevel,
    Dispute,
    DisputeCategory,
    DisputeParty,
    House,
    HouseholdLink,
    LinkedHouse,
    Petition,
    PetitionForm,
    ReceptionDay,
    Resident,
    Volunteer,
    VolunteerTeam,
)

# Valid GB 11643 numbers (check digits computed): a petitioner in each town, known as a resident.
ID_A, ID_B = "330122198001011235", "330122198502021239"


def houses(session: Session, w: World, town: str, n: int = 6) -> list[House]:
    """`n` houses on one road of the town's first grid (the link tests need 5–15)."""
    a = town == "A"
    grid_code = (COMMUNITY_A if a else COMMUNITY_B) + "001"
    grid = w.grids[grid_code]
    road_name = "甲一社区联户路" if a else "乙镇联户路"
    road = Address(level=AddressLevel.road, name=road_name, full_name=road_name, area_code=grid_code,
                   grid_id=grid.id)
    session.add(road)
    session.flush()
    out = []
    for i in range(1, n + 1):
        addr = Address(parent_id=road.id, level=AddressLevel.building, name=f"{i}号", full_name=f"{road_name}{i}号",
                       area_code=grid_code, grid_id=grid.id)
        session.add(addr)
        session.flush()
        house = House(address_id=addr.id, owner_name=("甲户主" if a else "乙镇户主") + str(i), area_code=grid_code,
                      grid_id=grid.id)
        session.add(house)
        out.append(house)
    session.flush()
    return out


def add(session: Session, w: World) -> None:
    day = today()
    for town, town_code, community, id_number in (("A", TOWN_A, COMMUNITY_A, ID_A), ("B", TOWN_B, COMMUNITY_B, ID_B)):
        a = town == "A"
        grid_code = community + "001"
        grid = w.grids[grid_code]
        house_rows = houses(session, w, town)
        resident = Resident(name="甲居民" if a else "乙镇居民", id_number=id_number,
                            id_number_index=blind_index(id_number), phone="13700137000" if a else "13700137001",
                            phone_index=blind_index("13700137000" if a else "13700137001"),
                            house_id=house_rows[0].id, area_code=grid_code, grid_id=grid.id)
        session.add(resident)
        session.flush()
        dispute = Dispute(
            code=f"MD-TEST-{town}", name="甲一社区邻里漏水纠纷" if a else "乙镇宅基地纠纷", occurred_on=day,
            place="甲一社区3幢" if a else "乙镇一村", category=DisputeCategory.neighbour,
            deadline=day + timedelta(days=15),
            body="甲一社区人民调解委员会" if a else "乙镇一村人民调解委员会", body_region_code=community,
            area_code=grid_code, grid_id=grid.id,
            parties=[DisputeParty(name="甲当事人" if a else "乙镇当事人", id_number=id_number,
                                  id_number_index=blind_index(id_number), resident_id=resident.id)])
        session.add(dispute)
        leader = w.staff["towna-viewer" if a else "townb-admin"]
        reception = ReceptionDay(leader_id=leader.id, on=day + timedelta(days=3),
                                 place="甲街道信访接待室" if a else "乙镇信访接待室", region_code=town_code)
        session.add(reception)
        session.flush()
        petition = Petition(
            code=f"XF-TEST-{town}", form=PetitionForm.visit, petitioner_name="甲信访人" if a else "乙镇信访人",
            id_number=id_number, id_number_index=blind_index(id_number), phone="13600136000",
            phone_index=blind_index("13600136000"), resident_id=resident.id,
            title="甲一社区噪声扰民" if a else "乙镇征地补偿", content="反映情况", received_on=day,
            accept_due_on=day + timedelta(days=15), region_code=town_code, area_code=grid_code,
            reception_day_id=reception.id)
        session.add(petition)
        team = VolunteerTeam(name="甲一社区志愿服务队" if a else "乙镇志愿服务队", area_code=community)
        session.add(team)
        session.flush()
        volunteer = Volunteer(team_id=team.id, name="甲志愿者" if a else "乙镇志愿者", area_code=grid_code,
                              grid_id=grid.id)
        session.add(volunteer)
        session.flush()
        link = HouseholdLink(linker_name="甲联户代表" if a else "乙镇联户代表", volunteer_id=volunteer.id,
                             area_code=grid_code, grid_id=grid.id,
                             houses=[LinkedHouse(house_id=h.id) for h in house_rows[:5]])
        session.add(link)
        session.flush()
        w.extra_ids[town].update(dispute_id=dispute.id, dispute_action="assign", petition_id=petition.id,
                                 petition_action="accept", team_id=team.id, link_id=link.id)
