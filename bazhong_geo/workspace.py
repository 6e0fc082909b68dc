"""A planner's project folder: ``bazhong-geo.toml`` naming the bureau's own layers, how to read them, and the register.

:func:`init_workspace` writes a commented configuration (Chinese and English), a copy of the embedded settlement
register for the workspace to own, and the data-collection workbook. :func:`load_workspace` finds the configuration
in a folder, checks it (every problem listed at once, each with its key and the fix; unknown keys reported with the
nearest known one), resolves relative paths and returns a frozen :class:`Workspace`.

Coordinate systems of layers: ``wgs84``, ``cgcs2000`` (longitude/latitude, or Gauss–Krüger with ``zone`` /
``zone_prefix``), ``xian80``, ``beijing54``, ``gcj02`` (Amap/Tencent), ``bd09`` (Baidu) or any ``EPSG:xxxx``.
``zone_prefix = true`` says the eastings carry the zone number in front (36 500 000 m at 108°E in 3-degree zone 36).

>>> cs = parse_coordinate_system("cgcs2000", zone_prefix=True)
>>> cs.crs(sample_easting=36_512_345.0)
'EPSG:4524'
>>> parse_coordinate_system("gcj02").web, parse_coordinate_system("gcj02").crs()
('gcj02', 'EPSG:4326')
"""

from __future__ import annotations

import difflib
import re
import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from . import columns, crs, workbook
from ._errors import (
    MissingCRSError,
    UnknownCoordinateSystemError,
    UnknownTierError,
    WorkspaceConfigError,
    WorkspaceNotFoundError,
)
from .crs import DATUM_ALIASES, GK_DATUMS, gauss_kruger_crs, zone_of_easting
from .region import BAZHONG, normalize_code
from .settings import WORK_CRS
from .settlements import Tier

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Mapping

    import geopandas as gpd

__all__ = [
    "CONFIG_NAME",
    "EMBEDDED_LAYERS",
    "LEGENDS",
    "CoordinateSystem",
    "LandCoverLayer",
    "Layer",
    "PopulationLayer",
    "RoadLayer",
    "Workspace",
    "find_config",
    "gauss_kruger_crs",
    "init_workspace",
    "load_workspace",
    "parse_coordinate_system",
    "place_layer",
    "update_register",
    "workspace_template",
    "zone_of_easting",
]

CONFIG_NAME = "bazhong-geo.toml"
"""The configuration file every command looks for in the current folder (or ``--workspace DIR``)."""

EMBEDDED_LAYERS = ("boundaries", "register")
"""Embedded Bazhong layers a workspace may use where it has none of its own (``use_embedded``)."""

LEGENDS: dict[str, tuple[dict[int, str], tuple[int, ...]]] = {
    "worldcover": ({10: "tree_cover", 20: "shrubland", 30: "grassland", 40: "cropland", 50: "built_up",
                    60: "bare_sparse_vegetation", 70: "snow_ice", 80: "permanent_water", 90: "herbaceous_wetland",
                    95: "mangroves", 100: "moss_lichen"}, (50,)),
    "esri_lulc": ({1: "water", 2: "trees", 4: "flooded_vegetation", 5: "crops", 7: "built_area", 8: "bare_ground",
                   9: "snow_ice", 10: "clouds", 11: "rangeland"}, (7,)),
    "dynamic_world": ({0: "water", 1: "trees", 2: "grass", 3: "flooded_vegetation", 4: "crops", 5: "shrub_and_scrub",
                       6: "built", 7: "bare", 8: "snow_and_ice"}, (6,)),
    "clcd": ({1: "cropland", 2: "forest", 3: "shrub", 4: "grassland", 5: "water", 6: "snow_ice", 7: "barren",
              8: "impervious", 9: "wetland"}, (8,)),
}
"""Land-cover class legends by name: class value -> class, and the built-up classes (ESA WorldCover v200, Esri
10 m Annual LULC, Google Dynamic World, CLCD (Yang & Huang 2021))."""

_WEB = {"wgs84": "wgs84", "wgs-84": "wgs84", "gcj02": "gcj02", "gcj-02": "gcj02", "amap": "gcj02", "gaode": "gcj02",
        "高德": "gcj02", "火星坐标": "gcj02", "bd09": "bd09", "bd-09": "bd09", "baidu": "bd09", "百度": "bd09"}
_SYSTEM_NAMES = "wgs84, cgcs2000, xian80, beijing54, gcj02 (Amap/Tencent), bd09 (Baidu) or EPSG:xxxx"


# =============================================================================================== coordinate systems

@dataclass(frozen=True)
class CoordinateSystem:
    """A layer's coordinate system as the configuration names it.

    Attributes
    ----------
    name : str
        ``"wgs84"``, ``"gcj02"``, ``"bd09"``, a datum (``"cgcs2000"``, ``"xian80"``, ``"beijing54"``) or
        ``"EPSG:nnnn"``.
    zone_prefix : bool
        Eastings carry the Gauss–Krüger zone number in front.
    zone : int or None
        Gauss–Krüger zone, when the coordinates are projected and the zone is known.
    """

    name: str
    zone_prefix: bool = False
    zone: int | None = None

    @property
    def web(self) -> str | None:
        """``"gcj02"`` or ``"bd09"`` for web-map coordinates (converted on load), else None."""
        return self.name if self.name in ("gcj02", "bd09") else None

    @property
    def projected(self) -> bool:
        """True when the coordinates are eastings/northings (Gauss–Krüger or a projected EPSG CRS)."""
        if self.name.startswith("EPSG:"):
            from pyproj import CRS

            return CRS.from_user_input(self.name).is_projected
        return self.zone_prefix or self.zone is not None

    def crs(self, sample_easting: float | None = None) -> str:
        """Return the CRS to read the coordinates with (``"EPSG:nnnn"``).

        Parameters
        ----------
        sample_easting : float, optional
            An easting of the data, used to find the zone of prefixed Gauss–Krüger coordinates when the
            configuration gives none.
        """
        if self.name.startswith("EPSG:"):
            return self.name
        if self.name in _WEB.values():
            return "EPSG:4326"
        if not self.projected:
            return GK_DATUMS[self.name][1]
        zone = self.zone
        if zone is None:
            if sample_easting is None:
                raise UnknownCoordinateSystemError(
                    f"{self.name} with zone_prefix: the zone is read from the eastings; give one (sample_easting) "
                    f"or set zone = NN in the configuration")
            zone = zone_of_easting(sample_easting)
        return gauss_kruger_crs(self.name, zone, zone_prefix=self.zone_prefix)


def _false_easting(crs_text: str) -> float | None:
    from pyproj import CRS

    op = CRS.from_user_input(crs_text).coordinate_operation
    if op is None:
        return None
    for p in op.params:
        if p.name.lower() == "false easting":
            return float(p.value)
    return None


def parse_coordinate_system(value: str, *, zone_prefix: bool = False, zone: int | None = None,
                            where: str = "crs") -> CoordinateSystem:
    """Return the :class:`CoordinateSystem` of a configuration value, checked.

    Raises
    ------
    UnknownCoordinateSystemError
        Naming ``where`` (the key) and the accepted names.

    Examples
    --------
    >>> parse_coordinate_system("EPSG:4524", zone_prefix=True).crs()
    'EPSG:4524'
    >>> parse_coordinate_system("国家2000", zone=36).crs()
    'EPSG:4545'
    """
    text = str(value).strip()
    key = text.lower()
    if key in _WEB or key in DATUM_ALIASES:
        name = _WEB.get(key) or DATUM_ALIASES[key]
        if name in ("gcj02", "bd09", "wgs84") and (zone_prefix or zone is not None):
            raise UnknownCoordinateSystemError(
                f"{where}: {text!r} is longitude/latitude; zone_prefix and zone apply to Gauss-Kruger coordinates "
                f'(crs = "cgcs2000" with zone_prefix = true, or an EPSG code)')
        if name == "wgs84" and zone is None:
            return CoordinateSystem("wgs84")
        cs = CoordinateSystem(name, zone_prefix=zone_prefix, zone=zone)
        if zone is not None:
            gauss_kruger_crs(name, zone, zone_prefix=zone_prefix)   # checks the zone
        return cs
    m = re.fullmatch(r"(?:epsg:)?\s*(\d{4,6})", key)
    if not m:
        raise UnknownCoordinateSystemError(f"{where}: unknown coordinate system {text!r}; use {_SYSTEM_NAMES}")
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    code = f"EPSG:{m.group(1)}"
    try:
        CRS.from_user_input(code)
    except CRSError:
        raise UnknownCoordinateSystemError(f"{where}: {code} is not in the EPSG database; "
                                           f"use {_SYSTEM_NAMES}") from None
    if zone_prefix:
        fe = _false_easting(code)
        if fe is None or fe < 1_000_000:
            raise UnknownCoordinateSystemError(
                f"{where}: {code} has no zone number in its false easting, but zone_prefix = true; use the zone CRS "
                f"(e.g. EPSG:4524 = CGCS2000 3-degree Gauss-Kruger zone 36) or set zone_prefix = false")
    return CoordinateSystem(code, zone_prefix=zone_prefix, zone=zone)


def place_layer(gdf: gpd.GeoDataFrame, coords: CoordinateSystem | None, *, work_crs: str = WORK_CRS,
                source: str = "the layer") -> tuple[gpd.GeoDataFrame, list[str]]:
    """Give a layer read from a file the coordinate system the configuration states, then bring it to ``work_crs``.

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        The layer as read (its own CRS, if any, from the file's .prj).
    coords : CoordinateSystem or None
        What the configuration says; None: the file's own CRS. The configuration wins over a .prj (bureau files
        often carry a wrong or missing one); the notes say so. Prefixed Gauss–Krüger eastings give the zone.
    work_crs : str
        The CRS to return.
    source : str
        File name for messages.

    Returns
    -------
    (geopandas.GeoDataFrame, list of str)
        The layer in ``work_crs`` and notes on what was assumed or converted.

    Raises
    ------
    MissingCRSError
        No CRS in the file and none in the configuration.
    UnknownCoordinateSystemError
        Prefixed eastings under a CRS without the prefix (or the reverse), naming the fix.
    """
    notes: list[str] = []
    if coords is None:
        if gdf.crs is None:
            raise MissingCRSError(f"{source} has no coordinate system (.prj) and the configuration gives none; add "
                                  f'crs = "cgcs2000" (with zone_prefix = true for 36xxxxxxx eastings) or '
                                  f'crs = "EPSG:xxxx" to its layer')
        target = gdf.crs.to_string()
        out = gdf
    else:
        minx = float(gdf.total_bounds[0]) if len(gdf) else None
        target = coords.crs(sample_easting=minx)
        if gdf.crs is not None and not gdf.crs.equals(target):
            notes.append(f"{source}: the file says {gdf.crs.to_string()}, the configuration {target}; the "
                         f"configuration is used")
        out = gdf.set_crs(target, allow_override=True)
        if coords.web is not None:
            out = crs.convert(out, src=coords.web, dst="wgs84")
            notes.append(f"{source}: {coords.web} coordinates converted to WGS-84")
    _check_prefix(out, source)
    return crs.to_work_crs(out) if work_crs == WORK_CRS else out.to_crs(work_crs), notes


def _check_prefix(gdf, source: str) -> None:
    """Eastings of tens of millions under a CRS whose false easting has no zone number: the prefix was forgotten."""
    if gdf.crs is None or not gdf.crs.is_projected or not len(gdf):
        return
    fe = _false_easting(gdf.crs.to_string())
    minx = float(gdf.total_bounds[0])
    if fe is not None and fe < 1_000_000 and minx > 10_000_000:
        zone = zone_of_easting(minx)
        raise UnknownCoordinateSystemError(
            f"{source}: eastings such as {minx:.0f} carry the zone number {zone}, but {gdf.crs.to_string()} has none; "
            f'set crs = "cgcs2000" with zone_prefix = true for the layer (CGCS2000: '
            f"{gauss_kruger_crs('cgcs2000', zone)})")


# =============================================================================================== layers

@dataclass(frozen=True)
class Layer:
    """One layer of the workspace.

    Attributes
    ----------
    kind : str
        ``"boundaries"``, ``"settlements"``, ``"landcover"``, ``"population"``, ``"roads"`` or ``"interchanges"``.
    key : str
        Its key in the configuration (``"boundaries.township"``), for messages.
    path : pathlib.Path
        Absolute path of the file.
    coords : CoordinateSystem or None
        The coordinate system the configuration gives; None: the file's own.
    fields : mapping
        Target -> source column (``{"code": "乡镇代码"}``), for :func:`bazhong_geo.columns.recognize_columns`.
    values : mapping
        Target column -> {word -> tier or {"tier", "designation"}}
        (``{"tier": {"重点镇": {"designation": "key_town"}}}``).
    layer : str or None
        Layer of a GeoPackage, or sheet of a workbook.
    encoding : str or None
        Text encoding of a CSV or a Shapefile's .dbf (detected when None).
    level : str or None
        For boundaries: ``"county"`` or ``"township"`` (or ``"prefecture"``, ``"village"``).
    """

    kind: str
    key: str
    path: Path
    coords: CoordinateSystem | None = None
    fields: Mapping = field(default_factory=lambda: MappingProxyType({}))
    values: Mapping = field(default_factory=lambda: MappingProxyType({}))
    layer: str | None = None
    encoding: str | None = None
    level: str | None = None


@dataclass(frozen=True)
class LandCoverLayer(Layer):
    """A land-cover class raster of one year, with its legend and built-up classes."""

    year: int | None = None
    legend_name: str = ""
    legend: Mapping = field(default_factory=lambda: MappingProxyType({}))
    builtup_classes: tuple[int, ...] = ()


@dataclass(frozen=True)
class PopulationLayer(Layer):
    """Population as a raster (people per cell) or a table by code/name."""

    form: str = "raster"
    population_kind: str = "resident"
    year: int | None = None


@dataclass(frozen=True)
class RoadLayer(Layer):
    """Roads with a class -> speed (km/h) table."""

    speeds: Mapping = field(default_factory=lambda: MappingProxyType({}))
    speeds_file: Path | None = None


@dataclass(frozen=True)
class Workspace:
    """A planner's workspace, as read from ``bazhong-geo.toml`` (every path absolute).

    Attributes
    ----------
    root : pathlib.Path
        The folder holding the configuration.
    config : pathlib.Path
        The configuration file.
    name : str
        Project name.
    region : str
        NBS code of the planning region.
    work_crs : str
        CRS analyses return.
    lang : str
        Language of outputs (``"zh"`` or ``"en"``).
    use_embedded : tuple of str
        Embedded layers used where the workspace has none of its own.
    register, workbook, outputs : pathlib.Path
        The workspace's settlement register (CSV/GPKG it owns), its data-collection workbook and its output folder.
    boundaries : mapping
        Level -> :class:`Layer`.
    settlements, population, roads, interchanges : Layer or None
    landcover : tuple of LandCoverLayer
        Sorted by year.
    """

    root: Path
    config: Path
    name: str = ""
    region: str = BAZHONG.code
    work_crs: str = WORK_CRS
    lang: str = "zh"
    use_embedded: tuple[str, ...] = EMBEDDED_LAYERS
    register: Path | None = None
    workbook: Path | None = None
    outputs: Path | None = None
    boundaries: Mapping = field(default_factory=lambda: MappingProxyType({}))
    settlements: Layer | None = None
    landcover: tuple[LandCoverLayer, ...] = ()
    population: PopulationLayer | None = None
    roads: RoadLayer | None = None
    interchanges: Layer | None = None

    def uses_embedded(self, what: str) -> bool:
        """True when the embedded layer ``what`` ("boundaries" or "register") may be used."""
        return what in self.use_embedded

    def layers(self) -> list[Layer]:
        """Every configured layer, in configuration order."""
        out: list[Layer] = list(self.boundaries.values())
        out += [x for x in (self.settlements,) if x is not None] + list(self.landcover)
        out += [x for x in (self.population, self.roads, self.interchanges) if x is not None]
        return out

    def landcover_for(self, year: int | None = None) -> LandCoverLayer:
        """The land-cover layer of ``year`` (the latest when None); KeyError naming the years present."""
        if not self.landcover:
            raise KeyError(f"{self.config}: no [[landcover]] layer is configured")
        if year is None:
            return self.landcover[-1]
        for lc in self.landcover:
            if lc.year == year:
                return lc
        raise KeyError(f"{self.config}: no land-cover layer for {year}; years: {[lc.year for lc in self.landcover]}")

    def describe(self) -> list[str]:
        """Lines saying which data the workspace uses (its own layers, then the embedded ones it allows)."""
        lines = [f"workspace {self.name or self.root.name} ({self.config})"]
        lines += [f"{lay.key}: {lay.path}" + (f" [{lay.coords.name}]" if lay.coords else "") for lay in self.layers()]
        lines += [f"embedded {what}: used where the workspace has none" for what in self.use_embedded]
        return lines


# =============================================================================================== the template

_TEMPLATE = """\
# bazhong-geo 工作区配置 / workspace configuration
# 本文件由 `bazhong-geo init` 生成。每个命令在当前文件夹（或 --workspace 指定的文件夹）中查找本文件。
# Written by `bazhong-geo init`. Every command looks for this file in the current folder (or --workspace DIR).
# 相对路径相对于本文件所在文件夹。 Relative paths are relative to this file's folder.
# 以 "#[" 或 "#key" 开头的行是示例：去掉 "#" 即启用。 Lines starting "#[" or "#key" are examples: remove "#" to use.
#
# 坐标系 / coordinate systems (crs):
#   wgs84 | cgcs2000 | xian80 | beijing54 | gcj02（高德/腾讯 Amap/Tencent）| bd09（百度 Baidu）| "EPSG:4545"
#   高斯-克吕格投影 / Gauss-Kruger: crs = "cgcs2000" 加 zone = 36（带号）; zone_prefix = true 表示横坐标前带带号
#   （如 36512345.6）/ zone_prefix = true: eastings carry the zone number in front (36512345.6 in zone 36).
#   EPSG:4524 = CGCS2000 3度带 第36带（带带号）; EPSG:4545 = CGCS2000 3度带 中央经线108°E（不带带号）.
# 字段映射 / field mapping: [LAYER.fields] 目标 = "源字段"，如 code = "乡镇代码"。常用字段名（乡镇代码、名称、经度、
#   纬度、常住人口、等级、道路等级 ...）无需映射即可识别。 Usual headers are recognised without a mapping.

[workspace]
name = "{name}"
region = "{region}"                # 规划区行政区划代码 / NBS code of the planning region
lang = "zh"                        # 输出语言 / output language: zh | en
# 本工作区没有的图层使用内置数据 / embedded layers used where the workspace has none of its own
use_embedded = ["boundaries", "register"]
register = "register.csv"          # 工作区的聚落名录（由 update 命令合并）/ the workspace register (merged by `update`)
workbook = "{workbook}"            # 资料收集表 / data-collection workbook
outputs = "outputs"                # 成果文件夹 / output folder

# ---- 行政边界（按层级）/ boundaries per level ----
#[boundaries.county]
#path = "data/区县界.shp"
#crs = "cgcs2000"
#zone_prefix = true
#encoding = "gbk"                  # .dbf 编码（无 .cpg 时）/ .dbf encoding when there is no .cpg
#fields = {{ code = "行政区划代码", name = "名称" }}

#[boundaries.township]
#path = "data/乡镇界.shp"
#crs = "cgcs2000"
#zone_prefix = true
#fields = {{ code = "乡镇代码", name = "乡镇名称" }}

# ---- 聚落点（乡镇驻地等）/ settlement points ----
#[settlements]
#path = "data/乡镇驻地.xlsx"
#layer = "Sheet1"                  # 工作表 / sheet (GeoPackage: layer)
#crs = "gcj02"                     # 高德导出 / Amap export
#fields = {{ name = "名称", population = "常住人口", tier = "等级" }}
#[settlements.values.tier]         # 等级取值映射 / values of the 等级 column
#"县城" = "county_town"
#"重点镇" = {{ designation = "key_town" }}
#"中心镇" = {{ tier = "featured_town", designation = "central_town" }}

# ---- 土地覆盖栅格（按年份）/ land-cover rasters by year ----
#[[landcover]]
#year = 2021
#path = "data/worldcover_2021.tif"
#legend = "worldcover"             # worldcover | esri_lulc | dynamic_world | clcd | {{ "1" = "耕地", ... }}
#builtup = [50]                    # 建设用地类别 / built-up classes (default from the legend)

# ---- 人口（栅格或表格）/ population (raster or table) ----
#[population]
#path = "data/人口.xlsx"
#form = "table"                    # raster | table
#kind = "resident"                 # resident 常住 | registered 户籍
#year = 2020
#fields = {{ code = "乡镇代码", population = "常住人口" }}

# ---- 道路（等级 -> 速度）/ roads (class -> speed) ----
#[roads]
#path = "data/道路.gpkg"
#layer = "roads"
#crs = "EPSG:4545"
#fields = {{ class = "道路等级" }}
#speeds = {{ "高速公路" = 90, "国道" = 60, "省道" = 50, "县道" = 40, "乡道" = 30, "村道" = 20 }}   # km/h

# ---- 高速互通 / motorway interchanges ----
#[interchanges]
#path = "data/互通.csv"
#crs = "gcj02"
"""


def workspace_template(name: str = "", region: str = BAZHONG.code, workbook_name: str = "资料收集表.xlsx") -> str:
    """Return the text of a fresh ``bazhong-geo.toml`` (comments in Chinese and English, examples commented out)."""
    return _TEMPLATE.format(name=_toml_text(name), region=_toml_text(region), workbook=_toml_text(workbook_name))


def _toml_text(text: str) -> str:
    """``text`` escaped for a one-line TOML basic string (without the quotes)."""
    out = str(text).replace("\\", "\\\\").replace('"', '\\"')
    return re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\u{ord(m.group(0)):04X}", out)


def init_workspace(directory: str | Path, *, name: str | None = None, register_source: str | Path | None = None,
                   overwrite: bool = False) -> Workspace:
    """Create a workspace: ``bazhong-geo.toml``, the workspace register and the data-collection workbook.

    Parameters
    ----------
    directory : path-like
        The project folder (created when missing).
    name : str, optional
        Project name (default: the folder name).
    register_source : path-like, optional
        Register CSV copied into the workspace as ``register.csv`` (default: the embedded Bazhong register).
    overwrite : bool
        Replace an existing ``bazhong-geo.toml``; otherwise an existing one is an error. An existing register or
        workbook is kept either way (they hold the bureau's data).

    Returns
    -------
    Workspace
        The new workspace, loaded back.

    Raises
    ------
    WorkspaceConfigError
        When the folder already holds a configuration and ``overwrite`` is False.
    """
    root = Path(directory).resolve()
    root.mkdir(parents=True, exist_ok=True)
    config = root / CONFIG_NAME
    if config.exists() and not overwrite:
        raise WorkspaceConfigError(f"{config} already exists; edit it, or pass overwrite=True (--force) to rewrite it")
    book_name = "资料收集表.xlsx"
    text = workspace_template(name or root.name, BAZHONG.code, book_name)
    source = Path(register_source) if register_source is not None else workbook.embedded_register_path()
    register = root / "register.csv"
    if not register.exists():
        tmp = register.with_name(register.name + ".tmp")
        shutil.copyfile(source, tmp)
        tmp.replace(register)
    book = root / book_name
    if not book.exists():       # a workbook being filled is never replaced
        workbook.write_collection_workbook(book, workbook.read_register(register))
    (root / "outputs").mkdir(exist_ok=True)
    tmp = config.with_name(config.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(config)
    return load_workspace(root)


# =============================================================================================== loading

_WORKSPACE_KEYS = {"name": str, "region": str, "lang": str, "use_embedded": list, "register": str, "workbook": str,
                   "outputs": str, "work_crs": str}
_LAYER_KEYS = {"path": str, "crs": str, "zone_prefix": bool, "zone": int, "encoding": str, "layer": str,
               "fields": dict, "values": dict}
_EXTRA_KEYS = {
    "boundaries": {},
    "settlements": {},
    "landcover": {"year": int, "legend": (str, dict), "builtup": list},
    "population": {"form": str, "kind": str, "year": int},
    "roads": {"speeds": (str, dict)},
    "interchanges": {},
}
_LEVELS = ("prefecture", "county", "township", "village")
_FIELD_ALIASES = {"class": "road_class", "speed": "speed_kmh"}
_TOP_KEYS = ("workspace", "boundaries", "settlements", "landcover", "population", "roads", "interchanges")


class _Problems:
    """Collects configuration problems; raises them all at once."""

    def __init__(self, config: Path):
        self.config = config
        self.items: list[str] = []

    def add(self, key: str, problem: str) -> None:
        self.items.append(f"{key}: {problem}")

    def unknown(self, where: str, keys, known) -> None:
        for k in keys:
            if k not in known:
                near = difflib.get_close_matches(str(k), list(known), n=1)
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                self.add(f"{where}.{k}" if where else str(k),
                         f"unknown key{hint}; known keys here: {', '.join(sorted(known))}")

    def raise_if_any(self) -> None:
        if self.items:
            lines = "\n  ".join(self.items)
            raise WorkspaceConfigError(f"{self.config}: {len(self.items)} problem(s):\n  {lines}")


def _typed(table: dict, key: str, types, where: str, problems: _Problems, default=None):
    if key not in table:
        return default
    value = table[key]
    types = types if isinstance(types, tuple) else (types,)
    if (bool not in types and isinstance(value, bool)) or not isinstance(value, types):
        names = " or ".join({str: "text in quotes", bool: "true/false", int: "a whole number", list: "a list [...]",
                             dict: "a table {...}"}[t] for t in types)
        problems.add(f"{where}.{key}", f"{value!r} should be {names}")
        return default
    return value


def _resolve(root: Path, text: str) -> Path:
    p = Path(text).expanduser()
    return p if p.is_absolute() else (root / p).resolve()


def _fields(table: dict, kind: str, where: str, problems: _Problems) -> MappingProxyType:
    fields = _typed(table, "fields", dict, where, problems, {}) or {}
    roles = set(columns.KINDS.get(kind, ()))
    out = {}
    for target, source in fields.items():
        role = _FIELD_ALIASES.get(target, target)
        if role not in roles:
            near = difflib.get_close_matches(target, sorted(roles), n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            problems.add(f"{where}.fields.{target}", f"not a field of a {kind} layer{hint}; fields: {sorted(roles)}")
        elif not isinstance(source, str) or not source.strip():
            problems.add(f"{where}.fields.{target}", f"{source!r} should be the source column name in quotes")
        else:
            out[role] = source
    return MappingProxyType(out)


def _values(table: dict, where: str, problems: _Problems) -> MappingProxyType:
    values = _typed(table, "values", dict, where, problems, {}) or {}
    out = {}
    for column, words in values.items():
        if not isinstance(words, dict):
            problems.add(f"{where}.values.{column}", "should be a table of word = tier (or {designation = ...})")
            continue
        checked = {}
        for word, target in words.items():
            key = f"{where}.values.{column}.{word}"
            if isinstance(target, dict):
                problems.unknown(key, target, {"tier", "designation"})
                tier, designation = target.get("tier"), target.get("designation")
                if designation is not None and not re.fullmatch(r"[a-z][a-z0-9_]*", str(designation)):
                    problems.add(key, f"designation {designation!r} should be a key in lower case (e.g. key_town)")
            else:
                tier, designation = target, None
            if tier is not None:
                try:
                    tier = Tier.parse(tier).value
                except UnknownTierError as exc:
                    problems.add(key, str(exc))
            if tier is None and designation is None:
                problems.add(key, "gives neither a tier nor a designation")
            checked[word] = MappingProxyType({"tier": tier, "designation": designation})
        out[column] = MappingProxyType(checked)
    return MappingProxyType(out)


def _coords(table: dict, where: str, problems: _Problems) -> CoordinateSystem | None:
    crs = _typed(table, "crs", str, where, problems)
    prefix = _typed(table, "zone_prefix", bool, where, problems, False)
    zone = _typed(table, "zone", int, where, problems)
    if crs is None:
        if prefix or zone is not None:
            problems.add(f"{where}.crs", 'zone_prefix/zone need crs = "cgcs2000" (or xian80, beijing54)')
        return None
    try:
        return parse_coordinate_system(crs, zone_prefix=prefix, zone=zone, where=f"{where}.crs")
    except UnknownCoordinateSystemError as exc:
        problems.add(f"{where}.crs", str(exc).split(": ", 1)[-1])
        return None


def _common(table: dict, kind: str, where: str, root: Path, problems: _Problems, check_files: bool) -> dict | None:
    if not isinstance(table, dict):
        problems.add(where, "should be a table [...] of path, crs, fields ...")
        return None
    problems.unknown(where, table, {**_LAYER_KEYS, **_EXTRA_KEYS[kind]})
    for key, types in _LAYER_KEYS.items():
        if key not in ("fields", "values", "crs", "zone_prefix", "zone"):
            _typed(table, key, types, where, problems)
    path_text = table.get("path")
    if not isinstance(path_text, str) or not path_text.strip():
        problems.add(f"{where}.path", 'missing: give the file, e.g. path = "data/乡镇界.shp"')
        return None
    path = _resolve(root, path_text)
    if check_files and not path.exists():
        problems.add(f"{where}.path", f"{path} does not exist; fix the path (relative to {root})")
    layer = table.get("layer")
    return {"kind": kind, "key": where, "path": path, "coords": _coords(table, where, problems),
            "fields": _fields(table, kind, where, problems), "values": _values(table, where, problems),
            "layer": layer if isinstance(layer, str) else None,
            "encoding": table.get("encoding") if isinstance(table.get("encoding"), str) else None}


def _landcover(items, root: Path, problems: _Problems, check_files: bool) -> tuple[LandCoverLayer, ...]:
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        problems.add("landcover", "should be [[landcover]] tables (one per year)")
        return ()
    out = []
    for i, item in enumerate(items):
        where = f"landcover[{i}]"
        base = _common(item, "landcover", where, root, problems, check_files)
        if base is None:
            continue
        year = _typed(item, "year", int, where, problems)
        legend_value = _typed(item, "legend", (str, dict), where, problems, "worldcover")
        legend, builtup, legend_name = _legend(legend_value, where, problems)
        given = _typed(item, "builtup", list, where, problems)
        if given is not None:
            if not all(isinstance(v, int) and not isinstance(v, bool) for v in given):
                problems.add(f"{where}.builtup", f"{given!r} should list class values, e.g. [50]")
            else:
                builtup = tuple(given)
                missing = [v for v in builtup if legend and v not in legend]
                if missing:
                    problems.add(f"{where}.builtup", f"classes {missing} are not in the {legend_name} legend "
                                                     f"{sorted(legend)}")
        if not builtup and legend:   # (an unknown legend is reported already)
            problems.add(f"{where}.builtup", "no built-up classes: give builtup = [..] (class values of the legend)")
        out.append(LandCoverLayer(**base, year=year, legend_name=legend_name, legend=MappingProxyType(legend),
                                  builtup_classes=tuple(builtup)))
    years = [lc.year for lc in out if lc.year is not None]
    dup = sorted({y for y in years if years.count(y) > 1})
    if dup:
        problems.add("landcover", f"two layers for year(s) {dup}; one raster per year")
    return tuple(sorted(out, key=lambda lc: (lc.year is None, lc.year or 0)))


def _legend(value, where: str, problems: _Problems) -> tuple[dict, tuple, str]:
    if isinstance(value, str):
        if value not in LEGENDS:
            problems.add(f"{where}.legend", f"unknown legend {value!r}; use one of {sorted(LEGENDS)} or a table "
                                            f'{{ "1" = "cropland", ... }}')
            return {}, (), value
        legend, builtup = LEGENDS[value]
        return dict(legend), builtup, value
    legend = {}
    for k, v in (value or {}).items():
        if not str(k).strip().isdigit():
            problems.add(f"{where}.legend.{k}", 'class values are whole numbers in quotes, e.g. "50" = "built_up"')
            continue
        legend[int(k)] = str(v)
    return legend, (), "custom"


def _roads(table, root: Path, problems: _Problems, check_files: bool) -> RoadLayer | None:
    base = _common(table, "roads", "roads", root, problems, check_files)
    if base is None:
        return None
    speeds = _typed(table, "speeds", (str, dict), "roads", problems, {})
    speeds_file = None
    checked: dict[str, float] = {}
    if isinstance(speeds, str):
        speeds_file = _resolve(root, speeds)
        if check_files and not speeds_file.exists():
            problems.add("roads.speeds", f"{speeds_file} does not exist (a CSV of road_class,speed_kmh)")
    else:
        for cls, kmh in speeds.items():
            if isinstance(kmh, bool) or not isinstance(kmh, (int, float)) or not kmh > 0:
                problems.add(f"roads.speeds.{cls}", f"{kmh!r} should be a speed in km/h above 0")
            else:
                checked[str(cls)] = float(kmh)
    return RoadLayer(**base, speeds=MappingProxyType(checked), speeds_file=speeds_file)


def _population(table, root: Path, problems: _Problems, check_files: bool) -> PopulationLayer | None:
    base = _common(table, "population", "population", root, problems, check_files)
    if base is None:
        return None
    suffix = base["path"].suffix.lower()
    default_form = "raster" if suffix in (".tif", ".tiff", ".vrt", ".img") else "table"
    form = _typed(table, "form", str, "population", problems, default_form)
    if form not in ("raster", "table"):
        problems.add("population.form", f"{form!r} should be raster or table")
    kind = _typed(table, "kind", str, "population", problems, "resident")
    if kind not in ("resident", "registered"):
        problems.add("population.kind", f"{kind!r} should be resident (常住) or registered (户籍)")
    return PopulationLayer(**base, form=form, population_kind=kind,
                           year=_typed(table, "year", int, "population", problems))


def _boundaries(table, root: Path, problems: _Problems, check_files: bool) -> MappingProxyType:
    if not isinstance(table, dict):
        problems.add("boundaries", "should hold one table per level: [boundaries.county], [boundaries.township]")
        return MappingProxyType({})
    out = {}
    for level, item in table.items():
        if level not in _LEVELS:
            near = difflib.get_close_matches(level, _LEVELS, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            problems.add(f"boundaries.{level}", f"unknown level{hint}; levels: {', '.join(_LEVELS)}")
            continue
        base = _common(item, "boundaries", f"boundaries.{level}", root, problems, check_files)
        if base is not None:
            out[level] = Layer(**base, level=level)
    return MappingProxyType(out)


def _single(table, kind: str, root: Path, problems: _Problems, check_files: bool) -> Layer | None:
    base = _common(table, kind, kind, root, problems, check_files)
    return None if base is None else Layer(**base)


def _workspace_table(data: dict, root: Path, problems: _Problems) -> dict[str, Any]:
    table = data.get("workspace", {})
    if not isinstance(table, dict):
        problems.add("workspace", "should be a table [workspace]")
        table = {}
    problems.unknown("workspace", table, _WORKSPACE_KEYS)
    got = {k: _typed(table, k, t, "workspace", problems) for k, t in _WORKSPACE_KEYS.items()}
    region = got["region"] or BAZHONG.code
    if normalize_code(region) is None:
        problems.add("workspace.region", f'{region!r} is not an NBS code (6, 9 or 12 digits), e.g. "511900"')
    lang = got["lang"] or "zh"
    if lang not in ("zh", "en"):
        problems.add("workspace.lang", f"{lang!r} should be zh or en")
    embedded = tuple(got["use_embedded"] if got["use_embedded"] is not None else EMBEDDED_LAYERS)
    bad = [e for e in embedded if e not in EMBEDDED_LAYERS]
    if bad:
        problems.add("workspace.use_embedded", f"{bad} are not embedded layers; choose from {list(EMBEDDED_LAYERS)} "
                                               f"(or [] to use only the workspace's own data)")
    work_crs = got["work_crs"] or WORK_CRS
    if got["work_crs"] is not None:
        try:
            work_crs = parse_coordinate_system(work_crs, where="workspace.work_crs").crs()
        except UnknownCoordinateSystemError as exc:
            problems.add("workspace.work_crs", str(exc).split(": ", 1)[-1])
    return {"name": got["name"] or root.name, "region": region, "lang": lang, "use_embedded": embedded,
            "work_crs": work_crs,
            "register": _resolve(root, got["register"] or "register.csv"),
            "workbook": _resolve(root, got["workbook"] or "资料收集表.xlsx"),
            "outputs": _resolve(root, got["outputs"] or "outputs")}


def find_config(directory: str | Path | None = None) -> Path:
    """Return the ``bazhong-geo.toml`` of ``directory`` (a folder or the file itself; default: the current folder).

    Raises
    ------
    WorkspaceNotFoundError
        Naming the folder and how to make a workspace.
    """
    given = Path(directory) if directory is not None else Path.cwd()
    config = given if given.suffix == ".toml" else given / CONFIG_NAME
    if not config.is_file():
        raise WorkspaceNotFoundError(f"no {CONFIG_NAME} in {config.parent.resolve()}; create a workspace with "
                                     f"`bazhong-geo init {config.parent}` or give --workspace DIR")
    return config.resolve()


def load_workspace(directory: str | Path | None = None, *, check_files: bool = True) -> Workspace:
    """Find, read and check ``bazhong-geo.toml``; return the :class:`Workspace` with absolute paths.

    Parameters
    ----------
    directory : path-like, optional
        The workspace folder, or the configuration file itself. Default: the current folder.
    check_files : bool
        Also report layer files that do not exist.

    Returns
    -------
    Workspace

    Raises
    ------
    WorkspaceNotFoundError
        No configuration in the folder.
    WorkspaceConfigError
        A TOML syntax error (with line and column), unknown keys (with the nearest known key), wrong types, unknown
        coordinate systems, legends or tiers, missing files — all listed in one message, each with its key.
    """
    config = find_config(directory)
    root = config.parent
    try:
        data = tomllib.loads(config.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise WorkspaceConfigError(f"{config}: not valid TOML ({exc}); check quotes around text and the [section] "
                                   f"headers on that line") from None
    except UnicodeDecodeError:
        raise WorkspaceConfigError(f"{config}: not UTF-8 text; save it as UTF-8") from None
    problems = _Problems(config)
    problems.unknown("", data, _TOP_KEYS)
    ws = _workspace_table(data, root, problems)
    parts = {
        "boundaries": _boundaries(data["boundaries"], root, problems, check_files) if "boundaries" in data
        else MappingProxyType({}),
        "settlements": _single(data["settlements"], "settlements", root, problems, check_files)
        if "settlements" in data else None,
        "landcover": _landcover(data["landcover"], root, problems, check_files) if "landcover" in data else (),
        "population": _population(data["population"], root, problems, check_files) if "population" in data else None,
        "roads": _roads(data["roads"], root, problems, check_files) if "roads" in data else None,
        "interchanges": _single(data["interchanges"], "interchanges", root, problems, check_files)
        if "interchanges" in data else None,
    }
    problems.raise_if_any()
    return Workspace(root=root, config=config, **ws, **parts)


def update_register(filled_file: str | Path, directory: str | Path | None = None, *, overwrite: bool = False,
                    mapping: Mapping | None = None, coords: str | None = None,
                    sheet: str | None = None) -> tuple[Any, workbook.MergeReport]:
    """Merge a filled workbook or settlement file into the workspace's register (``bazhong-geo update FILE``).

    The workspace's settlement value mapping (``[settlements.values.tier]``) and, for a table without a
    coordinate-system column, its settlement ``crs`` are used unless ``coords`` is given.

    Parameters
    ----------
    filled_file : path-like
        The filled data-collection workbook or any settlement file (see :func:`bazhong_geo.workbook.merge_register`).
    directory : path-like, optional
        The workspace (default: the current folder).
    overwrite, mapping, sheet
        As for :func:`~bazhong_geo.workbook.merge_register`.
    coords : str, optional
        Coordinate system of the file's lon/lat columns.

    Returns
    -------
    (pandas.DataFrame, MergeReport)
    """
    ws = load_workspace(directory, check_files=False)
    layer = ws.settlements
    value_map = {word: dict(target) for word, target in layer.values.get("tier", {}).items()} if layer else None
    if coords is None:
        coords = _table_coords(layer, ws.config)
    return workbook.merge_register(ws.register, filled_file, overwrite=overwrite, mapping=mapping,
                                   value_map=value_map or None, coords=coords, sheet=sheet)


def _table_coords(layer: Layer | None, config: Path) -> str:
    """The coordinate system of a settlement table's lon/lat (x/y) columns, from its layer's configuration."""
    if layer is None or layer.coords is None:
        return "wgs84"
    if layer.coords.web is not None:
        return layer.coords.web
    if layer.coords.zone_prefix and layer.coords.zone is None:
        raise WorkspaceConfigError(f"{config}: settlements.crs has zone_prefix = true but no zone; a table's x/y "
                                   f"need it: add zone = 36 (the number in front of the eastings)")
    return layer.coords.crs()
