"""Zonal statistics beyond sums: every statistic exactextract offers, coverage-weighted as it defines them.

For each zone the raster's cells are weighted by their coverage fraction *c* (the share of the cell inside
the zone, exact; :mod:`.coverage`) — for line zones by the length of line inside the cell, in the raster
CRS's units (values along roads weighted by length; ``count`` is then the length, as in exactextract).
Cells whose coverage is below ``min_coverage_frac``, nodata cells and NaN are left out. With *x* the cell value
and *w* the value of a second (weights) raster:

=========================  ==========================================================================
``count``                  Σ c (cells, partly covered ones counted by their fraction)
``sum``, ``mean``          Σ c·x and Σ c·x / Σ c
``min``, ``max``           extreme value of the cells with positive coverage (not weighted)
``median``, ``quantile``   weighted quantiles of the distinct values, each weighted by Σ c of its cells
                           (exactextract's interpolated definition; ``"quantile(q=0.25)"``); on an
                           integer raster truncated to an integer, as exactextract returns them
``majority`` (``mode``)    value with the largest Σ c (ties: the largest value)
``minority``               value with the smallest Σ c (ties: the smallest value)
``variety``                number of distinct values
``variance``, ``stdev``    population variance Σ c·(x − mean)² / Σ c, and its square root
``coefficient_of_variation``  stdev / mean
``weighted_sum``           Σ c·w·x (e.g. people-weighted built-up share: weights = people per cell)
``weighted_mean``          Σ c·w·x / Σ c·w; NaN when a weight under the zone is nodata (as exactextract),
                           unless ``default_weight`` is given
``weighted_count``         Σ c·w
=========================  ==========================================================================

:func:`zonal_cells` lists every (zone, cell) with its value, coverage and cell centre, to check a zone by eye.

>>> import numpy as np, geopandas as gpd, shapely
>>> from affine import Affine
>>> grid = (np.array([[1.0, 2.0], [3.0, 4.0]]), Affine(1, 0, 0, 0, -1, 2), "EPSG:4545")
>>> zone = gpd.GeoDataFrame({"code": ["A"]}, geometry=[shapely.box(0.5, 0, 2, 2)], crs=4545)
>>> zonal_stats(grid, zone, ["count", "mean", "majority"]).round(4).values.tolist()
[['A', 3.0, 2.6667, 4.0]]
"""

from __future__ import annotations

import re
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from .._errors import GridMismatchError, InvalidThresholdError, RasterValueWarning, ZoneGeometryError
from ..geodesy import polygonal
from .coverage import compute_coverage, line_coverage, merge_coverages
from .raster import open_raster
from .strips import fill_warning, fills_found, strips, valid_mask
from .zones import GEOMETRY_NAMES, clipped_to_grid, in_raster_crs, repair_zones, zones_frame

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    import pandas as pd

__all__ = ["STATISTICS", "parse_stat", "zonal_cells", "zonal_stats"]

STATISTICS = ("count", "sum", "mean", "min", "max", "median", "quantile", "majority", "mode", "minority", "variety",
              "variance", "stdev", "coefficient_of_variation", "weighted_sum", "weighted_mean", "weighted_count")
"""The statistics :func:`zonal_stats` computes (``quantile`` takes ``q``: ``"quantile(q=0.9)"``)."""

_HISTOGRAM = {"median", "quantile", "majority", "mode", "minority", "variety", "variance", "stdev",
              "coefficient_of_variation"}
_WEIGHTED = {"weighted_sum", "weighted_mean", "weighted_count"}


def parse_stat(spec: str) -> tuple[str, str, float | None]:
    """(column name, statistic, q) of a statistic as written by the user (exactextract spellings accepted).

    >>> parse_stat("quantile(q=0.25)"), parse_stat("mode"), parse_stat("quantile_90")
    (('quantile_25', 'quantile', 0.25), ('mode', 'majority', None), ('quantile_90', 'quantile', 0.9))
    """
    text = str(spec).strip()
    m = re.fullmatch(r"quantile\(\s*q\s*=\s*([0-9.eE+-]+)\s*\)|quantile_([0-9]+(?:\.[0-9]+)?)", text)
    if m:
        q = float(m.group(1)) if m.group(1) is not None else float(m.group(2)) / 100.0
        if not 0.0 <= q <= 1.0:
            raise InvalidThresholdError(f"statistic {text!r}: q must be between 0 and 1")
        return f"quantile_{q * 100:g}".replace(".", "_"), "quantile", q
    if text == "quantile":
        raise InvalidThresholdError("statistic 'quantile' needs q: write 'quantile(q=0.25)'")
    if text not in STATISTICS:
        raise InvalidThresholdError(f"unknown statistic {text!r}; choose among {', '.join(STATISTICS)} "
                                    f"(quantiles as 'quantile(q=0.25)')")
    if text == "median":
        return "median", "quantile", 0.5
    return text, "majority" if text == "mode" else text, None


# ------------------------------------------------------------------------------------ zones on the grid

def _zone_geometries(zones, id_col, rcrs, transform, shape):
    """(codes, labels, coverage, kinds) of the zones on the grid; polygons by area, lines by length."""
    import shapely

    zones = zones_frame(zones, id_col)
    codes = zones[id_col].astype(str).to_numpy(dtype=object)
    labels = (zones[id_col].astype(str) + " " + zones["name"].astype(str)).to_numpy(dtype=object) \
        if "name" in zones.columns else codes
    geoms, _ = repair_zones(zones.geometry.to_numpy(), codes, stacklevel=4)
    garr = in_raster_crs(zones.geometry.__class__(geoms, crs=zones.crs), codes, rcrs, transform)
    blank = shapely.is_missing(garr) | shapely.is_empty(garr)
    poly = polygonal(garr)
    has_poly = ~blank & ~shapely.is_empty(poly)
    line_geoms = np.full(len(garr), None, dtype=object)
    rest = np.flatnonzero(~has_poly & ~blank)
    for i in rest:
        parts = [p for p in shapely.get_parts(garr[i]) if p.geom_type in ("LineString", "MultiLineString",
                                                                            "LinearRing")]
        if not parts:
            kind = GEOMETRY_NAMES.get(int(shapely.get_type_id(garr[i])), "?")
            raise ZoneGeometryError(
                f"zone {labels[i]} is a {kind}: zonal statistics need polygons (areas) or lines (values along "
                f"them, weighted by length); give the cell value at a point with a small buffer "
                f"(zones.buffer(1)) or sample the raster at the point")
        line_geoms[i] = shapely.multilinestrings(parts) if len(parts) > 1 else parts[0]
    poly_arr = np.where(has_poly, poly, shapely.Polygon())
    gb = shapely.bounds(np.where(has_poly, poly, None))
    gb = np.where(np.isnan(gb), 0.0, gb)
    cov_p = compute_coverage(clipped_to_grid(poly_arr, gb, transform, shape), transform, shape)
    line_arr = np.where(np.equal(line_geoms, None), shapely.LineString(), line_geoms)
    cov_l = line_coverage(line_arr, transform, shape) if len(rest) else None
    kinds = np.where(has_poly, "polygon", np.where(blank, "empty", "line"))
    return codes, labels, merge_coverages([cov_p, cov_l]), kinds


# ------------------------------------------------------------------------------------ accumulation

class _ValueKeys:
    """Order-preserving 32-bit codes of raster values (≤ 32-bit dtypes), packed with the zone into one uint64.

    One integer key per (zone, value) makes the histogram a hash factorisation instead of a two-key sort (about
    ten times faster); float64 and 64-bit integer rasters keep the exact two-key path (``packed`` False).
    """

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)
        self.packed = self.dtype.itemsize <= 4 and self.dtype.kind in "fiu"

    def encode(self, zone, raw):
        dt = self.dtype
        if dt.kind == "f":  # IEEE order: flip every bit of negatives, set the sign bit of positives (in 32 bits)
            bits = raw.astype(np.float32, copy=False).view(np.uint32)
            low = np.where(bits >> np.uint32(31), ~bits, bits | np.uint32(0x80000000)).astype(np.uint64)
        elif dt.kind == "i":
            low = (raw.astype(np.int64) + 2**31).astype(np.uint64)
        else:
            low = raw.astype(np.uint64)
        return (zone.astype(np.uint64) << np.uint64(32)) | low

    def decode(self, key):
        zone = (key >> np.uint64(32)).astype(np.int64)
        low = key & np.uint64(0xFFFFFFFF)
        dt = self.dtype
        if dt.kind == "f":
            bits = np.where(low >> np.uint64(31), low ^ np.uint64(0x80000000), ~low & np.uint64(0xFFFFFFFF))
            vals = bits.astype(np.uint32).view(np.float32).astype(np.float64)
        elif dt.kind == "i":
            vals = (low.astype(np.int64) - 2**31).astype(np.float64)
        else:
            vals = low.astype(np.float64)
        return zone, vals


def _factorized(keys, weights):
    """(distinct keys, Σ weights per key)."""
    import pandas as pd

    codes, uniq = pd.factorize(keys)
    return np.asarray(uniq, dtype=np.uint64), np.bincount(codes, weights, minlength=len(uniq))


class _Accumulator:
    """Per-zone sums and, when asked, the per-(zone, value) histogram of coverage (and weight × coverage)."""

    def __init__(self, n, histogram, weighted, integer, dtype):
        self.n, self.histogram, self.weighted, self.integer = n, histogram, weighted, integer
        self.keys = _ValueKeys(dtype)
        self.count = np.zeros(n)
        self.sum = np.zeros(n)
        self.min = np.full(n, np.inf)
        self.max = np.full(n, -np.inf)
        self.wcount = np.zeros(n)
        self.wsum = np.zeros(n)
        self.hist = []  # (zone, value, Σc) per strip, merged at the end

    def add(self, zone, vals, frac, wts, raw):
        n = self.n
        self.count += np.bincount(zone, frac, minlength=n)
        self.sum += np.bincount(zone, frac * vals, minlength=n)
        if len(zone):
            np.minimum.at(self.min, zone, vals)
            np.maximum.at(self.max, zone, vals)
        if self.weighted:
            cw = frac * wts
            self.wcount += np.bincount(zone, cw, minlength=n)
            self.wsum += np.bincount(zone, cw * vals, minlength=n)
        if self.histogram and len(zone):
            if self.keys.packed:
                self.hist.append(_factorized(self.keys.encode(zone, raw), frac))
            else:
                self.hist.append(_grouped(zone, vals, frac))

    def merged_histogram(self):
        """(zone, value, Σ coverage) per distinct (zone, value), sorted by zone then value."""
        if not self.hist:
            return np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0)
        if self.keys.packed:
            keys, sums = _factorized(np.concatenate([h[0] for h in self.hist]),
                                     np.concatenate([h[1] for h in self.hist]))
            order = np.argsort(keys)
            z, v = self.keys.decode(keys[order])
            return z, v, sums[order]
        z = np.concatenate([h[0] for h in self.hist])
        v = np.concatenate([h[1] for h in self.hist])
        c = np.concatenate([h[2] for h in self.hist])
        return _grouped(z, v, c)


def _grouped(zone, vals, frac):
    """(zone, value, Σ frac) per distinct (zone, value), sorted by zone then value."""
    order = np.lexsort((vals, zone))
    z, v, f = zone[order], vals[order], frac[order]
    if len(z) == 0:
        return z, v, f
    first = np.r_[True, (z[1:] != z[:-1]) | (v[1:] != v[:-1])]
    starts = np.flatnonzero(first)
    return z[starts], v[starts], np.add.reduceat(f, starts)


def _read_strip(r, band, r0, r1):
    from rasterio.windows import Window

    raw = np.asarray(r.read(band, window=Window(0, r0, r.shape[1], r1 - r0)))
    return raw, valid_mask(raw, r.nodata(band))


def _strip_pairs(cov, r0, r1, width, min_cov):
    zone, row, col, frac = cov.pairs_in_rows(r0, r1)
    keep = (frac >= min_cov) & (frac > 0)
    return zone[keep], (row[keep] - r0) * width + col[keep], frac[keep], row[keep], col[keep]


# ------------------------------------------------------------------------------------ public

def zonal_stats(  # noqa: PLR0913  (keyword options of the public call, as exactextract names them)
        raster: Any, zones: gpd.GeoDataFrame | gpd.GeoSeries, stats: Any = ("count", "sum", "mean"), *,
                weights: Any = None, min_coverage_frac: float = 0.0, default_weight: float | None = None,
                id_col: str = "code", raster_crs: Any = None, band: int = 1) -> pd.DataFrame:
    """Coverage-weighted statistics of a raster in each zone (polygons by area, lines by length).

    Parameters
    ----------
    raster : str, path, rasterio dataset or (array, transform, crs)
        The values (see :func:`~bazhong_geo.zonal.raster.open_raster`).
    zones : geopandas.GeoDataFrame or GeoSeries
        Polygons (any CRS; reprojected to the raster's, edges densified), or lines (roads: each cell counts
        by the length of line inside it, in raster CRS units). Invalid polygons are repaired (``make_valid``,
        warned). A zone mixing polygons and lines counts by its polygons.
    stats : str or sequence of str
        Among :data:`STATISTICS` (see the module docstring for each definition); ``"quantile(q=0.25)"``.
    weights : raster on the same grid, optional
        Second raster for ``weighted_*`` statistics (e.g. people per cell: people-weighted built-up share).
    min_coverage_frac : float
        Leave out cells whose coverage is below this (0–1; as exactextract's ``min_coverage_frac``: a cell
        covered exactly that much counts).
    default_weight : float, optional
        Weight for cells where ``weights`` is nodata (default: such cells make the weighted statistics NaN).
    id_col : str
        Zone id column (returned as ``code``).
    raster_crs : optional
        CRS to assume for a raster that has none.
    band : int
        Band of ``raster`` (and of ``weights``).

    Returns
    -------
    pandas.DataFrame
        ``code``, then one column per statistic in the order asked (quantiles as ``quantile_25``). Zones
        with no valid cell get NaN (``count``, ``sum``, ``variety`` 0). ``attrs["report"]``: ``zone_kind``
        per code ("polygon", "line", "empty"), ``no_valid_codes``, ``repaired_codes``, ``fill_values_as_nodata``.

    Raises
    ------
    InvalidThresholdError
        Unknown statistic, a quantile without q or outside 0–1, ``min_coverage_frac`` outside 0–1,
        ``weighted_*`` without ``weights``.
    GridMismatchError
        ``weights`` on another grid than ``raster``.
    ZoneGeometryError
        A point zone.

    Examples
    --------
    >>> import numpy as np, geopandas as gpd, shapely
    >>> from affine import Affine
    >>> t = Affine(1, 0, 0, 0, -1, 2)
    >>> built = (np.array([[1.0, 0.0], [0.5, 0.5]]), t, "EPSG:4545")    # built-up share per cell
    >>> people = (np.array([[10.0, 0.0], [30.0, 60.0]]), t, "EPSG:4545")
    >>> z = gpd.GeoDataFrame({"code": ["A"]}, geometry=[shapely.box(0, 0, 2, 2)], crs=4545)
    >>> zonal_stats(built, z, ["mean", "weighted_mean"], weights=people).round(4).values.tolist()
    [['A', 0.5, 0.55]]
    >>> road = gpd.GeoDataFrame({"code": ["G1"]}, geometry=[shapely.LineString([(0, 1.5), (2, 1.5)])], crs=4545)
    >>> zonal_stats(built, road, ["count", "mean"]).values.tolist()   # 2 units of road along shares 1 and 0
    [['G1', 2.0, 0.5]]
    """
    import pandas as pd

    specs = [parse_stat(s) for s in ([stats] if isinstance(stats, str) else list(stats))]
    kinds_asked = {k for _, k, _ in specs}
    if not 0.0 <= float(min_coverage_frac) < 1.0:
        raise InvalidThresholdError(f"min_coverage_frac must be in [0, 1), got {min_coverage_frac!r}")
    if kinds_asked & _WEIGHTED and weights is None:
        raise InvalidThresholdError(f"{sorted(kinds_asked & _WEIGHTED)} need weights=<raster on the same grid>")
    with open_raster(raster, crs=raster_crs, north_up=False) as r:
        codes, labels, cov, kinds = _zone_geometries(zones, id_col, r.crs, r.transform, r.shape)
        dtype = np.dtype(r.dataset.dtypes[band - 1])
        acc = _Accumulator(len(codes), bool(kinds_asked & _HISTOGRAM), weights is not None, dtype.kind in "iu",
                           dtype)
        fills = _accumulate(r, weights, band, cov, acc, float(min_coverage_frac), default_weight)
    out = pd.DataFrame({"code": codes})
    hist = acc.merged_histogram() if acc.histogram else None
    for col, kind, q in specs:
        out[col] = _statistic(kind, q, acc, hist)
    report = _report(codes, labels, kinds, acc, fills, r.name)
    out.attrs["report"] = report
    return out


def _accumulate(r, weights, band, cov, acc, min_cov, default_weight):
    """Stream the raster (and weights) strip by strip into the accumulator; returns the fill values found."""
    fills: dict = {}
    with open_raster(weights, crs=r.crs, what="weights raster", north_up=False) if weights is not None \
            else _Nothing() as wr:
        if wr is not None and (wr.shape != r.shape or not wr.transform.almost_equals(r.transform)):
            raise GridMismatchError(
                f"weights raster {wr.name} is on another grid (shape {wr.shape}, transform {tuple(wr.transform)[:6]}) "
                f"than {r.name} (shape {r.shape}, transform {tuple(r.transform)[:6]}); warp it onto the same grid")
        width = r.shape[1]
        for r0, r1 in strips(r.dataset):
            raw, valid = _read_strip(r, band, r0, r1)
            for v, c in fills_found(raw, r.nodata(band)).items():
                fills[v] = fills.get(v, 0) + c
            zone, pos, frac, _, _ = _strip_pairs(cov, r0, r1, width, min_cov)
            raw_at = raw.ravel()[pos]
            flat = raw_at.astype(np.float64)
            ok = np.isfinite(flat) if valid is None else valid.ravel()[pos] & np.isfinite(flat)
            wts = None
            if wr is not None:
                wraw, wvalid = _read_strip(wr, band, r0, r1)
                wts = wraw.ravel()[pos].astype(np.float64)
                bad_w = ~np.isfinite(wts) if wvalid is None else ~wvalid.ravel()[pos] | ~np.isfinite(wts)
                wts[bad_w] = np.nan if default_weight is None else float(default_weight)
                wts = wts[ok]
            acc.add(zone[ok], flat[ok], frac[ok], wts, raw_at[ok])
    return fills


class _Nothing:
    """A context manager yielding None (no weights raster)."""

    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _statistic(kind, q, acc, hist):
    """One statistic per zone from the accumulator (and the histogram)."""
    has = acc.count > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "count":
            return acc.count
        if kind == "sum":
            return acc.sum
        if kind == "mean":
            return np.where(has, acc.sum / acc.count, np.nan)
        if kind in ("min", "max"):
            v = acc.min if kind == "min" else acc.max
            return np.where(has, v, np.nan)
        if kind == "weighted_count":
            return acc.wcount
        if kind == "weighted_sum":
            return acc.wsum
        if kind == "weighted_mean":
            return np.where(has, acc.wsum / acc.wcount, np.nan)
    return _histogram_statistic(kind, q, acc, hist)


def _histogram_statistic(kind, q, acc, hist):
    z, v, c = hist
    n = acc.n
    out = np.full(n, np.nan)
    if kind == "variety":
        return np.bincount(z, minlength=n).astype(np.float64)
    if len(z) == 0:
        return out
    starts = np.flatnonzero(np.r_[True, z[1:] != z[:-1]])
    ends = np.r_[starts[1:], len(z)]
    zs = z[starts]
    if kind in ("majority", "minority"):
        # ties: majority takes the largest value, minority the smallest (exactextract)
        for s, e, zz in zip(starts, ends, zs, strict=True):
            cc, vv = c[s:e], v[s:e]
            out[zz] = vv[np.flatnonzero(cc == cc.max())[-1]] if kind == "majority" else vv[np.argmin(cc)]
        return out
    if kind in ("variance", "stdev", "coefficient_of_variation"):
        mean = np.bincount(z, c * v, minlength=n) / np.where(acc.count > 0, np.bincount(z, c, minlength=n), 1)
        var = np.bincount(z, c * (v - mean[z]) ** 2, minlength=n) / np.where(acc.count > 0, acc.count, 1)
        var = np.where(acc.count > 0, var, np.nan)
        if kind == "variance":
            return var
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.sqrt(var) if kind == "stdev" else np.sqrt(var) / mean
    for s, e, zz in zip(starts, ends, zs, strict=True):
        out[zz] = weighted_quantile(v[s:e], c[s:e], q)
    return np.trunc(out) if acc.integer else out


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Quantile ``q`` of sorted distinct ``values`` with ``weights`` (the interpolated weighted definition).

    With cumulative weights S_k, the k-th value (k = 0..n-1) sits at s_k = k·w_k + (n − 1)·S_(k−1); the
    quantile is interpolated linearly at q·(n − 1)·S_n — the definition exactextract uses (equal weights
    give numpy's default linear quantile).

    >>> weighted_quantile(np.array([1.0, 2.0, 3.0, 4.0]), np.ones(4), 0.25), float(np.quantile([1, 2, 3, 4], 0.25))
    (1.75, 1.75)
    """
    n = len(values)
    if n == 1:
        return float(values[0])
    cum = np.cumsum(weights)
    s = np.empty(n)
    s[0] = 0.0
    s[1:] = np.arange(1, n) * weights[1:] + (n - 1) * cum[:-1]
    target = q * (n - 1) * cum[-1]
    right = int(np.searchsorted(s, target, side="right"))
    if right == 0:
        return float(values[0])
    if right == n:
        return float(values[-1])
    left = right - 1
    return float(values[left] + (target - s[left]) * (values[right] - values[left]) / (s[right] - s[left]))


def _report(codes, labels, kinds, acc, fills, name):
    report = {"raster": name, "zone_kind": dict(zip(codes.tolist(), kinds.tolist(), strict=True))}
    nov = (acc.count <= 0) & (kinds != "empty")
    if kinds.tolist().count("empty"):
        report["empty_codes"] = codes[kinds == "empty"].tolist()
    if nov.any():
        report["no_valid_codes"] = codes[nov].tolist()
        listing = ", ".join(labels[nov][:20].tolist()) + (" ..." if nov.sum() > 20 else "")
        warnings.warn(f"{int(nov.sum())} zone(s) cover no valid cell of {name} (outside it, or only nodata): "
                      f"statistics NaN for {listing} (report['no_valid_codes'])", RasterValueWarning, stacklevel=3)
    if fills:
        report["fill_values_as_nodata"] = fills
        warnings.warn(fill_warning(name, fills), RasterValueWarning, stacklevel=3)
    return report


def zonal_cells(raster: Any, zones: gpd.GeoDataFrame | gpd.GeoSeries, *, weights: Any = None,
                min_coverage_frac: float = 0.0, id_col: str = "code", raster_crs: Any = None,
                band: int = 1) -> pd.DataFrame:
    """Every cell of every zone: value, coverage fraction and cell centre — to check a zone by eye.

    Parameters
    ----------
    raster, zones, weights, min_coverage_frac, id_col, raster_crs, band
        As in :func:`zonal_stats`.

    Returns
    -------
    pandas.DataFrame
        ``code``, ``row``, ``col``, ``x``, ``y`` (cell centre, raster CRS), ``value`` (NaN for nodata),
        ``coverage`` (fraction of the cell inside the zone; for lines the length inside, CRS units)
        (, ``weight``), ``cell_id`` (row × width + col, exactextract's), sorted by zone (input order), row,
        col. Unlike exactextract's ``values``, nodata cells are listed too (value NaN), so a zone's holes show.

    Examples
    --------
    >>> import numpy as np, geopandas as gpd, shapely
    >>> from affine import Affine
    >>> grid = (np.array([[1.0, 2.0], [3.0, 4.0]]), Affine(1, 0, 0, 0, -1, 2), "EPSG:4545")
    >>> zone = gpd.GeoDataFrame({"code": ["A"]}, geometry=[shapely.box(0.5, 1, 2, 2)], crs=4545)
    >>> zonal_cells(grid, zone)[["col", "x", "y", "value", "coverage"]].values.tolist()
    [[0.0, 0.5, 1.5, 1.0, 0.5], [1.0, 1.5, 1.5, 2.0, 1.0]]
    """
    import pandas as pd

    parts = []
    with open_raster(raster, crs=raster_crs, north_up=False) as r:
        codes, _, cov, _ = _zone_geometries(zones, id_col, r.crs, r.transform, r.shape)
        wctx = open_raster(weights, crs=r.crs, what="weights raster", north_up=False) if weights is not None \
            else _Nothing()
        with wctx as wr:
            for r0, r1 in strips(r.dataset):
                raw, valid = _read_strip(r, band, r0, r1)
                zone, pos, frac, row, col = _strip_pairs(cov, r0, r1, r.shape[1], float(min_coverage_frac))
                vals = raw.ravel()[pos].astype(np.float64)
                if valid is not None:
                    vals[~valid.ravel()[pos]] = np.nan
                part = {"zone": zone, "row": row, "col": col, "value": vals, "coverage": frac}
                if wr is not None:
                    wraw, wvalid = _read_strip(wr, band, r0, r1)
                    w = wraw.ravel()[pos].astype(np.float64)
                    if wvalid is not None:
                        w[~wvalid.ravel()[pos]] = np.nan
                    part["weight"] = w
                parts.append(pd.DataFrame(part))
        t, width = r.transform, r.shape[1]
    df = pd.concat(parts, ignore_index=True).sort_values(["zone", "row", "col"], kind="stable")
    df["x"] = t.a * (df["col"] + 0.5) + t.b * (df["row"] + 0.5) + t.c
    df["y"] = t.d * (df["col"] + 0.5) + t.e * (df["row"] + 0.5) + t.f
    df["cell_id"] = df["row"] * width + df["col"]
    df.insert(0, "code", codes[df["zone"].to_numpy()])
    cols = ["code", "row", "col", "x", "y", "value", "coverage"] + (["weight"] if "weight" in df else []) + ["cell_id"]
    return df[cols].reset_index(drop=True)

