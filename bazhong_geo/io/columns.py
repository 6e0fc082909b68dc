"""Column recognition for planners' files: aliases of every column, renaming, checks of codes, tiers and populations."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from .. import region as region_mod
from .. import vocabulary
from .._errors import (
    DuplicateCodeError,
    InvalidPopulationError,
    MissingColumnError,
    MissingValueError,
    UnknownTierError,
)
from .._validate import (
    ValidationReport,
    column_key,
    describe_features,
    find_column,
    format_rows,
    normalise_codes,
    to_number,
)
from ..settlements import Tier

CODE_ALIASES = ["code", "adcode", "pac", "xzqdm", "行政代码", "行政区划代码", "区划代码", "统计用区划代码", "代码",
                "编码",
                "admin_code", "nbs_code"]


NAME_ALIASES = ["name", "名称", "xzqmc", "行政区划名称", "行政区名称", "区划名称", "地名", "name_zh", "name_cn", "村名",
                "村庄名称", "乡镇名称", "镇名", "mc"]


LEVEL_ALIASES = ["level", "级别", "行政级别", "层级"]


TIER_ALIASES = ["tier", "等级", "城镇等级", "体系等级", "规划等级", "层级", "类别"]


PARENT_ALIASES = ["parent_code", "parent", "上级代码", "上级编码", "上级区划代码", "所属代码", "parentcode"]


POP_ALIASES = ["population", "pop", "人口", "常住人口", "总人口", "户籍人口", "人口数", "人口人", "常住人口人",
               "人口万人", "常住人口万人", "户籍人口万人"]


LON_ALIASES = ["lon", "lng", "long", "longitude", "经度", "x", "东经", "lon_wgs84", "lng_wgs84", "longitude_wgs84",
               "point_x", "x坐标", "横坐标"]


LAT_ALIASES = ["lat", "latitude", "纬度", "y", "北纬", "lat_wgs84", "latitude_wgs84", "point_y", "y坐标", "纵坐标"]


WKT_ALIASES = ["geometry", "wkt", "geom", "the_geom"]


def rename_columns(df: pd.DataFrame, report: ValidationReport, specs: list[tuple[str, Any, list, bool]],
                   path: Path) -> pd.DataFrame:
    """Rename source columns to the normalised names; MissingColumnError for required ones."""
    geom = df.geometry.name if hasattr(df, "geometry") and isinstance(df, geopandas_module().GeoDataFrame) else None
    columns = [c for c in df.columns if c != geom]
    mapping = {}
    for target, explicit, aliases, required in specs:
        if explicit is not None and explicit not in columns:
            raise MissingColumnError(f"{path.name}: no column {explicit!r} (given as the {target} column); "
                                     f"columns are {columns}")
        src = find_column([c for c in columns if c not in mapping], aliases, explicit)
        if src is None:
            if required:
                raise MissingColumnError(
                    f"{path.name}: no {target} column among {columns}; rename one to '{target}' or pass "
                    f"{target}_col=... (recognised names: {', '.join(aliases[:8])} ...)")
            continue
        mapping[src] = target
    # a column already called like a target but not chosen would clash: keep it under a suffixed name
    clashes = {c: f"{c}_original" for c in columns if c in mapping.values() and c not in mapping}
    out = df.rename(columns={**clashes, **mapping})
    for src, target in mapping.items():
        report.columns[str(src)] = target
    if any(str(s) != t for s, t in mapping.items()):
        report.add("info", "columns", "columns mapped: " + ", ".join(f"{s} -> {t}" for s, t in mapping.items()))
    return out


def geopandas_module() -> ModuleType:
    """Return geopandas, imported on first use (keeps ``import bazhong_geo.io`` light)."""
    import geopandas as gpd

    return gpd


def check_missing(values: pd.Series, row_ids: np.ndarray, report: ValidationReport, what: str, path: Path, fix: str,
                  names: pd.Series | None = None) -> None:
    """Record an error for blank ``values`` (e.g. codes), naming the rows (and their names when given) and ``fix``."""
    missing = values.isna().to_numpy()
    if missing.any():
        rows = row_ids[missing]
        where = f"{report.row_label} {format_rows(rows)}"
        if names is not None:
            where = describe_features(pd.DataFrame({"name": names.to_numpy()}), row_ids, missing, report.row_label)
        report.add("error", f"missing_{what}",
                   f"{path.name}: {int(missing.sum())} row(s) without a {what} ({where}); {fix}", rows=rows)
        report.errors[-1].exc = MissingValueError


def check_duplicates(codes: pd.Series, row_ids: np.ndarray, report: ValidationReport, path: Path, fix: str) -> None:
    """Record an error for codes that occur more than once, each code with its rows."""
    dup = codes.notna() & codes.duplicated(keep=False)
    if not dup.any():
        return
    groups = {}
    for code, rid in zip(codes[dup], row_ids[dup.to_numpy()], strict=True):
        groups.setdefault(code, []).append(rid)
    listing = "; ".join(f"{c} ({report.row_label} {format_rows(r)})" for c, r in sorted(groups.items())[:20])
    more = f"; ... (+{len(groups) - 20} more codes)" if len(groups) > 20 else ""
    report.add("error", "duplicate_code", f"{path.name}: {len(groups)} duplicate code(s): {listing}{more}; {fix}",
               rows=row_ids[dup.to_numpy()])
    report.errors[-1].exc = DuplicateCodeError


def _tier_of_code(code) -> str | None:
    level = region_mod.code_level(code)
    return {"prefecture": "central_city", "county": "county_town", "township": "town", "village": "village"}.get(level)


def check_tiers(out: pd.DataFrame, row_ids: np.ndarray, report: ValidationReport, path: Path) -> None:
    """Parse the tier column (or infer tiers from NBS codes); unknown or blank tiers are errors naming the rows."""
    allowed = ", ".join(f"{t.value} ({t.label_zh})" for t in Tier)
    if "tier" not in out.columns:
        inferred = out["code"].map(_tier_of_code)
        bad = inferred.isna().to_numpy()
        if bad.any():
            report.add("error", "no_tier", f"{path.name}: no tier column, and {int(bad.sum())} code(s) are not NBS "
                       f"codes the tier could be inferred from ({report.row_label} {format_rows(row_ids[bad])}); "
                       f"add a column 'tier' with one of: {allowed}", rows=row_ids[bad])
            report.errors[-1].exc = MissingColumnError
        counts = inferred.value_counts()
        report.add("warning", "tier_inferred", "no tier column: tiers inferred from NBS code length (6-digit …00 "
                   "central_city, 6-digit county_town, 9-digit town, 12-digit village): "
                   + ", ".join(f"{k}={v}" for k, v in counts.items()) + "; add a 'tier' column to state them")
        out["tier"] = inferred
        return
    raw = out["tier"]
    parsed, bad = {}, []
    for v in pd.unique(raw[raw.notna()]):
        try:
            parsed[v] = Tier.parse(v).value
        except UnknownTierError:
            bad.append(v)
    missing = raw.isna().to_numpy()
    if missing.any():
        report.add("error", "missing_tier", f"{path.name}: {int(missing.sum())} row(s) without a tier "
                   f"({report.row_label} {format_rows(row_ids[missing])}); allowed tiers: {allowed}",
                   rows=row_ids[missing])
        report.errors[-1].exc = UnknownTierError
    if bad:
        mask = raw.isin(bad).to_numpy()
        by_value = "; ".join(f"{v!r} ({report.row_label} {format_rows(row_ids[(raw == v).to_numpy()])})"
                             for v in bad[:20])
        designations = {v: vocabulary.designation_of_word(v) for v in bad if vocabulary.designation_of_word(v)}
        hint = ("; " + ", ".join(f"{v!r} ({k})" for v, k in designations.items()) + " name designations, not "
                "tiers: move them to a 'designations' column (the keys shown) and state the tier "
                "(bazhong_geo.vocabulary.classify_term splits a 等级 column into both)") if designations else ""
        report.add("error", "unknown_tier", f"{path.name}: unknown tier name(s) {by_value}; allowed tiers: "
                   f"{allowed} (English file spelling or the Chinese name){hint}", rows=row_ids[mask])
        report.errors[-1].exc = UnknownTierError
    out["tier"] = pd.Series([parsed.get(v) if pd.notna(v) else None for v in raw], index=out.index, dtype=object)
    changed = [f"{k} -> {v}" for k, v in parsed.items() if k != v]
    if changed:
        report.add("info", "tier_names", "tier names normalised: " + ", ".join(changed))


def check_population(out: pd.DataFrame, row_ids: np.ndarray, report: ValidationReport, path: Path) -> None:
    """Parse populations (万人 columns scaled); text and negative values are errors naming the rows."""
    if "population" not in out.columns:
        out["population"] = np.nan
        report.add("info", "no_population_column", "no population column: population unknown (NaN) for all rows")
        return
    src = next((s for s, t in report.columns.items() if t == "population"), "population")
    num, bad = to_number(out["population"])
    if bad.any():
        vals = out["population"].to_numpy()[bad]
        listing = ", ".join(f"{r}: {v!r}" for r, v in list(zip(row_ids[bad], vals, strict=True))[:15])
        report.add("error", "non_numeric_population",
                   f"{path.name}: non-numeric population in {int(bad.sum())} row(s) ({report.row_label} {listing}"
                   f"{' ...' if bad.sum() > 15 else ''}); write plain numbers of people (e.g. 22000, not '约2.2万人'), "
                   f"leave the cell empty if unknown", rows=row_ids[bad])
        report.errors[-1].exc = InvalidPopulationError
    neg = num < 0
    if neg.any():
        listing = ", ".join(f"{r}: {v:g}" for r, v in list(zip(row_ids[neg], num[neg], strict=True))[:15])
        report.add("error", "negative_population",
                   f"{path.name}: negative population in {int(neg.sum())} row(s) ({report.row_label} {listing}); "
                   f"correct the values or leave the cells empty if unknown", rows=row_ids[neg])
        report.errors[-1].exc = InvalidPopulationError
    if "万" in str(src):
        num = num * 10000.0
        report.add("info", "population_unit", f"column '{src}' is in 万人 (10,000 people): multiplied by 10,000")
    unknown = np.isnan(num) & ~bad
    if unknown.any() and not unknown.all():
        report.add("info", "population_unknown", f"{int(unknown.sum())} row(s) without population (NaN)",
                   rows=row_ids[unknown])
    out["population"] = np.where(bad, np.nan, num).astype("float64")


def other_columns(out: pd.DataFrame, fmt: str) -> None:
    """Tables are read as text: make code-like columns strings and fully numeric columns numbers."""
    if fmt != "table":
        return
    core = {"code", "name", "tier", "parent_code", "population"}
    for c in out.columns:
        if c in core or pd.api.types.is_numeric_dtype(out[c]) or pd.api.types.is_datetime64_any_dtype(out[c]):
            continue
        k = column_key(c)
        if k.endswith(("code", "id")) or "代码" in k or "编码" in k:
            out[c] = normalise_codes(out[c])
            continue
        num, bad = to_number(out[c])
        if not bad.any() and not np.isnan(num).all():
            whole = not np.isnan(num).any() and np.all(num == np.round(num)) and np.abs(num).max() < 2**53
            out[c] = num.astype("int64") if whole else num
