"""Tests of designation planning (maximal covering, p-median): known optima, greedy gaps, spopt agreement."""

import inspect

import geopandas as gpd
import numpy as np
import pulp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from bazhong_geo import location
from bazhong_geo._errors import (
    DuplicateCodeError,
    InfeasiblePlanError,
    InvalidPlanError,
    InvalidPopulationError,
    MissingColumnError,
)
from bazhong_geo.designation import plan_designations as plan_via_designation
from bazhong_geo.location import LocationOptions, plan_designations

X0, Y0 = 500_000.0, 3_530_000.0


def _pts(xs_km, ys_km=None):
    ys_km = ys_km if ys_km is not None else [0.0] * len(xs_km)
    return [Point(X0 + x * 1000, Y0 + y * 1000) for x, y in zip(xs_km, ys_km)]


@pytest.fixture
def trap():
    """Four demand blocks on a line (6k, 10k, 10k, 6k people at 0/10/20/30 km) and candidate towns midway.

    Within 5 km: W (5 km) covers blocks 1+2 = 16k, M (15 km) covers 2+3 = 20k, E (25 km) covers 3+4 = 16k.
    Greedy takes M first (20k) and then adds only 6k; the optimal pair W+E covers all 32k.
    """
    cands = gpd.GeoDataFrame({"code": ["W", "M", "E"], "county_code": ["511921", "511921", "511922"]},
                             geometry=_pts([5, 15, 25]), crs=4545)
    demand = gpd.GeoDataFrame({"code": ["b1", "b2", "b3", "b4"], "population": [6000, 10000, 10000, 6000]},
                              geometry=_pts([0, 10, 20, 30]), crs=4545)
    return cands, demand


def test_exact_mclp_finds_the_optimal_pair(trap):
    cands, demand = trap
    res = plan_designations(cands, demand, 2, within_km=5)
    assert res.chosen == ["E", "W"] and res.objective_value == 32000
    assert (res.status, res.gap, res.gap_basis) == ("Optimal", 0.0, "proven")
    assert res.covered_population == res.total_population == 32000
    assert res.assignment.set_index("demand").loc["b2", "nearest"] == "W"
    assert res.candidates.set_index("code").loc["W", "population_served"] == 16000


def test_greedy_mclp_is_not_optimal_and_reports_its_gap(trap):
    cands, demand = trap
    res = plan_designations(cands, demand, 2, within_km=5, solver="greedy")
    assert res.chosen == ["E", "M"] and res.objective_value == 26000       # tie W/E goes to the smaller code
    assert res.status == "Greedy" and res.gap_basis == "lp_relaxation"
    assert res.bound == pytest.approx(32000)                               # LP bound = covering everyone
    assert res.gap == pytest.approx(6000 / 32000)
    vs_exact = plan_designations(cands, demand, 2, within_km=5, solver="greedy", gap_against="exact")
    assert (vs_exact.bound, vs_exact.gap_basis) == (32000, "exact")
    assert vs_exact.gap == pytest.approx(0.1875)
    # the designation module re-exports the planner
    assert plan_via_designation(cands, demand, 2, within_km=5).chosen == ["E", "W"]


def test_fixed_quota_and_spacing(trap):
    cands, demand = trap
    fixed = plan_designations(cands, demand, 2, within_km=5, fixed=["M"])
    assert "M" in fixed.chosen and len(fixed.chosen) == 2 and fixed.objective_value == 26000   # W or E: a tie
    assert fixed.new == [c for c in fixed.chosen if c != "M"]
    # W and M are both in county 511921: at most one there -> {W,E} still feasible and optimal
    q = plan_designations(cands, demand, 2, within_km=5, quotas_per_county=1)
    assert q.chosen == ["E", "W"]
    q2 = plan_designations(cands, demand, 2, within_km=5, quotas_per_county={"511922": 0})
    assert q2.chosen == ["M", "W"]
    with pytest.raises(InfeasiblePlanError, match="quota"):
        plan_designations(cands, demand, 3, within_km=5, quotas_per_county=1)
    with pytest.raises(InfeasiblePlanError, match="quota"):
        plan_designations(cands, demand, 2, within_km=5, fixed=["M", "W"], quotas_per_county=1)
    # spacing 12 km: W-M and M-E (10 km apart) conflict; W-E (20 km) do not
    sp = plan_designations(cands, demand, 2, within_km=5, min_spacing_km=12, fixed=None)
    assert sp.chosen == ["E", "W"]
    with pytest.raises(InfeasiblePlanError):
        plan_designations(cands, demand, 2, within_km=5, min_spacing_km=25)
    # greedy with spacing: M first would block both others -> greedy fails loudly at the second pick
    with pytest.raises(InfeasiblePlanError, match="greedy"):
        plan_designations(cands, demand, 2, within_km=5, min_spacing_km=12, solver="greedy")
    kept = plan_designations(cands, demand, 2, within_km=5, min_spacing_km=12, fixed=["W", "M"])
    assert kept.chosen == ["M", "W"] and any("kept" in n for n in kept.notes)


def test_p_median_known_answer():
    # demand on a line: weights 1, 1, 10 at 0, 1, 2 km; candidates at the demand points
    cands = gpd.GeoDataFrame({"code": ["a", "b", "c"]}, geometry=_pts([0, 1, 2]), crs=4545)
    demand = gpd.GeoDataFrame({"population": [1, 1, 10]}, geometry=_pts([0, 1, 2]), crs=4545)
    res = plan_designations(cands, demand, 1, objective="p_median")
    assert res.chosen == ["c"] and res.objective_value == pytest.approx(1 * 2 + 1 * 1)
    assert res.cost_unit == "km" and res.mean_cost == pytest.approx(3 / 12)
    two = plan_designations(cands, demand, 2, objective="p_median")
    assert two.chosen in (["a", "c"], ["b", "c"]) and two.objective_value == pytest.approx(1.0)
    g = plan_designations(cands, demand, 1, objective="p_median", solver="greedy")
    assert g.chosen == ["c"] and g.gap == pytest.approx(0.0, abs=1e-9)


def test_polygon_demand_uses_a_point_on_surface():
    cands = gpd.GeoDataFrame({"code": ["near", "far"]}, geometry=_pts([0, 50]), crs=4545)
    blocks = gpd.GeoDataFrame({"population": [500, 800]},
                              geometry=[box(X0 - 1000, Y0 - 1000, X0 + 1000, Y0 + 1000),
                                        box(X0 + 49_000, Y0 - 500, X0 + 51_000, Y0 + 500)], crs=4545)
    res = plan_designations(cands, blocks.to_crs(4326), 1, within_km=3)      # any CRS in, work CRS inside
    assert res.chosen == ["far"] and res.objective_value == 800


def _random_instance(seed, n_dem=40, n_cand=10):
    rng = np.random.default_rng(seed)
    dxy = rng.uniform(0, 60, size=(n_dem, 2))
    cxy = rng.uniform(0, 60, size=(n_cand, 2))
    w = rng.integers(100, 5000, size=n_dem).astype(float)
    demand = gpd.GeoDataFrame({"population": w}, geometry=_pts(dxy[:, 0], dxy[:, 1]), crs=4545)
    cands = gpd.GeoDataFrame({"code": [f"c{j:02d}" for j in range(n_cand)]}, geometry=_pts(cxy[:, 0], cxy[:, 1]),
                             crs=4545)
    cost = np.hypot(dxy[:, None, 0] - cxy[None, :, 0], dxy[:, None, 1] - cxy[None, :, 1])
    return cands, demand, w, cost


@pytest.mark.parametrize("seed", [1, 2])
def test_agrees_with_spopt_mclp_and_pmedian(seed):
    from spopt.locate import MCLP, PMedian

    cands, demand, w, cost = _random_instance(seed)
    solver = pulp.PULP_CBC_CMD(msg=False)
    for k, radius in ((3, 12.0), (5, 8.0)):
        ours = plan_designations(cands, demand, k, within_km=radius)
        theirs = MCLP.from_cost_matrix(cost, w, service_radius=radius, p_facilities=k).solve(solver)
        assert ours.objective_value == pytest.approx(theirs.problem.objective.value())
        # with a predefined facility
        pre = np.zeros(len(cands), int)
        pre[0] = 1
        ours_f = plan_designations(cands, demand, k, within_km=radius, fixed=["c00"])
        theirs_f = MCLP.from_cost_matrix(cost, w, radius, k, predefined_facilities_arr=pre).solve(solver)
        assert ours_f.objective_value == pytest.approx(theirs_f.problem.objective.value())
        assert "c00" in ours_f.chosen
    for k in (2, 4):
        ours = plan_designations(cands, demand, k, objective="p_median")
        theirs = PMedian.from_cost_matrix(cost, w, p_facilities=k).solve(solver)
        assert ours.objective_value == pytest.approx(theirs.problem.objective.value(), rel=1e-6)
        assert ours.mean_cost == pytest.approx(theirs.mean_dist, rel=1e-6)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 4))
def test_greedy_never_beats_exact_and_lp_bounds_both(seed, k):
    cands, demand, _, _ = _random_instance(seed, n_dem=15, n_cand=6)
    exact = plan_designations(cands, demand, k, within_km=10)
    greedy = plan_designations(cands, demand, k, within_km=10, solver="greedy")
    assert greedy.objective_value <= exact.objective_value + 1e-6
    assert greedy.bound >= exact.objective_value - 1e-6           # the LP relaxation bounds the optimum
    assert 0.0 <= greedy.gap <= 1.0
    assert exact.covered_population <= exact.total_population
    pm = plan_designations(cands, demand, k, objective="p_median")
    pg = plan_designations(cands, demand, k, objective="p_median", solver="greedy")
    assert pg.objective_value >= pm.objective_value - 1e-6


def test_bad_inputs(trap):
    cands, demand = trap
    with pytest.raises(InvalidPlanError, match="larger than the number of candidates"):
        plan_designations(cands, demand, 4, within_km=5)
    with pytest.raises(InvalidPlanError, match="positive integer"):
        plan_designations(cands, demand, 0, within_km=5)
    with pytest.raises(InvalidPlanError, match="within_km or within_minutes"):
        plan_designations(cands, demand, 2)
    with pytest.raises(InvalidPlanError, match="road layer"):
        plan_designations(cands, demand, 2, within_minutes=30)
    with pytest.raises(InvalidPlanError, match="p_median"):
        plan_designations(cands, demand, 2, objective="p_median", within_km=5)
    with pytest.raises(InvalidPlanError, match="not among the candidates"):
        plan_designations(cands, demand, 2, within_km=5, fixed=["X"])
    with pytest.raises(InvalidPlanError, match="exceed k"):
        plan_designations(cands, demand, 1, within_km=5, fixed=["W", "E"])
    with pytest.raises(InvalidPlanError, match="unknown objective"):
        plan_designations(cands, demand, 1, objective="max_cover", within_km=5)
    with pytest.raises(InvalidPopulationError):
        plan_designations(cands, demand.assign(population=[1, np.nan, 1, 1]), 1, within_km=5)
    with pytest.raises(MissingColumnError, match="county_code"):
        plan_designations(cands.drop(columns="county_code"), demand, 1, within_km=5, quotas_per_county=1)
    with pytest.raises(DuplicateCodeError):
        plan_designations(cands.assign(code=["W", "W", "E"]), demand, 1, within_km=5)
    unlocated = cands.copy()
    unlocated.loc[2, "geometry"] = None
    with pytest.raises(InvalidPlanError, match="located candidates"):
        plan_designations(unlocated, demand, 3, within_km=5)
    res = plan_designations(unlocated, demand, 2, within_km=5)
    assert res.chosen == ["M", "W"] and "E" in res.notes[0]


def test_travel_time_cover_with_roads():
    from shapely.geometry import LineString

    line = LineString([(X0 + x, Y0) for x in range(0, 40_001, 500)])
    roads = gpd.GeoDataFrame({"speed_kmh": [30.0]}, geometry=[line], crs=4545)
    cands = gpd.GeoDataFrame({"code": ["a", "b"]}, geometry=_pts([0, 30]), crs=4545)
    demand = gpd.GeoDataFrame({"population": [100, 100, 300]}, geometry=_pts([5, 10, 25]), crs=4545)
    res = plan_designations(cands, demand, 1, within_minutes=12, roads=roads)   # 30 km/h: 2 min per km
    assert res.cost_unit == "minutes" and res.chosen == ["b"] and res.objective_value == 300


def _stopped_on_time(monkeypatch, x_values):
    """Make CBC behave as when it stops at the time limit on the integer programme.

    ``x_values`` = the incumbent's x_j (W, M, E), CBC's "Stopped on time - objective value" (PuLP: status Optimal,
    sol_status integer-feasible); None = stopped before any integer solution (status Not Solved). The LP relaxation
    (continuous variables) is solved for real.
    """
    real = pulp.LpProblem.solve

    def fake(self, solver=None, **kw):
        if not any(v.cat == pulp.LpBinary or v.cat == pulp.LpInteger for v in self.variables()):
            return real(self, solver, **kw)
        for v in self.variables():
            v.varValue = x_values[int(v.name[2:])] if (x_values and v.name.startswith("x_")) else None
        if x_values is None:
            self.status, self.sol_status = pulp.LpStatusNotSolved, pulp.LpSolutionNoSolutionFound
        else:
            self.status, self.sol_status = pulp.LpStatusOptimal, pulp.LpSolutionIntegerFeasible
        return self.status

    monkeypatch.setattr(pulp.LpProblem, "solve", fake)


def test_time_limit_incumbent_is_not_reported_as_proven(trap, monkeypatch):
    cands, demand = trap
    _stopped_on_time(monkeypatch, [0, 1, 1])                  # incumbent M+E covers 26,000 of the optimal 32,000
    res = plan_designations(cands, demand, 2, within_km=5, time_limit_s=1)
    assert res.chosen == ["E", "M"] and res.objective_value == 26000
    assert res.status != "Optimal" and res.gap_basis == "lp_relaxation"
    assert res.bound == pytest.approx(32000) and res.gap == pytest.approx(0.1875)
    assert any("time limit" in n for n in res.notes)


def test_time_limit_without_a_solution_falls_back_to_greedy(trap, monkeypatch):
    cands, demand = trap
    _stopped_on_time(monkeypatch, None)
    res = plan_designations(cands, demand, 2, within_km=5, time_limit_s=1)
    assert res.chosen == ["E", "M"] and res.status == "Greedy fallback"        # a valid choice of k, not x > 0.5
    assert res.gap_basis == "lp_relaxation" and res.gap == pytest.approx(0.1875)
    assert any("greedy" in n for n in res.notes)
    # greedy's gap against 'exact' when the exact run is itself stopped: measured against the LP bound, said so
    g = plan_designations(cands, demand, 2, within_km=5, solver="greedy", gap_against="exact", time_limit_s=1)
    assert g.gap_basis == "lp_relaxation" and any("not proven" in n for n in g.notes)


def test_options_object_is_the_same_as_options_by_name(trap):
    cands, demand = trap
    by_name = plan_designations(cands, demand, 2, within_km=5, fixed=["M"], quotas_per_county=1, solver="greedy")
    opts = LocationOptions(fixed=("M",), quotas_per_county=1, solver="greedy")
    as_object = plan_designations(cands, demand, 2, within_km=5, options=opts)
    assert by_name.chosen == as_object.chosen == ["E", "M"]
    assert (by_name.objective_value, by_name.gap, by_name.notes) == (as_object.objective_value, as_object.gap,
                                                                     as_object.notes)
    # a name given beside the object overrides it; the object itself is unchanged (frozen)
    exact = plan_designations(cands, demand, 2, within_km=5, options=opts, solver="exact", quotas_per_county=None)
    assert "M" in exact.chosen and exact.objective_value == 26000 and exact.status == "Optimal"   # M fixed: M+W or M+E
    assert opts.solver == "greedy"
    assert LocationOptions(fixed="M12").fixed == ("M12",)                   # one code, not its characters
    with pytest.raises(TypeError, match="min_spacing_km"):                 # an unknown option lists the known ones
        plan_designations(cands, demand, 2, within_km=5, min_spacing=3)
    with pytest.raises(InvalidPlanError, match="unknown solver"):
        LocationOptions(solver="cplex")
    with pytest.raises(InvalidPlanError, match="gap_against"):
        plan_designations(cands, demand, 2, within_km=5, gap_against="bound")


def test_a_new_objective_is_one_registered_function(trap, monkeypatch):
    """An objective is one registered builder: here 'most demand units within the standard' (unweighted MCLP)."""
    import itertools

    monkeypatch.setattr(location, "OBJECTIVES", dict(location.OBJECTIVES))

    @location.register_objective("covered_units", uses_standard=True)
    def covered_units(m):
        A = m.C <= m.standard.value

        def add_terms(prob, x):
            y = [pulp.LpVariable(f"y_{i}", lowBound=0, upBound=1) for i in range(A.shape[0])]
            for i, yy in enumerate(y):
                prob += yy <= pulp.lpSum(x[j] for j in np.flatnonzero(A[i])), f"cover_{i}"
            prob += pulp.lpSum(y)

        def value(mask):
            return float(A[:, mask].any(axis=1).sum())

        def marginal(chosen):
            return (~A[:, chosen].any(axis=1)).astype(float) @ A

        return location.ObjectiveModel(True, add_terms, value, marginal, lambda best: best <= m.standard.value)

    cands, demand = trap
    costs = np.abs(np.array([0, 10, 20, 30])[:, None] - np.array([5, 15, 25])[None, :])
    for k in (1, 2):
        res = plan_designations(cands, demand, k, objective="covered_units", within_km=5)
        brute = max((costs[:, list(p)] <= 5).any(axis=1).sum() for p in itertools.combinations(range(3), k))
        assert res.objective_value == brute and res.status == "Optimal"
    assert res.chosen == ["E", "W"] and res.covered_population == 32000


# ------------------------------------------------------------------------------------------- set cover and p-center

def _constrained_instance(seed, n_dem=12, n_cand=7):
    """A small random instance with two counties; the demand x candidate km matrix as the planner computes it."""
    cands, demand, _, cost = _random_instance(seed, n_dem=n_dem, n_cand=n_cand)
    cands["county_code"] = ["511921" if j % 2 == 0 else "511922" for j in range(n_cand)]
    return cands, demand, cost


def _brute_force(cost, cands, objective, *, k=None, radius=None, fixed=(), maxima=None, minima=None, spacing=None):
    """The optimum over every subset of candidates that honours the constraints (None when none is feasible)."""
    import itertools

    codes = cands["code"].tolist()
    county = cands["county_code"].tolist()
    xy = np.array([[p.x, p.y] for p in cands.geometry]) / 1000
    best = None
    sizes = [k] if k is not None else range(1, len(codes) + 1)
    for size in sizes:
        for subset in itertools.combinations(range(len(codes)), size):
            picked = [codes[j] for j in subset]
            if not set(fixed) <= set(picked):
                continue
            per = {c: sum(county[j] == c for j in subset) for c in set(county)}
            if maxima is not None and any(per[c] > maxima.get(c, len(codes)) for c in per):
                continue
            if minima is not None and any(per.get(c, 0) < lo for c, lo in minima.items()):
                continue
            if spacing is not None and any(np.hypot(*(xy[a] - xy[b])) < spacing
                                           for a, b in itertools.combinations(subset, 2)
                                           if not (codes[a] in fixed and codes[b] in fixed)):
                continue
            nearest = cost[:, list(subset)].min(axis=1)
            if objective == "set_cover":
                value = size if (nearest <= radius).all() else None
            else:
                value = nearest.max()
            if value is not None and (best is None or value < best):
                best = value
        if objective == "set_cover" and best is not None:
            return best                      # sizes ascend: the first feasible size is the optimum
    return best


CONSTRAINTS = [
    {},
    {"fixed": ["c01"]},
    {"minima": {"511922": 2}},
    {"maxima": {"511921": 1}, "fixed": ["c00"]},
    {"minima": {"511921": 2, "511922": 1}, "maxima": {"511922": 1}},
    {"spacing": 15.0},
]


def _options_of(constraint):
    return {"fixed": constraint.get("fixed", ()), "quotas_per_county": constraint.get("maxima"),
            "min_per_county": constraint.get("minima"), "min_spacing_km": constraint.get("spacing")}


@pytest.mark.parametrize("seed", [3, 4, 5])
@pytest.mark.parametrize("constraint", CONSTRAINTS, ids=lambda c: ",".join(c) or "none")
def test_set_cover_optimum_equals_brute_force(seed, constraint):
    cands, demand, cost = _constrained_instance(seed)
    radius = float(np.ceil(cost.min(axis=1).max())) + 4.0        # every demand unit coverable
    brute = _brute_force(cost, cands, "set_cover", radius=radius, **constraint)
    opts = _options_of(constraint)
    if brute is None:
        with pytest.raises(InfeasiblePlanError):
            plan_designations(cands, demand, objective="set_cover", within_km=radius, **opts)
        return
    res = plan_designations(cands, demand, objective="set_cover", within_km=radius, **opts)
    assert res.objective_value == brute == len(res.chosen) == res.k and res.status == "Optimal"
    assert res.covered_population == res.total_population and res.excluded.empty
    assert set(constraint.get("fixed", ())) <= set(res.chosen)
    # the greedy cover is a valid cover no smaller than the optimum; its gap is measured against the LP bound
    try:
        greedy = plan_designations(cands, demand, objective="set_cover", within_km=radius, solver="greedy", **opts)
    except InfeasiblePlanError:     # greedy may paint itself into a corner under spacing or maxima: loudly
        assert constraint.get("spacing") is not None or constraint.get("maxima") is not None
        return
    assert greedy.objective_value >= brute and greedy.covered_population == greedy.total_population
    assert greedy.gap_basis == "lp_relaxation" and greedy.bound <= brute * (1 + 1e-6)
    assert greedy.gap == pytest.approx((greedy.objective_value - greedy.bound) / greedy.objective_value)


@pytest.mark.parametrize("seed", [3, 4, 5])
@pytest.mark.parametrize("constraint", CONSTRAINTS, ids=lambda c: ",".join(c) or "none")
def test_p_center_optimum_equals_brute_force(seed, constraint):
    cands, demand, cost = _constrained_instance(seed)
    for k in (2, 3):
        brute = _brute_force(cost, cands, "p_center", k=k, **constraint)
        opts = _options_of(constraint)
        if brute is None:
            with pytest.raises(InfeasiblePlanError):
                plan_designations(cands, demand, k, objective="p_center", **opts)
            continue
        res = plan_designations(cands, demand, k, objective="p_center", **opts)
        assert res.objective_value == pytest.approx(brute) and res.status == "Optimal" and len(res.chosen) == k
        assert res.assignment["cost"].max() == pytest.approx(brute)
        try:
            greedy = plan_designations(cands, demand, k, objective="p_center", solver="greedy", **opts)
        except InfeasiblePlanError:
            assert constraint.get("spacing") is not None or constraint.get("minima") is not None
            continue
        assert greedy.objective_value >= brute - 1e-9 and greedy.gap_basis == "lp_relaxation"
        assert greedy.bound <= brute * (1 + 1e-6) and 0.0 <= greedy.gap <= 1.0    # CBC reports ~7 digits


@pytest.mark.parametrize("seed", [1, 2])
def test_set_cover_and_p_center_agree_with_spopt(seed):
    from spopt.locate import LSCP, PCenter

    cands, demand, _, cost = _random_instance(seed, n_dem=40, n_cand=10)
    solver = pulp.PULP_CBC_CMD(msg=False)
    pre = np.zeros(len(cands), int)
    pre[3] = 1
    least = float(np.ceil(cost.min(axis=1).max()))          # the smallest whole-km standard covering everyone
    for radius in (least, least + 6.0):
        ours = plan_designations(cands, demand, objective="set_cover", within_km=radius)
        theirs = LSCP.from_cost_matrix(cost, radius).solve(solver)
        assert ours.objective_value == theirs.problem.objective.value()
        ours_f = plan_designations(cands, demand, objective="set_cover", within_km=radius, fixed="c03")
        theirs_f = LSCP.from_cost_matrix(cost, radius, predefined_facilities_arr=pre).solve(solver)
        assert ours_f.objective_value == theirs_f.problem.objective.value() and "c03" in ours_f.chosen
    for k in (2, 4):
        ours = plan_designations(cands, demand, k, objective="p_center")
        theirs = PCenter.from_cost_matrix(cost, p_facilities=k).solve(solver)
        assert ours.objective_value == pytest.approx(theirs.problem.objective.value(), rel=1e-6)
        ours_f = plan_designations(cands, demand, k, objective="p_center", fixed=["c03"])
        theirs_f = PCenter.from_cost_matrix(cost, k, predefined_facilities_arr=pre).solve(solver)
        assert ours_f.objective_value == pytest.approx(theirs_f.problem.objective.value(), rel=1e-6)


def test_uncoverable_demand_is_listed_or_an_error(trap):
    from bazhong_geo._errors import UncoverableDemandError, UncoverableDemandWarning

    cands, demand = trap
    far = demand.copy()
    far.loc[len(far)] = ["b5", 700, Point(X0 + 60_000, Y0)]         # 35 km from the nearest town
    far.loc[len(far)] = ["b6", 0, Point(X0 + 90_000, Y0)]           # nobody lives there: not demand
    with pytest.warns(UncoverableDemandWarning, match="b5"):
        res = plan_designations(cands, far, objective="set_cover", within_km=5)
    assert res.chosen == ["E", "W"] and res.objective_value == 2
    assert res.excluded.to_dict("records") == [{"row": 4, "demand": "b5", "population": 700.0, "best_cost": 35.0,
                                                "reason": "no candidate within 5 km"}]
    assert res.covered_population == 32000 and any("b5" in n for n in res.notes)
    with pytest.raises(UncoverableDemandError, match="b5"):
        plan_designations(cands, far, objective="set_cover", within_km=5, strict=True)
    # p-center: demand cut off from every candidate (no road) is excluded from the worst cost, or an error
    C = np.abs(np.array([0, 10, 20, 30, 60, 90])[:, None] - np.array([5, 15, 25])[None, :]).astype(float)
    C[4] = np.inf
    with pytest.warns(UncoverableDemandWarning, match="no candidate reachable"):
        pc = plan_designations(cands, far, 2, objective="p_center", costs=C)
    assert pc.objective_value == 5 and list(pc.excluded["demand"]) == ["b5"]   # b6, 65 km away, has nobody
    with pytest.raises(UncoverableDemandError):
        plan_designations(cands, far, 2, objective="p_center", costs=C, strict=True)


def test_county_minima_in_every_objective(trap):
    cands, demand = trap
    # W and M are in 511921: at least two there forces W+M (covering b1-b3 = 26,000) instead of W+E
    lo = {"511921": 2}
    assert plan_designations(cands, demand, 2, within_km=5, min_per_county=lo).chosen == ["M", "W"]
    greedy = plan_designations(cands, demand, 2, within_km=5, min_per_county=lo, solver="greedy")
    assert greedy.chosen == ["M", "W"] and greedy.objective_value == 26000
    assert plan_designations(cands, demand, 2, objective="p_median", min_per_county=lo).chosen == ["M", "W"]
    assert plan_designations(cands, demand, 2, objective="p_center", min_per_county=lo).objective_value == 15
    cover = plan_designations(cands, demand, objective="set_cover", within_km=5, min_per_county=lo)
    assert cover.chosen == ["E", "M", "W"] and cover.objective_value == 3      # the cover W+E, plus M for 511921
    g = plan_designations(cands, demand, objective="set_cover", within_km=5, min_per_county=lo, solver="greedy")
    assert sorted(g.chosen) == ["E", "M", "W"]
    # minima that cannot be met are errors naming the county
    with pytest.raises(InfeasiblePlanError, match="511923"):
        plan_designations(cands, demand, 2, within_km=5, min_per_county={"511923": 1})
    with pytest.raises(InfeasiblePlanError, match="only 1"):
        plan_designations(cands, demand, 2, within_km=5, min_per_county={"511922": 2})
    with pytest.raises(InfeasiblePlanError, match="more than k=1"):
        plan_designations(cands, demand, 1, within_km=5, min_per_county=1)
    with pytest.raises(InfeasiblePlanError, match="exceeds its quota"):
        plan_designations(cands, demand, 2, within_km=5, min_per_county=lo, quotas_per_county=1)
    with pytest.raises(InfeasiblePlanError):                           # fixed E leaves one place for two in 511921
        plan_designations(cands, demand, 2, within_km=5, min_per_county=lo, fixed="E")


def test_k_is_chosen_by_set_cover_and_given_for_the_others(trap):
    cands, demand = trap
    with pytest.raises(InvalidPlanError, match="leave k out"):
        plan_designations(cands, demand, 2, objective="set_cover", within_km=5)
    with pytest.raises(InvalidPlanError, match="needs k"):
        plan_designations(cands, demand, objective="p_center")
    with pytest.raises(InvalidPlanError, match="within_km or within_minutes"):
        plan_designations(cands, demand, objective="set_cover")
    with pytest.raises(InvalidPlanError, match="p_center"):
        plan_designations(cands, demand, 1, objective="p_center", within_km=5)


def _class_roads():
    from shapely.geometry import LineString

    line = LineString([(X0 + x, Y0) for x in range(0, 40_001, 500)])
    return gpd.GeoDataFrame({"道路等级": ["primary"]}, geometry=[line], crs=4545)


@pytest.mark.skipif("class_col" not in inspect.signature(location.network.travel_times).parameters,
                    reason="network.travel_times takes no class_col yet (merged from the network branch)")
def test_road_class_column_gives_the_speeds():
    from bazhong_geo import network

    roads = _class_roads()
    kmh = float(network.road_speeds(roads, class_col="道路等级")[0])      # from the default class table
    cands = gpd.GeoDataFrame({"code": ["a", "b"]}, geometry=_pts([0, 30]), crs=4545)
    demand = gpd.GeoDataFrame({"code": ["v1", "v2", "v3"], "population": [100, 100, 300]},
                              geometry=_pts([5, 10, 25]), crs=4545)
    minutes = 5 * 60 / kmh                                             # 5 km of road at the class speed
    with pytest.warns(location.UncoverableDemandWarning, match="v2"):           # 10 km from a town
        res = plan_designations(cands, demand, objective="set_cover", within_minutes=minutes + 1e-6, roads=roads,
                                class_col="道路等级")
    assert res.cost_unit == "minutes" and res.chosen == ["a", "b"] and res.objective_value == 2
    assert res.assignment.set_index("demand")["cost"].to_dict() == pytest.approx(
        {"v1": minutes, "v2": 2 * minutes, "v3": minutes})
    assert list(res.excluded["demand"]) == ["v2"]
    pc = plan_designations(cands, demand, 1, objective="p_center", roads=roads, class_col="道路等级")
    assert pc.chosen == ["a"] and pc.objective_value == pytest.approx(5 * minutes)


def test_p_center_stopped_by_the_time_limit_keeps_a_valid_choice_and_a_bound():
    cands, demand, _ = _constrained_instance(13, n_dem=30, n_cand=8)       # greedy 36.5 km, optimum 23.1 km
    optimum = plan_designations(cands, demand, 3, objective="p_center")
    stopped = plan_designations(cands, demand, 3, objective="p_center", time_limit_s=1e-9)   # no probe runs
    assert stopped.status in ("Feasible", "Greedy fallback") and stopped.gap_basis == "lp_relaxation"
    assert len(stopped.chosen) == 3 and stopped.objective_value > optimum.objective_value + 1
    assert stopped.gap == pytest.approx((stopped.objective_value - stopped.bound) / stopped.objective_value)
    assert stopped.bound <= optimum.objective_value * (1 + 1e-6) and any("time limit" in n for n in stopped.notes)
    # nobody to serve: any valid choice is optimal, with worst cost 0
    empty = plan_designations(cands, demand.assign(population=0.0), 2, objective="p_center", fixed="c05")
    assert empty.objective_value == 0 and "c05" in empty.chosen and len(empty.chosen) == 2
