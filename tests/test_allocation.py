"""Population allocation: zone totals spread onto land-cover cells, every zone's total conserved."""

import warnings

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st

from bazhong_geo._errors import (
    DuplicateCodeError,
    InvalidPopulationError,
    MissingColumnError,
)
from bazhong_geo.allocation import allocate, coverage_fractions

X0, Y0 = 500_000.0, 3_500_000.0
T = Affine(100, 0, X0, 0, -100, Y0 + 400)  # 4 x 6 cells of 100 m, top row at y = Y0 + 300..400
BUILT, CROP, WATER = 50, 40, 80
COVER = np.array([[BUILT, BUILT, CROP, CROP, WATER, WATER],
                  [BUILT, CROP, CROP, CROP, WATER, WATER],
                  [CROP, CROP, CROP, CROP, WATER, WATER],
                  [CROP, CROP, CROP, CROP, WATER, WATER]])
W = {BUILT: 10.0, CROP: 1.0}


def _box(c0, r0, c1, r1):
    """Box over cell columns c0..c1 and rows r0..r1 (fractions allowed)."""
    return shapely.box(X0 + 100 * c0, Y0 + 400 - 100 * r1, X0 + 100 * c1, Y0 + 400 - 100 * r0)


def _zones(geoms, totals, codes=None):
    return gpd.GeoDataFrame({"code": codes or [f"z{i}" for i in range(len(geoms))], "population": totals},
                            geometry=geoms, crs=4545)


def test_known_answer_two_zones_sharing_a_cell():
    # zone a: columns 0-1.5 of rows 0-1 (3 built cells, 1 crop cell, a half crop cell); zone b: the rest of col 1-2
    a, b = _box(0, 0, 1.5, 2), _box(1.5, 0, 3, 2)
    res = allocate(_zones([a, b], [340.0, 40.0]), (COVER, T, "EPSG:4545"), weights=W)
    # a: mass = 10 + 10*0.5 (row 0) + 10 + 1*0.5 (row 1) = 25.5 -> 340 / 25.5 per unit
    u = 340.0 / 25.5
    np.testing.assert_allclose(res.population[:2, :1], [[10 * u], [10 * u]])
    # b: mass = 10*0.5 + 1 + 1*0.5 + 1 = 7.5 -> 40 / 7.5 per unit; the shared cells get from both zones
    v = 40.0 / 7.5
    assert res.population[0, 1] == pytest.approx(5 * u + 5 * v)
    assert res.population[1, 1] == pytest.approx(0.5 * u + 0.5 * v)
    assert res.population[0, 2] == pytest.approx(v) and res.population[1, 2] == pytest.approx(v)
    assert res.population.sum() == pytest.approx(380.0)
    assert res.zones.method.tolist() == ["dasymetric"] * 2
    assert res.zones.allocated.tolist() == pytest.approx([340.0, 40.0], rel=1e-14)
    assert res.zones.weighted_share.tolist() == pytest.approx([1.0, 1.0])


def test_values_as_weights_and_reprojected_zones(tmp_path):
    share = np.array([[0.0, 0.25, 0.75, 0.0]])
    path = tmp_path / "built.tif"
    t = Affine(100, 0, X0, 0, -100, Y0 + 100)
    with rasterio.open(path, "w", driver="GTiff", width=4, height=1, count=1, dtype="float64", crs="EPSG:4545",
                       transform=t, nodata=-1) as dst:
        dst.write(share[None])
    zones = _zones([shapely.box(X0, Y0, X0 + 400, Y0 + 100)], [100.0]).to_crs(4326)
    res = allocate(zones, str(path))
    np.testing.assert_allclose(res.population, [[0.0, 25.0, 75.0, 0.0]], atol=1e-6)
    out = tmp_path / "people.tif"
    res.to_raster(out)
    with rasterio.open(out) as src:
        assert src.read(1).sum() == pytest.approx(100.0) and src.crs.to_epsg() == 4545


def test_fallbacks_are_reported():
    water = _box(4, 0, 6, 2)  # only water (weight 0): spread by area
    tiny = shapely.box(X0 + 210, Y0 + 210, X0 + 211, Y0 + 211)  # 1 m²: exact coverage still finds its cell
    off = shapely.box(X0 - 5000, Y0, X0 - 4000, Y0 + 1000)  # off the raster
    with pytest.warns(UserWarning) as rec:
        res = allocate(_zones([water, tiny, off], [40.0, 7.0, 9.0]), (COVER, T, "EPSG:4545"), weights=W)
    text = " ".join(str(r.message) for r in rec)
    assert "spread by area" in text and "9 people" in text
    assert res.zones.method.tolist() == ["area", "dasymetric", "unallocated"]
    np.testing.assert_allclose(res.population[:2, 4:], 10.0)
    assert res.population[1, 2] == 7.0
    assert res.report["fallback_area"] == ["z0"] and not res.report.get("fallback_point")
    assert res.report["unallocated"] == ["z2"] and res.zones.allocated.tolist() == [40.0, 7.0, 0.0]
    assert res.population.sum() == pytest.approx(47.0)


def test_classes_without_weight_reported_and_bad_input():
    res = allocate(_zones([_box(0, 0, 6, 4)], [100.0]), (COVER, T, "EPSG:4545"), weights={BUILT: 1.0})
    assert res.report["classes_without_weight"] == [40.0, 80.0]
    np.testing.assert_allclose(res.population[COVER == BUILT], 100.0 / 3)
    with pytest.raises(InvalidPopulationError, match=r"rows \[1\]"):
        allocate(_zones([_box(0, 0, 1, 1)] * 2, [1.0, -2.0]), (COVER, T, "EPSG:4545"))
    with pytest.raises(DuplicateCodeError, match="z"):
        allocate(_zones([_box(0, 0, 1, 1)] * 2, [1.0, 2.0], codes=["z", "z"]), (COVER, T, "EPSG:4545"))
    with pytest.raises(MissingColumnError, match="total_col"):
        allocate(_zones([_box(0, 0, 1, 1)], [1.0]), (COVER, T, "EPSG:4545"), total_col="人口")


def test_coverage_fractions_sum_to_area():
    poly = shapely.Polygon([(X0 + 30, Y0 + 20), (X0 + 370, Y0 + 90), (X0 + 250, Y0 + 380)])
    _, _, f = coverage_fractions(poly, T, COVER.shape)
    assert f.sum() * 100 * 100 == pytest.approx(poly.area, rel=0.01)
    assert (f >= 0).all() and (f <= 1).all()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(-0.5, 5.5), st.floats(-0.5, 3.5), st.floats(0.05, 4), st.floats(0.05, 3),
                          st.floats(0, 1e6)), min_size=1, max_size=6),
       st.lists(st.sampled_from([BUILT, CROP, WATER, 0]), min_size=24, max_size=24),
       st.dictionaries(st.sampled_from([BUILT, CROP, WATER]), st.floats(0, 50), max_size=3))
def test_every_zone_total_conserved(boxes, cover, weights):
    grid = np.asarray(cover).reshape(4, 6)
    geoms = [_box(c, r, c + w, r + h) for c, r, w, h, _ in boxes]
    totals = [t for *_, t in boxes]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = allocate(_zones(geoms, totals), (grid, T, "EPSG:4545"), weights=weights)
    placed = res.zones.method != "unallocated"
    np.testing.assert_allclose(res.zones.allocated[placed], np.asarray(totals)[placed.to_numpy()], rtol=1e-12,
                               atol=1e-9)
    assert res.population.sum() == pytest.approx(res.zones.allocated.sum(), rel=1e-12, abs=1e-9)
    assert (res.population >= 0).all()
    # each zone alone puts its people only on cells it touches
    for g, t in zip(geoms, totals):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            one = allocate(_zones([g], [t]), (grid, T, "EPSG:4545"), weights=weights)
        rows, cols = np.nonzero(one.population)
        for r, c in zip(rows, cols):
            assert g.buffer(1e-6).intersects(_box(c, r, c + 1, r + 1))


def test_uniform_weights_match_tobler_area_interpolation():
    # on a uniform raster the allocation is area weighting: PySAL tobler's area_interpolate onto the cell squares
    from tobler.area_weighted import area_interpolate

    zones = _zones([shapely.Polygon([(X0 + 30, Y0 + 20), (X0 + 570, Y0 + 90), (X0 + 250, Y0 + 380)]),
                    _box(3.3, 0.2, 5.9, 1.7)], [1000.0, 500.0])
    res = allocate(zones, (np.ones((4, 6)), T, "EPSG:4545"))
    cells = gpd.GeoDataFrame(geometry=[_box(c, r, c + 1, r + 1) for r in range(4) for c in range(6)], crs=4545)
    peer = area_interpolate(zones, cells, extensive_variables=["population"])["population"].to_numpy()
    np.testing.assert_allclose(res.population.ravel(), peer, rtol=0.03, atol=2.0)
    assert res.population.sum() == pytest.approx(1500.0, rel=1e-14)  # tobler: within its own float error
    assert peer.sum() == pytest.approx(1500.0, rel=1e-6)
