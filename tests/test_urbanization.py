"""Tests for bazhong_geo.urbanization: Degree of Urbanisation rules by hand, exact aggregation, units, NBS rates."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from pyproj import Geod

from bazhong_geo._errors import (
    EmptyInputError,
    GridMismatchError,
    InvalidPopulationError,
    InvalidThresholdError,
    MissingColumnError,
    MissingCRSError,
    MissingPopulationError,
    UnknownUrbanRuralCodeError,
    UnsupportedGridError,
)
from bazhong_geo.crs import area_km2
from bazhong_geo.urbanization import (
    DegurbaThresholds,
    aggregate_to_km_grid,
    census_urbanization,
    classify_units,
    degurba,
    urbanization_rate,
)

MOLL = "ESRI:54009"
CENSUS = Path(__file__).resolve().parents[1] / "bazhong_geo" / "data" / "sources" / "bazhong" / "census2020_counties.csv"


def km_grid(pop, x0=0.0, y0=None):
    """(array, transform, crs) for a 1 km Mollweide grid with its top-left corner at (x0, y0)."""
    pop = np.asarray(pop, dtype="float64")
    y0 = pop.shape[0] * 1000.0 if y0 is None else y0
    return pop, Affine(1000, 0, x0, 0, -1000, y0), MOLL


# ------------------------------------------------------------------------------------------- level 1 rules

def test_rook_vs_queen_diagonal_pair():
    pop = np.zeros((6, 6))
    pop[2, 2] = pop[3, 3] = 30_000  # 60,000 people, but only diagonally touching
    g = degurba(km_grid(pop))
    # rook: two groups of 30,000 < 50,000 -> no urban centre; queen: one group of 60,000 >= 5,000 -> urban cluster
    assert g.level1[2, 2] == 2
    assert g.level1[3, 3] == 2
    assert (g.level1 == 3).sum() == 0
    # the same two cells side by side are one rook group of 60,000: an urban centre
    pop2 = np.zeros((6, 6))
    pop2[2, 2] = pop2[2, 3] = 30_000
    g2 = degurba(km_grid(pop2))
    assert g2.level1[2, 2] == 3
    assert g2.level1[2, 3] == 3
    # and the diagonal pair is two dense clusters (rook, >= 5,000 each) at level 2
    assert g.level2[2, 2] == 23
    assert g.level2[3, 3] == 23


def test_urban_cluster_contiguity_parameter():
    pop = np.zeros((6, 6))
    pop[1, 1] = pop[2, 2] = pop[3, 3] = 2_000  # 6,000 people on a diagonal at 2,000/km²
    assert (degurba(km_grid(pop)).level1 == 2).sum() == 3
    assert (degurba(km_grid(pop), thresholds=DegurbaThresholds(cluster_contiguity=4)).level1 == 2).sum() == 0


@pytest.mark.parametrize(("total", "is_centre"), [(49_999, False), (50_000, True)])
def test_urban_centre_population_threshold(total, is_centre):
    pop = np.zeros((9, 9))
    pop[2:7, 2:7] = 2_000  # 25 cells x 2,000 = 50,000
    pop[4, 4] -= 50_000 - total
    g = degurba(km_grid(pop))
    assert bool((g.level1 == 3).any()) is is_centre
    assert g.level1[4, 4] == (3 if is_centre else 2)  # below the threshold it is still an urban cluster
    assert np.isclose(g.population.sum(), total)


def _ring_with_hole(hole_shape):
    """A 2,000/km² block with an empty hole of ``hole_shape`` cells in the middle."""
    pop = np.zeros((16, 16))
    pop[2:14, 2:14] = 2_000
    hr, hc = hole_shape
    pop[5:5 + hr, 5:5 + hc] = 0
    return pop, (slice(5, 5 + hr), slice(5, 5 + hc))


@pytest.mark.parametrize(("hole_shape", "filled"), [((2, 7), True), ((3, 5), False), ((1, 1), True)])
def test_gap_fill_below_15_km2(hole_shape, filled):
    pop, hole = _ring_with_hole(hole_shape)
    g = degurba(km_grid(pop), thresholds=DegurbaThresholds(centre_smoothing=False))  # isolate gap filling from edge smoothing
    assert np.all(g.level1[hole] == (3 if filled else 1))
    assert g.level2[hole][0, 0] == (30 if filled else 11)


def test_gap_fill_threshold_is_a_parameter():
    pop, hole = _ring_with_hole((3, 5))
    g = degurba(km_grid(pop), thresholds=DegurbaThresholds(centre_smoothing=False, centre_max_gap_km2=16))
    assert np.all(g.level1[hole] == 3)
    g0 = degurba(km_grid(pop), thresholds=DegurbaThresholds(centre_smoothing=False, centre_max_gap_km2=0))
    assert np.all(g0.level1[hole] == 1)


def test_iterative_majority_smoothing():
    pop = np.zeros((12, 12))
    pop[2:9, 2:9] = 2_000  # 49 cells = 98,000 people
    pop[2, 5] = pop[3, 5] = 0  # a notch two cells deep, open to the outside (not a gap)
    off = degurba(km_grid(pop), thresholds=DegurbaThresholds(centre_smoothing=False))
    assert off.level1[2, 5] == 1
    assert off.level1[3, 5] == 1
    on = degurba(km_grid(pop))
    # (3,5) has 7 of 8 neighbours in the centre -> joins in pass 1; (2,5) has 4 until (3,5) joins, then 5
    assert on.level1[3, 5] == 3
    assert on.level1[2, 5] == 3
    # cells outside the block have at most 3 centre neighbours: unchanged
    assert on.level1[1, 5] == 1
    assert (on.level1 == 3).sum() == 49
    # a stricter majority (>= 8 of 8) adds nothing
    strict = degurba(km_grid(pop), thresholds=DegurbaThresholds(centre_majority=8))
    assert strict.level1[3, 5] == 1


def test_density_is_per_km2_of_land():
    pop = np.zeros((12, 12))
    pop[2:10, 2:10] = 800  # 64 cells x 800 = 51,200 people
    land = np.ones_like(pop)
    land[2:10, 2:10] = 0.5  # half of each cell is water: 1,600 per km² of land
    assert (degurba(km_grid(pop)).level1 == 3).sum() == 0
    g = degurba(km_grid(pop), land_share=land)
    assert (g.level1 == 3).sum() == 64
    # by default density is GHSL's: people per km² of land in nominal grid cells (800 / 0.5 = 1,600 exactly)
    assert g.density[5, 5] == 1600.0
    # areas are true (ellipsoidal) km², as every area of the package: ESRI:54009 is spherical Mollweide, so a
    # "1 km²" cell near the equator is ~0.993 km² of the ellipsoid (geodesic area of the cell)
    cell = shapely.segmentize(shapely.box(5_000, 6_000, 6_000, 7_000), 10.0)
    true_km2 = abs(Geod(ellps="WGS84").geometry_area_perimeter(
        gpd.GeoSeries([cell], crs=MOLL).to_crs(4326).iloc[0])[0]) / 1e6
    assert 0.99 < true_km2 < 0.995
    assert np.isclose(g.land_km2[5, 5], 0.5 * true_km2, rtol=1e-6)
    # density_basis="true": people per true km² of land
    t = degurba(km_grid(pop), land_share=land, thresholds=DegurbaThresholds(density_basis="true"))
    assert np.isclose(t.density[5, 5], 800.0 / (0.5 * true_km2), rtol=1e-6)
    assert np.array_equal(t.land_km2, g.land_km2)


def test_builtup_rule_adds_centre_cells():
    pop = np.zeros((12, 12))
    pop[2:10, 2:10] = 1_000  # 64,000 people at 1,000/km²: no centre by density
    built = np.zeros_like(pop)
    built[2:10, 2:10] = 0.6
    assert (degurba(km_grid(pop)).level1 == 3).sum() == 0
    assert (degurba(km_grid(pop), builtup=built).level1 == 3).sum() == 64
    assert (degurba(km_grid(pop), builtup=built, thresholds=DegurbaThresholds(builtup_centre_share=0.7)).level1 == 3).sum() == 0


# ------------------------------------------------------------------------------------------- level 2 rules

def _centre_and_line(gap_cells):
    """A 72,000-people centre (cols 1-6) and a 6,000-people line at 1,000/km² ``gap_cells`` empty columns away."""
    pop = np.zeros((10, 20))
    pop[2:8, 1:7] = 2_000
    c0 = 7 + gap_cells
    pop[4, c0:c0 + 6] = 1_000
    return pop, (4, slice(c0, c0 + 6))


@pytest.mark.parametrize(("gap", "expected"), [(0, 21), (1, 21), (2, 22), (5, 22)])
def test_semidense_two_km_exclusion(gap, expected):
    pop, line = _centre_and_line(gap)
    g = degurba(km_grid(pop))
    assert np.all(g.level1[line] == 2)  # an urban cluster at level 1 either way
    assert np.all(g.level2[line] == expected)  # gap 1 = 2 km centre to centre: within 2 km


def test_semidense_exclusion_distance_is_a_parameter():
    pop, line = _centre_and_line(1)
    assert np.all(degurba(km_grid(pop), thresholds=DegurbaThresholds(semidense_exclusion_km=1.0)).level2[line] == 22)
    pop, line = _centre_and_line(3)  # 4 km away
    assert np.all(degurba(km_grid(pop), thresholds=DegurbaThresholds(semidense_exclusion_km=4.0)).level2[line] == 21)


def test_semidense_population_threshold_and_dense_cluster():
    pop = np.zeros((8, 24))
    pop[1, 1:7] = 1_000     # 6,000 at 1,000/km² -> semi-dense (>= 2,500)
    pop[5, 1:11] = 600      # 6,000 at 600/km² -> suburban (below 900/km²)
    pop[3, 14:18] = 1_600   # 6,400 at 1,600/km² -> dense urban cluster
    g = degurba(km_grid(pop))
    assert set(g.level2[1, 1:7]) == {22}
    assert set(g.level2[5, 1:11]) == {21}
    assert set(g.level2[3, 14:18]) == {23}
    # the semi-dense group is 2 km from nothing dense; raising its size threshold makes it suburban
    assert set(degurba(km_grid(pop), thresholds=DegurbaThresholds(semidense_population=6_001)).level2[1, 1:7]) == {21}


def test_rural_classes_and_water():
    pop = np.zeros((8, 8))
    pop[1, 1] = pop[2, 2] = 300   # queen pair of 600 >= 500 -> rural cluster
    pop[5, 5] = 100               # >= 50 -> low density rural
    pop[6, 1] = 10                # very low density
    land = np.ones_like(pop)
    land[0, 7] = 0.0              # no land -> water
    land[0, 6] = 0.4              # < 50 % land, nobody -> water (GHSL rule)
    land[0, 5] = 0.6              # >= 50 % land -> very low density rural
    water = np.zeros_like(pop, dtype=bool)
    water[7, 7] = True
    g = degurba(km_grid(pop), land_share=land, water_mask=water)
    assert g.level2[1, 1] == 13
    assert g.level2[2, 2] == 13
    assert g.level2[5, 5] == 12
    assert g.level2[6, 1] == 11
    assert g.level2[0, 7] == 10
    assert g.level2[7, 7] == 10
    assert g.level2[0, 6] == 10
    assert g.level2[0, 5] == 11
    pop[0, 6] = 5                 # somebody lives there: not water
    assert degurba(km_grid(pop), land_share=land).level2[0, 6] == 11
    assert set(np.unique(g.level1)) == {1}
    # rook-only rural clusters split the diagonal pair
    assert degurba(km_grid(pop), thresholds=DegurbaThresholds(rural_cluster_contiguity=4)).level2[1, 1] == 12


def test_levels_nest_and_off_grid_is_zero():
    rng = np.random.default_rng(0)
    pop = rng.gamma(0.6, 400, size=(60, 60))
    pop[20:30, 20:30] += 3_000
    pop[0, :] = np.nan  # no data
    g = degurba(km_grid(pop))
    assert np.all(g.level1[0] == 0)
    assert np.all(g.level2[0] == 0)
    l1_from_l2 = np.select([g.level2 == 30, g.level2 >= 21, g.level2 >= 10], [3, 2, 1], 0)
    assert np.array_equal(l1_from_l2, g.level1)
    s = g.summary()
    assert np.isclose(s["population"].sum(), np.nansum(pop))
    assert np.isclose(s["share"].sum(), 1.0)
    # areas are true km²: the classes tile rows 1..59 of the grid, whose ellipsoidal area crs.area_km2 knows
    footprint = gpd.GeoSeries([shapely.box(0, 0, 60_000, 59_000)], crs=MOLL)
    assert np.isclose(s["area_km2"].sum(), area_km2(footprint).iloc[0], rtol=1e-6)


# ------------------------------------------------------------------------------------------- inputs / aggregation

def test_geotiff_and_dataset_inputs_and_roundtrip(tmp_path):
    pop = np.zeros((10, 10), dtype="float32")
    pop[2:8, 2:8] = 2_000
    path = tmp_path / "pop.tif"
    with rasterio.open(path, "w", driver="GTiff", width=10, height=10, count=1, dtype="float32", crs=MOLL,
                       transform=Affine(1000, 0, 0, 0, -1000, 10000), nodata=-1) as dst:
        dst.write(pop, 1)
    g1 = degurba(path)
    with rasterio.open(path) as ds:
        g2 = degurba(ds)
    assert np.array_equal(g1.level2, g2.level2)
    assert (g1.level1 == 3).sum() == 36
    out = g1.to_geotiff(tmp_path / "smod.tif")
    with rasterio.open(out) as ds:
        assert ds.count == 2
        assert ds.descriptions == ("level1", "level2")
        assert np.array_equal(ds.read(2), g1.level2)
        assert ds.crs == g1.crs


def test_block_sum_aggregation_100m():
    rng = np.random.default_rng(1)
    fine = rng.uniform(0, 30, size=(35, 47))  # 100 m cells in UTM 48N, origin off the km lattice by 300 m
    t = Affine(100, 0, 500_300, 0, -100, 3_500_000)
    g = degurba((fine, t, "EPSG:32648"))
    assert g.method == "block_sum"
    assert np.isclose(g.population.sum(), fine.sum(), rtol=1e-12)
    assert g.transform.c % 1000 == 0
    assert g.transform.f % 1000 == 0
    # the block holding fine cells 0..6 (x 500,300..501,000) and rows 0..9 sums them
    assert np.isclose(g.population[0, 0], fine[0:10, 0:7].sum())


def test_exact_aggregation_from_geographic_grid_at_bazhong():
    # 3-arc-second cells (~ 79 m x 93 m) around Bazhong city, uniform 2,000 people per km² (ellipsoidal areas)
    from pyproj import Geod

    res = 3 / 3600
    h, w = 120, 150
    t = Affine(res, 0, 106.70, 0, -res, 31.90)
    lat_top = 31.90 - res * np.arange(h)
    geod = Geod(ellps="WGS84")
    area_km2 = np.array([
        abs(geod.polygon_area_perimeter([106.70, 106.70 + res, 106.70 + res, 106.70], [la, la, la - res, la - res])[0])
        for la in lat_top
    ]) / 1e6
    fine = np.repeat((2000.0 * area_km2)[:, None], w, axis=1)
    g = degurba((fine, t, "EPSG:4326"))
    assert g.method == "exact"
    assert g.crs.to_string() == MOLL
    assert np.isclose(g.population.sum(), fine.sum(), rtol=1e-9)
    assert np.isclose(g.land_km2.sum(), area_km2.sum() * w, rtol=1e-6)  # land area conserved too
    # ESRI:54009 is spherical Mollweide on radius a: a "1 km²" cell is 0.99777 km² on the ellipsoid (as in GHSL)
    full = g.land_km2 > 0.99  # cells wholly inside the footprint (a sheared quadrilateral in Mollweide)
    assert full.sum() >= 40
    assert np.allclose(g.population[full], 2000.0 * g.land_km2[full], rtol=1e-4)
    part = g.land_km2 > 0.02   # partly covered edge cells: density over the covered land is still 2,000/km²
    # GHSL's density (default): per nominal km² of cell, i.e. 2,000 × true cell km² / nominal cell km²
    ratio = g.cell_area_km2() / g.cell_km2
    assert ratio.min() > 0.99
    assert ratio.max() < 1.0
    assert np.allclose(g.density[part], 2000.0 * ratio[part], rtol=1e-3)
    t = degurba((fine, t, "EPSG:4326"), thresholds=DegurbaThresholds(density_basis="true"))
    assert np.allclose(t.density[part], 2000.0, rtol=1e-3)


@settings(max_examples=25, deadline=None)
@given(
    fine=arrays("float64", st.tuples(st.integers(3, 25), st.integers(3, 25)),
                elements=st.floats(0, 5_000, allow_nan=False)),
    res=st.sampled_from([0.0008, 0.001, 0.0027]),
    lon=st.floats(100, 110),
    lat=st.floats(20, 45),
)
def test_exact_aggregation_conserves_population(fine, res, lon, lat):
    t = Affine(res, 0, lon, 0, -res, lat)
    km = aggregate_to_km_grid(fine, np.ones(fine.shape, bool), t, rasterio.crs.CRS.from_epsg(4326))
    assert np.isclose(km.population.sum(), fine.sum(), rtol=1e-9, atol=1e-6)
    assert np.all(km.population >= -1e-9)


@settings(max_examples=40, deadline=None)
@given(
    fine=arrays("float64", st.tuples(st.integers(1, 40), st.integers(1, 40)), elements=st.floats(0, 1e4)),
    size=st.sampled_from([50.0, 100.0, 250.0, 500.0]),
    ox=st.integers(-20, 20),
)
def test_block_aggregation_conserves_population(fine, size, ox):
    t = Affine(size, 0, ox * size, 0, -size, 3_000_000 + ox * size)
    km = aggregate_to_km_grid(fine, np.ones(fine.shape, bool), t, rasterio.crs.CRS.from_epsg(32648))
    assert km.method == "block_sum"
    assert np.isclose(km.population.sum(), fine.sum(), rtol=1e-12, atol=1e-9)


def test_bad_inputs_raise_typed_errors(tmp_path):
    pop = np.ones((5, 5))
    with pytest.raises(MissingCRSError, match=r"no CRS given.*pass \(array, transform, crs\)"):
        degurba((pop, Affine(1000, 0, 0, 0, -1000, 5000), None))
    neg = pop.copy()
    neg[1, 1] = -3
    with pytest.raises(InvalidPopulationError, match="row 1, col 1"):
        degurba(km_grid(neg))
    with pytest.raises(GridMismatchError, match=r"land_share: array shape \(4, 5\) differs .* \(5, 5\)"):
        degurba(km_grid(pop), land_share=np.ones((4, 5)))
    with pytest.raises(InvalidThresholdError, match=r"centre_contiguity=6: .*4 \(rook\) or 8 \(queen\)"):
        degurba(km_grid(pop), thresholds=DegurbaThresholds(centre_contiguity=6))
    with pytest.raises(InvalidThresholdError, match="cluster_density=-1: must be a finite number >= 0"):
        degurba(km_grid(pop), thresholds=DegurbaThresholds(cluster_density=-1))
    with pytest.raises(InvalidThresholdError, match=r"25 cell.* outside 0\.\.1 .*not percentages"):
        degurba(km_grid(pop), land_share=np.full((5, 5), 50.0))
    with pytest.raises(EmptyInputError, match="no cell with data"):
        degurba(km_grid(np.full((5, 5), np.nan)))
    with pytest.raises(UnsupportedGridError, match=r"population array: transform .* is rotated or sheared; warp it to a north-up grid"):
        degurba((pop, Affine(1000, 10, 0, 0, -1000, 5000), MOLL))  # rotated


# ------------------------------------------------------------------------------------------- units

def _two_unit_grid():
    pop = np.zeros((10, 20))
    pop[2:8, 1:7] = 2_000     # centre of 72,000 in the west unit
    pop[:, 10:] = 100         # low density rural east: 10 x 10 x 100 = 10,000
    return degurba(km_grid(pop, x0=0, y0=10_000))


def test_classify_units_exact_shares_and_classes():
    g = _two_unit_grid()
    west = shapely.box(0, 0, 10_000, 10_000)
    east = shapely.box(10_000, 0, 20_000, 10_000)
    half = shapely.box(0, 0, 3_500, 10_000)  # cuts the centre column 3 in half
    units = gpd.GeoDataFrame({"code": ["w", "e", "h"]}, geometry=[west, east, half], crs=MOLL)
    r = classify_units(g, None, units).set_index("code")
    assert np.isclose(r.loc["w", "population"], 72_000)
    assert np.isclose(r.loc["e", "population"], 10_000)
    assert np.isclose(r.loc["h", "population"], 2_000 * 6 * 2.5)  # cols 1, 2 and half of col 3
    # grid_km2 is true (ellipsoidal) km², the same km² as crs.area_km2 and builtup (35 plane km² in Mollweide)
    assert np.isclose(r.loc["h", "grid_km2"], area_km2(units.iloc[[2]]).iloc[0], rtol=1e-6)
    assert np.allclose(r["on_grid_share"], 1.0)
    assert r.loc["w", "class_l1"] == "city"
    assert r.loc["w", "class_l2_code"] == 30
    assert r.loc["e", "class_l1"] == "rural_area"
    assert r.loc["e", "class_l2"] == "dispersed_rural_area"
    shares = r[["share_urban_centre", "share_urban_cluster", "share_rural"]].sum(axis=1)
    assert np.allclose(shares, 1.0)


def test_classify_units_level2_rules_and_other_crs():
    pop = np.zeros((10, 60))
    pop[1, 1:7] = 1_000        # A: semi-dense cluster 6,000
    pop[5, 1:10] = 600         #    + suburban 5,400                     -> semi-dense town
    pop[5, 13:23] = 600        # B: suburban 6,000 + 300 rural          -> suburban or peri-urban area
    pop[8, 13:16] = 100
    pop[3, 25:29] = 1_600      # C: dense cluster 6,400 + 1,000 rural   -> dense town
    pop[8, 25:35] = 100
    #                            D: cols 36-47 empty                     -> mostly uninhabited (by area)
    pop[2, 49] = pop[3, 50] = 310  # E: rural cluster 620 + 100 rural  -> village
    # (310, not 300: a UTM cell 1 km on the plane is 1.0008 true km², 300 people in it are 299.8 per km²)
    pop[7, 49] = 100
    t = Affine(1000, 0, 500_000, 0, -1000, 3_500_000)
    g = degurba((pop, t, "EPSG:32648"))
    assert g.level2[1, 1] == 22
    assert g.level2[5, 13] == 21
    assert g.level2[3, 25] == 23
    assert g.level2[2, 49] == 13
    x = 500_000 + 12_000 * np.arange(6)
    boxes = [shapely.box(x[i], 3_490_000, x[i + 1], 3_500_000) for i in range(5)]
    units = gpd.GeoDataFrame({"code": list("ABCDE")}, geometry=boxes, crs="EPSG:32648").to_crs(4545)
    r = classify_units(g, None, units).set_index("code")
    assert np.allclose(r["population"], [11_400, 6_300, 7_400, 0, 720], rtol=1e-3, atol=1e-3)
    assert list(r["class_l1"]) == ["town_or_semi_dense_area"] * 3 + ["rural_area"] * 2
    assert list(r["class_l2"]) == ["semi_dense_town", "suburban_or_peri_urban_area", "dense_town",
                                   "mostly_uninhabited_area", "village"]
    assert list(r["classified_by"]) == ["population"] * 3 + ["area", "population"]
    assert np.isclose(r.loc["A", "share_semidense_cluster_22"], 6000 / 11400, rtol=1e-3)
    assert np.isnan(r.loc["D", "share_rural"])


def test_classify_units_reports_units_beyond_the_grid():
    g = _two_unit_grid()
    units = gpd.GeoDataFrame({"code": ["half_off", "off"]},
                             geometry=[shapely.box(15_000, 0, 25_000, 10_000), shapely.box(50_000, 0, 60_000, 1_000)],
                             crs=MOLL)
    r = classify_units(g, None, units).set_index("code")
    assert np.isclose(r.loc["half_off", "on_grid_share"], 0.5)
    assert np.isclose(r.loc["half_off", "population"], 5_000)
    assert r.loc["off", "on_grid_share"] == 0
    assert r.loc["off", "classified_by"] == "none"


def test_classify_units_errors():
    g = _two_unit_grid()
    units = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.box(0, 0, 1, 1)], crs=MOLL)
    with pytest.raises(MissingColumnError, match="column 'code' not in the units"):
        classify_units(g, None, units)
    with pytest.raises(MissingCRSError, match="the units have no CRS; set it"):
        classify_units(g, None, gpd.GeoDataFrame({"code": ["a"]}, geometry=[shapely.box(0, 0, 1, 1)]))
    with pytest.raises(GridMismatchError, match=r"population shape \(3, 3\) differs from grid \(10, 20\)"):
        classify_units(g, np.ones((3, 3)), units.rename(columns={"name": "code"}))


# ------------------------------------------------------------------------------------------- NBS codes

def test_urbanization_rate_by_group():
    df = pd.DataFrame({
        "county": ["511902"] * 4 + ["511921"] * 3,
        "urban_rural_code": ["111", 112, 121.0, "220", "122", "210", 220],
        "population": [1000, 500, 300, 200, 400, 300, 300],
    })
    total = urbanization_rate(df)
    assert total.loc[0, "population"] == 3000
    assert total.loc[0, "urban_population"] == 2200
    assert np.isclose(total.loc[0, "rate_pct"], 2200 / 3000 * 100)
    by = urbanization_rate(df, by="county").set_index("county")
    assert np.isclose(by.loc["511902", "rate"], 0.9)
    assert np.isclose(by.loc["511921", "rate"], 0.4)
    assert list(by["n_units"]) == [4, 3]
    assert (by["status"] == "ok").all()


def test_urbanization_rate_bad_codes_and_missing_population():
    df = pd.DataFrame({"urban_rural_code": ["111", "999", "abc", "220"], "population": [1, 2, 3, None],
                       "g": ["a", "a", "b", "b"]})
    with pytest.raises(UnknownUrbanRuralCodeError, match=r"row 1: '999'.*row 2: 'abc'"):
        urbanization_rate(df)
    ok = df.drop(index=[1, 2])
    with pytest.raises(MissingPopulationError, match="rows 3"):
        urbanization_rate(ok)
    r = urbanization_rate(ok, by="g", missing="nodata").set_index("g")
    assert r.loc["b", "status"] == "no data"
    assert np.isnan(r.loc["b", "rate"])
    assert r.loc["b", "n_missing_population"] == 1
    assert r.loc["a", "status"] == "ok"
    assert r.loc["a", "rate"] == 1.0


def test_census_2020_prefecture_rate_is_46_2_percent():
    census = pd.read_csv(CENSUS, dtype={"code": str})
    r = census_urbanization(census)
    total = r.iloc[-1]
    assert total["code"] == "total"
    assert total["population"] == 2_712_894
    assert abs(total["rate_pct"] - 46.16) < 0.05
    assert round(total["rate_pct"], 1) == 46.2
    bazhou = r.set_index("code").loc["511902"]
    assert np.isclose(bazhou["rate"], 0.6444)


def test_urban_areas_polygons():
    pop = np.zeros((12, 12))
    pop[3:9, 3:9] = 2_000            # centre: 36 km², 72,000 people
    pop[0, 11] = pop[1, 10] = 3_000  # a diagonal urban cluster of 6,000 (queen), two cells
    g = degurba(km_grid(pop))
    ua = g.urban_areas()
    assert list(ua["kind"]) == ["urban_centre", "urban_cluster", "urban_cluster"]
    assert np.allclose(ua["population"], [72_000, 72_000, 6_000])
    assert np.allclose(ua.geometry.area / 1e6, [36, 36, 2])
    assert np.allclose(ua["area_km2"], area_km2(ua), rtol=1e-6)  # true km² of the outlines (crs.area_km2)


# ------------------------------------------------------------------------------------------- against a plain reference

def _reference_degurba(pop):
    """The rules written the slow, obvious way (global hole labelling, convolution loop, EDT), for 1 km² cells."""
    from scipy import ndimage

    rook, queen = ndimage.generate_binary_structure(2, 1), np.ones((3, 3), bool)

    def groups(mask, struct, minimum):
        lab, n = ndimage.label(mask, structure=struct)
        out = np.zeros_like(mask)
        for i in range(1, n + 1):
            if pop[lab == i].sum() >= minimum:
                out |= lab == i
        return out, lab, n

    d = pop
    centre, _, _ = groups(d >= 1500, rook, 50_000)
    bg, n = ndimage.label(np.pad(~centre, 1, constant_values=True), structure=rook)
    for i in range(1, n + 1):
        comp = bg == i
        if not comp[0].any() and (comp.sum() < 15):
            centre |= comp[1:-1, 1:-1]
    kernel = np.ones((3, 3), int)
    kernel[1, 1] = 0
    while True:
        add = ~centre & (ndimage.convolve(centre.astype(int), kernel, mode="constant") >= 5)
        if not add.any():
            break
        centre |= add
    uc, _, _ = groups((d >= 300) | centre, queen, 5_000)
    uc |= centre
    rest = uc & ~centre
    dense, _, _ = groups(rest & (d >= 1500), rook, 5_000)
    rest &= ~dense
    semi, lab, n = groups(rest & (d >= 900), rook, 2_500)
    dist = ndimage.distance_transform_edt(~(centre | dense)) if (centre | dense).any() else np.full(d.shape, np.inf)
    for i in range(1, n + 1):
        comp = (lab == i) & semi
        if comp.any() and dist[comp].min() <= 2:
            semi &= ~comp
    rural = ~uc
    rc, _, _ = groups(rural & (d >= 300), queen, 500)
    l2 = np.where(rural, np.where(d >= 50, 12, 11), 21)
    l2[rc] = 13
    l2[semi] = 22
    l2[dense] = 23
    l2[centre] = 30
    return l2


@settings(max_examples=30, deadline=None)
@given(arrays("int64", st.tuples(st.integers(8, 30), st.integers(8, 30)), elements=st.integers(0, 7)),
       st.integers(0, 2**16))
def test_matches_plain_reference_implementation(codes, seed):
    levels = np.array([0, 30, 120, 400, 1_000, 1_700, 4_000, 9_000], dtype="float64")
    rng = np.random.default_rng(seed)
    pop = levels[codes] * rng.uniform(0.9, 1.1, size=codes.shape)
    g = degurba(km_grid(pop))
    assert np.array_equal(g.level2, _reference_degurba(pop))


@settings(max_examples=30, deadline=None)
@given(arrays("int64", st.tuples(st.integers(5, 30), st.integers(5, 30)), elements=st.integers(0, 7)))
def test_cluster_invariants(codes):
    from scipy import ndimage

    pop = np.array([0, 30, 120, 400, 1_000, 1_700, 4_000, 9_000], dtype="float64")[codes]
    g = degurba(km_grid(pop))
    lab, n = ndimage.label(g.level1 == 3, structure=ndimage.generate_binary_structure(2, 1))
    assert all(pop[lab == i].sum() >= 50_000 for i in range(1, n + 1))
    lab, n = ndimage.label(g.level1 >= 2, structure=np.ones((3, 3)))
    assert all(pop[lab == i].sum() >= 5_000 for i in range(1, n + 1))
    assert np.isclose(g.summary()["population"].sum(), pop.sum())


def test_matches_reference_on_seeded_mixtures():
    levels = np.array([0, 30, 120, 400, 1_000, 1_700, 4_000, 9_000], dtype="float64")
    rng = np.random.default_rng(5)
    seen = set()
    for _ in range(40):
        h, w = rng.integers(8, 40, 2)
        codes = rng.choice(8, size=(h, w), p=rng.dirichlet(np.ones(8)))
        pop = levels[codes] * rng.uniform(0.9, 1.1, size=codes.shape)
        g = degurba(km_grid(pop))
        assert np.array_equal(g.level2, _reference_degurba(pop))
        seen |= set(np.unique(g.level2).tolist())
    assert {11, 12, 13, 21, 22, 23, 30} <= seen  # every class was exercised


def test_real_village_codes_parse_and_count():
    # 123 distinct village-level units of Bazhong with their NBS urban-rural code (partial list in shared/)
    villages = pd.read_csv(CENSUS.parent / "village_urban_rural_partial.csv", dtype=str)
    villages = villages.drop_duplicates("nbs_code_12").assign(population=1.0)  # count units, not people
    r = urbanization_rate(villages, code_col="class_code", by="county").set_index("county")
    assert r["n_units"].sum() == 123
    assert r["urban_population"].to_dict() == {"南江县": 5, "巴州区": 13, "平昌县": 3, "恩阳区": 4, "通江县": 0}
    assert np.isclose(r.loc["巴州区", "rate"], 13 / 38)


def test_builtup_rule_for_dense_clusters_and_water():
    pop = np.zeros((8, 12))
    pop[3, 1:5] = 1_300   # 5,200 people at 1,300/km²: semi-dense, not dense by density
    built = np.zeros_like(pop)
    built[3, 1:5] = 0.55
    built[7, 11] = 0.2    # an empty cell with built-up area is not water
    land = np.ones_like(pop)
    land[7, 10:12] = 0.0
    assert set(degurba(km_grid(pop)).level2[3, 1:5]) == {22}
    g = degurba(km_grid(pop), builtup=built, land_share=land)
    assert set(g.level2[3, 1:5]) == {23}
    assert g.level2[7, 10] == 10
    assert g.level2[7, 11] == 11


def test_classify_units_with_a_population_raster_and_float_geotiff(tmp_path):
    rng = np.random.default_rng(2)
    fine = rng.uniform(0, 40, size=(40, 60))   # 100 m cells, UTM 48N
    fine[10:30, 10:40] = 30                    # 3,000 people per km² in the middle
    src = (fine, Affine(100, 0, 500_000, 0, -100, 3_504_000), "EPSG:32648")
    g = degurba(src)
    units = gpd.GeoDataFrame({"code": ["all"]}, geometry=[shapely.box(500_000, 3_500_000, 506_000, 3_504_000)],
                             crs="EPSG:32648")
    a = classify_units(g, None, units)
    b = classify_units(g, src, units)
    assert np.isclose(a.loc[0, "population"], fine.sum())
    assert np.isclose(b.loc[0, "population"], fine.sum())
    out = g.to_geotiff(tmp_path / "density.tif", layers=("density", "population"))
    with rasterio.open(out) as ds:
        assert ds.dtypes == ("float64", "float64")
        assert np.isclose(np.nansum(ds.read(2)), fine.sum())


def test_builtup_share_is_per_km2_of_land():
    pop = np.zeros((12, 12))
    pop[2:10, 2:10] = 1_000   # 64,000 people; 1,000 per km² of cell but 2,000 per km² of land...
    land = np.ones_like(pop)
    built = np.zeros_like(pop)
    built[2:10, 2:10] = 0.3   # 30 % of the cell built up = 60 % of its land
    land[2:10, 2:10] = 0.5
    g = degurba(km_grid(pop), land_share=land, builtup=built, thresholds=DegurbaThresholds(centre_density=5_000))  # only built-up can qualify
    assert (g.level1 == 3).sum() == 64
    g2 = degurba(km_grid(pop), land_share=land, builtup=built, thresholds=DegurbaThresholds(centre_density=5_000, builtup_centre_share=0.61))
    assert (g2.level1 == 3).sum() == 0


# ------------------------------------------------------------------------------------ peers' definitions

def test_density_basis_is_checked():
    with pytest.raises(InvalidThresholdError, match=r"density_basis='km2'.*'cell'.*GHSL.*'true'"):
        DegurbaThresholds(density_basis="km2")


def test_nodata_over_water_is_water_as_ghsl_or_off_grid():
    pop = np.full((12, 12), 100.0)
    pop[:, :3] = np.nan                      # no population data over a lake (land share 0)
    land = np.ones_like(pop)
    land[:, :3] = 0.0
    g = degurba(km_grid(pop), land_share=land)
    assert (g.level2[:, :3] == 10).all()
    assert (g.level1[:, :3] == 1).all()
    assert g.population[:, :3].sum() == 0
    off = degurba(km_grid(pop), land_share=land, thresholds=DegurbaThresholds(nodata_water=False))
    assert (off.level2[:, :3] == 0).all()
    assert (off.level1[:, :3] == 0).all()
    # without a land share or a water mask nothing says it is water: off-grid either way
    assert (degurba(km_grid(pop)).level2[:, :3] == 0).all()


def test_dense_cluster_population_is_its_own_unless_flexurba_option():
    pop = np.zeros((20, 20))
    pop[4:12, 4:12] = 2_000.0                # a city: 63 km² at 2,000/km² ...
    pop[11, 8] = 1_000.0                     # ... with a notch that only the majority smoothing adds
    pop[12:14, 8] = 1_600.0                  # a dense fringe below the notch: 2 cells, 3,200 people of its own
    base = degurba(km_grid(pop))
    assert base.level2[11, 8] == 30
    assert (base.level2[4:11, 4:12] == 30).all()
    # the manual's reading: a dense urban cluster (a town) needs 5,000 people of its own -> suburban (21)
    assert base.level2[12, 8] == 21
    assert base.level2[13, 8] == 21
    flex = degurba(km_grid(pop), thresholds=DegurbaThresholds(dense_cluster_counts_centre=True))
    # flexurba: the adjacent centre's people count toward the 5,000 -> dense urban cluster (23)
    assert flex.level2[12, 8] == 23
    assert flex.level2[13, 8] == 23
    assert (flex.level2 == 30).sum() == (base.level2 == 30).sum()


def test_fill_value_population_without_nodata_is_warned_not_negative(tmp_path):
    import rasterio

    from bazhong_geo._errors import RasterValueWarning

    pop = np.full((12, 12), 100.0, dtype="float32")
    pop[0, :] = -9999.0
    path = tmp_path / "pop_fill.tif"
    with rasterio.open(path, "w", driver="GTiff", width=12, height=12, count=1, dtype="float32", crs=MOLL,
                       transform=Affine(1000, 0, 0, 0, -1000, 12000)) as dst:
        dst.write(pop, 1)
    with pytest.warns(RasterValueWarning, match=r"pop_fill.tif declares no nodata value.*-9999: 12 cells"):
        g = degurba(str(path))
    assert g.population.sum() == 100.0 * 11 * 12
    assert (g.level1[0] == 0).all()
