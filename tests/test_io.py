"""Loaders: real round trips through every supported format, and every validation error triggered."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

gpd = pytest.importorskip("geopandas")  # installed globally; importorskip only keeps collection clean
import shapely  # noqa: E402
from shapely.geometry import Point, Polygon  # noqa: E402

from bazhong_geo import crs as bcrs  # noqa: E402
from bazhong_geo._errors import (  # noqa: E402
    DuplicateCodeError,
    EmptyInputError,
    InvalidCoordinateError,
    InvalidPopulationError,
    MissingColumnError,
    MissingCRSError,
    MissingValueError,
    UnknownCoordinateSystemError,
    UnknownTierError,
    UnsupportedFormatError,
)
from bazhong_geo.io import ValidationReport, read_boundaries, read_settlements  # noqa: E402
from bazhong_geo._validate import detect_dbf_encoding, detect_text_encoding  # noqa: E402

# Two county-like squares inside Bazhong (lon/lat, CGCS2000) and the prefecture around them.
SQ_A = Polygon([(106.6, 31.7), (106.9, 31.7), (106.9, 32.0), (106.6, 32.0)])
SQ_B = Polygon([(107.0, 31.7), (107.3, 31.7), (107.3, 32.0), (107.0, 32.0)])
BOWTIE = Polygon([(107.0, 31.7), (107.3, 32.0), (107.3, 31.7), (107.0, 32.0)])  # self-intersecting


def _boundaries(geoms=(SQ_A, SQ_B), codes=("511902", "511921"), names=("巴州区", "通江县"), crs=4490):
    return gpd.GeoDataFrame({"XZQDM": list(codes), "XZQMC": list(names)}, geometry=list(geoms), crs=crs)


def _register() -> pd.DataFrame:
    """A small register in Chinese column names (WGS-84 lon/lat), one row without coordinates."""
    return pd.DataFrame({
        "行政代码": ["511900", "511921", "511921101", "511921101201", "511922105"],
        "名称": ["巴城", "通江县城", "诺江镇", "某村", "长赤镇"],
        "等级": ["巴城", "县城", "特色镇", "中心村", "镇"],
        "上级代码": ["", "511900", "511921", "511921101", "511922"],
        "经度": [106.764727, 107.240525, 107.25, 107.26, None],
        "纬度": [31.853662, 31.913888, 31.92, 31.93, None],
        "人口": [608152, 150000, 22000, "", 18000],
    })


def _points_lonlat(gdf):
    ll = gdf.geometry.to_crs(4326)
    return ll.x.to_numpy(), ll.y.to_numpy()


# ============================================================================================ boundaries: formats

def test_gpkg_round_trip_maps_columns_and_level(tmp_path):
    path = tmp_path / "counties.gpkg"
    src = _boundaries(geoms=(SQ_A, SQ_B, SQ_A.union(SQ_B)), codes=(511902, 511921, 511900),
                      names=("巴州区", "通江县", "巴中市"))
    src.to_file(path)
    gdf, report = read_boundaries(path, return_report=True)
    assert gdf.crs.to_epsg() == 4545
    assert gdf.code.tolist() == ["511902", "511921", "511900"]          # int codes -> str
    assert gdf.name.tolist() == ["巴州区", "通江县", "巴中市"]
    assert gdf.level.tolist() == ["county", "county", "prefecture"]
    assert report.columns["XZQDM"] == "code" and report.columns["XZQMC"] == "name"
    assert report.n_in == report.n_out == 3 and not report.has_errors
    # areas survive the reprojection (EPSG:4545 is conformal, so compare loosely to the geodesic area)
    assert np.allclose(bcrs.area_km2(gdf).iloc[:2], bcrs.area_km2(src.iloc[:2].set_crs(4490, allow_override=True)),
                       rtol=2e-3)


def test_shapefile_gbk_dbf_without_cpg_reads_chinese_exactly(tmp_path):
    path = tmp_path / "xzq.shp"
    names = ("巴州区", "通江县")
    _boundaries(names=names).to_file(path, encoding="GBK", engine="pyogrio")
    (tmp_path / "xzq.cpg").unlink()
    dbf = tmp_path / "xzq.dbf"
    raw = bytearray(dbf.read_bytes())
    raw[29] = 0  # no language-driver id either, as in files exported by many Chinese GIS tools
    dbf.write_bytes(bytes(raw))
    assert "巴州区".encode("gbk") in raw
    # without detection GDAL falls back to ISO-8859-1: the mojibake we must not produce
    import pyogrio

    assert pyogrio.read_dataframe(path).XZQMC.tolist() != list(names)
    enc, how = detect_dbf_encoding(path)
    assert enc == "gb18030" and "no .cpg" in how
    gdf, report = read_boundaries(path, return_report=True)
    assert gdf.name.tolist() == list(names)
    assert report.encoding == "gb18030"


def test_shapefile_cpg_is_honoured_and_utf8_detected(tmp_path):
    path = tmp_path / "u.shp"
    _boundaries().to_file(path, encoding="UTF-8", engine="pyogrio")
    assert (tmp_path / "u.cpg").exists()
    assert detect_dbf_encoding(path)[0] == "utf-8"
    assert read_boundaries(path).name.tolist() == ["巴州区", "通江县"]
    (tmp_path / "u.cpg").unlink()
    enc, how = detect_dbf_encoding(path)
    assert enc == "utf-8" and "detected" in how
    assert read_boundaries(path).name.tolist() == ["巴州区", "通江县"]


def test_geojson_and_geoparquet_round_trips(tmp_path):
    src = _boundaries(codes=("511902001", "511902002"), names=("东城街道", "西城街道"), crs=4326)
    src = src.rename(columns={"XZQDM": "PAC", "XZQMC": "NAME"})
    src.to_file(tmp_path / "t.geojson", driver="GeoJSON")
    src.to_crs(4545).to_parquet(tmp_path / "t.parquet")
    a = read_boundaries(tmp_path / "t.geojson")
    b = read_boundaries(tmp_path / "t.parquet")
    for gdf in (a, b):
        assert gdf.crs.to_epsg() == 4545
        assert gdf.code.tolist() == ["511902001", "511902002"]
        assert gdf.level.tolist() == ["township", "township"]
        assert gdf.name.tolist() == ["东城街道", "西城街道"]
    assert shapely.equals_exact(a.geometry.values, b.geometry.values, tolerance=1e-3).all()


def test_gcj02_boundaries_converted(tmp_path):
    gcj = bcrs.convert(_boundaries(crs=4326), src="wgs84", dst="gcj02")
    gcj.to_file(tmp_path / "amap.geojson", driver="GeoJSON")
    gdf = read_boundaries(tmp_path / "amap.geojson", coords="gcj02")
    truth = _boundaries(crs=4326).to_crs(4545)
    # iterative inverse: back within millimetres of the WGS-84 original
    assert shapely.hausdorff_distance(gdf.geometry.values, truth.geometry.values).max() < 0.01


# ============================================================================================ boundaries: validation

def test_missing_crs_is_an_error_naming_file_and_fix(tmp_path):
    path = tmp_path / "noprj.shp"
    _boundaries().to_file(path)
    (tmp_path / "noprj.prj").unlink()
    with pytest.raises(MissingCRSError) as err:
        read_boundaries(path)
    msg = str(err.value)
    assert "noprj.shp" in msg and 'crs="EPSG:4490"' in msg
    gdf, report = read_boundaries(path, crs="EPSG:4490", return_report=True)
    assert gdf.crs.to_epsg() == 4545 and any(i.code == "crs_assumed" for i in report.issues)


def test_missing_crs_guess_for_gauss_kruger_metres(tmp_path):
    path = tmp_path / "gk.shp"
    _boundaries().to_crs(4545).to_file(path)
    (tmp_path / "gk.prj").unlink()
    with pytest.raises(MissingCRSError, match='EPSG:4545'):
        read_boundaries(path)


def test_invalid_geometry_repaired_and_reported_empty_kept(tmp_path):
    path = tmp_path / "bad.gpkg"
    _boundaries(geoms=(SQ_A, BOWTIE, Polygon()), codes=("511902", "511921", "511922"),
                names=("巴州区", "通江县", "南江县")).to_file(path)
    gdf, report = read_boundaries(path, return_report=True)
    assert len(gdf) == 3 and report.n_in == report.n_out == 3
    assert gdf.geometry.is_valid.all()
    assert gdf.geometry.iloc[1].geom_type == "MultiPolygon"
    assert gdf.geometry.iloc[2].is_empty
    repaired = [i for i in report.issues if i.code == "invalid_geometry"]
    assert repaired and repaired[0].severity == "repair" and repaired[0].rows == (2,)   # GPKG FIDs start at 1
    assert "Self-intersection" in repaired[0].message
    empty = [i for i in report.issues if i.code == "empty_geometry"]
    assert empty and empty[0].rows == (3,) and empty[0].severity == "warning"
    frame = report.to_frame()
    assert {"repair", "warning"} <= set(frame.severity)
    assert "REPAIR" in report.to_text() and "FID 2" in str(report)


def test_duplicate_boundary_codes(tmp_path):
    path = tmp_path / "dup.gpkg"
    _boundaries(geoms=(SQ_A, SQ_B, SQ_A), codes=("511902", "511921", "511902"),
                names=("巴州区", "通江县", "巴州区")).to_file(path)
    with pytest.raises(DuplicateCodeError) as err:
        read_boundaries(path)
    msg = str(err.value)
    assert "dup.gpkg" in msg and "511902" in msg and "FID 1, 3" in msg and "dissolve" in msg
    assert err.value.report.has_errors


def test_missing_code_column_and_explicit_columns(tmp_path):
    path = tmp_path / "nocode.gpkg"
    _boundaries().rename(columns={"XZQDM": "foo"}).to_file(path)
    with pytest.raises(MissingColumnError, match=r"nocode\.gpkg.*code_col"):
        read_boundaries(path)
    gdf = read_boundaries(path, code_col="foo")
    assert gdf.code.tolist() == ["511902", "511921"] and "foo" not in gdf.columns


def test_unsupported_and_empty(tmp_path):
    (tmp_path / "x.kml").write_text("<kml/>")
    with pytest.raises(UnsupportedFormatError, match=r"x\.kml.*GeoPackage"):
        read_boundaries(tmp_path / "x.kml")
    (tmp_path / "e.csv").write_text("code,name,lon,lat\n")
    with pytest.raises(EmptyInputError, match=r"e\.csv"):
        read_settlements(tmp_path / "e.csv")
    with pytest.raises(UnsupportedFormatError, match="vector file"):
        read_boundaries(tmp_path / "e.csv")


# ============================================================================================ settlements: formats

def test_csv_utf8_and_gb18030_and_bom_read_identically(tmp_path):
    frames = []
    for enc in ("utf-8", "utf-8-sig", "gb18030"):
        path = tmp_path / f"reg_{enc}.csv"
        _register().to_csv(path, index=False, encoding=enc)
        gdf, report = read_settlements(path, return_report=True)
        assert report.encoding == enc
        frames.append(gdf)
    for gdf in frames:
        assert gdf.crs.to_epsg() == 4545
        assert gdf.name.tolist() == ["巴城", "通江县城", "诺江镇", "某村", "长赤镇"]
        assert gdf.tier.tolist() == ["central_city", "county_town", "featured_town", "central_village", "town"]
        assert gdf.parent_code.tolist() == [None, "511900", "511921", "511921101", "511922"]
        assert gdf.population.dtype == np.float64 and np.isnan(gdf.population.iloc[3])
        assert gdf.population.iloc[0] == 608152.0
        assert gdf.geometry.iloc[4] is None                       # kept, no invented point
        assert len(gdf) == 5
    pd.testing.assert_frame_equal(pd.DataFrame(frames[0].drop(columns="geometry")),
                                  pd.DataFrame(frames[2].drop(columns="geometry")))
    lon, lat = _points_lonlat(frames[0].iloc[:2])
    assert np.allclose(lon, [106.764727, 107.240525], atol=1e-9) and np.allclose(lat, [31.853662, 31.913888],
                                                                               atol=1e-9)


def test_report_names_columns_and_missing_coordinates(tmp_path):
    path = tmp_path / "reg.csv"
    _register().to_csv(path, index=False)
    gdf, report = read_settlements(path, return_report=True)
    assert report.columns == {"行政代码": "code", "名称": "name", "等级": "tier", "上级代码": "parent_code",
                              "人口": "population", "经度": "lon", "纬度": "lat"}
    text = report.to_text()
    assert "经度" in text and "纬度" in text
    nocoord = [i for i in report.issues if i.code == "no_coordinate"]
    assert nocoord and nocoord[0].rows == (6,)                     # 5th data row = row 6 of the file
    assert report.n_in == report.n_out == 5 and not report.has_errors


def test_xlsx_with_title_row(tmp_path):
    path = tmp_path / "reg.xlsx"
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "名录"
    ws.append(["巴中市城镇体系名录（测试）"])
    df = _register()
    ws.append(list(df.columns))
    for row in df.itertuples(index=False):
        ws.append([None if (isinstance(v, float) and np.isnan(v)) or v == "" else v for v in row])
    ws.append([])
    ws.append(["511923100", "平昌镇", "镇", "511923", 107.1, 31.56, "abc"])
    wb.save(path)
    with pytest.raises(InvalidPopulationError) as err:
        read_settlements(path)
    msg = str(err.value)
    assert "reg.xlsx" in msg and "row 9: 'abc'" in msg                 # Excel row numbers, blank row 8 counted
    wb = __import__("openpyxl").load_workbook(path)
    wb["名录"]["G9"] = 9000
    wb.save(path)
    gdf, report = read_settlements(path, layer="名录", return_report=True)
    assert gdf.code.tolist()[-1] == "511923100" and gdf.population.iloc[-1] == 9000.0
    assert gdf.name.tolist()[:2] == ["巴城", "通江县城"]
    assert any(i.code == "header_row" for i in report.issues)
    assert report.n_in == report.n_out == 6


def test_geopackage_points_and_parquet_points(tmp_path):
    df = _register()
    pts = [Point(x, y) if pd.notna(x) else None for x, y in zip(df["经度"], df["纬度"])]
    gdf = gpd.GeoDataFrame(df.drop(columns=["经度", "纬度"]).assign(人口=[608152, 150000, 22000, None, 18000]),
                           geometry=pts, crs=4490)
    gdf.to_file(tmp_path / "s.gpkg")
    gdf.to_parquet(tmp_path / "s.parquet")
    for name in ("s.gpkg", "s.parquet"):
        out, report = read_settlements(tmp_path / name, return_report=True)
        assert out.crs.to_epsg() == 4545 and len(out) == 5
        assert out.tier.tolist()[2] == "featured_town"
        assert out.geometry.iloc[4] is None or out.geometry.iloc[4].is_empty
        assert any(i.code == "null_geometry" for i in report.issues)


def test_gcj02_and_bd09_registers_converted_on_load(tmp_path):
    df = _register()
    lon, lat = df["经度"].to_numpy(float), df["纬度"].to_numpy(float)
    ok = ~np.isnan(lon)
    glon, glat = lon.copy(), lat.copy()
    glon[ok], glat[ok] = bcrs.wgs84_to_gcj02(lon[ok], lat[ok])
    blon, blat = lon.copy(), lat.copy()
    blon[ok], blat[ok] = bcrs.wgs84_to_bd09(lon[ok], lat[ok])
    df.assign(经度=glon, 纬度=glat).to_csv(tmp_path / "gcj.csv", index=False)
    df.assign(经度=blon, 纬度=blat).to_csv(tmp_path / "bd.csv", index=False)
    g = read_settlements(tmp_path / "gcj.csv", coords="gcj02")
    b = read_settlements(tmp_path / "bd.csv", coords="bd09")
    truth = gpd.GeoSeries(gpd.points_from_xy(lon[ok], lat[ok]), crs=4326).to_crs(4545)
    assert truth.distance(g.geometry[ok].reset_index(drop=True)).max() < 0.01
    assert truth.distance(b.geometry[ok].reset_index(drop=True)).max() < 0.01
    # same as the crs module's own inverse
    elon, elat = bcrs.gcj02_to_wgs84(glon[ok], glat[ok])
    glon_out, glat_out = _points_lonlat(g[ok])
    assert np.allclose(glon_out, elon, atol=1e-9) and np.allclose(glat_out, elat, atol=1e-9)
    # read as WGS-84 by mistake, they are ~300-500 m off: the conversion mattered
    wrong = read_settlements(tmp_path / "gcj.csv")
    assert truth.distance(wrong.geometry[ok].reset_index(drop=True)).min() > 100


def test_projected_coordinates_and_cgcs2000(tmp_path):
    df = _register().iloc[:3]
    xy = gpd.GeoSeries(gpd.points_from_xy(df["经度"], df["纬度"]), crs=4490).to_crs(4545)
    pd.DataFrame({"code": df["行政代码"], "name": df["名称"], "tier": df["等级"], "X": xy.x, "Y": xy.y}) \
        .to_csv(tmp_path / "xy.csv", index=False)
    g, report = read_settlements(tmp_path / "xy.csv", coords="EPSG:4545", return_report=True)
    assert g.geometry.distance(xy.reset_index(drop=True)).max() < 1e-6
    assert report.columns["X"] == "lon" and report.columns["Y"] == "lat"
    c = read_settlements(tmp_path / "xy.csv", crs="EPSG:4545")
    assert c.geometry.distance(xy.reset_index(drop=True)).max() < 1e-6
    _register().to_csv(tmp_path / "r.csv", index=False)
    assert read_settlements(tmp_path / "r.csv", coords="cgcs2000").geometry.iloc[:4].notna().all()
    with pytest.raises(UnknownCoordinateSystemError, match=r"r\.csv.*gcj02"):
        read_settlements(tmp_path / "r.csv", coords="mars")


# ============================================================================================ settlements: validation

def _write(tmp_path, df, name="reg.csv"):
    path = tmp_path / name
    df.to_csv(path, index=False)
    return path


def test_duplicate_codes_named_with_rows(tmp_path):
    df = _register()
    df.loc[4, "行政代码"] = "511921101"
    with pytest.raises(DuplicateCodeError) as err:
        read_settlements(_write(tmp_path, df))
    msg = str(err.value)
    assert "reg.csv" in msg and "511921101 (row 4, 6)" in msg


def test_non_numeric_and_negative_population_name_rows(tmp_path):
    df = _register()
    df["人口"] = df["人口"].astype(object)
    df.loc[1, "人口"] = "约15万人"
    with pytest.raises(InvalidPopulationError) as err:
        read_settlements(_write(tmp_path, df))
    assert "reg.csv" in str(err.value) and "row 3: '约15万人'" in str(err.value)
    df.loc[1, "人口"] = 150000
    df.loc[2, "人口"] = -5
    with pytest.raises(InvalidPopulationError) as err:
        read_settlements(_write(tmp_path, df))
    assert "negative" in str(err.value) and "row 4: -5" in str(err.value)


def test_population_lenient_formats_and_wan_unit(tmp_path):
    df = _register().rename(columns={"人口": "常住人口（万人）"})
    df["常住人口（万人）"] = ["60.8152", "15", "2.2", "", "1.8"]
    g, report = read_settlements(_write(tmp_path, df), return_report=True)
    assert np.allclose(g.population.to_numpy()[[0, 1, 2, 4]], [608152, 150000, 22000, 18000])
    assert any(i.code == "population_unit" for i in report.issues)
    df = _register()
    df["人口"] = ["608,152", "１５００００", "22000", "", " 18000 "]
    g = read_settlements(_write(tmp_path, df))
    assert g.population.iloc[0] == 608152 and g.population.iloc[1] == 150000


def test_unknown_tier_lists_allowed(tmp_path):
    df = _register()
    df.loc[2, "等级"] = "重点镇"
    with pytest.raises(UnknownTierError) as err:
        read_settlements(_write(tmp_path, df))
    msg = str(err.value)
    assert "reg.csv" in msg and "'重点镇' (row 4)" in msg
    for allowed in ("central_city", "county_town", "featured_town", "central_village", "town", "village", "特色镇"):
        assert allowed in msg


def test_missing_tier_inferred_from_codes_and_reported(tmp_path):
    df = _register().drop(columns=["等级"])
    g, report = read_settlements(_write(tmp_path, df), return_report=True)
    assert g.tier.tolist() == ["central_city", "county_town", "town", "village", "town"]
    warn = [i for i in report.issues if i.code == "tier_inferred"]
    assert warn and warn[0].severity == "warning"
    df.loc[0, "行政代码"] = "BC-01"
    with pytest.raises(MissingColumnError, match=r"reg\.csv.*row 2.*tier"):
        read_settlements(_write(tmp_path, df))


def test_blank_code_is_an_error(tmp_path):
    df = _register()
    df.loc[3, "行政代码"] = ""
    with pytest.raises(MissingValueError, match=r"reg\.csv: 1 row\(s\) without a code \(某村 \(row 5\)\)"):
        read_settlements(_write(tmp_path, df))


def test_points_outside_region_warned_and_kept(tmp_path):
    df = _register()
    df.loc[3, ["经度", "纬度"]] = [104.06, 30.67]   # Chengdu
    g, report = read_settlements(_write(tmp_path, df), return_report=True)
    out = [i for i in report.issues if i.code == "outside_region"]
    assert out and out[0].severity == "warning" and out[0].rows == (5,) and "某村" in out[0].message
    assert len(g) == 5
    kept = g.geometry.to_crs(4326).iloc[3]  # kept where it was given, not moved or emptied
    assert (kept.x, kept.y) == (pytest.approx(104.06, abs=1e-9), pytest.approx(30.67, abs=1e-9))
    # against given boundaries: only the square around Tongjiang counts
    region = _boundaries(geoms=(SQ_B,), codes=("511921",), names=("通江县",))
    g, report = read_settlements(_write(tmp_path, _register()), region=region, return_report=True)
    out = [i for i in report.issues if i.code == "outside_region"]
    assert out[0].rows == (2,)                                       # 巴城 at 106.76E is outside SQ_B
    g, report = read_settlements(_write(tmp_path, _register()), region=False, return_report=True)
    assert not [i for i in report.issues if i.code == "outside_region"]


def test_bad_coordinates(tmp_path):
    df = _register()
    df["经度"] = df["经度"].astype(object)
    df.loc[1, "经度"] = "107°14'"
    with pytest.raises(InvalidCoordinateError, match=r"reg\.csv.*row 3"):
        read_settlements(_write(tmp_path, df))
    df = _register().rename(columns={"经度": "纬度", "纬度": "经度"})   # swapped headers
    with pytest.raises(InvalidCoordinateError, match="swapped") as err:
        read_settlements(_write(tmp_path, df))
    assert "lon_col='纬度'" in str(err.value)
    df = _register()
    df.loc[0, "纬度"] = 3185.3662
    with pytest.raises(InvalidCoordinateError, match=r"out of range.*row 2"):
        read_settlements(_write(tmp_path, df))


def test_missing_required_columns(tmp_path):
    with pytest.raises(MissingColumnError, match=r"reg\.csv.*name"):
        read_settlements(_write(tmp_path, _register().drop(columns=["名称"])))
    with pytest.raises(MissingColumnError, match=r"reg\.csv.*latitude"):
        read_settlements(_write(tmp_path, _register().drop(columns=["纬度"])))


def test_all_errors_collected_in_one_message(tmp_path):
    df = _register()
    df.loc[4, "行政代码"] = "511921101"
    df.loc[2, "等级"] = "大镇"
    df["人口"] = df["人口"].astype(object)
    df.loc[0, "人口"] = "many"
    with pytest.raises(DuplicateCodeError) as err:
        read_settlements(_write(tmp_path, df))
    msg = str(err.value)
    assert "Other problems" in msg and "大镇" in msg and "many" in msg
    assert len(err.value.report.errors) == 3


def test_settlements_without_coordinate_columns_are_kept(tmp_path):
    df = _register().drop(columns=["经度", "纬度"])
    g, report = read_settlements(_write(tmp_path, df), return_report=True)
    assert len(g) == 5 and g.geometry.isna().all() and g.crs.to_epsg() == 4545
    assert any(i.code == "no_coordinates" for i in report.issues)


def test_result_feeds_settlement_system(tmp_path):
    from bazhong_geo.settlements import SettlementSystem

    system = SettlementSystem(read_settlements(_write(tmp_path, _register())))
    assert len(system) == 5 and len(system.located()) == 4


def test_detect_text_encoding():
    assert detect_text_encoding("巴中".encode("utf-8")) == "utf-8"
    assert detect_text_encoding("巴中".encode("gbk")) == "gb18030"
    assert detect_text_encoding(b"\xef\xbb\xbfcode") == "utf-8-sig"


def test_validation_report_basics():
    r = ValidationReport("f.csv", "settlements", n_in=2, n_out=2)
    r.add("info", "x", "note")
    assert not r.has_errors and "status: OK" in str(r)
    r.add("error", "y", "bad", rows=[np.int64(3)])
    assert r.has_errors and r.to_frame().rows.tolist() == ["", "3"]
    severity, code, message, rows = r.issues[-1]
    assert (severity, code, rows) == ("error", "y", (3,))
    with pytest.raises(ValueError):
        r.add("fatal", "z", "no such severity")


def test_errors_report_mode_returns_frame_and_report(tmp_path):
    df = _register()
    df.loc[4, "行政代码"] = "511921101"
    df.loc[2, "等级"] = "大镇"
    g, report = read_settlements(_write(tmp_path, df), return_report=True, errors="report")
    assert report.has_errors and {i.code for i in report.errors} == {"duplicate_code", "unknown_tier"}
    assert len(g) == 5 and g.tier.iloc[2] is None
    assert "status: ERRORS" in report.to_text()
    with pytest.raises(ValueError, match="errors must be"):
        read_settlements(_write(tmp_path, _register()), errors="ignore")


def test_cli_validate_uses_the_loader(tmp_path, capsys):
    from bazhong_geo.cli import main

    path = _write(tmp_path, _register())
    assert main(["validate", str(path)]) == 0
    assert "rows in: 5, rows out: 5" in capsys.readouterr().out
    df = _register()
    df.loc[2, "等级"] = "大镇"
    assert main(["validate", str(_write(tmp_path, df, "bad.csv"))]) != 0
    captured = capsys.readouterr()
    assert "bad.csv" in captured.out + captured.err and "大镇" in captured.out + captured.err


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.booleans(), st.booleans(), st.sampled_from(["镇", "村", "town", "village", "特色镇"])),
                min_size=1, max_size=30),
       st.sampled_from(["utf-8", "gb18030"]))
def test_rows_in_equal_rows_out(tmp_path, rows, enc):
    """Whatever cells are missing, every row comes back, in order, and only rows with both coordinates get points."""
    n = len(rows)
    rng = np.random.default_rng(n)
    lon = rng.uniform(106.4, 107.7, n)
    lat = rng.uniform(31.3, 32.7, n)
    has_xy = np.array([r[0] for r in rows])
    has_pop = np.array([r[1] for r in rows])
    df = pd.DataFrame({
        "编码": [f"511921{i:06d}" for i in range(n)],
        "名称": [f"村{i}" for i in range(n)],
        "等级": [r[2] for r in rows],
        "lng": np.where(has_xy, lon, np.nan),
        "lat": np.where(has_xy, lat, np.nan),
        "人口": np.where(has_pop, np.arange(n) * 100.0, np.nan),
    })
    path = tmp_path / f"h_{enc}.csv"
    df.to_csv(path, index=False, encoding=enc)
    g, report = read_settlements(path, return_report=True)
    assert len(g) == n == report.n_in == report.n_out
    assert g.code.tolist() == df["编码"].tolist()
    located = g.geometry.notna().to_numpy()
    assert (located == has_xy).all()
    assert (np.isnan(g.population.to_numpy()) == ~has_pop).all()
    if (~has_xy).any():
        miss = [i for i in report.issues if i.code == "no_coordinate"][0]
        assert list(miss.rows) == list(np.flatnonzero(~has_xy) + 2)


def test_wrong_cpg_falls_back_to_detection(tmp_path):
    from bazhong_geo._validate import _cpg_encoding

    assert _cpg_encoding("936") == "gbk" and _cpg_encoding("ANSI 936") == "gbk"
    assert _cpg_encoding("65001") == "utf-8" and _cpg_encoding("UTF-8\n") == "utf-8"
    assert _cpg_encoding("no-such-codepage") is None
    path = tmp_path / "w.shp"
    _boundaries().to_file(path, encoding="GBK", engine="pyogrio")
    (tmp_path / "w.cpg").write_text("UTF-8")             # lies: the .dbf is GBK
    enc, how = detect_dbf_encoding(path)
    assert enc == "gb18030" and "does not decode" in how
    assert read_boundaries(path).name.tolist() == ["巴州区", "通江县"]


def test_boundaries_outside_bazhong_warned(tmp_path):
    far = Polygon([(116.3, 39.8), (116.5, 39.8), (116.5, 40.0), (116.3, 40.0)])   # Beijing
    path = tmp_path / "far.gpkg"
    _boundaries(geoms=(SQ_A, far), codes=("511902", "110101")).to_file(path)
    gdf, report = read_boundaries(path, return_report=True)
    out = [i for i in report.issues if i.code == "outside_region"]
    assert len(gdf) == 2 and out and out[0].rows == (2,)


def test_gcj02_point_layer_converted(tmp_path):
    lon, lat = np.array([106.764727, 107.240525]), np.array([31.853662, 31.913888])
    glon, glat = bcrs.wgs84_to_gcj02(lon, lat)
    gpd.GeoDataFrame({"code": ["511900", "511921"], "name": ["巴城", "通江"], "tier": ["central_city", "county_town"]},
                     geometry=gpd.points_from_xy(glon, glat), crs=4326).to_file(tmp_path / "p.geojson",
                                                                                 driver="GeoJSON")
    g = read_settlements(tmp_path / "p.geojson", coords="gcj02")
    truth = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326).to_crs(4545)
    assert truth.distance(g.geometry).max() < 0.01


def test_wkt_column_and_apostrophe_codes(tmp_path):
    df = pd.DataFrame({"code": ["'511921101", "'511921102", "511921103"], "name": ["诺江镇", "民胜镇", "坏点"],
                       "tier": ["town", "town", "town"],
                       "geometry": ["POINT (107.25 31.92)", None, "POINT (107.2"]})
    with pytest.raises(InvalidCoordinateError, match=r"w\.csv.*WKT.*row 4"):
        read_settlements(_write(tmp_path, df, "w.csv"))
    df.loc[2, "geometry"] = "POINT (107.3 31.95)"
    g = read_settlements(_write(tmp_path, df, "w.csv"))
    assert g.code.tolist() == ["511921101", "511921102", "511921103"]
    assert g.geometry.iloc[1] is None and g.geometry.iloc[0].geom_type == "Point"


def test_csv_values_with_semicolons_and_tab_separated(tmp_path):
    df = _register().assign(designations=["a;b", "c;d", "e;f", "", "g"])
    g = read_settlements(_write(tmp_path, df))
    assert g.designations.tolist()[:3] == ["a;b", "c;d", "e;f"] and len(g) == 5
    path = tmp_path / "reg.tsv"
    df.to_csv(path, sep="\t", index=False)
    assert read_settlements(path).name.tolist() == g.name.tolist()


@pytest.mark.parametrize("name", ["bazhong_geo.io.columns", "bazhong_geo.io.formats", "bazhong_geo.io.geometry",
                                  "bazhong_geo.io.readers"])
def test_io_submodule_docstring_examples(name, tmp_path, monkeypatch):
    """The io subpackage's examples run like every other module's (the top-level docstring test sees only io)."""
    import doctest
    import importlib
    import pkgutil

    import bazhong_geo.io

    assert name in {m.name for m in pkgutil.iter_modules(bazhong_geo.io.__path__, "bazhong_geo.io.")}
    monkeypatch.setenv("BAZHONG_GEO_CACHE", str(tmp_path))
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in doctest.DocTestFinder(exclude_empty=True).find(module, name):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0
    if name.endswith("readers"):
        assert result.attempted >= 5          # the public readers show a runnable example


# ============================================================================================ issue 11: lying CRS, reports

def _lying(tmp_path, name="lying.gpkg", crs=4545):
    """Boundaries holding lon/lat (CGCS2000) but labelled with a projected CRS — a common export mistake."""
    src = _boundaries()
    path = tmp_path / name
    src.set_crs(crs, allow_override=True).to_file(path)
    return path


def test_projected_label_over_lonlat_is_an_error_with_the_fix(tmp_path):
    from bazhong_geo._errors import CRSMismatchError

    path = _lying(tmp_path)
    with pytest.raises(CRSMismatchError) as err:
        read_boundaries(path)
    msg = str(err.value)
    for words in ("lying.gpkg", "EPSG:4545", "coords='wgs84'", "--coords wgs84"):
        assert words in msg
    assert "x 106.6000 to 107.3000" in msg


def test_coords_relabels_a_lying_file_to_the_known_answer(tmp_path):
    path = _lying(tmp_path)
    gdf, report = read_boundaries(path, coords="cgcs2000", return_report=True)
    truth = _boundaries().to_crs(4545)
    assert shapely.equals_exact(gdf.geometry.values, truth.geometry.values, tolerance=1e-6).all()
    assert [i.severity for i in report.issues if i.code == "crs_relabelled"] == ["repair"]


def test_coords_on_an_honest_projected_layer_is_reported_not_applied(tmp_path):
    path = tmp_path / "gk.gpkg"
    _boundaries().to_crs(4545).to_file(path)
    gdf, report = read_boundaries(path, coords="gcj02", return_report=True)
    truth = _boundaries().to_crs(4545)
    assert shapely.equals_exact(gdf.geometry.values, truth.geometry.values, tolerance=1e-6).all()
    assert any(i.code == "coords_not_applied" for i in report.issues)


def test_lying_settlement_table_coords_is_an_error(tmp_path):
    from bazhong_geo._errors import CRSMismatchError

    _register().to_csv(tmp_path / "r.csv", index=False)
    with pytest.raises(CRSMismatchError, match=r"r\.csv: coords='EPSG:4545' was given.*longitude/latitude"):
        read_settlements(tmp_path / "r.csv", coords="EPSG:4545")


def test_load_bazhong_reports_a_lying_boundary_file_and_coords_fixes_it(tmp_path):
    from bazhong_geo import load_bazhong
    from bazhong_geo._errors import CRSMismatchError

    path = _lying(tmp_path)
    with pytest.raises(CRSMismatchError, match=r"lying\.gpkg"):
        load_bazhong(boundaries=path)
    region = load_bazhong(boundaries=path, coords="wgs84")
    assert sorted(region.boundaries["code"]) == ["511902", "511921"]
    assert any(i.code == "crs_relabelled" for r in region.reports for i in r.issues)


def test_the_report_travels_with_the_frame(tmp_path):
    from bazhong_geo.io import report_of

    _register().to_csv(tmp_path / "r.csv", index=False)
    gdf, report = read_settlements(tmp_path / "r.csv", return_report=True)
    assert gdf.attrs["report"] == report.to_dict()
    back = report_of(gdf.copy())
    assert back.to_text() == report.to_text()
    gdf.to_parquet(tmp_path / "r.parquet")                       # attrs stay JSON-ready
    assert report_of(gpd.read_parquet(tmp_path / "r.parquet")).n_in == 5


def test_boundary_problems_name_the_feature_by_code_and_name(tmp_path):
    path = tmp_path / "b.gpkg"
    _boundaries(geoms=(SQ_A, BOWTIE), names=("巴州区", "通江县")).to_file(path)
    _, report = read_boundaries(path, return_report=True)
    repair = next(i for i in report.issues if i.code == "invalid_geometry")
    assert "511921 通江县 (FID 2)" in repair.message


def test_a_point_in_a_boundary_layer_is_an_error(tmp_path):
    from bazhong_geo._errors import GeometryTypeError

    path = tmp_path / "mixed.gpkg"
    _boundaries(geoms=(SQ_A, Point(107.1, 31.8))).to_file(path)
    with pytest.raises(GeometryTypeError, match=r"mixed\.gpkg.*not polygons \(Point\): 511921 通江县 \(FID 2\)"):
        read_boundaries(path)
