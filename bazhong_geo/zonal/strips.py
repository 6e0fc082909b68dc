"""Streamed strips of a raster and what the aggregation needs from each (the zonal engine's reading side).

A raster is read in strips of whole block rows, about :data:`bazhong_geo.settings.STRIP_CELLS` cells each, by a
background thread that stays a bounded number of bytes ahead (:data:`PREFETCH_BYTES`), so memory is bounded
whatever the raster's size and reading overlaps the computation. Each strip is summarised by a
:class:`StripSummary`: packed bits of the cells matching a class rule (1 bit per cell), or running sums of the
cell values, plus packed bits of the valid (not nodata) cells; sums over any run of cells are then two lookups.

>>> import numpy as np
>>> s = StripSummary(0, np.array([[1, 0, 1, 1]], dtype="uint8"), classes=[1], nodata=None)
>>> int(s.bits.range_sum(np.array([0]), np.array([4]))[0])
3
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .. import settings

__all__ = [
    "FILL_VALUES",
    "PREFETCH_BYTES",
    "BitPrefix",
    "StripSummary",
    "as_dtype_values",
    "class_mask",
    "fill_mask",
    "fill_warning",
    "fills_found",
    "stream_summaries",
    "strips",
    "valid_mask",
    "values_found",
]

def strips(ds: Any, max_cells: int | None = None) -> list[tuple[int, int]]:
    """Row windows ``(r0, r1)`` aligned to the raster's blocks, each about ``max_cells`` cells.

    ``max_cells`` defaults to :data:`bazhong_geo.settings.STRIP_CELLS` (read at call time).
    """
    max_cells = settings.STRIP_CELLS if max_cells is None else max_cells
    bh = ds.block_shapes[0][0] if ds.block_shapes else 1
    rows = max(bh, (max_cells // max(ds.width, 1)) // bh * bh)
    return [(r, min(r + rows, ds.height)) for r in range(0, ds.height, rows)]


def as_dtype_values(values: ArrayLike, dtype: np.dtype) -> np.ndarray:
    """Values representable in an integer ``dtype``, cast to it (comparisons then stay in that dtype).

    Integer values are compared as integers, never through float64 (which cannot tell 2**53 + 1 from 2**53).

    >>> as_dtype_values([2**53 + 1, -1], np.dtype("int64")).tolist()
    [9007199254740993, -1]
    >>> as_dtype_values([2.0, 0.5], np.dtype("int64")).tolist()
    [2]
    >>> as_dtype_values([300, 7], np.dtype("uint8")).tolist()
    [7]
    """
    dtype = np.dtype(dtype)
    raw = np.asarray(values).ravel()
    if dtype.kind not in "ui":
        return raw.astype(np.float64).astype(dtype)
    info = np.iinfo(dtype)
    if raw.dtype.kind in "ui" or raw.dtype == object:
        ints = [int(v) for v in raw if float(v) == int(v)] if raw.dtype == object else [int(v) for v in raw]
        return np.array([v for v in ints if info.min <= v <= info.max], dtype=dtype)
    raw = raw.astype(np.float64)
    ok = (raw == np.round(raw)) & (raw >= info.min) & (raw <= info.max)
    return raw[ok].astype(dtype)


FILL_VALUES = {"f": (-9999.0,), "i": (-9999,), "u2": (65535,), "u4": (4294967295,), "i2": (-32768, -9999)}
"""Typical fill values of rasters written without a nodata value: -9999 (any signed type), -3.4e38 and below
(float: the float32 lowest value GDAL tools write), 65535 (uint16), 4294967295 (uint32), -32768 (int16, SRTM
voids). When a raster declares no nodata, cells holding these are read as nodata and warned about
(:class:`bazhong_geo._errors.RasterValueWarning`); a raster that declares its nodata is read as declared."""


def fill_mask(data: np.ndarray, keep: ArrayLike | None = None) -> np.ndarray | None:
    """Cells holding a typical fill value (:data:`FILL_VALUES`) of ``data``'s dtype; None when the dtype has none.

    ``keep``: values that are meant (e.g. the classes of a built-up rule) and never read as fills.

    >>> fill_mask(np.array([1.0, -9999.0, -3.4028235e38])).tolist()
    [False, True, True]
    >>> fill_mask(np.array([65535, 3], dtype="uint16")).tolist()
    [True, False]
    """
    dt = data.dtype
    key = f"{dt.kind}{dt.itemsize}"
    values = FILL_VALUES.get(key, FILL_VALUES.get(dt.kind, ())) if dt.kind in "iu" else FILL_VALUES["f"]
    if dt.kind not in "iuf" or (dt.kind == "u" and key not in FILL_VALUES):
        return None
    if keep is not None:
        kept = set(np.asarray(keep).ravel().tolist())
        values = tuple(v for v in values if v not in kept)
    mask = np.zeros(data.shape, dtype=bool)
    for v in values:
        mask |= data == v
    if dt.kind == "f":
        mask |= data <= -1e38
    return mask


def valid_mask(data: np.ndarray, nodata: float | None, keep: ArrayLike | None = None) -> np.ndarray | None:
    """Boolean mask of the cells that hold data; None when every cell is valid.

    Not valid: cells equal to ``nodata``, NaN in float data (whether or not a nodata value is set), and,
    when ``nodata`` is None, the typical fill values of :func:`fill_mask` (except the ``keep`` values).

    >>> valid_mask(np.array([1.0, np.nan, -9999.0]), None).tolist()
    [True, False, False]
    """
    if nodata is None:
        fills = fill_mask(data, keep)
        valid = None if fills is None else ~fills
        if data.dtype.kind == "f":
            valid = ~np.isnan(data) if valid is None else valid & ~np.isnan(data)
        return None if valid is None or valid.all() else valid
    if np.isnan(nodata):
        return ~np.isnan(data) if data.dtype.kind == "f" else None
    nd = as_dtype_values([nodata], data.dtype)
    if nd.size == 0:  # a nodata value the dtype cannot hold: every cell is valid
        return None
    valid = data != nd[0]
    if data.dtype.kind == "f":
        valid &= ~np.isnan(data)
    return valid


def fills_found(data: np.ndarray, nodata: float | None, keep: ArrayLike | None = None) -> dict:
    """{fill value: cells} of the typical fill values in ``data`` when ``nodata`` is None (else {})."""
    if nodata is not None:
        return {}
    fills = fill_mask(data, keep)
    if fills is None or not fills.any():
        return {}
    vals, counts = np.unique(data[fills], return_counts=True)
    return {float(v) if data.dtype.kind == "f" else int(v): int(c) for v, c in zip(vals, counts, strict=False)}


def fill_warning(name: str, fills: dict) -> str:
    """The message for fill values read as nodata in raster ``name`` (empty when there are none)."""
    if not fills:
        return ""
    listing = ", ".join(f"{v:g}: {c} cells" if isinstance(v, float) else f"{v}: {c} cells" for v, c in fills.items())
    first = next(iter(fills))
    return (f"raster {name} declares no nodata value but holds typical fill values ({listing}); they were read as "
            f"nodata. If they are real values, or to silence this, set the nodata in the file (gdal_edit.py "
            f"-a_nodata {first:g} {name})")


def _popcount(words):
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(words)
    table = np.array([i.bit_count() for i in range(256)], dtype=np.uint8)
    return table[words.view(np.uint8)].reshape(-1, 8).sum(axis=1)


class BitPrefix:
    """Prefix counts of a flat boolean array, stored as packed 64-bit words (1 bit per cell)."""

    def __init__(self, mask_flat):
        pb = np.packbits(mask_flat, bitorder="little")
        pad = (-len(pb)) % 8 + 8  # whole words plus one zero word for the end position
        words = np.concatenate([pb, np.zeros(pad, dtype=np.uint8)]).view("<u8")
        self.words = words
        self.cum = np.zeros(len(words) + 1, dtype=np.int64)
        np.cumsum(_popcount(words), out=self.cum[1:])
        self.total = int(self.cum[-1])

    def prefix(self, pos: np.ndarray) -> np.ndarray:
        """Number of set cells before each flat position in ``pos``."""
        q = pos >> 6
        rem = (pos & 63).astype(np.uint64)
        low = (np.uint64(1) << rem) - np.uint64(1)
        return self.cum[q] + _popcount(self.words[q] & low).astype(np.int64)

    def bit(self, pos: np.ndarray) -> np.ndarray:
        """0/1 value of the cells at flat positions ``pos``."""
        return ((self.words[pos >> 6] >> (pos & 63).astype(np.uint64)) & np.uint64(1)).astype(np.float64)

    def range_sum(self, start: np.ndarray, stop: np.ndarray) -> np.ndarray:
        """Number of set cells in each flat range [start, stop)."""
        return self.prefix(stop) - self.prefix(start)


def class_mask(data: np.ndarray, classes: ArrayLike) -> np.ndarray:
    """Boolean mask of the cells whose value is one of ``classes`` (compared in the data's dtype)."""
    classes = as_dtype_values(classes, data.dtype)
    if len(classes) == 0:
        return np.zeros(data.shape, dtype=bool)
    if len(classes) <= 8:
        out = data == classes[0]
        for c in classes[1:]:
            out |= data == c
        return out
    return np.isin(data, classes)


class StripSummary:
    """What the aggregation needs from one strip of the raster, computed without the zone coverage.

    Classes rule: packed bits of built-up and valid cells (1 bit per cell). Fraction rule: running sums
    of the cell values (8 bytes per cell) and packed bits of valid cells.
    """

    __slots__ = ("bits", "csum", "fills", "h", "nbytes", "r0", "valid", "vmax", "vmin", "w")

    def __init__(self, r0, data, classes, nodata):
        self.r0, (self.h, self.w) = r0, data.shape
        flat = data.ravel()
        valid = valid_mask(flat, nodata, keep=classes)
        self.fills = fills_found(flat, nodata, keep=classes) if valid is not None else {}
        self.bits = self.csum = None
        self.vmin, self.vmax = np.inf, -np.inf
        if classes is not None:
            v = class_mask(flat, classes)
            if valid is not None:
                v &= valid
            self.bits = BitPrefix(v)
            self.nbytes = self.bits.words.nbytes + self.bits.cum.nbytes
        else:
            v = flat.astype(np.float64)
            if valid is not None:
                v[~valid] = 0.0
            else:
                v[np.isnan(v)] = 0.0
            if v.size:
                self.vmin, self.vmax = float(v.min()), float(v.max())
            self.csum = np.zeros(v.size + 1)
            np.cumsum(v, out=self.csum[1:])
            self.nbytes = self.csum.nbytes
        self.valid = BitPrefix(valid) if valid is not None else None
        if self.valid is not None:
            self.nbytes += self.valid.words.nbytes + self.valid.cum.nbytes


PREFETCH_BYTES = 96 * 2**20
"""Bytes of strip summaries held ahead of the aggregation by the reading thread."""


def stream_summaries(ds: Any, classes: ArrayLike | None, band: int, progress: bool = False) -> Iterator[StripSummary]:
    """Yield strip summaries, computed in a background thread (bounded by PREFETCH_BYTES).

    The raster is read strip by strip with a small GDAL block cache, so memory stays bounded whatever
    the raster size; reading overlaps the zone-coverage computation and the aggregation.
    """
    import queue
    import threading

    import rasterio
    from rasterio.windows import Window

    windows = strips(ds)
    nodata = ds.nodatavals[band - 1]
    per = max(1, (windows[0][1] - windows[0][0]) * ds.width) if windows else 1
    est = per // 8 * 2 + per // 64 * 16 if classes is not None else per * 8 + per // 4
    q = queue.Queue(maxsize=max(2, PREFETCH_BYTES // max(est, 1)))
    stop = threading.Event()

    def work():
        try:
            with rasterio.Env(GDAL_CACHEMAX=64 * 2**20):
                for r0, r1 in windows:
                    if stop.is_set():
                        return
                    data = ds.read(band, window=Window(0, r0, ds.width, r1 - r0))
                    q.put(StripSummary(r0, data, classes, nodata))
                    del data
        except BaseException as exc:
            q.put(exc)
        q.put(None)

    th = threading.Thread(target=work, name="bazhong_geo-zonal-reader", daemon=True)
    th.start()
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(windows), desc=f"zonal {getattr(ds, 'name', '')}", unit="strip")
    try:
        while True:
            item = q.get()
            if item is None:
                break
            if isinstance(item, BaseException):
                raise item
            yield item
            if bar is not None:
                bar.update(1)
    finally:
        stop.set()
        while th.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                th.join(0.05)
        if bar is not None:
            bar.close()


def values_found(ds: Any, band: int, limit: int = 30) -> tuple[list, bool]:
    """Distinct cell values of a raster (streamed), for the 'rule matched nothing' warning."""
    found = set()
    nodata = ds.nodatavals[band - 1]
    for r0, r1 in strips(ds):
        from rasterio.windows import Window
        data = ds.read(band, window=Window(0, r0, ds.width, r1 - r0))
        if data.dtype.kind in "ui" and data.dtype.itemsize <= 2:  # counting is much faster than sorting
            off = int(np.iinfo(data.dtype).min)
            counts = np.bincount((data.astype(np.int32) - off).ravel() if off else data.ravel())
            u = np.nonzero(counts)[0] + off
        else:
            u = np.unique(data)
        found.update(u.tolist())
        if len(found) > 1000:
            break
    if nodata is not None:
        found.discard(nodata)
    vals = sorted(found)
    return vals[:limit], len(vals) > limit
