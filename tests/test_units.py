"""One unit table and one formatter: spellings, conversions and the text shown to readers (known answers)."""

import math

import pandas as pd
import pytest
from hypothesis import given, strategies as st

from bazhong_geo import resources, targets, units
from bazhong_geo._errors import IndicatorFormatError, PlanFormatError, UnknownUnitNameError


@pytest.mark.parametrize("spelling,key", [
    ("persons", "people"), ("people", "people"), ("人", "people"), ("PERSONS", "people"), ("万人", "10k_people"),
    ("%", "percent"), ("percent", "percent"), ("km²", "km2"), ("平方公里", "km2"), ("亿元", "100m_yuan"),
    ("bn_yuan", "bn_yuan"), ("billion_yuan", "bn_yuan"), ("minutes", "min"), ("分钟", "min"), ("米", "m"),
    ("persons_per_km2", "people_per_km2"), ("个", "count"), ("flag", "flag"),
])
def test_every_spelling_has_one_key(spelling, key):
    assert units.unit_key(spelling) == key


def test_unknown_unit_names_the_choices():
    with pytest.raises(UnknownUnitNameError, match=r"unknown unit 'furlongs'.*people"):
        units.unit_key("furlongs")
    with pytest.raises(UnknownUnitNameError, match="cannot convert"):
        units.convert(1, "people", "km2")


def test_conversions_known_answers():
    assert units.convert(200, "亿元", "bn_yuan") == 20.0
    assert units.convert(20, "bn_yuan", "100m_yuan") == 200.0
    assert units.convert(1, "km2", "ha") == 100.0
    assert units.convert(1500, "m", "km") == 1.5
    assert units.convert(1.5, "hours", "min") == 90.0
    assert units.convert(3.3, "万人", "people") == pytest.approx(33_000)


@given(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False),
       st.sampled_from(sorted({(a, b) for a in units.UNITS for b in units.UNITS
                               if units.UNITS[a].dimension == units.UNITS[b].dimension})))
def test_conversion_round_trip(value, pair):
    a, b = pair
    assert units.convert(units.convert(value, a, b), b, a) == pytest.approx(value, rel=1e-12, abs=1e-9)


@pytest.mark.parametrize("args,kwargs,text", [
    ((1_064_766, "people"), {}, "106.48万人"),
    ((1_064_766, "people", "en"), {}, "1,064,766 people"),
    ((800_000, "persons"), {}, "80万人"),
    ((9_500, "people"), {}, "9,500人"),
    ((46.16, "percent"), {}, "46.16%"),
    ((46.16, "percent", "en"), {}, "46.16%"),
    ((80, "km2"), {}, "80平方公里"),
    ((80, "km2", "en"), {}, "80 km²"),
    ((20, "bn_yuan"), {"bound": ">"}, "> 200亿元"),
    ((20, "bn_yuan", "en"), {"bound": ">"}, "> 20 bn yuan"),
    ((4, "count", "en"), {"bound": ">="}, "≥ 4"),
    ((12.345, "min", "en"), {"digits": 1}, "12.3 min"),
    ((1234567.0,), {}, "1,234,567"),
    ((0.123456,), {}, "0.1235"),
    ((None, "people"), {}, ""),
    ((float("nan"),), {"bound": ">="}, ""),
])
def test_fmt_known_answers(args, kwargs, text):
    assert units.fmt(*args, **kwargs) == text


def test_plan_and_indicators_normalise_units():
    plan = targets.load_plan()
    assert set(plan["unit"]) <= set(units.UNITS)
    raw = pd.read_csv(resources.data_file("settlements/plan_2020.csv"), dtype=str)
    assert "persons" in set(raw["unit"])                    # the file keeps its spelling ...
    assert plan.set_index("key").loc["central_city_population", "unit"] == "people"   # ... loading gives the key
    ind = targets.load_indicators()
    assert set(ind["unit"]) <= set(units.UNITS)
    assert targets.INTENSIVE_UNITS == {"percent", "share", "people_per_km2"}


def test_people_and_persons_are_one_unit_in_progress():
    plan = targets.load_plan().query("key == 'central_city_population'").copy()
    ind = targets.load_indicators()
    expected = targets.progress(plan, ind, as_of=2020)
    plan["unit"] = "persons"                                # a plan table written with the other spelling
    table = targets.progress(plan, ind, as_of=2020)         # accepted: no IndicatorUnitError
    assert table.loc[0, "latest_value"] == expected.loc[0, "latest_value"] == 608_152
    assert table.loc[0, "status"] == expected.loc[0, "status"]


def test_unknown_units_in_files_are_errors(tmp_path):
    p = tmp_path / "p.csv"
    p.write_text("key,indicator,description_zh,description_en,unit,comparison,target,target_year,baseline_year,scope,"
                 "definition,source\nk,k,甲,A,furlongs,>=,3,2020,2017,511900,d,s\n", encoding="utf-8")
    with pytest.raises(PlanFormatError, match=r"line 2 .*unknown unit 'furlongs'"):
        targets.load_plan(p)
    q = tmp_path / "i.csv"
    q.write_text("key,scope,year,value,unit,kind,bound,definition,note,source\n"
                 "k,511900,2020,1,people,reported,,d,,s\nk,511900,2021,1,leagues,reported,,d,,s\n", encoding="utf-8")
    with pytest.raises(IndicatorFormatError, match=r"unknown unit\(s\) \['leagues'\] on line\(s\) \[3\]"):
        targets.load_indicators(q)


def test_number_rule_matches_the_old_report_formatter():
    # the old targets._fmt: thousands separators from 1000 (or integers from 100), four significant digits below
    for v, text in [(999.5, "999.5"), (100.0, "100"), (1000.4, "1,000"), (12.3456, "12.35"), (-2500.0, "-2,500")]:
        assert units.number(v) == text
    assert math.isnan(float("nan")) and units.number(float("nan")) == ""
