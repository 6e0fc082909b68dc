"""Private engine of builtup: exact cell coverage fractions of polygons and true cell areas, vectorised.

Coverage fractions
------------------
For a polygon P and a raster cell C, the coverage fraction is area(P ∩ C) / area(C) measured in the
raster's own plane — the definition exactextract uses. We compute it without clipping any geometry, by
Green's theorem: for the strip S of one raster row,

    area(P ∩ S ∩ {x < X}) = ∮_{∂P ∩ S} min(x, X) dy            (x = column, y = row, pixel units)

so the coverage of cell column c of that row is Σ over boundary pieces of ∫ (clamp(x, c, c+1) - c) dy.
After splitting every polygon edge at each integer column and row (each piece then lies in one cell),
a piece in column k contributes 0 to cells left of it, its whole Δy to cells right of it and
Δy·(mean x - k) to its own cell. Sorting pieces by (zone, row, column) and taking a running sum along
each row gives the exact fraction of every cell touched by the boundary, and the constant coverage
(1 inside, 0 outside) of the run of untouched cells between two touched ones. This is the
"signed-area accumulation" used by font rasterisers, done for all zones at once with numpy.

The result is stored sparsely: *cells* (row, col, zone, fraction) for the boundary cells and
*runs* (row, col0, col1, zone, weight) for the interiors, both sorted by row so that a raster can
be streamed block by block and aggregated with running sums and ``np.bincount``.

Cell areas
----------
True (ellipsoidal) area of each cell in m²: closed form for geographic rasters (area of an
ellipsoidal quadrangle between two parallels), the plane area for equal-area projections
(areal scale factor 1 within 1e-8, e.g. Mollweide, LAEA, Albers, EASE) and the plane area divided by
PROJ's areal scale factor for other projections (UTM, Gauss–Krüger), interpolated bilinearly from a
coarse grid of exact factors (error < 1e-8 relative for grids the size of a prefecture).
"""

from __future__ import annotations

import numpy as np

# Runs in conformal projections are cut into pieces at most this many cells long so that one area
# per piece (taken at its middle) stays within ~1e-6 of the per-cell areas (see CellArea.max_run).
_FLOAT_EPS = 1e-9


# ------------------------------------------------------------------------------------ segment splitting

def _split(x0, y0, x1, y1, axis):
    """Split segments at every integer value of x (axis=0) or y (axis=1), keeping order along each."""
    a0, a1 = (x0, x1) if axis == 0 else (y0, y1)
    lo = np.floor(np.minimum(a0, a1)) + 1.0
    hi = np.ceil(np.maximum(a0, a1)) - 1.0
    n = np.maximum(hi - lo + 1.0, 0.0).astype(np.int64)
    n_pts = n + 2
    total = int(n_pts.sum())
    seg = np.repeat(np.arange(len(x0)), n_pts)
    first = np.cumsum(n_pts) - n_pts
    j = np.arange(total) - np.repeat(first, n_pts)  # 0 .. n+1 within each segment
    asc = np.repeat(a1 > a0, n_pts)
    k = np.where(asc, np.repeat(lo, n_pts) + (j - 1), np.repeat(hi, n_pts) - (j - 1)).astype(np.float64)
    sx0, sy0, sx1, sy1 = x0[seg], y0[seg], x1[seg], y1[seg]
    da = (a1 - a0)[seg]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(da != 0, (k - (a0[seg])) / da, 0.0)
    last = j == np.repeat(n + 1, n_pts)
    t = np.where(j == 0, 0.0, np.where(last, 1.0, t))
    px = sx0 + t * (sx1 - sx0)
    py = sy0 + t * (sy1 - sy0)
    # snap the split coordinate to the exact integer to avoid round-off straddling a cell edge
    inner = (j > 0) & ~last
    if axis == 0:
        px = np.where(inner, k, px)
        px = np.where(last, sx1, px)
        py = np.where(last, sy1, py)
    else:
        py = np.where(inner, k, py)
        px = np.where(last, sx1, px)
        py = np.where(last, sy1, py)
    start = ~last  # every point but the last of its segment starts a piece
    idx = np.nonzero(start)[0]
    return px[idx], py[idx], px[idx + 1], py[idx + 1], seg[idx]


def ring_segments(geoms, inverse_transform):
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

    def __init__(self, cell_row, cell_col, cell_zone, cell_frac, run_row, run_c0, run_c1, run_zone, run_w):
        o = np.argsort(cell_row, kind="stable")
        self.cell_row, self.cell_col = cell_row[o], cell_col[o]
        self.cell_zone, self.cell_frac = cell_zone[o], cell_frac[o]
        o = np.argsort(run_row, kind="stable")
        self.run_row, self.run_c0, self.run_c1 = run_row[o], run_c0[o], run_c1[o]
        self.run_zone, self.run_w = run_zone[o], run_w[o]

    def rows_slice(self, r0, r1):
        """Return (cell slice, run slice) of entries with r0 <= row < r1."""
        cs = slice(*np.searchsorted(self.cell_row, [r0, r1]))
        rs = slice(*np.searchsorted(self.run_row, [r0, r1]))
        return cs, rs

    def split_runs(self, max_len):
        """Cut runs longer than ``max_len`` cells (used where the cell area varies along a row)."""
        length = self.run_c1 - self.run_c0
        n = np.maximum(-(-length // max_len), 1)
        if n.max(initial=1) <= 1:
            return
        rep = np.repeat(np.arange(len(length)), n)
        j = np.arange(len(rep)) - np.repeat(np.cumsum(n) - n, n)
        c0 = self.run_c0[rep] + j * max_len
        c1 = np.minimum(c0 + max_len, self.run_c1[rep])
        self.run_row, self.run_zone, self.run_w = self.run_row[rep], self.run_zone[rep], self.run_w[rep]
        self.run_c0, self.run_c1 = c0, c1

    def coverage_sum(self, n_zones):
        """Total covered cells per zone (Σ fraction), for checks."""
        return (np.bincount(self.cell_zone, self.cell_frac, minlength=n_zones)
                + np.bincount(self.run_zone, (self.run_c1 - self.run_c0) * self.run_w, minlength=n_zones))


def compute_coverage(geoms, transform, shape) -> Coverage:
    """Exact coverage fractions of ``geoms`` (in the raster CRS) on the grid ``transform``/``shape``."""
    height, width = shape
    x0, y0, x1, y1, zone = ring_segments(geoms, ~transform)
    # split at integer columns then rows: every piece lies in one cell
    x0, y0, x1, y1, s = _split(x0, y0, x1, y1, axis=0)
    zone = zone[s]
    x0, y0, x1, y1, s = _split(x0, y0, x1, y1, axis=1)
    zone = zone[s]
    dy = y1 - y0
    keep = dy != 0.0
    x0, x1, y0, y1, dy, zone = x0[keep], x1[keep], y0[keep], y1[keep], dy[keep], zone[keep]
    mx = 0.5 * (x0 + x1)
    my = 0.5 * (y0 + y1)
    col = np.floor(mx).astype(np.int64)
    row = np.floor(my).astype(np.int64)
    a = dy * (1.0 - (mx - col))  # part of the piece's Δy counted in its own cell
    empty_i = np.zeros(0, dtype=np.int64)
    if len(dy) == 0:
        return Coverage(empty_i, empty_i, empty_i, np.zeros(0), empty_i, empty_i, empty_i, empty_i, np.zeros(0))
    cmin, rmin = col.min(), row.min()
    wext = int(col.max() - cmin + 2)
    hext = int(row.max() - rmin + 1)
    key = (zone * hext + (row - rmin)) * wext + (col - cmin)
    order = np.argsort(key, kind="stable")
    key = key[order]
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    starts = np.nonzero(first)[0]
    ukey = key[starts]
    A = np.add.reduceat(a[order], starts)
    D = np.add.reduceat(dy[order], starts)
    group = ukey // wext  # (zone, row)
    ucol = ukey - group * wext + cmin
    uzone = group // hext
    urow = group - uzone * hext + rmin
    # running sum of D within each (zone, row) group
    csum = np.cumsum(D)
    gfirst = np.ones(len(group), dtype=bool)
    gfirst[1:] = group[1:] != group[:-1]
    gstart_idx = np.maximum.accumulate(np.where(gfirst, np.arange(len(group)), 0))
    base = csum[gstart_idx] - D[gstart_idx]
    incl = csum - base
    excl = incl - D
    # the orientation (exterior counter-clockwise in the map plane) and the sign of the pixel
    # transform's determinant fix the sign of the accumulated area
    sign = -1.0 if (transform.a * transform.e - transform.b * transform.d) < 0 else 1.0
    sign = -sign
    frac = sign * (excl + A)
    run_val = sign * incl
    # cells
    inside = (urow >= 0) & (urow < height) & (ucol >= 0) & (ucol < width) & (np.abs(frac) > 1e-12)
    cell_row, cell_col, cell_zone = urow[inside], ucol[inside], uzone[inside]
    cell_frac = np.clip(frac[inside], 0.0, None)
    # runs between consecutive cells of a group
    nxt_same = np.zeros(len(group), dtype=bool)
    nxt_same[:-1] = group[1:] == group[:-1]
    i = np.nonzero(nxt_same)[0]
    rv = run_val[i]
    rc0 = ucol[i] + 1
    rc1 = ucol[i + 1]
    rr = urow[i]
    rz = uzone[i]
    ok = (rc1 > rc0) & (np.abs(rv) > _FLOAT_EPS) & (rr >= 0) & (rr < height)
    rc0, rc1, rr, rz, rv = rc0[ok], rc1[ok], rr[ok], rz[ok], rv[ok]
    rc0 = np.clip(rc0, 0, width)
    rc1 = np.clip(rc1, 0, width)
    ok = rc1 > rc0
    rv = rv[ok]
    rvr = np.round(rv)
    rv = np.where(np.abs(rv - rvr) < 1e-6, rvr, rv)
    return Coverage(cell_row.astype(np.int32), cell_col.astype(np.int32), cell_zone.astype(np.int32), cell_frac,
                    rr[ok].astype(np.int32), rc0[ok].astype(np.int32), rc1[ok].astype(np.int32),
                    rz[ok].astype(np.int32), rv)


# ------------------------------------------------------------------------------------ cell areas

def _ellipsoid_band_area(lat_deg, a, f):
    """Area (m²) on the ellipsoid between the equator and latitude φ, per radian of longitude."""
    e2 = f * (2.0 - f)
    e = np.sqrt(e2)
    b2 = (a * (1.0 - f)) ** 2
    s = np.sin(np.radians(lat_deg))
    if e == 0:
        return a * a * s
    return 0.5 * b2 * (s / (1.0 - e2 * s * s) + np.log((1.0 + e * s) / (1.0 - e * s)) / (2.0 * e))


class CellArea:
    """True area in m² of the cells of a raster grid (see module docstring).

    Attributes
    ----------
    kind : {"geographic", "equal_area", "conformal"}
        How areas are obtained.
    row_area : numpy.ndarray or None
        m² per cell for each row, where the area depends on the row only (geographic, equal-area).
    max_run : int
        Longest run of cells that may share one area value (relative error < 1e-6).
    """

    def __init__(self, crs, transform, shape, *, coarse_step=256):
        from pyproj import CRS

        self.crs = CRS.from_user_input(crs)
        self.transform = transform
        self.shape = shape
        height, width = shape
        t = transform
        plane = abs(t.a * t.e - t.b * t.d)
        self.max_run = max(width, 1)
        if self.crs.is_geographic:
            if t.b != 0 or t.d != 0:
                raise ValueError("rotated geographic rasters are not supported; warp the raster north-up first")
            ell = self.crs.ellipsoid
            a, f = ell.semi_major_metre, 1.0 / ell.inverse_flattening if ell.inverse_flattening else 0.0
            edges = t.f + t.e * np.arange(height + 1, dtype=np.float64)
            band = _ellipsoid_band_area(np.clip(edges, -90, 90), a, f)
            self.row_area = np.abs(np.diff(band)) * np.radians(abs(t.a))
            self.kind = "geographic"
            return
        # projected: exact areal scale factors on a coarse grid
        from pyproj import Proj, Transformer

        step = max(1, min(coarse_step, max(height, width)))
        rs = np.unique(np.r_[np.arange(0, height, step), height - 1]).astype(np.float64) + 0.5
        cs = np.unique(np.r_[np.arange(0, width, step), width - 1]).astype(np.float64) + 0.5
        C, R = np.meshgrid(cs, rs)
        X = t.a * C + t.b * R + t.c
        Y = t.d * C + t.e * R + t.f
        to_geo = Transformer.from_crs(self.crs, self.crs.geodetic_crs, always_xy=True)
        lon, lat = to_geo.transform(X, Y)
        scale = np.asarray(Proj(self.crs).get_factors(lon, lat, errcheck=False).areal_scale, dtype=np.float64)
        if not np.all(np.isfinite(scale)):
            raise ValueError("the raster extends where its projection is undefined; cannot compute cell areas")
        if np.max(np.abs(scale - 1.0)) < 1e-8:
            self.kind = "equal_area"
            self.row_area = np.full(height, plane)
            return
        self.kind = "conformal"
        self.row_area = None
        self._rs, self._cs = rs, cs
        self._grid = plane / scale
        # relative gradient along a row, per cell -> longest run with < 1e-6 error at its middle
        if len(cs) > 1:
            g = np.abs(np.diff(self._grid, axis=1)) / self._grid[:, 1:] / np.diff(cs)
            gmax = float(g.max())
            self.max_run = int(max(8, min(width, 2e-6 / gmax))) if gmax > 0 else max(width, 1)

    def at(self, rows, cols):
        """m² of the cells at integer (rows, cols) (or fractional cell positions for run middles)."""
        rows = np.asarray(rows, dtype=np.float64)
        cols = np.asarray(cols, dtype=np.float64)
        if self.row_area is not None:
            return self.row_area[rows.astype(np.int64)]
        r = rows + 0.5
        c = cols + 0.5
        rs, cs, g = self._rs, self._cs, self._grid
        i = np.clip(np.searchsorted(rs, r) - 1, 0, max(len(rs) - 2, 0))
        j = np.clip(np.searchsorted(cs, c) - 1, 0, max(len(cs) - 2, 0))
        if len(rs) == 1 and len(cs) == 1:
            return np.full(r.shape, g[0, 0])
        i1 = np.minimum(i + 1, len(rs) - 1)
        j1 = np.minimum(j + 1, len(cs) - 1)
        wr = np.where(i1 > i, (r - rs[i]) / np.where(i1 > i, rs[i1] - rs[i], 1.0), 0.0)
        wc = np.where(j1 > j, (c - cs[j]) / np.where(j1 > j, cs[j1] - cs[j], 1.0), 0.0)
        top = g[i, j] * (1 - wc) + g[i, j1] * wc
        bot = g[i1, j] * (1 - wc) + g[i1, j1] * wc
        return top * (1 - wr) + bot * wr
