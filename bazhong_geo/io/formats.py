"""Reading files by format: vector layers (GeoPackage, Shapefile with GBK .dbf, GeoJSON, GeoParquet), CSV/Excel tables.

CSV/Excel tables get header-row detection and encoding detection.
"""

from __future__ import annotations

import csv
import io as _stdio
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._errors import (
    BazhongGeoError,
    BrokenFileError,
    EmptyInputError,
    UnsupportedFormatError,
)
from .._validate import (
    ValidationReport,
    column_key,
    detect_dbf_encoding,
    detect_text_encoding,
)
from .columns import CODE_ALIASES, LAT_ALIASES, LON_ALIASES, NAME_ALIASES, POP_ALIASES, TIER_ALIASES
from .files import check_input_file

VECTOR_SUFFIXES = {".gpkg": "GeoPackage", ".shp": "Shapefile", ".geojson": "GeoJSON", ".json": "GeoJSON",
                   ".parquet": "GeoParquet", ".geoparquet": "GeoParquet", ".fgb": "FlatGeobuf"}


TABLE_SUFFIXES = {".csv": "CSV", ".txt": "CSV", ".tsv": "CSV", ".xlsx": "Excel", ".xlsm": "Excel"}


class PlainParquetError(Exception):
    """A parquet file without GeoParquet metadata (read as a table)."""


def check_path(path: str | Path) -> Path:
    """The input file checked before any driver reads it (see :func:`.files.check_input_file`)."""
    return check_input_file(path)


def check_mode(errors: str) -> None:
    """Check the ``errors=`` argument of the readers."""
    if errors not in ("raise", "report"):
        raise BazhongGeoError(f"errors must be 'raise' or 'report', got {errors!r}; pass errors='report' to "
                              f"collect problems in the report instead of raising")


def format_of(path: Path, kind: str) -> str:
    """Return ``"vector"`` or ``"table"`` by the suffix; another suffix is an error with the way to convert it."""
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


def require_rows(df: pd.DataFrame, path: Path) -> None:
    """An input without rows is an :class:`EmptyInputError` naming the file."""
    if len(df) == 0:
        raise EmptyInputError(f"{path.name}: the file has no rows/features; check the layer/sheet or the file")


def read_vector(path: Path, *, layer: str | int | None, encoding: str | None,
                report: ValidationReport) -> tuple[Any, np.ndarray]:
    """Read a vector layer with pyogrio (GeoParquet with geopandas); return (gdf, feature ids)."""
    import geopandas as gpd
    import pyogrio

    suffix = path.suffix.lower()
    if suffix in (".parquet", ".geoparquet"):
        try:
            gdf = gpd.read_parquet(path)
        except ValueError as exc:
            if "geo" in str(exc).lower():
                raise PlainParquetError from exc
            raise BrokenFileError(f"{path}: cannot be read as GeoParquet ({exc}); write it again with "
                                  f"GeoDataFrame.to_parquet or send a GeoPackage") from exc
        except Exception as exc:  # pyarrow raises ArrowInvalid/OSError for damaged files
            raise BrokenFileError(f"{path}: cannot be read as GeoParquet ({exc}); write it again with "
                                  f"GeoDataFrame.to_parquet or send a GeoPackage") from exc
        report.crs_in = gdf.crs.to_string() if gdf.crs is not None else None
        return gdf.reset_index(drop=True), np.arange(len(gdf))

    kwargs = {}
    if layer is None and suffix == ".gpkg":
        try:
            layers = pyogrio.list_layers(path)
        except Exception as exc:  # pyogrio's DataSourceError for a damaged database
            raise BrokenFileError(f"{path}: cannot be opened as a GeoPackage ({exc}); the file is damaged — copy it "
                                  f"again or export it again from your GIS") from exc
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
        raise BrokenFileError(f"{path}: cannot be read as a vector layer ({exc}); check the file (and the layer "
                              f"name) in QGIS, or export it again as GeoPackage") from exc
    crs_in = getattr(gdf, "crs", None)
    report.crs_in = crs_in.to_string() if crs_in is not None else None
    ids = gdf.index.to_numpy()
    return gdf.reset_index(drop=True), ids


def read_plain_parquet(path: Path, report: ValidationReport) -> pd.DataFrame:
    """Read a parquet file without GeoParquet metadata as a plain table."""
    try:
        df = pd.read_parquet(path)
    except Exception as exc:  # pyarrow's ArrowInvalid for a damaged file
        raise BrokenFileError(f"{path}: cannot be read as Parquet ({exc}); write it again or send a CSV") from exc
    report.add("info", "plain_parquet", "parquet without GeoParquet metadata: read as a table (lon/lat columns)")
    return df.reset_index(drop=True)


def read_table(path: Path, *, layer: str | int | None, encoding: str | None,
               report: ValidationReport) -> tuple[pd.DataFrame, np.ndarray]:
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
    _, header = rows[h]
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
            if not -len(wb.worksheets) <= sheet < len(wb.worksheets):
                raise UnsupportedFormatError(f"{path.name}: no sheet number {sheet} (the workbook has "
                                             f"{len(wb.worksheets)}: {wb.sheetnames}); pass layer=<sheet>")
            ws = wb.worksheets[sheet]
        elif sheet in wb.sheetnames:
            ws = wb[sheet]
        else:
            raise UnsupportedFormatError(f"{path.name}: no sheet {sheet!r}; sheets: {wb.sheetnames}; "
                                         f"pass layer=<sheet>")
        rows = [(i, list(r)) for i, r in enumerate(ws.iter_rows(values_only=True), start=1)
                if any(not _blank(v) for v in r)]
    finally:
        wb.close()
    return rows


def _header_index(rows: list) -> int:
    """Index of the header row among the first rows: the first with two or more known column names."""
    aliases = (*CODE_ALIASES, *NAME_ALIASES, *LON_ALIASES, *LAT_ALIASES, *TIER_ALIASES, *POP_ALIASES)
    known = {column_key(a) for a in aliases}
    for i, (_, cells) in enumerate(rows[:10]):
        if sum(column_key(c) in known for c in cells if isinstance(c, str)) >= 2:
            return i
    return 0
