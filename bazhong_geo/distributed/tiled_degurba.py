"""DEGURBA over large grids: the 1 km aggregation partitioned by tile, the classification on the km grid.

The Degree of Urbanisation's cluster rules (4- and 8-connectivity, cluster populations, gap filling,
majority smoothing, the 2 km exclusion) look at the whole grid, so they are not cut into tiles: a cluster may
span any number of tiles. What is large is the fine input (96 bn 10 m cells for China); the 1 km grid it
aggregates to is small (≈ 10 M cells for China, ≈ 100 MB per float64 layer), and classifying it is one
process's work (seconds). So each tile task aggregates its fine cells to the km lattice with
:func:`bazhong_geo.urbanization.aggregate_to_km_grid` (block sums for nested projected grids; exact
coverage fractions onto the Mollweide lattice otherwise), partial km cells on tile edges are added up, and
:func:`bazhong_geo.urbanization.degurba` classifies the assembled km grid — the same km values as the
single-process aggregation, so the same classes (no halo or overlap is needed).

The km lattice is global (block sums align to multiples of the cell size where the grid allows; the exact
path floors to multiples of 1 km in Mollweide), so every tile's km cells fall on one lattice; tiles whose km
cells do not (a fine grid offset from the km lattice by a fraction of a cell) are refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._errors import MosaicError
from ..urbanization import MOLLWEIDE, DegurbaGrid, DegurbaThresholds, aggregate_to_km_grid, degurba, water_without_data
from ..zonal.areas import CellArea
from ..zonal.raster import open_raster
from .cluster import run_tasks
from .mosaic import Mosaic, Tile, matched_layers, read_mosaic

__all__ = ["KmPartial", "degurba_tiled", "km_partial"]


class KmPartial:
    """One tile's contribution to the km grid: its km window (transform, shape) and the sums on it."""

    def __init__(self, transform, crs, population, land_km2, data_km2, built_km2, method):
        self.transform, self.crs = transform, crs
        self.population, self.land_km2, self.data_km2, self.built_km2 = population, land_km2, data_km2, built_km2
        self.method = method


def km_partial(tiles: Sequence[Tile], thresholds: DegurbaThresholds, target_crs: str, has_land: bool,
               has_built: bool) -> KmPartial:
    """One task: read a tile's population (and land share, built-up share) and aggregate it to the km lattice."""
    with open_raster(tiles[0].path, what="population", north_up=False) as r:
        band = np.ma.asarray(r.read(1, masked=True))
        values = np.asarray(band.filled(np.nan), dtype="float64")
        valid = ~np.ma.getmaskarray(band) & np.isfinite(values)
        transform, crs = r.transform, r.dataset.crs
    k = 1
    land = built = None
    if has_land:
        land = _aux(tiles[k].path, "land_share")
        k += 1
    if has_built:
        built = _aux(tiles[k].path, "builtup")
    if thresholds.nodata_water:     # the single-process rule, cell by cell (GHSL: water without data is 0 people)
        values, valid = water_without_data(values, valid, land, None, thresholds.water_land_share)
    km = aggregate_to_km_grid(values, valid, transform, crs, land_share=land,
                              data_means=None if built is None else {"builtup": np.nan_to_num(built)},
                              cell_size_m=thresholds.cell_size_m, target_crs=target_crs)
    bk = None
    if built is not None:
        bk = np.where(km.data_km2 > 0, np.nan_to_num(km.means["builtup"]) * km.data_km2, 0.0)
    return KmPartial(km.transform, km.crs, np.where(km.data_km2 > 0, km.population, 0.0), km.land_km2,
                     km.data_km2, bk, km.method)


def _aux(path, what):
    with open_raster(path, what=what, north_up=False) as r:
        band = np.ma.asarray(r.read(1, masked=True))
        return np.asarray(band.astype("float64").filled(np.nan))


def degurba_tiled(population: Any, *, land_share: Any = None, builtup: Any = None,
                  thresholds: DegurbaThresholds = DegurbaThresholds(), target_crs: str = MOLLWEIDE,  # noqa: B008  (frozen)
                  client: Any = None, progress: bool = True) -> DegurbaGrid:
    """Degree of Urbanisation of a tiled population mosaic: aggregation by tile (on Dask), classification once.

    Parameters
    ----------
    population : mosaic
        A GDAL VRT of tiles, a list of GeoTIFF tiles or a :class:`~.mosaic.Mosaic` of people per cell.
    land_share, builtup : mosaic, optional
        Share of permanent land / built-up share per fine cell, cut into the same tiles.
    thresholds, target_crs
        As in :func:`bazhong_geo.urbanization.degurba`.
    client : distributed.Client, optional
        Run the tile aggregations on this cluster (None: here).
    progress : bool
        Progress bar of finished tiles.

    Returns
    -------
    DegurbaGrid
        The classification of :func:`bazhong_geo.urbanization.degurba` on the mosaic; ``method`` is the
        aggregation's ("block_sum", "exact" or "as_is"), as in the single-process run.

    Raises
    ------
    MosaicError
        Tiles not on one grid, or whose km cells fall off the common km lattice.
    """
    mosaics = [read_mosaic(population)]
    if land_share is not None:
        mosaics.append(read_mosaic(land_share))
    if builtup is not None:
        mosaics.append(read_mosaic(builtup))
    groups = matched_layers(mosaics)
    parts = run_tasks(client, km_partial, groups, thresholds, target_crs, land_share is not None,
                      builtup is not None, progress=progress, desc="km blocks")
    pop, land, data, built, tr, crs = _assemble(parts, mosaics[0])
    true_km2 = CellArea(crs, tr, pop.shape).grid(compact=True) / 1e6
    ok = data > 0
    pop_in = np.where(ok, pop, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        land_in = np.where(ok, np.clip(land / true_km2, 0.0, 1.0), np.nan)
        built_in = None if built is None else np.where(ok, np.clip(built / true_km2, 0.0, 1.0), np.nan)
    grid = degurba((pop_in, tr, crs), land_share=land_in, builtup=built_in, thresholds=thresholds,
                   target_crs=target_crs)
    grid.method = parts[0].method
    return grid


def _assemble(parts, mosaic: Mosaic):
    """Add the tiles' km windows onto one km grid (the union of the windows)."""
    s_x, s_y = parts[0].transform.a, parts[0].transform.e
    x0 = min(p.transform.c for p in parts)
    y0 = max(p.transform.f for p in parts)
    offs = []
    for p in parts:
        co, ro = (p.transform.c - x0) / s_x, (p.transform.f - y0) / s_y
        if abs(co - round(co)) > 1e-6 or abs(ro - round(ro)) > 1e-6 or p.transform.a != s_x:
            raise MosaicError(f"mosaic {mosaic.source}: the km cells of some tiles are offset from the others' "
                              f"(by {co % 1:.3f} / {ro % 1:.3f} cells); align the fine grid to the km lattice")
        offs.append((round(ro), round(co)))
    h = max(o[0] + p.population.shape[0] for o, p in zip(offs, parts, strict=True))
    w = max(o[1] + p.population.shape[1] for o, p in zip(offs, parts, strict=True))
    pop, land, data = np.zeros((h, w)), np.zeros((h, w)), np.zeros((h, w))
    built = None if parts[0].built_km2 is None else np.zeros((h, w))
    for (ro, co), p in zip(offs, parts, strict=True):
        sl = (slice(ro, ro + p.population.shape[0]), slice(co, co + p.population.shape[1]))
        pop[sl] += p.population
        land[sl] += p.land_km2
        data[sl] += p.data_km2
        if built is not None:
            built[sl] += p.built_km2
    from affine import Affine

    return pop, land, data, built, Affine(s_x, 0.0, x0, 0.0, s_y, y0), parts[0].crs
