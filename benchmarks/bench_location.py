"""Benchmark: designation planning (MCLP, p-median, set cover, p-center) against PySAL spopt on synthetic inputs.

Run:  python benchmarks/bench_location.py [spopt time limit in s, default 300]   (plain script; not in the tests)
Prints wall times, objective values and ratios (ours / spopt). Inputs: random points in a 150 x 120 km box,
seeded; demand weights 100-5,000 people. spopt's p-center (one assignment MILP) is given a CBC time limit: at
400 x 139 it does not finish within it, and the row says so (its status and best objective at the limit).
"""

import sys
import time
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pulp
import shapely

from bazhong_geo.designation import check
from bazhong_geo.location import plan_designations

warnings.filterwarnings("ignore", category=DeprecationWarning)
X0, Y0 = 430_000.0, 3_480_000.0


def instance(n_dem, n_cand, seed=0):
    rng = np.random.default_rng(seed)
    dxy = rng.uniform(0, [150_000, 120_000], size=(n_dem, 2)) + [X0, Y0]
    cxy = rng.uniform(0, [150_000, 120_000], size=(n_cand, 2)) + [X0, Y0]
    w = rng.integers(100, 5000, size=n_dem).astype(float)
    demand = gpd.GeoDataFrame({"population": w}, geometry=shapely.points(dxy), crs=4545)
    cands = gpd.GeoDataFrame({"code": [f"c{j:03d}" for j in range(n_cand)],
                              "population": rng.integers(5_000, 70_000, size=n_cand).astype(float)},
                             geometry=shapely.points(cxy), crs=4545)
    cost = np.hypot(dxy[:, None, 0] - cxy[None, :, 0], dxy[:, None, 1] - cxy[None, :, 1]) / 1000
    return cands, demand, w, cost


def timed(fn, *args, **kwargs):
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t


def build_and_solve(build, solver, *args, **kwargs):
    """Build a spopt model (part of its cost) and solve it."""
    return build(*args, **kwargs).solve(solver)


def spopt_status(model):
    """PuLP's status, with a CBC run stopped by its time limit (an incumbent, not proven) told apart."""
    if model.problem.sol_status == pulp.LpSolutionIntegerFeasible:
        return "time limit (incumbent)"
    return pulp.LpStatus[model.problem.status]


def set_cover_rows(solver):
    from spopt.locate import LSCP

    rows = []
    cands, demand, _, cost = instance(400, 139, seed=1)
    least = float(np.ceil(cost.min(axis=1).max()))           # the smallest whole-km standard covering everyone
    for radius in (least, least + 8.0):
        ours, t_ours = timed(plan_designations, cands, demand, objective="set_cover", within_km=radius)
        greedy, t_greedy = timed(plan_designations, cands, demand, objective="set_cover", within_km=radius,
                                 solver="greedy")
        spo, t_spo = timed(build_and_solve, LSCP.from_cost_matrix, solver, cost, radius)
        rows.append({"model": f"set cover 400x139 r={radius:g} km", "ours_s": t_ours, "spopt_s": t_spo,
                     "ratio": t_ours / t_spo, "ours_obj": ours.objective_value,
                     "spopt_obj": spo.problem.objective.value(), "spopt_status": spopt_status(spo),
                     "greedy_s": t_greedy, "greedy_obj": greedy.objective_value, "greedy_gap_vs_lp": greedy.gap})
    return rows


def p_center_rows(limit):
    from spopt.locate import PCenter

    rows = []
    limited = pulp.PULP_CBC_CMD(msg=False, timeLimit=limit)
    for n_dem, n_cand, k in ((200, 60, 8), (400, 139, 12)):
        cands, demand, _, cost = instance(n_dem, n_cand, seed=2)
        ours, t_ours = timed(plan_designations, cands, demand, k, objective="p_center")
        greedy, t_greedy = timed(plan_designations, cands, demand, k, objective="p_center", solver="greedy")
        spo, t_spo = timed(build_and_solve, PCenter.from_cost_matrix, limited, cost, k)
        rows.append({"model": f"p-center {n_dem}x{n_cand} k={k}", "ours_s": t_ours, "spopt_s": t_spo,
                     "ratio": t_ours / t_spo, "ours_obj": ours.objective_value,
                     "spopt_obj": spo.problem.objective.value(), "spopt_status": spopt_status(spo),
                     "greedy_s": t_greedy, "greedy_obj": greedy.objective_value, "greedy_gap_vs_lp": greedy.gap})
    return rows


def main():
    from spopt.locate import MCLP, PMedian

    limit = float(sys.argv[1]) if len(sys.argv) > 1 else 300.0
    solver = pulp.PULP_CBC_CMD(msg=False)
    rows = []
    for n_dem, n_cand, k, radius in ((1809, 139, 12, 10.0), (1809, 139, 40, 8.0)):
        cands, demand, w, cost = instance(n_dem, n_cand)
        ours, t_ours = timed(plan_designations, cands, demand, k, within_km=radius)
        greedy, t_greedy = timed(plan_designations, cands, demand, k, within_km=radius, solver="greedy")
        spo, t_spo = timed(build_and_solve, MCLP.from_cost_matrix, solver, cost, w, radius, k)
        rows.append({"model": f"MCLP {n_dem}x{n_cand} k={k} r={radius:g} km", "ours_s": t_ours, "spopt_s": t_spo,
                     "ratio": t_ours / t_spo, "ours_obj": ours.objective_value,
                     "spopt_obj": spo.problem.objective.value(), "spopt_status": spopt_status(spo),
                     "greedy_s": t_greedy,
                     "greedy_obj": greedy.objective_value, "greedy_gap_vs_lp": greedy.gap})
    for n_dem, n_cand, k in ((400, 139, 12),):
        cands, demand, w, cost = instance(n_dem, n_cand, seed=1)
        ours, t_ours = timed(plan_designations, cands, demand, k, objective="p_median")
        greedy, t_greedy = timed(plan_designations, cands, demand, k, objective="p_median", solver="greedy")
        spo, t_spo = timed(build_and_solve, PMedian.from_cost_matrix, solver, cost, w, k)
        rows.append({"model": f"p-median {n_dem}x{n_cand} k={k}", "ours_s": t_ours, "spopt_s": t_spo,
                     "ratio": t_ours / t_spo, "ours_obj": ours.objective_value,
                     "spopt_obj": spo.problem.objective.value(), "spopt_status": spopt_status(spo),
                     "greedy_s": t_greedy,
                     "greedy_obj": greedy.objective_value, "greedy_gap_vs_lp": greedy.gap})
    rows += set_cover_rows(solver) + p_center_rows(limit)
    cands, _, _, _ = instance(10, 2000, seed=2)
    cands["name"] = cands["code"]
    ctx = gpd.GeoDataFrame({"code": ["a", "b"], "name": ["A", "B"], "tier": ["county_town", "central_city"]},
                           geometry=shapely.points([[X0 + 50_000, Y0 + 50_000], [X0 + 100_000, Y0 + 60_000]]),
                           crs=4545)
    res, t_check = timed(check, cands, "mega-town", context=ctx)
    pd.set_option("display.width", 200)
    print(pd.DataFrame(rows).round(4).to_string(index=False))
    print(f"check(): 2000 candidates x mega-town (2 criteria) in {t_check:.2f} s "
          f"({len(res.details)} detail rows)")


if __name__ == "__main__":
    main()
