"""Map style: symbols, palettes, texts and labels, number formatting — every look-and-wording choice in one place.

The coordinator can swap :data:`DESIGNATION_LABELS` / :func:`designation_label` for the shared designation
vocabulary and :func:`fmt_num` / :func:`unit_label` for the shared unit formatter: they are defined only here.

>>> text_of("legend_tiers", "en"), fmt_num(608152), designation_label("national_key_town", "zh")
('Settlement tiers', '608,152', '全国重点镇')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import units, vocabulary
from .._errors import UnknownTierError
from ..region import BAZHONG
from ..settlements import Tier

__all__ = [
    "BOUND_SIGNS",
    "DESIGNATION_LABELS",
    "NO_DATA_COLOR",
    "QUALITATIVE",
    "RAMPS",
    "STATUS_COLORS",
    "TEXTS",
    "TIER_STYLES",
    "YLORRD",
    "clean",
    "column_or_default",
    "designation_label",
    "display_names",
    "fmt_num",
    "fmt_year",
    "population_radius",
    "text_of",
    "tier_keys",
    "unit_label",
]

#: Tier value -> symbol (shape, fill colour, default radius in px when the population is unknown) and labels.
TIER_STYLES: dict[str, dict[str, Any]] = {
    "central_city": {"shape": "star", "fill": "#c0392b", "radius": 14},
    "county_town": {"shape": "square", "fill": "#e67e22", "radius": 10},
    "featured_town": {"shape": "diamond", "fill": "#8e44ad", "radius": 7},
    "central_village": {"shape": "triangle", "fill": "#27ae60", "radius": 6},
    "town": {"shape": "circle", "fill": "#2e86c1", "radius": 5},
    "village": {"shape": "circle", "fill": "#95a5a6", "radius": 3},
}
for _tier, _style in TIER_STYLES.items():  # labels come from the one tier vocabulary
    _style["zh"], _style["en"] = vocabulary.TIER_LABELS[_tier]

#: Progress status -> colour and labels (the shared status vocabulary).
STATUS_COLORS: dict[str, dict[str, str]] = vocabulary.STATUSES

#: Sequential palettes (ColorBrewer YlOrRd / Blues) by number of classes.
YLORRD = {
    2: ["#fecc5c", "#e31a1c"],
    3: ["#ffeda0", "#feb24c", "#f03b20"],
    4: ["#ffffb2", "#fecc5c", "#fd8d3c", "#e31a1c"],
    5: ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"],
    6: ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026"],
    7: ["#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"],
    8: ["#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#b10026"],
    9: ["#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#bd0026", "#800026"],
}
#: Continuous colour ramps (low to high) for rasters: ColorBrewer YlOrRd, Blues, Greens; matplotlib viridis.
RAMPS = {
    "ylorrd": ["#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#bd0026", "#800026"],
    "blues": ["#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b"],
    "greens": ["#f7fcf5", "#e5f5e0", "#c7e9c0", "#a1d99b", "#74c476", "#41ab5d", "#238b45", "#006d2c", "#00441b"],
    "viridis": ["#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c", "#28ae80", "#5ec962", "#addc30", "#fde725"],
}
#: Qualitative palette (ColorBrewer Set3 + Pastel1) for catchments.
QUALITATIVE = ["#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462", "#b3de69", "#fccde5",
                "#d9d9d9", "#bc80bd", "#ccebc5", "#ffed6f", "#fbb4ae", "#b3cde3", "#decbe4", "#fed9a6"]

NO_DATA_COLOR = "#d5d8dc"
"""Fill colour of areas without a value."""

#: Labels of known designation keys.
DESIGNATION_LABELS = {key: (d.label_zh, d.label_en) for key, d in vocabulary.DESIGNATIONS.items()}
"""Designation key -> (Chinese, English) label, from :mod:`bazhong_geo.vocabulary` (defined there once)."""
TEXTS = {
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
    "candidates_not_located": ("{n} 个候选无坐标，未显示", "{n} candidates without coordinates not shown"),
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
    "layer": ("图层", "Layer"),
    "not_drawn": ("{n} 个要素无几何，未显示", "{n} features without geometry not shown"),
    "title_settlement": ("巴中市城乡体系", "Bazhong settlement system"),
    "title_progress": ("巴中市城乡提升目标进展", "Bazhong: progress towards the plan targets"),
    "title_catchment": ("巴中市服务范围", "Bazhong catchments"),
    "prefecture": ("市界", "prefecture"),
    "county_b": ("区县界", "county"),
}


def text_of(key: str, lang: str) -> str:
    """The map text ``key`` of :data:`TEXTS` in ``lang`` ("en" English, anything else Chinese).

    Parameters
    ----------
    key : str
        A key of :data:`TEXTS`.
    lang : {"zh", "en"}

    Returns
    -------
    str

    Examples
    --------
    >>> text_of("catchments", "zh")
    '服务范围'
    """
    zh, en = TEXTS[key]
    return en if lang == "en" else zh


def clean(v: Any) -> Any:
    """Return ``v``, or None when it is missing (None, NaN, pd.NA, NaT); list-likes are values.

    Parameters
    ----------
    v : object

    Returns
    -------
    object or None

    Examples
    --------
    >>> clean(float("nan")) is None, clean("巴城")
    (True, '巴城')
    """
    if v is None:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):  # list-likes are values
        pass
    return v


def fmt_num(value: Any, digits: int = 0) -> str:
    """Format a number for people: thousands separators, integers without decimals; '' when missing.

    Parameters
    ----------
    value : number or str
        A value that is not a number is returned as text.
    digits : int, default 0
        Decimals kept for non-integers (2 when 0), trailing zeros dropped.

    Returns
    -------
    str

    Examples
    --------
    >>> fmt_num(1234567), fmt_num(48.91, 2), fmt_num(None)
    ('1,234,567', '48.91', '')
    """
    if clean(value) is None:
        return ""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if digits == 0 and abs(v - round(v)) < 1e-9:
        return units.number(round(v), 0)
    return units.number(v, digits or 2).rstrip("0").rstrip(".")


def fmt_year(year: Any) -> str:
    """Return a year as text (2020.0 -> '2020').

    Parameters
    ----------
    year : int, float or str

    Returns
    -------
    str

    Examples
    --------
    >>> fmt_year(2020.0)
    '2020'
    """
    return str(int(year)) if isinstance(year, (int, float, np.integer, np.floating)) else str(year)


def column_or_default(gdf: pd.DataFrame, name: str, default: Any) -> pd.Series:
    """Return column ``name`` of ``gdf``, or ``default`` on every row when the column is absent.

    Parameters
    ----------
    gdf : pandas.DataFrame
    name : str
    default : object

    Returns
    -------
    pandas.Series

    Examples
    --------
    >>> column_or_default(pd.DataFrame({"a": [1, 2]}), "level", "unit").tolist()
    ['unit', 'unit']
    """
    return gdf[name] if name in gdf.columns else pd.Series([default] * len(gdf), index=gdf.index)


def display_names(gdf: pd.DataFrame, lang: str) -> pd.Series:
    """Names to show for each row of ``gdf`` in ``lang``.

    With ``lang="en"``: ``name_en`` when present, else the region's English short name of the division
    code (:attr:`bazhong_geo.region.RegionInfo.short_names_en`), else ``name``.

    Parameters
    ----------
    gdf : pandas.DataFrame
        Rows with ``name`` and optionally ``name_en`` and ``code``.
    lang : {"zh", "en"}

    Returns
    -------
    pandas.Series of str

    Examples
    --------
    >>> display_names(pd.DataFrame({"name": ["通江县"], "code": ["511921"]}), "en").tolist()
    ['Tongjiang']
    """
    names = column_or_default(gdf, "name", "").astype("string")
    if lang == "en":
        if "name_en" in gdf.columns:
            en = gdf["name_en"].astype("string")
            names = en.where(en.notna() & (en != ""), names)
        if "code" in gdf.columns:
            mapped = gdf["code"].astype("string").map(BAZHONG.short_names_en)
            names = mapped.where(mapped.notna(), names)
    return names.fillna("")


def tier_keys(values: pd.Series) -> pd.Series:
    """Tier values (``"central_city"`` ...) of ``values`` given in any spelling :meth:`Tier.parse` accepts.

    English legend labels ("central city") are accepted too. Every unknown value is collected and
    reported in one error.

    Parameters
    ----------
    values : pandas.Series
        Tiers as :class:`~bazhong_geo.settlements.Tier`, file spellings or Chinese aliases (巴城, 县城, 镇 ...).

    Returns
    -------
    pandas.Series of str

    Raises
    ------
    UnknownTierError
        Naming how many values are unknown, a few examples and the allowed tiers.

    Examples
    --------
    >>> tier_keys(pd.Series(["巴城", "镇", "central village"])).tolist()
    ['central_city', 'town', 'central_village']
    """
    out, bad = [], []
    for v in values.tolist():
        key = _tier_key(v)
        if key is None:
            bad.append(getattr(v, "value", v))
        out.append(key)
    if bad:
        raise UnknownTierError(f"{len(bad)} settlement(s) have an unknown tier, e.g. {bad[:3]!r}; "
                               f"use one of {', '.join(TIER_STYLES)}")
    return pd.Series(out, index=values.index)


def _tier_key(value: Any) -> str | None:
    """The tier value of one spelling, or None when it names no tier."""
    if clean(value) is None:
        return None
    for spelling in (value, str(getattr(value, "value", value)).strip().replace(" ", "_")):
        try:
            return Tier.parse(spelling).value
        except UnknownTierError:
            continue
    return None


def population_radius(population: Sequence[float] | np.ndarray, *, pop_max: float, r_min: float = 3.0,
                      r_max: float = 22.0) -> np.ndarray:
    """Symbol radius in pixels, symbol area proportional to population (square-root scaling).

    Parameters
    ----------
    population : array-like of float
        NaN where unknown (gives NaN).
    pop_max : float
        Population drawn with ``r_max``.
    r_min, r_max : float
        Radius range in pixels.

    Returns
    -------
    numpy.ndarray

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





def designation_label(key: str, lang: str) -> str:
    """Label of a designation key in ``lang`` (an unknown key shows with spaces for underscores).

    Parameters
    ----------
    key : str
        E.g. ``"national_key_town"``.
    lang : {"zh", "en"}

    Returns
    -------
    str

    Examples
    --------
    >>> designation_label("provincial_featured_town", "en"), designation_label("river_town", "zh")
    ('provincial featured town', 'river town')
    """
    return vocabulary.designation_label(key, lang)




def unit_label(unit: str, lang: str) -> tuple[str, float]:
    """Display label of a unit and the factor to apply to its values (亿元 = 0.1 billion yuan).

    Parameters
    ----------
    unit : str
        Unit key of a progress table (``percent``, ``persons``, ``bn_yuan`` ...); others show as given.
    lang : {"zh", "en"}

    Returns
    -------
    (str, float)

    Examples
    --------
    >>> unit_label("bn_yuan", "zh"), unit_label("bn_yuan", "en")
    (('亿元', 10), ('bn yuan', 1))
    """
    if not units.is_unit(unit):
        return str(unit), 1
    u = units.UNITS[units.unit_key(unit)]
    factor = 1.0
    if lang != "en" and u.zh_as is not None:
        factor, u = units.convert(1.0, u.key, u.zh_as), units.UNITS[u.zh_as]
    label = u.en if lang == "en" else u.zh
    if u.dimension == "area":
        label = "km²" if u.key == "km2" else label
    if u.dimension in ("count", "flag", "share") and lang == "en":
        label = ""
    return label, (int(factor) if float(factor).is_integer() else factor)


#: A figure stated as a bound ("passed 200 亿") -> its sign.
BOUND_SIGNS = {">": ">", ">=": "≥", "<": "<", "<=": "≤"}
