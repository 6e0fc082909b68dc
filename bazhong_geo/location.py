"""Designation planning: maximal covering, p-median, set covering and p-center (exact integer programme or greedy).

:func:`plan_designations` is a pipeline of named steps: validate the inputs, build the demand and candidate tables,
cost them (straight-line km or road minutes), build the model (constraints, and the objective from the
:data:`OBJECTIVES` registry), solve it (exact with CBC, or greedy with its gap), and evaluate the chosen set.
An objective is one function registered with :func:`register_objective`: ``covered_population`` (MCLP),
``p_median``, ``set_cover`` (LSCP: the fewest towns such that all demand is within the standard) and ``p_center``
(minimise the worst cost to the nearest town). The model options (fixed towns, county maxima and minima, spacing,
solver, time limit, road speed/class columns) are a frozen :class:`LocationOptions`.
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
    UncoverableDemandError,
    UncoverableDemandWarning,
)

__all__ = ["OBJECTIVES", "SOLVERS", "LocationOptions", "ObjectiveModel", "PlanModel", "PlanResult", "cost_matrix",
           "exclude_demand", "plan_designations", "register_objective", "solve_model"]

SOLVERS = ("exact", "greedy")
EXCLUDED_COLUMNS = ["row", "demand", "population", "best_cost", "reason"]
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
    min_per_county : int or dict, optional
        Minimum designated towns per ``county_code`` (one number for all counties, or per code); a county named
        here without candidates, or with fewer candidates than its minimum, is an ``InfeasiblePlanError``.
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
    class_col : str, optional
        Road-class column of the road layer (e.g. 道路等级 or OSM ``highway``): roads without a speed get the speed
        of their class, passed to ``bazhong_geo.network.travel_times``.
    strict : bool
        Set cover, p-center and p-median: demand with people that no candidate reaches (within the standard, for
        set cover) is an ``UncoverableDemandError`` when True; when False (default) it is excluded with an
        ``UncoverableDemandWarning``, a note, and a row in ``PlanResult.excluded``.
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
    min_per_county: int | Mapping[str, int] | None = None
    min_spacing_km: float | None = None
    solver: str = "exact"
    gap_against: str = "lp_relaxation"
    time_limit_s: float | None = None
    speed_col: str | None = None
    class_col: str | None = None
    strict: bool = False
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
        ``covered_population`` (maximise), ``p_median`` (minimise population-weighted cost), ``set_cover``
        (minimise the number of towns) or ``p_center`` (minimise the largest cost).
    objective_value : float
        Covered population (people); the sum of population x cost (people·km or people·minutes); the number of
        towns chosen (fixed ones included); or the largest cost from a demand unit to its nearest chosen town.
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
    excluded : pandas.DataFrame
        Demand units left out of the objective because no candidate reaches them (set cover: within the
        standard): ``row`` (position in ``demand``), ``demand`` (its code), ``population``, ``best_cost`` (to the
        nearest candidate, ``inf`` if none), ``reason``.
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
    excluded: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=EXCLUDED_COLUMNS))

    def summary(self) -> str:
        """A few lines for a report."""
        size = f"k={self.k}" if OBJECTIVES[self.objective].takes_k else f"{self.k} towns"
        lines = [(f"{self.objective} with {size} ({self.solver}, status {self.status}, gap {self.gap:.2%} vs "
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


def cost_matrix(demand: Any, candidates: Any, *, roads: Any = None, speed_col: str | None = None,
                class_col: str | None = None) -> tuple[np.ndarray, str]:
    """Demand x candidate cost: straight-line km in the work CRS, or road minutes when ``roads`` is given.

    Polygons are represented by a point on their surface. Road times come from
    ``bazhong_geo.network.travel_times`` (unreachable pairs are ``inf``), with the road layer's speed column
    ``speed_col`` and/or road-class column ``class_col``.

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
    kwargs: dict[str, Any] = {"speed_col": speed_col} if speed_col else {}
    if class_col is not None:
        kwargs["class_col"] = class_col
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


def _check_k(k: Any, n_candidates: int, objective: str) -> int | None:
    """``k``: a positive integer up to the number of candidates; None for an objective that chooses the number."""
    if not OBJECTIVES[objective].takes_k:
        if k is not None:
            raise InvalidPlanError(f"the {objective} objective chooses the number of towns itself; leave k out "
                                   f"(k=None), got k={k!r}")
        return None
    if k is None:
        raise InvalidPlanError(f"the {objective} objective needs k, the number of towns to designate")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InvalidPlanError(f"k must be a positive integer, got {k!r}")
    if k > n_candidates:
        raise InvalidPlanError(f"k={k} is larger than the number of candidates ({n_candidates}); lower k or add "
                               "candidates")
    return int(k)


def _check_tables(candidates: Any, demand: Any, k: Any, objective: str,
                  opts: LocationOptions) -> tuple[int | None, np.ndarray, np.ndarray]:
    """Columns, sizes, unique codes, populations and fixed codes; returns (k, candidate codes, population)."""
    if "code" not in candidates.columns:
        raise MissingColumnError("candidates have no 'code' column; add a unique code per candidate")
    if "population" not in demand.columns:
        raise MissingColumnError("demand has no 'population' column; add people per demand unit")
    if len(candidates) == 0 or len(demand) == 0:
        raise EmptyInputError("plan_designations needs at least one candidate and one demand unit")
    k = _check_k(k, len(candidates), objective)
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
    if k is not None and len(opts.fixed) > k:
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
    C, unit = cost_matrix(demand, candidates, roads=roads if use_roads else None, speed_col=opts.speed_col,
                          class_col=opts.class_col)
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
    k : int or None
        Number of towns to choose, fixed ones included (None when the objective chooses the number).
    codes, is_fixed : numpy.ndarray
        Codes of the located candidates, and which are fixed.
    groups, minima, conflicts : list
        County maxima and minima ``(county, member columns, number)``, and spacing conflicts ``(a, b)``.
    standard : object
        The objective's ``objective`` name, its service standard ``value`` and ``unit`` (None without one).
    notes : list of str
        What was excluded or adjusted, with the reason; builders append to it.
    demand_codes : numpy.ndarray
        A code per demand unit (its ``code`` column, else its row number), to name excluded units.
    strict : bool
        Whether demand that no candidate reaches is an error (see :func:`exclude_demand`).
    excluded : list of dict
        Demand units excluded from the objective (rows of ``PlanResult.excluded``).
    """

    C: np.ndarray                               # demand x located candidates (inf = unreachable)
    pop: np.ndarray                             # people per demand unit
    w: np.ndarray                               # demand weights in the objective
    k: int | None
    codes: np.ndarray                           # located candidate codes
    is_fixed: np.ndarray
    groups: list[tuple[str, np.ndarray, int]]   # (county, member columns, maximum)
    conflicts: list[tuple[int, int]]            # pairs closer than the spacing
    standard: _Standard
    notes: list[str]
    minima: list[tuple[str, np.ndarray, int]] = field(default_factory=list)   # (county, member columns, minimum)
    demand_codes: np.ndarray | None = None
    strict: bool = False
    excluded: list[dict] = field(default_factory=list)


def exclude_demand(m: PlanModel, rows: np.ndarray, best_cost: np.ndarray, reason: str) -> None:
    """Leave demand units out of the objective, never silently.

    With ``m.strict`` an :class:`UncoverableDemandError` names them; otherwise their weight becomes 0, an
    :class:`UncoverableDemandWarning` and a note say so, and each is listed in ``PlanResult.excluded``.

    Parameters
    ----------
    m : PlanModel
    rows : numpy.ndarray
        Demand row numbers to exclude.
    best_cost : numpy.ndarray
        Each demand unit's cost to its nearest candidate (``inf`` when none is reachable).
    reason : str
        Why, in a few words (e.g. "no candidate within 30 minutes").
    """
    rows = np.asarray(rows, dtype=int)
    if len(rows) == 0:
        return
    codes = m.demand_codes if m.demand_codes is not None else np.arange(len(m.pop)).astype(str)
    listing = (", ".join(f"{codes[i]} (row {i}, {m.pop[i]:,.0f} people)" for i in rows[:10])
               + (" ..." if len(rows) > 10 else ""))
    people = float(m.pop[rows].sum())
    msg = f"{len(rows)} demand unit(s) with {people:,.0f} people: {reason}: {listing}"
    if m.strict:
        raise UncoverableDemandError(f"{msg}; add candidates near them, relax the standard, or pass strict=False to "
                                     "exclude them (listed in PlanResult.excluded)")
    warnings.warn(f"{msg}; excluded from the {m.standard.objective} objective (PlanResult.excluded)",
                  UncoverableDemandWarning, stacklevel=4)
    m.notes.append(f"{msg}; excluded from the objective")
    m.w = m.w.copy()
    m.w[rows] = 0.0
    m.excluded += [{"row": int(i), "demand": codes[i], "population": float(m.pop[i]), "best_cost": float(best_cost[i]),
                    "reason": reason} for i in rows]


def _located(costs: _Costs, codes_all: np.ndarray, k: int | None, opts: LocationOptions,
             notes: list[str]) -> np.ndarray:
    """Columns of the located candidates; unlocated ones are excluded (noted), unless fixed (an error)."""
    missing = [codes_all[j] for j in np.flatnonzero(~costs.located)]
    if missing:
        bad_fixed = sorted(set(missing) & set(opts.fixed))
        if bad_fixed:
            raise InvalidPlanError(f"fixed candidates without coordinates: {', '.join(bad_fixed)}; locate them")
        notes.append(f"{len(missing)} candidate(s) without coordinates excluded: {', '.join(missing)}")
    idx = np.flatnonzero(costs.located)
    if k is not None and k > len(idx):
        raise InvalidPlanError(f"k={k} is larger than the number of located candidates ({len(idx)})")
    return idx


def _per_county(number: int | Mapping[str, int], cc: str) -> int | None:
    """The number set for county ``cc`` (one number for all, or a mapping by code, str or int keys)."""
    if isinstance(number, (int, np.integer)):
        return int(number)
    q = number.get(cc, number.get(int(cc), None) if cc.isdigit() else None)
    return None if q is None else int(q)


def _counties(candidates: Any, idx: np.ndarray, option: str) -> np.ndarray:
    if "county_code" not in candidates.columns:
        raise MissingColumnError(f"{option} needs a 'county_code' column on the candidates")
    return candidates["county_code"].astype(str).to_numpy()[idx]


def _quota_groups(candidates: Any, idx: np.ndarray, is_fixed: np.ndarray,
                  quotas: int | Mapping[str, int] | None) -> list[tuple[str, np.ndarray, int]]:
    """One (county, members, quota) per county with a maximum; fixed towns beyond a quota are infeasible."""
    if quotas is None:
        return []
    county = _counties(candidates, idx, "quotas_per_county")
    groups = []
    for cc in sorted(set(county)):
        q = _per_county(quotas, cc)
        if q is None:
            continue
        members = np.flatnonzero(county == cc)
        if is_fixed[members].sum() > q:
            raise InfeasiblePlanError(f"county {cc}: {int(is_fixed[members].sum())} fixed designations exceed its "
                                      f"quota of {q}")
        groups.append((cc, members, int(q)))
    return groups


def _minimum_groups(candidates: Any, idx: np.ndarray, k: int | None, maxima: list[tuple[str, np.ndarray, int]],
                    minima: int | Mapping[str, int] | None) -> list[tuple[str, np.ndarray, int]]:
    """One (county, members, minimum) per county with a minimum above 0; impossible minima are errors."""
    if minima is None:
        return []
    county = _counties(candidates, idx, "min_per_county")
    named = set(county) if isinstance(minima, (int, np.integer)) else {str(c) for c in minima} | set(county)
    cap = {cc: q for cc, _, q in maxima}
    groups = []
    for cc in sorted(named):
        lo = _per_county(minima, cc)
        if not lo:
            continue
        members = np.flatnonzero(county == cc)
        if len(members) < lo:
            raise InfeasiblePlanError(f"county {cc}: minimum of {lo} designations but only {len(members)} located "
                                      "candidate(s) there; lower min_per_county or add candidates")
        if cc in cap and cap[cc] < lo:
            raise InfeasiblePlanError(f"county {cc}: minimum {lo} exceeds its quota {cap[cc]}")
        groups.append((cc, members, int(lo)))
    total = sum(lo for _, _, lo in groups)
    if k is not None and total > k:
        raise InfeasiblePlanError(f"the county minima add up to {total} designations, more than k={k}; raise k or "
                                  "lower min_per_county")
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


def _build_model(candidates: Any, demand: Any, costs: _Costs, codes_all: np.ndarray, pop: np.ndarray,
                 k: int | None, standard: _Standard, opts: LocationOptions, notes: list[str]) -> PlanModel:
    """Restrict to located candidates and add the constraints: fixed towns, county maxima and minima, spacing."""
    idx = _located(costs, codes_all, k, opts, notes)
    codes = codes_all[idx]
    is_fixed = np.isin(codes, list(opts.fixed))
    groups = _quota_groups(candidates, idx, is_fixed, opts.quotas_per_county)
    minima = _minimum_groups(candidates, idx, k, groups, opts.min_per_county)
    xy = costs.xy[idx] if costs.xy is not None else None
    conflicts = _spacing_conflicts(xy, codes, is_fixed, opts.min_spacing_km, notes)
    dem_codes = demand["code"].astype(str).to_numpy() if "code" in demand.columns else np.arange(len(demand)).astype(str)
    return PlanModel(C=costs.C[:, idx], pop=pop, w=pop, k=k, codes=codes, is_fixed=is_fixed, groups=groups,
                     conflicts=conflicts, standard=standard, notes=notes, minima=minima, demand_codes=dem_codes,
                     strict=opts.strict)

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
    covered : callable
        ``covered(best_cost)``: which demand units count as served, given each unit's cost to its nearest chosen
        candidate (within the standard, or reachable at all).
    done : callable, optional
        For an objective that chooses the number of towns (``k`` is None): ``done(chosen)`` says when the greedy
        heuristic may stop adding towns.
    run : callable, optional
        An exact method of its own instead of one integer programme from ``add_terms`` (then ``add_terms`` may
        be None): ``run(relax, time_limit_s)`` returns the run's status, whether it is proven, whether a solution
        was found, the objective value (with ``relax``, a valid bound) and the choice variables' values.
    """

    maximise: bool
    add_terms: Callable[[Any, list], None] | None
    value: Callable[[np.ndarray], float]
    marginal: Callable[[np.ndarray], np.ndarray]
    covered: Callable[[np.ndarray], np.ndarray]
    done: Callable[[np.ndarray], bool] | None = None
    run: Callable[[bool, float | None], Any] | None = None


@dataclass(frozen=True)
class _ObjectiveEntry:
    build: Callable[[PlanModel], ObjectiveModel]
    uses_standard: bool
    takes_k: bool


OBJECTIVES: dict[str, _ObjectiveEntry] = {}
"""Registry: objective name -> how to build it over a model (add one with :func:`register_objective`)."""


def register_objective(name: str, *, uses_standard: bool, takes_k: bool = True) -> Callable:
    """Register an objective builder ``f(model) -> ObjectiveModel`` under ``name`` (a decorator).

    The builder reads the model's ``C`` (demand x candidate costs), ``w`` (demand weights), ``standard.value``
    and ``notes``, and returns an :class:`ObjectiveModel`: how to add the objective to the integer programme, the
    value of a choice, the greedy score and which demand a choice serves. ``uses_standard`` says whether the
    objective needs ``within_km`` / ``within_minutes``; ``takes_k`` whether the number of towns is given (``k``)
    or chosen by the objective (then the model has no ``k`` and the objective gives ``done``).
    """
    def register(build: Callable[[PlanModel], ObjectiveModel]) -> Callable[[PlanModel], ObjectiveModel]:
        OBJECTIVES[name] = _ObjectiveEntry(build, uses_standard, takes_k)
        return build
    return register


def _population_within_reach(C: np.ndarray, standard: float) -> np.ndarray:
    """Demand x candidate: is the demand unit within the service standard of the candidate.

    Whole demand units by their representative point (a point on the surface of a polygon): a unit counts with
    all its people or not at all. The one place this module decides "population within reach of a town".
    """
    return C <= standard


def _nearest_candidate_cost(C: np.ndarray) -> np.ndarray:
    """Each demand unit's cost to its nearest candidate (``inf`` when none)."""
    return C.min(axis=1) if C.shape[1] else np.full(C.shape[0], np.inf)


def _finite_or_big(C: np.ndarray) -> np.ndarray:
    """Costs with ``inf`` replaced by a value above every finite cost (for greedy scores)."""
    finite = np.isfinite(C)
    big = (float(C[finite].max()) if finite.any() else 1.0) * 10 + 1
    return np.where(finite, C, big)


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

    return ObjectiveModel(True, add_terms, lambda mask: float(w[A[:, mask].any(axis=1)].sum()), marginal,
                          lambda best_cost: best_cost <= m.standard.value)


@register_objective("p_median", uses_standard=False)
def _p_median(m: PlanModel) -> ObjectiveModel:
    """p-median: minimise the population-weighted cost to the nearest chosen town (unreachable units excluded)."""
    import pulp

    C = m.C
    best = _nearest_candidate_cost(C)
    exclude_demand(m, np.flatnonzero((m.w > 0) & ~np.isfinite(best)), best, "no candidate reachable")
    w = m.w
    Cb = _finite_or_big(C)

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

    return ObjectiveModel(False, add_terms, value, marginal, np.isfinite)


@register_objective("set_cover", uses_standard=True, takes_k=False)
def _set_cover(m: PlanModel) -> ObjectiveModel:
    """Location set covering (LSCP): the fewest towns such that every demand unit with people is within the standard.

    Demand with people that no candidate reaches within the standard is excluded (listed) or, with
    ``strict=True``, an error. The objective value is the number of chosen towns, fixed ones included.
    """
    import pulp

    A = _population_within_reach(m.C, m.standard.value)
    best = _nearest_candidate_cost(m.C)
    exclude_demand(m, np.flatnonzero((m.w > 0) & ~A.any(axis=1)), best,
                   f"no candidate within {m.standard.value:g} {m.standard.unit}")
    rows = np.flatnonzero(m.w > 0)
    Ar = A[rows]

    def add_terms(prob: Any, x: list) -> None:
        for i in rows:
            prob += pulp.lpSum(x[j] for j in np.flatnonzero(A[i])) >= 1, f"cover_{i}"
        prob += pulp.lpSum(x)

    def uncovered(chosen: np.ndarray) -> np.ndarray:
        return ~Ar[:, chosen].any(axis=1)

    return ObjectiveModel(False, add_terms, lambda mask: float(mask.sum()),
                          lambda chosen: uncovered(chosen).astype(float) @ Ar,      # demand units newly covered
                          lambda best_cost: best_cost <= m.standard.value,
                          done=lambda chosen: not uncovered(chosen).any())


def _lexicographic_score(primary: np.ndarray, secondary: np.ndarray) -> np.ndarray:
    """Scores (higher is better) ranking by the smaller ``primary``, then the smaller ``secondary``; equal pairs tie."""
    order = np.lexsort((secondary, primary))
    pairs = np.column_stack([primary[order], secondary[order]])
    step = np.r_[0, np.any(pairs[1:] != pairs[:-1], axis=1).cumsum()]
    rank = np.empty(len(order))
    rank[order] = step
    return -rank


def _cover_within(m: PlanModel, rows: np.ndarray, radius: float) -> ObjectiveModel:
    """The feasibility problem of p-center at one radius: every row within ``radius`` of a chosen town."""
    import pulp

    A = m.C[rows] <= radius

    def add_terms(prob: Any, x: list) -> None:
        for i, reach in zip(rows, A):
            prob += pulp.lpSum(x[j] for j in np.flatnonzero(reach)) >= 1, f"cover_{i}"
        prob += pulp.lpSum(x)                   # constant when k is set: any feasible choice is optimal

    return ObjectiveModel(False, add_terms, lambda mask: float(mask.sum()),
                          lambda chosen: (~A[:, chosen].any(axis=1)).astype(float) @ A,     # rows newly covered
                          lambda best_cost: best_cost <= radius)


@dataclass
class _RadiusSearch:
    """Binary search for the smallest radius at which every demand row can be covered (p-center, exact).

    ``levels`` are the candidate radii (the distinct costs between the lower and the upper bound); the optimum
    is one of them. Each probe is one covering MILP (or LP, for the relaxation bound) solved by CBC.
    """

    m: PlanModel
    rows: np.ndarray
    levels: np.ndarray
    value: Callable[[np.ndarray], float]
    relax: bool
    deadline: float | None

    def left(self) -> float | None:
        import time

        return None if self.deadline is None else self.deadline - time.monotonic()

    def probe(self, level: int) -> _Run:
        return solve_model(self.m, _cover_within(self.m, self.rows, float(self.levels[level])), self.relax, self.left())

    def feasible_level(self, run: _Run, level: int) -> int | None:
        """The level a probe proves feasible (for an integer solution, the level of its own worst cost)."""
        if self.relax:
            return level if run.proven else None
        if not run.found:
            return None
        return min(level, int(np.searchsorted(self.levels, self.value(run.x > 0.5))))

    def run(self, start: tuple[int, np.ndarray] | None) -> _Run:
        """Search below ``start`` (a feasible level and its choice, e.g. greedy's), or from the largest level."""
        if start is None:
            top = len(self.levels) - 1
            first = self.probe(top)
            if first.status == "Infeasible":
                return first
            hi = self.feasible_level(first, top)
            if hi is None:
                return _Run("Not Solved", False, False, float("nan"), first.x)
            start = (hi, first.x)
        lo, (hi, x), proven = 0, start, True
        while lo < hi:
            mid = (lo + hi) // 2
            if self.left() is not None and self.left() <= 0:
                proven = False
                break
            step = self.probe(mid)
            found = self.feasible_level(step, mid)
            if found is not None:
                hi, x = found, step.x
            elif step.status == "Infeasible":
                lo = mid + 1
            else:                                   # stopped by the time limit without an answer
                proven = False
                break
        value = float(self.levels[hi]) if self.relax else self.value(x > 0.5)
        if self.relax and not proven:
            value = float("nan")
        return _Run("Optimal" if proven else "Not Solved", proven, True, value, x)


@register_objective("p_center", uses_standard=False)
def _p_center(m: PlanModel) -> ObjectiveModel:
    """p-center: minimise the largest cost from a demand unit with people to its nearest chosen town.

    Solved exactly as a sequence of covering MILPs (Minieka 1970; Daskin 2013, ch. 5): a binary search over the
    distinct costs between a lower bound (the largest nearest-candidate cost) and an upper bound (a feasible greedy
    choice), each probe asking CBC for a choice of ``k`` towns with the fixed ones, county limits and spacing that
    covers every demand unit within that radius; the smallest feasible radius is the optimum. (spopt's single
    assignment MILP takes CBC many minutes at 400 x 139.) The LP bound of a greedy choice is the same search over
    LP relaxations: the smallest radius at which the covering LP is feasible. Demand with people that reaches no
    candidate is excluded (listed) or, with ``strict=True``, an error.
    """
    import time

    C = m.C
    best = _nearest_candidate_cost(C)
    exclude_demand(m, np.flatnonzero((m.w > 0) & ~np.isfinite(best)), best, "no candidate reachable")
    rows = np.flatnonzero(m.w > 0)
    Cr, Cb = C[rows], _finite_or_big(C[rows])
    lower = float(best[rows].max()) if len(rows) else 0.0
    cache: dict[str, Any] = {}

    def value(mask: np.ndarray) -> float:
        return float(Cr[:, mask].min(axis=1).max()) if len(rows) else 0.0

    def marginal(chosen: np.ndarray) -> np.ndarray:
        cur = Cb[:, chosen].min(axis=1) if chosen.any() else np.full(len(rows), np.inf)
        new = np.minimum(cur[:, None], Cb)
        return _lexicographic_score(new.max(axis=0), new.sum(axis=0))   # the worst cost, then the total

    def start() -> tuple[float, np.ndarray | None]:
        """A feasible (greedy) choice and its worst cost, or (inf, None) when greedy finds none."""
        if "start" not in cache:
            try:
                mask = _greedy(m, objective)
                cache["start"] = (value(mask), mask) if _valid(m, mask) else (np.inf, None)
            except InfeasiblePlanError:
                cache["start"] = (np.inf, None)
        return cache["start"]

    def run(relax: bool, limit: float | None) -> _Run:
        if not len(rows):                       # nobody to serve: any valid choice has worst cost 0
            only = solve_model(m, _cover_within(m, rows, 0.0), relax, limit)
            return dataclasses.replace(only, value=0.0)
        ub, mask = start()
        finite = Cr[np.isfinite(Cr)]
        levels = np.unique(finite[(finite >= lower) & (finite <= ub)])
        search = _RadiusSearch(m, rows, levels, value, relax, None if limit is None else time.monotonic() + limit)
        begin = None if mask is None else (len(levels) - 1, mask.astype(float))
        return search.run(begin)

    objective = ObjectiveModel(False, None, value, marginal, np.isfinite, run=run)
    return objective


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
    """The integer programme (or its LP relaxation): k towns, fixed ones, county maxima/minima, spacing, objective."""
    import pulp

    prob = pulp.LpProblem("designation", pulp.LpMaximize if obj.maximise else pulp.LpMinimize)
    cat = pulp.LpContinuous if relax else pulp.LpBinary
    x = [pulp.LpVariable(f"x_{j}", lowBound=0, upBound=1, cat=cat) for j in range(len(m.codes))]
    if m.k is not None:
        prob += pulp.lpSum(x) == m.k, "k"
    for j in np.flatnonzero(m.is_fixed):   # an explicit constraint: PuLP resets the bounds of binaries to 0-1
        prob += x[j] == 1, f"fixed_{j}"
    for cc, members, q in m.groups:
        prob += pulp.lpSum(x[j] for j in members) <= q, f"quota_{cc}"
    for cc, members, lo in m.minima:
        prob += pulp.lpSum(x[j] for j in members) >= lo, f"minimum_{cc}"
    for a, b in m.conflicts:
        prob += x[a] + x[b] <= 1, f"spacing_{a}_{b}"
    obj.add_terms(prob, x)
    return prob, x


def solve_model(m: PlanModel, obj: ObjectiveModel, relax: bool, limit: float | None) -> _Run:
    """Build the integer programme (or its LP relaxation) of ``obj`` over ``m`` and solve it with CBC.

    Infeasibility is reported in the returned status (``"Infeasible"``), not raised: an objective with its own
    exact method (``ObjectiveModel.run``) calls this for each of its sub-problems.
    """
    import pulp

    kw: dict[str, Any] = {"msg": False}
    if limit is not None:
        kw["timeLimit"] = max(float(limit), 0.01)
    with warnings.catch_warnings():
        # PuLP 3.x announces its 4.0 API (prob.add_variable, COIN_CMD); the 2.7-3.x API used here still works
        warnings.filterwarnings("ignore", message=r".*PuLP 4\.0", category=DeprecationWarning)
        prob, x = _build_lp(m, obj, relax)
        prob.solve(pulp.PULP_CBC_CMD(**kw))
    # CBC stopped by the time limit with an incumbent reports "Optimal" to PuLP; only sol_status tells
    proven = prob.sol_status == pulp.LpSolutionOptimal
    found = proven or prob.sol_status == pulp.LpSolutionIntegerFeasible
    val = pulp.value(prob.objective)
    return _Run(pulp.LpStatus[prob.status], proven, found, 0.0 if val is None else float(val),
                np.array([v.value() or 0.0 for v in x]))


def _run_cbc(m: PlanModel, obj: ObjectiveModel, relax: bool, limit: float | None) -> _Run:
    """Solve with CBC (or the objective's own exact method); an infeasible model is an error naming the constraints."""
    run = obj.run(relax, limit) if obj.run is not None else solve_model(m, obj, relax, limit)
    if run.status == "Infeasible":
        raise InfeasiblePlanError(
            f"no feasible choice of {_how_many(m)} designations: the per-county quotas ({len(m.groups)} counties), "
            f"minima ({len(m.minima)} counties) and/or minimum spacing ({len(m.conflicts)} conflicting pairs) are "
            f"too tight{' to cover all demand' if m.k is None else ''}; lower k or relax them")
    return run


def _lp_bound(m: PlanModel, obj: ObjectiveModel) -> float:
    """The LP relaxation's optimum, solved to the end: an LP stopped by a time limit bounds nothing."""
    run = _run_cbc(m, obj, relax=True, limit=None)
    return run.value if run.proven else float("nan")


def _how_many(m: PlanModel) -> str:
    return f"k={m.k}" if m.k is not None else "any number of"


def _valid(m: PlanModel, mask: np.ndarray) -> bool:
    """A choice of exactly k towns (when k is set) with the fixed ones, within the county maxima and minima, no
    spacing conflict."""
    return ((m.k is None or int(mask.sum()) == m.k) and bool(mask[m.is_fixed].all())
            and all(int(mask[members].sum()) <= q for _, members, q in m.groups)
            and all(int(mask[members].sum()) >= lo for _, members, lo in m.minima)
            and not any(mask[a] and mask[b] for a, b in m.conflicts))


def _county_index(n: int, groups: list[tuple[str, np.ndarray, int]]) -> np.ndarray:
    """Per candidate, the index of its county among ``groups`` (-1 when none)."""
    index = np.full(n, -1)
    for gi, (_, members, _) in enumerate(groups):
        index[members] = gi
    return index


@dataclass
class _GreedyState:
    """The greedy heuristic's choice so far and what it rules out (spacing conflicts, full counties)."""

    m: PlanModel
    chosen: np.ndarray
    blocked: np.ndarray                         # in conflict with a chosen town
    neighbours: list[list[int]]                 # spacing conflicts per candidate
    in_max: np.ndarray                          # county index among m.groups, -1 none
    in_min: np.ndarray                          # county index among m.minima, -1 none

    @classmethod
    def start(cls, m: PlanModel) -> _GreedyState:
        n = len(m.codes)
        neighbours: list[list[int]] = [[] for _ in range(n)]
        for a, b in m.conflicts:
            neighbours[a].append(b)
            neighbours[b].append(a)
        state = cls(m, np.zeros(n, bool), np.zeros(n, bool), neighbours, _county_index(n, m.groups),
                    _county_index(n, m.minima))
        for j in np.flatnonzero(m.is_fixed):
            state.add(j)
        return state

    def add(self, j: int) -> None:
        self.chosen[j] = True
        self.blocked[self.neighbours[j]] = True

    def _count(self, groups: list, index: np.ndarray) -> np.ndarray:
        return np.bincount(index[self.chosen & (index >= 0)], minlength=len(groups))

    def deficits(self) -> np.ndarray:
        """Towns still missing per county minimum."""
        lows = np.array([lo for _, _, lo in self.m.minima], dtype=int)
        return np.maximum(lows - self._count(self.m.minima, self.in_min), 0)

    def feasible(self) -> np.ndarray:
        """Candidates that may still be added: not chosen, no spacing conflict, their county below its maximum."""
        caps = np.array([q for _, _, q in self.m.groups], dtype=int)
        full = np.r_[self._count(self.m.groups, self.in_max) >= caps, False]   # index -1 -> False
        return ~self.chosen & ~self.blocked & ~full[self.in_max]

    def in_deficit(self) -> np.ndarray:
        return np.r_[self.deficits() > 0, False][self.in_min]


def _greedy_candidates(m: PlanModel, obj: ObjectiveModel, state: _GreedyState) -> np.ndarray | None:
    """The candidates the next greedy step may take, or None when the choice is complete."""
    deficit = int(state.deficits().sum())
    if m.k is not None:
        slots = m.k - int(state.chosen.sum())
        if slots <= 0:
            return None
        if slots < deficit:
            raise InfeasiblePlanError(f"greedy: {slots} designation(s) left for {deficit} missing by the county minima; "
                                      "try solver='exact' or relax the constraints")
        must_fill = slots == deficit
    else:
        complete = obj.done(state.chosen)
        if complete and deficit == 0:
            return None
        must_fill = complete
    feasible = state.feasible() & (state.in_deficit() if must_fill else True)
    if not feasible.any():
        raise InfeasiblePlanError(f"greedy: no feasible candidate left after {int(state.chosen.sum())} "
                                  f"{'of k=' + str(m.k) + ' ' if m.k is not None else ''}designations "
                                  "(quotas/minima/spacing); try solver='exact' or relax the constraints")
    return feasible


def _greedy(m: PlanModel, obj: ObjectiveModel) -> np.ndarray:
    """Greedy add-one heuristic honouring fixed towns, county maxima and minima and spacing; ties go to the smaller
    code. With ``k`` it adds towns until there are ``k``; without, until ``obj.done`` and the minima are met."""
    if m.k is None and obj.done is None:
        raise InvalidPlanError(f"the {m.standard.objective} objective has neither k nor a completion rule (done)")
    state = _GreedyState.start(m)
    order = np.argsort(m.codes, kind="stable")  # tie-break by code
    while (feasible := _greedy_candidates(m, obj, state)) is not None:
        score = np.where(feasible, obj.marginal(state.chosen), -np.inf)
        j = order[np.argmax(score[order])]
        if m.k is None and not obj.done(state.chosen) and score[j] <= 0:
            raise InfeasiblePlanError("greedy: demand is left that no feasible candidate covers (quotas/spacing); "
                                      "try solver='exact' or relax the constraints")
        state.add(j)
    return state.chosen


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


def _result(m: PlanModel, obj: ObjectiveModel, sol: _Solution, codes_all: np.ndarray,
            located: np.ndarray, opts: LocationOptions, unit: str) -> PlanResult:
    """Evaluate the chosen set directly (independent of the solver's internal variables)."""
    sel = np.flatnonzero(sol.mask)
    Cs = m.C[:, sel]
    best = np.argmin(Cs, axis=1)
    best_cost = Cs[np.arange(len(m.C)), best]
    reach = np.isfinite(best_cost)
    nearest = np.where(reach, m.codes[sel][best], None)
    value, covered = obj.value(sol.mask), np.asarray(obj.covered(best_cost), dtype=bool)
    pop = m.pop
    mean_cost = float((pop[reach] * best_cost[reach]).sum() / pop[reach].sum()) if pop[reach].sum() > 0 else np.nan
    bound = value if sol.gap_basis == "proven" else sol.bound
    assignment = pd.DataFrame({"demand": m.demand_codes, "population": pop, "nearest": nearest,
                               "cost": np.where(reach, best_cost, np.nan), "covered": covered})
    served = assignment[assignment["covered"]].groupby("nearest")["population"].sum()
    cand_table = pd.DataFrame({"code": codes_all, "fixed": np.isin(codes_all, list(opts.fixed)),
                               "chosen": np.isin(codes_all, m.codes[sel]), "located": located})
    cand_table["population_served"] = cand_table["code"].map(served).fillna(0.0)
    chosen = sorted(m.codes[sel].tolist())
    return PlanResult(chosen=chosen, new=[c for c in chosen if c not in opts.fixed], objective=m.standard.objective,
                      objective_value=value, status=sol.status, solver=opts.solver,
                      gap=_gap(value, bound, obj.maximise), bound=float(bound), gap_basis=sol.gap_basis,
                      cost_unit=unit, k=m.k if m.k is not None else len(chosen),
                      covered_population=float(pop[covered].sum()), total_population=float(pop.sum()),
                      mean_cost=mean_cost, assignment=assignment, candidates=cand_table, notes=m.notes,
                      excluded=pd.DataFrame(m.excluded, columns=EXCLUDED_COLUMNS))


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

def plan_designations(candidates: Any, demand: Any, k: int | None = None, *, objective: str = "covered_population",
                      within_km: float | None = None, within_minutes: float | None = None, roads: Any = None,
                      options: LocationOptions | None = None, **option_fields: Any) -> PlanResult:
    """Choose which candidate towns to designate: maximal covering (MCLP), p-median, set covering or p-center.

    Parameters
    ----------
    candidates : geopandas.GeoDataFrame
        Candidate towns with ``code`` and point geometry; ``county_code`` when quotas are given.
        Candidates without coordinates are excluded (reported in ``notes``).
    demand : geopandas.GeoDataFrame
        Points or polygons with ``population`` (people); optional ``code``.
    k : int, optional
        Total number of designated towns, the fixed ones included (as spopt's ``p_facilities``). Required, except
        for ``set_cover``, which chooses the number itself (leave ``k`` out).
    objective : str
        A name in :data:`OBJECTIVES`:

        - ``"covered_population"`` (MCLP): maximise the population within the standard of a designated town;
        - ``"p_median"``: minimise the population-weighted distance/time to the nearest designated town;
        - ``"set_cover"`` (LSCP): the fewest towns such that every demand unit with people is within the standard;
        - ``"p_center"``: minimise the largest distance/time from a demand unit with people to its nearest town.

        Demand that no candidate reaches (set cover: within the standard) is excluded with a warning and listed
        in ``PlanResult.excluded``, or an ``UncoverableDemandError`` with ``strict=True``.
    within_km, within_minutes : float, optional
        The service standard of a covering objective (one of them). Minutes need ``roads``.
    roads : geopandas.GeoDataFrame, optional
        Road lines; costs become travel minutes via ``bazhong_geo.network.travel_times`` (speeds from
        ``speed_col`` and/or the road class in ``class_col``).
    options : LocationOptions, optional
        Fixed towns, per-county maxima and minima, minimum spacing, solver (``exact`` / ``greedy``), greedy gap
        basis, CBC time limit, road speed and class columns, strictness, a precomputed cost matrix; see
        :class:`LocationOptions`.
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
        Quotas, minima or spacing leave no feasible choice of k towns (or, for set cover, no cover).
    UncoverableDemandError
        With ``strict=True``: demand with people that no candidate reaches (within the standard, for set cover).

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
    >>> cover = plan_designations(towns, people, objective="set_cover", within_km=10)
    >>> cover.chosen, cover.objective_value
    (['B'], 1.0)
    >>> plan_designations(towns, people, objective="set_cover", within_km=5, min_per_county=None).chosen
    ['A', 'B', 'C']
    >>> center = plan_designations(towns, people, 1, objective="p_center")
    >>> center.chosen, center.objective_value
    (['B'], 10.0)
    """
    opts = _options(options, option_fields)
    standard = _check_standard(objective, within_km, within_minutes, roads, opts)
    k, codes_all, pop = _check_tables(candidates, demand, k, objective, opts)
    notes: list[str] = []
    costs = _costs(candidates, demand, standard, roads, opts, notes)
    model = _build_model(candidates, demand, costs, codes_all, pop, k, standard, opts, notes)
    obj = OBJECTIVES[objective].build(model)
    solution = _SOLVE[opts.solver](model, obj, opts)
    return _result(model, obj, solution, codes_all, costs.located, opts, costs.unit)
