"""Degree of Urbanisation (GHSL, levels 1 and 2) on 1 km grids and units, and NBS urban-rural urbanization rates.

Two ways of measuring how urban Bazhong is:

* :func:`degurba` and :func:`classify_units` apply the Degree of Urbanisation (DEGURBA), the UN Statistical
  Commission's harmonised method (European Commission, FAO, UN-Habitat, ILO, OECD, World Bank, *Applying the
  Degree of Urbanisation — A methodological manual to define cities, towns and rural areas for international
  comparisons*, 2021 edition; GHSL Data Package 2023/2024 for the level-2 grid classes GHS-SMOD 30…10) to a
  population grid: 1 km² cells are classified by density per km² of permanent land, contiguity and cluster
  population, then spatial units (counties, townships) by the share of their population in each cell class.
* :func:`urbanization_rate` and :func:`census_urbanization` apply China's official rule: the NBS urban-rural
  classification codes of village-level units (国函〔2008〕60号, 统计上划分城乡的规定): 111 主城区, 112 城乡结合区,
  121 镇中心区, 122 镇乡结合区, 123 特殊区域 are urban; 210 乡中心区, 220 村庄 are rural. The urbanization rate
  (常住人口城镇化率) is the resident population of urban units over the total.

The two measure different things (a morphological grid definition versus an administrative one) and are not
expected to agree; both are useful for the plan's 45 % target.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ._errors import (
    DuplicateCodeError,
    EmptyInputError,
    GridMismatchError,
    InvalidPopulationError,
    InvalidThresholdError,
    MissingColumnError,
    MissingCRSError,
    MissingPopulationError,
    RasterValueWarning,
    UnknownUrbanRuralCodeError,
    UnsupportedGridError,
)
from .zonal.areas import CellArea, area_km2
from .zonal.coverage import compute_coverage
from .zonal.raster import open_raster
from .zonal.strips import fill_mask, fill_warning, fills_found
from .zonal.zones import polygon_zones, repair_zones

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    import pandas as pd

__all__ = [
    "LEVEL1_CLASSES",
    "LEVEL2_CLASSES",
    "MOLLWEIDE",
    "NBS_RURAL_CODES",
    "NBS_URBAN_CODES",
    "UNIT_CLASSES_L1",
    "UNIT_CLASSES_L2",
    "DegurbaGrid",
    "DegurbaThresholds",
    "aggregate_to_km_grid",
    "census_urbanization",
    "classify_units",
    "degurba",
    "urbanization_rate",
]

MOLLWEIDE = "ESRI:54009"
"""World Mollweide, the equal-area CRS of the GHSL 1 km grids; the target of exact aggregation."""

LEVEL1_CLASSES = {3: "urban_centre", 2: "urban_cluster", 1: "rural"}
"""Level-1 grid classes (0 = off-grid / no data)."""

LEVEL2_CLASSES = {
    30: "urban_centre",
    23: "dense_cluster",
    22: "semidense_cluster",
    21: "suburban",
    13: "rural_cluster",
    12: "low_density_rural",
    11: "very_low_density_rural",
    10: "water",
}
"""Level-2 grid classes with their GHS-SMOD codes (0 = off-grid / no data)."""

UNIT_CLASSES_L1 = {3: "city", 2: "town_or_semi_dense_area", 1: "rural_area"}
UNIT_CLASSES_L2 = {
    30: "city",
    23: "dense_town",
    22: "semi_dense_town",
    21: "suburban_or_peri_urban_area",
    13: "village",
    12: "dispersed_rural_area",
    11: "mostly_uninhabited_area",
}

NBS_URBAN_CODES = {"111": "主城区", "112": "城乡结合区", "121": "镇中心区", "122": "镇乡结合区", "123": "特殊区域"}
NBS_RURAL_CODES = {"210": "乡中心区", "220": "村庄"}

_ROOK = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], dtype=bool)
_QUEEN = np.ones((3, 3), dtype=bool)
_EPS = 1e-9


# ============================================================================================== raster input

def _is_raster_tuple(obj) -> bool:
    return isinstance(obj, (tuple, list)) and len(obj) == 3 and hasattr(obj[0], "shape")


def _read_raster(src, what: str, *, nodata=None):
    """Read a raster-like input (the zonal engine's opener) -> (values float64, valid bool, transform, crs, label)."""
    from rasterio.crs import CRS

    with open_raster(src, what=what, north_up=True, crs_arg=None) as r:  # a rotated grid: named in the error
        band = np.ma.asarray(r.read(1, masked=True))
        values = np.asarray(band.filled(np.nan) if np.ma.is_masked(band) else band.data, dtype="float64")
        valid = ~np.ma.getmaskarray(band) & np.isfinite(values)
        if nodata is not None:
            valid &= values != nodata
        fills = fills_found(np.ma.getdata(band), r.nodata(1)) if nodata is None else {}
        if fills:  # no declared nodata: typical fill values are nodata, said aloud
            valid &= ~fill_mask(np.ma.getdata(band))
            warnings.warn(fill_warning(r.name, fills), RasterValueWarning, stacklevel=4)
        crs = r.dataset.crs if isinstance(r.dataset.crs, CRS) else CRS.from_wkt(r.crs.to_wkt())
        return values, valid, r.transform, crs, r.name


def _read_aligned(src, what, shape, transform, crs):
    """An auxiliary layer (land share, built-up share, water mask) on the population's own grid."""
    if src is None:
        return None
    if isinstance(src, np.ndarray) and not _is_raster_tuple(src):
        arr = np.ma.asarray(src)
        if arr.shape != shape:
            raise GridMismatchError(
                f"{what}: array shape {arr.shape} differs from the population grid {shape}; "
                "pass a layer on the same grid as the population"
            )
        return np.asarray(arr.filled(np.nan) if np.ma.is_masked(arr) else arr.data, dtype="float64")
    values, valid, tr, c, label = _read_raster(src, what)
    if values.shape != shape or not tr.almost_equals(transform) or (crs is not None and c != crs):
        raise GridMismatchError(
            f"{what}: raster {label!r} (shape {values.shape}, transform {tuple(tr)[:6]}, CRS {c}) is not on the "
            f"population grid (shape {shape}, transform {tuple(transform)[:6]}, CRS {crs}); resample it first"
        )
    return np.where(valid, values, np.nan)


# ============================================================================================== aggregation

@dataclasses.dataclass
class _KmGrid:
    population: np.ndarray      # people per 1 km cell
    land_km2: np.ndarray        # km² of permanent land with data in the cell
    valid: np.ndarray           # cell has data
    means: dict                 # area-weighted means of auxiliary shares (built-up, water)
    transform: Any
    crs: Any
    cell_km2: float
    method: str
    data_km2: np.ndarray = None  # km² of the cell covered by valid input cells (land or water)


def _fine_cell_area_m2(transform, crs, shape) -> np.ndarray:
    """True (ellipsoidal) m² of every cell of a grid: the zonal engine's cell areas, as builtup uses.

    (rows, cols), or (rows, 1) where the area depends on the row only (it broadcasts).
    """
    return _cell_area(transform, crs, shape).grid(compact=True)


def _cell_area(transform, crs, shape) -> CellArea:
    return CellArea(_pyproj(crs), transform, shape)


def _pyproj(crs):
    from pyproj import CRS

    return CRS.from_user_input(crs.to_wkt() if hasattr(crs, "to_wkt") and not isinstance(crs, CRS) else crs)


def _metres(crs) -> float | None:
    if not crs.is_projected:
        return None
    try:
        return float(crs.linear_units_factor[1])
    except Exception:  # pragma: no cover - exotic CRS without units
        return None


def aggregate_to_km_grid(  # noqa: PLR0913  (keyword options of the public call)
        values: np.ndarray, valid: np.ndarray, transform: Any, crs: Any, *, land_share: np.ndarray | None = None,
        means: dict | None = None, data_means: dict | None = None, cell_size_m: float = 1000.0,
        target_crs: Any = MOLLWEIDE) -> _KmGrid:
    """Aggregate a population grid exactly onto a grid of ``cell_size_m`` cells (population conserved).

    Three cases, chosen from the input grid:

    * already ``cell_size_m`` cells in a projected CRS: used as is;
    * a projected, axis-aligned grid whose cell size divides ``cell_size_m`` (e.g. 100 m): block sums, blocks
      aligned to multiples of ``cell_size_m`` in that CRS where the grid allows;
    * anything else (EPSG:4326 WorldPop, non-nested grids): each target cell of a ``cell_size_m`` grid in
      ``target_crs`` (Mollweide, as GHSL) is turned into a polygon in the source CRS and the exact coverage
      fraction of every source cell by every target cell is computed by the zonal engine (exact, as exactextract
      defines it); the population of a
      source cell is shared out by those fractions. The target cells tile the plane, so the fractions of each
      source cell sum to 1 and population in = population out (to float rounding).

    Parameters
    ----------
    values, valid : ndarray
        People per source cell and its data mask (invalid cells count as 0 people and no land).
    transform, crs : affine.Affine, rasterio CRS
        The source grid.
    land_share : ndarray, optional
        Share 0–1 of permanent land per source cell (default 1).
    means : dict of name -> ndarray, optional
        Shares 0–1 (e.g. built-up per land) averaged over the land-with-data area of each target cell.
    data_means : dict of name -> ndarray, optional
        Shares 0–1 (e.g. water) averaged over the area with data of each target cell, land or not.
    cell_size_m : float
        Target cell size in metres (1000 for the Degree of Urbanisation).
    target_crs : str
        Equal-area CRS of the target grid in the exact case.

    Returns
    -------
    _KmGrid
        population, land_km2, valid, means, transform, crs, cell_km2, method ("as_is" | "block_sum" | "exact").

    Examples
    --------
    >>> from affine import Affine
    >>> from rasterio.crs import CRS
    >>> pop = np.ones((20, 20))
    >>> g = aggregate_to_km_grid(pop, pop > 0, Affine(100, 0, 0, 0, -100, 2000), CRS.from_epsg(32648))
    >>> g.population.shape, float(g.population.sum()), g.method
    ((2, 2), 400.0, 'block_sum')
    """
    from rasterio.crs import CRS

    if transform.b != 0 or transform.d != 0 or transform.a <= 0 or transform.e >= 0:
        raise UnsupportedGridError(
            f"population grid transform {tuple(transform)[:6]} is rotated or not north-up; warp it to a north-up grid"
        )
    all_valid = bool(valid.all())
    values = values.copy() if all_valid else np.where(valid, values, 0.0)
    if land_share is None:
        land = valid.astype("float64")
    else:
        land = np.clip(np.where(np.isfinite(land_share), land_share, 0.0), 0.0, 1.0)
        if not all_valid:
            land *= valid
    specs = [(k, v, False) for k, v in (means or {}).items()] + [(k, v, True) for k, v in (data_means or {}).items()]
    unit = _metres(crs)
    tol = 1e-6 * cell_size_m

    if unit is not None:
        dx, dy = transform.a * unit, -transform.e * unit
        if abs(dx - cell_size_m) < tol and abs(dy - cell_size_m) < tol:
            cell_km2 = dx * dy / 1e6
            true_km2 = _fine_cell_area_m2(transform, crs, values.shape) / 1e6
            land *= true_km2
            m = {k: np.where((valid if by_data else land > 0), np.nan_to_num(v), np.nan) for k, v, by_data in specs}
            return _KmGrid(values, land, valid.copy(), m, transform, crs, cell_km2, "as_is", valid * true_km2)
        fx, fy = cell_size_m / dx, cell_size_m / dy
        if fx > 1 and fy > 1 and abs(fx - round(fx)) < 1e-6 and abs(fy - round(fy)) < 1e-6:
            return _block_sum(_Fine(values, valid, land, specs, transform, crs), round(fx), round(fy), unit,
                              cell_size_m)
    return _exact_aggregate(_Fine(values, valid, land, specs, transform, crs), cell_size_m,
                            CRS.from_user_input(target_crs))


@dataclasses.dataclass(frozen=True)
class _Fine:
    """The fine input grid of an aggregation: values, validity, land share, auxiliary layers, grid."""

    values: np.ndarray
    valid: np.ndarray
    land: np.ndarray
    specs: list
    transform: Any
    crs: Any


def _block_sum(fine: _Fine, fx, fy, unit, cell_size_m):
    from affine import Affine

    values, valid, land, specs = fine.values, fine.valid, fine.land, fine.specs  # noqa: PD011  (a dataclass field)
    transform, crs = fine.transform, fine.crs
    h, w = values.shape
    size = cell_size_m / unit  # target cell size in CRS units
    # align blocks to multiples of the target cell size where the fine grid allows it
    off_x = (transform.c % size) / transform.a
    pad_left = (round(off_x) % fx) if abs(off_x - round(off_x)) < 1e-6 else 0
    off_y = ((-transform.f) % size) / (-transform.e)
    pad_top = (round(off_y) % fy) if abs(off_y - round(off_y)) < 1e-6 else 0
    H = -(-(h + pad_top) // fy) * fy
    W = -(-(w + pad_left) // fx) * fx

    def blocks(a, fill=0.0):
        p = np.full((H, W), fill, dtype="float64")
        p[pad_top:pad_top + h, pad_left:pad_left + w] = a
        return p.reshape(H // fy, fy, W // fx, fx).sum(axis=(1, 3))

    fine_km2 = transform.a * -transform.e * unit * unit / 1e6
    true_km2 = _fine_cell_area_m2(transform, crs, values.shape) / 1e6
    pop = blocks(values)
    land_km2 = blocks(land * true_km2)
    data_km2 = blocks(valid * true_km2)
    valid_k = data_km2 > 0
    m = {}
    for k, v, by_data in specs:
        den = data_km2 if by_data else land_km2
        num = blocks(np.nan_to_num(v) * (valid if by_data else land) * true_km2)
        m[k] = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
    tr = Affine(transform.a * fx, 0, transform.c - pad_left * transform.a,
                0, transform.e * fy, transform.f - pad_top * transform.e)
    return _KmGrid(pop, land_km2, valid_k, m, tr, crs, fine_km2 * fx * fy, "block_sum", data_km2)


def _exact_aggregate(fine: _Fine, cell_size_m, target):
    import shapely
    from affine import Affine
    from pyproj import Transformer
    from rasterio.warp import transform_bounds

    values, valid, land, specs = fine.values, fine.valid, fine.land, fine.specs  # noqa: PD011  (a dataclass field)
    transform, crs = fine.transform, fine.crs
    h, w = values.shape
    left, top = transform.c, transform.f
    right, bottom = left + w * transform.a, top + h * transform.e
    xmin, ymin, xmax, ymax = transform_bounds(crs, target, left, bottom, right, top, densify_pts=101)
    s = cell_size_m
    x0, x1 = np.floor(xmin / s) * s, np.ceil(xmax / s) * s
    y0, y1 = np.floor(ymin / s) * s, np.ceil(ymax / s) * s
    ncol, nrow = round((x1 - x0) / s), round((y1 - y0) / s)
    # corner lattice of the target grid, transformed once (shared corners => the polygons tile exactly)
    cx = x0 + s * np.arange(ncol + 1)
    cy = y1 - s * np.arange(nrow + 1)
    gx, gy = np.meshgrid(cx, cy)
    tf = Transformer.from_crs(target, crs, always_xy=True)
    sx, sy = tf.transform(gx, gy)
    ring = np.stack(
        [
            np.stack([sx[:-1, :-1], sx[:-1, 1:], sx[1:, 1:], sx[1:, :-1], sx[:-1, :-1]], axis=-1),
            np.stack([sy[:-1, :-1], sy[:-1, 1:], sy[1:, 1:], sy[1:, :-1], sy[:-1, :-1]], axis=-1),
        ],
        axis=-1,
    ).reshape(-1, 5, 2)
    ok = np.isfinite(ring).all(axis=(1, 2))
    bx0, bx1 = ring[..., 0].min(axis=1), ring[..., 0].max(axis=1)
    by0, by1 = ring[..., 1].min(axis=1), ring[..., 1].max(axis=1)
    ok &= (bx1 > left) & (bx0 < right) & (by1 > bottom) & (by0 < top)
    tids = np.flatnonzero(ok)
    pop = np.zeros(nrow * ncol)
    land_m2 = np.zeros(nrow * ncol)
    data_m2 = np.zeros(nrow * ncol)
    sums = {k: np.zeros(nrow * ncol) for k, _, _ in specs}
    if tids.size:
        zone, row, col, cov = compute_coverage(shapely.polygons(ring[tids]), transform, (h, w)).pairs()
        tid = tids[zone]
        cid = row * w + col
        # The target cells tile the source footprint, so each source cell's fractions add up to 1 (to ~1e-12);
        # rescale those sums to exactly 1 (population then balances to float rounding).
        colsum = np.bincount(cid, cov, minlength=h * w)[cid]
        cov = np.where(np.abs(colsum - 1.0) < 1e-6, cov / colsum, cov)
        area = _cell_area(transform, crs, (h, w)).at(row, col)
        n = nrow * ncol
        pop = np.bincount(tid, cov * values.ravel()[cid], minlength=n)
        wl = cov * area * land.ravel()[cid]
        land_m2 = np.bincount(tid, wl, minlength=n)
        wd = cov * area * valid.ravel()[cid]
        data_m2 = np.bincount(tid, wd, minlength=n)
        for k, v, by_data in specs:
            sums[k] = np.bincount(tid, (wd if by_data else wl) * np.nan_to_num(v).ravel()[cid], minlength=n)
    shape = (nrow, ncol)
    land_km2 = (land_m2 / 1e6).reshape(shape)
    m = {}
    for k, _, by_data in specs:
        den = data_m2 if by_data else land_m2
        m[k] = np.where(den > 0, sums[k] / np.where(den > 0, den, 1), np.nan).reshape(shape)
    tr = Affine(s, 0, x0, 0, -s, y1)
    return _KmGrid(pop.reshape(shape), land_km2, (data_m2 > 0).reshape(shape), m, tr, target, s * s / 1e6, "exact",
                   (data_m2 / 1e6).reshape(shape))


# ============================================================================================== DEGURBA core

def _clusters(mask, structure, population, min_population):
    """Cells of ``mask`` in contiguous groups (by ``structure``) holding at least ``min_population`` people."""
    from scipy import ndimage

    lab, n = ndimage.label(mask, structure=structure)
    out = np.zeros(mask.shape, bool)
    if n == 0:
        return out, lab, np.zeros(1)
    idx = np.flatnonzero(lab)  # only the labelled cells: cost follows the mask, not the grid
    lab_i = lab.ravel()[idx]
    sums = np.bincount(lab_i, weights=population.ravel()[idx], minlength=n + 1)
    keep = sums >= min_population - 1e-9 * max(1.0, min_population)
    keep[0] = False
    out.ravel()[idx] = keep[lab_i]
    return out, lab, sums


def _fill_gaps(centre, allowed, cell_km2, max_gap_km2):
    """Fill gaps (rook-connected non-centre areas enclosed by centre cells) smaller than ``max_gap_km2``.

    Holes are searched inside each centre's bounding box (padded with an "outside" ring), so the work follows
    the size of the centres, not of the grid. Other centres' cells inside a box count as centre, so a gap
    enclosed by two touching-box centres is found too.
    """
    from scipy import ndimage

    lab, n = ndimage.label(centre, structure=_QUEEN)
    out = centre.copy()
    if n == 0:
        return out
    for sl in ndimage.find_objects(lab):  # one small window per centre (tens of them), vectorised inside
        sub = np.pad(centre[sl], 1)        # the padding ring is "outside"
        blab, nb = ndimage.label(~sub, structure=_ROOK)
        if nb <= 1:
            continue
        sizes = np.bincount(blab.ravel(), minlength=nb + 1) * cell_km2
        hole = sizes < max_gap_km2 - 1e-9
        hole[0] = False
        hole[blab[0, 0]] = False
        fill = hole[blab][1:-1, 1:-1] & allowed[sl]
        out[sl] |= fill
    return out


def _majority_smooth(centre, allowed, k):
    """Iterative conditional majority rule: a cell with >= k of its 8 neighbours in a centre joins; until stable.

    Synchronous updates, as a 3×3 convolution applied repeatedly would do, but after the first pass only the
    neighbours of cells that just joined are re-examined (sparse flat-index arithmetic).
    """
    h, w = centre.shape
    W = w + 2
    p = np.zeros((h + 2, w + 2), np.uint8)
    p[1:-1, 1:-1] = centre
    a = np.zeros((h + 2, w + 2), bool)
    a[1:-1, 1:-1] = allowed
    counts = (p[:-2, :-2] + p[:-2, 1:-1] + p[:-2, 2:] + p[1:-1, :-2] + p[1:-1, 2:]
              + p[2:, :-2] + p[2:, 1:-1] + p[2:, 2:])
    flat = p.ravel()
    aflat = a.ravel()
    new = np.flatnonzero(((counts >= k) & (p[1:-1, 1:-1] == 0) & allowed).ravel())
    new = (new // w + 1) * W + (new % w + 1)  # to padded flat index
    offs = np.array([-W - 1, -W, -W + 1, -1, 1, W - 1, W, W + 1])
    iterations = 0
    while new.size:
        iterations += 1
        flat[new] = 1
        cand = np.unique((new[:, None] + offs).ravel())
        cand = cand[(flat[cand] == 0) & aflat[cand]]
        if cand.size == 0:
            break
        cnt = flat[cand[:, None] + offs].sum(axis=1)
        new = cand[cnt >= k]
    return p[1:-1, 1:-1].astype(bool)


def _near(mask, candidates, radius_cells):
    """For cells in ``candidates``, whether a ``mask`` cell lies within ``radius_cells`` (centre-to-centre).

    Equivalent to ``scipy.ndimage.distance_transform_edt(~mask) <= radius_cells`` at those cells, computed only
    where it is needed (a disk of offsets over flat indices).
    """
    h, w = mask.shape
    r = int(np.floor(radius_cells + 1e-9))
    idx = np.flatnonzero(candidates.ravel())
    out = np.zeros(h * w, bool)
    if idx.size == 0 or not mask.any():
        return out.reshape(h, w)
    W = w + 2 * r
    p = np.zeros((h + 2 * r, W), bool)
    p[r:r + h, r:r + w] = mask
    flat = p.ravel()
    dy, dx = np.mgrid[-r:r + 1, -r:r + 1]
    disk = dy**2 + dx**2 <= radius_cells**2 + 1e-9
    offs = (dy[disk] * W + dx[disk]).astype(np.int64)
    pidx = (idx // w + r) * W + (idx % w + r)
    hit = np.zeros(idx.size, bool)
    for o in offs:  # a handful of offsets (13 for 2 cells), each vectorised over all candidates
        hit |= flat[pidx + o]
    out[idx] = hit
    return out.reshape(h, w)


DENSITY_BASES = ("cell", "true")
"""How Degree-of-Urbanisation densities count area: per nominal grid cell (GHSL) or per true km²."""


@dataclasses.dataclass(frozen=True)
class DegurbaThresholds:
    """The thresholds of the Degree of Urbanisation (levels 1 and 2), with the official values as defaults.

    Sources: European Commission et al., *Applying the Degree of Urbanisation — A methodological manual to define
    cities, towns and rural areas for international comparisons*, 2021 edition (the "manual"), ch. 2 and Annex;
    GHSL Data Package 2023/2024 for the level-2 GHS-SMOD classes, as documented by flexurba (Van Migerode et al.
    2024) ("GHSL"). Densities are people per km² of permanent land; contiguity is 4 (rook) or 8 (queen).

    Attributes
    ----------
    centre_density : float
        1,500 per km²: urban-centre cells (manual, 2.2).
    centre_population : float
        50,000 people per urban centre (manual, 2.2).
    centre_contiguity : int
        4: centre cells join by edges only, "diagonals not included" (manual, 2.2).
    centre_max_gap_km2 : float
        15 km²: enclosed gaps smaller than this are filled (GHSL: "<15 km2 holes filled").
    centre_smoothing : bool
        True: smooth the centre's edges by the iterative majority rule (manual, 2.2; GHSL "3-by-3 conditional
        majority filtering").
    centre_majority : int
        5 of the 8 neighbours add a cell to the centre in the smoothing (manual, 2.2).
    builtup_centre_share, builtup_dense_share : float or None
        0.5: cells at least half built up (of their permanent land) also qualify as centre / dense-cluster cells
        where a built-up layer is given (manual 2021; GHSL R2023A uses a lower share, flexurba's default 0.2).
        None turns the rule off.
    cluster_density, cluster_population, cluster_contiguity : float, float, int
        300 per km², 5,000 people, 8 (queen, "including the diagonals"): urban clusters (manual, 2.3; Eurostat
        glossary).
    dense_cluster_density, dense_cluster_population, dense_cluster_contiguity : float, float, int
        1,500 per km², 5,000 people, 4: dense urban clusters, level-2 class 23 (GHSL).
    semidense_density, semidense_population, semidense_contiguity : float, float, int
        900 per km², 2,500 people, 4: semi-dense urban clusters, class 22 (GHSL).
    semidense_exclusion_km : float
        2 km: a semi-dense cluster with a cell within this distance (cell centres) of an urban centre or dense
        cluster is suburban (21) instead (GHSL).
    rural_cluster_density, rural_cluster_population, rural_cluster_contiguity : float, float, int
        300 per km², 500 people, 8: rural clusters, class 13 (GHSL).
    low_density : float
        50 per km²: low-density rural (12) versus very-low-density rural (11) (GHSL).
    water_land_share : float
        0.5: a rural cell with less than half permanent land, no people and no built-up area is water, 10 (GHSL).
    water_population : float
        0: the most people a water cell may hold (GHSL: none).
    water_mask_share : float
        0.5: with a water mask, a cell at least this share water is water (our rule, mirroring water_land_share).
    cell_size_m : float
        1,000 m: the method's grid cell (manual, 2.1).
    density_basis : {"cell", "true"}
        "cell" (default, GHSL): densities are people per km² of permanent land counted in *nominal* grid
        cells — a 1 km cell of the grid's projection is 1 km², as GHSL and flexurba count it (GHS-SMOD's
        Mollweide cells are spherical, 0.99777 true km² at Bazhong's latitude). "true": people per true
        ellipsoidal km² of land. Areas reported (``land_km2``, ``summary``, ``urban_areas``) are true km²
        either way.
    nodata_water : bool
        True (default, GHSL): a cell with no population data whose permanent land share (``land_share``) or
        water mask says it is water holds 0 people and is classed water (10), as GHS-SMOD classes open
        water without population data. False: such cells stay off-grid (0), nothing assumed.
    dense_cluster_counts_centre : bool
        False (default, the GHSL manual's reading): a dense urban cluster's 5,000 people are counted in its
        own cells, outside urban centres — a dense urban cluster is a *town* distinct from the city. True:
        flexurba's implementation, where the population of an urban centre adjacent (rook) to the candidate
        cells counts toward the 5,000, so a city's dense fringe of any size becomes class 23.

    Examples
    --------
    >>> DegurbaThresholds().centre_density
    1500.0
    >>> DegurbaThresholds(cluster_contiguity=6)
    Traceback (most recent call last):
    ...
    bazhong_geo._errors.InvalidThresholdError: cluster_contiguity=6: contiguity must be 4 (rook) or 8 (queen)
    """

    centre_density: float = 1500.0
    centre_population: float = 50_000.0
    centre_contiguity: int = 4
    centre_max_gap_km2: float = 15.0
    centre_smoothing: bool = True
    centre_majority: int = 5
    builtup_centre_share: float | None = 0.5
    builtup_dense_share: float | None = 0.5
    cluster_density: float = 300.0
    cluster_population: float = 5_000.0
    cluster_contiguity: int = 8
    dense_cluster_density: float = 1500.0
    dense_cluster_population: float = 5_000.0
    dense_cluster_contiguity: int = 4
    semidense_density: float = 900.0
    semidense_population: float = 2_500.0
    semidense_contiguity: int = 4
    semidense_exclusion_km: float = 2.0
    rural_cluster_density: float = 300.0
    rural_cluster_population: float = 500.0
    rural_cluster_contiguity: int = 8
    low_density: float = 50.0
    water_land_share: float = 0.5
    water_population: float = 0.0
    water_mask_share: float = 0.5
    cell_size_m: float = 1000.0
    density_basis: str = "cell"
    nodata_water: bool = True
    dense_cluster_counts_centre: bool = False

    def __post_init__(self):
        if self.density_basis not in DENSITY_BASES:
            raise InvalidThresholdError(
                f"density_basis={self.density_basis!r}: must be 'cell' (people per nominal km² of grid cell, GHSL) "
                f"or 'true' (people per true ellipsoidal km²)")
        for k, v in dataclasses.asdict(self).items():
            if k == "density_basis":
                continue
            if k.endswith("_contiguity"):
                if v not in (4, 8):
                    raise InvalidThresholdError(f"{k}={v!r}: contiguity must be 4 (rook) or 8 (queen)")
            elif isinstance(v, bool) or v is None:
                continue
            elif not isinstance(v, (int, float)) or not np.isfinite(v) or v < 0:
                raise InvalidThresholdError(f"{k}={v!r}: must be a finite number >= 0")
        if not 1 <= self.centre_majority <= 8:
            raise InvalidThresholdError(f"centre_majority={self.centre_majority!r}: must be 1..8 of the 8 neighbours")
        if self.cell_size_m <= 0:
            raise InvalidThresholdError(f"cell_size_m={self.cell_size_m!r}: must be > 0")


@dataclasses.dataclass
class DegurbaGrid:
    """A Degree-of-Urbanisation grid: 1 km² cells with their level-1 and level-2 classes.

    Attributes
    ----------
    level1 : ndarray of uint8
        3 urban centre, 2 urban cluster (outside centres), 1 rural; 0 off-grid / no data.
    level2 : ndarray of uint8
        GHS-SMOD codes 30 urban centre, 23 dense urban cluster, 22 semi-dense urban cluster, 21 suburban or
        peri-urban, 13 rural cluster, 12 low density rural, 11 very low density rural, 10 water; 0 off-grid.
    density : ndarray of float64
        People per km² of permanent land.
    population : ndarray of float64
        People per cell (the aggregated input; sums to the input's total).
    land_km2 : ndarray of float64
        Permanent land with data per cell, km².
    valid : ndarray of bool
        Cells with data.
    transform, crs
        The 1 km grid (rasterio Affine and CRS).
    cell_km2 : float
        Cell area, km².
    method : str
        How the 1 km grid was made: "as_is", "block_sum" or "exact".
    thresholds : DegurbaThresholds
        The thresholds used.
    """

    level1: np.ndarray
    level2: np.ndarray
    density: np.ndarray
    population: np.ndarray
    land_km2: np.ndarray
    valid: np.ndarray
    transform: Any
    crs: Any
    cell_km2: float
    method: str
    thresholds: DegurbaThresholds

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols) of the grid."""
        return self.level1.shape

    def cell_area_km2(self) -> np.ndarray:
        """True (ellipsoidal) km² of every cell, the same km² as builtup and :func:`bazhong_geo.crs.area_km2`."""
        return _cell_area(self.transform, self.crs, self.shape).grid() / 1e6

    def summary(self) -> pd.DataFrame:
        """Cells and population per level-2 class (DataFrame, one row per class, GHS-SMOD code order)."""
        import pandas as pd

        codes = np.array(sorted(LEVEL2_CLASSES, reverse=True))
        cells = np.bincount(self.level2.ravel(), minlength=31)[codes]
        km2 = np.bincount(self.level2.ravel(), weights=self.cell_area_km2().ravel(), minlength=31)[codes]
        pop = np.bincount(self.level2.ravel(), weights=self.population.ravel(), minlength=31)[codes]
        total = pop.sum()
        return pd.DataFrame({
            "code": codes,
            "class": [LEVEL2_CLASSES[c] for c in codes],
            "level1": [3 if c == 30 else 2 if c >= 21 else 1 for c in codes],
            "cells": cells.astype(int),
            "area_km2": km2,
            "population": pop,
            "share": pop / total if total > 0 else np.nan,
        })

    def urban_areas(self) -> gpd.GeoDataFrame:
        """Urban centres and urban clusters as polygons (GeoDataFrame in the grid's CRS).

        Centres are the rook-connected groups of level-1 class 3; clusters the queen-connected groups of classes
        2–3 (so a cluster's population includes the centre it contains, as in the GHSL urban-cluster layer).

        Returns
        -------
        geopandas.GeoDataFrame
            ``kind`` ("urban_centre" | "urban_cluster"), ``id`` (1.. per kind, largest population first),
            ``population``, ``area_km2`` (true km² of the cells), ``cells``, ``geometry`` (cell outlines dissolved).
        """
        import geopandas as gpd
        import pandas as pd
        import shapely
        from rasterio.features import shapes
        from scipy import ndimage

        frames = []
        cell_km2 = self.cell_area_km2()
        for kind, mask, struct in (("urban_centre", self.level1 == 3, _ROOK),
                                   ("urban_cluster", self.level1 >= 2, _QUEEN)):
            lab, n = ndimage.label(mask, structure=struct)
            if n == 0:
                continue
            idx = np.flatnonzero(lab)
            li = lab.ravel()[idx]
            pop = np.bincount(li, weights=self.population.ravel()[idx], minlength=n + 1)[1:]
            cells = np.bincount(li, minlength=n + 1)[1:]
            km2 = np.bincount(li, weights=cell_km2.ravel()[idx], minlength=n + 1)[1:]
            # rasterio traces 4-connected regions; dissolving by label joins diagonal-only pieces of a cluster
            parts = [(shapely.geometry.shape(g), int(v))
                     for g, v in shapes(lab.astype(np.int32), mask=mask, connectivity=4, transform=self.transform)]
            gs = gpd.GeoDataFrame({"label": [v for _, v in parts]}, geometry=[g for g, _ in parts], crs=self.crs)
            geom = gs.dissolve(by="label").geometry.reindex(np.arange(1, n + 1))
            order = np.lexsort((np.arange(n), -pop))
            frames.append(gpd.GeoDataFrame({
                "kind": kind,
                "id": np.arange(1, n + 1),
                "population": pop[order],
                "area_km2": km2[order],
                "cells": cells[order],
            }, geometry=geom.to_numpy()[order], crs=self.crs))
        if not frames:
            return gpd.GeoDataFrame({"kind": [], "id": [], "population": [], "area_km2": [], "cells": []},
                                    geometry=[], crs=self.crs)
        return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=self.crs)

    def to_geotiff(self, path: str | os.PathLike, *, layers: Sequence[str] = ("level1", "level2")) -> str:
        """Write the grid to a GeoTIFF, one band per layer (uint8 bands with nodata 0, float bands with NaN).

        Parameters
        ----------
        path : str or PathLike
            Output file.
        layers : sequence of str
            Any of "level1", "level2", "density", "population", "land_km2"; band descriptions carry the names.

        Returns
        -------
        str
            The path written.
        """
        import rasterio

        arrays = [getattr(self, name) for name in layers]
        is_int = all(name in ("level1", "level2") for name in layers)
        dtype = "uint8" if is_int else "float64"
        nodata = 0 if is_int else np.nan
        out = [a.astype(dtype) if is_int else np.where(self.valid, a, np.nan).astype(dtype) for a in arrays]
        profile = {"driver": "GTiff", "width": self.shape[1], "height": self.shape[0], "count": len(out),
                   "dtype": dtype,
                       "crs": self.crs, "transform": self.transform, "nodata": nodata, "compress": "deflate"}
        with rasterio.open(path, "w", **profile) as dst:
            for i, (name, a) in enumerate(zip(layers, out, strict=False), start=1):
                dst.write(a, i)
                dst.set_band_description(i, name)
        return os.fspath(path)


def degurba(
    population: Any,
    *,
    builtup: Any = None,
    land_share: Any = None,
    water_mask: Any = None,
    nodata: float | None = None,
    thresholds: DegurbaThresholds = DegurbaThresholds(),  # frozen: one shared default is safe
    target_crs: str = MOLLWEIDE,
) -> DegurbaGrid:
    """Classify a population grid by the Degree of Urbanisation, levels 1 and 2.

    The rules (defaults are the official values, in :class:`DegurbaThresholds`; *Applying the Degree of
    Urbanisation*, 2021 edition, ch. 2 and
    Annex; GHSL Data Package 2023/2024 for the level-2 GHS-SMOD classes):

    Level 1

    * **Urban centre** (3): cells with a density of at least 1,500 inhabitants per km² of permanent land
      (``centre_density``) — and, where a built-up layer is given, cells that are at least 50 % built up
      (``builtup_centre_share``, the GHSL addition) — grouped by 4-point (rook) contiguity, "diagonals not
      included"; groups of at least 50,000 inhabitants (``centre_population``) are kept; "gaps" (enclosed
      non-centre areas) smaller than 15 km² are filled (``centre_max_gap_km2``); edges are smoothed with an
      iterative majority rule: a cell with at least 5 of its 8 neighbours in the centre is added, repeated until
      no cell is added (``centre_majority``).
    * **Urban cluster** (2): cells of at least 300 inhabitants per km² (``cluster_density``), 8-point (queen)
      contiguity "diagonals included", groups of at least 5,000 inhabitants (``cluster_population``); the cells
      not in an urban centre.
    * **Rural** (1): every other cell with data.

    Level 2 (urban clusters and rural cells split further; codes of GHS-SMOD)

    * 30 urban centre (as level 1).
    * 23 dense urban cluster: urban-cluster cells outside centres with ≥ 1,500/km² (or ≥ 50 % built up,
      ``builtup_dense_share``, where a built-up layer is given), rook, ≥ 5,000 people.
    * 22 semi-dense urban cluster: remaining urban-cluster cells with ≥ 900/km², rook, ≥ 2,500 people, and
      no cell within 2 km (``semidense_exclusion_km``; centre-to-centre cell distance, so touching or one cell
      apart counts as within) of an urban centre or dense urban cluster.
    * 21 suburban or peri-urban: the other urban-cluster cells.
    * 13 rural cluster: rural cells with ≥ 300/km², queen, ≥ 500 people.
    * 12 low density rural: other rural cells with ≥ 50/km² (``low_density``).
    * 11 very low density rural: the rest.
    * 10 water: rural cells with no population (``<= water_population``), no built-up area (where a built-up
      layer is given) and less than 50 % permanent land (``water_land_share``; GHSL's rule), or — with a water
      mask — at least ``water_mask_share`` of the cell marked water.

    Level-2 urban classes subdivide level-1 urban clusters (so 30+23+22+21 = level 1 classes 3+2 and
    13+12+11+10 = level 1 class 1); a semi-dense group of ≥ 2,500 people that sits in a queen group of fewer
    than 5,000 people stays rural at both levels (our reading; implementations that classify level 2 on its own
    may call it 22).

    Sources for the wording: the GHSL/EEA description of the high-density cluster — "contiguous grid cells
    (4-connectivity cluster) with a density of at least 1,500 inhabitants per km2 of permanent land, and has at
    least 50,000 inhabitants in the cluster with smoothed boundaries (3-by-3 conditional majority filtering) and
    <15 km2 holes filled"; Eurostat's glossary for urban clusters — cells "with a density of at least 300
    inhabitants per km2 and a minimum population of 5 000", "contiguous cells (including the diagonals)"; the
    level-2 and water rules as documented by flexurba (Van Migerode et al. 2024) from the GHSL Data Package 2023.
    GHSL R2023A uses a built-up criterion below 50 % (flexurba's default is 0.2 of permanent land); the 50 % of
    the 2021 manual is the default here — pass ``builtup_centre_share``/``builtup_dense_share`` to change it.
    "Within 2 km" is measured between cell centres (a cell two cells away is within 2 km; one three cells away
    is not).

    Parameters
    ----------
    population : str, PathLike, rasterio dataset or (array, transform, crs)
        People per cell, in any CRS. Finer grids (e.g. 100 m WorldPop, 3″ EPSG:4326) are aggregated exactly to
        1 km cells first (see :func:`aggregate_to_km_grid`): population is conserved.
    builtup : array or raster-like, optional
        Built-up share 0–1 of each input cell's area, on the population's grid; enables the ≥ 50 % built-up rule,
        which (as in GHSL) compares built-up area with the cell's permanent land.
    land_share : array or raster-like, optional
        Share 0–1 of permanent land per input cell (default: all land). Densities are per km² of land.
    water_mask : array or raster-like, optional
        1/True where the input cell is water (lakes, reservoirs, rivers); aggregated to a share per 1 km cell.
    nodata : float, optional
        Extra nodata value of the population input (the raster's own nodata is always honoured).
    thresholds : DegurbaThresholds
        The method's thresholds (the official values by default), e.g.
        ``DegurbaThresholds(builtup_centre_share=0.2)`` for GHSL R2023A's built-up criterion.
    target_crs : str
        Equal-area CRS for exact aggregation of non-nested inputs (Mollweide, as GHSL).

    Returns
    -------
    DegurbaGrid

    Notes
    -----
    Areas are true (ellipsoidal) km², the same km² as :func:`bazhong_geo.crs.area_km2` and builtup: a cell's land
    area is its share of permanent land times its true area (:class:`bazhong_geo.zonal.CellArea`). Densities
    follow GHSL by default (``DegurbaThresholds.density_basis="cell"``): people per km² of permanent land counted
    in nominal grid cells, so the numbers match GHS-SMOD and flexurba. ESRI:54009 is spherical Mollweide on
    radius *a*, so a GHSL "1 km²" cell is 0.99777 km² of the ellipsoid at Bazhong's latitude; with
    ``density_basis="true"`` densities are per true km² and read 0.22 % higher there.

    Deliberate choices where peers differ (each an option; see BENCHMARKS.md, "Differences from peers"):
    cells with no population data over water are water (10) as in GHSL (``nodata_water``); a dense urban
    cluster's 5,000 people are its own, not an adjacent urban centre's (``dense_cluster_counts_centre``,
    flexurba counts them).

    A population raster without a declared nodata value has its typical fill values (-9999, -3.4e38, 65535)
    read as nodata, with a :class:`~bazhong_geo._errors.RasterValueWarning`.

    Raises
    ------
    MissingCRSError, UnsupportedGridError, GridMismatchError, InvalidPopulationError, InvalidThresholdError,
    EmptyInputError

    Examples
    --------
    >>> from affine import Affine
    >>> pop = np.zeros((12, 12)); pop[3:9, 3:9] = 2000.0          # 36 km² at 2,000/km² = 72,000 people
    >>> g = degurba((pop, Affine(1000, 0, 0, 0, -1000, 12000), "ESRI:54009"))
    >>> int((g.level1 == 3).sum()), int(g.level2[5, 5]), int(g.level2[0, 0])
    (36, 30, 11)
    >>> g = degurba((pop, Affine(1000, 0, 0, 0, -1000, 12000), "ESRI:54009"),
    ...             thresholds=DegurbaThresholds(centre_population=100_000))
    >>> int((g.level1 == 3).sum()), int((g.level1 == 2).sum())     # too few people for a centre: a cluster
    (0, 36)
    """
    if not isinstance(thresholds, DegurbaThresholds):
        raise InvalidThresholdError(
            f"thresholds must be a DegurbaThresholds, not {type(thresholds).__name__}; e.g. "
            f"thresholds=DegurbaThresholds(cluster_density=300)")
    km = _km_inputs(population, builtup, land_share, water_mask, nodata, thresholds, target_crs)
    density, built_km2, built_per_land = _densities(km, thresholds.density_basis)
    centre, cluster = _level1_masks(km, density, built_per_land, thresholds)
    level1 = km.valid.view(np.uint8).copy()          # 1 rural (valid), 0 off-grid
    level1[cluster] = 2
    level1[centre] = 3
    level2 = _level2_rural(km, density, built_km2, cluster, thresholds)
    _level2_urban(level2, density, km.population, centre, cluster, built_per_land, thresholds)
    return DegurbaGrid(level1, level2, density, km.population, km.land_km2, km.valid, km.transform, km.crs,
                       km.cell_km2, km.method, thresholds)


def _km_inputs(population, builtup, land_share, water_mask, nodata, t: DegurbaThresholds, target_crs) -> _KmGrid:
    """Read and check the inputs, then aggregate them to the method's km grid."""
    cell_size_m = t.cell_size_m
    values, valid, transform, crs, label = _read_raster(population, "population", nodata=nodata)
    if not valid.any():
        raise EmptyInputError(f"population: {label} has no cell with data (all nodata); check the file and its "
                              f"nodata value")
    neg = valid & (values < 0)
    if neg.any():
        r, c = np.argwhere(neg)[0]
        raise InvalidPopulationError(
            f"population: {label} has {int(neg.sum())} negative cell(s) (first at row {r}, col {c}: {values[r, c]}); "
            "population counts must be >= 0 — mark missing cells as nodata instead"
        )
    shape = values.shape
    land = _read_aligned(land_share, "land_share", shape, transform, crs)
    if land is not None:
        bad = np.isfinite(land) & ((land < -_EPS) | (land > 1 + _EPS))
        if bad.any():
            raise InvalidThresholdError(
                f"land_share: {int(bad.sum())} cell(s) outside 0..1 (min {np.nanmin(land)}, max {np.nanmax(land)}); "
                "pass shares, not percentages"
            )
    data_means = {}
    b = _read_aligned(builtup, "builtup", shape, transform, crs)
    if b is not None:
        if np.nanmax(b, initial=0) > 1 + _EPS:
            raise InvalidThresholdError("builtup: values above 1; pass the built-up share 0-1 per cell")
        data_means["builtup"] = np.nan_to_num(b)  # share of the input cell's area
    wm = _read_aligned(water_mask, "water_mask", shape, transform, crs)
    if wm is not None:
        data_means["water"] = (np.nan_to_num(wm) > 0).astype("float64")
    if t.nodata_water:
        values, valid = water_without_data(values, valid, land, wm, t.water_land_share)
    return aggregate_to_km_grid(values, valid, transform, crs, land_share=land, data_means=data_means,
                                cell_size_m=cell_size_m, target_crs=target_crs)


def water_without_data(values: np.ndarray, valid: np.ndarray, land: np.ndarray | None, water: np.ndarray | None,
                       water_land_share: float) -> tuple[np.ndarray, np.ndarray]:
    """Cells without population data that the land share or the water mask call water: 0 people, with data (GHSL).

    Returns the population values and validity mask with those cells filled (0 people, valid).
    """
    wet = np.zeros(values.shape, dtype=bool)
    if land is not None:
        wet |= np.isfinite(land) & (land < water_land_share)
    if water is not None:
        wet |= np.nan_to_num(water) > 0
    fill = ~valid & wet
    if not fill.any():
        return values, valid
    values = np.where(fill, 0.0, values)
    return values, valid | fill


def _densities(km: _KmGrid, basis: str = "cell"):
    """People per km² of land (per km² of cell where a cell with data has no land); built-up km² and share of land.

    ``basis="cell"``: land counted in nominal km² of the grid cell (GHSL); ``"true"``: in true km².
    """
    pop, land_km2, ok = km.population, km.land_km2, km.valid
    true_cell = _cell_area(km.transform, km.crs, pop.shape).grid() / 1e6
    land_basis = land_km2 * (km.cell_km2 / true_cell) if basis == "cell" else land_km2
    cell_basis = km.cell_km2 if basis == "cell" else true_cell
    with np.errstate(divide="ignore", invalid="ignore"):
        density = pop / land_basis
    no_land = ~(land_km2 > 0)
    if no_land.any():  # no land (or no data): people there count per km² of cell, empty cells are 0
        per_cell = np.broadcast_to(cell_basis, pop.shape)[no_land]
        density[no_land] = np.where(ok[no_land], pop[no_land] / per_cell, 0.0)
    built_per_land = built_km2 = None
    if "builtup" in km.means:  # GHSL compares built-up area per km² of permanent land
        built_km2 = np.nan_to_num(km.means["builtup"]) * km.data_km2
        with np.errstate(invalid="ignore", divide="ignore"):
            built_per_land = np.where(land_km2 > 0, np.minimum(built_km2 / land_km2, 1.0), 0.0)
    return density, built_km2, built_per_land


_STRUCTURE = {4: _ROOK, 8: _QUEEN}


def _level1_masks(km: _KmGrid, density, built_per_land, t: DegurbaThresholds):
    """(urban centre, urban cluster) masks of level 1; clusters include the centres they contain."""
    ok, pop = km.valid, km.population
    cand = ok & (density >= t.centre_density)
    if built_per_land is not None and t.builtup_centre_share is not None:
        cand |= ok & (built_per_land >= t.builtup_centre_share)
    centre, _, _ = _clusters(cand, _STRUCTURE[t.centre_contiguity], pop, t.centre_population)
    if centre.any() and t.centre_max_gap_km2 > 0:
        centre = _fill_gaps(centre, ok, km.cell_km2, t.centre_max_gap_km2)
    if centre.any() and t.centre_smoothing:
        centre = _majority_smooth(centre, ok, t.centre_majority)
    # groups that contain centres include them; centre cells stay class 3
    uc, _, _ = _clusters(ok & ((density >= t.cluster_density) | centre), _STRUCTURE[t.cluster_contiguity], pop,
                         t.cluster_population)
    return centre, uc | centre


def _level2_rural(km: _KmGrid, density, built_km2, cluster, t: DegurbaThresholds) -> np.ndarray:
    """Level 2 outside the urban clusters: 12 / 11 by density, water 10, rural clusters 13 (urban cells left 11/12)."""
    ok, pop = km.valid, km.population
    level2 = (density >= t.low_density).view(np.uint8) + np.uint8(11)
    level2[~ok] = 0
    water = km.land_km2 < t.water_land_share * km.data_km2 - 1e-12  # land share of the part of the cell with data
    if "water" in km.means:
        water |= np.nan_to_num(km.means["water"]) >= t.water_mask_share
    water &= pop <= t.water_population
    if built_km2 is not None:
        water &= ~(built_km2 > 0)
    rc, _, _ = _clusters(ok & (density >= t.rural_cluster_density) & ~cluster,
                         _STRUCTURE[t.rural_cluster_contiguity], pop, t.rural_cluster_population)
    level2[ok & water & ~rc & ~cluster] = 10
    level2[rc] = 13
    return level2


def _level2_urban(level2, density, pop, centre, cluster, built_per_land, t: DegurbaThresholds) -> None:
    """Level 2 inside the level-1 urban clusters, in place: 30 centre, 23 dense, 22 semi-dense, 21 suburban."""
    rest_idx = np.flatnonzero(cluster & ~centre)
    level2.ravel()[rest_idx] = 21
    level2[centre] = 30
    dense_cand = np.zeros(density.shape, bool)
    dense_hit = density.ravel()[rest_idx] >= t.dense_cluster_density
    if built_per_land is not None and t.builtup_dense_share is not None:
        dense_hit |= built_per_land.ravel()[rest_idx] >= t.builtup_dense_share
    dense_cand.ravel()[rest_idx[dense_hit]] = True
    if t.dense_cluster_counts_centre:  # flexurba: an adjacent urban centre's people count toward the 5,000
        grown, _, _ = _clusters(dense_cand | centre, _STRUCTURE[t.dense_cluster_contiguity], pop,
                                t.dense_cluster_population)
        dense = grown & dense_cand
    else:
        dense, _, _ = _clusters(dense_cand, _STRUCTURE[t.dense_cluster_contiguity], pop, t.dense_cluster_population)
    level2[dense] = 23
    rest_idx = rest_idx[~dense.ravel()[rest_idx]]
    sd_cand = np.zeros(density.shape, bool)
    sd_cand.ravel()[rest_idx[density.ravel()[rest_idx] >= t.semidense_density]] = True
    semi, sd_lab, _ = _clusters(sd_cand, _STRUCTURE[t.semidense_contiguity], pop, t.semidense_population)
    semi_idx = np.flatnonzero(semi)
    if semi_idx.size:
        radius = t.semidense_exclusion_km * 1000.0 / t.cell_size_m
        near = _near(centre | dense, semi, radius)
        lab_i = sd_lab.ravel()[semi_idx]
        excluded = np.bincount(lab_i, weights=near.ravel()[semi_idx], minlength=int(lab_i.max()) + 1) > 0
        semi_idx = semi_idx[~excluded[lab_i]]
    level2.ravel()[semi_idx] = 22


# ============================================================================================== units

_L2_SHARE_COLS = {
    30: "share_urban_centre_30",
    23: "share_dense_cluster_23",
    22: "share_semidense_cluster_22",
    21: "share_suburban_21",
    13: "share_rural_cluster_13",
    12: "share_low_density_rural_12",
    11: "share_very_low_density_rural_11",
    10: "share_water_10",
}


def _grid_coverage(grid: DegurbaGrid, units):
    """Exact coverage of grid cells by unit polygons -> (unit index per pair, flat cell id, coverage fraction)."""
    codes = units.index.astype(str).to_numpy()
    geoms, _ = repair_zones(units.geometry.to_numpy(), codes, stacklevel=4)  # bow-ties repaired, warned
    geoms = polygon_zones(geoms, codes, "units")  # every polygon, also inside collections
    zone, row, col, cov = compute_coverage(geoms, grid.transform, grid.shape).pairs()
    return zone, row * grid.shape[1] + col, cov


def _check_units(units, id_col):
    """Units: present, with a CRS, the id column, unique ids and a geometry on every row."""
    if units is None:
        raise EmptyInputError("classify_units: no units given; pass a GeoDataFrame of polygons")
    if len(units) == 0:
        raise EmptyInputError("classify_units: the units GeoDataFrame has no rows")
    if units.crs is None:
        raise MissingCRSError("classify_units: the units have no CRS; set it with .set_crs(...)")
    if id_col not in units.columns:
        raise MissingColumnError(f"classify_units: column {id_col!r} not in the units ({list(units.columns)}); "
                                 f"pass id_col=...")
    dup = units[id_col][units[id_col].duplicated(keep=False)]
    if len(dup):
        raise DuplicateCodeError(f"classify_units: {id_col} values repeat: {sorted(map(str, dup.unique()))[:20]}")
    empty = units.geometry.isna() | units.geometry.is_empty
    if empty.any():
        raise EmptyInputError(
            f"classify_units: rows {list(units.index[empty])[:20]} ({id_col} "
            f"{list(units.loc[empty, id_col])[:20]}) have no geometry; fix or remove them"
        )


def _unit_population(grid, population):
    """People per grid cell: the grid's own, an array on the grid, or a raster aggregated to it."""
    if population is None:
        return grid.population
    if isinstance(population, np.ndarray) and not _is_raster_tuple(population):
        if population.shape != grid.shape:
            raise GridMismatchError(
                f"classify_units: population shape {population.shape} differs from grid {grid.shape}")
        return np.where(np.isfinite(population), population, 0.0)
    v, ok, tr, crs, label = _read_raster(population, "population")
    km = aggregate_to_km_grid(v, ok, tr, crs, cell_size_m=grid.thresholds.cell_size_m)
    if km.population.shape != grid.shape or not km.transform.almost_equals(grid.transform):
        raise GridMismatchError(
            f"classify_units: population {label} aggregates to a grid {km.population.shape} "
            f"{tuple(km.transform)[:6]} unlike the DEGURBA grid {grid.shape} {tuple(grid.transform)[:6]}"
        )
    return km.population


def _unit_classes(w1, w2, known):
    """Level-1 and level-2 unit codes from the class shares (population, else land area)."""
    half = 0.5 - 1e-9  # shares that are 50 % by construction must not fall below it by float rounding
    l1_code = np.where(w1[:, 3] >= half, 3, np.where(w1[:, 1] < half, 2, 1))
    l1_code = np.where(known, l1_code, 1)
    town = np.where(w2[:, 30] + w2[:, 23] >= half, 23, np.where(w2[:, 21] + w1[:, 1] >= half, 21, 22))
    urbanish = w2[:, 30] + w2[:, 23] + w2[:, 22] + w2[:, 21] + w2[:, 13]
    rural = np.where(urbanish >= half, 13, np.where(w2[:, 11] >= half, 11, 12))
    l2_code = np.where(l1_code == 3, 30, np.where(l1_code == 2, town, np.where(known, rural, 11)))
    return l1_code, l2_code


def classify_units(grid: DegurbaGrid, population: Any = None, units: gpd.GeoDataFrame | None = None, *,
                   id_col: str = "code") -> pd.DataFrame:
    """Classify spatial units (counties, townships) by the share of their population in each grid class.

    Each unit's population in a class is the sum over grid cells of (cell population × the exact share of the
    cell's area inside the unit), the coverage fraction as exactextract defines it; units may be in any CRS.

    Unit rules (*Applying the Degree of Urbanisation*, 2021, ch. 3; level 2 as revised in July 2024 in the online
    edition of the manual on Eurostat's Statistics Explained):

    * level 1: **city** (3) if ≥ 50 % of the population lives in urban centres; **town or semi-dense area** (2) if
      < 50 % in urban centres and < 50 % in rural grid cells; **rural area** (1) if ≥ 50 % in rural grid cells.
    * level 2: cities stay **city** (30). A town or semi-dense area is a **dense town** (23) if ≥ 50 % lives in
      urban centres + dense urban clusters, else a **suburban or peri-urban area** (21) if ≥ 50 % lives in
      suburban/peri-urban + rural cells, else a **semi-dense town** (22). A rural area is a **village** (13) if
      ≥ 50 % lives in urban centres + urban clusters + rural clusters, else **mostly uninhabited** (11) if ≥ 50 %
      lives in very low density rural cells, else a **dispersed rural area** (12).
    * a unit with no population is classified by the same rules applied to the *land area* shares of the classes
      (as GHSL does); ``classified_by`` says which.

    Parameters
    ----------
    grid : DegurbaGrid
        From :func:`degurba`.
    population : None, ndarray or raster-like
        People per grid cell. None (default) uses ``grid.population``; an array must have the grid's shape; a raster
        input is aggregated like :func:`degurba` does and must land on the same 1 km grid.
    units : GeoDataFrame
        Polygons with a CRS and a unique ``id_col``.
    id_col : str
        Unit identifier column, kept as the first column of the result.

    Returns
    -------
    pandas.DataFrame
        One row per unit in input order: ``id_col``, ``population``, ``grid_km2`` (area of the unit on the grid),
        ``on_grid_share`` (share of the unit's area the grid covers: < 1 for units reaching beyond the grid),
        ``share_urban_centre``, ``share_urban_cluster``, ``share_rural`` (level 1, summing to 1), the level-2 shares
        ``share_urban_centre_30`` … ``share_water_10``, ``class_l1`` / ``class_l1_code`` (3 city, 2 town or
        semi-dense area, 1 rural area), ``class_l2`` / ``class_l2_code`` (30, 23, 22, 21, 13, 12, 11),
        ``classified_by`` ("population", "area" for units without people, "none" for units off the grid).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> from affine import Affine
    >>> pop = np.zeros((12, 12)); pop[3:9, 3:9] = 2000.0
    >>> g = degurba((pop, Affine(1000, 0, 0, 0, -1000, 12000), "ESRI:54009"))
    >>> units = gpd.GeoDataFrame({"code": ["a"]}, geometry=[shapely.box(0, 0, 12000, 12000)], crs="ESRI:54009")
    >>> classify_units(g, None, units)[["code", "population", "class_l1", "class_l2"]].to_dict("records")
    [{'code': 'a', 'population': 72000.0, 'class_l1': 'city', 'class_l2': 'city'}]
    """
    import pandas as pd

    _check_units(units, id_col)
    pop = _unit_population(grid, population)
    u = units.to_crs(grid.crs) if units.crs != grid.crs else units
    uid, cid, cov = _grid_coverage(grid, u)
    n = len(units)
    weight = cov * pop.ravel()[cid]
    total = np.bincount(uid, weight, minlength=n)
    cell_km2 = _cell_area(grid.transform, grid.crs, grid.shape).at(cid // grid.shape[1], cid % grid.shape[1]) / 1e6
    grid_km2 = np.bincount(uid, cov * cell_km2, minlength=n)
    l1 = grid.level1.ravel()[cid].astype(np.int64)
    l2 = grid.level2.ravel()[cid].astype(np.int64)
    by1 = np.bincount(uid * 4 + l1, weight, minlength=n * 4).reshape(n, 4)
    by2 = np.bincount(uid * 31 + l2, weight, minlength=n * 31).reshape(n, 31)
    with np.errstate(invalid="ignore", divide="ignore"):
        denom = np.where(total > 0, total, np.nan)[:, None]
        s1 = by1 / denom
        s2 = by2 / denom

    unit_km2 = area_km2(u).to_numpy()  # true km², like grid_km2
    with np.errstate(invalid="ignore", divide="ignore"):
        on_grid = np.clip(grid_km2 / unit_km2, 0.0, 1.0)
    out = pd.DataFrame({id_col: units[id_col].to_numpy(), "population": total, "grid_km2": grid_km2,
                        "on_grid_share": on_grid})
    out["share_urban_centre"] = s1[:, 3]
    out["share_urban_cluster"] = s1[:, 2]
    out["share_rural"] = s1[:, 1]
    for code, col in _L2_SHARE_COLS.items():
        out[col] = s2[:, code]

    # units without people: the same rules on land-area shares of the classes (water and off-grid excluded)
    area = cov * cell_km2 * (grid.level2.ravel()[cid] >= 11)
    a2 = np.bincount(uid * 31 + l2, area, minlength=n * 31).reshape(n, 31)
    a1 = np.bincount(uid * 4 + l1, area, minlength=n * 4).reshape(n, 4)
    atot = a2.sum(axis=1)
    has_pop = total > 0
    by_area = ~has_pop & (atot > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        w1 = np.where(has_pop[:, None], s1, a1 / atot[:, None])
        w2 = np.where(has_pop[:, None], s2, a2 / atot[:, None])
    w1, w2 = np.nan_to_num(w1), np.nan_to_num(w2)
    known = has_pop | by_area
    l1_code, l2_code = _unit_classes(w1, w2, known)
    out["class_l1_code"] = l1_code
    out["class_l1"] = [UNIT_CLASSES_L1[c] for c in l1_code]
    out["class_l2_code"] = l2_code
    out["class_l2"] = [UNIT_CLASSES_L2[c] for c in l2_code]
    out["classified_by"] = np.where(has_pop, "population", np.where(by_area, "area", "none"))
    return out


# ============================================================================================== NBS codes

def _normalise_codes(series):
    """Urban-rural codes as 3-character strings ('111'), whatever their dtype; invalid -> None."""
    import pandas as pd

    num = pd.to_numeric(series, errors="coerce")
    ok = num.notna() & (num == np.round(num))
    out = pd.Series([None] * len(series), index=series.index, dtype=object)
    out[ok] = num[ok].astype("int64").astype(str)
    return out


def urbanization_rate(units: pd.DataFrame, code_col: str = "urban_rural_code", population_col: str = "population",
                      by: str | Sequence[str] | None = None, *, missing: str = "error") -> pd.DataFrame:
    """Urbanization rate by the NBS urban-rural codes (统计上划分城乡的规定, 国函〔2008〕60号).

    Units coded 111 主城区, 112 城乡结合区, 121 镇中心区, 122 镇乡结合区, 123 特殊区域 are urban; 210 乡中心区 and
    220 村庄 are rural. Rate = resident population of urban units / resident population of all units.

    Parameters
    ----------
    units : DataFrame or GeoDataFrame
        One row per village-level (or any) unit with a code and a resident population.
    code_col, population_col : str
        Column names. Codes may be strings or numbers ("111", 111, 111.0).
    by : None, str or list of str
        Grouping columns (county code, township code…); None gives one row for all units.
    missing : {"error", "nodata"}
        Missing population: "error" raises :class:`MissingPopulationError` naming the rows; "nodata" keeps the
        group with rate NaN and counts the rows in ``n_missing_population`` (nothing is dropped silently).

    Returns
    -------
    pandas.DataFrame
        Group columns (or ``group`` = "all"), ``n_units``, ``n_missing_population``, ``population``,
        ``urban_population``, ``rural_population``, ``rate`` (share 0–1), ``rate_pct`` (percent), ``status``
        ("ok" | "no data"), sorted by group.

    Raises
    ------
    UnknownUrbanRuralCodeError
        A code outside the seven, naming the rows.
    MissingPopulationError, InvalidPopulationError, MissingColumnError, EmptyInputError

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"urban_rural_code": [111, 121, 220, 210], "population": [500, 100, 300, 100],
    ...                    "county": ["a", "a", "a", "b"]})
    >>> urbanization_rate(df)[["population", "urban_population", "rate_pct"]].to_dict("records")
    [{'population': 1000.0, 'urban_population': 600.0, 'rate_pct': 60.0}]
    >>> urbanization_rate(df, by="county")[["county", "rate"]].to_dict("records")
    [{'county': 'a', 'rate': 0.6666666666666666}, {'county': 'b', 'rate': 0.0}]
    """
    import pandas as pd

    if missing not in ("error", "nodata"):
        raise InvalidThresholdError(f"missing={missing!r}: use 'error' or 'nodata'")
    groups = [] if by is None else ([by] if isinstance(by, str) else list(by))
    for col in [code_col, population_col, *groups]:
        if col not in units.columns:
            raise MissingColumnError(f"urbanization_rate: column {col!r} not found (columns: {list(units.columns)})")
    if len(units) == 0:
        raise EmptyInputError("urbanization_rate: no rows")
    codes = _normalise_codes(units[code_col])
    known = codes.isin(list(NBS_URBAN_CODES) + list(NBS_RURAL_CODES))
    if not known.all():
        bad = units.loc[~known, code_col]
        listing = ", ".join(f"row {i}: {v!r}" for i, v in list(bad.items())[:20])
        raise UnknownUrbanRuralCodeError(
            f"urbanization_rate: {int((~known).sum())} row(s) with an unknown urban-rural code in {code_col!r} "
            f"({listing}); allowed are 111/112/121/122/123 (urban) and 210/220 (rural), 国函〔2008〕60号"
        )
    pop = pd.to_numeric(units[population_col], errors="coerce")
    miss = pop.isna()
    if miss.any() and missing == "error":
        listing = ", ".join(str(i) for i in list(units.index[miss])[:20])
        raise MissingPopulationError(
            f"urbanization_rate: {int(miss.sum())} row(s) without a usable {population_col!r} (rows {listing}); "
            "fill them, or pass missing='nodata' to report those groups as 'no data'"
        )
    neg = pop < 0
    if neg.any():
        raise InvalidPopulationError(
            f"urbanization_rate: negative {population_col!r} at rows {list(units.index[neg])[:20]}"
        )
    urban = codes.isin(list(NBS_URBAN_CODES))
    frame = pd.DataFrame({
        "_group": "all" if not groups else 0,
        "n_units": 1,
        "n_missing_population": miss.astype(int).to_numpy(),
        "population": pop.fillna(0.0).astype(float).to_numpy(),
        "urban_population": pop.fillna(0.0).where(urban, 0.0).astype(float).to_numpy(),
    }, index=units.index)
    keys = groups or ["_group"]
    for g in groups:
        frame[g] = units[g].to_numpy()
    if groups:
        frame = frame.drop(columns="_group")
    out = frame.groupby(keys, sort=True, dropna=False)[
        ["n_units", "n_missing_population", "population", "urban_population"]].sum().reset_index()
    if not groups:
        out = out.rename(columns={"_group": "group"})
    out["rural_population"] = out["population"] - out["urban_population"]
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = out["urban_population"] / out["population"].where(out["population"] > 0)
    nodata = out["n_missing_population"] > 0
    out["rate"] = rate.where(~nodata)
    out["rate_pct"] = out["rate"] * 100.0
    out["status"] = np.where(nodata | out["rate"].isna(), "no data", "ok")
    return out


def census_urbanization(census: pd.DataFrame, *, population_col: str = "resident_population",
                        share_col: str = "urban_share", id_col: str = "code", name_col: str | None = "name",
                        total_label: str = "total") -> pd.DataFrame:
    """Urbanization rate from a census table of units with resident population and urban share.

    Urban population = resident population × urban share per unit; the total row is
    Σ urban population / Σ resident population. On the 2020 census county table of Bazhong
    (``census2020_counties.csv``: 巴州, 恩阳, 通江, 南江, 平昌 and the development zone) this gives 46.16 %, the
    rate stated by the statistical bulletin.

    Parameters
    ----------
    census : DataFrame
        One row per unit.
    population_col, share_col, id_col, name_col : str
        Columns (``name_col`` may be None).
    total_label : str
        ``id_col`` value of the total row appended at the end.

    Returns
    -------
    pandas.DataFrame
        ``id_col``, ``name_col``, ``population``, ``urban_population``, ``rate``, ``rate_pct``; the unit rows then
        the total row.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"code": ["a", "b"], "name": ["A", "B"], "resident_population": [100, 300],
    ...                   "urban_share": [0.5, 0.1]})
    >>> census_urbanization(t)["rate_pct"].round(2).tolist()
    [50.0, 10.0, 20.0]
    """
    import pandas as pd

    cols = [id_col, population_col, share_col] + ([name_col] if name_col else [])
    for c in cols:
        if c not in census.columns:
            raise MissingColumnError(f"census_urbanization: column {c!r} not found (columns: {list(census.columns)})")
    if len(census) == 0:
        raise EmptyInputError("census_urbanization: no rows")
    pop = pd.to_numeric(census[population_col], errors="coerce")
    share = pd.to_numeric(census[share_col], errors="coerce")
    bad = pop.isna() | share.isna()
    if bad.any():
        raise MissingPopulationError(
            f"census_urbanization: rows {list(census.index[bad])} lack {population_col!r} or {share_col!r}"
        )
    if (pop < 0).any():
        raise InvalidPopulationError(f"census_urbanization: negative population at rows {list(census.index[pop < 0])}")
    out_of = (share < 0) | (share > 1)
    if out_of.any():
        raise InvalidThresholdError(
            f"census_urbanization: {share_col!r} outside 0..1 at rows {list(census.index[out_of])}; pass shares, not %"
        )
    out = pd.DataFrame({id_col: census[id_col].astype(str).to_numpy()})
    if name_col:
        out[name_col] = census[name_col].to_numpy()
    out["population"] = pop.astype(float).to_numpy()
    out["urban_population"] = (pop * share).astype(float).to_numpy()
    total = {id_col: total_label, "population": out["population"].sum(),
             "urban_population": out["urban_population"].sum()}
    if name_col:
        total[name_col] = total_label
    out = pd.concat([out, pd.DataFrame([total])], ignore_index=True)
    out["rate"] = out["urban_population"] / out["population"].where(out["population"] > 0)
    out["rate_pct"] = out["rate"] * 100.0
    return out
