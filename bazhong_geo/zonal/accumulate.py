"""Accumulators of the zonal engine: per-zone sums, shares and statistics over coverage-weighted cells.

* :class:`AreaSums` — selected and valid m² per zone, streamed strip by strip (built-up area, shares);
* :func:`coverage_sums` — Σ coverage × value per zone for an in-memory array (people in a polygon);
* :class:`ZoneStats` — count, sum, min, max and mean per zone, streamed, ready for further statistics.

>>> import numpy as np, shapely
>>> from affine import Affine
>>> from bazhong_geo.zonal.coverage import compute_coverage
>>> cov = compute_coverage([shapely.box(0.5, 0, 2, 2)], Affine(1, 0, 0, 0, -1, 2), (2, 2))
>>> coverage_sums(cov, np.array([[1.0, 10.0], [100.0, 1000.0]]), 1).tolist()   # half of 1 and 100, all of 10, 1000
[1060.5]
"""

from __future__ import annotations

import numpy as np

from .coverage import Coverage, split_runs
from .strips import StripSummary
from .zones import ZoneCoverage

__all__ = ["AreaSums", "ZoneStats", "coverage_sums"]


def coverage_sums(coverage: Coverage, values: np.ndarray, n_zones: int,
                  weights: np.ndarray | None = None) -> np.ndarray:
    """Σ over cells of coverage fraction × value (× weight) for each zone, from an in-memory grid.

    Parameters
    ----------
    coverage : Coverage
        From :func:`~bazhong_geo.zonal.coverage.compute_coverage` on the grid of ``values``.
    values : numpy.ndarray
        (height, width) values; NaN counts as 0.
    n_zones : int
        Number of zones (length of the result).
    weights : numpy.ndarray, optional
        (height, width) weights, e.g. true cell areas in m².

    Returns
    -------
    numpy.ndarray of float64, one sum per zone.
    """
    v = np.nan_to_num(np.asarray(values, dtype=np.float64))
    if weights is not None:
        v = v * weights
    width = v.shape[1]
    flat = v.ravel()
    out = np.bincount(coverage.cell_zone, coverage.cell_frac * flat[coverage.cell_row.astype(np.int64) * width
                                                                       + coverage.cell_col], minlength=n_zones)
    # runs: prefix sums along each row give a run's sum in two lookups
    csum = np.zeros((v.shape[0], width + 1))
    np.cumsum(v, axis=1, out=csum[:, 1:])
    r = coverage.run_row.astype(np.int64)
    run_sum = csum[r, coverage.run_c1] - csum[r, coverage.run_c0]
    out += np.bincount(coverage.run_zone, coverage.run_w * run_sum, minlength=n_zones)
    return out.astype(np.float64)


class ZoneStats:
    """Count, sum, min, max and mean of the valid cells of each zone, accumulated strip by strip.

    A cell belongs to a zone when its coverage by the zone is positive; ``count`` and ``sum`` are
    coverage-weighted (a cell half inside counts ½), ``min``/``max`` take every touched cell (as
    exactextract's ``min``/``max``). Feed it ``(r0, data, valid)`` strips with :meth:`add`.

    Examples
    --------
    >>> import numpy as np, shapely
    >>> from affine import Affine
    >>> from bazhong_geo.zonal.coverage import compute_coverage
    >>> cov = compute_coverage([shapely.box(0, 0, 1.5, 2)], Affine(1, 0, 0, 0, -1, 2), (2, 2))
    >>> st = ZoneStats(cov, 1)
    >>> st.add(0, np.array([[1.0, 3.0], [5.0, 7.0]]))
    >>> st.count.tolist(), st.sum.tolist(), st.min.tolist(), st.max.tolist(), st.mean().tolist()
    ([3.0], [11.0], [1.0], [7.0], [3.6666666666666665])
    """

    def __init__(self, coverage: Coverage, n_zones: int):
        self.coverage, self.n = coverage, n_zones
        self.count = np.zeros(n_zones)
        self.sum = np.zeros(n_zones)
        self.min = np.full(n_zones, np.inf)
        self.max = np.full(n_zones, -np.inf)

    def add(self, r0: int, data: np.ndarray, valid: np.ndarray | None = None) -> None:
        """Add the strip of rows ``r0 .. r0 + len(data)`` (``valid``: mask of cells with data, default all)."""
        cov, n = self.coverage, self.n
        h, w = data.shape
        cs, rs = cov.rows_slice(r0, r0 + h)
        rows = np.concatenate([cov.cell_row[cs], np.repeat(cov.run_row[rs], cov.run_c1[rs] - cov.run_c0[rs])])
        length = (cov.run_c1[rs] - cov.run_c0[rs]).astype(np.int64)
        offset = np.arange(int(length.sum()), dtype=np.int64) - np.repeat(np.cumsum(length) - length, length)
        cols = np.concatenate([cov.cell_col[cs].astype(np.int64), np.repeat(cov.run_c0[rs], length) + offset])
        zone = np.concatenate([cov.cell_zone[cs], np.repeat(cov.run_zone[rs], length)]).astype(np.int64)
        frac = np.concatenate([cov.cell_frac[cs], np.repeat(cov.run_w[rs], length).astype(np.float64)])
        pos = (rows.astype(np.int64) - r0) * w + cols
        vals = np.asarray(data, dtype=np.float64).ravel()[pos]
        ok = np.isfinite(vals) if valid is None else valid.ravel()[pos] & np.isfinite(vals)
        zone, frac, vals = zone[ok], frac[ok], vals[ok]
        self.count += np.bincount(zone, frac, minlength=n)
        self.sum += np.bincount(zone, frac * vals, minlength=n)
        np.minimum.at(self.min, zone, vals)
        np.maximum.at(self.max, zone, vals)

    def mean(self) -> np.ndarray:
        """Coverage-weighted mean per zone (NaN for zones without valid cells)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.count > 0, self.sum / self.count, np.nan)


class AreaSums:
    """Selected and valid m² per zone, accumulated strip by strip over a :class:`ZoneCoverage`.

    Each cell counts by its true area × its coverage by the zone. What a cell contributes to ``selected``
    depends on the strip summary: 1 for cells matching a class rule, the cell value for ``per_cell="share"``
    (a share 0–1), value / the producer's cell area for ``per_cell="m2"`` (m² per cell, e.g. GHSL
    GHS-BUILT-S: the plane cell for projected grids, the true cell for longitude/latitude grids).

    Attributes
    ----------
    selected, valid : numpy.ndarray
        m² per zone of the selected (built-up) part and of the valid (not nodata) cells.
    total_valid_cells : int
        Valid cells of the whole raster.
    min_value, max_value : float
        Range of the cell values seen (value rules).
    fills : dict
        {typical fill value: cells} read as nodata because the raster declares none
        (:func:`~bazhong_geo.zonal.strips.fill_mask`).
    """

    def __init__(self, zc: ZoneCoverage, nodata, per_cell: str | None = None):
        self.zc, self.nodata, self.per_cell = zc, nodata, per_cell
        t = zc.transform
        # fraction="m2": value / (the producer's cell area) is the built-up share; that cell area is
        # the plane area for projected grids (GHSL) and the true area for longitude/latitude grids
        self.plane = None if zc.crs.is_geographic else abs(t.a * t.e - t.b * t.d)
        n = len(zc)
        self.selected = np.zeros(n)
        self.valid = np.zeros(n)
        self.total_valid_cells = 0
        self.max_value = -np.inf
        self.min_value = np.inf
        self.fills: dict = {}

    def add(self, st: StripSummary) -> None:
        """Add one strip's cells to the sums."""
        for v, c in st.fills.items():
            self.fills[v] = self.fills.get(v, 0) + c
        zc, cov = self.zc, self.zc.coverage
        r0, h, w = st.r0, st.h, st.w
        cs_sl, rs_sl = cov.rows_slice(r0, r0 + h)
        c_pos = (cov.cell_row[cs_sl] - r0).astype(np.int64) * w + cov.cell_col[cs_sl]
        c_zone, c_wa = cov.cell_zone[cs_sl], zc.cell_m2[cs_sl]
        area = zc.cell_area
        r_row, r_c0, r_c1, r_zone, r_w = (cov.run_row[rs_sl], cov.run_c0[rs_sl], cov.run_c1[rs_sl],
                                          cov.run_zone[rs_sl], cov.run_w[rs_sl])
        if area.row_area is not None:
            r_wa = r_w * area.row_area[r_row]
        else:
            # the cell area varies along rows: one area per piece of at most max_run cells (< 1e-5)
            r_row, r_c0, r_c1, r_zone, r_w = split_runs(r_row, r_c0, r_c1, r_zone, r_w, area.max_run)
            r_wa = r_w * area.at(r_row, (r_c0 + r_c1 - 1) // 2)
        base = (r_row - r0).astype(np.int64) * w
        r_p0, r_p1 = base + r_c0, base + r_c1
        n = len(zc)
        if st.bits is not None:
            r_bu = st.bits.range_sum(r_p0, r_p1).astype(np.float64)
            c_bu = st.bits.bit(c_pos)
        else:
            r_bu = st.csum[r_p1] - st.csum[r_p0]
            c_bu = st.csum[c_pos + 1] - st.csum[c_pos]
            self.max_value = max(self.max_value, st.vmax)
            self.min_value = min(self.min_value, st.vmin)
        if st.valid is None:
            r_va = (r_p1 - r_p0).astype(np.float64)
            c_va = np.ones(len(c_pos))
            self.total_valid_cells += h * w
        else:
            r_va = st.valid.range_sum(r_p0, r_p1).astype(np.float64)
            c_va = st.valid.bit(c_pos)
            self.total_valid_cells += st.valid.total
        if self.per_cell == "m2" and self.plane is None:
            # longitude/latitude: the producer's cell is the true cell; weight the m² by coverage only
            self.selected += np.bincount(c_zone, c_bu * c_wa / area.row_area[cov.cell_row[cs_sl]], minlength=n)
            self.selected += np.bincount(r_zone, r_bu * r_w, minlength=n)
        elif self.per_cell == "m2":
            # built-up m² per cell as the producer measured it on the plane cell: value / plane area is
            # the built-up share, which counts by the cell's true area like fraction="share"
            self.selected += np.bincount(c_zone, c_bu * c_wa, minlength=n) / self.plane
            self.selected += np.bincount(r_zone, r_bu * r_wa, minlength=n) / self.plane
        else:
            self.selected += np.bincount(c_zone, c_bu * c_wa, minlength=n)
            self.selected += np.bincount(r_zone, r_bu * r_wa, minlength=n)
        self.valid += np.bincount(c_zone, c_va * c_wa, minlength=n)
        self.valid += np.bincount(r_zone, r_va * r_wa, minlength=n)
