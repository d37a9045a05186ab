"""The demo casework: disputes in every grid at every stage, petitions in every town (overdue ones and
a repeat petitioner), reception days, volunteer teams with hours, household links."""

import random

from sqlalchemy import func, select

from tests.world_casework import ID_A
from zhili.casework.labels import today
from zhili.casework.seed import seed_demo
from zhili.jurisdiction.demo import build_demo
from zhili.kit.codes import id_check_digit
from zhili.kit.protect import blind_index
from zhili.models import (
    Address,
    AddressLevel,
    Dispute,
    Grid,
    House,
    HouseholdLink,
    MediationLevel,
    Notification,
    Petition,
    PetitionStatus,
    Region,
    Resident,
    ServiceHours,
    VolunteerTeam,
)


def _base_data(session, grids):  # type: ignore[no-untyped-def]
    """What the base-data seed leaves behind, in miniature: a road, six houses and two residents a grid."""
    for n, g in enumerate(grids):
        road = Address(level=AddressLevel.road, name=f"{g.code}路", full_name=f"{g.name}测试路", area_code=g.code,
                       grid_id=g.id)
        session.add(road)
        session.flush()
        for i in range(6):
            addr = Address(parent_id=road.id, level=AddressLevel.building, name=f"{i + 1}号",
                           full_name=f"{g.name}测试路{i + 1}号", area_code=g.code, grid_id=g.id)
            session.add(addr)
            session.flush()
            session.add(House(address_id=addr.id, area_code=g.code, grid_id=g.id))
        for i in range(2):
            first17 = f"339922198{n % 10}0101{i}{n % 100:02d}"
            number = first17 + id_check_digit(first17)
            session.add(Resident(name=f"居民{n}{i}", id_number=number, id_number_index=blind_index(number),
                                 area_code=g.code, grid_id=g.id))
    session.flush()


def test_seed_fills_every_grid_and_town(db_session):
    build_demo(db_session, "Demo@2026", "$argon2id$stand-in-hash")
    grids = list(db_session.scalars(select(Grid).order_by(Grid.code)))
    _base_data(db_session, grids)
    counts = seed_demo(db_session, random.Random(8))
    db_session.commit()
    assert counts["disputes"] == 2 * len(grids)
    with_disputes = set(db_session.scalars(select(Dispute.area_code).distinct()))
    assert with_disputes == {g.code for g in grids}
    statuses = set(db_session.scalars(select(Dispute.status).distinct()))
    assert statuses == {"registered", "mediating", "resolved", "closed"}
    levels = set(db_session.scalars(select(Dispute.level).distinct()))
    assert {MediationLevel.village, MediationLevel.town, MediationLevel.county} <= levels
    flagged = db_session.scalars(select(Dispute).where(Dispute.criminal_risk.is_(True))).all()
    assert len(flagged) >= 2
    assert db_session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.department_id.is_not(None))) == len(flagged)
    towns = set(db_session.scalars(select(Region.code).where(Region.level == "town")))
    assert set(db_session.scalars(select(Petition.region_code).distinct())) == towns
    overdue = db_session.scalar(select(func.count()).select_from(Petition).where(
        Petition.status == PetitionStatus.received, Petition.accept_due_on < today()))
    assert overdue >= len(towns)
    repeats = db_session.execute(select(Petition.region_code, Petition.id_number_index, func.count())
                                 .group_by(Petition.region_code, Petition.id_number_index)
                                 .having(func.count() > 1)).all()
    assert len(repeats) >= len(towns)
    assert db_session.scalar(select(func.count()).select_from(VolunteerTeam)) >= 1
    assert db_session.scalar(select(func.sum(ServiceHours.hours))) > 0
    assert db_session.scalar(select(func.count()).select_from(HouseholdLink)) == len(grids)
    assert ID_A not in {p.id_number for p in db_session.scalars(select(Petition).limit(50))}  # fictional people only
