"""National benchmark at reduced size: built-up km² by zone over a tiled mosaic, single process and on Dask.

Generates (once, in $BENCH_TMP or /tmp/bazhong_bench_dask, not committed) a mosaic of ``--tiles`` GeoTIFF tiles of
``--tile`` ² uint8 cells (10 m, China Albers equal-area, deflate, 512² blocks; clustered built-up plus salt; a
little nodata) and its VRT, and ``--zones`` Voronoi zones over it (edges densified every 100 m, in EPSG:4326 so
the engine reprojects them, as with real county polygons). Then times, each in its own subprocess:

* ``single``   — the single-process engine on the VRT: ``builtup.area_by_zone(vrt, zones, classes=[1])``;
* ``tiles``    — the tile partition run here, one tile after another (``client=None``);
* ``dask1``    — the tile partition on a LocalCluster of 1 worker process;
* ``dask2``    — the tile partition on a LocalCluster of 2 worker processes;

checks that every zone's numbers agree with ``single`` (max relative difference), and records the load average
and the CPU seconds of the workers (the machine may be shared: speed-up is reported both as wall-clock ratio
and as the ratio the CPU time allows).

Usage::

    python benchmarks/bench_dask.py                       # 64 tiles of 4,096² (1.07 bn cells), 3,000 zones
    python benchmarks/bench_dask.py --tiles 16 --tile 2048 --zones 1000   # a quick run
    BENCH_SCHEDULER=tcp://127.0.0.1:8786 python benchmarks/bench_dask.py --only dask1   # a running cluster
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

TMP = Path(os.environ.get("BENCH_TMP", "/tmp/bazhong_bench_dask"))
ALBERS = "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
SCHEDULER = os.environ.get("BENCH_SCHEDULER")  # tcp://host:port of a running scheduler (optional)
X0, Y0, CELL = 400_000.0, 3_600_000.0, 10.0  # Sichuan basin in China Albers


def tile_path(tiles, tile, i, j):
    return TMP / f"m{tiles}_{tile}" / f"t_{i:02d}_{j:02d}.tif"


def make_mosaic(tiles, tile, seed=0):
    """Write the tiles (skipping existing ones) and the VRT; returns the VRT path."""
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.windows import Window
    from scipy.ndimage import zoom

    from bazhong_geo.distributed import write_vrt

    n = round(np.sqrt(tiles))
    assert n * n == tiles, "--tiles must be a square number"
    (TMP / f"m{tiles}_{tile}").mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        for j in range(n):
            p = tile_path(tiles, tile, i, j)
            paths.append(p)
            if p.exists():
                continue
            rng = np.random.default_rng(seed + 1000 * i + j)
            coarse = rng.random((tile // 64 + 2, tile // 64 + 2))
            prof = {"driver": "GTiff", "height": tile, "width": tile, "count": 1, "dtype": "uint8", "crs": ALBERS, "nodata": 255,
                        "transform": from_origin(X0 + j * tile * CELL, Y0 - i * tile * CELL, CELL, CELL), "tiled": True,
                        "blockxsize": 512, "blockysize": 512, "compress": "deflate"}
            part = p.with_suffix(".part.tif")
            with rasterio.open(part, "w", **prof) as dst:
                for r0 in range(0, tile, 512):
                    h = min(512, tile - r0)
                    c0 = r0 // 64
                    block = zoom(coarse[c0:c0 + 10], 64, order=1)[(r0 - c0 * 64):(r0 - c0 * 64) + h, :tile]
                    data = (block > 0.75).astype(np.uint8)
                    data[rng.random((h, tile)) < 0.01] = 1
                    if r0 == 0 and i == 0 and j == 0:
                        data[:8, :64] = 255
                    dst.write(data, 1, window=Window(0, r0, tile, h))
            part.rename(p)
    return write_vrt([str(p) for p in paths], TMP / f"m{tiles}_{tile}.vrt")


def make_zones(tiles, tile, nz, seed=0):
    import geopandas as gpd
    import shapely

    path = TMP / f"zones_{tiles}_{tile}_{nz}.gpkg"
    if path.exists():
        return path
    rng = np.random.default_rng(seed)
    ext = round(np.sqrt(tiles)) * tile * CELL
    pts = np.column_stack([X0 + rng.random(nz) * ext, Y0 - rng.random(nz) * ext])
    frame = shapely.box(X0, Y0 - ext, X0 + ext, Y0)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.MultiPoint(pts), extend_to=frame.buffer(ext)))
    cells = shapely.segmentize(shapely.intersection(cells, frame), 100.0)
    gdf = gpd.GeoDataFrame({"code": [f"Z{i:05d}" for i in range(len(cells))]}, geometry=cells, crs=ALBERS)
    gdf.to_crs(4326).to_file(path, driver="GPKG")
    return path


def run_method(method, tiles, tile, nz):
    """Run one method in this process; print one JSON line."""
    import warnings

    import geopandas as gpd

    vrt = TMP / f"m{tiles}_{tile}.vrt"
    zones = gpd.read_file(make_zones(tiles, tile, nz))
    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    load0 = os.getloadavg()
    extra = {}
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "single":
            from bazhong_geo.builtup import area_by_zone
            df = area_by_zone(str(vrt), zones, classes=[1])
        else:
            from bazhong_geo import distributed as dd
            client = None
            if method.startswith("dask"):
                if SCHEDULER:  # an existing cluster (e.g. workers each in their own session, see BENCHMARKS.md)
                    client = dd.client_from_options(scheduler=SCHEDULER)
                    client.wait_for_workers(int(method[4:]))
                    extra["workers"] = len(client.scheduler_info()["workers"])
                else:
                    client = dd.local_cluster(workers=int(method[4:]), memory_limit="2GB")
                client.run(_warm)  # imports on every worker, outside the timing (as on a long-lived cluster)
                extra["startup_s"] = time.perf_counter() - t0
                t0 = time.perf_counter()
                cpu_before = client.run(_cpu_seconds)
            if client is None:
                df = dd.builtup_by_zone(str(vrt), zones, classes=[1], client=client, progress=False)
            else:
                from distributed import get_task_stream
                with get_task_stream(client) as ts:
                    df = dd.builtup_by_zone(str(vrt), zones, classes=[1], client=client, progress=False)
                spans = [(s["startstops"][-1]["start"], s["startstops"][-1]["stop"]) for s in ts.data
                         if s["startstops"] and s["startstops"][-1]["action"] == "compute"]
                extra["task_s_sum"] = float(sum(b - a for a, b in spans))
                extra["tasks_span_s"] = float(max(b for _, b in spans) - min(a for a, _ in spans)) if spans else 0

                per = {w: c - cpu_before.get(w, 0.0) for w, c in client.run(_cpu_seconds).items()}
                extra["worker_cpu_s"] = sum(per.values())
                extra["worker_cpu_max_s"] = max(per.values())  # the busiest worker: the critical path on idle cores
                extra["worker_peak_rss_mib"] = max(client.run(_peak_mib).values())
                if SCHEDULER:
                    client.close()
                else:
                    dd.close_client(client)
    dt = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    df[["code", "builtup_km2", "zone_km2", "valid_share"]].to_csv(TMP / f"out_{method}.csv", index=False,
                                                                   float_format="%.17g")
    print(json.dumps({"method": method, "seconds": dt, "cpu_s": ru1.ru_utime - ru0.ru_utime + ru1.ru_stime
                      - ru0.ru_stime, "peak_rss_mib": _peak_mib(), "load_before": load0[0],
                      "load_after": os.getloadavg()[0], "builtup_km2": float(df.builtup_km2.sum()), **extra}))


def _warm():
    import bazhong_geo.distributed.tiled_zonal  # noqa: F401


def _cpu_seconds():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def _peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_sub(method, args):
    out = subprocess.run([sys.executable, __file__, "--run", method, "--tiles", str(args.tiles), "--tile",
                          str(args.tile), "--zones", str(args.zones)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def max_rel_diff(a, b):
    import pandas as pd

    x, y = pd.read_csv(TMP / f"out_{a}.csv"), pd.read_csv(TMP / f"out_{b}.csv")
    assert (x.code == y.code).all()
    worst = 0.0
    for c in ("builtup_km2", "zone_km2", "valid_share"):
        u, v = x[c].to_numpy(), y[c].to_numpy()
        d = np.abs(u - v) / np.where(u != 0, np.abs(u), 1.0)
        worst = max(worst, float(d.max()))
    return worst


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tiles", type=int, default=64)
    ap.add_argument("--tile", type=int, default=4096)
    ap.add_argument("--zones", type=int, default=3000)
    ap.add_argument("--run")
    ap.add_argument("--only", nargs="*", default=["single", "tiles", "dask1", "dask2"])
    ap.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args()
    if args.run:
        run_method(args.run, args.tiles, args.tile, args.zones)
        return
    t0 = time.perf_counter()
    make_mosaic(args.tiles, args.tile)
    make_zones(args.tiles, args.tile, args.zones)
    cells = args.tiles * args.tile ** 2
    on_disk = sum(f.stat().st_size for f in (TMP / f"m{args.tiles}_{args.tile}").glob("t_*.tif"))
    print(json.dumps({"generated_s": time.perf_counter() - t0, "cells": cells, "bytes_on_disk": on_disk,
                      "nproc": os.cpu_count(), "load": os.getloadavg()}), flush=True)
    res = {}
    for r in range(args.rounds):
        for m in args.only:
            res.setdefault(m, []).append(run_sub(m, args))
            print(json.dumps({"round": r, **res[m][-1]}), flush=True)
    for m in args.only:
        if m != "single" and "single" in res:
            print(json.dumps({"parity_vs_single": m, "max_rel_diff": max_rel_diff("single", m)}))
    if "dask1" in res and "dask2" in res:
        best = {m: min(x["seconds"] for x in res[m]) for m in res}
        print(json.dumps({"speedup_dask2_vs_dask1": best["dask1"] / best["dask2"],
                          "speedup_dask2_vs_single": best.get("single", np.nan) / best["dask2"],
                          "cells_per_s_dask2": cells / best["dask2"]}))


if __name__ == "__main__":
    main()
