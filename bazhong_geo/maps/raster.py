"""Raster overlays: a single band warped to Web Mercator and embedded as a PNG image (no file beside the HTML)."""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .._errors import BazhongGeoError, MissingCRSError
from . import elements
from .base import basemap_box
from .classes import KNOWN_TABLES, ClassTable, class_table, detect_table
from .legend import add_categorical_legend, add_ramp_legend
from .markup import check_color, escape
from .style import RAMPS, text_of

if TYPE_CHECKING:
    import os

    import folium

__all__ = ["RASTER_KINDS", "add_raster"]

_WEB_MERCATOR = "EPSG:3857"


RASTER_KINDS = ("auto", "categorical", "continuous")
"""How a raster is drawn: ``auto`` (categorical when it has or matches a class table), classes or a ramp."""


def add_raster(m: folium.Map, raster: str | os.PathLike, *, name: str | None = None, band: int = 1,  # noqa: PLR0913 (public API options)
               kind: str = "auto", classes: str | ClassTable | Mapping | None = None,
               color: str = "#c0392b", cmap: str | Sequence[str] | None = None, vmin: float | None = None,
               vmax: float | None = None, max_size: int = 1200, opacity: float = 0.8,
               show: bool = True, legend: bool = True, legend_title: str | None = None,
               position: str = "bottomright") -> folium.raster_layers.ImageOverlay:
    """Add a single-band raster as an embedded PNG image overlay: classes with their legend, or a colour ramp.

    The raster is warped to Web Mercator (so it lines up with Leaflet) and embedded as a PNG data URI (no
    file beside the HTML).

    A **categorical** raster (land cover, settlement model) is warped with nearest neighbour (and
    thinned by the most frequent class), each class drawn in its table's colour, and its legend lists the
    classes present. ``kind="auto"`` draws a raster categorically when ``classes`` is given or when it is
    an integer raster whose values all belong to one known table (ESA WorldCover, GHSL SMOD, CLCD; see
    :func:`~bazhong_geo.maps.classes.detect_table`). A class raster is never drawn as a continuous surface:
    ``kind="continuous"`` on one raises.

    A **continuous** raster (built-up fraction, population density) is scaled from ``vmin`` to ``vmax``:
    into a colour ramp (``cmap``), or, without one, into transparency of ``color``; the legend is the ramp.

    Parameters
    ----------
    m : folium.Map
    raster : str or Path
        A GeoTIFF (or any rasterio-readable file) with a CRS.
    band : int
        Band to show.
    kind : {"auto", "categorical", "continuous"}
    classes : str, ClassTable or mapping, optional
        "worldcover", "ghsl_smod", "clcd", or ``{value: (label_zh, label_en, colour)}``.
    color : str
        Continuous without ``cmap``: colour of the highest values (hex or CSS name).
    cmap : str or sequence of str, optional
        Continuous: a ramp name of :data:`~bazhong_geo.maps.style.RAMPS` or a list of colours, low to high.
    vmin, vmax : float, optional
        Continuous value range (default: the band's min and max).
    max_size : int
        Longest side of the embedded image in pixels (keeps the HTML small).
    opacity : float
        Opacity of the image.
    legend : bool
        Add the class legend or the ramp legend.
    legend_title : str, optional
        Legend heading (default: the table's title, or the layer name).

    Returns
    -------
    folium.raster_layers.ImageOverlay

    Raises
    ------
    BazhongGeoError
        Unknown kind or ramp, a class raster asked to be continuous, a categorical raster with values its
        table lacks (they are named), a bad colour.

    Examples
    --------
    >>> from bazhong_geo.maps import base_map
    >>> overlay = add_raster(base_map(), "builtup_fraction.tif", vmin=0, vmax=1)   # doctest: +SKIP
    >>> overlay = add_raster(base_map(), "worldcover.tif")            # classes detected   # doctest: +SKIP
    """
    import folium
    from rasterio.warp import transform_bounds

    if kind not in RASTER_KINDS:
        raise BazhongGeoError(f"kind {kind!r} unknown; use one of {', '.join(RASTER_KINDS)}")
    check_color(color)
    lang = elements.state(m)["lang"]
    path = Path(raster)
    table = _table_for(path, band, kind, classes)
    out, transform = _read_web_mercator(path, band, max_size, categorical=table is not None)
    height, width = out.shape
    west, north = transform.c, transform.f  # north-up grid from calculate_default_transform
    east, south = west + transform.a * width, north + transform.e * height
    w, s, e, n = basemap_box(m, *transform_bounds(_WEB_MERCATOR, "EPSG:4326", west, south, east, north))
    layer_name = name or (table.title(lang) if table is not None else text_of("raster", lang))
    if table is not None:
        rgba, present = _class_rgba(out, table, opacity, path)
        if legend:
            items = [(table.label(v, lang), table.classes[v][2]) for v in table.classes if v in present]
            add_categorical_legend(m, legend_title or table.title(lang), items, position=position)
    else:
        colors = _ramp(cmap) if cmap is not None else None
        lo, hi = _value_range(out, vmin, vmax)
        rgba = _rgba(out, color, lo, hi, opacity) if colors is None else _ramp_rgba(out, colors, lo, hi, opacity)
        if legend:
            add_ramp_legend(m, legend_title or layer_name, colors or ["#ffffff", color], lo, hi, position=position)
    overlay = folium.raster_layers.ImageOverlay(
        image=_png_data_uri(rgba), bounds=[[s, w], [n, e]], name=escape(layer_name),
        overlay=True, control=True, show=show, interactive=False, cross_origin=False)
    overlay.add_to(m)
    return overlay


def _table_for(path: Path, band: int, kind: str, classes) -> ClassTable | None:
    """The class table the raster is drawn with (None: continuous), by ``kind``, ``classes`` and its values."""
    if classes is not None:
        if kind == "continuous":
            raise BazhongGeoError(f"raster {path}: classes given with kind='continuous'; a class raster is never "
                                  "drawn as a continuous surface")
        return class_table(classes)
    if kind == "continuous" and not _is_integer(path):
        return None
    found = detect_table(_distinct_values(path, band)) if _is_integer(path) else None
    if kind == "continuous" and found is not None:
        raise BazhongGeoError(f"raster {path} holds {found.title_en} class codes; a class raster is never drawn as a "
                              "continuous surface: use kind='categorical' (or 'auto')")
    if kind == "categorical" and found is None:
        raise BazhongGeoError(f"raster {path}: its values match no known class table "
                              f"({', '.join(KNOWN_TABLES)}); give classes={{value: (label_zh, label_en, colour)}}")
    return found


def _is_integer(path: Path) -> bool:
    import rasterio

    if not path.exists():
        raise BazhongGeoError(f"raster file {path} does not exist")
    with rasterio.open(path) as src:
        return np.issubdtype(np.dtype(src.dtypes[0]), np.integer)


def _distinct_values(path: Path, band: int) -> np.ndarray:
    """The distinct valid values of the band (read at most about 4 million cells, by nearest neighbour)."""
    import rasterio
    from rasterio.enums import Resampling

    with rasterio.open(path) as src:
        if band < 1 or band > src.count:
            raise BazhongGeoError(f"raster {path} has {src.count} band(s); band={band} does not exist")
        f = max(1.0, math.sqrt(src.width * src.height / 4e6))
        shape = (max(1, int(src.height / f)), max(1, int(src.width / f)))
        data = src.read(band, masked=True, out_shape=shape, resampling=Resampling.nearest)
    return np.unique(data.compressed())


def _class_rgba(out: np.ndarray, table: ClassTable, opacity: float, path: Path) -> tuple[np.ndarray, set]:
    """Each class in its colour (nodata and NaN transparent); raise naming the values the table lacks."""
    finite = np.isfinite(out)
    values = np.unique(out[finite]).astype(int)
    unknown = sorted(set(values.tolist()) - set(table.classes) - set(table.nodata))
    if unknown:
        raise BazhongGeoError(f"raster {path}: value(s) {unknown[:10]} are not classes of {table.key} "
                              f"({', '.join(map(str, table.classes))}); add them to classes= or set them as the "
                              "raster's nodata")
    rgba = np.zeros((*out.shape, 4), dtype=np.uint8)
    present = set()
    for value, (_, _, color) in table.classes.items():
        sel = finite & (out == value)
        if sel.any():
            present.add(value)
            rgba[sel] = (*_rgb(color), round(255 * opacity))
    return rgba, present


def _ramp(cmap) -> list[str]:
    """The colours of a ramp name or list (checked)."""
    if isinstance(cmap, str):
        if cmap.lower() not in RAMPS:
            raise BazhongGeoError(f"colour ramp {cmap!r} unknown; use one of {', '.join(RAMPS)} or a list of colours")
        return list(RAMPS[cmap.lower()])
    colors = [check_color(c) for c in cmap]
    if len(colors) < 2:
        raise BazhongGeoError("a colour ramp needs at least two colours")
    return colors


def _value_range(out: np.ndarray, vmin: float | None, vmax: float | None) -> tuple[float, float]:
    finite = np.isfinite(out)
    lo = float(vmin) if vmin is not None else (float(np.nanmin(out)) if finite.any() else 0.0)
    hi = float(vmax) if vmax is not None else (float(np.nanmax(out)) if finite.any() else 1.0)
    return lo, hi


def _ramp_rgba(out: np.ndarray, colors: list[str], lo: float, hi: float, opacity: float) -> np.ndarray:
    """Values from ``lo`` to ``hi`` through the ramp's colours (linear in RGB); NaN transparent."""
    finite = np.isfinite(out)
    frac = np.clip((np.nan_to_num(out, nan=lo) - lo) / (hi - lo if hi > lo else 1.0), 0, 1)
    stops = np.linspace(0, 1, len(colors))
    rgb = np.array([_rgb(c) for c in colors], dtype=float)
    rgba = np.zeros((*out.shape, 4), dtype=np.uint8)
    for i in range(3):
        rgba[..., i] = np.round(np.interp(frac, stops, rgb[:, i])).astype(np.uint8)
    rgba[..., 3] = np.where(finite, round(255 * opacity), 0).astype(np.uint8)
    return rgba


def _read_web_mercator(path: Path, band: int, max_size: int, *, categorical: bool = False):
    """The band warped to Web Mercator (NaN outside), at most ``max_size`` pixels a side, and its transform.

    Classes are warped by nearest neighbour and thinned by their most frequent value; measurements
    bilinearly and by cell averages.
    """
    import rasterio
    from rasterio.warp import Resampling, reproject

    if not path.exists():
        raise BazhongGeoError(f"raster file {path} does not exist")
    with rasterio.open(path) as src:
        if src.crs is None:
            raise MissingCRSError(f"raster {path} has no CRS; assign one (e.g. gdal_edit.py -a_srs EPSG:4545)")
        if band < 1 or band > src.count:
            raise BazhongGeoError(f"raster {path} has {src.count} band(s); band={band} does not exist")
        data, src_transform = _read_decimated(src, band, max_size, Resampling.mode if categorical
                                              else Resampling.average)
        transform, width, height = _web_mercator_grid(src, max_size)
        out = np.full((height, width), np.nan)
        reproject(data.filled(np.nan), out, src_transform=src_transform, src_crs=src.crs, dst_transform=transform,
                  dst_crs=_WEB_MERCATOR, resampling=Resampling.nearest if categorical else Resampling.bilinear,
                  src_nodata=np.nan, dst_nodata=np.nan)
    return out, transform


def _read_decimated(src, band: int, max_size: int, resampling):
    """The band (masked float64) and its transform; a raster much larger than the image is read thinned."""
    f = max(src.width, src.height) / (2 * max_size)
    if f <= 1:
        return src.read(band, masked=True).astype("float64"), src.transform
    shape = (max(1, int(src.height / f)), max(1, int(src.width / f)))
    data = src.read(band, masked=True, out_shape=shape, resampling=resampling).astype("float64")
    return data, src.transform * src.transform.scale(src.width / shape[1], src.height / shape[0])


def _web_mercator_grid(src, max_size: int):
    """(transform, width, height) of the Web Mercator grid covering ``src``, at most ``max_size`` a side."""
    from rasterio.warp import calculate_default_transform

    transform, width, height = calculate_default_transform(src.crs, _WEB_MERCATOR, src.width, src.height, *src.bounds)
    scale = max(width, height) / max_size
    if scale > 1:
        width, height = math.ceil(width / scale), math.ceil(height / scale)
        transform, width, height = calculate_default_transform(src.crs, _WEB_MERCATOR, src.width, src.height,
                                                               *src.bounds, dst_width=width, dst_height=height)
    return transform, width, height


def _rgba(out: np.ndarray, color: str, lo: float, hi: float, opacity: float) -> np.ndarray:
    """One colour, values from ``lo`` to ``hi`` as transparency (NaN fully transparent)."""
    finite = np.isfinite(out)
    frac = np.clip((np.nan_to_num(out, nan=lo) - lo) / (hi - lo if hi > lo else 1.0), 0, 1)
    rgba = np.zeros((*out.shape, 4), dtype=np.uint8)
    rgba[..., 0], rgba[..., 1], rgba[..., 2] = _rgb(color)
    rgba[..., 3] = np.where(finite, np.round(frac * 255 * opacity), 0).astype(np.uint8)
    return rgba


def _rgb(color: str) -> tuple[int, int, int]:
    """(r, g, b) of a hex colour (#rgb, #rrggbb, #rrggbbaa) or a CSS colour name."""
    from PIL import ImageColor

    try:
        return tuple(ImageColor.getrgb(check_color(color))[:3])
    except ValueError:
        raise BazhongGeoError(f"colour {color!r} is not a hex colour or a CSS colour name; give e.g. '#c0392b'") \
            from None


def _png_data_uri(rgba: np.ndarray) -> str:
    """A PNG data URI of an RGBA array."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgba, mode="RGBA").save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
