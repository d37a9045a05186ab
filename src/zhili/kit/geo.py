"""Geometry at the edges: GeoJSON in and out, WGS-84 throughout, areas in square metres.

Polygons are stored as GeoJSON text with a bounding box beside them, so both SQLite and PostgreSQL
can filter by box without a spatial extension; shapely does the exact work in Python.
"""

import json
import math
from typing import Any

from shapely import make_valid
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from zhili.kit.i18n import _

EARTH_M_PER_DEG = 111_320.0
# Two polygons whose shared area is below this are neighbours that touch, not an overlap:
# shared edges computed twice differ in the last floating digits.
OVERLAP_TOLERANCE_M2 = 1.0


class GeometryError(ValueError):
    pass


def parse_polygon(value: Any) -> BaseGeometry:
    """A GeoJSON Polygon/MultiPolygon (dict or text, or a Feature) or WKT text, validated."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise GeometryError(_("缺少边界（GeoJSON 或 WKT 多边形）"))
        if text.startswith("{"):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise GeometryError(_("边界不是有效的 GeoJSON：{e}", e=exc.msg)) from exc
        else:
            from shapely import wkt

            try:
                geom = wkt.loads(text)
            except Exception as exc:  # shapely raises its own GEOSException subclasses
                raise GeometryError(_("边界不是有效的 WKT 文本")) from exc
            return _checked(geom)
    if not isinstance(value, dict):
        raise GeometryError(_("边界应为 GeoJSON 对象"))
    if value.get("type") == "Feature":
        value = value.get("geometry") or {}
    if value.get("type") not in ("Polygon", "MultiPolygon"):
        raise GeometryError(_("边界应为 Polygon 或 MultiPolygon，收到的是 {t}", t=value.get("type")))
    try:
        geom = shape(value)
    except Exception as exc:
        raise GeometryError(_("边界坐标格式不正确：应为 [[[经度, 纬度], ...]]")) from exc
    return _checked(geom)


def _checked(geom: BaseGeometry) -> BaseGeometry:
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise GeometryError(_("边界应为多边形，收到的是 {t}", t=geom.geom_type))
    if geom.is_empty:
        raise GeometryError(_("边界为空"))
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise GeometryError(_("坐标超出范围：经度应在 −180–180，纬度应在 −90–90（WGS-84，经度在前）"))
    if not (minx >= 73 and maxx <= 136 and miny >= 3 and maxy <= 54):
        raise GeometryError(
            _("坐标不在中国境内：请确认使用 WGS-84 经纬度，且经度在前、纬度在后")
        )
    if not geom.is_valid:
        fixed = make_valid(geom)
        if fixed.geom_type not in ("Polygon", "MultiPolygon") or abs(fixed.area - geom.area) > 1e-12:
            raise GeometryError(_("边界自相交或不闭合，请检查顶点顺序"))
        geom = fixed
    return geom


def to_geojson(geom: BaseGeometry) -> dict[str, Any]:
    return mapping(geom)  # type: ignore[return-value]


def dumps(geom: BaseGeometry) -> str:
    return json.dumps(to_geojson(geom), separators=(",", ":"))


def loads(text: str) -> BaseGeometry:
    return shape(json.loads(text))


def area_m2(geom: BaseGeometry) -> float:
    """Approximate area for polygons of a county's size (equirectangular at the centroid)."""
    lat = geom.centroid.y if not geom.is_empty else 0.0
    return geom.area * EARTH_M_PER_DEG**2 * math.cos(math.radians(lat))


def overlap_m2(a: BaseGeometry, b: BaseGeometry) -> float:
    if not a.intersects(b):
        return 0.0
    return area_m2(a.intersection(b))


def outside_m2(inner: BaseGeometry, outer: BaseGeometry) -> float:
    return area_m2(inner.difference(outer))
