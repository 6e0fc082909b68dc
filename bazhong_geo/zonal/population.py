"""People within polygons: the one answer, whatever form the population comes in.

:func:`population_within` counts the people inside each zone (a catchment, a town's reach, a county):

* **points** with a population column (a register of settlements, building points): each point counts in
  every zone that contains it; a point on an edge shared by zones counts once, in the first of them;
* **polygons** with a population column (census units, villages): areal weighting — each polygon's people
  are spread evenly over its area, and a zone gets the share of each polygon's area it covers;
* a **raster** of people per cell (WorldPop, GHS-POP, LandScan): the coverage-weighted sum of the cells
  (exact coverage fractions, :mod:`.coverage`), in the raster's CRS.

Rows without coordinates are in no zone: warned about and counted in the report, never dropped silently.
"""

from __future__ import annotations

import os
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from .._errors import (
    InvalidPopulationError,
    MissingColumnError,
    MissingCRSError,
    RasterValueWarning,
    UnsupportedFormatError,
)
from .._validate import located
from .accumulate import ZoneStats
from .coverage import compute_coverage
from .raster import open_raster
from .strips import fill_warning, fills_found, strips, valid_mask
from .zones import densify_length, polygon_zones, repair_zones

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    import pandas as pd

__all__ = ["population_within", "zone_labels"]


def zone_labels(zones: gpd.GeoDataFrame | gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray]:
    """(codes, labels) of zones: ``code`` (else the index) for reports, "code name" for messages."""
    if hasattr(zones, "columns") and "code" in zones.columns:
        codes = zones["code"].astype(str)
        labels = codes + " " + zones["name"].astype(str) if "name" in zones.columns else codes
        return codes.to_numpy(dtype=object), labels.to_numpy(dtype=object)
    codes = np.array([str(i) for i in zones.index], dtype=object)
    return codes, codes


def population_within(zones: gpd.GeoDataFrame | gpd.GeoSeries, population: Any, *, column: str = "population",
                      raster_crs: Any = None, band: int = 1) -> pd.Series:
    """People inside each zone, from points, polygons or a raster of people per cell.

    Parameters
    ----------
    zones : geopandas.GeoDataFrame or GeoSeries
        Polygons (catchments, reach areas, units) with a CRS; they may overlap.
    population : GeoDataFrame, SettlementSystem, raster path, rasterio dataset or (array, transform, crs)
        *Points* with ``column`` (a GeoDataFrame, or a register as a SettlementSystem): counted by
        containment. *Polygons* with ``column``: split by the share of their area inside each zone.
        *Raster* of people per cell: summed with exact coverage fractions (nodata cells count 0).
        Vector layers are reprojected to the zones' CRS; zones are reprojected to a raster's CRS.
        Invalid zones (bow-ties) are repaired with ``make_valid`` and warned about; zones without geometry
        get 0 people and are warned about; line or point zones are a :class:`ZoneGeometryError`.
    column : str
        Population column of a vector layer.
    raster_crs : optional
        CRS of a population raster that has none (otherwise such a raster is an error).
    band : int
        Raster band to read.

    Returns
    -------
    pandas.Series
        People per zone (float), indexed like ``zones``, named ``column``. ``attrs["report"]``:
        ``population_total`` (all people of the input), ``population_outside`` (located people, or people in
        valid raster cells, in no zone), ``method`` ("points", "areal_weighting", "points+areal_weighting" or
        "raster") and, when some rows have no
        coordinates, ``population_unlocated`` and ``population_unlocated_rows`` (codes, else positions);
        ``repaired_codes``, ``empty_codes``, and for rasters ``no_valid_codes``, ``nodata_everywhere`` and
        ``fill_values_as_nodata`` when they apply (each also warned about).

    Raises
    ------
    MissingColumnError, InvalidPopulationError
        No ``column``; missing or negative values; polygons of zero area.
    MissingCRSError
        Zones or population without a CRS (and, for a raster, no ``raster_crs``).
    RasterNotFoundError
        A raster path that does not exist or is not a raster.
    ZoneGeometryError
        Zones that are lines or points (no area).
    UnsupportedFormatError
        A layer with lines or geometry collections (a layer mixing points and polygons is counted part by
        part: points by containment, polygons by areal weighting).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> zones = gpd.GeoSeries([shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)], crs=4545)
    >>> pts = gpd.GeoDataFrame({"population": [5.0, 7.0, 9.0]}, crs=4545,
    ...     geometry=[shapely.Point(5, 5), shapely.Point(10, 5), shapely.Point(50, 5)])
    >>> population_within(zones, pts).tolist()            # the point on the shared edge counts once
    [12.0, 0.0]
    >>> units = gpd.GeoDataFrame({"population": [100.0]}, crs=4545, geometry=[shapely.box(5, 0, 15, 10)])
    >>> population_within(zones, units).tolist()          # areal weighting: half of the unit in each zone
    [50.0, 50.0]
    """
    import geopandas as gpd

    geo = zones.geometry if isinstance(zones, gpd.GeoDataFrame) else zones
    if geo.crs is None:
        raise MissingCRSError("zones have no CRS; set it with zones.set_crs(...) (e.g. 'EPSG:4545')")
    codes, labels = zone_labels(zones)
    geo, zone_report = _usable_zones(geo, codes, labels)
    if _is_raster(population):
        values, report = _from_raster(geo, population, raster_crs, band, codes, labels)
    elif hasattr(population, "geometry") or hasattr(population, "settlements"):
        values, report = _from_vector(geo, population, column)
    else:
        raise UnsupportedFormatError(
            "population must be a raster (path, open dataset or (array, transform, crs)), a GeoDataFrame of "
            "points/polygons with a population column, or a SettlementSystem (register)")
    import pandas as pd

    out = pd.Series(values, index=geo.index, name=column, dtype="float64")
    out.attrs["report"] = {**report, **zone_report}
    return out


def _usable_zones(geo, codes, labels):
    """Zones repaired (make_valid, warned), reduced to polygons; zones without geometry warned (0 people)."""
    import shapely

    garr, report = repair_zones(geo.to_numpy(), codes, stacklevel=4)
    del report["outside_codes"]
    if not report["repaired_codes"]:
        del report["repaired_codes"]
    blank = shapely.is_missing(garr) | shapely.is_empty(garr)
    if blank.any():
        report["empty_codes"] = codes[blank].tolist()
        listing = ", ".join(labels[blank][:20].tolist()) + (" ..." if blank.sum() > 20 else "")
        warnings.warn(f"{int(blank.sum())} zone(s) have no geometry (missing or empty): 0 people for {listing} "
                      f"(report['empty_codes'])", stacklevel=4)
    garr = polygon_zones(garr, labels)
    garr[blank] = shapely.Polygon()
    return geo.__class__(garr, index=geo.index, crs=geo.crs), report


def _is_raster(obj) -> bool:
    if isinstance(obj, (str, bytes, os.PathLike)):
        return True
    if hasattr(obj, "read") and hasattr(obj, "transform"):
        return True
    return isinstance(obj, (tuple, list)) and len(obj) == 3 and hasattr(obj[0], "shape")


# ------------------------------------------------------------------------------------ raster

def _from_raster(geo, population, raster_crs, band, codes, labels):
    """Coverage-weighted sums of people per cell, streamed in strips; warns when zones get no valid cell."""
    import shapely
    from pyproj import CRS
    from rasterio.windows import Window

    if isinstance(population, bytes):
        population = population.decode()
    with open_raster(population, crs=raster_crs, what="population raster", north_up=False) as r:
        gs = geo
        if not CRS.from_user_input(geo.crs).equals(r.crs):
            gs = geo.segmentize(densify_length(CRS.from_user_input(geo.crs), r.crs, r.transform)).to_crs(r.crs)
        garr = np.asarray(gs.values, dtype=object)
        present = ~(shapely.is_missing(garr) | shapely.is_empty(garr))
        garr = np.where(present, garr, shapely.Polygon())
        cov = compute_coverage(garr, r.transform, r.shape)
        stats = ZoneStats(cov, len(garr))
        # the union of the zones: the people in no zone (zones may overlap, so Σ zones is not the covered total)
        union = ZoneStats(compute_coverage([shapely.union_all(garr[present])], r.transform, r.shape), 1)
        total, valid_cells, fills = 0.0, 0, {}
        nodata = r.nodata(band)
        for r0, r1 in strips(r.dataset):
            raw = np.asarray(r.read(band, window=Window(0, r0, r.shape[1], r1 - r0)))
            valid = valid_mask(raw, nodata)
            for v, c in fills_found(raw, nodata).items():
                fills[v] = fills.get(v, 0) + c
            data = raw.astype(np.float64)
            ok = np.isfinite(data) if valid is None else valid & np.isfinite(data)
            total += float(data[ok].sum())
            valid_cells += int(ok.sum())
            stats.add(r0, data, ok)
            union.add(r0, data, ok)
        report = {"population_total": total, "population_outside": max(total - float(union.sum[0]), 0.0),
                  "method": "raster"}
        _warn_raster(report, r.name, fills, valid_cells, stats.count, present, codes, labels)
    return stats.sum, report


def _warn_raster(report, name, fills, valid_cells, counted, present, codes, labels):
    """Fill values read as nodata; a raster with no valid cell; zones without any valid cell (all in ``report``)."""
    name = name if name.startswith("population raster") else f"population raster {name}"
    if fills:
        report["fill_values_as_nodata"] = fills
        warnings.warn(fill_warning(name, fills), RasterValueWarning, stacklevel=5)
    if valid_cells == 0:
        report["nodata_everywhere"] = True
        warnings.warn(f"{name} has no valid cell (nodata everywhere): every zone gets 0 people; "
                      f"check the file and its nodata value", RasterValueWarning, stacklevel=5)
        return
    empty = present & (counted <= 0)
    if empty.any():
        report["no_valid_codes"] = codes[empty].tolist()
        listing = ", ".join(labels[empty][:20].tolist()) + (" ..." if empty.sum() > 20 else "")
        warnings.warn(f"{int(empty.sum())} zone(s) cover no valid cell of {name} (outside it, "
                      f"or only on nodata): 0 people for {listing}; check that raster and zones overlap "
                      f"(report['no_valid_codes'])", RasterValueWarning, stacklevel=5)


# ------------------------------------------------------------------------------------ vectors

def _vector_values(population, column):
    """(GeoDataFrame, values) of a vector population layer, checked."""
    import pandas as pd

    if hasattr(population, "settlements") and not hasattr(population, "geometry"):
        population = population.settlements  # a SettlementSystem: the register's points
    if column not in population.columns:
        raise MissingColumnError(f"population layer: no column {column!r} (columns: {list(population.columns)}); "
                                 f"pass column=...")
    if population.crs is None:
        raise MissingCRSError("population layer has no CRS; set it with .set_crs(...) (e.g. 'EPSG:4545')")
    vals = pd.to_numeric(population[column], errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(vals) | (vals < 0)
    if bad.any():
        raise InvalidPopulationError(
            f"population layer: {bad.sum()} row(s) with a missing or negative {column!r} "
            f"(rows {np.flatnonzero(bad)[:10].tolist()}); fill them or drop them explicitly")
    return population, vals


def _from_vector(geo, population, column):
    import pandas as pd
    import shapely

    population, vals = _vector_values(population, column)
    report = {"population_total": float(vals.sum())}
    if not population.crs.equals(geo.crs):
        population = population.to_crs(geo.crs)
    pg = np.asarray(population.geometry.values, dtype=object)
    ok = located(population)
    if not ok.all():
        ids = (population["code"] if "code" in population.columns
               else pd.Series(np.arange(len(population)))).to_numpy()[~ok]
        report["population_unlocated"] = float(vals[~ok].sum())
        report["population_unlocated_rows"] = ids.tolist()
        warnings.warn(
            f"{(~ok).sum()} population row(s) without coordinates ({report['population_unlocated']:g} people) "
            f"are in no zone: {ids[:10].tolist()}{' ...' if len(ids) > 10 else ''} "
            f"(report['population_unlocated_rows'])", stacklevel=3)
        pg, vals = pg[ok], vals[ok]
    zg = np.asarray(geo.values, dtype=object)
    types = shapely.get_type_id(pg)
    points, polygons = np.isin(types, (0, 4)), np.isin(types, (3, 6))
    if not (points | polygons).all():
        bad = np.flatnonzero(~(points | polygons))[:10].tolist()
        raise UnsupportedFormatError(f"population layer: rows {bad} are neither points nor polygons (lines or "
                                     f"collections); give people as points or polygons")
    acc, outside = np.zeros(len(zg)), 0.0
    if points.any():   # a layer may mix settlement points and unit polygons: each part by its own rule, added
        part, out = _points_within(zg, pg[points], vals[points])
        acc, outside = acc + part, outside + out
    if polygons.any():
        part, out = _areal_weighting(zg, pg[polygons], vals[polygons])
        acc, outside = acc + part, outside + out
    report["method"] = ("points+areal_weighting" if points.any() and polygons.any()
                        else "points" if points.any() else "areal_weighting")
    report["population_outside"] = outside
    return acc, report


def _points_within(zg, pg, vals):
    """People per zone from points by containment; a point only on zone edges counts once, in the first zone."""
    import pandas as pd
    import shapely

    acc = np.zeros(len(zg))
    inside = np.zeros(len(pg), dtype=bool)
    pi, ci = shapely.STRtree(zg).query(pg, predicate="intersects")
    if len(pi):
        interior = shapely.contains_properly(zg[ci], pg[pi])
        df = pd.DataFrame({"p": pi, "c": ci, "interior": interior}).sort_values(["p", "c"], kind="stable")
        has_int = df.groupby("p")["interior"].transform("any")
        df = df[df["interior"] | ~has_int]
        edge_only = df[~df["interior"]].drop_duplicates("p", keep="first")
        df = pd.concat([df[df["interior"]], edge_only])
        np.add.at(acc, df["c"].to_numpy(), vals[df["p"].to_numpy()])
        inside[df["p"].to_numpy()] = True
    return acc, float(vals[~inside].sum())


def _areal_weighting(zg, pg, vals):
    """People per zone from polygons, each spread evenly over its area; and the people outside every zone."""
    import shapely

    parea = shapely.area(pg)
    if (parea <= 0).any():
        raise InvalidPopulationError(
            f"population layer: {(parea <= 0).sum()} polygon(s) with zero area (rows "
            f"{np.flatnonzero(parea <= 0)[:10].tolist()}); use points for them")
    acc = np.zeros(len(zg))
    pi, ci = shapely.STRtree(zg).query(pg, predicate="intersects")
    if len(pi):
        inter = shapely.area(shapely.intersection(zg[ci], pg[pi]))
        np.add.at(acc, ci, vals[pi] * inter / parea[pi])
    cover = shapely.union_all(zg)
    covered = shapely.area(shapely.intersection(pg, cover)) if not cover.is_empty else np.zeros(len(pg))
    return acc, float((vals * np.clip(1.0 - covered / parea, 0.0, 1.0)).sum())
