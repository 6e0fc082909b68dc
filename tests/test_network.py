"""Road graph, shortest paths, travel times and isochrones: known answers and an independent networkx check."""

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

from bazhong_geo import network as N
from bazhong_geo._errors import InvalidSpeedError, MissingColumnError, MissingCRSError

X0, Y0 = 500_000.0, 3_500_000.0  # near the central meridian of EPSG:4545
WALK = 4.5 * 1000 / 60  # m per minute


def _roads(lines, speeds, crs=4545, **cols):
    return gpd.GeoDataFrame({"speed_kmh": speeds, **cols},
                            geometry=[shapely.LineString(np.asarray(c, float) + [X0, Y0]) for c in lines], crs=crs)


def _pts(xy):
    return gpd.GeoSeries(shapely.points(np.asarray(xy, float) + [X0, Y0]), crs=4545)


A, B, C, D = (0, 0), (1000, 0), (2000, 0), (1000, 1000)


@pytest.fixture
def diamond():
    # A-B-C at 60 km/h (1 min per km); A-D-C at 120 km/h (2 km/min); a slow parallel A-B at 30 km/h
    return _roads([[A, B], [B, C], [A, D, C], [A, B]], [60.0, 60.0, 120.0, 30.0])


def test_graph_known_answer(diamond):
    g = N.build_graph(diamond)
    assert g.n_nodes == 4 and g.n_edges == 4
    assert g.report["parallel_edges_merged"] == 1
    t = N.travel_times(diamond, _pts([A]), _pts([B, C, D]))
    np.testing.assert_allclose(t, [[1.0, 2 * np.sqrt(2) / 2, np.sqrt(2) / 2]], rtol=1e-12)


def test_travel_times_walk_offsets(diamond):
    # origin 150 m south of A: 2 minutes on foot, then 1.414 min to C; destination 75 m south of C: +1 min
    t = N.travel_times(diamond, _pts([(0, -150)]), _pts([(2000, -75)]))
    assert t[0, 0] == pytest.approx(2 + np.sqrt(2) + 1, rel=1e-12)
    # a straight walk wins when shorter than the road trip
    t = N.travel_times(diamond, _pts([(0, -150)]), _pts([(0, -225)]))
    assert t[0, 0] == pytest.approx(1.0)
    assert N.travel_times(diamond, _pts([(0, -150)]), _pts([(0, -225)]), direct_walk=False)[0, 0] == pytest.approx(5.0)
    # points beside an edge join it at their foot: 75 m north of the middle of A-B, to 150 m south of B
    t = N.travel_times(diamond, _pts([(500, 75)]), _pts([(1000, -150)]))
    assert t[0, 0] == pytest.approx(1 + 0.5 + 2)
    # both on the same edge: drive along it, not via its ends
    t = N.travel_times(diamond, _pts([(200, 75)]), _pts([(700, -75)]), direct_walk=False)
    assert t[0, 0] == pytest.approx(1 + 0.5 + 1)


def test_nearest_known_answer(diamond):
    out = N.nearest(diamond, _pts([A, (2000, -75)]))
    got = dict(zip(map(tuple, shapely.get_coordinates(out.geometry.values) - [X0, Y0]), zip(out.minutes, out.source)))
    assert got[A] == (0.0, 0)
    assert got[C] == (pytest.approx(1.0), 1)  # 1 min walk from the second source
    assert got[B] == (pytest.approx(1.0), 0)  # tie A-B 1.0 vs C-B 1+1: source 0
    assert got[D][0] == pytest.approx(np.sqrt(2) / 2) and got[D][1] == 0
    assert out.crs.to_epsg() == 4545 and list(out.columns[:4]) == ["node", "minutes", "source", "component"]


def test_disconnected_and_far_reported(diamond):
    roads = gpd.GeoDataFrame(
        {"speed_kmh": list(diamond.speed_kmh) + [50.0]},
        geometry=list(diamond.geometry) + [shapely.LineString([(X0 + 9000, Y0), (X0 + 9500, Y0)])], crs=4545)
    with pytest.warns(UserWarning, match="far"):
        out = N.nearest(roads, _pts([A, (0, -5000)]))
    rep = out.attrs["report"]
    assert rep["components"] == 2 and rep["nodes_outside_largest_component"] == 2
    assert rep["unreachable_nodes"] == 2 and rep["sources_far_from_road"] == [1]
    assert (out.source[np.isinf(out.minutes)] == -1).all()
    assert len(out) == 6  # nothing dropped


def test_unlocated_source_reported(diamond):
    src = gpd.GeoSeries([shapely.Point(X0, Y0), None], crs=4545)
    with pytest.warns(UserWarning, match="without coordinates"):
        out = N.nearest(diamond, src)
    assert out.attrs["report"]["sources_unlocated"] == [1]
    with pytest.warns(UserWarning, match="1 source\\(s\\) without coordinates"):
        t = N.travel_times(diamond, src, _pts([C]))
    assert np.isnan(t[1, 0]) and t[0, 0] == pytest.approx(np.sqrt(2))


def test_bad_speeds_and_crs(diamond):
    bad = diamond.copy()
    bad.loc[1, "speed_kmh"] = 0
    with pytest.raises(InvalidSpeedError, match="rows \\[1\\]"):
        N.build_graph(bad)
    bad.loc[1, "speed_kmh"] = -5
    with pytest.raises(InvalidSpeedError, match=r"rows \[1\], values \[-5.0\]\); speeds must be > 0 km/h"):
        N.build_graph(bad)
    with pytest.raises(MissingColumnError, match="no speed column 'speed_kmh'.*class_col="):
        N.build_graph(diamond.drop(columns="speed_kmh"))
    with pytest.raises(MissingCRSError, match=r"roads has no CRS; set it first, e.g. gdf.set_crs\(4326\)"):
        N.build_graph(diamond.set_crs(None, allow_override=True))


def test_class_speeds_and_overrides():
    roads = _roads([[A, B], [B, C]], [np.nan, np.nan], highway=["Primary", "县道"])
    assert N.road_speeds(roads, class_col="highway").tolist() == [50.0, 40.0]
    assert N.road_speeds(roads, class_col="highway", speeds={"县道": 20}).tolist() == [50.0, 20.0]
    roads["highway"] = ["primary", "moon_road"]
    with pytest.raises(InvalidSpeedError, match="moon_road"):
        N.road_speeds(roads, class_col="highway")
    with pytest.raises(InvalidSpeedError, match=r"rows \[1\], values \[0.0\]"):
        N.road_speeds(roads, class_col="highway", speeds={"moon_road": 0})


def test_other_crs_reprojected(diamond):
    wgs = diamond.to_crs(4326)
    g = N.build_graph(wgs)
    assert g.report["reprojected"] and g.n_nodes == 4
    t = N.travel_times(wgs, _pts([A]).to_crs(4326), _pts([C]).to_crs(4326))
    assert t[0, 0] == pytest.approx(np.sqrt(2), rel=1e-6)


def _grid_roads(n=12, step=500.0, seed=1, drop=0.15):
    rng = np.random.default_rng(seed)
    lines, speeds = [], []
    for i in range(n):
        for j in range(n):
            for di, dj in ((1, 0), (0, 1)):
                if i + di < n and j + dj < n and rng.random() > drop:
                    lines.append([(i * step, j * step), ((i + di) * step, (j + dj) * step)])
                    speeds.append(float(rng.choice([20, 30, 40, 60])))
    return _roads(lines, speeds)


def _nx_graph(roads, seg=None):
    """An independent networkx graph built from the same lines (optionally densified)."""
    G = nx.Graph()
    for geom, sp in zip(roads.geometry, roads.speed_kmh):
        if seg:
            geom = shapely.segmentize(geom, seg)
        c = [tuple(np.round(p, 3)) for p in shapely.get_coordinates(geom)]
        for a, b in zip(c[:-1], c[1:]):
            w = np.hypot(a[0] - b[0], a[1] - b[1]) / (sp * 1000 / 60)
            if not G.has_edge(a, b) or G[a][b]["weight"] > w:
                G.add_edge(a, b, weight=w)
    return G


def _nx_attach(G, p, tag):
    """Add node ``tag`` at point p joined to the ends of its nearest edge (brute force over all edges)."""
    best = None
    for a, b, data in G.edges(data=True):
        if isinstance(a, str) or isinstance(b, str):
            continue
        seg = shapely.LineString([a, b])
        d = seg.distance(shapely.Point(p))
        if best is None or d < best[0]:
            best = (d, a, b, seg.project(shapely.Point(p), normalized=True), data["weight"])
    d, a, b, f, w = best
    G.add_edge(tag, a, weight=d / WALK + f * w)
    G.add_edge(tag, b, weight=d / WALK + (1 - f) * w) if not G.has_edge(tag, b) else None
    return best


def test_travel_times_match_networkx():
    roads = _grid_roads()
    rng = np.random.default_rng(3)
    o = rng.uniform(0, 5500, (6, 2)) + [X0, Y0]
    d = rng.uniform(0, 5500, (4, 2)) + [X0, Y0]
    got = N.travel_times(roads, _pts(o - [X0, Y0]), _pts(d - [X0, Y0]), direct_walk=False)
    for i, p in enumerate(o):
        for j, q in enumerate(d):
            G = _nx_graph(roads)
            bo = _nx_attach(G, p, "o")
            bd = _nx_attach(G, q, "d")
            exp = nx.dijkstra_path_length(G, "o", "d") if nx.has_path(G, "o", "d") else np.inf
            if {bo[1], bo[2]} == {bd[1], bd[2]}:
                exp = min(exp, bo[0] / WALK + abs(bo[3] - bd[3]) * bo[4] + bd[0] / WALK)
            assert got[i, j] == pytest.approx(exp, rel=1e-9)


def test_isochrones_reachable_by_independent_check():
    """>= 99 % of each isochrone polygon is within its limit (networkx on sampled points), and not trivially small."""
    from bazhong_geo import catchments as C

    roads = _grid_roads(n=12, step=500.0, seed=7, drop=0.3)
    towns = gpd.GeoDataFrame(
        {"code": ["a", "b", "c"], "name": ["甲", "乙", "丙"], "tier": ["town"] * 3, "parent_code": [None] * 3,
         "population": [1.0] * 3},
        geometry=list(_pts([(500, 500), (4700, 1200), (2600, 5300)])), crs=4545)
    limits = (8.0, 15.0)
    cat = C.network(towns, "town", roads, minutes=limits, cell_m=100.0)
    assert set(cat.columns) >= {"code", "tier", "minutes", "area_km2", "geometry"}
    assert len(cat) == 6 and cat.crs.to_epsg() == 4545
    G = _nx_graph(roads, seg=25.0)
    nodes = np.array(list(G.nodes))
    idx = {k: i for i, k in enumerate(G.nodes)}
    rng = np.random.default_rng(11)
    probe = rng.uniform([X0, Y0], [X0 + 5500, Y0 + 5500], (3000, 2))
    best = np.full(len(probe), np.inf)
    for s, code in enumerate(towns.code):
        sp = shapely.get_coordinates(towns.geometry.iloc[s])[0]
        # walk from the town to any node within reach, then drive
        Gs = G.copy()
        walk = np.hypot(*(nodes - sp).T) / WALK
        for k in np.flatnonzero(walk <= max(limits)):
            Gs.add_edge("src", tuple(nodes[k]), weight=walk[k])
        lengths = nx.single_source_dijkstra_path_length(Gs, "src", cutoff=max(limits))
        tn = np.full(len(nodes), np.inf)
        for k, v in lengths.items():
            if k != "src":
                tn[idx[k]] = v

        def true_time(p):
            return np.minimum(np.min(tn[None, :] + np.hypot(p[:, None, 0] - nodes[None, :, 0],
                                                            p[:, None, 1] - nodes[None, :, 1]) / WALK, axis=1),
                              np.hypot(*(p - sp).T) / WALK)

        best = np.minimum(best, true_time(probe))
        for lim in limits:
            poly = cat[(cat.code == code) & (cat.minutes == lim)].geometry.iloc[0]
            assert not poly.is_empty
            xmin, ymin, xmax, ymax = poly.bounds
            cand = rng.uniform([xmin, ymin], [xmax, ymax], (3000, 2))
            inside = cand[shapely.contains_xy(poly, cand[:, 0], cand[:, 1])][:400]
            assert len(inside) >= 100
            t = true_time(inside)
            assert (t <= lim + 1e-9).mean() >= 0.99
    # completeness: land reached by some town with a margin (cell slack, 8-connected walking) is covered
    for lim in limits:
        union = shapely.union_all(cat[cat.minutes == lim].geometry.values)
        clear = best <= lim - 2.0
        assert clear.sum() > 50
        assert shapely.contains_xy(union, probe[clear, 0], probe[clear, 1]).mean() >= 0.95


def test_planarize_joins_crossings():
    # a plus sign drawn as two lines that cross without a shared vertex; the fast line wins where they overlap
    roads = _roads([[(-1000, 0), (1000, 0)], [(0, -1000), (0, 1000)], [(-1000, 0), (0, 0)]], [60.0, 30.0, 120.0])
    assert N.build_graph(roads).components().max() == 1  # two components without noding
    g = N.build_graph(roads, planarize=True)
    assert g.components().max() == 0 and "planarized" in g.report
    t = N.travel_times(g, _pts([(-1000, 0)]), _pts([(0, 1000)]))
    assert t[0, 0] == pytest.approx(0.5 + 2.0)  # 1 km at 120 km/h, then 1 km at 30 km/h


def test_multilines_missing_geometries_and_speed_fallback():
    roads = gpd.GeoDataFrame(
        {"speed_kmh": [np.nan, 60.0, 30.0], "highway": ["trunk", None, None]}, crs=4545,
        geometry=[shapely.MultiLineString([[(X0, Y0), (X0 + 1000, Y0)], [(X0 + 1000, Y0), (X0 + 2000, Y0)]]),
                  None, shapely.LineString([(X0 + 2000, Y0), (X0 + 2000, Y0 + 500)])])
    g = N.build_graph(roads, class_col="highway")  # trunk -> default table; rows with a speed keep it
    assert g.report["empty_geometries"] == 1 and g.n_edges == 3
    trunk = N.default_speeds().set_index("road_class").speed_kmh["trunk"]
    np.testing.assert_allclose(sorted(g.minutes), sorted([1000 / (trunk * 1000 / 60)] * 2 + [1.0]))
    with pytest.raises(InvalidSpeedError, match="empty class"):
        N.build_graph(roads.assign(speed_kmh=np.nan), class_col="highway")


def test_time_grid_cells_upper_bound_and_labels():
    roads = _roads([[(0, 0), (3000, 0)]], [60.0])
    g = N.build_graph(roads, segmentize_m=100)
    grid = N.time_grid(g, _pts([(0, 0), (3000, 0)]), cell_m=100, limit=10, bounds=(X0, Y0 - 500, X0 + 3000, Y0 + 500))
    assert grid.minutes.shape == (10, 30)
    # cell centres along the road: an upper bound of the exact time (drive to the foot, walk 50 m),
    # within half a cell diagonal on foot
    x = np.arange(30) * 100 + 50.0
    exact = np.minimum(x / 1000 + 50 / WALK, (3000 - x) / 1000 + 50 / WALK)
    for row in (4, 5):
        assert (grid.minutes[row] >= exact - 1e-9).all()
        assert (grid.minutes[row] <= exact + grid.slack).all()
    assert (grid.source[:, :14] == 0).all() and (grid.source[:, 16:] == 1).all()
    assert grid.slack == pytest.approx(100 * np.sqrt(2) / 2 / WALK)


def test_oneway_roads():
    # A -> B one-way (1 min); B - C - A two-way (1 + 1.414 min)
    roads = _roads([[A, B], [B, D], [D, A]], [60.0, 60.0, 60.0], oneway=["yes", None, "no"])
    g = N.build_graph(roads, oneway_col="oneway")
    assert g.report["oneway_features"] == 1 and g.oneway.sum() == 1
    t = N.travel_times(g, _pts([A, B]), _pts([B, A]), direct_walk=False)
    assert t[0, 0] == pytest.approx(1.0) and t[1, 1] == pytest.approx(1 + np.sqrt(2))
    # reverse direction flag
    rev = N.build_graph(roads.assign(oneway=["-1", None, None]), oneway_col="oneway")
    assert N.travel_times(rev, _pts([A]), _pts([B]), direct_walk=False)[0, 0] == pytest.approx(1 + np.sqrt(2))
    # both on the one-way edge: forward along it, backward around the loop
    t = N.travel_times(g, _pts([(200, 0), (700, 0)]), _pts([(700, 0), (200, 0)]), direct_walk=False)
    assert t[0, 0] == pytest.approx(0.5) and t[1, 1] == pytest.approx(0.3 + 1 + np.sqrt(2) + 0.2)
    # nearest from the facility B: A only around the loop; towards B (the default): A -> B in 1 min
    out = N.nearest(g, _pts([B]), direction="from_facility")
    got = dict(zip(map(tuple, shapely.get_coordinates(out.geometry.values) - [X0, Y0]), out.minutes))
    assert got[A] == pytest.approx(1 + np.sqrt(2))
    out = N.nearest(g, _pts([B]))
    got = dict(zip(map(tuple, shapely.get_coordinates(out.geometry.values) - [X0, Y0]), out.minutes))
    assert got[A] == pytest.approx(1.0) and got[D] == pytest.approx(1.0)
