"""Distributed runs on a real 2-worker Dask LocalCluster give the single-process numbers (to 1e-12 relative)."""

import warnings

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from bazhong_geo import distributed as dd
from bazhong_geo._errors import DaskNotInstalledError, MosaicError
from bazhong_geo.builtup import area_by_zone, area_by_zone_stack
from bazhong_geo.crs import WORK_CRS
from bazhong_geo.distributed.partitions import network_catchments_by_county
from bazhong_geo.distributed.tiled_degurba import degurba_tiled
from bazhong_geo.network import build_graph, time_grid
from bazhong_geo.urbanization import degurba

ALBERS = "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
RTOL = 1e-12


@pytest.fixture(scope="module")
def client():
    c = dd.local_cluster(workers=2, memory_limit="1GB")
    yield c
    dd.close_client(c)


def _write(path, arr, x0, y0, cell, crs, nodata):
    with rasterio.open(path, "w", driver="GTiff", width=arr.shape[1], height=arr.shape[0], count=1,
                       dtype=arr.dtype, nodata=nodata, crs=crs, transform=from_origin(x0, y0, cell, cell),
                       tiled=True, blockxsize=128, blockysize=128) as ds:
        ds.write(arr, 1)
    return str(path)


def _tiles(tmp, name, full, x0, y0, cell, crs, nodata, n=2):
    h, w = full.shape[0] // n, full.shape[1] // n
    return [_write(tmp / f"{name}_{i}{j}.tif", full[i * h:(i + 1) * h, j * w:(j + 1) * w], x0 + j * w * cell,
                   y0 - i * h * cell, cell, crs, nodata) for i in range(n) for j in range(n)]


@pytest.fixture(scope="module")
def mosaic(tmp_path_factory):
    """Two yearly 4-tile built-up mosaics (10 m, Albers) and 80 Voronoi zones crossing the tile edges."""
    tmp = tmp_path_factory.mktemp("mosaic")
    rng = np.random.default_rng(0)
    x0, y0, size = 0.0, 3_500_000.0, 512
    years = {}
    for y in (2020, 2025):
        arr = (rng.random((size, size)) < 0.2 + 0.05 * (y - 2020) / 5).astype("uint8")
        arr[:7, :9] = 255  # nodata
        years[y] = _tiles(tmp, f"b{y}", arr, x0, y0, 10.0, ALBERS, 255)
    pts = rng.uniform([x0 - 300, y0 - size * 10 - 300], [x0 + size * 10 + 300, y0 + 300], (80, 2))
    cells = shapely.voronoi_polygons(shapely.multipoints(pts)).geoms
    zones = gpd.GeoDataFrame({"code": [f"z{i:02d}" for i in range(len(cells))]}, geometry=list(cells), crs=ALBERS)
    return years, zones.to_crs(4326), tmp


def _close(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    np.testing.assert_allclose(b, a, rtol=RTOL, atol=0)


def test_builtup_over_tiles_and_vrt_matches_single_process(mosaic, client):
    years, zones, tmp = mosaic
    vrt = dd.write_vrt(years[2020], tmp / "b2020.vrt")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zones outside the mosaic are reported by both paths
        ref = area_by_zone(vrt, zones, classes=[1])
    # zones crossing tile edges: the tiles' bounds cut at least a dozen zones
    edge_x = shapely.LineString([(2560, 3_494_000), (2560, 3_501_000)])
    crossing = gpd.GeoSeries(zones.to_crs(ALBERS).geometry).intersects(edge_x).sum()
    assert crossing >= 5
    for source in (vrt, years[2020]):  # the VRT and the list of tiles
        got = dd.builtup_by_zone(source, zones, classes=[1], client=client, progress=False)
        assert got["code"].tolist() == ref["code"].tolist()
        for col in ("builtup_km2", "zone_km2", "share", "valid_share"):
            _close(ref[col], got[col])
        assert got.attrs["report"]["outside_codes"] == ref.attrs["report"]["outside_codes"]
    assert ref["builtup_km2"].sum() > 1.0  # ~20 % of 26 km²


def test_multi_year_stack_matches_single_process(mosaic, client):
    years, zones, tmp = mosaic
    vrts = [dd.write_vrt(years[y], tmp / f"s{y}.vrt") for y in (2020, 2025)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = area_by_zone_stack(vrts, zones, classes=[1], labels=[2020, 2025])
    got = dd.builtup_by_zone_tiled(vrts, zones, classes=[1], labels=[2020, 2025], client=client, progress=False)
    assert got[["layer", "code"]].values.tolist() == ref[["layer", "code"]].values.tolist()
    for col in ("builtup_km2", "zone_km2", "share", "valid_share"):
        _close(ref[col], got[col])
    by_year = got.groupby("layer")["builtup_km2"].sum()
    assert by_year[2025] > by_year[2020]  # built-up grew (0.20 -> 0.25 of the cells)


def test_mosaic_refuses_overlapping_tiles(mosaic):
    years, _, tmp = mosaic
    arr = np.zeros((10, 10), dtype="uint8")
    shifted = _write(tmp / "overlap.tif", arr, 100.0, 3_500_000.0, 10.0, ALBERS, 255)
    with pytest.raises(MosaicError, match="overlap"):
        dd.read_mosaic([years[2020][0], shifted])
    off = _write(tmp / "offgrid.tif", arr, 5_125.0, 3_500_000.0, 10.0, ALBERS, 255)
    with pytest.raises(MosaicError, match="not whole cells"):
        dd.read_mosaic([years[2020][0], off])


def test_degurba_on_a_tiled_grid_matches_single_process(tmp_path, client):
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(2)
    n = 200  # 100 m cells: 20 x 20 km, 4 tiles of 100 x 100
    dens = gaussian_filter(rng.random((n, n)), 6)
    dens = (dens - dens.min()) / (dens.max() - dens.min())
    pop = (dens ** 3 * 300 * rng.random((n, n))).astype("float32")
    pop[:3, :3] = -1  # nodata
    land = np.clip(rng.random((n, n)) * 1.3, 0, 1).astype("float32")
    built = np.clip(dens ** 2 * rng.random((n, n)), 0, 1).astype("float32")
    x0, y0 = 0.0, 3_600_000.0
    tp = _tiles(tmp_path, "pop", pop, x0, y0, 100.0, ALBERS, -1)
    tl = _tiles(tmp_path, "land", land, x0, y0, 100.0, ALBERS, -1)
    tb = _tiles(tmp_path, "built", built, x0, y0, 100.0, ALBERS, -1)
    vp, vl, vb = (dd.write_vrt(t, tmp_path / f"{k}.vrt") for k, t in (("p", tp), ("l", tl), ("b", tb)))
    ref = degurba(vp, land_share=vl, builtup=vb)
    got = degurba_tiled(vp, land_share=vl, builtup=vb, client=client, progress=False)
    assert got.method == ref.method == "block_sum"
    assert got.transform.almost_equals(ref.transform)
    np.testing.assert_array_equal(got.level1, ref.level1)
    np.testing.assert_array_equal(got.level2, ref.level2)
    _close(ref.population, got.population)
    _close(ref.density, got.density)
    _close(ref.land_km2, got.land_km2)
    classes = set(np.unique(ref.level2).tolist())
    assert 30 in classes
    assert len(classes) >= 3


def _road_net(rng, x0, y0, w, h):
    lines = [shapely.LineString([(x0, y0 + k * 1500 + 200), (x0 + w, y0 + k * 1500 + rng.uniform(0, 600))])
             for k in range(int(h // 1500))]
    lines += [shapely.LineString([(x0 + k * 1500 + 300, y0), (x0 + k * 1500 + rng.uniform(0, 600), y0 + h)])
              for k in range(int(w // 1500))]
    segs = list(shapely.get_parts(shapely.line_merge(shapely.unary_union(lines))))
    return gpd.GeoDataFrame({"speed_kmh": rng.choice([20.0, 30.0, 40.0, 60.0], len(segs))}, geometry=segs,
                            crs=WORK_CRS)


def test_network_catchments_by_county_partitions_match_single_process(client):
    rng = np.random.default_rng(3)
    x0, y0, w, h = 500_000.0, 3_500_000.0, 36_000.0, 18_000.0
    roads = _road_net(rng, x0, y0, w, h)
    on_road = shapely.line_interpolate_point(roads.geometry.values[rng.integers(0, len(roads), 14)],
                                             rng.random(14), normalized=True)  # settlements on roads
    src = gpd.GeoDataFrame({"code": [f"s{i}" for i in range(14)]}, crs=WORK_CRS, geometry=on_road)
    counties = gpd.GeoDataFrame({"code": list("ABCD")}, crs=WORK_CRS, geometry=[
        shapely.box(x0, y0, x0 + 9_000, y0 + h), shapely.box(x0 + 9_000, y0, x0 + 21_000, y0 + h),
        shapely.box(x0 + 21_000, y0, x0 + w, y0 + 8_000), shapely.box(x0 + 21_000, y0 + 8_000, x0 + w, y0 + h)])
    g = build_graph(roads, segmentize_m=200)
    ref = time_grid(g, src.geometry, cell_m=200, limit=8, bounds=tuple(counties.total_bounds))
    grid, iso = network_catchments_by_county(src, roads, counties, minutes=(4, 8), cell_m=200, client=client,
                                             progress=False)
    assert grid.report["reach_m"] < w / 2  # the partitions really are partial views of the network
    fin = np.isfinite(ref.minutes)
    np.testing.assert_array_equal(np.isfinite(grid.minutes), fin)
    _close(ref.minutes[fin], grid.minutes[fin])
    np.testing.assert_array_equal(grid.source, ref.source)
    assert np.isfinite(ref.minutes).mean() > 0.3  # the catchments reach a good part of the grid
    assert set(iso["code"]) <= set(src["code"])
    assert iso.area.sum() > 0


def test_client_from_options_and_missing_dask(monkeypatch):
    assert dd.client_from_options(None, None) is None
    import builtins

    real = builtins.__import__

    def fake(name, *a, **k):
        if name in ("dask", "distributed"):
            raise ImportError(f"No module named {name!r}")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(DaskNotInstalledError, match=r'pip install "bazhong_geo\[dask\]"'):
        dd.client_from_options(workers=2)
