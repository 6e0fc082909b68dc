"""Meeting maps: folium maps of settlements, catchments, built-up area and progress, built from layer functions.

Writing a map as one offline HTML file is :func:`save` / :func:`to_html` (from :mod:`bazhong_geo._offline`);
PNG/PDF are :func:`bazhong_geo.export.export_png` / :func:`~bazhong_geo.export.export_pdf`.
"""

from __future__ import annotations

import base64
import io as _io
import math
import re
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from . import _elements
from ._elements import check_position as _check_position
from ._elements import state as _state
from ._errors import BazhongGeoError, EmptyInputError, MissingColumnError, MissingCRSError
from ._html import check_color as _check_color
from ._html import escape as _esc
from ._html import popup_html as _popup_html
from ._html import script_json as _js
from ._offline import leaflet_assets, save, show, to_html

__all__ = [
    "TIER_STYLES",
    "STATUS_COLORS",
    "base_map",
    "add_boundaries",
    "add_settlements",
    "add_catchments",
    "add_builtup",
    "add_raster",
    "add_designated",
    "add_candidates",
    "add_choropleth",
    "add_categorical_legend",
    "add_tier_legend",
    "add_progress_panel",
    "add_title",
    "add_scale_bar",
    "add_layer_control",
    "settlement_map",
    "progress_map",
    "catchment_map",
    "meeting_map",
    "county_town_catchments",
    "fit_bounds",
    "classify",
    "population_radius",
    "to_html",
    "save",
    "show",
    "leaflet_assets",
    "prepare_geometries",
]

# ----------------------------------------------------------------------------------------------- constants

#: Tier value -> symbol (shape, fill colour, default radius in px when the population is unknown) and labels.
TIER_STYLES: dict[str, dict[str, Any]] = {
    "central_city": {"shape": "star", "fill": "#c0392b", "radius": 14, "zh": "中心城区", "en": "central city"},
    "county_town": {"shape": "square", "fill": "#e67e22", "radius": 10, "zh": "县城", "en": "county town"},
    "featured_town": {"shape": "diamond", "fill": "#8e44ad", "radius": 7, "zh": "特色镇", "en": "featured town"},
    "central_village": {"shape": "triangle", "fill": "#27ae60", "radius": 6, "zh": "中心村", "en": "central village"},
    "town": {"shape": "circle", "fill": "#2e86c1", "radius": 5, "zh": "一般镇", "en": "town"},
    "village": {"shape": "circle", "fill": "#95a5a6", "radius": 3, "zh": "村", "en": "village"},
}

#: Progress status -> colour and labels.
STATUS_COLORS: dict[str, dict[str, str]] = {
    "achieved": {"color": "#1e8449", "zh": "已完成", "en": "achieved"},
    "on_track": {"color": "#2874a6", "zh": "按进度", "en": "on track"},
    "behind": {"color": "#c0392b", "zh": "滞后", "en": "behind"},
    "no_data": {"color": "#7f8c8d", "zh": "无数据", "en": "no data"},
}

#: Sequential palettes (ColorBrewer YlOrRd / Blues) by number of classes.
_YLORRD = {
    2: ["#fecc5c", "#e31a1c"],
    3: ["#ffeda0", "#feb24c", "#f03b20"],
    4: ["#ffffb2", "#fecc5c", "#fd8d3c", "#e31a1c"],
    5: ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"],
    6: ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026"],
    7: ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"],
    8: ["#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"],
    9: ["#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#bd0026", "#800026"],
}
#: Qualitative palette (ColorBrewer Set3 + Pastel1) for catchments.
_QUALITATIVE = ["#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462", "#b3de69", "#fccde5",
                "#d9d9d9", "#bc80bd", "#ccebc5", "#ffed6f", "#fbb4ae", "#b3cde3", "#decbe4", "#fed9a6"]

_NO_DATA_COLOR = "#d5d8dc"

#: English names of the Bazhong divisions (used with ``lang="en"`` when the data has no ``name_en``).
_EN_NAMES = {
    "511900": "Bazhong", "511902": "Bazhou", "511903": "Enyang", "511921": "Tongjiang",
    "511922": "Nanjiang", "511923": "Pingchang", "511971": "Bazhong EDZ",
}

#: Labels of known designation keys.
_DESIGNATIONS = {
    "national_key_town": ("全国重点镇", "national key town"),
    "provincial_key_town": ("省级重点镇", "provincial key town"),
    "municipal_key_town": ("市级重点镇", "municipal key town"),
    "provincial_featured_town": ("省级特色小镇", "provincial featured town"),
    "national_featured_town": ("国家级特色小镇", "national featured town"),
    "featured_town": ("特色镇", "featured town"),
    "four_good_village": ("四好村", "four-good village"),
    "central_village": ("中心村", "central village"),
}

_WORK_CRS = "EPSG:4545"
_DEFAULT_CENTER = (31.87, 106.95)  # Bazhong

_TXT = {
    "boundaries": ("行政区划", "Boundaries"),
    "settlements": ("城镇体系", "Settlement system"),
    "catchments": ("服务范围", "Catchments"),
    "builtup": ("建成区", "Built-up area"),
    "raster": ("建成区栅格", "Built-up raster"),
    "designated": ("重点/特色镇", "Designated towns"),
    "candidates": ("候选镇村", "Candidates"),
    "legend_tiers": ("城镇体系等级", "Settlement tiers"),
    "size_by_pop": ("符号大小 = 人口", "symbol size = population"),
    "unknown_pop": ("人口未知时为默认大小", "default size where population unknown"),
    "not_located": ("{n} 个居民点无坐标，未显示", "{n} settlements without coordinates not shown"),
    "progress": ("目标进展", "Progress towards targets"),
    "target": ("目标", "target"),
    "latest": ("最新值", "latest"),
    "status": ("状态", "status"),
    "name": ("名称", "name"),
    "code": ("代码", "code"),
    "tier": ("等级", "tier"),
    "county": ("所属区县", "county"),
    "population": ("人口", "population"),
    "unknown": ("未知", "unknown"),
    "designations": ("称号", "designations"),
    "coord_source": ("坐标来源", "coordinate source"),
    "area": ("面积", "area"),
    "served": ("服务人口", "population served"),
    "centre": ("中心", "centre"),
    "passed": ("符合", "passes"),
    "failed": ("不符合", "fails"),
    "incomplete": ("数据不全", "data incomplete"),
    "reasons": ("原因", "reasons"),
    "no_data": ("无数据", "no data"),
    "title_settlement": ("巴中市城乡体系", "Bazhong settlement system"),
    "title_progress": ("巴中市城乡提升目标进展", "Bazhong: progress towards the plan targets"),
    "title_catchment": ("巴中市服务范围", "Bazhong catchments"),
    "prefecture": ("市界", "prefecture"),
    "county_b": ("区县界", "county"),
}


def _t(key: str, lang: str) -> str:
    zh, en = _TXT[key]
    return en if lang == "en" else zh


# ----------------------------------------------------------------------------------------------- text

def _clean(v):
    """``v``, or None when it is missing (None, NaN, pd.NA, NaT)."""
    if v is None:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):  # list-likes are values
        pass
    return v


def _fmt_num(value: Any, digits: int = 0) -> str:
    """Thousands-separated number (integers without decimals); '' when missing."""
    if _clean(value) is None:
        return ""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if digits == 0 and abs(v - round(v)) < 1e-9:
        return f"{int(round(v)):,}"
    return f"{v:,.{digits or 2}f}".rstrip("0").rstrip(".")


def _fmt_year(year: Any) -> str:
    """A year as text: 2020.0 -> '2020'."""
    return str(int(year)) if isinstance(year, (int, float, np.integer, np.floating)) else str(year)


def _column(gdf, name: str, default: Any) -> pd.Series:
    """Column ``name`` of ``gdf``, or ``default`` on every row when the column is absent."""
    return gdf[name] if name in gdf.columns else pd.Series([default] * len(gdf), index=gdf.index)


# ----------------------------------------------------------------------------------------------- geometry

def prepare_geometries(gdf, *, tolerance_m: float = 30.0, precision: int = 5, coords: str = "wgs84"):
    """Return a display copy of ``gdf``: simplified, in longitude/latitude, coordinates rounded.

    Polygons and lines are simplified in the work CRS (EPSG:4545) with ``tolerance_m`` metres: a
    polygon coverage (no overlaps, e.g. counties or catchments) by ``shapely.coverage_simplify`` so
    shared edges stay shared, anything else by topology-preserving Douglas–Peucker. No feature is
    dropped: a geometry that would collapse keeps its unsimplified shape. Coordinates are rounded to
    ``precision`` decimals (5 ≈ 1 m). With ``coords="gcj02"`` the result is shifted to GCJ-02 (for
    Amap/Gaode tiles).

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Layer with a CRS.
    tolerance_m : float, default 30
        Simplification tolerance in metres; 0 disables it.
    precision : int, default 5
        Decimals kept in longitude/latitude.
    coords : {"wgs84", "gcj02"}
        Coordinate system of the basemap the layer is drawn on.

    Returns
    -------
    geopandas.GeoDataFrame
        Same rows, same order, EPSG:4326 (GCJ-02 values if asked).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> g = gpd.GeoDataFrame(geometry=[Point(106.7476123, 31.8672345)], crs=4326)
    >>> prepare_geometries(g).geometry.iloc[0].wkt
    'POINT (106.74761 31.86723)'
    """
    import shapely

    if gdf.crs is None:
        raise MissingCRSError("the layer given to the map has no CRS; set it with gdf.set_crs(...) "
                              "(EPSG:4545 for the work CRS, EPSG:4326 for longitude/latitude)")
    out = gdf.copy()
    geoms = np.asarray(out.geometry.values, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    kinds = shapely.get_type_id(geoms)
    lineal_or_polygonal = present & np.isin(kinds, [1, 2, 3, 5, 6])
    if tolerance_m and lineal_or_polygonal.any():
        work = out.to_crs(_WORK_CRS) if str(out.crs).upper() != _WORK_CRS else out
        wg = np.asarray(work.geometry.values, dtype=object).copy()
        idx = np.flatnonzero(lineal_or_polygonal)
        sub = wg[idx]
        polygonal = np.isin(shapely.get_type_id(sub), [3, 6])
        simplified = np.empty(len(sub), dtype=object)
        if polygonal.all() and len(sub) > 1 and _is_coverage(sub):
            simplified[:] = shapely.coverage_simplify(sub, tolerance_m)
        else:
            simplified[:] = shapely.simplify(sub, tolerance_m, preserve_topology=True)
        bad = shapely.is_empty(simplified) | ~shapely.is_valid(simplified)
        simplified[bad] = sub[bad]
        wg[idx] = simplified
        import geopandas as gpd

        out = out.set_geometry(gpd.GeoSeries(wg, index=out.index, crs=work.crs))
    out = out.to_crs(4326)
    if coords == "gcj02":
        from .crs import convert

        out = convert(out, src="wgs84", dst="gcj02")
    elif coords != "wgs84":
        raise BazhongGeoError(f"coords={coords!r}: maps are drawn in 'wgs84' or 'gcj02'")
    factor = 10.0 ** precision
    g = np.asarray(out.geometry.values, dtype=object)
    rounded = shapely.transform(g, lambda c: np.rint(c * factor) / factor)
    # a feature smaller than the rounding grid would collapse: it keeps its full-precision coordinates
    broke = (~shapely.is_missing(g)) & (shapely.is_valid(g) & ~shapely.is_empty(g)) & (
        shapely.is_empty(rounded) | ~shapely.is_valid(rounded))
    rounded[broke] = g[broke]
    import geopandas as gpd

    return out.set_geometry(gpd.GeoSeries(rounded, index=out.index, crs=4326))


def _is_coverage(geoms: np.ndarray) -> bool:
    import shapely

    try:
        return bool(shapely.coverage_is_valid(geoms))
    except Exception:  # GEOS without coverage support or a geometry it rejects
        return False


def _features(gdf, props: list[dict]) -> dict:
    """GeoJSON FeatureCollection from a prepared frame and per-row property dicts (rows without geometry skipped)."""
    import shapely

    geoms = np.asarray(gdf.geometry.values, dtype=object)
    feats = []
    for geom, p in zip(geoms, props):
        if geom is None or shapely.is_empty(geom):
            continue
        feats.append({"type": "Feature", "geometry": shapely.geometry.mapping(geom), "properties": p})
    return {"type": "FeatureCollection", "features": feats}


def _located_mask(gdf) -> np.ndarray:
    import shapely

    geoms = np.asarray(gdf.geometry.values, dtype=object)
    return ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))


# ----------------------------------------------------------------------------------------------- folium elements

def _add_layer(m, name: str, show: bool, spec: dict):
    """Add a layer-control entry (``folium.FeatureGroup``) holding one ``bz`` data layer; return the group."""
    import folium

    fg = folium.FeatureGroup(name=_esc(name), overlay=True, control=True, show=show)
    fg.add_to(m)
    _elements.DataLayer(spec).add_to(fg)
    return fg


# ----------------------------------------------------------------------------------------------- base map

_BASEMAPS = ("none", "osm", "tianditu", "amap")


def base_map(bounds=None, *, basemap: str = "none", tianditu_key: str | None = None, lang: str = "zh",
             zoom_start: int = 9, prefer_canvas: bool = False, scale_bar: bool = True):
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

    if basemap not in _BASEMAPS:
        raise BazhongGeoError(f"basemap {basemap!r} unknown; use one of {', '.join(_BASEMAPS)}")
    if lang not in ("zh", "en"):
        raise BazhongGeoError(f"lang {lang!r}: use 'zh' (中文) or 'en'")
    m = folium.Map(location=list(_DEFAULT_CENTER), zoom_start=zoom_start, tiles=None, zoom_control=False,
                   prefer_canvas=prefer_canvas, control_scale=False, zoom_snap=0.25, zoom_delta=0.5)
    st = _state(m)
    st["lang"] = lang
    st["basemap"] = basemap
    st["coords"] = "gcj02" if basemap == "amap" else "wgs84"
    if basemap == "osm":
        folium.TileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", name="OpenStreetMap",
                         attr="&copy; OpenStreetMap contributors", max_zoom=19).add_to(m)
    elif basemap == "tianditu":
        if not tianditu_key:
            raise BazhongGeoError("basemap='tianditu' needs your Tianditu key: tianditu_key='...' "
                                  "(CLI: --tianditu-key); get one at https://console.tianditu.gov.cn")
        if not re.fullmatch(r"[A-Za-z0-9]{8,64}", str(tianditu_key)):
            raise BazhongGeoError("the Tianditu key must be the 32 letters/digits shown in your Tianditu console")
        key = str(tianditu_key)
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
    _elements.Raw("L.control.zoom({position: 'topleft'}).addTo(__MAP__);").add_to(m)
    if scale_bar:
        add_scale_bar(m)
    if bounds is not None:
        fit_bounds(m, bounds)
    return m


def fit_bounds(m, bounds, padding: int = 20, *, padding_top_left: tuple[int, int] | None = None,
               padding_bottom_right: tuple[int, int] | None = None):
    """Fit the map to a GeoDataFrame's extent or a (minx, miny, maxx, maxy) longitude/latitude box.

    ``padding_top_left`` / ``padding_bottom_right`` (pixels) keep the extent clear of panels; in a
    window too small for them they shrink in proportion.

    Examples
    --------
    >>> m = fit_bounds(base_map(), (106.3, 31.3, 107.8, 32.8))
    """
    if hasattr(bounds, "total_bounds"):
        b = bounds
        if b.crs is None:
            raise MissingCRSError("bounds layer has no CRS")
        b = b[_located_mask(b)]
        if len(b) == 0:
            return m
        minx, miny, maxx, maxy = b.to_crs(4326).total_bounds
    else:
        minx, miny, maxx, maxy = bounds
    minx, miny, maxx, maxy = _basemap_box(m, minx, miny, maxx, maxy)
    box = [[float(miny), float(minx)], [float(maxy), float(maxx)]]
    top_left = list(padding_top_left or (padding, padding))
    bottom_right = list(padding_bottom_right or (padding, padding))
    for key, child in list(m._children.items()):  # one fit per map: the last call wins
        if getattr(child, "_bz_fit", False) or type(child).__name__ == "FitBounds":
            del m._children[key]
    # bz.fit shrinks the paddings on a window too small for them (Leaflet would fail on NaN)
    fit = _elements.Raw(f"bz.fit(__MAP__, {_js(box)}, {_js(top_left)}, {_js(bottom_right)});")
    fit._bz_fit = True
    fit.add_to(m)
    return m


def _basemap_box(m, minx: float, miny: float, maxx: float, maxy: float) -> tuple[float, float, float, float]:
    """A WGS-84 longitude/latitude box in the map's coordinates (shifted to GCJ-02 for Amap tiles)."""
    if _state(m)["coords"] != "gcj02":
        return minx, miny, maxx, maxy
    from .crs import wgs84_to_gcj02

    (x0, x1), (y0, y1) = wgs84_to_gcj02(np.array([minx, maxx]), np.array([miny, maxy]))
    return float(x0), float(y0), float(x1), float(y1)


# ----------------------------------------------------------------------------------------------- layers

def _name_col(gdf, lang: str) -> pd.Series:
    names = _column(gdf, "name", "").astype("string")
    if lang == "en":
        if "name_en" in gdf.columns:
            en = gdf["name_en"].astype("string")
            names = en.where(en.notna() & (en != ""), names)
        if "code" in gdf.columns:
            mapped = gdf["code"].astype("string").map(_EN_NAMES)
            names = mapped.where(mapped.notna(), names)
    return names.fillna("")


def add_boundaries(m, boundaries, *, name: str | None = None, tolerance_m: float = 30.0,
                   color: str = "#34495e", fill: str | None = None, labels: bool = True, area_labels: bool = True,
                   show: bool = True):
    """Add administrative boundaries (prefecture bold, counties thin) with names as tooltips.

    Parameters
    ----------
    m : folium.Map
        Map from :func:`base_map`.
    boundaries : geopandas.GeoDataFrame
        Polygons with ``name``, optionally ``code`` and ``level`` ("prefecture"/"county"/...).
    name : str, optional
        Layer name in the layer control.
    tolerance_m : float
        Simplification tolerance (metres, work CRS); see :func:`prepare_geometries`.
    color, fill : str
        Line colour; fill colour (none by default).
    labels : bool
        Hover tooltips with the unit name.
    area_labels : bool
        Permanent name labels inside the non-prefecture units (county names).
    show : bool
        Visible on opening.

    Returns
    -------
    folium.FeatureGroup

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> b = gpd.GeoDataFrame({"name": ["甲县"], "code": ["511921"], "level": ["county"]},
    ...                      geometry=[box(106.5, 31.5, 107.0, 32.0)], crs=4326)
    >>> fg = add_boundaries(base_map(), b)
    """
    st = _state(m)
    lang = st["lang"]
    _check_color(color)
    if fill is not None:
        _check_color(fill)
    if len(boundaries) == 0:
        raise EmptyInputError("boundaries layer has no rows")
    levels = _column(boundaries, "level", "unit").astype(str)
    parts = []
    for level in sorted(levels.unique(), key=lambda v: (v != "prefecture", v)):
        sub = boundaries[levels == level]
        parts.append(prepare_geometries(sub, tolerance_m=tolerance_m, coords=st["coords"]))
    import geopandas as gpd

    disp = gpd.GeoDataFrame(pd.concat(parts), crs=4326)
    lv = _column(disp, "level", "unit").astype(str)
    names = _name_col(disp, lang)
    codes = _column(disp, "code", "").astype("string").fillna("")
    props = []
    for nm, cd, l in zip(names, codes, lv):
        p = {"_k": "p" if l == "prefecture" else "c"}
        if labels:
            p["_t"] = f"{_esc(nm)} <small>{_esc(cd)}</small>" if cd else _esc(nm)
        props.append(p)
    # prefecture outline drawn last (on top)
    order = np.argsort((lv == "prefecture").to_numpy(), kind="stable")
    data = _features(disp.iloc[order], [props[i] for i in order])
    styles = {
        "p": {"color": color, "weight": 3, "fill": False, "opacity": 0.9},
        "c": {"color": color, "weight": 1.3, "dashArray": "5 4", "opacity": 0.9,
              "fill": fill is not None, "fillColor": fill or color, "fillOpacity": 0.15 if fill else 0},
    }
    fg = _add_layer(m, name or _t("boundaries", lang), show, {"data": data, "styles": styles})
    if area_labels:
        units = disp[(lv != "prefecture").to_numpy()]
        if len(units):
            import geopandas as gpd
            import shapely

            pts = gpd.GeoDataFrame(geometry=shapely.point_on_surface(np.asarray(units.geometry.values, dtype=object)),
                                   crs=4326)
            pts = pts.set_geometry(shapely.transform(np.asarray(pts.geometry.values, dtype=object),
                                                     lambda c: np.round(c, 5)))
            lab = [{"_k": "n", "_l": _esc(nm)} for nm in _name_col(units, lang)]
            _elements.DataLayer({"data": _features(pts, lab), "styles": {"n": {"shape": "none"}}, "labelDir": "center",
                        "labelClass": "bz-area-label", "labelOffset": [0, 20], "z": -100000}).add_to(fg)
    return fg


def _tier_of(values: pd.Series) -> pd.Series:
    """Normalise tier values (Tier, its value or its Chinese/English label) to Tier values."""
    lookup = {label: key for key, sty in TIER_STYLES.items() for label in (key, sty["zh"], sty["en"])}
    out = []
    bad = []
    for v in values.tolist():
        raw = getattr(v, "value", v)
        k = lookup.get(str(raw).strip()) if _clean(raw) is not None else None
        if k is None:
            bad.append(raw)
        out.append(k)
    if bad:
        from ._errors import UnknownTierError

        raise UnknownTierError(f"{len(bad)} settlement(s) have an unknown tier, e.g. {bad[:3]!r}; "
                               f"use one of {', '.join(TIER_STYLES)}")
    return pd.Series(out, index=values.index)


def population_radius(population, *, pop_max: float, r_min: float = 3.0, r_max: float = 22.0) -> np.ndarray:
    """Symbol radius in pixels, symbol area proportional to population (square-root scaling).

    Examples
    --------
    >>> population_radius([0, 250_000, 1_000_000], pop_max=1_000_000).round(1).tolist()
    [3.0, 11.0, 22.0]
    """
    p = np.asarray(population, dtype=float)
    if not pop_max or pop_max <= 0 or not np.isfinite(pop_max):
        return np.full(p.shape, np.nan)
    r = r_max * np.sqrt(np.clip(p, 0, None) / pop_max)
    return np.where(np.isnan(p), np.nan, np.clip(r, r_min, r_max))


_SETTLEMENT_FIELDS = ("code", "tier", "county", "population", "designations", "coord_source")


def _settlement_facts(row: dict, tier: str, lang: str, county_names: dict) -> tuple[str, list]:
    """Popup title and values (in :data:`_SETTLEMENT_FIELDS` order) of one settlement, as plain text.

    The browser writes them with ``textContent`` (never parsed as HTML), labels once per layer.
    """
    nm = _clean(row.get("name")) or ""
    title = f"{row['name_en']} {nm}" if lang == "en" and _clean(row.get("name_en")) else str(nm)
    pop = _clean(row.get("population"))
    pop_txt = _fmt_num(pop) if pop is not None else _t("unknown", lang)
    extra = []
    year = _clean(row.get("population_year"))
    if year is not None and pop is not None:
        extra.append(_fmt_year(year))
    if _clean(row.get("population_kind")):
        extra.append(str(row["population_kind"]))
    if extra:
        pop_txt += f" ({', '.join(extra)})"
    des = _clean(row.get("designations")) or ""
    des_txt = "; ".join(_designation_label(d, lang) for d in str(des).split(";") if d.strip())
    cc = _clean(row.get("county_code"))
    county = county_names.get(str(cc), cc) if cc is not None else None
    values = [row.get("code"), TIER_STYLES[tier][lang], county, pop_txt, des_txt or None, row.get("coord_source")]
    return title, [None if _clean(v) is None or v == "" else str(v) for v in values]


def _designation_label(key: str, lang: str) -> str:
    key = key.strip()
    zh_en = _DESIGNATIONS.get(key)
    if zh_en is None:
        return key.replace("_", " ")
    return zh_en[1] if lang == "en" else zh_en[0]


def add_settlements(m, settlements, *, tiers: Sequence[str] | None = None, label_tiers: Sequence[str] = (
        "central_city", "county_town"), name: str | None = None, r_min: float = 3.0, r_max: float = 22.0,
        county_names: dict | None = None, show: bool = True, legend: bool = True):
    """Add tiered settlement symbols: one symbol per tier, sized by population (square-root scaling).

    Settlements without a point are not drawn; their number is written under the legend.

    Parameters
    ----------
    m : folium.Map
    settlements : geopandas.GeoDataFrame
        At least ``name``, ``tier`` and point geometry; ``code``, ``population``, ``designations``,
        ``county_code``, ``population_year``, ``coord_source``, ``name_en`` are shown when present.
    tiers : sequence of str, optional
        Tiers to draw (default: all present). Each tier is its own layer in the layer control.
    label_tiers : sequence of str
        Tiers with permanent name labels.
    r_min, r_max : float
        Symbol radius range in pixels for known populations.
    county_names : dict, optional
        County code -> name for popups.
    show : bool
        Layers visible on opening.
    legend : bool
        Add the tier legend.

    Returns
    -------
    dict
        Tier value -> folium.FeatureGroup.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> s = gpd.GeoDataFrame({"code": ["511900"], "name": ["巴城"], "tier": ["central_city"],
    ...                       "population": [608152.0]}, geometry=[Point(106.75, 31.86)], crs=4326)
    >>> sorted(add_settlements(base_map(), s))
    ['central_city']
    """
    st = _state(m)
    lang = st["lang"]
    if "tier" not in settlements.columns:
        raise MissingColumnError("settlements layer has no 'tier' column; expected one of "
                                 + ", ".join(TIER_STYLES))
    if settlements.crs is None:
        raise MissingCRSError("settlements layer has no CRS")
    tier = _tier_of(settlements["tier"])
    located = _located_mask(settlements)
    n_unlocated = int((~located).sum())
    s = settlements[located].copy()
    s["_tier"] = tier[located].to_numpy()
    wanted = list(tiers) if tiers is not None else [t for t in TIER_STYLES if (s["_tier"] == t).any()]
    wanted = [_tier_of(pd.Series([t])).iloc[0] for t in wanted]
    pop = (pd.to_numeric(s["population"], errors="coerce") if "population" in s.columns
           else pd.Series(np.nan, index=s.index))
    pop_max = float(pop.max()) if pop.notna().any() else float("nan")
    radius = population_radius(pop.to_numpy(), pop_max=pop_max, r_min=r_min, r_max=r_max)
    default_r = s["_tier"].map(lambda t: TIER_STYLES[t]["radius"]).to_numpy(dtype=float)
    s["_r"] = np.round(np.where(np.isnan(radius), default_r, radius), 1)
    disp = prepare_geometries(s, tolerance_m=0, coords=st["coords"])
    names = _name_col(disp, lang)
    county_names = county_names or {}
    groups = {}
    cols = [c for c in ("code", "name", "name_en", "population", "population_year", "population_kind",
                        "designations", "county_code", "coord_source") if c in disp.columns]
    records = disp[cols].to_dict("records")
    # higher tiers sit on top (zIndexOffset); the layer control lists them from the central city down
    n_tiers = len(TIER_STYLES)
    for z, t in enumerate(TIER_STYLES):
        if t not in wanted:
            continue
        sel = np.flatnonzero((disp["_tier"] == t).to_numpy())
        if len(sel) == 0:
            continue
        # larger symbols first so small ones stay clickable
        sel = sel[np.argsort(-disp["_r"].to_numpy()[sel], kind="stable")]
        props = []
        for i in sel:
            row = {k: _clean(v) for k, v in records[i].items()}
            head, values = _settlement_facts(row, t, lang, county_names)
            p = {"_k": t, "_r": float(disp["_r"].iloc[i]), "_h": head, "_v": values}
            label = _esc(names.iloc[i])
            if t in label_tiers:
                p["_l"] = label
            else:
                p["_t"] = label
            props.append(p)
        sty = TIER_STYLES[t]
        spec = {"data": _features(disp.iloc[sel], props), "z": (n_tiers - z) * 10000,
                "fields": [_t(f, lang) for f in _SETTLEMENT_FIELDS],
                "styles": {t: {"shape": sty["shape"], "fillColor": sty["fill"], "color": "#222"}}}
        groups[t] = _add_layer(m, sty[lang], show, spec)
    if legend:
        add_tier_legend(m, tiers=[t for t in TIER_STYLES if t in groups], n_unlocated=n_unlocated,
                        pop_max=pop_max, r_min=r_min, r_max=r_max)
    return groups


def _nice(x: float) -> float:
    if x <= 0 or not np.isfinite(x):
        return 0.0
    e = 10 ** math.floor(math.log10(x))
    return float(round(x / e) * e)


def _svg_symbol(shape: str, size: float, fill: str, stroke: str = "#222") -> str:
    """Inline SVG of a tier symbol (numbers and checked colours only)."""
    s = max(4, int(round(size)))
    _check_color(fill), _check_color(stroke)
    c = s / 2
    if shape == "star":
        R, r = s / 2 - 1, (s / 2 - 1) * 0.45
        pts = " ".join(f"{c + (r if i % 2 else R) * math.cos(math.pi / 5 * i - math.pi / 2):.1f},"
                       f"{c + (r if i % 2 else R) * math.sin(math.pi / 5 * i - math.pi / 2):.1f}" for i in range(10))
        body = f'<polygon points="{pts}"/>'
    elif shape == "square":
        body = f'<rect x="1" y="1" width="{s - 2}" height="{s - 2}"/>'
    elif shape == "diamond":
        body = f'<polygon points="{c},1 {s - 1},{c} {c},{s - 1} 1,{c}"/>'
    elif shape == "triangle":
        body = f'<polygon points="{c},1 {s - 1},{s - 1} 1,{s - 1}"/>'
    elif shape == "cross":
        return (f'<svg width="{s}" height="{s}" viewBox="0 0 {s} {s}" fill="none" stroke="{fill}" stroke-width="3">'
                f'<path d="M2,2L{s - 2},{s - 2}M{s - 2},2L2,{s - 2}"/></svg>')
    elif shape == "ring":
        return (f'<svg width="{s}" height="{s}" viewBox="0 0 {s} {s}" fill="none" stroke="{fill}" stroke-width="3">'
                f'<circle cx="{c}" cy="{c}" r="{c - 2}"/></svg>')
    else:
        body = f'<circle cx="{c}" cy="{c}" r="{c - 1}"/>'
    return (f'<svg width="{s}" height="{s}" viewBox="0 0 {s} {s}" fill="{fill}" stroke="{stroke}" '
            f'stroke-width="1.2">{body}</svg>')


def add_tier_legend(m, *, tiers: Sequence[str] | None = None, n_unlocated: int = 0, pop_max: float = float("nan"),
                    r_min: float = 3.0, r_max: float = 22.0, position: str = "bottomleft"):
    """Add the legend of settlement tiers (symbols) and, when populations are known, symbol sizes.

    Returns
    -------
    folium.Element
        The legend control.

    Examples
    --------
    >>> legend = add_tier_legend(base_map(), tiers=["central_city", "county_town"], pop_max=600_000)
    """
    lang = _state(m)["lang"]
    tiers = list(tiers) if tiers is not None else list(TIER_STYLES)
    rows = []
    for t in tiers:
        sty = TIER_STYLES[t]
        rows.append(f'<div class="row">{_svg_symbol(sty["shape"], 14, sty["fill"])}'
                    f'<span>{_esc(sty[lang])}</span></div>')
    sizes = ""
    if np.isfinite(pop_max) and pop_max > 0:
        refs = sorted({_nice(pop_max), _nice(pop_max / 4), _nice(pop_max / 25)} - {0.0}, reverse=True)
        circles = []
        for v in refs:
            r = float(population_radius([v], pop_max=pop_max, r_min=r_min, r_max=r_max)[0])
            circles.append(f'<div class="row">{_svg_symbol("circle", 2 * r, "#ffffff", "#555")}'
                           f'<span>{_esc(_fmt_num(v))}</span></div>')
        sizes = (f'<div class="note">{_esc(_t("size_by_pop", lang))}; {_esc(_t("unknown_pop", lang))}</div>'
                 + "".join(circles))
    note = ""
    if n_unlocated:
        note = f'<div class="note">{_esc(_t("not_located", lang).format(n=f"{n_unlocated:,}"))}</div>'
    content = f'<h4>{_esc(_t("legend_tiers", lang))}</h4>{"".join(rows)}{sizes}{note}'
    return _add_panel(m, content, position, "bz-legend bz-legend-tiers")


def _add_panel(m, content_html: str, position: str, cls: str):
    panel = _elements.Panel(content_html, position, cls)
    panel.add_to(m)
    return panel


def add_categorical_legend(m, title: str, items: Sequence[tuple], *, position: str = "bottomright",
                           note: str | None = None, kind: str = "fill"):
    """Add a categorical legend (folium has none): a swatch or symbol and a label per category.

    Parameters
    ----------
    m : folium.Map
    title : str
        Legend heading (escaped).
    items : sequence of (label, colour) or (label, colour, shape)
        ``shape`` one of star, square, diamond, triangle, circle, cross, ring; without it a fill swatch.
    position : str
        Leaflet control corner.
    note : str, optional
        Small print under the items (escaped).

    Returns
    -------
    folium.Element

    Examples
    --------
    >>> _ = add_categorical_legend(base_map(), "用地", [("建成区", "#e74c3c"), ("水域", "#3498db")])
    """
    rows = []
    for item in items:
        label, color = item[0], _check_color(item[1])
        shape = item[2] if len(item) > 2 else None
        sym = _svg_symbol(shape, 14, color) if shape else f'<span class="sw" style="background:{color}"></span>'
        rows.append(f'<div class="row">{sym}<span>{_esc(label)}</span></div>')
    extra = f'<div class="note">{_esc(note)}</div>' if note else ""
    return _add_panel(m, f"<h4>{_esc(title)}</h4>{''.join(rows)}{extra}", position, "bz-legend")


def _areas_km2(gdf, column: str) -> np.ndarray:
    """Areas in km²: the layer's ``column`` when it has one, else computed (:func:`bazhong_geo.crs.area_km2`)."""
    if column in gdf.columns:
        return pd.to_numeric(gdf[column], errors="coerce").to_numpy(dtype=float)
    from .crs import area_km2

    return np.asarray(area_km2(gdf), dtype=float)


def _catchment_label_cols(gdf):
    for c in ("center_name", "centre_name", "name"):
        if c in gdf.columns:
            return c
    return None


def add_catchments(m, catchments, *, name: str | None = None, tolerance_m: float = 30.0, label_col: str | None = None,
                   population_col: str | None = None, show: bool = True, legend: bool = False, opacity: float = 0.35):
    """Add catchment polygons, one qualitative colour per catchment, with the centre and the population served.

    Parameters
    ----------
    m : folium.Map
    catchments : geopandas.GeoDataFrame
        Polygons; a label column (``center_name``/``name``, or ``label_col``), and a population column
        (``population_served``/``population``, or ``population_col``) are shown when present.
    tolerance_m : float
        Simplification tolerance in metres (a coverage stays a coverage).
    legend : bool
        Add a categorical legend of the catchments.

    Returns
    -------
    folium.FeatureGroup

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> c = gpd.GeoDataFrame({"name": ["巴城", "通江"], "population": [9e5, 5e5]},
    ...                      geometry=[box(106.5, 31.5, 107, 32), box(107, 31.5, 107.5, 32)], crs=4326)
    >>> fg = add_catchments(base_map(), c)
    """
    st = _state(m)
    lang = st["lang"]
    if len(catchments) == 0:
        raise EmptyInputError("catchments layer has no rows")
    disp = prepare_geometries(catchments, tolerance_m=tolerance_m, coords=st["coords"])
    label_col = label_col or _catchment_label_cols(disp)
    if population_col is None:
        population_col = next((c for c in ("population_served", "population") if c in disp.columns), None)
    try:
        areas = _areas_km2(catchments, "area_km2")
    except Exception:  # area is decoration: a failure must not stop the map
        areas = np.full(len(catchments), np.nan)
    props, styles = [], {}
    labels = disp[label_col].astype("string").fillna("").tolist() if label_col else [str(i) for i in range(len(disp))]
    codes = None
    for c in ("center_code", "centre_code", "code"):
        if c in disp.columns:
            codes = disp[c].astype("string").fillna("").tolist()
            break
    minutes = (pd.to_numeric(disp["minutes"], errors="coerce").to_numpy(dtype=float) if "minutes" in disp.columns
               else None)
    palette: dict[str, str] = {}
    for lab in labels:  # one colour per centre (network bands of a centre share it)
        palette.setdefault(lab, _QUALITATIVE[len(palette) % len(_QUALITATIVE)])
    for i, lab in enumerate(labels):
        color = palette[lab]
        band = f" ≤ {_fmt_num(minutes[i])} min" if minutes is not None and np.isfinite(minutes[i]) else ""
        key = f"k{list(palette).index(lab)}"
        styles[key] = {"color": "#555", "weight": 1, "fillColor": color,
                       "fillOpacity": opacity if minutes is None else opacity * 0.6}
        rows = [(_t("centre", lang), lab), (_t("code", lang), codes[i] if codes else None),
                (_t("area", lang), f"{_fmt_num(areas[i], 1)} km²" if np.isfinite(areas[i]) else None)]
        if band:
            rows.append(("min", band.strip(" ≤")))
        if population_col:
            rows.append((_t("served", lang), _fmt_num(disp[population_col].iloc[i])))
        props.append({"_k": key, "_t": _esc(lab + band), "_p": _popup_html(lab + band, rows)})
    items = list(palette.items())
    if minutes is not None:  # larger bands first, so the nearer ones are drawn on top
        order = np.argsort(-np.nan_to_num(minutes, nan=0.0), kind="stable")
        disp = disp.iloc[order]
        props = [props[i] for i in order]
    fg = _add_layer(m, name or _t("catchments", lang), show, {"data": _features(disp, props), "styles": styles})
    if legend:
        add_categorical_legend(m, name or _t("catchments", lang), items)
    return fg


def add_builtup(m, builtup, *, name: str | None = None, tolerance_m: float = 10.0, color: str = "#d35400",
                show: bool = True):
    """Add built-up extents (polygons) with their area in km² in the tooltip.

    Returns
    -------
    folium.FeatureGroup

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> b = gpd.GeoDataFrame({"name": ["巴城"]}, geometry=[box(106.70, 31.83, 106.80, 31.89)], crs=4326)
    >>> fg = add_builtup(base_map(), b)
    """
    st = _state(m)
    lang = st["lang"]
    _check_color(color)
    if len(builtup) == 0:
        raise EmptyInputError("built-up layer has no rows")
    disp = prepare_geometries(builtup, tolerance_m=tolerance_m, coords=st["coords"])
    areas = _areas_km2(builtup, "builtup_km2")
    names = _name_col(disp, lang)
    props = []
    for nm, a in zip(names, areas):
        txt = f"{_t('builtup', lang)} {_fmt_num(a, 2)} km²"
        props.append({"_k": "b", "_t": (_esc(nm) + " · " if nm else "") + _esc(txt)})
    return _add_layer(m, name or _t("builtup", lang), show, {
        "data": _features(disp, props),
        "styles": {"b": {"color": color, "weight": 1, "fillColor": color, "fillOpacity": 0.45}}})


def _rgb(color: str) -> tuple[int, int, int]:
    """(r, g, b) of a hex colour (#rgb, #rrggbb, #rrggbbaa) or a CSS colour name."""
    from PIL import ImageColor

    try:
        return tuple(ImageColor.getrgb(_check_color(color))[:3])
    except ValueError:
        raise BazhongGeoError(f"colour {color!r} is not a hex colour or a CSS colour name; give e.g. '#c0392b'") \
            from None


def _png_data_uri(rgba: np.ndarray) -> str:
    from PIL import Image

    buf = _io.BytesIO()
    Image.fromarray(rgba, mode="RGBA").save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def add_raster(m, raster, *, name: str | None = None, band: int = 1, color: str = "#c0392b", vmin: float | None = None,
               vmax: float | None = None, max_size: int = 1200, opacity: float = 0.8, show: bool = True):
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
    >>> overlay = add_raster(base_map(), "builtup_fraction.tif", vmin=0, vmax=1)   # doctest: +SKIP
    """
    import folium
    import rasterio
    from rasterio.warp import Resampling, calculate_default_transform, reproject, transform_bounds

    st = _state(m)
    _check_color(color)
    path = Path(raster)
    if not path.exists():
        raise BazhongGeoError(f"raster file {path} does not exist")
    with rasterio.open(path) as src:
        if src.crs is None:
            raise MissingCRSError(f"raster {path} has no CRS; assign one (e.g. gdal_edit.py -a_srs EPSG:4545)")
        if band < 1 or band > src.count:
            raise BazhongGeoError(f"raster {path} has {src.count} band(s); band={band} does not exist")
        # a raster much larger than the image is read decimated (cell averages), not whole
        f = max(src.width, src.height) / (2 * max_size)
        if f > 1:
            shape = (max(1, int(src.height / f)), max(1, int(src.width / f)))
            data = src.read(band, masked=True, out_shape=shape, resampling=Resampling.average).astype("float64")
            src_transform = src.transform * src.transform.scale(src.width / shape[1], src.height / shape[0])
        else:
            data = src.read(band, masked=True).astype("float64")
            src_transform = src.transform
        dst_crs = "EPSG:3857"
        transform, width, height = calculate_default_transform(src.crs, dst_crs, src.width, src.height, *src.bounds)
        scale = max(width, height) / max_size
        if scale > 1:
            width, height = int(math.ceil(width / scale)), int(math.ceil(height / scale))
            transform, width, height = calculate_default_transform(src.crs, dst_crs, src.width, src.height,
                                                                   *src.bounds, dst_width=width, dst_height=height)
        out = np.full((height, width), np.nan)
        reproject(data.filled(np.nan), out, src_transform=src_transform, src_crs=src.crs, dst_transform=transform,
                  dst_crs=dst_crs, resampling=Resampling.bilinear, src_nodata=np.nan, dst_nodata=np.nan)
    west, north = transform.c, transform.f  # north-up grid from calculate_default_transform
    east, south = west + transform.a * width, north + transform.e * height
    w, s, e, n = _basemap_box(m, *transform_bounds("EPSG:3857", "EPSG:4326", west, south, east, north))
    finite = np.isfinite(out)
    lo = float(np.nanmin(out)) if vmin is None and finite.any() else (vmin or 0.0)
    hi = float(np.nanmax(out)) if vmax is None and finite.any() else (vmax if vmax is not None else 1.0)
    frac = np.clip((np.nan_to_num(out, nan=lo) - lo) / (hi - lo if hi > lo else 1.0), 0, 1)
    rgb = _rgb(color)
    rgba = np.zeros((height, width, 4), dtype=np.uint8)
    rgba[..., 0], rgba[..., 1], rgba[..., 2] = rgb
    rgba[..., 3] = np.where(finite, np.round(frac * 255 * opacity), 0).astype(np.uint8)
    overlay = folium.raster_layers.ImageOverlay(
        image=_png_data_uri(rgba), bounds=[[s, w], [n, e]], name=_esc(name or _t("raster", st["lang"])),
        overlay=True, control=True, show=show, interactive=False, cross_origin=False)
    overlay.add_to(m)
    return overlay


def add_designated(m, settlements, *, name: str | None = None, show: bool = True, color: str = "#f1c40f"):
    """Add a ring around every settlement that holds a designation (``designations`` not empty).

    Returns
    -------
    folium.FeatureGroup or None
        None when no located settlement holds a designation.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> s = gpd.GeoDataFrame({"name": ["长赤镇"], "designations": ["national_key_town"]},
    ...                      geometry=[Point(106.9, 32.2)], crs=4326)
    >>> fg = add_designated(base_map(), s)
    """
    st = _state(m)
    lang = st["lang"]
    _check_color(color)
    if "designations" not in settlements.columns:
        raise MissingColumnError("settlements have no 'designations' column (';'-joined keys)")
    des = settlements["designations"].fillna("").astype(str).str.strip()
    sel = settlements[(des != "") & _located_mask(settlements)]
    if len(sel) == 0:
        return None
    disp = prepare_geometries(sel, tolerance_m=0, coords=st["coords"])
    names = _name_col(disp, lang)
    props = []
    for nm, d in zip(names, disp["designations"].fillna("").astype(str)):
        labels = "; ".join(_designation_label(x, lang) for x in d.split(";") if x.strip())
        props.append({"_k": "d", "_r": 11, "_t": f"{_esc(nm)}: {_esc(labels)}"})
    return _add_layer(m, name or _t("designated", lang), show, {
        "data": _features(disp, props), "z": -50000,
        "styles": {"d": {"shape": "ring", "fillColor": color, "color": color}}})


_VERDICT_STATE = {"qualifies": "y", "does not qualify": "n", "incomplete": "u", "pass": "y", "fail": "n",
                  "no_data": "u"}


def add_candidates(m, candidates, *, pass_col: str | None = None, reasons_col: str | None = None,
                   name: str | None = None, show: bool = True, legend: bool = True):
    """Add designation candidates: green circle = passes, red cross = fails, grey square = data incomplete.

    Parameters
    ----------
    candidates : geopandas.GeoDataFrame
        Points with either a pass/fail column (``passed``/``pass``/``eligible``/``meets_criteria`` or
        ``pass_col``: True, False, or empty = incomplete) or the ``verdict`` column of
        :func:`bazhong_geo.designation.check` ("qualifies" / "does not qualify" / "incomplete"); optionally
        reasons (``reasons``/``reasons_zh`` or ``reasons_col``: text or list of text).

    Returns
    -------
    folium.FeatureGroup

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> c = gpd.GeoDataFrame({"name": ["甲镇", "乙镇"], "passed": [True, False], "reasons": ["", "人口不足"]},
    ...                      geometry=[Point(106.9, 32.2), Point(107.1, 31.9)], crs=4326)
    >>> fg = add_candidates(base_map(), c)
    """
    st = _state(m)
    lang = st["lang"]
    pass_col = pass_col or next((c for c in ("passed", "pass", "eligible", "meets_criteria", "ok", "verdict")
                                 if c in candidates.columns), None)
    if pass_col is None:
        raise MissingColumnError("candidates need a pass/fail column: passed, pass, eligible, meets_criteria or "
                                 "verdict (or give pass_col=...)")
    reasons_col = reasons_col or next((c for c in ("reasons", "reason", "failed_criteria",
                                                   "reasons_en" if lang == "en" else "reasons_zh")
                                       if c in candidates.columns), None)
    sel = candidates[_located_mask(candidates)]
    disp = prepare_geometries(sel, tolerance_m=0, coords=st["coords"])
    names = _name_col(disp, lang)
    states = []
    for v in disp[pass_col].tolist():
        v = _clean(v)
        if isinstance(v, str):
            state = _VERDICT_STATE.get(v.strip().lower())
            if state is None:
                raise BazhongGeoError(f"candidate status {v!r} unknown; use True/False or "
                                      "qualifies / does not qualify / incomplete")
        else:
            state = "u" if v is None else ("y" if bool(v) else "n")
        states.append(state)
    label = {"y": _t("passed", lang), "n": _t("failed", lang), "u": _t("incomplete", lang)}
    props = []
    for i, nm in enumerate(names):
        reasons = disp[reasons_col].iloc[i] if reasons_col else None
        if isinstance(reasons, (list, tuple, np.ndarray)):
            reasons = "; ".join(map(str, reasons))
        rows = [(_t("code", lang), disp["code"].iloc[i] if "code" in disp.columns else None),
                (_t("status", lang), label[states[i]]),
                (_t("reasons", lang), _clean(reasons))]
        props.append({"_k": states[i], "_r": 8, "_t": _esc(nm), "_p": _popup_html(nm, rows)})
    fg = _add_layer(m, name or _t("candidates", lang), show, {
        "data": _features(disp, props), "z": 100000,
        "styles": {"y": {"shape": "circle", "fillColor": "#27ae60", "color": "#145a32"},
                   "n": {"shape": "cross", "fillColor": "#c0392b", "color": "#c0392b"},
                   "u": {"shape": "square", "fillColor": "#9e9e9e", "color": "#424242"}}})
    if legend:
        items = [(label["y"], "#27ae60", "circle"), (label["n"], "#c0392b", "cross")]
        if "u" in states:
            items.append((label["u"], "#9e9e9e", "square"))
        add_categorical_legend(m, name or _t("candidates", lang), items)
    return fg


#: scheme -> (mapclassify class, zh legend note, en legend note)
_SCHEMES = {"quantiles": ("Quantiles", "分位数", "quantiles"),
            "natural_breaks": ("FisherJenks", "自然断点", "natural breaks"),
            "fisher_jenks": ("FisherJenks", "自然断点", "natural breaks"),
            "equal_interval": ("EqualInterval", "等间距", "equal interval"),
            "user_defined": ("UserDefined", "自定义分级", "user-defined breaks")}


def classify(values, scheme: str = "quantiles", k: int = 5, bins: Sequence[float] | None = None):
    """Classify values with mapclassify; return (class index per value, -1 for NaN; upper bounds).

    ``scheme`` is "quantiles", "natural_breaks" (Fisher–Jenks, deterministic), "equal_interval" or
    "user_defined" (give ``bins``: class upper bounds; the maximum is added if above the last bound).

    Examples
    --------
    >>> idx, upper = classify([1, 2, 3, 10], scheme="user_defined", bins=[2, 5])
    >>> idx.tolist(), upper
    ([0, 0, 1, 2], [2.0, 5.0, 10.0])
    """
    import mapclassify

    if scheme not in _SCHEMES:
        raise BazhongGeoError(f"scheme {scheme!r} unknown; use one of {', '.join(_SCHEMES)}")
    y = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(y)
    if not ok.any():
        raise EmptyInputError("no numeric values to classify")
    cls = getattr(mapclassify, _SCHEMES[scheme][0])
    if scheme == "user_defined":
        if not bins:
            raise BazhongGeoError("scheme='user_defined' needs bins=[upper bound of each class, ...]")
        c = cls(y[ok], bins=sorted(float(b) for b in bins))
    else:
        kk = int(min(k, len(np.unique(y[ok]))))
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Numba not installed")
            c = cls(y[ok], k=max(kk, 1))
    idx = np.full(len(y), -1)
    idx[ok] = c.yb
    return idx, [float(b) for b in c.bins]


def add_choropleth(m, gdf, column: str, *, scheme: str = "quantiles", k: int = 5, bins: Sequence[float] | None = None,
                   colors: Sequence[str] | None = None, name: str | None = None, legend_title: str | None = None,
                   fmt_digits: int = 0, unit: str = "", tolerance_m: float = 30.0, show: bool = True,
                   position: str = "bottomright"):
    """Add a choropleth of ``column`` (e.g. counties) classified with mapclassify, and its legend.

    Parameters
    ----------
    m : folium.Map
    gdf : geopandas.GeoDataFrame
        Polygons with ``column`` and ``name``.
    column : str
        Numeric column to map; NaN shows as "no data".
    scheme : {"quantiles", "natural_breaks", "equal_interval", "user_defined"}
    k : int
        Number of classes (capped at the number of distinct values).
    bins : sequence of float
        Upper bounds for ``scheme="user_defined"``.
    colors : sequence of str, optional
        One colour per class (default ColorBrewer YlOrRd).
    legend_title, unit : str
        Legend heading and unit shown after values.

    Returns
    -------
    folium.FeatureGroup

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> g = gpd.GeoDataFrame({"name": ["甲", "乙"], "share": [0.4, 0.6]},
    ...                      geometry=[box(106, 31, 107, 32), box(107, 31, 108, 32)], crs=4326)
    >>> _ = add_choropleth(base_map(), g, "share", scheme="user_defined", bins=[0.5, 1.0], fmt_digits=2)
    """
    st = _state(m)
    lang = st["lang"]
    if column not in gdf.columns:
        raise MissingColumnError(f"column {column!r} not in the layer (columns: {', '.join(map(str, gdf.columns))})")
    idx, upper = classify(gdf[column], scheme=scheme, k=k, bins=bins)
    n = len(upper)
    if colors is None:
        colors = _YLORRD[min(max(n, 2), 9)][:n] if n <= 9 else (_YLORRD[9] * 2)[:n]
    colors = [_check_color(c) for c in colors]
    if len(colors) < n:
        raise BazhongGeoError(f"{n} classes but {len(colors)} colours given")
    disp = prepare_geometries(gdf, tolerance_m=tolerance_m, coords=st["coords"])
    names = _name_col(disp, lang)
    vals = pd.to_numeric(gdf[column], errors="coerce").to_numpy(dtype=float)
    props = []
    for nm, v, c in zip(names, vals, idx):
        vtxt = f"{_fmt_num(v, fmt_digits)}{unit}" if np.isfinite(v) else _t("no_data", lang)
        props.append({"_k": f"c{c}" if c >= 0 else "na", "_t": f"{_esc(nm)}: {_esc(vtxt)}"})
    styles = {f"c{i}": {"color": "#555", "weight": 1, "fillColor": colors[i], "fillOpacity": 0.7} for i in range(n)}
    styles["na"] = {"color": "#555", "weight": 1, "fillColor": _NO_DATA_COLOR, "fillOpacity": 0.7}
    fg = _add_layer(m, name or (legend_title or column), show, {"data": _features(disp, props), "styles": styles})
    finite = vals[np.isfinite(vals)]
    lows = [float(finite.min())] + upper[:-1]
    items = []
    for i in range(n):
        lo_txt = _fmt_num(lows[i], fmt_digits)
        hi_txt = _fmt_num(upper[i], fmt_digits)
        items.append((f"{lo_txt} – {hi_txt}{unit}", colors[i]))
    if (idx < 0).any():
        items.append((_t("no_data", lang), _NO_DATA_COLOR))
    _, note_zh, note_en = _SCHEMES[scheme]
    add_categorical_legend(m, legend_title or column, items, position=position,
                           note=note_en if lang == "en" else note_zh)
    return fg


#: unit -> (zh label, en label, factor applied to values shown in Chinese)
_UNITS = {"percent": ("%", "%", 1), "persons": ("人", "people", 1), "people": ("人", "people", 1),
          "km2": ("km²", "km²", 1), "count": ("个", "", 1), "bn_yuan": ("亿元", "bn yuan", 10),
          "flag": ("", "", 1), "share": ("", "", 1)}


def _unit_label(unit: str, lang: str) -> tuple[str, float]:
    """Display label of a unit and the factor to apply to its values (亿元 = 0.1 billion yuan)."""
    zh_en = _UNITS.get(str(unit))
    if zh_en is None:
        return str(unit), 1
    return (zh_en[1], 1) if lang == "en" else (zh_en[0], zh_en[2])


_PROGRESS_COLUMNS = ("key", "scope", "scope_name", "description_zh", "description_en", "unit", "target",
                     "latest_value", "latest_year", "status")


def add_progress_panel(m, progress: pd.DataFrame, *, title: str | None = None, position: str = "topright",
                       note: str | None = None):
    """Add a panel listing every target: latest value and year, target, unit and a status colour.

    Parameters
    ----------
    m : folium.Map
    progress : pandas.DataFrame
        Columns key, scope, scope_name, description_zh, description_en, unit, target, latest_value,
        latest_year, status (achieved / on_track / behind / no_data), e.g. from
        ``bazhong_geo.targets.progress``. Rows are listed in the given order.
    title : str, optional
        Panel heading.
    note : str, optional
        Small print (e.g. source), escaped.

    Returns
    -------
    folium.Element

    Examples
    --------
    >>> import pandas as pd
    >>> p = pd.DataFrame({"key": ["urbanization_rate"], "scope": ["prefecture"], "scope_name": ["巴中市"],
    ...     "description_zh": ["常住人口城镇化率"], "description_en": ["urbanization rate"], "unit": ["%"],
    ...     "target": [45.0], "latest_value": [48.91], "latest_year": [2024], "status": ["achieved"]})
    >>> _ = add_progress_panel(base_map(), p)
    """
    lang = _state(m)["lang"]
    missing = [c for c in _PROGRESS_COLUMNS if c not in progress.columns]
    if missing:
        raise MissingColumnError(f"progress table lacks column(s) {', '.join(missing)}; expected "
                                 f"{', '.join(_PROGRESS_COLUMNS)} (see bazhong_geo.targets.progress)")
    bad = sorted(set(progress["status"].fillna("no_data").astype(str)) - set(STATUS_COLORS))
    if bad:
        raise BazhongGeoError(f"progress status value(s) {bad} unknown; use {', '.join(STATUS_COLORS)}")
    counts = progress["status"].fillna("no_data").astype(str).value_counts()
    summary = " · ".join(f'<span class="bz-status" style="background:{STATUS_COLORS[s]["color"]}">'
                         f'{_esc(STATUS_COLORS[s][lang])} {int(counts.get(s, 0))}</span>'
                         for s in STATUS_COLORS if counts.get(s, 0))
    head = (f"<tr><th></th><th>{_esc(_t('latest', lang))}</th><th>{_esc(_t('target', lang))}</th>"
            f"<th>{_esc(_t('status', lang))}</th></tr>")
    body = []
    for r in progress.itertuples(index=False):
        desc = r.description_en if lang == "en" and _clean(r.description_en) else r.description_zh
        if not _clean(desc):
            desc = r.key
        scope = _clean(r.scope_name)
        scope_label = _EN_NAMES.get(str(r.scope), scope) if lang == "en" else scope
        if (scope and str(r.scope) not in ("prefecture", "511900") and str(scope) not in str(desc)
                and str(scope_label) not in str(desc)):
            desc = f"{scope_label} {desc}"
        unit, factor = _unit_label(_clean(r.unit) or "", lang)
        latest = _fmt_num(float(r.latest_value) * factor, 2) if _clean(r.latest_value) is not None else "—"
        bound = _clean(getattr(r, "latest_bound", None))
        if latest != "—" and bound in _BOUND_SIGNS:  # a figure stated as a bound ("passed 200 亿") shows as one
            latest = f"{_BOUND_SIGNS[bound]} {latest}"
        year = _clean(r.latest_year)
        year_txt = f" ({_fmt_year(year)})" if year is not None and year != "" else ""
        target = _fmt_num(float(r.target) * factor, 2) if _clean(r.target) is not None else "—"
        status = str(_clean(r.status) or "no_data")
        sc = STATUS_COLORS[status]
        definition = _clean(getattr(r, "definition", None))
        def_html = (f'<div class="bz-def" style="color:#777;font-size:10px">'
                    f'{_esc(("definition: " if lang == "en" else "口径：") + str(definition))}</div>'
                    if definition else "")
        body.append(
            f'<tr data-key="{_esc(r.key)}" data-status="{_esc(status)}"><td>{_esc(desc)}{def_html}</td>'
            f'<td class="num">{_esc(latest)} {_esc(unit) if latest != "—" else ""}{_esc(year_txt)}</td>'
            f'<td class="num">{_esc(target)} {_esc(unit)}</td>'
            f'<td><span class="bz-status" style="background:{sc["color"]}">{_esc(sc[lang])}</span></td></tr>')
    extra = f'<div class="note">{_esc(note)}</div>' if note else ""
    content = (f"<h4>{_esc(title or _t('progress', lang))}</h4><div>{summary}</div>"
               f"<table>{head}{''.join(body)}</table>{extra}")
    return _add_panel(m, content, position, "bz-progress bz-legend")


_BOUND_SIGNS = {">": ">", ">=": "≥", "<": "<", "<=": "≤"}


def add_title(m, title: str, subtitle: str | None = None, *, position: str = "topleft"):
    """Add the title block (escaped text).

    Returns
    -------
    folium.Element

    Examples
    --------
    >>> title = add_title(base_map(), "巴中市城乡体系", "2020")
    """
    _state(m)["title"] = title
    sub = f"<p>{_esc(subtitle)}</p>" if subtitle else ""
    panel = _add_panel(m, f"<h2>{_esc(title)}</h2>{sub}", position, "bz-title")
    # keep the title above the zoom control: move the zoom element to the end of the children
    for key, child in list(m._children.items()):
        if getattr(child, "_name", "") == "BzRaw" and "control.zoom" in getattr(child, "code", ""):
            m._children.move_to_end(key)
    return panel


def add_scale_bar(m, *, position: str = "bottomleft"):
    """Add Leaflet's metric scale bar (``L.control.scale``).

    Examples
    --------
    >>> bar = add_scale_bar(base_map(scale_bar=False))
    """
    el = _elements.Raw(f"L.control.scale({{position: {_js(_check_position(position))}, metric: true, imperial: false, maxWidth: 160}})"
              ".addTo(__MAP__);")
    el.add_to(m)
    return el


def add_layer_control(m, *, collapsed: bool = False, position: str = "topright"):
    """Add the layer control (expanded by default: meetings print it).

    Examples
    --------
    >>> lc = add_layer_control(base_map())
    """
    import folium

    lc = folium.LayerControl(collapsed=collapsed, position=position)
    lc.add_to(m)
    return lc


# ----------------------------------------------------------------------------------------------- composed maps

def _region_parts(region):
    """Return (boundaries, settlements, provenance) from a Region or a dict-like."""
    get = (lambda k: region.get(k)) if isinstance(region, dict) else (lambda k: getattr(region, k, None))
    return get("boundaries"), get("settlements"), get("provenance")


def _titled(kwargs: dict, key: str) -> dict:
    """``kwargs`` with the default title ``key`` (in ``kwargs["lang"]``) when none is given."""
    if kwargs.get("title") is None:
        kwargs["title"] = _t(key, kwargs.get("lang", "zh"))
    return kwargs


_MAP_LAYERS = ("county_boundaries", "county_seats", "geonames_points", "township_village_codes", "census_2020",
               "central_city_population", "plan_targets")


def _attribution(provenance, layers: Sequence[str] | None = _MAP_LAYERS) -> str | None:
    """Short attribution line: the first clause of each drawn layer's attribution, de-duplicated."""
    if provenance is None or len(provenance) == 0 or "attribution" not in provenance.columns:
        return None
    rows = provenance
    if layers is not None and "layer" in provenance.columns and provenance["layer"].isin(layers).any():
        rows = provenance[provenance["layer"].isin(layers)]
    seen: list[str] = []
    for a in rows["attribution"].dropna().astype(str):
        first = a.split(";")[0].strip()
        if first and first not in seen:
            seen.append(first)
    return " · ".join(seen) if seen else None


def settlement_map(region, *, title: str | None = None, subtitle: str | None = None, basemap: str = "none",
                   tianditu_key: str | None = None, lang: str = "zh", tiers: Sequence[str] | None = None,
                   label_tiers: Sequence[str] = ("central_city", "county_town"), catchments=None, builtup=None,
                   raster=None, candidates=None, choropleth: dict | None = None, progress: pd.DataFrame | None = None,
                   designated: bool = True, tolerance_m: float = 30.0, note: str | None = None):
    """Return the meeting map of the settlement system: boundaries, tiered settlements and optional layers.

    Parameters
    ----------
    region : Region or dict
        Object with ``boundaries`` and ``settlements`` GeoDataFrames (``load_bazhong()``); ``provenance``
        is used for the attribution line when present.
    title, subtitle : str, optional
        Title block (default: 巴中市城乡体系 / Bazhong settlement system).
    basemap : {"none", "osm", "tianditu", "amap"}
        Background tiles; "none" (default) works offline.
    tianditu_key : str, optional
        Key for ``basemap="tianditu"``.
    lang : {"zh", "en"}
        Language of labels and legends.
    tiers, label_tiers : sequence of str
        Tiers drawn and tiers with permanent labels.
    catchments, builtup, candidates : GeoDataFrame, optional
        Extra layers (see :func:`add_catchments`, :func:`add_builtup`, :func:`add_candidates`).
    raster : path, optional
        Raster overlay (see :func:`add_raster`).
    choropleth : dict, optional
        Keyword arguments of :func:`add_choropleth` with ``gdf`` and ``column`` (e.g. counties by urban share).
    progress : DataFrame, optional
        Progress table for the panel (see :func:`add_progress_panel`).
    designated : bool
        Ring the settlements holding a designation.
    tolerance_m : float
        Polygon simplification tolerance in metres.

    Returns
    -------
    folium.Map

    Examples
    --------
    >>> from bazhong_geo import load_bazhong      # doctest: +SKIP
    >>> m = settlement_map(load_bazhong())        # doctest: +SKIP
    >>> save(m, "bazhong.html")                   # doctest: +SKIP
    """
    boundaries, settlements, provenance = _region_parts(region)
    extent = boundaries if boundaries is not None and len(boundaries) else settlements
    m = base_map(None, basemap=basemap, tianditu_key=tianditu_key, lang=lang)
    add_title(m, title or _t("title_settlement", lang), subtitle)
    county_names = {}
    if choropleth:
        kw = dict(choropleth)
        add_choropleth(m, kw.pop("gdf"), kw.pop("column"), tolerance_m=tolerance_m, **kw)
    if boundaries is not None and len(boundaries):
        add_boundaries(m, boundaries, tolerance_m=tolerance_m)
        if "code" in boundaries.columns:
            county_names = dict(zip(boundaries["code"].astype(str), _name_col(boundaries, lang)))
    if raster is not None:
        add_raster(m, raster)
    if builtup is not None:
        add_builtup(m, builtup)
    if catchments is not None:
        add_catchments(m, catchments, tolerance_m=tolerance_m)
    if settlements is not None and len(settlements):
        if designated and "designations" in settlements.columns:
            add_designated(m, settlements)
        add_settlements(m, settlements, tiers=tiers, label_tiers=label_tiers, county_names=county_names)
    if candidates is not None:
        add_candidates(m, candidates)
    if progress is not None:
        add_progress_panel(m, progress, note=note)
    add_layer_control(m, position="topleft")
    if extent is not None and len(extent):
        fit_bounds(m, extent, padding_top_left=(190, 20),
                   padding_bottom_right=((540 if lang == "en" else 460) if progress is not None else 20, 20))
    attribution = _attribution(provenance)
    if attribution:
        _elements.Raw(f"__MAP__.attributionControl.addAttribution({_js(_esc(attribution))});").add_to(m)
    return m


def progress_map(region, progress: pd.DataFrame, **kwargs):
    """Return the meeting map with the progress panel listing every target (see :func:`settlement_map`).

    Parameters
    ----------
    region : Region or dict
    progress : pandas.DataFrame
        Progress table (columns as in :func:`add_progress_panel`).
    **kwargs
        Passed to :func:`settlement_map` (catchments, lang, basemap, ...).

    Returns
    -------
    folium.Map

    Examples
    --------
    >>> from bazhong_geo import load_bazhong, targets              # doctest: +SKIP
    >>> m = progress_map(load_bazhong(), targets.progress("plan_2020"))  # doctest: +SKIP
    """
    return settlement_map(region, progress=progress, **_titled(kwargs, "title_progress"))


def catchment_map(region, catchments, **kwargs):
    """Return the meeting map of catchments over the settlement system (see :func:`settlement_map`).

    Returns
    -------
    folium.Map

    Examples
    --------
    >>> from bazhong_geo import load_bazhong, catchments           # doctest: +SKIP
    >>> region = load_bazhong()                                     # doctest: +SKIP
    >>> m = catchment_map(region, catchments.voronoi(region.system, "county_town"))  # doctest: +SKIP
    """
    return settlement_map(region, catchments=catchments, **_titled(kwargs, "title_catchment"))


def county_town_catchments(region, *, method: str = "voronoi", roads=None, minutes: Sequence[float] = (30, 60)):
    """Catchments of the central city and the county towns (巴城 + 县城), clipped to the prefecture.

    Uses :mod:`bazhong_geo.catchments` (``voronoi`` or ``network`` with a road layer). The central city
    and county towns are treated as one tier of centres.

    Returns
    -------
    geopandas.GeoDataFrame

    Examples
    --------
    >>> c = county_town_catchments(load_bazhong())       # doctest: +SKIP
    """
    if method not in ("voronoi", "network"):
        raise BazhongGeoError(f"catchment method {method!r}: use 'voronoi' or 'network'")
    if method == "network" and roads is None:
        raise BazhongGeoError("catchments='network' needs a road layer (CLI: --roads FILE)")
    from . import catchments as C

    boundaries, s, _ = _region_parts(region)
    if s is None or len(s) == 0:
        raise EmptyInputError("the region has no settlements to build catchments from")
    tiers = _tier_of(s["tier"])
    centres = s[tiers.isin(["central_city", "county_town"]).to_numpy() & _located_mask(s)].copy()
    if len(centres) == 0:
        raise EmptyInputError("no located central city or county town to build catchments from")
    centres["tier"] = "county_town"
    centres["parent_code"] = None
    within = getattr(region, "prefecture", None)
    if within is None and boundaries is not None and "level" in boundaries.columns:
        pref = boundaries[boundaries["level"] == "prefecture"]
        within = pref if len(pref) else boundaries.dissolve()
    if method == "voronoi":
        return C.voronoi(centres, "county_town", within=within, duplicates="merge")
    return C.network(centres, "county_town", roads, minutes=tuple(minutes), within=within)


def meeting_map(region, *, progress="auto", catchments="voronoi", roads=None, raster=None, basemap: str = "none",
                tianditu_key: str | None = None, lang: str = "zh", as_of: int | None = None,
                title: str | None = None, notes: list | None = None):
    """The meeting map: settlements, boundaries, county-town catchments and the progress panel.

    Optional parts degrade gracefully: when the targets or catchments module is missing or fails on
    the data, the map is made without that part and the reason is appended to ``notes``; warnings
    about the progress table (e.g. ``as_of`` after a target year) are appended there too.

    Parameters
    ----------
    region : Region
        From ``load_bazhong()``.
    progress : "auto", DataFrame or None
        "auto" computes ``bazhong_geo.targets.progress("plan_2020", as_of=...)``.
    catchments : {"voronoi", "network", None} or GeoDataFrame
        County-town catchments to draw.
    roads : GeoDataFrame, optional
        Road lines for ``catchments="network"``.
    raster : path, optional
        Built-up raster overlay.
    basemap, tianditu_key, lang, title
        See :func:`settlement_map`.
    as_of : int, optional
        Assessment year of the progress panel (default: the targets module's default).
    notes : list, optional
        Receives one line per part left out.

    Returns
    -------
    folium.Map

    Examples
    --------
    >>> from bazhong_geo import load_bazhong
    >>> notes = []
    >>> m = meeting_map(load_bazhong(), notes=notes)     # doctest: +SKIP
    >>> save(m, "bazhong_progress.html")                 # doctest: +SKIP
    """
    notes = notes if notes is not None else []
    prog = None
    if isinstance(progress, pd.DataFrame):
        prog = progress
    elif progress == "auto":
        try:
            from . import targets

            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", UserWarning)
                prog = targets.progress("plan_2020", **({"as_of": as_of} if as_of is not None else {}))
            for w in caught:  # ours (e.g. as_of after a target year) go with the map's notes
                if issubclass(w.category, UserWarning):
                    notes.append(f"progress panel: {w.message}")
                else:
                    warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        except ImportError as exc:
            notes.append(f"progress panel left out: targets module not available ({exc})")
        except Exception as exc:  # the map is still useful without the panel
            notes.append(f"progress panel left out: {type(exc).__name__}: {exc}")
    catch = None
    if isinstance(catchments, str):
        try:
            catch = county_town_catchments(region, method=catchments, roads=roads)
        except ImportError as exc:
            notes.append(f"catchments left out: catchments module not available ({exc})")
        except Exception as exc:
            notes.append(f"catchments left out: {type(exc).__name__}: {exc}")
    elif catchments is not None:
        catch = catchments
    if prog is not None:
        year = int(pd.to_numeric(prog.get("as_of"), errors="coerce").max()) if "as_of" in prog.columns else as_of
        subtitle = (f"评估年份 {year}" if lang == "zh" else f"as of {year}") if year else None
        return progress_map(region, prog, catchments=catch, raster=raster, basemap=basemap, tianditu_key=tianditu_key,
                            lang=lang, title=title, subtitle=subtitle)
    return settlement_map(region, catchments=catch, raster=raster, basemap=basemap, tianditu_key=tianditu_key,
                          lang=lang, title=title)


def __getattr__(name):
    """``maps.export_png`` / ``maps.export_pdf`` live in :mod:`bazhong_geo.export` (loaded on first use)."""
    if name in ("export_png", "export_pdf"):
        from . import export

        return getattr(export, name)
    raise AttributeError(f"module 'bazhong_geo.maps' has no attribute {name!r}")
