"""Writers by extension, on bureau-like layers made here (issue 12, item 4)."""

import itertools
import sqlite3
import xml.etree.ElementTree as ET

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from openpyxl import load_workbook
from shapely.geometry import LineString, Point, box

from bazhong_geo._errors import UnsupportedFormatError
from bazhong_geo.columns import recognize_columns
from bazhong_geo.workspace import parse_coordinate_system
from bazhong_geo.writers import (
    SUPPORTED,
    header,
    qml_style,
    shapefile_names,
    write_table,
)

# three townships as 2 km x 3 km, 4 km x 3 km and 1 km x 3 km rectangles in CGCS2000 GK CM 108E (EPSG:4545)
_X0, _Y0 = 480_000.0, 3_530_000.0
_WIDTHS = (2_000.0, 4_000.0, 1_000.0)


def _townships_4545():
    xs = np.cumsum((0.0, *_WIDTHS))
    geoms = [box(_X0 + a, _Y0, _X0 + b, _Y0 + 3_000.0) for a, b in itertools.pairwise(xs)]
    return gpd.GeoDataFrame({"乡镇代码": ["511921101", "511921102", "511921103"],
                             "乡镇名称": ["诺水河镇", "沙溪镇", "铁佛镇"],
                             "面积": [6.0, 12.0, 3.0]}, geometry=geoms, crs="EPSG:4545")


def _bureau_shapefile(folder):
    """A GBK shapefile without .cpg, CGCS2000 GK zone 36 with the zone prefix (EPSG:4524)."""
    path = folder / "乡镇界.shp"
    _townships_4545().to_crs("EPSG:4524").to_file(path, engine="pyogrio", encoding="GBK")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    return path


def test_bureau_shapefile_read_and_put_in_the_work_crs(tmp_path):
    path = _bureau_shapefile(tmp_path)
    assert not path.with_suffix(".cpg").exists()
    assert "乡镇名称".encode("gbk") in path.with_suffix(".dbf").read_bytes()       # GBK bytes in the .dbf
    raw = gpd.read_file(path, engine="pyogrio", encoding="gbk")
    assert raw["乡镇名称"].tolist() == ["诺水河镇", "沙溪镇", "铁佛镇"]
    rename, report = recognize_columns(raw.drop(columns="geometry"), "boundaries")
    assert report.ok
    assert rename == {"乡镇代码": "code", "乡镇名称": "name", "面积": "area"}
    easting = float(raw.geometry.bounds["minx"].iloc[0])
    assert 36_000_000 < easting < 37_000_000                                      # the zone number in front
    crs = parse_coordinate_system("cgcs2000", zone_prefix=True).crs(sample_easting=easting)
    assert crs == "EPSG:4524"
    work = raw.set_crs(crs, allow_override=True).to_crs("EPSG:4545").rename(columns=rename)
    assert np.allclose(work.area / 1e6, [6.0, 12.0, 3.0], atol=1e-6)


def test_unknown_extension_names_the_supported_ones(tmp_path):
    with pytest.raises(UnsupportedFormatError, match=r"\.kml.*\.xlsx, \.csv, \.gpkg, \.shp, \.geojson, \.parquet"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "out.kml")
    with pytest.raises(UnsupportedFormatError, match="needs a geometry"):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "out.gpkg")
    assert SUPPORTED == (".xlsx", ".csv", ".gpkg", ".shp", ".geojson", ".parquet")


def _result_table():
    gdf = _townships_4545().rename(columns={"乡镇代码": "code", "乡镇名称": "name"}).drop(columns="面积")
    gdf["builtup_km2"] = [0.5, 1.25, 0.0]
    gdf["resident_population"] = [21000, 35000, 9000]
    gdf["tier"] = ["featured_town", "town", "town"]
    return gdf


def test_xlsx_chinese_headers_units_and_sources(tmp_path):
    out = tmp_path / "建成区.xlsx"
    res = write_table(_result_table(), out, lang="zh", sources={"builtup_km2": "ESA WorldCover 2021, class 50"})
    wb = load_workbook(out)
    assert wb.sheetnames == ["数据", "来源"]
    rows = list(wb["数据"].iter_rows(values_only=True))
    assert rows[0] == ("代码", "名称", "建成区面积（km²）", "常住人口（人）", "等级")
    assert rows[1] == ("511921101", "诺水河镇", 0.5, 21000, "特色镇")
    assert len(rows) == 4
    assert list(wb["来源"].iter_rows(values_only=True)) == [("item", "来源"),
                                                            ("builtup_km2", "ESA WorldCover 2021, class 50")]
    assert any("left out" in n for n in res.notes)                # polygons are not put in a spreadsheet
    english = load_workbook(write_table(_result_table(), tmp_path / "en.xlsx").path)
    assert next(english["data"].iter_rows(values_only=True))[2] == "builtup_km2"


def test_xlsx_same_input_same_bytes(tmp_path):
    a = write_table(_result_table(), tmp_path / "a.xlsx", lang="zh").path.read_bytes()
    b = write_table(_result_table(), tmp_path / "b.xlsx", lang="zh").path.read_bytes()
    assert a == b


def test_csv_has_a_bom_and_points_become_lon_lat(tmp_path):
    pts = gpd.GeoDataFrame({"code": ["511921101"], "name": ["诺水河镇"], "distance_m": [1500.0]},
                           geometry=[Point(107.5, 32.0)], crs=4326).to_crs("EPSG:4545")
    out = write_table(pts, tmp_path / "seats.csv", lang="zh").path
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(out, encoding="utf-8-sig", dtype={"代码": str})
    assert list(back.columns) == ["代码", "名称", "距离（m）", "经度", "纬度"]
    assert back.loc[0, "代码"] == "511921101"
    assert back.loc[0, "经度"] == pytest.approx(107.5, abs=1e-6) and back.loc[0, "纬度"] == pytest.approx(32.0, abs=1e-6)


def test_gpkg_stores_a_graduated_qgis_style(tmp_path):
    out = tmp_path / "builtup.gpkg"
    write_table(_result_table(), out, lang="zh", style={"column": "builtup_km2", "classes": 3},
                sources=["ESA WorldCover 2021"])
    assert set(pyogrio.list_layers(out)[:, 0]) == {"builtup", "sources", "layer_styles"}   # as QGIS itself does
    with sqlite3.connect(out) as con:
        rows = con.execute("SELECT f_table_name, f_geometry_column, useAsDefault, styleQML FROM layer_styles").fetchall()
        contents = con.execute("SELECT data_type FROM gpkg_contents WHERE table_name='layer_styles'").fetchone()
        geom_col = con.execute("SELECT column_name FROM gpkg_geometry_columns WHERE table_name='builtup'").fetchone()
    assert contents == ("attributes",)
    assert len(rows) == 1
    table, geom, default, qml = rows[0]
    assert (table, geom, default) == ("builtup", geom_col[0], 1)
    root = ET.fromstring(qml.split("\n", 1)[1])
    renderer = root.find("renderer-v2")
    assert renderer.get("type") == "graduatedSymbol" and renderer.get("attr") == "builtup_km2"
    ranges = renderer.findall("ranges/range")
    lows = [float(r.get("lower")) for r in ranges]
    highs = [float(r.get("upper")) for r in ranges]
    assert lows[0] == 0.0 and highs[-1] == 1.25 and lows[1:] == highs[:-1]      # breaks cover the data
    assert {s.get("type") for s in renderer.findall("symbols/symbol")} == {"fill"}
    aliases = {a.get("field"): a.get("name") for a in root.findall("aliases/alias")}
    assert aliases["builtup_km2"] == "建成区面积（km²）"
    back = gpd.read_file(out, layer="builtup")
    assert back.crs.equals("EPSG:4545") and len(back) == 3


def test_gpkg_single_symbol_for_lines_and_points():
    roads = gpd.GeoDataFrame({"road_class": ["国道"]}, geometry=[LineString([(0, 0), (1, 1)])], crs=4545)
    root = ET.fromstring(qml_style(roads).split("\n", 1)[1])
    assert root.find("renderer-v2").get("type") == "singleSymbol"
    assert root.find("renderer-v2/symbols/symbol").get("type") == "line"
    pts = gpd.GeoDataFrame({"a": [1]}, geometry=[Point(0, 0)], crs=4545)
    assert ET.fromstring(qml_style(pts).split("\n", 1)[1]).find("renderer-v2/symbols/symbol").get("type") == "marker"
    with pytest.raises(UnsupportedFormatError, match="style column"):
        qml_style(pts, style={"column": "nope"})


def test_shp_is_gbk_with_cpg_and_long_names_mapped(tmp_path):
    out = tmp_path / "成果.shp"
    res = write_table(_result_table(), out)
    assert out.with_suffix(".cpg").read_text() == "GBK"
    assert {p.suffix for p in res.files} == {".shp", ".shx", ".dbf", ".prj", ".cpg"}
    assert res.field_names == {"builtup_km2": "builtup_km", "resident_population": "resident_p"}
    assert any("builtup_km2 -> builtup_km" in n for n in res.notes)
    assert "诺水河镇".encode("gbk") in out.with_suffix(".dbf").read_bytes()
    assert "诺水河镇".encode() not in out.with_suffix(".dbf").read_bytes()            # not UTF-8
    back = gpd.read_file(out, engine="pyogrio")
    assert back["name"].tolist() == ["诺水河镇", "沙溪镇", "铁佛镇"]
    assert back["builtup_km"].tolist() == [0.5, 1.25, 0.0]
    assert not list(tmp_path.glob(".*"))                                          # no temporary left


def test_shapefile_names_unique_within_ten_bytes():
    names = shapefile_names(["population_2020", "population_2025", "建成区面积比例值", "code"])
    assert names == {"population_2020": "population", "population_2025": "populati_1", "建成区面积比例值": "建成区面积"}
    assert all(len(v.encode("gbk")) <= 10 for v in names.values())


def test_geojson_and_parquet(tmp_path):
    res = write_table(_result_table(), tmp_path / "t.geojson")
    back = gpd.read_file(res.path)
    assert back.crs.equals("EPSG:4326") and any("WGS-84" in n for n in res.notes)
    pq = write_table(_result_table(), tmp_path / "t.parquet").path
    assert gpd.read_parquet(pq).crs.equals("EPSG:4545")
    plain = write_table(pd.DataFrame({"a": [1, 2]}), tmp_path / "p.parquet").path
    assert pd.read_parquet(plain)["a"].tolist() == [1, 2]


def test_failed_write_leaves_nothing(tmp_path):
    bad = _result_table()
    bad["obj"] = [object(), object(), object()]                                   # not writable to parquet
    with pytest.raises(ValueError, match="object"):                             # pyarrow's own error
        write_table(bad, tmp_path / "x.parquet")
    assert list(tmp_path.iterdir()) == []
    good = write_table(_result_table(), tmp_path / "x.xlsx").path.read_bytes()
    control = _result_table().assign(name=["a\x07b", "c", "d"])                    # a character Excel refuses
    with pytest.raises(UnsupportedFormatError, match="x.xlsx: control characters .* in row 2 column name"):
        write_table(control, tmp_path / "x.xlsx")
    assert (tmp_path / "x.xlsx").read_bytes() == good                            # the old file is intact
    assert [p.name for p in tmp_path.iterdir()] == ["x.xlsx"]


def test_headers():
    assert header("builtup_km2", "zh") == "建成区面积（km²）"
    assert header("town_area_population", "zh") == "镇区人口（人）"
    assert header("travel_minutes", "zh") == "出行时间（分钟）"
    assert header("something_new", "zh") == "something_new"


def test_place_layer_by_the_configuration(tmp_path):
    from bazhong_geo._errors import MissingCRSError, UnknownCoordinateSystemError
    from bazhong_geo.workspace import place_layer

    path = _bureau_shapefile(tmp_path)
    for suffix in (".prj",):                                         # bureau files often come without a .prj
        path.with_suffix(suffix).unlink()
    raw = gpd.read_file(path, engine="pyogrio", encoding="gbk")
    assert raw.crs is None
    with pytest.raises(MissingCRSError, match="zone_prefix = true"):
        place_layer(raw, None, source=path.name)
    work, notes = place_layer(raw, parse_coordinate_system("cgcs2000", zone_prefix=True), source=path.name)
    assert work.crs.equals("EPSG:4545") and notes == []
    assert np.allclose(work.area / 1e6, [6.0, 12.0, 3.0], atol=1e-6)
    assert np.allclose(work.total_bounds, _townships_4545().total_bounds, atol=1e-3)
    wrong = raw.set_crs("EPSG:4545")                                  # a .prj without the zone prefix
    with pytest.raises(UnknownCoordinateSystemError, match="zone number 36.*zone_prefix = true.*EPSG:4524"):
        place_layer(wrong, None, source=path.name)
    fixed, notes = place_layer(wrong, parse_coordinate_system("cgcs2000", zone_prefix=True), source=path.name)
    assert fixed.crs.equals("EPSG:4545") and "the configuration is used" in notes[0]
    seat = gpd.GeoDataFrame(geometry=[Point(107.9101, 32.3950)])      # an Amap point, no CRS in the file
    placed, notes = place_layer(seat, parse_coordinate_system("gcj02"))
    from bazhong_geo.crs import gcj02_to_wgs84

    expected = gpd.GeoSeries([Point(*gcj02_to_wgs84(107.9101, 32.3950))], crs=4326).to_crs(4545)
    assert placed.geometry.iloc[0].distance(expected.iloc[0]) < 0.01 and "converted" in notes[0]
