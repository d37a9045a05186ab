"""A grid chief for grid A001 (the world has workers only), and a resident in grid A002."""

import pytest

from tests.factories import COMMUNITY_A, PASSWORD, staff
from tests.world_keyperson import household
from zhili.auth.passwords import hash_password
from zhili.models import GridDuty, GridMember, Role


@pytest.fixture
def chief(world, db_session):
    s = staff(db_session, world, "towna-gc", "甲一网格长", [Role.grid_chief], COMMUNITY_A,
              password_hash=hash_password(PASSWORD))
    db_session.flush()
    db_session.add(GridMember(grid_id=world.grids[COMMUNITY_A + "001"].id, duty=GridDuty.chief, staff_id=s.id,
                              name=s.display_name))
    db_session.commit()
    return s


@pytest.fixture
def resident(world, db_session):
    """A resident of grid A001 not yet listed."""
    _house, r = household(db_session, world, COMMUNITY_A + "001", "甲一路", "8号", "赵六", "330122199001010018",
                          "13700001234")
    db_session.commit()
    return r


@pytest.fixture
def other_grid_resident(world, db_session):
    _house, r = household(db_session, world, COMMUNITY_A + "002", "甲二路", "2号", "钱七")
    db_session.commit()
    return r
