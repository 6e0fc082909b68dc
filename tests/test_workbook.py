"""The data-collection workbook and the register merge: write -> fill -> merge (issue 12, item 3)."""

import hashlib
import shutil

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from bazhong_geo._errors import RegisterMergeError
from bazhong_geo.crs import gcj02_to_wgs84
from bazhong_geo.workbook import (
    SHEET,
    WORKBOOK_COLUMNS,
    embedded_register_path,
    merge_register,
    normalise_name,
    read_register,
    write_collection_workbook,
)

N_REGISTER = 1953          # rows of the embedded register (NBS 2023 codes of 巴中市 + 巴城 in two parts + 3 county towns)


@pytest.fixture
def register(tmp_path):
    """A workspace register: a copy of the embedded one."""
    path = tmp_path / "register.csv"
    shutil.copyfile(embedded_register_path(), path)
    return path


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    path = tmp_path_factory.mktemp("wb") / "资料收集表.xlsx"
    return write_collection_workbook(path, read_register(embedded_register_path()))


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_workbook_is_prefilled_with_every_registered_settlement(book):
    wb = load_workbook(book)
    assert wb.sheetnames == ["说明 Instructions", SHEET, "选项 Lists"]
    assert wb.active.title == SHEET
    assert wb["选项 Lists"].sheet_state == "hidden"
    instructions = " ".join(str(c) for row in wb["说明 Instructions"].iter_rows(values_only=True) for c in row if c)
    assert "请勿修改" in instructions and "do not change" in instructions and "bazhong-geo update" in instructions
    rows = list(wb[SHEET].iter_rows(values_only=True))
    assert len(rows) == N_REGISTER + 1
    keys = [h.split("\n")[-1] for h in rows[0]]
    assert keys == [k for k, _, _ in WORKBOOK_COLUMNS]
    assert rows[0][keys.index("builtup_km2")] == "建成区面积（km²）\nbuiltup_km2"
    table = pd.DataFrame(rows[1:], columns=keys)
    assert table["code"].is_unique and table["code"].map(len).isin([6, 9, 12]).all()
    bacheng = table.set_index("code").loc["511900"]
    assert (bacheng["name"], bacheng["tier"], bacheng["coord_system"]) == ("巴城", "中心城区", "wgs84")
    assert bacheng["lon"] == pytest.approx(106.764727) and bacheng["resident_population"] == 608152
    town = table.set_index("code").loc["511921113"]
    assert (town["name"], town["tier"], town["parent_code"], town["county_code"], town["county"]) == \
        ("诺水河镇", "特色镇", "511921", "511921", "通江县")
    assert pd.isna(town["lon"]) and pd.isna(town["resident_population"])         # empty, to be filled


def test_workbook_dropdowns(book):
    ws = load_workbook(book)[SHEET]
    letters = {k: chr(ord("A") + i) for i, (k, _, _) in enumerate(WORKBOOK_COLUMNS)}
    lists = {}
    for dv in ws.data_validations.dataValidation:
        for rng in str(dv.sqref).split():
            lists[rng] = (dv.type, dv.formula1)
    last = N_REGISTER + 1
    assert lists[f"{letters['tier']}2:{letters['tier']}{last}"] == ("list", "'选项 Lists'!$A$2:$A$7")
    assert lists[f"{letters['coord_system']}2:{letters['coord_system']}{last}"][0] == "list"
    assert lists[f"{letters['designations']}2:{letters['designations']}{last}"][0] == "list"
    assert lists[f"{letters['resident_population']}2:{letters['resident_population']}{last}"] == ("whole", "0")
    values = [r for r in load_workbook(book)["选项 Lists"].iter_rows(min_row=2, values_only=True)]
    assert [r[0] for r in values if r[0]] == ["中心城区", "县城", "特色镇", "中心村", "一般镇", "村"]
    assert "gcj02" in [r[1] for r in values] and "全国重点镇" in [r[2] for r in values]


def test_workbook_same_input_same_bytes(book, tmp_path):
    again = write_collection_workbook(tmp_path / "again.xlsx", read_register(embedded_register_path()))
    assert _digest(again) == _digest(book)


def _fill(book, tmp_path):
    """Fill six rows as a bureau would; return the filled copy."""
    filled = tmp_path / "filled.xlsx"
    shutil.copyfile(book, filled)
    wb = load_workbook(filled)
    ws = wb[SHEET]
    col = {k: i + 1 for i, (k, _, _) in enumerate(WORKBOOK_COLUMNS)}
    row_of = {ws.cell(row=r, column=1).value: r for r in range(2, ws.max_row + 1)}

    def put(code, **values):
        for key, value in values.items():
            ws.cell(row=row_of[code], column=col[key]).value = value

    put("511921113", lon=107.9101, lat=32.3950, coord_system="gcj02", resident_population=21000,
        resident_population_year=2020, resident_population_source="第七次全国人口普查", designations="省级特色小镇；重点镇")
    put("511922103", resident_population=38000, resident_population_year=2020)          # register: 41760 户籍
    put("511923", resident_population=300000, resident_population_year=2022)            # register: 293300
    put("511921101", tier="特色镇")                                                     # register: town
    put("511921103223", registered_population=1200, registered_population_year=2022)   # a village
    put("511921103", builtup_km2=1.8, builtup_year=2021)
    wb.save(filled)
    return filled


def test_round_trip_write_fill_merge(book, register, tmp_path):
    embedded = _digest(embedded_register_path())
    filled = _fill(book, tmp_path)
    merged, report = merge_register(register, filled)
    assert report.rows_in == report.rows_out == len(merged) == N_REGISTER                 # rows in = rows out
    assert report.file_rows == N_REGISTER
    assert sorted(report.matched["code"]) == sorted(["511921113", "511922103", "511923", "511921101",
                                                     "511921103223", "511921103"])
    assert set(report.matched["how"]) == {"code"}
    assert report.unchanged_rows == N_REGISTER - 6 and report.blank_rows == 0
    assert report.unmatched.empty and report.ambiguous.empty
    conflicts = report.conflicts.set_index("code")
    assert sorted(conflicts.index) == ["511921101", "511922103", "511923"]
    assert conflicts.loc["511923", "existing"] in ("293300", 293300) and conflicts.loc["511923", "new"] == 300000
    assert conflicts.loc["511921101", ["column", "existing", "new"]].tolist() == ["tier", "town", "featured_town"]
    assert not conflicts["overwritten"].any()
    assert len(report.updates) == 13
    back = read_register(register).set_index("code")
    lon, lat = gcj02_to_wgs84(107.9101, 32.3950)
    nsh = back.loc["511921113"]
    assert float(nsh["lon"]) == pytest.approx(lon, abs=1e-6) and float(nsh["lat"]) == pytest.approx(lat, abs=1e-6)
    assert (nsh["population"], nsh["population_kind"], nsh["population_year"]) == ("21000", "常住", "2020")
    assert nsh["population_source"] == "第七次全国人口普查" and nsh["coord_source"] == "filled.xlsx (gcj02)"
    assert nsh["designations"].split(";")[-2:] == ["provincial_featured_town", "key_town"]
    assert back.loc["511923", "population"] == "293300"                                  # conflict kept
    assert back.loc["511921101", "tier"] == "town"
    assert back.loc["511921103223", ["registered_population", "registered_population_year"]].tolist() == \
        ["1200", "2022"]
    assert back.loc["511921103", ["builtup_km2", "builtup_year"]].tolist() == ["1.8", "2021"]
    assert _digest(embedded_register_path()) == embedded                                 # never modified
    lines = report.lines()
    assert lines[0].startswith(f"filled.xlsx: {N_REGISTER} rows") and "conflicts 3" in lines[0]
    assert any("conflict row" in line and "511923" in line and "overwrite=True" in line for line in lines)
    # merging the same file again changes nothing and reports the same conflicts
    _, again = merge_register(register, filled)
    assert again.updates.empty and len(again.conflicts) == 3


def test_overwrite_replaces_and_lists(book, register, tmp_path):
    _, report = merge_register(register, _fill(book, tmp_path), overwrite=True)
    assert len(report.conflicts) == 3 and report.conflicts["overwritten"].all()
    back = read_register(register).set_index("code")
    assert back.loc["511923", ["population", "population_kind", "population_year"]].tolist() == \
        ["300000", "常住", "2022"]
    assert back.loc["511921101", "tier"] == "featured_town"
    assert len(back) == N_REGISTER


def _amap(path, rows):
    pd.DataFrame(rows, columns=["名称", "经度", "纬度", "常住人口", "等级"]).to_excel(path, index=False)
    return path


def test_amap_export_without_codes_merges_by_name(register, tmp_path):
    amap = _amap(tmp_path / "高德乡镇驻地.xlsx", [
        ["诺水河镇", 107.9101, 32.3950, 21000, "重点镇"],
        ["兴隆镇", 106.60, 31.80, 15000, "一般镇"],           # 恩阳区 and 通江县 both have one
        ["民胜", 107.30, 32.00, 18000, "一般镇"],             # matched after normalising (民胜镇)
        ["通江县城", 107.2473, 31.9151, 180000, "县城"],
        ["不存在镇", 107.0, 32.0, 100, "一般镇"],
    ])
    merged, report = merge_register(register, amap, coords="gcj02")
    assert len(merged) == N_REGISTER
    assert dict(zip(report.matched["name"], report.matched["how"])) == {
        "诺水河镇": "name", "民胜镇": "normalised name", "通江县城": "name"}
    assert report.ambiguous["name"].tolist() == ["兴隆镇"]
    assert report.ambiguous["candidates"].iloc[0] == "511903113 兴隆镇; 511921127 兴隆镇"
    assert report.unmatched[["file_row", "name"]].values.tolist() == [[6, "不存在镇"]]
    back = read_register(register).set_index("code")
    lon, lat = gcj02_to_wgs84(107.9101, 32.3950)
    assert float(back.loc["511921113", "lon"]) == pytest.approx(lon, abs=1e-6)
    assert float(back.loc["511921113", "lat"]) == pytest.approx(lat, abs=1e-6)
    assert back.loc["511921113", "population_source"] == "高德乡镇驻地.xlsx"
    assert "key_town" in back.loc["511921113", "designations"].split(";")         # 重点镇 is a designation
    assert back.loc["511921", "population"] == "180000"
    # 民胜镇 already had a population and 通江县城 a point: the Amap values differ, so they are conflicts
    assert report.conflicts[["code", "column"]].values.tolist() == [["511921101", "population"],
                                                                    ["511921", "lon/lat"]]
    assert back.loc["511921101", "population"] == "21901" and back.loc["511921", "lon"] == "107.240525"
    assert any("常住人口 -> population" in n for n in report.notes)


def test_name_within_county_and_duplicates(register, tmp_path):
    path = tmp_path / "towns.csv"
    pd.DataFrame({"所属县": ["通江县", "恩阳", "成都市", "通江县"],
                  "乡镇名称": ["兴隆镇", "兴隆镇", "兴隆镇", "兴隆"],
                  "户籍人口": [20000, 15000, 1, 20001]}).to_csv(path, index=False, encoding="gbk")
    _, report = merge_register(register, path)
    assert report.matched[["code", "how"]].values.tolist() == [["511921127", "name"], ["511903113", "name"]]
    assert report.unmatched["reason"].iloc[0] == "county '成都市' is not a county of 巴中市"
    assert "already matched by row 2" in report.ambiguous["candidates"].iloc[0]
    back = read_register(register).set_index("code")
    assert back.loc["511921127", ["registered_population", "registered_population_source"]].tolist() == \
        ["20000", "towns.csv"]
    assert pd.isna(back.loc["511921127", "population"])                            # registered is not resident


def test_refusals(register, tmp_path):
    filled = tmp_path / "x.csv"
    pd.DataFrame({"名称": ["诺水河镇"], "常住人口": [1]}).to_csv(filled, index=False)
    with pytest.raises(RegisterMergeError, match="embedded register, which is never modified"):
        merge_register(embedded_register_path(), filled)
    with pytest.raises(RegisterMergeError, match="no workspace register"):
        merge_register(tmp_path / "nope.csv", filled)
    nokey = tmp_path / "nokey.csv"
    pd.DataFrame({"常住人口": [1]}).to_csv(nokey, index=False)
    with pytest.raises(RegisterMergeError, match="neither a code nor a name"):
        merge_register(register, nokey)


def test_gpkg_register(tmp_path):
    import geopandas as gpd

    reg = read_register(embedded_register_path())
    gpkg = tmp_path / "register.gpkg"
    gdf = gpd.GeoDataFrame(reg, geometry=gpd.points_from_xy(pd.to_numeric(reg["lon"]), pd.to_numeric(reg["lat"])),
                           crs=4326).drop(columns=["lon", "lat"])
    gdf.to_file(gpkg, engine="pyogrio")
    filled = tmp_path / "f.csv"
    pd.DataFrame({"代码": ["511921113"], "经度": [107.9], "纬度": [32.4]}).to_csv(filled, index=False)
    merged, report = merge_register(gpkg, filled)
    assert len(merged) == N_REGISTER and len(report.matched) == 1
    back = gpd.read_file(gpkg, layer="register")
    row = back[back["code"] == "511921113"].iloc[0]
    assert (row.geometry.x, row.geometry.y) == pytest.approx((107.9, 32.4))
    assert len(back) == N_REGISTER


@pytest.mark.parametrize("raw, folded", [("清江镇", "清江"), ("东城街道", "东城"), ("东城街道办事处", "东城"),
                                         ("ｘｘ乡", "xx"), ("清江 镇", "清江"), ("胜利居民委员会", "胜利"),
                                         ("东山村民委员会", "东山村"), ("镇", "镇")])
def test_normalise_name(raw, folded):
    assert normalise_name(raw) == folded


def _small_register(path, n_towns):
    codes = [f"511921{100 + i:03d}" for i in range(n_towns)]
    pd.DataFrame({"code": codes, "name": [f"镇{i}镇" for i in range(n_towns)], "tier": "town",
                  "parent_code": "511921", "county_code": "511921", "population": None, "lon": None,
                  "lat": None}).to_csv(path, index=False)
    return codes


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_property_rows_in_rows_out_and_every_filled_row_accounted(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("prop")
    n = data.draw(st.integers(min_value=1, max_value=12))
    codes = _small_register(folder / "register.csv", n)
    picks = data.draw(st.lists(st.integers(min_value=0, max_value=n + 3), min_size=1, max_size=10))
    pops = data.draw(st.lists(st.integers(min_value=0, max_value=10**6), min_size=len(picks), max_size=len(picks)))
    file_codes = [codes[i] if i < n else f"5119219{i:02d}" for i in picks]       # i >= n: not in the register
    pd.DataFrame({"代码": file_codes, "常住人口": pops}).to_csv(folder / "f.csv", index=False)
    merged, report = merge_register(folder / "register.csv", folder / "f.csv")
    assert report.rows_in == report.rows_out == len(merged) == n
    accounted = len(report.matched) + len(report.unmatched) + len(report.ambiguous) + report.unchanged_rows \
        + report.blank_rows
    assert accounted == len(picks)                                   # every file row lands in exactly one list
    first = {}
    for code, pop in zip(file_codes, pops):
        if code in codes:
            first.setdefault(code, pop)
    back = read_register(folder / "register.csv").set_index("code")
    for code in codes:
        expected = first.get(code)
        got = back.loc[code, "population"]
        assert (pd.isna(got) if expected is None else int(got) == expected)


def test_bad_cells_are_noted_not_merged(register, tmp_path):
    path = tmp_path / "bad.csv"
    pd.DataFrame({"代码": ["511921113", "511921101", "511921103"],
                  "纬度": [107.9, 32.0, None], "经度": [32.4, 107.3, None],         # first row: swapped
                  "常住人口": ["两万", "-5", "1,234"]}).to_csv(path, index=False)
    _, report = merge_register(register, path)
    notes = "\n".join(report.notes)
    assert "bad.csv row 2: point (32.4, 107.9) in wgs84 falls outside China" in notes
    assert "bad.csv row 2: resident_population = '两万' is not a number; not merged" in notes
    assert "bad.csv row 3: resident_population = -5 is negative; not merged" in notes
    back = read_register(register).set_index("code")
    assert pd.isna(back.loc["511921113", "lon"]) and back.loc["511921103", "population"] == "1234"
    assert float(back.loc["511921101", "lon"]) == pytest.approx(107.3)
    assert report.rows_out == N_REGISTER
