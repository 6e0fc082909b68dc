"""Geometry for display: simplified, longitude/latitude, rounded; GeoJSON features; located rows; areas."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.errors import GEOSException

from .. import crs
from .._errors import BazhongGeoError, MissingCRSError
from ..settings import WORK_CRS

__all__ = ["areas_km2", "features", "located_mask", "prepare_geometries"]

_LINEAL_OR_POLYGONAL = [1, 2, 3, 5, 6]  # shapely type ids: LineString, LinearRing, Polygon, Multi...
_POLYGONAL = [3, 6]


def prepare_geometries(gdf: gpd.GeoDataFrame, *, tolerance_m: float = 30.0, precision: int = 5,
                       coords: str = "wgs84") -> gpd.GeoDataFrame:
    """Return a display copy of ``gdf``: simplified, in longitude/latitude, coordinates rounded.

    Polygons and lines are simplified in the work CRS (EPSG:4545) with ``tolerance_m`` metres: a
    polygon coverage (no overlaps, e.g. counties or catchments) by ``shapely.coverage_simplify`` so
    shared edges stay shared, anything else by topology-preserving Douglas–Peucker. No feature is
    dropped: a geometry that would collapse keeps its unsimplified shape. Coordinates are rounded to
    ``precision`` decimals (5 ≈ 1 m). With ``coords="gcj02"`` the result is shifted to GCJ-02 (for
    Amap/Gaode tiles).

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Layer with a CRS.
    tolerance_m : float, default 30
        Simplification tolerance in metres; 0 disables it.
    precision : int, default 5
        Decimals kept in longitude/latitude.
    coords : {"wgs84", "gcj02"}
        Coordinate system of the basemap the layer is drawn on.

    Returns
    -------
    geopandas.GeoDataFrame
        Same rows, same order, EPSG:4326 (GCJ-02 values if asked).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> g = gpd.GeoDataFrame(geometry=[Point(106.7476123, 31.8672345)], crs=4326)
    >>> prepare_geometries(g).geometry.iloc[0].wkt
    'POINT (106.74761 31.86723)'
    """
    if gdf.crs is None:
        raise MissingCRSError("the layer given to the map has no CRS; set it with gdf.set_crs(...) "
                              "(EPSG:4545 for the work CRS, EPSG:4326 for longitude/latitude)")
    if coords not in ("wgs84", "gcj02"):
        raise BazhongGeoError(f"coords={coords!r}: maps are drawn in 'wgs84' or 'gcj02'")
    out = _simplified(gdf.copy(), tolerance_m) if tolerance_m else gdf.copy()
    out = out.to_crs(4326)
    if coords == "gcj02":
        out = crs.convert(out, src="wgs84", dst="gcj02")
    return _rounded(out, precision)


def _simplified(out: gpd.GeoDataFrame, tolerance_m: float) -> gpd.GeoDataFrame:
    """Lines and polygons simplified in the work CRS (a polygon coverage stays a coverage); nothing collapses."""
    geoms = np.asarray(out.geometry.values, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    idx = np.flatnonzero(present & np.isin(shapely.get_type_id(geoms), _LINEAL_OR_POLYGONAL))
    if len(idx) == 0:
        return out
    work = out.to_crs(WORK_CRS) if str(out.crs).upper() != WORK_CRS else out
    wg = np.asarray(work.geometry.values, dtype=object).copy()
    sub = wg[idx]
    simplified = np.empty(len(sub), dtype=object)
    if np.isin(shapely.get_type_id(sub), _POLYGONAL).all() and len(sub) > 1 and _is_coverage(sub):
        simplified[:] = shapely.coverage_simplify(sub, tolerance_m)
    else:
        simplified[:] = shapely.simplify(sub, tolerance_m, preserve_topology=True)
    bad = shapely.is_empty(simplified) | ~shapely.is_valid(simplified)
    simplified[bad] = sub[bad]
    wg[idx] = simplified
    return out.set_geometry(gpd.GeoSeries(wg, index=out.index, crs=work.crs))


def _rounded(out: gpd.GeoDataFrame, precision: int) -> gpd.GeoDataFrame:
    """Coordinates rounded to ``precision`` decimals; a feature that would collapse keeps full precision."""
    factor = 10.0 ** precision
    g = np.asarray(out.geometry.values, dtype=object)
    rounded = shapely.transform(g, lambda c: np.rint(c * factor) / factor)
    broke = (~shapely.is_missing(g)) & (shapely.is_valid(g) & ~shapely.is_empty(g)) & (
        shapely.is_empty(rounded) | ~shapely.is_valid(rounded))
    rounded[broke] = g[broke]
    return out.set_geometry(gpd.GeoSeries(rounded, index=out.index, crs=out.crs))


def _is_coverage(geoms: np.ndarray) -> bool:
    """True when the polygons form a valid coverage (False when GEOS cannot tell)."""
    try:
        return bool(shapely.coverage_is_valid(geoms))
    except (GEOSException, AttributeError):  # GEOS without coverage support or a geometry it rejects
        return False


def features(gdf: gpd.GeoDataFrame, props: list[dict]) -> dict:
    """Return a GeoJSON FeatureCollection from a prepared frame and one property dict per row.

    Rows without geometry are skipped.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        From :func:`prepare_geometries`.
    props : list of dict
        Properties, in row order.

    Returns
    -------
    dict

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> g = gpd.GeoDataFrame(geometry=[Point(106.75, 31.86), None], crs=4326)
    >>> fc = features(g, [{"_k": "a"}, {"_k": "b"}])
    >>> [f["properties"]["_k"] for f in fc["features"]], fc["features"][0]["geometry"]["coordinates"]
    (['a'], (106.75, 31.86))
    """
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    feats = [{"type": "Feature", "geometry": shapely.geometry.mapping(geom), "properties": p}
             for geom, p in zip(geoms, props, strict=False) if geom is not None and not shapely.is_empty(geom)]
    return {"type": "FeatureCollection", "features": feats}


def located_mask(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """Return a boolean array: True where the row has a non-empty geometry.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame

    Returns
    -------
    numpy.ndarray of bool

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> located_mask(gpd.GeoDataFrame(geometry=[Point(0, 0), None], crs=4326)).tolist()
    [True, False]
    """
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    return ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))


def areas_km2(gdf: gpd.GeoDataFrame, column: str) -> np.ndarray:
    """Return areas in km²: the layer's ``column`` when it has one, else true areas (:func:`bazhong_geo.crs.area_km2`).

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
    column : str
        Column holding areas already computed (e.g. ``area_km2``).

    Returns
    -------
    numpy.ndarray of float

    Examples
    --------
    >>> from shapely.geometry import box
    >>> areas_km2(gpd.GeoDataFrame({"area_km2": [2.5]}, geometry=[box(0, 0, 1, 1)], crs=4545), "area_km2").tolist()
    [2.5]
    """
    if column in gdf.columns:
        return pd.to_numeric(gdf[column], errors="coerce").to_numpy(dtype=float)
    return np.asarray(crs.area_km2(gdf), dtype=float)
