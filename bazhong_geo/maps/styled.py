"""Styled user layers: any GeoDataFrame as a polygon, line or point layer, from a plain style dict.

The style is data (JSON/TOML-friendly), so a workspace configuration can hold it::

    [[map.layers]]
    file = "roads.gpkg"
    style = {name = "干线公路", color = "#8e44ad", weight = 2.5, label = "ref"}

    [[map.layers]]
    file = "townships.gpkg"
    style = {name = "城镇化率", choropleth = {column = "urban_share", scheme = "natural_breaks", k = 5}}

>>> import geopandas as gpd
>>> from shapely.geometry import Point
>>> from bazhong_geo.maps.base import base_map
>>> g = gpd.GeoDataFrame({"name": ["学校"]}, geometry=[Point(106.75, 31.86)], crs=4326)
>>> fg = add_layer(base_map(), g, style={"name": "学校", "shape": "square", "fill": "#2980b9", "label": "name"})
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._errors import BazhongGeoError, EmptyInputError, MissingColumnError, MissingCRSError
from . import elements
from .base import add_data_layer
from .choropleth import SCHEMES, classify
from .geometry import features, located_mask, prepare_geometries
from .legend import add_categorical_legend
from .markup import check_color, escape
from .style import NO_DATA_COLOR, YLORRD, clean, fmt_num, text_of

if TYPE_CHECKING:
    import folium

__all__ = ["CHOROPLETH_KEYS", "SHAPES", "STYLE_KEYS", "add_layer", "check_style", "geometry_kind"]

#: Keys of a layer style and their defaults (None: depends on the geometry, or off).
STYLE_KEYS: dict[str, Any] = {
    "name": None, "color": "#2c3e50", "fill": "#3498db", "weight": None, "opacity": 1.0, "fill_opacity": None,
    "dash": None, "shape": "circle", "radius": 5.0, "label": None, "choropleth": None, "legend": True,
    "tolerance_m": 10.0, "position": "bottomright",
}
#: Keys of a style's ``choropleth`` entry.
CHOROPLETH_KEYS = ("column", "scheme", "k", "bins", "colors", "unit", "digits", "title")
#: Point symbols.
SHAPES = ("circle", "square", "diamond", "triangle", "star", "cross", "ring")

_TYPE_KIND = {"Polygon": "polygon", "MultiPolygon": "polygon", "LineString": "line", "MultiLineString": "line",
              "LinearRing": "line", "Point": "point", "MultiPoint": "point"}


def check_style(style: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return the full style: ``style`` checked and completed with :data:`STYLE_KEYS` defaults.

    Parameters
    ----------
    style : mapping, optional
        Keys of :data:`STYLE_KEYS`; ``choropleth`` a mapping with keys of :data:`CHOROPLETH_KEYS`.

    Returns
    -------
    dict

    Raises
    ------
    BazhongGeoError
        An unknown key (the allowed ones are listed), a bad colour, opacity, shape or scheme.

    Examples
    --------
    >>> check_style({"color": "navy"})["color"], check_style(None)["shape"]
    ('navy', 'circle')
    """
    style = dict(style or {})
    unknown = sorted(set(style) - set(STYLE_KEYS))
    if unknown:
        raise BazhongGeoError(f"layer style key(s) {unknown} unknown; use {', '.join(STYLE_KEYS)}")
    out = {**STYLE_KEYS, **style}
    check_color(out["color"]), check_color(out["fill"])
    for key in ("opacity", "fill_opacity"):
        if out[key] is not None and not 0 <= float(out[key]) <= 1:
            raise BazhongGeoError(f"layer style {key}={out[key]!r}: give a number from 0 to 1")
    if out["shape"] not in SHAPES:
        raise BazhongGeoError(f"layer style shape={out['shape']!r}: use one of {', '.join(SHAPES)}")
    if out["choropleth"] is not None:
        out["choropleth"] = _check_choropleth(out["choropleth"])
    return out


def _check_choropleth(spec: Mapping[str, Any]) -> dict[str, Any]:
    spec = dict(spec)
    unknown = sorted(set(spec) - set(CHOROPLETH_KEYS))
    if unknown or "column" not in spec:
        raise BazhongGeoError(f"layer style choropleth: needs 'column'; keys {unknown or '—'} unknown; use "
                              f"{', '.join(CHOROPLETH_KEYS)}")
    spec.setdefault("scheme", "quantiles")
    if spec["scheme"] not in SCHEMES:
        raise BazhongGeoError(f"choropleth scheme {spec['scheme']!r} unknown; use one of {', '.join(SCHEMES)}")
    for c in spec.get("colors") or []:
        check_color(c)
    return spec


def geometry_kind(gdf: gpd.GeoDataFrame) -> str:
    """Return "polygon", "line" or "point": the one kind of geometry of the layer's located rows.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame

    Returns
    -------
    str

    Raises
    ------
    EmptyInputError
        No row has a geometry.
    BazhongGeoError
        Mixed kinds (split the layer) or a geometry collection.

    Examples
    --------
    >>> from shapely.geometry import LineString
    >>> geometry_kind(gpd.GeoDataFrame(geometry=[LineString([(0, 0), (1, 1)])], crs=4326))
    'line'
    """
    types = set(gdf.geometry[located_mask(gdf)].geom_type)
    if not types:
        raise EmptyInputError("the layer has no row with a geometry")
    kinds = {_TYPE_KIND.get(t, t) for t in types}
    if len(kinds) != 1 or not kinds <= {"polygon", "line", "point"}:
        raise BazhongGeoError(f"the layer mixes geometry types {sorted(types)}; give one layer per kind "
                              "(polygons, lines, points)")
    return kinds.pop()


def add_layer(m: folium.Map, gdf: gpd.GeoDataFrame, style: Mapping[str, Any] | None = None, *,
              name: str | None = None, show: bool = True) -> folium.FeatureGroup:
    """Add any GeoDataFrame as a styled polygon, line or point layer with a legend entry.

    Parameters
    ----------
    m : folium.Map
    gdf : geopandas.GeoDataFrame
        One kind of geometry, with a CRS. Rows without geometry are not drawn (their number is written
        under the legend).
    style : mapping, optional
        See :data:`STYLE_KEYS`: ``color`` (outline or line), ``fill``, ``weight`` (px), ``opacity`` (whole
        layer, 0–1), ``fill_opacity``, ``dash`` ("5 4"), ``shape`` and ``radius`` (points), ``label``
        (a column shown as labels, placed without overlaps), ``choropleth`` (``column``, ``scheme``
        of mapclassify, ``k``, ``bins``, ``colors``, ``unit``, ``digits``, ``title``), ``legend`` (False:
        none), ``tolerance_m`` (simplification), ``name`` (layer and legend name).
    name : str, optional
        Layer name (overrides the style's).
    show : bool
        Visible on opening.

    Returns
    -------
    folium.FeatureGroup

    Raises
    ------
    BazhongGeoError, MissingColumnError, MissingCRSError, EmptyInputError

    Examples
    --------
    >>> from shapely.geometry import box
    >>> from bazhong_geo.maps.base import base_map
    >>> g = gpd.GeoDataFrame({"name": ["甲", "乙"], "share": [0.2, 0.7]},
    ...                      geometry=[box(106, 31, 107, 32), box(107, 31, 108, 32)], crs=4326)
    >>> fg = add_layer(base_map(), g, {"choropleth": {"column": "share", "k": 2}, "label": "name"})
    """
    st = check_style(style)
    if gdf.crs is None:
        raise MissingCRSError("the layer has no CRS; set it with gdf.set_crs(...)")
    if len(gdf) == 0:
        raise EmptyInputError("the layer has no rows")
    for col in [st["label"], (st["choropleth"] or {}).get("column")]:
        if col is not None and col not in gdf.columns:
            raise MissingColumnError(f"column {col!r} not in the layer (columns: {', '.join(map(str, gdf.columns))})")
    kind = geometry_kind(gdf)
    lang = elements.state(m)["lang"]
    located = located_mask(gdf)
    layer = gdf[located]
    disp = prepare_geometries(layer, tolerance_m=0 if kind == "point" else st["tolerance_m"],
                              coords=elements.state(m)["coords"])
    keys, styles, items = _classes(layer, st, kind, lang)
    labels = (layer[st["label"]].map(clean).tolist() if st["label"] else [None] * len(layer))
    props = []
    for i, (k, lab) in enumerate(zip(keys, labels, strict=False)):
        p = {"_k": k}
        if lab is not None and kind == "point":
            p.update({"_l": escape(lab), "_lp": 1_000_000 + i})
        elif lab is not None:
            p["_t"] = escape(lab)
        props.append(p)
    spec = {"data": features(disp, props), "styles": styles}
    if kind == "point" and st["shape"] == "circle":
        spec["points"] = "circle"
    title = name or st["name"] or text_of("layer", lang)
    fg = add_data_layer(m, title, show, spec)
    if st["label"] and kind != "point":
        _area_labels(fg, disp, labels)
    if st["legend"]:
        n_missing = int((~located).sum())
        note = text_of("not_drawn", lang).format(n=n_missing) if n_missing else None
        legend_title = st["legend"] if isinstance(st["legend"], str) else (
            (st["choropleth"] or {}).get("title") or title)
        add_categorical_legend(m, legend_title, items, position=st["position"], note=note)
    return fg


def _symbol(st: dict, kind: str, fill: str) -> dict:
    """The drawing style of one class."""
    op = float(st["opacity"])
    if kind == "point":
        if st["shape"] == "circle":
            return {"radius": float(st["radius"]), "color": st["color"], "weight": st["weight"] or 1,
                    "opacity": op, "fillColor": fill, "fillOpacity": (st["fill_opacity"] or 0.9) * op}
        return {"shape": st["shape"], "fillColor": fill, "color": st["color"], "radius": float(st["radius"])}
    if kind == "line":
        return {"color": fill if st["choropleth"] else st["color"], "weight": st["weight"] or 2.5, "opacity": op,
                "fill": False, **({"dashArray": st["dash"]} if st["dash"] else {})}
    fo = st["fill_opacity"] if st["fill_opacity"] is not None else 0.5
    return {"color": st["color"], "weight": st["weight"] or 1.2, "opacity": op, "fill": True, "fillColor": fill,
            "fillOpacity": fo * op, **({"dashArray": st["dash"]} if st["dash"] else {})}


def _classes(layer: gpd.GeoDataFrame, st: dict, kind: str, lang: str) -> tuple[list[str], dict, list[tuple]]:
    """(style key per row, styles by key, legend items) — one class, or the choropleth's classes."""
    shape = st["shape"] if kind == "point" else None
    ch = st["choropleth"]
    if ch is None:
        color = st["color"] if kind == "line" else st["fill"]
        item = (st["name"] or text_of("layer", lang), color) + ((shape,) if shape else ())
        return ["a"] * len(layer), {"a": _symbol(st, kind, st["fill"])}, [item]
    idx, upper = classify(layer[ch["column"]], scheme=ch["scheme"], k=int(ch.get("k", 5)), bins=ch.get("bins"))
    n = len(upper)
    colors = list(ch.get("colors") or (YLORRD[min(max(n, 2), 9)][:n] if n <= 9 else (YLORRD[9] * 2)[:n]))
    if len(colors) < n:
        raise BazhongGeoError(f"choropleth: {n} classes but {len(colors)} colours given")
    values = pd.to_numeric(layer[ch["column"]], errors="coerce").to_numpy(dtype=float)
    lows = [float(np.nanmin(values)), *upper[:-1]]
    digits, unit = int(ch.get("digits", 0)), str(ch.get("unit", ""))
    styles = {f"c{i}": _symbol(st, kind, colors[i]) for i in range(n)}
    items = [(f"{fmt_num(lows[i], digits)} – {fmt_num(upper[i], digits)}{unit}", colors[i])
             + ((shape,) if shape else ()) for i in range(n)]
    if (idx < 0).any():
        styles["na"] = _symbol(st, kind, NO_DATA_COLOR)
        items.append((text_of("no_data", lang), NO_DATA_COLOR) + ((shape,) if shape else ()))
    return [f"c{i}" if i >= 0 else "na" for i in idx], styles, items


def _area_labels(fg, disp: gpd.GeoDataFrame, labels: list) -> None:
    """Labels of polygons and lines at a point on each, placed without overlaps after the settlements'."""
    geoms = np.asarray(disp.geometry.values, dtype=object)
    pts = gpd.GeoDataFrame(geometry=shapely.point_on_surface(geoms), crs=4326)
    props = [{"_k": "n", "_l": escape(lab), "_lp": 2_000_000 + i} if lab is not None else {"_k": "n"}
             for i, lab in enumerate(labels)]
    elements.DataLayer({"data": features(pts, props), "styles": {"n": {"shape": "none"}}, "labelDir": "center",
                        "labelClass": "bz-label bz-user-label", "labelOffset": [0, 0]}).add_to(fg)
