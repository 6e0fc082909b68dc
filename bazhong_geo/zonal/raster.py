"""One raster opener for the zonal engine: a path, an open rasterio dataset, or ``(array, transform, crs)``.

Every failure is a :class:`~bazhong_geo._errors.BazhongGeoError` subclass naming the raster:
:class:`RasterNotFoundError` (no such file, or not a raster), :class:`MissingCRSError` (no CRS and none
assumed), :class:`UnsupportedGridError` (rotated or sheared transform, not 2-D).

>>> import numpy as np
>>> from affine import Affine
>>> with open_raster((np.ones((2, 3)), Affine(10, 0, 0, 0, -10, 20), "EPSG:4545")) as r:
...     r.shape, r.crs.to_epsg(), r.read(1).sum()
((2, 3), 4545, np.float64(6.0))
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import MissingCRSError, RasterNotFoundError, UnsupportedGridError

__all__ = ["ArrayDataset", "Raster", "check_north_up", "open_raster"]


def check_north_up(transform: Any, name: str) -> None:
    """Raise UnsupportedGridError unless ``transform`` is axis-aligned (no rotation or shear).

    >>> from affine import Affine
    >>> check_north_up(Affine(1, 0.5, 0, 0, -1, 0), "pop.tif")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    bazhong_geo._errors.UnsupportedGridError: raster pop.tif: transform (1.0, 0.5, ...) is rotated or sheared; warp...
    """
    if transform.b != 0 or transform.d != 0:
        raise UnsupportedGridError(
            f"raster {name}: transform {tuple(transform)[:6]} is rotated or sheared; warp it to a north-up grid "
            f"(gdalwarp) first")


class ArrayDataset:
    """A 2-D array on a grid with the small part of rasterio's dataset interface the zonal engine reads."""

    count = 1

    def __init__(self, array, transform, crs, nodata=None, name: str = "<array>"):
        from affine import Affine

        arr = np.ma.asarray(array)
        if arr.ndim != 2:
            raise UnsupportedGridError(f"raster {name}: expected a 2-D array, got shape {arr.shape}")
        if np.ma.is_masked(arr):
            if nodata is None:  # masked cells become NaN (integer arrays are widened to float64 for that)
                arr = arr.astype(np.float64) if arr.dtype.kind != "f" else arr
                nodata = np.nan
            arr = arr.filled(nodata)
        self.array = np.asarray(arr)
        self.transform = transform if isinstance(transform, Affine) else Affine(*tuple(transform)[:6])
        self.crs = crs
        self.height, self.width = self.array.shape
        self.nodatavals = (nodata,)
        self.dtypes = (str(self.array.dtype),)
        self.block_shapes = [(1, self.width)]
        self.name = name

    def read(self, band: int = 1, window: Any = None, masked: bool = False) -> np.ndarray:
        """The band's values (``band`` must be 1), optionally in a rasterio ``Window``, optionally masked."""
        if band != 1:
            raise UnsupportedGridError(f"raster {self.name}: an array raster has one band, not band {band}")
        data = self.array
        if window is not None:
            r0, c0 = int(window.row_off), int(window.col_off)
            data = data[r0:r0 + int(window.height), c0:c0 + int(window.width)]
        if not masked:
            return data
        nd = self.nodatavals[0]
        mask = np.zeros(data.shape, bool) if nd is None else (np.isnan(data) if np.isnan(nd) else data == nd)
        return np.ma.MaskedArray(data, mask=mask)


@dataclass
class Raster:
    """An open raster and what the zonal engine needs to know about it.

    Attributes
    ----------
    dataset : rasterio dataset or ArrayDataset
    crs : pyproj.CRS
        The raster's CRS (or the assumed one when it has none).
    name : str
        File name (or a label) used in messages.
    """

    dataset: Any
    crs: Any
    name: str

    @property
    def transform(self) -> Any:
        """The affine transform of the grid."""
        return self.dataset.transform

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width)."""
        return (self.dataset.height, self.dataset.width)

    def nodata(self, band: int = 1) -> float | None:
        """The band's nodata value (None when it has none)."""
        return self.dataset.nodatavals[band - 1]

    def read(self, band: int = 1, window: Any = None, masked: bool = False) -> np.ndarray:
        """Read a band (or a window of it)."""
        return self.dataset.read(band, window=window, masked=masked)


def _pyproj_crs(crs):
    from pyproj import CRS

    return CRS.from_user_input(crs.to_wkt() if hasattr(crs, "to_wkt") and not isinstance(crs, CRS) else crs)


@contextmanager
def open_raster(source: Any, *, crs: Any = None, what: str = "raster", north_up: bool = True,
                crs_arg: str | None = "raster_crs") -> Iterator[Raster]:
    """Open a raster for zonal work, whatever form it comes in (a context manager yielding a :class:`Raster`).

    Parameters
    ----------
    source : str, os.PathLike, rasterio dataset, or (array, transform, crs)
        A file (opened and closed here), an already open dataset (left open), or an in-memory grid.
    crs : optional
        CRS to assume when the raster has none (otherwise a raster without CRS is an error).
    what : str
        What the raster is (e.g. "population raster"), used in messages.
    north_up : bool
        Refuse rotated or sheared transforms (the default; the coverage engine itself accepts them for
        projected grids; a rotated longitude/latitude grid is always refused, naming the raster).
    crs_arg : str or None
        Name of the caller's argument that gives ``crs`` (named in the missing-CRS message); None when the
        caller has no such argument.

    Yields
    ------
    Raster

    Raises
    ------
    RasterNotFoundError
        ``source`` is a path that does not exist or is not a raster GDAL reads.
    MissingCRSError
        The raster has no CRS and ``crs`` is not given.
    UnsupportedGridError
        A rotated or sheared transform (with ``north_up``, or on a longitude/latitude grid), or an array that
        is not 2-D.
    """
    if isinstance(source, (str, os.PathLike)):
        import rasterio
        from rasterio.errors import RasterioIOError

        name = os.fspath(source)
        if not Path(name).exists():
            raise RasterNotFoundError(f"{what}: no such file {name!r} (it does not exist); check the path")
        try:
            ds = rasterio.open(name)
        except RasterioIOError as exc:
            raise RasterNotFoundError(f"{what}: {name!r} is not a raster GDAL can read ({exc}); "
                                      f"pass a GeoTIFF") from None
        with ds:
            yield _checked(ds, name, crs, what, north_up, crs_arg)
        return
    if hasattr(source, "read") and hasattr(source, "transform"):
        yield _checked(source, getattr(source, "name", "<dataset>"), crs, what, north_up, crs_arg)
        return
    if isinstance(source, (tuple, list)) and len(source) == 3 and hasattr(source[0], "shape"):
        arr, transform, acrs = source
        yield _checked(ArrayDataset(arr, transform, acrs, name=f"{what} array"), f"{what} array", crs, what,
                       north_up, crs_arg)
        return
    raise TypeError(f"{what}: expected a GeoTIFF path, an open rasterio dataset or (array, transform, crs); "
                    f"got {type(source).__name__}")


def _checked(ds, name, crs, what, north_up, crs_arg) -> Raster:
    from pyproj import CRS

    if ds.crs is None and crs is None:
        how = ("pass (array, transform, crs) with a CRS" if isinstance(ds, ArrayDataset)
               else "set it in the file (gdal_edit.py -a_srs EPSG:xxxx)")
        if crs_arg:
            how += f", or pass {crs_arg}=..."
        raise MissingCRSError(
            f"{what} {name}: no CRS given (coordinate reference system); {how} (e.g. 'EPSG:4326' for "
            f"longitude/latitude, 'ESRI:54009' for GHSL Mollweide, 'EPSG:4545' for the work CRS)")
    rcrs = CRS.from_user_input(crs) if crs is not None else _pyproj_crs(ds.crs)
    if north_up or rcrs.is_geographic:  # true cell areas of a longitude/latitude grid need it north-up
        check_north_up(ds.transform, name)
    return Raster(ds, rcrs, name)
