"""GeoJSON polygons in pure Python: checking them, their bounding box, point-in-polygon.

Coordinates are GeoJSON's ``[longitude, latitude]``. A Polygon is an outer ring and
optional holes; a MultiPolygon is a list of them. A point on an edge or a vertex (of
the outer ring or of a hole) counts as inside: a customer on the border of a coverage
area is offered the service. Ray casting is exact enough at city scale (the polygons
are small next to the Earth's curvature), and needs no GEOS/GDAL.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

Ring = list[tuple[float, float]]
PolygonRings = list[Ring]  # [outer, *holes]

# Closer than this (in degrees, ~1 cm) to an edge is on the edge.
EDGE_TOLERANCE = 1e-7


@dataclass(frozen=True)
class BBox:
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    def contains(self, lon: float, lat: float) -> bool:
        return self.min_lon <= lon <= self.max_lon and self.min_lat <= lat <= self.max_lat


class InvalidGeometry(ValueError):
    """The geometry is not a usable Polygon or MultiPolygon; the message says why."""


def _position(value: Any) -> tuple[float, float]:
    if (
        not isinstance(value, list | tuple)
        or len(value) < 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value[:2])
    ):
        raise InvalidGeometry(_("each position must be [longitude, latitude] in numbers"))
    lon, lat = float(value[0]), float(value[1])
    if not (math.isfinite(lon) and math.isfinite(lat)) or abs(lon) > 180 or abs(lat) > 90:
        raise InvalidGeometry(
            _("the position [%(lon)s, %(lat)s] is not a longitude and a latitude")
            % {"lon": value[0], "lat": value[1]}
        )
    return lon, lat


def _ring(value: Any) -> Ring:
    if not isinstance(value, list | tuple):
        raise InvalidGeometry(_("a ring must be a list of positions"))
    ring = [_position(position) for position in value]
    if len(ring) >= 2 and ring[0] != ring[-1]:
        ring.append(ring[0])  # close it, as GeoJSON asks
    if len(set(ring)) < 3:
        raise InvalidGeometry(_("a ring needs at least 3 different positions"))
    return ring


def _polygon(value: Any) -> PolygonRings:
    if not isinstance(value, list | tuple) or not value:
        raise InvalidGeometry(_("a polygon must be a list of rings (the outline, then holes)"))
    return [_ring(ring) for ring in value]


def geometry_polygons(geometry: Any) -> list[PolygonRings]:
    """The polygons of a GeoJSON Polygon or MultiPolygon geometry, checked."""
    if not isinstance(geometry, dict):
        raise InvalidGeometry(_("the geometry must be an object with type and coordinates"))
    kind = geometry.get("type")
    coordinates = geometry.get("coordinates")
    if kind == "Polygon":
        return [_polygon(coordinates)]
    if kind == "MultiPolygon":
        if not isinstance(coordinates, list | tuple) or not coordinates:
            raise InvalidGeometry(_("a MultiPolygon must be a list of polygons"))
        return [_polygon(polygon) for polygon in coordinates]
    raise InvalidGeometry(
        _("the geometry type is %(type)s; use Polygon or MultiPolygon") % {"type": kind}
    )


def geometry_normalize(geometry: Any) -> dict[str, Any]:
    """The checked geometry as plain GeoJSON (rings closed, floats)."""
    polygons = geometry_polygons(geometry)
    as_lists = [[[[lon, lat] for lon, lat in ring] for ring in polygon] for polygon in polygons]
    if geometry["type"] == "Polygon":
        return {"type": "Polygon", "coordinates": as_lists[0]}
    return {"type": "MultiPolygon", "coordinates": as_lists}


def geometry_bbox(geometry: Any) -> BBox:
    positions = [
        position
        for polygon in geometry_polygons(geometry)
        for position in polygon[0]  # the holes are inside the outline
    ]
    return BBox(
        min_lon=min(lon for lon, _lat in positions),
        min_lat=min(lat for _lon, lat in positions),
        max_lon=max(lon for lon, _lat in positions),
        max_lat=max(lat for _lon, lat in positions),
    )


def _on_segment(lon: float, lat: float, a: tuple[float, float], b: tuple[float, float]) -> bool:
    (x1, y1), (x2, y2) = a, b
    cross = (x2 - x1) * (lat - y1) - (y2 - y1) * (lon - x1)
    length = math.hypot(x2 - x1, y2 - y1)
    if length == 0:
        return math.hypot(lon - x1, lat - y1) <= EDGE_TOLERANCE
    if abs(cross) / length > EDGE_TOLERANCE:
        return False
    return (
        min(x1, x2) - EDGE_TOLERANCE <= lon <= max(x1, x2) + EDGE_TOLERANCE
        and min(y1, y2) - EDGE_TOLERANCE <= lat <= max(y1, y2) + EDGE_TOLERANCE
    )


def ring_position(lon: float, lat: float, ring: Sequence[tuple[float, float]]) -> int:
    """1 inside the ring, 0 on its edge, -1 outside (ray casting towards +longitude)."""
    inside = False
    count = len(ring)
    for index in range(count - 1):
        a, b = ring[index], ring[index + 1]
        if _on_segment(lon, lat, a, b):
            return 0
        (x1, y1), (x2, y2) = a, b
        if (y1 > lat) != (y2 > lat):
            crossing = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
            if lon < crossing:
                inside = not inside
    return 1 if inside else -1


def polygon_contains(lon: float, lat: float, polygon: PolygonRings) -> bool:
    """Inside (or on the edge of) the outline and not strictly inside a hole."""
    outline, *holes = polygon
    if ring_position(lon, lat, outline) < 0:
        return False
    return all(ring_position(lon, lat, hole) <= 0 for hole in holes)


def geometry_contains(geometry: Any, *, lon: float, lat: float) -> bool:
    return any(polygon_contains(lon, lat, polygon) for polygon in geometry_polygons(geometry))
