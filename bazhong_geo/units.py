"""One table of units and one formatter for every number the toolkit shows to people.

Each unit has one key (``people``, ``percent``, ``km2``, ``100m_yuan`` …), a dimension, a factor to the
dimension's base unit, zh/en labels and the spellings planners use (persons, 人, 亿元, 平方公里 …).
:func:`unit_key` turns any spelling into the key, :func:`convert` converts within a dimension and :func:`fmt`
writes a value for a reader.

>>> unit_key("persons"), unit_key("亿元"), unit_key("km²")
('people', '100m_yuan', 'km2')
>>> fmt(1064766, "people"), fmt(1064766, "people", "en")
('106.48万人', '1,064,766 people')
>>> fmt(20, "bn_yuan", bound=">"), fmt(4, "count", "en", bound=">=")
('> 200亿元', '≥ 4')
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from ._errors import UnknownUnitNameError


@dataclass(frozen=True)
class Unit:
    """A unit as data.

    Attributes
    ----------
    key : str
        The canonical spelling (files may use any alias).
    dimension : str
        ``population``, ``money``, ``area``, ``length``, ``time``, ``share``, ``density``, ``count`` or ``flag``.
    factor : float
        Size in the dimension's base unit (people, yuan, km², m, min, share 0–1, people/km², 1).
    zh, en : str
        Suffix written after a number (zh without a space; en after a space unless it starts with ``%``).
    aliases : tuple of str
        Other spellings accepted in files.
    zh_as : str or None
        Unit a Chinese reader is shown instead (billions of yuan are read as 亿元).
    """

    key: str
    dimension: str
    factor: float
    zh: str
    en: str
    aliases: tuple[str, ...] = ()
    zh_as: str | None = None


UNITS = {u.key: u for u in (
    Unit("people", "population", 1.0, "人", "people", ("persons", "person", "人", "人口", "pop")),
    Unit("10k_people", "population", 1e4, "万人", "×10k people", ("万人", "10k_persons")),
    Unit("percent", "share", 0.01, "%", "%", ("%", "pct", "百分比", "per_cent")),
    Unit("share", "share", 1.0, "", "", ("fraction", "比例")),
    Unit("km2", "area", 1.0, "平方公里", "km²", ("km²", "sq_km", "平方公里", "平方千米")),
    Unit("ha", "area", 0.01, "公顷", "ha", ("公顷", "hectare", "hectares")),
    Unit("m2", "area", 1e-6, "平方米", "m²", ("m²", "平方米")),
    Unit("km", "length", 1000.0, "公里", "km", ("公里", "千米")),
    Unit("m", "length", 1.0, "米", "m", ("米", "metres", "meters", "metre", "meter")),
    Unit("min", "time", 1.0, "分钟", "min", ("minutes", "minute", "分钟", "mins")),
    Unit("hours", "time", 60.0, "小时", "h", ("h", "hour", "小时")),
    Unit("yuan", "money", 1.0, "元", "yuan", ("元", "cny", "rmb")),
    Unit("10k_yuan", "money", 1e4, "万元", "×10k yuan", ("万元",)),
    Unit("100m_yuan", "money", 1e8, "亿元", "×100m yuan", ("亿元",)),
    Unit("bn_yuan", "money", 1e9, "十亿元", "bn yuan", ("billion_yuan", "十亿元"), zh_as="100m_yuan"),
    Unit("people_per_km2", "density", 1.0, "人/平方公里", "people/km²",
         ("persons_per_km2", "人/平方公里", "人/km²", "people/km²")),
    Unit("count", "count", 1.0, "", "", ("个", "number", "n")),
    Unit("flag", "flag", 1.0, "", "", ("是否", "bool")),
)}
"""Unit key -> :class:`Unit`: the one unit table."""

_BY_SPELLING = {spelling.lower(): u.key for u in UNITS.values() for spelling in (u.key, *u.aliases)}

BOUND_SYMBOLS = {"": "", ">": ">", ">=": "≥", "≥": "≥", "<": "<", "<=": "≤", "≤": "≤", "=": "=", "==": "="}
"""Bound or comparison spellings -> the symbol shown to readers."""


def unit_key(name: object) -> str:
    """Return the canonical key of a unit spelling (any case, Chinese or English).

    Raises
    ------
    UnknownUnitNameError
        Naming the spelling and the accepted keys.

    Examples
    --------
    >>> unit_key("People"), unit_key("平方公里"), unit_key("minutes")
    ('people', 'km2', 'min')
    """
    key = _BY_SPELLING.get(str(name).strip().lower())
    if key is None:
        raise UnknownUnitNameError(f"unknown unit {name!r}; use one of {sorted(UNITS)} "
                                   f"(or a spelling such as persons, 人, 亿元, 平方公里, %)")
    return key


def is_unit(name: object) -> bool:
    """Return True when ``name`` is a known unit spelling.

    Examples
    --------
    >>> is_unit("persons"), is_unit("furlongs")
    (True, False)
    """
    return str(name).strip().lower() in _BY_SPELLING


def dimension(name: object) -> str:
    """Return the dimension of a unit spelling (``population``, ``money``, ``area`` …).

    Examples
    --------
    >>> dimension("亿元"), dimension("%")
    ('money', 'share')
    """
    return UNITS[unit_key(name)].dimension


def convert(value: float, src: object, dst: object) -> float:
    """Convert ``value`` from unit ``src`` to unit ``dst`` of the same dimension.

    Raises
    ------
    UnknownUnitNameError
        An unknown unit, or units of different dimensions.

    Examples
    --------
    >>> convert(200, "亿元", "bn_yuan"), round(convert(46.16, "percent", "share"), 12), convert(2, "hours", "min")
    (20.0, 0.4616, 120.0)
    """
    a, b = UNITS[unit_key(src)], UNITS[unit_key(dst)]
    if a.dimension != b.dimension:
        raise UnknownUnitNameError(f"cannot convert {a.key} ({a.dimension}) to {b.key} ({b.dimension})")
    if a.factor >= b.factor:
        return float(value) * (a.factor / b.factor)
    return float(value) / (b.factor / a.factor)   # 200 亿元 -> exactly 20 bn yuan (no 0.1 factor)


def number(value: object, digits: int | None = None) -> str:
    """Write a number for people: thousands separators for large values, four significant digits otherwise.

    ``digits`` fixes the decimals instead. Missing values (None, NaN) give ``""``.

    Examples
    --------
    >>> number(1064766.0), number(46.1612), number(0.25), number(300.0), number(3.14159, 2), number(None)
    ('1,064,766', '46.16', '0.25', '300', '3.14', '')
    """
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    v = float(value)
    if digits is not None:
        return f"{v:,.{digits}f}"
    if abs(v) >= 1000 or (v.is_integer() and abs(v) >= 100):
        return f"{v:,.0f}"
    return f"{v:.4g}"


def fmt(value: object, unit: object = None, lang: str = "zh", *, bound: str | None = None,
        digits: int | None = None) -> str:
    """Format a value with its unit for a reader, in Chinese (``zh``) or English (``en``).

    Chinese counts of people of 10,000 or more are written in 万 (106.48万人); billions of yuan are shown as 亿元
    to Chinese readers; a bound (``>``, ``>=`` …) is written as a symbol before the number (``≥ 4``). Missing
    values give ``""``.

    Parameters
    ----------
    value : float
        The value in ``unit``.
    unit : str, optional
        Any spelling of a unit of :data:`UNITS`; None writes the bare number.
    lang : {"zh", "en"}
        Reader's language.
    bound : str, optional
        The value is a bound: ``>``, ``>=``/``≥``, ``<``, ``<=``/``≤`` (``""`` or None: exact).
    digits : int, optional
        Fixed decimals (default: :func:`number`'s rule).

    Returns
    -------
    str

    Examples
    --------
    >>> fmt(46.16, "percent"), fmt(80, "km2"), fmt(80, "km2", "en"), fmt(800000, "persons", "en")
    ('46.16%', '80平方公里', '80 km²', '800,000 people')
    >>> fmt(12, "count", bound=">="), fmt(float("nan"), "people"), fmt(3.456, "min", "en", digits=1)
    ('≥ 12', '', '3.5 min')
    """
    prefix = BOUND_SYMBOLS.get((bound or "").strip(), bound or "")
    prefix = f"{prefix} " if prefix else ""
    text = number(value, digits)
    if not text or unit is None:
        return prefix + text if text else ""
    u = UNITS[unit_key(unit)]
    v = float(value)
    if lang == "zh" and u.zh_as is not None:
        v, u = convert(v, u.key, u.zh_as), UNITS[u.zh_as]
    if lang == "zh" and u.key == "people" and abs(v) >= 1e4:
        v, u = v / 1e4, UNITS["10k_people"]
        text = f"{v:,.{2 if digits is None else digits}f}".rstrip("0").rstrip(".")
    else:
        text = number(v, digits)
    suffix = u.zh if lang == "zh" else u.en
    if not suffix:
        return prefix + text
    sep = "" if lang == "zh" or suffix.startswith("%") else " "
    return f"{prefix}{text}{sep}{suffix}"

