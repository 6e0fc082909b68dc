"""Built-up area from rasters (exact coverage fractions, true km², streamed) and land-use vectors; built-up extents."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from ._errors import (
    EmptyInputError,
    InvalidBuiltupRuleError,
    MissingColumnError,
    MissingCRSError,
    RasterValueWarning,
)
from ._validate import located
from .crs import WORK_CRS, area_km2, to_work_crs
from .datasets import CENTRAL_CITY_COUNTIES  # 巴城 = 巴州区 + 恩阳区
from .datasets import PREFECTURE_CODE as CENTRAL_CITY_CODE
from .settlements import Tier
from .zonal.accumulate import AreaSums
from .zonal.areas import CellArea
from .zonal.raster import open_raster
from .zonal.strips import class_mask, fill_warning, fills_found, stream_summaries, strips, valid_mask, values_found
from .zonal.zones import ZoneCoverage, zone_coverage, zones_frame

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd
    import pandas as pd

__all__ = [
    "CENTRAL_CITY_CODE",
    "CENTRAL_CITY_COUNTIES",
    "ZoneCoverage",
    "area_by_zone",
    "area_by_zone_stack",
    "area_by_zone_vector",
    "central_city_builtup_km2",
    "extents",
    "settlement_builtup_km2",
    "zone_coverage",
]


# ------------------------------------------------------------------------------------ inputs

def _check_rule(classes, fraction):
    if (classes is None) == (fraction is None):
        raise InvalidBuiltupRuleError(
            "give exactly one built-up rule: classes=[...] (cells whose value is one of these codes, e.g. [50] for "
            "ESA WorldCover, [1] for a 0/1 mask) or fraction='share' (cell value = built-up share 0-1) or "
            "fraction='m2' (cell value = built-up m² per cell, GHSL GHS-BUILT-S)")
    if fraction is not None and fraction not in ("share", "m2"):
        raise InvalidBuiltupRuleError(f"fraction must be 'share' or 'm2', not {fraction!r}")
    if classes is not None:
        classes = np.atleast_1d(np.asarray(classes))
        if classes.size == 0:
            raise InvalidBuiltupRuleError("classes=[] selects nothing; list at least one class code")
    return classes


# ------------------------------------------------------------------------------------ public: rasters

def area_by_zone(  # noqa: PLR0913  (keyword options of the public call)
        raster: Any, zones: gpd.GeoDataFrame | None, *, classes: ArrayLike | None = None,
        fraction: str | None = None, id_col: str = "code", coverage: ZoneCoverage | None = None,
        raster_crs: Any = None, band: int = 1, progress: bool = False) -> pd.DataFrame:
    """Built-up km² per zone from a raster, with exact coverage fractions and true cell areas.

    Cells cut by a zone edge count by the fraction of the cell inside the zone (exactextract's
    coverage fractions, computed here by signed-area accumulation); each cell counts by its true
    ellipsoidal area, whatever the raster CRS (longitude/latitude, Mollweide, UTM, the work CRS). The
    raster is streamed in strips, so memory stays bounded whatever its size.

    Parameters
    ----------
    raster : str, path or rasterio dataset
        Single-band raster.
    zones : geopandas.GeoDataFrame
        Zone polygons in any CRS (reprojected internally, edges densified).
    classes : sequence of int, optional
        Cells whose value is one of these codes are built-up (ESA WorldCover ``[50]``, a 0/1 mask ``[1]``).
    fraction : {"share", "m2"}, optional
        Cell value is the built-up share 0-1 (``"share"``) or built-up m² per cell (``"m2"``, GHSL GHS-BUILT-S).
        Give exactly one of ``classes`` and ``fraction``.
    id_col : str
        Zone id column, returned as ``code``.
    coverage : ZoneCoverage, optional
        Precomputed :func:`zone_coverage` for this raster's grid (reused across years); ``zones`` is then
        not used and may be None.
    raster_crs : optional
        CRS to assume when the raster has none (otherwise a raster without CRS is an error).
    band : int
        Band to read.
    progress : bool
        Show a progress bar.

    Returns
    -------
    pandas.DataFrame
        One row per zone, input order: ``code``, ``builtup_km2``, ``zone_km2`` (true area of the zone
        polygon), ``share`` (= builtup_km2 / zone_km2), ``valid_share`` (share of the zone covered by
        valid raster cells: 0 outside the raster or under nodata). ``.attrs["report"]`` lists
        ``outside_codes`` (zones not reaching the raster: 0, never an error), ``empty_codes`` (no geometry,
        or empty after repair), ``no_valid_codes``, ``repaired_codes``, ``fill_values_as_nodata`` and
        ``classes_found`` (when the rule matched nothing); each non-empty item is also warned about.
        Zones that are GeometryCollections count by every polygon inside them.

    Notes
    -----
    Nodata: cells equal to the band's nodata value (and NaN in float rasters, always) are not valid; a
    separate mask band is not read. A raster declaring no nodata value has its typical fill values (-9999,
    -3.4e38, 65535 in uint16 ...; not the rule's own classes) read as nodata, reported
    (``fill_values_as_nodata``) and warned about (:class:`~bazhong_geo._errors.RasterValueWarning`).
    With ``fraction="m2"`` the value is read as built-up m² of the producer's cell
    (the plane cell for projected grids such as GHSL's Mollweide), i.e. as the share value / cell area,
    and counted by the cell's true area like ``"share"``. The raster is read in strips of whole tile rows
    by a background thread (≤ 96 MB ahead, 64 MB GDAL cache) while the zone coverage is computed.

    Raises
    ------
    MissingCRSError
        Raster or zones without CRS (and no ``raster_crs``).
    InvalidBuiltupRuleError
        Neither or both of ``classes`` and ``fraction``.
    GridMismatchError
        ``coverage`` built for another grid.
    ZoneGeometryError
        Zones that are lines or points (no area); their codes are named.
    UnsupportedGridError
        A rotated longitude/latitude raster (named).

    See Also
    --------
    bazhong_geo.zonal.zonal_stats : any statistic of the raster per zone; e.g. the population-weighted built-up
        share of a share raster is ``zonal_stats(share_raster, zones, ["weighted_mean"], weights=population)``.

    Examples
    --------
    >>> df = area_by_zone("worldcover_2021.tif", counties, classes=[50])   # doctest: +SKIP

    A 10 m mask, built-up (1) in its left half, and a 1 km square zone cut by the mask's edge:

    >>> import numpy as np, geopandas as gpd, rasterio
    >>> from rasterio.io import MemoryFile
    >>> from rasterio.transform import from_origin
    >>> from shapely.geometry import box
    >>> mask = np.zeros((200, 200), dtype="uint8"); mask[:, :100] = 1
    >>> profile = dict(driver="GTiff", width=200, height=200, count=1, dtype="uint8", crs="EPSG:4545",
    ...                transform=from_origin(500_000, 3_502_000, 10, 10))
    >>> with MemoryFile() as mem:
    ...     with mem.open(**profile) as ds:
    ...         ds.write(mask, 1)
    ...     zone = gpd.GeoDataFrame({"code": ["A"]}, geometry=[box(500_505, 3_500_500, 501_505, 3_501_500)],
    ...                             crs="EPSG:4545")
    ...     df = area_by_zone(mem.open(), zone, classes=[1])
    >>> round(float(df.builtup_km2[0]), 3), round(float(df.share[0]), 3)   # 495 m of the 1,000 m width
    (0.495, 0.495)
    """
    classes = _check_rule(classes, fraction)
    rule = _Rule(classes, fraction, id_col, raster_crs, band, progress)
    return _area_by_zone(raster, zones, rule, coverage)[0]


@dataclasses.dataclass(frozen=True)
class _Rule:
    """The built-up rule and reading options of one area_by_zone call."""

    classes: np.ndarray | None
    fraction: str | None
    id_col: str
    raster_crs: object
    band: int
    progress: bool


def _area_by_zone(raster, zones, rule, coverage):
    """area_by_zone returning (DataFrame, ZoneCoverage)."""
    classes, fraction, id_col, raster_crs, band, progress = (rule.classes, rule.fraction, rule.id_col,
                                                             rule.raster_crs, rule.band, rule.progress)
    with open_raster(raster, crs=raster_crs, north_up=False) as r:
        ds, name, rcrs = r.dataset, r.name, r.crs
        if coverage is not None:
            coverage.check_grid(ds, rcrs, name)
        grid = {"crs": rcrs, "transform": ds.transform, "height": ds.height, "width": ds.width}
        stream = stream_summaries(ds, classes, band, progress)  # starts reading while the coverage is computed
        try:
            zc = coverage if coverage is not None else zone_coverage(grid, zones, id_col=id_col)
            acc = AreaSums(zc, r.nodata(band), fraction)
            for st in stream:
                acc.add(st)
        finally:
            stream.close()
        return _result(zc, acc, ds, band, classes, fraction, name), zc


def _result(zc, acc, ds, band, classes, fraction, name):
    import pandas as pd

    builtup = acc.selected / 1e6
    valid_km2 = acc.valid / 1e6
    zone_km2 = zc.zone_km2
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(zone_km2 > 0, builtup / zone_km2, 0.0)
        vshare = np.where(zone_km2 > 0, valid_km2 / zone_km2, 0.0)
    # cell areas and the polygon's ellipsoidal area differ by round-off only: clip the overshoot
    vshare = np.clip(vshare, 0.0, 1.0)
    df = pd.DataFrame({"code": zc.codes, "builtup_km2": builtup, "zone_km2": zone_km2, "share": share,
                       "valid_share": vshare})
    report = {"raster": name, "outside_codes": list(zc.report.get("outside_codes", [])),
              "repaired_codes": list(zc.report.get("repaired_codes", [])),
              "empty_codes": list(zc.report.get("empty_codes", []))}
    outside = set(report["outside_codes"]) | set(report["empty_codes"])
    report["no_valid_codes"] = sorted(c for c, v in zip(zc.codes, valid_km2, strict=True)
                                      if v <= 0 and c not in outside)
    report["nodata_everywhere"] = acc.total_valid_cells == 0
    if report["outside_codes"]:
        warnings.warn(f"{len(report['outside_codes'])} zone(s) lie outside the raster {name}: builtup_km2 0, "
                      f"valid_share 0: "
                      f"{', '.join(report['outside_codes'][:20])}", stacklevel=4)
    if report["nodata_everywhere"]:
        warnings.warn(f"the raster {name} is nodata everywhere (nodata={acc.nodata}); every zone has valid_share 0",
                      stacklevel=4)
    elif report["no_valid_codes"]:
        warnings.warn(f"{len(report['no_valid_codes'])} zone(s) fall only on nodata cells of {name}: "
                      f"{', '.join(report['no_valid_codes'][:20])}", stacklevel=4)
    if acc.fills:
        report["fill_values_as_nodata"] = dict(acc.fills)
        warnings.warn(fill_warning(name, acc.fills), RasterValueWarning, stacklevel=4)
    if classes is not None and not report["nodata_everywhere"] and acc.selected.sum() == 0 and acc.valid.sum() > 0:
        found, more = values_found(ds, band)
        present = set(found) & set(classes.tolist())
        report["classes_found"] = found
        where = (f"in the zones (the raster has {sorted(present)} elsewhere)" if present
                 else f"of {name}; classes found in the raster: {found}{' ...' if more else ''}")
        warnings.warn(f"the built-up rule classes={classes.tolist()} matches no cell {where}", stacklevel=4)
    if fraction == "share" and np.isfinite(acc.max_value) and (acc.max_value > 1.0 + 1e-6 or acc.min_value < 0):
        report["share_out_of_range"] = [acc.min_value, acc.max_value]
        warnings.warn(f"fraction='share' expects cell values 0-1 but {name} has values in "
                      f"[{acc.min_value:g}, {acc.max_value:g}]; is it fraction='m2' or a percentage?", stacklevel=4)
    df.attrs["report"] = report
    return df


def area_by_zone_stack(  # noqa: PLR0913  (keyword options of the public call)
        rasters: Sequence[Any], zones: gpd.GeoDataFrame, *, classes: ArrayLike | None = None,
        fraction: str | None = None, id_col: str = "code", labels: Sequence | None = None, raster_crs: Any = None,
        band: int = 1, progress: bool = False) -> pd.DataFrame:
    """Built-up km² per zone for several rasters on one grid (e.g. yearly layers), computing coverage once.

    Parameters
    ----------
    rasters : sequence of paths or datasets
        Rasters on the same grid.
    zones, classes, fraction, id_col, raster_crs, band, progress
        As in :func:`area_by_zone`.
    labels : sequence, optional
        One label per raster (e.g. years) for the ``layer`` column; default 0, 1, 2, ...

    Returns
    -------
    pandas.DataFrame
        ``layer`` plus the columns of :func:`area_by_zone`, one row per (layer, zone); ``.attrs["reports"]``
        holds each layer's report.

    Examples
    --------
    >>> area_by_zone_stack([f"built_{y}.tif" for y in range(2020, 2025)], towns, classes=[1],
    ...                    labels=range(2020, 2025))                              # doctest: +SKIP
    """
    import pandas as pd

    rasters = list(rasters)
    if not rasters:
        raise EmptyInputError("rasters is empty; pass at least one raster")
    labels = list(range(len(rasters))) if labels is None else list(labels)
    if len(labels) != len(rasters):
        raise ValueError(f"{len(labels)} labels for {len(rasters)} rasters")
    from concurrent.futures import ThreadPoolExecutor

    classes = _check_rule(classes, fraction)
    # the first layer computes the zone coverage (while its raster is being read); the others reuse it,
    # two layers at a time (reading and decompressing release the GIL)
    rule = _Rule(classes, fraction, id_col, raster_crs, band, progress)
    first, zc = _area_by_zone(rasters[0], zones, rule, None)
    with ThreadPoolExecutor(2) as pool:
        rest = list(pool.map(lambda r: _area_by_zone(r, zones, rule, zc)[0], rasters[1:]))
    out, reports = [], {}
    for lab, df in zip(labels, [first, *rest], strict=False):
        reports[lab] = df.attrs.get("report")
        df.insert(0, "layer", lab)
        out.append(df)
    res = pd.concat(out, ignore_index=True)
    res.attrs["reports"] = reports
    return res


# ------------------------------------------------------------------------------------ public: vectors

def area_by_zone_vector(landuse: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, *, classes: Sequence,
                        class_col: str = "class_code", id_col: str = "code") -> pd.DataFrame:
    """Built-up km² per zone from land-use polygons, by exact overlay (true ellipsoidal km²).

    Parameters
    ----------
    landuse : geopandas.GeoDataFrame
        Land-use parcels (e.g. 第三次全国国土调查 parcels) in any CRS.
    zones : geopandas.GeoDataFrame
        Zone polygons in any CRS.
    classes : sequence
        Values of ``class_col`` that count as built-up, e.g. the construction-land codes
        ``["201", "202", "203"]`` (city, town, village). Compared as strings.
    class_col : str
        Land-use class column.
    id_col : str
        Zone id column, returned as ``code``.

    Returns
    -------
    pandas.DataFrame
        ``code``, ``builtup_km2``, ``zone_km2``, ``share``, ``valid_share`` (share of the zone covered by
        land-use parcels of any class), one row per zone in input order. Areas are ellipsoidal
        (:func:`bazhong_geo.crs.area_km2`). Overlapping built-up parcels are
        dissolved first so nothing is counted twice.

    Examples
    --------
    >>> area_by_zone_vector(parcels, towns, classes=["201", "202"], class_col="DLBM")   # doctest: +SKIP
    """
    import geopandas as gpd
    import pandas as pd
    import shapely


    zones = zones_frame(zones, id_col)
    if class_col not in landuse.columns:
        raise MissingColumnError(f"landuse has no {class_col!r} column (columns: {list(landuse.columns)}); "
                                 f"pass class_col=...")
    if landuse.crs is None:
        raise MissingCRSError("landuse has no CRS; set it with landuse.set_crs(...)")
    codes = zones[id_col].astype(str).to_numpy()

    def project(g):  # overlay in the work CRS; areas are ellipsoidal (crs.area_km2)
        if g.crs.equals(WORK_CRS):
            return g
        return g.segmentize(0.001 if g.crs.is_geographic else 100.0).to_crs(WORK_CRS)

    def km2(geoms):
        return area_km2(gpd.GeoSeries(geoms, crs=WORK_CRS)).fillna(0.0).to_numpy()

    zg = project(zones.geometry).make_valid().to_numpy()
    lu = project(landuse.geometry.make_valid()).to_numpy()
    cls = landuse[class_col].astype(str).to_numpy()
    wanted = {str(c) for c in np.atleast_1d(classes)}
    is_bu = np.isin(cls, list(wanted))
    if not is_bu.any():
        found = sorted(set(cls.tolist()))
        warnings.warn(f"the built-up rule classes={sorted(wanted)} matches no parcel; classes found in "
                      f"{class_col!r}: {found[:30]}", stacklevel=2)
    zone_km2 = km2(zg)
    # overlay: parcel pieces inside each zone (pairs from a spatial index), dissolved per zone so that
    # overlapping parcels count once
    zi, pi = shapely.STRtree(lu).query(zg, predicate="intersects")
    pieces = shapely.intersection(zg[zi], lu[pi])

    def dissolved_km2(mask):
        out = np.zeros(len(zg))
        if mask.any():
            g = gpd.GeoDataFrame({"z": zi[mask]}, geometry=pieces[mask], crs=WORK_CRS).dissolve("z")
            out[g.index.to_numpy()] = km2(g.geometry.to_numpy())
        return out

    bu_km2 = dissolved_km2(is_bu[pi])
    cov_km2 = dissolved_km2(np.ones(len(pi), dtype=bool))
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(zone_km2 > 0, bu_km2 / zone_km2, 0.0)
        vshare = np.clip(np.where(zone_km2 > 0, cov_km2 / zone_km2, 0.0), 0.0, 1.0)
    df = pd.DataFrame({"code": codes, "builtup_km2": bu_km2, "zone_km2": zone_km2, "share": share,
                       "valid_share": vshare})
    df.attrs["report"] = {"parcels": len(landuse), "builtup_parcels": int(is_bu.sum()),
                          "uncovered_codes": sorted(codes[cov_km2 <= 0].tolist())}
    return df


# ------------------------------------------------------------------------------------ extents

def _read_builtup(ds, band, classes, fraction, min_fraction, area):
    """Whole-raster built-up mask, the built-up share per cell (fraction rules) and the fills read as nodata.

    Read strip by strip.
    """
    from rasterio.windows import Window

    nodata = ds.nodatavals[band - 1]
    mask = np.zeros((ds.height, ds.width), dtype=bool)
    amount = None if classes is not None else np.zeros((ds.height, ds.width), dtype=np.float32)
    fills: dict = {}
    for r0, r1 in strips(ds):
        data = ds.read(band, window=Window(0, r0, ds.width, r1 - r0))
        valid = valid_mask(data, nodata, keep=classes)
        for v, c in fills_found(data, nodata, keep=classes).items():
            fills[v] = fills.get(v, 0) + c
        if classes is not None:
            m = class_mask(data, classes)
        else:
            v = data.astype(np.float32)
            if valid is not None:
                v[~valid] = 0
            v[np.isnan(v)] = 0
            if fraction == "m2":
                cell = area.row_area[r0:r1, None] if area.kind == "geographic" else _cell_plane_m2(ds)
                v = (v / cell).astype(np.float32)
            amount[r0:r1] = v
            m = v > min_fraction if min_fraction > 0 else v > 0
        if valid is not None:
            m &= valid
        mask[r0:r1] = m
    return mask, amount, fills


def _cell_plane_m2(ds):
    t = ds.transform
    return abs(t.a * t.e - t.b * t.d)


def _patch_sums(labels, n, area, amount):
    """(true footprint m², built-up m², cells) of every labelled patch (index 0 = background), 1,024 rows at a time."""
    foot = np.zeros(n + 1)
    built = np.zeros(n + 1)
    cells = np.zeros(n + 1, dtype=np.int64)
    shape = labels.shape
    for r0 in range(0, shape[0], 1024):
        lab = labels[r0:r0 + 1024]
        rows = np.arange(r0, r0 + lab.shape[0])
        if area.row_area is not None:
            a = np.broadcast_to(area.row_area[rows][:, None], lab.shape)
        else:
            rr, cc = np.meshgrid(rows, np.arange(shape[1]), indexing="ij")
            a = area.at(rr, cc)
        lf = lab.ravel()
        foot += np.bincount(lf, a.ravel(), minlength=n + 1)
        cells += np.bincount(lf, minlength=n + 1)
        if amount is not None:
            am = amount[r0:r0 + 1024].astype(np.float64)
            built += np.bincount(lf, (am * a).ravel(), minlength=n + 1)
    return foot, (foot.copy() if amount is None else built), cells


def _patch_polygons(labels, order, n, transform, connectivity):
    """One (Multi)Polygon per kept patch, in ``order``, traced from the label grid."""
    import shapely
    from rasterio import features

    remap = np.zeros(n + 1, dtype=np.int32)
    remap[order] = np.arange(1, len(order) + 1, dtype=np.int32)
    out_lab = remap[labels]
    geoms, vals = [], []
    for g, v in features.shapes(out_lab, mask=out_lab > 0, transform=transform, connectivity=connectivity):
        geoms.append(shapely.geometry.shape(g))
        vals.append(int(v))
    vals = np.asarray(vals, dtype=np.int64)
    geoms = np.asarray(geoms, dtype=object)
    idx = np.argsort(vals, kind="stable")
    polys = shapely.multipolygons(geoms[idx], indices=vals[idx] - 1) if len(idx) else np.zeros(0, dtype=object)
    polys = np.asarray(polys, dtype=object)
    if len(polys):
        single = shapely.get_num_geometries(polys) == 1
        polys[single] = shapely.get_geometry(polys[single], 0)
    return polys


def extents(  # noqa: PLR0913  (keyword options of the public call)
        raster: Any, *, classes: ArrayLike | None = None, fraction: str | None = None, min_fraction: float = 0.5,
        min_area_km2: float = 0.01, settlements: Any = None, max_distance_m: float = 2000.0, connectivity: int = 8,
        raster_crs: Any = None, band: int = 1) -> gpd.GeoDataFrame:
    """Built-up patches (connected components of built-up cells), vectorised, with their km² and settlement.

    Parameters
    ----------
    raster : str, path or rasterio dataset
        Built-up raster (read whole: meant for city- and county-scale rasters).
    classes, fraction
        Built-up rule as in :func:`area_by_zone`.
    min_fraction : float
        With ``fraction``: a cell belongs to a patch when its built-up share exceeds this
        (assumption: 0.5, a majority-built cell; 0 takes every cell with any built-up).
    min_area_km2 : float
        Patches with less built-up area are dropped (0.01 km² = 1 ha, about 100 cells of 10 m).
    settlements : GeoDataFrame or SettlementSystem, optional
        Settlement points (``code``, ``name``, optional ``tier``, ``population``); rows without a point are
        ignored. Each patch is joined to the settlement whose point it contains (highest tier, then
        largest population, then smallest code, when several), else to the nearest within
        ``max_distance_m``.
    max_distance_m : float
        Largest distance for the nearest join, metres.
    connectivity : {4, 8}
        Cell adjacency for patches (8: diagonal neighbours connect).
    raster_crs : optional
        CRS to assume when the raster has none.
    band : int
        Band to read.

    Returns
    -------
    geopandas.GeoDataFrame in EPSG:4545
        ``patch_id`` (1.. by decreasing built-up area), ``cells``, ``footprint_km2`` (true area of the
        patch's cells), ``builtup_km2`` (= footprint for ``classes``; Σ share × cell area or Σ m² for
        ``fraction``), ``settlement_code``, ``settlement_name``, ``join`` ("contains" | "nearest" |
        "none"), ``distance_m`` (0 for contains, NaN for none), geometry (Multi)Polygon.

    Examples
    --------
    >>> patches = extents("worldcover.tif", classes=[50], settlements=region.settlements)  # doctest: +SKIP
    >>> settlement_builtup_km2(patches, region.settlements)                                  # doctest: +SKIP
    """
    import geopandas as gpd
    from scipy import ndimage

    classes = _check_rule(classes, fraction)
    if connectivity not in (4, 8):
        raise ValueError(f"connectivity must be 4 or 8, not {connectivity!r}")
    with open_raster(raster, crs=raster_crs, north_up=False) as r:
        ds, name, rcrs = r.dataset, r.name, r.crs
        transform, shape = ds.transform, (ds.height, ds.width)
        area = CellArea(rcrs, transform, shape)
        mask, amount, fills = _read_builtup(ds, band, classes, fraction, min_fraction, area)
        if fills:
            warnings.warn(fill_warning(name, fills), RasterValueWarning, stacklevel=2)
        found = None
        if classes is not None and not mask.any():
            found, more = values_found(ds, band)
            warnings.warn(f"the built-up rule classes={classes.tolist()} matches no cell of {name}; classes found in "
                          f"the raster: {found}{' ...' if more else ''}", stacklevel=2)
    structure = np.ones((3, 3), dtype=bool) if connectivity == 8 else ndimage.generate_binary_structure(2, 1)
    labels, n = ndimage.label(mask, structure=structure)
    del mask
    foot, built, cells = _patch_sums(labels, n, area, amount)
    keep = np.nonzero(built[1:] / 1e6 >= min_area_km2)[0] + 1
    order = keep[np.lexsort((keep, -built[keep]))]  # decreasing built-up, then label
    polys = _patch_polygons(labels, order, n, transform, connectivity)
    del labels
    gdf = gpd.GeoDataFrame({
        "patch_id": np.arange(1, len(order) + 1, dtype=np.int64),
        "cells": cells[order],
        "footprint_km2": foot[order] / 1e6,
        "builtup_km2": built[order] / 1e6,
    }, geometry=list(polys), crs=rcrs)
    gdf = gdf.to_crs(WORK_CRS) if not rcrs.equals(WORK_CRS) else gdf.set_crs(WORK_CRS, allow_override=True)
    gdf = _join_settlements(gdf, settlements, max_distance_m)
    gdf.attrs["report"] = {"raster": name, "components": int(n), "kept": len(order),
                           "dropped_small": int(n - len(order)), "min_area_km2": min_area_km2}
    if found is not None:
        gdf.attrs["report"]["classes_found"] = found
    return gdf


def _settlement_points(settlements):
    """Located settlement points in the work CRS with code, name, tier rank and population."""
    import pandas as pd


    if hasattr(settlements, "settlements") and not hasattr(settlements, "geometry"):
        settlements = settlements.settlements
    for col in ("code", "name"):
        if col not in settlements.columns:
            raise MissingColumnError(f"settlements has no {col!r} column (columns: {list(settlements.columns)})")
    s = to_work_crs(settlements)
    s = s[located(s)].copy()
    s["code"] = s["code"].astype(str)
    if "tier" in s.columns:
        s["_rank"] = [Tier.parse(t).rank if isinstance(t, (str, Tier)) else 99 for t in s["tier"]]
    else:
        s["_rank"] = 99
    s["_pop"] = pd.to_numeric(s["population"], errors="coerce").fillna(-1.0) if "population" in s.columns else -1.0
    if s.geom_type.ne("Point").any():
        s = s.set_geometry(s.geometry.representative_point())
    return s[["code", "name", "_rank", "_pop", "geometry"]].reset_index(drop=True)


def _join_settlements(patches, settlements, max_distance_m):
    import geopandas as gpd

    patches = patches.copy()
    patches["settlement_code"] = None
    patches["settlement_name"] = None
    patches["join"] = "none"
    patches["distance_m"] = np.nan
    if settlements is None or len(patches) == 0:
        return patches
    pts = _settlement_points(settlements)
    if len(pts) == 0:
        return patches
    hit = gpd.sjoin(patches[["patch_id", "geometry"]], pts, how="inner", predicate="contains")
    if len(hit):
        hit = hit.sort_values(["patch_id", "_rank", "_pop", "code"], ascending=[True, True, False, True])
        hit = hit.drop_duplicates("patch_id")
        m = patches["patch_id"].isin(hit["patch_id"])
        h = hit.set_index("patch_id")
        patches.loc[m, "settlement_code"] = patches.loc[m, "patch_id"].map(h["code"]).to_numpy()
        patches.loc[m, "settlement_name"] = patches.loc[m, "patch_id"].map(h["name"]).to_numpy()
        patches.loc[m, "join"] = "contains"
        patches.loc[m, "distance_m"] = 0.0
    rest = patches[patches["join"] == "none"]
    if len(rest) and max_distance_m and max_distance_m > 0:
        near = gpd.sjoin_nearest(rest[["patch_id", "geometry"]], pts, how="inner", max_distance=max_distance_m,
                                 distance_col="_dist")
        if len(near):
            near = near.sort_values(["patch_id", "_dist", "_rank", "code"]).drop_duplicates("patch_id")
            n = near.set_index("patch_id")
            m = patches["patch_id"].isin(near["patch_id"])
            pid = patches.loc[m, "patch_id"]
            patches.loc[m, "settlement_code"] = pid.map(n["code"]).to_numpy()
            patches.loc[m, "settlement_name"] = pid.map(n["name"]).to_numpy()
            patches.loc[m, "join"] = "nearest"
            patches.loc[m, "distance_m"] = pid.map(n["_dist"]).to_numpy(dtype=float)
    return patches


def settlement_builtup_km2(patches: gpd.GeoDataFrame, settlements: Any) -> pd.DataFrame:
    """Built-up km² of every settlement: the sum of the patches joined to it (0 where none).

    Parameters
    ----------
    patches : geopandas.GeoDataFrame
        Output of :func:`extents` (with ``settlement_code``).
    settlements : GeoDataFrame or SettlementSystem
        Every settlement listed here gets a row, located or not.

    Returns
    -------
    pandas.DataFrame
        ``code``, ``name``, ``tier`` (if present), ``builtup_km2``, ``patches`` (count), sorted by code.
    """
    import pandas as pd

    if hasattr(settlements, "settlements") and not hasattr(settlements, "geometry"):
        settlements = settlements.settlements
    cols = ["code", "name"] + (["tier"] if "tier" in settlements.columns else [])
    out = pd.DataFrame(settlements[cols]).copy()
    out["code"] = out["code"].astype(str)
    joined = patches[patches["settlement_code"].notna()]
    agg = joined.groupby("settlement_code").agg(builtup_km2=("builtup_km2", "sum"), patches=("patch_id", "size"))
    out["builtup_km2"] = out["code"].map(agg["builtup_km2"]).fillna(0.0).astype(float)
    out["patches"] = out["code"].map(agg["patches"]).fillna(0).astype(int)
    return out.sort_values("code", kind="stable").reset_index(drop=True)


def central_city_builtup_km2(region: Any, raster: Any, *, rule: dict | None = None, min_area_km2: float = 0.01,
                             max_distance_m: float = 2000.0, details: bool = False,
                             **kwargs: Any) -> float | tuple[float, gpd.GeoDataFrame]:
    """Built-up km² of the central city (中心城区, code "511900"), the indicator the plan targets (80 km²).

    Definition (documented assumption): the built-up patches of :func:`extents` that lie in 巴州区 or
    恩阳区 (representative point inside the union of counties 511902 and 511903) and are joined
    (containing point, else nearest within ``max_distance_m``) to the central city 511900 or to a
    subdistrict (街道, ``kind == "subdistrict"``) of those two districts — the urban extent of the two
    districts that form the central city. Patches there joined to a town (镇/乡) or to nothing are rural
    and not counted. Without county boundaries in ``region`` the patches joined to 511900 count.

    Parameters
    ----------
    region : bazhong_geo.datasets.Region
        With ``settlements`` (points) and ``boundaries``.
    raster : str, path or rasterio dataset
        Built-up raster.
    rule : dict, optional
        Built-up rule and extents options as a dict (e.g. ``{"classes": [50]}``); merged with ``kwargs``.
    min_area_km2, max_distance_m
        As in :func:`extents`.
    details : bool
        Also return the counted patches.
    **kwargs
        ``classes``, ``fraction``, ``min_fraction``, ``connectivity``, ``raster_crs``, ``band``.
        Default rule ``classes=[1]`` (a 0/1 built-up mask).

    Returns
    -------
    float, or (float, GeoDataFrame) with ``details=True``.
    """
    import shapely

    opts = dict(rule or {})
    opts.update(kwargs)
    if "classes" not in opts and "fraction" not in opts:
        opts["classes"] = [1]
    opts.setdefault("min_area_km2", min_area_km2)
    opts.setdefault("max_distance_m", max_distance_m)
    reg = region.settlements
    candidates = reg[reg["tier"].astype(str) != "village"] if "tier" in reg.columns else reg
    patches = extents(raster, settlements=candidates, **opts)
    codes = {CENTRAL_CITY_CODE}
    if "kind" in reg.columns:
        county = reg["county_code"].astype(str) if "county_code" in reg.columns else reg["code"].astype(str).str[:6]
        sub = reg[(reg["kind"].astype(str) == "subdistrict") & county.isin(CENTRAL_CITY_COUNTIES)]
        codes |= set(sub["code"].astype(str))
    joined = patches["settlement_code"].isin(codes)
    b = getattr(region, "boundaries", None)
    if b is not None and len(b) and b["code"].astype(str).isin(CENTRAL_CITY_COUNTIES).any():
        area = shapely.union_all(to_work_crs(b[b["code"].astype(str).isin(CENTRAL_CITY_COUNTIES)]).geometry.to_numpy())
        inside = shapely.contains(area, patches.geometry.representative_point().to_numpy())
        sel = patches[joined & inside]
    else:
        sel = patches[joined]
    km2 = float(sel["builtup_km2"].sum())
    return (km2, sel) if details else km2
