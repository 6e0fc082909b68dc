"""Spatial accessibility between supply and demand: 2SFCA, enhanced 2SFCA and gravity models with distance decay.

Formulas (costs ``c_ij`` in minutes from demand location *i* to supply location *j*, weight ``w = f(c)``,
zero beyond ``max_cost``), the same as PySAL ``access`` 1.1 (``fca.two_stage_fca``, ``weighted_catchment``):

* 2SFCA (Luo & Wang 2003): ``R_j = S_j / sum_i P_i w_ij``; ``A_i = sum_j R_j w_ij`` with ``w = 1`` within
  ``max_cost``.
* Enhanced 2SFCA (Luo & Qi 2009): the same with a stepped decay, by default 1 / 0.68 / 0.22 for
  0-10 / 10-20 / 20-30 minutes (``access``'s default).
* Gravity (Hansen potential): ``A_i = sum_j S_j f(c_ij)``; with ``demand_adjusted=True`` the
  Joseph & Bantock / Weibull form ``A_i = sum_j S_j f(c_ij) / V_j``, ``V_j = sum_k P_k f(c_kj)``
  (2SFCA with a continuous decay).

Supply locations that no demand reaches get ``R_j = 0``. Demand locations reaching no supply get
``A_i = 0`` by default (``no_supply="zero"``: "no service in reach" is zero service, and sums and means over
villages stay defined); PySAL ``access`` leaves them NaN — pass ``no_supply="nan"`` for its behaviour
(documented in BENCHMARKS.md, "Differences from peers").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from ._errors import BazhongGeoError, InvalidPopulationError, InvalidThresholdError, MissingColumnError
from ._validate import located
from .crs import to_work_crs
from .network import travel_times

if TYPE_CHECKING:  # pragma: no cover
    import geopandas as gpd

# ----------------------------------------------------------------------------------------------- decay functions

def step(steps: dict) -> Callable[[Any], Any]:
    """Stepped decay: weight ``v`` for costs ``<= k`` (smallest ``k`` first), 0 beyond the largest ``k``.

    >>> step({10: 1, 20: 0.68, 30: 0.22})(np.array([0, 10, 15, 30, 31])).tolist()
    [1.0, 1.0, 0.68, 0.22, 0.0]
    """
    if not isinstance(steps, dict) or not steps:
        raise TypeError("steps must be a non-empty dict {cost limit: weight}")
    ks = np.array(sorted(steps), dtype=float)
    vs = np.array([steps[k] for k in sorted(steps)], dtype=float)
    if (vs < 0).any():
        raise ValueError("step weights must be >= 0")

    def f(x):
        x = np.asarray(x, dtype=float)
        i = np.searchsorted(ks, x, side="left")
        return np.where(i < len(ks), vs[np.minimum(i, len(ks) - 1)], 0.0)

    return f


def gaussian(sigma: float) -> Callable[[Any], Any]:
    """Gaussian decay ``exp(-x² / (2 sigma²))`` (``f(0) = 1``, as ``access.weights.gaussian``).

    >>> round(float(gaussian(20)(20)), 6)
    0.606531
    """
    if sigma == 0:
        raise ValueError("sigma must be non-zero")
    return lambda x: np.exp(-np.square(np.asarray(x, dtype=float)) / (2.0 * sigma**2))


def power(scale: float, alpha: float, min_cost: float = 0.0) -> Callable[[Any], Any]:
    """Power (gravity) decay ``(max(x, min_cost) / scale) ** alpha``; ``alpha`` negative for decay.

    Same as ``access.weights.gravity``.

    >>> power(20, -2, 1)(np.array([0, 2, 40])).round(9).tolist()
    [400.0, 100.0, 0.25]
    """
    return lambda x: np.power(np.maximum(np.asarray(x, dtype=float), min_cost) / scale, alpha)


def exponential(beta: float) -> Callable[[Any], Any]:
    """Exponential decay ``exp(-beta x)``.

    >>> float(exponential(0.1)(0))
    1.0
    """
    return lambda x: np.exp(-beta * np.asarray(x, dtype=float))


def linear(max_cost: float) -> Callable[[Any], Any]:
    """Linear decay ``max(0, 1 - x / max_cost)``.

    >>> linear(30)(np.array([0, 15, 45])).tolist()
    [1.0, 0.5, 0.0]
    """
    return lambda x: np.clip(1.0 - np.asarray(x, dtype=float) / max_cost, 0.0, None)


DEFAULT_E2SFCA_STEPS = {10: 1.0, 20: 0.68, 30: 0.22}
"""Luo & Qi (2009) weights for 0-10, 10-20, 20-30 minutes (also PySAL ``access``'s default)."""


# ----------------------------------------------------------------------------------------------- core

def _weights(cost, weight, max_cost):
    c = np.asarray(cost, dtype=float)
    if c.ndim != 2:
        raise BazhongGeoError(f"cost must be a 2-D matrix (n_demand × n_supply), got shape {c.shape}")
    ok = np.isfinite(c)
    if max_cost is not None:
        ok &= c <= max_cost
    if weight is None:
        w = ok.astype(float)
    else:
        cc = np.where(ok, c, 0.0)
        try:
            w = np.asarray(weight(cc), dtype=float)
        except (TypeError, ValueError):
            w = None
        if w is None or w.shape != cc.shape:  # a decay written for scalars: applied cell by cell
            w = np.vectorize(weight, otypes=[float])(cc)
        w = np.where(ok, w, 0.0)
    return w


def _vec(x, n, what):
    v = np.asarray(x, dtype=float).reshape(-1)
    if len(v) != n:
        raise BazhongGeoError(f"{what}: {len(v)} values for {n} locations in the cost matrix")
    if np.isnan(v).any() or (v < 0).any():
        bad = np.flatnonzero(np.isnan(v) | (v < 0))[:10].tolist()
        raise InvalidPopulationError(f"{what}: missing or negative values at positions {bad}; fill them or drop "
                                     f"those rows")
    return v


NO_SUPPLY = ("zero", "nan")
"""What a demand location with no supply in reach gets: 0 (default) or NaN (PySAL access)."""


def _no_supply(values: np.ndarray, w: np.ndarray, no_supply: str, s: np.ndarray | None = None) -> np.ndarray:
    """``values`` with the demand locations that reach no supply set by the ``no_supply`` rule."""
    if no_supply not in NO_SUPPLY:
        raise InvalidThresholdError(f"no_supply must be 'zero' (0 where no supply is in reach) or 'nan' (PySAL "
                                    f"access), not {no_supply!r}")
    if no_supply == "zero":
        return values
    reach = (w > 0) if s is None else (w > 0) & (s[None, :] > 0)
    out = np.asarray(values, dtype=float).copy()
    out[~reach.any(axis=1)] = np.nan
    return out


def two_sfca(cost: ArrayLike, supply: ArrayLike, demand: ArrayLike, *, max_cost: float | None = None,
             weight: Callable | None = None, no_supply: str = "zero") -> np.ndarray:
    """Two-step floating catchment area accessibility of each demand location.

    Parameters
    ----------
    cost : array (n_demand, n_supply)
        Travel cost (minutes); ``inf``/NaN = unreachable (e.g. :func:`bazhong_geo.network.travel_times`).
    supply : array (n_supply,)
        Capacity at each supply location (doctors, beds, school places).
    demand : array (n_demand,)
        Population at each demand location.
    max_cost : float, optional
        Catchment limit (costs ``<= max_cost`` count).
    weight : callable, optional
        Decay ``f(cost)``; ``None`` = 1 (classic 2SFCA).
    no_supply : {"zero", "nan"}
        Demand locations with no supply location in reach get 0 (default) or NaN (as PySAL ``access``).

    Returns
    -------
    ndarray (n_demand,)
        Supply per person reachable.

    Examples
    --------
    >>> two_sfca([[5, 50], [5, 5]], supply=[10, 4], demand=[100, 100], max_cost=30).tolist()
    [0.05, 0.09]
    >>> two_sfca([[5, 50], [50, 50]], supply=[10, 4], demand=[100, 100], max_cost=30, no_supply="nan").tolist()
    [0.1, nan]
    """
    w = _weights(cost, weight, max_cost)
    s = _vec(supply, w.shape[1], "supply")
    p = _vec(demand, w.shape[0], "demand")
    d = p @ w
    r = np.divide(s, d, out=np.zeros_like(s), where=d > 0)
    return _no_supply(w @ r, w, no_supply)


def enhanced_two_sfca(cost: ArrayLike, supply: ArrayLike, demand: ArrayLike, *, weight: Callable | None = None,
                      max_cost: float | None = None, no_supply: str = "zero") -> np.ndarray:
    """Enhanced 2SFCA: 2SFCA with a stepped decay (default 1 / 0.68 / 0.22 per 10-minute zone up to 30).

    ``no_supply`` as in :func:`two_sfca`.

    >>> enhanced_two_sfca([[5, 15]], supply=[1, 1], demand=[100]).round(6).tolist()
    [0.02]
    """
    return two_sfca(cost, supply, demand, max_cost=max_cost, weight=weight or step(DEFAULT_E2SFCA_STEPS),
                    no_supply=no_supply)


def gravity(cost: ArrayLike, supply: ArrayLike, demand: ArrayLike | None = None, *, weight: Callable,
            max_cost: float | None = None, demand_adjusted: bool = False,
            no_supply: str = "zero") -> np.ndarray:
    """Gravity accessibility: Hansen potential, or demand-adjusted (Joseph & Bantock) with ``demand_adjusted``.

    ``no_supply`` as in :func:`two_sfca` (a location whose decay weights are all 0 has no supply in reach).

    >>> gravity([[10, 20]], supply=[1, 1], weight=power(10, -1)).tolist()
    [1.5]
    """
    w = _weights(cost, weight, max_cost)
    s = _vec(supply, w.shape[1], "supply")
    if not demand_adjusted:
        return _no_supply(w @ s, w, no_supply)
    if demand is None:
        raise BazhongGeoError("demand_adjusted gravity needs demand")
    p = _vec(demand, w.shape[0], "demand")
    v = p @ w
    r = np.divide(s, v, out=np.zeros_like(s), where=v > 0)
    return _no_supply(w @ r, w, no_supply)


def accessibility(  # noqa: PLR0913  (keyword options of the public call, as PySAL access names them)
        demand: gpd.GeoDataFrame, supply: gpd.GeoDataFrame, *, roads: gpd.GeoDataFrame | None = None,
        cost: ArrayLike | None = None, method: str = "2sfca", demand_col: str = "population",
        supply_col: str = "capacity", max_cost: float | None = None, weight: Callable | None = None,
        name: str | None = None, no_supply: str = "zero", **network_kw: Any) -> gpd.GeoDataFrame:
    """Accessibility of each demand location (GeoDataFrames in, a copy of ``demand`` with a new column out).

    Parameters
    ----------
    demand, supply : GeoDataFrame of points
        With ``demand_col`` (people) and ``supply_col`` (capacity).
    roads : GeoDataFrame of lines, optional
        Travel times by :func:`bazhong_geo.network.travel_times` (``network_kw`` passed on).
    cost : array, optional
        A ready cost matrix (n_demand × n_supply); without ``roads`` or ``cost``, straight-line
        distance in km is the cost.
    method : {"2sfca", "e2sfca", "gravity", "gravity_adjusted"}
    no_supply : {"zero", "nan"}
        Demand locations with no supply in reach get 0 (default) or NaN (as PySAL ``access``); either
        way they are listed in ``attrs["report"]["no_supply_in_reach"]`` (row positions).

    Returns
    -------
    GeoDataFrame
        ``demand`` plus column ``name`` (default = ``method``). When costs come from the geometries,
        demand rows without coordinates get NaN and supply rows without coordinates serve nobody;
        both are warned about and listed in ``attrs["report"]`` (``demand_unlocated``,
        ``supply_unlocated``: row positions).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> villages = gpd.GeoDataFrame({"population": [100.0, 300.0]}, crs=4545,
    ...     geometry=[shapely.Point(500000, 3500000), shapely.Point(520000, 3500000)])
    >>> clinics = gpd.GeoDataFrame({"capacity": [4.0]}, crs=4545, geometry=[shapely.Point(505000, 3500000)])
    >>> accessibility(villages, clinics, max_cost=10)["2sfca"].tolist()   # straight-line km
    [0.04, 0.0]
    """
    _check_request(demand, supply, method, demand_col, supply_col, no_supply)
    report: dict = {}
    unlocated = {"demand": np.zeros(0, dtype=np.int64)}
    if cost is None:
        unlocated = _unlocated(demand, supply, report)
        cost = _costs(demand, supply, roads, network_kw)
    val = _values(method, cost, supply[supply_col].to_numpy(dtype=float), demand[demand_col], max_cost, weight,
                  no_supply)
    w = _weights(cost, weight or (step(DEFAULT_E2SFCA_STEPS) if method == "e2sfca" else None), max_cost)
    nothing = np.flatnonzero(~(w > 0).any(axis=1))
    nothing = nothing[~np.isin(nothing, unlocated["demand"])]
    if len(nothing):
        report["no_supply_in_reach"] = nothing.tolist()
    val = np.asarray(val, dtype=float).copy()
    val[unlocated["demand"]] = np.nan
    out = demand.copy()
    out[name or method] = val
    out.attrs["report"] = report
    return out


def _check_request(demand, supply, method, demand_col, supply_col, no_supply):
    """The method, the no-supply rule and the columns, checked before any routing."""
    if method not in ("2sfca", "e2sfca", "gravity", "gravity_adjusted"):
        raise BazhongGeoError(f"unknown method {method!r}; use 2sfca, e2sfca, gravity or gravity_adjusted")
    _no_supply(np.zeros(0), np.zeros((0, 0)), no_supply)
    for df, col, what in ((demand, demand_col, "demand"), (supply, supply_col, "supply")):
        if (method != "gravity" or what == "supply") and col not in df.columns:
            raise MissingColumnError(f"{what}: no column {col!r} (columns: {list(df.columns)}); pass {what}_col=...")


def _unlocated(demand, supply, report):
    """Rows without coordinates (unreachable, NaN cost), warned about and listed in ``report``."""
    import warnings

    unlocated = {}
    for df, what in ((demand, "demand"), (supply, "supply")):
        rows = np.flatnonzero(~located(df))
        unlocated[what] = rows
        if len(rows):
            report[f"{what}_unlocated"] = rows.tolist()
            warnings.warn(f"{what}: {len(rows)} location(s) without coordinates (rows {rows[:10].tolist()}"
                          f"{' ...' if len(rows) > 10 else ''}) are left out (report['{what}_unlocated'])",
                          stacklevel=3)
    return unlocated


def _costs(demand, supply, roads, network_kw):
    """Travel times over ``roads``, else straight-line km between the locations (NaN where one is missing)."""
    import warnings

    import shapely

    if roads is not None:
        with warnings.catch_warnings():  # unlocated rows are reported once, by _unlocated
            warnings.filterwarnings("ignore", message=r".*without coordinates were left out")
            return travel_times(roads, demand, supply, **network_kw)

    def xy(df):
        c = shapely.centroid(np.asarray(to_work_crs(df).geometry.to_numpy(), dtype=object))
        return np.column_stack([shapely.get_x(c), shapely.get_y(c)])

    a, b = xy(demand), xy(supply)
    return np.hypot(a[:, None, 0] - b[None, :, 0], a[:, None, 1] - b[None, :, 1]) / 1000.0


def _values(method, cost, s, demand_values, max_cost, weight, no_supply):
    """The chosen measure for every demand location."""
    p = demand_values.to_numpy(dtype=float)
    if method == "2sfca":
        return two_sfca(cost, s, p, max_cost=max_cost, weight=weight, no_supply=no_supply)
    if method == "e2sfca":
        return enhanced_two_sfca(cost, s, p, max_cost=max_cost, weight=weight, no_supply=no_supply)
    if weight is None:
        raise BazhongGeoError("gravity needs a decay weight, e.g. weight=accessibility.power(30, -1, 1)")
    adjusted = method == "gravity_adjusted"
    return gravity(cost, s, p if adjusted else None, weight=weight, max_cost=max_cost, demand_adjusted=adjusted,
                   no_supply=no_supply)
