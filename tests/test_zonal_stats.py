"""zonal.zonal_stats and zonal_cells, checked statistic by statistic against exactextract on the same inputs.

Inputs: a float raster with a nodata block, a class raster (integers), a weights raster with nodata cells;
zones inside, partly outside and wholly outside the raster, zones over nodata, a line zone (a road).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from exactextract import exact_extract
from rasterio.transform import from_origin

from bazhong_geo import zonal
from bazhong_geo._errors import GridMismatchError, InvalidThresholdError, RasterValueWarning, ZoneGeometryError

OPS = ["count", "sum", "mean", "min", "max", "median", "quantile(q=0.25)", "quantile(q=0.9)", "majority",
       "minority", "variety", "variance", "stdev", "coefficient_of_variation"]
WEIGHTED = ["weighted_mean", "weighted_sum"]
TRANSFORM = from_origin(500_000, 3_504_000, 100, 100)


def write(path, data, nodata=-1, transform=TRANSFORM, crs="EPSG:4545"):
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[1], height=data.shape[0], count=1,
                       dtype=data.dtype, crs=crs, transform=transform, nodata=nodata) as dst:
        dst.write(data, 1)
    return str(path)


@pytest.fixture(scope="module")
def rasters(tmp_path_factory):
    d = tmp_path_factory.mktemp("zs")
    rng = np.random.default_rng(11)
    cont = (rng.random((40, 50)) * 100).astype("float32")
    cont[5:9, 10:14] = -1                           # a nodata block
    classes = rng.integers(0, 6, (40, 50)).astype("int16")
    classes[30:35, 0:5] = -1
    wts = (rng.random((40, 50)) * 10).astype("float32")
    wts[20:22, 20:23] = -1                           # nodata weights
    return {"cont": write(d / "cont.tif", cont), "classes": write(d / "classes.tif", classes),
            "weights": write(d / "w.tif", wts)}


@pytest.fixture(scope="module")
def zones():
    return gpd.GeoDataFrame({"code": ["in", "west", "tri", "hole", "far"], "name": ["甲", "乙", "丙", "丁", "戊"]},
                            crs=4545, geometry=[
        shapely.Point(500_900, 3_503_100).buffer(730),
        shapely.box(499_700, 3_500_500, 501_300, 3_501_700),          # partly outside the raster (west)
        shapely.Polygon([(501_000, 3_502_000), (503_500, 3_500_200), (504_400, 3_503_900)]),
        shapely.box(501_000, 3_503_400, 501_450, 3_503_650),          # partly on the nodata block
        shapely.box(600_000, 3_600_000, 601_000, 3_601_000)])         # wholly outside


def peer(raster, zones, ops, **kw):
    df = exact_extract(raster, zones, ops, include_cols=["code"], output="pandas", **kw)
    return df.set_index("code")


def ours(raster, zones, ops, **kw):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RasterValueWarning)
        return zonal.zonal_stats(raster, zones, ops, **kw).set_index("code")


def assert_same(a, b, cols):
    for col in cols:
        x, y = a[col].to_numpy(dtype=float), b[col].to_numpy(dtype=float)
        np.testing.assert_allclose(x, y, rtol=2e-6, atol=1e-6, equal_nan=True, err_msg=col)


@pytest.mark.parametrize("which", ["cont", "classes"])
def test_every_statistic_equals_exactextract(rasters, zones, which):
    inside = zones.iloc[:4]  # exactextract gives the zone wholly outside no row; ours is checked below
    a, b = ours(rasters[which], inside, OPS), peer(rasters[which], inside, OPS)
    cols = list(b.columns)
    assert len(cols) == len(OPS)
    if which == "cont":
        # every value distinct: minority is the value of the cell with the smallest sliver of coverage, which
        # float32 (exactextract) and float64 (here) round differently; checked on the classes raster
        cols.remove("minority")
    assert_same(a, b, cols)


def test_weighted_statistics_equal_exactextract_nan_on_nodata_weights(rasters, zones):
    inside = zones.iloc[:4]
    a = ours(rasters["cont"], inside, [*WEIGHTED, "mean"], weights=rasters["weights"])
    b = peer(rasters["cont"], inside, [*WEIGHTED, "mean"], weights=rasters["weights"])
    assert_same(a, b, [*WEIGHTED, "mean"])
    assert np.isnan(a.loc["tri", "weighted_mean"])  # a nodata weight under the zone, as exactextract
    filled = ours(rasters["cont"], inside, ["weighted_mean"], weights=rasters["weights"], default_weight=1.0)
    assert np.isfinite(filled.loc["tri", "weighted_mean"])


@pytest.mark.parametrize("m", [0.25, 0.5, 0.9])
def test_min_coverage_frac_equals_exactextract(rasters, zones, m):
    inside = zones.iloc[:4]
    ops = ["count", "mean", "median", "majority", "min"]
    a = ours(rasters["classes"], inside, ops, min_coverage_frac=m)
    b = peer(rasters["classes"], inside, [f"{o}(min_coverage_frac={m})" for o in ops])
    b.columns = ops
    assert_same(a, b, ops)


def test_line_zone_weighted_by_length_equals_exactextract(rasters):
    road = gpd.GeoDataFrame({"code": ["G75"]}, crs=4545, geometry=[
        shapely.LineString([(500_050, 3_503_950), (503_020, 3_501_010), (504_900, 3_501_500)])])
    ops = ["count", "sum", "mean", "median", "majority"]
    assert_same(ours(rasters["classes"], road, ops), peer(rasters["classes"], road, ops), ops)
    # known answer: count is the length (m) of road on valid cells; a straight 1 km east-west road → 1000
    flat = gpd.GeoDataFrame({"code": ["x"]}, crs=4545, geometry=[shapely.LineString([(502_000, 3_502_050),
                                                                                     (503_000, 3_502_050)])])
    assert ours(rasters["cont"], flat, ["count"]).loc["x", "count"] == pytest.approx(1000.0)


def test_zone_outside_gets_nan_and_is_named(rasters, zones):
    with pytest.warns(RasterValueWarning, match=r"far 戊"):
        df = zonal.zonal_stats(rasters["cont"], zones, ["count", "mean", "variety"]).set_index("code")
    assert df.loc["far", "count"] == 0
    assert np.isnan(df.loc["far", "mean"])
    assert df.loc["far", "variety"] == 0
    assert df.attrs["report"]["no_valid_codes"] == ["far"]


def test_cells_equal_exactextract_cell_by_cell(rasters, zones):
    z = zones.iloc[[3]]
    cells = zonal.zonal_cells(rasters["cont"], z)
    valid = cells[cells["value"].notna()]
    b = exact_extract(rasters["cont"], z, ["cell_id", "coverage", "values", "center_x", "center_y"],
                      output="pandas").iloc[0]
    np.testing.assert_array_equal(valid["cell_id"].to_numpy(), b["cell_id"])
    np.testing.assert_allclose(valid["coverage"].to_numpy(), b["coverage"], rtol=1e-6)
    np.testing.assert_allclose(valid["value"].to_numpy(), b["values"], rtol=1e-6)
    np.testing.assert_allclose(valid["x"].to_numpy(), b["center_x"])
    np.testing.assert_allclose(valid["y"].to_numpy(), b["center_y"])
    assert cells["value"].isna().sum() == 4  # the nodata cells are listed too, so the hole shows


def test_known_answers_small_grid():
    t = from_origin(0, 2, 1, 1)
    grid = (np.array([[1.0, 2.0], [3.0, 4.0]]), t, "EPSG:4545")
    z = gpd.GeoDataFrame({"code": ["A"]}, geometry=[shapely.box(0.5, 0, 2, 2)], crs=4545)
    df = zonal.zonal_stats(grid, z, ["count", "sum", "mean", "min", "max", "variety", "majority", "minority"])
    # coverage 1/2 of cells 1 and 3, all of 2 and 4: count 3, sum 0.5 + 2 + 1.5 + 4 = 8
    # majority: 2 and 4 tie (whole cells) -> the larger; minority: 1 and 3 tie (half cells) -> the smaller
    assert df.iloc[0].tolist() == ["A", 3.0, 8.0, 8.0 / 3.0, 1.0, 4.0, 4.0, 4.0, 1.0]


def test_bad_requests_are_typed_errors(rasters, zones, tmp_path):
    with pytest.raises(InvalidThresholdError, match=r"unknown statistic 'avg'.*quantile\(q=0.25\)"):
        zonal.zonal_stats(rasters["cont"], zones, ["avg"])
    with pytest.raises(InvalidThresholdError, match=r"needs q"):
        zonal.zonal_stats(rasters["cont"], zones, ["quantile"])
    with pytest.raises(InvalidThresholdError, match=r"q must be between 0 and 1"):
        zonal.zonal_stats(rasters["cont"], zones, ["quantile(q=1.5)"])
    with pytest.raises(InvalidThresholdError, match=r"min_coverage_frac must be in \[0, 1\)"):
        zonal.zonal_stats(rasters["cont"], zones, ["mean"], min_coverage_frac=1.0)
    with pytest.raises(InvalidThresholdError, match=r"need weights="):
        zonal.zonal_stats(rasters["cont"], zones, ["weighted_mean"])
    other = write(tmp_path / "other.tif", np.ones((10, 10), "float32"))
    with pytest.raises(GridMismatchError, match=r"other.tif is on another grid.*warp it"):
        zonal.zonal_stats(rasters["cont"], zones, ["weighted_mean"], weights=other)
    pts = gpd.GeoDataFrame({"code": ["P1"], "name": ["场镇"]}, crs=4545, geometry=[shapely.Point(501_000, 3_503_000)])
    with pytest.raises(ZoneGeometryError, match=r"zone P1 场镇 is a Point.*zones.buffer"):
        zonal.zonal_stats(rasters["cont"], pts, ["mean"])


def test_fill_value_without_nodata_is_warned_and_left_out(tmp_path):
    data = np.full((10, 10), 5.0, dtype="float32")
    data[0, :] = -9999.0
    path = write(tmp_path / "fill.tif", data, nodata=None)
    z = gpd.GeoDataFrame({"code": ["A"]}, crs=4545, geometry=[shapely.box(500_000, 3_503_000, 501_000, 3_504_000)])
    with pytest.warns(RasterValueWarning, match=r"fill.tif declares no nodata value.*-9999: 10 cells.*gdal_edit"):
        df = zonal.zonal_stats(path, z, ["min", "count"])
    assert df["min"].iloc[0] == 5.0
    assert df["count"].iloc[0] == 90.0


def test_partition_of_zones_conserves_the_raster_sum_and_count():
    """Zones that tile the raster: Σ sums = the raster's total, Σ counts = its valid cells (nothing lost)."""
    rng = np.random.default_rng(5)
    data = rng.random((37, 41)) * 10
    data[3:6, 4:9] = np.nan
    t = from_origin(500_000, 3_504_000, 100, 100)
    pts = rng.uniform([500_000, 3_500_300], [504_100, 3_504_000], (25, 2))
    frame = shapely.box(500_000, 3_500_300, 504_100, 3_504_000)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.MultiPoint(pts), extend_to=frame))
    zones = gpd.GeoDataFrame({"code": [f"V{i}" for i in range(len(cells))]}, crs=4545,
                             geometry=shapely.intersection(cells, frame))
    df = zonal.zonal_stats((data, t, "EPSG:4545"), zones, ["sum", "count", "variety"])
    assert df["sum"].sum() == pytest.approx(np.nansum(data), rel=1e-10)
    assert df["count"].sum() == pytest.approx(np.isfinite(data).sum(), rel=1e-10)
    assert df["variety"].sum() >= np.isfinite(data).sum()  # cells cut by an edge count in each zone they touch
