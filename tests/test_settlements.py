"""The four-tier model: Tier ordering and parsing, SettlementSystem validation, parents, summaries, rank-size."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from bazhong_geo import SettlementSystem, Tier
from bazhong_geo._errors import (DuplicateCodeError, EmptyInputError, InvalidParentError, InvalidPopulationError,
                                 MissingColumnError, UnknownTierError)
from bazhong_geo.settlements import allowed_tier_names, rank_size


def _system_frame():
    """A small hand-made system in the work CRS: city, one county town, two towns, three villages."""
    rows = [
        ("511900", "巴城", "central_city", None, 600_000, (500_000, 3_525_000), "511902"),
        ("511921", "通江县城", "county_town", "511900", 200_000, (550_000, 3_530_000), "511921"),
        ("511921101", "甲镇", "featured_town", "511921", 30_000, (555_000, 3_535_000), "511921"),
        ("511921102", "乙镇", "town", "511921", 10_000, (545_000, 3_520_000), "511921"),
        ("511921101200", "一村", "village", "511921101", 800, (556_000, 3_536_000), "511921"),
        ("511921102200", "二村", "central_village", "511921102", 1_500, None, "511921"),
        ("511921102201", "三村", "village", None, np.nan, (546_000, 3_521_000), "511921"),
    ]
    return gpd.GeoDataFrame(
        {"code": [r[0] for r in rows], "name": [r[1] for r in rows], "tier": [r[2] for r in rows],
         "parent_code": [r[3] for r in rows], "population": [r[4] for r in rows], "county_code": [r[6] for r in rows]},
        geometry=[Point(r[5]) if r[5] else None for r in rows], crs="EPSG:4545")


def test_tier_order_values_and_labels():
    assert [t.value for t in Tier] == allowed_tier_names() == [
        "central_city", "county_town", "featured_town", "central_village", "town", "village"]
    assert Tier.CENTRAL_CITY < Tier.COUNTY_TOWN < Tier.FEATURED_TOWN < Tier.CENTRAL_VILLAGE < Tier.TOWN < Tier.VILLAGE
    assert sorted([Tier.VILLAGE, Tier.CENTRAL_CITY, Tier.TOWN]) == [Tier.CENTRAL_CITY, Tier.TOWN, Tier.VILLAGE]
    assert Tier.COUNTY_TOWN == "county_town" and str(Tier.COUNTY_TOWN) == "county_town"
    assert Tier.CENTRAL_CITY.label_zh == "中心城区" and Tier.CENTRAL_VILLAGE.label("en") == "central village"


@pytest.mark.parametrize("text,tier", [("county_town", Tier.COUNTY_TOWN), ("COUNTY_TOWN", Tier.COUNTY_TOWN),
                                       (" Featured_Town ", Tier.FEATURED_TOWN), ("巴城", Tier.CENTRAL_CITY),
                                       ("中心村聚居点", Tier.CENTRAL_VILLAGE), ("乡", Tier.TOWN), ("社区", Tier.VILLAGE),
                                       (Tier.VILLAGE, Tier.VILLAGE)])
def test_tier_parse(text, tier):
    assert Tier.parse(text) is tier


def test_unknown_tier_lists_allowed():
    with pytest.raises(UnknownTierError, match="metropolis.*central_city.*village"):
        Tier.parse("metropolis")


def test_system_normalises_to_work_crs_and_types():
    gdf = _system_frame().to_crs(4490)
    system = SettlementSystem(gdf)
    s = system.settlements
    assert s.crs.to_epsg() == 4545
    assert s["population"].dtype == "float64"
    assert (s["designations"] == "").all()
    assert s.geometry.iloc[0].x == pytest.approx(500_000, abs=1e-3)
    assert len(system.located()) == 6  # the central village has no coordinate and is kept
    assert len(system) == len(gdf)
    assert "central_city=1" in repr(system)


def test_system_rejects_bad_tables():
    gdf = _system_frame()
    with pytest.raises(MissingColumnError, match="parent_code"):
        SettlementSystem(gdf.drop(columns="parent_code"))
    dup = pd.concat([gdf, gdf.iloc[[2, 3]]])
    with pytest.raises(DuplicateCodeError, match="511921101.*511921102"):
        SettlementSystem(dup)
    bad = gdf.copy()
    bad.loc[3, "tier"] = "hamlet"
    with pytest.raises(UnknownTierError, match="hamlet"):
        SettlementSystem(bad)
    with pytest.raises(EmptyInputError):
        SettlementSystem(gdf.iloc[:0])


def test_bad_rows_are_named_by_code_and_name():
    gdf = _system_frame()
    dup = pd.concat([gdf, gdf.iloc[[2]].assign(name="丙镇")])
    with pytest.raises(DuplicateCodeError, match=r"511921101: 甲镇, 丙镇"):
        SettlementSystem(dup)
    bad = gdf.copy()
    bad.loc[[3, 4], "tier"] = "hamlet"
    with pytest.raises(UnknownTierError, match=r"511921102 \(乙镇\), 511921101200 \(一村\).*'hamlet'"):
        SettlementSystem(bad)
    text = gdf.astype({"population": object})
    text.loc[1, "population"] = "lots"
    text.loc[3, "population"] = ""  # a blank cell is an unknown population, not an error
    with pytest.raises(InvalidPopulationError, match=r"511921 \(通江县城\): 'lots'") as err:
        SettlementSystem(text)
    assert "乙镇" not in str(err.value)
    text.loc[1, "population"] = "200000"
    system = SettlementSystem(text)
    assert system.get("511921")["population"] == 200_000.0
    assert np.isnan(system.get("511921102")["population"])


def test_parents_children_ancestors():
    system = SettlementSystem(_system_frame())
    assert system.parent("511921101200")["code"] == "511921101"
    assert system.ancestors("511921101200") == ["511921101", "511921", "511900"]
    assert set(system.children("511921").code) == {"511921101", "511921102"}
    assert system.parent("511900") is None
    assert system.of_tier("town", Tier.FEATURED_TOWN).code.tolist() == ["511921101", "511921102"]
    with pytest.raises(KeyError, match="nope"):
        system.get("nope")


def test_check_parents_finds_each_kind_of_break():
    gdf = _system_frame()
    gdf.loc[2, "parent_code"] = "511921102"          # featured town under a town: tier not allowed
    gdf.loc[4, "parent_code"] = "999"                # unknown parent
    gdf.loc[3, "county_code"] = "511922"             # town in another county than its county town
    problems = SettlementSystem(gdf).check_parents().set_index("code")["problem"]
    assert problems["511921101"] == "parent tier not allowed: town"
    assert problems["511921101200"] == "parent code not in the system"
    assert problems["511921102"] == "parent in another county"
    assert problems["511921102201"] == "no parent"
    assert "511900" not in problems.index and "511921" not in problems.index
    assert problems["511921102200"] == "parent in another county"  # 二村 follows 乙镇 out of the county
    with pytest.raises(InvalidParentError, match="5 broken parent link"):
        SettlementSystem(gdf).validate(strict=True)


def test_assign_parents_by_containment_then_nearest():
    gdf = _system_frame()
    gdf.loc[4, "parent_code"] = None  # 一村 sits in 甲镇's polygon
    boundaries = gpd.GeoDataFrame({"code": ["511921101"]}, geometry=[box(553_000, 3_533_000, 558_000, 3_538_000)],
                                  crs="EPSG:4545")
    new, report = SettlementSystem(gdf).assign_parents(boundaries)
    rep = report.set_index("code")
    assert rep.loc["511921101200", "method"] == "containment" and rep.loc["511921101200", "parent_code"] == "511921101"
    # 三村 is outside every polygon: nearest allowed parent in the county is 乙镇 (1.4 km away)
    assert rep.loc["511921102201", "method"] == "nearest" and rep.loc["511921102201", "parent_code"] == "511921102"
    assert rep.loc["511921102201", "distance_m"] == pytest.approx(np.hypot(1000, 1000))
    assert new.check_parents().empty
    # with a tight distance limit it cannot be placed, and says so
    gdf.loc[6, "parent_code"] = None
    _, report = SettlementSystem(gdf).assign_parents(max_distance_m=100)
    assert report.set_index("code").loc["511921102201", "method"] == "unplaced"


def test_summary_counts_and_population_add_up():
    system = SettlementSystem(_system_frame())
    table = system.summary({"511921": "通江县"})
    total = table[table.county_code == "all"].set_index("tier")
    assert total["settlements"].sum() == len(system)
    assert total.loc["village", "settlements"] == 2 and total.loc["village", "with_population"] == 1
    assert total["population_known"].sum() == pytest.approx(system.settlements["population"].sum())
    assert table.iloc[0]["tier"] == "central_city"  # ordered by tier
    assert (table[table.county_code == "511921"]["county_name"] == "通江县").all()


def test_rank_size_known_answers():
    perfect = [1_000_000 / k for k in range(1, 1001)]
    r = rank_size(perfect)
    assert r.n == 1000
    assert r.exponent == pytest.approx(1.0, abs=0.02)  # Zipf's law
    assert r.ci95[0] < 1.0 < r.ci95[1]
    assert r.se == pytest.approx(r.exponent * np.sqrt(2 / 1000))
    assert r.primacy == pytest.approx(2.0) and r.four_city_primacy == pytest.approx(1 / (1 / 2 + 1 / 3 + 1 / 4))
    with pytest.raises(EmptyInputError):
        rank_size([10, np.nan, 0])


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(1, 1e7), min_size=3, max_size=200, unique=True))
def test_rank_size_is_scale_invariant(pops):
    a, b = rank_size(pops), rank_size([p * 7.5 for p in pops])
    assert a.exponent == pytest.approx(b.exponent, rel=1e-6, abs=1e-9)
    assert a.primacy == pytest.approx(b.primacy)
