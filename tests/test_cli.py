"""The command line's contract: one error policy, whole validation reports, column options, outputs by extension."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import bureau_files as bf
import numpy as np
import pandas as pd
import pytest

from bazhong_geo import cli
from bazhong_geo.cli import main


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    return bf.write_bureau_files(tmp_path / "data")


# =============================================================================================== error policy

def test_missing_input_file_is_a_usage_error_without_traceback(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _out, err = _run(capsys, "validate", "nothing.csv")
    assert code == 2
    assert "nothing.csv: no such file" in err
    assert "Traceback" not in err
    assert "--debug" in err


def test_debug_shows_the_traceback(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = _run(capsys, "validate", "nothing.csv", "--debug")
    assert code == 2
    assert "Traceback" in err
    code, _, err = _run(capsys, "--debug", "validate", "nothing.csv")
    assert code == 2
    assert "Traceback" in err
    assert "nothing.csv: no such file" in err


def test_bad_option_values_are_usage_errors(tmp_path, capsys, monkeypatch, files):
    monkeypatch.chdir(tmp_path)
    code, _, err = _run(capsys, "gaps", "--settlements", str(files["seats"]), "--minutes", "abc")
    assert code == 2
    assert "--minutes 'abc'" in err
    code, _, err = _run(capsys, "builtup", "--zones", str(files["townships"]), "--raster", str(files["landcover"]),
                        "--classes", "x")
    assert code == 2
    assert "--classes 'x'" in err
    assert "--classes 50" in err
    code, _, err = _run(capsys, "catchments", "--settlements", str(files["seats"]), "--coords", "gcj02",
                        "--tiers", "hamlet", "--out", str(tmp_path / "c.gpkg"))
    assert code == 2
    assert "--tiers 'hamlet': not a tier or a designation" in err
    code, _, err = _run(capsys, "summary", "--workspace", str(tmp_path / "nowhere"))
    assert code == 2
    assert "bazhong-geo init" in err
    with pytest.raises(SystemExit) as exc:       # argparse: unknown option
        main(["summary", "--no-such-option"])
    assert exc.value.code == 2


def test_a_permission_error_on_output_is_a_data_error(tmp_path, capsys, monkeypatch, files):
    from bazhong_geo import writers

    def locked(*_a, **_k):
        raise PermissionError(13, "Permission denied", str(tmp_path / "out.xlsx"))

    monkeypatch.setattr(writers, "write_table", locked)
    code, _, err = _run(capsys, "builtup", "--zones", str(files["townships"]), "--raster", str(files["landcover"]),
                        "--classes", "50", "--out", str(tmp_path / "out.xlsx"))
    assert code == 1
    assert "out.xlsx: permission denied" in err
    assert "Excel" in err
    assert "Traceback" not in err


def test_an_unexpected_exception_says_it_is_a_bug(capsys, monkeypatch):
    def boom(_args):
        raise RuntimeError("boom")

    monkeypatch.setattr(cli.basic, "cmd_sources", boom)      # the parser is built at each call of main
    code, _, err = _run(capsys, "sources")
    assert code == 3
    assert "This is a bug" in err
    assert "Traceback" not in err


def test_subprocess_exit_status_and_no_traceback(tmp_path):
    bad = tmp_path / "towns.csv"
    bad.write_text("code,name,tier,population,lon,lat\nA,甲镇,town,100,106.8,31.9\nA,乙镇,hamlet,-5,106.9,31.9\n",
                   encoding="utf-8")
    res = subprocess.run([sys.executable, "-m", "bazhong_geo.cli", "validate", str(bad)], check=False, capture_output=True,
                         text=True, env=bf.cli_env(), timeout=300, cwd=tmp_path)
    assert res.returncode == 1
    assert "Traceback" not in res.stderr


# =============================================================================================== validate

def test_validate_prints_the_whole_report(tmp_path, capsys):
    bad = tmp_path / "towns.csv"
    bad.write_text("code,name,tier,population,lon,lat\nA,甲镇,town,100,106.8,31.9\nA,乙镇,hamlet,-5,106.9,31.9\n"
                   "B,丙镇,town,约2万,106.9,31.95\n", encoding="utf-8")
    code, out, _ = _run(capsys, "validate", str(bad))
    assert code == 1
    assert "duplicate code(s): A (row 2, 3)" in out
    assert "unknown tier name(s) 'hamlet' (row 3)" in out
    assert "negative population in 1 row(s)" in out
    assert "non-numeric population" in out
    assert "status: ERRORS — 4 error(s)" in out


def test_validate_amap_export_without_codes_lists_unmatched_names(tmp_path, capsys):
    table = bf.seat_lonlat_gcj02()
    table.loc[len(table)] = ["不存在镇", 107.1, 32.1, 5000, "镇"]
    path = tmp_path / "amap.xlsx"
    table.to_excel(path, index=False)
    code, out, _ = _run(capsys, "validate", str(path), "--coords", "gcj02")
    assert code == 1
    assert "4 of 5 row(s) matched to the NBS register of 巴中市" in out
    assert "1 name(s) not found" in out
    assert "row 6 不存在镇" in out


def test_column_options_name_unusual_headers(tmp_path, capsys):
    df = pd.DataFrame({"编号": ["511921101", "511921102"], "单位": ["民胜镇", "火炬镇"], "级别x": ["镇", "镇"],
                       "人数": [30000, 28000], "经度": [107.1, 107.2], "纬度": [32.1, 32.1]})
    path = tmp_path / "towns.csv"
    df.to_csv(path, index=False)
    code, out, _ = _run(capsys, "validate", str(path))
    assert code == 1
    assert "neither a code nor a name column" in out
    code, out, _ = _run(capsys, "validate", str(path), "--code-col", "编号", "--name-col", "单位", "--class-col",
                        "级别x", "--population-col", "人数")
    assert code == 0, out
    assert "编号 -> code (mapping)" in out
    assert "人数 -> population (mapping)" in out


def test_a_code_column_of_names_and_a_missing_column_are_reported(tmp_path, capsys):
    path = bf.write_amap_xlsx(tmp_path / "amap.xlsx")
    code, out, _ = _run(capsys, "validate", str(path), "--coords", "gcj02", "--code-col", "名称")
    assert code == 0
    assert "the code column '名称' holds no administrative code (e.g. '通江县')" in out
    assert "leave out --code-col" in out
    code, out, _ = _run(capsys, "validate", str(path), "--code-col", "代码x")
    assert code == 1
    assert out.startswith("settlements file:")
    assert "the mapping names column '代码x' for 'code'" in out


def test_ambiguous_columns_are_reported_never_guessed(tmp_path, capsys):
    df = pd.DataFrame({"乡镇代码": ["511921101"], "村代码": ["511921101001"], "名称": ["民胜镇"], "经度": [107.1],
                       "纬度": [32.1]})
    path = tmp_path / "towns.csv"
    df.to_csv(path, index=False)
    code, out, _ = _run(capsys, "validate", str(path))
    assert code == 1
    assert "several columns could be the code: 乡镇代码, 村代码" in out
    assert "--code-col 乡镇代码" in out


def test_validate_roads_lists_classes_without_a_speed(tmp_path, capsys):
    import geopandas as gpd
    import shapely

    roads = gpd.GeoDataFrame({"道路等级": ["县道", "机耕道", "机耕道"]}, crs=4545,
                             geometry=[shapely.LineString([(5e5, 35e5), (501000, 35e5)])] * 2
                             + [shapely.LineString([(5e5, 35e5), (5e5, 35e5)])])
    path = tmp_path / "roads.gpkg"
    roads.to_file(path)
    code, out, _ = _run(capsys, "validate", str(path))
    assert code == 1
    assert "2 line(s) of class(es) without a speed" in out
    assert "机耕道" in out
    assert "1 line(s) of zero length" in out


def test_validate_roads_reports_components_and_dangles(tmp_path, capsys):
    import geopandas as gpd
    import shapely

    roads = gpd.GeoDataFrame({"道路等级": ["县道", "乡道", "乡道"]}, crs=4545, geometry=[
        shapely.LineString([(5e5, 35e5), (502000, 35e5)]),
        shapely.LineString([(501000, 3500005), (501000, 3501000)]),      # stops 5 m short of the 县道
        shapely.LineString([(510000, 35e5), (511000, 35e5)])])            # on its own
    path = tmp_path / "roads.gpkg"
    roads.to_file(path)
    code, out, _ = _run(capsys, "validate", str(path))
    assert code == 0                                                      # warnings: usable, but look
    assert "6 nodes, 3 edges, 3 connected component(s)" in out
    assert "1 line end(s) stop within 10 m of a line they do not join" in out
    assert "[FID 0]" in out


def test_validate_raster_without_crs_is_an_error(tmp_path, capsys):
    import rasterio
    from affine import Affine

    path = tmp_path / "nocrs.tif"
    with rasterio.open(path, "w", driver="GTiff", width=4, height=4, count=1, dtype="uint8",
                       transform=Affine(10, 0, 0, 0, -10, 40)) as dst:
        dst.write(np.full((4, 4), 50, dtype="uint8"), 1)
    code, out, _ = _run(capsys, "validate", str(path))
    assert code == 1
    assert "has no coordinate system" in out


def test_validate_kind_is_guessed_from_the_file(capsys, files):
    assert _run(capsys, "validate", str(files["townships"]))[1].startswith("boundaries file:")
    assert _run(capsys, "validate", str(files["roads"]))[1].startswith("roads file:")
    assert _run(capsys, "validate", str(files["landcover"]))[1].startswith("raster file:")


# =============================================================================================== outputs

def test_outputs_by_extension_without_a_workspace(tmp_path, capsys, monkeypatch, files):
    monkeypatch.chdir(tmp_path)
    base = ["builtup", "--zones", str(files["townships"]), "--raster", str(files["landcover"]), "--classes", "50"]
    code, out, _ = _run(capsys, *base, "--out", "b.shp", "--lang", "en")
    assert code == 0
    assert (tmp_path / "b.cpg").read_text().strip().upper() in ("GBK", "CP936", "GB18030")
    import geopandas as gpd

    shp = gpd.read_file(tmp_path / "b.shp", encoding="gbk")
    assert "诺江镇" in set(shp["name"])
    assert "builtup_km" in shp.columns
    assert _run(capsys, *base, "--out", "b.csv", "--lang", "zh")[0] == 0
    text = (tmp_path / "b.csv").read_bytes()
    assert text.startswith(b"\xef\xbb\xbf")
    assert "建成区面积（km²）".encode() in text
    code, out, _ = _run(capsys, "catchments", "--settlements", str(files["seats"]), "--coords", "gcj02",
                        "--method", "network", "--roads", str(files["roads"]), "--class-col", "道路等级",
                        "--minutes", "15,30", "--out", "c.gpkg")
    assert code == 0, out
    with sqlite3.connect(tmp_path / "c.gpkg") as con:
        minutes = sorted(r[0] for r in con.execute('select distinct minutes from "c"'))
        sources = [r[0] for r in con.execute("select source from sources")]
        styles = con.execute("select count(*) from layer_styles").fetchone()[0]
    assert minutes == [15, 30]
    assert styles == 1
    assert any("道路.gpkg" in str(s) for s in sources)
    assert not any("embedded" in str(s) for s in sources)        # your files only: not clipped to embedded data


def test_plan_chooses_the_town_covering_most_people(tmp_path, capsys, monkeypatch, files):
    monkeypatch.chdir(tmp_path)
    code, out, _ = _run(capsys, "plan", "--settlements", str(files["seats"]), "--coords", "gcj02", "--k", "1",
                        "--within-km", "10", "--out", "plan.xlsx", "--lang", "en")
    assert code == 0
    # 民胜镇 reaches the county town (4 km, 100,000), itself (30,000) and 火炬镇 (8 km, 28,000)
    assert "民胜镇" in out
    assert "objective value 158,000" in out
    import openpyxl

    rows = list(openpyxl.load_workbook(tmp_path / "plan.xlsx").worksheets[0].iter_rows(values_only=True))
    assert [r[1] for r in rows[1:]] == ["民胜镇"]


def test_init_refuses_to_overwrite_and_update_needs_a_workspace(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert _run(capsys, "init", "ws")[0] == 0
    code, _, err = _run(capsys, "init", "ws")
    assert code == 1
    assert "already exists" in err
    assert "--force" in err
    assert _run(capsys, "init", "ws", "--force")[0] == 0
    code, _, err = _run(capsys, "update", "ws/资料收集表.xlsx")
    assert code == 2
    assert "needs a workspace" in err


def test_a_workspace_without_embedded_layers_uses_only_its_own(tmp_path, capsys):
    ws = tmp_path / "own"
    assert main(["init", str(ws)]) == 0
    files = bf.write_bureau_files(ws / "data")
    config = ws / "bazhong-geo.toml"
    text = config.read_text(encoding="utf-8").replace('use_embedded = ["boundaries", "register"]', "use_embedded = []")
    config.write_text(text + '\n[settlements]\npath = "data/乡镇驻地.xlsx"\ncrs = "gcj02"\n', encoding="utf-8")
    capsys.readouterr()
    code, _, err = _run(capsys, "builtup", "--raster", str(files["landcover"]), "--classes", "50",
                        "--workspace", str(ws))
    assert code == 2
    assert "no boundaries" in err
    html = ws / "outputs" / "m.html"
    code, out, _ = _run(capsys, "map", "--out", str(html), "--workspace", str(ws))
    assert code == 0
    assert "drawing 4 located settlement(s)" in out
    text = html.read_text(encoding="utf-8")
    assert "乡镇驻地.xlsx" in text
    assert "embedded" not in text
    assert "巴城" not in text        # nothing of the embedded register is drawn


def test_map_prints_a_county_extent_on_the_requested_paper(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("BAZHONG_GEO_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    assert main(["map", "--pdf", "county.pdf", "--extent", "511921", "--paper", "A4", "--orientation",
                 "portrait"]) == 0
    info = subprocess.run(["pdfinfo", "county.pdf"], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Pages:\s+1\n", info) and re.search(r"Page size:\s+59[45][.0-9]* x 841.92 pts \(A4\)", info)
    assert main(["map", "--paper", "A3"]) == 2                      # a paper size without a file to print is a usage error
    assert "--pdf FILE" in capsys.readouterr().err
    assert main(["map", "--png", "x.png", "--extent", "9x"]) == 1    # a bad extent: message, no traceback
    err = capsys.readouterr().err
    assert "extent '9x'" in err and "Traceback" not in err
