"""The Leaflet map: base map and basemaps, fitting the view, layer entries, panels, title, scale bar, layer control."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .. import crs
from .._errors import BazhongGeoError, MissingCRSError
from . import elements
from .elements import check_position
from .geometry import located_mask
from .markup import escape, script_json

if TYPE_CHECKING:
    import folium
    import geopandas as gpd
    from branca.element import MacroElement

__all__ = [
    "BASEMAPS",
    "add_data_layer",
    "add_layer_control",
    "add_panel",
    "add_scale_bar",
    "add_title",
    "base_map",
    "basemap_box",
    "fit_bounds",
]

_DEFAULT_CENTER = (31.87, 106.95)  # Bazhong

def add_data_layer(m: folium.Map, name: str, show: bool, spec: dict) -> folium.FeatureGroup:
    """Add a layer-control entry (``folium.FeatureGroup``) holding one ``bz`` data layer; return the group.

    Parameters
    ----------
    m : folium.Map
    name : str
        Name in the layer control (escaped here).
    show : bool
        Visible on opening.
    spec : dict
        The ``bz.layer`` spec: ``data`` (GeoJSON), ``styles`` and drawing options.

    Returns
    -------
    folium.FeatureGroup
    """
    import folium

    fg = folium.FeatureGroup(name=escape(name), overlay=True, control=True, show=show)
    fg.add_to(m)
    elements.DataLayer(spec).add_to(fg)
    return fg


BASEMAPS = ("none", "osm", "tianditu", "amap")
"""Basemaps a map can be drawn on ("none" works offline)."""


def base_map(bounds: gpd.GeoDataFrame | Sequence[float] | None = None, *, basemap: str = "none",
             tianditu_key: str | None = None, lang: str = "zh",
             zoom_start: int = 9, prefer_canvas: bool = False, scale_bar: bool = True) -> folium.Map:
    """Return an empty ``folium.Map`` set up for meeting maps.

    Parameters
    ----------
    bounds : GeoDataFrame or (minx, miny, maxx, maxy) in longitude/latitude, optional
        Extent to fit; Bazhong when omitted.
    basemap : {"none", "osm", "tianditu", "amap"}, default "none"
        Background tiles. "none" needs no network. "tianditu" needs ``tianditu_key`` (天地图 vec_w +
        cva_w). "amap" (高德) tiles are in GCJ-02: every layer added afterwards is shifted to GCJ-02.
    tianditu_key : str, optional
        Your Tianditu browser key (tk).
    lang : {"zh", "en"}
        Language of labels, legends and panels.
    zoom_start : int
        Initial zoom when no bounds are given.
    prefer_canvas : bool
        Draw vector layers on a canvas (faster with thousands of features).
    scale_bar : bool
        Add the metric scale bar (bottom left).

    Returns
    -------
    folium.Map

    Examples
    --------
    >>> m = base_map(lang="en")
    >>> type(m).__name__
    'Map'
    """
    import folium

    if basemap not in BASEMAPS:
        raise BazhongGeoError(f"basemap {basemap!r} unknown; use one of {', '.join(BASEMAPS)}")
    if lang not in ("zh", "en"):
        raise BazhongGeoError(f"lang {lang!r}: use 'zh' (中文) or 'en'")
    m = folium.Map(location=list(_DEFAULT_CENTER), zoom_start=zoom_start, tiles=None, zoom_control=False,
                   prefer_canvas=prefer_canvas, control_scale=False, zoom_snap=0.25, zoom_delta=0.5)
    st = elements.state(m)
    st["lang"] = lang
    st["basemap"] = basemap
    st["coords"] = "gcj02" if basemap == "amap" else "wgs84"
    _add_tiles(m, basemap, tianditu_key)
    elements.Raw("L.control.zoom({position: 'topleft'}).addTo(__MAP__);").add_to(m)
    if scale_bar:
        add_scale_bar(m)
    if bounds is not None:
        fit_bounds(m, bounds)
    return m


def _add_tiles(m, basemap: str, tianditu_key: str | None) -> None:
    """The basemap's tile layers (none for "none")."""
    import folium

    if basemap == "osm":
        folium.TileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", name="OpenStreetMap",
                         attr="&copy; OpenStreetMap contributors", max_zoom=19).add_to(m)
    elif basemap == "tianditu":
        key = _tianditu_key(tianditu_key)
        for layer, name in (("vec", "天地图 矢量"), ("cva", "天地图 注记")):
            folium.TileLayer(
                f"https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
                f"&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}"
                f"&TILECOL={{x}}&tk={key}",
                name=name, attr="&copy; 天地图 Tianditu", subdomains="01234567", max_zoom=18,
                overlay=(layer == "cva"), control=True).add_to(m)
    elif basemap == "amap":
        folium.TileLayer("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
                         "&x={x}&y={y}&z={z}", name="高德 Amap (GCJ-02)", attr="&copy; 高德地图 AutoNavi",
                         subdomains="1234", max_zoom=18).add_to(m)


def _tianditu_key(tianditu_key: str | None) -> str:
    """The Tianditu key, checked (letters and digits only: it goes into tile URLs)."""
    if not tianditu_key:
        raise BazhongGeoError("basemap='tianditu' needs your Tianditu key: tianditu_key='...' "
                              "(CLI: --tianditu-key); get one at https://console.tianditu.gov.cn")
    if not re.fullmatch(r"[A-Za-z0-9]{8,64}", str(tianditu_key)):
        raise BazhongGeoError("the Tianditu key must be the 32 letters/digits shown in your Tianditu console")
    return str(tianditu_key)


def fit_bounds(m: folium.Map, bounds: gpd.GeoDataFrame | Sequence[float], padding: int = 20, *,
               padding_top_left: tuple[int, int] | None = None,
               padding_bottom_right: tuple[int, int] | None = None) -> folium.Map:
    """Fit the map to a GeoDataFrame's extent or a (minx, miny, maxx, maxy) longitude/latitude box.

    ``padding_top_left`` / ``padding_bottom_right`` (pixels) keep the extent clear of panels; in a
    window too small for them they shrink in proportion.

    Parameters
    ----------
    m : folium.Map
    bounds : GeoDataFrame or (minx, miny, maxx, maxy)
        Extent to show; a GeoDataFrame needs a CRS (rows without geometry are ignored).
    padding : int
        Padding in pixels on every side unless given per corner.
    padding_top_left, padding_bottom_right : (int, int), optional
        Paddings in pixels (x, y) that keep the extent clear of panels.

    Returns
    -------
    folium.Map
        ``m`` (one fit per map: the last call wins).

    Examples
    --------
    >>> m = fit_bounds(base_map(), (106.3, 31.3, 107.8, 32.8))
    """
    if hasattr(bounds, "total_bounds"):
        b = bounds
        if b.crs is None:
            raise MissingCRSError("bounds layer has no CRS")
        b = b[located_mask(b)]
        if len(b) == 0:
            return m
        minx, miny, maxx, maxy = b.to_crs(4326).total_bounds
    else:
        minx, miny, maxx, maxy = bounds
    minx, miny, maxx, maxy = basemap_box(m, minx, miny, maxx, maxy)
    box = [[float(miny), float(minx)], [float(maxy), float(maxx)]]
    top_left = list(padding_top_left or (padding, padding))
    bottom_right = list(padding_bottom_right or (padding, padding))
    for key, child in list(m._children.items()):  # one fit per map: the last call wins
        if getattr(child, "_bz_fit", False) or type(child).__name__ == "FitBounds":
            del m._children[key]
    # bz.fit shrinks the paddings on a window too small for them (Leaflet would fail on NaN)
    fit = elements.Raw(f"bz.fit(__MAP__, {script_json(box)}, {script_json(top_left)}, {script_json(bottom_right)});")
    fit._bz_fit = True
    fit.add_to(m)
    return m


def basemap_box(m: folium.Map, minx: float, miny: float, maxx: float, maxy: float) -> tuple[float, float, float, float]:
    """A WGS-84 longitude/latitude box in the map's coordinates (shifted to GCJ-02 for Amap tiles).

    Parameters
    ----------
    m : folium.Map
    minx, miny, maxx, maxy : float
        WGS-84 longitude/latitude.

    Returns
    -------
    (float, float, float, float)
    """
    if elements.state(m)["coords"] != "gcj02":
        return minx, miny, maxx, maxy
    (x0, x1), (y0, y1) = crs.wgs84_to_gcj02(np.array([minx, maxx]), np.array([miny, maxy]))
    return float(x0), float(y0), float(x1), float(y1)


def add_panel(m: folium.Map, content_html: str, position: str, cls: str) -> MacroElement:
    """Add a Leaflet control holding HTML (legend, title, progress panel).

    Parameters
    ----------
    m : folium.Map
    content_html : str
        The panel's HTML; every text in it must already be escaped.
    position : str
        Leaflet control corner.
    cls : str
        CSS classes of the panel.

    Returns
    -------
    branca.element.MacroElement

    Examples
    --------
    >>> panel = add_panel(base_map(), "<h4>图例</h4>", "bottomright", "bz-legend")
    """
    panel = elements.Panel(content_html, position, cls)
    panel.add_to(m)
    return panel

def add_title(m: folium.Map, title: str, subtitle: str | None = None, *,
              position: str = "topleft") -> MacroElement:
    """Add the title block (escaped text).

    Returns
    -------
    folium.Element

    Examples
    --------
    >>> title = add_title(base_map(), "巴中市城乡体系", "2020")
    """
    elements.state(m)["title"] = title
    elements.state(m)["subtitle"] = subtitle
    sub = f"<p>{escape(subtitle)}</p>" if subtitle else ""
    panel = add_panel(m, f"<h2>{escape(title)}</h2>{sub}", position, "bz-title")
    # keep the title above the zoom control: move the zoom element to the end of the children
    for key, child in list(m._children.items()):
        if getattr(child, "_name", "") == "BzRaw" and "control.zoom" in getattr(child, "code", ""):
            m._children.move_to_end(key)
    return panel


def add_scale_bar(m: folium.Map, *, position: str = "bottomleft") -> MacroElement:
    """Add Leaflet's metric scale bar (``L.control.scale``).

    Parameters
    ----------
    m : folium.Map
    position : str
        Leaflet control corner.

    Returns
    -------
    branca.element.MacroElement

    Examples
    --------
    >>> bar = add_scale_bar(base_map(scale_bar=False))
    """
    corner = script_json(check_position(position))
    el = elements.Raw(f"L.control.scale({{position: {corner}, metric: true, imperial: false, maxWidth: 160}})"
              ".addTo(__MAP__);")
    el.add_to(m)
    return el


def add_layer_control(m: folium.Map, *, collapsed: bool = False,
                      position: str = "topright") -> folium.LayerControl:
    """Add the layer control (expanded by default: meetings print it).

    Parameters
    ----------
    m : folium.Map
    collapsed : bool
        Start collapsed.
    position : str
        Leaflet control corner.

    Returns
    -------
    folium.LayerControl

    Examples
    --------
    >>> lc = add_layer_control(base_map())
    """
    import folium

    lc = folium.LayerControl(collapsed=collapsed, position=position)
    lc.add_to(m)
    return lc
