"""Point-in-polygon in pure Python: holes, MultiPolygons, edges, bad geometries."""

from __future__ import annotations

import pytest

from telcodesk.coverage.geometry import (
    BBox,
    InvalidGeometry,
    geometry_bbox,
    geometry_contains,
    geometry_normalize,
)

SQUARE_WITH_HOLE = {
    "type": "Polygon",
    "coordinates": [
        [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]],
        [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]],
    ],
}
TWO_SQUARES = {
    "type": "MultiPolygon",
    "coordinates": [
        [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]],
        [[[5, 5], [6, 5], [6, 6], [5, 6], [5, 5]]],
    ],
}


@pytest.mark.parametrize(
    ("lon", "lat", "inside"),
    [
        (2, 2, True),  # in the outline
        (5, 5, False),  # in the hole
        (11, 5, False),  # outside
        (-0.0001, 5, False),
        (0, 5, True),  # on the outline's edge
        (10, 10, True),  # on a vertex
        (4, 5, True),  # on the hole's edge: still inside the polygon
        (5, 4, True),
        (4.5, 4.0000001, False),  # just inside the hole
    ],
)
def test_polygon_with_a_hole(lon: float, lat: float, inside: bool) -> None:
    assert geometry_contains(SQUARE_WITH_HOLE, lon=lon, lat=lat) is inside


@pytest.mark.parametrize(
    ("lon", "lat", "inside"),
    [(0.5, 0.5, True), (5.5, 5.5, True), (3, 3, False), (1, 0.5, True)],
)
def test_multipolygon_is_inside_any_of_its_polygons(lon: float, lat: float, inside: bool) -> None:
    assert geometry_contains(TWO_SQUARES, lon=lon, lat=lat) is inside


def test_a_concave_polygon() -> None:
    # A "U": the notch between the arms is outside.
    u_shape = {
        "type": "Polygon",
        "coordinates": [[[0, 0], [3, 0], [3, 3], [2, 3], [2, 1], [1, 1], [1, 3], [0, 3], [0, 0]]],
    }
    assert geometry_contains(u_shape, lon=0.5, lat=2.5) is True
    assert geometry_contains(u_shape, lon=1.5, lat=2) is False
    assert geometry_contains(u_shape, lon=2.5, lat=2.5) is True


def test_bbox_covers_the_outlines() -> None:
    assert geometry_bbox(TWO_SQUARES) == BBox(min_lon=0, min_lat=0, max_lon=6, max_lat=6)


def test_an_open_ring_is_closed() -> None:
    geometry = geometry_normalize({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1]]]})
    assert geometry == {
        "type": "Polygon",
        "coordinates": [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]],
    }


@pytest.mark.parametrize(
    ("geometry", "message"),
    [
        (
            {"type": "Point", "coordinates": [0, 0]},
            "the geometry type is Point; use Polygon or MultiPolygon",
        ),
        (
            {"type": "Polygon", "coordinates": []},
            "a polygon must be a list of rings (the outline, then holes)",
        ),
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [0, 0]]]},
            "a ring needs at least 3 different positions",
        ),
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [1, "x"], [2, 2], [0, 0]]]},
            "each position must be [longitude, latitude] in numbers",
        ),
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [200, 0], [2, 2], [0, 0]]]},
            "the position [200, 0] is not a longitude and a latitude",
        ),
        ("nope", "the geometry must be an object with type and coordinates"),
    ],
)
def test_bad_geometries_say_why(geometry: object, message: str) -> None:
    with pytest.raises(InvalidGeometry) as error:
        geometry_normalize(geometry)
    assert str(error.value) == message
