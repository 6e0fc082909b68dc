"""True areas of the cells of raster grids (:class:`CellArea`), from the one density of :mod:`bazhong_geo.geodesy`.

Closed form for geographic rasters (the area of an ellipsoidal quadrangle between two parallels); for
projected rasters the plane area times the density on a grid of points about 2 km apart, interpolated
bilinearly (error < 3e-8). Where the density is 1 within 1e-8 (LAEA, Albers, EASE on the ellipsoid) the plane
area is used as is. PROJ's Mollweide is spherical (R = a), so a GHSL Mollweide cell's true area differs from
its plane area (by 0.3 % at Bazhong's latitude).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .._errors import UnsupportedGridError
from ..geodesy import AreaDensity, area_density, area_km2, ellipsoid_band_area, equal_area_crs
from .raster import check_north_up

__all__ = ["AreaDensity", "CellArea", "area_density", "area_km2", "ellipsoid_band_area", "equal_area_crs"]


class CellArea:
    """True area in m² of the cells of a raster grid (see the module docstring).

    Parameters
    ----------
    crs : anything pyproj accepts
    transform : affine.Affine
    shape : (int, int)
        (height, width).
    coarse_step : int
        Largest step, in cells, of the grid of points where the area density is evaluated.

    Attributes
    ----------
    kind : {"geographic", "equal_area", "projected"}
        How areas are obtained.
    row_area : numpy.ndarray or None
        m² per cell for each row, where the area depends on the row only (geographic, equal-area, and
        projections whose scale varies with y only, such as Mollweide).
    max_run : int
        Longest run of cells that may share one area value (relative error < 1e-5).

    Examples
    --------
    >>> from affine import Affine
    >>> ca = CellArea("EPSG:4545", Affine(100, 0, 500_000, 0, -100, 3_500_000), (4, 4))
    >>> ca.kind, round(float(ca.grid()[0, 0]), 2)     # 1 ha on the central meridian (scale 1 there)
    ('equal_area', 10000.0)
    >>> ca = CellArea("EPSG:4545", Affine(100, 0, 560_000, 0, -100, 3_500_000), (4, 4))
    >>> ca.kind, round(float(ca.grid()[0, 0]), 2)     # 60 km east the plane is stretched (scale > 1)
    ('projected', 9999.11)
    """

    def __init__(self, crs, transform, shape, *, coarse_step: int = 256):
        from pyproj import CRS

        self.crs = CRS.from_user_input(crs)
        self.transform = transform
        self.shape = shape
        height, width = shape
        t = transform
        plane = abs(t.a * t.e - t.b * t.d)
        self.max_run = max(width, 1)
        if self.crs.is_geographic:
            check_north_up(t, "a longitude/latitude raster")
            ell = self.crs.ellipsoid
            a, f = ell.semi_major_metre, 1.0 / ell.inverse_flattening if ell.inverse_flattening else 0.0
            edges = t.f + t.e * np.arange(height + 1, dtype=np.float64)
            band = ellipsoid_band_area(np.clip(edges, -90, 90), a, f)
            self.row_area = np.abs(np.diff(band)) * np.radians(abs(t.a))
            self.kind = "geographic"
            return
        # grid step about 2 km: bilinear error ~ (step / R)² / 4 < 3e-8
        step = int(max(1, min(coarse_step, np.ceil(2000.0 / np.sqrt(plane)), max(height, width))))
        rs = np.unique(np.r_[np.arange(0, height, step), height - 1]).astype(np.float64) + 0.5
        cs = np.unique(np.r_[np.arange(0, width, step), width - 1]).astype(np.float64) + 0.5
        # probe 5 columns first: an equal-area grid, or one whose area depends on the row only (Mollweide:
        # latitude is a function of y), needs no more; otherwise evaluate the whole coarse grid
        probe = cs[np.unique(np.linspace(0, len(cs) - 1, 5).round().astype(int))]
        factor = self._density(probe, rs)
        if np.max(np.abs(factor / factor.flat[0] - 1.0)) < 1e-8:  # equal-area: one density everywhere
            self.kind = "equal_area"
            f0 = float(factor.flat[0])
            self.row_area = np.full(height, plane if abs(f0 - 1.0) < 1e-8 else plane * f0)
            return
        self.kind = "projected"
        if t.b == 0 and t.d == 0 and np.all(np.abs(factor / factor[:, :1] - 1.0) < 1e-10):
            self.row_area = np.interp(np.arange(height, dtype=np.float64) + 0.5, rs, plane * factor[:, 0])
            return
        grid = plane * self._density(cs, rs)
        self.row_area = None
        # interpolate the coarse grid to every row once; columns are interpolated on demand
        rows = np.arange(height, dtype=np.float64) + 0.5
        self._rowgrid = np.empty((height, len(cs)))
        for jj in range(len(cs)):
            self._rowgrid[:, jj] = np.interp(rows, rs, grid[:, jj])
        cols = np.arange(width, dtype=np.float64) + 0.5
        j = np.clip(np.searchsorted(cs, cols) - 1, 0, max(len(cs) - 2, 0))
        j1 = np.minimum(j + 1, len(cs) - 1)
        span = np.where(j1 > j, cs[j1] - cs[j], 1.0)
        self._cj, self._cj1 = j, j1
        self._cw = np.clip(np.where(j1 > j, (cols - cs[j]) / span, 0.0), 0.0, 1.0)
        # relative change of the cell area per cell along a row -> longest run whose single area
        # (taken at its middle) is within 1e-5 of every cell's area
        if len(cs) > 1:
            g = np.abs(np.diff(grid, axis=1)) / grid[:, 1:] / np.diff(cs)
            gmax = float(g.max())
            self.max_run = int(max(16, min(width, 2e-5 / gmax))) if gmax > 0 else max(width, 1)

    def _density(self, cols, rows) -> np.ndarray:
        """:func:`area_density` at the cell centres (rows × cols, fractional cell indices)."""
        t = self.transform
        C, R = np.meshgrid(cols, rows)
        with np.errstate(all="ignore"):
            factor = area_density(self.crs, t.a * C + t.b * R + t.c, t.d * C + t.e * R + t.f)
        if not np.all(np.isfinite(factor)):
            raise UnsupportedGridError(
                "the raster extends where its projection is undefined; cannot compute cell areas (clip the raster)")
        return factor

    def at(self, rows: ArrayLike, cols: ArrayLike, chunk: int = 1_000_000) -> np.ndarray:
        """m² of the cells at integer (rows, cols) (computed in chunks to bound temporary memory)."""
        if self.row_area is not None:
            return self.row_area[rows]
        shape = np.shape(rows)
        rows, cols = np.ravel(rows), np.ravel(cols)
        out = np.empty(len(rows))
        g = self._rowgrid.ravel()
        ncs = self._rowgrid.shape[1]
        for i in range(0, len(rows), chunk):
            r = np.asarray(rows[i:i + chunk], dtype=np.int64) * ncs
            c = cols[i:i + chunk]
            w = self._cw[c]
            out[i:i + chunk] = g[r + self._cj[c]] * (1.0 - w) + g[r + self._cj1[c]] * w
        return out.reshape(shape)

    def grid(self, r0: int = 0, r1: int | None = None, *, compact: bool = False) -> np.ndarray:
        """m² of every cell of rows ``r0 <= row < r1`` as a (rows, width) array.

        With ``compact``, a grid whose area depends on the row only gives a (rows, 1) array (broadcasts).
        """
        r1 = self.shape[0] if r1 is None else r1
        width = self.shape[1]
        if self.row_area is not None:
            col = self.row_area[r0:r1, None]
            return col.copy() if compact else np.repeat(col, width, axis=1)
        rg = self._rowgrid[r0:r1]
        return rg[:, self._cj] * (1.0 - self._cw) + rg[:, self._cj1] * self._cw


