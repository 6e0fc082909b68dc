"""Choropleths: values classified with mapclassify (quantiles, natural breaks, equal interval, user bounds)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._errors import BazhongGeoError, EmptyInputError, MissingColumnError
from . import elements
from .base import add_data_layer
from .geometry import features, prepare_geometries
from .legend import add_categorical_legend
from .markup import check_color, escape
from .style import NO_DATA_COLOR, YLORRD, display_names, fmt_num, text_of

if TYPE_CHECKING:
    import folium
    import geopandas as gpd

__all__ = ["SCHEMES", "add_choropleth", "classify"]

#: scheme -> (mapclassify class, zh legend note, en legend note)
SCHEMES = {"quantiles": ("Quantiles", "分位数", "quantiles"),
            "natural_breaks": ("FisherJenks", "自然断点", "natural breaks"),
            "fisher_jenks": ("FisherJenks", "自然断点", "natural breaks"),
            "equal_interval": ("EqualInterval", "等间距", "equal interval"),
            "user_defined": ("UserDefined", "自定义分级", "user-defined breaks")}


def classify(values: Sequence[float] | np.ndarray | pd.Series, scheme: str = "quantiles", k: int = 5,
             bins: Sequence[float] | None = None) -> tuple[np.ndarray, list[float]]:
    """Classify values with mapclassify; return (class index per value, -1 for NaN; upper bounds).

    ``scheme`` is "quantiles", "natural_breaks" (Fisher–Jenks, deterministic), "equal_interval" or
    "user_defined" (give ``bins``: class upper bounds; the maximum is added if above the last bound).

    Parameters
    ----------
    values : array-like of float
        NaN (or non-numeric) values get class -1.
    scheme : {"quantiles", "natural_breaks", "fisher_jenks", "equal_interval", "user_defined"}
    k : int
        Number of classes (capped at the number of distinct values).
    bins : sequence of float, optional
        Upper bounds for ``scheme="user_defined"``.

    Returns
    -------
    (numpy.ndarray, list of float)
        Class index per value, upper bound per class.

    Examples
    --------
    >>> idx, upper = classify([1, 2, 3, 10], scheme="user_defined", bins=[2, 5])
    >>> idx.tolist(), upper
    ([0, 0, 1, 2], [2.0, 5.0, 10.0])
    """
    import mapclassify

    if scheme not in SCHEMES:
        raise BazhongGeoError(f"scheme {scheme!r} unknown; use one of {', '.join(SCHEMES)}")
    y = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(y)
    if not ok.any():
        raise EmptyInputError("no numeric values to classify")
    cls = getattr(mapclassify, SCHEMES[scheme][0])
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


def add_choropleth(m: folium.Map, gdf: gpd.GeoDataFrame, column: str, *, scheme: str = "quantiles", k: int = 5,  # noqa: PLR0913 (public API options)
                   bins: Sequence[float] | None = None,
                   colors: Sequence[str] | None = None, name: str | None = None, legend_title: str | None = None,
                   fmt_digits: int = 0, unit: str = "", tolerance_m: float = 30.0, show: bool = True,
                   position: str = "bottomright") -> folium.FeatureGroup:
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
    >>> from bazhong_geo.maps import base_map
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> g = gpd.GeoDataFrame({"name": ["甲", "乙"], "share": [0.4, 0.6]},
    ...                      geometry=[box(106, 31, 107, 32), box(107, 31, 108, 32)], crs=4326)
    >>> _ = add_choropleth(base_map(), g, "share", scheme="user_defined", bins=[0.5, 1.0], fmt_digits=2)
    """
    st = elements.state(m)
    lang = st["lang"]
    if column not in gdf.columns:
        raise MissingColumnError(f"column {column!r} not in the layer (columns: {', '.join(map(str, gdf.columns))})")
    idx, upper = classify(gdf[column], scheme=scheme, k=k, bins=bins)
    n = len(upper)
    if colors is None:
        colors = YLORRD[min(max(n, 2), 9)][:n] if n <= 9 else (YLORRD[9] * 2)[:n]
    colors = [check_color(c) for c in colors]
    if len(colors) < n:
        raise BazhongGeoError(f"{n} classes but {len(colors)} colours given")
    disp = prepare_geometries(gdf, tolerance_m=tolerance_m, coords=st["coords"])
    names = display_names(disp, lang)
    vals = pd.to_numeric(gdf[column], errors="coerce").to_numpy(dtype=float)
    props = []
    for nm, v, c in zip(names, vals, idx, strict=False):
        vtxt = f"{fmt_num(v, fmt_digits)}{unit}" if np.isfinite(v) else text_of("no_data", lang)
        props.append({"_k": f"c{c}" if c >= 0 else "na", "_t": f"{escape(nm)}: {escape(vtxt)}"})
    styles = {f"c{i}": {"color": "#555", "weight": 1, "fillColor": colors[i], "fillOpacity": 0.7} for i in range(n)}
    styles["na"] = {"color": "#555", "weight": 1, "fillColor": NO_DATA_COLOR, "fillOpacity": 0.7}
    fg = add_data_layer(m, name or (legend_title or column), show, {"data": features(disp, props), "styles": styles})
    finite = vals[np.isfinite(vals)]
    lows = [float(finite.min()), *upper[:-1]]
    items = []
    for i in range(n):
        lo_txt = fmt_num(lows[i], fmt_digits)
        hi_txt = fmt_num(upper[i], fmt_digits)
        items.append((f"{lo_txt} – {hi_txt}{unit}", colors[i]))
    if (idx < 0).any():
        items.append((text_of("no_data", lang), NO_DATA_COLOR))
    _, note_zh, note_en = SCHEMES[scheme]
    add_categorical_legend(m, legend_title or column, items, position=position,
                           note=note_en if lang == "en" else note_zh)
    return fg
