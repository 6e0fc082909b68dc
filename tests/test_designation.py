"""Tests of designation profiles and explained checks (hand-made candidate sets with known verdicts)."""

import tomllib

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, box

from bazhong_geo import designation as dz
from bazhong_geo._errors import (
    BazhongGeoError,
    DuplicateCodeError,
    InvalidCriterionError,
    MissingColumnError,
    ProfileError,
    UnitMismatchError,
    UnknownProfileError,
    UnknownUnitError,
)

X0, Y0 = 500_000.0, 3_530_000.0   # somewhere in EPSG:4545 near Bazhong

SHIPPED = ["baizhen-pilot", "central-town", "central-village", "featured-town", "key-town", "mega-town"]


def _pt(dx_km, dy_km=0.0):
    return Point(X0 + dx_km * 1000, Y0 + dy_km * 1000)


@pytest.fixture
def context():
    """A county town at the origin and a central city 100 km east; one designated featured town 30 km north."""
    return gpd.GeoDataFrame(
        {"code": ["511921", "511900", "T9"], "name": ["通江县", "巴城", "驷马镇"],
         "tier": ["county_town", "central_city", "town"],
         "designations": ["", "", "national_featured_town;national_key_town"]},
        geometry=[_pt(0), _pt(100), _pt(0, 30)], crs=4545)


@pytest.fixture
def towns():
    """Four towns: big and far, small and near, unknown population, big but unlocated."""
    return gpd.GeoDataFrame(
        {"code": ["1", "2", "3", "4"], "name": ["甲镇", "乙镇", "丙镇", "丁镇"],
         "population": [52_000, 28_000, np.nan, 60_000], "builtup_km2": [4.0, 1.2, 3.9, np.nan],
         "designations": ["", "national_key_town", None, "provincial_featured_town"]},
        geometry=[_pt(20), _pt(5), _pt(0, -40), None], crs=4545)


def _row(res, code, criterion):
    d = res.details
    return d[(d["code"] == code) & (d["criterion"] == criterion)].iloc[0]


def _verdict(res, code):
    return res.verdicts.set_index("code").loc[code, "verdict"]


# ------------------------------------------------------------------------------------------- profiles

def test_every_shipped_profile_loads_with_sources_and_units():
    assert dz.available_profiles() == SHIPPED
    for name in SHIPPED:
        p = dz.load_profile(name)
        assert p.name == name and p.label_zh and p.label_en
        for c in p.leaves():
            assert c.unit in dz.UNITS
            assert c.source.strip(), (name, c.id)
        raw = tomllib.loads((dz.profiles_dir() / f"{name}.toml").read_text(encoding="utf-8"))
        for spec in raw["criteria"]:   # the file itself states source and unit on every threshold
            assert "source" in spec and "unit" in spec, (name, spec)


def test_profile_api_lives_in_profiles_and_is_reexported():
    from bazhong_geo import profiles

    for name in ("Criterion", "Profile", "available_profiles", "load_profile", "profiles_dir", "UNITS", "OPS"):
        assert getattr(dz, name) is getattr(profiles, name), name
    assert profiles.available_profiles() == SHIPPED


def test_shipped_thresholds_match_the_facts():
    assert dz.load_profile("mega-town").criteria[0].value == 50_000
    assert dz.load_profile("key-town").criteria[0].value == (25_000, 35_000)
    assert dz.load_profile("baizhen-pilot").criteria[0].value == 20_000
    ct = {c.id: c for c in dz.load_profile("central-town").leaves()}
    assert ct["population"].value == 37_600 and ct["builtup"].value == 3.81 and ct["builtup"].unit == "km2"
    cv = dz.load_profile("central-village").criteria[0]
    assert (cv.op, cv.value) == (">", 600)
    fz = dz.load_profile("featured-town")
    assert (fz.root.op, fz.root.k) == ("at_least", 2)


def test_unknown_profile_lists_the_shipped_ones():
    with pytest.raises(UnknownProfileError) as exc:
        dz.load_profile("super-town")
    for name in SHIPPED:
        assert name in str(exc.value)
    with pytest.raises(UnknownProfileError, match="does not exist"):
        dz.load_profile("/nonexistent/profile.toml")


def _write(tmp_path, text, name="p.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_profile_validation_names_file_and_criterion(tmp_path):
    bad_unit = _write(tmp_path, 'name = "x"\n[[criteria]]\nid = "pop"\nattribute = "population"\nop = ">="\n'
                                'value = 3\nunit = "km2"\n', "wrong_unit.toml")
    with pytest.raises(UnitMismatchError) as exc:
        dz.load_profile(bad_unit)
    assert "wrong_unit.toml" in str(exc.value) and "'pop'" in str(exc.value)

    with pytest.raises(UnknownUnitError, match="furlongs"):
        dz.load_profile({"name": "x", "criteria": [{"attribute": "population", "op": ">=", "value": 1,
                                                    "unit": "furlongs"}]})
    with pytest.raises(UnknownUnitError, match="missing `unit`"):
        dz.load_profile({"name": "x", "criteria": [{"attribute": "population", "op": ">=", "value": 1}]})
    with pytest.raises(InvalidCriterionError, match="unknown op '=>'"):
        dz.load_profile({"name": "x", "criteria": [{"attribute": "population", "op": "=>", "value": 1,
                                                    "unit": "people"}]})
    with pytest.raises(InvalidCriterionError, match="missing `value`"):
        dz.load_profile({"name": "x", "criteria": [{"attribute": "population", "op": ">=", "unit": "people"}]})
    with pytest.raises(InvalidCriterionError, match="low, high"):
        dz.load_profile({"name": "x", "criteria": [{"attribute": "population", "op": "between",
                                                    "value": [35000, 25000], "unit": "people"}]})
    with pytest.raises(InvalidCriterionError, match="at_least"):
        dz.load_profile({"name": "x", "rule": "at_least", "k": 3,
                         "criteria": [{"attribute": "population", "op": ">=", "value": 1, "unit": "people"}]})
    with pytest.raises(UnitMismatchError, match="distance_to_tier"):
        dz.load_profile({"name": "x", "criteria": [{"kind": "distance_to_tier", "op": ">=", "value": 10,
                                                    "unit": "people"}]})
    with pytest.raises(UnitMismatchError, match="builtup_km2"):
        dz.load_profile({"name": "x", "criteria": [{"attribute": "builtup_km2", "op": ">=", "value": 10,
                                                    "unit": "minutes"}]})
    with pytest.raises(InvalidCriterionError, match="duplicate id"):
        dz.load_profile({"name": "x", "criteria": [{"attribute": "population", "op": ">=", "value": 1, "unit": "people"},
                                                   {"attribute": "population", "op": "<=", "value": 9, "unit": "people"}]})
    broken = _write(tmp_path, 'name = "x"\n[[criteria]\n', "broken.toml")
    with pytest.raises(InvalidCriterionError, match="broken.toml"):
        dz.load_profile(broken)
    # every profile error is a BazhongGeoError and a ValueError
    assert issubclass(ProfileError, BazhongGeoError) and issubclass(ProfileError, ValueError)


def test_profile_from_toml_file_with_nested_composite(tmp_path, towns):
    path = _write(tmp_path, """
name = "my-town"
label_zh = "示范镇"
label_en = "model town"
rule = "all"

[[criteria]]
id = "size"
kind = "composite"
rule = "any"

[[criteria.criteria]]
id = "pop"
attribute = "population"
op = ">="
value = 5
unit = "10k_people"
source = "assumption"

[[criteria.criteria]]
id = "area"
attribute = "builtup_km2"
op = ">="
value = 350
unit = "ha"
source = "assumption"
""")
    res = dz.check(towns, path)
    # 甲: pop 5.2万 passes -> pass; 乙: 2.8万 and 1.2 km2 both fail; 丙: pop unknown, 3.9 km2 >= 3.5 -> pass (any)
    # 丁: 6万 passes although built-up is unknown
    assert [_verdict(res, c) for c in "1234"] == ["qualifies", "does not qualify", "qualifies", "qualifies"]
    assert _row(res, "3", "pop")["outcome"] == "no_data"
    assert _row(res, "4", "area")["outcome"] == "no_data"
    assert _row(res, "1", "area")["measured"] == pytest.approx(400.0)     # km2 column shown in the threshold's ha
    assert _row(res, "1", "pop")["measured"] == pytest.approx(5.2)
    assert _row(res, "2", "size")["outcome"] == "fail"


@pytest.mark.parametrize("column,value,unit,threshold,measured", [
    ("town_10k_people", 5.2, "10k_people", 5, 5.2),              # 5.2万 against 5万: not 5.2 people
    ("town_10k_people", 5.2, "people", 50_000, 52_000),
    ("gdp_billion_yuan", 3.0, "100m_yuan", 20, 30.0),            # 3 bn yuan = 30 亿元
    ("urban_percent", 64.44, "share", 0.5, 0.6444),
    ("pop_people", 31_000, "10k_people", 3, 3.1),
])
def test_column_unit_read_from_the_longest_suffix(column, value, unit, threshold, measured):
    df = pd.DataFrame({"code": ["a"], "name": ["A镇"], column: [value]})
    res = dz.check(df, {"name": "x", "criteria": [{"attribute": column, "op": ">=", "value": threshold,
                                                   "unit": unit}]})
    r = _row(res, "a", column)
    assert r["measured"] == pytest.approx(measured) and r["outcome"] == "pass"


def test_candidates_without_the_attribute_column_are_no_data_with_a_summary(towns):
    res = dz.check(towns, "baizhen-pilot")          # needs town_centre_population, which the table lacks
    d = res.details[res.details["criterion"] == "town_centre_population"]
    assert set(d["outcome"]) == {"no_data"} and d["measured"].isna().all()
    assert d["reason_en"].str.contains("candidates have no 'town_centre_population' column").all()
    assert d["reason_zh"].str.contains("候选表无“town_centre_population”列").all()
    assert set(res.verdicts["verdict"]) == {"incomplete"}
    md = res.missing_data.set_index("data_needed").loc["town_centre_population"]
    assert (md["n_candidates"], md["codes"], md["data_needed_zh"]) == (4, "1;2;3;4", "镇中心区常住人口")
    assert "town_centre_population" in res.to_markdown()


# ------------------------------------------------------------------------------------------- checks

def test_mega_town_verdicts_and_reasons(towns, context):
    res = dz.check(towns, "mega-town", context=context)
    assert [_verdict(res, c) for c in "1234"] == ["qualifies", "does not qualify", "incomplete", "incomplete"]
    r = _row(res, "2", "population")
    assert (r["measured"], r["threshold"], r["unit"], r["outcome"]) == (28_000, 50_000, "people", "fail")
    assert r["reason_zh"] == "镇区常住人口 2.8万，低于特大镇标准 5万"
    assert r["reason_en"] == "Town-area resident population 28,000 is below the mega-town threshold of 50,000"
    assert _row(res, "1", "population")["reason_zh"] == "镇区常住人口 5.2万，达到特大镇标准 5万"
    shadow = _row(res, "2", "county_town_shadow")
    assert shadow["measured"] == pytest.approx(5.0)
    assert shadow["reason_zh"] == "距最近县城或中心城区 5公里（通江县），低于特大镇标准 15公里"
    assert shadow["reason_en"].startswith("Distance to the nearest county town or central city 5 km (通江县) is below")
    nd = _row(res, "3", "population")
    assert nd["outcome"] == "no_data" and nd["measured"] is None
    assert nd["reason_zh"].startswith("缺少镇区常住人口数据") and nd["reason_en"].startswith("No data on")
    assert _row(res, "4", "county_town_shadow")["outcome"] == "no_data"      # no coordinates: never pass or fail
    v = res.verdicts.set_index("code")
    assert v.loc["1", ["n_pass", "n_fail", "n_no_data"]].tolist() == [2, 0, 0]
    assert v.loc["3", ["n_pass", "n_fail", "n_no_data"]].tolist() == [1, 0, 1]
    assert v.loc["1", "rank"] == 1 and v.loc["2", "rank"] == 4
    assert res.counts() == {"qualifies": 1, "does not qualify": 1, "incomplete": 2}
    # details: one row per candidate x criterion (2 leaves + the overall rule)
    assert len(res.details) == 4 * 3


def test_no_data_does_not_decide_when_another_criterion_fails(towns, context):
    towns = towns.copy()
    towns.loc[2, "geometry"] = _pt(3)      # 丙: unknown population but 3 km from the county town -> fails anyway
    res = dz.check(towns, "mega-town", context=context)
    assert _verdict(res, "3") == "does not qualify"
    assert res.verdicts.set_index("code").loc["3", "n_no_data"] == 1


def test_key_town_band(context):
    c = gpd.GeoDataFrame({"code": ["a", "b", "c", "d"], "name": ["A镇", "B镇", "C镇", "D镇"],
                          "population": [30_000, 24_000, 40_000, 25_000]},
                         geometry=[_pt(50)] * 4, crs=4545)
    res = dz.check(c, "key-town", context=context)
    assert [_verdict(res, x) for x in "abcd"] == ["qualifies", "does not qualify", "does not qualify", "qualifies"]
    assert _row(res, "b", "population_band")["reason_zh"] == "常住人口 2.4万，低于重点镇标准区间下限 2.5万"
    assert _row(res, "c", "population_band")["reason_en"] == (
        "Resident population 40,000 is above the key town band's upper bound of 35,000")
    # whole-township resident figures are accepted, so the reason does not call them town-area figures
    assert not res.details["reason_zh"].str.contains("镇区").any()
    assert _row(res, "a", "population_band")["threshold"] == "25000–35000"


def test_kleene_logic_of_composites():
    prof = {"name": "k", "rule": "at_least", "k": 2, "criteria": [
        {"id": "a", "attribute": "a_people", "op": ">=", "value": 1, "unit": "people"},
        {"id": "b", "attribute": "b_people", "op": ">=", "value": 1, "unit": "people"},
        {"id": "c", "attribute": "c_people", "op": ">=", "value": 1, "unit": "people"}]}
    df = pd.DataFrame({"code": ["pp?", "pf?", "ff?", "p??"], "name": list("WXYZ"),
                       "a_people": [1, 1, 0, 1], "b_people": [1, 0, 0, np.nan], "c_people": [np.nan] * 4})
    res = dz.check(df, prof)
    assert [_verdict(res, c) for c in df["code"]] == ["qualifies", "incomplete", "does not qualify", "incomplete"]
    res_any = dz.check(df, {**prof, "rule": "any", "k": None})
    assert [_verdict(res_any, c) for c in df["code"]] == ["qualifies", "qualifies", "incomplete", "qualifies"]
    res_all = dz.check(df, {**prof, "rule": "all", "k": None})
    assert [_verdict(res_all, c) for c in df["code"]] == ["incomplete", "does not qualify", "does not qualify",
                                                          "incomplete"]
    assert _row(res, "pf?", "overall")["reason_zh"] == "k综合判定：3项中满足1项、可判定2项（至少满足2项）"


def test_designation_criterion_and_featured_town(towns, context):
    res = dz.check(towns, "featured-town", context=context)
    t = _row(res, "2", "title_held")
    assert t["outcome"] == "pass" and t["measured"] == "national_key_town"
    assert _row(res, "1", "title_held")["outcome"] == "fail"          # "" = recorded as holding none
    assert _row(res, "3", "title_held")["outcome"] == "fail"          # None = empty cell read from CSV: none held
    no_col = dz.check(towns.drop(columns="designations"), "featured-town", context=context)
    assert _row(no_col, "3", "title_held")["outcome"] == "no_data"   # no column at all: unknown
    # spacing from the designated featured town 30 km north of the origin (context row T9)
    sp = _row(res, "3", "spacing")                                     # 丙 is 40 km south: 70 km away
    assert sp["measured"] == pytest.approx(70.0) and sp["outcome"] == "pass"
    # at least 2 of 3: 乙 has the title, 2.8万 >= 1万, and is 30.4 km from 驷马镇 -> qualifies
    assert _verdict(res, "2") == "qualifies"
    # 丁: title and 6万 pass; no coordinates -> still qualifies (2 of 3 reached)
    assert _verdict(res, "4") == "qualifies"


def test_spacing_without_context_uses_candidates_and_unlocated_designated_is_no_data():
    prof = {"name": "s", "criteria": [{"kind": "spacing", "from_designations": ["national_key_town"], "op": ">=",
                                       "value": 10, "unit": "km"}]}
    c = gpd.GeoDataFrame({"code": ["a", "b", "c"], "name": list("ABC"),
                          "designations": ["national_key_town", "", ""]},
                         geometry=[_pt(0), _pt(4), _pt(30)], crs=4545)
    res = dz.check(c, prof)
    assert [_verdict(res, x) for x in "abc"] == ["qualifies", "does not qualify", "qualifies"]  # a: itself excluded
    assert _row(res, "c", "spacing")["measured"] == pytest.approx(30.0)
    c2 = c.copy()
    c2.loc[0, "geometry"] = None
    res2 = dz.check(c2, prof)
    assert _row(res2, "b", "spacing")["outcome"] == "no_data"
    c3 = c.assign(designations="")
    assert _row(dz.check(c3, prof), "b", "spacing")["outcome"] == "pass"   # nothing designated anywhere


def test_catchment_population_and_road_access():
    prof = {"name": "s", "criteria": [
        {"id": "catch", "kind": "catchment_population", "radius": 5, "radius_unit": "km", "op": ">=", "value": 1,
         "unit": "10k_people"},
        {"id": "road", "kind": "road_distance", "op": "<=", "value": 500, "unit": "m"}]}
    c = gpd.GeoDataFrame({"code": ["a", "b"], "name": ["A", "B"]}, geometry=[_pt(0), _pt(50)], crs=4545)
    demand = gpd.GeoDataFrame({"population": [6000, 7000, 9000]},
                              geometry=[_pt(1), box(X0 - 2000, Y0 + 2000, X0, Y0 + 4000), _pt(10)], crs=4545)
    roads = gpd.GeoDataFrame(geometry=[LineString([(X0 - 5000, Y0 + 300), (X0 + 5000, Y0 + 300)]),
                                       LineString([(X0 + 50_000 + 800, Y0 - 10), (X0 + 50_000 + 800, Y0 + 10)])],
                             crs=4545)
    res = dz.check(c, prof, demand=demand, roads=roads)
    assert _row(res, "a", "catch")["measured"] == pytest.approx(1.3)          # 13,000 people in 1.3 万
    assert _row(res, "b", "catch")["measured"] == 0
    assert _row(res, "a", "road")["measured"] == pytest.approx(300.0)
    assert _row(res, "b", "road")["measured"] == pytest.approx(800.0)
    assert [_verdict(res, x) for x in "ab"] == ["qualifies", "does not qualify"]
    assert _row(res, "a", "catch")["reason_zh"] == "服务半径内人口 1.3万（半径5 km），达到s标准 1万"
    # without the layers: no data, and the summary says what to collect
    res2 = dz.check(c, prof)
    assert set(res2.details.query("kind != 'composite'")["outcome"]) == {"no_data"}
    assert set(res2.missing_data["data_needed"]) == {"demand layer", "road layer"}


def test_travel_time_to_county_town_via_network(context):
    prof = {"name": "t", "criteria": [{"kind": "travel_time", "tiers": ["county_town"], "op": "<=", "value": 30,
                                       "unit": "minutes"}]}
    line = LineString([(X0 + x, Y0) for x in range(0, 60_001, 500)])      # a vertex every 500 m
    roads = gpd.GeoDataFrame({"speed_kmh": [60.0]}, geometry=[line], crs=4545)
    c = gpd.GeoDataFrame({"code": ["near", "far"], "name": ["近镇", "远镇"]}, geometry=[_pt(20), _pt(45)], crs=4545)
    res = dz.check(c, prof, context=context, roads=roads)
    assert _row(res, "near", "travel_time")["measured"] == pytest.approx(20.0, abs=0.01)   # 20 km at 60 km/h
    assert _row(res, "far", "travel_time")["measured"] == pytest.approx(45.0, abs=0.01)
    assert [_verdict(res, x) for x in ("near", "far")] == ["qualifies", "does not qualify"]


def test_missing_data_summary_lists_what_to_collect(towns):
    res = dz.check(towns, "central-town")           # no context: distance criterion cannot be decided for anyone
    md = res.missing_data.set_index("data_needed")
    assert md.loc["population", "codes"] == "3"
    assert md.loc["builtup_km2", "names"] == "丁镇"
    assert md.loc["context: county town / central city locations", "n_candidates"] == 4
    assert set(res.verdicts["verdict"]) <= {"incomplete", "does not qualify"}
    assert _verdict(res, "2") == "does not qualify"  # fails population and built-up regardless of the context


def test_plain_dataframe_and_bad_inputs():
    df = pd.DataFrame({"code": ["1", "2"], "name": ["A", "B"], "population": [50_000, "n/a"]})
    res = dz.check(df, "mega-town")
    assert _row(res, "2", "population")["outcome"] == "no_data"
    assert "geometry" not in res.verdicts.columns
    with pytest.raises(MissingColumnError, match="'code'"):
        dz.check(df.drop(columns="code"), "mega-town")
    with pytest.raises(DuplicateCodeError):
        dz.check(pd.concat([df, df]), "mega-town")
    with pytest.raises(UnknownProfileError, match="key-town"):
        dz.check(df, "key_town")


def test_scores_rank_near_misses_first():
    df = pd.DataFrame({"code": list("abc"), "name": list("ABC"), "population": [45_000, 10_000, 50_000]})
    res = dz.check(df, {"name": "m", "criteria": [{"attribute": "population", "op": ">=", "value": 50_000,
                                                   "unit": "people"}]})
    assert res.verdicts["code"].tolist() == ["c", "a", "b"]
    assert res.verdicts["score"].tolist() == [1.0, 0.9, 0.2]


def test_write_check_report(tmp_path, towns, context, capsys):
    res = dz.check(towns, "mega-town", context=context)
    paths = dz.write_check_report(res, tmp_path / "out")
    assert sorted(paths) == ["details_csv", "excel", "summary_md", "verdicts_csv"]     # tables only: no map
    for key in ("verdicts_csv", "details_csv", "excel", "summary_md"):
        assert paths[key].is_file(), key
    assert capsys.readouterr().out == ""                                              # library code never prints
    wb = openpyxl.load_workbook(paths["excel"])
    assert wb.sheetnames == ["verdicts", "details", "missing_data", "criteria"]
    assert wb["details"].max_row == 1 + len(res.details)
    back = pd.read_csv(paths["verdicts_csv"], dtype={"code": str})
    assert back["code"].tolist() == res.verdicts["code"].tolist()
    md = paths["summary_md"].read_text(encoding="utf-8")
    assert "qualifies (符合) 1" in md and "population" in md
    # same input, same bytes
    again = dz.write_check_report(res, tmp_path / "out2")
    for key in ("verdicts_csv", "details_csv", "excel", "summary_md"):
        assert again[key].read_bytes() == paths[key].read_bytes(), key


def test_check_map_is_drawn_by_the_caller(tmp_path, towns, context):
    """The CLI draws the candidates with bazhong_geo.maps: reasons in popups, same input same bytes."""
    from bazhong_geo.cli import write_check_map

    res = dz.check(towns, "mega-town", context=context)
    path = write_check_map(res, tmp_path / "a" / "mega-town_map.html")
    html = path.read_text(encoding="utf-8")
    assert "甲镇" in html and "镇区常住人口 2.8万，低于特大镇标准 5万" in html    # reasons in popups
    again = write_check_map(res, tmp_path / "b" / "mega-town_map.html")
    assert again.read_bytes() == path.read_bytes()
    no_geometry = dz.check(pd.DataFrame(towns.drop(columns="geometry")), "mega-town")
    assert write_check_map(no_geometry, tmp_path / "c.html") is None and not (tmp_path / "c.html").exists()


def test_cli_check(tmp_path, capsys):
    from bazhong_geo.cli import main

    csv = tmp_path / "towns.csv"
    pd.DataFrame({"code": ["1", "2"], "name": ["甲镇", "乙镇"], "population": [31_000, 12_000],
                  "lon": [107.0, 107.3], "lat": [31.9, 32.0]}).to_csv(csv, index=False)
    out = tmp_path / "rep"
    assert main(["check", str(csv), "--profile", "key-town", "--out", str(out), "--no-context"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["key-town_check.xlsx", "key-town_details.csv", "key-town_map.html",
                                                     "key-town_summary.md", "key-town_verdicts.csv"]
    assert openpyxl.load_workbook(out / "key-town_check.xlsx").sheetnames == ["verdicts", "details", "missing_data",
                                                                              "criteria"]
    assert "乙镇" in (out / "key-town_map.html").read_text(encoding="utf-8")
    v = pd.read_csv(out / "key-town_verdicts.csv", dtype={"code": str}).set_index("code")
    assert v["verdict"].to_dict() == {"1": "incomplete", "2": "does not qualify"}     # no context: distance unknown
    assert "常住人口 1.2万，低于重点镇标准区间下限 2.5万" in v.loc["2", "reasons_zh"]
    text = capsys.readouterr().out
    assert "甲镇" in text and "data to collect" in text and "context: county town / central city locations" in text
    assert main(["check", str(csv), "--profile", "nope"]) == 2
    err = capsys.readouterr().err
    assert "mega-town" in err and "key-town" in err
    assert main(["check", str(tmp_path / "missing.csv"), "--no-context"]) == 2       # an error, not a traceback
    assert "missing.csv: no such file" in capsys.readouterr().err
    assert main(["check", str(csv), "--no-context", "--demand", str(tmp_path / "nope.gpkg"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "ERROR: --demand" in err and "nope.gpkg" in err
    assert main(["check", "--list-profiles"]) == 0
    assert "central-village" in capsys.readouterr().out


def test_population_of_another_kind_does_not_decide():
    df = pd.DataFrame({"code": list("abcde"), "name": ["A镇", "B镇", "C镇", "D镇", "E镇"],
                       "population": [62_000, 62_000, 30_000, 34_651, 34_651],
                       "population_kind": ["户籍", "town_area", None, "常住", "户籍"]})
    res = dz.check(df, "mega-town")
    assert [_row(res, x, "population")["outcome"] for x in "abcde"] == ["no_data", "pass", "fail", "fail", "no_data"]
    assert "户籍" in _row(res, "a", "population")["reason_zh"]
    # a whole-township resident count below 5万 proves the town area is below it too
    assert _row(res, "d", "population")["reason_zh"] == (
        "镇区常住人口 3.47万（口径“常住”为上限，town_area/镇区不会更多），低于特大镇标准 5万")
    assert res.missing_data.set_index("data_needed").loc["population (town_area/镇区)", "codes"] == "a;e"
    with pytest.raises(InvalidCriterionError, match="upper_bound_kinds"):
        dz.load_profile({"name": "x", "criteria": [{"attribute": "population", "op": "<=", "value": 1,
                                                    "unit": "people", "accept_kinds": ["a"],
                                                    "upper_bound_kinds": ["b"]}]})
    with pytest.raises(InvalidCriterionError, match="accept_kinds"):
        dz.load_profile({"name": "x", "criteria": [{"attribute": "population", "op": ">=", "value": 1,
                                                    "unit": "people", "accept_kinds": [3]}]})


def test_report_map_in_a_browser(tmp_path, towns, context):
    """The offline map loads without script errors; an incomplete town's popup shows its reasons."""
    from playwright.sync_api import sync_playwright

    from bazhong_geo.cli import write_check_map
    from bazhong_geo.export import CHROMIUM_ARGS, find_chromium

    res = dz.check(towns, "mega-town", context=context)
    path = write_check_map(res, tmp_path / "mega-town_map.html")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 900, "height": 700})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.as_uri())
        page.wait_for_function("window.__bazhong_ready === true", timeout=10000)
        popups = []
        markers = page.locator(".leaflet-marker-icon")
        for i in range(markers.count()):                      # click every marker, read its popup
            # close the open popup first: it may lie over the next marker and take its click
            page.evaluate("Object.values(window).find(v => v instanceof L.Map).closePopup()")
            page.wait_for_selector(".leaflet-popup-content", state="detached", timeout=5000)
            markers.nth(i).click()
            page.wait_for_selector(".leaflet-popup-content", timeout=5000)
            popups.append(page.inner_text(".leaflet-popup-content"))
        legend = page.inner_text("body")
        browser.close()
    assert errors == []
    incomplete = [p for p in popups if "丙镇" in p]
    assert incomplete and "缺少镇区常住人口数据" in incomplete[0]   # the incomplete town's popup gives its reasons
    assert "数据不全" in legend and "符合" in legend and "不符合" in legend


def test_settlement_system_as_context_and_candidates():
    from bazhong_geo import SettlementSystem

    gdf = gpd.GeoDataFrame(
        {"code": ["511900", "511921", "511921101", "511921102"], "name": ["巴城", "通江县城", "远镇", "近镇"],
         "tier": ["central_city", "county_town", "town", "town"], "parent_code": [None, "511900", "511921", "511921"],
         "population": [608_152, np.nan, 55_000, 56_000], "population_kind": ["常住", "", "town_area", "town_area"]},
        geometry=[_pt(-60), _pt(0), _pt(30), _pt(4)], crs=4545)
    system = SettlementSystem(gdf)
    res = dz.check(system.of_tier("town"), "mega-town", context=system)
    assert [_verdict(res, c) for c in ("511921101", "511921102")] == ["qualifies", "does not qualify"]
    assert _row(res, "511921102", "county_town_shadow")["reason_zh"].endswith("（通江县城），低于特大镇标准 15公里")
    whole = dz.check(system, "mega-town", context=system)          # a system as candidates: all its rows
    assert len(whole.verdicts) == 4 and _verdict(whole, "511921") == "does not qualify"   # 0 km from itself


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(0, 100_000)), min_size=1, max_size=12),
       st.floats(1, 90_000))
def test_missing_values_never_decide_and_more_never_hurts(values, threshold):
    prof = {"name": "p", "criteria": [{"attribute": "population", "op": ">=", "value": threshold, "unit": "people"}]}
    df = pd.DataFrame({"code": [str(i) for i in range(len(values))], "name": "x",
                       "population": [np.nan if v is None else v for v in values]})
    res = dz.check(df, prof).details.query("criterion == 'population'").set_index("code")
    for i, v in enumerate(values):
        expected = "no_data" if v is None else ("pass" if v >= threshold else "fail")
        assert res.loc[str(i), "outcome"] == expected
    bigger = dz.check(df.assign(population=df["population"] * 2), prof).verdicts.set_index("code")["verdict"]
    before = dz.check(df, prof).verdicts.set_index("code")["verdict"]
    assert not ((before == "qualifies") & (bigger != "qualifies")).any()


def test_cli_check_with_the_embedded_region(tmp_path, capsys, monkeypatch):
    """Default context = the embedded region: distances to the real county towns are measured."""
    from bazhong_geo.cli import main

    monkeypatch.setenv("BAZHONG_GEO_CACHE", str(tmp_path / "cache"))
    csv = tmp_path / "towns.csv"
    pd.DataFrame({"code": ["511922103", "511923101"], "name": ["长赤镇", "示例镇"], "population": [31_000, 30_000],
                  "population_kind": ["常住", "常住"], "lon": [106.62, 107.10], "lat": [32.17, 31.60]}).to_csv(
        csv, index=False)
    out = tmp_path / "rep"
    assert main(["check", str(csv), "--profile", "key-town", "--out", str(out)]) == 0
    details = pd.read_csv(out / "key-town_details.csv", dtype={"code": str}).set_index(["code", "criterion"])
    shadow = details.loc[("511922103", "county_town_shadow")]
    assert shadow["outcome"] == "pass" and 20 < float(shadow["measured"]) < 40      # ≈ 28 km from 南江县城
    assert "南江县城" in shadow["reason_zh"]
    assert details.loc[("511923101", "county_town_shadow"), "outcome"] == "fail"      # ≈ 3 km from 平昌县城
    html = (out / "key-town_map.html").read_text(encoding="utf-8")
    assert "\\u884c\\u653f\\u533a\\u5212" in html and "南江县城" in html     # boundaries layer, county towns


def test_cli_check_with_roads_and_a_profile_file(tmp_path, capsys):
    from bazhong_geo.cli import main

    prof = _write(tmp_path, 'name = "road-town"\n[[criteria]]\nid = "road"\nkind = "road_distance"\nop = "<="\n'
                            'value = 1\nunit = "km"\nsource = "assumption"\n', "road-town.toml")
    towns = gpd.GeoDataFrame({"code": ["511922103", "511922105"], "name": ["近路镇", "远路镇"]},
                             geometry=[_pt(0, 0.5), _pt(0, 3)], crs=4545).to_crs(4326)
    csv = tmp_path / "towns.csv"
    pd.DataFrame({"code": towns["code"], "name": towns["name"], "lon": towns.geometry.x,
                  "lat": towns.geometry.y}).to_csv(csv, index=False)
    roads = gpd.GeoDataFrame(geometry=[LineString([(X0 - 5000, Y0), (X0 + 5000, Y0)])], crs=4545)
    roads.to_file(tmp_path / "roads.gpkg")
    out = tmp_path / "rep"
    assert main(["check", str(csv), "--profile", str(prof), "--roads", str(tmp_path / "roads.gpkg"),
                 "--no-context", "--out", str(out)]) == 0
    v = pd.read_csv(out / "road-town_verdicts.csv", dtype={"code": str}).set_index("code")["verdict"]
    assert v.to_dict() == {"511922103": "qualifies", "511922105": "does not qualify"}


def test_every_criterion_kind_has_one_measuring_function():
    """The registry covers every kind a profile may load (composites are combined, not measured)."""
    assert set(dz.MEASURES) == set(dz.KINDS) - {"composite"}
    assert dz.MEASURES["distance_to_tier"] is dz.MEASURES["spacing"]          # one straight-line nearest measure
    assert len(set(map(id, dz.MEASURES.values()))) == len(dz.MEASURES) - 1


def test_check_never_prints(tmp_path, towns, context, capsys):
    """Library code returns; only the CLI prints (a check with no-data reasons, and its report)."""
    res = dz.check(towns.drop(columns="geometry"), "key-town", context=context)
    assert res.counts()["incomplete"] > 0                                     # no coordinates: reasons, not prints
    dz.write_check_report(res, tmp_path)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
