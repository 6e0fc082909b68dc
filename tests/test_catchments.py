"""Catchments: symmetric known answers, partition / conservation / nesting properties, bad input."""

import warnings

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rasterio.transform import from_origin

from bazhong_geo import catchments as C  # noqa: N812  (short module alias used throughout)
from bazhong_geo._errors import DuplicateLocationError, EmptyInputError, InvalidThresholdError, MissingCRSError
from bazhong_geo.settlements import SettlementSystem

X0, Y0 = 500_000.0, 3_500_000.0
SQUARE = shapely.box(X0, Y0, X0 + 4000, Y0 + 4000)


def _system(xy, tiers=None, codes=None, parents=None, pop=None, county=None):
    n = len(xy)
    codes = codes or [f"s{i:03d}" for i in range(n)]
    data = {"code": codes, "name": [f"名{i}" for i in range(n)], "tier": tiers or ["town"] * n,
            "parent_code": parents or [None] * n, "population": pop or [1000.0] * n}
    if county is not None:
        data["county_code"] = county
    geoms = [None if p is None else shapely.Point(p[0] + X0, p[1] + Y0) for p in xy]
    return SettlementSystem(gpd.GeoDataFrame(data, geometry=geoms, crs=4545))


def test_voronoi_square_quarters():
    s = _system([(1000, 1000), (3000, 1000), (1000, 3000), (3000, 3000)])
    v = C.voronoi(s, "town", within=SQUARE)
    np.testing.assert_allclose(v.geometry.area, 4e6)
    for g, (x, y) in zip(v.geometry, [(0, 0), (2000, 0), (0, 2000), (2000, 2000)], strict=False):
        assert g.symmetric_difference(shapely.box(X0 + x, Y0 + y, X0 + x + 2000, Y0 + y + 2000)).area < 1e-6
    assert list(v.columns[:3]) == ["code", "name", "tier"]
    assert v.crs.to_epsg() == 4545
    np.testing.assert_allclose(v.area_km2, 4.0, rtol=1e-3)  # equal-area km² near the central meridian


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(-500, 4500), st.integers(-500, 4500)), min_size=1, max_size=40, unique=True),
       st.integers(0, 2**31 - 1))
def test_voronoi_partitions_region_and_population(pts, seed):
    region = shapely.Polygon([(X0, Y0), (X0 + 4000, Y0 + 500), (X0 + 3500, Y0 + 4000), (X0 + 200, Y0 + 3000)])
    s = _system([(float(x), float(y)) for x, y in pts])
    rng = np.random.default_rng(seed)
    people = gpd.GeoDataFrame({"population": rng.integers(0, 500, 300).astype(float)},
                              geometry=shapely.points(rng.uniform([X0, Y0], [X0 + 4000, Y0 + 4000], (300, 2))),
                              crs=4545)
    people = people[shapely.contains_xy(region, *shapely.get_coordinates(people.geometry.values).T)]
    v = C.voronoi(s, "town", within=region, population=people)
    assert len(v) == len(pts)
    assert abs(v.geometry.area.sum() - region.area) <= 1e-9 * region.area  # planar partition, 1e-9
    assert abs(shapely.union_all(v.geometry.values).area - region.area) <= 1e-9 * region.area  # no overlaps
    assert v.area_km2.sum() == pytest.approx(C._areas_km2([region])[0], rel=1e-9)  # ellipsoidal km², additive
    assert v.population.sum() == pytest.approx(people.population.sum())  # conservation


def test_voronoi_respect_counties():
    counties = gpd.GeoDataFrame({"code": ["511902", "511921"]}, crs=4545,
                                geometry=[shapely.box(X0, Y0, X0 + 2000, Y0 + 4000),
                                          shapely.box(X0 + 2000, Y0, X0 + 4000, Y0 + 4000)])
    # s1 is in the east county but listed in the west one: its cell stays in the west county
    s = _system([(500, 2000), (2100, 500), (3500, 3500)], county=["511902", "511902", "511921"])
    v = C.voronoi(s, "town", within=SQUARE, respect_counties=True, counties=counties)
    west, east = counties.geometry
    assert v.geometry.iloc[0].union(v.geometry.iloc[1]).symmetric_difference(west).area < 1e-6
    assert v.geometry.iloc[2].symmetric_difference(east).area < 1e-6
    plain = C.voronoi(s, "town", within=SQUARE)
    assert plain.geometry.iloc[1].intersection(east).area > 0  # without the option it crosses
    # a county with no settlement is reported and left uncovered
    s2 = _system([(500, 2000)], county=["511902"])
    with pytest.warns(UserWarning, match="uncovered"):
        v2 = C.voronoi(s2, "town", within=SQUARE, respect_counties=True, counties=counties)
    assert v2.attrs["report"]["counties_without_settlements"] == ["511921"]
    # with several tiers the warning names all of them, not just the first
    s3 = _system([(500, 2000)], tiers=["central_city"], county=["511902"])
    with pytest.warns(UserWarning, match=r"counties with no central_city or county_town settlement .*\['511921'\]"):
        C.voronoi(s3, ["central_city", "county_town"], within=SQUARE, respect_counties=True, counties=counties)


def test_bad_input():
    s = _system([(1000, 1000), (1000, 1000), (3000, 3000), None])
    with pytest.raises(DuplicateLocationError, match="s000,s001"), \
            pytest.warns(UserWarning, match="1 of 4 town settlement\\(s\\) have no coordinates"):
        C.voronoi(s, "town", within=SQUARE)
    with pytest.warns(UserWarning, match="no coordinates"):
        v = C.voronoi(s, "town", within=SQUARE, duplicates="merge")
    assert v.code.tolist() == ["s000", "s002"]
    assert v.merged_codes.tolist() == ["s000;s001", ""]
    assert v.attrs["report"]["unlocated"] == 1
    assert v.attrs["report"]["unlocated_codes"] == ["s003"]
    assert v.geometry.area.sum() == pytest.approx(SQUARE.area)
    with pytest.raises(EmptyInputError, match=r"no settlements of tier 'featured_town' .*tiers present: \['town'\]"):
        C.voronoi(s, "featured_town", within=SQUARE)
    with pytest.raises(EmptyInputError, match="no settlements of tier 'county_town'"):
        C.network(s, "county_town", gpd.GeoDataFrame({"speed_kmh": [60.0]}, crs=4545,
                                                     geometry=[shapely.LineString([(X0, Y0), (X0 + 10, Y0)])]))
    with pytest.raises(EmptyInputError, match=r"none of the 1 settlements .* has coordinates"), \
            pytest.warns(UserWarning, match="no coordinates"):
        C.radius(_system([None]), "town")


def test_radius_defaults_and_override():
    s = _system([(1000, 1000), (3000, 3000)], tiers=["town", "village"])
    r = C.radius(s, "village")
    assert r.radius_m.tolist() == [1000.0]
    assert "GB 50180" in r.attrs["report"]["radius_source"]
    assert r.geometry.area.iloc[0] == pytest.approx(np.pi * 1e6, rel=2e-3)
    assert C.radius(s, "town", radii={"town": 250}).radius_m.tolist() == [250.0]
    twins = _system([(1000, 1000), (1000, 1000), (3000, 3000)], codes=["a", "b", "c"])
    with pytest.warns(UserWarning, match=r"1 location\(s\) hold several settlements: \[\['a', 'b'\]\]"):
        r2 = C.radius(twins, "town", radii=500)
    assert r2.code.tolist() == ["a", "b", "c"]
    assert r2.attrs["report"]["duplicate_locations"] == {"a": ["a", "b"]}
    with pytest.raises(InvalidThresholdError, match=r"radii must be > 0 m, got \[-5.0\]"):
        C.radius(s, "town", radii=-5)
    with pytest.raises(InvalidThresholdError, match=r"minutes must be positive numbers, got \(0, 15\)"):
        C.network(s, "town", gpd.GeoDataFrame({"speed_kmh": [60.0]}, crs=4545, geometry=[
            shapely.LineString([(X0, Y0), (X0 + 10, Y0)])]), minutes=(0, 15))
    assert C.default_radii().tier.tolist()[:2] == ["central_city", "county_town"]


def test_every_default_radius_and_speed_cites_a_source_or_is_an_assumption():
    from bazhong_geo.network import default_speeds
    from bazhong_geo.settlements import allowed_tier_names

    radii = C.default_radii()
    assert sorted(radii.tier) == sorted(allowed_tier_names())  # every tier has a default
    assert (radii.radius_m > 0).all()
    for table in (radii, default_speeds()):
        src = table["source"].fillna("").str.strip()
        cited = src.str.contains(r"GB \d|JTG|FACTS|assumption", regex=True)
        assert cited.all(), table[~cited]


def _tree_system(rng, n_towns, n_vill):
    xy, tiers, codes, parents = [], [], [], []
    pts = rng.choice(4000 * 4000, size=1 + n_towns + n_vill, replace=False)
    pts = np.c_[pts % 4000, pts // 4000].astype(float)
    rows = [("county_town", "c", None)] + [("town", f"t{t}", "c") for t in range(n_towns)]
    rows += [("village", f"v{v}", f"t{rng.integers(n_towns)}") for v in range(n_vill)]
    for k, (tier, code, parent) in enumerate(rows):
        xy.append(tuple(pts[k]))
        tiers.append(tier)
        codes.append(code)
        parents.append(parent)
    return _system(xy, tiers=tiers, codes=codes, parents=parents)


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 6), st.integers(0, 25), st.integers(0, 2**31 - 1))
def test_nested_consistency(n_towns, n_vill, seed):
    rng = np.random.default_rng(seed)
    s = _tree_system(rng, n_towns, n_vill)
    people = gpd.GeoDataFrame({"population": rng.integers(1, 100, 150).astype(float)}, crs=4545,
                              geometry=shapely.points(rng.uniform([X0, Y0], [X0 + 4000, Y0 + 4000], (150, 2))))
    n = C.nested(s, within=SQUARE, population=people).set_index("code")
    # population is conserved down the tree: the root holds everyone, a parent = its core + its children
    assert n.loc["c", "population"] == pytest.approx(people.population.sum())
    for code in n.index:
        kids = n[n.parent_code == code]
        if len(kids):
            pieces = gpd.GeoDataFrame(geometry=[n.loc[code, "core"], *kids.geometry], crs=4545)
            assert C.population_served(pieces, people).population.sum() == pytest.approx(n.loc[code, "population"])
    assert n.loc["c", "depth"] == 0
    assert n.geometry["c"].symmetric_difference(SQUARE).area < 1e-3
    for code, row in n.iterrows():
        kids = n[n.parent_code == code]
        # catchment = core + children, disjoint
        total = row.core.area + kids.geometry.area.sum()
        assert total == pytest.approx(row.geometry.area, rel=1e-9, abs=1e-6)
        for g in kids.geometry:
            assert g.difference(row.geometry).area < 1e-6  # child inside parent
    # each depth level (with the cores above it) partitions the region
    for d in (1, 2):
        level = n[n.depth == d].geometry.area.sum() + n[(n.depth < d)].core.area.sum()
        assert level == pytest.approx(SQUARE.area, rel=1e-9)


def test_nested_unlocated_parent_reattached():
    s = _system([(2000, 2000), None, (1000, 1000), (3000, 3000)], tiers=["county_town", "town", "village", "village"],
                codes=["c", "t", "v1", "v2"], parents=[None, "c", "t", "t"])
    with pytest.warns(UserWarning, match="1 settlement.* without coordinates are left out of nested catchments"):
        n = C.nested(s, within=SQUARE)
    assert n.attrs["report"]["reattached"] == ["v1", "v2"]
    assert n.attrs["report"]["unlocated_codes"] == ["t"]
    par = n.set_index("code").parent_code
    assert par.isna()["c"]
    assert par[["v1", "v2"]].tolist() == ["c", "c"]


def test_population_raster_exact(tmp_path):
    # 4 x 4 cells of 1 km, 10 people each; a catchment covering 1.5 x 1 cells gets 15 people
    path = tmp_path / "pop.tif"
    with rasterio.open(path, "w", driver="GTiff", width=4, height=4, count=1, dtype="float64", crs="EPSG:4545",
                       transform=from_origin(X0, Y0 + 4000, 1000, 1000), nodata=-1) as dst:
        dst.write(np.full((1, 4, 4), 10.0))
    cat = gpd.GeoDataFrame({"code": ["a", "b"], "tier": ["town"] * 2}, crs=4545,
                           geometry=[shapely.box(X0, Y0, X0 + 1500, Y0 + 1000), shapely.box(X0 + 1500, Y0, X0 + 4000, Y0 + 4000)])
    out = C.population_served(cat, str(path))
    assert out.population.tolist() == pytest.approx([15.0, 100.0])
    g = C.gaps(cat, SQUARE, str(path))
    assert g.population.iloc[0] == pytest.approx(160 - 115)
    assert g.share.iloc[0] == pytest.approx(4.5 / 16, rel=1e-3)


def test_population_points_on_shared_edge_counted_once():
    s = _system([(1000, 2000), (3000, 2000)])
    v = C.voronoi(s, "town", within=SQUARE)
    people = gpd.GeoDataFrame({"population": [7.0, 5.0]}, crs=4545,
                              geometry=[shapely.Point(X0 + 2000, Y0 + 1000), shapely.Point(X0 + 500, Y0 + 500)])
    out = C.population_served(v, people)
    assert out.population.tolist() == [12.0, 0.0]  # the edge point goes to the first catchment
    # a point where four catchments meet goes to the first of them in row order, whatever the order
    cells = gpd.GeoDataFrame({"code": list("abcd")}, crs=4545, geometry=[
        shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1), shapely.box(0, 1, 1, 2), shapely.box(1, 1, 2, 2)])
    corner = gpd.GeoDataFrame({"population": [1.0]}, crs=4545, geometry=[shapely.Point(1, 1)])
    for perm in ([0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1]):
        got = C.population_served(cells.iloc[perm].reset_index(drop=True), corner).population.tolist()
        assert got == [1.0, 0.0, 0.0, 0.0], perm


def test_gaps_by_band():
    cat = gpd.GeoDataFrame({"code": ["a", "a"], "tier": ["town"] * 2, "minutes": [15.0, 30.0]}, crs=4545,
                           geometry=[shapely.box(X0, Y0, X0 + 1000, Y0 + 4000), shapely.box(X0, Y0, X0 + 2000, Y0 + 4000)])
    g = C.gaps(cat, SQUARE)
    assert g.minutes.tolist() == [15.0, 30.0]
    assert g.share.round(3).tolist() == [0.75, 0.5]


@settings(max_examples=6, deadline=None)
@given(st.lists(st.tuples(st.integers(200, 3800), st.integers(200, 3800)), min_size=1, max_size=5, unique=True))
def test_network_bands_disjoint_and_population_conserved(pts):
    roads = gpd.GeoDataFrame({"road_class": ["县道", "乡道", "村道"]}, crs=4545, geometry=[
        shapely.LineString([(X0, Y0 + 2000), (X0 + 4000, Y0 + 2000)]),
        shapely.LineString([(X0 + 2000, Y0), (X0 + 2000, Y0 + 2000)]),
        shapely.LineString([(X0 + 2000, Y0 + 2000), (X0 + 2000, Y0 + 4000)])])
    s = _system([(float(x), float(y)) for x, y in pts])
    rng = np.random.default_rng(len(pts))
    people = gpd.GeoDataFrame({"population": rng.integers(1, 100, 200).astype(float)}, crs=4545,
                              geometry=shapely.points(rng.uniform([X0 + 1, Y0 + 1], [X0 + 3999, Y0 + 3999], (200, 2))))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".* more than 1000 m from any road")  # corners of the square
        net = C.network(s, "town", roads, minutes=(5, 10), class_col="road_class", speed_col=None, cell_m=100.0,
                        within=SQUARE, population=people)
    assert len(net) == 2 * len(pts)
    assert set(net.minutes) == {5.0, 10.0}
    g = C.gaps(net, SQUARE, people)
    for m in (5.0, 10.0):
        band = net[net.minutes == m]
        union = shapely.union_all(band.geometry.values)
        assert band.geometry.area.sum() == pytest.approx(union.area, rel=1e-9, abs=1e-3)  # disjoint
        assert band.population.sum() + g[g.minutes == m].population.iloc[0] == pytest.approx(people.population.sum())
    # bands are cumulative
    for code in net.code.unique():
        a, b = net[(net.code == code)].sort_values("minutes").geometry
        assert a.difference(b).area < 1e-3


def test_several_tiers_share_one_partition():
    s = _system([(1000, 2000), (3000, 2000)], tiers=["central_city", "county_town"])
    v = C.voronoi(s, ["central_city", "county_town"], within=SQUARE)
    assert v.tier.tolist() == ["central_city", "county_town"]
    assert v.geometry.area.tolist() == pytest.approx([8e6, 8e6])
    r = C.radius(s, ["central_city", "county_town"], radii={"central_city": 300, "county_town": 200})
    assert r.radius_m.tolist() == [300.0, 200.0]


def test_network_reports_far_settlements_and_disconnected_roads():
    roads = gpd.GeoDataFrame({"speed_kmh": [60.0, 40.0]}, crs=4545, geometry=[
        shapely.LineString([(X0, Y0), (X0 + 4000, Y0)]),
        shapely.LineString([(X0 + 9000, Y0), (X0 + 9500, Y0)])])  # a piece joined to nothing
    s = _system([(0, 0), (2000, 3000), (9200, 100)], codes=["on", "far", "island"])
    with pytest.warns(UserWarning, match="1 source.* more than 1000 m from any road"), \
            pytest.warns(UserWarning, match=r"2 disconnected parts \(6 nodes outside the largest\)"):
        net = C.network(s, "town", roads, minutes=(10, 40), cell_m=100.0)
    rep = net.attrs["report"]
    assert rep["sources_far_from_road"] == ["far"]
    assert rep["sources_off_main_component"] == ["island"]
    assert rep["components"] == 2
    assert rep["settlements"] == 3
    # reported, not dropped: every settlement keeps a row per band, the far one reaches land on foot
    assert sorted(net.code) == ["far", "far", "island", "island", "on", "on"]
    far = net[net.code == "far"].set_index("minutes").area_km2
    walk_km = 4.5 / 60  # km per minute on foot
    assert 0 < far[10.0] < np.pi * (10 * walk_km) ** 2  # a walking disc at most
    assert far[40.0] > far[10.0]


def test_population_polygons_areal_weighting_and_outside():
    cat = gpd.GeoDataFrame({"code": ["a", "b"], "tier": ["town"] * 2}, crs=4545,
                           geometry=[shapely.box(X0, Y0, X0 + 2000, Y0 + 4000), shapely.box(X0 + 2000, Y0, X0 + 4000, Y0 + 4000)])
    # a township of 900 people, 4.5 km wide: 1 km in a, 2 km in b, 1.5 km beyond the region
    pop = gpd.GeoDataFrame({"population": [900.0, 60.0]}, crs=4545,
                           geometry=[shapely.box(X0 + 1000, Y0, X0 + 4000 + 1500, Y0 + 1000),
                                     shapely.box(X0 + 100, Y0 + 100, X0 + 200, Y0 + 200)])
    out = C.population_served(cat, pop)
    assert out.population.tolist() == pytest.approx([200.0 + 60.0, 400.0], rel=1e-12)
    rep = out.attrs["report"]
    assert rep["population_total"] == 960.0
    assert rep["population_outside"] == pytest.approx(300.0, rel=1e-12)
    assert out.population.sum() + rep["population_outside"] == pytest.approx(rep["population_total"])


def test_population_register_with_unlocated_rows_reported():
    cells = C.voronoi(_system([(1000, 2000), (3000, 2000)]), "town", within=SQUARE)
    register = _system([(500, 500), None, (3500, 3500)], codes=["v1", "v2", "v3"], pop=[10.0, 20.0, 40.0])
    with pytest.warns(UserWarning, match=r"1 population row\(s\) without coordinates .*\['v2'\]"):
        out = C.population_served(cells, register)  # a SettlementSystem (register) is accepted as points
    assert out.population.tolist() == [10.0, 40.0]
    rep = out.attrs["report"]
    assert rep["population_unlocated"] == 20.0
    assert rep["population_unlocated_rows"] == ["v2"]
    assert rep["population_total"] == 70.0
    assert rep["population_outside"] == 0.0


def test_network_duplicate_locations_error_or_merge():
    roads = gpd.GeoDataFrame({"speed_kmh": [60.0]}, crs=4545,
                             geometry=[shapely.LineString([(X0, Y0 + 2000), (X0 + 4000, Y0 + 2000)])])
    s = _system([(0, 2000), (0, 2000), (4000, 2000)], codes=["a", "b", "c"])
    # without the check "a" silently got an empty catchment (its twin "b" won the tie)
    with pytest.raises(DuplicateLocationError, match="a,b"):
        C.network(s, "town", roads, minutes=(10,), cell_m=100.0)
    net = C.network(s, "town", roads, minutes=(10,), cell_m=100.0, duplicates="merge")
    assert net.code.tolist() == ["a", "c"]
    assert net.merged_codes.tolist() == ["a;b", ""]
    assert net.attrs["report"]["merged_locations"] == {"a": ["a", "b"]}
    assert (net.area_km2 > 1.0).all()


def test_voronoi_settlement_outside_the_region_kept_and_reported():
    s = _system([(1000, 2000), (3000, 2000), (12_000, 2000)])  # s002 lies 8 km east of the square
    v = C.voronoi(s, "town", within=SQUARE)
    assert v.code.tolist() == ["s000", "s001", "s002"]  # kept, with the land it is nearest to (none here)
    assert v.geometry.iloc[2].is_empty
    assert v.area_km2.iloc[2] == 0.0
    assert v.attrs["report"]["outside_within"] == ["s002"]
    assert v.geometry.area.sum() == pytest.approx(SQUARE.area, rel=1e-12)
    assert "outside_within" not in C.voronoi(s, "town", within=SQUARE.buffer(20_000)).attrs["report"]


def test_population_raster_without_crs_is_an_error(tmp_path):
    path = tmp_path / "nocrs.tif"
    with rasterio.open(path, "w", driver="GTiff", width=4, height=4, count=1, dtype="float64",
                       transform=from_origin(X0, Y0 + 4000, 1000, 1000)) as dst:
        dst.write(np.full((1, 4, 4), 10.0))
    cat = gpd.GeoDataFrame({"code": ["a"], "tier": ["town"]}, crs=4545, geometry=[shapely.box(X0, Y0, X0 + 1500, Y0 + 1000)])
    with pytest.raises(MissingCRSError, match=r"nocrs\.tif.*no CRS"):
        C.population_served(cat, str(path))  # not silently read as if it were in the catchments' CRS
    assert C.population_served(cat, str(path), raster_crs="EPSG:4545").population.tolist() == pytest.approx([15.0])


def test_within_bad_input_and_other_crs():
    s = _system([(1000, 2000), (3000, 2000)])
    with pytest.raises(MissingCRSError, match="within: the layer has no CRS; set it"):
        C.voronoi(s, "town", within=gpd.GeoDataFrame(geometry=[SQUARE]))
    with pytest.raises(EmptyInputError, match="within: the area is empty"):
        C.voronoi(s, "town", within=shapely.Polygon())
    with pytest.raises(TypeError, match="within must be a GeoDataFrame"):
        C.voronoi(s, "town", within=42)
    # a region in lon/lat is brought into the work CRS: same partition
    wgs = gpd.GeoSeries([SQUARE], crs=4545).to_crs(4326)
    v = C.voronoi(s, "town", within=wgs)
    assert v.geometry.area.sum() == pytest.approx(SQUARE.area, rel=1e-6)


def test_nested_output_saves_as_geopackage(tmp_path):
    s = _system([(2000, 2000), (1000, 2000), (3000, 2000)], tiers=["town", "village", "village"],
                codes=["t", "v1", "v2"], parents=[None, "t", "t"])
    n = C.nested(s, within=SQUARE)
    n.drop(columns="core").to_file(tmp_path / "nested.gpkg")
    n.set_geometry("core").drop(columns="geometry").to_file(tmp_path / "cores.gpkg")
    back = gpd.read_file(tmp_path / "nested.gpkg")
    assert back.code.tolist() == ["t", "v1", "v2"]
    assert back.crs.to_epsg() == 4545
    assert back.geometry.area.tolist() == pytest.approx(n.geometry.area.tolist())
    assert gpd.read_file(tmp_path / "cores.gpkg").geometry.area.sum() == pytest.approx(SQUARE.area)


def test_respect_counties_settlement_spanning_two_counties_gets_a_cell_in_each():
    """A central city listed in two counties (county_codes "A;B") covers both; no county is left uncovered."""
    west, east = shapely.box(X0, Y0, X0 + 10_000, Y0 + 10_000), shapely.box(X0 + 10_000, Y0, X0 + 20_000, Y0 + 10_000)
    counties = gpd.GeoDataFrame({"code": ["511902", "511903"]}, geometry=[west, east], crs="EPSG:4545")
    sys_gdf = gpd.GeoDataFrame(
        {"code": ["511900", "511921"], "name": ["巴城", "县城"], "tier": ["central_city", "county_town"],
         "parent_code": [None, "511900"], "population": [1.0, 1.0], "county_code": ["511902", "511902"],
         "county_codes": ["511902;511903", "511902"]},
        geometry=[shapely.Point(X0 + 9_000, Y0 + 5_000), shapely.Point(X0 + 2_000, Y0 + 5_000)], crs="EPSG:4545")
    system = SettlementSystem(sys_gdf)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing uncovered, nothing to warn about
        v = C.voronoi(system, ["central_city", "county_town"], within=shapely.union_all([west, east]),
                      respect_counties=True, counties=counties).set_index("code")
    assert v.loc["511900", "geometry"].covers(east)                  # the whole of the second county
    assert v.loc["511900", "geometry"].area == pytest.approx(10_000 * 10_000 + 10_000 * 4_500)
    assert v.loc["511921", "geometry"].area == pytest.approx(10_000 * 5_500)
    assert v.geometry.area.sum() == pytest.approx(2 * 10_000 * 10_000, rel=1e-12)
    # without county_codes the second county has no settlement: uncovered and reported
    with pytest.warns(UserWarning, match="stay uncovered"):
        v2 = C.voronoi(SettlementSystem(sys_gdf.drop(columns="county_codes")), ["central_city", "county_town"],
                       within=shapely.union_all([west, east]), respect_counties=True, counties=counties)
    assert v2.attrs["report"]["counties_without_settlements"] == ["511903"]


# ------------------------------------------------------------------------------------ issue 11: the analysis class

def _people_grid():
    """100 people per 100 m cell over a 6 km square around SQUARE (so people lie outside the catchments too)."""
    from affine import Affine

    return (np.full((60, 60), 100.0), Affine(100, 0, X0 - 1000, 0, -100, Y0 + 5000), "EPSG:4545")


@pytest.mark.parametrize("method", ["radius", "voronoi", "nested"])
def test_finisher_keeps_the_method_report_and_people_in_equal_people_out(method):
    s = _system([(1000, 1000), (3000, 3000), None], codes=["a", "b", "c"])
    pop = _people_grid()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "radius":
            out = C.radius(s, "town", radii={"town": 500.0}, population=pop)
        elif method == "voronoi":
            out = C.voronoi(s, "town", within=SQUARE, population=pop)
        else:
            out = C.nested(s, within=SQUARE, population=pop)
    rep = out.attrs["report"]
    assert rep["unlocated"] == 1
    assert rep["unlocated_codes"] == ["c"]
    assert rep["population_total"] == pytest.approx(360_000.0)
    inside = out["population"].sum()
    # disjoint catchments: people inside + people outside every catchment = all the people of the raster
    assert inside + rep["population_outside"] == pytest.approx(rep["population_total"], rel=1e-9)
    if method != "radius":
        assert inside == pytest.approx(16e6 / 1e4 * 100.0, rel=1e-9)  # SQUARE holds 1,600 cells


def test_nested_settlement_outside_within_is_warned_and_reported():
    s = _system([(1000, 1000), (3000, 1000), (9000, 9000)], tiers=["town", "village", "village"],
                codes=["t", "v1", "v2"], parents=[None, "t", "t"])
    with pytest.warns(UserWarning, match=r"1 settlement\(s\) lie outside 'within' \(v2 名2\).*widen 'within'"):
        out = C.nested(s, within=SQUARE)
    assert out.attrs["report"]["outside_within"] == ["v2"]
    assert out.set_index("code").loc["v2", "area_km2"] == 0.0


def test_voronoi_settlement_outside_within_is_warned():
    s = _system([(1000, 1000), (9000, 9000)], codes=["a", "far"])
    with pytest.warns(UserWarning, match=r"outside 'within' \(far 名1\): their voronoi catchment"):
        C.voronoi(s, "town", within=SQUARE)


def test_bow_tie_catchment_is_repaired_with_a_warning_not_undercounted():
    bow = shapely.Polygon([(X0, Y0), (X0 + 4000, Y0 + 4000), (X0 + 4000, Y0), (X0, Y0 + 4000)])
    cat = gpd.GeoDataFrame({"code": ["bt"], "tier": ["town"]}, geometry=[bow], crs=4545)
    with pytest.warns(UserWarning, match=r"repaired 1 invalid zone geometries with make_valid: bt"):
        out = C.population_served(cat, _people_grid())
    assert out["population"].iloc[0] == pytest.approx(80_000.0)  # two triangles of 4 km²: half of SQUARE
    assert out.attrs["report"]["repaired_codes"] == ["bt"]


def test_null_catchment_geometry_counts_zero_with_a_warning():
    cat = gpd.GeoDataFrame({"code": ["a", "b"], "name": ["甲", "乙"], "tier": ["town", "town"]}, crs=4545,
                           geometry=[None, SQUARE])
    for pop in (_people_grid(), gpd.GeoDataFrame({"population": [5.0]}, geometry=[shapely.Point(X0 + 1, Y0 + 1)],
                                                 crs=4545)):
        with pytest.warns(UserWarning, match=r"1 zone\(s\) have no geometry \(missing or empty\): 0 people for a 甲"):
            out = C.population_served(cat, pop)
        assert out["population"].iloc[0] == 0.0
        assert out.attrs["report"]["empty_codes"] == ["a"]
