"""Matching a planner's names to the register: one way, used by the command line's loaders and the workbook merge.

A file without codes (an Amap export of township seats, a filled workbook) is matched to the register by name within
county: first the exact name, then the folded name (full-width to half-width, no blanks, no 镇/乡/街道 suffix); a
name matching several settlements is narrowed by the tier's level (township or village). A county town may be
written as its county (通江县, 通江, 通江县城).

>>> normalise_name("清江镇"), county_of("通江"), county_of("511923"), county_of("Nanjiang")
('清江', '511921', '511923', '511922')
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import TYPE_CHECKING

from .region import BAZHONG, RegionInfo, normalize_code

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["candidates", "county_of", "name_stem", "normalise_name"]

_SUFFIXES = ("街道办事处", "办事处", "街道", "镇", "乡")
_COUNTY_SUFFIXES = ("县城", "城区", "县", "区", "市")
_TOWN_TIERS = {"town", "featured_town"}
_VILLAGE_TIERS = {"village", "central_village"}
_SEAT_TIERS = {"county_town", "central_city"}


def _fold(text: object) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", "" if text is None else str(text)))


def normalise_name(name: object) -> str:
    """Return a settlement name folded for matching: full-width to half-width, no blanks, no 镇/乡/街道 suffix.

    Village committees lose 民委员会 (``XX村民委员会`` -> ``XX村``) and 居民委员会 (``北门社区居民委员会`` ->
    ``北门社区``).

    Examples
    --------
    >>> normalise_name("清江镇"), normalise_name(" 东城 街道办事处"), normalise_name("清江村民委员会")
    ('清江', '东城', '清江村')
    >>> normalise_name("Ｘ乡"), normalise_name("北门社区居民委员会")
    ('X', '北门社区')
    """
    text = _fold(name)
    for ending, cut in (("村民委员会", "民委员会"), ("居民委员会", "居民委员会"), ("人民政府", "人民政府")):
        if text.endswith(ending):
            text = text[: -len(cut)]
            break
    for suffix in _SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)]
    return text


def name_stem(name: object) -> str:
    """Return a county or county-town name without 县城/城区/县/区/市 (通江县城 -> 通江).

    Examples
    --------
    >>> name_stem("通江县城"), name_stem("巴州区"), name_stem("县")
    ('通江', '巴州', '县')
    """
    text = _fold(name)
    for suffix in _COUNTY_SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)]
    return text


def county_of(value: object, region: RegionInfo = BAZHONG) -> str | None:
    """Return the county code a county cell names: a code (of the county or anything in it), 通江县, 通江 or Tongjiang.

    Parameters
    ----------
    value : object
        The cell; blanks give None.
    region : RegionInfo
        Whose counties (default Bazhong).

    Returns
    -------
    str or None
        The county code, or None when the value names no county of the region.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)) or not str(value).strip():
        return None
    code = normalize_code(value)
    if code is not None:
        return code[:6] if code[:6] in region.counties else None
    text = _fold(value)
    for county, (zh, en) in region.counties.items():
        if text in (zh, name_stem(zh), en) or text.lower() == en.split()[0].lower():
            return county
    return None


def _level(frame: pd.DataFrame, tier: object) -> pd.DataFrame:
    if tier in _TOWN_TIERS:
        return frame[frame["code"].astype(str).str.len() == 9]
    if tier in _VILLAGE_TIERS:
        return frame[frame["code"].astype(str).str.len() == 12]
    return frame


def candidates(register: pd.DataFrame, name: object, tier: object = None, county: str | None = None,
               region: RegionInfo = BAZHONG) -> tuple[pd.DataFrame, str]:
    """Return the register rows a name may denote, and how they matched ("" when none did).

    Parameters
    ----------
    register : pandas.DataFrame
        ``code``, ``name``, ``tier`` and ``county_code`` (else the code's first six digits).
    name : object
        The name as written.
    tier : str, optional
        The row's tier when known: narrows ambiguous names to its level; a county town is also found by its county.
    county : str, optional
        County code the row is known to lie in.
    region : RegionInfo
        Whose counties.

    Returns
    -------
    (pandas.DataFrame, str)
        The matching rows (one row: matched; several: ambiguous; none: unmatched) and ``"name"``,
        ``"normalised name"`` or ``"county town"``.
    """
    counties = (register["county_code"] if "county_code" in register.columns
                else register["code"].astype(str).str[:6])
    within = register if county is None else register[counties == county]
    text = str(name).strip()
    steps = [("name", within["name"].fillna("").astype(str).str.strip(), text)]
    if tier in _SEAT_TIERS:
        steps.append(("county town", None, name_stem(text)))
    steps.append(("normalised name", within["name"].map(normalise_name), normalise_name(text)))
    for how, keys, value in steps:
        if keys is None:      # a county town written as its county (通江县, 通江县城)
            named = {c for c, (zh, _) in region.counties.items() if name_stem(zh) == value}
            hits = within[(within["tier"] == tier) & (counties.loc[within.index].isin(named)
                                                      | (within["name"].map(name_stem) == value))]
        else:
            hits = within[(keys == value) & (value != "")]
        if len(hits) > 1 and len(_level(hits, tier)):
            hits = _level(hits, tier)
        if len(hits):
            return hits, how
    return within.iloc[:0], ""
