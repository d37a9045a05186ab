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


# WGS-84 ⇄ GCJ-02 ----------------------------------------------------------------------------------
# Stored coordinates are WGS-84 (GPS, 天地图's CGCS2000 within a metre). Most Chinese web maps draw in
# GCJ-02, an offset of a few hundred metres, so a deployment whose tiles are GCJ-02 converts at the
# edge: what goes out to the map, and what a click on the map sends back. The published forward formula;
# the inverse by fixed-point iteration (below a millimetre after a few rounds). Outside China the
# offset is zero by definition.

_A = 6378245.0
_EE = 0.00669342162296594323


def _outside_china(lon: float, lat: float) -> bool:
    return not (73.66 < lon < 135.05 and 3.86 < lat < 53.55)


def _delta(lon: float, lat: float) -> tuple[float, float]:
    x, y = lon - 105.0, lat - 35.0
    d_lat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
             + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
             + (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
             + (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0)
    d_lon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
             + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
             + (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
             + (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0)
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * math.sqrt(magic)) * math.pi)
    d_lon = (d_lon * 180.0) / (_A / math.sqrt(magic) * math.cos(rad) * math.pi)
    return d_lon, d_lat


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    if _outside_china(lon, lat):
        return lon, lat
    d_lon, d_lat = _delta(lon, lat)
    return lon + d_lon, lat + d_lat


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    if _outside_china(lon, lat):
        return lon, lat
    w_lon, w_lat = lon, lat
    for _round in range(8):
        g_lon, g_lat = wgs84_to_gcj02(w_lon, w_lat)
        w_lon, w_lat = w_lon - (g_lon - lon), w_lat - (g_lat - lat)
    return w_lon, w_lat


def map_coords(value: Any, convert: Any) -> Any:
    """A GeoJSON coordinates array (any nesting) with `convert(lon, lat)` applied to every position."""
    if value and isinstance(value[0], (int, float)):
        return list(convert(value[0], value[1]))
    return [map_coords(v, convert) for v in value]
