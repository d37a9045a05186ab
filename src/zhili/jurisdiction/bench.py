"""Benchmarks of the jurisdiction domain."""

from typing import Any

from zhili.bench import BenchContext, benchmark, timings_ms


@benchmark("scoped-read")
def scoped_read(ctx: BenchContext) -> dict[str, Any]:
    """Scoped grid list through the JSON API vs. its floor, the same scoped SELECT without HTTP."""
    from fastapi.testclient import TestClient
    from sqlalchemy import func, select

    from zhili.access import readable
    from zhili.app import create_app
    from zhili.auth.passwords import hash_password
    from zhili.auth.service import subject_for_staff
    from zhili.config import get_settings
    from zhili.db import get_sessionmaker, session_scope
    from zhili.jurisdiction.demo import build_demo
    from zhili.models import Grid, Region, Staff, StaffRole

    password = get_settings().demo_password
    with session_scope() as session:
        build_demo(session, password, hash_password(password))
    with session_scope() as session:
        # A town-level admin: the common case of a scope that cuts the county.
        town_admin = session.scalars(
            select(Staff).join(StaffRole).join(Staff.region)
            .where(StaffRole.role == "admin", Region.level == "town").order_by(Staff.username)
        ).first()
        assert town_admin is not None
        username = town_admin.username
        subject = subject_for_staff(town_admin)
        total_grids = session.scalar(select(func.count(Grid.id)))
    repeat = ctx.size or 200
    client = TestClient(create_app())
    token = client.post("/api/v1/auth/token", json={"username": username, "password": password}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    page = client.get("/api/v1/grids?page_size=100", headers=headers).json()

    def via_api() -> None:
        r = client.get("/api/v1/grids?page_size=100", headers=headers)
        assert r.status_code == 200

    def floor() -> None:
        with get_sessionmaker()() as session:
            list(session.scalars(readable(subject, Grid).order_by(Grid.code).limit(100)))

    return {
        "sizes": {"grids_total": total_grids, "grids_in_scope": page["total"], "page_size": 100},
        "api_list_grids": timings_ms(via_api, repeat),
        "floor_scoped_select": timings_ms(floor, repeat),
    }
