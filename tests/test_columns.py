"""Column recognition of planners' headers (issue 12, item 2)."""

import pandas as pd
import pytest

from bazhong_geo._errors import MissingColumnError
from bazhong_geo.columns import classify_values, fold_header, recognize_columns


def _amap_excel(path):
    """An Amap export of township seats: 名称/经度/纬度/常住人口/等级, no codes (GCJ-02)."""
    df = pd.DataFrame({"名称": ["通江县城", "诺水河镇", "沙溪镇"], "经度": [107.2473, 107.9101, 107.1502],
                       "纬度": [31.9151, 32.3950, 31.8011], "常住人口": [180000, 21000, 9000],
                       "等级": ["县城", "重点镇", "一般镇"]})
    df.to_excel(path, index=False)
    return path


def test_amap_export_recognised_without_mapping(tmp_path):
    df = pd.read_excel(_amap_excel(tmp_path / "乡镇驻地.xlsx"))
    rename, report = recognize_columns(df, "settlements")
    assert rename == {"名称": "name", "经度": "lon", "纬度": "lat", "常住人口": "population", "等级": "tier"}
    assert report.population_kind == "resident"
    assert report.ok and report.unmatched == []
    assert all(how == "alias" for _, _, how in report.matched)
    tiers = classify_values(df["等级"])
    assert tiers["tier"].tolist() == ["county_town", None, "town"]
    assert tiers["designation"].tolist() == [None, "key_town", None]
    assert (tiers["problem"] == "").all()


def test_bureau_boundary_columns():
    df = pd.DataFrame(columns=["OBJECTID", "乡镇代码", "乡镇名称", "面积", "所属县"])
    rename, report = recognize_columns(df, "boundaries")
    assert rename == {"乡镇代码": "code", "乡镇名称": "name", "面积": "area", "所属县": "county"}
    assert report.unmatched == ["OBJECTID"]


@pytest.mark.parametrize("header, role", [
    ("行政区划代码", "code"), ("区划代码", "code"), ("代码", "code"), ("CODE", "code"),
    ("村名", "name"), ("Name", "name"), ("lng", "lon"), ("X", "lon"), ("Y", "lat"),
    ("级别", "tier"), ("县区", "county"), ("面积（km²）", "area"),
])
def test_single_headers(header, role):
    rename, report = recognize_columns(pd.DataFrame(columns=[header, "备注"]), "settlements")
    assert rename == {header: role}
    assert report.unmatched == ["备注"]


def test_population_kinds_and_units_and_years():
    df = pd.DataFrame(columns=["名称", "2020年户籍人口（万人）"])
    rename, report = recognize_columns(df, "population")
    assert rename == {"名称": "name", "2020年户籍人口（万人）": "population"}
    assert report.population_kind == "registered"
    assert report.scales == {"population": 10000.0}
    assert report.years == {"population": 2020}
    both = pd.DataFrame(columns=["户籍人口", "常住人口"])
    rename, report = recognize_columns(both, "settlements")
    assert rename == {"户籍人口": "registered_population", "常住人口": "population"}
    assert report.population_kind == "resident"
    generic = pd.DataFrame(columns=["人口"])
    assert recognize_columns(generic, "settlements")[1].population_kind == "unspecified"


def test_generic_population_beside_resident_is_ambiguous_and_left_alone():
    rename, report = recognize_columns(pd.DataFrame(columns=["常住人口", "人口"]), "settlements")
    assert rename == {"常住人口": "population"}
    assert report.ambiguous == {"population": ["常住人口", "人口"]}
    assert "人口" in report.unmatched


def test_ambiguous_is_listed_never_guessed():
    df = pd.DataFrame(columns=["行政区划代码", "乡镇代码", "名称", "经度", "x"])
    rename, report = recognize_columns(df, "settlements")
    assert "code" not in rename.values() and "lon" not in rename.values()
    assert report.ambiguous == {"code": ["行政区划代码", "乡镇代码"], "lon": ["经度", "x"]}
    assert not report.ok
    assert any("ambiguous code" in line and "code = " in line for line in report.lines())


def test_kind_decides_what_dengji_means():
    df = pd.DataFrame(columns=["道路等级", "名称"])
    assert recognize_columns(df, "roads")[0] == {"道路等级": "road_class", "名称": "name"}
    assert recognize_columns(pd.DataFrame(columns=["等级"]), "roads")[0] == {"等级": "road_class"}
    assert recognize_columns(pd.DataFrame(columns=["等级"]), "settlements")[0] == {"等级": "tier"}
    assert recognize_columns(pd.DataFrame(columns=["highway"]), "roads")[0] == {"highway": "road_class"}


def test_mapping_overrides_and_is_checked():
    df = pd.DataFrame(columns=["乡镇代码", "村代码", "名称", "DM"])
    rename, report = recognize_columns(df, "settlements", {"code": "DM"})
    assert rename == {"名称": "name", "DM": "code"}
    assert ("DM", "code", "mapping") in report.matched
    assert "code" not in report.ambiguous
    with pytest.raises(MissingColumnError, match="乡镇代码.*no such column|no such column"):
        recognize_columns(df, "settlements", {"code": "XZQDM"})


def test_unknown_kind():
    with pytest.raises(ValueError, match="unknown kind"):
        recognize_columns(pd.DataFrame(columns=["a"]), "rivers")


def test_fold_header_fullwidth_and_units():
    assert fold_header("ＮＡＭＥ") == ("name", None, None)
    assert fold_header("建成区面积(公顷)") == ("建成区面积", "公顷", None)


def test_value_map_overrides_vocabulary_and_unknowns_are_reported():
    values = pd.Series(["县城", "重点镇", "片区中心", "", "全国特色小镇"])
    out = classify_values(values, {"片区中心": {"tier": "featured_town", "designation": "area_centre"},
                                   "县城": "central_city"})
    assert out["tier"].tolist() == ["central_city", None, "featured_town", None, "featured_town"]
    assert out["designation"].tolist() == [None, "key_town", "area_centre", None, "national_featured_town"]
    assert (out["problem"] == "").all()
    bad = classify_values(pd.Series(["集镇"]))
    assert bad["problem"].tolist() == ["unknown 等级 value '集镇'"]


def test_apply_columns_scales_units_to_people_and_km2():
    from bazhong_geo.columns import apply_columns

    df = pd.DataFrame({"乡镇代码": ["511921101", "511921102"], "常住人口（万人）": [2.5, "不详"],
                       "面积（公顷）": [150, 2000]})
    out, report = apply_columns(df, "boundaries")
    assert list(out.columns) == ["code", "population", "area"]
    assert out["population"].tolist() == [25000.0, "不详"]          # a non-number is left for the reader to report
    assert out["area"].tolist() == [1.5, 20.0]
    assert out.attrs["population_kind"] == "resident" and report.scales == {"population": 1e4, "area": 0.01}
    assert df.columns[1] == "常住人口（万人）"                       # the input is not modified
