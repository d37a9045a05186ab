"""The demo county's base data: every grid gets addresses, houses, residents, units and a place, all valid."""

import random
import time

from sqlalchemy import func, select

from zhili.basedata.checks import check_resident_id
from zhili.basedata.demo import seed_demo
from zhili.jurisdiction.demo import build_demo
from zhili.models import Address, Grid, House, Place, Resident, ResidentKind, Unit


def test_seed_fills_every_grid(db_session):
    build_demo(db_session, "Demo@2026", "$argon2id$stand-in-hash")
    started = time.monotonic()
    counts = seed_demo(db_session, random.Random(339922))
    db_session.commit()
    assert time.monotonic() - started < 120  # generous: the budget is ~20 s on SQLite; this only catches a hang
    grids = set(db_session.scalars(select(Grid.code)))
    for model in (Address, House, Resident, Unit, Place):
        assert set(db_session.scalars(select(model.area_code).distinct())) == grids, model.__name__
    assert counts["residents"] == db_session.scalar(select(func.count(Resident.id)))
    kinds = set(db_session.scalars(select(Resident.kind).distinct()))
    assert {ResidentKind.registered, ResidentKind.floating, ResidentKind.left_behind} <= kinds
    for r in db_session.scalars(select(Resident).limit(300)):
        assert not r.id_number or check_resident_id(r.id_number) is None
        assert r.house is not None and r.house.area_code == r.area_code
