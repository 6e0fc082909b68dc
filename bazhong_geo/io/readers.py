"""The public readers: ``read_boundaries`` and ``read_settlements``, pipelines of format, column and geometry steps."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

import numpy as np
import pandas as pd

from .. import region as region_mod
from .._errors import (
    BazhongGeoError,
    UnsupportedFormatError,
)
from .._validate import (
    ValidationReport,
    describe_features,
    normalise_codes,
    region_geometry,
)
from .._validate import (
    located as _located,
)
from .columns import (
    CODE_ALIASES,
    LEVEL_ALIASES,
    NAME_ALIASES,
    PARENT_ALIASES,
    POP_ALIASES,
    TIER_ALIASES,
    check_duplicates,
    check_missing,
    check_population,
    check_tiers,
    geopandas_module,
    other_columns,
    rename_columns,
)
from .formats import (
    PlainParquetError,
    check_mode,
    check_path,
    format_of,
    read_plain_parquet,
    read_table,
    read_vector,
    require_rows,
)
from .geometry import BAZHONG_BBOX, table_geometry, vector_geometry

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd


@overload
def read_boundaries(path: str | Path, *, crs: Any = ..., layer: str | int | None = ..., encoding: str | None = ...,
                    code_col: str | None = ..., name_col: str | None = ..., coords: str | None = ...,
                    return_report: Literal[False] = ..., errors: str = ...) -> gpd.GeoDataFrame: ...


@overload
def read_boundaries(path: str | Path, *, crs: Any = ..., layer: str | int | None = ..., encoding: str | None = ...,
                    code_col: str | None = ..., name_col: str | None = ..., coords: str | None = ...,
                    return_report: Literal[True], errors: str = ...) -> tuple[gpd.GeoDataFrame, ValidationReport]: ...


def read_boundaries(  # noqa: PLR0913 - the public reader: every option is a documented keyword
        path: str | Path, *, crs: Any = None, layer: str | int | None = None, encoding: str | None = None,
        code_col: str | None = None, name_col: str | None = None, coords: str | None = None,
        return_report: bool = False, errors: str = "raise") -> Any:
    """Read administrative boundaries (prefecture, counties, townships) into the work CRS.

    Parameters
    ----------
    path : str or Path
        GeoPackage, Shapefile (GBK/GB18030 ``.dbf`` without ``.cpg`` detected), GeoJSON or GeoParquet.
    crs : optional
        CRS to assume when the file has none (e.g. ``"EPSG:4490"``); without it such a file is a
        :class:`MissingCRSError`. A file that has a CRS keeps it.
    layer : str or int, optional
        Layer of a multi-layer file (GeoPackage); the first layer otherwise (reported).
    encoding : str, optional
        Text encoding of a Shapefile ``.dbf``; detected when omitted.
    code_col, name_col : str, optional
        Source columns holding the administrative code and the name; detected from common names
        (``code``, ``adcode``, ``PAC``, ``XZQDM``, ``行政代码``, ``代码`` / ``name``, ``XZQMC``, ``名称`` ...).
    coords : {"wgs84", "cgcs2000", "gcj02", "bd09"}, optional
        The file's longitude/latitude are GCJ-02 (Amap/Tencent) or BD-09 (Baidu) although labelled
        WGS-84; they are converted to WGS-84 on load. A layer labelled with a projected CRS (e.g.
        EPSG:4545) whose coordinates are degrees (within ±180/±90) is a
        :class:`~bazhong_geo._errors.CRSMismatchError` unless ``coords`` is given: then it is read as
        longitude/latitude in that system (reported as a repair). On a layer in metres ``coords`` is
        not applied (reported).
    return_report : bool
        Also return the :class:`ValidationReport`.
    errors : {"raise", "report"}
        ``"raise"`` (default): any error raises its typed exception. ``"report"``: errors are only
        recorded in the report (``report.has_errors``) and the frame is returned as far as it could
        be built (bad values NaN/None, no reprojection without a CRS) — for checking a file.

    Returns
    -------
    geopandas.GeoDataFrame or (GeoDataFrame, ValidationReport)
        The report is also attached to the frame as ``gdf.attrs["report"]`` (a plain dict, see
        :meth:`ValidationReport.to_dict`; :func:`bazhong_geo.io.report_of` turns it back into a report).
        EPSG:4545, columns ``code`` (str), ``name``, ``level`` (``prefecture`` / ``county`` /
        ``township`` / ``village`` from the code length where no level column exists), the other
        attributes as in the file, ``geometry``. Invalid polygons are repaired (reported), empty or
        missing geometries kept (reported); rows in = rows out.

    Raises
    ------
    MissingCRSError, MissingColumnError, MissingValueError, DuplicateCodeError, UnsupportedFormatError, EmptyInputError
    MissingFileError, UnreadableFileError, BrokenFileError
        The path is missing, unreadable, a folder, empty, truncated or not of its format (before any driver).
    CRSMismatchError
        A projected label over longitude/latitude values (``coords=`` fixes it).
    GeometryTypeError
        Points or lines in the layer: boundaries are polygons.

    Examples
    --------
    >>> gdf, report = read_boundaries("counties.shp", return_report=True)   # doctest: +SKIP
    >>> print(report)                                                      # doctest: +SKIP
    """
    path = check_path(path)
    check_mode(errors)
    report = ValidationReport(str(path), "boundaries")
    fmt = format_of(path, kind="boundaries")
    if fmt == "table":
        raise UnsupportedFormatError(
            f"{path.name}: boundaries must be a vector file (GeoPackage, Shapefile, GeoJSON, GeoParquet), not a "
            f"{path.suffix} table; export the layer from your GIS as GeoPackage")
    gdf, row_ids = read_vector(path, layer=layer, encoding=encoding, report=report)
    report.row_label = "FID"
    if not isinstance(gdf, geopandas_module().GeoDataFrame):
        raise UnsupportedFormatError(f"{path.name}: the layer has no geometry column; boundaries need polygons "
                                     f"(pass layer=... if another layer holds them)")
    require_rows(gdf, path)
    report.n_in = len(gdf)

    out = rename_columns(gdf, report, [("code", code_col, CODE_ALIASES, True), ("name", name_col, NAME_ALIASES, False),
                                ("level", None, LEVEL_ALIASES, False)], path)
    out["code"] = normalise_codes(out["code"])
    check_missing(out["code"], row_ids, report, "code", path,
                  "fill in the administrative code (6-digit county, 9-digit township)",
                  names=out["name"] if "name" in out.columns else None)
    check_duplicates(out["code"], row_ids, report, path,
                      "a boundary file holds one feature per unit: dissolve multi-part units "
                      "(gdf.dissolve('code')) or correct the codes")
    if "name" not in out.columns:
        out["name"] = None
        found = list(gdf.columns.drop(gdf.geometry.name))
        report.add("warning", "no_name_column", f"no name column found among {found}; pass name_col=...")
    if "level" in out.columns:
        out["level"] = out["level"].map(
            lambda v: region_mod.LEVEL_WORDS.get(str(v).strip(), v) if pd.notna(v) else None)
    else:
        out["level"] = out["code"].map(region_mod.code_level)
        unknown = out["level"].isna() & out["code"].notna()
        report.add("info", "level_from_code", "level derived from the code length (6-digit …00 prefecture, "
                   "6-digit county, 9-digit township, 12-digit village)")
        if unknown.any():
            report.add("warning", "level_unknown", f"{int(unknown.sum())} code(s) of unusual length: level left "
                       f"empty", rows=row_ids[unknown.to_numpy()])

    out = vector_geometry(out, row_ids, report, path, crs=crs, coords=coords, kind="boundaries")
    if out.crs is not None:
        _check_region(out, row_ids, report, None, kind="boundaries")
    cols = ["code", "name", "level"]
    out = out[cols + [c for c in out.columns if c not in cols]]
    return _finish(out, report, path, return_report, errors)


@overload
def read_settlements(path: str | Path, *, coords: str | None = ..., crs: Any = ..., lon_col: str | None = ...,
                     lat_col: str | None = ..., layer: str | int | None = ..., encoding: str | None = ...,
                     region: Any = ..., code_col: str | None = ..., name_col: str | None = ...,
                     return_report: Literal[False] = ..., errors: str = ...) -> gpd.GeoDataFrame: ...


@overload
def read_settlements(path: str | Path, *, coords: str | None = ..., crs: Any = ..., lon_col: str | None = ...,
                     lat_col: str | None = ..., layer: str | int | None = ..., encoding: str | None = ...,
                     region: Any = ..., code_col: str | None = ..., name_col: str | None = ...,
                     return_report: Literal[True], errors: str = ...) -> tuple[gpd.GeoDataFrame, ValidationReport]: ...


def read_settlements(  # noqa: PLR0913 - the public reader: every option is a documented keyword
        path: str | Path, *, coords: str | None = None, crs: Any = None, lon_col: str | None = None,
        lat_col: str | None = None, layer: str | int | None = None, encoding: str | None = None, region: Any = None,
        code_col: str | None = None, name_col: str | None = None, return_report: bool = False,
        errors: str = "raise") -> Any:
    r"""Read a settlement register (CSV/Excel with lon/lat, or a point layer) into the work CRS.

    Parameters
    ----------
    path : str or Path
        CSV (UTF-8, UTF-8 with BOM or GB18030/GBK, detected), Excel ``.xlsx`` (sheet = ``layer``), or a
        GeoPackage/Shapefile/GeoJSON/GeoParquet point layer.
    coords : str, optional
        Coordinate system of the lon/lat (or x/y) columns of a table: ``"wgs84"`` (the default for tables),
        ``"cgcs2000"`` (EPSG:4490), ``"gcj02"`` (Amap/Tencent, 火星坐标), ``"bd09"`` (Baidu) or any
        CRS pyproj understands (``"EPSG:4545"``). GCJ-02/BD-09 are converted to WGS-84 on load. For a
        vector file, ``"gcj02"``/``"bd09"`` say its lon/lat are web-map coordinates; otherwise the
        file's own CRS is used. A file labelled with a projected CRS that holds longitude/latitude is a
        :class:`~bazhong_geo._errors.CRSMismatchError` unless ``coords`` names the lon/lat system
        (``"wgs84"``, ``"cgcs2000"``, ``"gcj02"``, ``"bd09"``): then it is read as such (a reported repair).
    crs : optional
        For a vector file without CRS, the CRS to assume; for a table, overrides ``coords``.
    lon_col, lat_col : str, optional
        Coordinate columns; detected from ``lon``/``lng``/``longitude``/``经度``/``x`` and
        ``lat``/``latitude``/``纬度``/``y`` otherwise (the report says which were used).
    layer : str or int, optional
        Layer of a GeoPackage or sheet of an Excel workbook.
    encoding : str, optional
        Text encoding of a CSV or Shapefile ``.dbf``; detected when omitted.
    region : GeoDataFrame, GeoSeries, path or None
        Boundaries to test points against (points outside are reported and kept). ``None`` uses
        the Bazhong bounding box :data:`BAZHONG_BBOX`; ``False`` skips the test.
    code_col, name_col : str, optional
        Source columns of the settlement code and name (detected otherwise).
    return_report : bool
        Also return the :class:`ValidationReport`.
    errors : {"raise", "report"}
        ``"raise"`` (default): any error raises its typed exception. ``"report"``: errors are only
        recorded in the report (``report.has_errors``) and the frame is returned as far as it could
        be built (bad values NaN/None) — for checking a file, as ``bazhong-geo validate`` does.

    Returns
    -------
    geopandas.GeoDataFrame or (GeoDataFrame, ValidationReport)
        The report is also attached as ``gdf.attrs["report"]`` (a plain dict; :func:`bazhong_geo.io.report_of`).
        EPSG:4545 with ``code`` (str), ``name``, ``tier`` (a :class:`~bazhong_geo.Tier` value),
        ``parent_code`` (str or None), ``population`` (float, NaN unknown), the other attributes of
        the file and point ``geometry`` (None where the row has no coordinate; such rows are
        reported, never dropped).

        Without a tier column, tiers are inferred from NBS code lengths and reported as a warning:
        6-digit ending ``00`` -> ``central_city``, other 6-digit -> ``county_town``, 9-digit ->
        ``town``, 12-digit -> ``village``; rows whose code does not fit are an error.

    Raises
    ------
    MissingColumnError, MissingValueError, DuplicateCodeError, InvalidPopulationError, UnknownTierError,
    InvalidCoordinateError, MissingCRSError, UnknownCoordinateSystemError, UnsupportedFormatError, EmptyInputError,
    MissingFileError, UnreadableFileError, BrokenFileError, CRSMismatchError
        All problems of a file are collected first; the exception raised is that of the first error
        and its message lists the others. The full report is attached as ``exc.report``.

    Examples
    --------
    >>> gdf, report = read_settlements("villages.csv", coords="gcj02", return_report=True)  # doctest: +SKIP
    >>> report.has_errors                                                                   # doctest: +SKIP
    False

    A register written with Chinese tier words is read into the file spellings, in the work CRS:

    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "towns.csv"
    >>> text = "代码,名称,等级,人口,经度,纬度\n511902101,清江镇,镇,30000,106.85,31.95\n"
    >>> _ = path.write_text(text, encoding="utf-8")
    >>> gdf = read_settlements(path)
    >>> gdf[["code", "name", "tier"]].values.tolist(), gdf.crs.to_epsg()
    ([['511902101', '清江镇', 'town']], 4545)
    """
    path = check_path(path)
    check_mode(errors)
    report = ValidationReport(str(path), "settlements")
    fmt = format_of(path, kind="settlements")
    if fmt == "vector":
        try:
            gdf, row_ids = read_vector(path, layer=layer, encoding=encoding, report=report)
            report.row_label = "FID"
            if not isinstance(gdf, geopandas_module().GeoDataFrame):
                report.add("info", "no_geometry", "the layer has no geometry column: read as a table (lon/lat columns)")
                fmt = "table"
        except PlainParquetError:
            gdf, row_ids = read_plain_parquet(path, report), None
            row_ids = np.arange(len(gdf))
            report.row_label = "row (0-based)"
            fmt = "table"
    else:
        gdf, row_ids = read_table(path, layer=layer, encoding=encoding, report=report)
        report.row_label = "row"
    require_rows(gdf, path)
    report.n_in = len(gdf)

    out = rename_columns(gdf, report, [("code", code_col, CODE_ALIASES, True), ("name", name_col, NAME_ALIASES, True),
                                ("tier", None, TIER_ALIASES, False), ("parent_code", None, PARENT_ALIASES, False),
                                ("population", None, POP_ALIASES, False)], path)
    out["code"] = normalise_codes(out["code"])
    check_missing(out["code"], row_ids, report, "code", path, "give every settlement a code (NBS 9-digit township, "
                  "12-digit village, or your own unique code)", names=out["name"])
    check_duplicates(out["code"], row_ids, report, path,
                      "give every settlement its own code (NBS 12-digit codes for villages, 9-digit for townships)")
    out["name"] = out["name"].map(lambda v: str(v).strip() if pd.notna(v) and str(v).strip() else None)
    blank_name = out["name"].isna().to_numpy()
    if blank_name.any():
        report.add("warning", "missing_name", f"{int(blank_name.sum())} row(s) without a name (kept)",
                   rows=row_ids[blank_name])
    check_tiers(out, row_ids, report, path)
    if "parent_code" in out.columns:
        out["parent_code"] = normalise_codes(out["parent_code"])
    else:
        out["parent_code"] = pd.Series([None] * len(out), index=out.index, dtype=object)
        report.add("info", "no_parent_column", "no parent_code column: parents left empty "
                   "(SettlementSystem.assign_parents can place them)")
    check_population(out, row_ids, report, path)
    other_columns(out, fmt)

    if fmt == "vector":
        out = vector_geometry(out, row_ids, report, path, crs=crs, coords=coords, kind="settlements")
    else:
        out = table_geometry(out, row_ids, report, path, coords=coords, crs=crs, lon_col=lon_col, lat_col=lat_col)
    if region is not False and out.crs is not None:
        _check_region(out, row_ids, report, region)
    cols = ["code", "name", "tier", "parent_code", "population"]
    out = out[cols + [c for c in out.columns if c not in cols]]
    return _finish(out, report, path, return_report, errors)


def _check_region(gdf, row_ids, report, region, kind: str = "settlements") -> None:
    """Warn (and keep) points (features) outside the region, or outside the Bazhong bounding box by default."""
    import shapely

    geoms = np.asarray(gdf.geometry.values, dtype=object)
    located = _located(geoms)
    if not located.any():
        return
    if region is None:
        x0, y0, x1, y1 = BAZHONG_BBOX
        ll = np.asarray(gdf.geometry[located].to_crs(4326).values, dtype=object)
        inside = shapely.intersects(shapely.box(x0, y0, x1, y1), ll)   # edge counts as inside
        where = f"the Bazhong bounding box ({x0}–{x1}°E, {y0}–{y1}°N)"
    else:
        area = _region_geometry(region)
        inside = shapely.covers(area, geoms[located]) if kind == "settlements" \
            else shapely.intersects(area, geoms[located])
        where = "the region boundaries"
    outside = np.zeros(len(gdf), bool)
    outside[located] = ~inside
    if outside.any():
        what = "point(s)" if kind == "settlements" else "feature(s)"
        listing = describe_features(gdf, row_ids, outside, report.row_label)
        fix = "the coordinate system (coords=)" if kind == "settlements" else "the CRS of the file (.prj)"
        report.add("warning", "outside_region", f"{int(outside.sum())} {what} outside {where} (kept): {listing}"
                   f"; check the coordinates and {fix}", rows=row_ids[outside])


def _region_geometry(region):
    """The region as one shapely geometry in the work CRS (a small tolerance for points on the edge)."""
    if isinstance(region, (str, Path)):
        region = read_boundaries(region)
    return region_geometry(region, "region=").buffer(1.0)


def _finish(out, report: ValidationReport, path: Path, return_report: bool, mode: str):
    out = out.reset_index(drop=True)
    report.n_out = len(out)
    errors = report.errors
    if errors and mode != "report":
        first = errors[0]
        exc_type = getattr(first, "exc", BazhongGeoError)
        message = first.message
        if len(errors) > 1:
            message += "\nOther problems in this file:\n" + "\n".join(f"  - {e.message}" for e in errors[1:])
        exc = exc_type(message)
        exc.report = report
        raise exc
    out.attrs["report"] = report.to_dict()
    return (out, report) if return_report else out


def report_of(frame: Any) -> ValidationReport | None:
    """Return the :class:`ValidationReport` a loader attached to ``frame`` (``frame.attrs["report"]``), or None.

    Examples
    --------
    >>> import pandas as pd
    >>> report_of(pd.DataFrame()) is None
    True
    """
    data = getattr(frame, "attrs", {}).get("report")
    if isinstance(data, ValidationReport):
        return data
    return ValidationReport.from_dict(data) if isinstance(data, dict) else None
