"""Population allocation: township or village totals spread onto the cells of a built-up or land-cover raster.

Dasymetric mapping as in PySAL tobler's ``masked_area_interpolate`` / dasymetric family: each zone's total is
shared among the raster cells it covers in proportion to ``coverage fraction × class weight``, so every zone
keeps its total exactly; a zone that covers no weighted cell falls back to area weighting (and is reported).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from . import zonal
from ._errors import (
    DuplicateCodeError,
    EmptyInputError,
    InvalidPopulationError,
    MissingColumnError,
    MissingCRSError,
    UnsupportedGridError,
)
from ._validate import located

METHODS = ("dasymetric", "area", "point", "unallocated")
"""How each zone's total was placed: by weighted cells, by area alone (no weighted cell), all in the cell under
the zone's representative point (a zone of no area: a degenerate polygon), or not at all (zone off the raster)."""


@dataclass
class Allocation:
    """People per cell on the raster's grid, and how each zone was allocated.

    Attributes
    ----------
    population : ndarray (rows, cols) of float
        People per cell (0 outside every zone).
    transform : affine.Affine
    crs : rasterio CRS
    zones : DataFrame
        ``zone`` (code), ``total``, ``allocated`` (equal to ``total`` but for unallocated zones), ``method``
        (one of :data:`METHODS`), ``cells`` (cells that received people), ``weighted_share`` (share of the
        zone's covered area on cells with a non-zero weight).
    report : dict
        ``fallback_area`` / ``fallback_point`` / ``unallocated`` zone codes, ``classes_without_weight``.
    """

    population: np.ndarray
    transform: object
    crs: object
    zones: object
    report: dict = field(default_factory=dict)

    def to_raster(self, path) -> None:
        """Write the people per cell as a one-band float GeoTIFF (nodata -1)."""
        import rasterio

        with rasterio.open(path, "w", driver="GTiff", width=self.population.shape[1],
                           height=self.population.shape[0], count=1, dtype="float64", crs=self.crs,
                           transform=self.transform, nodata=-1.0, compress="deflate") as dst:
            dst.write(self.population, 1)


def coverage_fractions(geom, transform, shape) -> tuple[int, int, np.ndarray]:
    """Exact share of each raster cell covered by a polygon (the zonal engine's coverage fractions).

    Returns ``(row0, col0, fractions)``: the window's top-left cell and a 2-D array of fractions in [0, 1]
    (empty when the polygon misses the raster).

    Examples
    --------
    >>> import shapely
    >>> from affine import Affine
    >>> r0, c0, f = coverage_fractions(shapely.box(0.5, 0, 2, 1), Affine(1, 0, 0, 0, -1, 2), (2, 3))
    >>> r0, c0, f.tolist()
    (1, 0, [[0.5, 1.0]])
    """
    _zone, rows, cols, frac = zonal.compute_coverage(np.array([geom], dtype=object), transform, shape).pairs()
    keep = frac > 0
    rows, cols, frac = rows[keep], cols[keep], np.minimum(frac[keep], 1.0)
    if len(rows) == 0:
        return 0, 0, np.zeros((0, 0))
    r0, c0 = int(rows.min()), int(cols.min())
    out = np.zeros((int(rows.max()) - r0 + 1, int(cols.max()) - c0 + 1))
    np.add.at(out, (rows - r0, cols - c0), frac)
    return r0, c0, np.minimum(out, 1.0)


def _open(raster):
    """``(array, transform, crs, nodata)`` from a path, an open rasterio dataset or ``(array, transform, crs)``."""
    with zonal.open_raster(raster, what="allocation raster", crs_arg=None) as r:
        arr = np.asarray(r.read(1))
        if arr.size == 0:
            raise UnsupportedGridError(f"the raster must be one 2-D band with cells, got shape {arr.shape}")
        return arr, r.transform, r.crs, r.nodata(1)


def cell_weights(values: np.ndarray, weights=None, nodata=None, report: dict | None = None) -> np.ndarray:
    """Weight of each cell: ``weights[class]`` (classes not listed weigh 0 and are reported), or, without
    ``weights``, the cell value itself (e.g. a built-up share); nodata and negative values weigh 0.

    Examples
    --------
    >>> cell_weights(np.array([[10, 50], [80, 50]]), {50: 5.0, 10: 1.0}).tolist()
    [[1.0, 5.0], [0.0, 5.0]]
    """
    v = np.asarray(values)
    bad = ~np.isfinite(v) if v.dtype.kind == "f" else np.zeros(v.shape, dtype=bool)
    if nodata is not None:
        bad |= v == nodata
    if weights is None:
        w = np.where(bad, 0.0, v.astype(float))
        return np.where(w > 0, w, 0.0)
    classes, inv = np.unique(np.where(bad, 0, v).ravel(), return_inverse=True)
    table = {float(k): float(x) for k, x in weights.items()}
    wv = np.array([table.get(float(c), 0.0) for c in classes])
    if report is not None:
        seen = classes[np.isin(np.arange(len(classes)), np.unique(inv[~bad.ravel()]))]
        missing = sorted(float(c) for c in seen if float(c) not in table)
        if missing:
            report.setdefault("classes_without_weight", sorted(set(report.get("classes_without_weight", [])) |
                                                                set(missing)))
    return np.where(bad, 0.0, wv[inv.reshape(v.shape)])


def _zone_inputs(zones, total_col: str, zone_col: str | None, crs):
    """Zones in the raster CRS, their totals and codes, validated."""
    import pandas as pd

    if total_col not in zones.columns:
        raise MissingColumnError(f"zones: no column {total_col!r} (total_col); columns are {list(zones.columns)}")
    if zones.crs is None:
        raise MissingCRSError("zones: the layer has no CRS; set it first, e.g. zones.set_crs(4545)")
    if len(zones) == 0:
        raise EmptyInputError("zones: the layer has no features")
    totals = pd.to_numeric(zones[total_col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(totals) | (totals < 0)
    if bad.any():
        rows = np.flatnonzero(bad)
        raise InvalidPopulationError(
            f"zones: {bad.sum()} {total_col!r} value(s) missing, negative or not numbers (rows {rows[:10].tolist()}); "
            f"totals must be numbers >= 0")
    codes = zones[zone_col].to_numpy() if zone_col is not None else np.arange(len(zones))
    if zone_col is not None:
        if zone_col not in zones.columns:
            raise MissingColumnError(f"zones: no column {zone_col!r} (zone_col); columns are {list(zones.columns)}")
        dup = pd.Series(codes).duplicated(keep=False).to_numpy()
        if dup.any():
            raise DuplicateCodeError(f"zones: codes {sorted(set(map(str, codes[dup])))[:10]} appear more than once in "
                                     f"{zone_col!r}; merge those rows (sum their totals) first")
    return zones.to_crs(crs), totals, codes


def allocate(zones, raster, *, total_col: str = "population", zone_col: str | None = "code", weights=None) -> Allocation:
    """Spread each zone's total onto the raster cells it covers (dasymetric), conserving every zone's total.

    Parameters
    ----------
    zones : GeoDataFrame of polygons
        Townships or villages with their totals (``total_col``) and codes (``zone_col``; ``None``: row
        positions). Reprojected to the raster's CRS.
    raster : path, rasterio dataset or ``(array, transform, crs)``
        A built-up or land-cover raster (first band).
    weights : mapping class -> weight, optional
        Weight of each land-cover class (e.g. ``{50: 1.0}`` for ESA WorldCover built-up only, or
        ``{50: 10, 40: 1}`` to put some people on cropland); classes not listed weigh 0. Without it the
        cell values are the weights (a built-up share, a density surface).

    Returns
    -------
    Allocation
        A cell shared by two zones receives from both. A zone with no weighted cell is spread by area
        (``method="area"``, reported and warned), a zone of no area (degenerate polygon) goes to the cell
        under its representative point (``"point"``), and a zone off the raster is ``"unallocated"`` (warned).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> from affine import Affine
    >>> cover = np.array([[50, 50, 10, 10]])          # two built-up cells, two of cropland
    >>> grid = (cover, Affine(100, 0, 0, 0, -100, 100), "EPSG:4545")
    >>> zones = gpd.GeoDataFrame({"code": ["a"], "population": [300.0]}, crs=4545,
    ...     geometry=[shapely.box(0, 0, 400, 100)])
    >>> allocate(zones, grid, weights={50: 2.0, 10: 1.0}).population.tolist()
    [[100.0, 100.0, 50.0, 50.0]]
    """
    report: dict = {}
    values, transform, crs, nodata = _open(raster)
    zones, totals, codes = _zone_inputs(zones, total_col, zone_col, crs)
    w = cell_weights(values, weights, nodata, report)
    out = np.zeros(values.shape, dtype=float)
    geoms = np.asarray(zones.geometry.values, dtype=object)
    ok = located(geoms)
    recs = {"zone": codes, "total": totals, "allocated": np.zeros(len(zones)), "method": [""] * len(zones),
            "cells": np.zeros(len(zones), dtype=np.int64), "weighted_share": np.full(len(zones), np.nan)}
    for i in range(len(zones)):
        if not ok[i]:
            recs["method"][i] = "unallocated"
            continue
        r0, c0, frac = coverage_fractions(geoms[i], transform, values.shape)
        method, share, placed = _spread(frac, w[r0: r0 + frac.shape[0], c0: c0 + frac.shape[1]], totals[i])
        if method is None:  # no area covered: the cell under the representative point
            method, r0, c0, placed = _point_cell(geoms[i], transform, values.shape, totals[i])
        if placed is not None:
            out[r0: r0 + placed.shape[0], c0: c0 + placed.shape[1]] += placed
            recs["allocated"][i] = float(placed.sum())
            recs["cells"][i] = int((placed > 0).sum())
        recs["method"][i], recs["weighted_share"][i] = method, share
    return _finish(out, transform, crs, recs, report)


def _spread(frac: np.ndarray, w: np.ndarray, total: float):
    """``(method, weighted share, people per cell)`` for one zone's window; ``(None, nan, None)`` if it covers nothing."""
    cover = frac.sum()
    if cover <= 0:
        return None, np.nan, None
    mass = frac * w
    weighted = float(frac[w > 0].sum() / cover)
    if mass.sum() > 0:
        method, base = "dasymetric", mass
    else:
        method, base = "area", frac
    placed = total * (base / base.sum())
    k = np.unravel_index(np.argmax(placed), placed.shape)
    placed[k] += total - placed.sum()  # the zone's total exactly, whatever the rounding
    return method, weighted, placed


def _point_cell(geom, transform, shape, total: float):
    import shapely

    x, y = shapely.get_coordinates(shapely.point_on_surface(geom))[0]
    c, r = (~transform) @ (x, y)
    r, c = int(np.floor(r)), int(np.floor(c))
    if 0 <= r < shape[0] and 0 <= c < shape[1]:
        return "point", r, c, np.array([[float(total)]])
    return "unallocated", 0, 0, None


def _finish(out, transform, crs, recs, report) -> Allocation:
    import pandas as pd

    table = pd.DataFrame(recs)
    for method, key in (("area", "fallback_area"), ("point", "fallback_point"), ("unallocated", "unallocated")):
        codes = table.loc[table.method == method, "zone"].tolist()
        if codes:
            report[key] = codes
    if "fallback_area" in report:
        warnings.warn(f"{len(report['fallback_area'])} zone(s) cover no weighted cell and were spread by area "
                      f"(codes in report['fallback_area'])", stacklevel=3)
    if "unallocated" in report:
        lost = float(table.loc[table.method == "unallocated", "total"].sum())
        warnings.warn(f"{len(report['unallocated'])} zone(s) with {lost:g} people lie off the raster or have no "
                      f"geometry and were not allocated (codes in report['unallocated'])", stacklevel=3)
    return Allocation(population=out, transform=transform, crs=crs, zones=table, report=report)
