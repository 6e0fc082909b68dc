"""Deliverables by file extension: Excel with Chinese headers, CSV for Excel, styled GeoPackage, GBK Shapefile, ...

:func:`write_table` writes a DataFrame or GeoDataFrame to ``.xlsx``, ``.csv``, ``.gpkg``, ``.shp``, ``.geojson`` or
``.parquet``, always to a temporary name first and then renamed, so a failure leaves no half-written file. Excel and
CSV can carry Chinese headers with units (``lang="zh"``: ``builtup_km2`` -> ``建成区面积（km²）``); Excel gets a sources
sheet; a GeoPackage stores a QGIS style (QML) in its ``layer_styles`` table so it opens styled; a Shapefile is GBK
with a ``.cpg`` and its long field names are shortened to 10 characters, the mapping returned.

>>> header("builtup_km2", "zh"), header("population", "zh"), header("builtup_km2", "en")
('建成区面积（km²）', '人口（人）', 'builtup_km2')
"""

from __future__ import annotations

import io
import itertools
import re
import shutil
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape, quoteattr

from . import atomic
from ._errors import UnsupportedFormatError
from .settlements import Tier

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "FIXED_TIME",
    "SUPPORTED",
    "WriteResult",
    "add_layer_style",
    "cell_value",
    "header",
    "normalize_xlsx",
    "qml_style",
    "save_workbook",
    "shapefile_names",
    "write_table",
]

SUPPORTED = (".xlsx", ".csv", ".gpkg", ".shp", ".geojson", ".parquet")
"""File extensions :func:`write_table` writes."""

FIXED_TIME = (2000, 1, 1, 0, 0, 0)
"""Date stamped in written workbooks (zip entries and document properties), so the same input gives the same bytes."""

_LABELS = {
    "code": "代码", "name": "名称", "name_en": "英文名称", "tier": "等级", "parent_code": "上级代码",
    "county_code": "所属县代码", "county": "所属县", "county_name": "所属县", "township_code": "所属乡镇代码",
    "population": "人口", "resident_population": "常住人口", "registered_population": "户籍人口",
    "town_area_population": "镇区人口", "population_year": "人口年份", "population_kind": "人口口径",
    "population_source": "人口来源", "builtup": "建成区面积", "builtup_share": "建成区比例", "area": "面积",
    "designations": "称号", "designation": "称号", "lon": "经度", "lat": "纬度", "year": "年份", "source": "来源",
    "distance": "距离", "minutes": "时间", "travel": "出行时间", "people": "人口", "served": "服务人口",
    "unserved": "未覆盖人口", "outside": "覆盖范围外", "zone": "分区", "zone_code": "分区代码", "class": "类别",
    "road_class": "道路等级", "speed": "速度", "length": "长度", "density": "密度", "share": "比例", "count": "数量",
    "status": "状态", "note": "备注", "notes": "备注", "kind": "类型", "level": "层级", "method": "方法",
}
_UNITS = (("_km2", "km²"), ("_m2", "m²"), ("_ha", "公顷"), ("_km", "km"), ("_m", "m"), ("_minutes", "分钟"),
          ("_min", "分钟"), ("_kmh", "km/h"), ("_pct", "%"), ("_percent", "%"), ("_persons", "人"), ("_people", "人"))
_UNIT_OF_NAME = {"population": "人", "resident_population": "人", "registered_population": "人",
                 "town_area_population": "人", "people": "人", "served": "人", "unserved": "人"}


def header(column: str, lang: str = "zh") -> str:
    """Return the header of an internal column name in ``lang``: Chinese with the unit in brackets, or as is.

    ``<base>_<unit>`` names take the unit from the suffix (``_km2`` km², ``_m`` m, ``_minutes`` 分钟, ``_pct`` %);
    population counts are in 人. Unknown names are kept.

    Examples
    --------
    >>> header("distance_m"), header("travel_minutes"), header("served_share_pct"), header("OBJECTID")
    ('距离（m）', '出行时间（分钟）', '服务人口比例（%）', 'OBJECTID')
    """
    if lang != "zh":
        return column
    base, unit = column, _UNIT_OF_NAME.get(column)
    for suffix, u in _UNITS:
        if column.endswith(suffix) and len(column) > len(suffix):
            base, unit = column[: -len(suffix)], u
            break
    label = _LABELS.get(base)
    if label is None:
        parts = base.split("_")
        if not all(p in _LABELS for p in parts):
            return column
        label = "".join(_LABELS[p] for p in parts)
    return f"{label}（{unit}）" if unit else label


@dataclass
class WriteResult:
    """What :func:`write_table` wrote.

    Attributes
    ----------
    path : pathlib.Path
        The file (for a Shapefile the ``.shp``; its sidecars lie beside it).
    files : list of pathlib.Path
        Every file written.
    field_names : dict
        Column -> field name where they differ (Shapefile names cut to 10 characters).
    notes : list of str
        What changed on the way (geometry as lon/lat columns, reprojection to WGS-84, ...).
    """

    path: Path
    files: list = field(default_factory=list)
    field_names: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)


# =============================================================================================== entry point

def write_table(data: pd.DataFrame, path: str | Path, *, lang: str = "en", sources: Any = None,
                style: dict | None = None,
                layer: str | None = None) -> WriteResult:
    """Write a table or layer, format by extension, all or nothing.

    Parameters
    ----------
    data : pandas.DataFrame or geopandas.GeoDataFrame
        The table (English snake_case columns, units in the names).
    path : path-like
        ``.xlsx``, ``.csv``, ``.gpkg``, ``.shp``, ``.geojson`` or ``.parquet``.
    lang : {"en", "zh"}
        Headers of ``.xlsx``/``.csv`` (and field aliases in the GeoPackage style): ``"zh"`` gives Chinese headers
        with units and Chinese tier names.
    sources : DataFrame, mapping or list of str, optional
        Where the data come from: a sources sheet in Excel, a ``sources`` table in a GeoPackage.
    style : dict, optional
        GeoPackage style: ``{"column": "builtup_km2", "classes": 5}`` for a graduated style (quantile breaks),
        else a single symbol.
    layer : str, optional
        GeoPackage layer name (default: the file stem).

    Returns
    -------
    WriteResult

    Raises
    ------
    UnsupportedFormatError
        For another extension (naming the supported ones), or a geometry format for a table without geometry.
    OutputError
        The folder or the file is read-only, a folder stands where the file goes, a file where a folder should be,
        or the disk is full; nothing is left half-written and an existing file is kept.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise UnsupportedFormatError(f"{path.name}: cannot write {suffix or 'a file without extension'}; "
                                     f"supported: {', '.join(SUPPORTED)}")
    if lang not in ("en", "zh"):
        raise UnsupportedFormatError(f"lang={lang!r}; use 'en' or 'zh'")
    geo = _is_geo(data)
    if suffix in (".gpkg", ".shp", ".geojson") and not geo:
        raise UnsupportedFormatError(f"{path.name}: a {suffix} file needs a geometry; this table has none — write "
                                     f".xlsx, .csv or .parquet instead")
    atomic.check_writable(path)
    writer = {".xlsx": _write_xlsx, ".csv": _write_csv, ".gpkg": _write_gpkg, ".shp": _write_shp,
              ".geojson": _write_geojson, ".parquet": _write_parquet}[suffix]
    return writer(data, path, lang=lang, sources=sources, style=style, layer=layer)


def _is_geo(data) -> bool:
    return hasattr(data, "geometry") and getattr(data, "_geometry_column_name", None) in getattr(data, "columns", ())


# =============================================================================================== tables

def _as_table(data, lang: str) -> tuple[pd.DataFrame, list[str]]:
    """A plain table: points become lon/lat (WGS-84) columns, other geometries are left out (noted)."""
    import pandas as pd

    notes: list[str] = []
    df = pd.DataFrame(data).copy()
    if _is_geo(data):
        geom = data.geometry
        df = df.drop(columns=[data.geometry.name])
        types = set(geom.dropna().geom_type) - {None}
        if types <= {"Point"} and len(types):
            ll = geom.to_crs(4326) if geom.crs is not None and not geom.crs.is_geographic else geom
            empty = geom.isna() | geom.is_empty
            if "lon" not in df.columns:
                df["lon"] = ll.x.where(~empty).round(6)
                df["lat"] = ll.y.where(~empty).round(6)
                notes.append("points written as lon/lat (WGS-84) columns")
        elif len(types):
            notes.append(f"{'/'.join(sorted(types))} geometries left out (write .gpkg or .shp for them)")
    if lang == "zh":
        if "tier" in df.columns:
            df["tier"] = df["tier"].map(_tier_zh)
        df.columns = [header(str(c), "zh") for c in df.columns]
    return df, notes


def _tier_zh(value):
    if value is None or (isinstance(value, float) and value != value):  # noqa: PLR0124
        return value
    try:
        return Tier.parse(value).label_zh
    except ValueError:
        return value


def _sources_frame(sources) -> pd.DataFrame:
    import pandas as pd

    if sources is None:
        return pd.DataFrame({"source": []})
    if isinstance(sources, pd.DataFrame):
        return sources.copy()
    if isinstance(sources, dict):
        return pd.DataFrame({"item": list(sources), "source": [str(v) for v in sources.values()]})
    return pd.DataFrame({"source": [str(s) for s in sources]})


def _write_csv(data, path: Path, *, lang: str, **_) -> WriteResult:
    df, notes = _as_table(data, lang)
    with atomic.atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    return WriteResult(path=path, files=[path], notes=[*notes, "UTF-8 with BOM (opens in Excel)"])


def _write_xlsx(data, path: Path, *, lang: str, sources=None, **_) -> WriteResult:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    df, notes = _as_table(data, lang)
    _check_excel_text(df, path)
    wb = Workbook()
    ws = wb.active
    ws.title = "数据" if lang == "zh" else "data"
    ws.append([str(c) for c in df.columns])
    for row in df.itertuples(index=False):
        ws.append([cell_value(v) for v in row])
    for i, c in enumerate(df.columns, start=1):
        ws.cell(row=1, column=i).font = Font(bold=True)
        ws.column_dimensions[get_column_letter(i)].width = max(10, min(40, 2 * len(str(c)) + 2))
    ws.freeze_panes = "A2"
    src = _sources_frame(sources)
    ss = wb.create_sheet("来源" if lang == "zh" else "sources")
    src_cols = [header(str(c), lang) for c in src.columns]
    ss.append(src_cols)
    for row in src.itertuples(index=False):
        ss.append([cell_value(v) for v in row])
    save_workbook(wb, path)
    return WriteResult(path=path, files=[path], notes=notes)


def _check_excel_text(df: pd.DataFrame, path: Path) -> None:
    """Refuse text with control characters Excel cannot store, naming the cells."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    bad = [(i + 2, str(c)) for c in df.columns
           for i, v in enumerate(df[c]) if isinstance(v, str) and ILLEGAL_CHARACTERS_RE.search(v)]
    if bad:
        cells = ", ".join(f"row {r} column {c}" for r, c in bad[:10]) + (" ..." if len(bad) > 10 else "")
        raise UnsupportedFormatError(f"{path.name}: control characters Excel cannot store in {cells}; remove them "
                                     f"from the text (or write .csv)")


def cell_value(v: Any) -> Any:
    """A value openpyxl can store: NaN/NA -> empty, numpy scalars -> Python, others as text."""
    import numpy as np
    import pandas as pd

    if v is None or (not isinstance(v, (list, tuple, dict)) and pd.isna(v)):
        return None
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, (str, int, float, bool)):
        return v
    return str(v)


def save_workbook(wb: Any, path: Path) -> None:
    """Save with fixed document times and zip dates, to a temporary name, then rename."""
    from datetime import datetime

    when = datetime(*FIXED_TIME)  # noqa: DTZ001 - workbook properties store naive times; fixed for equal bytes
    wb.properties.created = when
    wb.properties.modified = when
    wb.properties.creator = "bazhong_geo"
    with atomic.atomic_path(path) as tmp:
        wb.save(tmp)
        normalize_xlsx(tmp)


def normalize_xlsx(path: str | Path) -> None:
    """Rewrite a workbook's zip entries with a fixed date (:data:`FIXED_TIME`), so equal content gives equal bytes."""
    path = Path(path)
    buf = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":   # openpyxl stamps the save time; keep the fixed one
                stamp = "{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}Z".format(*FIXED_TIME).encode()
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                              rb"\g<1>" + stamp + rb"\g<2>", data)
            dst.writestr(fixed, data)
    path.write_bytes(buf.getvalue())


def _write_parquet(data, path: Path, **_) -> WriteResult:
    with atomic.atomic_path(path) as tmp:
        data.to_parquet(tmp, index=False)
    return WriteResult(path=path, files=[path])


# =============================================================================================== vector formats

def _write_geojson(data, path: Path, **_) -> WriteResult:
    notes = []
    out = data
    if data.crs is not None and not data.crs.equals("EPSG:4326"):
        out = data.to_crs(4326)
        notes.append(f"reprojected from {data.crs.to_string()} to WGS-84 (GeoJSON is longitude/latitude)")
    with atomic.atomic_path(path) as tmp:
        out.to_file(tmp, driver="GeoJSON", engine="pyogrio")
    return WriteResult(path=path, files=[path], notes=notes)


def _write_gpkg(data, path: Path, *, lang: str, sources=None, style=None, layer=None, **_) -> WriteResult:
    import pyogrio

    name = layer or path.stem
    with atomic.atomic_path(path) as tmp:
        data.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")
        src = _sources_frame(sources)
        if len(src):
            pyogrio.write_dataframe(src, tmp, layer="sources", driver="GPKG")
        qml = qml_style(data, style=style, lang=lang)
        add_layer_style(tmp, name, _gpkg_geometry_column(tmp, name), qml)
    return WriteResult(path=path, files=[path], notes=[f"QGIS style stored in layer_styles for layer {name!r}"])


def _gpkg_geometry_column(gpkg: Path, table: str) -> str:
    with sqlite3.connect(gpkg) as con:
        row = con.execute("SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (table,)).fetchone()
    return row[0] if row else "geom"


def shapefile_names(columns: Iterable) -> dict[str, str]:
    """Return column -> Shapefile field name (at most 10 bytes, unique) for every column that must change.

    Examples
    --------
    >>> shapefile_names(["code", "builtup_km2", "builtup_km2_2020", "resident_population"])
    {'builtup_km2': 'builtup_km', 'builtup_km2_2020': 'builtup__1', 'resident_population': 'resident_p'}
    """
    out: dict[str, str] = {}
    used: set[str] = set()
    for c in columns:
        c = str(c)
        if len(c.encode("gbk", errors="replace")) <= 10 and c.lower() not in used:
            used.add(c.lower())
            continue
        stem = c.encode("gbk", errors="replace")[:10].decode("gbk", errors="ignore")
        candidate, k = stem, 0
        while candidate.lower() in used:
            k += 1
            tail = f"_{k}"
            candidate = stem.encode("gbk")[: 10 - len(tail)].decode("gbk", errors="ignore") + tail
        used.add(candidate.lower())
        out[c] = candidate
    return out


def _write_shp(data, path: Path, **_) -> WriteResult:
    cols = [c for c in data.columns if c != data.geometry.name]
    names = shapefile_names(cols)
    out = data.rename(columns=names)
    workdir = Path(tempfile.mkdtemp(prefix=f".{path.stem}.", dir=path.parent))
    sidecars = (".shp", ".shx", ".dbf", ".prj", ".cpg")
    try:
        with atomic.Transaction() as tx:   # the parts land together or not at all
            out.to_file(workdir / path.name, driver="ESRI Shapefile", engine="pyogrio", encoding="GBK")
            (workdir / path.with_suffix(".cpg").name).write_text("GBK", encoding="ascii")
            written = [p for p in (workdir / path.with_suffix(s).name for s in sidecars) if p.exists()]
            for p in written:
                tx.adopt(p, path.parent / p.name)
            for p in (path.with_suffix(s) for s in sidecars):   # no stale sidecar of an older file survives
                if p.name not in {w.name for w in written}:
                    tx.remove(p)
        files = tx.targets
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    notes = ["GBK attributes with a .cpg (ArcGIS, QGIS)"]
    if names:
        notes.append("field names cut to 10 characters: " + ", ".join(f"{k} -> {v}" for k, v in names.items()))
    return WriteResult(path=path, files=files, field_names=names, notes=notes)


# =============================================================================================== QGIS styles

_FILL, _LINE, _MARKER = "227,26,28", "49,54,149", "215,48,39"
_RAMP = ("255,255,204", "161,218,180", "65,182,196", "44,127,184", "37,52,148", "8,29,88", "3,15,50")


def _symbol(kind: str, color: str, name: str) -> str:
    if kind == "fill":
        opts = {"color": f"{color},255", "outline_color": "35,35,35,255", "outline_width": "0.26",
                "outline_width_unit": "MM", "style": "solid", "outline_style": "solid"}
        cls = "SimpleFill"
    elif kind == "line":
        opts = {"line_color": f"{color},255", "line_width": "0.6", "line_width_unit": "MM", "line_style": "solid",
                "capstyle": "round", "joinstyle": "round"}
        cls = "SimpleLine"
    else:
        opts = {"color": f"{color},255", "name": "circle", "size": "2.6", "size_unit": "MM",
                "outline_color": "35,35,35,255", "outline_width": "0.2"}
        cls = "SimpleMarker"
    options = "".join(f'<Option type="QString" name={quoteattr(k)} value={quoteattr(v)}/>' for k, v in opts.items())
    return (f'<symbol type="{kind}" name={quoteattr(name)} alpha="1" clip_to_extent="1" force_rhr="0">'
            f'<layer class="{cls}" enabled="1" locked="0" pass="0"><Option type="Map">{options}</Option></layer>'
            f"</symbol>")


def _geometry_kind(data) -> str:
    types = set(data.geometry.dropna().geom_type)
    if types and types <= {"Polygon", "MultiPolygon"}:
        return "fill"
    if types and types <= {"LineString", "MultiLineString", "LinearRing"}:
        return "line"
    return "marker"


def _breaks(values, classes: int) -> list[float]:
    import numpy as np

    v = np.asarray(values, dtype="float64")
    v = v[np.isfinite(v)]
    if v.size == 0:
        return []
    edges = np.unique(np.quantile(v, np.linspace(0, 1, classes + 1)))
    if edges.size == 1:
        edges = np.array([edges[0], edges[0]])
    return [float(e) for e in edges]


def qml_style(data: Any, *, style: dict | None = None, lang: str = "en") -> str:
    """Return a QGIS layer style (QML) for ``data``: single symbol, or graduated on ``style["column"]``.

    Parameters
    ----------
    data : geopandas.GeoDataFrame
        The layer (its geometry type picks fill, line or marker symbols).
    style : dict, optional
        ``{"column": name, "classes": 5}``: graduated colours by quantile breaks of the column.
    lang : {"en", "zh"}
        ``"zh"`` adds Chinese field aliases (with units) so QGIS shows Chinese headers.

    Returns
    -------
    str
        The QML document.
    """
    kind = _geometry_kind(data)
    color = {"fill": _FILL, "line": _LINE, "marker": _MARKER}[kind]
    if style and style.get("column"):
        column = style["column"]
        if column not in data.columns:
            raise UnsupportedFormatError(f"style column {column!r} is not in the layer; columns: {list(data.columns)}")
        edges = _breaks(data[column], int(style.get("classes", 5)))
        ranges, symbols = [], []
        for i, (lo, hi) in enumerate(itertools.pairwise(edges)):
            ramp = _RAMP[min(len(_RAMP) - 1, round(i * (len(_RAMP) - 1) / max(1, len(edges) - 2)))]
            ranges.append(f'<range lower="{lo!r}" upper="{hi!r}" symbol="{i}" render="true" '
                          f'label={quoteattr(f"{lo:g} - {hi:g}")}/>')
            symbols.append(_symbol(kind, ramp, str(i)))
        renderer = (f'<renderer-v2 type="graduatedSymbol" attr={quoteattr(column)} graduatedMethod="GraduatedColor" '
                    f'symbollevels="0" enableorderby="0" forceraster="0"><ranges>{"".join(ranges)}</ranges>'
                    f'<symbols>{"".join(symbols)}</symbols><classificationMethod id="Quantile"/></renderer-v2>')
    else:
        renderer = (f'<renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0">'
                    f'<symbols>{_symbol(kind, color, "0")}</symbols></renderer-v2>')
    aliases = ""
    if lang == "zh":
        cols = [c for c in data.columns if c != data.geometry.name]
        aliases = "<aliases>" + "".join(
            f'<alias field={quoteattr(str(c))} index="{i}" name={quoteattr(header(str(c), "zh"))}/>'
            for i, c in enumerate(cols)) + "</aliases>"
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
            f'<qgis version="3.28.0" styleCategories="AllStyleCategories">{renderer}{aliases}'
            "<layerGeometryType>" + {"marker": "0", "line": "1", "fill": "2"}[kind] + "</layerGeometryType></qgis>\n")


def add_layer_style(gpkg: str | Path, table: str, geometry_column: str, qml: str, *, name: str | None = None) -> None:
    """Store ``qml`` as the default QGIS style of ``table`` in the GeoPackage's ``layer_styles`` table.

    The table has the layout QGIS itself creates (``f_table_name``, ``styleQML``, ``useAsDefault`` ...) and is
    registered in ``gpkg_contents`` as attributes, so QGIS applies the style when the layer is opened.
    """
    with sqlite3.connect(gpkg) as con:
        con.execute("""CREATE TABLE IF NOT EXISTS layer_styles (
            id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), f_table_schema TEXT(256),
            f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT, styleSLD TEXT,
            useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30), update_time DATETIME)""")
        con.execute("INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, last_change) "
                    "VALUES ('layer_styles', 'attributes', 'layer_styles', '2000-01-01T00:00:00.000Z')")
        con.execute("DELETE FROM layer_styles WHERE f_table_name = ?", (table,))
        con.execute("INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, "
                    "styleName, styleQML, styleSLD, useAsDefault, description, owner, ui, update_time) "
                    "VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '', '', '2000-01-01T00:00:00')",
                    (table, geometry_column, name or table, qml, escape(f"bazhong_geo style of {table}")))
