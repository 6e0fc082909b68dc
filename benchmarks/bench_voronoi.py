"""Benchmark: Voronoi catchments of 100,000 settlements clipped to a Bazhong-sized region (goal < 5 s).

Run: ``python benchmarks/bench_voronoi.py [--n 100000]``. Compares with geopandas' ``GeoSeries.voronoi_polygons``
followed by a plain ``clip`` (the peer route) in the same run; prints Markdown rows for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def region(seed: int = 0):
    """An irregular region of about 12,300 km² with 2,000 boundary vertices (Bazhong's size), EPSG:4545."""
    import shapely

    rng = np.random.default_rng(seed)
    ang = np.linspace(0, 2 * np.pi, 2000, endpoint=False)
    r = 62_000 * (1 + 0.15 * np.sin(5 * ang) + 0.05 * np.sin(23 * ang) + 0.01 * rng.standard_normal(len(ang)))
    xy = np.c_[500_000 + r * np.cos(ang), 3_530_000 + r * np.sin(ang)]
    return shapely.make_valid(shapely.Polygon(xy))


def main(argv=None):
    import geopandas as gpd
    import shapely

    from bazhong_geo import catchments as C
    from bazhong_geo.settlements import SettlementSystem

    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    a = ap.parse_args(argv)
    reg = region()
    rng = np.random.default_rng(1)
    xmin, ymin, xmax, ymax = reg.bounds
    cand = rng.uniform([xmin, ymin], [xmax, ymax], (a.n * 2, 2))
    cand = cand[shapely.contains_xy(reg, cand[:, 0], cand[:, 1])][: a.n]
    n = len(cand)
    gdf = gpd.GeoDataFrame({"code": [f"{i:012d}" for i in range(n)], "name": "村", "tier": "village",
                            "parent_code": None, "population": 500.0}, geometry=shapely.points(cand), crs=4545)
    t0 = time.perf_counter()
    system = SettlementSystem(gdf)
    t_sys = time.perf_counter() - t0
    C.voronoi(SettlementSystem(gdf.iloc[:50]), "village", within=reg)  # warm
    t0 = time.perf_counter()
    v = C.voronoi(system, "village", within=reg)
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    cells = C.voronoi_cells(cand, reg)
    t_cells = time.perf_counter() - t0
    rel = abs(sum(shapely.area(cells)) - reg.area) / reg.area
    # peer: geopandas voronoi_polygons + clip (cells not matched to settlements, no areas)
    gs = gpd.GeoSeries(shapely.points(cand), crs=4545)
    t0 = time.perf_counter()
    peer = gs.voronoi_polygons(extend_to=shapely.box(*shapely.buffer(reg, 10_000).bounds)).clip(reg)
    t_peer = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"| Voronoi catchments, {n:,} settlements clipped to a 2,000-vertex region of {reg.area / 1e6:,.0f} km² "
          f"| `voronoi()` {t_ours:.2f} s (cells + clip {t_cells:.2f} s, rest = equal-area km² and frame) | geopandas "
          f"voronoi_polygons + clip {t_peer:.2f} s | goal < 5 s | planar area sum off by {rel:.1e} relative; "
          f"peak {peak:.0f} MB (SettlementSystem build {t_sys:.2f} s not counted) |")
    assert len(v) == n and len(peer) >= n


if __name__ == "__main__":
    main()
