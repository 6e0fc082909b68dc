"""Road-layer checks a planner can act on: every problem with its feature id and its location, to fix in QGIS.

Connected components, dead ends (dangles, with undershoots), zero-length and duplicated segments, crossings
without a shared vertex (possible missing junctions), unknown road classes and missing speeds. The rules of
:func:`bazhong_geo.network.build_graph` apply: limited-access roads and grade-separated roads (bridges,
tunnels, ``layer``) are meant not to join what they cross, so their crossings are not reported.
"""

from __future__ import annotations

import numpy as np

from ._validate import located
from .network import (
    DEFAULT_RAMPS,
    GRADE_COLUMNS,
    WORK_EPSG,
    default_speeds,
    find_class_col,
    finish_graph,
    road_segments,
    to_work,
)

ISSUES = ("component", "dangle", "zero_length", "duplicate_segment", "crossing_without_node", "unknown_class",
          "missing_speed", "missing_geometry")
"""The kinds of issue :func:`qa_roads` reports, in its column ``issue``."""

_QA_SPEED = "__qa_speed_kmh"


def qa_roads(
    roads,
    *,
    speed_col: str | None = "speed_kmh",
    class_col: str | None = None,
    speeds=None,
    id_col: str | None = None,
    oneway_col: str | None = "oneway",
    limited_access=None,
    ramps=DEFAULT_RAMPS,
    grade_cols=GRADE_COLUMNS,
    precision_m: float = 0.01,
    dangle_m: float = 10.0,
):
    """Check a road layer; one row per problem, located, with the feature to fix.

    Parameters
    ----------
    roads : GeoDataFrame of lines
        With a CRS (reprojected to EPSG:4545).
    speed_col, class_col, speeds
        As in :func:`bazhong_geo.network.road_speeds` (the class column is found by itself when not given).
    id_col : str, optional
        Column identifying features (default: the row position).
    oneway_col, limited_access, ramps, grade_cols, precision_m
        As in :func:`bazhong_geo.network.build_graph`.
    dangle_m : float
        A dead end closer than this to another road is flagged as a possible undershoot.

    Returns
    -------
    GeoDataFrame
        ``issue`` (one of :data:`ISSUES`), ``feature`` (id), ``row`` (position), ``x``, ``y`` (EPSG:4545),
        ``value`` (share of length for components, gap in m for dangles, the speed or class otherwise),
        ``detail`` (what and how to fix), Point geometry. ``attrs["summary"]``: counts per issue,
        ``components``, ``largest_component_length_share``, ``features``; ``attrs["components"]``: a
        table of components with their node count, km of road and share of length.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> roads = gpd.GeoDataFrame({"speed_kmh": [60.0, 60.0, None]}, crs=4545, geometry=[
    ...     shapely.LineString([(0, 0), (1000, 0)]), shapely.LineString([(500, -500), (500, 500)]),
    ...     shapely.LineString([(2000, 0), (3000, 0)])])
    >>> qa = qa_roads(roads)
    >>> qa.attrs["summary"]["components"], qa.attrs["summary"]["crossing_without_node"]
    (3, 1)
    >>> r = qa[qa.issue == "crossing_without_node"]
    >>> r.feature.tolist(), r.x.tolist(), r.y.tolist()
    ([0], [500.0], [0.0])
    >>> qa.loc[qa.issue == "missing_speed", "feature"].tolist()
    [2]
    """
    import geopandas as gpd
    import pandas as pd
    import shapely

    roads = to_work(roads, "roads")
    ids = np.asarray(roads[id_col].to_numpy() if id_col is not None else np.arange(len(roads)), dtype=object)
    geoms = np.asarray(roads.geometry.values, dtype=object)
    ccol = find_class_col(roads, class_col)
    parts = [_attribute_issues(roads, geoms, speed_col, ccol, speeds), _geometry_issues(geoms)]
    topo = roads.assign(**{_QA_SPEED: 1.0})  # topology does not depend on speeds (checked above)
    seg = road_segments(topo, speed_col=_QA_SPEED, class_col=ccol, precision_m=precision_m, oneway_col=oneway_col,
                        limited_access=limited_access, ramps=ramps, grade_cols=grade_cols)
    parts.append(_duplicate_segments(seg))
    graph = finish_graph(seg.xy, dict(seg.edges), dict(seg.report))
    comp_rows, components = _components(graph)
    parts += [comp_rows, _dangles(graph, geoms, dangle_m, precision_m), _crossings(seg, geoms, precision_m)]
    table = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else _empty()
    table["row"] = table["row"].astype(np.int64)
    table.insert(1, "feature", [ids[r] if r >= 0 else None for r in table["row"]])
    out = gpd.GeoDataFrame(table, geometry=shapely.points(table[["x", "y"]].to_numpy(dtype=float)), crs=WORK_EPSG)
    summary = {k: int((out["issue"] == k).sum()) for k in ISSUES}
    summary.update(components=len(components), features=len(roads),
                   largest_component_length_share=float(components["share_of_length"].iloc[0]) if len(components)
                   else 0.0)
    out.attrs["summary"] = summary
    out.attrs["components"] = components
    return out


def _empty():
    import pandas as pd

    return pd.DataFrame({"issue": [], "row": [], "x": [], "y": [], "value": [], "detail": []})


def _rows(issue, rows, xy, values, details):
    import pandas as pd

    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    return pd.DataFrame({"issue": issue, "row": np.asarray(rows, dtype=np.int64), "x": xy[:, 0], "y": xy[:, 1],
                         "value": list(values), "detail": list(details)})


def _where(geoms) -> np.ndarray:
    """A point on each line (its middle; the first vertex for zero-length lines; NaN without geometry)."""
    import shapely

    xy = np.full((len(geoms), 2), np.nan)
    ok = located(geoms)
    if ok.any():
        g = geoms[ok]
        pts = shapely.get_point(shapely.get_geometry(g, 0), 0)
        long = shapely.length(g) > 0
        pts[long] = shapely.line_interpolate_point(g[long], 0.5, normalized=True)
        xy[ok] = shapely.get_coordinates(pts)
    return xy


def _attribute_issues(roads, geoms, speed_col, ccol, speeds):
    """Unknown classes, and features with no usable speed from the speed column nor from the class."""
    import pandas as pd

    n = len(roads)
    sp = np.full(n, np.nan)
    if speed_col is not None and speed_col in roads.columns:
        sp = pd.to_numeric(roads[speed_col], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    known = {str(k).strip().lower() for k in default_speeds()["road_class"]} | {
        str(k).strip().lower() for k in (speeds or {})}
    cls = (roads[ccol].astype("string").str.strip().fillna("").to_numpy(dtype=object) if ccol is not None
           else np.full(n, "", dtype=object))
    low = np.array([c.lower() for c in cls], dtype=object)
    unknown = (cls != "") & ~np.isin(low, list(known))
    no_speed = ~(np.isfinite(sp) & (sp > 0)) & ((cls == "") | unknown)
    xy = _where(geoms)
    out = []
    r = np.flatnonzero(unknown)
    if len(r):
        out.append(_rows("unknown_class", r, xy[r], cls[r],
                         [f"class {c!r} is not in the speed table: add it to speeds= or road_speeds.csv" for c in cls[r]]))
    r = np.flatnonzero(no_speed)
    if len(r):
        out.append(_rows("missing_speed", r, xy[r], sp[r],
                         [f"no speed (value {v}) and no known class: give {speed_col or 'a speed'} in km/h or a class"
                          for v in sp[r]]))
    return pd.concat(out, ignore_index=True) if out else _empty()


def _geometry_issues(geoms):
    import pandas as pd
    import shapely

    ok = located(geoms)
    xy = _where(geoms)
    zero = np.zeros(len(geoms), dtype=bool)
    zero[ok] = shapely.length(geoms[ok]) == 0
    out = []
    r = np.flatnonzero(zero)
    if len(r):
        out.append(_rows("zero_length", r, xy[r], [0.0] * len(r),
                         ["zero-length line (all vertices at one point): delete it"] * len(r)))
    r = np.flatnonzero(~ok)
    if len(r):
        out.append(_rows("missing_geometry", r, xy[r], [np.nan] * len(r), ["no geometry: draw it or delete the row"]
                         * len(r)))
    return pd.concat(out, ignore_index=True) if out else _empty()


def _duplicate_segments(seg):
    """Segments joining the same two nodes as an earlier one (drawn twice, or a line and its copy)."""
    e = seg.edges
    lo, hi = np.minimum(e["u"], e["v"]), np.maximum(e["u"], e["v"])
    n = len(seg.xy)
    pair = lo * n + hi
    order = np.argsort(pair, kind="stable")
    ps = pair[order]
    dup = np.zeros(len(ps), dtype=bool)
    dup[1:] = ps[1:] == ps[:-1]
    if not dup.any():
        return _empty()
    first = order[np.maximum.accumulate(np.where(~dup, np.arange(len(ps)), 0))]
    d, f = order[dup], first[dup]
    mid = (seg.xy[lo[d]] + seg.xy[hi[d]]) / 2.0
    feats = e["feature"]
    return _rows("duplicate_segment", feats[d], mid, e["length"][d],
                 [f"segment drawn twice (also in feature at row {feats[i]}): delete one copy" for i in f])


def _components(graph):
    """One row per component but the largest (where it is, its share of the road length); and the component table."""
    import pandas as pd

    lab = graph.components()
    k = int(lab.max()) + 1 if len(lab) else 0
    length = np.bincount(lab[graph.u], weights=graph.length_m, minlength=k)
    nodes = np.bincount(lab, minlength=k)
    share = length / max(length.sum(), 1e-300)
    first_node = np.full(k, -1)
    first_node[lab[::-1]] = np.arange(len(lab))[::-1]
    first_edge = np.full(k, -1)
    first_edge[lab[graph.u][::-1]] = np.arange(graph.n_edges)[::-1]
    feat = np.where(first_edge >= 0, graph.feature[np.maximum(first_edge, 0)], -1)
    table = pd.DataFrame({"component": np.arange(k), "nodes": nodes, "length_km": length / 1000.0,
                          "share_of_length": share, "row": feat, "x": graph.xy[first_node, 0],
                          "y": graph.xy[first_node, 1]})
    rest = table.iloc[1:]
    rows = _rows("component", rest["row"], rest[["x", "y"]].to_numpy(), rest["share_of_length"],
                 [f"component {c} ({m} nodes, {km:.3f} km) is not joined to the main network: join it or check it"
                  for c, m, km in zip(rest["component"], rest["nodes"], rest["length_km"])])
    return rows, table


def _dangles(graph, geoms, dangle_m, precision_m):
    """Dead ends (nodes with one neighbour); those within ``dangle_m`` of another feature are possible undershoots."""
    import shapely

    nb = np.bincount(graph.u, minlength=graph.n_nodes) + np.bincount(graph.v, minlength=graph.n_nodes)
    dead = np.flatnonzero(nb == 1)
    if len(dead) == 0:
        return _empty()
    # the feature of each dead end's only edge
    ends = np.concatenate([graph.u, graph.v])
    efeat = np.concatenate([graph.feature, graph.feature])
    own = np.full(graph.n_nodes, -1)
    own[ends] = efeat
    own = own[dead]
    gap = np.full(len(dead), np.nan)
    near = np.full(len(dead), -1)
    ok = located(geoms)
    okpos = np.flatnonzero(ok)
    if len(okpos) and dangle_m > 0:
        tree = shapely.STRtree(geoms[okpos])
        pts = shapely.points(graph.xy[dead])
        di, gi = tree.query(pts, predicate="dwithin", distance=dangle_m)
        other = okpos[gi] != own[di]
        di, gi = di[other], okpos[gi[other]]
        d = shapely.distance(pts[di], geoms[gi])
        apart = d > precision_m  # touching ones are copies or crossings, reported as such
        di, gi, d = di[apart], gi[apart], d[apart]
        order = np.lexsort((d, di))
        di, gi, d = di[order], gi[order], d[order]
        first = np.ones(len(di), dtype=bool)
        first[1:] = di[1:] != di[:-1]
        gap[di[first]] = d[first]
        near[di[first]] = gi[first]
    detail = [f"dead end {g:.2f} m from the road at row {n}: snap it if they should meet (possible undershoot)"
              if n >= 0 else "dead end" for g, n in zip(gap, near)]
    return _rows("dangle", own, graph.xy[dead], gap, detail)


def _crossings(seg, geoms, precision_m):
    """At-grade, not limited-access lines that cross or touch at a point that is not a vertex of both."""
    import pandas as pd
    import shapely

    rules = seg.rules
    ok = located(geoms)
    ok[ok] = shapely.length(geoms[ok]) > 0
    cand = np.flatnonzero(ok & ~rules.limited & (rules.grade == 0))
    if len(cand) < 2:
        return _empty()
    tree = shapely.STRtree(geoms[cand])
    a, b = tree.query(geoms[cand], predicate="intersects")
    keep = a < b
    a, b = cand[a[keep]], cand[b[keep]]
    if len(a) == 0:
        return _empty()
    inter = shapely.intersection(geoms[a], geoms[b])
    pieces, pair = shapely.get_parts(inter, return_index=True)
    pts = shapely.get_type_id(pieces) == 0
    pieces, pair = pieces[pts], pair[pts]
    if len(pieces) == 0:
        return _empty()
    pxy = shapely.get_coordinates(pieces)
    q = np.rint(pxy / precision_m).astype(np.int64)
    vxy, vidx = shapely.get_coordinates(geoms[cand], return_index=True)
    vq = np.rint(vxy / precision_m).astype(np.int64)
    verts = pd.MultiIndex.from_arrays([cand[vidx], vq[:, 0], vq[:, 1]]).unique()
    fa, fb = a[pair], b[pair]
    in_a = pd.MultiIndex.from_arrays([fa, q[:, 0], q[:, 1]]).isin(verts)
    in_b = pd.MultiIndex.from_arrays([fb, q[:, 0], q[:, 1]]).isin(verts)
    miss = ~(in_a & in_b)
    if not miss.any():
        return _empty()
    kind = np.where(in_a[miss] | in_b[miss], "touch", "cross")
    fa, fb = fa[miss], fb[miss]
    detail = [f"rows {i} and {j} {k} here without a shared vertex: add a junction vertex to both, or mark one as "
              f"a bridge/tunnel" for i, j, k in zip(fa, fb, kind)]
    return _rows("crossing_without_node", fa, pxy[miss], fb, detail)
