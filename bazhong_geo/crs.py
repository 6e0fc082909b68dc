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

from typing import TYPE_CHECKING

import numpy as np

from ._errors import MissingCRSError, UnknownCoordinateSystemError
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


def out_of_china(lon, lat) -> np.ndarray:
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

def wgs84_to_gcj02(lon, lat):
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


def gcj02_to_wgs84(lon, lat):
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


def gcj02_to_bd09(lon, lat):
    """Convert GCJ-02 longitude/latitude to BD-09 (Baidu).

    Examples
    --------
    >>> lon, lat = gcj02_to_bd09(106.768878, 31.85148)
    >>> round(lon, 4), round(lat, 4)
    (106.7754, 31.8575)
    """
    lon_a, lat_a = _as_arrays(lon, lat)
    return _return(*_gcj_to_bd(lon_a, lat_a), _is_scalar(lon))


def bd09_to_gcj02(lon, lat):
    """Convert BD-09 longitude/latitude to GCJ-02 by iterating the forward formula."""
    lon_a, lat_a = _as_arrays(lon, lat)
    return _return(*_invert(_gcj_to_bd, lon_a, lat_a), _is_scalar(lon))


def wgs84_to_bd09(lon, lat):
    """Convert WGS-84 longitude/latitude to BD-09 (through GCJ-02)."""
    lon_a, lat_a = _as_arrays(lon, lat)
    return _return(*_gcj_to_bd(*_wgs_to_gcj(lon_a, lat_a)), _is_scalar(lon))


def bd09_to_wgs84(lon, lat):
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


def transform_coords(lon, lat, src: str, dst: str):
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

def convert(gdf: "gpd.GeoDataFrame", src: str = "gcj02", dst: str = "wgs84") -> "gpd.GeoDataFrame":
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


def to_work_crs(gdf: "gpd.GeoDataFrame", *, crs=None, source: str | None = None) -> "gpd.GeoDataFrame":
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


def equal_area_crs(lon0: float, lat0: float) -> str:
    """Return a PROJ string of an ellipsoidal Lambert azimuthal equal-area CRS centred on (lon0, lat0)."""
    return f"+proj=laea +lat_0={lat0:.6f} +lon_0={lon0:.6f} +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs"


def area_km2(data, *, crs=None):
    """Return the area of each geometry in km², right whatever the CRS, and additive over partitions.

    Edges are taken as straight lines in the layer's own CRS (as GIS software draws them). The true
    ellipsoidal area is the integral, over each polygon, of the area the CRS's unit square covers on
    its datum's ellipsoid. That density is smooth: it is fitted once per call by a polynomial over the
    data's extent (checked to 1e-10 relative), and integrated exactly over every polygon from its
    edges (Green's theorem with Gauss–Legendre nodes). Because the integral is computed edge by edge,
    cells that partition a region sum to the region's area to rounding (~1e-12 relative), and the
    result is exact for straight edges of any length. Extents where the density cannot be fitted that
    well (continents, the poles, the antimeridian) fall back to an ellipsoidal Lambert azimuthal
    equal-area projection with edges densified. Non-polygon geometries have area 0; missing ones NaN.

    Parameters
    ----------
    data : geopandas.GeoDataFrame or geopandas.GeoSeries
        Polygons in any CRS.
    crs : optional
        CRS to assume when ``data`` has none.

    Returns
    -------
    pandas.Series of float, indexed like ``data``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> s = gpd.GeoSeries([box(500_000, 3_500_000, 501_000, 3_501_000)], crs="EPSG:4545")
    >>> round(float(area_km2(s).iloc[0]), 3)  # 1 km square on the central meridian (scale 1)
    1.0
    """
    import pandas as pd
    import shapely

    import geopandas as gpd

    geo = data.geometry if isinstance(data, gpd.GeoDataFrame) else data
    if geo.crs is None:
        if crs is None:
            raise MissingCRSError("cannot compute areas: the layer has no CRS; pass crs=...")
        geo = geo.set_crs(crs)
    values = np.asarray(geo.values, dtype=object)
    out = np.full(len(values), np.nan)
    present = ~shapely.is_missing(values)
    if not present.any():
        return pd.Series(out, index=geo.index, dtype="float64")
    polys = shapely.get_parts(values[present], return_index=True)
    is_poly = shapely.get_type_id(polys[0]) == 3
    parts, owner = shapely.orient_polygons(polys[0][is_poly]), polys[1][is_poly]
    areas = np.zeros(int(present.sum()))
    if len(parts):
        density = _AreaDensity.fit(geo.crs, shapely.total_bounds(parts))
        if density is None:
            laea = _laea_areas_m2(gpd_series=geo.iloc[np.flatnonzero(present)])
            out[present] = laea / 1e6
            return pd.Series(out, index=geo.index, dtype="float64")
        np.add.at(areas, owner, density.integrate(parts))
    out[present] = areas / 1e6
    return pd.Series(out, index=geo.index, dtype="float64")


def _laea_areas_m2(gpd_series) -> np.ndarray:
    """Areas in m² in a Lambert azimuthal equal-area CRS centred on the data, edges densified (fallback)."""
    geographic = gpd_series.to_crs(CGCS2000) if not gpd_series.crs.is_geographic else gpd_series
    minx, miny, maxx, maxy = geographic.total_bounds
    laea = equal_area_crs((minx + maxx) / 2.0, (miny + maxy) / 2.0)
    dense = gpd_series.segmentize(0.01 if gpd_series.crs.is_geographic else 1000.0)
    return dense.to_crs(laea).area.to_numpy()


class CRSInfo:
    """The few facts about a CRS the area integral needs."""

    def __init__(self, crs):
        from pyproj import CRS

        self.crs = CRS.from_user_input(crs)
        self.is_geographic = self.crs.is_geographic
        axis = self.crs.axis_info
        self.unit_metres = float(axis[0].unit_conversion_factor) if axis and not self.is_geographic else 1.0


class _AreaDensity:
    """m² of ellipsoid per square CRS unit, as a polynomial in normalised coordinates over an extent."""

    DEGREES = (2, 4, 6, 8)
    TOLERANCE = 1e-10
    CHUNK = 65_536

    def __init__(self, centre, half, coef):
        self.centre, self.half = centre, half
        self.coef = coef  # coef[i, j] multiplies u**i * v**j (zero where i + j > degree)

    @staticmethod
    def _density(info: "CRSInfo", x, y, step) -> np.ndarray:
        """Ellipsoidal m² per square CRS unit at (x, y): M·N·cos φ times the Jacobian of (x, y) -> (λ, φ)."""
        from pyproj import Transformer

        geodetic = info.crs.geodetic_crs
        ellipsoid = geodetic.ellipsoid
        a = ellipsoid.semi_major_metre
        e2 = 1.0 - (ellipsoid.semi_minor_metre / a) ** 2
        if info.is_geographic:
            lon, lat, jac = x, y, np.ones_like(x)
        else:
            tr = Transformer.from_crs(info.crs, geodetic, always_xy=True)
            lon, lat = tr.transform(x, y)
            lxp, bxp = tr.transform(x + step, y)
            lxm, bxm = tr.transform(x - step, y)
            lyp, byp = tr.transform(x, y + step)
            lym, bym = tr.transform(x, y - step)
            jac = np.abs((lxp - lxm) * (byp - bym) - (lyp - lym) * (bxp - bxm)) / (2 * step) ** 2
        phi = np.radians(lat)
        w = 1.0 - e2 * np.sin(phi) ** 2
        return a * (1.0 - e2) / w ** 1.5 * a / np.sqrt(w) * np.cos(phi) * np.radians(1.0) ** 2 * jac

    @classmethod
    def fit(cls, crs, bounds) -> "_AreaDensity | None":
        """Fit the density over ``bounds`` with the lowest degree that reaches TOLERANCE; None if none does."""
        info = CRSInfo(crs)
        minx, miny, maxx, maxy = (float(b) for b in bounds)
        if not np.all(np.isfinite([minx, miny, maxx, maxy])):
            return None
        centre = np.array([(minx + maxx) / 2.0, (miny + maxy) / 2.0])
        half = np.maximum(np.array([(maxx - minx) / 2.0, (maxy - miny) / 2.0]) * 1.0001, 1e-6 * (1 + np.abs(centre)))
        step = 1e-3 if info.is_geographic else 1000.0 / info.unit_metres
        nodes = np.cos(np.pi * (np.arange(12) + 0.5) / 12)
        u, v = (g.ravel() for g in np.meshgrid(nodes, nodes))
        check = np.linspace(-1.0, 1.0, 15)
        cu, cv = (g.ravel() for g in np.meshgrid(check, check))
        with np.errstate(all="ignore"):
            dens = cls._density(info, centre[0] + u * half[0], centre[1] + v * half[1], step)
            truth = cls._density(info, centre[0] + cu * half[0], centre[1] + cv * half[1], step)
        if not (np.all(np.isfinite(dens)) and np.all(np.isfinite(truth)) and np.all(dens > 0)):
            return None
        scale = float(np.mean(dens))
        for degree in cls.DEGREES:
            powers = [(i, j) for i in range(degree + 1) for j in range(degree + 1 - i)]
            design = np.column_stack([u ** i * v ** j for i, j in powers])
            solution = np.linalg.lstsq(design, dens / scale, rcond=None)[0] * scale
            fitted = np.column_stack([cu ** i * cv ** j for i, j in powers]) @ solution
            if np.max(np.abs(fitted / truth - 1.0)) <= cls.TOLERANCE:
                coef = np.zeros((degree + 1, degree + 1))
                for (i, j), c in zip(powers, solution):
                    coef[i, j] = c
                return cls(centre, half, coef)
        return None

    def integrate(self, polygons) -> np.ndarray:
        """Return ∫∫ density dA in m² of each oriented polygon (exterior CCW, holes CW), from its edges.

        Green's theorem: ∫∫ u^i v^j du dv = ∮ u^(i+1)/(i+1) v^j dv, evaluated on every straight edge
        by Gauss–Legendre quadrature that is exact for the polynomial degree.
        """
        import shapely

        degree = self.coef.shape[0] - 1
        t, w = np.polynomial.legendre.leggauss(degree // 2 + 2)  # exact up to degree + 3 in t
        t, w = (t + 1.0) / 2.0, w / 2.0
        rings, ring_owner = shapely.get_rings(polygons, return_index=True)
        xy, vertex_ring = shapely.get_coordinates(rings, return_index=True)
        uv = (xy - self.centre) / self.half
        same = vertex_ring[1:] == vertex_ring[:-1]
        start, delta = uv[:-1][same], (uv[1:] - uv[:-1])[same]
        edge_owner = ring_owner[vertex_ring[:-1][same]]
        weights = self.coef / np.arange(1, degree + 2)[:, None]  # c_ij / (i + 1)
        per_edge = np.empty(len(start))
        for lo in range(0, len(start), self.CHUNK):  # bounded memory on millions of edges
            s0, d0 = start[lo:lo + self.CHUNK], delta[lo:lo + self.CHUNK]
            u = s0[:, :1] + d0[:, :1] * t                     # (edges, nodes)
            v = s0[:, 1:] + d0[:, 1:] * t
            u_pow = np.cumprod(np.repeat(u[..., None], degree + 1, axis=-1), axis=-1)          # u^1 .. u^(d+1)
            v_pow = np.concatenate([np.ones_like(v)[..., None],
                                    np.cumprod(np.repeat(v[..., None], degree, axis=-1), axis=-1)], axis=-1)
            integrand = np.einsum("enk,kl,enl->en", u_pow, weights, v_pow, optimize=True)
            per_edge[lo:lo + self.CHUNK] = (integrand @ w) * d0[:, 1]
        result = np.zeros(len(polygons))
        np.add.at(result, edge_owner, per_edge)
        return result * self.half[0] * self.half[1]
