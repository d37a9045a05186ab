from collections import Counter

from sqlalchemy import func, select

from zhili.auth.passwords import hash_password
from zhili.category.catalog import install
from zhili.jurisdiction.demo import build_demo
from zhili.models import OrderEvent, Region, WorkOrder
from zhili.work_order.simulator import Simulator


def test_the_simulator_files_appeals_and_moves_them_round_the_loop(db_session):
    build_demo(db_session, "Demo-pass-1", hash_password("Demo-pass-1"))
    county = db_session.scalars(select(Region).where(Region.level == "county")).one()
    install(db_session, county, demo_rules=True)
    db_session.commit()

    simulator = Simulator(seed=7)
    filed = moved = 0
    for _tick in range(40):
        counts = simulator.tick(moves=6)
        filed, moved = filed + counts.filed, moved + counts.moved
    assert filed == 40
    assert moved > 40  # most ticks find something to move

    db_session.expire_all()
    statuses = Counter(db_session.scalars(select(WorkOrder.status)))
    assert sum(statuses.values()) == 40
    assert statuses["closed"] > 0 and statuses["registered"] < 40
    # Every order's events start with its registration and every move is on the log.
    events = db_session.scalar(select(func.count(OrderEvent.id)))
    assert events == 40 + moved
    actions = set(db_session.scalars(select(OrderEvent.action)))
    assert {"register", "dispatch", "sign", "report", "verify_pass", "callback"} <= actions
    # Every demo grid worker is somewhere inside one of their grids, for the command map.
    from shapely.geometry import Point

    from zhili.kit import geo
    from zhili.models import Grid, GridMember, WorkerPosition

    positions = db_session.scalars(select(WorkerPosition)).all()
    assert positions
    for p in positions:
        grids = db_session.scalars(select(Grid).join(GridMember, GridMember.grid_id == Grid.id)
                                   .where(GridMember.staff_id == p.staff_id)).all()
        assert any(geo.loads(g.boundary).contains(Point(p.lon, p.lat)) for g in grids)
    # The ledger's facts, derived from those events, count every order once.
    from zhili.assessment import facts
    from zhili.models import OrderFact

    assert facts.catch_up(db_session) == 40
    assert db_session.scalar(select(func.count()).select_from(OrderFact)) == 40
