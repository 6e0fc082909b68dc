"""CRS policy for Bazhong: the work CRS, areas in km², and GCJ-02 / BD-09 <-> WGS-84 conversions.

The work CRS is CGCS2000 3-degree Gauss–Krüger with central meridian 108°E (EPSG:4545). Areas are the
true ellipsoidal areas of the polygons as drawn in their own CRS (straight edges), computed by
integrating the CRS's area density edge by edge, so they are right whatever the input CRS and add up
exactly over partitions.

Chinese web maps use two obfuscated systems: GCJ-02 (Amap/Gaode, Tencent, Google China) and BD-09
(Baidu, a further shift of GCJ-02). The forward formulas are the public ones; the inverses here are
iterative (fixed-point on the forward function) and reach 1e-9 degree (≈ 0.1 mm), unlike the common
single-step approximation that is off by metres.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from ._errors import MissingCRSError, UnknownCoordinateSystemError
from .geodesy import area_km2, equal_area_crs  # noqa: F401  (re-exported: one area implementation)
from .settings import CGCS2000, WGS84, WORK_CRS  # noqa: F401  (re-exported: defined once in settings)

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd


# Krasovsky 1940 ellipsoid, as in the public GCJ-02 algorithm
_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323
_BD_X_PI = np.pi * 3000.0 / 180.0
_INVERSE_TOL_DEG = 1e-10
_INVERSE_MAX_ITER = 30

WEB_SYSTEMS = ("wgs84", "gcj02", "bd09")


# ----------------------------------------------------------------------------------------------- helpers

def _as_arrays(lon, lat):
    lon_a = np.asarray(lon, dtype="float64")
    lat_a = np.asarray(lat, dtype="float64")
    if lon_a.shape != lat_a.shape:
        raise ValueError(f"lon and lat have different shapes: {lon_a.shape} vs {lat_a.shape}")
    return lon_a, lat_a


def _return(lon_a: np.ndarray, lat_a: np.ndarray, scalar: bool):
    if scalar:
        return float(lon_a), float(lat_a)
    return lon_a, lat_a


def _is_scalar(lon) -> bool:
    return np.ndim(lon) == 0


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> np.ndarray:
    """Return True where a point lies outside the bounding box the GCJ-02 algorithm applies to.

    Parameters
    ----------
    lon, lat : float or array-like
        Longitude and latitude in degrees.

    Returns
    -------
    numpy.ndarray of bool

    Examples
    --------
    >>> bool(out_of_china(2.35, 48.85))
    True
    >>> bool(out_of_china(106.76, 31.85))
    False
    """
    lon_a, lat_a = _as_arrays(lon, lat)
    return (lon_a < 72.004) | (lon_a > 137.8347) | (lat_a < 0.8293) | (lat_a > 55.8271)


def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the GCJ-02 offset (dlon, dlat) in degrees at WGS-84 points."""
    x = lon - 105.0
    y = lat - 35.0
    pi = np.pi
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x)) + common
            + (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x)) + common
            + (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0)
    rad_lat = lat / 180.0 * pi
    magic = 1.0 - _GCJ_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_GCJ_A * (1.0 - _GCJ_EE)) / (magic * sqrt_magic) * pi)
    dlon = (dlon * 180.0) / (_GCJ_A / sqrt_magic * np.cos(rad_lat) * pi)
    outside = out_of_china(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def _invert(forward, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Invert a near-identity forward transform by fixed-point iteration, vectorised."""
    x, y = lon.copy(), lat.copy()
    for _ in range(_INVERSE_MAX_ITER):
        fx, fy = forward(x, y)
        ex, ey = fx - lon, fy - lat
        x = x - ex
        y = y - ey
        if not (np.nanmax(np.abs(ex), initial=0.0) > _INVERSE_TOL_DEG
                or np.nanmax(np.abs(ey), initial=0.0) > _INVERSE_TOL_DEG):
            break
    return x, y


def _wgs_to_gcj(lon: np.ndarray, lat: np.ndarray):
    dlon, dlat = _gcj_delta(lon, lat)
    return lon + dlon, lat + dlat


def _gcj_to_bd(lon: np.ndarray, lat: np.ndarray):
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _BD_X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _BD_X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


# ----------------------------------------------------------------------------------------------- public: points

def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    """Convert WGS-84 longitude/latitude to GCJ-02 (Amap, Tencent).

    Points outside China's bounding box pass through unchanged, as the public algorithm defines.

    Parameters
    ----------
    lon, lat : float or array-like
        WGS-84 coordinates in degrees.

    Returns
    -------
    (lon, lat)
        Floats for scalar input, numpy arrays otherwise.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(106.764727, 31.853662)
    >>> round(lon, 6), round(lat, 6)
    (106.768878, 31.85148)
    """
    lon_a, lat_a = _as_arrays(lon, lat)
    return _return(*_wgs_to_gcj(lon_a, lat_a), _is_scalar(lon))


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    """Convert GCJ-02 longitude/latitude to WGS-84 by iterating the forward formula.

    A WGS-84 -> GCJ-02 -> WGS-84 round trip returns within 1 mm anywhere in China.

    Examples
    --------
    >>> lon, lat = gcj02_to_wgs84(*wgs84_to_gcj02(106.764727, 31.853662))
    >>> abs(lon - 106.764727) < 1e-9 and abs(lat - 31.853662) < 1e-9
    True
    """
    lon_a, lat_a = _as_arrays(lon, lat)
    outside = out_of_china(lon_a, lat_a)
    x, y = _invert(_wgs_to_gcj, lon_a, lat_a)
    return _return(np.where(outside, lon_a, x), np.where(outside, lat_a, y), _is_scalar(lon))


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    """Convert GCJ-02 longitude/latitude to BD-09 (Baidu).

    Examples
    --------
    >>> lon, lat = gcj02_to_bd09(106.768878, 31.85148)
    >>> round(lon, 4), round(lat, 4)
    (106.7754, 31.8575)
    """
    lon_a, lat_a = _as_arrays(lon, lat)
    return _return(*_gcj_to_bd(lon_a, lat_a), _is_scalar(lon))


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    """Convert BD-09 longitude/latitude to GCJ-02 by iterating the forward formula."""
    lon_a, lat_a = _as_arrays(lon, lat)
    return _return(*_invert(_gcj_to_bd, lon_a, lat_a), _is_scalar(lon))


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    """Convert WGS-84 longitude/latitude to BD-09 (through GCJ-02)."""
    lon_a, lat_a = _as_arrays(lon, lat)
    return _return(*_gcj_to_bd(*_wgs_to_gcj(lon_a, lat_a)), _is_scalar(lon))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[Any, Any]:
    """Convert BD-09 longitude/latitude to WGS-84 (through GCJ-02, both steps iterative)."""
    glon, glat = bd09_to_gcj02(np.asarray(lon, dtype="float64"), np.asarray(lat, dtype="float64"))
    return _return(*gcj02_to_wgs84(glon, glat), _is_scalar(lon))


_CONVERTERS = {
    ("wgs84", "gcj02"): wgs84_to_gcj02,
    ("gcj02", "wgs84"): gcj02_to_wgs84,
    ("gcj02", "bd09"): gcj02_to_bd09,
    ("bd09", "gcj02"): bd09_to_gcj02,
    ("wgs84", "bd09"): wgs84_to_bd09,
    ("bd09", "wgs84"): bd09_to_wgs84,
}

_ALIASES = {
    "wgs84": "wgs84", "wgs-84": "wgs84", "epsg:4326": "wgs84", "4326": "wgs84",
    "gcj02": "gcj02", "gcj-02": "gcj02", "gcj": "gcj02", "amap": "gcj02", "gaode": "gcj02", "tencent": "gcj02",
    "火星坐标": "gcj02",
    "bd09": "bd09", "bd-09": "bd09", "baidu": "bd09",
}


def web_system(name: str) -> str | None:
    """Return "wgs84", "gcj02" or "bd09" for a web-map system name or alias, else None."""
    return _ALIASES.get(str(name).strip().lower())


def transform_coords(lon: ArrayLike, lat: ArrayLike, src: str, dst: str) -> tuple[Any, Any]:
    """Convert coordinates between "wgs84", "gcj02" and "bd09" (aliases accepted)."""
    s, d = web_system(src), web_system(dst)
    if s is None or d is None:
        raise UnknownCoordinateSystemError(
            f"unknown web-map coordinate system {src if s is None else dst!r}; use one of {WEB_SYSTEMS}")
    if s == d:
        lon_a, lat_a = _as_arrays(lon, lat)
        return _return(lon_a.copy(), lat_a.copy(), _is_scalar(lon))
    return _CONVERTERS[(s, d)](lon, lat)


# ----------------------------------------------------------------------------------------------- public: frames

def convert(gdf: gpd.GeoDataFrame, src: str = "gcj02", dst: str = "wgs84") -> gpd.GeoDataFrame:
    """Convert every vertex of a GeoDataFrame between WGS-84, GCJ-02 and BD-09.

    Works on any geometry type (points, lines, polygons, multi-parts, collections). The frame's
    coordinates are taken as longitude/latitude in ``src``; a frame in a projected CRS is first
    brought to longitude/latitude (only meaningful with ``src="wgs84"``).

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Input layer.
    src, dst : {"wgs84", "gcj02", "bd09"}
        Source and destination systems.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy with converted coordinates, CRS EPSG:4326 (GCJ-02/BD-09 have no EPSG code; the
        system is recorded in ``gdf.attrs["coordinate_system"]``).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> g = gpd.GeoDataFrame(geometry=[Point(106.768878, 31.85148)], crs=4326)
    >>> w = convert(g, src="gcj02", dst="wgs84")
    >>> round(float(w.geometry.x[0]), 5), round(float(w.geometry.y[0]), 5)
    (106.76473, 31.85366)
    """
    import shapely

    s, d = web_system(src), web_system(dst)
    if s is None or d is None:
        raise UnknownCoordinateSystemError(
            f"unknown web-map coordinate system {src if s is None else dst!r}; use one of {WEB_SYSTEMS}")
    out = gdf.copy()
    if out.crs is not None and not out.crs.is_geographic:
        out = out.to_crs(WGS84)

    def _apply(coords: np.ndarray) -> np.ndarray:
        lon, lat = transform_coords(coords[:, 0], coords[:, 1], s, d)
        return np.column_stack([lon, lat])

    out[out.geometry.name] = shapely.transform(out.geometry.values, _apply)
    out = out.set_crs(WGS84, allow_override=True)
    out.attrs["coordinate_system"] = d
    return out


def to_work_crs(gdf: gpd.GeoDataFrame, *, crs: Any = None, source: str | None = None) -> gpd.GeoDataFrame:
    """Bring a GeoDataFrame into the work CRS (EPSG:4545).

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Layer in any CRS.
    crs : optional
        CRS to assume when ``gdf`` has none. Without it a layer with no CRS is an error.
    source : str, optional
        File name used in error messages.

    Returns
    -------
    geopandas.GeoDataFrame in EPSG:4545.

    Raises
    ------
    MissingCRSError
        When the layer has no CRS and ``crs`` is not given.
    """
    if gdf.crs is None:
        if crs is None:
            where = f" in {source}" if source else ""
            raise MissingCRSError(
                f"the layer{where} has no coordinate reference system; pass crs=... (e.g. crs='EPSG:4490' for "
                f"CGCS2000 longitude/latitude, or 'EPSG:4545' for CGCS2000 3-degree Gauss-Kruger CM 108E)")
        gdf = gdf.set_crs(crs)
    if gdf.crs.equals(WORK_CRS):
        return gdf
    return gdf.to_crs(WORK_CRS)


# --- Gauss–Krüger grids by datum and zone ---------------------------------------------------------------

GK_DATUMS = {"cgcs2000": ("CGCS2000", "EPSG:4490"), "xian80": ("Xian 1980", "EPSG:4610"),
           "beijing54": ("Beijing 1954", "EPSG:4214")}
"""Datums of Chinese Gauss–Krüger grids: key -> (name in the EPSG database, geographic CRS)."""
DATUM_ALIASES = {"cgcs2000": "cgcs2000", "cgcs-2000": "cgcs2000", "cgcs": "cgcs2000", "国家2000": "cgcs2000",
                  "2000国家大地坐标系": "cgcs2000", "xian80": "xian80", "xian1980": "xian80", "西安80": "xian80",
                  "beijing54": "beijing54", "北京54": "beijing54"}
"""Spellings of those datums planners use -> datum key."""


@lru_cache(maxsize=1)
def _gk_index() -> dict[str, str]:
    """Gauss–Krüger CRS name -> EPSG code, from pyproj's database."""
    from pyproj.database import query_crs_info

    return {info.name: f"EPSG:{info.code}" for info in query_crs_info(auth_name="EPSG")
            if "Gauss-Kruger" in info.name}


def gauss_kruger_crs(datum: str, zone: int, *, zone_prefix: bool = True) -> str:
    """Return the EPSG code of a Gauss–Krüger CRS by datum and zone (3-degree zones 25–45, 6-degree zones 13–23).

    Parameters
    ----------
    datum : str
        ``"cgcs2000"``, ``"xian80"`` or ``"beijing54"`` (aliases such as 国家2000 / 西安80 accepted).
    zone : int
        Zone number: 25–45 are 3-degree zones (central meridian 3·zone), 13–23 6-degree zones (6·zone − 3).
    zone_prefix : bool
        True: the CRS whose false easting carries the zone number (``zone·10⁶ + 500 000``); False: the
        "CM" CRS with false easting 500 000.

    Returns
    -------
    str
        ``"EPSG:nnnn"``.

    Raises
    ------
    UnknownCoordinateSystemError
        For an unknown datum or a zone outside both ranges.

    Examples
    --------
    >>> gauss_kruger_crs("cgcs2000", 36), gauss_kruger_crs("cgcs2000", 36, zone_prefix=False)
    ('EPSG:4524', 'EPSG:4545')
    >>> gauss_kruger_crs("cgcs2000", 18)
    'EPSG:4496'
    """
    key = DATUM_ALIASES.get(str(datum).strip().lower())
    if key is None:
        raise UnknownCoordinateSystemError(f"unknown datum {datum!r} for Gauss-Kruger; use cgcs2000, xian80 or "
                                           f"beijing54")
    zone = int(zone)
    if 25 <= zone <= 45:
        stem, cm = "3-degree Gauss-Kruger", 3 * zone
    elif 13 <= zone <= 23:
        stem, cm = "Gauss-Kruger", 6 * zone - 3
    else:
        raise UnknownCoordinateSystemError(
            f"Gauss-Kruger zone {zone} is not a zone of China: 3-degree zones are 25-45, 6-degree zones 13-23")
    name = f"{GK_DATUMS[key][0]} / {stem} zone {zone}" if zone_prefix else f"{GK_DATUMS[key][0]} / {stem} CM {cm}E"
    code = _gk_index().get(name)
    if code is None:  # pragma: no cover - every zone of the three datums is in the EPSG database
        raise UnknownCoordinateSystemError(f'no EPSG code for {name!r}; give crs = "EPSG:xxxx" instead')
    return code


def zone_of_easting(x: float) -> int:
    """Return the Gauss–Krüger zone number carried in front of a prefixed easting.

    Examples
    --------
    >>> zone_of_easting(36_512_345.0), zone_of_easting(18_650_000)
    (36, 18)
    """
    zone = int(float(x) // 1_000_000)
    if not (25 <= zone <= 45 or 13 <= zone <= 23):
        raise UnknownCoordinateSystemError(
            f"easting {x} carries no zone number of China (3-degree zones 25-45, 6-degree 13-23): is zone_prefix "
            f"right? Without the prefix eastings are about 500000 m near the central meridian")
    return zone
