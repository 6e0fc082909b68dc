"""Tiled mosaics: tiles on one grid, read from a list of GeoTIFFs or a GDAL VRT, and written as a VRT.

A :class:`Mosaic` is the grid of the whole mosaic plus each tile's window in it. Tiles must share CRS, cell size
and alignment (integer offsets), and must not overlap: then the tiles partition the mosaic's cells, and any sum
over cells (built-up m² by zone, people by 1 km block) is the sum over tiles of the per-tile sums.
Cells of the mosaic covered by no tile are nodata (the VRT written by :func:`write_vrt` marks them so).

>>> import numpy as np, rasterio
>>> from rasterio.transform import from_origin
>>> import tempfile, os
>>> d = tempfile.mkdtemp()
>>> paths = []
>>> for i, x0 in enumerate((0, 40)):
...     p = os.path.join(d, f"t{i}.tif")
...     with rasterio.open(p, "w", driver="GTiff", width=4, height=3, count=1, dtype="uint8", nodata=255,
...                        crs="EPSG:3857", transform=from_origin(x0, 30, 10, 10)) as ds:
...         ds.write(np.full((3, 4), i, dtype="uint8"), 1)
...     paths.append(p)
>>> m = read_mosaic(paths)
>>> m.shape, [(t.row_off, t.col_off) for t in m.tiles]
((3, 8), [(0, 0), (0, 4)])
>>> with rasterio.open(write_vrt(m, os.path.join(d, "m.vrt"))) as v:
...     v.read(1).tolist()[0]
[0, 0, 0, 0, 1, 1, 1, 1]
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np

from .._errors import EmptyInputError, MosaicError, RasterNotFoundError

__all__ = ["Mosaic", "Tile", "matched_layers", "read_mosaic", "write_vrt"]


@dataclass(frozen=True)
class Tile:
    """One tile of a mosaic: its file and its window (rows, columns) in the mosaic grid."""

    path: str
    row_off: int
    col_off: int
    height: int
    width: int

    @property
    def window(self) -> tuple[int, int, int, int]:
        """(row_off, col_off, height, width)."""
        return (self.row_off, self.col_off, self.height, self.width)


@dataclass
class Mosaic:
    """Tiles on one grid: the mosaic's CRS, transform, shape, nodata and dtype, and its tiles.

    Attributes
    ----------
    crs : rasterio CRS
    transform : affine.Affine
        Of the whole mosaic (upper-left corner of the union of the tiles, or of the VRT).
    shape : (int, int)
    nodata : float or None
    dtype : str
    tiles : list of Tile
    source : str
        The VRT path, or "<n tiles>" for a list.
    """

    crs: Any
    transform: Any
    shape: tuple[int, int]
    nodata: float | None
    dtype: str
    tiles: list[Tile]
    source: str

    def __len__(self) -> int:
        return len(self.tiles)

    @property
    def cells(self) -> int:
        """Cells covered by tiles."""
        return int(sum(t.height * t.width for t in self.tiles))


def read_mosaic(source: str | os.PathLike | Sequence[str | os.PathLike] | Mosaic) -> Mosaic:
    """A :class:`Mosaic` from a list of GeoTIFF tiles or a GDAL VRT of them (its sources become the tiles).

    Raises
    ------
    RasterNotFoundError
        A tile or the VRT does not exist.
    MosaicError
        Tiles on different CRSs, cell sizes or alignments, rotated, or overlapping.
    EmptyInputError
        No tiles.
    """
    import rasterio

    if isinstance(source, Mosaic):
        return source
    if isinstance(source, (str, os.PathLike)):
        vrt = os.fspath(source)
        if not Path(vrt).exists():
            raise RasterNotFoundError(f"mosaic: file {vrt!r} does not exist; check the path")
        with rasterio.open(vrt) as ds:
            files = [f for f in ds.files if Path(f).resolve() != Path(vrt).resolve()]
            grid = (ds.crs, ds.transform, (ds.height, ds.width))
        if not files:
            raise MosaicError(f"mosaic {vrt}: not a VRT of tiles (GDAL lists no source files); pass a VRT "
                              f"built with gdalbuildvrt or write_vrt, or the list of tiles")
        return _mosaic(files, grid, vrt)
    paths = [os.fspath(p) for p in source]
    return _mosaic(paths, None, f"<{len(paths)} tiles>")


def _mosaic(paths, grid, name) -> Mosaic:  # noqa: PLR0912 - one check per way tiles can disagree
    import rasterio

    if not paths:
        raise EmptyInputError("the mosaic has no tiles; pass at least one GeoTIFF")
    heads = []
    for p in paths:
        if not Path(p).exists():
            raise RasterNotFoundError(f"mosaic {name}: tile {p!r} does not exist; check the path")
        with rasterio.open(p) as ds:
            heads.append((p, ds.crs, ds.transform, ds.height, ds.width, ds.nodatavals[0], ds.dtypes[0]))
    p0, crs0, t0, *_ = heads[0]
    nodata0, dtype0 = heads[0][5], heads[0][6]
    if crs0 is None:
        raise MosaicError(f"mosaic {name}: tile {p0} has no CRS; set it (gdal_edit.py -a_srs EPSG:xxxx)")
    for p, crs, t, _h, _w, nd, dt in heads:
        if t.b != 0 or t.d != 0:
            raise MosaicError(f"mosaic {name}: tile {p} is rotated or sheared; warp it to a north-up grid")
        if crs != crs0 or abs(t.a - t0.a) > 1e-9 * abs(t0.a) or abs(t.e - t0.e) > 1e-9 * abs(t0.e):
            raise MosaicError(f"mosaic {name}: tile {p} (CRS {crs}, cell {t.a} x {t.e}) is not on the grid of "
                              f"{p0} (CRS {crs0}, cell {t0.a} x {t0.e}); warp the tiles to one grid")
        if not _same_nodata(nd, nodata0) or dt != dtype0:
            raise MosaicError(f"mosaic {name}: tile {p} has nodata {nd} / type {dt}, tile {p0} has nodata "
                              f"{nodata0} / type {dtype0}; give every tile the same nodata value and data type")
    if grid is None:
        c0 = min(h[2].c for h in heads) if t0.a > 0 else max(h[2].c for h in heads)
        f0 = max(h[2].f for h in heads) if t0.e < 0 else min(h[2].f for h in heads)
    else:
        c0, f0 = grid[1].c, grid[1].f
    tiles = []
    for p, _crs, t, h, w, _nd, _dt in heads:
        co, ro = (t.c - c0) / t0.a, (t.f - f0) / t0.e
        if abs(co - round(co)) > 1e-6 or abs(ro - round(ro)) > 1e-6:
            raise MosaicError(f"mosaic {name}: tile {p} is offset by {co:.6f} columns / {ro:.6f} rows from the "
                              f"mosaic grid (not whole cells); resample it onto the grid of the other tiles")
        tiles.append(Tile(p, round(ro), round(co), int(h), int(w)))
    from affine import Affine

    transform = Affine(t0.a, 0.0, c0, 0.0, t0.e, f0)
    if grid is None:
        shape = (max(t.row_off + t.height for t in tiles), max(t.col_off + t.width for t in tiles))
    else:
        shape = grid[2]
        if not grid[1].almost_equals(transform) or grid[0] != crs0:
            raise MosaicError(f"mosaic {name}: the VRT's grid differs from its tiles' grid; rebuild the VRT")
    _check_no_overlap(tiles, shape, name)
    return Mosaic(crs0, transform, shape, nodata0, dtype0, tiles, name)


def _same_nodata(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return (np.isnan(a) and np.isnan(b)) or a == b


def _check_no_overlap(tiles, shape, name) -> None:
    w = np.array([t.window for t in tiles], dtype=np.int64)
    r0, c0, r1, c1 = w[:, 0], w[:, 1], w[:, 0] + w[:, 2], w[:, 1] + w[:, 3]
    if (r0 < 0).any() or (c0 < 0).any() or (r1 > shape[0]).any() or (c1 > shape[1]).any():
        i = int(np.flatnonzero((r0 < 0) | (c0 < 0) | (r1 > shape[0]) | (c1 > shape[1]))[0])
        raise MosaicError(f"mosaic {name}: tile {tiles[i].path} reaches beyond the mosaic's extent")
    for i in range(len(tiles)):
        hit = (r0[i] < r1) & (r0 < r1[i]) & (c0[i] < c1) & (c0 < c1[i])
        hit[i] = False
        if hit.any():
            j = int(np.flatnonzero(hit)[0])
            raise MosaicError(f"mosaic {name}: tiles {tiles[i].path} and {tiles[j].path} overlap; the tiles of a "
                              f"mosaic must partition it (crop the overlaps)")


def matched_layers(layers: Sequence[Mosaic]) -> list[list[Tile]]:
    """For mosaics on one grid (e.g. yearly layers), the tiles grouped by window: one list of layers per tile.

    Raises MosaicError when the layers are not on the same grid or are not cut into the same tiles.
    """
    first = layers[0]
    by_window = []
    for m in layers:
        if m.crs != first.crs or not m.transform.almost_equals(first.transform) or m.shape != first.shape:
            raise MosaicError(f"mosaic {m.source} is not on the grid of {first.source} (CRS, transform or extent "
                              f"differ); layers processed together must share one grid")
        by_window.append({t.window: t for t in m.tiles})
    keys = [t.window for t in first.tiles]
    for m, d in zip(layers, by_window, strict=True):
        if set(d) != set(keys):
            raise MosaicError(f"mosaic {m.source} is cut into other tiles than {first.source}; cut every layer "
                              f"into the same tiles")
    return [[d[k] for d in by_window] for k in keys]


def write_vrt(mosaic: Mosaic | Sequence[str | os.PathLike], path: str | os.PathLike) -> str:
    """Write a GDAL VRT of the mosaic's tiles (absolute paths; cells under no tile are nodata); returns the path."""
    m = read_mosaic(mosaic) if not isinstance(mosaic, Mosaic) else mosaic
    gdal_type = {"uint8": "Byte", "int8": "Int8", "uint16": "UInt16", "int16": "Int16", "uint32": "UInt32",
                 "int32": "Int32", "float32": "Float32", "float64": "Float64"}[m.dtype]
    t = m.transform
    nd = "" if m.nodata is None else \
        f"    <NoDataValue>{'nan' if np.isnan(m.nodata) else repr(m.nodata)}</NoDataValue>\n"
    src = [
        (f"    <SimpleSource>\n"
            f'      <SourceFilename relativeToVRT="0">{escape(str(Path(tile.path).resolve()))}</SourceFilename>\n'
            f"      <SourceBand>1</SourceBand>\n"
            f'      <SrcRect xOff="0" yOff="0" xSize="{tile.width}" ySize="{tile.height}"/>\n'
            f'      <DstRect xOff="{tile.col_off}" yOff="{tile.row_off}" xSize="{tile.width}" '
            f'ySize="{tile.height}"/>\n'
            f"    </SimpleSource>\n")
        for tile in m.tiles]
    xml = (f'<VRTDataset rasterXSize="{m.shape[1]}" rasterYSize="{m.shape[0]}">\n'
           f"  <SRS>{escape(m.crs.to_wkt())}</SRS>\n"
           f"  <GeoTransform>{t.c!r}, {t.a!r}, {t.b!r}, {t.f!r}, {t.d!r}, {t.e!r}</GeoTransform>\n"
           f"  <VRTRasterBand dataType=\"{gdal_type}\" band=\"1\">\n{nd}{''.join(src)}"
           f"  </VRTRasterBand>\n</VRTDataset>\n")
    path = os.fspath(path)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(xml)
    return path
