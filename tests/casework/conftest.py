"""Casework accounts beside the shared world: a mediator and a command leader in town A."""

import pytest

from tests.factories import TOWN_A, staff
from zhili.models import Role


@pytest.fixture
def cw_world(world, db_session):  # type: ignore[no-untyped-def]
    pw = world.staff["towna-admin"].password_hash
    staff(db_session, world, "towna-mediator", "甲街道调解员", [Role.mediator], TOWN_A, password_hash=pw)
    staff(db_session, world, "towna-leader", "甲街道指挥长", [Role.command_leader], TOWN_A, password_hash=pw)
    db_session.commit()
    return world
