"""The bureau's own data, end to end, through the command line alone.

The files are of the kinds a planning bureau has, made here (see ``bureau_files``): township polygons as a GBK
Shapefile without .cpg in EPSG:4524 (zone prefix), an Amap Excel export of the seats (GCJ-02, no codes, 等级 with
县城 and 重点镇), a 10 m WorldCover GeoTIFF in UTM 48N and roads in a GeoPackage with 道路等级 and no speed column.
The answers are known by construction: built-up km² per township, the township beyond 30 minutes, the key-town
verdicts measured from the user's own county town.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
import sqlite3
import subprocess
import sys
from pathlib import Path

import bureau_files as bf
import numpy as np
import openpyxl
import pandas as pd
import pytest

from bazhong_geo.cli import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("bureau") / "项目"
    assert main(["init", str(root)]) == 0
    bf.write_bureau_files(root / "data")
    config = root / "bazhong-geo.toml"
    config.write_text(config.read_text(encoding="utf-8") + bf.CONFIG, encoding="utf-8")
    return root


def _run(capsys, ws: Path, *args: str) -> tuple[int, str, str]:
    code = main([*args, "--workspace", str(ws)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_every_bureau_file_validates_with_its_whole_report(ws, capsys):
    code, out, _ = _run(capsys, ws, "validate", str(ws / "data" / "乡镇驻地.xlsx"))
    assert code == 0
    assert "status: OK" in out
    assert "rows in: 4, rows out: 4" in out
    assert "4 of 4 row(s) matched to the workspace register" in out          # no codes: matched by name
    assert "重点镇 name(s) a designation, not a tier" in out
    assert "4 point(s) converted GCJ02 -> WGS-84" in out
    code, out, _ = _run(capsys, ws, "validate", str(ws / "data" / "乡镇界.shp"))
    assert code == 0
    assert "source CRS: EPSG:4524" in out
    assert "gb18030" in out
    assert "乡镇代码 -> code" in out
    code, out, _ = _run(capsys, ws, "validate", str(ws / "data" / "道路.gpkg"))
    assert code == 0
    assert "县道 1 (speed 40.0 km/h)" in out
    assert "村道 1 (speed 20.0 km/h)" in out
    code, out, _ = _run(capsys, ws, "validate", str(ws / "data" / "worldcover_2021.tif"))
    assert code == 0
    assert "source CRS: EPSG:32648" in out
    assert "values seen: [40, 50]" in out


def test_builtup_km2_per_township_is_known_by_construction(ws, capsys):
    out_xlsx = ws / "outputs" / "建设用地.xlsx"
    code, out, _ = _run(capsys, ws, "builtup", "--out", str(out_xlsx), "--lang", "zh")
    assert code == 0
    assert f"wrote {out_xlsx}" in out
    wb = openpyxl.load_workbook(out_xlsx)
    sheet = wb[wb.sheetnames[0]]
    rows = list(sheet.iter_rows(values_only=True))
    head = list(rows[0])
    assert "建成区面积（km²）" in head
    assert "代码" in head
    got = {str(r[head.index("代码")]): r[head.index("建成区面积（km²）")] for r in rows[1:]}
    assert got.keys() == bf.BUILTUP_KM2.keys()
    for code_, km2 in bf.BUILTUP_KM2.items():
        assert got[code_] == pytest.approx(km2, abs=5e-4), code_
    sources = " ".join(str(c) for row in wb[wb.sheetnames[-1]].iter_rows(values_only=True) for c in row if c)
    assert "乡镇界.shp" in sources
    assert "worldcover_2021.tif" in sources
    assert "[50]" in sources

    out_gpkg = ws / "outputs" / "建设用地.gpkg"
    assert _run(capsys, ws, "builtup", "--out", str(out_gpkg), "--lang", "en")[0] == 0
    with sqlite3.connect(out_gpkg) as con:
        tables = {r[0] for r in con.execute("select table_name from gpkg_contents")}
        styles = con.execute("select f_table_name, styleQML from layer_styles").fetchall()
        values = dict(con.execute('select code, builtup_km2 from "建设用地"'))
    assert "建设用地" in tables
    assert styles
    assert styles[0][0] == "建设用地"
    assert "builtup_km2" in styles[0][1]
    assert values["511921100"] == pytest.approx(1.0, abs=5e-4)


def test_gaps_name_the_township_beyond_30_minutes(ws, capsys):
    out_csv = ws / "outputs" / "gaps.csv"
    code, out, _ = _run(capsys, ws, "gaps", "--tiers", "county_town,key_town", "--minutes", "30", "--out",
                        str(out_csv), "--lang", "en")
    assert code == 0
    assert out_csv.read_bytes().startswith(b"\xef\xbb\xbf")              # UTF-8 with BOM: Excel opens it
    table = pd.read_csv(out_csv, encoding="utf-8-sig", dtype={"code": str}).set_index("code")
    assert set(table.index[table["seat_beyond"]]) == {bf.BEYOND_30}
    assert table.loc[bf.BEYOND_30, "seat_minutes"] == pytest.approx(bf.SEAT_MINUTES_BEYOND, abs=0.5)
    assert table.loc["511921102", "seat_minutes"] == pytest.approx(12.0, abs=0.5)    # 8 km of 县道 from 民胜镇
    assert (table["outside_km2"] <= table["zone_km2"] + 1e-9).all()
    assert table.loc[bf.BEYOND_30, "people_outside"] == 8000                          # 铁佛镇's seat is outside
    assert "BEYOND" in out
    assert "铁佛镇" in out


def test_key_town_verdicts_are_measured_from_the_users_county_town(ws, capsys, tmp_path, monkeypatch):
    out_dir = ws / "outputs" / "check"
    code, out, _ = _run(capsys, ws, "check", "--profile", "key-town", "--out", str(out_dir))
    assert code == 0
    assert "from your data: 通江县" in out
    v = pd.read_csv(out_dir / "key-town_verdicts.csv", dtype={"code": str}).set_index("code")
    assert v.loc["511921101", "verdict"] == "does not qualify"            # 民胜镇: 4 km from the county town
    assert v.loc["511921102", "verdict"] == "qualifies"                   # 火炬镇: 12 km, 28,000 people
    assert "4.0" in v.loc["511921101", "reasons_en"] or "4 km" in v.loc["511921101", "reasons_en"]
    assert "乡镇驻地.xlsx" in (out_dir / "key-town_summary.md").read_text(encoding="utf-8")
    # the same file without the workspace: the embedded county towns (about 20 km away) would pass 民胜镇
    monkeypatch.chdir(tmp_path)
    code = main(["check", str(ws / "data" / "乡镇驻地.xlsx"), "--coords", "gcj02", "--out", str(tmp_path / "e")])
    assert code == 0
    assert "embedded register" in capsys.readouterr().out
    e = pd.read_csv(tmp_path / "e" / "key-town_verdicts.csv", dtype={"code": str}).set_index("code")
    assert e.loc["511921101", "verdict"] == "qualifies"


def test_map_of_own_data_has_no_prefecture_panel_and_skips_the_class_raster(ws, capsys):
    html = ws / "outputs" / "map.html"
    code, out, _ = _run(capsys, ws, "map", "--out", str(html), "--raster", str(ws / "data" / "worldcover_2021.tif"))
    assert code == 0
    assert "land-cover class raster: not drawn as a continuous surface" in out
    text = html.read_text(encoding="utf-8")
    assert "民胜镇" in text
    assert "铁佛镇" in text
    assert "乡镇驻地.xlsx" in text
    assert 'class="bz-status"' not in text                                      # no progress panel unless asked
    assert "L.imageOverlay(" not in text                                    # no raster overlay


def test_map_draws_the_class_raster_as_built_up_km2_per_township(ws, capsys):
    html = ws / "outputs" / "map_builtup.html"
    code, out, _ = _run(capsys, ws, "map", "--out", str(html), "--raster", str(ws / "data" / "worldcover_2021.tif"),
                        "--builtup", "--catchments", "none")
    assert code == 0
    assert "drawn as built-up km² per zone" in out
    text = html.read_text(encoding="utf-8")
    assert "L.imageOverlay(" not in text                                    # never a continuous surface
    assert "建成区面积 built-up area" in text                                 # the legend of the choropleth
    assert "– 1km²" in text                                                 # the top class ends at 诺江镇's 1 km²


def test_run_makes_the_meeting_pack_with_a_manifest(ws, capsys):
    folder = ws / "outputs" / "pack"
    code, _out, _ = _run(capsys, ws, "run", "--out", str(folder))
    assert code == 0
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["steps"] == ["summary", "builtup", "catchments", "gaps", "check", "map"]
    assert {"summary.xlsx", "builtup.xlsx", "catchments.gpkg", "gaps.xlsx", "map.html",
            "check/key-town_verdicts.csv"} <= \
        set(manifest["outputs"])
    inputs = {Path(i["path"]).name: i for i in manifest["inputs"]}
    for name in ("bazhong-geo.toml", "乡镇界.shp", "乡镇界.dbf", "乡镇驻地.xlsx", "道路.gpkg", "worldcover_2021.tif"):
        assert inputs[name]["sha256"] == hashlib.sha256(Path(inputs[name]["path"]).read_bytes()).hexdigest()
    assert manifest["packages"]["geopandas"]
    assert manifest["packages"]["rasterio"]


def test_a_configured_layer_that_cannot_be_read_is_an_error(ws, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "data").mkdir()
    for f in (ws / "data").iterdir():
        (broken / "data" / f.name).write_bytes(f.read_bytes())
    (broken / "data" / "道路.gpkg").write_bytes(b"not a geopackage")
    (broken / "bazhong-geo.toml").write_text((ws / "bazhong-geo.toml").read_text(encoding="utf-8"), encoding="utf-8")
    (broken / "register.csv").write_bytes((ws / "register.csv").read_bytes())
    res = subprocess.run([sys.executable, "-m", "bazhong_geo.cli", "gaps", "--out", "g.xlsx"], cwd=broken, check=False,
                         capture_output=True, text=True, env=bf.cli_env(), timeout=300)
    assert res.returncode == 1, res.stderr
    assert "道路.gpkg" in res.stderr
    assert "Traceback" not in res.stderr
    (broken / "data" / "道路.gpkg").unlink()
    res = subprocess.run([sys.executable, "-m", "bazhong_geo.cli", "gaps", "--out", "g.xlsx"], cwd=broken, check=False,
                         capture_output=True, text=True, env=bf.cli_env(), timeout=300)
    assert res.returncode == 1
    assert "roads.path" in res.stderr
    assert "does not exist" in res.stderr
    assert "Traceback" not in res.stderr


def _register_row(sheet, code: str) -> int:
    for row in sheet.iter_rows(min_row=2):
        if str(row[0].value) == code:
            return row[0].row
    raise AssertionError(code)


def _located(text: str) -> int:
    return int(re.search(r"(\d+) located", text).group(1))


def test_workbook_round_trip_init_fill_update_map_summary(tmp_path, capsys):
    ws = tmp_path / "round"
    assert main(["init", str(ws)]) == 0
    capsys.readouterr()
    code, before, _ = _run(capsys, ws, "summary")
    assert code == 0
    book = ws / "资料收集表.xlsx"
    wb = openpyxl.load_workbook(book)
    sheet = wb["登记表 Register"]
    keys = [str(c.value).split("\n")[-1] for c in sheet[1]]
    col = {k: keys.index(k) + 1 for k in keys}
    filled = {"511921101": (107.10, 32.08, 30000), "511921102": (107.15, 32.10, 28000)}
    for code_, (lon, lat, pop) in filled.items():
        r = _register_row(sheet, code_)
        sheet.cell(r, col["lon"], lon)
        sheet.cell(r, col["lat"], lat)
        sheet.cell(r, col["coord_system"], "wgs84")
        sheet.cell(r, col["resident_population"], pop)
        sheet.cell(r, col["resident_population_year"], 2020)
    wb.save(book)
    code, out, _ = _run(capsys, ws, "update", str(book))
    assert code == 0
    assert "matched 2" in out
    code, after, _ = _run(capsys, ws, "summary")
    assert code == 0
    assert _located(after) == _located(before) + 2
    html = ws / "outputs" / "map.html"
    code, out, _ = _run(capsys, ws, "map", "--out", str(html), "--catchments", "none")
    assert code == 0
    text = html.read_text(encoding="utf-8")
    assert "民胜镇" in text
    assert "火炬镇" in text
    assert "register.csv" in text


def _section(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split(f"## {title}", 1)[1].split("\n## ", 1)[0]


def test_readme_using_your_own_data_commands_run(tmp_path, capsys, monkeypatch):
    """Every command of the README section runs, in order, on the bureau-like files, with the README's config."""
    section = _section("Using your own data")
    config = re.findall(r"```toml\n(.*?)```", section, flags=re.DOTALL)
    commands = [line.strip() for block in re.findall(r"```bash\n(.*?)```", section, flags=re.DOTALL)
                for line in block.splitlines() if line.strip() and not line.strip().startswith("#")]
    assert config
    assert commands[0].startswith("bazhong-geo init ")
    monkeypatch.chdir(tmp_path)
    ran = []
    for line in commands:
        words = shlex.split(line.split("  #")[0])
        if words[0] == "cd":
            monkeypatch.chdir(Path.cwd() / words[1])
            bf.write_bureau_files(Path.cwd() / "data")               # "copy your files into data/"
            cfg = Path.cwd() / "bazhong-geo.toml"
            cfg.write_text(cfg.read_text(encoding="utf-8") + "\n" + config[0], encoding="utf-8")
            continue
        assert words[0] == "bazhong-geo", line
        code = main(words[1:])
        captured = capsys.readouterr()
        assert code == 0, f"{line}\n{captured.out}\n{captured.err}"
        ran.append(words[1])
    assert {"init", "validate", "builtup", "gaps", "check", "map", "update", "summary", "run"} <= set(ran)


def test_builtup_on_a_local_dask_cluster_gives_the_same_numbers(ws, capsys):
    """`--workers 2` runs partitioned by tile on a real local Dask cluster: the same km² as one process."""
    single, dask_csv = ws / "outputs" / "one.csv", ws / "outputs" / "dask.csv"
    assert _run(capsys, ws, "builtup", "--out", str(single), "--lang", "en")[0] == 0
    code, out, err = _run(capsys, ws, "builtup", "--out", str(dask_csv), "--lang", "en", "--workers", "2")
    assert code == 0, err
    assert "computed on Dask (2 local worker(s))" in out
    a = pd.read_csv(single, encoding="utf-8-sig", dtype={"code": str}).set_index("code")
    b = pd.read_csv(dask_csv, encoding="utf-8-sig", dtype={"code": str}).set_index("code")
    np.testing.assert_allclose(b.loc[a.index, "builtup_km2"], a["builtup_km2"], rtol=1e-7, atol=1e-12)
    assert _run(capsys, ws, "builtup", "--workers", "0")[0] == 2
