"""Benchmark: Degree of Urbanisation level 1 + 2 on a 10-million-cell grid, against the PyPI ``degurba`` package.

Run:  python benchmarks/bench_degurba.py [--size 3163] [--peer-timeout 1800] [--skip-peer]

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


def run_aggregation():
    """Exact aggregation of a WorldPop-like 3-arc-second EPSG:4326 grid of Bazhong's extent to 1 km Mollweide."""
    from affine import Affine

    from bazhong_geo.urbanization import degurba

    res = 3 / 3600
    h, w = 1330, 1750  # 32.75..31.64 N, 106.35..107.81 E: the prefecture's bounding box
    rng = np.random.default_rng(3)
    fine = rng.gamma(0.5, 4.0, size=(h, w))
    t0 = time.perf_counter()
    g = degurba((fine, Affine(res, 0, 106.35, 0, -res, 32.75), "EPSG:4326"))
    dt = time.perf_counter() - t0
    err = abs(g.population.sum() - fine.sum()) / fine.sum()
    print(f"exact aggregation + level 1+2: {h}x{w} = {h * w:,} cells (3\", EPSG:4326) -> {g.shape[0]}x{g.shape[1]} "
          f"1 km Mollweide cells in {dt:.2f} s; population balance error {err:.1e} (relative)")


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=3163)
    ap.add_argument("--skip-peer", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--aggregation", action="store_true", help="also time exact aggregation of a 3\" grid")
    args = ap.parse_args(argv)
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
        run_aggregation()
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
