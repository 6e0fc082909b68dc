"""Network catchments with counties as partitions: each county's cells timed on its own sub-network.

The single-process run is one multi-source Dijkstra over the whole road graph joined to a walking grid
(:func:`bazhong_geo.network.time_grid`). Partitioned, each county is a task: it builds the graph of the roads
near the county and times the cells of the county's window of the *same* grid lattice (same origin and cell
size) from the settlements near the county. Cells are then taken from the task of the county that holds the
cell's centre, and :func:`bazhong_geo.network.isochrones` draws the polygons from the assembled grid.

Edges near county borders: nothing is cut at the border. A path of at most ``limit`` minutes (plus the
half-cell slack the search allows) covers at most ``reach_m = v_max × time`` metres, where ``v_max`` is the
fastest road speed (or the walking speed, if faster). So for the cells of a county, every path that can matter
lies within ``reach_m`` of the county, every settlement that can reach them lies within ``reach_m``, and its
walk onto the road network ends within another ``reach_m``. Each task therefore takes **whole road features**
that come within ``2 × reach_m`` of the county's bounding box (never clipped, so the segmentized vertices
and junctions are those of the full graph), the settlements within ``reach_m``, and the grid window of the
county's bounding box grown by ``reach_m``; its cells inside the county then get the single-process times.
Ties between settlements at exactly equal times may be broken differently (Dijkstra's order); times are equal.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..network import TimeGrid, build_graph, isochrones, road_speeds, time_grid, to_work
from .cluster import run_tasks

__all__ = ["CountyTimes", "county_times", "network_catchments_by_county", "reach_m"]


class CountyTimes:
    """One county task's result: its window on the lattice and the minutes and (global) source per cell."""

    def __init__(self, row_off, col_off, minutes, source):
        self.row_off, self.col_off, self.minutes, self.source = row_off, col_off, minutes, source


def reach_m(roads: Any, limit: float, cell_m: float, walk_kmh: float, *, speed_col: str | None = "speed_kmh",
            class_col: str | None = None, speeds: Any = None) -> float:
    """Farthest distance (m) travelled in ``limit`` minutes plus the search's slack (one cell diagonal on foot)."""
    kmh = float(np.max(road_speeds(roads, speed_col=speed_col, class_col=class_col, speeds=speeds)))
    vmax = max(kmh, walk_kmh) * 1000.0 / 60.0  # m per minute
    slack_min = cell_m * np.sqrt(2.0) / (walk_kmh * 1000.0 / 60.0)
    return vmax * (limit + slack_min) + 2 * cell_m


def county_times(task: tuple, roads: Any, sources: Any, lattice: tuple, options: dict) -> CountyTimes:
    """One task: the time grid of one county's window, from its sub-network and nearby sources."""
    import shapely

    bounds, reach = task
    x0, top, cell_m, nrow, ncol = lattice
    bx0, by0, bx1, by1 = bounds
    # the county's window of the global lattice, grown by the reach (whole cells)
    c0 = max(int(np.floor((bx0 - reach - x0) / cell_m)), 0)
    c1 = min(int(np.ceil((bx1 + reach - x0) / cell_m)), ncol)
    r0 = max(int(np.floor((top - by1 - reach) / cell_m)), 0)
    r1 = min(int(np.ceil((top - by0 + reach) / cell_m)), nrow)
    wb = (x0 + c0 * cell_m, top - r1 * cell_m, x0 + c1 * cell_m, top - r0 * cell_m)
    near = shapely.box(bx0 - 2 * reach, by0 - 2 * reach, bx1 + 2 * reach, by1 + 2 * reach)
    sub_roads = roads[roads.intersects(near)]
    sbox = shapely.box(bx0 - reach, by0 - reach, bx1 + reach, by1 + reach)
    sidx = np.flatnonzero(sources.intersects(sbox).to_numpy())
    if len(sub_roads) == 0 or len(sidx) == 0:
        return CountyTimes(r0, c0, np.full((r1 - r0, c1 - c0), np.inf), np.full((r1 - r0, c1 - c0), -1))
    g = build_graph(sub_roads, speed_col=options["speed_col"], class_col=options["class_col"],
                    speeds=options["speeds"], segmentize_m=cell_m, oneway_col=options["oneway_col"])
    tg = time_grid(g, sources.iloc[sidx], cell_m=cell_m, limit=options["limit"], walk_kmh=options["walk_kmh"],
                   bounds=wb, far_m=options["far_m"], direction=options["direction"])
    src = np.where(tg.source >= 0, sidx[np.clip(tg.source, 0, None)], -1)
    return CountyTimes(r0, c0, tg.minutes, src)


def network_catchments_by_county(  # noqa: PLR0913 - the options of catchments.network, as keywords
        sources: Any, roads: Any, counties: Any, *, minutes: tuple = (15, 30, 60),
                                 cell_m: float = 100.0, bounds: tuple | None = None, walk_kmh: float = 4.5,
                                 far_m: float = 1000.0, speed_col: str | None = "speed_kmh",
                                 class_col: str | None = None, speeds: Any = None, oneway_col: str | None = "oneway",
                                 direction: str = "to_facility", client: Any = None,
                                 progress: bool = True) -> tuple[TimeGrid, Any]:
    """Travel-time catchments of ``sources`` over ``roads``, computed county by county (on Dask or here).

    Parameters
    ----------
    sources : GeoDataFrame of points
        The settlements (or facilities). Sources, roads and counties are reprojected to the work CRS
        (EPSG:4545) when in another CRS, as :func:`bazhong_geo.network.build_graph` does.
    roads : GeoDataFrame of lines
        As :func:`bazhong_geo.network.build_graph` (planarize and limited-access options are not used).
    counties : GeoDataFrame of polygons
        The partitions; each cell is timed by the county that holds its centre (cells in no county: no time).
    minutes, cell_m, walk_kmh, far_m, speed_col, class_col, speeds, oneway_col, direction
        As in :func:`bazhong_geo.network.time_grid` / :func:`bazhong_geo.catchments.network`.
    bounds : tuple, optional
        The grid's ``(xmin, ymin, xmax, ymax)``; default the counties' total bounds (as ``within=`` does).
    client : distributed.Client, optional
        Run the county tasks on this cluster (None: here).
    progress : bool
        Progress bar of finished counties.

    Returns
    -------
    (TimeGrid, GeoDataFrame)
        The assembled time grid (the single-process ``time_grid`` on the same bounds, cells in the counties)
        and :func:`bazhong_geo.network.isochrones` of it with a ``code`` column when ``sources`` has one.
    """
    from affine import Affine
    from rasterio.features import rasterize

    report: dict = {}
    sources = to_work(sources, "sources", report)
    roads = to_work(roads, "roads", report)
    counties = to_work(counties, "counties", report)
    bands = sorted(float(m) for m in minutes)
    limit = bands[-1]
    xmin, ymin, xmax, ymax = counties.total_bounds if bounds is None else bounds
    ncol = max(int(np.ceil((xmax - xmin) / cell_m)), 1)
    nrow = max(int(np.ceil((ymax - ymin) / cell_m)), 1)
    top = ymin + nrow * cell_m
    transform = Affine(cell_m, 0.0, xmin, 0.0, -cell_m, top)
    reach = reach_m(roads, limit, cell_m, walk_kmh, speed_col=speed_col, class_col=class_col, speeds=speeds)
    tasks = [(tuple(b), reach) for b in counties.geometry.bounds.to_numpy()]
    options = {"speed_col": speed_col, "class_col": class_col, "speeds": speeds, "oneway_col": oneway_col,
               "limit": limit, "walk_kmh": walk_kmh, "far_m": far_m, "direction": direction}
    parts = run_tasks(client, county_times, tasks, roads, sources, (xmin, top, cell_m, nrow, ncol), options,
                      progress=progress, desc="counties")
    owner = rasterize([(g, i + 1) for i, g in enumerate(counties.geometry)], out_shape=(nrow, ncol),
                      transform=transform, fill=0, dtype="int32")
    mins = np.full((nrow, ncol), np.inf)
    src = np.full((nrow, ncol), -1, dtype=np.int64)
    for i, p in enumerate(parts):
        h, w = p.minutes.shape
        win = (slice(p.row_off, p.row_off + h), slice(p.col_off, p.col_off + w))
        mine = owner[win] == i + 1
        mins[win][mine] = p.minutes[mine]
        src[win][mine] = p.source[mine]
    slack = cell_m * np.sqrt(2.0) / (walk_kmh * 1000.0 / 60.0) / 2.0
    grid = TimeGrid(minutes=mins, source=src, transform=transform, cell_m=cell_m, slack=slack,
                    report={**report, "partitions": len(parts), "reach_m": reach})
    iso = isochrones(grid, bands)
    if "code" in sources.columns:
        iso.insert(0, "code", sources["code"].to_numpy()[iso["source"].to_numpy(dtype=np.int64)])
    return grid, iso
