"""The bad-input and fault corpus: every case a typed error naming the file, the row or feature, and the fix.

Each case is data: an id, a builder ``make(tmp_path, monkeypatch) -> call`` that breaks one input in a fresh
folder and returns the call a user would make, the error type expected (a ``BazhongGeoError`` subclass) and the
words the message must hold (the file, the row or feature by code and name, and the fix). Cases that expose a
defect in a module this corpus does not own are kept, marked ``xfail(strict=True)`` with the owner in the reason,
so they turn into failures the day the defect is fixed and the mark is forgotten.

Analysis modules (catchments, builtup, network) are reached only through their public API.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

gpd = pytest.importorskip("geopandas")
from corpus import builders as mk  # noqa: E402
from shapely.geometry import LineString, Point  # noqa: E402

from bazhong_geo import (  # noqa: E402
    atomic,
    builtup,
    catchments,
    crs,
    datasets,
    network,
    resources,
    targets,
    workbook,
    workspace,
    writers,
)
from bazhong_geo import report as report_mod  # noqa: E402
from bazhong_geo._errors import (  # noqa: E402
    BazhongGeoError,
    BrokenFileError,
    CRSMismatchError,
    DuplicateCodeError,
    DuplicateIndicatorError,
    EmptyInputError,
    GeometryTypeError,
    IndicatorFormatError,
    IndicatorUnitError,
    InputFileError,
    InvalidBuiltupRuleError,
    InvalidCoordinateError,
    InvalidParentError,
    InvalidPopulationError,
    InvalidSpeedError,
    InvalidThresholdError,
    MissingColumnError,
    MissingCRSError,
    MissingFileError,
    MissingValueError,
    OutputError,
    PlanFormatError,
    PlanYearError,
    UnknownCoordinateSystemError,
    UnknownTierError,
    UnreadableFileError,
    UnsupportedFormatError,
    WorkspaceConfigError,
    WorkspaceNotFoundError,
)
from bazhong_geo._validate import region_geometry  # noqa: E402
from bazhong_geo.io import read_boundaries, read_settlements  # noqa: E402
from bazhong_geo.settlements import SettlementSystem  # noqa: E402
from bazhong_geo.trajectory import save_figure  # noqa: E402

Make = Callable[[Path, pytest.MonkeyPatch], Callable[[], Any]]


@dataclass(frozen=True)
class Case:
    """One bad input: how to make it, the error expected and the words its message must hold."""

    id: str
    make: Make
    exc: type
    words: tuple[str, ...]
    owner: str | None = None     # "owner: <module>; <defect>" — a known defect of a module this corpus does not own


def rb(name: str, build: Callable[[Path], Path] | None = None, **kw) -> Make:
    """``read_boundaries`` of a file ``build`` makes (or of ``name`` in the folder, made by nobody)."""
    def make(t: Path, mp):
        path = build(t) if build else t / name
        return partial(read_boundaries, path, **kw)
    return make


def rs(build: Callable[[Path], Path], **kw) -> Make:
    def make(t: Path, mp):
        return partial(read_settlements, build(t), **kw)
    return make


def bfile(name: str, content: str | bytes) -> Callable[[Path], Path]:
    return lambda t: mk.text(t, name, content)


def gpkg_then(fn: Callable[[Path], Path]) -> Callable[[Path], Path]:
    return lambda t: fn(mk.write_boundaries(t))


def shp_without(ext: str) -> Callable[[Path], Path]:
    def build(t: Path) -> Path:
        path = mk.write_boundaries(t, "xzq.shp")
        (t / f"xzq{ext}").unlink()
        return path
    return build


def unreadable(name: str, builder: Callable[[Path], Path], reader: Callable[..., Any]) -> Make:
    def make(t: Path, mp):
        path = mk.unreadable(builder(t), mp)
        return partial(reader, path)
    return make


def plan_file(*lines: str, header: str = mk.PLAN_HEADER) -> Make:
    def make(t: Path, mp):
        path = mk.text(t, "plan.csv", "\n".join([header, *lines]) + "\n")
        return partial(targets.load_plan, path)
    return make


def ind_file(*lines: str, header: str = mk.IND_HEADER) -> Make:
    def make(t: Path, mp):
        path = mk.text(t, "ind.csv", "\n".join([header, *lines]) + "\n")
        return partial(targets.load_indicators, path)
    return make


def sys_frame(changes: dict) -> gpd.GeoDataFrame:
    df = mk.register(changes)
    return gpd.GeoDataFrame(df.drop(columns=["lon", "lat"]), geometry=gpd.points_from_xy(df.lon, df.lat), crs=4326)


def _people() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"population": [100.0]}, geometry=[Point(520500, 3530500)], crs=4545)


def writes(path_of: Callable[[Path], Path], ext: str = ".csv") -> Make:
    def make(t: Path, mp):
        return partial(writers.write_table, pd.DataFrame({"code": ["511902"], "name": ["巴州区"]}), path_of(t))
    return make


def _report_into(path_of: Callable[[Path], Path]) -> Make:
    def make(t: Path, mp):
        return partial(report_mod.write_report, path_of(t), lang="en")
    return make


def _figure_onto(path_of: Callable[[Path], Path]) -> Make:
    def make(t: Path, mp):
        import matplotlib as mpl

        mpl.use("Agg")
        from matplotlib.figure import Figure

        return partial(save_figure, Figure(), path_of(t))
    return make


def _file_then(sub: str) -> Callable[[Path], Path]:
    def build(t: Path) -> Path:
        (t / "notes.txt").write_text("x", encoding="utf-8")
        return t / "notes.txt" / sub
    return build


def _override(rel: str, build: Callable[[Path], None]) -> Make:
    """A planner's data folder (BAZHONG_GEO_DATA) whose copy of ``rel`` is broken; then load_bazhong()."""
    def make(t: Path, mp):
        folder = t / "data"
        (folder / rel).parent.mkdir(parents=True)
        build(folder / rel)
        mp.setenv("BAZHONG_GEO_DATA", str(folder))
        return datasets.load_bazhong
    return make


def _workspace(toml: str) -> Make:
    def make(t: Path, mp):
        mk.text(t, "bazhong-geo.toml", toml)
        return partial(workspace.load_workspace, t)
    return make


def _raster(t: Path) -> Path:
    import rasterio
    from rasterio.transform import from_origin

    path = t / "built.tif"
    with rasterio.open(path, "w", driver="GTiff", width=4, height=4, count=1, dtype="uint8", crs="EPSG:4545",
                       transform=from_origin(520000, 3531000, 250, 250)) as ds:
        ds.write(np.full((1, 4, 4), 50, dtype="uint8"))
    return path


def _xlsx(t: Path) -> Path:
    path = t / "r.xlsx"
    mk.register().to_excel(path, index=False, sheet_name="register")
    return path


def _parquet(t: Path) -> Path:
    path = t / "g.parquet"
    mk.boundaries().to_parquet(path)
    return path


def _lying(t: Path, epsg: int, name: str = "lying.gpkg") -> Path:
    path = t / name
    mk.boundaries().set_crs(epsg, allow_override=True).to_file(path)
    return path


def _lying_points(t: Path) -> Path:
    path = t / "pts.gpkg"
    mk.system_frame().set_crs(4545, allow_override=True).to_file(path)
    return path


def _no_prj(t: Path) -> Path:
    path = mk.write_boundaries(t, "noprj.shp")
    (t / "noprj.prj").unlink()
    return path


def _renamed(t: Path, columns: dict) -> Path:
    path = t / "b.gpkg"
    mk.boundaries().rename(columns=columns).to_file(path)
    return path


def _empty_layer(t: Path) -> Path:
    path = t / "empty.gpkg"
    mk.boundaries().iloc[:0].to_file(path)
    return path


def _attribute_only(t: Path) -> Path:
    import pyogrio

    path = t / "attr.gpkg"
    pyogrio.write_dataframe(pd.DataFrame({"code": ["511902"], "name": ["巴州区"]}), path, driver="GPKG")
    return path


XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 200
FIX_REEXPORT = "export it again"

CASES: list[Case] = [
    # ------------------------------------------------------------------------------------ io: broken files
    Case("gpkg-zero-bytes", rb("", bfile("zero.gpkg", b"")), BrokenFileError,
         ("zero.gpkg", "empty (0 bytes)", FIX_REEXPORT)),
    Case("gpkg-truncated", rb("", gpkg_then(mk.truncated)), BrokenFileError,
         ("b.gpkg", "truncated", "copy it again")),
    Case("gpkg-plain-text", rb("", bfile("notes.gpkg", "hello, this is a note")), BrokenFileError,
         ("notes.gpkg", "not a GeoPackage", "hello", FIX_REEXPORT)),
    Case("gpkg-html-error-page", rb("", bfile("dl.gpkg", "<html><body>502 Bad Gateway</body></html>")),
         BrokenFileError, ("dl.gpkg", "not a GeoPackage", "<html>")),
    Case("gpkg-is-a-folder", rb("", lambda t: mk.folder_named(t, "x.gpkg")), BrokenFileError,
         ("x.gpkg", "is a folder", "inside.txt", "pass the file itself")),
    Case("gpkg-missing", rb("nope.gpkg"), MissingFileError, ("nope.gpkg", "no such file", "check the path")),
    Case("gpkg-path-through-a-file", rb("", _file_then("x.gpkg")), MissingFileError,
         ("notes.txt", "is a file, not a folder", "check the path")),
    Case("gpkg-unreadable", unreadable("b.gpkg", mk.write_boundaries, read_boundaries), UnreadableFileError,
         ("b.gpkg", "may not read", "chmod u+r")),
    Case("gpkg-plain-sqlite", rb("", lambda t: mk.plain_sqlite(t / "db.gpkg")), BrokenFileError,
         ("db.gpkg", "cannot be opened as a GeoPackage", "export it again")),
    Case("shp-without-dbf", rb("", shp_without(".dbf")), BrokenFileError,
         ("xzq.shp", "lacks its .dbf", "copy all of them")),
    Case("shp-without-shx", rb("", shp_without(".shx")), BrokenFileError,
         ("xzq.shp", "lacks its .shx", "copy all of them")),
    Case("shp-plain-text", rb("", bfile("t.shp", "just text")), BrokenFileError,
         ("t.shp", "not a Shapefile", FIX_REEXPORT)),
    Case("shp-truncated", rb("", lambda t: mk.truncated(mk.write_boundaries(t, "c.shp"), 0.6)), BrokenFileError,
         ("c.shp", "truncated", "copy it again")),
    Case("geojson-plain-text", rb("", bfile("t.geojson", "code;name\n1;2")), BrokenFileError,
         ("t.geojson", "not GeoJSON", FIX_REEXPORT)),
    Case("geojson-cut-json", rb("", bfile("cut.geojson", '{"type": "FeatureCollection", "features": [{"ty')),
         BrokenFileError, ("cut.geojson", "cannot be read", FIX_REEXPORT)),
    Case("parquet-garbage", rb("", bfile("t.parquet", "not parquet at all")), BrokenFileError,
         ("t.parquet", "not a (Geo)Parquet", "GeoPackage")),
    Case("parquet-truncated", rb("", lambda t: mk.truncated(_parquet(t), 0.5)), BrokenFileError,
         ("g.parquet", "truncated", "again")),
    Case("kml-suffix", rb("", bfile("x.kml", "<kml/>")), UnsupportedFormatError, ("x.kml", "ogr2ogr")),
    Case("boundaries-from-csv", rb("", mk.write_register), UnsupportedFormatError,
         ("r.csv", "vector file", "export the layer")),
    Case("csv-is-a-folder", rs(lambda t: mk.folder_named(t, "reg.csv")), BrokenFileError,
         ("reg.csv", "is a folder", "pass the file itself")),
    Case("csv-unreadable", unreadable("r.csv", mk.write_register, read_settlements), UnreadableFileError,
         ("r.csv", "may not read", "chmod u+r")),
    Case("csv-missing", rs(lambda t: t / "gone.csv"), MissingFileError, ("gone.csv", "no such file", "check the path")),
    Case("csv-zero-bytes", rs(bfile("z.csv", b"")), BrokenFileError, ("z.csv", "0 bytes", "copy it again")),
    Case("csv-header-only", rs(bfile("h.csv", "code,name,lon,lat\n")), EmptyInputError,
         ("h.csv", "no rows", "check")),
    Case("csv-binary-noise", rs(bfile("n.csv", bytes(range(128, 256)) * 4)), UnsupportedFormatError,
         ("n.csv", "neither UTF-8 nor GB18030", "encoding=")),
    Case("csv-wrong-encoding-given", rs(lambda t: mk.text(t, "g.csv", "code,name\n1,巴州区\n".encode("gbk")),
                                        encoding="utf-8"), UnsupportedFormatError,
         ("g.csv", "cannot decode as utf-8", "encoding=")),
    Case("xlsx-not-a-zip", rs(bfile("r.xlsx", "code,name\n1,2\n")), BrokenFileError,
         ("r.xlsx", "not an .xlsx workbook", "Excel Workbook (.xlsx)")),
    Case("xlsx-is-old-xls", rs(bfile("old.xlsx", XLS_MAGIC)), BrokenFileError,
         ("old.xlsx", "old .xls workbook", "save it as")),
    Case("xlsx-missing-sheet", rs(_xlsx, layer="村庄"), UnsupportedFormatError,
         ("r.xlsx", "no sheet '村庄'", "layer=")),
    Case("xlsx-sheet-number-out-of-range", rs(_xlsx, layer=5), UnsupportedFormatError,
         ("r.xlsx", "no sheet number 5", "layer=")),
    Case("xls-suffix", rs(bfile("r.xls", XLS_MAGIC)), UnsupportedFormatError, ("r.xls", "save it as .xlsx")),
    Case("errors-mode-typo", rs(mk.write_register, errors="warn"), BazhongGeoError,
         ("errors must be 'raise' or 'report'", "errors='report'")),
    # ------------------------------------------------------------------------------------ io: boundary content
    Case("crs-lie-4545", rb("", lambda t: _lying(t, 4545)), CRSMismatchError,
         ("lying.gpkg", "EPSG:4545", "longitude/latitude", "--coords wgs84")),
    Case("crs-lie-3857", rb("", lambda t: _lying(t, 3857)), CRSMismatchError,
         ("lying.gpkg", "EPSG:3857", "--coords wgs84")),
    Case("crs-lie-32648-shapefile", rb("", lambda t: _lying(t, 32648, "lying.shp")), CRSMismatchError,
         ("lying.shp", "EPSG:32648", "Set CRS")),
    Case("point-in-boundaries", rb("", lambda t: mk.write_boundaries(t, geoms=(mk.SQ_A, Point(107.1, 31.8)))),
         GeometryTypeError, ("b.gpkg", "511921 通江县 (FID 2)", "Point", "polygon layer")),
    Case("line-in-boundaries", rb("", lambda t: mk.write_boundaries(
        t, geoms=(mk.SQ_A, LineString([(107, 31.7), (107.2, 31.9)])))), GeometryTypeError,
         ("b.gpkg", "511921 通江县", "LineString", "redraw or delete")),
    Case("boundaries-all-points", rb("", mk.point_layer), GeometryTypeError, ("pts.gpkg", "511902 巴州区", "layer=")),
    Case("boundaries-no-crs", rb("", _no_prj), MissingCRSError, ("noprj.shp", 'crs="EPSG:4490"')),
    Case("boundaries-duplicate-code", rb("", lambda t: mk.write_boundaries(t, codes=("511902", "511902"))),
         DuplicateCodeError, ("b.gpkg", "511902 (FID 1, 2)", "dissolve")),
    Case("boundaries-missing-code", rb("", lambda t: mk.write_boundaries(t, codes=("511902", None))),
         MissingValueError, ("b.gpkg", "通江县 (FID 2)", "fill in the administrative code")),
    Case("boundaries-no-code-column", rb("", lambda t: _renamed(t, {"code": "what"})), MissingColumnError,
         ("b.gpkg", "no code column", "code_col=")),
    Case("boundaries-code-col-typo", rb("", mk.write_boundaries, code_col="XZQDM"), MissingColumnError,
         ("b.gpkg", "'XZQDM'", "columns are")),
    Case("boundaries-empty-layer", rb("", _empty_layer), EmptyInputError,
         ("empty.gpkg", "no rows/features", "layer")),
    Case("boundaries-attribute-table", rb("", _attribute_only), UnsupportedFormatError,
         ("attr.gpkg", "no geometry column", "layer=")),
    Case("boundaries-unknown-layer", rb("", mk.write_boundaries, layer="counties"), BrokenFileError,
         ("b.gpkg", "counties", "layer name")),
    Case("boundaries-bad-crs-argument", rb("", _no_prj, crs="EPSG:999999"),
         UnknownCoordinateSystemError, ("noprj.shp", "EPSG:999999", "crs=")),
    Case("boundaries-unknown-coords", rb("", mk.write_boundaries, coords="mars"), UnknownCoordinateSystemError,
         ("b.gpkg", "'mars'", "'gcj02'")),
    # ------------------------------------------------------------------------------------ io: settlement content
    Case("tier-unknown", rs(lambda t: mk.write_register(t, changes={("tier", 2): "metropolis"})), UnknownTierError,
         ("r.csv", "'metropolis' (row 4)", "allowed tiers")),
    Case("tier-is-a-designation", rs(lambda t: mk.write_register(t, changes={("tier", 2): "重点镇"})), UnknownTierError,
         ("r.csv", "'重点镇'", "designations")),
    Case("tier-blank", rs(lambda t: mk.write_register(t, changes={("tier", 3): ""})), UnknownTierError,
         ("r.csv", "without a tier (row 5)", "allowed tiers")),
    Case("tier-no-column-own-codes", rs(lambda t: mk.write_register(
        t, df=mk.register().drop(columns="tier").assign(code=["A1", "A2", "A3", "A4"]))), MissingColumnError,
         ("r.csv", "row 2, 3, 4, 5", "add a column 'tier'")),
    Case("code-duplicate", rs(lambda t: mk.write_register(t, changes={("code", 3): "511921101"})), DuplicateCodeError,
         ("r.csv", "511921101 (row 4, 5)", "own code")),
    Case("code-blank", rs(lambda t: mk.write_register(t, changes={("code", 3): ""})), MissingValueError,
         ("r.csv", "某村 (row 5)", "give every settlement a code")),
    Case("code-no-column", rs(lambda t: mk.write_register(t, df=mk.register().rename(columns={"code": "c"}))),
         MissingColumnError, ("r.csv", "no code column", "code_col=")),
    Case("name-no-column", rs(lambda t: mk.write_register(t, df=mk.register().rename(columns={"name": "n"}))),
         MissingColumnError, ("r.csv", "no name column", "name_col=")),
    Case("population-text", rs(lambda t: mk.write_register(t, changes={("population", 2): "约2.2万人"})),
         InvalidPopulationError, ("r.csv", "row 4: '约2.2万人'", "plain numbers")),
    Case("population-negative", rs(lambda t: mk.write_register(t, changes={("population", 1): -5})),
         InvalidPopulationError, ("r.csv", "row 3: -5", "correct the values")),
    Case("coordinate-text", rs(lambda t: mk.write_register(t, changes={("lon", 2): "106°45'"})), InvalidCoordinateError,
         ("r.csv", "row 4", "decimal degrees")),
    Case("coordinate-out-of-range", rs(lambda t: mk.write_register(t, changes={("lat", 2): 131.9})),
         InvalidCoordinateError, ("r.csv", "row 4", "coords='EPSG:4545'")),
    Case("coordinate-swapped", rs(lambda t: mk.write_register(
        t, df=mk.register().rename(columns={"lon": "lat", "lat": "lon"}))), InvalidCoordinateError,
         ("r.csv", "swapped", "lon_col='lat', lat_col='lon'")),
    Case("coordinate-only-lon", rs(lambda t: mk.write_register(t, df=mk.register().drop(columns="lat"))),
         MissingColumnError, ("r.csv", "'lon'", "lat_col=")),
    Case("coordinate-lon-col-typo", rs(mk.write_register, lon_col="经度"), MissingColumnError,
         ("r.csv", "'经度'", "columns are")),
    Case("coordinate-bad-wkt", rs(lambda t: mk.write_register(t, df=mk.register().drop(columns=["lon", "lat"])
                                                              .assign(wkt=["POINT (106.7 31.8)", "POINT(",
                                                                           "", "POINT (107.2 31.9)"]))),
         InvalidCoordinateError, ("r.csv", "row 3", "'POINT (lon lat)'")),
    Case("coords-unknown", rs(mk.write_register, coords="mars"), UnknownCoordinateSystemError,
         ("r.csv", "'mars'", "'gcj02'")),
    Case("coords-projected-label-lonlat-table", rs(mk.write_register, coords="EPSG:4545"),
         CRSMismatchError, ("r.csv", "EPSG:4545", "coords='wgs84'")),
    Case("settlement-layer-crs-lie", rs(_lying_points), CRSMismatchError,
         ("pts.gpkg", "EPSG:4545", "--coords wgs84")),
    Case("settlements-region-broken-file", rs(mk.write_register,
                                              region=Path("/nonexistent/region.gpkg")), MissingFileError,
         ("region.gpkg", "no such file", "check the path")),
    # ------------------------------------------------------------------------------------ settlements system
    Case("system-missing-columns", lambda t, mp: partial(SettlementSystem, mk.system_frame().drop(columns="tier")),
         MissingColumnError, ("'tier'", "read_settlements")),
    Case("system-empty", lambda t, mp: partial(SettlementSystem, mk.system_frame().iloc[:0]), EmptyInputError,
         ("settlement", "no rows", "read_settlements"),
         owner="owner: settlements; 'the settlement table has no rows' gives no fix"),
    Case("system-no-crs", lambda t, mp: partial(SettlementSystem, mk.system_frame().set_crs(None, allow_override=True)),
         MissingCRSError, ("crs=", "EPSG:4490")),
    Case("system-duplicate-codes", lambda t, mp: partial(SettlementSystem, sys_frame({("code", 3): "511921101"})),
         DuplicateCodeError, ("511921101", "某村", "unique"),
         owner="owner: settlements; duplicate codes are not named with their settlements' names"),
    Case("system-unknown-tier", lambda t, mp: partial(SettlementSystem, sys_frame({("tier", 2): "capital"})),
         UnknownTierError, ("'capital'", "诺江镇", "central_city"),
         owner="owner: settlements; an unknown tier in SettlementSystem does not name the row (code, name)"),
    Case("system-parent-unknown", lambda t, mp: partial(SettlementSystem(sys_frame({("parent_code", 3): "999"}))
                                                        .validate, strict=True),
         InvalidParentError, ("511921101201 (某村)", "parent code not in the system", "assign_parents")),
    Case("system-parent-wrong-tier", lambda t, mp: partial(
        SettlementSystem(sys_frame({("parent_code", 2): "511921101201"})).validate, strict=True),
         InvalidParentError, ("511921101 (诺江镇)", "parent tier not allowed", "Fix parent_code")),
    Case("system-population-text", lambda t, mp: partial(SettlementSystem, sys_frame({("population", 1): "many"})),
         InvalidPopulationError, ("'many'", "通江县城", "numbers"),
         owner="owner: settlements; a non-numeric population raises pandas' untyped ValueError"),
    # ------------------------------------------------------------------------------------ datasets
    Case("load-bazhong-missing-boundaries", lambda t, mp: partial(datasets.load_bazhong, boundaries=t / "b.gpkg"),
         MissingFileError, ("b.gpkg", "no such file")),
    Case("load-bazhong-zero-byte-register", lambda t, mp: partial(datasets.load_bazhong,
                                                                 settlements=mk.text(t, "r.csv", b"")),
         BrokenFileError, ("r.csv", "0 bytes")),
    Case("load-bazhong-lying-boundaries", lambda t, mp: partial(datasets.load_bazhong, boundaries=_lying(t, 4545)),
         CRSMismatchError, ("lying.gpkg", "--coords wgs84")),
    Case("load-bazhong-bad-tier", lambda t, mp: partial(datasets.load_bazhong, settlements=mk.write_register(
        t, changes={("tier", 1): "big town"})), UnknownTierError, ("r.csv", "'big town' (row 3)", "allowed tiers")),
    Case("data-folder-register-is-a-folder", _override("settlements/register.csv", lambda p: p.mkdir()),
         BrokenFileError, ("register.csv", "is a folder", "pass the file itself")),
    Case("data-folder-census-zero-bytes", _override("settlements/census2020_counties.csv",
                                                    lambda p: p.write_bytes(b"")),
         BrokenFileError, ("census2020_counties.csv", "BAZHONG_GEO_DATA", "data init")),
    Case("data-folder-census-no-columns", _override("settlements/census2020_counties.csv",
                                                    lambda p: p.write_text("a,b\n1,2\n", encoding="utf-8")),
         MissingColumnError, ("census2020_counties.csv", "'code'", "data init")),
    Case("data-folder-boundary-file-broken", _override("boundaries/official.gpkg", lambda p: p.write_text("x")),
         BrokenFileError, ("official.gpkg", "not a GeoPackage")),
    Case("region-none", lambda t, mp: partial(region_geometry, None, "within="), EmptyInputError,
         ("within=", "load_bazhong().prefecture")),
    Case("region-no-crs", lambda t, mp: partial(region_geometry, mk.boundaries().set_crs(None, allow_override=True),
                                               "region="), MissingCRSError, ("region=", "set_crs")),
    # ------------------------------------------------------------------------------------ targets: plan, indicators
    Case("plan-missing-file", lambda t, mp: partial(targets.load_plan, t / "plan.csv"), PlanFormatError,
         ("plan.csv", "not found", "check the path"), owner="owner: targets; 'file not found' gives no fix"),
    Case("plan-is-a-folder", lambda t, mp: partial(targets.load_plan, mk.folder_named(t, "plan.csv")),
         PlanFormatError, ("plan.csv", "folder"), owner="owner: targets; IsADirectoryError escapes untyped"),
    Case("plan-zero-bytes", lambda t, mp: partial(targets.load_plan, mk.text(t, "plan.csv", b"")), PlanFormatError,
         ("plan.csv", "empty"), owner="owner: targets; pandas EmptyDataError escapes untyped"),
    Case("plan-missing-column", plan_file(mk.PLAN_ROW.rsplit(",", 1)[0], header=mk.PLAN_HEADER.rsplit(",", 1)[0]
                                          .replace(",comparison", "")),
         PlanFormatError, ("plan.csv", "'comparison'", "the header must hold")),
    Case("plan-no-rows", plan_file(), PlanFormatError, ("plan.csv", "no targets")),
    Case("plan-bad-comparison", plan_file(mk.PLAN_ROW.replace(",>=,", ",=>,")), PlanFormatError,
         ("plan.csv, line 2", "'urbanization_rate'", "use one of")),
    Case("plan-target-text", plan_file(mk.PLAN_ROW.replace(",45,", ",forty,")), PlanFormatError,
         ("plan.csv, line 2", "'forty'", "not a number")),
    Case("plan-target-infinite", plan_file(mk.PLAN_ROW.replace(",45,", ",inf,")), PlanFormatError,
         ("plan.csv, line 2", "finite")),
    Case("plan-year-text", plan_file(mk.PLAN_ROW.replace(",2020,2017,", ",2020年,2017,")), PlanFormatError,
         ("plan.csv, line 2", "'2020年'", "not a year")),
    Case("plan-target-before-baseline", plan_file(mk.PLAN_ROW.replace(",2020,2017,", ",2016,2017,")),
         PlanFormatError, ("plan.csv, line 2", "not after baseline_year")),
    Case("plan-scope-name", plan_file(mk.PLAN_ROW.replace(",511900,", ",巴中市,")), PlanFormatError,
         ("plan.csv, line 2", "'巴中市'", "use 511900")),
    Case("plan-blank-field", plan_file(mk.PLAN_ROW.replace(",percent,", ",,")), PlanFormatError,
         ("plan.csv, line 2", "['unit']", "fill them in")),
    Case("plan-unknown-unit", plan_file(mk.PLAN_ROW.replace(",percent,", ",furlongs,")), PlanFormatError,
         ("plan.csv, line 2", "furlongs")),
    Case("plan-duplicate-target", plan_file(mk.PLAN_ROW, mk.PLAN_ROW), PlanFormatError,
         ("plan.csv", "lines [2, 3]", "keep one row per target")),
    Case("indicators-missing-file", lambda t, mp: partial(targets.load_indicators, t / "ind.csv"),
         IndicatorFormatError, ("ind.csv", "not found", "check the path"),
         owner="owner: targets; 'file not found' gives no fix"),
    Case("indicators-missing-column", ind_file("urbanization_rate,511900,2020,46.16", header="key,scope,year,value"),
         IndicatorFormatError, ("ind.csv", "'unit'", "the header must hold")),
    Case("indicators-blank-value", ind_file(mk.IND_ROW.replace(",46.16,", ",,")), IndicatorFormatError,
         ("ind.csv", "line(s) [2]", "never written as 0 or blank")),
    Case("indicators-text-value", ind_file(mk.IND_ROW.replace(",46.16,", ",about 46,")), IndicatorFormatError,
         ("ind.csv", "line(s) [2]", "not a number", "never written as 0 or blank")),
    Case("indicators-bad-year", ind_file(mk.IND_ROW.replace(",2020,", ",1800,")), IndicatorFormatError,
         ("ind.csv", "line(s) [2]", "outside 1949-2100")),
    Case("indicators-bad-kind", ind_file(mk.IND_ROW.replace(",reported,", ",rumoured,")), IndicatorFormatError,
         ("ind.csv", "line(s) [2]", "kind must be one of ('reported'")),
    Case("indicators-bad-bound", ind_file(mk.IND_ROW.replace(",reported,,", ",reported,~,")), IndicatorFormatError,
         ("ind.csv", "line(s) [2]", "bound must be blank or one of")),
    Case("indicators-duplicate", ind_file(mk.IND_ROW, mk.IND_ROW), DuplicateIndicatorError,
         ("ind.csv", "2, 3")),
    Case("progress-unit-mismatch", lambda t, mp: partial(
        targets.progress, targets.load_plan(mk.text(t, "plan.csv", f"{mk.PLAN_HEADER}\n{mk.PLAN_ROW}\n")),
        targets.load_indicators(mk.text(t, "ind.csv", f"{mk.IND_HEADER}\n{mk.IND_ROW.replace('percent', 'people')}\n"))),
         IndicatorUnitError, ("urbanization_rate", "percent", "people")),
    Case("progress-as-of-before-baseline", lambda t, mp: partial(targets.progress, targets.load_plan(), as_of=2000),
         PlanYearError, ("2000", "baseline")),
    # ------------------------------------------------------------------------------------ workspace, workbook
    Case("workspace-missing", lambda t, mp: partial(workspace.load_workspace, t), WorkspaceNotFoundError,
         ("bazhong-geo.toml", "bazhong-geo init")),
    Case("workspace-bad-toml", _workspace("[workspace\nname = 'x'\n"), WorkspaceConfigError,
         ("bazhong-geo.toml", "not valid TOML", "check quotes")),
    Case("workspace-not-utf8", lambda t, mp: partial(workspace.load_workspace, mk.text(t, "bazhong-geo.toml",
                                                                                       "name='巴中'".encode("gbk"))
                                                     .parent), WorkspaceConfigError,
         ("bazhong-geo.toml", "save it as UTF-8")),
    Case("workspace-unknown-key", _workspace("[workspace]\nnmae = 'x'\n"), WorkspaceConfigError,
         ("bazhong-geo.toml", "nmae")),
    Case("workbook-not-a-zip", lambda t, mp: partial(workbook.read_collection_workbook, mk.text(t, "资料.xlsx", "x,y")),
         BrokenFileError, ("资料.xlsx", "not an .xlsx workbook"),
         owner="owner: workbook; read_collection_workbook lets openpyxl's BadZipFile escape untyped"),
    Case("workbook-missing", lambda t, mp: partial(workbook.read_collection_workbook, t / "资料.xlsx"),
         MissingFileError, ("资料.xlsx", "no such file"),
         owner="owner: workbook; read_collection_workbook raises a raw FileNotFoundError"),
    Case("workbook-wrong-workbook", lambda t, mp: partial(workbook.read_collection_workbook, _xlsx(t)),
         BazhongGeoError, ("r.xlsx", "no sheet", "data-collection workbook")),
    # ------------------------------------------------------------------------------------ writers and outputs
    Case("write-unknown-extension", writes(lambda t: t / "out.docx"), UnsupportedFormatError,
         ("out.docx", "supported: .xlsx")),
    Case("write-geometry-format-without-geometry", writes(lambda t: t / "out.gpkg"), UnsupportedFormatError,
         ("out.gpkg", "needs a geometry", "write .xlsx")),
    Case("write-bad-lang", lambda t, mp: partial(writers.write_table, pd.DataFrame({"a": [1]}), t / "o.csv",
                                                 lang="fr"), UnsupportedFormatError, ("'fr'", "'zh'")),
    Case("write-excel-control-characters", lambda t, mp: partial(writers.write_table, pd.DataFrame(
        {"name": ["巴州区\x01"]}), t / "o.xlsx"), UnsupportedFormatError,
         ("o.xlsx", "row 2 column name", "remove them")),
    Case("write-style-column-missing", lambda t, mp: partial(writers.write_table, mk.boundaries(), t / "o.gpkg",
                                                             style={"column": "builtup_km2"}),
         UnsupportedFormatError, ("'builtup_km2'", "columns")),
    Case("write-parent-is-a-file", writes(_file_then("out.csv")), OutputError,
         ("notes.txt", "is a file, not a folder", "choose another output folder")),
    Case("write-into-read-only-folder", writes(lambda t: mk.read_only_folder(t / "ro") / "out.csv"), OutputError,
         ("ro", "read-only", "chmod u+w")),
    Case("write-onto-read-only-file", writes(lambda t: mk.read_only_file(t / "out.csv")), OutputError,
         ("out.csv", "read-only", "chmod u+w")),
    Case("write-onto-a-folder", writes(lambda t: mk.folder_named(t, "out.csv")), OutputError,
         ("out.csv", "a folder of that name", "choose another file name")),
    Case("write-shapefile-read-only-folder", lambda t, mp: partial(writers.write_table, mk.boundaries(),
                                                                   mk.read_only_folder(t / "ro") / "o.shp"),
         OutputError, ("ro", "read-only", "chmod u+w")),
    Case("report-parent-is-a-file", _report_into(_file_then("report")), OutputError,
         ("notes.txt", "is a file, not a folder", "choose another output folder")),
    Case("report-read-only-folder", _report_into(lambda t: mk.read_only_folder(t / "ro")), OutputError,
         ("ro", "read-only", "chmod u+w")),
    Case("report-onto-read-only-csv", _report_into(lambda t: mk.read_only_file(t / "rep" / "progress.csv").parent),
         OutputError, ("progress.csv", "read-only", "chmod u+w")),
    Case("figure-onto-read-only-file", _figure_onto(lambda t: mk.read_only_file(t / "fig.png")), OutputError,
         ("fig.png", "read-only", "chmod u+w")),
    Case("figure-parent-is-a-file", _figure_onto(_file_then("fig.png")), OutputError,
         ("notes.txt", "is a file, not a folder")),
    Case("data-init-parent-is-a-file", lambda t, mp: partial(resources.init_data_folder, _file_then("data")(t)),
         OutputError, ("notes.txt", "is a file, not a folder", "choose another output folder")),
    Case("data-init-read-only-folder", lambda t, mp: partial(resources.init_data_folder,
                                                             mk.read_only_folder(t / "data")),
         OutputError, ("data", "read-only", "chmod u+w")),
    Case("atomic-text-onto-folder", lambda t, mp: partial(atomic.write_text, mk.folder_named(t, "x.md"), "x"),
         OutputError, ("x.md", "a folder of that name")),
    # ------------------------------------------------------------------------------------ crs
    Case("crs-to-work-no-crs", lambda t, mp: partial(crs.to_work_crs, mk.boundaries().set_crs(None, allow_override=True),
                                                    source="b.gpkg"), MissingCRSError, ("b.gpkg", "crs=")),
    Case("crs-convert-unknown-system", lambda t, mp: partial(crs.convert, mk.boundaries(), src="mars"),
         UnknownCoordinateSystemError, ("'mars'", "gcj02")),
    Case("crs-transform-unknown-system", lambda t, mp: partial(crs.transform_coords, [106.7], [31.8], "wgs84",
                                                              "baidu09x"), UnknownCoordinateSystemError,
         ("'baidu09x'", "bd09")),
    Case("crs-area-no-crs", lambda t, mp: partial(crs.area_km2, mk.boundaries().set_crs(None, allow_override=True)),
         MissingCRSError, ("crs=",)),
    Case("workspace-unknown-coordinate-system", lambda t, mp: partial(workspace.parse_coordinate_system, "北京99"),
         UnknownCoordinateSystemError, ("'北京99'", "cgcs2000")),
    # ------------------------------------------------------------------------------------ analysis, public API only
    Case("radius-unknown-tier", lambda t, mp: partial(catchments.radius, SettlementSystem(mk.system_frame()),
                                                      "metropolis"), UnknownTierError, ("'metropolis'", "town")),
    Case("radius-negative", lambda t, mp: partial(catchments.radius, SettlementSystem(mk.system_frame()), "town",
                                                  radii=-5), InvalidThresholdError, ("-5.0", "must be > 0 m")),
    Case("radius-missing-columns", lambda t, mp: partial(catchments.radius, mk.system_frame().drop(columns="tier"),
                                                         "town"), MissingColumnError, ("'tier'", "read_settlements")),
    Case("radius-empty-frame", lambda t, mp: partial(catchments.radius, mk.system_frame().iloc[:0], "town"),
         EmptyInputError, ("no rows", "read_settlements"),
         owner="owner: settlements; an empty frame given to catchments says 'no rows' without a fix"),
    Case("radius-no-crs", lambda t, mp: partial(catchments.radius, mk.system_frame().set_crs(None,
                                                                                            allow_override=True),
                                                "town"), MissingCRSError, ("crs=",)),
    Case("voronoi-duplicate-locations", lambda t, mp: partial(
        catchments.voronoi, SettlementSystem(pd.concat([mk.system_frame(), mk.system_frame().iloc[[2]].assign(
            code="511921102", name="双胞镇")], ignore_index=True)), "town", within=mk.boundaries()),
         BazhongGeoError, ("511921101", "511921102", "duplicates=")),
    Case("population-served-text-population", lambda t, mp: partial(
        catchments.population_served, mk.zones().assign(tier="town"), _people().assign(population=["many"])),
         InvalidPopulationError, ("'population'", "rows [0]", "fill them")),
    Case("gaps-without-region", lambda t, mp: partial(catchments.gaps, mk.zones().assign(tier="town")),
         EmptyInputError, ("region", "load_bazhong().prefecture")),
    Case("nested-without-within", lambda t, mp: partial(catchments.nested, mk.system_frame()), EmptyInputError,
         ("within", "load_bazhong().prefecture")),
    Case("population-served-missing-column", lambda t, mp: partial(
        catchments.population_served, mk.zones(), _people().rename(columns={"population": "pop"})),
         MissingColumnError, ("'population'", "column=")),
    Case("population-served-no-crs", lambda t, mp: partial(catchments.population_served, mk.zones(),
                                                           _people().set_crs(None, allow_override=True)),
         MissingCRSError, ("crs",)),
    Case("network-no-speed-column", lambda t, mp: partial(network.build_graph, mk.roads().drop(columns="speed_kmh")),
         BazhongGeoError, ("speed_kmh", "class_col")),
    Case("network-negative-speed", lambda t, mp: partial(network.build_graph, mk.roads(speed=(40.0, -3.0))),
         InvalidSpeedError, ("-3", "speed")),
    Case("network-empty", lambda t, mp: partial(network.build_graph, mk.roads().iloc[:0]), EmptyInputError,
         ("road", "no")),
    Case("network-no-crs", lambda t, mp: partial(network.build_graph, mk.roads().set_crs(None, allow_override=True)),
         MissingCRSError, ("crs",)),
    Case("network-missing-speed", lambda t, mp: partial(network.build_graph, mk.roads(speed=(40.0, float("nan")))),
         InvalidSpeedError, ("rows [1]", "> 0 km/h")),
    Case("builtup-vector-missing-class", lambda t, mp: partial(builtup.area_by_zone_vector, mk.landuse().rename(
        columns={"class_code": "dlbm"}), mk.zones(), classes=["20"]), MissingColumnError, ("'class_code'", "class_col=")),
    Case("builtup-vector-no-crs", lambda t, mp: partial(builtup.area_by_zone_vector, mk.landuse().set_crs(
        None, allow_override=True), mk.zones(), classes=["20"]), MissingCRSError, ("crs",)),
    Case("builtup-vector-empty-zones", lambda t, mp: partial(builtup.area_by_zone_vector, mk.landuse(),
                                                             mk.zones().iloc[:0], classes=["20"]),
         EmptyInputError, ("zones", "no")),
    Case("builtup-rule-both", lambda t, mp: partial(builtup.area_by_zone, _raster(t), mk.zones(), classes=[50],
                                                    fraction="percent"), InvalidBuiltupRuleError,
         ("classes", "fraction")),
    Case("builtup-raster-missing", lambda t, mp: partial(builtup.area_by_zone, t / "gone.tif", mk.zones(),
                                                         classes=[50]), BazhongGeoError, ("gone.tif", "no such file"),
         owner="owner: raster opener (zonal); a missing raster raises rasterio's untyped RasterioIOError"),
    Case("builtup-raster-is-text", lambda t, mp: partial(builtup.area_by_zone, mk.text(t, "t.tif", "not a raster"),
                                                         mk.zones(), classes=[50]), BazhongGeoError, ("t.tif", "GeoTIFF")),
    Case("builtup-line-zone", lambda t, mp: partial(builtup.area_by_zone, _raster(t), gpd.GeoDataFrame(
        {"code": ["L1"], "name": ["路"]}, geometry=[LineString([(520100, 3530100), (520900, 3530900)])], crs=4545),
        classes=[50]), BazhongGeoError, ("L1", "line"),
         owner="owner: builtup/zonal; a LineString zone is not a clear typed error (issue 11, Rasters)"),
]


def _params():
    for case in CASES:
        marks = [pytest.mark.xfail(strict=True, reason=case.owner)] if case.owner else []
        yield pytest.param(case, id=case.id, marks=marks)


@pytest.fixture
def restore_permissions(tmp_path):
    yield
    for p in [tmp_path, *tmp_path.rglob("*")]:
        if not p.is_symlink():
            p.chmod(0o755 if p.is_dir() else 0o644)


@pytest.mark.parametrize("case", list(_params()))
def test_bad_input_gives_a_typed_error_naming_what_and_the_fix(case: Case, tmp_path, monkeypatch,
                                                               restore_permissions):
    monkeypatch.delenv("BAZHONG_GEO_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    call = case.make(tmp_path, monkeypatch)
    with pytest.raises(BaseException) as err:
        call()
    exc = err.value
    assert isinstance(exc, case.exc), f"{type(exc).__name__} instead of {case.exc.__name__}: {exc}"
    assert isinstance(exc, BazhongGeoError)
    message = str(exc)
    missing = [w for w in case.words if w not in message]
    assert not missing, f"message lacks {missing}: {message}"


def test_the_corpus_is_large_and_its_ids_unique():
    ids = [c.id for c in CASES]
    assert len(ids) >= 100
    assert len(set(ids)) == len(ids)
    assert all(issubclass(c.exc, BazhongGeoError) for c in CASES)


def test_input_file_errors_share_one_base():
    """Callers (the CLI) catch every broken input with one type, and old code catching OSError still works."""
    assert issubclass(BrokenFileError, InputFileError)
    assert issubclass(UnreadableFileError, InputFileError)
    assert issubclass(MissingFileError, FileNotFoundError)
    assert issubclass(BrokenFileError, UnsupportedFormatError)


def test_a_failed_report_leaves_the_old_report_whole(tmp_path):
    """All or nothing per command: a read-only progress.csv stops the report before any file is replaced."""
    out = tmp_path / "rep"
    first = report_mod.write_report(out, lang="en")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    first["csv"].chmod(0o444)
    with pytest.raises(OutputError, match=r"progress\.csv"):
        report_mod.write_report(out, as_of=2019, lang="en")
    first["csv"].chmod(0o644)
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before


def test_a_report_that_fails_half_way_writes_nothing(tmp_path, monkeypatch):
    out = tmp_path / "rep"

    def broken(*args, **kwargs):
        raise RuntimeError("the figure renderer died")

    monkeypatch.setattr(report_mod, "save_figure", broken)
    with pytest.raises(RuntimeError, match="renderer died"):
        report_mod.write_report(out, lang="en")
    assert [p for p in out.rglob("*") if p.is_file()] == []


def test_corpus_cases_leave_no_temporary_files(tmp_path):
    """Failed writes clean up: no ``.name.XXXX`` files stay behind."""
    target = mk.read_only_file(tmp_path / "out.csv")
    with pytest.raises(OutputError):
        writers.write_table(pd.DataFrame({"a": [1]}), target)
    target.chmod(0o644)
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
    assert target.read_text(encoding="utf-8") == "old"


def test_root_and_users_see_the_same_read_only_folder(tmp_path):
    """Root ignores permission bits; the checks use the bits themselves, so a 0o555 folder is read-only for all."""
    folder = mk.read_only_folder(tmp_path / "ro")
    try:
        with pytest.raises(OutputError, match="read-only"):
            atomic.ensure_folder(folder)
        assert os.access(folder, os.W_OK) == (os.geteuid() == 0)   # root could write: the bits decide
    finally:
        folder.chmod(0o755)
