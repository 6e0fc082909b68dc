"""The zonal engine: raster opener errors, true areas (one density), coverage, accumulators, population_within.

Peers: exactextract (coverage-weighted sums, count/min/max/mean) and pyproj's geodesic areas.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from exactextract import exact_extract
from pyproj import Geod
from rasterio.transform import from_origin

from bazhong_geo import builtup, settings, zonal
from bazhong_geo import crs as bcrs
from bazhong_geo._errors import (
    InvalidPopulationError,
    MissingColumnError,
    MissingCRSError,
    RasterNotFoundError,
    RasterValueWarning,
    UnsupportedFormatError,
    UnsupportedGridError,
    ZoneGeometryError,
)
from bazhong_geo.urbanization import aggregate_to_km_grid
from bazhong_geo.zonal.accumulate import ZoneStats, coverage_sums
from bazhong_geo.zonal.areas import AreaDensity, CellArea, area_density

GEOD = Geod(ellps="GRS80")


def write(path, data, transform, crs, nodata=None):
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[1], height=data.shape[0], count=1,
                       dtype=data.dtype, crs=crs, transform=transform, nodata=nodata) as dst:
        dst.write(data, 1)
    return str(path)


def geodesic_km2(poly, crs, step):
    """Ellipsoidal km² of a polygon drawn in ``crs`` (edges densified every ``step`` units), by pyproj.Geod."""
    lonlat = gpd.GeoSeries([shapely.segmentize(poly, step)], crs=crs).to_crs(4490).iloc[0]
    return abs(GEOD.geometry_area_perimeter(lonlat)[0]) / 1e6


# ------------------------------------------------------------------------------------ raster opener

def test_open_raster_accepts_path_dataset_and_array(tmp_path):
    data = np.arange(12, dtype="float64").reshape(3, 4)
    tr = from_origin(500_000, 3_500_000, 10, 10)
    path = write(tmp_path / "a.tif", data, tr, "EPSG:4545")
    with zonal.open_raster(path) as r:
        assert r.shape == (3, 4)
        assert r.crs.to_epsg() == 4545
        assert r.read(1).sum() == data.sum()
    with rasterio.open(path) as ds, zonal.open_raster(ds) as r:
        assert r.name == path
        assert r.transform == tr
    with zonal.open_raster((data, tr, "EPSG:4545")) as r:
        assert r.read(1).sum() == data.sum()
        assert r.nodata() is None


def test_open_raster_errors_name_the_file(tmp_path):
    with pytest.raises(RasterNotFoundError, match=r"nothere\.tif.*does not exist"), \
            zonal.open_raster(tmp_path / "nothere.tif"):
        pass
    bad = tmp_path / "notraster.tif"
    bad.write_text("hello")
    with pytest.raises(RasterNotFoundError, match=r"notraster\.tif.*not a raster"), zonal.open_raster(bad):
        pass
    nocrs = write(tmp_path / "nocrs.tif", np.ones((2, 2)), from_origin(0, 2, 1, 1), None)
    with pytest.raises(MissingCRSError, match=r"nocrs\.tif: no CRS.*gdal_edit.*pass raster_crs="), zonal.open_raster(nocrs):
        pass
    with zonal.open_raster(nocrs, crs="EPSG:4545") as r:  # an assumed CRS is accepted
        assert r.crs.to_epsg() == 4545
    rotated = write(tmp_path / "rot.tif", np.ones((2, 2)), Affine(1, 0.2, 0, 0, -1, 2), "EPSG:4545")
    with pytest.raises(UnsupportedGridError, match=r"rot\.tif.*rotated or sheared"), zonal.open_raster(rotated):
        pass
    with pytest.raises(UnsupportedGridError, match="2-D"), \
            zonal.open_raster((np.ones((2, 2, 2)), from_origin(0, 2, 1, 1), "EPSG:4545")):
        pass


# ------------------------------------------------------------------------------------ true areas

def test_area_density_known_answers():
    # UTM on its central meridian: scale 0.9996, so one plane m² is 1 / 0.9996² m² of the ellipsoid
    d = area_density("EPSG:32648", np.array([500_000.0]), np.array([3_500_000.0]))
    assert d[0] == pytest.approx(1 / 0.9996 ** 2, rel=1e-8)  # central differences: ~2e-9
    # LAEA on the ellipsoid is equal-area
    laea = bcrs.equal_area_crs(106.75, 31.85)
    assert area_density(laea, np.array([20_000.0]), np.array([-30_000.0]))[0] == pytest.approx(1.0, abs=1e-9)
    # geographic: m² per square degree = M N cos φ (π/180)², checked against a geodesic 0.01° cell
    dens = area_density("EPSG:4490", np.array([106.75]), np.array([31.85]))[0]
    cell = abs(GEOD.polygon_area_perimeter([106.745, 106.755, 106.755, 106.745],
                                           [31.845, 31.845, 31.855, 31.855])[0])
    assert dens * 1e-4 == pytest.approx(cell, rel=1e-6)


@pytest.mark.parametrize(("crs", "transform", "step"), [
    ("ESRI:54009", from_origin(10_200_000, 3_800_000, 1000, 1000), 10.0),     # GHSL Mollweide (spherical)
    ("EPSG:4545", from_origin(560_000, 3_540_000, 100, 100), 1.0),            # the work CRS, off its meridian
    ("EPSG:4326", from_origin(106.70, 31.90, 3 / 3600, 3 / 3600), 1e-5),     # 3″ WorldPop
])
def test_cell_areas_are_geodesic_areas(crs, transform, step):
    ca = CellArea(crs, transform, (40, 50))
    for r, c in ((0, 0), (17, 33), (39, 49)):
        x0, y0 = transform @ (c, r)
        x1, y1 = transform @ (c + 1, r + 1)
        want = geodesic_km2(shapely.box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)), crs, step)
        assert ca.grid()[r, c] / 1e6 == pytest.approx(want, rel=2e-7)
        assert ca.at(np.array([r]), np.array([c]))[0] == ca.grid()[r, c]


def test_cell_areas_and_area_km2_share_one_density():
    # the grid's cells summed = the polygon integral of the same density over the grid's outline
    tr = from_origin(10_200_000, 3_800_000, 1000, 1000)
    ca = CellArea("ESRI:54009", tr, (30, 30))
    outline = gpd.GeoSeries([shapely.box(10_200_000, 3_770_000, 10_230_000, 3_800_000)], crs="ESRI:54009")
    assert ca.grid().sum() / 1e6 == pytest.approx(bcrs.area_km2(outline).iloc[0], rel=1e-7)
    fitted = AreaDensity.fit("ESRI:54009", outline.total_bounds)
    assert fitted is not None


# ------------------------------------------------------------------------------------ coverage and accumulators

def _zones(seed=2):
    rng = np.random.default_rng(seed)
    pts = shapely.MultiPoint(np.column_stack([rng.uniform(0, 60, 12), rng.uniform(0, 40, 12)]))
    frame = shapely.box(-3, -2, 57, 43)  # overruns the 60 x 40 grid on three sides
    cells = shapely.get_parts(shapely.voronoi_polygons(pts, extend_to=frame))
    zones = shapely.intersection(cells, frame)
    zones[0] = zones[0].difference(zones[0].centroid.buffer(2.5))  # a hole
    return zones


def test_coverage_pairs_equal_shapely_clipping():
    tr = Affine(1, 0, 0, 0, -1, 40)
    zones = _zones()
    zone, row, col, frac = zonal.compute_coverage(zones, tr, (40, 60)).pairs()
    got = np.zeros((len(zones), 40, 60))
    np.add.at(got, (zone, row, col), frac)
    rows, cols = np.mgrid[0:40, 0:60]
    cells = shapely.box(cols, 39 - rows, cols + 1, 40 - rows)
    for z, poly in enumerate(zones):
        want = shapely.area(shapely.intersection(cells, poly))
        np.testing.assert_allclose(got[z], want, atol=1e-9)


def test_sums_and_stats_match_exactextract(tmp_path):
    rng = np.random.default_rng(7)
    data = rng.uniform(-5, 50, size=(40, 60))
    data[rng.random(data.shape) < 0.1] = -9999.0
    tr = from_origin(500_000, 3_500_040, 1, 1)
    path = write(tmp_path / "v.tif", data, tr, "EPSG:4545", nodata=-9999.0)
    zones = shapely.transform(_zones(), lambda xy: xy + np.array([500_000.0, 3_500_000.0]))
    gdf = gpd.GeoDataFrame({"code": np.arange(len(zones))}, geometry=zones, crs=4545)
    ee = exact_extract(path, gdf, ["sum", "count", "min", "max", "mean"], output="pandas")
    cov = zonal.compute_coverage(zones, tr, data.shape)
    valid = data != -9999.0
    st = ZoneStats(cov, len(zones))
    for r0 in range(0, 40, 7):  # in strips, as streamed
        st.add(r0, data[r0:r0 + 7], valid[r0:r0 + 7])
    # exactextract and we round differently (coordinates ~5e5 in units of 1 m cells): agree to ~1e-9
    np.testing.assert_allclose(st.sum, ee["sum"], rtol=1e-8)
    np.testing.assert_allclose(st.count, ee["count"], rtol=1e-8)
    np.testing.assert_allclose(st.min, ee["min"])
    np.testing.assert_allclose(st.max, ee["max"])
    np.testing.assert_allclose(st.mean(), ee["mean"], rtol=1e-8)
    np.testing.assert_allclose(coverage_sums(cov, np.where(valid, data, 0.0), len(zones)), ee["sum"], rtol=1e-8)


# ------------------------------------------------------------------------------------ population_within

X0, Y0 = 500_000.0, 3_500_000.0


def _catchments():
    return gpd.GeoDataFrame({"code": ["a", "b"]}, crs=4545, geometry=[
        shapely.box(X0, Y0, X0 + 1500, Y0 + 1000), shapely.box(X0 + 1500, Y0, X0 + 4000, Y0 + 4000)])


def test_population_within_raster_forms_agree_and_match_exactextract(tmp_path):
    rng = np.random.default_rng(11)
    pop = rng.uniform(0, 100, size=(8, 8))
    pop[2, 3] = -1.0  # nodata counts 0
    tr = from_origin(X0, Y0 + 4000, 500, 500)
    path = write(tmp_path / "pop.tif", pop, tr, "EPSG:4545", nodata=-1.0)
    cat = _catchments()
    by_path = zonal.population_within(cat, path)
    with rasterio.open(path) as ds:
        by_dataset = zonal.population_within(cat, ds)
    by_array = zonal.population_within(cat, (np.ma.masked_equal(pop, -1.0), tr, "EPSG:4545"))
    ee = exact_extract(path, cat, "sum", output="pandas")["sum"].to_numpy()
    np.testing.assert_allclose(by_path, ee, rtol=1e-9)
    np.testing.assert_allclose(by_dataset, ee, rtol=1e-9)
    np.testing.assert_allclose(by_array, ee, rtol=1e-9)
    assert by_path.attrs["report"]["population_total"] == pytest.approx(pop[pop >= 0].sum())
    # zones in another CRS are reprojected to the raster's (their straight edges in EPSG:4490 bend slightly in
    # EPSG:4545, so the sums move by a few 1e-5)
    moved = zonal.population_within(cat.to_crs(4490), path)
    np.testing.assert_allclose(moved, ee, rtol=1e-4)


def test_population_within_small_strips_give_the_same_sums(tmp_path, monkeypatch):
    pop = np.random.default_rng(3).uniform(0, 10, size=(40, 40))
    path = write(tmp_path / "p.tif", pop, from_origin(X0, Y0 + 4000, 100, 100), "EPSG:4545")
    whole = zonal.population_within(_catchments(), path)
    monkeypatch.setattr(settings, "STRIP_CELLS", 80)  # 2 rows per strip
    np.testing.assert_allclose(zonal.population_within(_catchments(), path), whole, rtol=1e-12)


def test_population_within_points_polygons_and_errors():
    cat = _catchments()
    pts = gpd.GeoDataFrame({"population": [5.0, 7.0, 9.0, 4.0]}, crs=4545, geometry=[
        shapely.Point(X0 + 100, Y0 + 100), shapely.Point(X0 + 1500, Y0 + 500),  # on the shared edge: once, in a
        shapely.Point(X0 + 9000, Y0), None])
    with pytest.warns(UserWarning, match="without coordinates"):
        got = zonal.population_within(cat, pts)
    assert got.tolist() == [12.0, 0.0]
    rep = got.attrs["report"]
    assert rep["method"] == "points"
    assert rep["population_outside"] == 9.0
    assert rep["population_unlocated"] == 4.0
    units = gpd.GeoDataFrame({"population": [100.0]}, crs=4545,
                             geometry=[shapely.box(X0 + 1000, Y0, X0 + 2000, Y0 + 2000)])
    got = zonal.population_within(cat, units)  # areal weighting: 1/4 in a, 1/2 in b, 1/4 outside
    assert got.tolist() == pytest.approx([25.0, 50.0])
    assert got.attrs["report"]["population_outside"] == 25.0
    assert zonal.population_within(cat, units.to_crs(4490)).tolist() == pytest.approx([25.0, 50.0], rel=1e-4)
    with pytest.raises(MissingColumnError):
        zonal.population_within(cat, units, column="people")
    with pytest.raises(InvalidPopulationError):
        zonal.population_within(cat, units.assign(population=[-1.0]))
    with pytest.raises(UnsupportedFormatError):
        zonal.population_within(cat, gpd.GeoDataFrame({"population": [1.0]}, crs=4545,
                                                      geometry=[shapely.LineString([(X0, Y0), (X0 + 1, Y0)])]))
    with pytest.raises(MissingCRSError):
        zonal.population_within(cat.set_crs(None, allow_override=True), units)


# ------------------------------------------------------------------------------------ DEGURBA aggregation vs peer

def test_degurba_exact_aggregation_matches_exactextract_coverage():
    # the km grid built on the zonal engine equals the same sums with exactextract's cell coverage
    from exactextract.raster import NumPyRasterSource

    res = 0.0027
    rng = np.random.default_rng(5)
    fine = rng.uniform(0, 50, size=(30, 40))
    t = Affine(res, 0, 106.7, 0, -res, 31.9)
    km = aggregate_to_km_grid(fine, np.ones(fine.shape, bool), t, rasterio.crs.CRS.from_epsg(4326))
    assert km.method == "exact"
    # target cells as polygons in the source CRS, as the aggregation builds them
    nrow, ncol = km.population.shape
    tk = km.transform
    corners_x = tk.c + tk.a * np.arange(ncol + 1)
    corners_y = tk.f + tk.e * np.arange(nrow + 1)
    from pyproj import Transformer

    to_src = Transformer.from_crs("ESRI:54009", "EPSG:4326", always_xy=True)
    polys = []
    for i in range(nrow):
        for j in range(ncol):
            xs = [corners_x[j], corners_x[j + 1], corners_x[j + 1], corners_x[j]]
            ys = [corners_y[i], corners_y[i], corners_y[i + 1], corners_y[i + 1]]
            polys.append(shapely.Polygon(np.column_stack(to_src.transform(xs, ys))))
    gdf = gpd.GeoDataFrame(geometry=polys, crs=4326)
    h, w = fine.shape
    src = NumPyRasterSource(fine, 106.7, 31.9 - h * res, 106.7 + w * res, 31.9, srs_wkt=rasterio.crs.CRS.from_epsg(4326).to_wkt())
    ee = exact_extract(src, gdf, "sum", output="pandas")["sum"].to_numpy().reshape(nrow, ncol)
    np.testing.assert_allclose(km.population, ee, rtol=1e-7, atol=1e-6)


def test_builtup_accepts_an_array_raster_like_a_file(tmp_path):
    from bazhong_geo.builtup import area_by_zone

    mask = np.zeros((200, 200), dtype="uint8")
    mask[:, :100] = 1
    tr = from_origin(500_000, 3_502_000, 10, 10)
    zone = gpd.GeoDataFrame({"code": ["A"]}, geometry=[shapely.box(500_505, 3_500_500, 501_505, 3_501_500)], crs=4545)
    from_file = area_by_zone(write(tmp_path / "m.tif", mask, tr, "EPSG:4545"), zone, classes=[1])
    from_array = area_by_zone((mask, tr, "EPSG:4545"), zone, classes=[1])
    assert from_array.builtup_km2[0] == pytest.approx(0.495, rel=1e-6)  # 495 m of the 1,000 m width
    assert from_array.builtup_km2[0] == pytest.approx(from_file.builtup_km2[0], rel=1e-12)
    with pytest.raises(RasterNotFoundError, match=r"missing\.tif"):
        area_by_zone(tmp_path / "missing.tif", zone, classes=[1])


def test_population_within_counts_a_mixed_layer_part_by_part():
    """Settlement points and unit polygons in one layer: points by containment, polygons by area share, added."""
    zones = gpd.GeoSeries([shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)], crs=4545)
    layer = gpd.GeoDataFrame({"population": [5.0, 100.0, 7.0]}, crs=4545,
                             geometry=[shapely.Point(2, 2), shapely.box(5, 0, 15, 10), shapely.Point(50, 50)])
    out = zonal.population_within(zones, layer)
    assert out.tolist() == [55.0, 50.0]
    assert out.attrs["report"]["method"] == "points+areal_weighting"
    assert out.attrs["report"]["population_outside"] == 7.0      # nothing lost: the far point is accounted for
    assert out.sum() + out.attrs["report"]["population_outside"] == layer["population"].sum()


# ------------------------------------------------------------------------------------ issue 11: rasters, class by class



T100 = from_origin(500_000, 3_501_000, 100, 100)


def zones_of(*geoms, names=None):
    codes = [f"Z{i}" for i in range(len(geoms))]
    return gpd.GeoDataFrame({"code": codes, "name": names or [f"区{i}" for i in range(len(geoms))]},
                            geometry=list(geoms), crs=4545)


def caught(fn):
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        out = fn()
    return out, [str(w.message) for w in rec], [w.category for w in rec]


@pytest.mark.parametrize("geom", [shapely.box(0, 0, 10, 10),                          # far from the raster
                                  shapely.Polygon([(500_100, 3_500_100)] * 4)])         # empty after repair
def test_zones_off_the_raster_or_empty_give_0_with_codes_listed(geom):
    mask = np.ones((10, 10), dtype="uint8")
    df, msgs, _ = caught(lambda: builtup.area_by_zone((mask, T100, "EPSG:4545"), zones_of(geom), classes=[1]))
    assert df["builtup_km2"].tolist() == [0.0]
    assert df["valid_share"].tolist() == [0.0]
    rep = df.attrs["report"]
    assert rep["outside_codes"] + rep["empty_codes"] == ["Z0"]
    assert any("Z0" in m for m in msgs)
    assert not any("matches no cell" in m for m in msgs)  # the rule did match, elsewhere: no false alarm


def test_nan_cells_are_never_valid_even_without_nodata():
    share = np.full((10, 10), 0.5)
    share[:5] = np.nan
    z = zones_of(shapely.box(500_000, 3_500_000, 501_000, 3_501_000))
    df = builtup.area_by_zone((share, T100, "EPSG:4545"), z, fraction="share")
    assert df["valid_share"].iloc[0] == pytest.approx(0.5, rel=1e-6)
    assert df["builtup_km2"].iloc[0] == pytest.approx(0.25, rel=1e-6)
    people = zonal.population_within(z, (np.where(np.isnan(share), np.nan, 10.0), T100, "EPSG:4545"))
    assert people.iloc[0] == pytest.approx(500.0)


@pytest.mark.parametrize(("dtype", "fill"), [("float32", -9999.0), ("float32", -3.4028235e38), ("int32", -9999),
                                             ("uint16", 65535)])
def test_typical_fill_without_nodata_is_warned_and_read_as_nodata(tmp_path, dtype, fill):
    data = np.full((10, 10), 3, dtype=dtype)
    data[0, :] = fill
    path = write(tmp_path / f"pop_{dtype}.tif", data, T100, "EPSG:4545")
    z = zones_of(shapely.box(500_000, 3_500_000, 501_000, 3_501_000))
    with pytest.warns(RasterValueWarning, match=rf"pop_{dtype}.tif declares no nodata value.*10 cells.*"
                                                r"read as nodata.*gdal_edit.py -a_nodata"):
        people = zonal.population_within(z, path)
    assert people.iloc[0] == pytest.approx(270.0)  # never negative: 90 cells × 3
    assert list(people.attrs["report"]["fill_values_as_nodata"].values()) == [10]
    with pytest.warns(RasterValueWarning, match=r"declares no nodata value"):
        df = builtup.area_by_zone(path, z, classes=[3])
    assert df["valid_share"].iloc[0] == pytest.approx(0.9, rel=1e-6)


def test_declared_nodata_is_not_second_guessed(tmp_path):
    data = np.full((10, 10), -9999.0, dtype="float32")
    data[5:] = 2.0
    path = write(tmp_path / "declared.tif", data, T100, "EPSG:4545", nodata=-1.0)
    z = zones_of(shapely.box(500_000, 3_500_000, 501_000, 3_501_000))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RasterValueWarning)
        people = zonal.population_within(z, path)  # -9999 is a value here: the file says so
    assert people.iloc[0] == pytest.approx(-9999.0 * 50 + 100.0)


def test_all_nodata_population_raster_warns(tmp_path):
    path = write(tmp_path / "empty_pop.tif", np.full((10, 10), -1.0, dtype="float32"), T100, "EPSG:4545", nodata=-1)
    z = zones_of(shapely.box(500_000, 3_500_000, 501_000, 3_501_000))
    with pytest.warns(RasterValueWarning, match=r"empty_pop.tif has no valid cell \(nodata everywhere\).*check"):
        people = zonal.population_within(z, path)
    assert people.tolist() == [0.0]
    assert people.attrs["report"]["nodata_everywhere"] is True


def test_population_raster_not_reaching_the_zones_warns_naming_them(tmp_path):
    path = write(tmp_path / "pop.tif", np.ones((10, 10), dtype="float32"), T100, "EPSG:4545")
    z = zones_of(shapely.box(500_000, 3_500_000, 501_000, 3_501_000), shapely.box(0, 0, 1000, 1000),
                 names=["城区", "远郊"])
    with pytest.warns(RasterValueWarning, match=r"1 zone\(s\) cover no valid cell of population raster .*pop.tif.*"
                                                r"Z1 远郊; check that raster and zones overlap"):
        people = zonal.population_within(z, path)
    assert people.tolist() == [100.0, 0.0]
    assert people.attrs["report"]["no_valid_codes"] == ["Z1"]


def test_rotated_raster_error_names_the_file(tmp_path):
    rot = Affine(0.001, 0.0002, 106.7, 0.0, -0.001, 31.9)
    path = write(tmp_path / "rotated.tif", np.ones((10, 10), dtype="float32"), rot, "EPSG:4326")
    z = zones_of(shapely.box(500_000, 3_500_000, 501_000, 3_501_000))
    for fn in (lambda: builtup.area_by_zone(path, z, classes=[1]), lambda: zonal.population_within(z, path),
               lambda: zonal.zonal_stats(path, z, ["mean"]), lambda: builtup.extents(path, classes=[1])):
        with pytest.raises(UnsupportedGridError, match=r"rotated.tif: transform .* rotated or sheared; warp it"):
            fn()


def test_geometry_collection_keeps_every_polygon():
    a, b = shapely.box(500_000, 3_500_000, 500_500, 3_501_000), shapely.box(500_600, 3_500_000, 501_000, 3_501_000)
    gc = shapely.GeometryCollection([shapely.MultiPolygon([a, b]), shapely.LineString([(0, 0), (1, 1)])])
    z = zones_of(gc)
    assert bcrs.area_km2(z).iloc[0] == pytest.approx(0.9, rel=1e-7)
    mask = np.ones((10, 10), dtype="uint8")
    df = builtup.area_by_zone((mask, T100, "EPSG:4545"), z, classes=[1])
    assert df["builtup_km2"].iloc[0] == pytest.approx(0.9, rel=1e-7)
    assert df["zone_km2"].iloc[0] == pytest.approx(0.9, rel=1e-7)
    assert zonal.population_within(z, (np.ones((10, 10)), T100, "EPSG:4545")).iloc[0] == pytest.approx(90.0)


def test_integer_classes_above_2_53_match_exactly():
    big = np.full((10, 10), 2**53 + 1, dtype="int64")
    big[:, 5:] = 2**53  # float64 cannot tell these apart; integers can
    z = zones_of(shapely.box(500_000, 3_500_000, 501_000, 3_501_000))
    df = builtup.area_by_zone((big, T100, "EPSG:4545"), z, classes=[2**53 + 1])
    assert df["share"].iloc[0] == pytest.approx(0.5, rel=1e-7)
    u = np.full((10, 10), 2**64 - 1, dtype="uint64")
    assert builtup.area_by_zone((u, T100, "EPSG:4545"), z, classes=[2**64 - 1])["share"].iloc[0] == pytest.approx(1.0)


@pytest.mark.parametrize("geom", [shapely.LineString([(500_000, 3_500_500), (501_000, 3_500_500)]),
                                  shapely.MultiPoint([(500_100, 3_500_100)])])
def test_line_or_point_zone_is_a_typed_error_naming_it(geom):
    z = zones_of(geom, names=["G75高速"])
    mask = np.ones((10, 10), dtype="uint8")
    kind = "LineString" if geom.geom_type == "LineString" else "MultiPoint"
    with pytest.raises(ZoneGeometryError, match=rf"zones Z0 \({kind}\) have no area.*buffer the lines.*zonal_stats"):
        builtup.area_by_zone((mask, T100, "EPSG:4545"), z, classes=[1])
    with pytest.raises(ZoneGeometryError, match=rf"zones Z0 G75高速 \({kind}\) have no area"):
        zonal.population_within(z, (np.ones((10, 10)), T100, "EPSG:4545"))


def test_bow_tie_zone_is_repaired_and_warned_in_population_within():
    bow = shapely.Polygon([(500_000, 3_500_000), (501_000, 3_501_000), (501_000, 3_500_000), (500_000, 3_501_000)])
    z = zones_of(bow)
    people, msgs, _ = caught(lambda: zonal.population_within(z, (np.ones((10, 10)), T100, "EPSG:4545")))
    assert people.iloc[0] == pytest.approx(50.0)       # the two triangles: half the square, not a sliver
    assert people.attrs["report"]["repaired_codes"] == ["Z0"]
    assert any("repaired 1 invalid zone geometries with make_valid: Z0" in m for m in msgs)


def test_people_in_equals_people_out_for_rasters():
    z = zones_of(shapely.box(500_000, 3_500_000, 500_500, 3_501_000), shapely.box(500_300, 3_500_000, 500_800,
                                                                                    3_501_000))
    people = zonal.population_within(z, (np.ones((10, 10)), T100, "EPSG:4545"))
    rep = people.attrs["report"]
    assert rep["population_total"] == 100.0
    assert rep["population_outside"] == pytest.approx(20.0)  # the union covers 80 cells; overlaps count once
