"""True (ellipsoidal) areas whatever the CRS: one area density, integrated over polygons.

The projection area correction is computed here and only here. :func:`area_density` gives the m² of
ellipsoid covered by one square CRS unit at given points — M·N·cos φ times the Jacobian of the inverse
projection (central differences, 500 m apart) for projected CRSs, M·N·cos φ per square degree for
geographic ones. Two users build on it: :class:`AreaDensity` (the density fitted by a polynomial over an
extent and integrated exactly over polygons from their edges, Green's theorem) behind :func:`area_km2`, and
:class:`bazhong_geo.zonal.areas.CellArea`, the true area of every cell of a raster grid.

>>> import numpy as np
>>> round(float(area_density("EPSG:4545", np.array([500_000.0]), np.array([3_500_000.0]))[0]), 6)
1.0
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from ._errors import MissingCRSError
from .settings import CGCS2000

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    import pandas as pd

__all__ = ["AreaDensity", "area_density", "area_km2", "ellipsoid_band_area", "ellipsoid_parameters",
           "equal_area_crs", "polygon_parts", "polygonal"]

_STEP_M = 500.0  # central-difference step, metres: truncation error ~ (step / 6.4e6)² is negligible


def ellipsoid_parameters(crs: Any) -> tuple[float, float]:
    """(semi-major axis in m, first eccentricity squared) of the CRS's ellipsoid."""
    ell = crs.geodetic_crs.ellipsoid if crs.geodetic_crs is not None else crs.ellipsoid
    a = ell.semi_major_metre
    return a, 1.0 - (ell.semi_minor_metre / a) ** 2


def ellipsoid_band_area(lat_deg: ArrayLike, a: float, f: float) -> np.ndarray:
    """Area (m²) on the ellipsoid between the equator and latitude φ, per radian of longitude.

    Parameters
    ----------
    lat_deg : array_like
        Latitudes in degrees.
    a, f : float
        Semi-major axis (m) and flattening of the ellipsoid.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> a = 6378137.0
    >>> round(float(ellipsoid_band_area(90.0, a, 0.0) / (a * a)), 12)   # sphere: a² sin φ
    1.0
    """
    e2 = f * (2.0 - f)
    e = np.sqrt(e2)
    b2 = (a * (1.0 - f)) ** 2
    s = np.sin(np.radians(lat_deg))
    if e == 0:
        return a * a * s
    return 0.5 * b2 * (s / (1.0 - e2 * s * s) + np.log((1.0 + e * s) / (1.0 - e * s)) / (2.0 * e))


def area_density(crs: Any, x: ArrayLike, y: ArrayLike) -> np.ndarray:
    """Ellipsoidal m² covered by one square CRS unit at the points (x, y) of ``crs``.

    Parameters
    ----------
    crs : anything pyproj accepts
        Geographic (units: degrees) or projected (units: the CRS's linear unit).
    x, y : numpy.ndarray
        Coordinates in ``crs``.

    Returns
    -------
    numpy.ndarray
        m² per square degree (geographic) or per square CRS unit (projected); NaN where the projection
        is undefined.

    Examples
    --------
    >>> import numpy as np
    >>> d = area_density("EPSG:32648", np.array([500_000.0]), np.array([3_500_000.0]))
    >>> round(float(d[0]), 6)    # UTM scale 0.9996 on its central meridian: 1 / 0.9996²
    1.0008
    """
    from pyproj import CRS, Transformer

    crs = CRS.from_user_input(crs)
    a, e2 = ellipsoid_parameters(crs)
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if crs.is_geographic:
        lat, jac = y, np.ones_like(x)
    else:
        axis = crs.axis_info
        unit = float(axis[0].unit_conversion_factor) if axis else 1.0
        h = _STEP_M / unit
        tr = Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True)
        _, lat = tr.transform(x, y)
        lon_e, lat_e = tr.transform(x + h, y)
        lon_w, lat_w = tr.transform(x - h, y)
        lon_n, lat_n = tr.transform(x, y + h)
        lon_s, lat_s = tr.transform(x, y - h)
        dlx = (lon_e - lon_w + 180.0) % 360.0 - 180.0  # across the antimeridian
        dly = (lon_n - lon_s + 180.0) % 360.0 - 180.0
        jac = np.abs(dlx * (lat_n - lat_s) - dly * (lat_e - lat_w)) / (2.0 * h) ** 2
    phi = np.radians(lat)
    w = 1.0 - e2 * np.sin(phi) ** 2
    return a * (1.0 - e2) / w ** 1.5 * a / np.sqrt(w) * np.cos(phi) * np.radians(1.0) ** 2 * jac


class AreaDensity:
    """:func:`area_density` as a polynomial in normalised coordinates over an extent, integrated over polygons.

    Built by :meth:`fit`; :meth:`integrate` gives the ellipsoidal m² of oriented polygons from their edges.
    """

    DEGREES = (2, 4, 6, 8)
    TOLERANCE = 1e-10
    CHUNK = 65_536

    def __init__(self, centre, half, coef):
        self.centre, self.half = centre, half
        self.coef = coef  # coef[i, j] multiplies u**i * v**j (zero where i + j > degree)

    @classmethod
    def fit(cls, crs: Any, bounds: ArrayLike) -> AreaDensity | None:
        """Fit the density over ``bounds`` with the lowest degree that reaches TOLERANCE; None if none does."""
        minx, miny, maxx, maxy = (float(b) for b in bounds)
        if not np.all(np.isfinite([minx, miny, maxx, maxy])):
            return None
        centre = np.array([(minx + maxx) / 2.0, (miny + maxy) / 2.0])
        half = np.maximum(np.array([(maxx - minx) / 2.0, (maxy - miny) / 2.0]) * 1.0001, 1e-6 * (1 + np.abs(centre)))
        nodes = np.cos(np.pi * (np.arange(12) + 0.5) / 12)
        u, v = (g.ravel() for g in np.meshgrid(nodes, nodes))
        check = np.linspace(-1.0, 1.0, 15)
        cu, cv = (g.ravel() for g in np.meshgrid(check, check))
        with np.errstate(all="ignore"):
            dens = area_density(crs, centre[0] + u * half[0], centre[1] + v * half[1])
            truth = area_density(crs, centre[0] + cu * half[0], centre[1] + cv * half[1])
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
                for (i, j), c in zip(powers, solution, strict=True):
                    coef[i, j] = c
                return cls(centre, half, coef)
        return None

    def integrate(self, polygons: np.ndarray) -> np.ndarray:
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


def polygon_parts(values: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Every Polygon inside ``values``, however deeply nested in multi-geometries and collections.

    A GeometryCollection holding a MultiPolygon keeps all its polygons (one level of ``get_parts`` would
    stop at the MultiPolygon); lines and points are left out (they have no area).

    Returns
    -------
    (polygons, owner)
        The polygons and the position in ``values`` each came from.

    Examples
    --------
    >>> import shapely
    >>> gc = shapely.GeometryCollection([shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(2, 0, 3, 1)]),
    ...                                  shapely.LineString([(0, 0), (5, 5)])])
    >>> parts, owner = polygon_parts([gc, shapely.box(0, 0, 2, 2)])
    >>> [p.area for p in parts], owner.tolist()
    ([4.0, 1.0, 1.0], [1, 0, 0])
    """
    import shapely

    geoms = np.asarray(values, dtype=object).ravel()
    owner = np.arange(len(geoms))
    present = ~shapely.is_missing(geoms)
    geoms, owner = geoms[present], owner[present]
    while True:
        types = shapely.get_type_id(geoms)
        multi = types >= 4  # Multi* and GeometryCollection
        if not multi.any():
            break
        parts, idx = shapely.get_parts(geoms[multi], return_index=True)
        geoms = np.concatenate([geoms[~multi], np.asarray(parts, dtype=object)])
        owner = np.concatenate([owner[~multi], owner[multi][idx]])
    keep = (types == 3) & ~shapely.is_empty(geoms)
    return geoms[keep], owner[keep]


def polygonal(values: ArrayLike) -> np.ndarray:
    """Each geometry reduced to its polygonal part: a Polygon, a MultiPolygon, or an empty Polygon.

    Missing geometries stay missing (None). See :func:`polygon_parts`.

    Examples
    --------
    >>> import shapely
    >>> gc = shapely.GeometryCollection([shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(2, 0, 3, 1)])])
    >>> [g.geom_type for g in polygonal([gc, shapely.LineString([(0, 0), (1, 1)]), shapely.box(0, 0, 1, 1)])]
    ['MultiPolygon', 'Polygon', 'Polygon']
    """
    import shapely

    geoms = np.asarray(values, dtype=object).ravel()
    out = np.empty(len(geoms), dtype=object)
    out[:] = [None if g is None else shapely.Polygon() for g in geoms]
    simple = shapely.get_type_id(geoms) == 3
    out[simple] = geoms[simple]
    rest = np.flatnonzero(~simple & ~shapely.is_missing(geoms))
    if len(rest):
        parts, owner = polygon_parts(geoms[rest])
        if len(parts):
            order = np.argsort(owner, kind="stable")
            idx, rank = np.unique(owner[order], return_inverse=True)  # contiguous indices for multipolygons
            multi = np.atleast_1d(np.asarray(shapely.multipolygons(parts[order], indices=rank), dtype=object))
            one = shapely.get_num_geometries(multi) == 1
            multi[one] = shapely.get_geometry(multi[one], 0)
            out[rest[idx]] = multi
    return out


def equal_area_crs(lon0: float, lat0: float) -> str:
    """Return a PROJ string of an ellipsoidal Lambert azimuthal equal-area CRS centred on (lon0, lat0)."""
    return f"+proj=laea +lat_0={lat0:.6f} +lon_0={lon0:.6f} +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs"


def area_km2(data: gpd.GeoDataFrame | gpd.GeoSeries, *, crs: Any = None) -> pd.Series:
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
    import geopandas as gpd
    import pandas as pd
    import shapely

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
    parts, owner = polygon_parts(values[present])  # every polygon, also inside nested collections
    parts = shapely.orient_polygons(parts)
    areas = np.zeros(int(present.sum()))
    if len(parts):
        density = AreaDensity.fit(geo.crs, shapely.total_bounds(parts))
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
