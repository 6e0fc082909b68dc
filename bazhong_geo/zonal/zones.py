"""Zones on a raster grid: exact coverage fractions and true areas, computed once, reused on every raster of the grid.

:func:`zone_coverage` reprojects the zones to the raster's CRS (edges densified to about one vertex per cell),
computes the exact coverage of every cell (:mod:`.coverage`) and weights it by the cell's true area
(:mod:`.areas`); the resulting :class:`ZoneCoverage` then aggregates any raster on that grid (:mod:`.accumulate`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from .._errors import (
    BazhongGeoError,
    EmptyInputError,
    GridMismatchError,
    MissingColumnError,
    MissingCRSError,
    ZoneGeometryError,
)
from ..geodesy import polygonal
from .areas import CellArea, area_km2
from .coverage import Coverage, compute_coverage
from .raster import open_raster

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd

__all__ = [
    "GEOMETRY_NAMES",
    "ZoneCoverage",
    "clipped_to_grid",
    "densify_length",
    "in_raster_crs",
    "polygon_zones",
    "repair_zones",
    "zone_coverage",
    "zones_frame",
]


def zones_frame(zones: gpd.GeoDataFrame | gpd.GeoSeries, id_col: str) -> gpd.GeoDataFrame:
    """``zones`` as a GeoDataFrame with an ``id_col`` column and a CRS (a GeoSeries gets its index as ids)."""
    import geopandas as gpd

    if isinstance(zones, gpd.GeoSeries):
        zones = gpd.GeoDataFrame({id_col: [str(i) for i in zones.index]}, geometry=zones, crs=zones.crs)
    if len(zones) == 0:
        raise EmptyInputError("zones has no rows; pass at least one polygon")
    if id_col not in zones.columns:
        raise MissingColumnError(f"zones has no {id_col!r} column (columns: {list(zones.columns)}); pass id_col=...")
    if zones.crs is None:
        raise MissingCRSError("zones has no CRS; set it with zones.set_crs(...) (e.g. 'EPSG:4545')")
    return zones


GEOMETRY_NAMES = {0: "Point", 1: "LineString", 2: "LinearRing", 3: "Polygon", 4: "MultiPoint", 5: "MultiLineString",
                  6: "MultiPolygon", 7: "GeometryCollection"}
"""shapely geometry type ids and their names (for messages)."""


def polygon_zones(geoms: np.ndarray, codes: np.ndarray, what: str = "zones") -> np.ndarray:
    """Zone geometries reduced to their polygons (all of them, also inside nested collections).

    A zone with lines or points only has no area: :class:`ZoneGeometryError` names those zones by code;
    lines and points inside a collection that also holds polygons are left out (they cover no cell).

    Examples
    --------
    >>> import shapely
    >>> line = shapely.LineString([(0, 0), (1, 1)])
    >>> polygon_zones(np.array([line], dtype=object), np.array(["R1"]))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    bazhong_geo._errors.ZoneGeometryError: zones R1 (LineString) have no area: ... buffer the lines first ...
    """
    geoms = np.asarray(geoms, dtype=object)
    blank = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    out = polygonal(geoms)
    flat = ~blank & shapely.is_empty(out)
    if flat.any():
        kinds = sorted(set(shapely.get_type_id(geoms[flat]).tolist()))
        names = ", ".join(GEOMETRY_NAMES.get(k, str(k)) for k in kinds)
        listing = ", ".join(codes[flat][:20].tolist()) + (" ..." if flat.sum() > 20 else "")
        raise ZoneGeometryError(
            f"{what} {listing} ({names}) have no area: areas, shares and people per zone need polygons; buffer "
            f"the lines first (e.g. zones.buffer(50)), or use bazhong_geo.zonal.zonal_stats, which weights the "
            f"cells along a line by the length inside them")
    return out


def densify_length(zcrs: Any, rcrs: Any, transform: Any) -> float:
    """Edge length (zone CRS units) giving a vertex about every raster cell in the raster CRS."""
    px = float(np.sqrt(abs(transform.a * transform.e - transform.b * transform.d)))
    px_m = px * 111_320.0 if rcrs.is_geographic else px
    px_m = max(px_m, 1.0)
    return px_m / 111_320.0 if zcrs.is_geographic else px_m


@dataclass
class ZoneCoverage:
    """Exact coverage of a raster grid by zones, reusable for every raster on that grid (e.g. yearly layers).

    Attributes
    ----------
    codes : numpy.ndarray of str
        Zone ids in input order.
    zone_km2 : numpy.ndarray
        True (ellipsoidal) area of each zone polygon, km²: Σ coverage × true cell area for zones lying
        wholly on the raster grid, :func:`bazhong_geo.crs.area_km2` for the others.
    covered_km2 : numpy.ndarray
        Area of each zone that lies on the raster grid (km²).
    crs, transform, shape
        The raster grid the coverage belongs to.
    cell_area_kind : str
        "geographic", "equal_area" or "projected" (how true cell areas are computed).
    report : dict
        ``outside_codes``: zones not on the raster at all; ``repaired_codes``: invalid geometries repaired.
    coverage : Coverage
        The sparse coverage (boundary cells and interior runs); its boundary fractions are replaced by
        ``cell_m2``.
    cell_m2 : numpy.ndarray
        m² of each boundary cell inside its zone (coverage fraction × true cell area).
    cell_area : CellArea
        True cell areas of the grid.
    """

    codes: np.ndarray
    zone_km2: np.ndarray
    covered_km2: np.ndarray
    crs: object
    transform: object
    shape: tuple
    cell_area_kind: str
    report: dict = field(default_factory=dict)
    coverage: Coverage = field(default=None, repr=False)
    cell_m2: np.ndarray = field(default=None, repr=False)
    cell_area: CellArea = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.codes)

    def check_grid(self, ds: Any, crs: Any, name: str = "") -> None:
        """Raise GridMismatchError when ``ds`` is not on this coverage's grid."""
        if (ds.height, ds.width) != tuple(self.shape) or not ds.transform.almost_equals(self.transform) \
                or not crs.equals(self.crs):
            raise GridMismatchError(
                f"raster {name} is on another grid (shape {(ds.height, ds.width)}, "
                f"transform {tuple(ds.transform)[:6]}, "
                f"crs {crs.to_string()}) than the zone coverage (shape {tuple(self.shape)}, transform "
                f"{tuple(self.transform)[:6]}, crs {self.crs.to_string()}); build a coverage for that grid with "
                f"zone_coverage(raster, zones)")


def zone_coverage(raster: Any, zones: gpd.GeoDataFrame | gpd.GeoSeries, *, id_col: str = "code",
                  raster_crs: Any = None) -> ZoneCoverage:
    """Compute the exact coverage of a raster grid by zones, once, for reuse over several rasters.

    Parameters
    ----------
    raster : str, path, rasterio dataset, (array, transform, crs), or dict
        A raster on the grid, or a profile-like dict with ``crs``, ``transform``, ``height``, ``width``.
    zones : geopandas.GeoDataFrame
        Polygons in any CRS; reprojected internally (edges densified to about one vertex per cell).
    id_col : str
        Column holding the zone id.
    raster_crs : optional
        CRS to assume when the raster has none.

    Returns
    -------
    ZoneCoverage

    Examples
    --------
    >>> cov = zone_coverage("built_2020.tif", counties)                     # doctest: +SKIP
    >>> area_by_zone("built_2025.tif", counties, classes=[1], coverage=cov)  # doctest: +SKIP
    """
    zones = zones_frame(zones, id_col)
    rcrs, transform, shape = _grid_of(raster, raster_crs)
    codes = zones[id_col].astype(str).to_numpy()
    geoms, report = repair_zones(zones.geometry.to_numpy(), codes)
    geoms = polygon_zones(geoms, codes)
    gs0 = zones.geometry.__class__(geoms, crs=zones.crs)
    garr = in_raster_crs(gs0, codes, rcrs, transform)
    gbounds = shapely.bounds(garr)  # of the whole zones, before any clipping
    cov = compute_coverage(clipped_to_grid(garr, gbounds, transform, shape), transform, shape)
    area = CellArea(rcrs, transform, shape)
    cell_wa = area.at(cov.cell_row, cov.cell_col)
    cell_wa *= cov.cell_frac  # m² of the cell inside the zone
    cov.cell_frac = None  # = cell_wa / cell area, recomputed where needed
    covered = _covered_km2(cov, cell_wa, area, len(codes))
    blank = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    report["outside_codes"] = sorted(codes[(covered <= 0) & ~blank].tolist())
    report["empty_codes"] = sorted(codes[blank].tolist())
    if blank.any():
        warnings.warn(f"{int(blank.sum())} zone(s) have no geometry (builtup_km2 and zone_km2 0): "
                      f"{', '.join(report['empty_codes'][:20])}", stacklevel=2)
    # zone area: for zones wholly on the raster, Σ coverage × true cell area is the polygon's ellipsoidal
    # area (edges straight in the raster CRS, as the raster sees them); others get area_km2
    zone_km2 = covered.copy()
    off = ~_wholly_on_grid(gbounds, transform, shape) & ~blank
    if off.any():
        zone_km2[off] = area_km2(gs0[off]).to_numpy(dtype=np.float64)
    zone_km2[blank] = 0.0
    return ZoneCoverage(codes=codes, zone_km2=zone_km2, covered_km2=covered, crs=rcrs, transform=transform,
                        shape=shape, cell_area_kind=area.kind, report=report, coverage=cov, cell_m2=cell_wa,
                        cell_area=area)


def _grid_of(raster, raster_crs):
    """(CRS, transform, shape) of a raster, an array triple or a profile-like dict."""
    from pyproj import CRS

    if isinstance(raster, dict):
        if raster.get("crs") is None and raster_crs is None:
            raise MissingCRSError("the raster profile has no 'crs'; pass raster_crs=...")
        rcrs = CRS.from_user_input(raster_crs if raster_crs is not None else raster["crs"])
        return rcrs, raster["transform"], (int(raster["height"]), int(raster["width"]))
    with open_raster(raster, crs=raster_crs, north_up=False) as r:
        return r.crs, r.transform, r.shape


def repair_zones(geoms: np.ndarray, codes: np.ndarray, *, stacklevel: int = 3) -> tuple[np.ndarray, dict]:
    """Zone geometries with the invalid ones (bow-ties, self-intersections) repaired, and a report naming them.

    Repaired by ``make_valid`` (method "structure": a bow-tie becomes its two triangles) and warned about;
    an invalid zone is never used as is (its coverage would silently under-count).

    Returns
    -------
    (geometries, report)
        ``report``: ``outside_codes`` (empty here, filled by the caller) and ``repaired_codes``.

    Examples
    --------
    >>> import shapely, warnings
    >>> bow = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     fixed, rep = repair_zones(np.array([bow], dtype=object), np.array(["Z1"]))
    >>> fixed[0].area, rep["repaired_codes"]
    (2.0, ['Z1'])
    """
    bad = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
    report = {"outside_codes": [], "repaired_codes": sorted(codes[bad].tolist())}
    if bad.any():
        geoms = geoms.copy()
        geoms[bad] = shapely.make_valid(geoms[bad], method="structure", keep_collapsed=False)
        warnings.warn(f"repaired {int(bad.sum())} invalid zone geometries with make_valid: "
                      f"{', '.join(report['repaired_codes'][:20])}", stacklevel=stacklevel)
    return geoms, report


def in_raster_crs(gs: gpd.GeoSeries, codes: np.ndarray, rcrs: Any, transform: Any) -> np.ndarray:
    """Zone geometries in the raster's CRS (edges densified to about a vertex per cell); unprojectable is an error."""
    from pyproj import CRS

    zcrs = CRS.from_user_input(gs.crs)
    if not zcrs.equals(rcrs):
        gs = gs.segmentize(densify_length(zcrs, rcrs, transform)).to_crs(rcrs)
    garr = gs.to_numpy()
    finite = np.isfinite(shapely.bounds(garr)).all(axis=1) | shapely.is_empty(garr) | shapely.is_missing(garr)
    if not finite.all():
        raise BazhongGeoError(
            f"{int((~finite).sum())} zone(s) cannot be projected to the raster CRS {rcrs.to_string()} (coordinates "
            f"outside its domain, or longitude/latitude swapped): {', '.join(codes[~finite][:20])}; check the "
            f"zones' CRS ({zcrs.to_string()})")
    return garr


def clipped_to_grid(garr: np.ndarray, gbounds: np.ndarray, transform: Any, shape: tuple[int, int]) -> np.ndarray:
    """Zones reaching beyond the grid clipped to its bounds plus 2 cells (no covered cell changes)."""
    if transform.b != 0 or transform.d != 0:
        return garr
    # the clip edges lie off the grid, so this only bounds the work for large zones
    xa, xb = sorted((transform.c - 2 * transform.a, transform.c + (shape[1] + 2) * transform.a))
    ya, yb = sorted((transform.f - 2 * transform.e, transform.f + (shape[0] + 2) * transform.e))
    big = (gbounds[:, 0] < xa) | (gbounds[:, 2] > xb) | (gbounds[:, 1] < ya) | (gbounds[:, 3] > yb)
    if big.any():
        garr = garr.copy()
        garr[big] = shapely.clip_by_rect(garr[big], xa, ya, xb, yb)
    return garr


def _covered_km2(cov, cell_wa, area, n):
    """km² of each zone on the grid: boundary cells' m² plus runs × true cell area."""
    covered = np.bincount(cov.cell_zone, cell_wa, minlength=n).astype(np.float64)
    # runs: the mean cell area of a run is the area at its middle (the area is linear along a row to
    # < 3e-7); the aggregation cuts long runs where the area varies (see accumulate.AreaSums.add)
    for i in range(0, len(cov.run_row), 1_000_000):
        sl = slice(i, i + 1_000_000)
        c0, c1 = cov.run_c0[sl], cov.run_c1[sl]
        a = area.at(cov.run_row[sl], (c0 + c1 - 1) // 2)  # half a cell off the middle at most: < 1e-7
        covered += np.bincount(cov.run_zone[sl], a * cov.run_w[sl] * (c1 - c0), minlength=n)
    return covered / 1e6


def _wholly_on_grid(gbounds, transform, shape):
    """Zones whose bounding box lies on the grid."""
    minx, miny, maxx, maxy = gbounds.T
    inv = ~transform
    on = np.ones(len(gbounds), dtype=bool)
    for x, y in ((minx, miny), (minx, maxy), (maxx, miny), (maxx, maxy)):
        c, r = inv.a * x + inv.b * y + inv.c, inv.d * x + inv.e * y + inv.f
        on &= (c >= 0) & (c <= shape[1]) & (r >= 0) & (r <= shape[0])
    return on
