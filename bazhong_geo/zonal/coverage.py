"""Exact cell coverage fractions of polygons on a raster grid, vectorised (the engine of the zonal package).

Coverage fractions
------------------
For a polygon P and a raster cell C, the coverage fraction is area(P ∩ C) / area(C) measured in the
raster's own plane — the definition exactextract uses. We compute it without clipping any geometry, by
Green's theorem: for the strip S of one raster row,

    area(P ∩ S ∩ {x < X}) = ∮_{∂P ∩ S} min(x, X) dy            (x = column, y = row, pixel units)

so the coverage of cell column c of that row is Σ over boundary pieces of ∫ (clamp(x, c, c+1) - c) dy.
After splitting every polygon edge at each integer column and row (each piece then lies in one cell),
a piece in column k contributes 0 to cells left of it, its whole Δy to cells right of it and
Δy·(mean x - k) to its own cell. Sorting pieces by (row, zone, column) and taking a running sum along
each row gives the exact fraction of every cell touched by the boundary, and the constant coverage
(1 inside, 0 outside) of the run of untouched cells between two touched ones. This is the
"signed-area accumulation" used by font rasterisers, done for all zones at once with numpy.

The result is stored sparsely: *cells* (row, col, zone, fraction) for the boundary cells and
*runs* (row, col0, col1, zone, weight) for the interiors, both sorted by row so that a raster can
be streamed block by block and aggregated with prefix counts and ``np.bincount`` (see :mod:`.accumulate`).

True cell areas are in :mod:`bazhong_geo.zonal.areas`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

if TYPE_CHECKING:  # pragma: no cover
    from affine import Affine

_FLOAT_EPS = 1e-9  # accumulated coverage below this between boundary cells is round-off, not a run


# ------------------------------------------------------------------------------------ segment splitting

def _split(x0, y0, x1, y1, axis):
    """Split segments at every integer value of x (axis=0) or y (axis=1), keeping order along each.

    Returns the pieces' (x0, y0, x1, y1) and the index of the segment each piece comes from.
    """
    a0, a1, b0, b1 = (x0, x1, y0, y1) if axis == 0 else (y0, y1, x0, x1)
    lo = np.floor(np.minimum(a0, a1)) + 1.0
    hi = np.ceil(np.maximum(a0, a1)) - 1.0
    n = np.maximum(hi - lo + 1.0, 0.0).astype(np.int64)
    m = len(a0)
    tot = int(n.sum())
    if tot == 0:
        return x0, y0, x1, y1, np.arange(m)
    if 2 * np.count_nonzero(n) < m:
        # most segments need no split: pass them through (piece order does not matter downstream)
        cut = n > 0
        pas = np.nonzero(~cut)[0]
        sub = np.nonzero(cut)[0]
        px0, py0, px1, py1, ps = _split(x0[sub], y0[sub], x1[sub], y1[sub], axis)
        return (np.concatenate([x0[pas], px0]), np.concatenate([y0[pas], py0]),
                np.concatenate([x1[pas], px1]), np.concatenate([y1[pas], py1]), np.concatenate([pas, sub[ps]]))
    seg_c = np.repeat(np.arange(m), n)  # crossing -> segment
    cstart = np.cumsum(n) - n
    j = np.arange(tot) - cstart[seg_c]  # 0 .. n-1 within each segment
    asc = a1 > a0
    k = np.where(asc[seg_c], lo[seg_c] + j, hi[seg_c] - j)
    ba, bb = b0[seg_c], b1[seg_c]
    aa = a0[seg_c]
    kb = ba + (k - aa) / (a1[seg_c] - aa) * (bb - ba)  # other coordinate at the crossing
    npieces = n + 1
    pstart = cstart + np.arange(m)  # index of each segment's first piece
    cross_out = pstart[seg_c] + j + 1  # piece that starts at this crossing
    P = tot + m
    sa, sb, ea, eb = np.empty(P), np.empty(P), np.empty(P), np.empty(P)
    sa[pstart], sb[pstart] = a0, b0
    sa[cross_out], sb[cross_out] = k, kb
    ea[cross_out - 1], eb[cross_out - 1] = k, kb
    last = pstart + n
    ea[last], eb[last] = a1, b1
    seg = np.repeat(np.arange(m), npieces)
    if axis == 0:
        return sa, sb, ea, eb, seg
    return sb, sa, eb, ea, seg


def ring_segments(geoms: ArrayLike, inverse_transform: Affine) -> tuple[np.ndarray, ...]:
    """Return (x0, y0, x1, y1, zone) of every polygon edge, in pixel coordinates (col, row).

    ``geoms`` are (Multi)Polygons; zone is the position of each geometry in ``geoms``. Rings are
    oriented so that exteriors are counter-clockwise and holes clockwise in the map plane.
    """
    import shapely

    geoms = shapely.orient_polygons(np.asarray(geoms, dtype=object), exterior_cw=False)
    parts, part_zone = shapely.get_parts(geoms, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, ring_idx = shapely.get_coordinates(rings, return_index=True)
    if len(coords) < 2:
        empty = np.zeros(0)
        return empty, empty, empty, empty, np.zeros(0, dtype=np.int64)
    t = inverse_transform
    col = t.a * coords[:, 0] + t.b * coords[:, 1] + t.c
    row = t.d * coords[:, 0] + t.e * coords[:, 1] + t.f
    same = ring_idx[1:] == ring_idx[:-1]
    i = np.nonzero(same)[0]
    zone = part_zone[ring_part[ring_idx[i]]]
    return col[i], row[i], col[i + 1], row[i + 1], zone.astype(np.int64)


class Coverage:
    """Sparse exact coverage of a raster grid by a set of zones (see module docstring).

    Attributes
    ----------
    cell_row, cell_col, cell_zone, cell_frac : numpy arrays
        Cells cut by a zone boundary and their coverage fraction in (0, 1], sorted by row.
    run_row, run_c0, run_c1, run_zone, run_w : numpy arrays
        Runs of whole cells (columns c0 <= c < c1) inside a zone, weight 1 (2 where a zone's parts
        overlap), sorted by row.
    """

    def __init__(  # noqa: PLR0913, PLR0917  (the nine parallel arrays of the sparse coverage, by name)
            self, cell_row, cell_col, cell_zone, cell_frac, run_row, run_c0, run_c1, run_zone, run_w, presorted=False):
        if presorted:
            self.cell_row, self.cell_col, self.cell_zone, self.cell_frac = cell_row, cell_col, cell_zone, cell_frac
            self.run_row, self.run_c0, self.run_c1, self.run_zone, self.run_w = run_row, run_c0, run_c1, run_zone, run_w
            return
        o = np.argsort(cell_row, kind="stable")
        self.cell_row, self.cell_col = cell_row[o], cell_col[o]
        self.cell_zone, self.cell_frac = cell_zone[o], cell_frac[o]
        o = np.argsort(run_row, kind="stable")
        self.run_row, self.run_c0, self.run_c1 = run_row[o], run_c0[o], run_c1[o]
        self.run_zone, self.run_w = run_zone[o], run_w[o]

    def pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Every (zone, row, col, fraction) with a positive coverage, runs expanded cell by cell.

        Returns
        -------
        zone, row, col : numpy.ndarray of int64
        fraction : numpy.ndarray of float64
            Coverage fraction of the cell by the zone (a run's weight: 1, or 2 where a zone's parts overlap).
        """
        if self.cell_frac is None:
            raise ValueError("this coverage's fractions were turned into areas (ZoneCoverage); use its own pairs")
        length = (self.run_c1 - self.run_c0).astype(np.int64)
        rep = np.repeat(np.arange(len(length)), length)
        offset = np.arange(len(rep), dtype=np.int64) - np.repeat(np.cumsum(length) - length, length)
        zone = np.concatenate([self.cell_zone.astype(np.int64), self.run_zone[rep].astype(np.int64)])
        row = np.concatenate([self.cell_row.astype(np.int64), self.run_row[rep].astype(np.int64)])
        col = np.concatenate([self.cell_col.astype(np.int64), self.run_c0[rep].astype(np.int64) + offset])
        frac = np.concatenate([self.cell_frac, self.run_w[rep].astype(np.float64)])
        return zone, row, col, frac

    def pairs_in_rows(self, r0: int, r1: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(zone, row, col, fraction) of every covered cell with r0 <= row < r1, runs expanded cell by cell."""
        cs, rs = self.rows_slice(r0, r1)
        length = (self.run_c1[rs] - self.run_c0[rs]).astype(np.int64)
        offset = np.arange(int(length.sum()), dtype=np.int64) - np.repeat(np.cumsum(length) - length, length)
        row = np.concatenate([self.cell_row[cs].astype(np.int64), np.repeat(self.run_row[rs], length).astype(np.int64)])
        col = np.concatenate([self.cell_col[cs].astype(np.int64), np.repeat(self.run_c0[rs], length) + offset])
        zone = np.concatenate([self.cell_zone[cs], np.repeat(self.run_zone[rs], length)]).astype(np.int64)
        frac = np.concatenate([self.cell_frac[cs], np.repeat(self.run_w[rs], length).astype(np.float64)])
        return zone, row, col, frac

    def rows_slice(self, r0: int, r1: int) -> tuple[slice, slice]:
        """Return (cell slice, run slice) of entries with r0 <= row < r1."""
        cs = slice(*np.searchsorted(self.cell_row, np.array([r0, r1], dtype=self.cell_row.dtype)))
        rs = slice(*np.searchsorted(self.run_row, np.array([r0, r1], dtype=self.run_row.dtype)))
        return cs, rs


def split_runs(row: np.ndarray, c0: np.ndarray, c1: np.ndarray, zone: np.ndarray, w: np.ndarray,
               max_len: int) -> tuple[np.ndarray, ...]:
    """Cut runs longer than ``max_len`` cells into pieces (where the cell area varies along a row)."""
    length = c1 - c0
    n = np.maximum(-(-length // max_len), 1)
    if n.max(initial=1) <= 1:
        return row, c0, c1, zone, w
    rep = np.repeat(np.arange(len(length)), n)
    j = np.arange(len(rep), dtype=c0.dtype) - np.repeat((np.cumsum(n) - n).astype(c0.dtype), n)
    p0 = c0[rep] + j * max_len
    p1 = np.minimum(p0 + max_len, c1[rep])
    return row[rep], p0, p1, zone[rep], w[rep]


def compute_coverage(geoms: ArrayLike, transform: Affine, shape: tuple[int, int], *, batch_pieces: int = 200_000,
                     threads: int = 1, timer: Callable[[str], None] | None = None) -> Coverage:
    """Exact coverage fractions of ``geoms`` (in the raster CRS) on the grid ``transform``/``shape``.

    Zones are processed in batches of about ``batch_pieces`` boundary pieces (bounded memory, cache
    friendly), ``threads`` batches at a time.
    """
    tick = timer or (lambda _label: None)
    x0, y0, x1, y1, zone = ring_segments(geoms, ~transform)
    tick("rings")
    est = np.abs(np.floor(x1) - np.floor(x0)) + np.abs(np.floor(y1) - np.floor(y0)) + 1.0
    per_zone = np.bincount(zone, est, minlength=len(geoms))
    batch_of_zone = (np.cumsum(per_zone) // batch_pieces).astype(np.int64)
    seg_batch = batch_of_zone[zone]
    bounds = np.searchsorted(seg_batch, np.unique(seg_batch))  # segments are grouped by zone, in order
    bounds = np.r_[bounds, len(zone)]
    def run(b):
        sl = slice(bounds[b], bounds[b + 1])
        return _coverage_batch(x0[sl], y0[sl], x1[sl], y1[sl], zone[sl], transform, shape, tick)

    nb = len(bounds) - 1
    if nb < 1 or len(zone) == 0:  # no zone reaches the grid (or every zone is empty): an empty coverage
        empty_i = np.zeros(0, dtype=np.int32)
        return Coverage(empty_i, empty_i, empty_i, np.zeros(0), empty_i, empty_i, empty_i, empty_i, np.zeros(0),
                        presorted=True)
    if est.sum() > 6e6:  # large rasters: one batch at a time keeps the peak memory low
        threads = 1
    if nb > 1 and threads > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(min(threads, nb)) as pool:  # numpy releases the GIL in the heavy loops
            parts = list(pool.map(run, range(nb)))
    else:
        parts = [run(b) for b in range(nb)]
    if len(parts) == 1:
        return parts[0]
    return _merge(parts)


def line_coverage(geoms: ArrayLike, transform: Affine, shape: tuple[int, int]) -> Coverage:
    """Length coverage of lines on a grid: the length of each zone's lines inside each cell, in CRS units.

    The lines' analogue of a coverage fraction, as exactextract defines it for lines: a cell counts by the
    length of line inside it (metres in a projected CRS), so a sum over a line zone is Σ value × length and
    a mean is the length-weighted mean along the line. Lines are split at every cell edge, so the lengths
    are exact for straight segments. Only cells (no runs) are returned.

    Examples
    --------
    >>> import shapely
    >>> from affine import Affine
    >>> cov = line_coverage([shapely.LineString([(5, 15), (20, 15)])], Affine(10, 0, 0, 0, -10, 20), (2, 2))
    >>> cov.cell_row.tolist(), cov.cell_col.tolist(), cov.cell_frac.tolist()
    ([0, 0], [0, 1], [5.0, 10.0])
    """
    import shapely

    geoms = np.asarray(geoms, dtype=object)
    inv = ~transform
    parts, part_zone = shapely.get_parts(geoms, return_index=True)
    coords, idx = shapely.get_coordinates(parts, return_index=True)
    empty_i = np.zeros(0, dtype=np.int32)
    same = np.nonzero(idx[1:] == idx[:-1])[0] if len(idx) > 1 else np.zeros(0, dtype=np.int64)
    if len(same) == 0:
        return Coverage(empty_i, empty_i, empty_i, np.zeros(0), empty_i, empty_i, empty_i, empty_i, np.zeros(0),
                        presorted=True)
    col = inv.a * coords[:, 0] + inv.b * coords[:, 1] + inv.c
    row = inv.d * coords[:, 0] + inv.e * coords[:, 1] + inv.f
    zone = part_zone[idx[same]].astype(np.int64)
    x0, y0, x1, y1, s = _split(col[same], row[same], col[same + 1], row[same + 1], axis=0)
    zone = zone[s]
    x0, y0, x1, y1, s = _split(x0, y0, x1, y1, axis=1)
    zone = zone[s]
    t = transform
    dc, dr = x1 - x0, y1 - y0
    length = np.hypot(t.a * dc + t.b * dr, t.d * dc + t.e * dr)  # map length of each piece
    r = np.floor(0.5 * (y0 + y1)).astype(np.int64)
    c = np.floor(0.5 * (x0 + x1)).astype(np.int64)
    ok = (length > 0) & (r >= 0) & (r < shape[0]) & (c >= 0) & (c < shape[1])
    key = (r[ok] * shape[1] + c[ok]) * max(len(geoms), 1) + zone[ok]
    ukey, inv_k = np.unique(key, return_inverse=True)
    frac = np.bincount(inv_k, length[ok], minlength=len(ukey))
    z = (ukey % max(len(geoms), 1)).astype(np.int32)
    cell = ukey // max(len(geoms), 1)
    return Coverage((cell // shape[1]).astype(np.int32), (cell % shape[1]).astype(np.int32), z, frac,
                    empty_i, empty_i, empty_i, empty_i, np.zeros(0), presorted=True)


def merge_coverages(parts: list[Coverage]) -> Coverage:
    """One coverage from several (each sorted by row), e.g. polygon zones and line zones of one grid."""
    parts = [p for p in parts if p is not None]
    if len(parts) == 1:
        return parts[0]
    return _merge(parts)


def _merge(parts):
    """Merge batch coverages (each sorted by row) into one sorted by row, one field at a time (low peak memory)."""
    out = {}
    for fields in (("cell_row", "cell_col", "cell_zone", "cell_frac"),
                   ("run_row", "run_c0", "run_c1", "run_zone", "run_w")):
        rows = np.concatenate([getattr(p, fields[0]) for p in parts])
        order = np.argsort(rows, kind="stable")  # timsort merges the sorted batches
        out[fields[0]] = rows[order]
        del rows
        for f in fields[1:]:
            col = np.concatenate([getattr(p, f) for p in parts])
            for p in parts:
                setattr(p, f, None)
            out[f] = col[order]
            del col
        del order
    return Coverage(**out, presorted=True)


def _runs(urow, ucol, uzone, gfirst, run_val, height, width):
    """Runs of untouched cells between consecutive boundary cells of a (row, zone) group, with their weight."""
    nxt_same = np.zeros(len(urow), dtype=bool)
    np.logical_not(gfirst[1:], out=nxt_same[:-1])
    i = np.nonzero(nxt_same & (np.abs(run_val) > _FLOAT_EPS))[0]
    rv = run_val[i]
    rc0 = np.clip(ucol[i] + 1, 0, width)
    rc1 = np.clip(ucol[i + 1], 0, width)
    rr = urow[i]
    ok = np.nonzero((rc1 > rc0) & (rr >= 0) & (rr < height))[0]
    rv = rv[ok]
    rvr = np.round(rv)
    rv = np.where(np.abs(rv - rvr) < 1e-6, rvr, rv)
    return rr[ok], rc0[ok], rc1[ok], uzone[i][ok], rv


def _pieces(x0, y0, x1, y1, zone):
    """(Δy, Δy counted in its own cell, row, col, zone) of the non-horizontal pieces (each within one cell)."""
    dy = y1 - y0
    keep = np.nonzero(dy != 0.0)[0]  # horizontal pieces contribute nothing
    dy = dy[keep]
    mx = 0.5 * (x0[keep] + x1[keep])
    row = np.floor(0.5 * (y0[keep] + y1[keep])).astype(np.int64)
    col_f = np.floor(mx)
    a = dy * (1.0 - (mx - col_f))  # part of the piece's Δy counted in its own cell
    return dy, a, row, col_f.astype(np.int64), zone[keep]


def _coverage_batch(x0, y0, x1, y1, zone, transform, shape, tick) -> Coverage:
    height, width = shape
    # split at integer columns then rows: every piece lies in one cell
    x0, y0, x1, y1, s = _split(x0, y0, x1, y1, axis=0)
    zone = zone[s]
    x0, y0, x1, y1, s = _split(x0, y0, x1, y1, axis=1)
    zone = zone[s]
    tick("split")
    dy, a, row, col, zone = _pieces(x0, y0, x1, y1, zone)
    del x0, x1, y0, y1, s
    empty_i = np.zeros(0, dtype=np.int32)
    if len(dy) == 0:
        return Coverage(empty_i, empty_i, empty_i, np.zeros(0), empty_i, empty_i, empty_i, empty_i, np.zeros(0))
    nz = int(zone.max()) + 1
    cmin, rmin = int(col.min()), int(row.min())
    wext = int(col.max() - cmin + 2)
    # key orders cells by (row, zone, col): rows first so the result is already sorted by row
    key = ((row - rmin) * nz + zone) * wext + (col - cmin)
    del row, zone, col
    tick("keys")
    order = np.argsort(key)
    tick("argsort")
    key = key[order]
    a = a[order]
    dy = dy[order]
    del order
    first = np.empty(len(key), dtype=bool)
    first[0] = True
    np.not_equal(key[1:], key[:-1], out=first[1:])
    starts = np.nonzero(first)[0]
    ukey = key[starts]
    del key, first
    A = np.add.reduceat(a, starts)
    D = np.add.reduceat(dy, starts)
    del a, dy, starts
    tick("reduce")
    group = ukey // wext  # (row, zone)
    ucol = (ukey - group * wext + cmin).astype(np.int32)
    uzone = (group % nz).astype(np.int32)
    urow = (group // nz + rmin).astype(np.int32)
    del ukey
    # running sum of D within each (row, zone) group
    csum = np.cumsum(D)
    gfirst = np.empty(len(group), dtype=bool)
    gfirst[0] = True
    np.not_equal(group[1:], group[:-1], out=gfirst[1:])
    gstart_idx = np.maximum.accumulate(np.where(gfirst, np.arange(len(group)), 0))
    incl = csum - (csum[gstart_idx] - D[gstart_idx])
    excl = incl - D
    del csum, gstart_idx
    # exteriors are counter-clockwise in the map plane; the pixel transform's determinant decides
    # whether that is clockwise in (col, row), hence the sign of the accumulated area
    sign = 1.0 if (transform.a * transform.e - transform.b * transform.d) < 0 else -1.0
    frac = sign * (excl + A)
    run_val = sign * incl
    tick("cumsum")
    # boundary cells
    inside = (urow >= 0) & (urow < height) & (ucol >= 0) & (ucol < width) & (frac > 1e-12)
    cells = (urow[inside], ucol[inside], uzone[inside], np.minimum(frac[inside], 1.0))
    runs = _runs(urow, ucol, uzone, gfirst, run_val, height, width)
    tick("runs")
    return Coverage(*cells, *runs, presorted=True)
