"""Benchmark: Degree of Urbanisation level 1 + 2 on a 10-million-cell grid, against the PyPI ``degurba`` package.

Run:  python benchmarks/bench_degurba.py [--size 3163] [--skip-peer] [--aggregation] [--aggregation-only]

The grid is synthetic but shaped like a real population grid: a rural background (lognormal, ~60/km²),
~4,000 towns and villages and ~40 cities as Gaussian blobs, so there are thousands of clusters (the case that
makes per-cluster Python loops slow). Both tools get the same array.

The peer: ``degurba`` 0.2 (PyPI) imports ``osgeo`` (GDAL's Python bindings) at module level for its vector I/O;
they are not installed here. Its grid classification (``DEGURBA._get_urban_centres`` / ``_get_urban_clusters`` /
``_get_rural_grid_cells``) uses only numpy and scipy, so the benchmark registers an empty stand-in ``osgeo``
module (used by nothing that runs) and calls the package's own grid code unchanged. The peer does level 1 only
(no level 2, no land share, no gap fill beyond its majority rule); we time our level 1 + 2 against its level 1.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
import types
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing


def synthetic_population(n: int, seed: int = 42) -> np.ndarray:
    rng = np.random.default_rng(seed)
    pop = rng.lognormal(mean=3.3, sigma=0.6, size=(n, n)).astype("float64")  # ~ 33 people per km²
    yy, xx = np.mgrid[-12:13, -12:13]

    def add_blobs(count, peak_lo, peak_hi, sigma_lo, sigma_hi):
        cy = rng.integers(15, n - 15, count)
        cx = rng.integers(15, n - 15, count)
        peaks = rng.uniform(peak_lo, peak_hi, count)
        sigmas = rng.uniform(sigma_lo, sigma_hi, count)
        for y, x, p, s in zip(cy, cx, peaks, sigmas):
            r = int(min(12, max(2, 3 * s)))
            k = p * np.exp(-(yy[12 - r:13 + r, 12 - r:13 + r] ** 2 + xx[12 - r:13 + r, 12 - r:13 + r] ** 2) / (2 * s * s))
            pop[y - r:y + r + 1, x - r:x + r + 1] += k

    add_blobs(40 * n * n // 10_000_000 or 1, 8_000, 20_000, 2.5, 4.0)     # cities
    add_blobs(4_000 * n * n // 10_000_000 or 1, 500, 4_000, 0.7, 1.6)    # towns and villages
    return pop


def run_ours(pop):
    from affine import Affine

    from bazhong_geo.urbanization import degurba

    t = Affine(1000, 0, 0, 0, -1000, pop.shape[0] * 1000)
    t0 = time.perf_counter()
    g = degurba((pop, t, "ESRI:54009"))
    return time.perf_counter() - t0, g


def run_peer(pop):
    sys.modules.setdefault("osgeo", types.ModuleType("osgeo"))
    sys.modules["osgeo"].gdal = None
    sys.modules["osgeo"].ogr = None
    from degurba import DEGURBA

    d = DEGURBA()
    t0 = time.perf_counter()
    centres = d._get_urban_centres(pop)
    clusters = d._get_urban_clusters(pop, centres)
    rural = d._get_rural_grid_cells(pop, centres, clusters)
    return time.perf_counter() - t0, (centres, clusters, rural)


class _ExactextractCoverage:
    """Stand-in for the zonal engine's coverage, computed by exactextract (``cell_id`` + ``coverage``).

    Lets the benchmark run the very same aggregation code with exactextract as the coverage engine — the
    package did exactly this before the zonal engine took over.
    """

    crs = "EPSG:4326"  # the source grid's CRS in this benchmark

    def __init__(self, geoms, transform, shape):
        import geopandas as gpd
        from exactextract import exact_extract
        from exactextract.raster import NumPyRasterSource
        from pyproj import CRS

        h, w = shape
        left, top = transform.c, transform.f
        right, bottom = left + w * transform.a, top + h * transform.e
        rast = NumPyRasterSource(np.zeros((h, w), dtype="uint8"), left, bottom, right, top,
                                 srs_wkt=CRS.from_user_input(self.crs).to_wkt())
        df = exact_extract(rast, gpd.GeoDataFrame(geometry=list(geoms), crs=self.crs), ["cell_id", "coverage"],
                           output="pandas")
        lens = df["cell_id"].map(len).to_numpy()
        self.zone = np.repeat(np.arange(len(df)), lens)
        cid = np.concatenate(df["cell_id"].to_list()).astype(np.int64)
        self.row, self.col = cid // w, cid % w
        self.frac = np.concatenate(df["coverage"].to_list()).astype("float64")

    def pairs(self):
        return self.zone, self.row, self.col, self.frac


def run_aggregation(repeat=3):
    """Exact aggregation of a WorldPop-like 3-arc-second EPSG:4326 grid of Bazhong's extent to 1 km Mollweide.

    Times ``aggregate_to_km_grid`` on the zonal engine and, in the same run on the same array, the same code
    with exactextract computing the coverage; then degurba level 1 + 2 end to end.
    """
    from affine import Affine
    from rasterio.crs import CRS

    from bazhong_geo import urbanization
    from bazhong_geo.urbanization import aggregate_to_km_grid, degurba

    res = 3 / 3600
    h, w = 1330, 1750  # 32.75..31.64 N, 106.35..107.81 E: the prefecture's bounding box
    rng = np.random.default_rng(3)
    fine = rng.gamma(0.5, 4.0, size=(h, w))
    t = Affine(res, 0, 106.35, 0, -res, 32.75)
    valid = np.ones(fine.shape, bool)
    crs = CRS.from_epsg(4326)

    def timed(label):
        best, km = np.inf, None
        for _ in range(repeat):
            t0 = time.perf_counter()
            km = aggregate_to_km_grid(fine, valid, t, crs)
            best = min(best, time.perf_counter() - t0)
        return best, km

    ours, km = timed("zonal")
    own_engine = urbanization.compute_coverage
    urbanization.compute_coverage = _ExactextractCoverage
    try:
        peer, km_ee = timed("exactextract")
    finally:
        urbanization.compute_coverage = own_engine
    diff = float(np.max(np.abs(km.population - km_ee.population)) / km.population.max())
    err = abs(km.population.sum() - fine.sum()) / fine.sum()
    print(f"exact aggregation {h}x{w} = {h * w:,} cells (3\", EPSG:4326) -> {km.population.shape[0]}x"
          f"{km.population.shape[1]} 1 km Mollweide cells, best of {repeat}: zonal engine {ours:.2f} s, "
          f"exactextract {peer:.2f} s ({peer / ours:.1f}x); max cell difference {diff:.1e} of the largest cell; "
          f"population balance error {err:.1e} (relative)")
    t0 = time.perf_counter()
    g = degurba((fine, t, "EPSG:4326"))
    dt = time.perf_counter() - t0
    print(f"  degurba end to end (aggregation + level 1+2): {dt:.2f} s, {g.shape[0]}x{g.shape[1]} cells")


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=3163)
    ap.add_argument("--skip-peer", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--aggregation", action="store_true", help="also time exact aggregation of a 3\" grid")
    ap.add_argument("--aggregation-only", action="store_true", help="time only the exact aggregation")
    args = ap.parse_args(argv)
    if args.aggregation_only:
        run_aggregation(args.repeat)
        return
    n = args.size
    pop = synthetic_population(n)
    print(f"grid {n}x{n} = {n * n:,} cells, {pop.sum():,.0f} people; python {platform.python_version()}, "
          f"{platform.machine()}")
    times = []
    for _ in range(args.repeat):
        dt, g = run_ours(pop)
        times.append(dt)
    ours = min(times)
    lv1 = np.bincount(g.level1.ravel(), minlength=4)
    lv2 = {c: int(v) for c, v in enumerate(np.bincount(g.level2.ravel(), minlength=31)) if v}
    print(f"bazhong_geo.degurba level1+2: best of {args.repeat} = {ours:.2f} s (all: {', '.join(f'{t:.2f}' for t in times)})")
    print(f"  level1 cells: centre {lv1[3]:,}, cluster {lv1[2]:,}, rural {lv1[1]:,}; level2 cells: {lv2}")
    if args.aggregation:
        run_aggregation(args.repeat)
    if args.skip_peer:
        return
    dt, (centres, clusters, rural) = run_peer(pop)
    print(f"degurba 0.2 (PyPI) level1: {dt:.2f} s; ratio peer/ours = {dt / ours:.1f}x")
    # agreement on level 1 (the peer uses counts >= thresholds on 1 km² cells, as we do here)
    peer_l1 = np.where(centres, 3, np.where(clusters, 2, 1))
    agree = float((peer_l1 == g.level1).mean())
    print(f"  level-1 agreement with the peer: {agree:.6f} of cells "
          f"(peer centre {int(centres.sum()):,}, cluster {int(clusters.sum()):,})")


if __name__ == "__main__":
    main()
