"""The command map's reads (一张图): an area and its children with their load, the area's figures of
the day, the open orders in a viewport (clustered when many), the density of appeals as h3 hexagons,
the hot issues, the grid workers' last positions. Everything is scoped by `readable(subject)`; an area
is a region (by its 12-digit code) or a grid (15 digits)."""

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final

import h3
from sqlalchemy import ColumnElement, Select, and_, case, func, select
from sqlalchemy.orm import Session

from zhili.access import get_readable, readable
from zhili.auth.subject import Subject
from zhili.config import get_settings
from zhili.kit import geo
from zhili.kit.calendar import SHANGHAI as LOCAL
from zhili.kit.codes import PREFIX_LEN, RegionLevel, ancestor_codes, subtree_prefix
from zhili.kit.i18n import _
from zhili.kit.time import aware, now
from zhili.models import Appeal, Category, Grid, GridMember, Region, Staff, WorkerPosition, WorkOrder
from zhili.work_order.workflow import OPEN, STATUS_LABELS

OPEN_VALUES: Final = [s.value for s in OPEN]
MAX_MARKERS = 400  # more open orders than this in the viewport are drawn as clusters
MAX_POINTS = 100_000  # the points of one layer fetch read at most (the newest)
TREND_DAYS = 30
WORKER_FRESH_HOURS = 12  # older positions are not "last known" any more
CHILD_LEVEL: Final = {RegionLevel.city: "county", RegionLevel.county: "town", RegionLevel.town: "village",
                      RegionLevel.village: "grid"}


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    level: str  # city / county / town / village / grid
    region: Region | None
    grid: Grid | None

    @property
    def bbox(self) -> list[float] | None:
        r: Any = self.grid or self.region
        if r is None or r.min_lon is None:
            return None
        return [r.min_lon, r.min_lat, r.max_lon, r.max_lat]


def area(session: Session, subject: Subject, code: str | None) -> Area:
    """The area the subject asked for, or its own; 404 outside its jurisdiction."""
    code = code or subject.region_code
    if len(code) == 15:
        grid = get_readable(session, subject, Grid, Grid.code == code, what=_("网格"))
        return Area(grid.code, grid.name, "grid", None, grid)
    region = get_readable(session, subject, Region, Region.code == code, what=_("区域"))
    return Area(region.code, region.name, str(region.level), region, None)


def _orders_in(subject: Subject, where: Area) -> Select[Any]:
    stmt = readable(subject, WorkOrder)
    if where.grid is not None:
        return stmt.where(WorkOrder.grid_id == where.grid.id)
    return stmt.where(WorkOrder.place_code.startswith(subtree_prefix(where.code), autoescape=True))


def trail(session: Session, subject: Subject, where: Area) -> list[dict[str, str]]:
    """The breadcrumb from the subject's own region down to the area."""
    codes = [c for c in ancestor_codes(where.region.code if where.region else where.grid.region.code)  # type: ignore[union-attr]
             if c.startswith(subject.scope_prefix)]
    if where.grid is not None:
        codes.insert(0, where.grid.region.code)
    regions = {r.code: r for r in session.scalars(select(Region).where(Region.code.in_(codes)))}
    crumbs = [{"code": c, "name": regions[c].name, "level": str(regions[c].level)}
              for c in reversed(codes) if c in regions]
    return [*crumbs, {"code": where.code, "name": where.name, "level": where.level}]


# Drawing at the edge: GCJ-02 tiles need GCJ-02 coordinates ------------------------------------------


def _out(lon: float, lat: float) -> tuple[float, float]:
    if get_settings().map_tile_crs == "gcj02":
        return geo.wgs84_to_gcj02(lon, lat)
    return lon, lat


def _geometry(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    shape = json.loads(text)
    if get_settings().map_tile_crs == "gcj02":
        shape = {**shape, "coordinates": geo.map_coords(shape["coordinates"], geo.wgs84_to_gcj02)}
    return shape  # type: ignore[no-any-return]


def _bbox_in(bbox: list[float] | None) -> list[float] | None:
    """A viewport from the map, back to WGS-84."""
    if bbox is None or get_settings().map_tile_crs != "gcj02":
        return bbox
    (a, b), (c, d) = geo.gcj02_to_wgs84(bbox[0], bbox[1]), geo.gcj02_to_wgs84(bbox[2], bbox[3])
    return [a, b, c, d]


# Area and children ---------------------------------------------------------------------------------


def _load(open_: int, warned: int, overdue: int) -> str:
    """The colour of an area by the worst state of its open orders."""
    if overdue:
        return "high"
    if warned:
        return "mid"
    return "low" if open_ else "none"


def _overdue(at: datetime) -> ColumnElement[bool]:
    """Red: marked by the sweep, or past its due time since the last sweep."""
    return and_(WorkOrder.due_at.is_not(None), (WorkOrder.overdue_at.is_not(None)) | (WorkOrder.due_at <= at))


def _counts(column: ColumnElement[Any]) -> list[Any]:
    overdue = _overdue(now())
    return [column.label("key"), func.count().label("open"),
            func.sum(case((overdue, 1), else_=0)).label("overdue"),
            func.sum(case((and_(~overdue, WorkOrder.warned_at.is_not(None)), 1), else_=0)).label("warned")]


def area_view(session: Session, subject: Subject, where: Area) -> dict[str, Any]:
    children: list[dict[str, Any]] = []
    if where.region is not None and where.region.level in CHILD_LEVEL:
        child_level = CHILD_LEVEL[where.region.level]
        open_orders = _orders_in(subject, where).where(WorkOrder.status.in_(OPEN_VALUES))
        if child_level == "grid":
            kids: list[Any] = list(session.scalars(readable(subject, Grid).where(Grid.region_id == where.region.id)
                                                   .order_by(Grid.code)))
            key: Any = WorkOrder.grid_id
        else:
            kids = list(session.scalars(readable(subject, Region).where(Region.parent_id == where.region.id)
                                        .order_by(Region.code)))
            key = func.substr(WorkOrder.place_code, 1, PREFIX_LEN[RegionLevel(child_level)])
        stats = {str(r.key): r for r in session.execute(
            open_orders.with_only_columns(*_counts(key)).group_by(key))}
        for kid in kids:
            s = stats.get(str(kid.id) if child_level == "grid" else subtree_prefix(kid.code))
            open_, overdue, warned = (int(s.open), int(s.overdue or 0), int(s.warned or 0)) if s else (0, 0, 0)
            children.append({"type": "Feature", "geometry": _geometry(kid.boundary), "properties": {
                "code": kid.code, "name": kid.name, "level": child_level, "open": open_, "overdue": overdue,
                "warned": warned, "load": _load(open_, warned, overdue)}})
    outline_of: Any = where.grid or where.region
    outline = ({"type": "Feature", "geometry": _geometry(outline_of.boundary),
                "properties": {"code": where.code, "name": where.name, "level": where.level}}
               if outline_of is not None and outline_of.boundary else None)
    return {"area": {"code": where.code, "name": where.name, "level": where.level, "bbox": _bbox_out(where.bbox)},
            "trail": trail(session, subject, where), "outline": outline,
            "children": {"type": "FeatureCollection", "features": [c for c in children if c["geometry"]]}}


def _bbox_out(bbox: list[float] | None) -> list[float] | None:
    if bbox is None:
        return None
    a, b = _out(bbox[0], bbox[1])
    c, d = _out(bbox[2], bbox[3])
    return [a, b, c, d]


# The side panel ----------------------------------------------------------------------------------


def _local_midnight(at: datetime) -> datetime:
    local = at.astimezone(LOCAL)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _local_day(session: Session, column: Any) -> Any:
    """The local (Asia/Shanghai) calendar day of a UTC timestamp, counted in the database."""
    if session.get_bind().dialect.name == "sqlite":
        return func.date(column, "+8 hours")
    return func.date(func.timezone("Asia/Shanghai", column))


def _index(day: Any, since: datetime) -> int:
    value = day if isinstance(day, date) else date.fromisoformat(str(day))
    return min(TREND_DAYS - 1, max(0, (value - since.date()).days))


def summary(session: Session, subject: Subject, where: Area, at: datetime | None = None) -> dict[str, Any]:
    at = at or now()
    today = _local_midnight(at)
    since = today - timedelta(days=TREND_DAYS - 1)
    orders = _orders_in(subject, where)
    overdue = _overdue(at)
    live = session.execute(orders.where(WorkOrder.status.in_(OPEN_VALUES)).with_only_columns(
        func.count(), func.sum(case((overdue, 1), else_=0)),
        func.sum(case((and_(~overdue, WorkOrder.warned_at.is_not(None)), 1), else_=0)))).one()
    recent = orders.where(WorkOrder.created_at >= since)
    intake_days = [0] * TREND_DAYS
    day = _local_day(session, WorkOrder.created_at)
    for d, n in session.execute(recent.with_only_columns(day, func.count()).group_by(day)):
        intake_days[_index(d, since)] += n
    closed_days = [0] * TREND_DAYS
    rated = satisfied = 0
    day = _local_day(session, WorkOrder.closed_at)
    closed = orders.where(WorkOrder.closed_at >= since, WorkOrder.status == "closed").with_only_columns(
        day, func.count(), func.count(WorkOrder.rating), func.sum(case((WorkOrder.rating >= 3, 1), else_=0)))
    for d, n, r, ok in session.execute(closed.group_by(day)):
        closed_days[_index(d, since)] += n
        rated, satisfied = rated + int(r or 0), satisfied + int(ok or 0)
    ids = recent.with_only_columns(WorkOrder.category_id).where(WorkOrder.category_id.is_not(None)).subquery()
    top = session.execute(select(Category.name, func.count()).join(ids, ids.c.category_id == Category.id)
                          .group_by(Category.name).order_by(func.count().desc()).limit(5)).all()
    return {
        "code": where.code, "name": where.name, "as_of": at.isoformat(),
        "today": {"intake": intake_days[-1], "closed": closed_days[-1]},
        "open": int(live[0] or 0), "overdue": int(live[1] or 0), "warned": int(live[2] or 0),
        "satisfaction": {"rate": round(satisfied / rated, 4) if rated else None, "rated": rated},
        "top_categories": [{"name": n, "count": c} for n, c in top],
        "trend": {"days": [f"{since + timedelta(days=i):%Y-%m-%d}" for i in range(TREND_DAYS)],
                  "intake": intake_days, "closed": closed_days},
    }


# Layers --------------------------------------------------------------------------------------------


def _in_box(stmt: Any, lon: Any, lat: Any, bbox: list[float] | None) -> Any:
    box = _bbox_in(bbox)
    if box is None:
        return stmt
    return stmt.where(lon >= box[0], lat >= box[1], lon <= box[2], lat <= box[3])


def colour_of(order: Any, at: datetime) -> str | None:
    """The deadline colour without the calendar: the sweep's marks (it warns at the configured share)."""
    if order.due_at is None:
        return None
    if order.overdue_at is not None or aware(order.due_at) <= at:  # type: ignore[operator]
        return "red"
    return "yellow" if order.warned_at is not None else "green"


def _resolution(zoom: int) -> int:
    return max(5, min(10, zoom - 6))


def orders_layer(session: Session, subject: Subject, where: Area, bbox: list[float] | None,
                 zoom: int) -> dict[str, Any]:
    at = now()
    stmt = _in_box(_orders_in(subject, where).where(WorkOrder.status.in_(OPEN_VALUES), WorkOrder.lon.is_not(None)),
                   WorkOrder.lon, WorkOrder.lat, bbox)
    total = session.scalar(stmt.with_only_columns(func.count())) or 0
    if total > MAX_MARKERS:
        res = _resolution(zoom)
        cells: dict[str, list[float]] = {}
        for lon, lat, due_at, overdue_at in session.execute(
                stmt.with_only_columns(WorkOrder.lon, WorkOrder.lat, WorkOrder.due_at, WorkOrder.overdue_at)
                .order_by(WorkOrder.id.desc()).limit(MAX_POINTS)):
            cell = cells.setdefault(h3.latlng_to_cell(lat, lon, res), [0.0, 0.0, 0, 0])
            cell[0] += lon
            cell[1] += lat
            cell[2] += 1
            cell[3] += overdue_at is not None or (due_at is not None and aware(due_at) <= at)  # type: ignore[operator]
        clusters = []
        for s_lon, s_lat, count, late in cells.values():
            lon, lat = _out(s_lon / count, s_lat / count)
            clusters.append({"lon": lon, "lat": lat, "count": count, "overdue": late})
        return {"clustered": True, "total": total, "clusters": clusters}
    rows = list(session.scalars(stmt.order_by(WorkOrder.id.desc())))
    return {"clustered": False, "total": total, "orders": [marker(o, at) for o in rows]}


def marker(order: WorkOrder, at: datetime | None = None) -> dict[str, Any]:
    lon, lat = _out(order.lon, order.lat) if order.lon is not None and order.lat is not None else (None, None)
    lead = next((a.department.name for a in order.assignments if a.role == "lead" and a.state != "withdrawn"
                 and a.state != "returned"), None)
    return {"id": order.id, "code": order.code, "title": order.title, "status": str(order.status),
            "status_label": _(STATUS_LABELS[order.status]), "colour": colour_of(order, at or now()),
            "lon": lon, "lat": lat, "category": order.category.name if order.category else None,
            "department": lead, "url": f"/orders/{order.id}"}


def heat_layer(session: Session, subject: Subject, where: Area, bbox: list[float] | None, zoom: int,
               days: int) -> dict[str, Any]:
    since = now() - timedelta(days=days)
    orders = _orders_in(subject, where).with_only_columns(WorkOrder.id)
    stmt = _in_box(select(Appeal.lon, Appeal.lat).where(Appeal.created_at >= since, Appeal.lon.is_not(None),
                                                        Appeal.work_order_id.in_(orders)), Appeal.lon, Appeal.lat, bbox)
    res = _resolution(zoom)
    counts = Counter(h3.latlng_to_cell(lat, lon, res)
                     for lon, lat in session.execute(stmt.order_by(Appeal.id.desc()).limit(MAX_POINTS)))
    cells = [{"h3": cell, "count": n,
              "boundary": [list(_out(lon, lat)) for lat, lon in h3.cell_to_boundary(cell)]}
             for cell, n in counts.items()]
    return {"cells": cells, "max": max(counts.values(), default=0), "resolution": res}


def hot_layer(session: Session, subject: Subject, where: Area, days: int) -> dict[str, Any]:
    from zhili.dispatch.hot_issues import hot_issues

    prefix = subtree_prefix(where.region.code) if where.region is not None else None
    issues = []
    for view in hot_issues(session, subject, days=days):
        members = [a for a in view.appeals if (prefix is None and a.work_order.grid_id == where.grid.id)  # type: ignore[union-attr]
                   or (prefix is not None and a.work_order.place_code.startswith(prefix))]
        points = [(a.lon, a.lat) for a in members if a.lon is not None and a.lat is not None]
        if not points:
            continue
        lon, lat = _out(sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))
        issues.append({"title": view.cluster.label, "count": len(members), "heat": round(view.cluster.heat, 1),
                       "lon": lon, "lat": lat, "place": view.place, "keywords": list(view.cluster.keywords[:5])})
    return {"issues": issues}


def workers_layer(session: Session, subject: Subject, where: Area, at: datetime | None = None) -> dict[str, Any]:
    at = at or now()
    grids = readable(subject, Grid).with_only_columns(Grid.id)
    grids = grids.where(Grid.id == where.grid.id) if where.grid is not None else grids.where(
        Grid.code.startswith(subtree_prefix(where.code), autoescape=True))
    rows = session.execute(
        select(Staff.display_name, Grid.name, WorkerPosition.lon, WorkerPosition.lat, WorkerPosition.at)
        .join(WorkerPosition, WorkerPosition.staff_id == Staff.id)
        .join(GridMember, GridMember.staff_id == Staff.id).join(Grid, Grid.id == GridMember.grid_id)
        .where(GridMember.grid_id.in_(grids), WorkerPosition.at >= at - timedelta(hours=WORKER_FRESH_HOURS))
        .order_by(WorkerPosition.at.desc())).all()
    seen: set[str] = set()
    workers = []
    for name, grid, lon, lat, when in rows:
        if name in seen:
            continue
        seen.add(name)
        x, y = _out(lon, lat)
        workers.append({"name": name, "grid": grid, "lon": x, "lat": y, "at": aware(when).isoformat(),  # type: ignore[union-attr]
                        "minutes_ago": int((at - aware(when)).total_seconds() // 60)})  # type: ignore[operator]
    return {"workers": workers}


def record_position(session: Session, staff_id: int, lon: float, lat: float) -> None:
    """A grid worker's last known position (the patrol page sends the phone's; the demo simulates them)."""
    row = session.get(WorkerPosition, staff_id)
    if row is None:
        session.add(WorkerPosition(staff_id=staff_id, lon=lon, lat=lat, at=now()))
    else:
        row.lon, row.lat, row.at = lon, lat, now()
