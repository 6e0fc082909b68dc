"""Raster overlays: a single band warped to Web Mercator and embedded as a PNG image (no file beside the HTML)."""

from __future__ import annotations

import base64
import io
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .._errors import BazhongGeoError, MissingCRSError
from . import elements
from .base import basemap_box
from .markup import check_color, escape
from .style import text_of

if TYPE_CHECKING:
    import os

    import folium

__all__ = ["add_raster"]

_WEB_MERCATOR = "EPSG:3857"


def add_raster(m: folium.Map, raster: str | os.PathLike, *, name: str | None = None, band: int = 1,
               color: str = "#c0392b", vmin: float | None = None,
               vmax: float | None = None, max_size: int = 1200, opacity: float = 0.8,
               show: bool = True) -> folium.raster_layers.ImageOverlay:
    """Add a single-band raster (e.g. built-up fraction) as an embedded PNG image overlay.

    The raster is warped to Web Mercator (so it lines up with Leaflet), scaled from ``vmin`` to
    ``vmax`` into transparency of one colour, and embedded as a PNG data URI (no file beside the HTML).

    Parameters
    ----------
    m : folium.Map
    raster : str or Path
        A GeoTIFF (or any rasterio-readable file) with a CRS.
    band : int
        Band to show.
    color : str
        Colour of the highest values (hex or CSS name).
    vmin, vmax : float, optional
        Value range (default: the band's min and max).
    max_size : int
        Longest side of the embedded image in pixels (keeps the HTML small).

    Returns
    -------
    folium.raster_layers.ImageOverlay

    Examples
    --------
    >>> from bazhong_geo.maps import base_map
    >>> overlay = add_raster(base_map(), "builtup_fraction.tif", vmin=0, vmax=1)   # doctest: +SKIP
    """
    import folium
    from rasterio.warp import transform_bounds

    check_color(color)
    out, transform = _read_web_mercator(Path(raster), band, max_size)
    height, width = out.shape
    west, north = transform.c, transform.f  # north-up grid from calculate_default_transform
    east, south = west + transform.a * width, north + transform.e * height
    w, s, e, n = basemap_box(m, *transform_bounds(_WEB_MERCATOR, "EPSG:4326", west, south, east, north))
    rgba = _rgba(out, color, vmin, vmax, opacity)
    overlay = folium.raster_layers.ImageOverlay(
        image=_png_data_uri(rgba), bounds=[[s, w], [n, e]],
        name=escape(name or text_of("raster", elements.state(m)["lang"])),
        overlay=True, control=True, show=show, interactive=False, cross_origin=False)
    overlay.add_to(m)
    return overlay


def _read_web_mercator(path: Path, band: int, max_size: int):
    """The band warped to Web Mercator (NaN outside), at most ``max_size`` pixels a side, and its transform."""
    import rasterio
    from rasterio.warp import Resampling, reproject

    if not path.exists():
        raise BazhongGeoError(f"raster file {path} does not exist")
    with rasterio.open(path) as src:
        if src.crs is None:
            raise MissingCRSError(f"raster {path} has no CRS; assign one (e.g. gdal_edit.py -a_srs EPSG:4545)")
        if band < 1 or band > src.count:
            raise BazhongGeoError(f"raster {path} has {src.count} band(s); band={band} does not exist")
        data, src_transform = _read_decimated(src, band, max_size)
        transform, width, height = _web_mercator_grid(src, max_size)
        out = np.full((height, width), np.nan)
        reproject(data.filled(np.nan), out, src_transform=src_transform, src_crs=src.crs, dst_transform=transform,
                  dst_crs=_WEB_MERCATOR, resampling=Resampling.bilinear, src_nodata=np.nan, dst_nodata=np.nan)
    return out, transform


def _read_decimated(src, band: int, max_size: int):
    """The band (masked float64) and its transform; a raster much larger than the image is read as cell averages."""
    from rasterio.warp import Resampling

    f = max(src.width, src.height) / (2 * max_size)
    if f <= 1:
        return src.read(band, masked=True).astype("float64"), src.transform
    shape = (max(1, int(src.height / f)), max(1, int(src.width / f)))
    data = src.read(band, masked=True, out_shape=shape, resampling=Resampling.average).astype("float64")
    return data, src.transform * src.transform.scale(src.width / shape[1], src.height / shape[0])


def _web_mercator_grid(src, max_size: int):
    """(transform, width, height) of the Web Mercator grid covering ``src``, at most ``max_size`` a side."""
    from rasterio.warp import calculate_default_transform

    transform, width, height = calculate_default_transform(src.crs, _WEB_MERCATOR, src.width, src.height, *src.bounds)
    scale = max(width, height) / max_size
    if scale > 1:
        width, height = int(math.ceil(width / scale)), int(math.ceil(height / scale))
        transform, width, height = calculate_default_transform(src.crs, _WEB_MERCATOR, src.width, src.height,
                                                               *src.bounds, dst_width=width, dst_height=height)
    return transform, width, height


def _rgba(out: np.ndarray, color: str, vmin: float | None, vmax: float | None, opacity: float) -> np.ndarray:
    """One colour, values from ``vmin`` to ``vmax`` as transparency (NaN fully transparent)."""
    finite = np.isfinite(out)
    lo = float(np.nanmin(out)) if vmin is None and finite.any() else (vmin or 0.0)
    hi = float(np.nanmax(out)) if vmax is None and finite.any() else (vmax if vmax is not None else 1.0)
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
