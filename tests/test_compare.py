"""compare(): Bazhong and its four neighbours of 川东北经济区, Sichuan and China (issue 15).

Expected figures are recomputed here from the packaged census CSV with plain pandas; the headline ones are also
written out as facts of the 2020 census (巴中市 2,712,894 residents, 46.16 % urban; 四川省 83,674,866, 56.73 %).
"""

from importlib import resources

import numpy as np
import pandas as pd
import pytest

from bazhong_geo import cli, maps
from bazhong_geo import compare as cmp
from bazhong_geo.crs import area_km2
from bazhong_geo.regions import UnknownRegionError, load_region

CODES = ["511900", "510800", "511700", "511300", "511600"]
NEIGHBOURS = {  # 2020 census, from the packaged county table: residents, urbanization in %
    "511900": ("巴中市", 2_712_894, 46.16),
    "510800": ("广元市", 2_305_657, 47.04),
    "511700": ("达州市", 5_385_422, 49.80),
    "511300": ("南充市", 5_607_565, 50.22),
    "511600": ("广安市", 3_254_883, 44.07),
}


@pytest.fixture(scope="module", autouse=True)
def shared_cache(tmp_path_factory):
    folder = tmp_path_factory.getbasetemp() / "china_cache"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BAZHONG_GEO_CACHE", str(folder))
        cmp.peer_table.cache_clear()
        yield folder
    cmp.peer_table.cache_clear()


@pytest.fixture(scope="module")
def raw_census():
    path = resources.files("bazhong_geo") / "data" / "china" / "census2020_counties_population.csv"
    with path.open("rb") as f:
        return pd.read_csv(f, dtype={"CODE": str}, encoding="utf-8-sig")


@pytest.fixture(scope="module")
def table():
    return cmp.compare(CODES)


def test_known_figures_of_bazhong_and_its_neighbours(table):
    t = table.set_index("code")
    assert list(t.index) == CODES
    for code, (name, population, pct) in NEIGHBOURS.items():
        assert t.loc[code, "name"] == name
        assert t.loc[code, "resident_population"] == population
        assert round(t.loc[code, "urbanization_rate"] * 100, 2) == pct


def test_figures_equal_sums_over_the_census_units(table, raw_census):
    for row in table.itertuples():
        units = raw_census[raw_census["CODE"].str[:4] == row.code[:4]]
        assert row.resident_population == units["POPU"].sum()
        assert row.urbanization_rate == pytest.approx((units["POPU"] * units["POPU_URB"]).sum() / units["POPU"].sum(),
                                                      rel=1e-12)


def test_ranks_within_sichuan_and_china(table, raw_census):
    by_pref = raw_census.assign(pref=raw_census["CODE"].str[:4], urban=raw_census["POPU"] * raw_census["POPU_URB"])
    groups = by_pref.groupby("pref")[["POPU", "urban"]].sum()
    groupings = {"1101", "1201", "3101", "5001", "5002", "4190", "4290", "4690", "6590"}
    groups = groups[~groups.index.isin(groupings)]
    rate = groups["urban"] / groups["POPU"]
    assert len(rate) == 333
    sichuan = rate[rate.index.str[:2] == "51"]
    for row in table.itertuples():
        own = rate[row.code[:4]]
        assert row.rank_urbanization_in_province == int((sichuan > own).sum()) + 1
        assert row.rank_urbanization_in_china == int((rate > own).sum()) + 1
        assert (row.peers_in_province, row.peers_in_china) == (21, 333)
    t = table.set_index("code")
    assert t.loc["511900", "rank_urbanization_in_province"] == 16   # 巴中市: 16th of Sichuan's 21
    assert t.loc["511300", "rank_population_in_province"] == 2      # 南充市: second most populous after 成都市


def test_area_is_the_true_area_of_the_converted_boundary(table):
    r = load_region("511900")
    expected = area_km2(r.prefecture).iloc[0]
    t = table.set_index("code")
    assert t.loc["511900", "area_km2"] == pytest.approx(expected, rel=1e-6)
    assert t.loc["511900", "density_per_km2"] == pytest.approx(2_712_894 / expected, rel=1e-6)
    assert (table["area_km2"] > 5_000).all()
    assert (table["area_km2"] < 20_000).all()


def test_ghsl_shares_add_up(table):
    urban = table["ghsl_urban_centre_share"] + table["ghsl_urban_cluster_share"]
    assert np.allclose(urban, table["ghsl_urban_share"], atol=1e-12)
    total = table["ghsl_urban_share"] + table["ghsl_rural_share"] + table["ghsl_water_share"]
    assert np.allclose(total, 1.0, atol=5e-4)
    assert (table["ghsl_urban_share"] > table["urbanization_rate"]).all()   # GHSL counts more people urban here


def test_county_level_lists_every_census_unit_of_each_region(raw_census):
    t = cmp.compare(CODES, level="county")
    for code in CODES:
        members = t[t["parent_code"] == code]
        expected = raw_census[raw_census["CODE"].str[:4] == code[:4]]
        assert sorted(members["code"]) == sorted(expected["CODE"])
        assert members["resident_population"].sum() == t.set_index("code").loc[code, "resident_population"]
    assert len(t) == 5 + 6 + 7 + 8 + 9 + 6
    zones = t[t["code"].str[4] == "7"]
    assert sorted(zones["code"]) == ["511771", "511971"]
    assert not zones["ranked"].any()
    assert zones["rank_urbanization_in_china"].isna().all()
    assert zones["note"].str.contains("development zone").all()
    counties = t[(t["role"] == "county") & t["ranked"]]
    assert (counties["peers_in_province"] == 183).all()
    assert (counties["peers_in_china"] == 2855).all()
    bazhou = t.set_index("code").loc["511902"]
    assert (bazhou["resident_population"], bazhou["urbanization_rate"]) == (651_534, 0.6444)


def test_sichuan_and_china_rows():
    t = cmp.compare(["510000", "100000"]).set_index("code")
    assert t.loc["510000", "resident_population"] == 83_674_866
    assert round(t.loc["510000", "urbanization_rate"] * 100, 2) == 56.73
    assert t.loc["510000", "peers_in_china"] == 31
    assert t.loc["100000", "level"] == "country"
    assert not t.loc["100000", "ranked"]
    assert 0.63 < t.loc["100000", "urbanization_rate"] < 0.64


def test_bad_input_is_a_typed_error():
    with pytest.raises(UnknownRegionError, match="513402"):
        cmp.compare(["513425"])
    with pytest.raises(ValueError, match="level"):
        cmp.compare(CODES, level="township")
    with pytest.raises(ValueError, match="at least one"):
        cmp.compare([])


def test_chart_and_map(table):
    fig = cmp.compare_figure(table, lang="en")
    assert len(fig.axes[0].patches) == 2 * len(table)
    widths = sorted(round(p.get_width(), 6) for p in fig.axes[0].patches)
    expected = sorted(round(v * 100, 6) for v in [*table["urbanization_rate"], *table["ghsl_urban_share"]])
    assert widths == expected
    html = maps.to_html(cmp.compare_map(table))
    assert "<script src=" not in html                      # offline: Leaflet inlined
    for name, *_ in NEIGHBOURS.values():
        assert name in html
    county_html = maps.to_html(cmp.compare_map(cmp.compare(["511900"], level="county")))
    assert "巴州区: 64.4 %" in county_html
    assert "巴中市" in county_html


def test_compare_command_writes_the_table_chart_and_map(tmp_path, capsys):
    assert cli.main(["compare", *CODES, "--level", "county", "--out", str(tmp_path)]) == 0
    text = capsys.readouterr().out
    assert "511900 巴中市: urbanization 46.16 %" in text
    assert "rank 16/21 in province" in text
    written = pd.read_csv(tmp_path / "compare.csv", dtype={"code": str, "parent_code": str}, encoding="utf-8-sig")
    assert len(written) == 41
    assert written["code"].tolist()[:2] == ["511900", "511902"]
    assert (tmp_path / "compare.png").read_bytes()[:4] == b"\x89PNG"
    assert "巴州区" in (tmp_path / "compare.html").read_text(encoding="utf-8")
    assert not list(tmp_path.glob(".*tmp*"))


def test_compare_command_without_chart_and_map_writes_the_table_only(tmp_path, capsys):
    assert cli.main(["compare", "511900", "--no-map", "--no-chart", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["compare.csv"]
    assert capsys.readouterr().out.startswith("511900 巴中市: urbanization 46.16 %")


def test_compare_command_unknown_code_is_an_error_naming_it(tmp_path, capsys):
    assert cli.main(["compare", "519999", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "519999" in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())
