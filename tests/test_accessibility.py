"""Accessibility indices: hand-computed answers and equality with PySAL ``access`` on the same inputs."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from access import Access, weights

from bazhong_geo import accessibility as A  # noqa: N812  (short module alias used throughout)


def _access_model(cost, supply, demand):
    nd, ns = cost.shape
    demand_df = pd.DataFrame({"geoid": np.arange(nd), "pop": demand}).set_index("geoid")
    supply_df = pd.DataFrame({"geoid": np.arange(100, 100 + ns), "doc": supply}).set_index("geoid")
    o, d = np.meshgrid(np.arange(nd), np.arange(100, 100 + ns), indexing="ij")
    cost_df = pd.DataFrame({"origin": o.ravel(), "dest": d.ravel(), "cost": cost.ravel()})
    return Access(demand_df=demand_df, demand_index=True, demand_value="pop", supply_df=supply_df,
                  supply_index=True, supply_value="doc", cost_df=cost_df, cost_origin="origin",
                  cost_dest="dest", cost_name="cost")


@pytest.fixture
def grid_inputs():
    # as access's own fixtures: an n x n grid of locations, Euclidean costs, random integer values
    rng = np.random.default_rng(44)
    n = 6
    xy = np.array([(x, y) for x in range(n) for y in range(n)], float) * 5.0  # 5 "minutes" apart
    sup = xy[rng.choice(len(xy), 8, replace=False)]
    cost = np.hypot(xy[:, None, 0] - sup[None, :, 0], xy[:, None, 1] - sup[None, :, 1])
    return cost, rng.integers(1, 20, len(sup)).astype(float), rng.integers(1, 200, len(xy)).astype(float)


def _compare(ours, series, n):
    theirs = series.reindex(range(n)).fillna(0.0).to_numpy()  # access leaves unreached demand NaN
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


def test_two_sfca_equals_access(grid_inputs):
    cost, s, p = grid_inputs
    m = _access_model(cost, s, p)
    for max_cost in (7.5, 15.0, 40.0):
        _compare(A.two_sfca(cost, s, p, max_cost=max_cost), m.two_stage_fca(name="x", max_cost=max_cost)["x_doc"],
                 len(p))


def test_e2sfca_equals_access(grid_inputs):
    cost, s, p = grid_inputs
    m = _access_model(cost, s, p)
    _compare(A.enhanced_two_sfca(cost, s, p), m.enhanced_two_stage_fca(name="e")["e_doc"], len(p))
    steps = {5: 1, 12: 0.6, 25: 0.1}
    _compare(A.enhanced_two_sfca(cost, s, p, weight=A.step(steps), max_cost=20),
             m.enhanced_two_stage_fca(name="e2", weight_fn=weights.step_fn(steps), max_cost=20)["e2_doc"], len(p))


def test_gravity_equals_access(grid_inputs):
    cost, s, p = grid_inputs
    m = _access_model(cost, s, p)
    # Hansen potential = access.weighted_catchment with a gravity weight
    _compare(A.gravity(cost, s, weight=A.power(10, -1.5, 1)),
             m.weighted_catchment(name="g", weight_fn=weights.gravity(10, -1.5, 1))["g_doc"], len(p))
    # demand-adjusted gravity = 2SFCA with a continuous decay and no cut-off
    _compare(A.gravity(cost, s, p, weight=A.gaussian(8), demand_adjusted=True),
             m.two_stage_fca(name="ga", weight_fn=weights.gaussian(8))["ga_doc"], len(p))
    # access's scalar weight functions work here too
    _compare(A.gravity(cost, s, weight=weights.gravity(10, -1.5, 1), max_cost=12),
             m.weighted_catchment(name="g2", weight_fn=weights.gravity(10, -1.5, 1), max_cost=12)["g2_doc"], len(p))


def test_known_answer_and_conservation():
    # two towns; town 0 reaches both clinics, town 1 only clinic 1
    cost = np.array([[5.0, 20.0], [np.inf, 10.0]])
    a = A.two_sfca(cost, supply=[3, 6], demand=[100, 200], max_cost=30)
    # R0 = 3/100, R1 = 6/300 -> A0 = 0.03 + 0.02, A1 = 0.02
    np.testing.assert_allclose(a, [0.05, 0.02])
    # 2SFCA conserves supply when every supply is reached: sum_i P_i A_i = sum_j S_j
    rng = np.random.default_rng(0)
    c = rng.uniform(0, 60, (30, 5))
    s, p = rng.uniform(1, 9, 5), rng.uniform(10, 900, 30)
    assert (p * A.two_sfca(c, s, p, max_cost=1e9)).sum() == pytest.approx(s.sum())
    assert (p * A.enhanced_two_sfca(c, s, p, weight=A.exponential(0.05))).sum() == pytest.approx(s.sum())


def test_accessibility_wrapper_on_roads():
    X0, Y0 = 500_000.0, 3_500_000.0
    roads = gpd.GeoDataFrame({"speed_kmh": [60.0]}, crs=4545, geometry=[shapely.LineString([(X0, Y0), (X0 + 20000, Y0)])])
    demand = gpd.GeoDataFrame({"population": [100.0, 300.0]}, crs=4545,
                              geometry=[shapely.Point(X0, Y0), shapely.Point(X0 + 20000, Y0)])
    supply = gpd.GeoDataFrame({"capacity": [4.0]}, crs=4545, geometry=[shapely.Point(X0 + 5000, Y0)])
    out = A.accessibility(demand, supply, roads=roads, max_cost=10)  # 5 and 15 minutes away
    assert out["2sfca"].tolist() == pytest.approx([0.04, 0.0])
    with pytest.raises(ValueError):
        A.accessibility(demand, supply, roads=roads, method="magic")


def test_accessibility_unlocated_rows_reported_not_misaligned():
    X0, Y0 = 500_000.0, 3_500_000.0
    demand = gpd.GeoDataFrame({"population": [100.0, 50.0, 300.0]}, crs=4545,
                              geometry=[shapely.Point(X0, Y0), None, shapely.Point(X0 + 20000, Y0)])
    supply = gpd.GeoDataFrame({"capacity": [4.0, 9.0]}, crs=4545, geometry=[shapely.Point(X0 + 5000, Y0), None])
    with pytest.warns(UserWarning, match=r"demand: 1 location\(s\) without coordinates \(rows \[1\]\)"), \
            pytest.warns(UserWarning, match=r"supply: 1 location\(s\) without coordinates \(rows \[1\]\)"):
        out = A.accessibility(demand, supply, max_cost=10)  # straight-line km
    # the unlocated village gets no value (not 0, not another village's), and takes no share of the supply
    assert out["2sfca"].tolist()[0] == pytest.approx(0.04)
    assert np.isnan(out["2sfca"].iloc[1])
    assert out["2sfca"].iloc[2] == 0.0
    # row 2 reaches no supply: 0 by default, and the report says why
    assert out.attrs["report"] == {"demand_unlocated": [1], "supply_unlocated": [1], "no_supply_in_reach": [2]}


def test_accessibility_unknown_method_fails_before_any_routing():
    demand = gpd.GeoDataFrame({"population": [1.0]}, crs=4545, geometry=[shapely.Point(0, 0)])
    with pytest.raises(ValueError, match="unknown method 'magic'; use 2sfca, e2sfca, gravity or gravity_adjusted"):
        A.accessibility(demand, demand.rename(columns={"population": "capacity"}), roads="not a road layer",
                        method="magic")


def test_no_supply_nan_is_access_behaviour_exactly(grid_inputs):
    """no_supply="nan": the same NaNs as PySAL access, without the fillna of the default comparison."""
    cost, s, p = grid_inputs
    m = _access_model(cost, s, p)
    ours = A.two_sfca(cost, s, p, max_cost=7.5, no_supply="nan")
    theirs = m.two_stage_fca(name="x", max_cost=7.5)["x_doc"].reindex(range(len(p))).to_numpy()
    assert np.isnan(theirs).any()  # the fixture has demand with no supply within 7.5
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, equal_nan=True)
    zero = A.two_sfca(cost, s, p, max_cost=7.5)
    assert (zero[np.isnan(theirs)] == 0).all()


def test_no_supply_choice_checked_and_reported():
    from bazhong_geo._errors import InvalidThresholdError

    with pytest.raises(InvalidThresholdError, match=r"no_supply must be 'zero'.*or 'nan'.*not 'none'"):
        A.two_sfca([[5.0]], [1.0], [1.0], no_supply="none")
    villages = gpd.GeoDataFrame({"population": [100.0, 300.0]}, crs=4545,
                                geometry=[shapely.Point(500000, 3500000), shapely.Point(520000, 3500000)])
    clinics = gpd.GeoDataFrame({"capacity": [4.0]}, crs=4545, geometry=[shapely.Point(505000, 3500000)])
    out = A.accessibility(villages, clinics, max_cost=10, no_supply="nan")
    assert out["2sfca"].iloc[0] == pytest.approx(0.04)
    assert np.isnan(out["2sfca"].iloc[1])
    assert out.attrs["report"]["no_supply_in_reach"] == [1]
    with pytest.raises(InvalidThresholdError, match="no_supply"):
        A.accessibility(villages, clinics, max_cost=10, no_supply=0)
