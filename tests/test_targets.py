"""Targets, indicators and progress: shipped 2020 statuses, status-rule edges, bad input, figures, report CLI."""

import math
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bazhong_geo import targets as tg
from bazhong_geo._errors import (BazhongGeoError, DuplicateIndicatorError, IndicatorFormatError, IndicatorUnitError,
                                 PlanFormatError, PlanYearError, PlanYearWarning)

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def plan():
    return tg.load_plan("plan_2020")


@pytest.fixture(scope="module")
def indicators():
    return tg.load_indicators()


@pytest.fixture(scope="module")
def table(plan, indicators):
    return tg.progress(plan, indicators, as_of=2020).set_index(["key", "scope"])


# ----------------------------------------------------------------------------------------------- shipped data

def test_plan_has_the_ten_targets_of_2018(plan):
    assert list(plan["key"]) == ["urbanization_rate", "central_city_population", "central_city_builtup_area",
                                 "mega_towns", "key_towns", "featured_towns", "four_good_villages", "gdp_bazhou",
                                 "gdp_pingchang", "national_edz"]
    p = plan.set_index("key")
    assert p.loc["urbanization_rate", "target"] == 45.0 and p.loc["central_city_population", "target"] == 800_000
    assert p.loc["gdp_bazhou", "comparison"] == ">" and p.loc["gdp_bazhou", "scope"] == "511902"
    assert p.loc["gdp_pingchang", "indicator"] == "gdp" and p.loc["national_edz", "comparison"] == "="
    assert p.loc["central_city_population", "definition"] == "urban_settlement"
    assert p.loc["key_towns", "definition"] == "key_town_band_25000_35000"
    assert tg.BANDS["key_town_band_25000_35000"] == (25_000, 35_000)
    assert set(plan["definition"]) <= set(tg.DEFINITIONS)
    assert (plan["target_year"] == 2020).all() and (plan["source"] != "").all()


# FACTS.md, "The 2018 plan": key -> (comparison, target, unit, scope); every target is due in 2020. Units are the
# canonical keys of bazhong_geo.units (the file writes "persons"; loading normalises it to "people")
FACTS_TARGETS = {
    "urbanization_rate": (">=", 45, "percent", "511900"),
    "central_city_population": (">=", 800_000, "people", "511900"),
    "central_city_builtup_area": (">=", 80, "km2", "511900"),
    "mega_towns": (">=", 3, "count", "511900"),
    "key_towns": (">=", 12, "count", "511900"),
    "featured_towns": (">=", 40, "count", "511900"),
    "four_good_villages": (">=", 1200, "count", "511900"),          # "at least"
    "gdp_bazhou": (">", 20, "bn_yuan", "511902"),                   # "exceed" 200 亿元
    "gdp_pingchang": (">", 20, "bn_yuan", "511923"),
    "national_edz": ("=", 1, "flag", "511971"),
}


def test_every_plan_target_is_the_fact(plan):
    got = {r.key: (r.comparison, r.target, r.unit, r.scope) for r in plan.itertuples(index=False)}
    assert got == FACTS_TARGETS
    assert set(plan["target_year"]) == {2020} and set(plan["baseline_year"]) == {2017}
    assert plan["source"].str.contains("全市城乡提升和县域经济发展大会, 2018-08-29").all()
    zh = plan.set_index("key")["description_zh"]
    for key, word in [("urbanization_rate", "45%"), ("central_city_population", "80万"),
                      ("central_city_builtup_area", "80平方公里"), ("mega_towns", "5万人以上"),
                      ("key_towns", "3万人左右"), ("featured_towns", "40个"), ("four_good_villages", "1200个以上"),
                      ("gdp_bazhou", "巴州区"), ("gdp_pingchang", "平昌县"), ("national_edz", "国家级")]:
        assert word in zh[key], key


def test_indicators_hold_the_facts_and_absent_stays_absent(indicators):
    ind = indicators.set_index(["key", "scope", "year", "definition", "kind"])["value"]
    assert ind[("urbanization_rate", "511900", 2010, "resident_urban_share", "reported")] == 33.34
    assert ind[("urbanization_rate", "511900", 2024, "resident_urban_share", "reported")] == 48.91
    assert ind[("gdp", "511923", 2019, "gdp_current_prices", "reported")] == pytest.approx(18.68)
    assert ind[("gdp", "511900", 2020, "gdp_current_prices", "reported")] == pytest.approx(76.699)
    assert ind[("central_city_population", "511900", 2020, "urban_districts_residents", "estimated")] == 1_064_766
    assert ind[("key_towns", "511900", 2014, "national_key_town_list", "reported")] == 9
    # county rows of the 2020 census sum to the prefecture total
    pop = indicators.query("key == 'resident_population' and year == 2020 and definition == 'census_resident'")
    assert pop.query("scope != '511900'")["value"].sum() == pop.query("scope == '511900'")["value"].item() == 2_712_894
    # not found -> no row (never zero)
    for key in ("central_city_builtup_area", "mega_towns", "four_good_villages"):
        assert (indicators["key"] == key).sum() == 0
    assert indicators.query("key == 'gdp' and scope == '511903'").empty               # 恩阳 GDP: not found
    assert indicators.query("key == 'urbanization_rate' and 2011 <= year <= 2019").empty
    assert set(indicators["unit"]) == {"percent", "people", "bn_yuan", "count", "flag"}
    bounds = indicators[indicators["bound"] != ""]
    assert set(zip(bounds["key"], bounds["bound"])) == {("gdp", ">"), ("featured_towns", ">=")}
    assert (indicators["source"] != "").all()


# Every row of indicators.csv, as FACTS.md states it (bazhong_geo/data/sources/bazhong/FACTS.md), converted to the target's unit:
# 亿元 / 10 -> bn_yuan, shares x 100 -> percent, millions x 1e6 -> persons. (key, scope, year, definition, kind) ->
# (value, bound, a word the source must name). Nothing else may be in the table: "not found" stays absent.
_BULLETIN, _CENSUS20, _CENSUS10, _GDP = "statistical bulletins", "2020 census", "2010 census", "GDP section"
FACTS_ROWS = {
    **{("urbanization_rate", "511900", y, "resident_urban_share", "reported"): (v, "", _BULLETIN)
       for y, v in [(2010, 33.34), (2020, 46.16), (2021, 46.92), (2022, 47.34), (2023, 48.52), (2024, 48.91)]},
    **{("urbanization_rate", c, 2020, "resident_urban_share", "reported"): (v, "", _CENSUS20)
       for c, v in [("511902", 64.44), ("511903", 37.39), ("511921", 38.96), ("511922", 37.95), ("511923", 39.99),
                    ("511971", 87.44)]},
    **{("resident_population", c, 2020, "census_resident", "reported"): (v, "", _CENSUS20)
       for c, v in [("511900", 2_712_894), ("511902", 651_534), ("511903", 345_728), ("511921", 521_875),
                    ("511922", 467_609), ("511923", 658_644), ("511971", 67_504)]},
    **{("resident_population", c, 2010, "census_resident", "reported"): (v, "", _CENSUS10)
       for c, v in [("511900", 3_283_148), ("511902", 1_126_167), ("511921", 687_369), ("511922", 606_992),
                    ("511923", 862_620)]},
    **{("resident_population", "511900", y, "year_end_resident", "reported"): (v, "", _BULLETIN)
       for y, v in [(2021, 2_676_000), (2022, 2_658_000), (2023, 2_629_000), (2024, 2_613_000)]},
    **{("household_registered_population", "511900", y, "household_registered", "reported"): (v, "", _BULLETIN)
       for y, v in [(2021, 3_615_800), (2024, 3_543_000)]},
    **{("urban_population", "511900", y, "year_end_urban_resident", "reported"): (v, "", _BULLETIN)
       for y, v in [(2021, 1_255_700), (2022, 1_258_300), (2023, 1_275_600), (2024, 1_278_000)]},
    ("central_city_population", "511900", 2010, "urban_settlement", "reported"): (477_235, "", "citypopulation.de"),
    ("central_city_population", "511900", 2020, "urban_settlement", "reported"): (608_152, "", "citypopulation.de"),
    ("central_city_population", "511900", 2020, "urban_districts_residents", "estimated"): (1_064_766, "", _CENSUS20),
    **{("gdp", c, y, "gdp_current_prices", "reported"): (v, "", _GDP)
       for c, y, v in [("511900", 2017, 60.144), ("511900", 2019, 75.429), ("511900", 2020, 76.699),
                       ("511900", 2021, 74.251), ("511900", 2023, 78.028), ("511923", 2015, 12.129),
                       ("511923", 2019, 18.68), ("511923", 2024, 20.12), ("511921", 2020, 13.404),
                       ("511921", 2021, 12.822), ("511922", 2024, 15.608)]},
    ("gdp", "511902", 2020, "gdp_current_prices", "reported"): (20, ">", "十四五"),
    **{("key_towns", c, 2014, "national_key_town_list", "reported"): (v, "", "全国重点镇")
       for c, v in [("511900", 9), ("511902", 2), ("511903", 1), ("511921", 2), ("511922", 2), ("511923", 2)]},
    **{("featured_towns", c, 2020, "featured_town_designations", "reported"): (v, ">=", "featured")
       for c, v in [("511900", 4), ("511903", 1), ("511921", 1), ("511923", 2)]},
    ("national_edz", "511971", 2020, "national_status", "estimated"): (0, "", "China Daily 2021-03-23"),
    ("national_edz", "511971", 2021, "national_status", "reported"): (0, "", "China Daily 2021-03-23"),
}


def test_every_indicator_row_is_a_fact_and_nothing_else(indicators):
    got = {(r.key, r.scope, r.year, r.definition, r.kind): r for r in indicators.itertuples(index=False)}
    assert sorted(set(got) - set(FACTS_ROWS)) == []           # nothing invented
    assert sorted(set(FACTS_ROWS) - set(got)) == []           # nothing stated left out
    for ident, (value, bound, source_word) in FACTS_ROWS.items():
        r = got[ident]
        assert (r.value, r.bound) == (pytest.approx(value, abs=1e-9), bound), ident
        assert source_word in r.source, (ident, r.source)
    units = {"urbanization_rate": "percent", "gdp": "bn_yuan", "key_towns": "count", "featured_towns": "count",
             "national_edz": "flag"}
    assert all(r.unit == units.get(r.key, "people") for r in got.values())
    # the notes keep the stated figure where a unit was converted
    for ident in [k for k in FACTS_ROWS if k[0] == "gdp"]:
        assert "亿元" in got[ident].note, ident
    assert "0.6444" in got[("urbanization_rate", "511902", 2020, "resident_urban_share", "reported")].note


EXPECTED_2020 = {
    # (key, scope): (status, latest_value, latest_year, baseline_value, baseline_year)
    ("urbanization_rate", "511900"): ("achieved", 46.16, 2020, 33.34, 2010),
    ("urbanization_rate", "511902"): ("achieved", 64.44, 2020, None, None),
    ("urbanization_rate", "511903"): ("behind", 37.39, 2020, None, None),
    ("urbanization_rate", "511921"): ("behind", 38.96, 2020, None, None),
    ("urbanization_rate", "511922"): ("behind", 37.95, 2020, None, None),
    ("urbanization_rate", "511923"): ("behind", 39.99, 2020, None, None),
    ("urbanization_rate", "511971"): ("achieved", 87.44, 2020, None, None),
    ("central_city_population", "511900"): ("behind", 608_152, 2020, 477_235, 2010),
    ("central_city_builtup_area", "511900"): ("no_data", None, None, None, None),
    ("mega_towns", "511900"): ("no_data", None, None, None, None),
    ("key_towns", "511900"): ("no_data", None, None, None, None),
    ("featured_towns", "511900"): ("no_data", 4, 2020, None, None),
    ("four_good_villages", "511900"): ("no_data", None, None, None, None),
    ("gdp_bazhou", "511902"): ("achieved", 20, 2020, None, None),
    ("gdp_pingchang", "511923"): ("no_data", 18.68, 2019, 12.129, 2015),
    ("national_edz", "511971"): ("behind", 0, 2020, None, None),
}


def test_progress_has_the_columns_the_map_panel_needs(table):
    need = ["key", "scope", "scope_name", "description_zh", "description_en", "unit", "comparison", "target",
            "target_year", "baseline_value", "baseline_year", "latest_value", "latest_year", "gap", "percent_of_way",
            "status", "required_annual_change", "observed_annual_change", "definition", "source", "alternatives"]
    t = table.reset_index()
    assert set(need) <= set(t.columns)
    assert set(t["status"]) <= set(tg.STATUSES)
    assert sorted(table.index) == sorted(EXPECTED_2020)


@pytest.mark.parametrize("idx", sorted(EXPECTED_2020))
def test_status_of_every_2020_target_from_shipped_data(table, idx):
    status, latest, ly, base, by = EXPECTED_2020[idx]
    r = table.loc[idx]
    assert r["status"] == status
    if latest is None:
        assert math.isnan(r["latest_value"]) and pd.isna(r["latest_year"])
    else:
        assert r["latest_value"] == pytest.approx(latest) and r["latest_year"] == ly
    if base is None:
        assert math.isnan(r["baseline_value"])
    else:
        assert r["baseline_value"] == pytest.approx(base) and r["baseline_year"] == by


def test_details_of_the_2020_assessment(table):
    u = table.loc[("urbanization_rate", "511900")]
    assert u["percent_of_way"] == pytest.approx((46.16 - 33.34) / (45 - 33.34) * 100)
    assert u["observed_annual_change"] == pytest.approx((46.16 - 33.34) / 10)
    assert "巴州区 2020: 64.44" in u["county_values"]
    assert "baseline from 2010" in u["status_note"]                  # 2017 not found: said so
    c = table.loc[("central_city_population", "511900")]
    assert c["gap"] == 191_848 and c["percent_of_way"] == pytest.approx(130_917 / 322_765 * 100)
    assert c["alternatives"].startswith("used: urban_settlement [reported] 2020")
    assert "urban_districts_residents [estimated] 2020: 1,064,766" in c["alternatives"]
    k = table.loc[("key_towns", "511900")]
    assert "national_key_town_list [reported] 2014: 9" in k["alternatives"] and k["alternatives"].startswith("used: none")
    f = table.loc[("featured_towns", "511900")]
    assert f["latest_bound"] == ">=" and "cannot decide" in f["status_note"]
    assert "平昌县 2020: >=2" in f["county_values"]
    b = table.loc[("gdp_bazhou", "511902")]
    assert b["latest_bound"] == ">" and b["status"] == "achieved"
    p = table.loc[("gdp_pingchang", "511923")]
    assert "no figure for the target year 2020" in p["status_note"] and "projection" in p["status_note"]
    assert p["required_annual_change"] == pytest.approx(20 - 18.68)
    assert p["observed_annual_change"] == pytest.approx((18.68 - 12.129) / 4)
    e = table.loc[("national_edz", "511971")]
    assert e["latest_kind"] == "estimated" and "reported" not in e["alternatives"]   # 2021 figure is after as_of


def test_pingchang_gdp_in_other_years(plan, indicators):
    one = plan[plan["key"] == "gdp_pingchang"]
    r = tg.progress(one, indicators, as_of=2019).iloc[0]
    assert r["status"] == "on_track"                                  # +1.64/yr observed vs +1.32/yr required
    with pytest.warns(PlanYearWarning, match="after the target year"):
        r = tg.progress(one, indicators, as_of=2024).iloc[0]
    assert r["status"] == "achieved" and r["latest_value"] == pytest.approx(20.12)
    assert "met in 2024, after the target year 2020" in r["status_note"]
    with pytest.warns(PlanYearWarning):
        r = tg.progress(one, indicators, as_of=2022).iloc[0]
    assert r["status"] == "no_data" and r["latest_year"] == 2019


def test_definition_is_a_named_choice(plan, indicators):
    alt = plan[plan["key"] == "central_city_population"].copy()
    alt["definition"] = "urban_districts_residents"
    r = tg.progress(alt, indicators, as_of=2020).iloc[0]
    assert (r["status"], r["latest_value"], r["latest_kind"]) == ("achieved", 1_064_766, "estimated")
    assert "urban_settlement [reported] 2020: 608,152" in r["alternatives"]
    alt["definition"] = "household_registered"
    assert tg.progress(alt, indicators, as_of=2020).iloc[0]["status"] == "no_data"


# ----------------------------------------------------------------------------------------------- measure

def _census():
    """The 2020 census county table (FACTS.md: resident population and urban share by unit)."""
    return pd.DataFrame({
        "code": ["511902", "511903", "511921", "511922", "511923", "511971"],
        "name": ["巴州区", "恩阳区", "通江县", "南江县", "平昌县", "巴中经济开发区"],
        "resident_population": [651_534, 345_728, 521_875, 467_609, 658_644, 67_504],
        "urban_share": [0.6444, 0.3739, 0.3896, 0.3795, 0.3999, 0.8744], "year": 2020})


def test_measure_from_census_agrees_with_reported_figures(plan, indicators):
    m = tg.measure(SimpleNamespace(census=_census(), settlements=None))
    assert (m["kind"] == "measured").all() and (m["method"] != "").all()
    v = m.set_index(["key", "scope", "definition"])["value"]
    assert v[("urbanization_rate", "511900", "resident_urban_share")] == pytest.approx(46.16, abs=0.005)
    assert v[("urbanization_rate", "511923", "resident_urban_share")] == pytest.approx(39.99)
    assert v[("central_city_population", "511900", "urban_settlement")] == pytest.approx(608_152, abs=60)
    assert v[("central_city_population", "511900", "urban_districts_residents")] == 1_064_766
    assert v[("resident_population", "511900", "census_resident")] == 2_712_894
    both = pd.concat([indicators, m[tg.INDICATOR_COLUMNS]], ignore_index=True)
    r = tg.progress(plan, both, as_of=2020).set_index(["key", "scope"]).loc[("central_city_population", "511900")]
    assert r["latest_kind"] == "reported" and r["latest_value"] == 608_152      # reported used, measured shown
    assert "urban_settlement [measured] 2020: 608,142" in r["alternatives"]


def test_measure_counts_register_by_designation_and_band():
    reg = pd.DataFrame({
        "code": ["a", "b", "c", "d", "e", "f"], "tier": ["town"] * 5 + ["village"],
        "kind": ["town", "town", "town", "subdistrict", "town", "village"],
        "county_code": ["511902", "511902", "511923", "511902", "511923", "511923"],
        "population": [60_000, 30_000, np.nan, 90_000, 25_000, 70_000],
        "designations": ["national_key_town;national_featured_town", "national_key_town;provincial_featured_town",
                         "provincial_featured_town", "", "provincial_culture_tourism_town", ""],
        "population_kind": ["常住", "户籍", "", "", "unknown", ""], "population_year": [2020, 2019, None, None, None, None],
    })
    m = tg.measure(SimpleNamespace(census=None, settlements=reg), census_year=2020)
    v = m.set_index(["key", "scope", "definition"])
    assert v.loc[("key_towns", "511900", "national_key_town_list"), "value"] == 2
    assert v.loc[("key_towns", "511902", "national_key_town_list"), "value"] == 2
    ft = v.loc[("featured_towns", "511900", "featured_town_designations")]
    assert ft["value"] == 4 and ft["bound"] == ">="              # distinct towns; register lists are partial
    assert v.loc[("featured_towns", "511923", "featured_town_designations"), "value"] == 2
    assert v.loc[("designated_towns", "511900", "designation:provincial_featured_town"), "value"] == 2
    tg.check_indicators(m, "measured")                           # one row per key/scope/year/definition/kind
    mega = v.loc[("mega_towns", "511900", "township_population_ge_50000")]
    assert mega["value"] == 1 and mega["n_missing"] == 1 and mega["bound"] == ">="     # subdistrict, village excluded
    band = v.loc[("key_towns", "511900", "township_population_25000_35000")]
    assert band["value"] == 2 and "1 of 4 towns have no population" in band["note"]
    assert "(unknown 1, 常住 1, 户籍 1; years 2019-2020, 1 without year)" in band["note"]
    assert band["year"] == 2020


def test_measure_counts_mega_towns_by_town_area_population(plan):
    reg = pd.DataFrame({"code": list("abcd"), "tier": ["town"] * 4, "kind": ["town"] * 4, "county_code": ["511902"] * 4,
                        "population": [60_000, 52_000, 48_000, np.nan],
                        "population_kind": ["town_area", "常住", "镇区", "town_area"], "population_year": [2020] * 4})
    m = tg.measure(SimpleNamespace(census=None, settlements=reg))
    v = m.set_index(["key", "scope", "definition"])
    ta = v.loc[("mega_towns", "511900", "town_area_population_ge_50000")]
    # only a's town-area figure counts; b's 52,000 is a whole-township figure, d has none: "at least 1"
    assert (ta["value"], ta["bound"], ta["n_missing"]) == (1, ">=", 2)
    assert "2 towns have no town-area population" in ta["note"]
    r = tg.progress(plan[plan["key"] == "mega_towns"], m[tg.INDICATOR_COLUMNS], as_of=2020).iloc[0]
    assert (r["status"], r["latest_bound"], r["latest_kind"]) == ("no_data", ">=", "measured")   # >= 1 vs >= 3
    complete = reg.assign(population=[60_000, 52_000, 48_000, 51_000], population_kind="town_area")
    m2 = tg.measure(SimpleNamespace(census=None, settlements=complete))
    r = tg.progress(plan[plan["key"] == "mega_towns"], m2[tg.INDICATOR_COLUMNS], as_of=2020).iloc[0]
    assert (r["status"], r["latest_value"], r["latest_bound"]) == ("achieved", 3, "")     # every town known


def test_measure_with_raster_needs_a_year():
    with pytest.raises(IndicatorFormatError, match="raster_year"):
        tg.measure(SimpleNamespace(census=None, settlements=None), raster="x.tif")


# ----------------------------------------------------------------------------------------------- status rules

def _plan(comparison=">=", target=100.0, target_year=2020, baseline_year=2015, unit="count", definition="d"):
    return pd.DataFrame([{"key": "k", "indicator": "k", "description_zh": "测试", "description_en": "test", "unit": unit,
                          "comparison": comparison, "target": target, "target_year": target_year,
                          "baseline_year": baseline_year, "scope": "511900", "definition": definition,
                          "source": "test"}])


def _ind(*rows, unit="count", definition="d"):
    return pd.DataFrame([{"key": "k", "scope": "511900", "year": y, "value": v, "unit": unit,
                          "kind": (r[2] if len(r) > 2 else "reported"), "bound": (r[3] if len(r) > 3 else ""),
                          "definition": definition, "note": "", "source": "test"}
                         for r in rows for y, v in [r[:2]]], columns=tg.INDICATOR_COLUMNS)


def _status(plan, ind, as_of):
    return tg.progress(plan, ind, as_of=as_of).iloc[0]


@pytest.mark.parametrize("comparison,value,status", [
    (">=", 100, "achieved"), (">=", 99.999, "behind"), (">", 100, "behind"), (">", 100.001, "achieved"),
    ("<=", 100, "achieved"), ("<=", 100.001, "behind"), ("<", 100, "behind"), ("=", 100, "achieved"),
    ("=", 99, "behind"), ("=", 101, "behind"),
])
def test_achieved_edge_at_the_target_year(comparison, value, status):
    r = _status(_plan(comparison), _ind((2015, 50), (2020, value)), 2020)
    assert r["status"] == status


def test_on_track_edge_equal_rates():
    # baseline 2015: 50, 2018: 80 -> observed +10/yr; required (100-80)/(2020-2018) = +10/yr -> on track
    r = _status(_plan(), _ind((2015, 50), (2018, 80)), 2018)
    assert r["status"] == "on_track"
    assert r["observed_annual_change"] == pytest.approx(10) and r["required_annual_change"] == pytest.approx(10)
    assert r["percent_of_way"] == pytest.approx(60) and r["gap"] == pytest.approx(20)
    r = _status(_plan(), _ind((2015, 50), (2018, 79.99)), 2018)                   # just too slow
    assert r["status"] == "behind"


def test_trend_when_the_latest_figure_is_the_baseline():
    # baseline year 2015; figures 2012: 50 and 2014: 70, nothing later. The baseline is 2014 (= the latest): the
    # trend runs 2012 -> 2014 (+10/yr) against the required (100 - 70) / (2020 - 2014) = +5/yr. Two figures are
    # not "a single figure".
    r = _status(_plan(baseline_year=2015), _ind((2012, 50), (2014, 70)), 2016)
    assert r["status"] == "on_track" and "single figure" not in r["status_note"]
    assert r["observed_annual_change"] == pytest.approx(10) and r["required_annual_change"] == pytest.approx(5)
    assert "observed trend from 2012 to 2014" in r["status_note"]
    assert (r["baseline_year"], r["baseline_value"], r["percent_of_way"]) == (2014, 70, 0)
    assert _status(_plan(baseline_year=2015), _ind((2012, 68), (2014, 70)), 2016)["status"] == "behind"
    # a bound before the latest gives no trend
    r = _status(_plan(baseline_year=2015), _ind((2012, 50, "reported", ">="), (2014, 70)), 2016)
    assert r["status"] == "no_data" and "single figure" in r["status_note"]


def test_achieved_by_a_figure_before_the_target_year():
    r = _status(_plan(), _ind((2015, 50), (2019, 100)), 2020)          # met in 2019, no 2020 figure: achieved
    assert r["status"] == "achieved" and r["latest_year"] == 2019 and math.isnan(r["required_annual_change"])
    r = _status(_plan(), _ind((2015, 50), (2019, 100)), 2019)          # before the target year, too
    assert r["status"] == "achieved"


def test_on_track_for_a_falling_target():
    plan = _plan("<=", target=10)
    assert _status(plan, _ind((2015, 40), (2018, 22)), 2018)["status"] == "on_track"   # -6/yr vs -6/yr
    assert _status(plan, _ind((2015, 40), (2018, 23)), 2018)["status"] == "behind"     # -5.67/yr vs -6.5/yr


def test_no_data_cases():
    plan = _plan()
    assert _status(plan, _ind(), 2020)["status"] == "no_data"                           # nothing at all
    assert _status(plan, _ind((2021, 500)), 2020)["status"] == "no_data"                # only after as_of
    r = _status(plan, _ind((2018, 80)), 2018)                                            # one figure, no trend
    assert r["status"] == "no_data" and "single figure" in r["status_note"]
    r = _status(plan, _ind((2015, 50), (2019, 95)), 2020)                                # target-year figure missing
    assert r["status"] == "no_data" and "no figure for the target year 2020" in r["status_note"]
    r = _status(plan, _ind((2020, 10, "reported", ">=")), 2020)                         # bound cannot decide
    assert r["status"] == "no_data" and "cannot decide" in r["status_note"]
    r = _status(_plan(definition="other"), _ind((2020, 100)), 2020)                     # other definition only
    assert r["status"] == "no_data" and r["alternatives"].startswith("used: none")


def test_bounds_that_decide():
    assert _status(_plan(">"), _ind((2020, 100, "reported", ">")), 2020)["status"] == "achieved"
    assert _status(_plan(">="), _ind((2020, 100, "reported", ">=")), 2020)["status"] == "achieved"
    assert _status(_plan(">"), _ind((2020, 100, "reported", ">=")), 2020)["status"] == "no_data"
    assert _status(_plan(">="), _ind((2020, 90, "reported", "<=")), 2020)["status"] == "behind"
    assert _status(_plan(">="), _ind((2020, 100, "reported", "<")), 2020)["status"] == "behind"


def test_kind_priority_within_a_year():
    ind = _ind((2020, 90, "estimated"), (2020, 100, "measured"), (2020, 95, "reported"))
    r = _status(_plan(), ind, 2020)
    assert (r["latest_kind"], r["latest_value"], r["status"]) == ("reported", 95, "behind")
    assert "d [measured] 2020: 100" in r["alternatives"] and "d [estimated] 2020: 90" in r["alternatives"]


@settings(max_examples=200, deadline=None)
@given(st.floats(-1e6, 1e6, allow_nan=False), st.floats(-1e6, 1e6, allow_nan=False),
       st.sampled_from([">=", ">", "<=", "<", "="]))
def test_satisfies_matches_plain_comparison_and_bounds_are_sound(v, t, comp):
    plain = {">=": v >= t, ">": v > t, "<=": v <= t, "<": v < t, "=": v == t}[comp]
    assert tg.satisfies(v, comp, t) is plain
    # a lower bound that decides must agree with every value it allows
    for bound, allowed in ((">=", [v, v + 1, v + 1e6]), ("<=", [v, v - 1, v - 1e6])):
        verdict = tg.satisfies(v, comp, t, bound)
        if verdict is not None:
            assert all(tg.satisfies(x, comp, t) is verdict for x in allowed)


# ----------------------------------------------------------------------------------------------- bad input

def test_unit_mismatch_is_an_error():
    ind = _ind((2020, 100), unit="percent")
    with pytest.raises(IndicatorUnitError, match=r"k/511900/2020 \(d\) in 'percent'"):
        tg.progress(_plan(unit="count"), ind, as_of=2020)


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


PLAN_HEAD = "key,description_zh,description_en,unit,comparison,target,target_year,baseline_year,scope,definition,source\n"
IND_HEAD = "key,scope,year,value,unit,kind,bound,definition,note,source\n"


def test_plan_errors_name_the_line(tmp_path):
    ok = "a,甲,A,count,>=,3,2020,2017,511900,d,s\n"
    with pytest.raises(PlanFormatError, match=r"line 3 \(key 'b'\): unknown comparison '~'"):
        tg.load_plan(_write(tmp_path / "p.csv", PLAN_HEAD + ok + "b,乙,B,count,~,3,2020,2017,511900,d,s\n"))
    with pytest.raises(PlanFormatError, match=r"line 2 \(key 'a'\): missing field\(s\) \['target'\]"):
        tg.load_plan(_write(tmp_path / "p.csv", PLAN_HEAD + "a,甲,A,count,>=,,2020,2017,511900,d,s\n"))
    with pytest.raises(PlanFormatError, match="missing column"):
        tg.load_plan(_write(tmp_path / "p.csv", "key,unit\na,count\n"))
    with pytest.raises(PlanFormatError, match="target_year 2017 is not after baseline_year 2017"):
        tg.load_plan(_write(tmp_path / "p.csv", PLAN_HEAD + "a,甲,A,count,>=,3,2017,2017,511900,d,s\n"))
    with pytest.raises(PlanFormatError, match="not a number"):
        tg.load_plan(_write(tmp_path / "p.csv", PLAN_HEAD + "a,甲,A,count,>=,three,2020,2017,511900,d,s\n"))
    with pytest.raises(PlanFormatError, match=r"line 2 \(key 'a'\): scope '51190' is not an NBS code"):
        tg.load_plan(_write(tmp_path / "p.csv", PLAN_HEAD + "a,甲,A,count,>=,3,2020,2017,51190,d,s\n"))   # a typo
    with pytest.raises(PlanFormatError, match="scope 'prefecture' is not an NBS code"):
        tg.load_plan(_write(tmp_path / "p.csv", PLAN_HEAD + "a,甲,A,count,>=,3,2020,2017,prefecture,d,s\n"))
    with pytest.raises(PlanFormatError, match=r"repeated on lines \[2, 3\]"):
        tg.load_plan(_write(tmp_path / "p.csv", PLAN_HEAD + ok + ok))
    p = tg.load_plan(_write(tmp_path / "p.csv", PLAN_HEAD + "a,甲,A,count,≥,3,2020,2017,511900,d,s\n"))
    assert p.iloc[0]["comparison"] == ">=" and p.iloc[0]["indicator"] == "a"          # indicator defaults to key
    assert issubclass(PlanFormatError, BazhongGeoError) and issubclass(PlanFormatError, ValueError)


def test_indicator_errors_name_the_lines(tmp_path):
    row = "k,511900,2020,5,count,reported,,d,,s\n"
    with pytest.raises(DuplicateIndicatorError, match=r"k/511900/2020/d/reported on lines \[2, 4\]"):
        tg.load_indicators(_write(tmp_path / "i.csv", IND_HEAD + row + "k,511900,2019,5,count,reported,,d,,s\n" + row))
    with pytest.raises(IndicatorFormatError, match=r"line\(s\) \[2\].*absent"):
        tg.load_indicators(_write(tmp_path / "i.csv", IND_HEAD + "k,511900,2020,,count,reported,,d,,s\n"))
    with pytest.raises(IndicatorFormatError, match="year missing or outside"):
        tg.load_indicators(_write(tmp_path / "i.csv", IND_HEAD + "k,511900,1800,5,count,reported,,d,,s\n"))
    with pytest.raises(IndicatorFormatError, match="kind must be one of"):
        tg.load_indicators(_write(tmp_path / "i.csv", IND_HEAD + "k,511900,2020,5,count,guessed,,d,,s\n"))
    with pytest.raises(IndicatorFormatError, match="bound must be"):
        tg.load_indicators(_write(tmp_path / "i.csv", IND_HEAD + "k,511900,2020,5,count,reported,~,d,,s\n"))
    with pytest.raises(IndicatorFormatError, match="blank source"):
        tg.load_indicators(_write(tmp_path / "i.csv", IND_HEAD + "k,511900,2020,5,count,reported,,d,,\n"))
    # same year, other kind or definition: allowed (shown as alternatives)
    ind = tg.load_indicators(_write(tmp_path / "i.csv", IND_HEAD + row + "k,511900,2020,6,count,measured,,d,,s\n"
                                    + "k,511900,2020,7,count,reported,,d2,,s\n"))
    assert len(ind) == 3 and ind["scope"].iloc[0] == "511900"


def test_assessment_years_outside_the_plan():
    with pytest.raises(PlanYearError, match="before the plan's baseline year 2015"):
        tg.progress(_plan(), _ind((2015, 1)), as_of=2014)
    with pytest.warns(PlanYearWarning, match="after the target year"):
        tg.progress(_plan(), _ind((2015, 1)), as_of=2021)


# ----------------------------------------------------------------------------------------------- figures

def _render_text(text, family, size=40):
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with rc_context({"font.family": [family]}), warnings.catch_warnings():
        warnings.simplefilter("ignore")                       # "Glyph ... missing" is expected for the tofu render
        fig = Figure(figsize=(1, 1), dpi=100)
        canvas = FigureCanvasAgg(fig)
        fig.text(0.5, 0.5, text, fontsize=size, ha="center", va="center")
        canvas.draw()
        return np.asarray(canvas.buffer_rgba())[..., 0].copy()


def test_cjk_font_covers_the_labels_and_renders_real_glyphs(plan):
    from fontTools.ttLib import TTCollection, TTFont
    from matplotlib import font_manager

    from bazhong_geo.trajectory import find_cjk_font

    family, path = find_cjk_font()
    assert family is not None, "fonts-noto-cjk is installed here and in CI"
    if path.lower().endswith(".ttc"):
        with TTCollection(path, lazy=True) as coll:
            cmap = next(f for f in coll.fonts if f["name"].getDebugName(1) == family).getBestCmap()
    else:
        with TTFont(path, lazy=True) as face:
            cmap = face.getBestCmap()
    text = "巴中市城镇化率目标进展已完成滞后无数据" + "".join(plan["description_zh"])
    missing = sorted({ch for ch in text if ord(ch) not in cmap and not ch.isascii()})
    assert missing == []
    assert Path(font_manager.findfont(font_manager.FontProperties(family=family))).name == Path(path).name
    # Missing glyphs are drawn as placeholder boxes (matplotlib's last-resort font draws one box per Unicode
    # block): in DejaVu Sans, which has no CJK, 巴 and 中 come out as the same box. With the chosen font each
    # character must differ from that box and from the others.
    box = _render_text("巴", "DejaVu Sans")
    assert (box < 255).sum() > 50 and np.array_equal(box, _render_text("中", "DejaVu Sans"))
    glyphs = {ch: _render_text(ch, family) for ch in "巴中城镇"}
    for ch, glyph in glyphs.items():
        assert (glyph < 255).sum() > 50
        assert not np.array_equal(glyph, _render_text(ch, "DejaVu Sans")), f"{ch} drawn as a box"
    renders = list(glyphs.values())
    assert all(not np.array_equal(a, b) for i, a in enumerate(renders) for b in renders[i + 1:])


def test_trajectory_figure_png_and_svg(tmp_path, plan, indicators):
    from PIL import Image

    from bazhong_geo.trajectory import save_figure, trajectory_figure

    with warnings.catch_warnings():
        warnings.simplefilter("error")                    # no "Glyph missing" warnings: every label has a glyph
        fig = trajectory_figure(plan, indicators, "urbanization_rate", lang="zh", as_of=2020)
        png = save_figure(fig, tmp_path / "u.png")
        svg = save_figure(fig, tmp_path / "u.svg")
    assert fig.axes[0].get_title() == "巴中市 · 常住人口城镇化率达到45%"
    img = np.asarray(Image.open(png).convert("L"))
    assert img.shape == (420, 720) and img.std() > 10 and (img < 128).sum() > 2000
    assert svg.read_text(encoding="utf-8").startswith("<?xml")
    again = save_figure(fig, tmp_path / "u2.png")
    assert again.read_bytes() == png.read_bytes()        # deterministic bytes
    line = [ln for ln in fig.axes[0].get_lines() if ln.get_label() == "公布值"][0]
    assert list(line.get_xdata()) == [2010, 2020, 2021, 2022, 2023, 2024]


def test_no_cjk_font_installed_warns_and_falls_back(monkeypatch, plan, indicators):
    from bazhong_geo import trajectory
    from bazhong_geo._errors import CJKFontWarning

    monkeypatch.setattr(trajectory, "CJK_FAMILIES", ("No Such CJK Font",))
    with pytest.warns(CJKFontWarning, match="fonts-noto-cjk"):
        assert trajectory.find_cjk_font() == (None, None)
    with pytest.warns(CJKFontWarning):
        fig = trajectory.trajectory_figure(plan, indicators, "urbanization_rate", lang="zh")
    assert fig.axes[0].get_title() == "Bazhong · Urbanization rate of the resident population reaches 45%"
    assert fig.axes[0].get_xlabel() == "year"
    with warnings.catch_warnings():
        warnings.simplefilter("error")                    # English labels: asked for, so no warning
        trajectory.trajectory_figure(plan, indicators, "urbanization_rate", lang="en")


def test_trajectory_without_cjk_font_falls_back_to_latin(plan, indicators):
    from bazhong_geo.trajectory import trajectory_figure

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = trajectory_figure(plan, indicators, "gdp_bazhou", lang="zh", cjk=False)
        fig.canvas.draw()
    title = fig.axes[0].get_title()
    assert title == "Bazhou · GDP of Bazhou District exceeds 20 bn yuan"
    assert not any("\u2e80" <= ch <= "\u9fff" for ch in title)
    with pytest.raises(PlanFormatError, match="no target with key"):
        trajectory_figure(plan, indicators, "nope")


# ----------------------------------------------------------------------------------------------- report

def test_write_report_escapes_and_writes_everything(tmp_path, plan, indicators):
    from bazhong_geo.report import write_report

    evil = plan.head(2).copy()
    evil.attrs = dict(plan.attrs)
    evil.loc[0, "description_en"] = "<script>alert(1)</script>"
    out = write_report(tmp_path, as_of=2020, plan=evil, indicators=indicators, figure_formats=("png",))
    html = out["html"].read_text(encoding="utf-8")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'src="trajectories/trajectory_urbanization_rate_511900.png"' in html
    assert 'src="http' not in html and "<link" not in html and "<script" not in html
    csv = pd.read_csv(out["csv"], dtype={"scope": str})
    assert list(csv["status"][:2]) == ["achieved", "achieved"] and len(csv) == 8
    md = out["md"].read_text(encoding="utf-8")
    assert "| urbanization_rate | 巴中市 | >= 45 percent (2020) | 46.16 (2020) |" in md
    assert len(out["figures"]) == 2 and all(p.stat().st_size > 5000 for p in out["figures"])
    # two figures for one target: the Markdown shows both and says which is used (not only the CSV/HTML)
    cc = next(line for line in md.splitlines() if line.startswith("| central_city_population |"))
    assert "used: urban_settlement [reported] 2020 \\| others: urban_districts_residents [estimated] 2020: " \
           "1,064,766" in cc
    assert "| urban_settlement |" in cc and "| 13,092 |" in cc           # observed/yr (608,152 - 477,235) / 10
    head = next(line for line in md.splitlines() if line.startswith("| key |"))
    cells = re.split(r"(?<!\\)\|", cc)
    assert len(cells) == len(head.split("|")) == 15                       # the escaped '|' does not split cells
    assert "巴州区 2020: 64.44" in next(line for line in md.splitlines() if line.startswith("| urbanization_rate |"))


def test_report_cli_writes_its_files(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    res = subprocess.run([sys.executable, "-m", "bazhong_geo.cli", "report", "--out", "rep", "--as-of", "2020"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "achieved 4, behind 6, no_data 6" in res.stdout
    line = next(ln for ln in res.stdout.splitlines() if ln.lstrip().startswith("central_city_population"))
    assert line.rstrip().endswith("behind    [urban_settlement]")          # the definition is in every output
    assert "used: urban_settlement [reported] 2020 | others: urban_districts_residents [estimated] 2020: 1,064,766" \
        in res.stdout
    for name in ("progress.csv", "progress.md", "progress.html"):
        assert (tmp_path / "rep" / name).stat().st_size > 1000
    assert len(list((tmp_path / "rep" / "trajectories").glob("*.png"))) == 10
    bad = _write(tmp_path / "bad.csv", PLAN_HEAD + "a,甲,A,count,~,3,2020,2017,511900,d,s\n")
    res = subprocess.run([sys.executable, "-m", "bazhong_geo.cli", "report", "--out", "rep2", "--plan", str(bad)],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 1 and "PlanFormatError" in res.stderr and "line 2" in res.stderr   # a data error
    res = subprocess.run([sys.executable, "-m", "bazhong_geo.cli", "report", "--out", "rep3", "--as-of", "2016"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "PlanYearError" in res.stderr and "baseline year 2017" in res.stderr
    res = subprocess.run([sys.executable, "-m", "bazhong_geo.cli", "report", "--out", "rep4", "--as-of", "2024"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and "note: as_of 2024 is after the target year" in res.stdout
    assert "PlanYearWarning" not in res.stderr                            # a note, not a traceback-like warning
    assert "achieved 5, behind 6, no_data 5" in res.stdout                # 平昌 GDP met late, in 2024


def test_report_cli_with_measured_figures(tmp_path, capsys, monkeypatch):
    """--measure adds figures computed from the embedded census and register, shown beside the reported ones."""
    from bazhong_geo.cli import main

    monkeypatch.setenv("BAZHONG_GEO_CACHE", str(tmp_path / "cache"))
    assert main(["report", "--measure", "--out", str(tmp_path / "rep"), "--lang", "en", "--formats", "png,svg"]) == 0
    out = capsys.readouterr().out
    assert "achieved 4, behind 6, no_data 6" in out                  # reported figures still decide
    assert "urban_settlement [measured] 2020: 608,142 people" in out
    table = pd.read_csv(tmp_path / "rep" / "progress.csv", dtype={"scope": str}).set_index(["key", "scope"])
    assert table.loc[("central_city_population", "511900"), "latest_kind"] == "reported"
    assert "[measured]" in table.loc[("urbanization_rate", "511900"), "alternatives"]
    assert len(list((tmp_path / "rep" / "trajectories").glob("*.svg"))) == 10
