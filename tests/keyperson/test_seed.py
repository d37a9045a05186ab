"""The demo seed: key persons in every grid of the demo county, with helpers, risk histories, visits,
check-ins, a few open warnings and one campaign in progress."""

import random

from sqlalchemy import func, select

from tests.factories import World
from tests.world_keyperson import household
from zhili.jurisdiction.demo import build_demo
from zhili.keyperson.demo import seed_demo
from zhili.models import Grid
from zhili.models.keyperson import CareWarning, Helper, KeyPerson, RiskChange, Visit, VisitKind


def test_seed_fills_every_grid(db_session):
    build_demo(db_session, "Demo@2026", "$argon2id$stand-in-hash")
    db_session.flush()
    grids = list(db_session.scalars(select(Grid).order_by(Grid.code)))
    # The base-data seed runs first in the real demo; here three residents per grid stand in for it.
    w = World(grids={g.code: g for g in grids})
    for g in grids:
        for n in range(3):
            household(db_session, w, g.code, f"{g.name}路", f"{n + 1}号", f"居民{g.code[-5:]}{n}")
    counts = seed_demo(db_session, random.Random(7))
    db_session.flush()
    per_grid = dict(db_session.execute(select(KeyPerson.grid_id, func.count()).group_by(KeyPerson.grid_id)).all())
    assert all(per_grid.get(g.id, 0) >= 2 for g in grids), "a grid without key persons"
    assert counts["key_persons"] == sum(per_grid.values())
    assert db_session.scalar(select(func.count()).select_from(Helper)) >= counts["key_persons"]
    assert db_session.scalar(select(func.count()).select_from(RiskChange)) >= counts["key_persons"]
    patrolled = set(db_session.scalars(select(Visit.grid_id).where(Visit.kind == VisitKind.patrol)))
    assert patrolled >= {g.id for g in grids}
    assert counts["door_knocks"] > 0 and counts["campaigns"] == 1
    open_warnings = db_session.scalar(select(func.count()).select_from(CareWarning)
                                      .where(CareWarning.cleared_at.is_(None)))
    assert 0 < open_warnings < counts["key_persons"] // 2
    undated = db_session.scalar(select(func.count()).select_from(KeyPerson).where(KeyPerson.visit_due_on.is_(None)))
    assert undated == 0
