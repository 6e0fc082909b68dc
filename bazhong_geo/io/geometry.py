"""Geometry of planners' files: coordinate systems (WGS-84, CGCS2000, GCJ-02, BD-09), points, repairs, the work CRS."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from .. import crs as crs_mod
from .. import region as region_mod
from .._errors import (
    CRSMismatchError,
    GeometryTypeError,
    InvalidCoordinateError,
    MissingColumnError,
    MissingCRSError,
    UnknownCoordinateSystemError,
)
from .._validate import (
    describe_features,
    find_column,
    format_rows,
    to_number,
)
from .columns import LAT_ALIASES, LON_ALIASES, WKT_ALIASES, geopandas_module

#: Default region check for settlement points: (min lon, min lat, max lon, max lat), WGS-84 / CGCS2000
#: (an alias of ``region.BAZHONG.bbox_lonlat``).
BAZHONG_BBOX = region_mod.BAZHONG.bbox_lonlat


_WEB = {"wgs84": "wgs84", "wgs-84": "wgs84", "gcj02": "gcj02", "gcj-02": "gcj02", "gcj": "gcj02", "amap": "gcj02",
        "gaode": "gcj02", "tencent": "gcj02", "火星坐标": "gcj02", "bd09": "bd09", "bd-09": "bd09", "baidu": "bd09"}


_CHINA_LON, _CHINA_LAT = (73.0, 136.0), (3.0, 54.0)
_LON_PATTERN = r"(^|_)(lon|lng|longitude)(_|$)|经度"
_LAT_PATTERN = r"(^|_)(lat|latitude)(_|$)|纬度"


def _resolve_coords(coords, crs, path: Path):
    """Return (web system or None, pyproj CRS) for a table's coordinate columns."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    if crs is not None:
        try:
            return None, CRS.from_user_input(crs)
        except CRSError as exc:
            raise UnknownCoordinateSystemError(f"{path.name}: crs={crs!r} is not a CRS pyproj knows ({exc}); use "
                                               f"e.g. 'EPSG:4490' or 'EPSG:4545'") from None
    key = "wgs84" if coords is None else str(coords).strip().lower()
    if key in _WEB:
        return (None if _WEB[key] == "wgs84" else _WEB[key]), CRS.from_epsg(4326)
    if key in ("cgcs2000", "cgcs-2000", "cgcs"):
        return None, CRS.from_epsg(4490)
    try:
        return None, CRS.from_user_input(coords)
    except CRSError:
        raise UnknownCoordinateSystemError(
            f"{path.name}: coords={coords!r} is not a coordinate system the loader knows; use 'wgs84', 'cgcs2000', "
            f"'gcj02' (Amap/Tencent 火星坐标), 'bd09' (Baidu) or an EPSG code such as 'EPSG:4545'") from None


def table_geometry(out: Any, row_ids: np.ndarray, report: Any, path: Path, *, coords: Any, crs: Any,
                   lon_col: str | None, lat_col: str | None) -> Any:
    """Build points from lon/lat (or x/y, or WKT) columns; rows without coordinates keep geometry None."""
    import geopandas as gpd
    import shapely

    web, src_crs = _resolve_coords(coords, crs, path)
    columns = [c for c in out.columns if c not in ("code", "name", "tier", "parent_code", "population")]
    for given, what in ((lon_col, "lon_col"), (lat_col, "lat_col")):
        if given is not None and given not in out.columns:
            raise MissingColumnError(f"{path.name}: no column {given!r} (given as {what}); columns are "
                                     f"{list(out.columns)}")
    lon_c = lon_col or find_column(columns, LON_ALIASES) or _regex_column(columns, _LON_PATTERN)
    lat_c = lat_col or find_column(columns, LAT_ALIASES) or _regex_column(columns, _LAT_PATTERN)
    n = len(out)
    if lon_c is None and lat_c is None:
        wkt_c = find_column(columns, WKT_ALIASES)
        if wkt_c is not None:
            text = out[wkt_c].astype(object).where(out[wkt_c].notna(), None).to_numpy()
            geoms = shapely.from_wkt(text, on_invalid="ignore")
            bad = np.array([t is not None for t in text]) & shapely.is_missing(geoms)
            if bad.any():
                report.add("error", "invalid_wkt", f"{path.name}: unreadable WKT in column '{wkt_c}' in "
                           f"{int(bad.sum())} row(s) ({report.row_label} {format_rows(row_ids[bad])}); write "
                           f"'POINT (lon lat)' or use lon/lat columns", rows=row_ids[bad])
                report.errors[-1].exc = InvalidCoordinateError
            out = out.drop(columns=[wkt_c])
            report.add("info", "coordinates", f"geometry from the WKT column '{wkt_c}'")
            gdf = gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geoms, index=out.index), crs=src_crs)
            return _to_work(gdf, row_ids, report, path, web=web, kind="settlements")
        report.add("warning", "no_coordinates", f"no coordinate columns (lon/lat, 经度/纬度, x/y) among "
                   f"{columns}: all {n} rows kept without a point; pass lon_col=/lat_col= if they have other names")
        gdf = gpd.GeoDataFrame(out, geometry=gpd.GeoSeries([None] * n, index=out.index), crs=src_crs)
        return _to_work(gdf, row_ids, report, path, web=None, kind="settlements", check=False)
    if lon_c is None or lat_c is None:
        have, lack = (lon_c, "latitude (lat/纬度/y)") if lat_c is None else (lat_c, "longitude (lon/经度/x)")
        raise MissingColumnError(f"{path.name}: found the coordinate column '{have}' but no {lack} column; pass "
                                 f"lon_col=... and lat_col=...")
    report.columns[str(lon_c)] = "lon"
    report.columns[str(lat_c)] = "lat"
    report.add("info", "coordinates", f"coordinates from columns '{lon_c}' (x/lon) and '{lat_c}' (y/lat), "
               f"system {(web or str(coords)) if crs is None else ''} ({src_crs.to_string()})")
    lon, bad_lon = to_number(out[lon_c])
    lat, bad_lat = to_number(out[lat_c])
    bad = bad_lon | bad_lat
    if bad.any():
        pairs = zip(np.flatnonzero(bad), row_ids[bad], strict=True)
        vals = [f"{r}: ({out[lon_c].iloc[i]!r}, {out[lat_c].iloc[i]!r})" for i, r in pairs][:15]
        report.add("error", "non_numeric_coordinate",
                   f"{path.name}: non-numeric coordinates in {int(bad.sum())} row(s) ({report.row_label} "
                   f"{', '.join(vals)}); use decimal degrees (106.7647, not 106°45'53\") or leave both cells empty",
                   rows=row_ids[bad])
        report.errors[-1].exc = InvalidCoordinateError
    lon[bad], lat[bad] = np.nan, np.nan
    out[lon_c], out[lat_c] = lon.copy(), lat.copy()   # the file's values, as numbers (before any conversion)
    half = np.isnan(lon) ^ np.isnan(lat)
    if half.any():
        report.add("warning", "incomplete_coordinate", f"{int(half.sum())} row(s) with only one of "
                   f"'{lon_c}'/'{lat_c}': kept without a point", rows=row_ids[half])
        lon[half], lat[half] = np.nan, np.nan
    none = np.isnan(lon) & ~bad & ~half
    if none.any():
        report.add("warning" if not none.all() else "info", "no_coordinate",
                   f"{int(none.sum())} of {n} row(s) without coordinates: kept, geometry empty (None)",
                   rows=row_ids[none])
    ok = _check_projected_label(lon, lat, src_crs, row_ids, report, path)
    if src_crs.is_geographic and ok.any():
        _check_lonlat(lon, lat, ok, row_ids, report, path, lon_c, lat_c)
        ok = ~np.isnan(lon)
    if web is not None and ok.any():
        fn = crs_mod.gcj02_to_wgs84 if web == "gcj02" else crs_mod.bd09_to_wgs84
        lon[ok], lat[ok] = fn(lon[ok], lat[ok])
        report.add("info", "converted", f"{int(ok.sum())} point(s) converted {web.upper()} -> WGS-84")
    geoms = np.full(n, None, dtype=object)
    geoms[ok] = shapely.points(lon[ok], lat[ok])
    gdf = gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geoms, index=out.index), crs=src_crs)
    return _to_work(gdf, row_ids, report, path, web=None, kind="settlements", check=False)


def _check_projected_label(lon, lat, src_crs, row_ids, report, path: Path) -> np.ndarray:
    """A projected ``coords=`` over lon/lat values: an error (the points are dropped); return the located mask."""
    ok = ~np.isnan(lon)
    if not src_crs.is_geographic and ok.any() and _looks_lonlat(lon[ok], lat[ok]):
        report.add("error", "crs_mismatch", _mismatch_message(path, src_crs, lon[ok], lat[ok], table=True),
                   rows=row_ids[ok])
        report.errors[-1].exc = CRSMismatchError
        lon[:], lat[:] = np.nan, np.nan
    return ~np.isnan(lon)


def _regex_column(columns, pattern: str):
    for c in columns:
        if re.search(pattern, str(c).lower()):
            return c
    return None


def _check_lonlat(lon, lat, ok, row_ids, report, path, lon_c, lat_c) -> None:
    """Impossible or swapped longitude/latitude -> errors naming the rows."""
    impossible = ok & ((np.abs(lat) > 90) | (np.abs(lon) > 180))
    swapped_like = (ok & (lon >= _CHINA_LAT[0]) & (lon <= _CHINA_LAT[1])
                    & (lat >= _CHINA_LON[0]) & (lat <= _CHINA_LON[1]))
    if swapped_like[ok].all():
        report.add("error", "swapped_coordinates",
                   f"{path.name}: longitude and latitude look swapped in all {int(ok.sum())} located rows "
                   f"('{lon_c}' holds values like {lon[ok][0]:g}, '{lat_c}' like {lat[ok][0]:g}); pass "
                   f"lon_col='{lat_c}', lat_col='{lon_c}' or rename the columns", rows=row_ids[ok])
        report.errors[-1].exc = InvalidCoordinateError
    elif impossible.any():
        report.add("error", "impossible_coordinate",
                   f"{path.name}: longitude/latitude out of range in {int(impossible.sum())} row(s) "
                   f"({report.row_label} {format_rows(row_ids[impossible])}); projected x/y need coords='EPSG:4545' "
                   f"(or the right EPSG), otherwise fix the values", rows=row_ids[impossible])
        report.errors[-1].exc = InvalidCoordinateError
    drop = impossible | swapped_like if swapped_like[ok].all() else impossible
    lon[drop], lat[drop] = np.nan, np.nan


def _guess_crs(gdf) -> str:
    b = gdf.total_bounds
    if np.all(np.isfinite(b)):
        if b[0] >= 70 and b[2] <= 140 and b[1] >= 0 and b[3] <= 60:
            return 'coordinates look like longitude/latitude: pass crs="EPSG:4490" (CGCS2000) or "EPSG:4326" (WGS-84)'
        if 3.0e7 <= b[0] <= 4.6e7:
            zone = int(b[0] // 1e6)
            return (f"x has the zone prefix {zone}: likely CGCS2000 3-degree Gauss-Kruger zone {zone}; pass "
                    f'crs="EPSG:{4513 + zone - 25}"' if 25 <= zone <= 45 else 'pass crs="EPSG:..."')
        if b[0] >= 0 and b[2] <= 1.0e6 and 2.0e6 <= b[1] <= 6.0e6:
            return 'coordinates look like Gauss-Kruger metres: pass crs="EPSG:4545" (CGCS2000 3-degree CM 108E)'
    return 'pass crs="EPSG:4490" (CGCS2000 lon/lat) or the CRS the data were made in, or add a .prj'


def _looks_lonlat(x, y) -> bool:
    """True when every coordinate lies within ±180 / ±90: degrees, whatever the label says."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    x, y = x[np.isfinite(x)], y[np.isfinite(y)]
    return bool(x.size) and bool(np.all(np.abs(x) <= 180) and np.all(np.abs(y) <= 90))


def _mismatch_message(path: Path, src_crs, x, y, *, table: bool = False) -> str:
    label = src_crs.to_string()
    where = f"coords={label!r} was given" if table else f"the file is labelled {label}"
    return (f"{path}: {where} (a projected CRS in metres), but the coordinates are longitude/latitude in degrees "
            f"(x {np.nanmin(x):.4f} to {np.nanmax(x):.4f}, y {np.nanmin(y):.4f} to {np.nanmax(y):.4f}); the label is "
            f"wrong. Read it with coords='wgs84' (command line: --coords wgs84; 'cgcs2000', or 'gcj02' for "
            f"Amap/Tencent coordinates) or set the right CRS in QGIS (Layer > Set CRS) and save it again")


def _located_bounds(gdf):
    import shapely

    arr = np.asarray(gdf.geometry.values, dtype=object)
    ok = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
    if not ok.any():
        return None
    return shapely.total_bounds(arr[ok])


def _relabel_lonlat(out, report, path: Path, coords, web):
    """A projected label over lon/lat values: an error, or (``coords=`` given) relabelled as lon/lat (repair)."""
    from pyproj import CRS

    b = _located_bounds(out)
    if out.crs.is_geographic or b is None or not _looks_lonlat(b[[0, 2]], b[[1, 3]]):
        if coords is not None and not out.crs.is_geographic:
            report.add("info", "coords_not_applied", f"coords={coords!r} applies to longitude/latitude; the layer is "
                       f"projected ({out.crs.to_string()}) with coordinates in metres: kept as labelled")
        return out, web, False
    if coords is None:
        report.add("error", "crs_mismatch", _mismatch_message(path, out.crs, b[[0, 2]], b[[1, 3]]))
        report.errors[-1].exc = CRSMismatchError
        return out, web, True
    key = str(coords).strip().lower()
    target = CRS.from_epsg(4490) if key in ("cgcs2000", "cgcs-2000", "cgcs") else CRS.from_epsg(4326)
    report.add("repair", "crs_relabelled", f"{path.name}: labelled {out.crs.to_string()} but holds longitude/latitude; "
               f"read as {target.to_string()} (coords={coords!r})")
    return out.set_crs(target, allow_override=True), web, False


def vector_geometry(out: Any, row_ids: np.ndarray, report: Any, path: Path, *, crs: Any, coords: Any,
                    kind: str) -> Any:
    """CRS, web-map conversion, repairs, then the work CRS.

    A missing CRS is an error unless ``crs=``; a projected label over lon/lat is an error unless ``coords=``.
    """
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    if out.crs is None:
        if crs is None:
            report.add("error", "missing_crs", f"{path.name}: the layer has no coordinate reference system "
                       f"(no .prj / CRS metadata) for its {len(out)} feature(s); {_guess_crs(out)}")
            report.errors[-1].exc = MissingCRSError
            _repair(out, row_ids, report, kind)
            return out
        try:
            out = out.set_crs(CRS.from_user_input(crs))
        except CRSError as exc:
            raise UnknownCoordinateSystemError(f"{path.name}: crs={crs!r} is not a CRS pyproj knows ({exc})") from None
        report.add("info", "crs_assumed", f"no CRS in the file: {out.crs.to_string()} assumed (crs= given)")
    elif crs is not None:
        report.add("info", "crs_kept", f"the file's CRS {out.crs.to_string()} kept; crs={crs!r} applies only to "
                   f"files without one")
    web = _WEB.get(str(coords).strip().lower()) if coords is not None else None
    if coords is not None and web is None and str(coords).strip().lower() not in ("cgcs2000", "cgcs-2000", "cgcs"):
        raise UnknownCoordinateSystemError(f"{path.name}: coords={coords!r} is not a longitude/latitude system for a "
                                           f"vector file; use 'wgs84', 'cgcs2000', 'gcj02' or 'bd09', or crs= for a "
                                           f"file without CRS")
    if web == "wgs84":
        web = None
    out, web, lying = _relabel_lonlat(out, report, path, coords, web)
    if lying:
        _repair(out, row_ids, report, kind)
        return out
    if web is not None and not out.crs.is_geographic:
        web = None   # reported by _relabel_lonlat: a projected layer in metres keeps its label
    return _to_work(out, row_ids, report, path, web=web, kind=kind)


def _to_work(gdf, row_ids, report, path: Path, *, web, kind, check: bool = True):
    convert, to_work_crs = crs_mod.convert, crs_mod.to_work_crs

    if web is not None:
        gdf = convert(gdf.set_crs(4326, allow_override=True), src=web, dst="wgs84")
        report.add("info", "converted", f"coordinates converted {web.upper()} -> WGS-84")
    gdf = to_work_crs(gdf, source=path.name)
    if check:
        _repair(gdf, row_ids, report, kind)
    return gdf


def _repair(gdf, row_ids, report, kind: str) -> None:
    """Report null/empty geometries (kept), repair invalid ones (make_valid), points for settlements."""
    import shapely

    geoms = gdf.geometry.values
    arr = np.asarray(geoms, dtype=object)
    null = shapely.is_missing(arr)
    empty = ~null & shapely.is_empty(arr)
    def named(mask) -> str:
        return describe_features(gdf, row_ids, mask, report.row_label)

    if null.any():
        report.add("warning", "null_geometry", f"{int(null.sum())} feature(s) without geometry (kept): {named(null)}",
                   rows=row_ids[null])
    if empty.any():
        report.add("warning", "empty_geometry", f"{int(empty.sum())} feature(s) with an empty geometry (kept): "
                   f"{named(empty)}", rows=row_ids[empty])
    present = ~null & ~empty
    invalid = present & ~shapely.is_valid(arr)
    if invalid.any():
        reasons = shapely.is_valid_reason(arr[invalid])
        polygonal = np.isin(shapely.get_type_id(arr[invalid]), [3, 6])
        fixed = np.empty(int(invalid.sum()), dtype=object)
        if polygonal.any():
            fixed[polygonal] = shapely.make_valid(arr[invalid][polygonal], method="structure", keep_collapsed=False)
        if (~polygonal).any():
            fixed[~polygonal] = shapely.make_valid(arr[invalid][~polygonal])
        arr = arr.copy()
        arr[invalid] = fixed
        labels = named(invalid).split(", ")
        detail = "; ".join(f"{r}: {why}" for r, why in list(zip(labels, reasons, strict=False))[:10])
        report.add("repair", "invalid_geometry", f"{int(invalid.sum())} invalid geometr(y/ies) repaired with "
                   f"shapely.make_valid ({detail})", rows=row_ids[invalid])
        collapsed = invalid & shapely.is_empty(arr)
        if collapsed.any():
            report.add("warning", "collapsed_geometry", f"{int(collapsed.sum())} repaired geometr(y/ies) collapsed "
                       f"to empty (zero area; kept)", rows=row_ids[collapsed])
    if kind == "settlements":
        types = shapely.get_type_id(arr)
        nonpoint = present & (types != 0)
        if nonpoint.any():
            arr = arr.copy()
            arr[nonpoint] = shapely.point_on_surface(arr[nonpoint])
            report.add("repair", "not_points", f"{int(nonpoint.sum())} non-point settlement geometr(y/ies) replaced "
                       f"by a point on the surface", rows=row_ids[nonpoint])
    elif kind == "boundaries":
        types = shapely.get_type_id(arr)
        nonpoly = present & ~np.isin(types, [3, 6, 7])
        if nonpoly.any():
            kinds = sorted(set(shapely.get_type_id(arr[nonpoly]).tolist()))
            names = ", ".join(("Point", "LineString", "LinearRing", "", "MultiPoint", "MultiLineString")[k]
                              for k in kinds if k < 6)
            report.add("error", "not_polygons", f"{report.path}: {int(nonpoly.sum())} feature(s) of a boundary layer "
                       f"are not polygons ({names}): {named(nonpoly)}; boundaries must be polygons — pass the polygon "
                       f"layer (layer=...), or redraw or delete these features in QGIS", rows=row_ids[nonpoly])
            report.errors[-1].exc = GeometryTypeError
        collection = present & (types == 7)
        if collection.any():
            report.add("warning", "geometry_collection", f"{int(collection.sum())} feature(s) are geometry "
                       f"collections (kept; only their polygon parts have an area): {named(collection)}",
                       rows=row_ids[collection])
    gdf[gdf.geometry.name] = geopandas_module().GeoSeries(arr, index=gdf.index, crs=gdf.crs)
