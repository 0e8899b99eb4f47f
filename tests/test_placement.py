"""geo.placement.RegionIndex: the finest region containing each point."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from geo.placement import RegionIndex

# Two districts side by side, two grids in the lower half of the first one.
#   y=10 +---------+---------+
#        |   d1    |   d2    |
#   y=5  +----+----+         |
#        | g1 | g2 |         |
#   y=0  +----+----+---------+
#        x=0  5    10        20
REGIONS = [
    ("d1", "district", shapely.box(0, 0, 10, 10)),
    ("d2", "district", shapely.box(10, 0, 20, 10)),
    ("g1", "grid", shapely.box(0, 0, 5, 5)),
    ("g2", "grid", shapely.box(5, 0, 10, 5)),
]


def _index(regions=REGIONS) -> RegionIndex:
    codes, levels, geoms = zip(*regions)
    return RegionIndex.build(codes, levels, geoms)


@pytest.mark.parametrize(
    ("point", "expected"),
    [
        ((2, 2), "g1"),  # inside a grid
        ((7, 2), "g2"),
        ((7, 7), "d1"),  # inside the district, outside every grid
        ((15, 5), "d2"),
        ((30, 30), None),  # outside everything
        ((-0.001, 2), None),
        ((5, 2), "g1"),  # on the shared edge of g1 and g2: the lowest code
        ((5, 5), "g1"),  # corner of g1, g2 (and inside d1): still the grid level, lowest code
        ((10, 2), "g2"),  # edge of g2 and of both districts: the finest level wins
        ((10, 7), "d1"),  # edge of d1 and d2
        ((0, 0), "g1"),  # outer corner
        ((20, 10), "d2"),
    ],
)
def test_assign_places_each_point_in_the_finest_region(point, expected):
    out = _index().assign(np.array([point[0]], dtype=float), np.array([point[1]], dtype=float))
    assert out.dtype == object
    assert out.tolist() == [expected]


def test_nan_and_infinite_coordinates_get_none():
    idx = _index()
    out = idx.assign([np.nan, 2.0, 2.0, np.inf, 7.0], [2.0, np.nan, 2.0, 2.0, 7.0])
    assert out.tolist() == [None, None, "g1", None, "d1"]


def test_boundary_choice_does_not_depend_on_the_order_regions_are_given():
    pts_x = np.array([5.0, 5.0, 10.0, 10.0, 2.0])
    pts_y = np.array([2.0, 5.0, 2.0, 7.0, 8.0])
    expected = _index().assign(pts_x, pts_y).tolist()
    rng = np.random.default_rng(0)
    for _ in range(5):
        shuffled = [REGIONS[i] for i in rng.permutation(len(REGIONS))]
        assert _index(shuffled).assign(pts_x, pts_y).tolist() == expected
    assert expected == ["g1", "g1", "g2", "d1", "d1"]


def test_levels_may_be_missing_and_regions_without_geometry_are_ignored():
    idx = RegionIndex.build(["s1", "s2", "c9"], ["street", "street", "community"],
                            [shapely.box(0, 0, 1, 1), None, shapely.Polygon()])
    assert idx.levels == ["street"]
    assert len(idx) == 1
    assert idx.assign([0.5, 3.0], [0.5, 3.0]).tolist() == ["s1", None]


def test_empty_index_and_empty_input():
    empty = RegionIndex.build([], [], [])
    assert empty.assign([1.0, 2.0], [1.0, 2.0]).tolist() == [None, None]
    assert _index().assign(np.array([]), np.array([])).tolist() == []


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="unknown level"):
        RegionIndex.build(["a"], ["village"], [shapely.box(0, 0, 1, 1)])
    with pytest.raises(ValueError, match="differ in length"):
        RegionIndex.build(["a", "b"], ["grid"], [shapely.box(0, 0, 1, 1)])
    with pytest.raises(ValueError, match="differ in length"):
        _index().assign([1.0, 2.0], [1.0])


def test_agrees_with_brute_force_on_random_polygons():
    """Voronoi cells at three levels, some grids missing; every point checked one by one."""
    rng = np.random.default_rng(42)
    frame = shapely.box(0, 0, 1, 1)

    def cells(n):
        seeds = shapely.multipoints(rng.uniform(0, 1, (n, 2)))
        parts = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=frame))
        return list(shapely.intersection(parts, frame))

    regions = [(f"d{i:02d}", "district", g) for i, g in enumerate(cells(4))]
    regions += [(f"s{i:02d}", "street", g) for i, g in enumerate(cells(15))]
    regions += [(f"g{i:03d}", "grid", g) for i, g in enumerate(cells(120)) if rng.random() < 0.7]
    idx = _index(regions)
    x, y = rng.uniform(-0.1, 1.1, 3000), rng.uniform(-0.1, 1.1, 3000)
    # a few points exactly on vertices, to exercise shared boundaries
    verts = shapely.get_coordinates(regions[-1][2])
    x[:len(verts)], y[:len(verts)] = verts[:, 0], verts[:, 1]
    got = idx.assign(x, y)

    rank = {"district": 0, "street": 1, "grid": 2}
    for i in range(len(x)):
        p = shapely.Point(x[i], y[i])
        hits = [(-rank[lvl], code) for code, lvl, g in regions if g.intersects(p)]
        assert got[i] == (min(hits)[1] if hits else None), (x[i], y[i])
