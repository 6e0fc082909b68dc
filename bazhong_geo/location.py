"""Designation planning: maximal covering and p-median location-allocation (exact integer programme or greedy).

:func:`plan_designations` is a pipeline of named steps: validate the inputs, build the demand and candidate tables,
cost them (straight-line km or road minutes), build the model (constraints, and the objective from the
:data:`OBJECTIVES` registry), solve it (exact with CBC, or greedy with its gap), and evaluate the chosen set.
An objective is one function registered with :func:`register_objective` (a new one, e.g. set covering or p-center, is one
more function); the model options (fixed towns, county maxima, spacing, solver, time limit) are a frozen
:class:`LocationOptions`.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import network, settings
from ._errors import (
    DuplicateCodeError,
    EmptyInputError,
    InfeasiblePlanError,
    InvalidPlanError,
    InvalidPopulationError,
    MissingColumnError,
    MissingCRSError,
)

__all__ = ["OBJECTIVES", "SOLVERS", "LocationOptions", "PlanResult", "cost_matrix", "plan_designations"]

SOLVERS = ("exact", "greedy")
GAP_BASES = ("lp_relaxation", "exact")


@dataclass(frozen=True)
class LocationOptions:
    """Model options of :func:`plan_designations` (all optional; the defaults add no constraint).

    Attributes
    ----------
    fixed : tuple of str
        Codes already designated: always chosen, counted in ``k`` (a single code may be given as a string).
    quotas_per_county : int or dict, optional
        Maximum designated towns per ``county_code`` (one number for all counties, or per code).
    min_spacing_km : float, optional
        No two chosen towns closer than this (straight line); pairs of fixed towns are exempt (reported).
    solver : {"exact", "greedy"}
        Integer programme with CBC (PuLP), or the greedy heuristic with its gap reported.
    gap_against : {"lp_relaxation", "exact"}
        Bound for the greedy gap: the LP relaxation (cheap, a valid bound) or the exact optimum.
    time_limit_s : float, optional
        CBC time limit; a solution that is not proven optimal (the incumbent, or the greedy fallback when better or
        when CBC found none) reports its gap against the LP relaxation, which is always solved to the end.
    speed_col : str, optional
        Speed column (km/h) of the road layer, passed to ``bazhong_geo.network.travel_times``.
    costs : numpy.ndarray, optional
        A precomputed demand x candidate cost matrix (km or minutes, ``inf`` = unreachable) instead of geometry.

    Examples
    --------
    >>> opts = LocationOptions(fixed=["B", "A"], min_spacing_km=10)
    >>> opts.fixed, opts.solver
    (('A', 'B'), 'exact')
    >>> opts.replace(solver="greedy").solver
    'greedy'
    """

    fixed: tuple[str, ...] = ()
    quotas_per_county: int | Mapping[str, int] | None = None
    min_spacing_km: float | None = None
    solver: str = "exact"
    gap_against: str = "lp_relaxation"
    time_limit_s: float | None = None
    speed_col: str | None = None
    costs: np.ndarray | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        """Normalise ``fixed`` to sorted unique codes; check the solver and gap basis."""
        fixed = [self.fixed] if isinstance(self.fixed, str) else (self.fixed or ())   # one code given as a string
        object.__setattr__(self, "fixed", tuple(sorted({str(c) for c in fixed})))
        if self.solver not in SOLVERS:
            raise InvalidPlanError(f"unknown solver {self.solver!r}; use one of {', '.join(SOLVERS)}")
        if self.gap_against not in GAP_BASES:
            raise InvalidPlanError(f"gap_against must be 'lp_relaxation' or 'exact', got {self.gap_against!r}")

    def replace(self, **changes: Any) -> LocationOptions:
        """Return a copy with some options changed."""
        return dataclasses.replace(self, **changes)


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
        lines = [(f"{self.objective} with k={self.k} ({self.solver}, status {self.status}, gap {self.gap:.2%} vs "
                 f"{self.gap_basis}): chosen {', '.join(self.chosen)} (new: {', '.join(self.new) or 'none'})"),
                 (f"objective value {self.objective_value:,.1f}; covered population {self.covered_population:,.0f} of "
                 f"{self.total_population:,.0f}; mean {self.cost_unit} to nearest chosen {self.mean_cost:.2f}")]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


# ------------------------------------------------------------------------------------------- inputs and costs

def _points(gdf: Any, what: str) -> tuple[Any, np.ndarray, np.ndarray]:
    """The layer in the work CRS, a representative point (x, y) per row and a mask of located rows."""
    import geopandas as gpd
    import shapely

    if not isinstance(gdf, gpd.GeoDataFrame):
        raise MissingColumnError(f"{what} must be a GeoDataFrame with point (or polygon) geometry")
    if gdf.crs is None:
        raise MissingCRSError(f"{what} has no CRS; set it (e.g. .set_crs(4326)) first")
    g = gdf if gdf.crs == settings.WORK_CRS else gdf.to_crs(settings.WORK_CRS)
    geoms = np.asarray(g.geometry.values, dtype=object)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    xy = np.full((len(g), 2), np.nan)
    if ok.any():
        xy[ok] = shapely.get_coordinates(shapely.point_on_surface(geoms[ok]))
    return g, xy, ok


def cost_matrix(demand: Any, candidates: Any, *, roads: Any = None,
                speed_col: str | None = None) -> tuple[np.ndarray, str]:
    """Demand x candidate cost: straight-line km in the work CRS, or road minutes when ``roads`` is given.

    Polygons are represented by a point on their surface. Road times come from
    ``bazhong_geo.network.travel_times`` (unreachable pairs are ``inf``).

    Returns
    -------
    (numpy.ndarray, str)
        The matrix and its unit (``"km"`` or ``"minutes"``).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> towns = gpd.GeoDataFrame({"code": ["A"]}, geometry=[Point(0, 0)], crs=4545)
    >>> people = gpd.GeoDataFrame({"population": [1, 2]}, geometry=[Point(3000, 4000), Point(0, 500)], crs=4545)
    >>> C, unit = cost_matrix(people, towns)
    >>> C.ravel().tolist(), unit
    ([5.0, 0.5], 'km')
    """
    dg, dxy, _ = _points(demand, "demand")
    cg, cxy, _ = _points(candidates, "candidates")
    if roads is None:
        d = np.hypot(dxy[:, None, 0] - cxy[None, :, 0], dxy[:, None, 1] - cxy[None, :, 1]) / 1000.0
        return np.nan_to_num(d, nan=np.inf), "km"
    kwargs = {"speed_col": speed_col} if speed_col else {}
    tt = network.travel_times(roads, dg, cg, **kwargs)
    arr = tt.to_numpy(dtype=float) if hasattr(tt, "to_numpy") else np.asarray(tt, dtype=float)
    return np.nan_to_num(arr, nan=np.inf), "minutes"


@dataclass(frozen=True)
class _Standard:
    """The objective and its service standard (``value`` in ``unit``; None for objectives without one)."""

    objective: str
    value: float | None
    unit: str | None          # "km", "minutes" or None


def _check_standard(objective: str, within_km: float | None, within_minutes: float | None, roads: Any,
                    opts: LocationOptions) -> _Standard:
    """Validate the objective name against the registry and the service standard it needs."""
    if objective not in OBJECTIVES:
        raise InvalidPlanError(f"unknown objective {objective!r}; use one of {', '.join(OBJECTIVES)}")
    if OBJECTIVES[objective].uses_standard:
        if (within_km is None) == (within_minutes is None):
            raise InvalidPlanError(f"the {objective} objective needs exactly one service standard: within_km or "
                                   "within_minutes")
        if within_minutes is not None and roads is None and opts.costs is None:
            raise InvalidPlanError("within_minutes needs a road layer (roads=...) or a cost matrix in minutes")
    elif within_km is not None or within_minutes is not None:
        raise InvalidPlanError(f"within_km/within_minutes apply to a covering objective, not {objective!r}")
    if within_km is not None:
        return _Standard(objective, float(within_km), "km")
    if within_minutes is not None:
        return _Standard(objective, float(within_minutes), "minutes")
    return _Standard(objective, None, None)


def _check_k(k: Any, n_candidates: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InvalidPlanError(f"k must be a positive integer, got {k!r}")
    if k > n_candidates:
        raise InvalidPlanError(f"k={k} is larger than the number of candidates ({n_candidates}); lower k or add "
                               "candidates")
    return int(k)


def _check_tables(candidates: Any, demand: Any, k: Any, opts: LocationOptions) -> tuple[int, np.ndarray, np.ndarray]:
    """Columns, sizes, unique codes, populations and fixed codes; returns (k, candidate codes, population)."""
    if "code" not in candidates.columns:
        raise MissingColumnError("candidates have no 'code' column; add a unique code per candidate")
    if "population" not in demand.columns:
        raise MissingColumnError("demand has no 'population' column; add people per demand unit")
    if len(candidates) == 0 or len(demand) == 0:
        raise EmptyInputError("plan_designations needs at least one candidate and one demand unit")
    k = _check_k(k, len(candidates))
    codes = candidates["code"].astype(str).to_numpy()
    if len(set(codes)) != len(codes):
        dup = pd.Series(codes)[pd.Series(codes).duplicated()].unique()
        raise DuplicateCodeError(f"candidate codes must be unique; repeated: {', '.join(dup[:10])}")
    pop = pd.to_numeric(demand["population"], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(pop) | (pop < 0))
    if len(bad):
        raise InvalidPopulationError(f"demand rows {bad[:10].tolist()} have missing or negative population; fix or "
                                     "drop them before planning")
    unknown = sorted(set(opts.fixed) - set(codes))
    if unknown:
        raise InvalidPlanError(f"fixed codes not among the candidates: {', '.join(unknown)}")
    if len(opts.fixed) > k:
        raise InvalidPlanError(f"{len(opts.fixed)} fixed designations exceed k={k}; k counts the fixed ones too")
    return k, codes, pop


@dataclass
class _Costs:
    """Demand x candidate costs (all candidates), their unit, located candidates and their coordinates."""

    C: np.ndarray
    unit: str
    located: np.ndarray
    xy: np.ndarray | None


def _costs(candidates: Any, demand: Any, standard: _Standard, roads: Any, opts: LocationOptions,
           notes: list[str]) -> _Costs:
    """The cost matrix: the given one, or straight-line km / road minutes from the geometry."""
    n = len(candidates)
    if opts.costs is not None:
        C = np.asarray(opts.costs, dtype=float)
        if C.shape != (len(demand), n):
            raise InvalidPlanError(f"costs has shape {C.shape}, expected (demand, candidates) = {(len(demand), n)}")
        xy = _points(candidates, "candidates")[1] if opts.min_spacing_km is not None else None
        unit = "minutes" if standard.unit == "minutes" else "km"
        return _Costs(np.where(np.isnan(C), np.inf, C), unit, np.ones(n, bool), xy)
    _, xy, located = _points(candidates, "candidates")
    _, _, dem_ok = _points(demand, "demand")
    if not dem_ok.all():
        raise InvalidPlanError(f"demand rows {np.flatnonzero(~dem_ok)[:10].tolist()} have no geometry; locate or "
                               "drop them")
    use_roads = roads is not None and standard.unit != "km"
    if roads is not None and standard.unit == "km":
        notes.append("roads given with a km standard: coverage uses straight-line km; give within_minutes to "
                     "use road travel times")
    C, unit = cost_matrix(demand, candidates, roads=roads if use_roads else None, speed_col=opts.speed_col)
    if standard.unit == "minutes" and unit != "minutes":  # pragma: no cover - guarded in _check_standard
        raise InvalidPlanError("within_minutes needs road travel times")
    return _Costs(np.where(np.isnan(C), np.inf, C), unit, located, xy)


# ------------------------------------------------------------------------------------------- the model

@dataclass
class PlanModel:
    """Everything a solver needs, over the located candidates only (what an objective builder reads).

    Attributes
    ----------
    C : numpy.ndarray
        Demand x located-candidate costs (km or minutes; ``inf`` = unreachable).
    pop, w : numpy.ndarray
        People per demand unit, and the demand weights of the objective (a builder may zero some, with a note).
    k : int
        Number of towns to choose, fixed ones included.
    codes, is_fixed : numpy.ndarray
        Codes of the located candidates, and which are fixed.
    groups, conflicts : list
        County quotas ``(county, member columns, quota)`` and spacing conflicts ``(a, b)``.
    standard : object
        The objective's ``objective`` name, its service standard ``value`` and ``unit`` (None without one).
    notes : list of str
        What was excluded or adjusted, with the reason; builders append to it.
    """

    C: np.ndarray                               # demand x located candidates (inf = unreachable)
    pop: np.ndarray                             # people per demand unit
    w: np.ndarray                               # demand weights in the objective
    k: int
    codes: np.ndarray                           # located candidate codes
    is_fixed: np.ndarray
    groups: list[tuple[str, np.ndarray, int]]   # (county, member columns, quota)
    conflicts: list[tuple[int, int]]            # pairs closer than the spacing
    standard: _Standard
    notes: list[str]


def _located(costs: _Costs, codes_all: np.ndarray, k: int, opts: LocationOptions, notes: list[str]) -> np.ndarray:
    """Columns of the located candidates; unlocated ones are excluded (noted), unless fixed (an error)."""
    missing = [codes_all[j] for j in np.flatnonzero(~costs.located)]
    if missing:
        bad_fixed = sorted(set(missing) & set(opts.fixed))
        if bad_fixed:
            raise InvalidPlanError(f"fixed candidates without coordinates: {', '.join(bad_fixed)}; locate them")
        notes.append(f"{len(missing)} candidate(s) without coordinates excluded: {', '.join(missing)}")
    idx = np.flatnonzero(costs.located)
    if k > len(idx):
        raise InvalidPlanError(f"k={k} is larger than the number of located candidates ({len(idx)})")
    return idx


def _quota_groups(candidates: Any, idx: np.ndarray, is_fixed: np.ndarray,
                  quotas: int | Mapping[str, int] | None) -> list[tuple[str, np.ndarray, int]]:
    """One (county, members, quota) per county with a maximum; fixed towns beyond a quota are infeasible."""
    if quotas is None:
        return []
    if "county_code" not in candidates.columns:
        raise MissingColumnError("quotas_per_county needs a 'county_code' column on the candidates")
    county = candidates["county_code"].astype(str).to_numpy()[idx]
    groups = []
    for cc in sorted(set(county)):
        if isinstance(quotas, (int, np.integer)):
            q = quotas
        else:
            q = quotas.get(cc, quotas.get(int(cc), None) if cc.isdigit() else None)
        if q is None:
            continue
        members = np.flatnonzero(county == cc)
        if is_fixed[members].sum() > q:
            raise InfeasiblePlanError(f"county {cc}: {int(is_fixed[members].sum())} fixed designations exceed its "
                                      f"quota of {q}")
        groups.append((cc, members, int(q)))
    return groups


def _spacing_conflicts(xy: np.ndarray | None, codes: np.ndarray, is_fixed: np.ndarray, min_km: float | None,
                       notes: list[str]) -> list[tuple[int, int]]:
    """Pairs of located candidates closer than ``min_km``; pairs of fixed towns are kept (noted)."""
    if min_km is None:
        return []
    D = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1]) / 1000.0
    conflicts = []
    ii, jj = np.nonzero(np.triu(D < min_km, 1))
    for a, b in zip(ii.tolist(), jj.tolist()):
        if is_fixed[a] and is_fixed[b]:
            notes.append(f"fixed {codes[a]} and {codes[b]} are {D[a, b]:.1f} km apart (< {min_km} km); "
                         "kept, spacing applies to new designations")
            continue
        conflicts.append((a, b))
    return conflicts


def _build_model(candidates: Any, costs: _Costs, codes_all: np.ndarray, pop: np.ndarray, k: int,
                 standard: _Standard, opts: LocationOptions, notes: list[str]) -> PlanModel:
    """Restrict to located candidates and add the constraints: fixed towns, county quotas, spacing."""
    idx = _located(costs, codes_all, k, opts, notes)
    codes = codes_all[idx]
    is_fixed = np.isin(codes, list(opts.fixed))
    groups = _quota_groups(candidates, idx, is_fixed, opts.quotas_per_county)
    xy = costs.xy[idx] if costs.xy is not None else None
    conflicts = _spacing_conflicts(xy, codes, is_fixed, opts.min_spacing_km, notes)
    return PlanModel(C=costs.C[:, idx], pop=pop, w=pop, k=k, codes=codes, is_fixed=is_fixed, groups=groups,
                  conflicts=conflicts, standard=standard, notes=notes)


# ------------------------------------------------------------------------------------------- objectives

@dataclass(frozen=True)
class ObjectiveModel:
    """An objective over a model, as the solvers use it.

    Attributes
    ----------
    maximise : bool
    add_terms : callable
        ``add_terms(prob, x)`` adds the objective's variables and constraints to a PuLP problem over the choice
        variables ``x`` and sets its objective.
    value : callable
        ``value(mask)``: the objective value of a choice of candidates (bool mask).
    marginal : callable
        ``marginal(chosen)``: the greedy score of adding each candidate to ``chosen`` (higher is better).
    outcome : callable
        ``outcome(best_cost)``: the objective value and the covered demand units, given each unit's cost to its
        nearest chosen candidate.
    """

    maximise: bool
    add_terms: Callable[[Any, list], None]
    value: Callable[[np.ndarray], float]
    marginal: Callable[[np.ndarray], np.ndarray]
    outcome: Callable[[np.ndarray], tuple[float, np.ndarray]]


@dataclass(frozen=True)
class _ObjectiveEntry:
    build: Callable[[PlanModel], ObjectiveModel]
    uses_standard: bool


OBJECTIVES: dict[str, _ObjectiveEntry] = {}
"""Registry: objective name -> how to build it over a model (add one with :func:`register_objective`)."""


def register_objective(name: str, *, uses_standard: bool) -> Callable:
    """Register an objective builder ``f(model) -> ObjectiveModel`` under ``name`` (a decorator).

    The builder reads the model's ``C`` (demand x candidate costs), ``w`` (demand weights), ``standard.value``
    and ``notes``, and returns an :class:`ObjectiveModel`: how to add the objective to the integer programme, the
    value of a choice, the greedy score and the outcome of an assignment. ``uses_standard`` says whether the
    objective needs ``within_km`` / ``within_minutes``. Set covering or p-center are one such function each.
    """
    def register(build: Callable[[PlanModel], ObjectiveModel]) -> Callable[[PlanModel], ObjectiveModel]:
        OBJECTIVES[name] = _ObjectiveEntry(build, uses_standard)
        return build
    return register


def _population_within_reach(C: np.ndarray, standard: float) -> np.ndarray:
    """Demand x candidate: is the demand unit within the service standard of the candidate.

    Whole demand units by their representative point (a point on the surface of a polygon): a unit counts with
    all its people or not at all. The one place this module decides "population within reach of a town".
    """
    return C <= standard


@register_objective("covered_population", uses_standard=True)
def _covered_population(m: PlanModel) -> ObjectiveModel:
    """Maximal covering (MCLP): maximise the population within the service standard of a chosen town."""
    import pulp

    A = _population_within_reach(m.C, m.standard.value)
    w = m.w

    def add_terms(prob: Any, x: list) -> None:
        terms = []
        for i in np.flatnonzero((w > 0) & A.any(axis=1)):
            y = pulp.LpVariable(f"y_{i}", lowBound=0, upBound=1)
            prob += y <= pulp.lpSum(x[j] for j in np.flatnonzero(A[i])), f"cover_{i}"
            terms.append(float(w[i]) * y)
        prob += pulp.lpSum(terms)

    def marginal(chosen: np.ndarray) -> np.ndarray:
        covered = A[:, chosen].any(axis=1) if chosen.any() else np.zeros(A.shape[0], bool)
        return (w * ~covered) @ A                   # marginal covered population

    def outcome(best_cost: np.ndarray) -> tuple[float, np.ndarray]:
        covered = best_cost <= m.standard.value
        return float(w[covered].sum()), covered

    return ObjectiveModel(True, add_terms, lambda mask: float(w[A[:, mask].any(axis=1)].sum()), marginal, outcome)


@register_objective("p_median", uses_standard=False)
def _p_median(m: PlanModel) -> ObjectiveModel:
    """p-median: minimise the population-weighted cost to the nearest chosen town (unreachable units left out)."""
    import pulp

    C = m.C
    unreachable = ~np.isfinite(C).any(axis=1)
    if unreachable.any():
        m.notes.append(f"{int(unreachable.sum())} demand unit(s) reach no candidate; left out of the p-median "
                       "objective")
        m.w = np.where(unreachable, 0.0, m.w)
    w = m.w
    finite = np.where(np.isfinite(C), C, np.nan)
    big = (np.nanmax(finite) if np.isfinite(finite).any() else 1.0) * 10 + 1
    Cb = np.where(np.isfinite(C), C, big)

    def add_terms(prob: Any, x: list) -> None:
        terms = []
        for i in np.flatnonzero(w > 0):
            reach = np.flatnonzero(np.isfinite(C[i]))
            z = [pulp.LpVariable(f"z_{i}_{j}", lowBound=0, upBound=1) for j in reach]
            prob += pulp.lpSum(z) == 1, f"assign_{i}"
            for zz, j in zip(z, reach):
                prob += zz <= x[j], f"open_{i}_{j}"
                terms.append(float(w[i] * C[i, j]) * zz)
        prob += pulp.lpSum(terms)

    def value(mask: np.ndarray) -> float:
        return float(np.where(w > 0, w * C[:, mask].min(axis=1), 0.0).sum())

    def marginal(chosen: np.ndarray) -> np.ndarray:
        cur = Cb[:, chosen].min(axis=1) if chosen.any() else np.full(C.shape[0], np.inf)
        return -(w[:, None] * np.minimum(cur[:, None], Cb)).sum(axis=0)

    def outcome(best_cost: np.ndarray) -> tuple[float, np.ndarray]:
        reach = np.isfinite(best_cost)
        return float((w[reach] * best_cost[reach]).sum()), reach

    return ObjectiveModel(False, add_terms, value, marginal, outcome)


# ------------------------------------------------------------------------------------------- solvers

@dataclass
class _Solution:
    mask: np.ndarray
    status: str
    bound: float
    gap_basis: str


@dataclass
class _Run:
    status: str
    proven: bool
    found: bool
    value: float
    x: np.ndarray


def _build_lp(m: PlanModel, obj: ObjectiveModel, relax: bool) -> tuple[Any, list]:
    """The integer programme (or its LP relaxation): k towns, fixed ones, quotas, spacing, the objective."""
    import pulp

    prob = pulp.LpProblem("designation", pulp.LpMaximize if obj.maximise else pulp.LpMinimize)
    cat = pulp.LpContinuous if relax else pulp.LpBinary
    x = [pulp.LpVariable(f"x_{j}", lowBound=0, upBound=1, cat=cat) for j in range(len(m.codes))]
    prob += pulp.lpSum(x) == m.k, "k"
    for j in np.flatnonzero(m.is_fixed):   # an explicit constraint: PuLP resets the bounds of binaries to 0-1
        prob += x[j] == 1, f"fixed_{j}"
    for cc, members, q in m.groups:
        prob += pulp.lpSum(x[j] for j in members) <= q, f"quota_{cc}"
    for a, b in m.conflicts:
        prob += x[a] + x[b] <= 1, f"spacing_{a}_{b}"
    obj.add_terms(prob, x)
    return prob, x


def _run_cbc(m: PlanModel, obj: ObjectiveModel, relax: bool, limit: float | None) -> _Run:
    """Solve with CBC; an infeasible model is an error naming the constraints."""
    import pulp

    kw: dict[str, Any] = {"msg": False}
    if limit is not None:
        kw["timeLimit"] = limit
    with warnings.catch_warnings():
        # PuLP 3.x announces its 4.0 API (prob.add_variable, COIN_CMD); the 2.7-3.x API used here still works
        warnings.filterwarnings("ignore", message=r".*PuLP 4\.0", category=DeprecationWarning)
        prob, x = _build_lp(m, obj, relax)
        prob.solve(pulp.PULP_CBC_CMD(**kw))
    status = pulp.LpStatus[prob.status]
    if status == "Infeasible":
        raise InfeasiblePlanError(
            f"no feasible choice of k={m.k} designations: the per-county quotas ({len(m.groups)} counties) and/or "
            f"minimum spacing ({len(m.conflicts)} conflicting pairs) are too tight; lower k or relax them")
    # CBC stopped by the time limit with an incumbent reports "Optimal" to PuLP; only sol_status tells
    proven = prob.sol_status == pulp.LpSolutionOptimal
    found = proven or prob.sol_status == pulp.LpSolutionIntegerFeasible
    val = pulp.value(prob.objective)
    return _Run(status, proven, found, 0.0 if val is None else float(val), np.array([v.value() or 0.0 for v in x]))


def _lp_bound(m: PlanModel, obj: ObjectiveModel) -> float:
    """The LP relaxation's optimum, solved to the end: an LP stopped by a time limit bounds nothing."""
    run = _run_cbc(m, obj, relax=True, limit=None)
    return run.value if run.proven else float("nan")


def _valid(m: PlanModel, mask: np.ndarray) -> bool:
    """A choice of exactly k towns with the fixed ones, within the quotas, no spacing conflict."""
    return (int(mask.sum()) == m.k and bool(mask[m.is_fixed].all())
            and all(int(mask[members].sum()) <= q for _, members, q in m.groups)
            and not any(mask[a] and mask[b] for a, b in m.conflicts))


def _greedy(m: PlanModel, obj: ObjectiveModel) -> np.ndarray:
    """Greedy add-one heuristic honouring fixed towns, quotas and spacing; ties go to the smaller code."""
    n = len(m.codes)
    chosen = m.is_fixed.copy()
    conflict_of: list[set[int]] = [set() for _ in range(n)]
    for a, b in m.conflicts:
        conflict_of[a].add(b)
        conflict_of[b].add(a)
    group_of: list[list[int]] = [[] for _ in range(n)]
    for gi, (_, members, _) in enumerate(m.groups):
        for j in members:
            group_of[j].append(gi)
    used = [int(chosen[members].sum()) for _, members, _ in m.groups]
    order = np.argsort(m.codes, kind="stable")  # tie-break by code
    while chosen.sum() < m.k:
        feasible = ~chosen
        for j in np.flatnonzero(feasible):
            if any(chosen[b] for b in conflict_of[j]) or any(used[g] >= m.groups[g][2] for g in group_of[j]):
                feasible[j] = False
        if not feasible.any():
            raise InfeasiblePlanError(f"greedy: no feasible candidate left after {int(chosen.sum())} of k={m.k} "
                                      "designations (quotas/spacing); try solver='exact' or relax the constraints")
        score = np.where(feasible, obj.marginal(chosen), -np.inf)
        j = order[np.argmax(score[order])]
        chosen[j] = True
        for g in group_of[j]:
            used[g] += 1
    return chosen


def _better(obj: ObjectiveModel, a: np.ndarray, b: np.ndarray) -> bool:
    return obj.value(a) > obj.value(b) if obj.maximise else obj.value(a) < obj.value(b)


def _after_time_limit(m: PlanModel, obj: ObjectiveModel, run: _Run, limit: float | None) -> _Solution:
    """CBC stopped by the time limit: its incumbent (when valid) or the greedy fallback, whichever is better."""
    mask = run.x > 0.5
    integral = bool(np.all(np.abs(run.x - np.round(run.x)) < 1e-6))   # values of an integral relaxation
    incumbent = mask if ((run.found or integral) and _valid(m, mask)) else None
    try:
        fallback = _greedy(m, obj)
    except InfeasiblePlanError:
        fallback = None
    if fallback is not None and (incumbent is None or _better(obj, fallback, incumbent)):
        m.notes.append(f"CBC stopped at the time limit ({limit} s) "
                       + ("without an integer solution" if incumbent is None else "with a worse solution")
                       + ": the greedy solution is used; raise time_limit_s for a proven optimum")
        return _Solution(fallback, "Greedy fallback", _lp_bound(m, obj), "lp_relaxation")
    if incumbent is not None:
        m.notes.append(f"CBC stopped at the time limit ({limit} s): best solution found, not proven "
                       "optimal; raise time_limit_s for a proven optimum")
        return _Solution(incumbent, "Feasible", _lp_bound(m, obj), "lp_relaxation")
    raise InfeasiblePlanError(f"no feasible choice of k={m.k} designations found within the time limit "
                              f"({limit} s), and greedy found none; raise time_limit_s")


def _solve_exact(m: PlanModel, obj: ObjectiveModel, opts: LocationOptions) -> _Solution:
    run = _run_cbc(m, obj, relax=False, limit=opts.time_limit_s)
    if run.proven:
        return _Solution(run.x > 0.5, run.status, run.value, "proven")
    return _after_time_limit(m, obj, run, opts.time_limit_s)


def _solve_greedy(m: PlanModel, obj: ObjectiveModel, opts: LocationOptions) -> _Solution:
    mask = _greedy(m, obj)
    if opts.gap_against == "exact":
        run = _run_cbc(m, obj, relax=False, limit=opts.time_limit_s)
        if run.proven:
            return _Solution(mask, "Greedy", run.value, "exact")
        m.notes.append(f"the exact optimum was not proven within the time limit ({opts.time_limit_s} s): greedy's "
                       "gap is measured against the LP relaxation")
    return _Solution(mask, "Greedy", _lp_bound(m, obj), "lp_relaxation")


_SOLVE = {"exact": _solve_exact, "greedy": _solve_greedy}


# ------------------------------------------------------------------------------------------- the result

def _gap(value: float, bound: float, maximise: bool) -> float:
    """Relative gap of ``value`` to ``bound`` (NaN when there is no valid bound: unknown, not 0)."""
    if not np.isfinite(bound):
        return float("nan")
    if maximise:
        gap = (bound - value) / bound if bound > 0 else 0.0
    else:
        gap = (value - bound) / value if value > 0 else 0.0
    return max(0.0, float(gap)) if abs(gap) > 1e-9 else 0.0


def _result(m: PlanModel, obj: ObjectiveModel, sol: _Solution, demand: Any, codes_all: np.ndarray,
            located: np.ndarray, opts: LocationOptions, unit: str) -> PlanResult:
    """Evaluate the chosen set directly (independent of the solver's internal variables)."""
    sel = np.flatnonzero(sol.mask)
    Cs = m.C[:, sel]
    best = np.argmin(Cs, axis=1)
    best_cost = Cs[np.arange(len(m.C)), best]
    reach = np.isfinite(best_cost)
    nearest = np.where(reach, m.codes[sel][best], None)
    value, covered = obj.outcome(best_cost)
    pop = m.pop
    mean_cost = float((pop[reach] * best_cost[reach]).sum() / pop[reach].sum()) if pop[reach].sum() > 0 else np.nan
    bound = value if sol.gap_basis == "proven" else sol.bound
    dem_code = demand["code"].astype(str).to_numpy() if "code" in demand.columns else np.arange(len(demand)).astype(str)
    assignment = pd.DataFrame({"demand": dem_code, "population": pop, "nearest": nearest,
                               "cost": np.where(reach, best_cost, np.nan), "covered": covered})
    served = assignment[assignment["covered"]].groupby("nearest")["population"].sum()
    cand_table = pd.DataFrame({"code": codes_all, "fixed": np.isin(codes_all, list(opts.fixed)),
                               "chosen": np.isin(codes_all, m.codes[sel]), "located": located})
    cand_table["population_served"] = cand_table["code"].map(served).fillna(0.0)
    chosen = sorted(m.codes[sel].tolist())
    return PlanResult(chosen=chosen, new=[c for c in chosen if c not in opts.fixed], objective=m.standard.objective,
                      objective_value=value, status=sol.status, solver=opts.solver,
                      gap=_gap(value, bound, obj.maximise), bound=float(bound), gap_basis=sol.gap_basis,
                      cost_unit=unit, k=m.k, covered_population=float(m.w[covered].sum()) if obj.maximise
                      else float(pop[reach].sum()), total_population=float(pop.sum()), mean_cost=mean_cost,
                      assignment=assignment, candidates=cand_table, notes=m.notes)


def _options(options: LocationOptions | None, fields: Mapping[str, Any]) -> LocationOptions:
    """The options object, with any options given by name (``fixed=...``, ``solver=...``) applied."""
    known = {f.name for f in dataclasses.fields(LocationOptions)}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise TypeError(f"plan_designations got unknown option(s) {', '.join(unknown)}; options are "
                        f"{', '.join(sorted(known))}")
    base = options if options is not None else LocationOptions()
    return base.replace(**fields) if fields else base


# ------------------------------------------------------------------------------------------- the pipeline

def plan_designations(candidates: Any, demand: Any, k: int, *, objective: str = "covered_population",
                      within_km: float | None = None, within_minutes: float | None = None, roads: Any = None,
                      options: LocationOptions | None = None, **option_fields: Any) -> PlanResult:
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
    objective : str
        A name in :data:`OBJECTIVES`: ``"covered_population"`` or ``"p_median"``.
        Maximise the population within the service standard of a designated town, or minimise the
        population-weighted distance/time to the nearest designated town.
    within_km, within_minutes : float, optional
        The service standard of the covering objective (one of them). Minutes need ``roads``.
    roads : geopandas.GeoDataFrame, optional
        Road lines; costs become travel minutes via ``bazhong_geo.network.travel_times``.
    options : LocationOptions, optional
        Fixed towns, per-county maxima, minimum spacing, solver (``exact`` / ``greedy``), greedy gap basis, CBC
        time limit, road speed column, a precomputed cost matrix; see :class:`LocationOptions`.
    **option_fields
        The same options by name (``fixed=["M"]``, ``solver="greedy"``, ``min_spacing_km=10`` ...), applied over
        ``options``; an unknown name is a ``TypeError`` listing the options.

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
    >>> plan_designations(towns, people, 2, within_km=5, fixed=["A"], min_spacing_km=15).chosen
    ['A', 'C']
    >>> plan_designations(towns, people, 1, objective="p_median", options=LocationOptions(solver="greedy")).chosen
    ['B']
    """
    opts = _options(options, option_fields)
    standard = _check_standard(objective, within_km, within_minutes, roads, opts)
    k, codes_all, pop = _check_tables(candidates, demand, k, opts)
    notes: list[str] = []
    costs = _costs(candidates, demand, standard, roads, opts, notes)
    model = _build_model(candidates, costs, codes_all, pop, k, standard, opts, notes)
    obj = OBJECTIVES[objective].build(model)
    solution = _SOLVE[opts.solver](model, obj, opts)
    return _result(model, obj, solution, demand, codes_all, costs.located, opts, costs.unit)
