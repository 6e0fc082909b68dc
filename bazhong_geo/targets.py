"""Plans, targets and indicators (value + year + source): progress against the plan, per target and county."""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import builtup, resources, units
from ._errors import (
    DuplicateIndicatorError,
    IndicatorFormatError,
    IndicatorUnitError,
    InputFileError,
    MissingFileError,
    PlanFormatError,
    PlanYearError,
    PlanYearWarning,
    UnknownUnitNameError,
)
from .io.files import check_input_file
from .region import BAZHONG

__all__ = [
    "DEFINITIONS",
    "INDICATOR_COLUMNS",
    "PLAN_COLUMNS",
    "PROGRESS_COLUMNS",
    "SCOPE_NAMES",
    "STATUSES",
    "check_indicators",
    "load_indicators",
    "load_plan",
    "measure",
    "progress",
    "trajectory_figure",  # noqa: F822  (moved to trajectory; resolved by this module's __getattr__)
    "write_report",  # noqa: F822  (moved to report; resolved by this module's __getattr__)
]

PREFECTURE = BAZHONG.code
"""The prefecture's code (``BAZHONG.code``): scope of the plan's prefecture-wide targets."""

#: Codes of the scopes a plan or an indicator may name, with their Chinese names (``BAZHONG.units``).
SCOPE_NAMES = BAZHONG.units

#: Status values of :func:`progress`, best first.
STATUSES = ("achieved", "on_track", "behind", "no_data")

#: Comparison spellings accepted in a plan file -> canonical form.
COMPARISONS = {">=": ">=", "≥": ">=", "<=": "<=", "≤": "<=", "=": "=", "==": "=", ">": ">", "<": "<"}

#: Bound spellings accepted in an indicator file ("" = the value is exact).
BOUNDS = {"": "", ">=": ">=", "≥": ">=", ">": ">", "<=": "<=", "≤": "<=", "<": "<"}

KINDS = ("reported", "measured", "estimated")
_KIND_RANK = {"reported": 0, "measured": 1, "estimated": 2}   # which one is used when several exist for one year

PLAN_COLUMNS = ["key", "indicator", "description_zh", "description_en", "unit", "comparison", "target",
                "target_year", "baseline_year", "scope", "definition", "source"]
_PLAN_OPTIONAL = {"indicator"}
INDICATOR_COLUMNS = ["key", "scope", "year", "value", "unit", "kind", "bound", "definition", "note", "source"]
_INDICATOR_OPTIONAL = {"bound", "note"}

PROGRESS_COLUMNS = [
    "key", "scope", "scope_name", "description_zh", "description_en", "unit", "comparison", "target", "target_year",
    "baseline_value", "baseline_year", "latest_value", "latest_year", "latest_kind", "latest_bound", "gap",
    "percent_of_way", "status", "status_note", "required_annual_change", "observed_annual_change", "definition",
    "source", "alternatives", "county_values", "as_of",
]

#: Units whose county values can be compared with a prefecture target (rates, not totals): unit keys of
#: :data:`bazhong_geo.units.UNITS` of the share and density dimensions.
INTENSIVE_UNITS = {k for k, u in units.UNITS.items() if u.dimension in ("share", "density")}

YEAR_RANGE = (1949, 2100)

#: Named indicator definitions: what each figure counts. A plan row names one; progress uses only that one.
DEFINITIONS = {
    "resident_urban_share": "urban residents / resident population x 100 (常住人口城镇化率); census or statistical "
                            "bulletin",
    "urban_settlement": "people living in the contiguous urban settlement of 巴城 (citypopulation.de); equals the "
                        "census urban population of 巴州区 + 恩阳区 + 巴中经济开发区",
    "urban_districts_residents": "all resident population of 巴州区 + 恩阳区 + 巴中经济开发区, urban and rural",
    "household_registered": "household-registered (户籍) population",
    "built_up_extent": "built-up area (建成区面积) of the central city in km²: statistical figure or raster-measured "
                       "extent",
    "town_area_population_ge_50000": "number of towns whose town-area (镇区) population is at least 50,000",
    "township_population_ge_50000": "number of towns whose whole-township population is at least 50,000 "
                                    "(overcounts mega-towns: the plan counts town-area population)",
    "key_town_band_25000_35000": "number of provincial/municipal key towns (省市级重点镇) with 25,000-35,000 people "
                                 "('about 30,000')",
    "township_population_25000_35000": "number of towns whose whole-township population lies in 25,000-35,000",
    "national_key_town_list": "number of towns on the national key-town list (全国重点镇, 2014)",
    "designation:<key>": "number of towns of the register carrying designation <key> (measured)",
    "featured_town_designations": "number of distinct towns on national, provincial or municipal featured-town lists "
                                  "(特色小镇)",
    "provincial_four_good_villages": "number of villages named provincial 四好村",
    "gdp_current_prices": "gross domestic product at current prices, bn yuan (1 bn = 10 亿元)",
    "national_status": "1 when the zone holds national-level status, else 0",
    "census_resident": "census resident population (常住人口)",
    "year_end_resident": "year-end resident population",
    "year_end_urban_resident": "year-end urban resident population",
}

#: Population bands (inclusive lower, inclusive upper) used by the band definitions.
BANDS = {
    "town_area_population_ge_50000": (50_000, math.inf),
    "township_population_ge_50000": (50_000, math.inf),
    "key_town_band_25000_35000": (25_000, 35_000),
    "township_population_25000_35000": (25_000, 35_000),
}


# ----------------------------------------------------------------------------------------------- loading

def _resolve(name_or_path, suffix: str = ".csv") -> Path:
    p = Path(name_or_path)
    if p.suffix == "" and not p.exists():
        p = resources.data_file(f"settlements/{name_or_path}{suffix}")
    return p


def _checked_file(path: Path, error: type[Exception], what: str) -> Path:
    """Run the io file checks (missing, a folder, unreadable, 0 bytes) and raise them as ``error`` naming ``what``."""
    try:
        return check_input_file(path)
    except MissingFileError as exc:
        raise error(f"{what} not found: {exc}") from exc
    except InputFileError as exc:
        raise error(f"{what} cannot be read: {exc}") from exc


def _read_text_table(path: Path, error: type[Exception], what: str, columns: list[str]) -> pd.DataFrame:
    path = _checked_file(path, error, what)
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise error(f"{path}: the {what} is empty (no header line); write the header line "
                    f"{','.join(columns)} and one row under it for each entry") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot be read as a UTF-8 CSV table ({exc}); save it from Excel as "
                    f"'CSV UTF-8 (Comma delimited)'") from None


def _require_columns(df: pd.DataFrame, required, optional, path: Path, error) -> None:
    missing = [c for c in required if c not in df.columns and c not in optional]
    if missing:
        raise error(f"{path}: missing column(s) {missing}; the header must hold {list(required)}")


def _int_or_error(text: str, what: str, where: str, error) -> int:
    try:
        value = float(text)
    except ValueError:
        raise error(f"{where}: {what} {text!r} is not a year") from None
    if not value.is_integer() or not YEAR_RANGE[0] <= value <= YEAR_RANGE[1]:
        raise error(f"{where}: {what} {text!r} is not a year between {YEAR_RANGE[0]} and {YEAR_RANGE[1]}")
    return int(value)


def load_plan(name_or_path: str | Path = "plan_2020") -> pd.DataFrame:
    """Read and check a plan file: one row per target.

    Parameters
    ----------
    name_or_path : str or path-like
        A file in ``data/settlements/`` named without ``.csv`` (``"plan_2020"``), or a path to a CSV file with
        the columns of :data:`PLAN_COLUMNS` (``indicator`` is optional and defaults to ``key``).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`PLAN_COLUMNS`; ``target`` float, years int, ``comparison`` canonical
        (``>=``, ``<=``, ``=``, ``>``, ``<``), ``scope`` a code (text). ``attrs["path"]`` and ``attrs["name"]`` are set.

    Raises
    ------
    PlanFormatError
        A missing column, a blank required field, an unknown comparison, a non-numeric target, a target year
        before the baseline year, a scope that is not an NBS code or a duplicate key; the message names the line.

    Examples
    --------
    >>> plan = load_plan("plan_2020")
    >>> row = plan.set_index("key").loc["urbanization_rate"]
    >>> row["comparison"], float(row["target"]), int(row["target_year"]), row["definition"]
    ('>=', 45.0, 2020, 'resident_urban_share')
    """
    path = _resolve(name_or_path)
    df = _read_text_table(path, PlanFormatError, "plan file", PLAN_COLUMNS)
    _require_columns(df, PLAN_COLUMNS, _PLAN_OPTIONAL, path, PlanFormatError)
    df = df.copy()
    if "indicator" not in df.columns:
        df["indicator"] = ""
    if df.empty:
        raise PlanFormatError(f"{path}: the plan has no targets")
    out = []
    for i, row in enumerate(df.to_dict("records")):
        where = f"{path}, line {i + 2} (key {row['key']!r})"
        row = {k: str(v).strip() for k, v in row.items()}
        blank = [c for c in PLAN_COLUMNS if c not in _PLAN_OPTIONAL and not row[c]]
        if blank:
            raise PlanFormatError(f"{where}: missing field(s) {blank}; fill them in")
        if row["comparison"] not in COMPARISONS:
            raise PlanFormatError(f"{where}: unknown comparison {row['comparison']!r}; use one of >=, <=, =, >, <")
        row["comparison"] = COMPARISONS[row["comparison"]]
        try:
            row["unit"] = units.unit_key(row["unit"])
        except UnknownUnitNameError as exc:
            raise PlanFormatError(f"{where}: {exc}") from None
        try:
            row["target"] = float(row["target"].replace(",", ""))
        except ValueError:
            raise PlanFormatError(f"{where}: target {row['target']!r} is not a number") from None
        if not math.isfinite(row["target"]):
            raise PlanFormatError(f"{where}: target {row['target']!r} is not a finite number")
        row["target_year"] = _int_or_error(row["target_year"], "target_year", where, PlanFormatError)
        row["baseline_year"] = _int_or_error(row["baseline_year"], "baseline_year", where, PlanFormatError)
        if row["target_year"] <= row["baseline_year"]:
            raise PlanFormatError(f"{where}: target_year {row['target_year']} is not after baseline_year "
                                  f"{row['baseline_year']}")
        if not (row["scope"].isdigit() and len(row["scope"]) in (6, 9, 12)):
            raise PlanFormatError(f"{where}: scope {row['scope']!r} is not an NBS code; use 511900 for the prefecture "
                                  "or a county code (511902 巴州区 ... 511971 经开区)")
        row["indicator"] = row["indicator"] or row["key"]
        out.append(row)
    plan = pd.DataFrame(out)[PLAN_COLUMNS + [c for c in df.columns if c not in PLAN_COLUMNS]]
    dup = plan[plan.duplicated(["key", "scope"], keep=False)]
    if not dup.empty:
        lines = [int(i) + 2 for i in dup.index]
        raise PlanFormatError(f"{path}: key/scope repeated on lines {lines} "
                              f"({sorted(set(zip(dup['key'], dup['scope'], strict=True)))}); keep one row per target")
    plan.attrs = {"path": str(path), "name": path.stem}
    return plan


def load_indicators(path: str | Path | None = None) -> pd.DataFrame:
    """Read and check an indicator table (default: the shipped ``data/settlements/indicators.csv``).

    Parameters
    ----------
    path : str or path-like, optional
        A CSV file with the columns of :data:`INDICATOR_COLUMNS`. ``bound`` (optional) says the value is a
        bound: ``>`` means "more than value", ``>=`` "at least value"; blank means exact. A figure that was not
        found has no row; a blank value is an error, never a zero.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`INDICATOR_COLUMNS` (plus any extra columns of the file); ``year`` int, ``value`` float,
        sorted by key, scope, year, definition, kind.

    Raises
    ------
    IndicatorFormatError
        A missing column, a blank or non-numeric value, a year outside 1949-2100, an unknown kind or bound.
    DuplicateIndicatorError
        Two rows with the same key, scope, year, definition and kind; the message names their lines.

    Examples
    --------
    >>> ind = load_indicators()
    >>> ind.query("key == 'urbanization_rate' and scope == '511900' and year == 2020")["value"].item()
    46.16
    """
    path = Path(path) if path is not None else resources.data_file("settlements/indicators.csv")
    df = _read_text_table(path, IndicatorFormatError, "indicator table", INDICATOR_COLUMNS)
    _require_columns(df, INDICATOR_COLUMNS, _INDICATOR_OPTIONAL, path, IndicatorFormatError)
    return check_indicators(df, str(path))


def check_indicators(df: pd.DataFrame, where: str) -> pd.DataFrame:
    """Validate an indicator table given as text or numbers; return it typed and sorted, units as unit keys.

    Parameters
    ----------
    df : pandas.DataFrame
        Columns :data:`INDICATOR_COLUMNS` (``bound`` and ``note`` optional).
    where : str
        Named in error messages (a file, or e.g. ``"indicators (DataFrame)"``).

    Returns
    -------
    pandas.DataFrame
        As :func:`load_indicators` returns it.

    Raises
    ------
    IndicatorFormatError, DuplicateIndicatorError
        As :func:`load_indicators`.

    Examples
    --------
    >>> t = pd.DataFrame({"key": ["pop"], "scope": ["511900"], "year": ["2020"], "value": ["2,712,894"],
    ...                   "unit": ["persons"], "kind": ["reported"], "definition": ["census_resident"],
    ...                   "source": ["census"]})
    >>> check_indicators(t, "example")[["value", "unit", "bound"]].values.tolist()
    [[2712894.0, 'people', '']]
    """
    _require_columns(df, INDICATOR_COLUMNS, _INDICATOR_OPTIONAL, where, IndicatorFormatError)
    df = df.copy()
    for c in ("bound", "note"):
        if c not in df.columns:
            df[c] = ""
    df = df.reset_index(drop=True)
    text_cols = [c for c in df.columns if c not in ("year", "value")]
    for c in text_cols:
        df[c] = df[c].map(lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v).strip())
    line = df.index.to_numpy() + 2
    for c in ("key", "scope", "unit", "kind", "definition", "source"):
        bad = line[(df[c] == "").to_numpy()]
        if bad.size:
            raise IndicatorFormatError(f"{where}: blank {c} on line(s) {bad.tolist()}")
    value = pd.to_numeric(df["value"].map(lambda v: str(v).replace(",", "").strip()), errors="coerce")
    bad = line[value.isna().to_numpy() | ~np.isfinite(value.to_numpy(dtype=float, na_value=np.nan))]
    if bad.size:
        raise IndicatorFormatError(f"{where}: value missing or not a number on line(s) {bad.tolist()}; a figure "
                                   "that was not found must be left out (absent), never written as 0 or blank")
    year = pd.to_numeric(df["year"], errors="coerce")
    ok = year.notna() & (year % 1 == 0) & year.between(*YEAR_RANGE)
    bad = line[~ok.to_numpy()]
    if bad.size:
        raise IndicatorFormatError(f"{where}: year missing or outside {YEAR_RANGE[0]}-{YEAR_RANGE[1]} on line(s) "
                                   f"{bad.tolist()}")
    bad = line[~df["kind"].isin(KINDS).to_numpy()]
    if bad.size:
        raise IndicatorFormatError(f"{where}: kind must be one of {KINDS}; line(s) {bad.tolist()}")
    bad = line[~df["bound"].isin(list(BOUNDS)).to_numpy()]
    if bad.size:
        raise IndicatorFormatError(f"{where}: bound must be blank or one of >, >=, <, <=; line(s) {bad.tolist()}")
    known = df["unit"].map(units.is_unit).astype(bool)
    bad = line[~known.to_numpy()]
    if bad.size:
        raise IndicatorFormatError(f"{where}: unknown unit(s) {sorted(set(df['unit'][~known]))} on line(s) "
                                   f"{bad.tolist()}; use one of {sorted(units.UNITS)} (or persons, 人, 亿元, %, ...)")
    df["unit"] = df["unit"].map(units.unit_key)
    df["bound"] = df["bound"].map(BOUNDS)
    df["value"] = value.astype(float)
    df["year"] = year.astype(int)
    ident = ["key", "scope", "year", "definition", "kind"]
    dup = df.duplicated(ident, keep=False)
    if dup.any():
        groups = (df[dup].assign(line=line[dup.to_numpy()]).groupby(ident, sort=True)["line"]
                  .apply(lambda s: s.tolist()))
        desc = "; ".join(f"{'/'.join(map(str, k))} on lines {v}" for k, v in groups.items())
        raise DuplicateIndicatorError(f"{where}: duplicate rows for one key/scope/year/definition/kind: {desc}. "
                                      "Keep one, or give a second source its own definition name or kind")
    cols = INDICATOR_COLUMNS + [c for c in df.columns if c not in INDICATOR_COLUMNS]
    return df[cols].sort_values(["key", "scope", "year", "definition", "kind"], kind="stable").reset_index(drop=True)


# ----------------------------------------------------------------------------------------------- measuring

def _measured_row(key, scope, year, value, unit, definition, method, **extra) -> dict:
    """One measured indicator row; ``extra`` may set ``note``, ``n_missing`` and ``bound``."""
    row = {"key": key, "scope": scope, "year": int(year), "value": float(value), "unit": unit, "kind": "measured",
           "bound": "", "definition": definition, "note": "", "source": "bazhong_geo.targets.measure",
           "method": method, "n_missing": np.nan}
    row.update(extra)
    return row


def measure(region: Any, *, raster: str | Path | None = None, builtup_rule: object = None,
            raster_year: int | None = None, census_year: int | None = None) -> pd.DataFrame:
    """Compute indicators from the region's data; every row has ``kind`` "measured" and a ``method``.

    Parameters
    ----------
    region : bazhong_geo.datasets.Region
        Uses ``region.census`` (code, resident_population, urban_share, year) and ``region.settlements``
        (code, tier, kind, county_code, population, designations); either may be absent or empty.
    raster : path-like, optional
        A built-up raster; when given, the central-city built-up km² comes from
        ``bazhong_geo.builtup.central_city_builtup_km2(region, raster[, rule=builtup_rule])``.
    builtup_rule : dict or object, optional
        A dict is passed to the built-up function as keyword arguments (e.g. ``{"classes": [50]}``); anything
        else as ``rule=``.
    raster_year : int, optional
        Year of the raster (required with ``raster``: an indicator without a year cannot be tracked).
    census_year : int, optional
        Year of the census figures when ``region.census`` has no ``year`` column (default 2020).

    Returns
    -------
    pandas.DataFrame
        Indicator rows (:data:`INDICATOR_COLUMNS` plus ``method`` and ``n_missing``): urbanization rate of the
        prefecture and of every census unit, central-city population under the ``urban_settlement`` and
        ``urban_districts_residents`` definitions, resident population, counts of towns by designation and by
        population band (``n_missing`` = towns without a population), and the built-up area when a raster is given.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> census = pd.DataFrame({"code": ["511902", "511903"], "resident_population": [100, 300],
    ...                        "urban_share": [0.5, 0.1], "year": [2020, 2020]})
    >>> m = measure(SimpleNamespace(census=census, settlements=None))
    >>> m.query("key == 'urbanization_rate' and scope == '511900'")["value"].item()
    20.0
    """
    rows = []
    census = getattr(region, "census", None)
    if census is not None and len(census):
        rows += _measure_census(census, census_year)
    reg = getattr(region, "settlements", None)
    if reg is not None and len(reg):
        rows += _measure_register(reg, census_year or 2020)
    if raster is not None:
        rows.append(_measure_builtup(region, raster, builtup_rule, raster_year))
    cols = [*INDICATOR_COLUMNS, "method", "n_missing"]
    if not rows:
        return pd.DataFrame(columns=cols)
    out = pd.DataFrame(rows)[cols]
    return out.sort_values(["key", "scope", "year", "definition"], kind="stable").reset_index(drop=True)


def _measure_census(census: pd.DataFrame, census_year: int | None) -> list[dict]:
    """Urbanization rates (prefecture and units), resident population and central-city population from a census."""
    rows = []
    c = census.copy()
    c["code"] = c["code"].astype(str)
    pop = pd.to_numeric(c["resident_population"], errors="coerce")
    share = pd.to_numeric(c["urban_share"], errors="coerce")
    years = c["year"] if "year" in c.columns else pd.Series([census_year or 2020] * len(c))
    year = int(pd.Series(years).dropna().astype(int).mode().iloc[0])
    ok = pop.notna() & share.notna()
    if ok.any():
        rate = float((pop[ok] * share[ok]).sum() / pop[ok].sum() * 100)
        rows.append(_measured_row("urbanization_rate", PREFECTURE, year, round(rate, 4), "percent",
                                  "resident_urban_share", "sum(resident_population x urban_share) / "
                                  "sum(resident_population) over the census units x 100",
                                  n_missing=int((~ok).sum())))
    rows += [_measured_row("urbanization_rate", code, year, round(float(s) * 100, 4), "percent",
                           "resident_urban_share", "census urban_share x 100")
             for code, s in zip(c["code"][ok], share[ok], strict=True)]
    if pop.notna().all():
        rows.append(_measured_row("resident_population", PREFECTURE, year, float(pop.sum()), "people",
                                  "census_resident", "sum of the census units' resident_population"))
    cc = c["code"].isin(BAZHONG.central_city_census_members) & ok
    if cc.any():
        members = "+".join(sorted(c["code"][cc]))
        rows.append(_measured_row("central_city_population", PREFECTURE, year,
                                  round(float((pop[cc] * share[cc]).sum())), "people", "urban_settlement",
                                  f"sum(resident_population x urban_share) of census units {members}",
                                  note="urban shares are rounded to 4 decimals: about ±50 persons per unit"))
        rows.append(_measured_row("central_city_population", PREFECTURE, year, float(pop[cc].sum()), "people",
                                  "urban_districts_residents",
                                  f"sum of resident_population of census units {members}"))
    return rows


def _measure_builtup(region: Any, raster: str | Path, builtup_rule: object, raster_year: int | None) -> dict:
    """The central city's built-up km² measured on ``raster``."""
    if raster_year is None:
        raise IndicatorFormatError("measure(raster=...): give raster_year, the year the raster shows; an indicator "
                                   "needs a year")
    if builtup_rule is None:
        kwargs = {}
    elif isinstance(builtup_rule, dict):
        kwargs = dict(builtup_rule)
    else:
        kwargs = {"rule": builtup_rule}
    km2 = float(builtup.central_city_builtup_km2(region, raster, **kwargs))
    rule = f" with rule {builtup_rule!r}" if builtup_rule is not None else ""
    return _measured_row("central_city_builtup_area", PREFECTURE, raster_year, round(km2, 4), "km2",
                         "built_up_extent", f"bazhong_geo.builtup.central_city_builtup_km2 on {raster}{rule}")


def _measure_register(reg: pd.DataFrame, year: int) -> list[dict]:
    """Counts of towns by designation and by population band from a settlement register."""
    rows = []
    tier = reg["tier"].astype(str) if "tier" in reg.columns else pd.Series("", index=reg.index)
    kind = reg["kind"].astype(str) if "kind" in reg.columns else pd.Series("", index=reg.index)
    towns = reg[(tier == "town") & (kind != "subdistrict") | (tier == "featured_town")]
    county = (towns["county_code"].astype("string").fillna("") if "county_code" in towns.columns
              else pd.Series("", index=towns.index))
    if "population_year" in towns.columns:
        py = pd.to_numeric(towns["population_year"], errors="coerce").dropna()
        year = int(py.max()) if len(py) else year
    if "designations" in towns.columns:
        rows += _designation_rows(towns, county, year)
    if "population" in towns.columns:
        rows += _band_rows(towns, year)
    return rows


def _designation_rows(towns: pd.DataFrame, county: pd.Series, year: int) -> list[dict]:
    """Counts of towns holding each designation (prefecture and county rows), key towns and featured towns."""
    rows = []
    des = towns["designations"].fillna("").astype(str).str.split(";").map(
        lambda ds: frozenset(d.strip() for d in ds if d.strip()))
    keys = sorted(set().union(*des)) if len(des) else []
    featured = [k for k in keys if "featured" in k or "culture_tourism" in k]   # 特色小镇 of any list
    groups = [("designated_towns", f"designation:{k}", des.map(lambda ds, k=k: k in ds),
               f"towns of the register whose designations include {k!r}", "") for k in keys]
    groups.append(("key_towns", "national_key_town_list", des.map(lambda ds: "national_key_town" in ds),
                   "towns of the register with designation 'national_key_town'", ""))
    if featured:
        groups.append(("featured_towns", "featured_town_designations",
                       des.map(lambda ds: bool(ds & set(featured))),
                       f"distinct towns of the register with any of {featured}", ">="))
    for key, definition, has, method, bound in groups:
        note = ("lower bound: the register holds only the designation lists found" if bound
                else "the register holds only the designation lists found")
        rows.append(_measured_row(key, PREFECTURE, year, int(has.sum()), "count", definition, method, note=note,
                                  bound=bound))
        rows += [_measured_row(key, code, year, int(n), "count", definition, f"{method}, county {code}", note=note,
                               bound=bound)
                 for code, n in has.groupby(county).sum().items() if code]
    return rows


def _population_mix(towns: pd.DataFrame, pop: pd.Series, pkind: pd.Series | None) -> str:
    """Note on the kinds and years of the towns' populations ("" when the register does not say)."""
    if pkind is None and "population_year" not in towns.columns:
        return ""
    kinds = pkind[pop.notna()].replace("", "unknown").value_counts().sort_index() if pkind is not None else None
    yrs = (pd.to_numeric(towns["population_year"], errors="coerce")[pop.notna()]
           if "population_year" in towns.columns else pd.Series(dtype=float))
    mix = "; populations of mixed kinds and years"
    if kinds is not None and len(kinds):
        mix += " (" + ", ".join(f"{k} {v}" for k, v in kinds.items())
        if yrs.notna().any():
            mix += f"; years {int(yrs.min())}-{int(yrs.max())}, {int(yrs.isna().sum())} without year"
        mix += ")"
    return mix


def _band_rows(towns: pd.DataFrame, year: int) -> list[dict]:
    """Counts of towns by population band (a lower bound where populations are missing)."""
    rows = []
    pop = pd.to_numeric(towns["population"], errors="coerce")
    pkind = towns["population_kind"].fillna("").astype(str) if "population_kind" in towns.columns else None
    n_missing = int(pop.isna().sum())
    mix = _population_mix(towns, pop, pkind)
    for definition, key in [("township_population_ge_50000", "mega_towns"),
                            ("township_population_25000_35000", "key_towns")]:
        lo, hi = BANDS[definition]
        n = int(((pop >= lo) & (pop <= hi)).sum())
        rows.append(_measured_row(key, PREFECTURE, year, n, "count", definition,
                                  f"towns of the register with population in [{lo:,.0f}, {hi:,.0f}]",
                                  note=(f"{n_missing} of {len(pop)} towns have no population: the count is a "
                                        "lower bound" if n_missing else "all towns have a population") + mix,
                                  n_missing=n_missing, bound=">=" if n_missing else ""))
    if pkind is not None:
        town_area = pkind.str.contains("town_area|镇区", regex=True)
        if town_area.any():
            lo, _ = BANDS["town_area_population_ge_50000"]
            n_ta_missing = int(len(pop) - (town_area & pop.notna()).sum())
            n = int((town_area & (pop >= lo)).sum())
            rows.append(_measured_row("mega_towns", PREFECTURE, year, n, "count",
                                      "town_area_population_ge_50000",
                                      "towns whose town-area population (population_kind town_area) >= 50,000",
                                      note=f"{n_ta_missing} towns have no town-area population",
                                      n_missing=n_ta_missing, bound=">=" if n_ta_missing else ""))
    return rows


# ----------------------------------------------------------------------------------------------- progress

def _interval(value: float, bound: str):
    """(lo, lo_closed, hi, hi_closed) of the true value given a reported value and its bound."""
    inf = math.inf
    return {"": (value, True, value, True), ">=": (value, True, inf, False), ">": (value, False, inf, False),
            "<=": (-inf, False, value, True), "<": (-inf, False, value, False)}[bound]


def _target_set(comparison: str, target: float):
    return _interval(target, {"=": ""}.get(comparison, comparison))


def _subset(a, b) -> bool:
    """Return whether interval a lies inside interval b."""
    alo, alc, ahi, ahc = a
    blo, blc, bhi, bhc = b
    lo_ok = alo > blo or (alo == blo and (blc or not alc))
    hi_ok = ahi < bhi or (ahi == bhi and (bhc or not ahc))
    return lo_ok and hi_ok


def _disjoint(a, b) -> bool:
    """Return whether intervals a and b share no value."""
    alo, alc, ahi, ahc = a
    blo, blc, bhi, bhc = b
    if ahi < blo or (ahi == blo and not (ahc and blc)):
        return True
    return bhi < alo or (bhi == alo and not (bhc and alc))


def satisfies(value: float, comparison: str, target: float, bound: str = "") -> bool | None:
    """Whether a value (or a bound) meets a target: True, False, or None when a bound cannot decide.

    Examples
    --------
    >>> satisfies(46.16, ">=", 45), satisfies(20, ">", 20), satisfies(20, ">", 20, bound=">")
    (True, False, True)
    >>> satisfies(4, ">=", 40, bound=">=") is None
    True
    """
    a = _interval(float(value), bound)
    t = _target_set(COMPARISONS[comparison], float(target))
    if _subset(a, t):
        return True
    if _disjoint(a, t):
        return False
    return None


def _pick(rows: pd.DataFrame) -> pd.Series:
    """The row used among several of one year: reported before measured before estimated."""
    return rows.assign(_r=rows["kind"].map(_KIND_RANK)).sort_values(["_r", "source"], kind="stable").iloc[0]


def _same_unit(a: str, b: str) -> bool:
    """Two unit spellings name one unit (persons = people); unknown spellings only equal themselves."""
    if units.is_unit(a) and units.is_unit(b):
        return units.unit_key(a) == units.unit_key(b)
    return a == b


def _check_units(plan: pd.DataFrame, ind: pd.DataFrame) -> None:
    by_indicator = plan.groupby("indicator")["unit"].agg(lambda s: sorted(set(s)))
    for indicator, allowed in by_indicator.items():
        if any(not _same_unit(allowed[0], other) for other in allowed[1:]):
            raise IndicatorUnitError(f"plan {plan.attrs.get('path', '')}: targets on indicator {indicator!r} use "
                                     f"different units {allowed}")
        mine = ind[ind["key"] == indicator]
        rows = mine[[not _same_unit(u, allowed[0]) for u in mine["unit"]]]
        if not rows.empty:
            desc = "; ".join(f"{r.key}/{r.scope}/{r.year} ({r.definition}) in {r.unit!r}" for r in rows.itertuples())
            raise IndicatorUnitError(f"indicator rows in a unit other than the target's {allowed[0]!r}: {desc}. "
                                     f"Convert them to {allowed[0]!r} (e.g. 亿元 / 10 = bn_yuan, share x 100 = "
                                     "percent; bazhong_geo.units.convert does it) and say so in the note")


def progress(plan: pd.DataFrame | str | Path, indicators: pd.DataFrame | str | Path | None = None,
             as_of: int = 2020) -> pd.DataFrame:
    """Where each target stands at ``as_of``: one row per target, plus one per county with data for it.

    Status rules (applied to the plan's definition only; other definitions appear in ``alternatives``):

    * ``no_data`` — no figure for the target's scope and definition in a year <= ``as_of``; or the latest
      figure is a bound that cannot decide (e.g. "at least 4" against ">= 40"); or ``as_of`` has reached the
      target year but the latest figure is older than the target year and does not meet it (the target-year
      figure is missing: the note gives the last figure and the trend, which are not a measurement); or,
      before the target year, a single figure gives no trend.
    * ``achieved`` — the latest figure <= ``as_of`` meets the comparison (a bound meets it when every value it
      allows does). The note says when it was met after the target year.
    * ``on_track`` — ``as_of`` < target year and the observed annual change (baseline -> latest; when the latest
      figure is the baseline itself, the figure before it -> latest) is at least the required annual change
      (latest -> target by the target year) in the target's direction.
    * ``behind`` — otherwise: the trend is too slow before the target year, or the target-year figure misses it.

    Several rows in the latest year: reported before measured before estimated. The baseline is the figure at
    the plan's baseline year, else the latest before it, else the earliest one before the latest year (noted).

    Parameters
    ----------
    plan : DataFrame or str or path-like
        From :func:`load_plan`, or its name/path.
    indicators : DataFrame or path-like, optional
        From :func:`load_indicators` (default: the shipped table), possibly concatenated with :func:`measure`.
    as_of : int
        The assessment year: figures of later years are not used. Before every baseline year is an error
        (:class:`PlanYearError`); after a target year gives a :class:`PlanYearWarning` ("achieved" then may be late).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`PROGRESS_COLUMNS`. ``gap`` = target - latest_value; ``percent_of_way`` =
        (latest - baseline) / (target - baseline) x 100; annual changes in the target's unit per year.
        County rows are added for rates (:data:`INTENSIVE_UNITS`); for totals the counties' figures are listed
        in ``county_values`` of the prefecture row.

    Raises
    ------
    IndicatorUnitError
        An indicator row in another unit than its target.

    Examples
    --------
    >>> p = progress(load_plan(), load_indicators(), as_of=2020)
    >>> p.set_index(["key", "scope"]).loc[("urbanization_rate", "511900"), "status"]
    'achieved'
    """
    plan = load_plan(plan) if not isinstance(plan, pd.DataFrame) else plan
    if indicators is None or not isinstance(indicators, pd.DataFrame):
        indicators = load_indicators(indicators)
    else:
        indicators = check_indicators(indicators, "indicators (DataFrame)")
    as_of = int(as_of)
    if as_of < int(plan["baseline_year"].min()):
        raise PlanYearError(f"as_of {as_of} is before the plan's baseline year {int(plan['baseline_year'].min())}: "
                            "nothing to assess")
    late = plan[plan["target_year"] < as_of]
    if not late.empty:
        warnings.warn(f"as_of {as_of} is after the target year of {sorted(late['key'])} "
                      f"({sorted(set(late['target_year']))}): their status says whether the target was met by "
                      f"{as_of}, late or not", PlanYearWarning, stacklevel=2)
    _check_units(plan, indicators)
    out = []
    for t in plan.to_dict("records"):
        cand = indicators[indicators["key"] == t["indicator"]]
        scopes = [t["scope"]]
        counties = ""
        if t["scope"] == PREFECTURE:
            own = cand[(cand["definition"] == t["definition"]) & (cand["year"] <= as_of)
                       & (cand["scope"] != PREFECTURE)]
            if t["unit"] in INTENSIVE_UNITS:
                scopes += sorted(own["scope"].unique())
            counties = _county_values(own)
        for scope in scopes:
            row = _assess(t, cand[cand["scope"] == scope], scope, as_of)
            row["county_values"] = counties if scope == t["scope"] else ""
            out.append(row)
    return pd.DataFrame(out, columns=PROGRESS_COLUMNS)


def _county_values(own: pd.DataFrame) -> str:
    """'name year: value' of each county's latest figure under the plan's definition."""
    if own.empty:
        return ""
    parts = []
    for scope, g in own.groupby("scope", sort=True):
        r = _pick(g[g["year"] == g["year"].max()])
        parts.append(f"{SCOPE_NAMES.get(scope, scope)} {int(r['year'])}: {r['bound']}{units.fmt(r['value'])}")
    return "; ".join(parts)


def _assess(t: dict, cand: pd.DataFrame, scope: str, as_of: int) -> dict:
    """One progress row: the latest figure, the baseline, the trend and the status of target ``t`` in ``scope``."""
    row = _empty_progress_row(t, scope, as_of)
    notes = []
    if scope != t["scope"]:
        notes.append(f"county figure against the {SCOPE_NAMES.get(t['scope'], t['scope'])} target")
    past = cand[cand["year"] <= as_of]
    used = past[past["definition"] == t["definition"]]
    latest = None
    if used.empty:
        notes.append(f"no figure under definition {t['definition']!r} up to {as_of}")
    else:
        ly = int(used["year"].max())
        latest = _pick(used[used["year"] == ly])
        row.update(latest_value=float(latest["value"]), latest_year=ly, latest_kind=latest["kind"],
                   latest_bound=latest["bound"], gap=float(t["target"]) - float(latest["value"]))
        if latest["bound"]:
            notes.append(f"latest figure is a bound: {latest['bound']} {units.fmt(latest['value'])}")
        baseline = _baseline(used, ly, int(t["baseline_year"]), notes)
        if baseline is not None and not baseline["bound"]:
            _add_trend(row, used, latest, baseline, float(t["target"]), notes)
        _add_status(row, used, latest, t, as_of, notes)
    row["alternatives"] = _alternatives(past, latest, t)
    row["status_note"] = "; ".join(notes)
    return row


def _empty_progress_row(t: dict, scope: str, as_of: int) -> dict:
    """A progress row of target ``t`` in ``scope`` with no figure yet (status ``no_data``)."""
    nan = float("nan")
    row = {k: t[k] for k in ("key", "description_zh", "description_en", "unit", "comparison", "target",
                             "target_year", "definition")}
    row.update(scope=scope, scope_name=SCOPE_NAMES.get(scope, scope), source=t["source"], as_of=as_of,
               baseline_value=nan, baseline_year=pd.NA, latest_value=nan, latest_year=pd.NA, latest_kind="",
               latest_bound="", gap=nan, percent_of_way=nan, required_annual_change=nan,
               observed_annual_change=nan, status="no_data", status_note="", alternatives="")
    return row


def _baseline(used: pd.DataFrame, ly: int, by: int, notes: list[str]) -> pd.Series | None:
    """The baseline figure: at the baseline year ``by``, else the latest before it, else the earliest before ``ly``."""
    earlier = used[used["year"] <= by]
    if not earlier.empty:
        b = _pick(earlier[earlier["year"] == earlier["year"].max()])
        if int(b["year"]) != by:
            notes.append(f"no figure for baseline year {by}: baseline from {int(b['year'])}")
        return b
    before = used[used["year"] < ly]
    if before.empty:
        return None
    b = _pick(before[before["year"] == before["year"].min()])
    notes.append(f"no figure at or before baseline year {by}: baseline from {int(b['year'])}")
    return b


def _add_trend(row: dict, used: pd.DataFrame, latest: pd.Series, b: pd.Series, target: float,
               notes: list[str]) -> None:
    """Fill the baseline, the percent of the way and the observed annual change of ``row``."""
    ly = int(latest["year"])
    bv, byr = float(b["value"]), int(b["year"])
    row.update(baseline_value=bv, baseline_year=byr)
    if target != bv:
        row["percent_of_way"] = (float(latest["value"]) - bv) / (target - bv) * 100
    if ly > byr:
        row["observed_annual_change"] = (float(latest["value"]) - bv) / (ly - byr)
        return
    # the latest figure is the baseline figure itself (no figure after the baseline year yet): the
    # trend runs from the exact figure before it, if any -- two figures are not "a single figure"
    prior = used[(used["year"] < ly) & (used["bound"] == "")]
    if not prior.empty:
        p = _pick(prior[prior["year"] == prior["year"].max()])
        row["observed_annual_change"] = (float(latest["value"]) - float(p["value"])) / (ly - int(p["year"]))
        notes.append(f"no figure after the baseline: observed trend from {int(p['year'])} to {ly}")


def _add_status(row: dict, used: pd.DataFrame, latest: pd.Series, t: dict, as_of: int, notes: list[str]) -> None:
    """Set the required annual change and the status of ``row`` (see :func:`progress` for the rules)."""
    comp, target, ty = t["comparison"], float(t["target"]), int(t["target_year"])
    ly = int(latest["year"])
    met = satisfies(latest["value"], comp, target, latest["bound"])
    if ly < ty and met is not True:
        row["required_annual_change"] = (target - float(latest["value"])) / (ty - ly)
    if met is True:
        row["status"] = "achieved"
        yrs = used[[satisfies(v, comp, target, bd) is True
                    for v, bd in zip(used["value"], used["bound"], strict=True)]]
        first = int(yrs["year"].min())
        if first > ty:
            notes.append(f"met in {first}, after the target year {ty}")
    elif met is None:
        row["status"] = "no_data"
        notes.append(f"the bound cannot decide against {comp} {units.fmt(target)}")
    elif as_of >= ty:
        row["status"] = "no_data" if ly < ty else "behind"
        notes.append(_missed_note(row, latest, ty) if ly < ty
                     else f"target year {ty} reached without meeting the target")
    else:
        obs, req = row["observed_annual_change"], row["required_annual_change"]
        if math.isnan(obs):
            row["status"] = "no_data"
            notes.append("a single figure: no trend to compare with the required change")
        else:
            sign = {">=": 1, ">": 1, "<=": -1, "<": -1}.get(comp, 1 if target > float(latest["value"]) else -1)
            row["status"] = "on_track" if sign * obs >= sign * req else "behind"


def _missed_note(row: dict, latest: pd.Series, ty: int) -> str:
    """Note for a target year reached without its figure: the last figure and, with a trend, its projection."""
    ly = int(latest["year"])
    msg = f"no figure for the target year {ty}; last figure {ly}: {units.fmt(latest['value'])}"
    obs = row["observed_annual_change"]
    if not math.isnan(obs):
        proj = float(latest["value"]) + obs * (ty - ly)
        msg += (f"; at the observed trend ({obs:+.4g}/yr) {ty} would be about {units.fmt(proj)} "
                "(a projection, not a figure)")
    return msg


def _alternatives(past: pd.DataFrame, latest, t: dict) -> str:
    """Other definitions'/kinds' latest figures, and which one is used."""
    if past.empty:
        return ""
    parts = []
    for (definition, kind), g in past.groupby(["definition", "kind"], sort=True):
        r = g.loc[g["year"].idxmax()]
        if latest is not None and r["definition"] == latest["definition"] and r["kind"] == latest["kind"] \
                and int(r["year"]) == int(latest["year"]):
            continue
        parts.append(f"{definition} [{kind}] {int(r['year'])}: {r['bound']}{units.fmt(r['value'])} {r['unit']} "
                     f"({r['source']})")
    if not parts:
        return ""
    used = (f"used: {latest['definition']} [{latest['kind']}] {int(latest['year'])}" if latest is not None
            else f"used: none (plan definition {t['definition']!r} has no figure)")
    return used + " | others: " + " | ".join(parts)


# ----------------------------------------------------------------------------------------------- figures, report

# the figure and the report depend on this module, never the other way: their old names here resolve on access
_MOVED = {"trajectory_figure": "trajectory", "write_report": "report"}


def __getattr__(name: str):
    """Resolve the names that moved out of this module on first access.

    ``trajectory_figure`` is now in :mod:`bazhong_geo.trajectory` and ``write_report`` in :mod:`bazhong_geo.report`;
    ``targets.write_report(...)`` keeps working.
    """
    if name in _MOVED:
        from importlib import import_module

        return getattr(import_module(f".{_MOVED[name]}", __package__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
