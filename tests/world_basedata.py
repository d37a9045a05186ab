"""The test world's addresses, houses, residents, units, places and export requests: a row of each in
town A and in town B (marked 乙镇), and their ids in `w.extra_ids` under the routes' path-parameter names."""

from datetime import timedelta

from sqlalchemy.orm import Session

from tests.factories import COMMUNITY_A, COMMUNITY_B, TOWN_A, TOWN_B, World
from zhili.kit.protect import blind_index
from zhili.kit.time import now
from zhili.models import Address, AddressLevel, House, Place, PlaceKind, Resident, Unit
from zhili.models.basedata import ExportRequest, ExportStatus

# Valid identity numbers (GB 11643 check digits) of the two towns' residents.
ID_A = "339922198503120011"
ID_B = "33992219900101001X"


def add(session: Session, w: World) -> None:
    for town, community, prefix, id_number, x in (("A", COMMUNITY_A, "甲一", ID_A, 119.52),
                                                  ("B", COMMUNITY_B, "乙镇", ID_B, 119.85)):
        grid = w.grids[community + "001"]
        road = Address(level=AddressLevel.road, name=f"{prefix}幸福路", full_name=f"{prefix}幸福路",
                       area_code=grid.code, grid_id=grid.id, lon=x, lat=29.25)
        session.add(road)
        session.flush()
        room = Address(parent_id=road.id, level=AddressLevel.room, name="8号", full_name=f"{prefix}幸福路 8号",
                       area_code=grid.code, grid_id=grid.id)
        session.add(room)
        session.flush()
        house = House(address_id=room.id, owner_name=f"{prefix}房主", owner_phone="13900001111",
                      owner_phone_index=blind_index("13900001111"), area_code=grid.code, grid_id=grid.id)
        session.add(house)
        session.flush()
        resident = Resident(name=f"{prefix}居民", id_number=id_number, id_number_index=blind_index(id_number),
                            gender="M", phone="13700001111", phone_index=blind_index("13700001111"),
                            house_id=house.id, household_head=True, area_code=grid.code, grid_id=grid.id)
        unit = Unit(name=f"{prefix}商店", area_code=grid.code, grid_id=grid.id, phone="0576-88880000",
                    phone_index=blind_index("0576-88880000"))
        point = f'{{"type":"Point","coordinates":[{x},29.26]}}'
        place = Place(name=f"{prefix}小学", kind=PlaceKind.school, geometry=point, lon=x, lat=29.26,
                      area_code=grid.code, grid_id=grid.id)
        session.add_all([resident, unit, place])
        requester = w.staff["towna-admin" if town == "A" else "townb-admin"]
        export = ExportRequest(kind="residents", filters={}, purpose=f"{prefix}敲门行动核查", region_code=TOWN_A if
                               town == "A" else TOWN_B, requested_by_id=requester.id,
                               requested_by_name=requester.display_name, status=ExportStatus.approved,
                               decided_by_id=w.staff["county-admin"].id, decided_by_name="县管理员", decided_at=now(),
                               expires_at=now() + timedelta(hours=24), downloads=0)
        session.add(export)
        session.flush()
        w.extra_ids[town].update(address_id=road.id, house_id=house.id, resident_id=resident.id, unit_id=unit.id,
                                 place_id=place.id, export_id=export.id)
