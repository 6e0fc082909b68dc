"""Read and validate planners' files — boundaries and settlement registers — into GeoDataFrames in the work CRS."""

from __future__ import annotations

import csv
import io as _stdio
import re
from pathlib import Path
from typing import TYPE_CHECKING, Literal, overload

import numpy as np
import pandas as pd

from . import crs as crs_mod
from . import region as region_mod
from . import vocabulary
from ._errors import (
    BazhongGeoError,
    DuplicateCodeError,
    EmptyInputError,
    InvalidCoordinateError,
    InvalidPopulationError,
    MissingCRSError,
    MissingColumnError,
    MissingValueError,
    UnknownCoordinateSystemError,
    UnknownTierError,
    UnsupportedFormatError,
)
from ._validate import (
    ValidationReport,
    column_key,
    detect_dbf_encoding,
    detect_text_encoding,
    find_column,
    format_rows,
    located as _located,
    normalise_codes,
    region_geometry,
    to_number,
)
from .settlements import Tier

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd

__all__ = ["read_boundaries", "read_settlements", "ValidationReport", "BAZHONG_BBOX"]

#: Default region check for settlement points: (min lon, min lat, max lon, max lat), WGS-84 / CGCS2000
#: (an alias of ``region.BAZHONG.bbox_lonlat``).
BAZHONG_BBOX = region_mod.BAZHONG.bbox_lonlat

VECTOR_SUFFIXES = {".gpkg": "GeoPackage", ".shp": "Shapefile", ".geojson": "GeoJSON", ".json": "GeoJSON",
                   ".parquet": "GeoParquet", ".geoparquet": "GeoParquet", ".fgb": "FlatGeobuf"}
TABLE_SUFFIXES = {".csv": "CSV", ".txt": "CSV", ".tsv": "CSV", ".xlsx": "Excel", ".xlsm": "Excel"}

# Column aliases, matched case-, space-, underscore- and bracket-insensitively, in this order.
CODE_ALIASES = ["code", "adcode", "pac", "xzqdm", "行政代码", "行政区划代码", "区划代码", "统计用区划代码", "代码", "编码",
                "admin_code", "nbs_code"]
NAME_ALIASES = ["name", "名称", "xzqmc", "行政区划名称", "行政区名称", "区划名称", "地名", "name_zh", "name_cn", "村名",
                "村庄名称", "乡镇名称", "镇名", "mc"]
LEVEL_ALIASES = ["level", "级别", "行政级别", "层级"]
TIER_ALIASES = ["tier", "等级", "城镇等级", "体系等级", "规划等级", "层级", "类别"]
PARENT_ALIASES = ["parent_code", "parent", "上级代码", "上级编码", "上级区划代码", "所属代码", "parentcode"]
POP_ALIASES = ["population", "pop", "人口", "常住人口", "总人口", "户籍人口", "人口数", "人口人", "常住人口人",
               "人口万人", "常住人口万人", "户籍人口万人"]
LON_ALIASES = ["lon", "lng", "long", "longitude", "经度", "x", "东经", "lon_wgs84", "lng_wgs84", "longitude_wgs84",
               "point_x", "x坐标", "横坐标"]
LAT_ALIASES = ["lat", "latitude", "纬度", "y", "北纬", "lat_wgs84", "latitude_wgs84", "point_y", "y坐标", "纵坐标"]
WKT_ALIASES = ["geometry", "wkt", "geom", "the_geom"]

_WEB = {"wgs84": "wgs84", "wgs-84": "wgs84", "gcj02": "gcj02", "gcj-02": "gcj02", "gcj": "gcj02", "amap": "gcj02",
        "gaode": "gcj02", "tencent": "gcj02", "火星坐标": "gcj02", "bd09": "bd09", "bd-09": "bd09", "baidu": "bd09"}
_CHINA_LON, _CHINA_LAT = (73.0, 136.0), (3.0, 54.0)


# =============================================================================================== public API

@overload
def read_boundaries(path, *, crs=..., layer=..., encoding=..., code_col=..., name_col=..., coords=...,
                    return_report: Literal[False] = ..., errors: str = ...) -> "gpd.GeoDataFrame": ...
@overload
def read_boundaries(path, *, crs=..., layer=..., encoding=..., code_col=..., name_col=..., coords=...,
                    return_report: Literal[True], errors: str = ...) -> "tuple[gpd.GeoDataFrame, ValidationReport]": ...


def read_boundaries(path, *, crs=None, layer=None, encoding=None, code_col=None, name_col=None, coords=None,
                    return_report: bool = False, errors: str = "raise"):
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
    coords : {"gcj02", "bd09"}, optional
        The file's longitude/latitude are GCJ-02 (Amap/Tencent) or BD-09 (Baidu) although labelled
        WGS-84; they are converted to WGS-84 on load.
    return_report : bool
        Also return the :class:`ValidationReport`.
    errors : {"raise", "report"}
        ``"raise"`` (default): any error raises its typed exception. ``"report"``: errors are only
        recorded in the report (``report.has_errors``) and the frame is returned as far as it could
        be built (bad values NaN/None, no reprojection without a CRS) — for checking a file.

    Returns
    -------
    geopandas.GeoDataFrame or (GeoDataFrame, ValidationReport)
        EPSG:4545, columns ``code`` (str), ``name``, ``level`` (``prefecture`` / ``county`` /
        ``township`` / ``village`` from the code length where no level column exists), the other
        attributes as in the file, ``geometry``. Invalid polygons are repaired (reported), empty or
        missing geometries kept (reported); rows in = rows out.

    Raises
    ------
    MissingCRSError, MissingColumnError, MissingValueError, DuplicateCodeError, UnsupportedFormatError, EmptyInputError

    Examples
    --------
    >>> gdf, report = read_boundaries("counties.shp", return_report=True)   # doctest: +SKIP
    >>> print(report)                                                      # doctest: +SKIP
    """
    path = _check_path(path)
    _check_mode(errors)
    report = ValidationReport(str(path), "boundaries")
    fmt = _format_of(path, kind="boundaries")
    if fmt == "table":
        raise UnsupportedFormatError(
            f"{path.name}: boundaries must be a vector file (GeoPackage, Shapefile, GeoJSON, GeoParquet), not a "
            f"{path.suffix} table; export the layer from your GIS as GeoPackage")
    gdf, row_ids = _read_vector(path, layer=layer, encoding=encoding, report=report)
    report.row_label = "FID"
    if not isinstance(gdf, _gpd().GeoDataFrame):
        raise UnsupportedFormatError(f"{path.name}: the layer has no geometry column; boundaries need polygons "
                                     f"(pass layer=... if another layer holds them)")
    _require_rows(gdf, path)
    report.n_in = len(gdf)

    out = _rename(gdf, report, [("code", code_col, CODE_ALIASES, True), ("name", name_col, NAME_ALIASES, False),
                                ("level", None, LEVEL_ALIASES, False)], path)
    out["code"] = normalise_codes(out["code"])
    _check_missing(out["code"], row_ids, report, "code", path,
                   "fill in the administrative code (6-digit county, 9-digit township)")
    _check_duplicates(out["code"], row_ids, report, path,
                      "a boundary file holds one feature per unit: dissolve multi-part units "
                      "(gdf.dissolve('code')) or correct the codes")
    if "name" not in out.columns:
        out["name"] = None
        report.add("warning", "no_name_column", f"no name column found among {list(gdf.columns.drop(gdf.geometry.name))}"
                   f"; pass name_col=...")
    if "level" in out.columns:
        out["level"] = out["level"].map(lambda v: region_mod.LEVEL_WORDS.get(str(v).strip(), v) if pd.notna(v) else None)
    else:
        out["level"] = out["code"].map(region_mod.code_level)
        unknown = out["level"].isna() & out["code"].notna()
        report.add("info", "level_from_code", "level derived from the code length (6-digit …00 prefecture, "
                   "6-digit county, 9-digit township, 12-digit village)")
        if unknown.any():
            report.add("warning", "level_unknown", f"{int(unknown.sum())} code(s) of unusual length: level left "
                       f"empty", rows=row_ids[unknown.to_numpy()])

    out = _vector_geometry(out, row_ids, report, path, crs=crs, coords=coords, kind="boundaries")
    if out.crs is not None:
        _check_region(out, row_ids, report, None, kind="boundaries")
    cols = ["code", "name", "level"]
    out = out[cols + [c for c in out.columns if c not in cols]]
    return _finish(out, report, path, return_report, errors)


@overload
def read_settlements(path, *, coords: str = ..., crs=..., lon_col=..., lat_col=..., layer=..., encoding=..., region=...,
                     code_col=..., name_col=..., return_report: Literal[False] = ...,
                     errors: str = ...) -> "gpd.GeoDataFrame": ...
@overload
def read_settlements(path, *, coords: str = ..., crs=..., lon_col=..., lat_col=..., layer=..., encoding=..., region=...,
                     code_col=..., name_col=..., return_report: Literal[True],
                     errors: str = ...) -> "tuple[gpd.GeoDataFrame, ValidationReport]": ...


def read_settlements(path, *, coords: str = "wgs84", crs=None, lon_col=None, lat_col=None, layer=None, encoding=None,
                     region=None, code_col=None, name_col=None, return_report: bool = False,
                     errors: str = "raise"):
    """Read a settlement register (CSV/Excel with lon/lat, or a point layer) into the work CRS.

    Parameters
    ----------
    path : str or Path
        CSV (UTF-8, UTF-8 with BOM or GB18030/GBK, detected), Excel ``.xlsx`` (sheet = ``layer``), or a
        GeoPackage/Shapefile/GeoJSON/GeoParquet point layer.
    coords : str
        Coordinate system of the lon/lat (or x/y) columns of a table: ``"wgs84"`` (default),
        ``"cgcs2000"`` (EPSG:4490), ``"gcj02"`` (Amap/Tencent, 火星坐标), ``"bd09"`` (Baidu) or any
        CRS pyproj understands (``"EPSG:4545"``). GCJ-02/BD-09 are converted to WGS-84 on load. For a
        vector file, ``"gcj02"``/``"bd09"`` say its lon/lat are web-map coordinates; otherwise the
        file's own CRS is used.
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
    InvalidCoordinateError, MissingCRSError, UnknownCoordinateSystemError, UnsupportedFormatError, EmptyInputError
        All problems of a file are collected first; the exception raised is that of the first error
        and its message lists the others. The full report is attached as ``exc.report``.

    Examples
    --------
    >>> gdf, report = read_settlements("villages.csv", coords="gcj02", return_report=True)  # doctest: +SKIP
    >>> report.has_errors                                                                   # doctest: +SKIP
    False
    """
    path = _check_path(path)
    _check_mode(errors)
    report = ValidationReport(str(path), "settlements")
    fmt = _format_of(path, kind="settlements")
    if fmt == "vector":
        try:
            gdf, row_ids = _read_vector(path, layer=layer, encoding=encoding, report=report)
            report.row_label = "FID"
            if not isinstance(gdf, _gpd().GeoDataFrame):
                report.add("info", "no_geometry", "the layer has no geometry column: read as a table (lon/lat columns)")
                fmt = "table"
        except _PlainParquet:
            gdf, row_ids = _read_plain_parquet(path, report), None
            row_ids = np.arange(len(gdf))
            report.row_label = "row (0-based)"
            fmt = "table"
    else:
        gdf, row_ids = _read_table(path, layer=layer, encoding=encoding, report=report)
        report.row_label = "row"
    _require_rows(gdf, path)
    report.n_in = len(gdf)

    out = _rename(gdf, report, [("code", code_col, CODE_ALIASES, True), ("name", name_col, NAME_ALIASES, True),
                                ("tier", None, TIER_ALIASES, False), ("parent_code", None, PARENT_ALIASES, False),
                                ("population", None, POP_ALIASES, False)], path)
    out["code"] = normalise_codes(out["code"])
    _check_missing(out["code"], row_ids, report, "code", path, "give every settlement a code (NBS 9-digit township, "
                   "12-digit village, or your own unique code)")
    _check_duplicates(out["code"], row_ids, report, path,
                      "give every settlement its own code (NBS 12-digit codes for villages, 9-digit for townships)")
    out["name"] = out["name"].map(lambda v: str(v).strip() if pd.notna(v) and str(v).strip() else None)
    blank_name = out["name"].isna().to_numpy()
    if blank_name.any():
        report.add("warning", "missing_name", f"{int(blank_name.sum())} row(s) without a name (kept)",
                   rows=row_ids[blank_name])
    _tiers(out, row_ids, report, path)
    if "parent_code" in out.columns:
        out["parent_code"] = normalise_codes(out["parent_code"])
    else:
        out["parent_code"] = pd.Series([None] * len(out), index=out.index, dtype=object)
        report.add("info", "no_parent_column", "no parent_code column: parents left empty "
                   "(SettlementSystem.assign_parents can place them)")
    _population(out, row_ids, report, path)
    _other_columns(out, fmt)

    if fmt == "vector":
        out = _vector_geometry(out, row_ids, report, path, crs=crs, coords=coords, kind="settlements")
    else:
        out = _table_geometry(out, row_ids, report, path, coords=coords, crs=crs, lon_col=lon_col, lat_col=lat_col)
    if region is not False and out.crs is not None:
        _check_region(out, row_ids, report, region)
    cols = ["code", "name", "tier", "parent_code", "population"]
    out = out[cols + [c for c in out.columns if c not in cols]]
    return _finish(out, report, path, return_report, errors)


# =============================================================================================== reading

class _PlainParquet(Exception):
    """A parquet file without GeoParquet metadata (read as a table)."""


def _check_path(path) -> Path:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file; check the path (relative paths start in {Path.cwd()})")
    return path


def _check_mode(errors: str) -> None:
    if errors not in ("raise", "report"):
        raise ValueError(f"errors must be 'raise' or 'report', got {errors!r}")


def _format_of(path: Path, kind: str) -> str:
    suffix = path.suffix.lower()
    if suffix in VECTOR_SUFFIXES:
        return "vector"
    if suffix in TABLE_SUFFIXES:
        return "table"
    hint = {".xls": "save it as .xlsx (Excel: File > Save As > Excel Workbook)",
            ".zip": "unzip it and pass the .shp or .gpkg inside",
            ".kml": "convert it to GeoPackage (ogr2ogr out.gpkg in.kml)",
            ".dbf": "pass the .shp next to it"}.get(suffix, "convert it to GeoPackage, CSV or .xlsx")
    known = sorted(set(VECTOR_SUFFIXES) | (set(TABLE_SUFFIXES) if kind == "settlements" else set()))
    raise UnsupportedFormatError(f"{path.name}: the format {suffix or '(no suffix)'} is not read by the {kind} "
                                 f"loader (reads {', '.join(known)}); {hint}")


def _require_rows(df, path: Path) -> None:
    if len(df) == 0:
        raise EmptyInputError(f"{path.name}: the file has no rows/features; check the layer/sheet or the file")


def _read_vector(path: Path, *, layer, encoding, report: ValidationReport):
    """Read a vector layer with pyogrio (GeoParquet with geopandas); return (gdf, feature ids)."""
    import geopandas as gpd
    import pyogrio

    suffix = path.suffix.lower()
    if suffix in (".parquet", ".geoparquet"):
        try:
            gdf = gpd.read_parquet(path)
        except ValueError as exc:
            if "geo" in str(exc).lower():
                raise _PlainParquet() from exc
            raise UnsupportedFormatError(f"{path.name}: cannot read as GeoParquet ({exc})") from exc
        report.crs_in = gdf.crs.to_string() if gdf.crs is not None else None
        return gdf.reset_index(drop=True), np.arange(len(gdf))

    kwargs = {}
    if layer is None and suffix == ".gpkg":
        layers = pyogrio.list_layers(path)
        spatial = [str(name) for name, gtype in layers if gtype is not None]
        if len(layers) > 1:
            layer = spatial[0] if spatial else str(layers[0][0])
            report.add("info", "layer", f"{len(layers)} layers ({', '.join(str(n) for n, _ in layers)}); read "
                       f"'{layer}' — pass layer=... for another")
    if layer is not None:
        kwargs["layer"] = layer
    if suffix == ".shp":
        if encoding is None:
            encoding, how = detect_dbf_encoding(path)
            if encoding is None and "neither" in how:
                raise UnsupportedFormatError(
                    f"{path.name}: the .dbf text is neither UTF-8 nor GB18030/GBK ({how}); pass encoding=... "
                    f"(e.g. encoding='big5') or add a .cpg file naming the code page")
            report.add("info", "encoding", f".dbf encoding {encoding or 'ASCII'} ({how})")
        else:
            report.add("info", "encoding", f".dbf encoding {encoding} (given)")
        report.encoding = encoding
    if encoding is not None:
        kwargs["encoding"] = encoding
    try:
        gdf = pyogrio.read_dataframe(path, fid_as_index=True, **kwargs)
    except Exception as exc:  # pyogrio raises DataSourceError/DataLayerError and friends
        raise UnsupportedFormatError(f"{path.name}: cannot be read as a vector layer ({exc}); check the file "
                                     f"(and the layer name) in QGIS") from exc
    crs_in = getattr(gdf, "crs", None)
    report.crs_in = crs_in.to_string() if crs_in is not None else None
    ids = gdf.index.to_numpy()
    return gdf.reset_index(drop=True), ids


def _read_plain_parquet(path: Path, report: ValidationReport) -> pd.DataFrame:
    df = pd.read_parquet(path)
    report.add("info", "plain_parquet", "parquet without GeoParquet metadata: read as a table (lon/lat columns)")
    return df.reset_index(drop=True)


def _read_table(path: Path, *, layer, encoding, report: ValidationReport):
    """Read a CSV or Excel sheet as text/values; return (DataFrame, row numbers as in the file)."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        rows = _excel_rows(path, layer)
    else:
        data = path.read_bytes()
        if encoding is None:
            try:
                encoding = detect_text_encoding(data)
            except UnicodeError:
                raise UnsupportedFormatError(
                    f"{path.name}: the text is neither UTF-8 nor GB18030/GBK; pass encoding=... or save the file "
                    f"as 'CSV UTF-8' from Excel") from None
            report.add("info", "encoding", f"text encoding {encoding} (detected)")
        else:
            report.add("info", "encoding", f"text encoding {encoding} (given)")
        report.encoding = encoding
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise UnsupportedFormatError(f"{path.name}: cannot decode as {encoding} ({exc}); pass another "
                                         f"encoding= or leave it out to detect it") from None
        text = text.lstrip("\ufeff")
        rows = _csv_rows(text, path)
    # rows: list of (row number in the file, [cells])
    if not rows:
        raise EmptyInputError(f"{path.name}: the file is empty; check the file (or the sheet, layer=...)")
    h = _header_index(rows)
    if h:
        report.add("info", "header_row", f"header found on row {rows[h][0]}; rows above it skipped")
    header_no, header = rows[h]
    width = max(len(r) for _, r in rows[h:])
    names, seen = [], {}
    for i in range(width):
        name = str(header[i]).strip() if i < len(header) and header[i] is not None and str(header[i]).strip() \
            else f"unnamed_{i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name}.{seen[name]}"
        else:
            seen[name] = 0
        names.append(name)
    body = [(n, list(r) + [None] * (width - len(r))) for n, r in rows[h + 1:]]
    blank = [n for n, r in body if all(_blank(v) for v in r)]
    body = [(n, r) for n, r in body if not all(_blank(v) for v in r)]
    if blank:
        report.add("info", "blank_rows", f"{len(blank)} blank row(s) ignored", rows=blank)
    df = pd.DataFrame([r for _, r in body], columns=names, dtype=object)
    df = df.map(lambda v: None if _blank(v) else (v.strip() if isinstance(v, str) else v))
    return df, np.array([n for n, _ in body], dtype=int)


def _blank(v) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v.strip())


def _csv_rows(text: str, path: Path) -> list:
    lines = [ln for ln in text.splitlines()[:20] if ln.strip()]
    first = lines[0] if lines else ""
    counts = {d: first.count(d) for d in (",", "\t", ";", "|")}   # the header decides: values may hold ';'
    delimiter = max(counts, key=counts.get) if max(counts.values()) > 0 else None
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff("\n".join(lines), delimiters=",\t;|").delimiter
        except csv.Error:
            delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    reader = csv.reader(_stdio.StringIO(text, newline=""), delimiter=delimiter)
    rows, last = [], 0
    for cells in reader:
        start = last + 1
        last = reader.line_num
        if cells:
            rows.append((start, cells))
    return rows


def _excel_rows(path: Path, sheet) -> list:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise UnsupportedFormatError(f"{path.name}: cannot be opened as an .xlsx workbook ({exc}); re-save it "
                                     f"from Excel as .xlsx") from exc
    try:
        if sheet is None:
            ws = wb.worksheets[0]
        elif isinstance(sheet, int):
            ws = wb.worksheets[sheet]
        elif sheet in wb.sheetnames:
            ws = wb[sheet]
        else:
            raise UnsupportedFormatError(f"{path.name}: no sheet {sheet!r}; sheets: {wb.sheetnames}; pass layer=<sheet>")
        rows = [(i, list(r)) for i, r in enumerate(ws.iter_rows(values_only=True), start=1)
                if any(not _blank(v) for v in r)]
    finally:
        wb.close()
    return rows


def _header_index(rows: list) -> int:
    """Index of the header row among the first rows: the first with two or more known column names."""
    known = {column_key(a) for a in CODE_ALIASES + NAME_ALIASES + LON_ALIASES + LAT_ALIASES + TIER_ALIASES + POP_ALIASES}
    for i, (_, cells) in enumerate(rows[:10]):
        if sum(column_key(c) in known for c in cells if isinstance(c, str)) >= 2:
            return i
    return 0


# =============================================================================================== columns

def _rename(df, report: ValidationReport, specs, path: Path):
    """Rename source columns to the normalised names; MissingColumnError for required ones."""
    geom = df.geometry.name if hasattr(df, "geometry") and isinstance(df, _gpd().GeoDataFrame) else None
    columns = [c for c in df.columns if c != geom]
    mapping = {}
    for target, explicit, aliases, required in specs:
        if explicit is not None and explicit not in columns:
            raise MissingColumnError(f"{path.name}: no column {explicit!r} (given as the {target} column); "
                                     f"columns are {columns}")
        src = find_column([c for c in columns if c not in mapping], aliases, explicit)
        if src is None:
            if required:
                raise MissingColumnError(
                    f"{path.name}: no {target} column among {columns}; rename one to '{target}' or pass "
                    f"{target}_col=... (recognised names: {', '.join(aliases[:8])} ...)")
            continue
        mapping[src] = target
    # a column already called like a target but not chosen would clash: keep it under a suffixed name
    clashes = {c: f"{c}_original" for c in columns if c in mapping.values() and c not in mapping}
    out = df.rename(columns={**clashes, **mapping})
    for src, target in mapping.items():
        report.columns[str(src)] = target
    if any(str(s) != t for s, t in mapping.items()):
        report.add("info", "columns", "columns mapped: " + ", ".join(f"{s} -> {t}" for s, t in mapping.items()))
    return out


def _gpd():
    import geopandas as gpd

    return gpd


def _check_missing(values: pd.Series, row_ids, report, what: str, path: Path, fix: str) -> None:
    missing = values.isna().to_numpy()
    if missing.any():
        rows = row_ids[missing]
        report.add("error", f"missing_{what}",
                   f"{path.name}: {int(missing.sum())} row(s) without a {what} ({report.row_label} "
                   f"{format_rows(rows)}); {fix}", rows=rows)
        report.errors[-1].exc = MissingValueError


def _check_duplicates(codes: pd.Series, row_ids, report, path: Path, fix: str) -> None:
    dup = codes.notna() & codes.duplicated(keep=False)
    if not dup.any():
        return
    groups = {}
    for code, rid in zip(codes[dup], row_ids[dup.to_numpy()]):
        groups.setdefault(code, []).append(rid)
    listing = "; ".join(f"{c} ({report.row_label} {format_rows(r)})" for c, r in sorted(groups.items())[:20])
    more = f"; ... (+{len(groups) - 20} more codes)" if len(groups) > 20 else ""
    report.add("error", "duplicate_code", f"{path.name}: {len(groups)} duplicate code(s): {listing}{more}; {fix}",
               rows=row_ids[dup.to_numpy()])
    report.errors[-1].exc = DuplicateCodeError


def _tier_of_code(code) -> str | None:
    level = region_mod.code_level(code)
    return {"prefecture": "central_city", "county": "county_town", "township": "town", "village": "village"}.get(level)


def _tiers(out, row_ids, report, path: Path) -> None:
    allowed = ", ".join(f"{t.value} ({t.label_zh})" for t in Tier)
    if "tier" not in out.columns:
        inferred = out["code"].map(_tier_of_code)
        bad = inferred.isna().to_numpy()
        if bad.any():
            report.add("error", "no_tier", f"{path.name}: no tier column, and {int(bad.sum())} code(s) are not NBS "
                       f"codes the tier could be inferred from ({report.row_label} {format_rows(row_ids[bad])}); "
                       f"add a column 'tier' with one of: {allowed}", rows=row_ids[bad])
            report.errors[-1].exc = MissingColumnError
        counts = inferred.value_counts()
        report.add("warning", "tier_inferred", "no tier column: tiers inferred from NBS code length (6-digit …00 "
                   "central_city, 6-digit county_town, 9-digit town, 12-digit village): "
                   + ", ".join(f"{k}={v}" for k, v in counts.items()) + "; add a 'tier' column to state them")
        out["tier"] = inferred
        return
    raw = out["tier"]
    parsed, bad = {}, []
    for v in pd.unique(raw[raw.notna()]):
        try:
            parsed[v] = Tier.parse(v).value
        except UnknownTierError:
            bad.append(v)
    missing = raw.isna().to_numpy()
    if missing.any():
        report.add("error", "missing_tier", f"{path.name}: {int(missing.sum())} row(s) without a tier "
                   f"({report.row_label} {format_rows(row_ids[missing])}); allowed tiers: {allowed}",
                   rows=row_ids[missing])
        report.errors[-1].exc = UnknownTierError
    if bad:
        mask = raw.isin(bad).to_numpy()
        by_value = "; ".join(f"{v!r} ({report.row_label} {format_rows(row_ids[(raw == v).to_numpy()])})"
                             for v in bad[:20])
        designations = {v: vocabulary.designation_of_word(v) for v in bad if vocabulary.designation_of_word(v)}
        hint = ("; " + ", ".join(f"{v!r} ({k})" for v, k in designations.items()) + " name designations, not "
                "tiers: move them to a 'designations' column (the keys shown) and state the tier "
                "(bazhong_geo.vocabulary.classify_term splits a 等级 column into both)") if designations else ""
        report.add("error", "unknown_tier", f"{path.name}: unknown tier name(s) {by_value}; allowed tiers: "
                   f"{allowed} (English file spelling or the Chinese name){hint}", rows=row_ids[mask])
        report.errors[-1].exc = UnknownTierError
    out["tier"] = pd.Series([parsed.get(v) if pd.notna(v) else None for v in raw], index=out.index, dtype=object)
    changed = [f"{k} -> {v}" for k, v in parsed.items() if k != v]
    if changed:
        report.add("info", "tier_names", "tier names normalised: " + ", ".join(changed))


def _population(out, row_ids, report, path: Path) -> None:
    if "population" not in out.columns:
        out["population"] = np.nan
        report.add("info", "no_population_column", "no population column: population unknown (NaN) for all rows")
        return
    src = next((s for s, t in report.columns.items() if t == "population"), "population")
    num, bad = to_number(out["population"])
    if bad.any():
        vals = out["population"].to_numpy()[bad]
        listing = ", ".join(f"{r}: {v!r}" for r, v in list(zip(row_ids[bad], vals))[:15])
        report.add("error", "non_numeric_population",
                   f"{path.name}: non-numeric population in {int(bad.sum())} row(s) ({report.row_label} {listing}"
                   f"{' ...' if bad.sum() > 15 else ''}); write plain numbers of people (e.g. 22000, not '约2.2万人'), "
                   f"leave the cell empty if unknown", rows=row_ids[bad])
        report.errors[-1].exc = InvalidPopulationError
    neg = num < 0
    if neg.any():
        listing = ", ".join(f"{r}: {v:g}" for r, v in list(zip(row_ids[neg], num[neg]))[:15])
        report.add("error", "negative_population",
                   f"{path.name}: negative population in {int(neg.sum())} row(s) ({report.row_label} {listing}); "
                   f"correct the values or leave the cells empty if unknown", rows=row_ids[neg])
        report.errors[-1].exc = InvalidPopulationError
    if "万" in str(src):
        num = num * 10000.0
        report.add("info", "population_unit", f"column '{src}' is in 万人 (10,000 people): multiplied by 10,000")
    unknown = np.isnan(num) & ~bad
    if unknown.any() and not unknown.all():
        report.add("info", "population_unknown", f"{int(unknown.sum())} row(s) without population (NaN)",
                   rows=row_ids[unknown])
    out["population"] = np.where(bad, np.nan, num).astype("float64")


def _other_columns(out, fmt: str) -> None:
    """Tables are read as text: make code-like columns strings and fully numeric columns numbers."""
    if fmt != "table":
        return
    core = {"code", "name", "tier", "parent_code", "population"}
    for c in out.columns:
        if c in core or pd.api.types.is_numeric_dtype(out[c]) or pd.api.types.is_datetime64_any_dtype(out[c]):
            continue
        k = column_key(c)
        if k.endswith("code") or "代码" in k or "编码" in k or k.endswith("id"):
            out[c] = normalise_codes(out[c])
            continue
        num, bad = to_number(out[c])
        if not bad.any() and not np.isnan(num).all():
            whole = not np.isnan(num).any() and np.all(num == np.round(num)) and np.abs(num).max() < 2**53
            out[c] = num.astype("int64") if whole else num


# =============================================================================================== geometry

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
    key = str(coords).strip().lower()
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


def _table_geometry(out, row_ids, report, path: Path, *, coords, crs, lon_col, lat_col):
    """Build points from lon/lat (or x/y, or WKT) columns; rows without coordinates keep geometry None."""
    import geopandas as gpd
    import shapely

    web, src_crs = _resolve_coords(coords, crs, path)
    columns = [c for c in out.columns if c not in ("code", "name", "tier", "parent_code", "population")]
    for given, what in ((lon_col, "lon_col"), (lat_col, "lat_col")):
        if given is not None and given not in out.columns:
            raise MissingColumnError(f"{path.name}: no column {given!r} (given as {what}); columns are {list(out.columns)}")
    lon_c = lon_col or find_column(columns, LON_ALIASES) or _regex_column(columns, r"(^|_)(lon|lng|longitude)(_|$)|经度")
    lat_c = lat_col or find_column(columns, LAT_ALIASES) or _regex_column(columns, r"(^|_)(lat|latitude)(_|$)|纬度")
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
        vals = [f"{r}: ({out[lon_c].iloc[i]!r}, {out[lat_c].iloc[i]!r})" for i, r in zip(np.flatnonzero(bad),
                                                                                      row_ids[bad])][:15]
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
    ok = ~np.isnan(lon)
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


def _regex_column(columns, pattern: str):
    for c in columns:
        if re.search(pattern, str(c).lower()):
            return c
    return None


def _check_lonlat(lon, lat, ok, row_ids, report, path, lon_c, lat_c) -> None:
    """Impossible or swapped longitude/latitude -> errors naming the rows."""
    impossible = ok & ((np.abs(lat) > 90) | (np.abs(lon) > 180))
    swapped_like = ok & (lon >= _CHINA_LAT[0]) & (lon <= _CHINA_LAT[1]) & (lat >= _CHINA_LON[0]) & (lat <= _CHINA_LON[1])
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
        if 70 <= b[0] and b[2] <= 140 and 0 <= b[1] and b[3] <= 60:
            return "coordinates look like longitude/latitude: pass crs=\"EPSG:4490\" (CGCS2000) or \"EPSG:4326\" (WGS-84)"
        if 3.0e7 <= b[0] <= 4.6e7:
            zone = int(b[0] // 1e6)
            return (f"x has the zone prefix {zone}: likely CGCS2000 3-degree Gauss-Kruger zone {zone}; pass "
                    f"crs=\"EPSG:{4513 + zone - 25}\"" if 25 <= zone <= 45 else "pass crs=\"EPSG:...\"")
        if 0 <= b[0] and b[2] <= 1.0e6 and 2.0e6 <= b[1] <= 6.0e6:
            return "coordinates look like Gauss-Kruger metres: pass crs=\"EPSG:4545\" (CGCS2000 3-degree CM 108E)"
    return "pass crs=\"EPSG:4490\" (CGCS2000 lon/lat) or the CRS the data were made in, or add a .prj"


def _vector_geometry(out, row_ids, report, path: Path, *, crs, coords, kind):
    """CRS (missing -> error unless crs=), web-map conversion, repairs, then the work CRS."""
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
    if web == "wgs84":
        web = None
    if web is not None and not out.crs.is_geographic:
        raise UnknownCoordinateSystemError(f"{path.name}: coords={coords!r} means longitude/latitude in {web}, but "
                                           f"the layer is projected ({out.crs.to_string()}); drop coords=")
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
    if null.any():
        report.add("warning", "null_geometry", f"{int(null.sum())} feature(s) without geometry (kept)",
                   rows=row_ids[null])
    if empty.any():
        report.add("warning", "empty_geometry", f"{int(empty.sum())} feature(s) with an empty geometry (kept)",
                   rows=row_ids[empty])
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
        detail = "; ".join(f"{r}: {why}" for r, why in list(zip(row_ids[invalid], reasons))[:10])
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
        nonpoly = present & ~np.isin(types, [3, 6])
        if nonpoly.any():
            report.add("warning", "not_polygons", f"{int(nonpoly.sum())} feature(s) are not polygons (kept)",
                       rows=row_ids[nonpoly])
    gdf[gdf.geometry.name] = _gpd().GeoSeries(arr, index=gdf.index, crs=gdf.crs)


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
        names = gdf["name"].to_numpy()[outside] if "name" in gdf.columns else [""] * int(outside.sum())
        listing = ", ".join(f"{r} {n or ''}".strip() for r, n in list(zip(row_ids[outside], names))[:10])
        fix = "the coordinate system (coords=)" if kind == "settlements" else "the CRS of the file (.prj)"
        report.add("warning", "outside_region", f"{int(outside.sum())} {what} outside {where} (kept): {listing}"
                   f"; check the coordinates and {fix}", rows=row_ids[outside])


def _region_geometry(region):
    """The region as one shapely geometry in the work CRS (a small tolerance for points on the edge)."""
    if isinstance(region, (str, Path)):
        region = read_boundaries(region)
    return region_geometry(region, "region=").buffer(1.0)


# =============================================================================================== finish

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
    return (out, report) if return_report else out
