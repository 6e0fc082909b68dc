"""Road rules with known answers: limited-access roads and interchanges, grade separation, one-way roads."""

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from bazhong_geo import catchments as C
from bazhong_geo import network as N
from bazhong_geo._errors import InvalidThresholdError, MissingColumnError

X0, Y0 = 500_000.0, 3_500_000.0
WALK = 4.5 * 1000 / 60  # m per minute


def _roads(lines, **cols):
    return gpd.GeoDataFrame(cols, crs=4545,
                            geometry=[shapely.LineString(np.asarray(c, float) + [X0, Y0]) for c in lines])


def _pts(xy):
    return gpd.GeoSeries(shapely.points(np.asarray(xy, float) + [X0, Y0]), crs=4545)


def _node_minutes(out):
    """{(x, y): [minutes of every node there]} (several nodes may share a location on separated levels)."""
    got: dict = {}
    for (x, y), m in zip(shapely.get_coordinates(out.geometry.values) - [X0, Y0], out.minutes):
        got.setdefault((round(x, 6), round(y, 6)), []).append(float(m))
    return {k: sorted(v) for k, v in got.items()}


# Expressway E along y = 0 (120 km/h = 2 km/min) with ramps down to a local road L along y = -1000 (60 km/h) at
# x = 0 and x = 20 km; a local road S runs north-south at x = 10 km and shares a vertex with E at (10000, 0) but
# has no interchange there. F = the facility at (0, -1000); P = 30 m beside the expressway at x = 10.3 km.
EXPRESS = [[(0, 0), (10000, 0), (20000, 0)],
           [(0, 0), (0, -1000)], [(20000, 0), (20000, -1000)],
           [(0, -1000), (10000, -1000), (20000, -1000)],
           [(10000, -1000), (10000, 0), (10000, 1000)]]


@pytest.fixture
def express():
    return _roads(EXPRESS, road_class=["高速公路", "匝道", "匝道", "县道", "县道"],
                  speed_kmh=[120.0, 60.0, 60.0, 60.0, 60.0])


def test_expressway_joins_only_at_ramps(express):
    F, P = (0, -1000), (10300, 30)
    t = N.travel_times(express, _pts([F]), _pts([P]), direct_walk=False)
    # local roads only: 10 km along L, 1.03 km up S, then 300 m on foot from S (not 30 m from the expressway)
    assert t[0, 0] == pytest.approx(10 + 1.03 + 300 / WALK)
    # without the rule the expressway would be joined anywhere: 1 + 5.15 min driving + 30 m on foot
    naive = N.travel_times(express, _pts([F]), _pts([P]), direct_walk=False, limited_access=False)
    assert naive[0, 0] == pytest.approx(1 + 5.15 + 30 / WALK)
    out = N.nearest(express, _pts([F]))
    got = _node_minutes(out)
    assert got[(10000.0, 0.0)] == pytest.approx([6.0, 11.0])  # expressway node 6 min, the road crossing it 11 min
    assert got[(20000.0, 0.0)] == pytest.approx([11.0])  # via the expressway and the far ramp ...
    assert got[(20000.0, -1000.0)] == pytest.approx([12.0])  # ... beats 20 min along L
    assert out.attrs["report"]["limited_access_features"] == 1


def test_expressway_by_interchange_points_and_boolean_column():
    # no ramps: the local roads stop 20 m short of the expressway; interchange points join them
    roads = _roads([[(0, 0), (10000, 0), (20000, 0)], [(0, -1000), (0, -20)], [(20000, -20), (20000, -1000)],
                    [(0, -1000), (10000, -1000), (20000, -1000)], [(10000, -1000), (10000, 0), (10000, 1000)]],
                   is_motorway=["yes", "no", "no", "no", "no"], speed_kmh=[120.0, 60.0, 60.0, 60.0, 60.0])
    ic = _pts([(0, -10), (20000, -10), (5000, 5000)])
    with pytest.warns(UserWarning, match="1 interchange"):
        g = N.build_graph(roads, limited_access="is_motorway", interchanges=ic, interchange_m=50)
    assert g.report["interchanges_joined"] == 2 and g.report["interchanges_unmatched"] == [2]
    got = _node_minutes(N.nearest(g, _pts([(0, -1000)])))
    link = 20 / (40 * 1000 / 60)  # 20 m at the 匝道 speed of the table
    assert got[(20000.0, 0.0)] == pytest.approx([0.98 + link + 10.0])
    assert got[(10000.0, 0.0)] == pytest.approx([0.98 + link + 5.0, 11.0])
    with pytest.raises(MissingColumnError, match="no class column"):
        N.build_graph(roads, limited_access=["高速"])


def test_settlements_never_snap_to_expressway(express):
    # catchment of F within 8 minutes: land beside the expressway near x = 10 km is out of reach even though the
    # expressway node there is 6 minutes away; land along L near F is in
    towns = gpd.GeoDataFrame({"code": ["f"], "name": ["F"], "tier": ["town"], "parent_code": [None],
                              "population": [1.0]}, geometry=_pts([(0, -1000)]).values, crs=4545)
    c = C.network(towns, "town", express, minutes=(8,), cell_m=100.0)
    geom = c.geometry.iloc[0]
    assert not geom.intersects(shapely.Point(X0 + 10000, Y0 + 150))
    assert geom.contains(shapely.Point(X0 + 5000, Y0 - 1050))
    naive = C.network(towns, "town", express, minutes=(8,), cell_m=100.0, limited_access=False)
    assert naive.geometry.iloc[0].contains(shapely.Point(X0 + 10000, Y0 + 150))
    assert c.area_km2.iloc[0] < naive.area_km2.iloc[0]


def test_bridge_over_road_has_no_junction():
    # road R along y = 0; a bridge B north-south over it shares the vertex (1000, 0) but is not joined there
    lines = [[(0, 0), (1000, 0), (2000, 0)], [(1000, -1000), (1000, 0), (1000, 1000)]]
    for cols in ({"bridge": [None, "yes"]}, {"layer": [0, 1]}, {"tunnel": ["F", "T"]}):
        roads = _roads(lines, speed_kmh=[60.0, 60.0], **cols)
        g = N.build_graph(roads)
        assert g.n_nodes == 6 and int(g.components().max()) == 1
        t = N.travel_times(g, _pts([(0, 0)]), _pts([(1000, 1000)]), direct_walk=False)
        assert np.isinf(t[0, 0])
    flat = N.build_graph(_roads(lines, speed_kmh=[60.0, 60.0], bridge=["no", "no"]))
    assert flat.n_nodes == 5
    assert N.travel_times(flat, _pts([(0, 0)]), _pts([(1000, 1000)]), direct_walk=False)[0, 0] == pytest.approx(2.0)
    # the bridge's own ends join the roads that meet them
    roads = _roads(lines + [[(1000, 1000), (2000, 0)]], speed_kmh=[60.0] * 3, bridge=[None, "yes", None])
    t = N.travel_times(roads, _pts([(0, 0)]), _pts([(1000, 1000)]), direct_walk=False)
    assert t[0, 0] == pytest.approx(2 + np.sqrt(2))


def test_planarize_keeps_bridges_and_expressways_apart():
    lines = [[(0, 0), (2000, 0)], [(1000, -1000), (1000, 1000)], [(500, -1000), (500, 1000)]]
    roads = _roads(lines, speed_kmh=[60.0] * 3, bridge=[None, "yes", None])
    g = N.build_graph(roads, planarize=True)
    # the ordinary crossing at (500, 0) is joined, the bridge is not
    assert int(g.components().max()) == 1
    t = N.travel_times(g, _pts([(0, 0)]), _pts([(500, 1000), (1000, 1000)]), direct_walk=False)
    assert t[0, 0] == pytest.approx(1.5) and np.isinf(t[0, 1])


def test_class_column_found_and_chinese_classes():
    roads = _roads([[(0, 0), (1000, 0)], [(1000, 0), (2000, 0)]], 道路等级=["二级公路", "四级公路"])
    g = N.build_graph(roads)  # no speed column: the 道路等级 column gives the speeds
    assert g.minutes.tolist() == pytest.approx([60 / 50, 60 / 25])


def test_oneway_values_and_loop():
    # one-way loop A -> B -> C -> D -> A, 1 km sides at 60 km/h
    sq = [(0, 0), (1000, 0), (1000, 1000), (0, 1000)]
    lines = [[sq[i], sq[(i + 1) % 4]] for i in range(4)]
    for values in (["yes", "T", "1", "true"], ["-1", "-1", "reverse", "-1"]):
        roads = _roads(lines if values[0] != "-1" else [ln[::-1] for ln in lines], speed_kmh=[60.0] * 4,
                       oneway=values)
        t = N.travel_times(roads, _pts(sq), _pts(sq), direct_walk=False)
        expected = np.array([[(j - i) % 4 for j in range(4)] for i in range(4)], dtype=float)
        np.testing.assert_allclose(t, expected, atol=1e-9)
    assert N.oneway_directions(["no", "F", "0", None, "false"]).tolist() == [0] * 5
    with pytest.warns(UserWarning, match="reversible"):
        assert N.oneway_directions(["reversible"]).tolist() == [0]
    # towards / from the facility on the loop: to reach A from B is 3 min, from A to B 1 min
    roads = _roads(lines, speed_kmh=[60.0] * 4, oneway=["yes"] * 4)
    to = _node_minutes(N.nearest(roads, _pts([sq[0]])))
    fro = _node_minutes(N.nearest(roads, _pts([sq[0]]), direction="from_facility"))
    assert to[(1000.0, 0.0)] == pytest.approx([3.0]) and fro[(1000.0, 0.0)] == pytest.approx([1.0])
    with pytest.raises(InvalidThresholdError, match="direction"):
        N.nearest(roads, _pts([sq[0]]), direction="both")


def test_zero_length_lines_dropped_and_counted():
    roads = _roads([[(0, 0), (1000, 0)], [(500, 500), (500, 500)], [(1000, 0), (2000, 0)]], speed_kmh=[60.0] * 3)
    for planarize in (False, True):
        g = N.build_graph(roads, planarize=planarize)
        assert g.report["zero_length_dropped"] == 1 and g.report["zero_length_rows"] == [1]
        assert g.n_nodes == 3


# a 4 x 4 grid of 500 m two-way streets; making any of them one-way never shortens a trip to the facility
GRID = [[(i * 500, j * 500), ((i + 1) * 500, j * 500)] for i in range(3) for j in range(4)] + \
       [[(i * 500, j * 500), (i * 500, (j + 1) * 500)] for i in range(4) for j in range(3)]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(["yes", "-1", "no"]), min_size=len(GRID), max_size=len(GRID)),
       st.sampled_from(["to_facility", "from_facility"]))
def test_catchment_never_grows_with_oneway(oneway, direction):
    two = _roads(GRID, speed_kmh=[30.0] * len(GRID))
    one = two.assign(oneway=oneway)
    src = _pts([(700, 300)])
    kw = {"cell_m": 100.0, "limit": 6.0, "direction": direction}
    g2 = N.time_grid(N.build_graph(two, segmentize_m=100), src, **kw)
    g1 = N.time_grid(N.build_graph(one, segmentize_m=100), src, **kw)
    assert g1.minutes.shape == g2.minutes.shape
    assert (g1.minutes >= g2.minutes - 1e-9).all()
    assert not ((g1.minutes <= 6.0) & (g2.minutes > 6.0)).any()
    n2 = N.nearest(two, src, direction=direction)
    n1 = N.nearest(one, src, direction=direction)
    assert (n1.minutes.to_numpy() >= n2.minutes.to_numpy() - 1e-9).all()


def test_qa_roads_finds_each_problem_where_it_is():
    from bazhong_geo.roads_qa import qa_roads

    lines = [[(0, 0), (1000, 0), (2000, 0)],  # 0 main road
             [(1000, 0), (1000, 1000)],  # 1 joined at a shared vertex
             [(1500, -500), (1500, 500)],  # 2 crosses 0 at (1500, 0) with no shared vertex
             [(0, 0), (1000, 0)],  # 3 copy of the first segment of 0
             [(300, 300), (300, 300)],  # 4 zero-length
             [(5000, 0), (6000, 0)],  # 5 apart, unknown class, no speed
             [(500, -500), (500, 500)],  # 6 bridge over 0: not a missing junction
             [(1800, -500), (1800, 500)],  # 7 expressway over 0: not a missing junction
             [(1200, 500), (1200, 3)]]  # 8 stops 3 m short of 0: an undershoot
    roads = _roads(lines, speed_kmh=[60.0] * 5 + [np.nan] + [60.0] * 3,
                   road_class=["县道"] * 5 + ["moon_road", "县道", "高速公路", "县道"],
                   bridge=[None] * 6 + ["yes", None, None], fid=[f"r{i}" for i in range(9)])
    qa = qa_roads(roads, id_col="fid")
    got = {k: grp for k, grp in qa.groupby("issue")}
    cross = got["crossing_without_node"]
    assert cross.feature.tolist() == ["r0"] and cross.value.tolist() == [2]
    assert (cross.x.tolist(), cross.y.tolist()) == ([X0 + 1500], [Y0])
    dup = got["duplicate_segment"]
    assert dup.feature.tolist() == ["r3"] and (dup.x.iloc[0], dup.y.iloc[0]) == (X0 + 500, Y0)
    assert "row 0" in dup.detail.iloc[0]
    zero = got["zero_length"]
    assert zero.feature.tolist() == ["r4"] and (zero.x.iloc[0], zero.y.iloc[0]) == (X0 + 300, Y0 + 300)
    assert got["unknown_class"].feature.tolist() == ["r5"] and got["missing_speed"].feature.tolist() == ["r5"]
    assert got["unknown_class"].x.iloc[0] == X0 + 5500
    dangle = got["dangle"]
    under = dangle[dangle.value.notna()]
    assert under.feature.tolist() == ["r8"] and under.value.tolist() == pytest.approx([3.0])
    assert (under.x.iloc[0], under.y.iloc[0]) == (X0 + 1200, Y0 + 3) and "row 0" in under.detail.iloc[0]
    assert len(dangle) == 13  # (0,0), (2000,0), (1000,1000), and both ends of 2, 5, 6, 7, 8
    s = qa.attrs["summary"]
    assert s["components"] == 6 and s["component"] == 5 and s["zero_length"] == 1 and s["features"] == 9
    comp = qa.attrs["components"]
    assert comp.length_km.sum() == pytest.approx(7.497)
    assert s["largest_component_length_share"] == pytest.approx(3.0 / 7.497)
    assert qa.crs.to_epsg() == 4545 and (qa.geometry.x == qa.x).all()


def test_qa_roads_clean_layer_has_no_problems():
    from bazhong_geo.roads_qa import qa_roads

    sq = [(0, 0), (1000, 0), (1000, 1000), (0, 1000)]
    qa = qa_roads(_roads([[sq[i], sq[(i + 1) % 4]] for i in range(4)], speed_kmh=[30.0] * 4))
    assert len(qa) == 0 and qa.attrs["summary"]["components"] == 1


def test_zero_length_lines_never_raise_in_network_code():
    roads = _roads([[(0, 0), (1000, 0)], [(400, 0), (400, 0)], [(1000, 0), (2000, 0)]], speed_kmh=[60.0] * 3)
    out = N.nearest(roads, _pts([(0, 0)]))
    assert out.attrs["report"]["zero_length_dropped"] == 1 and out.minutes.max() == pytest.approx(2.0)
    assert N.travel_times(roads, _pts([(0, 0)]), _pts([(2000, 0)]))[0, 0] == pytest.approx(2.0)
    towns = gpd.GeoDataFrame({"code": ["f"], "name": ["F"], "tier": ["town"], "parent_code": [None],
                              "population": [1.0]}, geometry=_pts([(0, 0)]).values, crs=4545)
    c = C.network(towns, "town", roads, minutes=(5,), cell_m=100.0, planarize=True)
    assert c.attrs["report"]["zero_length_dropped"] == 1 and c.area_km2.iloc[0] > 0


def test_planarize_keeps_oneway_directions():
    # a one-way street drawn east -> west crosses a north-south street without a shared vertex; noded, each piece
    # keeps the direction of travel (west)
    roads = _roads([[(2000, 0), (0, 0)], [(1000, -1000), (1000, 1000)]], speed_kmh=[60.0, 60.0],
                   oneway=["yes", "no"])
    g = N.build_graph(roads, planarize=True)
    assert g.oneway.sum() == 2 and int(g.components().max()) == 0
    t = N.travel_times(g, _pts([(2000, 0), (0, 0)]), _pts([(0, 0), (2000, 0)]), direct_walk=False)
    assert t[0, 0] == pytest.approx(2.0) and np.isinf(t[1, 1])
    # via the crossing: (1000, -1000) reaches (0, 0) in 1 + 1 min, never (2000, 0) by road
    t = N.travel_times(g, _pts([(1000, -1000)]), _pts([(0, 0), (2000, 0)]), direct_walk=False)
    assert t[0, 0] == pytest.approx(2.0) and np.isinf(t[0, 1])


def test_road_options_with_a_built_graph_warn():
    roads = _roads([[(0, 0), (1000, 0)]], speed_kmh=[60.0])
    g = N.build_graph(roads)
    with pytest.warns(UserWarning, match=r"\['limited_access'\] are ignored"):
        N.nearest(g, _pts([(0, 0)]), limited_access=False)


def test_network_catchments_follow_direction_and_ramp_bridges():
    # a one-way road driven east from the town: from the town people spread east; towards it nobody can drive
    roads = _roads([[(0, 0), (6000, 0)]], speed_kmh=[60.0], oneway=["yes"])
    towns = gpd.GeoDataFrame({"code": ["f"], "name": ["F"], "tier": ["town"], "parent_code": [None],
                              "population": [1.0]}, geometry=_pts([(0, 0)]).values, crs=4545)
    out = C.network(towns, "town", roads, minutes=(5,), cell_m=100.0, direction="from_facility")
    into = C.network(towns, "town", roads, minutes=(5,), cell_m=100.0)
    assert out.geometry.iloc[0].contains(shapely.Point(X0 + 3000, Y0 + 50))  # 3 min + 0.7 walk + 0.9 cell slack
    assert not into.geometry.iloc[0].intersects(shapely.Point(X0 + 2000, Y0 + 50))
    assert 2 * into.area_km2.iloc[0] < out.area_km2.iloc[0]
    # a ramp passing over the expressway on a bridge does not join it where it crosses, only at its own end
    roads = _roads([[(0, 0), (1000, 0), (2000, 0)], [(1000, -500), (1000, 0), (1000, 500)], [(1000, 500), (2000, 0)]],
                   road_class=["高速公路", "匝道", "匝道"], bridge=[None, "yes", None], speed_kmh=[120.0, 60.0, 60.0])
    g = N.build_graph(roads)
    got = _node_minutes(N.nearest(g, _pts([(1000, -500)]), direction="from_facility"))
    ramp = 1 + np.hypot(1000, 500) / 1000  # up the ramp bridge, down the second ramp to (2000, 0)
    assert got[(1000.0, 0.0)] == pytest.approx([0.5, ramp + 0.5])  # ramp-bridge node; expressway node via (2000, 0)
    assert got[(2000.0, 0.0)] == pytest.approx([ramp])
