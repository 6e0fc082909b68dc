"""The data-collection workbook and the merge of filled files into a workspace's settlement register.

:func:`write_collection_workbook` writes an Excel workbook pre-filled with every registered settlement (code, name,
tier, parent, county) and empty columns for what the bureau collects (a point and its coordinate system, resident
and registered population with year and source, town-area population, built-up km², designations), with dropdown
lists and an instructions sheet in Chinese and English. The same register gives the same bytes.

:func:`merge_register` merges a filled workbook — or any settlement file keyed by code, or by name within county —
into the workspace register (a CSV or GeoPackage in the workspace, never the embedded register), and reports every
matched, unmatched, ambiguous and conflicting row. Existing values are never overwritten silently: a differing
value is a conflict, listed, and replaced only with ``overwrite=True``. The register keeps its rows (rows in =
rows out).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import columns, matching, writers
from ._errors import RegisterMergeError, UnknownCoordinateSystemError
from .crs import transform_coords, web_system
from .io.files import check_input_file
from .matching import normalise_name  # re-exported: part of the workbook's public API
from .region import BAZHONG, normalize_code
from .resources import data_file
from .settings import WORK_CRS
from .settlements import Tier

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Mapping

__all__ = [
    "COORDINATE_SYSTEMS",
    "DESIGNATIONS",
    "SHEET",
    "WORKBOOK_COLUMNS",
    "MergeReport",
    "embedded_register_path",
    "merge_register",
    "normalise_name",
    "read_collection_workbook",
    "read_register",
    "write_collection_workbook",
]

SHEET = "登记表 Register"
"""The sheet of the workbook holding the settlements."""

WORKBOOK_COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("code", "代码", True), ("name", "名称", True), ("tier", "等级", True), ("parent_code", "上级代码", True),
    ("county_code", "所属县代码", True), ("county", "所属县", True),
    ("lon", "经度/横坐标", False), ("lat", "纬度/纵坐标", False), ("coord_system", "坐标系", False),
    ("resident_population", "常住人口（人）", False), ("resident_population_year", "常住人口年份", False),
    ("resident_population_source", "常住人口来源", False),
    ("registered_population", "户籍人口（人）", False), ("registered_population_year", "户籍人口年份", False),
    ("registered_population_source", "户籍人口来源", False),
    ("town_area_population", "镇区人口（人）", False), ("town_area_population_year", "镇区人口年份", False),
    ("builtup_km2", "建成区面积（km²）", False), ("builtup_year", "建成区年份", False),
    ("designations", "称号", False), ("notes", "备注", False),
)
"""(key, Chinese label, pre-filled) of each column of the register sheet; the header cell is "label\\nkey"."""

COORDINATE_SYSTEMS = ("wgs84", "cgcs2000", "gcj02", "bd09", WORK_CRS, "EPSG:4524")
"""Coordinate systems offered in the workbook's dropdown (any EPSG code may be typed)."""

DESIGNATIONS = ("全国重点镇", "省级重点镇", "市级重点镇", "重点镇", "全国特色小镇", "省级特色小镇", "市级特色镇",
                "中心镇", "四好村", "省级四好村")
"""Designation words offered in the dropdown (several may be typed, separated by ；or ;)."""

_LISTS = "选项 Lists"
_INSTRUCTIONS = "说明 Instructions"
_GREY = "F2F2F2"
_HEAD = "DDEBF7"
_INSTRUCTION_LINES = (
    ("资料收集表 / Data-collection workbook", ""),
    ("", ""),
    ("1. 灰色列（代码、名称、等级、上级、所属县）来自行政区划名录，请勿修改；按代码合并。",
     "Grey columns (code, name, tier, parent, county) come from the register: do not change them; rows merge by code."),
    ("2. 白色列请填写已掌握的数据，未知的留空（不要填 0）。",
     "Fill the white columns you know; leave unknown cells empty (never 0)."),
    ("3. 坐标：经度/纬度（或投影坐标）及其坐标系：wgs84、cgcs2000、gcj02（高德/腾讯）、bd09（百度）或 EPSG 代码。",
     ("Point: longitude/latitude (or projected x/y) and its coordinate system: wgs84, cgcs2000, gcj02 (Amap/Tencent), "
      "bd09 (Baidu) or an EPSG code (EPSG:4524 for CGCS2000 Gauss-Kruger zone 36 with the zone prefix).")),
    ("4. 人口：常住人口与户籍人口分列，各填年份与来源（如 第七次全国人口普查、统计年鉴 2022）。",
     "Population: resident and registered in their own columns, each with its year and source."),
    ("5. 镇区人口：镇区（建成区）内常住人口；建成区面积单位 km²。",
     "Town-area population: residents of the built-up town area; built-up area in km²."),
    ("6. 称号：从下拉列表选择，多个用分号（；）分隔，如 全国重点镇；省级特色小镇。",
     "Designations: pick from the list; several separated by semicolons."),
    ("7. 等级可改为规划等级（如 特色镇）；与名录不同的值会在合并报告中列为冲突。",
     "Tier may be set to the planned tier (e.g. 特色镇); a value differing from the register is listed as a conflict."),
    ("8. 填好后运行 `bazhong-geo update 本文件`，合并到工作区名录，并查看合并报告。",
     "Then run `bazhong-geo update THIS_FILE` to merge into the workspace register and read the merge report."),
)


# =============================================================================================== the register

def embedded_register_path() -> Path:
    """Return the path of the embedded Bazhong settlement register (read-only; a workspace copies it)."""
    return data_file("settlements/register.csv")


def read_register(path: str | Path) -> pd.DataFrame:
    """Read a settlement register (CSV or GeoPackage) as a plain table with text codes and ``lon``/``lat`` columns.

    A GeoPackage's point geometry becomes ``lon``/``lat`` in WGS-84.
    """
    path = Path(path)
    if path.suffix.lower() == ".gpkg":
        import geopandas as gpd

        gdf = gpd.read_file(path, engine="pyogrio", layer=_register_layer(path))
        geom = gdf.geometry.to_crs(4326) if gdf.crs is not None else gdf.geometry
        empty = geom.isna() | geom.is_empty
        df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
        df["lon"] = geom.x.where(~empty)
        df["lat"] = geom.y.where(~empty)
    elif path.suffix.lower() == ".csv":
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        df = df.replace({"": None})
    else:
        raise RegisterMergeError(f"{path.name}: a workspace register is a .csv or .gpkg file")
    for c in ("code", "parent_code", "county_code", "township_code"):
        if c in df.columns:
            df[c] = df[c].map(lambda v: normalize_code(v) or (None if v is None else str(v)))
    return df


def _register_layer(path: Path) -> str:
    """The settlement layer of a register GeoPackage (not its styles or sources tables)."""
    import pyogrio

    if not path.exists():
        return path.stem
    layers = [n for n in pyogrio.list_layers(path)[:, 0] if n not in ("layer_styles", "sources")]
    return layers[0] if layers else path.stem


def _write_register(df: pd.DataFrame, path: Path) -> None:
    """Write the register back in its own format, all or nothing."""
    if path.suffix.lower() == ".gpkg":
        import geopandas as gpd

        lon = pd.to_numeric(df["lon"], errors="coerce")
        lat = pd.to_numeric(df["lat"], errors="coerce")
        geom = gpd.points_from_xy(lon, lat, crs=4326)
        gdf = gpd.GeoDataFrame(df, geometry=geom, crs=4326)
        gdf.loc[lon.isna() | lat.isna(), "geometry"] = None
        writers.write_table(gdf, path, layer=_register_layer(path))
        return
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        df.to_csv(tmp, index=False, encoding="utf-8")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


# =============================================================================================== the workbook

def _prefill(register: pd.DataFrame) -> pd.DataFrame:
    """The grey columns (and values the register already knows) in workbook order."""
    reg = register.reset_index(drop=True)

    def col(name):
        return reg[name] if name in reg.columns else pd.Series([None] * len(reg), dtype=object)

    out = pd.DataFrame({"code": col("code").astype(str)})
    out["name"] = col("name")
    out["tier"] = col("tier").map(lambda t: Tier.parse(t).label_zh if isinstance(t, str) and t else t)
    out["parent_code"] = col("parent_code")
    county = col("county_code")
    out["county_code"] = county
    out["county"] = county.map(lambda c: BAZHONG.name_of(c) if isinstance(c, str) else None)
    lon, lat = pd.to_numeric(col("lon"), errors="coerce"), pd.to_numeric(col("lat"), errors="coerce")
    out["lon"], out["lat"] = lon, lat
    out["coord_system"] = np.where(lon.notna() & lat.notna(), "wgs84", None)
    kind = col("population_kind").fillna("")
    resident = kind.isin(["常住", "resident"])
    out["resident_population"] = pd.to_numeric(col("population"), errors="coerce").where(resident)
    out["resident_population_year"] = pd.to_numeric(col("population_year"), errors="coerce").where(resident)
    out["resident_population_source"] = col("population_source").where(resident)
    for key in ("registered_population", "registered_population_year", "registered_population_source",
                "town_area_population", "town_area_population_year", "builtup_km2", "builtup_year", "notes"):
        out[key] = col(key)
    out["designations"] = col("designations")
    return out[[k for k, _, _ in WORKBOOK_COLUMNS]]


def write_collection_workbook(path: str | Path, register: pd.DataFrame) -> Path:
    r"""Write the data-collection workbook for ``register`` (every row pre-filled), all or nothing.

    Parameters
    ----------
    path : path-like
        The ``.xlsx`` file.
    register : pandas.DataFrame
        The settlement register (``code``, ``name``, ``tier``, ``parent_code``, ``county_code``; known ``lon``/``lat``,
        population and designations are pre-filled too), e.g. :func:`read_register` of the workspace register.

    Returns
    -------
    pathlib.Path
        The workbook. Sheets: instructions (Chinese and English), the register (header "中文\nkey", pre-filled
        columns grey, dropdowns for tier, coordinate system and designations, whole-number checks for populations
        and years), and the lists behind the dropdowns.
    """
    from openpyxl import Workbook

    path = Path(path)
    table = _prefill(register)
    wb = Workbook()
    _instructions(wb.active)
    ws = wb.create_sheet(SHEET)
    _register_sheet(ws, table)
    lists = wb.create_sheet(_LISTS)
    _lists_sheet(lists)
    _validations(ws, len(table))
    wb.active = 1
    path.parent.mkdir(parents=True, exist_ok=True)
    writers.save_workbook(wb, path)
    return path


def _instructions(ws) -> None:
    from openpyxl.styles import Alignment, Font

    ws.title = _INSTRUCTIONS
    for zh, en in _INSTRUCTION_LINES:
        ws.append([zh, en])
    ws["A1"].font = Font(bold=True, size=14)
    ws.column_dimensions["A"].width = 80
    ws.column_dimensions["B"].width = 90
    for row in ws.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def _register_sheet(ws, table: pd.DataFrame) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws.append([f"{label}\n{key}" for key, label, _ in WORKBOOK_COLUMNS])
    for row in table.itertuples(index=False):
        ws.append([writers.cell_value(v) for v in row])
    grey = PatternFill("solid", fgColor=_GREY)
    head = PatternFill("solid", fgColor=_HEAD)
    for i, (_key, label, prefilled) in enumerate(WORKBOOK_COLUMNS, start=1):
        letter = get_column_letter(i)
        cell = ws.cell(row=1, column=i)
        cell.font = Font(bold=True)
        cell.fill = head
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[letter].width = max(12, 2 * len(label) + 2)
        if prefilled:
            for r in range(2, len(table) + 2):
                ws.cell(row=r, column=i).fill = grey
            for r in range(2, len(table) + 2):
                ws.cell(row=r, column=i).number_format = "@"
    ws.row_dimensions[1].height = 32
    ws.freeze_panes = "C2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(WORKBOOK_COLUMNS))}{len(table) + 1}"


def _lists_sheet(ws) -> None:
    ws.append(["等级 tier", "坐标系 coordinate system", "称号 designation"])
    tiers = [t.label_zh for t in Tier]
    for i in range(max(len(tiers), len(COORDINATE_SYSTEMS), len(DESIGNATIONS))):
        ws.append([tiers[i] if i < len(tiers) else None,
                   COORDINATE_SYSTEMS[i] if i < len(COORDINATE_SYSTEMS) else None,
                   DESIGNATIONS[i] if i < len(DESIGNATIONS) else None])
    ws.sheet_state = "hidden"


def _validations(ws, n: int) -> None:
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    letter = {key: get_column_letter(i) for i, (key, _, _) in enumerate(WORKBOOK_COLUMNS, start=1)}
    last = n + 1
    q = f"'{_LISTS}'"
    specs = [
        (DataValidation(type="list", formula1=f"{q}!$A$2:$A${len(Tier) + 1}", errorStyle="warning",
                        error="请选择列表中的等级 / choose a tier from the list", showErrorMessage=True), ["tier"]),
        (DataValidation(type="list", formula1=f"{q}!$B$2:$B${len(COORDINATE_SYSTEMS) + 1}",
                        errorStyle="information", error="可填其他 EPSG 代码 / another EPSG code is fine",
                        showErrorMessage=True), ["coord_system"]),
        (DataValidation(type="list", formula1=f"{q}!$C$2:$C${len(DESIGNATIONS) + 1}",
                        errorStyle="information", error="多个称号用分号分隔 / separate several with ；",
                        showErrorMessage=True), ["designations"]),
        (DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0", showErrorMessage=True,
                        error="人口为非负整数 / a population is a whole number ≥ 0"),
         ["resident_population", "registered_population", "town_area_population"]),
        (DataValidation(type="whole", operator="between", formula1="1949", formula2="2100", showErrorMessage=True,
                        error="年份如 2020 / a year such as 2020"),
         ["resident_population_year", "registered_population_year", "town_area_population_year", "builtup_year"]),
        (DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", showErrorMessage=True,
                        error="面积（km²）≥ 0 / an area in km² ≥ 0"), ["builtup_km2"]),
    ]
    for dv, keys in specs:
        for key in keys:
            dv.add(f"{letter[key]}2:{letter[key]}{last}")
        ws.add_data_validation(dv)


def read_collection_workbook(path: str | Path) -> pd.DataFrame:
    """Read the register sheet of a filled workbook; columns are the keys of :data:`WORKBOOK_COLUMNS`.

    Adds ``file_row`` (the spreadsheet row number, header = 1).

    Raises
    ------
    MissingFileError, UnreadableFileError, BrokenFileError
        No such file; it may not be read; a folder, 0 bytes, or not an ``.xlsx`` workbook (checked before opening).
    RegisterMergeError
        The register sheet is absent.
    """
    from openpyxl import load_workbook

    path = check_input_file(path)
    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        if SHEET not in wb.sheetnames:
            raise RegisterMergeError(f"{path.name}: no sheet {SHEET!r}; is this the data-collection workbook? "
                                     f"Other files are read by their headers (merge_register reads them too)")
        rows = list(wb[SHEET].iter_rows(values_only=True))
    finally:
        wb.close()
    keys = [str(h).split("\n")[-1].strip() if h is not None else f"column_{i}" for i, h in enumerate(rows[0])]
    df = pd.DataFrame([list(r) for r in rows[1:]], columns=keys, dtype=object)
    df.insert(0, "file_row", range(2, len(df) + 2))
    return df


# =============================================================================================== reading other files

def _read_any(path: Path, *, mapping: Mapping | None, value_map: Mapping | None, coords: str,
              sheet: str | None) -> tuple[pd.DataFrame, list[str]]:
    """A settlement file (Excel/CSV/vector) as workbook-keyed columns, with notes on its columns."""
    check_input_file(path)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True, data_only=True)
        try:
            ours = SHEET in wb.sheetnames
        finally:
            wb.close()
        if ours and mapping is None and sheet in (None, SHEET):
            return read_collection_workbook(path), [f"{path.name}: the data-collection workbook"]
        raw = pd.read_excel(path, sheet_name=sheet or (SHEET if ours else 0), dtype=object)
    elif suffix in (".csv", ".txt"):
        raw = _read_csv(path)
    elif suffix in (".gpkg", ".shp", ".geojson", ".json", ".parquet"):
        import geopandas as gpd

        gdf = gpd.read_parquet(path) if suffix == ".parquet" else gpd.read_file(path, engine="pyogrio", layer=sheet)
        raw = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
        if gdf.crs is not None:
            pts = gdf.geometry.to_crs(4326)
            ok = pts.notna() & ~pts.is_empty & (pts.geom_type == "Point")
            raw["lon"] = pts.x.where(ok)
            raw["lat"] = pts.y.where(ok)
            raw["coord_system"] = np.where(ok, "wgs84", None)
    else:
        raise RegisterMergeError(f"{path.name}: cannot read {suffix} settlement files; use .xlsx, .csv, .gpkg, .shp, "
                                 f".geojson or .parquet")
    raw.insert(0, "file_row", range(2, len(raw) + 2))
    return _standardise(raw, path, mapping=mapping, value_map=value_map, coords=coords)


def _read_csv(path: Path) -> pd.DataFrame:
    data = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise RegisterMergeError(f"{path.name}: not UTF-8 or GBK text")
    import io

    return pd.read_csv(io.StringIO(text), dtype=object, keep_default_na=False).replace({"": None})


def _scaled(values: pd.Series, scale: float) -> pd.Series:
    """Numbers times ``scale`` (a header in 万人 gives 10000); other cells kept as they are, to be noted when merged."""
    def one(v):
        if _blank(v):
            return None
        try:
            return _plain_number(_plain_number(unicodedata.normalize("NFKC", str(v)).replace(",", "").strip()) * scale)
        except ValueError:
            return v

    return values.map(one).astype(object)


def _standardise(raw: pd.DataFrame, path: Path, *, mapping, value_map, coords: str) -> tuple[pd.DataFrame, list[str]]:
    """Rename a foreign file's columns to workbook keys (population by kind; 等级 -> tier and designations)."""
    rename, report = columns.recognize_columns(raw.drop(columns=["file_row"]), "settlements", mapping)
    notes = [f"{path.name}: " + line for line in report.lines()]
    df = raw.rename(columns=rename)
    out = pd.DataFrame({"file_row": df["file_row"]})
    for key in ("code", "name", "lon", "lat", "parent_code"):
        if key in df.columns:
            out[key] = df[key]
    if "coord_system" in df.columns:
        out["coord_system"] = df["coord_system"].fillna(coords)
    elif "lon" in out.columns:
        out["coord_system"] = coords
    if "county" in df.columns:
        out["county"] = df["county"]
    year = report.years.get("population")
    if "population" in df.columns:
        scale = report.scales.get("population", 1.0)
        target = {"registered": "registered_population"}.get(report.population_kind, "resident_population")
        if report.population_kind == "unspecified":
            notes.append(f"{path.name}: the population column does not say 常住 or 户籍; read as resident population "
                         f"(name it with a mapping to change)")
        out[target] = _scaled(df["population"], scale)
        if year is not None:
            out[f"{target}_year"] = year
    if "registered_population" in df.columns:
        out["registered_population"] = _scaled(df["registered_population"],
                                               report.scales.get("registered_population", 1.0))
    if "tier" in df.columns:
        classified = columns.classify_values(df["tier"], value_map)
        out["tier"] = classified["tier"]
        out["designations"] = classified["designation"]
        for row, problem in zip(df["file_row"], classified["problem"], strict=True):
            if problem:
                notes.append(f"{path.name} row {row}: {problem} (add it to the value mapping)")
    return out, notes


# =============================================================================================== matching

@dataclass
class _Index:
    """The register indexed for matching by code and by name."""

    register: pd.DataFrame
    by_code: dict = field(default_factory=dict)

    def __post_init__(self):
        self.by_code = {str(c): i for i, c in enumerate(self.register["code"])}

    def by_name(self, name: str, county: str | None, tier) -> tuple[list[int], str]:
        """Positions of the register rows ``name`` denotes (see :func:`bazhong_geo.matching.candidates`)."""
        hits, how = matching.candidates(self.register, name, tier if isinstance(tier, str) else None, county)
        return [self.register.index.get_loc(i) for i in hits.index], how


# =============================================================================================== merging

@dataclass
class MergeReport:
    """What :func:`merge_register` did.

    Attributes
    ----------
    source : str
        The merged file.
    rows_in, rows_out : int
        Register rows before and after (always equal).
    file_rows : int
        Rows of the merged file.
    blank_rows : int
        File rows with nothing to merge (only the pre-filled columns).
    unchanged_rows : int
        File rows matched whose every value the register already holds.
    matched : pandas.DataFrame
        ``file_row``, ``code``, ``name``, ``how`` (``code``, ``name``, ``normalised name``).
    unmatched : pandas.DataFrame
        ``file_row``, ``name``, ``county``, ``reason``.
    ambiguous : pandas.DataFrame
        ``file_row``, ``name``, ``county``, ``candidates`` (code name; ...).
    conflicts : pandas.DataFrame
        ``file_row``, ``code``, ``name``, ``column``, ``existing``, ``new``, ``overwritten``.
    updates : pandas.DataFrame
        ``file_row``, ``code``, ``column``, ``old``, ``new`` for every cell written.
    notes : list of str
        Column recognition, unknown 等级 values, coordinate conversions.
    """

    source: str
    rows_in: int = 0
    rows_out: int = 0
    file_rows: int = 0
    blank_rows: int = 0
    unchanged_rows: int = 0
    matched: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["file_row", "code", "name", "how"]))
    unmatched: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["file_row", "name", "county",
                                                                                  "reason"]))
    ambiguous: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["file_row", "name", "county",
                                                                                  "candidates"]))
    conflicts: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["file_row", "code", "name", "column", "existing", "new", "overwritten"]))
    updates: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["file_row", "code", "column", "old",
                                                                                "new"]))
    notes: list = field(default_factory=list)

    def lines(self) -> list[str]:
        """The report as readable lines (counts, then every unmatched, ambiguous and conflicting row)."""
        out = [(f"{self.source}: {self.file_rows} rows, {self.blank_rows} with nothing to merge, "
                f"{self.unchanged_rows} already in the register; "
                f"matched {len(self.matched)}, unmatched {len(self.unmatched)}, ambiguous {len(self.ambiguous)}, "
                f"conflicts {len(self.conflicts)}, cells updated {len(self.updates)}; register rows "
                f"{self.rows_in} -> {self.rows_out}")]
        out += [f"unmatched row {r.file_row}: {r.name} ({r.county or 'no county'}): {r.reason}"
                for r in self.unmatched.itertuples()]
        out += [f"ambiguous row {r.file_row}: {r.name} ({r.county or 'no county'}): {r.candidates}"
                for r in self.ambiguous.itertuples()]
        out += [f"conflict row {r.file_row}: {r.code} {r.name} {r.column}: register {r.existing!r}, file {r.new!r}"
                + (" (overwritten)" if r.overwritten else " (kept; overwrite=True to replace)")
                for r in self.conflicts.itertuples()]
        return out + list(self.notes)


_VALUE_COLUMNS = ("lon", "lat", "tier", "resident_population", "resident_population_year",
                  "resident_population_source", "registered_population", "registered_population_year",
                  "registered_population_source", "town_area_population", "town_area_population_year", "builtup_km2",
                  "builtup_year", "designations")


def _blank(v) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v.strip()) or \
        v is pd.NA


def _same(a, b) -> bool:
    """Equal as register values: numbers within 1e-7 (relative), text stripped."""
    try:
        fa, fb = float(a), float(b)
        return abs(fa - fb) <= 1e-7 * max(1.0, abs(fa), abs(fb))
    except (TypeError, ValueError):
        return str(a).strip() == str(b).strip()


def _plain_number(v):
    f = float(v)
    return int(f) if f.is_integer() else f


def _to_wgs84(lon, lat, system: str, where: str) -> tuple[float, float]:
    """Convert one point to WGS-84 longitude/latitude."""
    from pyproj import CRS, Transformer
    from pyproj.exceptions import CRSError

    text = str(system or "wgs84").strip()
    web = web_system(text)
    if web is not None:
        x, y = transform_coords(float(lon), float(lat), web, "wgs84")
        return float(x), float(y)
    key = text.lower()
    if key in ("cgcs2000", "cgcs-2000", "国家2000"):
        return float(lon), float(lat)     # CGCS2000 and WGS-84 agree within a few centimetres
    try:
        crs = CRS.from_user_input(text if not text.isdigit() else f"EPSG:{text}")
    except CRSError:
        raise UnknownCoordinateSystemError(f"{where}: unknown coordinate system {text!r}; use wgs84, cgcs2000, gcj02, "
                                           f"bd09 or an EPSG code") from None
    x, y = Transformer.from_crs(crs, 4326, always_xy=True).transform(float(lon), float(lat))
    return float(x), float(y)


def _designation_keys(text) -> list[str]:
    """Designation keys of a cell: Chinese words through the vocabulary, keys as they are."""
    if _blank(text):
        return []
    keys = []
    for part in re.split(r"[;；,，、]", str(text)):
        word = part.strip()
        if not word:
            continue
        key = columns.classify_values(pd.Series([word]))["designation"].iloc[0]
        keys.append(key or word)
    return keys


def _number(row: pd.Series, key: str, where: str, notes: list):
    """The cell as an int/float, None when blank; a non-number is noted and left out."""
    value = row.get(key)
    if _blank(value):
        return None
    text = unicodedata.normalize("NFKC", str(value)).replace(",", "").strip() if isinstance(value, str) else value
    try:
        number = _plain_number(text)
    except (TypeError, ValueError):
        notes.append(f"{where}: {key} = {value!r} is not a number; not merged")
        return None
    if number < 0:
        notes.append(f"{where}: {key} = {value!r} is negative; not merged")
        return None
    return number


def _point(row: pd.Series, where: str, notes: list) -> tuple[float, float] | None:
    """The row's point in WGS-84, None when absent or not usable (noted)."""
    if _blank(row.get("lon")) or _blank(row.get("lat")):
        return None
    system = row.get("coord_system")
    if _blank(system):
        notes.append(f"{where}: no coordinate system given for the point; read as wgs84")
    try:
        lon, lat = _to_wgs84(row["lon"], row["lat"], None if _blank(system) else system, where)
    except (TypeError, ValueError) as exc:
        notes.append(f"{where}: point not read ({exc})")
        return None
    if not (73.0 <= lon <= 136.0 and 3.0 <= lat <= 54.0):
        notes.append(f"{where}: point ({row['lon']}, {row['lat']}) in {system or 'wgs84'} falls outside China "
                     f"({lon:.4f}, {lat:.4f}): longitude and latitude swapped, or another coordinate system? "
                     f"Not merged")
        return None
    return round(lon, 7), round(lat, 7)


def _row_values(row: pd.Series, path: Path, notes: list) -> dict:
    """Register column -> new value of one file row (only filled, usable cells; the others noted)."""
    new: dict = {}
    where = f"{path.name} row {row['file_row']}"
    point = _point(row, where, notes)
    if point is not None:
        new["lon"], new["lat"] = point
        system = row.get("coord_system") if not _blank(row.get("coord_system")) else "wgs84"
        new["coord_source"] = f"{path.name} ({system})"
    if not _blank(row.get("tier")):
        try:
            new["tier"] = Tier.parse(row["tier"]).value
        except ValueError:
            notes.append(f"{where}: unknown tier {row['tier']!r} not merged")
    resident = _number(row, "resident_population", where, notes)
    if resident is not None:
        new["population"] = resident
        new["population_kind"] = "常住"
        new["population_year"] = _number(row, "resident_population_year", where, notes)
        source = row.get("resident_population_source")
        new["population_source"] = path.name if _blank(source) else source
    for key in ("registered_population", "town_area_population", "builtup_km2", "registered_population_year",
                "town_area_population_year", "builtup_year"):
        value = _number(row, key, where, notes)
        if value is not None:
            new[key] = value
    if "registered_population" in new:
        source = row.get("registered_population_source")
        new["registered_population_source"] = path.name if _blank(source) else source
    keys = _designation_keys(row.get("designations"))
    if keys:
        new["designations"] = keys
    return new


_GROUPS = (("lon", ("lat", "coord_source")), ("tier", ()),
           ("population", ("population_kind", "population_year", "population_source")),
           ("registered_population", ("registered_population_year", "registered_population_source")),
           ("town_area_population", ("town_area_population_year",)), ("builtup_km2", ("builtup_year",)))
"""A value and the cells that describe it (written together, never one without the other)."""


def _set(reg: pd.DataFrame, i: int, column: str, value, file_row, rows: dict) -> None:
    if column not in reg.columns:
        reg[column] = pd.Series([None] * len(reg), dtype=object, index=reg.index)
    old = reg.at[i, column]
    if _blank(value) or (not _blank(old) and _same(old, value)):
        return
    reg[column] = reg[column].astype(object)
    reg.at[i, column] = value
    rows["updates"].append({"file_row": file_row, "code": reg.at[i, "code"], "column": column, "old": old,
                            "new": value})


def _old(reg: pd.DataFrame, i: int, column: str):
    return reg.at[i, column] if column in reg.columns else None


def _apply(reg: pd.DataFrame, i: int, new: dict, file_row, overwrite: bool, rows: dict) -> None:
    """Write the new values of one matched row into the register, recording updates and conflicts.

    A value equal to the register's leaves its group untouched; a value where the register has none is written
    with its companions; a differing value is a conflict, written only with ``overwrite``.
    """
    for main, companions in _GROUPS:
        if main not in new:
            continue
        keys = (main, "lat") if main == "lon" else (main,)
        olds = [_old(reg, i, k) for k in keys]
        if all(not _blank(o) and _same(o, new[k]) for o, k in zip(olds, keys, strict=True)):
            continue
        if any(not _blank(o) for o in olds):
            shown = lambda vals: vals[0] if len(vals) == 1 else tuple(vals)
            rows["conflicts"].append({"file_row": file_row, "code": reg.at[i, "code"], "name": reg.at[i, "name"],
                                      "column": "lon/lat" if main == "lon" else main, "existing": shown(olds),
                                      "new": shown([new[k] for k in keys]), "overwritten": overwrite})
            if not overwrite:
                continue
        for column in (main, *companions):
            if column in new:
                _set(reg, i, column, new[column], file_row, rows)
    if "designations" in new:
        old = _old(reg, i, "designations")
        held = [k for k in re.split(r"[;；]", "" if _blank(old) else str(old)) if k]
        _set(reg, i, "designations", ";".join(held + [k for k in new["designations"] if k not in held]), file_row,
             rows)


def _has_values(row: pd.Series) -> bool:
    return any(not _blank(row.get(c)) for c in _VALUE_COLUMNS if c != "tier")


def merge_register(workspace_register: str | Path, filled_file: str | Path, *, overwrite: bool = False,
                   mapping: Mapping | None = None, value_map: Mapping | None = None, coords: str = "wgs84",
                   sheet: str | None = None, write: bool = True) -> tuple[pd.DataFrame, MergeReport]:
    """Merge a filled workbook or any settlement file into the workspace register.

    Rows are matched by code when the file has one, else by name within county (exact, then normalised with
    :func:`bazhong_geo.matching.normalise_name`; a county town also by its county's name); a name matching several
    settlements is narrowed by tier level (township or village), else reported as ambiguous. Two file rows matching
    one settlement are ambiguous too (the second is not merged).

    Parameters
    ----------
    workspace_register : path-like
        The workspace's register (``.csv`` or ``.gpkg``); never the embedded register.
    filled_file : path-like
        The filled data-collection workbook, or an Excel/CSV/GeoPackage/Shapefile/GeoJSON of settlements whose
        columns are recognised (:func:`bazhong_geo.columns.recognize_columns`) or named by ``mapping``.
    overwrite : bool
        Replace existing values that differ (conflicts are listed either way).
    mapping : mapping, optional
        Target -> source column of a foreign file (``{"code": "乡镇代码"}``).
    value_map : mapping, optional
        等级 word -> tier or {"tier", "designation"} (a workspace's ``values.tier``).
    coords : str
        Coordinate system of a table's lon/lat when it has no ``coord_system`` column (``"gcj02"`` for Amap).
    sheet : str, optional
        Sheet of an Excel file or layer of a GeoPackage.
    write : bool
        Write the merged register back to ``workspace_register`` (all or nothing).

    Returns
    -------
    (pandas.DataFrame, MergeReport)
        The merged register (same rows, same order) and the report.

    Raises
    ------
    RegisterMergeError
        The target is the embedded register or does not exist; the file has neither a code nor a name column;
        rows would be lost.
    """
    target = Path(workspace_register)
    if target.resolve() == embedded_register_path().resolve():
        raise RegisterMergeError(f"{target} is the embedded register, which is never modified; merge into the "
                                 f"workspace's own register (bazhong-geo init makes register.csv)")
    if not target.is_file():
        raise RegisterMergeError(f"{target}: no workspace register; run `bazhong-geo init` (it copies the register) "
                                 f"or point to the workspace's register.csv")
    path = Path(filled_file)
    reg = read_register(target).reset_index(drop=True)
    file_df, notes = _read_any(path, mapping=mapping, value_map=value_map, coords=coords, sheet=sheet)
    if "code" not in file_df.columns and "name" not in file_df.columns:
        raise RegisterMergeError(f"{path.name}: neither a code nor a name column was recognised; name them, e.g. "
                                 f"mapping={{'code': '乡镇代码'}} or {{'name': '名称'}}")
    report = MergeReport(source=path.name, rows_in=len(reg), file_rows=len(file_df), notes=notes)
    rows: dict[str, list] = {"matched": [], "unmatched": [], "ambiguous": [], "conflicts": [], "updates": []}
    index = _Index(reg)
    taken: dict[int, int] = {}
    for _, row in file_df.iterrows():
        _merge_row(row, reg, index, taken, rows, path, overwrite, report)
    for key, records in rows.items():
        setattr(report, key, pd.DataFrame(records, columns=getattr(report, key).columns))
    report.rows_out = len(reg)
    if report.rows_out != report.rows_in:  # pragma: no cover - the merge only writes cells
        raise RegisterMergeError(f"merge changed the register's rows ({report.rows_in} -> {report.rows_out})")
    if write:
        _write_register(reg, target)
    return reg, report


def _merge_row(row, reg, index: _Index, taken: dict, rows: dict, path: Path, overwrite: bool,
               report: MergeReport) -> None:
    """Match one file row and apply its values."""
    file_row = row["file_row"]
    name = None if _blank(row.get("name")) else str(row["name"]).strip()
    county_value = row.get("county_code") if not _blank(row.get("county_code")) else row.get("county")
    county_text = None if _blank(county_value) else str(county_value)
    code = normalize_code(row.get("code")) if not _blank(row.get("code")) else None
    if code is not None and code in index.by_code:
        hits, how = [index.by_code[code]], "code"
    elif code is not None:
        rows["unmatched"].append({"file_row": file_row, "name": name, "county": county_text,
                                  "reason": f"code {code} is not in the register"})
        return
    elif name is None:
        if _has_values(row):
            rows["unmatched"].append({"file_row": file_row, "name": None, "county": county_text,
                                      "reason": "no code and no name"})
        else:
            report.blank_rows += 1
        return
    else:
        county = matching.county_of(county_value) if county_text else None
        if county_text and county is None:
            rows["unmatched"].append({"file_row": file_row, "name": name, "county": county_text,
                                      "reason": f"county {county_text!r} is not a county of {BAZHONG.name}"})
            return
        hits, how = index.by_name(name, county, row.get("tier"))
    if not hits:
        rows["unmatched"].append({"file_row": file_row, "name": name, "county": county_text,
                                  "reason": "no settlement of that name" + (" in that county" if county_text else "")})
        return
    if len(hits) > 1:
        cands = "; ".join(f"{reg.at[i, 'code']} {reg.at[i, 'name']}" for i in hits)
        rows["ambiguous"].append({"file_row": file_row, "name": name, "county": county_text, "candidates": cands})
        return
    i = hits[0]
    new = _row_values(row, path, report.notes)
    if not new:
        report.blank_rows += 1
        return
    if i in taken:
        rows["ambiguous"].append({"file_row": file_row, "name": name, "county": county_text,
                                  "candidates": f"{reg.at[i, 'code']} {reg.at[i, 'name']} already matched by row "
                                                f"{taken[i]}"})
        return
    before = len(rows["updates"]) + len(rows["conflicts"])
    _apply(reg, i, new, file_row, overwrite, rows)
    if len(rows["updates"]) + len(rows["conflicts"]) == before:
        report.unchanged_rows += 1      # everything it says, the register already holds
        return
    taken[i] = file_row
    rows["matched"].append({"file_row": file_row, "code": reg.at[i, "code"], "name": reg.at[i, "name"], "how": how})
