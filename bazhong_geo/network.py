"""Road graphs from line layers: vectorised graph building, snapping, multi-source shortest paths, time grids."""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from . import resources
from ._errors import (
    EmptyInputError,
    InvalidSpeedError,
    InvalidThresholdError,
    MissingColumnError,
    MissingCRSError,
)
from ._validate import located
from .crs import to_work_crs
from .settings import WORK_CRS

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Mapping, Sequence

    import geopandas as gpd
    import pandas as pd
    from numpy.typing import ArrayLike
    from scipy.sparse import csr_matrix

WORK_EPSG = int(WORK_CRS.split(":")[1])
"""EPSG code of the work CRS (CGCS2000 3-degree Gauss-Krüger, central meridian 108°E)."""

DEFAULT_WALK_KMH = 4.5
"""Walking speed off the network (km/h); about 75 m per minute."""

DEFAULT_FAR_M = 1000.0
"""A source farther than this from its nearest road node is reported as far from any road."""

def _m_per_min(kmh: float) -> float:
    if not np.isfinite(kmh) or kmh <= 0:
        raise InvalidSpeedError(f"walking speed must be a positive number of km/h, got {kmh!r}")
    return kmh * 1000.0 / 60.0


def to_work(gdf: gpd.GeoDataFrame, what: str = "layer", report: dict | None = None) -> gpd.GeoDataFrame:
    """Return ``gdf`` in EPSG:4545, reprojecting (and noting it in ``report``) when it is in another CRS.

    Raises :class:`MissingCRSError` when the layer has no CRS.
    """
    if gdf.crs is None:
        raise MissingCRSError(
            f"the {what} has no CRS; set it first, e.g. gdf.set_crs(4326) for lon/lat or gdf.set_crs(4545)"
        )
    out = to_work_crs(gdf, source=what)
    if out is not gdf and report is not None:
        report.setdefault("reprojected", []).append(f"{what}: {gdf.crs.to_string()} -> EPSG:{WORK_EPSG}")
    return out


def default_speeds() -> pd.DataFrame:
    """Return the default road-class speed table (``data/config/road_speeds.csv``) as a DataFrame.

    Columns: ``road_class``, ``speed_kmh``, ``source``. OSM ``highway`` classes and the Chinese
    administrative classes 高速/国道/省道/县道/乡道/村道.
    """
    import pandas as pd


    path = resources.data_file("config/road_speeds.csv")
    table = pd.read_csv(path, dtype={"road_class": str})
    if not {"road_class", "speed_kmh"} <= set(table.columns):
        raise MissingColumnError(f"{path}: needs columns road_class, speed_kmh (and source)")
    return table


def road_speeds(roads: pd.DataFrame, *, speed_col: str = "speed_kmh", class_col: str | None = None,
                speeds: Mapping[str, float] | None = None) -> np.ndarray:
    """Speed in km/h of every road feature.

    A value in ``speed_col`` wins where present; otherwise, with ``class_col``, the road class is looked
    up in ``speeds`` (a mapping class -> km/h) on top of the default table (:func:`default_speeds`).
    OSM classes are matched case-insensitively.

    Raises
    ------
    InvalidSpeedError
        A speed that is missing, zero, negative or not a number, or a class with no speed.
    MissingColumnError
        Neither ``speed_col`` nor ``class_col`` is a column of ``roads``.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> roads = gpd.GeoDataFrame({"highway": ["primary", "县道"]},
    ...     geometry=[shapely.LineString([(0, 0), (1, 0)])] * 2, crs=4545)
    >>> road_speeds(roads, class_col="highway").tolist()
    [50.0, 40.0]
    """
    import pandas as pd

    n = len(roads)
    out = np.full(n, np.nan)
    have_speed = speed_col is not None and speed_col in roads.columns
    if have_speed:
        out = pd.to_numeric(roads[speed_col], errors="coerce").to_numpy(dtype=float, na_value=np.nan).copy()
    if class_col is not None:
        if class_col not in roads.columns:
            raise MissingColumnError(f"roads: no column {class_col!r} (class_col); columns are {list(roads.columns)}")
        table = default_speeds()
        mapping = {str(k).strip().lower(): float(v)
                   for k, v in zip(table["road_class"], table["speed_kmh"], strict=True)}
        for k, v in (speeds or {}).items():
            mapping[str(k).strip().lower()] = float(v)
        need = np.isnan(out)
        looked = _by_value(roads[class_col], lambda low: np.array([mapping.get(x, np.nan) for x in low], dtype=float))
        unknown = need & np.isnan(looked)
        if unknown.any():
            names = _lower(np.asarray(roads[class_col].to_numpy(), dtype=object)[unknown])
            missing = sorted(set(names.tolist()) - {""})
            raise InvalidSpeedError(
                f"roads: no speed for road class(es) {missing[:20]}"
                + (" and for rows with an empty class" if (names == "").any() else "")
                + "; add them to `speeds` (class -> km/h) or to data/config/road_speeds.csv"
            )
        out[need] = looked[need]
    elif not have_speed:
        raise MissingColumnError(
            f"roads: no speed column {speed_col!r}; give speeds in km/h there or name a road-class column with "
            f"class_col="
        )
    bad = ~np.isfinite(out) | (out <= 0)
    if bad.any():
        rows = np.flatnonzero(bad)
        raise InvalidSpeedError(
            f"roads: {bad.sum()} feature(s) with a missing, zero or negative speed (rows {rows[:10].tolist()}"
            f"{' ...' if len(rows) > 10 else ''}, values {out[rows[:5]].tolist()}); speeds must be > 0 km/h"
        )
    return out


DEFAULT_LIMITED_ACCESS = ("高速", "高速公路", "expressway", "motorway")
"""Road classes that are limited-access by default: they join other roads only at interchanges."""

DEFAULT_RAMPS = ("匝道", "ramp", "motorway_link")
"""Road classes of ramp links: a limited-access road joins the network where it shares a vertex with one."""

CLASS_COLUMNS = ("道路等级", "road_class", "highway", "fclass", "class")
"""Column names recognised as the road class when ``class_col`` is not given (first found wins)."""

GRADE_COLUMNS = ("bridge", "tunnel", "layer")
"""Columns marking grade-separated roads (bridges, tunnels, OSM ``layer``)."""

INTERCHANGE_M = 50.0
"""Default snapping tolerance of interchange points (m)."""

_FALSE = {"", "no", "false", "f", "n", "0", "0.0", "none", "nan", "null", "<na>"}
_ONEWAY_FWD = {"yes", "true", "t", "y", "1", "1.0"}
_ONEWAY_REV = {"-1", "-1.0", "reverse", "rev"}


def _by_value(values, fn) -> np.ndarray:
    """Apply ``fn`` once per distinct value and spread the result back to every row.

    ``fn`` gets the distinct stripped, lower-cased strings of ``values`` ('' for missing): string work once per
    distinct value, not once per row.
    """
    import pandas as pd

    codes, uniques = pd.factorize(pd.Series(values), use_na_sentinel=True)
    low = pd.Series(uniques, dtype=object).astype("string").str.strip().str.lower().fillna("").to_numpy(dtype=object)
    return np.asarray(fn(np.append(low, "").astype(object)))[codes]  # code -1 (missing) -> the appended ''


def _lower(values) -> np.ndarray:
    """Stripped, lower-cased strings ('' for missing)."""
    return _by_value(values, lambda low: low)


def find_class_col(roads: pd.DataFrame, class_col: str | None) -> str | None:
    """The road-class column: ``class_col`` when given (it must exist), else the first of :data:`CLASS_COLUMNS` present.

    Examples
    --------
    >>> import pandas as pd
    >>> find_class_col(pd.DataFrame({"道路等级": ["县道"]}), None)
    '道路等级'
    """
    if class_col is not None:
        if class_col not in roads.columns:
            raise MissingColumnError(f"roads: no column {class_col!r} (class_col); columns are {list(roads.columns)}")
        return class_col
    return next((c for c in CLASS_COLUMNS if c in roads.columns), None)


def flags(values: ArrayLike) -> np.ndarray:
    """Truth of yes/no-like values (``yes``/``true``/``T``/``1``/``viaduct`` ... true; ``no``/``F``/``0``/empty false).

    Examples
    --------
    >>> flags(["yes", "F", None, "viaduct", 0, "1"]).tolist()
    [True, False, False, True, False, True]
    >>> flags([0.0, 1.0, float("nan")]).tolist()
    [False, True, False]
    """
    return _by_value(values, lambda low: ~np.isin(low, list(_FALSE)))


def oneway_directions(values: ArrayLike, report: dict | None = None) -> np.ndarray:
    """OSM-style one-way values as directions: 1 along the drawing, -1 against it, 0 two-way.

    ``yes``/``true``/``T``/``1`` = 1; ``-1``/``reverse`` = -1; ``no``/``false``/``F``/``0``/empty = 0. Other
    values (e.g. ``reversible``) are taken as two-way and counted in ``report["oneway_unrecognised"]``.

    Examples
    --------
    >>> oneway_directions(["yes", "-1", "no", "T", None, "F"]).tolist()
    [1, -1, 0, 1, 0, 0]
    """
    def direction(low):
        d = np.zeros(len(low), dtype=np.int8)
        d[np.isin(low, list(_ONEWAY_FWD))] = 1
        d[np.isin(low, list(_ONEWAY_REV))] = -1
        d[~np.isin(low, list(_ONEWAY_FWD | _ONEWAY_REV | _FALSE))] = 2  # not recognised
        return d

    out = _by_value(values, direction)
    odd = out == 2
    if odd.any():
        out[odd] = 0
        vals, counts = np.unique(_lower(np.asarray(values, dtype=object)[odd]).astype(str), return_counts=True)
        found = dict(zip(vals.tolist(), counts.tolist(), strict=True))
        if report is not None:
            report["oneway_unrecognised"] = found
        warnings.warn(f"roads: one-way values {found} are not recognised and taken as two-way", stacklevel=3)
    return out


@dataclass
class RoadRules:
    """Per-feature road attributes that shape the graph.

    Attributes
    ----------
    speed : ndarray of float
        km/h.
    direction : ndarray of int8
        1 one-way along the drawing, -1 against it, 0 two-way.
    limited : ndarray of bool
        Limited-access roads (joined only at ramps and interchanges; nothing snaps onto them).
    ramp : ndarray of bool
        Ramp links.
    grade : ndarray of int64
        Level of grade-separated roads (OSM ``layer``; bridges +1, tunnels -1 without one); 0 at grade.
    """

    speed: np.ndarray
    direction: np.ndarray
    limited: np.ndarray
    ramp: np.ndarray
    grade: np.ndarray


@dataclass(frozen=True)
class RoadOptions:
    """How a road layer becomes a graph: the options of :func:`build_graph`, in one value.

    Every function that reads road lines (:func:`road_rules`, :func:`road_segments`, :func:`build_graph`,
    :func:`bazhong_geo.roads_qa.qa_roads`, and :func:`nearest` / :func:`travel_times` through their
    ``road_options``) takes ``options=RoadOptions(...)`` and/or the same names as keywords; keywords win.

    Attributes
    ----------
    speed_col, class_col, speeds
        See :func:`road_speeds`.
    oneway_col : str, optional
        One-way column (default ``"oneway"``, used when present).
    limited_access : None, bool, str or sequence
        Limited-access classes or a yes/no column (see :func:`limited_mask`).
    ramps : sequence of str
        Ramp classes.
    grade_cols : sequence of str
        Columns read as grade separation.
    precision_m, segmentize_m, planarize, interchanges, interchange_m
        See :func:`build_graph`.

    Examples
    --------
    >>> RoadOptions.of(None, class_col="道路等级").class_col
    '道路等级'
    """

    speed_col: str | None = "speed_kmh"
    class_col: str | None = None
    speeds: Any = None
    oneway_col: str | None = "oneway"
    limited_access: Any = None
    ramps: Any = DEFAULT_RAMPS
    grade_cols: Any = GRADE_COLUMNS
    precision_m: float = 0.01
    segmentize_m: float | None = None
    planarize: bool = False
    interchanges: Any = None
    interchange_m: float = INTERCHANGE_M

    @classmethod
    def of(cls, options: RoadOptions | None = None, **road_options: Any) -> RoadOptions:
        """Return ``options`` (default: the defaults) with the keyword ``road_options`` replacing its fields.

        Raises
        ------
        TypeError
            A keyword that is not a road option (as a misspelt keyword argument would).
        """
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(road_options) - names)
        if unknown:
            raise TypeError(f"unknown road option(s) {unknown}; the options are {sorted(names)}")
        return dataclasses.replace(options if options is not None else cls(), **road_options)


def _class_mask(roads, class_col, classes) -> np.ndarray:
    if class_col is None:
        return np.zeros(len(roads), dtype=bool)
    wanted = [str(c).strip().lower() for c in classes]
    return _by_value(roads[class_col], lambda low: np.isin(low, wanted))


def limited_mask(roads: pd.DataFrame, class_col: str | None, limited_access: Any = None) -> np.ndarray:
    """Limited-access features: by class (default :data:`DEFAULT_LIMITED_ACCESS`) or by a boolean column.

    ``limited_access`` is ``None``/``True`` (the default classes), ``False`` (none), the name of a column of
    ``roads`` holding yes/no values, or a sequence of class names.
    """
    if limited_access is False:
        return np.zeros(len(roads), dtype=bool)
    if isinstance(limited_access, str) and limited_access in roads.columns:
        return flags(roads[limited_access])
    if limited_access is None or limited_access is True:
        classes = DEFAULT_LIMITED_ACCESS
    else:
        classes = [limited_access] if isinstance(limited_access, str) else list(limited_access)
        if class_col is None:
            raise MissingColumnError(
                f"roads: limited_access={limited_access!r} names classes but the layer has no class column "
                f"(one of {list(CLASS_COLUMNS)} or class_col=); or name a yes/no column instead"
            )
    return _class_mask(roads, class_col, classes)


def grade_levels(roads: pd.DataFrame, grade_cols: Sequence[str] | None = GRADE_COLUMNS) -> np.ndarray:
    """Level of each feature: the ``layer`` value, else +1 for a bridge and -1 for a tunnel, else 0."""
    import pandas as pd

    grade = np.zeros(len(roads), dtype=np.int64)
    cols = [c for c in (grade_cols or ()) if c in roads.columns]
    for c in cols:
        if c == "layer":
            layer = pd.to_numeric(roads[c], errors="coerce").fillna(0).to_numpy(dtype=float)
            grade = np.where(grade == 0, np.rint(layer).astype(np.int64), grade)
    for c in cols:
        if c != "layer":
            mark = flags(roads[c])
            grade = np.where((grade == 0) & mark, -1 if c == "tunnel" else 1, grade)
    return grade


def road_rules(
    roads: Any,
    options: RoadOptions | None = None,
    *,
    report: dict | None = None,
    **road_options: Any,
) -> RoadRules:
    """Speed, one-way direction, limited access, ramps and grade level of every road feature.

    The class column is ``class_col`` or the first of :data:`CLASS_COLUMNS` present; its classes give
    the speed where ``speed_col`` has none (see :func:`road_speeds`) and mark limited-access roads and
    ramps. ``oneway_col`` is used when present (the default ``"oneway"`` only if the layer has it).
    The options (``speed_col``, ``class_col``, ``speeds``, ``oneway_col``, ``limited_access``, ``ramps``,
    ``grade_cols``) come as a :class:`RoadOptions` and/or keywords.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> roads = gpd.GeoDataFrame({"道路等级": ["高速公路", "匝道", "县道"], "oneway": ["no", "yes", None]},
    ...     geometry=[shapely.LineString([(0, 0), (1, 0)])] * 3, crs=4545)
    >>> r = road_rules(roads, speed_col=None)
    >>> r.speed.tolist(), r.limited.tolist(), r.ramp.tolist(), r.direction.tolist()
    ([90.0, 40.0, 40.0], [True, False, False], [False, True, False], [0, 1, 0])
    """
    o = RoadOptions.of(options, **road_options)
    report = {} if report is None else report
    ccol = find_class_col(roads, o.class_col)
    use_class = ccol if (o.class_col is not None or o.speed_col is None or o.speed_col not in roads.columns
                         or roads[o.speed_col].isna().any()) else None
    speed = road_speeds(roads, speed_col=o.speed_col, class_col=use_class, speeds=o.speeds)
    direction = np.zeros(len(roads), dtype=np.int8)
    if o.oneway_col is not None and o.oneway_col in roads.columns:
        direction = oneway_directions(roads[o.oneway_col], report)
        report["oneway_features"] = int((direction != 0).sum())
    elif o.oneway_col is not None and o.oneway_col != "oneway":
        raise MissingColumnError(f"roads: no column {o.oneway_col!r} (oneway_col); columns are "
                                 f"{list(roads.columns)}")
    limited = limited_mask(roads, ccol, o.limited_access)
    ramp = _class_mask(roads, ccol, o.ramps or ())
    grade = grade_levels(roads, o.grade_cols)
    if limited.any():
        report["limited_access_features"] = int(limited.sum())
    if (grade != 0).any():
        report["grade_separated_features"] = int((grade != 0).sum())
    return RoadRules(speed=speed, direction=direction, limited=limited & ~ramp, ramp=ramp, grade=grade)


@dataclass
class RoadGraph:
    """An undirected road graph: nodes where line vertices meet, edges between consecutive vertices.

    Attributes
    ----------
    xy : ndarray (n, 2)
        Node coordinates in EPSG:4545 (metres).
    u, v : ndarray (m,)
        Edge end nodes (``u < v`` for two-way edges, travel direction ``u -> v`` for one-way ones;
        parallel edges reduced to the fastest).
    minutes : ndarray (m,)
        Travel time of each edge in minutes.
    length_m : ndarray (m,)
        Length of each edge in metres.
    oneway : ndarray of bool (m,), optional
        One-way edges (``None``: all two-way).
    limited : ndarray of bool (m,), optional
        Limited-access edges and interchange links (``None``: none); points never snap onto them.
    feature : ndarray of int (m,), optional
        Row position of the road feature each edge comes from (-1 for interchange links).
    report : dict
        What was repaired or is worth knowing: ``self_loops`` dropped, ``parallel_edges`` merged,
        ``components`` (count), ``largest_component_share``, ``reprojected``.
    """

    xy: np.ndarray
    u: np.ndarray
    v: np.ndarray
    minutes: np.ndarray
    length_m: np.ndarray
    report: dict = field(default_factory=dict)
    oneway: np.ndarray | None = None
    limited: np.ndarray | None = None
    feature: np.ndarray | None = None
    _csr: object = field(default=None, repr=False)
    _csr_rev: object = field(default=None, repr=False)
    _snap_nodes: object = field(default=None, repr=False)
    _tree: object = field(default=None, repr=False)
    _labels: object = field(default=None, repr=False)
    _inc: object = field(default=None, repr=False)
    _long: object = field(default=None, repr=False)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.xy)

    @property
    def n_edges(self) -> int:
        """Number of edges."""
        return len(self.u)

    def csr(self, reverse: bool = False) -> csr_matrix:
        """Return the ``scipy.sparse.csr_matrix`` of edge minutes, row = from, column = to (cached).

        Symmetric but for one-way edges. ``reverse=True``: the transposed graph (every edge driven backwards), for
        travel towards a node.
        """
        if reverse:
            if not self.has_oneway:
                return self.csr()
            if self._csr_rev is None:
                self._csr_rev = self.csr().T.tocsr()
            return self._csr_rev
        if self._csr is None:
            from scipy.sparse import csr_matrix

            n = self.n_nodes
            two = slice(None) if self.oneway is None else ~self.oneway
            rows = np.concatenate([self.u, self.v[two]])
            cols = np.concatenate([self.v, self.u[two]])
            data = np.concatenate([self.minutes, self.minutes[two]])
            self._csr = csr_matrix((data, (rows, cols)), shape=(n, n))
        return self._csr

    @property
    def has_oneway(self) -> bool:
        """Whether any edge is one-way."""
        return self.oneway is not None and bool(self.oneway.any())

    def components(self) -> np.ndarray:
        """(Weakly) connected-component label of every node (0 = the largest component)."""
        if self._labels is None:
            from scipy.sparse.csgraph import connected_components

            k, labels = connected_components(self.csr(), directed=False)
            counts = np.bincount(labels, minlength=k)
            rank = np.empty(k, dtype=np.int64)
            rank[np.argsort(-counts, kind="stable")] = np.arange(k)
            self._labels = rank[labels]
            self.report["components"] = int(k)
            self.report["largest_component_share"] = float(counts.max() / max(self.n_nodes, 1)) if k else 0.0
            self.report["nodes_outside_largest_component"] = int((self._labels != 0).sum())
        return self._labels

    def local_nodes(self) -> np.ndarray:
        """Nodes that points may snap to: ends of edges that are not limited-access (positions, sorted)."""
        if self._snap_nodes is None:
            if self.limited is None:
                self._snap_nodes = np.arange(self.n_nodes)
            else:
                mask = np.zeros(self.n_nodes, dtype=bool)
                mask[self.u[~self.limited]] = True
                mask[self.v[~self.limited]] = True
                self._snap_nodes = np.flatnonzero(mask)
                if len(self._snap_nodes) == 0:
                    raise EmptyInputError("roads: every road is limited-access; nothing can be reached from off the "
                                          "network (add local roads, or limited_access=False)")
        return self._snap_nodes

    def snap(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest node of each point that is not limited-access only: ``(node index, distance in m)``."""
        from scipy.spatial import cKDTree

        nodes = self.local_nodes()
        if self._tree is None:
            pts = self.xy if self.limited is None else self.xy[nodes]
            self._tree = cKDTree(pts, leafsize=32, balanced_tree=False, compact_nodes=False)
        d, i = self._tree.query(np.asarray(xy, dtype=float).reshape(-1, 2))
        i = i.astype(np.int64)
        return (i if self.limited is None else nodes[i]), d

    def _incidence(self):
        """CSR-like incidence of the snappable (not limited-access) edges: ``(ptr, edge ids)`` by node."""
        if getattr(self, "_inc", None) is None:
            eids = np.arange(self.n_edges) if self.limited is None else np.flatnonzero(~self.limited)
            ends = np.concatenate([self.u[eids], self.v[eids]])
            order = np.argsort(ends, kind="stable")
            ptr = np.zeros(self.n_nodes + 1, dtype=np.int64)
            np.cumsum(np.bincount(ends, minlength=self.n_nodes), out=ptr[1:])
            self._inc = (ptr, eids[order % len(eids)].astype(np.int64))
            L = self.length_m[eids]
            h = float(np.quantile(L, 0.99)) if len(L) else 0.0
            self._long = (h, eids[h < L])
        return self._inc

    def snap_edges(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Nearest point on the network of each point.

        Returns ``(edge, fraction, distance_m)``: the edge index, the position of the nearest point
        along it from ``u`` (0..1) and the straight distance. Exact: candidate edges are those incident
        to nodes within (distance to the nearest node + the 99th-percentile edge length), plus every
        longer edge.
        """
        from itertools import chain

        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        _, d0 = self.snap(xy)
        ptr, inc = self._incidence()
        h, long = self._long
        r = d0 + h + 1e-6
        balls = self._tree.query_ball_point(xy, r)
        counts = np.array([len(b) for b in balls], dtype=np.int64)
        nodes = np.fromiter(chain.from_iterable(balls), dtype=np.int64, count=int(counts.sum()))
        if self.limited is not None:
            nodes = self.local_nodes()[nodes]
        src = np.repeat(np.arange(len(xy)), counts)
        deg = ptr[nodes + 1] - ptr[nodes]
        tot = int(deg.sum())
        start = np.repeat(ptr[nodes], deg)
        offs = np.arange(tot) - np.repeat(np.cumsum(deg) - deg, deg)
        edges = inc[start + offs]
        src = np.repeat(src, deg)
        if len(long):
            edges = np.concatenate([edges, np.tile(long, len(xy))])
            src = np.concatenate([src, np.repeat(np.arange(len(xy)), len(long))])
        a = self.xy[self.u[edges]]
        ab = self.xy[self.v[edges]] - a
        p = xy[src]
        den = np.einsum("ij,ij->i", ab, ab)
        t = np.clip(np.einsum("ij,ij->i", p - a, ab) / np.where(den > 0, den, 1.0), 0.0, 1.0)
        d = np.hypot(*(p - a - t[:, None] * ab).T)
        order = np.lexsort((edges, d, src))
        first = np.ones(len(order), dtype=bool)
        first[1:] = src[order][1:] != src[order][:-1]
        best = order[first]
        return edges[best], t[best], d[best]

    def csr_with_sources(self, src: np.ndarray, nodes: np.ndarray, minutes: np.ndarray, k: int | None = None,
                         reverse: bool = False) -> csr_matrix:
        """Return the graph (reversed with ``reverse``) plus ``k`` virtual source nodes.

        The source nodes are rows ``n .. n+k-1``, with one-way edges ``src -> nodes``.
        """
        from scipy.sparse import csr_matrix

        base = self.csr(reverse)
        n = self.n_nodes
        src = np.asarray(src, dtype=np.int64)
        k = int(src.max()) + 1 if k is None else k
        order = np.argsort(src, kind="stable")
        counts = np.bincount(src, minlength=k)
        indptr = np.concatenate([base.indptr, base.indptr[-1] + np.cumsum(counts)])
        indices = np.concatenate([base.indices, np.asarray(nodes)[order].astype(base.indices.dtype)])
        data = np.concatenate([base.data, np.asarray(minutes, dtype=float)[order]])  # explicit zeros are edges
        return csr_matrix((data, indices, indptr), shape=(n + k, n + k))

    def attach(self, xy: np.ndarray, walk_kmh: float, reverse: bool = False) -> tuple[np.ndarray, ...]:
        """Snap points onto edges; return ``(src, node, minutes, edge, fraction, distance_m)``.

        Each point reaches both ends of its edge: walk to the nearest point of the edge, then drive along it.

        On a one-way edge ``u -> v`` a point reaches only ``v``; with ``reverse`` (travel towards the point)
        it is reached only from ``u``.
        """
        e, f, d = self.snap_edges(xy)
        walk = d / _m_per_min(walk_kmh)
        m = self.minutes[e]
        k = len(e)
        src = np.concatenate([np.arange(k), np.arange(k)])
        node = np.concatenate([self.u[e], self.v[e]])
        mins = np.concatenate([walk + f * m, walk + (1.0 - f) * m])
        if self.has_oneway:  # on a one-way edge only its far end can be driven to (its near end from, reversed)
            two = ~self.oneway[e]  # a point lying on the end node itself is at that node either way
            keep = (np.concatenate([np.ones(k, dtype=bool), two | (f >= 1.0 - 1e-12)]) if reverse
                    else np.concatenate([two | (f <= 1e-12), np.ones(k, dtype=bool)]))
            src, node, mins = src[keep], node[keep], mins[keep]
        return src, node, mins, e, f, d


def build_graph(roads: Any, options: RoadOptions | None = None, **road_options: Any) -> RoadGraph:
    """Build a :class:`RoadGraph` from road lines, vectorised.

    Every vertex of every (Multi)LineString becomes a node; vertices closer than about ``precision_m``
    (coordinates rounded to that grid) are the same node, so lines that share a vertex are connected
    (the usual topology of OSM exports; lines crossing without a shared vertex stay apart). Each pair of
    consecutive vertices is an edge with its length and travel minutes at the road's speed. Three rules
    keep roads apart even where they share a vertex:

    - **limited-access roads** (expressways) join other roads only at vertices shared with ramp links
      and at ``interchanges``; elsewhere they pass over or under everything;
    - **grade-separated roads** (a truthy ``bridge``/``tunnel`` or a non-zero ``layer``) join others only
      at their own ends; their inner vertices connect only to roads on the same level;
    - **one-way roads** are driven in one direction only.

    Parameters
    ----------
    roads : GeoDataFrame
        Lines with a CRS; reprojected to EPSG:4545 when in another CRS (noted in ``report``).
    options : RoadOptions, optional
        All the options below in one value; keywords given as well replace its fields.
    speed_col, class_col, speeds
        See :func:`road_speeds`; the class column defaults to the first of :data:`CLASS_COLUMNS`
        present (道路等级, road_class, highway, ...), used for speeds where ``speed_col`` has none.
    precision_m : float
        Rounding grid for node identity, metres.
    segmentize_m : float, optional
        Add vertices so that no edge is longer than this (used for isochrone grids).
    planarize : bool
        Node the at-grade, not-limited lines first (``shapely.union_all``) so that roads crossing without
        a shared vertex are joined there — for layers digitised without topology. Each piece keeps the
        attributes of the fastest line it lies on (one-way direction re-aligned). Limited-access and
        grade-separated roads are never noded. Noted in ``report["planarized"]``.
    oneway_col : str, optional
        One-way column (default ``"oneway"``, used when present): see :func:`oneway_directions`.
    limited_access : None, bool, str or sequence
        Limited-access classes (default :data:`DEFAULT_LIMITED_ACCESS`), ``False`` for none, or a
        yes/no column of ``roads``.
    ramps : sequence of str
        Ramp classes (default :data:`DEFAULT_RAMPS`).
    interchanges : GeoDataFrame / GeoSeries of points, optional
        Interchanges: each joins the nearest limited-access node and the nearest other node, both
        within ``interchange_m``, by a link at the ramp speed (class 匝道 of the speed table).
        Interchanges that find no pair are listed in ``report["interchanges_unmatched"]`` (warned).
    grade_cols : sequence of str
        Columns read as grade separation (default ``bridge``, ``tunnel``, ``layer``; those present).

    Returns
    -------
    RoadGraph
        ``report`` also counts ``zero_length_dropped`` features (zero-length lines are dropped, never
        an error), ``limited_access_features``, ``grade_separated_features``, ``oneway_features``.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> roads = gpd.GeoDataFrame({"speed_kmh": [60.0, 30.0]}, crs=4545,
    ...     geometry=[shapely.LineString([(0, 0), (1000, 0)]), shapely.LineString([(1000, 0), (1000, 500)])])
    >>> g = build_graph(roads)
    >>> g.n_nodes, g.n_edges, g.minutes.round(3).tolist()
    (3, 2, [1.0, 1.0])

    An expressway crossing a county road at a shared vertex is not joined to it:

    >>> roads = gpd.GeoDataFrame({"道路等级": ["高速公路", "县道"]}, crs=4545, geometry=[
    ...     shapely.LineString([(0, 0), (500, 0), (1000, 0)]), shapely.LineString([(500, -500), (500, 0), (500, 500)])])
    >>> g = build_graph(roads, speed_col=None)
    >>> g.n_nodes, int(g.components().max()) + 1
    (6, 2)
    """
    o = RoadOptions.of(options, **road_options)
    seg = road_segments(roads, o)
    edges = seg.edges
    if o.interchanges is not None:
        edges = _add_interchanges(edges, seg.xy, o.interchanges, o.interchange_m, o.speeds, seg.report)
    return finish_graph(seg.xy, edges, seg.report)


@dataclass
class RoadSegments:
    """Road lines cut into segments between consecutive vertices, before parallel segments are merged.

    Attributes
    ----------
    xy : ndarray (n, 2)
        Node coordinates, EPSG:4545; vertices on separated levels (expressways, bridges) are distinct nodes.
    edges : dict of ndarrays
        ``u``, ``v`` (nodes, drawing order), ``length``, ``minutes``, ``feature`` (row position in the
        road layer), ``dirn`` (1, -1, 0 one-way direction), ``limited`` (bool).
    rules : RoadRules
        Per-feature attributes.
    roads : GeoDataFrame
        The road layer in EPSG:4545.
    report : dict
    """

    xy: np.ndarray
    edges: dict
    rules: RoadRules
    roads: object
    report: dict


def road_segments(roads: Any, options: RoadOptions | None = None, **road_options: Any) -> RoadSegments:
    """The nodes and segments of :func:`build_graph` before parallel segments are merged (for road checks).

    Parameters are those of :func:`build_graph` (``interchanges`` are not used here).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> roads = gpd.GeoDataFrame({"speed_kmh": [60.0, 30.0]}, crs=4545,
    ...     geometry=[shapely.LineString([(0, 0), (1000, 0)]), shapely.LineString([(1000, 0), (0, 0)])])
    >>> s = road_segments(roads)
    >>> len(s.xy), s.edges["feature"].tolist()
    (2, [0, 1])
    """
    import shapely

    report: dict = {}
    if len(roads) == 0:
        raise EmptyInputError("roads: the layer has no features")
    o = RoadOptions.of(options, **road_options)
    precision_m, segmentize_m = o.precision_m, o.segmentize_m
    roads = to_work(roads, "roads", report)
    rules = road_rules(roads, o, report=report)
    parts, pfeat, missing = _line_parts(roads, report)
    if o.planarize:
        parts, pfeat, pdir = _planarize(parts, pfeat, rules, precision_m, report)
        report["planarized"] = f"{len(pfeat)} noded pieces"
    else:
        pdir = rules.direction[pfeat]
    if segmentize_m:
        parts = shapely.segmentize(parts, segmentize_m)
    coords, cidx = shapely.get_coordinates(parts, return_index=True)
    coords, cidx, a, _, length = _drop_degenerate(coords, cidx, pfeat, len(parts), missing, report)
    vfeat = pfeat[cidx]
    key = _coordinate_keys(coords, precision_m)
    if rules.limited.any() or (rules.grade != 0).any():
        lvl = _vertex_levels(cidx, vfeat, key, rules)
        if lvl.any():
            kid, _ = dense_ids(key)
            key = kid * (int(lvl.max()) + 1) + lvl
    inv, n_nodes = dense_ids(key)
    xy = np.empty((n_nodes, 2))
    xy[inv] = coords
    edges = {
        "u": inv[a], "v": inv[a + 1], "length": length,
        "feature": vfeat[a], "dirn": pdir[cidx[a]],
    }
    edges["minutes"] = edges["length"] / (rules.speed[edges["feature"]] * (1000.0 / 60.0))
    edges["limited"] = rules.limited[edges["feature"]]
    return RoadSegments(xy=xy, edges=edges, rules=rules, roads=roads, report=report)


def _line_parts(roads, report: dict):
    """Single LineString parts of the road features and their row positions; zero-length ones dropped and counted."""
    import shapely

    geoms = np.asarray(roads.geometry.values, dtype=object)
    types = shapely.get_type_id(geoms)  # -1 = missing
    bad = ~np.isin(types, (-1, 1, 5))
    if bad.any():
        rows = np.flatnonzero(bad)
        raise EmptyInputError(
            f"roads: {bad.sum()} feature(s) are not (Multi)LineStrings (rows {rows[:10].tolist()}); keep only lines"
        )
    if (types == 5).any():
        parts, pfeat = shapely.get_parts(geoms, return_index=True)
    else:
        parts, pfeat = geoms, np.arange(len(geoms))
    missing = int((types == -1).sum()) if (types == 5).any() else 0  # rows get_parts leaves out
    return parts, pfeat.astype(np.int64), missing


def _segments(coords: np.ndarray, cidx: np.ndarray):
    """Consecutive-vertex segments within each part: start vertex positions, steps (dx, dy) and lengths."""
    a = np.flatnonzero(cidx[1:] == cidx[:-1])
    step = np.diff(coords, axis=0)[a]
    return a, step, np.hypot(step[:, 0], step[:, 1])


def _drop_degenerate(coords, cidx, pfeat, n_parts: int, missing: int, report: dict):
    """Segments of the parts, leaving out zero-length parts and counting parts without coordinates.

    Zero-length parts (all vertices at one point) are counted, with their rows. No GEOS call, so no GEOS error
    whatever the lines.

    Returns ``(coords, cidx, a, step, length)`` (see :func:`_segments`).
    """
    a, step, length = _segments(coords, cidx)
    counts = np.bincount(cidx, minlength=n_parts)
    n_empty = int((counts == 0).sum()) + missing
    if n_empty:
        report["empty_geometries"] = report.get("empty_geometries", 0) + n_empty
    moves = np.zeros(n_parts, dtype=bool)
    moves[cidx[a[length > 0]]] = True
    zero = (counts > 0) & ~moves
    if zero.any():
        report["zero_length_dropped"] = report.get("zero_length_dropped", 0) + int(zero.sum())
        report["zero_length_rows"] = sorted(set(report.get("zero_length_rows", [])) | set(pfeat[zero].tolist()))[:100]
        keep = ~zero[cidx]
        coords, cidx = coords[keep], cidx[keep]
        a, step, length = _segments(coords, cidx)
    if len(a) == 0:
        raise EmptyInputError("roads: no line has two distinct vertices")
    return coords, cidx, a, step, length


def _coordinate_keys(coords: np.ndarray, precision_m: float) -> np.ndarray:
    """One int64 key per vertex: coordinates rounded to ``precision_m``."""
    q = coords * (1.0 / precision_m)
    np.rint(q, out=q)
    q = q.astype(np.int64)
    q -= q.min(axis=0)
    return q[:, 0] * (q[:, 1].max() + 1) + q[:, 1]


def _vertex_levels(cidx: np.ndarray, vfeat: np.ndarray, key: np.ndarray, rules: RoadRules) -> np.ndarray:
    """Level of each vertex, which keeps separated roads apart.

    0 joins roads, 1 = limited-access (except at ramp vertices), 2+ = inner vertices of grade-separated roads,
    one level per ``layer``.
    """
    n = len(cidx)
    end = np.ones(n, dtype=bool)
    end[1:-1] = (cidx[1:-1] != cidx[:-2]) | (cidx[1:-1] != cidx[2:])
    lvl = np.zeros(n, dtype=np.int64)
    grade = rules.grade[vfeat]
    sep = (grade != 0) & ~end
    if sep.any():
        codes = np.unique(grade[sep])
        lvl[sep] = 2 + np.searchsorted(codes, grade[sep])
    la = rules.limited[vfeat]
    if la.any():
        ramp_keys = np.unique(key[rules.ramp[vfeat] & (lvl == 0)])  # not inner vertices of a ramp on a bridge
        lvl[la & ~np.isin(key, ramp_keys)] = 1
    return lvl


def _add_interchanges(edges: dict, xy: np.ndarray, interchanges, tol_m: float, speeds, report: dict) -> dict:
    """Link each interchange's nearest limited-access node to its nearest other node (both within ``tol_m``)."""
    from scipy.spatial import cKDTree

    tmp: dict = {}
    pts, pos = _source_points(interchanges, tmp, what="interchanges")
    if "reprojected" in tmp:
        report.setdefault("reprojected", []).extend(tmp["reprojected"])
    n = len(xy)
    la = np.zeros(n, dtype=bool)
    local = np.zeros(n, dtype=bool)
    for mask, sel in ((la, edges["limited"]), (local, ~edges["limited"])):
        mask[edges["u"][sel]] = True
        mask[edges["v"][sel]] = True
    la_only = np.flatnonzero(la & ~local)
    loc = np.flatnonzero(local)
    if len(la_only) == 0 or len(loc) == 0:
        report["interchanges_unmatched"] = pos.tolist()
        warnings.warn("interchanges: the roads have no limited-access or no other roads to join", stacklevel=3)
        return edges
    d1, i1 = cKDTree(xy[la_only]).query(pts)
    d2, i2 = cKDTree(xy[loc]).query(pts)
    ok = (d1 <= tol_m) & (d2 <= tol_m)
    if (~ok).any():
        report["interchanges_unmatched"] = pos[~ok].tolist()
        warnings.warn(
            f"{(~ok).sum()} interchange(s) have no limited-access road and other road within {tol_m:g} m "
            f"(positions in report['interchanges_unmatched']); move them or raise interchange_m", stacklevel=3)
    a, b = la_only[i1[ok]], loc[i2[ok]]
    length = np.hypot(*(xy[a] - xy[b]).T)
    kmh = _ramp_kmh(speeds)
    report["interchanges_joined"] = int(ok.sum())
    add = {"u": a, "v": b, "length": length, "feature": np.full(len(a), -1), "dirn": np.zeros(len(a), dtype=np.int8),
           "minutes": length / (kmh * 1000.0 / 60.0), "limited": np.ones(len(a), dtype=bool)}
    return {k: np.concatenate([edges[k], add[k]]) for k in edges}


def _ramp_kmh(speeds) -> float:
    speeds_table = default_speeds()
    table = dict(zip(speeds_table["road_class"].astype(str), speeds_table["speed_kmh"].astype(float), strict=True))
    table.update({str(k): float(v) for k, v in (speeds or {}).items()})
    return float(table.get("匝道", 40.0))


def finish_graph(xy: np.ndarray, e: dict, report: dict) -> RoadGraph:
    """Return a :class:`RoadGraph` from segments (see :class:`RoadSegments`).

    Self-loops are dropped, one-way edges oriented, parallel edges merged (the fastest kept); counts in ``report``.
    """
    n_nodes = len(xy)
    u, v = e["u"], e["v"]
    keep = u != v
    if (~keep).any():
        report["self_loops_dropped"] = int((~keep).sum())
        e = {k: x[keep] for k, x in e.items()}
        u, v = e["u"], e["v"]
    dirn = e["dirn"]
    if dirn.any():
        rev = dirn < 0
        u, v = np.where(rev, v, u), np.where(rev, u, v)
        ow = dirn != 0
        lo, hi = np.where(ow, u, np.minimum(u, v)), np.where(ow, v, np.maximum(u, v))
        pair = (lo * n_nodes + hi) * 2 + ow
    else:
        ow = None
        lo, hi = np.minimum(u, v), np.maximum(u, v)
        pair = lo * n_nodes + hi
    minutes, length, feature, limited = e["minutes"], e["length"], e["feature"], e["limited"]
    order = np.argsort(pair, kind="stable")  # radix sort for integers
    ps = pair[order]
    if (ps[1:] == ps[:-1]).any():
        order = np.lexsort((minutes, pair))
        ps = pair[order]
        first = np.ones(len(ps), dtype=bool)
        first[1:] = ps[1:] != ps[:-1]
        report["parallel_edges_merged"] = int((~first).sum())
        sel = np.sort(order[first])
        lo, hi, minutes, length, feature, limited = (x[sel] for x in (lo, hi, minutes, length, feature, limited))
        ow = ow[sel] if ow is not None else None
    return RoadGraph(xy=xy, u=lo, v=hi, minutes=np.maximum(minutes, 1e-12), length_m=length, report=report,
                     oneway=ow, limited=limited if limited.any() else None, feature=feature)


def _planarize(parts, pfeat, rules: RoadRules, precision_m, report: dict):
    """Node the at-grade, not-limited lines at every crossing.

    Each piece takes the feature (and direction, re-aligned) of the fastest line covering its middle.
    Limited-access and grade-separated lines pass through unchanged.
    """
    import shapely

    parts = np.asarray(parts, dtype=object)
    ok = located(parts)
    if (~ok).any():
        report["empty_geometries"] = int((~ok).sum())
    ok[ok] = shapely.length(parts[ok]) > 0
    zero = located(parts) & ~ok
    if zero.any():  # zero-length lines are left out of the noding (counted here, since they vanish)
        report["zero_length_dropped"] = int(zero.sum())
        report["zero_length_rows"] = sorted(set(pfeat[zero].tolist()))[:100]
    parts, pfeat = parts[ok], pfeat[ok]
    special = rules.limited[pfeat] | (rules.grade[pfeat] != 0)
    flat = np.flatnonzero(~special)
    if len(flat) == 0:
        return parts, pfeat, rules.direction[pfeat]
    noded = shapely.get_parts(shapely.union_all(parts[flat]))
    noded = noded[(shapely.get_type_id(noded) == 1) & (shapely.length(noded) > 0)]
    mid = shapely.line_interpolate_point(noded, 0.5, normalized=True)
    tree = shapely.STRtree(parts[flat])
    si, pi = tree.query(mid, predicate="dwithin", distance=max(precision_m, 1e-6) * 10)
    sp = rules.speed[pfeat[flat]]
    best = np.full(len(noded), -1)
    order = np.lexsort((sp[pi], si))  # per piece, fastest last
    best[si[order]] = pi[order]
    miss = np.flatnonzero(best < 0)
    if len(miss):  # not found (numerical): nearest line
        best[miss] = tree.nearest(mid[miss])
    src = flat[best]
    feat = pfeat[src]
    dirn = rules.direction[feat].copy()
    ow = np.flatnonzero(dirn != 0)
    if len(ow):
        a = shapely.line_locate_point(parts[src[ow]], shapely.get_point(noded[ow], 0))
        b = shapely.line_locate_point(parts[src[ow]], shapely.get_point(noded[ow], -1))
        dirn[ow] = np.where(b < a, -dirn[ow], dirn[ow])
    keep = np.flatnonzero(special)
    return (np.concatenate([noded, parts[keep]]), np.concatenate([feat, pfeat[keep]]),
            np.concatenate([dirn, rules.direction[pfeat[keep]]]))


def dense_ids(key: np.ndarray) -> tuple[np.ndarray, int]:
    """Return ``(inverse, count)``: ``np.unique(key, return_inverse=True)`` ids via a stable radix argsort."""
    order = np.argsort(key, kind="stable")
    ks = key[order]
    new = np.empty(len(ks), dtype=bool)
    new[:1] = True
    new[1:] = ks[1:] != ks[:-1]
    ids = np.cumsum(new) - 1
    inv = np.empty(len(key), dtype=np.int64)
    inv[order] = ids
    return inv, int(ids[-1]) + 1 if len(ids) else 0


def _source_points(sources, report: dict, what: str = "sources"):
    """Xy of located sources and their positions; unlocated ones are reported."""
    import shapely

    if hasattr(sources, "geometry"):
        sources = to_work(sources, what, report)
        geoms = np.asarray(sources.geometry.values, dtype=object)
    else:
        geoms = np.asarray(sources, dtype=object)
    ok = located(geoms)
    if ok.any():
        types = shapely.get_type_id(geoms[ok])
        if (types != 0).any():
            geoms = geoms.copy()
            geoms[ok] = shapely.centroid(geoms[ok])
            report["sources_not_points_centroided"] = int((types != 0).sum())
    pos = np.flatnonzero(ok)
    if (~ok).any():
        report["sources_unlocated"] = np.flatnonzero(~ok).tolist()
        warnings.warn(f"{(~ok).sum()} source(s) without coordinates were left out (positions in report)", stacklevel=3)
    if len(pos) == 0:
        raise EmptyInputError(f"{what}: none has a usable point geometry")
    return shapely.get_coordinates(geoms[pos]), pos


DIRECTIONS = ("to_facility", "from_facility")
"""Travel directions: towards the sources (people going to a service) or away from them."""


def check_direction(direction: str) -> bool:
    """``True`` when travel is towards the sources (``"to_facility"``); raises on an unknown direction."""
    if direction not in DIRECTIONS:
        raise InvalidThresholdError(f"direction must be one of {DIRECTIONS}, got {direction!r}")
    return direction == "to_facility"


def _graph(roads, graph, **options) -> RoadGraph:
    """``graph``, or ``roads`` when it is a RoadGraph, or a graph built from the road lines with ``options``."""
    given = graph if graph is not None else roads if isinstance(roads, RoadGraph) else None
    if given is None:
        return build_graph(roads, **options)
    extra = sorted(k for k, v in options.items() if k not in ("speed_col", "class_col", "speeds") and v is not None)
    if extra:
        warnings.warn(f"road options {extra} are ignored: the graph is already built (pass them to build_graph)",
                      stacklevel=3)
    return given


def _snap_sources(g: RoadGraph, xy, walk_kmh, far_m, report, what="source", reverse=False):
    """Attach points to the network (see :meth:`RoadGraph.attach`) and report far / off-component ones."""
    att = g.attach(xy, walk_kmh, reverse)
    e, d = att[3], att[5]
    far = np.flatnonzero(d > far_m)
    labels = g.components()
    if len(far):
        report[f"{what}s_far_from_road"] = far.tolist()
        warnings.warn(
            f"{len(far)} {what}(s) lie more than {far_m:g} m from any road; they reach it on foot "
            f"(positions in report['{what}s_far_from_road'])",
            stacklevel=3,
        )
    off = np.flatnonzero(labels[g.u[e]] != 0)
    if len(off):
        report[f"{what}s_off_main_component"] = off.tolist()
    return att


def nearest(
    roads: Any,
    sources: Any,
    *,
    walk_kmh: float = DEFAULT_WALK_KMH,
    limit: float = np.inf,
    far_m: float = DEFAULT_FAR_M,
    graph: RoadGraph | None = None,
    geometry: bool = True,
    direction: str = "to_facility",
    **road_options: Any,
) -> pd.DataFrame:
    """Minutes from the fastest source to every node of the road graph (multi-source Dijkstra).

    Each source walks (at ``walk_kmh``, straight line) to the nearest point of the network, then drives
    along that edge to either end. One call of ``scipy.sparse.csgraph.dijkstra(min_only=True)`` with
    one virtual node per source whose two edges carry those times.

    Parameters
    ----------
    roads : GeoDataFrame or RoadGraph
        Road lines (see :func:`build_graph`) or a graph already built.
    sources : GeoDataFrame, GeoSeries or array of Points
        Sources; rows without a geometry are left out and listed in the report.
    limit : float
        Stop searching beyond this many minutes (nodes farther get ``inf``).
    far_m : float
        Sources farther than this from the network are reported (never dropped).
    geometry : bool
        ``False`` returns a DataFrame with ``x``, ``y`` columns instead of Point geometries (creating
        a million shapely Points costs about as much as the shortest paths themselves).
    direction : {"to_facility", "from_facility"}
        Minutes from each node to its fastest source (default: people travelling to the service) or
        from the source to the node; they differ only on one-way roads.
    **road_options
        Passed to :func:`build_graph` when ``roads`` are lines: ``speed_col``, ``class_col``, ``speeds``,
        ``oneway_col``, ``limited_access``, ``interchanges``, ``ramps``, ``planarize``, ... or
        ``options=RoadOptions(...)``.

    Returns
    -------
    GeoDataFrame
        One row per node: ``node``, ``minutes`` (``inf`` where unreachable), ``source`` (position of the
        fastest source in ``sources``; -1 where unreachable), ``component`` (0 = largest), Point geometry,
        EPSG:4545. ``attrs["report"]`` holds the graph report plus ``sources_unlocated``,
        ``sources_far_from_road``, ``sources_off_main_component``, ``unreachable_nodes``.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> roads = gpd.GeoDataFrame({"speed_kmh": [60.0]}, crs=4545,
    ...     geometry=[shapely.LineString([(0, 0), (1000, 0), (3000, 0)])])
    >>> towns = gpd.GeoSeries([shapely.Point(0, 0), shapely.Point(3000, 0)], crs=4545)
    >>> nearest(roads, towns)[["minutes", "source"]].round(6).values.tolist()
    [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]
    """
    import geopandas as gpd
    import shapely
    from scipy.sparse.csgraph import dijkstra

    report: dict = {}
    reverse = check_direction(direction)
    g = _graph(roads, graph, **road_options)
    xy, pos = _source_points(sources, report)
    vs, node, walk = _snap_sources(g, xy, walk_kmh, far_m, report, reverse=reverse)[:3]
    n = g.n_nodes
    k = len(xy)
    csr = g.csr_with_sources(vs, node, walk, k, reverse=reverse)
    dist, _, src = dijkstra(
        csr, directed=True, indices=n + np.arange(k), min_only=True, return_predecessors=True, limit=limit
    )
    dist = dist[:n]
    src = src[:n]
    lab = np.where(src >= 0, pos[np.clip(src - n, 0, None)], -1)
    unreachable = int(np.isinf(dist).sum())
    if unreachable:
        report["unreachable_nodes"] = unreachable
    full = {**g.report, **report}
    cols = {"node": np.arange(n), "minutes": dist, "source": lab, "component": g.components()}
    if geometry:
        out = gpd.GeoDataFrame(cols, geometry=shapely.points(g.xy), crs=WORK_EPSG)
    else:
        import pandas as pd

        out = pd.DataFrame({**cols, "x": g.xy[:, 0], "y": g.xy[:, 1]})
    out.attrs["report"] = full
    return out


def travel_times(
    roads: Any,
    origins: Any,
    destinations: Any,
    *,
    walk_kmh: float = DEFAULT_WALK_KMH,
    direct_walk: bool = True,
    far_m: float = DEFAULT_FAR_M,
    graph: RoadGraph | None = None,
    batch: int = 32,
    **road_options: Any,
) -> np.ndarray:
    """Travel-time matrix in minutes, ``n_origins × n_destinations``.

    Time = walk to the nearest point of the road network + shortest road path + walk from the road to
    the destination (or the straight walk when ``direct_walk`` and shorter). Rows/columns of points
    without a geometry are NaN; pairs in different road components are ``inf`` (unless walkable
    directly). Dijkstra runs from the end nodes of the smaller side's edges, in batches (undirected graph).
    Travel is from each origin to each destination: on one-way roads swap the two for the other direction.
    Points snap only onto roads that are not limited-access. ``road_options`` go to :func:`build_graph`
    (``speed_col``, ``class_col``, ``speeds``, ``oneway_col``, ``limited_access``, ``interchanges``, ... or
    ``options=RoadOptions(...)``).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> roads = gpd.GeoDataFrame({"speed_kmh": [60.0]}, crs=4545,
    ...     geometry=[shapely.LineString([(0, 0), (3000, 0)])])
    >>> a = gpd.GeoSeries([shapely.Point(0, 75)], crs=4545)
    >>> b = gpd.GeoSeries([shapely.Point(3000, 0), shapely.Point(1500, -150)], crs=4545)
    >>> travel_times(roads, a, b).round(3).tolist()
    [[4.0, 4.5]]
    """
    from scipy.sparse.csgraph import dijkstra

    report: dict = {}
    g = _graph(roads, graph, **road_options)
    oxy, opos = _source_points(origins, report)
    dxy, dpos = _source_points(destinations, report)
    _, _, _, oe, of, od = _snap_sources(g, oxy, walk_kmh, far_m, report, "origin")
    _, _, _, de, df, dd = _snap_sources(g, dxy, walk_kmh, far_m, report, "destination")
    wpm = _m_per_min(walk_kmh)
    flip = len(np.unique(de)) < len(np.unique(oe)) and not g.has_oneway
    if flip:
        oe, of, od, de, df, dd = de, df, dd, oe, of, od
    ow, dw = od / wpm, dd / wpm
    om, dm = g.minutes[oe], g.minutes[de]
    ends = np.unique(np.concatenate([g.u[oe], g.v[oe]]))
    cols = np.concatenate([g.u[de], g.v[de]])
    csr = g.csr()
    D = np.empty((len(ends), len(cols)))
    for s in range(0, len(ends), batch):
        D[s : s + batch] = dijkstra(csr, directed=True, indices=ends[s : s + batch])[:, cols]
    iu = np.searchsorted(ends, g.u[oe])
    iv = np.searchsorted(ends, g.v[oe])
    nd = len(de)
    # origin -> each end of each destination edge, through either end of the origin edge
    one_o = g.oneway[oe] if g.has_oneway else np.zeros(len(oe), dtype=bool)
    one_d = g.oneway[de] if g.has_oneway else np.zeros(len(de), dtype=bool)
    via_u = np.where(one_o, np.inf, ow + of * om)  # a one-way edge is left by its far end only
    to_ends = np.minimum(via_u[:, None] + D[iu], (ow + (1.0 - of) * om)[:, None] + D[iv])
    from_v = np.where(one_d, np.inf, (1.0 - df) * dm)  # and entered by its near end only
    t = np.minimum(to_ends[:, :nd] + (df * dm)[None, :], to_ends[:, nd:] + from_v[None, :]) + dw[None, :]
    same = oe[:, None] == de[None, :]
    if same.any():
        gap = df[None, :] - of[:, None]
        ok = same & (~one_o[:, None] | (gap >= 0))
        along = ow[:, None] + np.abs(gap) * om[:, None] + dw[None, :]
        t = np.where(ok, np.minimum(t, along), t)
    if flip:
        t = t.T
    if direct_walk:
        direct = np.hypot(oxy[:, None, 0] - dxy[None, :, 0], oxy[:, None, 1] - dxy[None, :, 1]) / _m_per_min(walk_kmh)
        t = np.minimum(t, direct)
    n_o = len(origins)
    n_d = len(destinations)
    out = np.full((n_o, n_d), np.nan)
    out[np.ix_(opos, dpos)] = t
    return out


@dataclass
class TimeGrid:
    """Minutes to the fastest source on a regular grid (row 0 = north), with the source's position.

    ``minutes`` is an upper bound of the true time at each cell centre (paths are real road + walking
    paths); ``minutes + slack`` bounds the time anywhere in the cell (``slack`` = half the cell diagonal
    at walking speed).
    """

    minutes: np.ndarray
    source: np.ndarray
    transform: object
    cell_m: float
    slack: float
    report: dict = field(default_factory=dict)


def time_grid(
    graph: RoadGraph,
    sources: Any,
    *,
    cell_m: float = 100.0,
    limit: float = 60.0,
    walk_kmh: float = DEFAULT_WALK_KMH,
    bounds: tuple[float, float, float, float] | None = None,
    far_m: float = DEFAULT_FAR_M,
    direction: str = "to_facility",
) -> TimeGrid:
    """Travel time to the fastest source for every cell of a grid, road plus off-network walking.

    One multi-source Dijkstra over a combined graph: the road graph, an 8-connected grid of cell
    centres walked at ``walk_kmh``, and connectors between each road node and the centres of the four
    cells around it. Every path is a real road + walking path, so cell times are upper bounds.
    Build the road graph with ``segmentize_m <= cell_m`` so every cell a road crosses is connected.

    Parameters
    ----------
    graph : RoadGraph
    sources : GeoDataFrame / GeoSeries of points
    cell_m : float
        Grid cell size in metres.
    limit : float
        Largest time of interest (minutes); the search stops there.
    bounds : tuple, optional
        ``(xmin, ymin, xmax, ymax)`` of the grid; default the roads and sources plus the walking reach.
    direction : {"to_facility", "from_facility"}
        Travel towards the sources (default) or away from them (differs on one-way roads). Cells join
        only nodes of roads that are not limited-access.

    Returns
    -------
    TimeGrid
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    report: dict = {}
    reverse = check_direction(direction)
    xy, pos = _source_points(sources, report)
    svs, snode, swalk = _snap_sources(graph, xy, walk_kmh, far_m, report, reverse=reverse)[:3]
    wpm = _m_per_min(walk_kmh)
    grid = _Grid.of(graph, xy, bounds, cell_m, min(limit, 240.0) * wpm)
    n_road = graph.n_nodes
    n_cell = grid.nrow * grid.ncol
    diag = cell_m / wpm * np.sqrt(2.0)
    gu, gv, gw = _road_edges(graph, reverse)
    for part in (_walk_edges(grid, n_road, cell_m / wpm), _connector_edges(graph, grid, wpm)):
        gu += part[0]
        gv += part[1]
        gw += part[2]
    # virtual source nodes -> snapped road node and -> own cell
    k = len(xy)
    vs = n_road + n_cell + np.arange(k)
    scol, srow, sin, sw = grid.cells_of(xy, wpm)
    gu += [vs[svs], vs[sin]]
    gv += [snode, n_road + srow[sin] * grid.ncol + scol[sin]]
    gw += [swalk, sw[sin]]
    N = n_road + n_cell + k
    csr = csr_matrix((np.concatenate(gw), (np.concatenate(gu), np.concatenate(gv))), shape=(N, N))
    dist, _, src = dijkstra(csr, directed=True, indices=vs, min_only=True, return_predecessors=True, limit=limit + diag)
    cells = slice(n_road, n_road + n_cell)
    minutes = dist[cells].reshape(grid.nrow, grid.ncol)
    s = src[cells]
    lab = np.where(s >= 0, pos[np.clip(s - n_road - n_cell, 0, None)], -1).reshape(grid.nrow, grid.ncol)
    report.update(graph.report)
    return TimeGrid(minutes=minutes, source=lab, transform=grid.transform(), cell_m=cell_m, slack=diag / 2.0,
                    report=report)


@dataclass(frozen=True)
class _Grid:
    """A regular grid of ``nrow`` x ``ncol`` cells of ``cell_m``, west edge ``xmin``, north edge ``top``."""

    xmin: float
    top: float
    cell_m: float
    nrow: int
    ncol: int

    @classmethod
    def of(cls, graph: RoadGraph, xy: np.ndarray, bounds, cell_m: float, reach_m: float) -> _Grid:
        """The grid over ``bounds``, default the roads and sources plus the walking reach."""
        if bounds is None:
            lo = np.minimum(graph.xy.min(axis=0), xy.min(axis=0)) - reach_m
            hi = np.maximum(graph.xy.max(axis=0), xy.max(axis=0)) + reach_m
            bounds = (lo[0], lo[1], hi[0], hi[1])
        xmin, ymin, xmax, ymax = bounds
        ncol = max(int(np.ceil((xmax - xmin) / cell_m)), 1)
        nrow = max(int(np.ceil((ymax - ymin) / cell_m)), 1)
        return cls(xmin=xmin, top=ymin + nrow * cell_m, cell_m=cell_m, nrow=nrow, ncol=ncol)

    def transform(self):
        """The grid's affine transform (row 0 = north)."""
        from affine import Affine

        return Affine(self.cell_m, 0.0, self.xmin, 0.0, -self.cell_m, self.top)

    def cells_of(self, xy: np.ndarray, wpm: float):
        """``(col, row, inside, walk minutes to the cell centre)`` of each point."""
        col = np.floor((xy[:, 0] - self.xmin) / self.cell_m).astype(np.int64)
        row = np.floor((self.top - xy[:, 1]) / self.cell_m).astype(np.int64)
        inside = (col >= 0) & (col < self.ncol) & (row >= 0) & (row < self.nrow)
        cx = self.xmin + (col + 0.5) * self.cell_m
        cy = self.top - (row + 0.5) * self.cell_m
        return col, row, inside, np.hypot(xy[:, 0] - cx, xy[:, 1] - cy) / wpm


def _road_edges(graph: RoadGraph, reverse: bool):
    """Edge lists ``(u, v, minutes)`` of the road graph, both ways but for one-way edges (swapped with reverse)."""
    two = slice(None) if graph.oneway is None else ~graph.oneway
    gu = [graph.u, graph.v[two]]
    gv = [graph.v, graph.u[two]]
    gw = [graph.minutes, graph.minutes[two]]
    if reverse:
        gu, gv = gv, gu
    return gu, gv, gw


def _walk_edges(grid: _Grid, n_road: int, step: float):
    """Edge lists of the 8-connected walking grid (cell ids after the ``n_road`` road nodes)."""
    ids = np.arange(grid.nrow * grid.ncol).reshape(grid.nrow, grid.ncol) + n_road
    diag = step * np.sqrt(2.0)
    pairs = [
        (ids[:, :-1], ids[:, 1:], step),
        (ids[:-1, :], ids[1:, :], step),
        (ids[:-1, :-1], ids[1:, 1:], diag),
        (ids[:-1, 1:], ids[1:, :-1], diag),
    ]
    gu, gv, gw = [], [], []
    for a, b, w in pairs:
        a, b = a.ravel(), b.ravel()
        gu += [a, b]
        gv += [b, a]
        gw += [np.full(a.size, w), np.full(a.size, w)]
    return gu, gv, gw


def _connector_edges(graph: RoadGraph, grid: _Grid, wpm: float):
    """Edge lists joining each road node (not limited-access) and the centres of the 2 x 2 cells around it."""
    n_road = graph.n_nodes
    local = graph.local_nodes()
    c0 = np.floor((graph.xy[local, 0] - grid.xmin) / grid.cell_m - 0.5).astype(np.int64)
    r0 = np.floor((grid.top - graph.xy[local, 1]) / grid.cell_m - 0.5).astype(np.int64)
    gu, gv, gw = [], [], []
    for dr in (0, 1):
        for dc in (0, 1):
            col, row = c0 + dc, r0 + dr
            inside = (col >= 0) & (col < grid.ncol) & (row >= 0) & (row < grid.nrow)
            rn = local[inside]
            cid = n_road + row[inside] * grid.ncol + col[inside]
            cx = grid.xmin + (col[inside] + 0.5) * grid.cell_m
            cy = grid.top - (row[inside] + 0.5) * grid.cell_m
            cw = np.hypot(graph.xy[rn, 0] - cx, graph.xy[rn, 1] - cy) / wpm
            gu += [rn, cid]
            gv += [cid, rn]
            gw += [cw, cw]
    return gu, gv, gw


def isochrones(grid: TimeGrid, minutes: Sequence[float] = (15, 30, 60)) -> gpd.GeoDataFrame:
    """Polygons of the land reached within each limit, one per (source, limit), from a :class:`TimeGrid`.

    A cell is in the polygon when its whole square is within the limit (centre time + ``slack``), so
    the polygons contain only reachable land; unreachable land inside stays as holes. Bands are
    cumulative (the 30-minute polygon includes the 15-minute one) and each cell belongs to its fastest
    source only.

    Returns
    -------
    GeoDataFrame
        ``source`` (position in the sources), ``minutes``, MultiPolygon geometry, EPSG:4545; sources
        that reach no whole cell get an empty geometry (kept, not dropped).
    """
    import geopandas as gpd
    import shapely
    from rasterio.features import shapes

    srcs = np.unique(grid.source[grid.source >= 0])
    recs_src, recs_min, recs_geom = [], [], []
    for m in sorted(float(x) for x in minutes):
        ok = (grid.minutes + grid.slack <= m) & (grid.source >= 0)
        lab = np.where(ok, grid.source, -1).astype(np.int32)
        polys, vals = [], []
        for geom, val in shapes(lab, mask=ok, transform=grid.transform, connectivity=4):
            polys.append(shapely.geometry.shape(geom))
            vals.append(int(val))
        polys = np.asarray(polys, dtype=object)
        vals = np.asarray(vals, dtype=np.int64)
        order = np.argsort(vals, kind="stable")
        present = np.unique(vals)
        multi = shapely.multipolygons(polys[order], indices=np.searchsorted(present, vals[order])) if len(vals) else []
        geom_by = dict(zip(present.tolist(), list(multi), strict=True))
        for s in srcs.tolist():
            recs_src.append(s)
            recs_min.append(m)
            recs_geom.append(geom_by.get(s, shapely.MultiPolygon()))
    return gpd.GeoDataFrame({"source": recs_src, "minutes": recs_min}, geometry=recs_geom, crs=WORK_EPSG)


_dense_ids = dense_ids  # the old private name, still imported by catchments.voronoi
