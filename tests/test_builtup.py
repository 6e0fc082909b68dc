"""Known-answer tests of bazhong_geo.builtup on synthetic GeoTIFFs written here."""

import warnings
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import CRS, Geod, Proj, Transformer
from rasterio.transform import from_origin
from shapely.geometry import Point, Polygon, box

from bazhong_geo import builtup
from bazhong_geo._errors import GridMismatchError, InvalidBuiltupRuleError, MissingColumnError, MissingCRSError
from bazhong_geo.zonal import CellArea, compute_coverage

EQUAL_AREA = "EPSG:6933"  # EASE-Grid 2.0 (cylindrical equal-area): the plane area is the true area


def write(path, data, transform, crs, nodata=None, tiled=False):
    kw = {"driver": "GTiff", "height": data.shape[0], "width": data.shape[1], "count": 1, "dtype": data.dtype.name,
              "transform": transform, "nodata": nodata}
    if crs is not None:
        kw["crs"] = crs
    if tiled:
        kw.update(tiled=True, blockxsize=16, blockysize=16)
    with rasterio.open(path, "w", **kw) as dst:
        dst.write(data, 1)
    return str(path)


def zones(geoms, crs, codes=None):
    codes = codes or [f"z{i}" for i in range(len(geoms))]
    return gpd.GeoDataFrame({"code": codes}, geometry=list(geoms), crs=crs)


# ------------------------------------------------------------------------------------ coverage engine

def test_coverage_matches_shapely_cell_clipping():
    """Every cell's fraction equals area(polygon ∩ cell) / cell area, holes and multipolygons included."""
    tr = from_origin(0, 100, 10, 10)
    poly = Polygon([(3, 97), (71, 88), (64, 12), (22, 31)], [[(30, 70), (50, 72), (41, 45)]])
    multi = shapely.MultiPolygon([box(81.5, 2.5, 98.0, 40.2), box(82, 55, 97, 60)])
    tri = Polygon([(0, 0), (100, 100), (100, 0)])
    geoms = [poly, multi, tri]
    cov = compute_coverage(geoms, tr, (10, 10))
    dense = np.zeros((3, 10, 10))
    np.add.at(dense, (cov.cell_zone, cov.cell_row, cov.cell_col), cov.cell_frac)
    for r, c0, c1, z, w in zip(cov.run_row, cov.run_c0, cov.run_c1, cov.run_zone, cov.run_w, strict=False):
        dense[z, r, c0:c1] += w
    rows, cols = np.mgrid[0:10, 0:10]
    cells = shapely.box(cols * 10, 90 - rows * 10, cols * 10 + 10, 100 - rows * 10)
    for z, g in enumerate(geoms):
        expected = shapely.area(shapely.intersection(cells, g)) / 100.0
        np.testing.assert_allclose(dense[z], expected, atol=1e-12)


def test_partial_pixels_hand_computed(tmp_path):
    # 10 m cells in an equal-area CRS: every cell is exactly 100 m²
    x0, y0 = 1_000_000.0, 3_000_000.0
    tr = from_origin(x0, y0, 10, 10)
    data = np.ones((4, 4), dtype=np.uint8)
    data[0, 1] = 0
    path = write(tmp_path / "a.tif", data, tr, EQUAL_AREA)
    half_half = box(x0 + 5, y0 - 10, x0 + 25, y0)  # half of (0,0), all of (0,1) [not built], half of (0,2)
    triangle = Polygon([(x0, y0), (x0 + 10, y0), (x0, y0 - 10)])  # half of cell (0,0)
    quarter = box(x0 + 35, y0 - 25, x0 + 45, y0 - 15)  # quarters of 4 cells, one of them outside (col 4)
    df = builtup.area_by_zone(path, zones([half_half, triangle, quarter], EQUAL_AREA), classes=[1])
    np.testing.assert_allclose(df.builtup_km2, [100e-6, 50e-6, 50e-6], rtol=1e-9)
    np.testing.assert_allclose(df.zone_km2, [200e-6, 50e-6, 100e-6], rtol=1e-6)
    np.testing.assert_allclose(df.share, [0.5, 1.0, 0.5], rtol=1e-6)
    np.testing.assert_allclose(df.valid_share, [1.0, 1.0, 0.5], rtol=1e-6)
    assert list(df.columns) == ["code", "builtup_km2", "zone_km2", "share", "valid_share"]


def test_geographic_raster_at_bazhong_latitude_matches_geodesic_area(tmp_path):
    tr = from_origin(106.70, 31.90, 0.001, 0.001)  # 100 x 100 cells of 0.001°, ~95 m x 111 m
    path = write(tmp_path / "geo.tif", np.ones((100, 100), dtype=np.uint8), tr, "EPSG:4326")
    # a box on cell edges, and a box cutting cells in half (partial cells)
    z = zones([box(106.72, 31.82, 106.75, 31.85), box(106.7105, 31.8105, 106.7305, 31.8205)], "EPSG:4326")
    df = builtup.area_by_zone(path, z, classes=[1])
    geod = Geod(ellps="WGS84")
    # the cells' edges are parallels and meridians: densify the parallels so the geodesic polygon follows them
    expected = [abs(geod.geometry_area_perimeter(shapely.segmentize(g, 1e-5))[0]) / 1e6 for g in z.geometry]
    np.testing.assert_allclose(df.builtup_km2, expected, rtol=1e-6)
    # and the km² really depend on latitude: the same boxes 30° further north are smaller
    assert expected[0] == pytest.approx(0.03 * 0.03 * 111.32 * 110.85 * np.cos(np.radians(31.835)), rel=5e-3)


def test_zones_in_another_crs_are_reprojected(tmp_path):
    tr = from_origin(106.70, 31.90, 0.0005, 0.0005)
    path = write(tmp_path / "geo.tif", np.ones((200, 200), dtype=np.uint8), tr, "EPSG:4326")
    to = Transformer.from_crs("EPSG:4326", "EPSG:4545", always_xy=True)
    x, y = to.transform(106.75, 31.85)
    sq = box(x - 1000, y - 1000, x + 1000, y + 1000)  # 2 km square in the work CRS
    z = zones([sq], "EPSG:4545")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # a raster/zone CRS mismatch is handled, not warned about
        df = builtup.area_by_zone(path, z, classes=[1])
    assert df.zone_km2[0] == pytest.approx(4.0 / Proj("EPSG:4545").get_factors(106.75, 31.85).areal_scale, rel=1e-5)
    assert df.builtup_km2[0] == pytest.approx(df.zone_km2[0], rel=2e-5)
    assert df.valid_share[0] == pytest.approx(1.0, abs=2e-5)


def test_mollweide_raster(tmp_path):
    to = Transformer.from_crs("EPSG:4326", "ESRI:54009", always_xy=True)
    x, y = to.transform(106.75, 31.85)
    x0, y0 = np.floor(x / 100) * 100, np.floor(y / 100) * 100
    tr = from_origin(x0, y0, 100, 100)
    data = np.full((30, 30), 2500.0, dtype=np.float32)  # GHS-BUILT-S: built-up m² per 100 m cell
    path = write(tmp_path / "ghsl.tif", data, tr, "ESRI:54009", nodata=-200.0)
    zone = box(x0 + 150, y0 - 1250, x0 + 1150, y0 - 250)  # 1 km², cutting cells in half
    z = zones([zone], "ESRI:54009")
    m2 = builtup.area_by_zone(path, z, fraction="m2")
    # PROJ's Mollweide is spherical (R = a): a plane km² is not an ellipsoidal km² at 31.85°N
    to_geo = Transformer.from_crs("ESRI:54009", "EPSG:4326", always_xy=True)
    lonlat = shapely.transform(shapely.segmentize(zone, 10.0), lambda c: np.column_stack(to_geo.transform(*c.T)))
    true_km2 = abs(Geod(ellps="WGS84").geometry_area_perimeter(lonlat)[0]) / 1e6
    assert abs(true_km2 - 1.0) > 1e-3
    assert m2.zone_km2[0] == pytest.approx(true_km2, rel=1e-5)
    assert m2.builtup_km2[0] == pytest.approx(0.25 * true_km2, rel=1e-5)
    assert m2.valid_share[0] == pytest.approx(1.0, rel=1e-5)
    share = builtup.area_by_zone(write(tmp_path / "s.tif", data / 10000.0, tr, "ESRI:54009"), z, fraction="share")
    np.testing.assert_allclose(share.builtup_km2, m2.builtup_km2, rtol=1e-6)


@pytest.mark.parametrize("crs", ["EPSG:32648", "EPSG:4545"])
def test_conformal_raster_uses_true_cell_areas(tmp_path, crs):
    to = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = to.transform(107.6, 31.85)  # eastern Bazhong: far from UTM 48's central meridian (105°E)
    x0, y0 = np.floor(x / 10) * 10, np.floor(y / 10) * 10
    tr = from_origin(x0, y0, 10, 10)
    path = write(tmp_path / "utm.tif", np.ones((300, 300), dtype=np.uint8), tr, crs)
    sq = box(x0 + 5, y0 - 2995, x0 + 2995, y0 - 5)
    df = builtup.area_by_zone(path, zones([sq], crs), classes=[1])
    scale = Proj(crs).get_factors(107.6, 31.85).areal_scale
    planar = sq.area / 1e6
    assert df.builtup_km2[0] == pytest.approx(planar / scale, rel=2e-5)
    assert df.builtup_km2[0] == pytest.approx(df.zone_km2[0], rel=2e-5)
    if crs == "EPSG:32648":
        assert abs(df.builtup_km2[0] / planar - 1) > 1e-4  # the planar area would be wrong here


def test_cell_area_interpolation_is_exact_enough():
    tr = from_origin(300_000, 3_600_000, 30, 30)
    ca = CellArea("EPSG:4545", tr, (5000, 5000))
    rng = np.random.default_rng(0)
    r, c = rng.integers(0, 5000, 50), rng.integers(0, 5000, 50)
    x, y = tr.c + tr.a * (c + 0.5), tr.f + tr.e * (r + 0.5)
    lon, lat = Transformer.from_crs("EPSG:4545", "EPSG:4490", always_xy=True).transform(x, y)
    exact = 900.0 / Proj("EPSG:4545").get_factors(lon, lat).areal_scale
    np.testing.assert_allclose(ca.at(r, c), exact, rtol=5e-8)


# ------------------------------------------------------------------------------------ vs exactextract

def _voronoi_zones(n, bounds, seed, crs):
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = bounds
    pts = np.column_stack([rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)])
    frame = box(*bounds)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.MultiPoint(pts), extend_to=frame.buffer(1000)))
    return zones(shapely.intersection(cells, frame), crs)


def test_matches_exactextract(tmp_path):
    from exactextract import exact_extract

    rng = np.random.default_rng(3)
    tr = from_origin(2_000_000, 3_500_000, 10, 10)
    data = (rng.random((200, 240)) < 0.35).astype(np.uint8)
    data[rng.random(data.shape) < 0.05] = 255
    data[50:60, 50:90] = 2
    path = write(tmp_path / "ee.tif", data, tr, EQUAL_AREA, nodata=255, tiled=True)
    # zones overrunning the raster, with holes
    z = _voronoi_zones(25, (1_999_700, 3_497_800, 2_002_500, 3_500_200), 4, EQUAL_AREA)
    z.loc[3, "geometry"] = z.geometry[3].difference(z.geometry[3].centroid.buffer(60))
    df = builtup.area_by_zone(path, z, classes=[1, 2])
    ee = exact_extract(path, z, ["count", "sum"], include_cols=["code"], output="pandas")
    # exactextract sums values: give it the 0/1 mask of classes [1, 2] with the same nodata
    mask = np.isin(data, [1, 2]).astype(np.uint8)
    mask[data == 255] = 255
    path2 = write(tmp_path / "mask.tif", mask, tr, EQUAL_AREA, nodata=255)
    ee2 = exact_extract(path2, z, ["sum"], include_cols=["code"], output="pandas")
    np.testing.assert_allclose(df.builtup_km2 * 1e6 / 100.0, ee2["sum"], rtol=1e-6, atol=1e-9)
    valid_cells = df.valid_share * df.zone_km2 * 1e6 / 100.0
    np.testing.assert_allclose(valid_cells, ee["count"], rtol=1e-6, atol=1e-6)


def test_fraction_share_matches_exactextract(tmp_path):
    from exactextract import exact_extract

    rng = np.random.default_rng(5)
    tr = from_origin(2_000_000, 3_500_000, 100, 100)
    data = rng.random((60, 80)).astype(np.float32)
    data[:3, :3] = -1
    path = write(tmp_path / "f.tif", data, tr, EQUAL_AREA, nodata=-1)
    z = _voronoi_zones(12, (2_000_000, 3_494_000, 2_008_000, 3_500_000), 6, EQUAL_AREA)
    df = builtup.area_by_zone(path, z, fraction="share")
    ee = exact_extract(path, z, ["sum"], include_cols=["code"], output="pandas")
    np.testing.assert_allclose(df.builtup_km2 * 1e6 / 1e4, ee["sum"], rtol=1e-6)


# ------------------------------------------------------------------------------------ bad input, reports

def test_raster_without_crs(tmp_path):
    tr = from_origin(1_000_000, 3_000_000, 10, 10)
    path = write(tmp_path / "nocrs.tif", np.ones((5, 5), dtype=np.uint8), tr, None)
    z = zones([box(1_000_000, 2_999_960, 1_000_040, 3_000_000)], EQUAL_AREA)
    with pytest.raises(MissingCRSError, match="raster_crs"):
        builtup.area_by_zone(path, z, classes=[1])
    df = builtup.area_by_zone(path, z, classes=[1], raster_crs=EQUAL_AREA)
    assert df.builtup_km2[0] == pytest.approx(16 * 100e-6)


def test_rule_errors(tmp_path):
    path = write(tmp_path / "r.tif", np.ones((5, 5), dtype=np.uint8), from_origin(0, 50, 10, 10), EQUAL_AREA)
    z = zones([box(0, 0, 50, 50)], EQUAL_AREA)
    with pytest.raises(InvalidBuiltupRuleError, match=r"exactly one built-up rule: classes=.* or fraction='share'"):
        builtup.area_by_zone(path, z)
    with pytest.raises(InvalidBuiltupRuleError, match="exactly one built-up rule"):
        builtup.area_by_zone(path, z, classes=[1], fraction="share")
    with pytest.raises(InvalidBuiltupRuleError, match="fraction must be 'share' or 'm2', not 'percent'"):
        builtup.area_by_zone(path, z, fraction="percent")


def test_zones_outside_and_nodata_are_reported(tmp_path):
    tr = from_origin(1_000_000, 3_000_000, 10, 10)
    data = np.ones((10, 10), dtype=np.uint8)
    data[:, 5:] = 255
    path = write(tmp_path / "n.tif", data, tr, EQUAL_AREA, nodata=255)
    z = zones([box(1_000_000, 2_999_900, 1_000_050, 3_000_000),       # valid half
               box(1_000_060, 2_999_900, 1_000_100, 3_000_000),       # nodata half
               box(1_005_000, 2_999_900, 1_005_100, 3_000_000)],      # outside
              EQUAL_AREA, ["in", "nodata", "out"])
    with pytest.warns(UserWarning, match="outside the raster") as rec:
        df = builtup.area_by_zone(path, z, classes=[1])
    msgs = " ".join(str(w.message) for w in rec)
    assert "outside" in msgs
    assert "out" in msgs
    assert "nodata" in msgs
    rep = df.attrs["report"]
    assert rep["outside_codes"] == ["out"]
    assert rep["no_valid_codes"] == ["nodata"]
    np.testing.assert_allclose(df.valid_share, [1.0, 0.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(df.builtup_km2, [0.005, 0.0, 0.0], rtol=1e-9)
    assert df.zone_km2[2] == pytest.approx(0.01, rel=1e-6)  # the zone's own area, even off the raster


def test_nodata_everywhere_is_reported(tmp_path):
    path = write(tmp_path / "e.tif", np.full((5, 5), 255, dtype=np.uint8), from_origin(0, 50, 10, 10),
                 EQUAL_AREA, nodata=255)
    with pytest.warns(UserWarning, match="nodata everywhere"):
        df = builtup.area_by_zone(path, zones([box(0, 0, 50, 50)], EQUAL_AREA), classes=[1])
    assert df.attrs["report"]["nodata_everywhere"]
    assert df.valid_share[0] == 0.0


def test_rule_matching_nothing_lists_classes_found(tmp_path):
    data = np.array([[10, 20], [30, 80]], dtype=np.uint8)
    path = write(tmp_path / "wc.tif", data, from_origin(0, 20, 10, 10), EQUAL_AREA)
    with pytest.warns(UserWarning, match=r"classes found in the raster: \[10, 20, 30, 80\]"):
        df = builtup.area_by_zone(path, zones([box(0, 0, 20, 20)], EQUAL_AREA), classes=[50])
    assert df.attrs["report"]["classes_found"] == [10, 20, 30, 80]


# ------------------------------------------------------------------------------------ reuse across years

def test_stack_reuses_coverage_and_gives_identical_results(tmp_path):
    rng = np.random.default_rng(9)
    tr = from_origin(106.7, 31.9, 0.0005, 0.0005)
    paths = [write(tmp_path / f"y{y}.tif", (rng.random((120, 150)) < 0.2 + 0.1 * y).astype(np.uint8), tr,
                   "EPSG:4326", tiled=True) for y in range(3)]
    z = _voronoi_zones(15, (106.69, 31.84, 106.78, 31.91), 1, "EPSG:4326")
    stack = builtup.area_by_zone_stack(paths, z, classes=[1], labels=[2020, 2021, 2022])
    cov = builtup.zone_coverage(paths[0], z)
    for year, p in zip([2020, 2021, 2022], paths, strict=False):
        single = builtup.area_by_zone(p, z, classes=[1])
        reused = builtup.area_by_zone(p, z, classes=[1], coverage=cov)
        got = stack[stack.layer == year].drop(columns="layer").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, single)
        pd.testing.assert_frame_equal(reused, single)
    assert stack.groupby("layer").builtup_km2.sum().is_monotonic_increasing


def test_coverage_on_another_grid_is_refused(tmp_path):
    a = write(tmp_path / "a.tif", np.ones((5, 5), dtype=np.uint8), from_origin(0, 50, 10, 10), EQUAL_AREA)
    b = write(tmp_path / "b.tif", np.ones((5, 5), dtype=np.uint8), from_origin(5, 50, 10, 10), EQUAL_AREA)
    z = zones([box(0, 0, 50, 50)], EQUAL_AREA)
    cov = builtup.zone_coverage(a, z)
    with pytest.raises(GridMismatchError):
        builtup.area_by_zone(b, z, classes=[1], coverage=cov)


# ------------------------------------------------------------------------------------ conservation

@pytest.fixture(scope="module")
def partition_raster(tmp_path_factory):
    rng = np.random.default_rng(11)
    data = (rng.random((90, 110)) < 0.4).astype(np.uint8)
    data[rng.random(data.shape) < 0.03] = 255
    tr = from_origin(106.70, 31.90, 0.0004, 0.0004)
    path = write(tmp_path_factory.mktemp("prop") / "p.tif", data, tr, "EPSG:4326", nodata=255, tiled=True)
    area = CellArea("EPSG:4326", tr, data.shape)
    total = float(((data == 1) * area.row_area[:, None]).sum()) / 1e6
    return path, tr.c, tr.f - 90 * 0.0004, tr.c + 110 * 0.0004, tr.f, total


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pts=st.lists(st.tuples(st.floats(0.001, 0.999), st.floats(0.001, 0.999)), min_size=2, max_size=12,
                    unique=True))
def test_zones_partitioning_the_raster_sum_to_the_total(partition_raster, pts):
    path, minx, miny, maxx, maxy, total = partition_raster
    xy = np.array([(minx + u * (maxx - minx), miny + v * (maxy - miny)) for u, v in pts])
    frame = box(minx, miny, maxx, maxy)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.MultiPoint(xy), extend_to=frame.buffer(0.1)))
    parts = [g for g in shapely.intersection(cells, frame) if not g.is_empty and g.area > 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = builtup.area_by_zone(path, zones(parts, "EPSG:4326"), classes=[1])
    assert df.builtup_km2.sum() == pytest.approx(total, rel=1e-9)


# ------------------------------------------------------------------------------------ vectors

def test_vector_overlay_known_answer():
    crs = "EPSG:4545"
    x, y = 600_000.0, 3_530_000.0
    landuse = gpd.GeoDataFrame({"class_code": ["201", "203", "0101", "202"]}, geometry=[
        box(x, y, x + 1000, y + 1000),            # city land, 1 km²
        box(x + 1000, y, x + 1500, y + 1000),     # village land, 0.5 km²
        box(x, y + 1000, x + 2000, y + 2000),     # farmland
        box(x + 500, y + 500, x + 1000, y + 1000),  # town land overlapping the city parcel (counted once)
    ], crs=crs)
    z = zones([box(x, y, x + 2000, y + 2000), box(x + 1250, y - 1000, x + 1750, y + 500)], crs, ["a", "b"])
    df = builtup.area_by_zone_vector(landuse, z, classes=["201", "202", "203"])
    scale = Proj(crs).get_factors(109.05, 31.9).areal_scale  # around x=600 km, true areas are smaller
    truth = np.array([1.5, 0.125]) / Proj(crs).get_factors(
        *Transformer.from_crs(crs, "EPSG:4490", always_xy=True).transform(x + 1000, y + 1000)).areal_scale
    assert scale > 1
    np.testing.assert_allclose(df.builtup_km2, truth, rtol=2e-5)
    np.testing.assert_allclose(df.share, [1.5 / 4, 0.125 / 0.75], rtol=2e-5)
    np.testing.assert_allclose(df.valid_share, [3.5 / 4, 0.125 / 0.75], rtol=2e-5)  # parcels cover


# ------------------------------------------------------------------------------------ extents

@pytest.fixture
def town_raster(tmp_path):
    x0, y0 = 600_000.0, 3_530_000.0
    data = np.zeros((100, 100), dtype=np.uint8)
    data[10:30, 10:40] = 1   # A: 600 cells, contains settlement "C1"
    data[30:32, 40:42] = 1   # touches A diagonally (8-connected): part of A
    data[60:70, 60:70] = 1   # B: 100 cells, settlement "T1" 150 m away
    data[90:95, 2:6] = 1     # C: 20 cells, no settlement near
    data[50, 50] = 1         # speck, dropped by min_area_km2
    path = write(tmp_path / "town.tif", data, from_origin(x0, y0, 10, 10), "EPSG:4545")
    s = gpd.GeoDataFrame({"code": ["C1", "T1", "X9", "V1"], "name": ["城", "镇", "远", "村"],
                          "tier": ["central_city", "town", "town", "village"], "population": [1e5, 5e3, 1e3, 1e2]},
                         geometry=[Point(x0 + 200, y0 - 200), Point(x0 + 850, y0 - 650), Point(x0 + 5000, y0 - 5000),
                                   None], crs="EPSG:4545")
    return path, s, x0, y0


def test_extents_patches_and_joins(town_raster):
    path, s, x0, y0 = town_raster
    p = builtup.extents(path, classes=[1], min_area_km2=0.0015, settlements=s, max_distance_m=300)
    assert p.crs == CRS("EPSG:4545")
    assert list(p.cells) == [604, 100, 20]
    ca = CellArea("EPSG:4545", from_origin(x0, y0, 10, 10), (100, 100))
    np.testing.assert_allclose(p.builtup_km2, np.array([604, 100, 20]) * ca.at([20, 65, 92], [25, 65, 4]) / 1e6,
                               rtol=1e-6)
    assert list(p["join"]) == ["contains", "nearest", "none"]
    assert list(p.settlement_code) == ["C1", "T1", None]
    assert p.distance_m[1] == pytest.approx(150.0)
    assert p.geometry.area.iloc[0] == pytest.approx(604 * 100)
    per = builtup.settlement_builtup_km2(p, s)
    assert list(per.code) == ["C1", "T1", "V1", "X9"]
    np.testing.assert_allclose(per.builtup_km2, [p.builtup_km2[0], p.builtup_km2[1], 0, 0])
    # 4-connectivity splits the diagonal appendix off
    p4 = builtup.extents(path, classes=[1], min_area_km2=0.0003, connectivity=4)
    assert sorted(p4.cells, reverse=True) == [600, 100, 20, 4]


def test_central_city_builtup(town_raster):
    path, s, x0, y0 = town_raster
    s = s.assign(kind=["city", "town", "town", "village"], county_code=["511902", "511902", "511903", None])
    s.loc[1, "code"] = "511902001"
    s.loc[1, "kind"] = "subdistrict"  # a 街道 of 巴州区: its patch is urban, part of the central city
    s.loc[0, "code"] = "511900"
    counties = gpd.GeoDataFrame({"code": ["511902", "511903"], "name": ["巴州区", "恩阳区"]},
                                geometry=[box(x0, y0 - 1000, x0 + 500, y0), box(x0 + 500, y0 - 1000, x0 + 1000, y0)],
                                crs="EPSG:4545")
    region = SimpleNamespace(settlements=s, boundaries=counties)
    km2, sel = builtup.central_city_builtup_km2(region, path, classes=[1], min_area_km2=0.0015,
                                                max_distance_m=300, details=True)
    assert sorted(sel.settlement_code) == ["511900", "511902001"]
    assert km2 == pytest.approx(sel.builtup_km2.sum())
    s.loc[1, "kind"] = "town"  # an ordinary town's patch is not the central city
    rule = {"classes": [1], "min_area_km2": 0.0015, "max_distance_m": 300}
    assert builtup.central_city_builtup_km2(region, path, rule=rule) == pytest.approx(sel.builtup_km2.iloc[0])


def test_central_city_builtup_on_the_real_region(tmp_path):
    import bazhong_geo as bg

    region = bg.load_bazhong()
    city = region.settlements.set_index("code").geometry["511900"]  # 巴城, EPSG:4545
    x0, y0 = np.floor(city.x / 10) * 10 - 3000, np.floor(city.y / 10) * 10 + 3000
    data = np.zeros((600, 600), dtype=np.uint8)
    data[250:350, 250:350] = 1  # 1 km² (plane) around 巴城's point
    data[5:25, 5:25] = 1        # a hamlet 4 km away: joined to nothing, not the central city
    tr = from_origin(x0, y0, 10, 10)
    path = write(tmp_path / "bazhong.tif", data, tr, "EPSG:4545")
    km2, sel = builtup.central_city_builtup_km2(region, path, classes=[1], details=True)
    expected = CellArea("EPSG:4545", tr, data.shape).at(np.full(10_000, 300), np.full(10_000, 300)).sum() / 1e6
    assert km2 == pytest.approx(expected, rel=1e-5)
    assert list(sel.settlement_code) == ["511900"]
    assert list(sel["join"]) == ["contains"]
    # zones=None is fine when a coverage is given
    cov = builtup.zone_coverage(path, region.counties)
    with pytest.warns(UserWarning, match="4 zone.s. lie outside"):
        df = builtup.area_by_zone(path, None, classes=[1], coverage=cov, progress=True)
    assert df.loc[df.code == "511902", "builtup_km2"].item() == pytest.approx(km2 + 0.04, rel=1e-3)


def test_missing_and_invalid_zone_geometries_are_reported(tmp_path):
    path = write(tmp_path / "o.tif", np.ones((10, 10), dtype=np.uint8), from_origin(0, 100, 10, 10), EQUAL_AREA)
    bowtie = Polygon([(0, 0), (50, 50), (50, 0), (0, 50)])  # self-intersecting: repaired into two triangles
    z = zones([box(0, 0, 50, 50), None, Polygon(), bowtie], EQUAL_AREA, ["a", "none", "empty", "bowtie"])
    with pytest.warns(UserWarning, match="make_valid") as rec:
        df = builtup.area_by_zone(path, z, classes=[1])
    msgs = " ".join(str(w.message) for w in rec)
    assert "make_valid: bowtie" in msgs
    assert "no geometry" in msgs
    np.testing.assert_allclose(df.builtup_km2, [25e-4, 0, 0, 12.5e-4], rtol=1e-9)
    assert df.attrs["report"]["empty_codes"] == ["empty", "none"]
    assert df.attrs["report"]["repaired_codes"] == ["bowtie"]


def test_vector_overlay_other_crs_and_no_match():
    x, y = 600_000.0, 3_530_000.0
    landuse = gpd.GeoDataFrame({"class_code": ["201", "0101"]},
                               geometry=[box(x, y, x + 1000, y + 1000), box(x + 1000, y, x + 2000, y + 1000)],
                               crs="EPSG:4545")
    z = zones([box(x + 500, y, x + 1500, y + 1000)], "EPSG:4545", ["a"])
    ref = builtup.area_by_zone_vector(landuse, z, classes=["201"])
    other = builtup.area_by_zone_vector(landuse.to_crs("EPSG:4490"), z, classes=[201])  # ints match strings
    np.testing.assert_allclose(other.builtup_km2, ref.builtup_km2, rtol=1e-4)
    # (the true km² of the two halves differ by ~1e-6: the scale of EPSG:4545 varies across them)
    assert ref.share[0] == pytest.approx(0.5, rel=1e-5)
    assert ref.valid_share[0] == pytest.approx(1.0, rel=1e-6)
    with pytest.warns(UserWarning, match=r"classes found in 'class_code': \['0101', '201'\]"):
        none = builtup.area_by_zone_vector(landuse, z, classes=["202"])
    assert none.builtup_km2[0] == 0.0


def test_open_dataset_and_id_col(tmp_path):
    x0, y0 = 1_000_000.0, 3_000_000.0
    path = write(tmp_path / "d.tif", np.ones((4, 4), dtype=np.uint8), from_origin(x0, y0, 10, 10), EQUAL_AREA)
    z = gpd.GeoDataFrame({"adcode": ["511902"]}, geometry=[box(x0 + 5, y0 - 10, x0 + 25, y0)], crs=EQUAL_AREA)
    with rasterio.open(path) as ds:
        df = builtup.area_by_zone(ds, z, classes=[1], id_col="adcode")
        assert not ds.closed  # the caller's dataset stays open
    # the zone id comes out as ``code`` whatever its column was called
    assert list(df.columns) == ["code", "builtup_km2", "zone_km2", "share", "valid_share"]
    assert df.code.tolist() == ["511902"]
    assert df.builtup_km2[0] == pytest.approx(200e-6, rel=1e-9)
    with pytest.raises(MissingColumnError, match=r"zones has no 'code' column .*'adcode'.*pass id_col="):
        builtup.area_by_zone(path, z, classes=[1])


def test_extents_rule_matching_nothing_lists_classes_found(tmp_path):
    data = np.array([[10, 20], [30, 80]], dtype=np.uint8)
    path = write(tmp_path / "wc.tif", data, from_origin(0, 20, 10, 10), EQUAL_AREA)
    with pytest.warns(UserWarning, match=r"classes=\[50\] matches no cell of .*wc\.tif; classes found in the raster: "
                                         r"\[10, 20, 30, 80\]"):
        p = builtup.extents(path, classes=[50], min_area_km2=0)
    assert len(p) == 0
    assert p.attrs["report"]["classes_found"] == [10, 20, 30, 80]
    assert "classes_found" not in builtup.extents(path, classes=[80], min_area_km2=0).attrs["report"]
