"""Designation planning: maximal covering and p-median location-allocation (exact integer programme or greedy)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from ._errors import (
    EmptyInputError,
    InfeasiblePlanError,
    InvalidPlanError,
    InvalidPopulationError,
    MissingColumnError,
    MissingCRSError,
)

__all__ = ["PlanResult", "plan_designations", "cost_matrix"]

WORK_EPSG = 4545
OBJECTIVES = ("covered_population", "p_median")
SOLVERS = ("exact", "greedy")


@dataclass
class PlanResult:
    """Outcome of :func:`plan_designations`.

    Attributes
    ----------
    chosen : list of str
        Codes of every designated candidate (fixed ones included), sorted.
    new : list of str
        Chosen codes that were not fixed.
    objective : str
        ``covered_population`` (maximise) or ``p_median`` (minimise population-weighted cost).
    objective_value : float
        Covered population (people), or the sum of population x cost (people·km or people·minutes).
    status : str
        ``Optimal`` (CBC, proven), ``Greedy`` (solver="greedy"), ``Feasible`` (CBC stopped by ``time_limit_s``
        with its best solution) or ``Greedy fallback`` (CBC stopped without a solution, or with a worse one than
        greedy's); ``notes`` say which.
    gap : float
        Relative optimality gap: 0 when proven optimal; for greedy, against ``bound``.
    bound : float
        The bound the gap is measured against (the LP-relaxation optimum, or the exact optimum).
    gap_basis : str
        ``proven``, ``lp_relaxation`` or ``exact``.
    cost_unit : str
        ``km`` (straight-line in EPSG:4545) or ``minutes`` (road travel time).
    covered_population, total_population, mean_cost : float
        Population within the service standard of a chosen candidate, total demand population, and the
        population-weighted mean cost to the nearest chosen candidate.
    assignment : pandas.DataFrame
        Per demand unit: ``demand``, ``population``, ``nearest`` (code), ``cost``, ``covered``.
    candidates : pandas.DataFrame
        Per candidate: ``code``, ``fixed``, ``chosen``, ``population_served`` (demand whose nearest chosen is it).
    notes : list of str
        Everything excluded or adjusted, with the reason.
    """

    chosen: list[str]
    new: list[str]
    objective: str
    objective_value: float
    status: str
    solver: str
    gap: float
    bound: float
    gap_basis: str
    cost_unit: str
    k: int
    covered_population: float
    total_population: float
    mean_cost: float
    assignment: pd.DataFrame
    candidates: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """A few lines for a report."""
        lines = [f"{self.objective} with k={self.k} ({self.solver}, status {self.status}, gap {self.gap:.2%} vs "
                 f"{self.gap_basis}): chosen {', '.join(self.chosen)} (new: {', '.join(self.new) or 'none'})",
                 f"objective value {self.objective_value:,.1f}; covered population {self.covered_population:,.0f} of "
                 f"{self.total_population:,.0f}; mean {self.cost_unit} to nearest chosen {self.mean_cost:.2f}"]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def _points(gdf, what: str):
    import geopandas as gpd
    import shapely

    if not isinstance(gdf, gpd.GeoDataFrame):
        raise MissingColumnError(f"{what} must be a GeoDataFrame with point (or polygon) geometry")
    if gdf.crs is None:
        raise MissingCRSError(f"{what} has no CRS; set it (e.g. .set_crs(4326)) first")
    g = gdf if gdf.crs.to_epsg() == WORK_EPSG else gdf.to_crs(WORK_EPSG)
    geoms = np.asarray(g.geometry.values, dtype=object)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    xy = np.full((len(g), 2), np.nan)
    if ok.any():
        xy[ok] = shapely.get_coordinates(shapely.point_on_surface(geoms[ok]))
    return g, xy, ok


def cost_matrix(demand, candidates, *, roads=None, speed_col=None) -> tuple[np.ndarray, str]:
    """Demand x candidate cost: straight-line km in EPSG:4545, or road minutes when ``roads`` is given.

    Polygons are represented by a point on their surface. Road times come from
    ``bazhong_geo.network.travel_times`` (unreachable pairs are ``inf``).

    Returns
    -------
    (numpy.ndarray, str)
        The matrix and its unit (``"km"`` or ``"minutes"``).
    """
    dg, dxy, _ = _points(demand, "demand")
    cg, cxy, _ = _points(candidates, "candidates")
    if roads is None:
        d = np.hypot(dxy[:, None, 0] - cxy[None, :, 0], dxy[:, None, 1] - cxy[None, :, 1]) / 1000.0
        return np.nan_to_num(d, nan=np.inf), "km"
    from . import network  # noqa: PLC0415  (optional module)

    kwargs = {"speed_col": speed_col} if speed_col else {}
    tt = network.travel_times(roads, dg, cg, **kwargs)
    arr = tt.to_numpy(dtype=float) if hasattr(tt, "to_numpy") else np.asarray(tt, dtype=float)
    return np.nan_to_num(arr, nan=np.inf), "minutes"


def plan_designations(candidates, demand, k: int, *, objective: str = "covered_population",
                      within_km: float | None = None, within_minutes: float | None = None, roads=None,
                      speed_col: str | None = None, fixed: Iterable[str] | None = None,
                      quotas_per_county: "int | Mapping[str, int] | None" = None,
                      min_spacing_km: float | None = None, solver: str = "exact",
                      gap_against: str = "lp_relaxation", costs: np.ndarray | None = None,
                      time_limit_s: float | None = None) -> PlanResult:
    """Choose which ``k`` candidate towns to designate: maximal covering (MCLP) or p-median.

    Parameters
    ----------
    candidates : geopandas.GeoDataFrame
        Candidate towns with ``code`` and point geometry; ``county_code`` when quotas are given.
        Candidates without coordinates are excluded (reported in ``notes``).
    demand : geopandas.GeoDataFrame
        Points or polygons with ``population`` (people); optional ``code``.
    k : int
        Total number of designated towns, the fixed ones included (as spopt's ``p_facilities``).
    objective : {"covered_population", "p_median"}
        Maximise the population within the service standard of a designated town, or minimise the
        population-weighted distance/time to the nearest designated town.
    within_km, within_minutes : float, optional
        The service standard of the covering objective (one of them). Minutes need ``roads``.
    roads : geopandas.GeoDataFrame, optional
        Road lines; costs become travel minutes via ``bazhong_geo.network.travel_times``.
    speed_col : str, optional
        Speed column (km/h) of ``roads`` passed to ``travel_times``.
    fixed : iterable of str, optional
        Codes already designated: always chosen, counted in ``k``.
    quotas_per_county : int or dict, optional
        Maximum designated towns per ``county_code`` (one number for all counties, or per code).
    min_spacing_km : float, optional
        No two chosen towns closer than this (straight line); pairs of fixed towns are exempt (reported).
    solver : {"exact", "greedy"}
        Integer programme with CBC (PuLP), or the greedy heuristic with its gap reported.
    gap_against : {"lp_relaxation", "exact"}
        Bound for the greedy gap: the LP relaxation (cheap, a valid bound) or the exact optimum.
    costs : numpy.ndarray, optional
        A precomputed demand x candidate cost matrix (km or minutes, ``inf`` = unreachable) instead of geometry.
    time_limit_s : float, optional
        CBC time limit; a solution that is not proven optimal (the incumbent, or the greedy fallback when better or
        when CBC found none) reports its gap against the LP relaxation, which is always solved to the end.

    Returns
    -------
    PlanResult

    Raises
    ------
    InvalidPlanError
        k < 1, k larger than the number of (located) candidates, fewer than ``len(fixed)``, unknown fixed codes,
        missing service standard, unknown objective or solver.
    InfeasiblePlanError
        Quotas or spacing leave no feasible choice of k towns.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> towns = gpd.GeoDataFrame({"code": ["A", "B", "C"]},
    ...                          geometry=[Point(0, 0), Point(10_000, 0), Point(20_000, 0)], crs=4545)
    >>> people = gpd.GeoDataFrame({"population": [100, 300, 200]},
    ...                           geometry=[Point(0, 0), Point(10_000, 0), Point(20_000, 0)], crs=4545)
    >>> plan_designations(towns, people, 1, within_km=10).chosen
    ['B']
    """
    import pulp

    if objective not in OBJECTIVES:
        raise InvalidPlanError(f"unknown objective {objective!r}; use one of {', '.join(OBJECTIVES)}")
    if solver not in SOLVERS:
        raise InvalidPlanError(f"unknown solver {solver!r}; use one of {', '.join(SOLVERS)}")
    if gap_against not in ("lp_relaxation", "exact"):
        raise InvalidPlanError(f"gap_against must be 'lp_relaxation' or 'exact', got {gap_against!r}")
    if "code" not in candidates.columns:
        raise MissingColumnError("candidates have no 'code' column; add a unique code per candidate")
    if "population" not in demand.columns:
        raise MissingColumnError("demand has no 'population' column; add people per demand unit")
    if len(candidates) == 0 or len(demand) == 0:
        raise EmptyInputError("plan_designations needs at least one candidate and one demand unit")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InvalidPlanError(f"k must be a positive integer, got {k!r}")
    k = int(k)
    n_all = len(candidates)
    if k > n_all:
        raise InvalidPlanError(f"k={k} is larger than the number of candidates ({n_all}); lower k or add candidates")
    if objective == "covered_population":
        if (within_km is None) == (within_minutes is None):
            raise InvalidPlanError("the covering objective needs exactly one service standard: within_km or "
                                   "within_minutes")
        if within_minutes is not None and roads is None and costs is None:
            raise InvalidPlanError("within_minutes needs a road layer (roads=...) or a cost matrix in minutes")
    elif within_km is not None or within_minutes is not None:
        raise InvalidPlanError("within_km/within_minutes apply to objective='covered_population', not 'p_median'")

    notes: list[str] = []
    codes_all = candidates["code"].astype(str).to_numpy()
    if len(set(codes_all)) != n_all:
        from ._errors import DuplicateCodeError

        dup = pd.Series(codes_all)[pd.Series(codes_all).duplicated()].unique()
        raise DuplicateCodeError(f"candidate codes must be unique; repeated: {', '.join(dup[:10])}")
    pop = pd.to_numeric(demand["population"], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(pop) | (pop < 0))
    if len(bad):
        raise InvalidPopulationError(f"demand rows {bad[:10].tolist()} have missing or negative population; fix or "
                                     "drop them before planning")
    fixed_set = [str(c) for c in (fixed or [])]
    unknown = sorted(set(fixed_set) - set(codes_all))
    if unknown:
        raise InvalidPlanError(f"fixed codes not among the candidates: {', '.join(unknown)}")
    fixed_set = sorted(set(fixed_set))
    if len(fixed_set) > k:
        raise InvalidPlanError(f"{len(fixed_set)} fixed designations exceed k={k}; k counts the fixed ones too")

    # cost matrix and usable candidates
    if costs is not None:
        C = np.asarray(costs, dtype=float)
        if C.shape != (len(demand), n_all):
            raise InvalidPlanError(f"costs has shape {C.shape}, expected (demand, candidates) = "
                                   f"{(len(demand), n_all)}")
        unit = "minutes" if within_minutes is not None else "km"
        cand_ok = np.ones(n_all, bool)
        cxy = None
        if min_spacing_km is not None:
            _, cxy, cand_ok_geo = _points(candidates, "candidates")
    else:
        _, cxy, cand_ok = _points(candidates, "candidates")
        _, _, dem_ok = _points(demand, "demand")
        if not dem_ok.all():
            raise InvalidPlanError(f"demand rows {np.flatnonzero(~dem_ok)[:10].tolist()} have no geometry; locate or "
                                   "drop them")
        use_roads = roads is not None and within_km is None
        if roads is not None and within_km is not None:
            notes.append("roads given with a km standard: coverage uses straight-line km; give within_minutes to "
                         "use road travel times")
        C, unit = cost_matrix(demand, candidates, roads=roads if use_roads else None, speed_col=speed_col)
        if within_minutes is not None and unit != "minutes":  # pragma: no cover - guarded above
            raise InvalidPlanError("within_minutes needs road travel times")
    C = np.where(np.isnan(C), np.inf, C)
    missing_loc = [codes_all[j] for j in np.flatnonzero(~cand_ok)]
    if missing_loc:
        bad_fixed = sorted(set(missing_loc) & set(fixed_set))
        if bad_fixed:
            raise InvalidPlanError(f"fixed candidates without coordinates: {', '.join(bad_fixed)}; locate them")
        notes.append(f"{len(missing_loc)} candidate(s) without coordinates excluded: {', '.join(missing_loc)}")
    idx = np.flatnonzero(cand_ok)
    if k > len(idx):
        raise InvalidPlanError(f"k={k} is larger than the number of located candidates ({len(idx)})")
    codes = codes_all[idx]
    C = C[:, idx]
    n = len(idx)
    is_fixed = np.isin(codes, fixed_set)

    # constraints: quotas and spacing
    groups: list[tuple[str, np.ndarray, int]] = []
    if quotas_per_county is not None:
        if "county_code" not in candidates.columns:
            raise MissingColumnError("quotas_per_county needs a 'county_code' column on the candidates")
        county = candidates["county_code"].astype(str).to_numpy()[idx]
        for cc in sorted(set(county)):
            q = quotas_per_county if isinstance(quotas_per_county, (int, np.integer)) else \
                quotas_per_county.get(cc, quotas_per_county.get(int(cc), None) if cc.isdigit() else None)
            if q is None:
                continue
            members = np.flatnonzero(county == cc)
            if is_fixed[members].sum() > q:
                raise InfeasiblePlanError(f"county {cc}: {int(is_fixed[members].sum())} fixed designations exceed its "
                                          f"quota of {q}")
            groups.append((cc, members, int(q)))
    conflicts: list[tuple[int, int]] = []
    if min_spacing_km is not None:
        xy = cxy[idx]
        D = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1]) / 1000.0
        ii, jj = np.nonzero(np.triu(D < min_spacing_km, 1))
        for a, b in zip(ii.tolist(), jj.tolist()):
            if is_fixed[a] and is_fixed[b]:
                notes.append(f"fixed {codes[a]} and {codes[b]} are {D[a, b]:.1f} km apart (< {min_spacing_km} km); "
                             "kept, spacing applies to new designations")
                continue
            conflicts.append((a, b))

    w = pop
    if objective == "covered_population":
        R = within_km if within_km is not None else within_minutes
        A = C <= R
        maximise = True
    else:
        A = None
        maximise = False
        unreachable = ~np.isfinite(C).any(axis=1)
        if unreachable.any():
            notes.append(f"{int(unreachable.sum())} demand unit(s) reach no candidate; left out of the p-median "
                         "objective")
            w = np.where(unreachable, 0.0, w)

    def build(relax: bool):
        prob = pulp.LpProblem("designation", pulp.LpMaximize if maximise else pulp.LpMinimize)
        cat = pulp.LpContinuous if relax else pulp.LpBinary
        x = [pulp.LpVariable(f"x_{j}", lowBound=0, upBound=1, cat=cat) for j in range(n)]
        prob += pulp.lpSum(x) == k, "k"
        for j in np.flatnonzero(is_fixed):   # an explicit constraint: PuLP resets the bounds of binaries to 0-1
            prob += x[j] == 1, f"fixed_{j}"
        for cc, members, q in groups:
            prob += pulp.lpSum(x[j] for j in members) <= q, f"quota_{cc}"
        for a, b in conflicts:
            prob += x[a] + x[b] <= 1, f"spacing_{a}_{b}"
        if maximise:
            terms = []
            for i in np.flatnonzero((w > 0) & A.any(axis=1)):
                y = pulp.LpVariable(f"y_{i}", lowBound=0, upBound=1)
                prob += y <= pulp.lpSum(x[j] for j in np.flatnonzero(A[i])), f"cover_{i}"
                terms.append(float(w[i]) * y)
            prob += pulp.lpSum(terms)
        else:
            terms = []
            for i in np.flatnonzero(w > 0):
                reach = np.flatnonzero(np.isfinite(C[i]))
                z = [pulp.LpVariable(f"z_{i}_{j}", lowBound=0, upBound=1) for j in reach]
                prob += pulp.lpSum(z) == 1, f"assign_{i}"
                for zz, j in zip(z, reach):
                    prob += zz <= x[j], f"open_{i}_{j}"
                    terms.append(float(w[i] * C[i, j]) * zz)
            prob += pulp.lpSum(terms)
        return prob, x

    def run(relax: bool, limit: float | None = time_limit_s):
        """Solve; return (status, proven optimal, an integer solution found, objective, x values)."""
        import warnings

        kw = {"msg": False}
        if limit is not None:
            kw["timeLimit"] = limit
        with warnings.catch_warnings():
            # PuLP 3.x announces its 4.0 API (prob.add_variable, COIN_CMD); the 2.7-3.x API used here still works
            warnings.filterwarnings("ignore", message=r".*PuLP 4\.0", category=DeprecationWarning)
            prob, x = build(relax)
            prob.solve(pulp.PULP_CBC_CMD(**kw))
        status = pulp.LpStatus[prob.status]
        if status == "Infeasible":
            raise InfeasiblePlanError(
                f"no feasible choice of k={k} designations: the per-county quotas ({len(groups)} counties) and/or "
                f"minimum spacing ({len(conflicts)} conflicting pairs) are too tight; lower k or relax them")
        # CBC stopped by the time limit with an incumbent reports "Optimal" to PuLP; only sol_status tells
        proven = prob.sol_status == pulp.LpSolutionOptimal
        found = proven or prob.sol_status == pulp.LpSolutionIntegerFeasible
        val = pulp.value(prob.objective)
        return status, proven, found, (0.0 if val is None else float(val)), np.array([v.value() or 0.0 for v in x])

    def lp_bound() -> float:
        """The LP relaxation's optimum, solved to the end: an LP stopped by a time limit bounds nothing."""
        _, proven, _, val, _ = run(relax=True, limit=None)
        return val if proven else float("nan")

    def valid(mask: np.ndarray) -> bool:
        """A choice of exactly k towns with the fixed ones, within the quotas, no spacing conflict."""
        return (int(mask.sum()) == k and bool(mask[is_fixed].all())
                and all(int(mask[members].sum()) <= q for _, members, q in groups)
                and not any(mask[a] and mask[b] for a, b in conflicts))

    def value_of(mask: np.ndarray) -> float:
        if maximise:
            return float(w[A[:, mask].any(axis=1)].sum())
        best_c = C[:, mask].min(axis=1)
        return float(np.where(w > 0, w * best_c, 0.0).sum())

    if solver == "exact":
        status, proven, found, val, xs = run(relax=False)
        chosen_mask = xs > 0.5
        if proven:
            bound, gap_basis = val, "proven"
        else:
            # stopped by the time limit: the solver's incumbent (when it is a valid choice) or the greedy fallback,
            # whichever is better; the gap is measured against the LP relaxation
            integral = bool(np.all(np.abs(xs - np.round(xs)) < 1e-6))   # values of an integral relaxation
            incumbent = chosen_mask if ((found or integral) and valid(chosen_mask)) else None
            try:
                fallback = _greedy(A, C, w, k, is_fixed, groups, conflicts, maximise, codes)
            except InfeasiblePlanError:
                fallback = None
            if fallback is not None and (incumbent is None or (
                    value_of(fallback) > value_of(incumbent) if maximise
                    else value_of(fallback) < value_of(incumbent))):
                chosen_mask, status = fallback, "Greedy fallback"
                notes.append(f"CBC stopped at the time limit ({time_limit_s} s) "
                             + ("without an integer solution" if incumbent is None else "with a worse solution")
                             + ": the greedy solution is used; raise time_limit_s for a proven optimum")
            elif incumbent is not None:
                chosen_mask, status = incumbent, "Feasible"
                notes.append(f"CBC stopped at the time limit ({time_limit_s} s): best solution found, not proven "
                             "optimal; raise time_limit_s for a proven optimum")
            else:
                raise InfeasiblePlanError(f"no feasible choice of k={k} designations found within the time limit "
                                          f"({time_limit_s} s), and greedy found none; raise time_limit_s")
            bound, gap_basis = lp_bound(), "lp_relaxation"
    else:
        chosen_mask = _greedy(A, C, w, k, is_fixed, groups, conflicts, maximise, codes)
        status, gap_basis = "Greedy", gap_against
        if gap_against == "exact":
            _, exact_proven, _, bound, _ = run(relax=False)
            if not exact_proven:
                bound, gap_basis = lp_bound(), "lp_relaxation"
                notes.append(f"the exact optimum was not proven within the time limit ({time_limit_s} s): greedy's "
                             "gap is measured against the LP relaxation")
        else:
            bound = lp_bound()

    # evaluate the chosen set directly (independent of the solver's internal variables)
    sel = np.flatnonzero(chosen_mask)
    Cs = C[:, sel]
    best = np.argmin(Cs, axis=1)
    best_cost = Cs[np.arange(len(C)), best]
    reach = np.isfinite(best_cost)
    nearest = np.where(reach, codes[sel][best], None)
    if maximise:
        covered = best_cost <= R
        value = float(w[covered].sum())
    else:
        covered = reach
        value = float((w[reach] * best_cost[reach]).sum())
    total = float(pop.sum())
    mean_cost = float((pop[reach] * best_cost[reach]).sum() / pop[reach].sum()) if pop[reach].sum() > 0 else np.nan
    if gap_basis == "proven":
        bound = value
    if not np.isfinite(bound):
        gap = float("nan")                      # no valid bound: the gap is unknown, not 0
    else:
        if maximise:
            gap = (bound - value) / bound if bound > 0 else 0.0
        else:
            gap = (value - bound) / value if value > 0 else 0.0
        gap = max(0.0, float(gap)) if abs(gap) > 1e-9 else 0.0

    dem_code = demand["code"].astype(str).to_numpy() if "code" in demand.columns else np.arange(len(demand)).astype(str)
    assignment = pd.DataFrame({"demand": dem_code, "population": pop, "nearest": nearest,
                               "cost": np.where(reach, best_cost, np.nan), "covered": covered})
    served = assignment[assignment["covered"]].groupby("nearest")["population"].sum()
    cand_table = pd.DataFrame({"code": codes_all, "fixed": np.isin(codes_all, fixed_set),
                               "chosen": np.isin(codes_all, codes[sel]), "located": cand_ok})
    cand_table["population_served"] = cand_table["code"].map(served).fillna(0.0)
    chosen = sorted(codes[sel].tolist())
    return PlanResult(chosen=chosen, new=[c for c in chosen if c not in fixed_set], objective=objective,
                      objective_value=value, status=status, solver=solver, gap=gap, bound=float(bound),
                      gap_basis=gap_basis, cost_unit=unit, k=k, covered_population=float(w[covered].sum())
                      if maximise else float(pop[reach].sum()), total_population=total, mean_cost=mean_cost,
                      assignment=assignment, candidates=cand_table, notes=notes)


def _greedy(A, C, w, k, is_fixed, groups, conflicts, maximise, codes) -> np.ndarray:
    """Greedy add-one heuristic honouring fixed towns, quotas and spacing; ties go to the smaller code."""
    n = C.shape[1]
    chosen = is_fixed.copy()
    conflict_of = [set() for _ in range(n)]
    for a, b in conflicts:
        conflict_of[a].add(b)
        conflict_of[b].add(a)
    group_of = [[] for _ in range(n)]
    for gi, (_, members, _) in enumerate(groups):
        for j in members:
            group_of[j].append(gi)
    used = [int(chosen[members].sum()) for _, members, _ in groups]
    order = np.argsort(codes, kind="stable")  # tie-break by code
    finite = np.where(np.isfinite(C), C, np.nan)
    big = (np.nanmax(finite) if np.isfinite(finite).any() else 1.0) * 10 + 1
    Cb = np.where(np.isfinite(C), C, big)
    while chosen.sum() < k:
        feasible = ~chosen
        for j in np.flatnonzero(feasible):
            if any(chosen[b] for b in conflict_of[j]) or any(used[g] >= groups[g][2] for g in group_of[j]):
                feasible[j] = False
        if not feasible.any():
            raise InfeasiblePlanError(f"greedy: no feasible candidate left after {int(chosen.sum())} of k={k} "
                                      "designations (quotas/spacing); try solver='exact' or relax the constraints")
        if maximise:
            covered = A[:, chosen].any(axis=1) if chosen.any() else np.zeros(A.shape[0], bool)
            score = (w * ~covered) @ A          # marginal covered population
        else:
            cur = Cb[:, chosen].min(axis=1) if chosen.any() else np.full(C.shape[0], np.inf)
            score = -(w[:, None] * np.minimum(cur[:, None], Cb)).sum(axis=0)
        score = np.where(feasible, score, -np.inf)
        j = order[np.argmax(score[order])]
        chosen[j] = True
        for g in group_of[j]:
            used[g] += 1
    return chosen
