"""What checking a queued appeal reads, kept per process (zhili.kit.recent): the grids (an index of
their shapes), regions by code, and categories with their service definitions. The queued path then
checks an appeal with no query at all, which is most of what makes it cheap.

Rows are read in a session of their own and kept detached, with what a check touches loaded (a grid's
region, a category's default department); the boundary columns stay unloaded. The grid index is
rebuilt when the grids change: in this process at once, elsewhere when the next look (every ttl
seconds) finds a different count or latest change of the grids.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shapely import STRtree
from shapely.geometry import Point, box
from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer, joinedload, lazyload

from zhili.category import repository as crepo
from zhili.category.attributes import attributes_of
from zhili.db import get_sessionmaker
from zhili.kit.recent import Recent
from zhili.models import Category, Department, Grid, Region, ServiceAttribute
from zhili.work_order.repository import public_leaf
from zhili.work_order.service import grid_shape


@dataclass(frozen=True)
class GridIndex:
    stamp: tuple[int, datetime | None]  # how many grids, and the latest change among them
    grids: list[Grid]
    shapes: list[Any]
    tree: STRtree

    def find(self, lon: float, lat: float) -> Grid | None:
        point = Point(lon, lat)
        for i in sorted(self.tree.query(point)):  # bounding boxes first, then the exact test
            if self.shapes[i].covers(point):
                return self.grids[i]
        return None


_GRIDS: Recent[tuple[int, datetime | None]] = Recent("grid stamp", (Grid, Region))
_REGIONS: Recent[Region | None] = Recent("regions by code", (Region,))
_CATEGORIES: Recent[tuple[Category, list[ServiceAttribute]] | None] = Recent(
    "categories by code", (Category, ServiceAttribute, Department))
_PUBLIC_LEAVES: Recent[Category | None] = Recent("public leaves by code", (Category, Department))
_index: GridIndex | None = None


def _reading() -> Session:
    return get_sessionmaker()()


def _stamp() -> tuple[int, datetime | None]:
    with _reading() as session:
        count, latest = session.execute(select(func.count(Grid.id), func.max(Grid.updated_at))).one()
        return int(count), latest


def _build(stamp: tuple[int, datetime | None]) -> GridIndex:
    with _reading() as session:
        grids = list(session.scalars(select(Grid).options(joinedload(Grid.region).defer(Region.boundary),
                                                          lazyload(Grid.members)).order_by(Grid.id)))
        shapes = [grid_shape(g) for g in grids]  # parsed once per grid version (work_order.service)
        session.expunge_all()
    boxes = [box(g.min_lon, g.min_lat, g.max_lon, g.max_lat) for g in grids]
    return GridIndex(stamp=stamp, grids=grids, shapes=shapes, tree=STRtree(boxes))


class Kept:
    """The `Lookups` of zhili.work_order.service, from what this process keeps."""

    def locate(self, lon: float, lat: float) -> Grid | None:
        global _index
        stamp = _GRIDS.get("stamp", _stamp)
        index = _index
        if index is None or index.stamp != stamp:
            index = _index = _build(stamp)
        return index.find(lon, lat)

    def region(self, code: str) -> Region | None:
        def load() -> Region | None:
            with _reading() as session:
                found = session.scalar(select(Region).options(defer(Region.boundary)).where(Region.code == code))
                session.expunge_all()
                return found

        return _REGIONS.get(code, load)

    def category(self, code: str) -> tuple[Category, list[ServiceAttribute]] | None:
        def load() -> tuple[Category, list[ServiceAttribute]] | None:
            with _reading() as session:
                found = crepo.category_by_code(session, code)
                kept = (found, attributes_of(session, found)) if found is not None else None
                session.expunge_all()
                return kept

        return _CATEGORIES.get(code, load)

    def public_leaf(self, code: str) -> Category | None:
        """The active public leaf with this code: what an outside system may file under."""
        def load() -> Category | None:
            with _reading() as session:
                found = public_leaf(session, code)
                session.expunge_all()
                return found

        return _PUBLIC_LEAVES.get(code, load)


kept = Kept()
