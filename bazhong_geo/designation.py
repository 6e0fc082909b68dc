"""Town-designation checks: explained pass/fail/no-data verdicts against criteria profiles, and reports.

The profiles themselves (units, :class:`Criterion`, :class:`Profile`, :func:`load_profile`) live in
:mod:`bazhong_geo.profiles` and are re-exported here. Each criterion kind has one measuring function
(:data:`MEASURES`); :func:`check` measures every leaf criterion, combines them by the profile's rules and explains
each outcome. :func:`write_check_report` writes tables and Markdown; maps are drawn by the caller (the ``check``
command draws the candidates with :mod:`bazhong_geo.maps`).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import network, settings, zonal
from ._errors import (
    DuplicateCodeError,
    EmptyInputError,
    InvalidCriterionError,
    MissingColumnError,
    MissingCRSError,
)
from .location import plan_designations
from .profiles import (  # noqa: F401  (re-exported: the profile API is importable from here too)
    ATTRIBUTES,
    KINDS,
    OPS,
    RULES,
    UNITS,
    Criterion,
    Profile,
    attribute_unit,
    available_profiles,
    fmt_en,
    fmt_zh,
    load_profile,
    profiles_dir,
    threshold_text_en,
    threshold_text_zh,
    trim_number,
)

__all__ = [
    "MEASURES",
    "OPS",
    "UNITS",
    "CheckResult",
    "Criterion",
    "Profile",
    "available_profiles",
    "check",
    "load_profile",
    "plan_designations",
    "profiles_dir",
    "write_check_report",
]

OUTCOMES = ("pass", "fail", "no_data")
VERDICTS = {"pass": "qualifies", "fail": "does not qualify", "no_data": "incomplete"}
VERDICTS_ZH = {"qualifies": "符合", "does not qualify": "不符合", "incomplete": "数据不全"}


# ------------------------------------------------------------------------------------------- reasons

def _label(c: Criterion) -> tuple[str, str]:
    zh, en = c.label_zh, c.label_en
    if c.attribute and c.attribute in ATTRIBUTES:
        zh = zh or ATTRIBUTES[c.attribute][2]
        en = en or ATTRIBUTES[c.attribute][3]
    defaults = {"distance_to_tier": ("距最近县城或中心城区", "distance to the nearest county town or central city"),
                "spacing": ("距最近已命名镇", "distance to the nearest designated town"),
                "catchment_population": ("服务半径内人口", "population within the catchment"),
                "road_distance": ("距最近道路", "distance to the nearest road"),
                "travel_time": ("到最近县城的行车时间", "travel time to the nearest county town")}
    if c.kind in defaults:
        zh = zh or defaults[c.kind][0]
        en = en or defaults[c.kind][1]
    return zh or (c.attribute or c.id), en or (c.attribute or c.id)


_OPS_ZH = {">=": ("达到", "低于"), ">": ("高于", "未超过"), "<=": ("未超过", "超过"), "<": ("低于", "未低于"),
           "==": ("等于", "不等于"), "!=": ("不等于", "等于")}
_OPS_EN = {">=": ("meets", "is below"), ">": ("exceeds", "does not exceed"), "<=": ("is within", "exceeds"),
           "<": ("is below", "is not below"), "==": ("equals", "does not equal"), "!=": ("differs from", "equals")}
_BOUND_ZH = {">=": "标准", ">": "标准", "<=": "上限", "<": "上限", "==": "标准", "!=": "标准"}
_BOUND_EN = {">=": "threshold", ">": "threshold", "<=": "maximum", "<": "maximum", "==": "value", "!=": "value"}


def _reason(c: Criterion, profile: Profile, outcome: str, measured: Any, extra_zh: str = "", extra_en: str = "",
            why_zh: str = "", why_en: str = "") -> tuple[str, str]:
    lz, le = _label(c)
    pz, pe = profile.label_zh, profile.label_en
    cap = le[:1].upper() + le[1:]
    if outcome == "no_data":
        return ((f"缺少{lz}数据{('（' + why_zh + '）') if why_zh else ''}，"
                 f"无法判断是否达到{pz}标准 {threshold_text_zh(c)}"),
                (f"No data on {le}{(' (' + why_en + ')') if why_en else ''}; cannot tell whether it meets the "
                 f"{pe} threshold of {threshold_text_en(c)}"))
    if c.kind == "designation":
        held = measured or ""
        if outcome == "pass":
            return f"{lz} {held}，符合{pz}要求", f"Holds {held}, as the {pe} profile requires"
        return (f"未获{pz}所需称号（{threshold_text_zh(c)}之一）",
                f"Holds none of the designations the {pe} profile requires ({threshold_text_en(c)})")
    vz = fmt_zh(measured, c.unit) + extra_zh
    ve = fmt_en(measured, c.unit) + extra_en
    if c.op == "between":
        lo, hi = c.value
        if outcome == "pass":
            return (f"{lz} {vz}，在{pz}标准区间 {threshold_text_zh(c)} 内",
                    f"{cap} {ve} is within the {pe} band of {threshold_text_en(c)}")
        if measured < lo:
            return (f"{lz} {vz}，低于{pz}标准区间下限 {fmt_zh(lo, c.unit)}",
                    f"{cap} {ve} is below the {pe} band's lower bound of {fmt_en(lo, c.unit)}")
        return (f"{lz} {vz}，高于{pz}标准区间上限 {fmt_zh(hi, c.unit)}",
                f"{cap} {ve} is above the {pe} band's upper bound of {fmt_en(hi, c.unit)}")
    i = 0 if outcome == "pass" else 1
    return (f"{lz} {vz}，{_OPS_ZH[c.op][i]}{pz}{_BOUND_ZH[c.op]} {threshold_text_zh(c)}",
            f"{cap} {ve} {_OPS_EN[c.op][i]} the {pe} {_BOUND_EN[c.op]} of {threshold_text_en(c)}")


# ------------------------------------------------------------------------------------------- measuring

def _compare(values: np.ndarray, c: Criterion) -> np.ndarray:
    v = values
    with np.errstate(invalid="ignore"):
        if c.op == "between":
            return (v >= c.value[0]) & (v <= c.value[1])
        t = c.value
        return {">=": v >= t, ">": v > t, "<=": v <= t, "<": v < t, "==": v == t, "!=": v != t}[c.op]


def _attainment(values: np.ndarray, passed: np.ndarray, c: Criterion) -> np.ndarray:
    """Per-candidate attainment in [0, 1]: 1 when passed, the ratio to the threshold when failed."""
    v = np.asarray(values, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if c.op in (">=", ">"):
            r = v / c.value if c.value > 0 else np.zeros_like(v)
        elif c.op in ("<=", "<"):
            r = np.where(v > 0, c.value / v, 0.0)
        elif c.op == "between":
            lo, hi = c.value
            r = np.where(v < lo, v / lo if lo > 0 else 0.0, np.where(v > 0, hi / v, 0.0))
        else:
            r = np.zeros_like(v)
    r = np.clip(np.nan_to_num(r, nan=0.0, posinf=0.0, neginf=0.0), 0.0, 0.999)
    return np.where(passed, 1.0, r)



def _context_frame(context: Any) -> pd.DataFrame | None:
    """The settlement table of a Region / SettlementSystem / GeoDataFrame given as context."""
    if context is None:
        return None
    system = getattr(context, "system", None)          # a Region
    if system is not None and hasattr(system, "settlements"):
        return system.settlements
    if hasattr(context, "settlements") and not isinstance(context, pd.DataFrame):   # a SettlementSystem
        return context.settlements
    if isinstance(context, pd.DataFrame):
        return context
    raise TypeError(f"context must be a Region, a SettlementSystem or a GeoDataFrame, got {type(context).__name__}")


def _to_work(gdf: Any) -> Any:
    """The layer in the work CRS, or None when it is not a GeoDataFrame with geometry."""
    import geopandas as gpd

    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        return None
    if gdf.crs is None:
        raise MissingCRSError("candidate/context layer has no CRS; set it (e.g. gdf.set_crs(4326)) before checking")
    return gdf if gdf.crs == settings.WORK_CRS else gdf.to_crs(settings.WORK_CRS)


def _xy(gdf: Any) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates (n, 2) in the work CRS and a mask of usable points (polygons give a point on surface)."""
    import shapely

    geoms = np.asarray(gdf.geometry.values, dtype=object) if gdf is not None else np.array([], dtype=object)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) if len(geoms) else np.zeros(0, bool)
    xy = np.full((len(geoms), 2), np.nan)
    if ok.any():
        pts = shapely.point_on_surface(geoms[ok])
        xy[ok] = shapely.get_coordinates(pts)
    return xy, ok


def _nearest(src_xy: np.ndarray, src_ok: np.ndarray, dst_xy: np.ndarray, src_codes: np.ndarray,
             dst_codes: np.ndarray, exclude_self: bool) -> tuple[np.ndarray, np.ndarray]:
    """Distance (m) from every located source to the nearest destination (``inf`` if none), and its index.

    With ``exclude_self`` a destination with the source's own code is skipped (spacing from *other* towns).
    A k-d tree keeps memory linear (village-scale inputs).
    """
    from scipy.spatial import cKDTree

    n = len(src_xy)
    dist = np.full(n, np.nan)
    idx = np.full(n, -1)
    if len(dst_xy) == 0 or not src_ok.any():
        return dist, idx
    rows = np.flatnonzero(src_ok)
    kk = min(2 if exclude_self else 1, len(dst_xy))
    d, j = cKDTree(dst_xy).query(src_xy[rows], k=kk)
    d, j = d.reshape(len(rows), kk), j.reshape(len(rows), kk)
    if exclude_self:
        is_self = dst_codes[j] == src_codes[rows][:, None]
        d = np.where(is_self, np.inf, d)
        pick = np.argmin(d, axis=1)             # the nearest that is not the source itself
        d, j = d[np.arange(len(rows)), pick], j[np.arange(len(rows)), pick]
    else:
        d, j = d[:, 0], j[:, 0]
    dist[rows] = d
    idx[rows] = np.where(np.isfinite(d), j, -1)
    return dist, idx


def _has_any(series: pd.Series, keys: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(known, held, held_text) for a ';'-joined designations column.

    An empty cell means "holds none" (the register's convention, "" or NaN once read from CSV); only a missing
    column leaves designations unknown.
    """
    keyset = set(keys)
    hits = series.fillna("").astype(str).str.split(";").map(
        lambda parts: ";".join(p.strip() for p in parts if p.strip() in keyset))
    return np.ones(len(series), bool), (hits != "").to_numpy(), hits.tolist()


@dataclass
class _Measure:
    values: np.ndarray                      # float in the criterion's unit (NaN = no data), or object for designations
    known: np.ndarray                       # bool
    passed: np.ndarray                      # bool (meaningless where not known)
    why_zh: list[str]                       # no-data explanation per row ("" when known)
    why_en: list[str]
    extra_zh: list[str] = field(default_factory=list)   # appended to the measured value (e.g. nearest town name)
    extra_en: list[str] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)      # what to collect per row when unknown


def _rep(n: int, s: str) -> list[str]:
    return [s] * n


def _no_data(n: int, why_zh: str, why_en: str, need: str) -> _Measure:
    """Every candidate undecided, for one reason (a missing layer, column or context)."""
    return _Measure(np.full(n, np.nan), np.zeros(n, bool), np.zeros(n, bool), _rep(n, why_zh), _rep(n, why_en),
                    needs=_rep(n, need))


_NO_LOCATION = ("无坐标", "no coordinates")
_NO_CONTEXT = ("未提供区域背景即县城位置", "no context region given (county town locations)")


@dataclass
class _Inputs:
    """What the measuring functions read: candidates (table, work-CRS layer, points), context, demand, roads."""

    cand: pd.DataFrame
    cand_w: Any                     # the candidates in the work CRS (None without geometry)
    ctx: pd.DataFrame | None
    ctx_w: Any
    demand: Any
    roads: Any
    xy: np.ndarray = field(init=False)
    ok: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        n = len(self.cand)
        self.xy, self.ok = (np.full((n, 2), np.nan), np.zeros(n, bool)) if self.cand_w is None else _xy(self.cand_w)

    @property
    def n(self) -> int:
        return len(self.cand)

    @property
    def codes(self) -> np.ndarray:
        return self.cand["code"].astype(str).to_numpy()


MEASURES: dict[str, Callable[[Criterion, _Inputs], _Measure]] = {}
"""Registry: criterion kind -> its measuring function ``f(criterion, inputs) -> measure``."""


def _measures(*kinds: str) -> Callable:
    def register(fn: Callable[[Criterion, _Inputs], _Measure]) -> Callable[[Criterion, _Inputs], _Measure]:
        for kind in kinds:
            MEASURES[kind] = fn
        return fn
    return register


def _measure(c: Criterion, inp: _Inputs) -> _Measure:
    if c.kind not in MEASURES:   # pragma: no cover - load_profile admits only known kinds
        raise InvalidCriterionError(f"criterion {c.id!r}: kind {c.kind!r} cannot be measured")
    return MEASURES[c.kind](c, inp)


@_measures("attribute")
def _measure_attribute(c: Criterion, inp: _Inputs) -> _Measure:
    """A column of the candidate table, converted to the threshold's unit; figures of another kind do not decide."""
    n, cand = inp.n, inp.cand
    if c.attribute not in cand.columns:
        vals = np.full(n, np.nan)
        why = (f"候选表无“{c.attribute}”列", f"candidates have no '{c.attribute}' column")
    else:
        vals = pd.to_numeric(cand[c.attribute], errors="coerce").to_numpy(dtype=float)
        why = ("数值缺失", "value missing")
        col_unit = attribute_unit(c.attribute) or c.unit
        vals = vals * UNITS[col_unit][1] / UNITS[c.unit][1]
    m = _Measure(vals, np.zeros(n, bool), np.zeros(n, bool), _rep(n, why[0]), _rep(n, why[1]), _rep(n, ""),
                 _rep(n, ""), needs=_rep(n, c.attribute))
    if c.accept_kinds and c.kind_column in cand.columns:
        _apply_accept_kinds(c, cand, m)
    m.known = np.isfinite(m.values)
    m.passed = _compare(m.values, c) & m.known
    return m


def _apply_accept_kinds(c: Criterion, cand: pd.DataFrame, m: _Measure) -> None:
    """Mark figures of another kind as undecidable, except an upper bound that is already too small.

    A figure of another kind (household-registered, or the whole township instead of the town area) cannot
    decide -- except an upper bound (a whole-township resident count) that is already too small.
    """
    vals = m.values  # noqa: PD011  (a _Measure field, not pandas)
    kinds = cand[c.kind_column].fillna("").astype(str).str.strip().to_numpy()
    wrong = (kinds != "") & ~np.isin(kinds, c.accept_kinds) & np.isfinite(vals)
    bound_fail = wrong & np.isin(kinds, c.upper_bound_kinds) & ~_compare(vals, c)
    acc = "/".join(c.accept_kinds)
    for i in np.flatnonzero(wrong & ~bound_fail):
        m.why_zh[i] = f"现有数值 {fmt_zh(vals[i], c.unit)} 的口径为“{kinds[i]}”，标准要求“{acc}”"
        m.why_en[i] = f"the {fmt_en(vals[i], c.unit)} on file is of kind '{kinds[i]}', the threshold needs '{acc}'"
        m.needs[i] = f"{c.attribute} ({acc})"
    for i in np.flatnonzero(bound_fail):
        m.extra_zh[i] = f"（口径“{kinds[i]}”为上限，{acc}不会更多）"
        m.extra_en[i] = f" (kind '{kinds[i]}', an upper bound: the {acc} figure cannot be larger)"
    m.values = np.where(wrong & ~bound_fail, np.nan, vals)


@_measures("designation")
def _measure_designation(c: Criterion, inp: _Inputs) -> _Measure:
    """Holds any of the listed designations (the ';'-joined designations column)."""
    n, col = inp.n, c.attribute or "designations"
    if col not in inp.cand.columns:
        return _Measure(np.full(n, None, dtype=object), np.zeros(n, bool), np.zeros(n, bool),
                        _rep(n, f"候选表无“{col}”列"), _rep(n, f"candidates have no '{col}' column"),
                        needs=_rep(n, col))
    known, held, text = _has_any(inp.cand[col], c.value)
    return _Measure(np.array(text, dtype=object), known, held & known, _rep(n, "称号信息缺失"),
                    _rep(n, "designations not recorded"), needs=_rep(n, col))


def _reference_towns(c: Criterion, inp: _Inputs) -> tuple[Any, pd.DataFrame, np.ndarray]:
    """Return the reference layer, its table and the selected rows.

    County towns for ``distance_to_tier``; designated towns for ``spacing`` (the context, else the candidates
    themselves).
    """
    ref = inp.ctx_w if inp.ctx_w is not None else inp.cand_w
    tab = inp.ctx if inp.ctx_w is not None else inp.cand
    if c.kind == "distance_to_tier":
        if "tier" not in tab.columns:
            raise MissingColumnError("context settlements have no 'tier' column; pass a Region or SettlementSystem")
        return ref, tab, tab["tier"].astype(str).isin(c.tiers).to_numpy()
    sel = np.zeros(len(tab), bool)
    if c.from_tiers and "tier" in tab.columns:
        sel |= tab["tier"].astype(str).isin(c.from_tiers).to_numpy()
    if c.from_designations and "designations" in tab.columns:
        sel |= _has_any(tab["designations"], c.from_designations)[1]
    return ref, tab, sel


@_measures("distance_to_tier", "spacing")
def _measure_distance(c: Criterion, inp: _Inputs) -> _Measure:
    """Straight-line distance to the nearest county town, or to the nearest other designated town (spacing)."""
    n = inp.n
    ref_desc = (("县城/中心城区位置", "county town / central city locations") if c.kind == "distance_to_tier"
                else ("已命名镇位置", "locations of designated towns"))
    if inp.ctx_w is None and c.kind == "distance_to_tier":
        return _no_data(n, "未提供区域背景即县城位置", "no context region given (county town locations)",
                        "context: " + ref_desc[1])
    ref, tab, sel = _reference_towns(c, inp)
    ref_xy, ref_ok = _xy(ref) if ref is not None else (np.zeros((0, 2)), np.zeros(0, bool))
    use = sel & ref_ok
    ref_codes = tab["code"].astype(str).to_numpy() if "code" in tab.columns else np.full(len(tab), "")
    ref_names = tab["name"].astype(str).to_numpy() if "name" in tab.columns else ref_codes
    if not use.any():
        if sel.any() or c.kind == "distance_to_tier":
            return _no_data(n, f"参照对象（{ref_desc[0]}）无坐标", f"no located reference ({ref_desc[1]})",
                            "context: " + ref_desc[1])
        # nothing designated anywhere: spacing holds trivially
        vals = np.where(inp.ok, np.inf, np.nan)
        return _Measure(vals, inp.ok, inp.ok & _compare(vals, c), _rep(n, _NO_LOCATION[0]), _rep(n, _NO_LOCATION[1]),
                        extra_zh=_rep(n, "（范围内无已命名镇）"),
                        extra_en=_rep(n, " (no designated town in the context)"),
                        needs=_rep(n, "location"))
    d, j = _nearest(inp.xy, inp.ok, ref_xy[use], inp.codes, ref_codes[use], exclude_self=c.kind == "spacing")
    vals = d * (1.0 / UNITS[c.unit][1])      # metres -> threshold unit
    known = ~np.isnan(vals)
    names = ref_names[use]
    ez = [f"（{names[k]}）" if k >= 0 else "（无其他参照镇）" for k in j]
    ee = [f" ({names[k]})" if k >= 0 else " (no other reference town)" for k in j]
    return _Measure(vals, known, known & _compare(vals, c), _rep(n, _NO_LOCATION[0]), _rep(n, _NO_LOCATION[1]), ez, ee,
                    needs=_rep(n, "location"))


def _population_within_reach(xy: np.ndarray, ok: np.ndarray, demand: Any, radius_m: float) -> np.ndarray:
    """People within ``radius_m`` (straight line) of each located point; NaN where the point is not located.

    The reach of a candidate is the disc of ``radius_m`` around it; its people come from the one zonal answer,
    :func:`bazhong_geo.zonal.population_within` (points by containment, polygons split by the share of their area
    inside the disc, a raster by exact coverage), so catchments and designation give the same number.
    """
    import geopandas as gpd
    import shapely

    if isinstance(demand, pd.DataFrame) and "population" not in demand.columns:
        raise MissingColumnError("demand layer has no 'population' column; add it (people per feature)")
    dem = _to_work(demand) if isinstance(demand, pd.DataFrame) else demand
    if dem is None:
        raise MissingColumnError("demand must be a GeoDataFrame with point or polygon geometry and a CRS")
    vals = np.full(len(xy), np.nan)
    if ok.any():
        # 256 segments per quarter: the disc's area is within 1e-5 of pi r^2
        discs = shapely.buffer(shapely.points(xy[ok]), radius_m, quad_segs=256)
        zones = gpd.GeoDataFrame(geometry=discs, crs=settings.WORK_CRS)
        vals[ok] = zonal.population_within(zones, dem, column="population").to_numpy(float)
    return vals


@_measures("catchment_population")
def _measure_catchment(c: Criterion, inp: _Inputs) -> _Measure:
    """People of the demand layer within the criterion's radius of the candidate."""
    n = inp.n
    if inp.demand is None:
        return _no_data(n, "未提供人口分布图层", "no demand/population layer given", "demand layer")
    people = _population_within_reach(inp.xy, inp.ok, inp.demand, c.radius * UNITS[c.radius_unit][1])
    vals = people / UNITS[c.unit][1]
    r = f"{trim_number(c.radius, 2)}{' km' if c.radius_unit == 'km' else ' m'}"
    return _Measure(vals, inp.ok, inp.ok & _compare(vals, c), _rep(n, _NO_LOCATION[0]), _rep(n, _NO_LOCATION[1]),
                    _rep(n, f"（半径{r}）"), _rep(n, f" (within {r})"), needs=_rep(n, "location"))


@_measures("road_distance")
def _measure_road_distance(c: Criterion, inp: _Inputs) -> _Measure:
    """Straight-line distance to the nearest road line."""
    import shapely

    n = inp.n
    if inp.roads is None:
        return _no_data(n, "未提供道路图层", "no road layer given", "road layer")
    tree = shapely.STRtree(np.asarray(_to_work(inp.roads).geometry.values, dtype=object))
    vals = np.full(n, np.nan)
    if inp.ok.any():
        (ii, _jj), dist = tree.query_nearest(shapely.points(inp.xy[inp.ok]), return_distance=True, all_matches=False)
        tmp = np.full(inp.ok.sum(), np.nan)
        tmp[ii] = dist
        vals[inp.ok] = tmp * (1.0 / UNITS[c.unit][1])
    known = np.isfinite(vals)
    return _Measure(vals, known, known & _compare(vals, c), _rep(n, _NO_LOCATION[0]), _rep(n, _NO_LOCATION[1]),
                    needs=_rep(n, "location"))


@_measures("travel_time")
def _measure_travel_time(c: Criterion, inp: _Inputs) -> _Measure:
    """Road travel time to the nearest town of the criterion's tiers (county town, central city)."""
    n = inp.n
    if inp.roads is None:
        return _no_data(n, "未提供道路图层", "no road layer given", "road layer")
    if inp.ctx_w is None:
        return _no_data(n, *_NO_CONTEXT, "context: county town locations")
    if "tier" not in inp.ctx.columns:
        raise MissingColumnError("context settlements have no 'tier' column; pass a Region or SettlementSystem")
    use = inp.ctx["tier"].astype(str).isin(c.tiers).to_numpy() & _xy(inp.ctx_w)[1]
    if not use.any() or not inp.ok.any():
        return _no_data(n, *_NO_LOCATION, "location")
    minutes = _travel_minutes(inp.roads, inp.cand_w[inp.ok], inp.ctx_w[use], c.speed_col)
    vals = np.full(n, np.nan)
    vals[inp.ok] = np.nanmin(minutes, axis=1) / UNITS[c.unit][1] if minutes.shape[1] else np.nan
    known = np.isfinite(vals)
    return _Measure(vals, known, known & _compare(vals, c), _rep(n, "无坐标或道路不连通"),
                    _rep(n, "no coordinates or not connected to the road network"), needs=_rep(n, "location"))


def _travel_minutes(roads: Any, origins: Any, destinations: Any, speed_col: str | None) -> np.ndarray:
    """Origin x destination travel times (minutes) via ``bazhong_geo.network.travel_times``."""
    kwargs = {"speed_col": speed_col} if speed_col else {}
    tt = network.travel_times(roads, origins, destinations, **kwargs)
    arr = tt.to_numpy(dtype=float) if hasattr(tt, "to_numpy") else np.asarray(tt, dtype=float)
    if arr.shape != (len(origins), len(destinations)):
        raise ValueError(f"network.travel_times returned shape {arr.shape}, expected "
                         f"{(len(origins), len(destinations))}")
    return arr


# ------------------------------------------------------------------------------------------- check

@dataclass
class CheckResult:
    """Outcome of :func:`check`.

    Attributes
    ----------
    profile : Profile
    details : pandas.DataFrame
        One row per candidate x criterion (leaves and composites): ``code``, ``name``, ``criterion``, ``kind``,
        ``parent``, ``measured``, ``threshold``, ``unit``, ``outcome`` (pass / fail / no_data), ``reason_zh``,
        ``reason_en``, ``source``.
    verdicts : pandas.DataFrame or geopandas.GeoDataFrame
        One row per candidate: ``code``, ``name``, ``verdict`` (qualifies / does not qualify / incomplete),
        ``verdict_zh``, ``score`` (0–1, weighted mean attainment), ``rank``, ``n_pass``, ``n_fail``, ``n_no_data``,
        ``reasons_zh``, ``reasons_en`` (and ``geometry`` when the candidates had one).
    missing_data : pandas.DataFrame
        Per data item to collect: ``data_needed``, ``criteria``, ``n_candidates``, ``codes``, ``names``.
    """

    profile: Profile
    details: pd.DataFrame
    verdicts: pd.DataFrame
    missing_data: pd.DataFrame

    def counts(self) -> dict[str, int]:
        """Number of candidates per verdict."""
        vc = self.verdicts["verdict"].value_counts()
        return {v: int(vc.get(v, 0)) for v in ("qualifies", "does not qualify", "incomplete")}

    def to_markdown(self) -> str:
        """A short Markdown summary: profile, counts, ranked candidates, data to collect."""
        p = self.profile
        c = self.counts()
        lines = [f"# Designation check: {p.label_en} ({p.label_zh})", "",
                 p.description, "",
                 (f"Candidates: {len(self.verdicts)} — qualifies (符合) {c['qualifies']}, does not qualify (不符合) "
                  f"{c['does not qualify']}, incomplete (数据不全) {c['incomplete']}."), "",
                 "## Criteria", "", _md_table(p.table()), "",
                 "## Ranked candidates", "",
                 _md_table(pd.DataFrame(self.verdicts)[["rank", "code", "name", "verdict", "score", "n_pass", "n_fail",
                                                        "n_no_data"]]), "",
                 "## Data to collect (缺失数据)", ""]
        if len(self.missing_data):
            lines.append(_md_table(self.missing_data[["data_needed", "criteria", "n_candidates", "names"]]))
        else:
            lines.append("None: every criterion could be decided for every candidate.")
        lines += ["", "## Reasons (理由)", ""]
        for r in pd.DataFrame(self.verdicts).itertuples(index=False):
            lines.append(f"- **{r.name}** ({r.code}) — {r.verdict_zh} / {r.verdict}: {r.reasons_zh}")
        lines.append("")
        return "\n".join(lines)


def _md_table(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in df.itertuples(index=False):
        cells = []
        for v in row:
            s = f"{v:.3f}" if isinstance(v, float) else str(v)
            cells.append(s.replace("|", "/").replace("\n", " "))
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def _combine(rule: str, k: int | None, outcomes: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Kleene three-valued combination; returns (outcome codes 1 pass / 0 fail / -1 no data, n_pass, n_known)."""
    o = np.vstack(outcomes)
    n_pass = (o == 1).sum(0)
    n_fail = (o == 0).sum(0)
    n_nd = (o == -1).sum(0)
    m = o.shape[0]
    if rule == "all":
        res = np.where(n_fail > 0, 0, np.where(n_nd > 0, -1, 1))
    elif rule == "any":
        res = np.where(n_pass > 0, 1, np.where(n_nd > 0, -1, 0))
    else:
        res = np.where(n_pass >= k, 1, np.where(n_pass + n_nd < k, 0, -1))
    return res, n_pass, m - n_nd


def _candidate_table(candidates: Any) -> pd.DataFrame:
    """The candidates' table (a Region's or SettlementSystem's settlements), with unique codes and names."""
    if hasattr(candidates, "system") and hasattr(candidates.system, "settlements"):
        candidates = candidates.system.settlements
    elif hasattr(candidates, "settlements") and not isinstance(candidates, pd.DataFrame):
        candidates = candidates.settlements
    if not isinstance(candidates, pd.DataFrame):
        raise TypeError(f"candidates must be a DataFrame or GeoDataFrame, got {type(candidates).__name__}")
    for col in ("code", "name"):
        if col not in candidates.columns:
            raise MissingColumnError(f"candidates have no {col!r} column (columns: "
                                     f"{', '.join(map(str, candidates.columns))}); "
                                     "add a unique code and a name per candidate")
    if len(candidates) == 0:
        raise EmptyInputError("no candidates to check")
    codes = candidates["code"].astype(str)
    dup = codes[codes.duplicated(keep=False)]
    if len(dup):
        raise DuplicateCodeError(f"candidate codes must be unique; repeated: {', '.join(sorted(set(dup))[:10])}")
    return candidates.reset_index(drop=True)


def _inputs(candidates: Any, context: Any, demand: Any, roads: Any) -> _Inputs:
    cand = _candidate_table(candidates)
    ctx = _context_frame(context)
    ctx = ctx.reset_index(drop=True) if ctx is not None else None
    return _Inputs(cand, _to_work(cand), ctx, _to_work(ctx) if ctx is not None else None, demand, roads)


_OUTCOME_NAMES = np.array(["pass", "fail", "no_data"], dtype=object)


def _outcome_names(res: np.ndarray) -> np.ndarray:
    """Outcome codes (1 pass / 0 fail / -1 no data) as names."""
    return _OUTCOME_NAMES[np.where(res == 1, 0, np.where(res == 0, 1, 2))]


@dataclass
class _Tally:
    """What the walk over the profile collects: detail rows, attainment and outcome per leaf, data to collect."""

    profile: Profile
    inp: _Inputs
    rows: list[pd.DataFrame] = field(default_factory=list)
    attain: dict[str, np.ndarray] = field(default_factory=dict)
    leaf_outcome: dict[str, np.ndarray] = field(default_factory=dict)
    needs_rows: list[tuple[str, str, str, str]] = field(default_factory=list)
    codes: np.ndarray = field(init=False)
    names: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.codes = self.inp.cand["code"].astype(str).to_numpy()
        self.names = self.inp.cand["name"].astype(str).to_numpy()


def _evaluate(c: Criterion, parent: str, t: _Tally) -> np.ndarray:
    """Outcome codes of a criterion for every candidate (composites combine their children's)."""
    return _evaluate_composite(c, parent, t) if c.kind == "composite" else _evaluate_leaf(c, parent, t)


def _evaluate_composite(c: Criterion, parent: str, t: _Tally) -> np.ndarray:
    prof = t.profile
    res, n_pass, n_known = _combine(c.op, c.k, [_evaluate(ch, c.id, t) for ch in c.children])
    rule_zh = {"all": "须全部满足", "any": "满足任一即可", "at_least": f"至少满足{c.k}项"}[c.op]
    rule_en = {"all": "all required", "any": "any one suffices", "at_least": f"at least {c.k} required"}[c.op]
    m = len(c.children)
    head_zh = prof.label_zh + "综合判定" if c.id == "overall" else c.label_zh or c.id
    head_en = prof.label_en + " overall" if c.id == "overall" else c.label_en or c.id
    rz = [f"{head_zh}：{m}项中满足{p}项、可判定{kk}项（{rule_zh}）" for p, kk in zip(n_pass, n_known, strict=True)]
    re_ = [f"{head_en[:1].upper() + head_en[1:]}: {p} of {m} criteria met, {kk} decidable ({rule_en})"
           for p, kk in zip(n_pass, n_known, strict=True)]
    source = c.source if c.id != "overall" else (Path(prof.path).name if prof.path else "<dict>")
    t.rows.append(pd.DataFrame({"code": t.codes, "name": t.names, "criterion": c.id, "kind": "composite",
                                "parent": parent, "measured": [f"{p}/{m}" for p in n_pass],
                                "threshold": threshold_text_en(c), "unit": "criteria", "outcome": _outcome_names(res),
                                "reason_zh": rz, "reason_en": re_, "source": source}))
    return res


def _leaf_reasons(c: Criterion, prof: Profile, meas: _Measure, oc: np.ndarray) -> tuple[list[str], list[str]]:
    n = len(oc)
    ez = meas.extra_zh or _rep(n, "")
    ee = meas.extra_en or _rep(n, "")
    rz, re_ = [], []
    for i in range(n):
        if oc[i] == "no_data":
            a, b = _reason(c, prof, "no_data", None, why_zh=meas.why_zh[i], why_en=meas.why_en[i])
        else:
            a, b = _reason(c, prof, oc[i], meas.values[i], ez[i], ee[i])  # noqa: PD011  (_Measure field)
        rz.append(a)
        re_.append(b)
    return rz, re_


def _evaluate_leaf(c: Criterion, parent: str, t: _Tally) -> np.ndarray:
    n = t.inp.n
    meas = _measure(c, t.inp)
    res = np.where(~meas.known, -1, np.where(meas.passed, 1, 0))
    oc = _outcome_names(res)
    rz, re_ = _leaf_reasons(c, t.profile, meas, oc)
    values = meas.values  # noqa: PD011  (a _Measure field, not pandas)
    measured = values.astype(object) if values.dtype != object else values
    measured = np.where(meas.known, measured, None)
    thr = list(c.value) if isinstance(c.value, tuple) else c.value
    t.rows.append(pd.DataFrame({"code": t.codes, "name": t.names, "criterion": c.id, "kind": c.kind,
                                "parent": parent, "measured": measured,
                                "threshold": [thr] * n if isinstance(thr, list) else thr,
                                "unit": c.unit, "outcome": oc, "reason_zh": rz, "reason_en": re_,
                                "source": c.source}))
    if c.kind == "designation":
        att = np.where(meas.passed, 1.0, 0.0)
    else:
        att = _attainment(np.where(meas.known, meas.values, np.nan).astype(float), meas.passed, c)
    t.attain[c.id] = np.where(meas.known, att, 0.0)
    t.leaf_outcome[c.id] = res
    for i in np.flatnonzero(~meas.known):
        t.needs_rows.append((meas.needs[i], c.id, t.codes[i], t.names[i]))
    return res


def _details_table(t: _Tally) -> pd.DataFrame:
    """Every candidate x criterion row: candidates in input order, criteria in profile order, overall last."""
    details = pd.concat(t.rows, ignore_index=True)
    details["threshold"] = details["threshold"].map(lambda v: "–".join(f"{x:g}" if isinstance(x, float) else str(x)
                                                                         for x in v) if isinstance(v, list) else v)
    order = {cid: i for i, cid in enumerate([c.id for c in _walk(t.profile.root)])}
    details["_c"] = details["code"].map({c: i for i, c in enumerate(t.codes)})
    details["_k"] = details["criterion"].map(order)
    return details.sort_values(["_c", "_k"], kind="stable").drop(columns=["_c", "_k"]).reset_index(drop=True)


def _verdicts_table(t: _Tally, overall: np.ndarray, details: pd.DataFrame) -> pd.DataFrame:
    """One ranked row per candidate: verdict, weighted attainment score, counts and reasons (with geometry)."""
    code_arr, n = t.codes, t.inp.n
    leaves = t.profile.leaves()
    weights = np.array([c.weight for c in leaves])
    lo = np.vstack([t.leaf_outcome[c.id] for c in leaves])
    score = (np.vstack([t.attain[c.id] for c in leaves]) * weights[:, None]).sum(0) / max(weights.sum(), 1e-12)
    verdict = np.array([VERDICTS["pass"], VERDICTS["fail"], VERDICTS["no_data"]], dtype=object)[
        np.where(overall == 1, 0, np.where(overall == 0, 1, 2))]
    leaf_rows = details[details["kind"] != "composite"]
    rz = leaf_rows.groupby("code", sort=False)["reason_zh"].agg("；".join)
    re_ = leaf_rows.groupby("code", sort=False)["reason_en"].agg("; ".join)
    verdicts = pd.DataFrame({"code": code_arr, "name": t.names, "verdict": verdict,
                             "verdict_zh": [VERDICTS_ZH[v] for v in verdict], "score": np.round(score, 4),
                             "n_pass": (lo == 1).sum(0), "n_fail": (lo == 0).sum(0), "n_no_data": (lo == -1).sum(0),
                             "reasons_zh": rz.reindex(code_arr).to_numpy(),
                             "reasons_en": re_.reindex(code_arr).to_numpy()})
    vorder = verdicts["verdict"].map({"qualifies": 0, "incomplete": 1, "does not qualify": 2})
    ranking = np.lexsort((code_arr, -verdicts["score"].to_numpy(), vorder.to_numpy()))
    rank = np.empty(n, int)
    rank[ranking] = np.arange(1, n + 1)
    verdicts.insert(5, "rank", rank)
    verdicts = verdicts.iloc[ranking].reset_index(drop=True)
    if t.inp.cand_w is None:
        return verdicts
    import geopandas as gpd

    cand = t.inp.cand
    geo = cand.set_index(cand["code"].astype(str)).geometry.reindex(verdicts["code"]).to_numpy()
    return gpd.GeoDataFrame(verdicts, geometry=geo, crs=cand.crs)


def check(candidates: Any, profile: Any, *, context: Any = None, demand: Any = None,
          roads: Any = None) -> CheckResult:
    """Check candidates against a designation profile; explain every criterion in Chinese and English.

    Parameters
    ----------
    candidates : pandas.DataFrame or geopandas.GeoDataFrame
        One row per candidate with ``code`` and ``name`` and the attributes the profile uses (``population``,
        ``builtup_km2``, ``gdp_100m_yuan``, ``designations`` ...); NaN means unknown. Spatial criteria need point
        (or polygon) geometry and a CRS. A SettlementSystem or Region is accepted (its settlements are used).
    profile : str, Path, dict or Profile
        A shipped profile name (:func:`available_profiles`), a ``.toml`` path, or a dict (see :func:`load_profile`).
    context : Region, SettlementSystem or GeoDataFrame, optional
        Settlements with ``tier`` (``county_town``, ``central_city``, ...) and ``designations``; used for the
        distance-to-county-town, spacing and travel-time criteria. Spacing falls back to the candidates themselves.
    demand : geopandas.GeoDataFrame, optional
        Points or polygons with ``population`` for ``catchment_population`` criteria.
    roads : geopandas.GeoDataFrame, optional
        Road lines for ``road_distance`` and ``travel_time`` criteria.

    Returns
    -------
    CheckResult
        ``details``, ``verdicts`` and ``missing_data``. Missing data gives ``no_data``, never pass or fail; a
        candidate is ``incomplete`` only when the missing data could change its verdict.

    Examples
    --------
    >>> import pandas as pd
    >>> towns = pd.DataFrame({"code": ["1", "2", "3"], "name": ["甲镇", "乙镇", "丙镇"],
    ...                       "population": [52000, 28000, None]})
    >>> res = check(towns, {"name": "mega", "label_zh": "特大镇", "label_en": "mega-town",
    ...                     "criteria": [{"attribute": "population", "op": ">=", "value": 50000, "unit": "people",
    ...                                   "label_zh": "镇区常住人口", "label_en": "town-area resident population"}]})
    >>> res.verdicts[["name", "verdict"]].values.tolist()        # ranked: qualifies, incomplete, does not qualify
    [['甲镇', 'qualifies'], ['丙镇', 'incomplete'], ['乙镇', 'does not qualify']]
    >>> res.details.query("code == '2' and criterion == 'population'")["reason_zh"].item()
    '镇区常住人口 2.8万，低于特大镇标准 5万'
    """
    tally = _Tally(load_profile(profile), _inputs(candidates, context, demand, roads))
    overall = _evaluate(tally.profile.root, "", tally)
    details = _details_table(tally)
    return CheckResult(profile=tally.profile, details=details, verdicts=_verdicts_table(tally, overall, details),
                       missing_data=_missing_summary(tally.needs_rows))


def _walk(c: Criterion) -> Any:
    """Criteria depth first, children before their parent."""
    for ch in c.children:
        yield from _walk(ch)
    yield c


_NEEDS_ZH = {"population": "常住人口", "town_centre_population": "镇中心区常住人口", "builtup_km2": "建成区面积",
             "gdp_100m_yuan": "地区生产总值", "designations": "已获称号", "location": "坐标（点位）",
             "demand layer": "人口分布图层", "road layer": "道路图层"}


def _missing_summary(needs_rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    cols = ["data_needed", "data_needed_zh", "criteria", "n_candidates", "codes", "names"]
    if not needs_rows:
        return pd.DataFrame(columns=cols)
    df = pd.DataFrame(needs_rows, columns=["data_needed", "criterion", "code", "name"])
    out = []
    for need, g in df.groupby("data_needed", sort=True):
        cand = g.drop_duplicates("code")
        out.append({"data_needed": need,
                    "data_needed_zh": _NEEDS_ZH.get(need, "区域背景（县城/已命名镇位置）"
                                                    if need.startswith("context") else need),
                    "criteria": ", ".join(dict.fromkeys(g["criterion"])), "n_candidates": len(cand),
                    "codes": ";".join(cand["code"]), "names": "、".join(cand["name"])})
    return pd.DataFrame(out, columns=cols).sort_values(["n_candidates", "data_needed"], ascending=[False, True],
                                                       ignore_index=True)


# ------------------------------------------------------------------------------------------- reports

def write_check_report(result: CheckResult, out_dir: str | Path) -> dict[str, Path]:
    """Write a check's tables (CSV + Excel) and a Markdown summary; the map is the caller's (see the ``check`` command).

    Parameters
    ----------
    result : CheckResult
    out_dir : str or Path
        Created if needed. Files: ``<profile>_verdicts.csv``, ``<profile>_details.csv``, ``<profile>_check.xlsx``
        (sheets verdicts, details, missing_data, criteria) and ``<profile>_summary.md``. The same result gives the
        same bytes.

    Returns
    -------
    dict
        Name -> path of every file written.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> towns = pd.DataFrame({"code": ["1"], "name": ["甲镇"], "population": [52000]})
    >>> res = check(towns, "mega-town")
    >>> sorted(write_check_report(res, tempfile.mkdtemp()))
    ['details_csv', 'excel', 'summary_md', 'verdicts_csv']
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = result.profile.name
    verdicts = pd.DataFrame(result.verdicts).drop(columns=["geometry"], errors="ignore")
    paths = {"verdicts_csv": out / f"{stem}_verdicts.csv", "details_csv": out / f"{stem}_details.csv",
             "excel": out / f"{stem}_check.xlsx", "summary_md": out / f"{stem}_summary.md"}
    verdicts.to_csv(paths["verdicts_csv"], index=False, encoding="utf-8-sig")
    result.details.to_csv(paths["details_csv"], index=False, encoding="utf-8-sig")
    with pd.ExcelWriter(paths["excel"], engine="openpyxl") as xw:
        verdicts.to_excel(xw, sheet_name="verdicts", index=False)
        result.details.to_excel(xw, sheet_name="details", index=False)
        result.missing_data.to_excel(xw, sheet_name="missing_data", index=False)
        result.profile.table().to_excel(xw, sheet_name="criteria", index=False)
    _fix_zip_times(paths["excel"])
    paths["summary_md"].write_text(result.to_markdown(), encoding="utf-8")
    return paths


def _fix_zip_times(path: Path) -> None:
    """Rewrite an .xlsx with fixed times (zip members, created/modified), so the same table gives the same bytes."""
    with zipfile.ZipFile(path) as zin:
        members = [(info, zin.read(info)) for info in zin.infolist()]
    with zipfile.ZipFile(path, "w") as zout:
        for info, data in members:
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:)",
                              rb"\g<1>2000-01-01T00:00:00Z\g<3>", data)
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type, fixed.external_attr = info.compress_type, info.external_attr
            zout.writestr(fixed, data)
