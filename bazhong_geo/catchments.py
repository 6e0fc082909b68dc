"""Service catchments of the settlement system: radius, Voronoi, nested and road-network catchments.

Also the people each catchment serves, and the gaps between catchments.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from . import resources, settings, zonal
from ._errors import (
    DuplicateLocationError,
    EmptyInputError,
    InvalidThresholdError,
    MissingColumnError,
    MissingCRSError,
)
from ._validate import located as _located
from ._validate import region_geometry
from .crs import area_km2, to_work_crs
from .datasets import load_bazhong
from .network import build_graph, dense_ids, isochrones, time_grid
from .settlements import SettlementSystem, Tier

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Sequence

    import geopandas as gpd
    import pandas as pd

WORK_EPSG = int(settings.WORK_CRS.removeprefix("EPSG:"))


# ----------------------------------------------------------------------------------------------- helpers

def _frame(system):
    """The settlements GeoDataFrame of a SettlementSystem (or of a GeoDataFrame, validated as one)."""
    if hasattr(system, "settlements"):
        return system.settlements
    return SettlementSystem(system).settlements


def _tier_rows(system, tier, report: dict):
    """Located rows of ``tier``; unlocated ones are counted in ``report``; a tier with no rows is an error."""
    gdf = _frame(system)
    many = isinstance(tier, (list, tuple, set))
    ts = ([Tier.parse(x) for x in (sorted(tier, key=str) if isinstance(tier, set) else tier)] if many
          else [Tier.parse(tier)])
    t = ts[0]
    values = [x.value for x in ts]
    rows = gdf[gdf["tier"].isin(values)]
    if len(rows) == 0:
        present = sorted(gdf["tier"].unique().tolist())
        names = ", ".join(f"{x.value!r} ({x.label_zh})" for x in ts)
        raise EmptyInputError(f"no settlements of tier {names}; tiers present: {present}")
    ok = _located(rows)
    report["tier"] = ";".join(values)
    report["settlements"] = len(rows)
    report["unlocated"] = int((~ok).sum())
    if (~ok).any():
        report["unlocated_codes"] = rows.loc[~ok, "code"].tolist()
        warnings.warn(
            f"{(~ok).sum()} of {len(rows)} {report['tier']} settlement(s) have no coordinates and are left out of the "
            f"spatial catchments (codes in report['unlocated_codes'])",
            stacklevel=3,
        )
    rows = rows[ok]
    if len(rows) == 0:
        raise EmptyInputError(
            f"none of the {report['settlements']} settlements of tier {report['tier']!r} has coordinates; "
            f"add points (lon/lat) to the register before computing catchments"
        )
    return rows.sort_values("code", kind="stable").reset_index(drop=True), t


def _geometry(obj, what="within"):
    """A single (Multi)Polygon in EPSG:4545 from a geometry, GeoSeries/GeoDataFrame or Region (default: prefecture)."""
    return region_geometry(obj, what)


def _objarray(geoms) -> np.ndarray:
    """A 1-D object array of shapely geometries from a list, array, GeometryArray or GeoSeries."""
    if isinstance(geoms, list):
        out = np.empty(len(geoms), dtype=object)
        out[:] = geoms
        return out
    return np.asarray(geoms, dtype=object)


def _areas_km2(geoms) -> np.ndarray:
    """Equal-area areas in km² of geometries in EPSG:4545 (0 for missing or empty ones).

    Delegates to :func:`bazhong_geo.crs.area_km2` (true ellipsoidal areas, additive over partitions).
    """
    import geopandas as gpd

    g = _objarray(geoms)
    if len(g) == 0:
        return np.zeros(0)
    return area_km2(gpd.GeoSeries(g, crs=WORK_EPSG)).fillna(0.0).to_numpy()


def _finish(rows, geoms, report, population=None, extra=None):
    """The catchment finisher shared by radius, voronoi, nested and network: one GeoDataFrame, areas, people.

    The method's ``report`` is kept and the population report is merged into it (never overwritten), so
    the accounting holds: people inside catchments + ``population_outside`` + ``population_unlocated`` =
    ``population_total`` for a partition (voronoi, nested at one depth); overlapping catchments (radius,
    network bands) count shared people once per catchment.
    """
    import geopandas as gpd

    cols = {"code": rows["code"].to_numpy(), "name": rows["name"].to_numpy() if "name" in rows else None,
            "tier": rows["tier"].to_numpy()}
    if cols["name"] is None:
        del cols["name"]
    if extra:
        cols.update(extra)
    out = gpd.GeoDataFrame(cols, geometry=_objarray(geoms), crs=WORK_EPSG)
    out["area_km2"] = _areas_km2(out.geometry.values)
    out.attrs["report"] = dict(report)
    if population is not None:
        out = population_served(out, population)  # merges its report into the method's
    return out


def _warn_outside(rows, method: str) -> None:
    """Warn about settlements lying outside ``within`` (their catchment is what reaches inside: maybe nothing)."""
    names = rows["name"].astype(str) if "name" in rows else rows["code"].astype(str)
    codes = rows["code"].astype(str)
    listing = (", ".join(f"{c} {n}" for c, n in zip(codes, names, strict=True)) if len(rows) <= 20
               else ", ".join(codes.head(20)) + " ...")
    warnings.warn(f"{len(rows)} settlement(s) lie outside 'within' ({listing}): their {method} catchment is only "
                  f"what reaches inside it, possibly nothing (report['outside_within']); widen 'within' or check "
                  f"their coordinates", stacklevel=3)


def _dedupe_locations(xy: np.ndarray, codes: np.ndarray, duplicates: str, report: dict):
    """Group identical locations (1 mm). Returns index of the kept row per location and its group members."""
    q = np.rint(xy * 1000.0).astype(np.int64)
    q -= q.min(axis=0)
    inv, n = dense_ids(q[:, 0] * (q[:, 1].max() + 1) + q[:, 1])
    if n == len(xy):
        return np.arange(len(xy)), None
    groups: dict[int, list[int]] = {}
    for i, g in enumerate(inv.tolist()):
        groups.setdefault(g, []).append(i)
    dups = [sorted(v, key=lambda i: codes[i]) for v in groups.values() if len(v) > 1]
    listing = "; ".join(",".join(str(codes[i]) for i in d) for d in dups[:10])
    if duplicates == "error":
        raise DuplicateLocationError(
            f"{len(dups)} location(s) hold several settlements of the same tier ({listing}"
            f"{' ...' if len(dups) > 10 else ''}); correct the coordinates, or pass duplicates='merge' to give "
            f"each location one catchment under its first code (the others are listed in merged_codes)"
        )
    keep = np.array(sorted(v[0] for v in (sorted(g, key=lambda i: codes[i]) for g in groups.values())))
    members = {v[0]: [codes[i] for i in v] for v in dups}
    report["merged_locations"] = {codes[k]: m for k, m in members.items()}
    return keep, members


def _merge_duplicates(rows, duplicates: str, report: dict):
    """Rows with one settlement per location (see :func:`_dedupe_locations`) and each kept row's ``merged_codes``."""
    import shapely

    xy = shapely.get_coordinates(np.asarray(rows.geometry.values, dtype=object))
    keep, members = _dedupe_locations(xy, rows["code"].to_numpy(), duplicates, report)
    merged = [";".join(members[k]) if members and k in members else "" for k in keep]
    return rows.iloc[keep].reset_index(drop=True), merged


def voronoi_cells(xy: np.ndarray, region: Any) -> np.ndarray:
    """Voronoi cells of distinct points ``xy`` clipped to ``region``, in input order (vectorised).

    Cells fully inside the region are kept as computed; only those crossing its edge are intersected.
    """
    import shapely

    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    if len(xy) == 1:
        return np.array([region], dtype=object)
    xmin, ymin, xmax, ymax = region.bounds
    xmin, ymin = min(xmin, xy[:, 0].min()), min(ymin, xy[:, 1].min())
    xmax, ymax = max(xmax, xy[:, 0].max()), max(ymax, xy[:, 1].max())
    pad = max(xmax - xmin, ymax - ymin, 1.0)
    env = shapely.box(xmin - pad, ymin - pad, xmax + pad, ymax + pad)
    pts = shapely.points(xy)
    try:
        cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=env, ordered=True))
    except Exception:  # GEOS < 3.12 has no ordered output: match cells to points below
        cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=env))
    if len(cells) != len(xy) or not shapely.intersects(cells, pts).all():
        # fall back: match cells to points
        tree = shapely.STRtree(cells)
        pi, ci = tree.query(pts, predicate="intersects")
        first = np.unique(pi, return_index=True)[1]
        cells = cells[ci[first]]
    shapely.prepare(region)
    inside = shapely.contains_properly(region, cells)
    out = cells.copy()
    cut = np.flatnonzero(~inside)
    if len(cut):
        out[cut] = shapely.intersection(cells[cut], region)
    return out


# ----------------------------------------------------------------------------------------------- catchments

def default_radii() -> pd.DataFrame:
    """The default catchment radius by tier (``data/config/catchment_radii.csv``): tier, radius_m, source."""
    import pandas as pd


    path = resources.data_file("config/catchment_radii.csv")
    table = pd.read_csv(path)
    if not {"tier", "radius_m"} <= set(table.columns):
        raise MissingColumnError(f"{path}: needs columns tier, radius_m, source")
    return table


def radius(system: Any, tier: Any, *, radii: dict | float | None = None, population: Any = None,
           quad_segs: int = 16) -> gpd.GeoDataFrame:
    """Circular catchments: each settlement of ``tier`` buffered by the tier's radius.

    Parameters
    ----------
    system : SettlementSystem or GeoDataFrame
    tier : Tier or str
    radii : float or mapping tier -> metres, optional
        Overrides ``data/config/catchment_radii.csv`` (each default cites its source or is marked
        ``assumption`` there).
    population : raster path or GeoDataFrame, optional
        Adds ``population`` served (see :func:`population_served`); circles may overlap, so a person
        can be counted in several.

    Returns
    -------
    GeoDataFrame
        ``code``, ``name``, ``tier``, ``radius_m``, ``area_km2`` (, ``population``), EPSG:4545.
        ``attrs["report"]``: ``radius_source``, unlocated settlements, ``duplicate_locations``
        (settlements sharing a point, kept; warned).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> s = gpd.GeoDataFrame({"code": ["1"], "name": ["镇"], "tier": ["town"], "parent_code": [None],
    ...     "population": [1.0]}, geometry=[shapely.Point(500000, 3500000)], crs=4545)
    >>> radius(s, "town", radii=1000)["radius_m"].tolist()
    [1000.0]
    """
    import shapely

    report: dict = {}
    rows, _t = _tier_rows(system, tier, report)
    same: dict = {}
    _dedupe_locations(shapely.get_coordinates(np.asarray(rows.geometry.values, dtype=object)),
                      rows["code"].to_numpy(), "merge", same)
    if same:  # kept (circles may overlap anyway), but their population would be counted twice
        report["duplicate_locations"] = same["merged_locations"]
        warnings.warn(f"{len(same['merged_locations'])} location(s) hold several settlements: "
                      f"{list(same['merged_locations'].values())[:10]}; their circles coincide "
                      f"(report['duplicate_locations'])", stacklevel=2)
    present = sorted(rows["tier"].unique().tolist())
    if radii is None or isinstance(radii, dict):
        table = default_radii()
        mapping = dict(zip(table["tier"].astype(str), table["radius_m"].astype(float), strict=False))
        sources = dict(zip(table["tier"].astype(str), table.get("source", table["tier"]).astype(str), strict=False))
        given = {str(getattr(k, "value", k)): float(v) for k, v in (radii or {}).items()}
        mapping.update(given)
        sources.update(dict.fromkeys(given, "argument"))
        missing = [x for x in present if x not in mapping]
        if missing:
            raise MissingColumnError(f"no radius for tier(s) {missing}; pass radii={{'{missing[0]}': metres}}")
        r = rows["tier"].map(mapping).to_numpy(dtype=float)
        report["radius_source"] = "; ".join(f"{x}: {sources[x]}" for x in present) if len(present) > 1 \
            else sources[present[0]]
    else:
        r = np.full(len(rows), float(radii))
        report["radius_source"] = "argument"
    if not np.isfinite(r).all() or (r <= 0).any():
        raise InvalidThresholdError(f"radii must be > 0 m, got {sorted(set(r.tolist()))}")
    geoms = shapely.buffer(np.asarray(rows.geometry.values, dtype=object), r, quad_segs=quad_segs)
    return _finish(rows, geoms, report, population, extra={"radius_m": r})


def voronoi(
        system: Any, tier: Any, *, within: Any = None, respect_counties: bool = False,
        counties: gpd.GeoDataFrame | None = None, duplicates: str = "error", population: Any = None,
) -> gpd.GeoDataFrame:
    """Thiessen (Voronoi) catchments of the settlements of ``tier``, clipped to ``within``.

    The cells partition ``within``: their areas add up to its area (exactly, up to floating point; in
    EPSG:4545 planar area to 1e-9 relative). With ``respect_counties`` each county is partitioned
    among its own settlements (``county_code``, else the county the point lies in), so no catchment
    crosses a county line; a county with no settlement of the tier is left uncovered and reported. A
    settlement spanning counties lists them in a ``county_codes`` column (';'-joined) and gets one cell
    per county, joined (Bazhong's central city: 巴州区 and 恩阳区).

    Parameters
    ----------
    system : SettlementSystem or GeoDataFrame
    tier : Tier or str, or a list of them
        Several tiers share one partition (e.g. ``["central_city", "county_town"]`` for the county seats).
    within : GeoDataFrame, GeoSeries, shapely geometry or Region, optional
        Default: the Bazhong prefecture (``load_bazhong().prefecture``).
    respect_counties : bool
    counties : GeoDataFrame, optional
        County polygons with a ``code`` column; default ``load_bazhong().counties``.
    duplicates : {"error", "merge"}
        Several settlements at one location: raise :class:`DuplicateLocationError` (default), or give
        the location one cell under its first code (others listed in ``merged_codes``). No jitter.
    population : raster path or GeoDataFrame, optional
        Adds ``population`` served (see :func:`population_served`).

    Returns
    -------
    GeoDataFrame
        ``code``, ``name``, ``tier``, ``county_code``, ``merged_codes``, ``area_km2`` (, ``population``);
        ``attrs["report"]`` counts unlocated settlements, merged locations and uncovered counties, and
        lists settlements lying outside ``within`` (``outside_within``; kept, their cell possibly empty).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> pts = [shapely.Point(x, y) for x, y in [(1, 1), (3, 1), (1, 3), (3, 3)]]
    >>> s = gpd.GeoDataFrame({"code": list("abcd"), "name": list("abcd"), "tier": ["town"] * 4,
    ...     "parent_code": [None] * 4, "population": [1.0] * 4}, geometry=pts, crs=4545)
    >>> v = voronoi(s, "town", within=shapely.box(0, 0, 4, 4))
    >>> v.geometry.area.tolist()
    [4.0, 4.0, 4.0, 4.0]
    """
    import shapely

    if duplicates not in ("error", "merge"):
        raise ValueError("duplicates must be 'error' or 'merge'")
    report: dict = {}
    rows, _t = _tier_rows(system, tier, report)
    region = _geometry(within, "within")
    rows, merged = _merge_duplicates(rows, duplicates, report)
    xy = shapely.get_coordinates(np.asarray(rows.geometry.values, dtype=object))
    outside = ~shapely.intersects_xy(region, xy[:, 0], xy[:, 1])
    if outside.any():  # kept: a cell may still reach into the region
        report["outside_within"] = rows.loc[outside, "code"].tolist()
        _warn_outside(rows.loc[outside], "voronoi")
    if not respect_counties:
        geoms = voronoi_cells(xy, region)
        county = rows["county_code"].to_numpy() if "county_code" in rows else np.full(len(rows), None)
    else:
        import geopandas as gpd

        if counties is None:
            counties = load_bazhong().counties
        counties = to_work_crs(counties, source="counties")
        if "code" not in counties.columns:
            raise MissingColumnError("counties: needs a 'code' column (6-digit county codes)")
        ccodes = counties["code"].astype(str).to_numpy()
        cgeoms = np.asarray(counties.geometry.values, dtype=object)
        cc = rows["county_code"].astype(object).to_numpy() if "county_code" in rows else np.full(len(rows), None)
        known = np.isin(cc.astype(str), ccodes)
        if (~known).any():
            pts = gpd.GeoSeries(rows.geometry.to_numpy()[~known], crs=WORK_EPSG)
            hit = gpd.sjoin(gpd.GeoDataFrame(geometry=pts), gpd.GeoDataFrame({"c": ccodes}, geometry=cgeoms,
                                                                               crs=WORK_EPSG),
                            predicate="intersects", how="left")
            hit = hit[~hit.index.duplicated(keep="first")]
            cc = cc.copy()
            cc[np.flatnonzero(~known)] = hit["c"].to_numpy()
        county = cc
        outside = np.array([c is None or (isinstance(c, float) and np.isnan(c)) for c in cc])
        if outside.any():
            report["outside_counties"] = rows.loc[outside, "code"].tolist()
        member = _county_membership(rows, cc)
        pieces = [[] for _ in range(len(rows))]
        empty_counties = []
        for code, cg in zip(ccodes, cgeoms, strict=False):
            sel = np.flatnonzero([code in m for m in member])
            cg = shapely.intersection(cg, region)
            if len(sel) == 0:
                if not cg.is_empty:
                    empty_counties.append(code)
                continue
            for i, cell in zip(sel, voronoi_cells(xy[sel], cg), strict=False):
                pieces[i].append(cell)
        geoms = np.array([shapely.union_all(p) if p else shapely.Polygon() for p in pieces], dtype=object)
        if empty_counties:
            report["counties_without_settlements"] = empty_counties
            tiers = " or ".join(report["tier"].split(";"))
            warnings.warn(f"counties with no {tiers} settlement stay uncovered: {empty_counties}", stacklevel=2)
    extra = {"county_code": np.asarray(county, dtype=object), "merged_codes": merged}
    return _finish(rows, geoms, report, population, extra=extra)


def _county_membership(rows, county_codes) -> list[set]:
    """Counties each settlement takes part in: its ``county_codes`` (';'-joined) when given, else its county.

    A settlement that spans counties — Bazhong's central city spans 巴州区 and 恩阳区 — lists them all in
    ``county_codes``; with ``respect_counties`` it then gets a cell in each, joined into one catchment.
    """
    listed = rows["county_codes"].to_numpy() if "county_codes" in rows else np.full(len(rows), None)
    out = []
    for many, one in zip(listed, county_codes, strict=False):
        codes = {c.strip() for c in str(many).split(";") if c.strip()} if isinstance(many, str) and many else set()
        out.append(codes or ({str(one)} if one is not None and not (isinstance(one, float) and np.isnan(one))
                             else set()))
    return out


def _nested_located(gdf, report):
    """The located settlements, sorted by code; the others counted and warned about."""
    ok = _located(gdf)
    report["unlocated"] = int((~ok).sum())
    if (~ok).any():
        report["unlocated_codes"] = gdf.loc[~ok, "code"].tolist()
        warnings.warn(f"{(~ok).sum()} settlement(s) without coordinates are left out of nested catchments",
                      stacklevel=3)
    loc = gdf[ok].sort_values("code", kind="stable").reset_index(drop=True)
    if len(loc) == 0:
        raise EmptyInputError("no settlement has coordinates; nested catchments need points")
    return loc


def _nested_outside(loc, region, report):
    """Settlements outside ``within``: kept, listed and warned about."""
    import shapely

    xy = shapely.get_coordinates(np.asarray(loc.geometry.to_numpy(), dtype=object))
    outside = ~shapely.intersects_xy(region, xy[:, 0], xy[:, 1])
    if outside.any():
        report["outside_within"] = loc.loc[outside, "code"].tolist()
        _warn_outside(loc.loc[outside], "nested")


def _blank(p) -> bool:
    return p is None or (isinstance(p, float) and np.isnan(p))


def _effective_parents(gdf, loc, report):
    """Each located settlement's nearest located ancestor (None for roots); re-hung ones in the report."""
    parent_of = dict(zip(gdf["code"], gdf["parent_code"], strict=True))
    located = set(loc["code"])
    eff: dict = {}
    reattached = []
    for code, p in zip(loc["code"], loc["parent_code"], strict=True):
        seen = {code}
        q = p
        while not _blank(q) and q not in located and q not in seen:
            seen.add(q)
            q = parent_of.get(q)
        q = q if (q in located and q != code) else None
        if q != p and not _blank(p):
            reattached.append(code)
        eff[code] = q
    if reattached:
        report["reattached"] = reattached
    return eff


def _nested_partition(loc, eff, region):
    """Top-down recursive Voronoi: (catchment, core, depth) of every located settlement."""
    import shapely

    children: dict = {}
    for c, p in eff.items():
        children.setdefault(p, []).append(c)
    coords = shapely.get_coordinates(np.asarray(loc.geometry.to_numpy(), dtype=object))
    xy_of = dict(zip(loc["code"], map(tuple, coords), strict=True))
    catch: dict = {}
    core: dict = {}
    depth: dict = {}
    dup_groups: list = []
    frontier = [(None, region, children.get(None, []), 0)]
    while frontier:
        nxt = []
        for p, area, kids, d in frontier:
            cell_of = _split_among(p, area, kids, xy_of, dup_groups)
            if p is not None:
                core[p] = cell_of.get(p, shapely.Polygon())
            for c in kids:
                catch[c] = cell_of.get(c, shapely.Polygon())
                depth[c] = d
                if c in children:
                    nxt.append((c, catch[c], children[c], d + 1))
                else:
                    core[c] = catch[c]
        frontier = nxt
    if dup_groups:
        listing = "; ".join(",".join(g) for g in dup_groups[:10])
        raise DuplicateLocationError(
            f"sibling settlements share a location ({listing}); correct their coordinates so that each has its own cell"
        )
    return catch, core, depth


def _split_among(parent_code, area, kids, xy_of, dup_groups):
    """Voronoi cells of a parent and its children within the parent's area; siblings on one point are collected.

    A child sitting on its parent's point takes the shared cell (the parent's core is then empty).
    """
    seeds = ([parent_code] if parent_code is not None else []) + sorted(kids)
    xy = np.array([xy_of[c] for c in seeds])
    keep, members = _dedupe_locations(xy, np.array(seeds, dtype=object), "merge", {})
    for m in (members or {}).values():
        sib = [c for c in m if c != parent_code]
        if len(sib) > 1:
            dup_groups.append(sib)
    cell_of = {}
    for k, cell in zip(keep, voronoi_cells(xy[keep], area), strict=True):
        grp = members.get(k, [seeds[k]]) if members else [seeds[k]]
        kid = [c for c in grp if c != parent_code]
        cell_of[kid[0] if kid else seeds[k]] = cell
    return cell_of


def nested(system: Any, *, within: Any = None, population: Any = None) -> gpd.GeoDataFrame:
    """Hierarchical catchments along the parent links: the tiers nest exactly, by construction.

    Method (top-down recursive Voronoi, equivalent to "each catchment is the union of its children's"):

    1. *Roots* — located settlements without a located ancestor — partition ``within`` by Voronoi.
    2. A settlement with located children partitions its own catchment by Voronoi among itself and
       its children: each child's cell (clipped to the parent's catchment) is the child's catchment,
       the parent's own cell is its ``core`` (the area it serves directly).
    3. Recurse down to the leaves (whose core is their whole catchment).

    Hence every catchment equals its core plus the union of its children's catchments, siblings
    never overlap, a village lies in exactly one town catchment, which lies in exactly one county-town
    catchment, and every depth of the tree partitions ``within``. Parent links follow ``parent_code``;
    a settlement whose parent has no coordinates hangs from its nearest located ancestor
    (``report["reattached"]``); settlements without coordinates are left out and counted; settlements
    lying outside ``within`` are kept (their catchment is what reaches inside, possibly empty), listed in
    ``report["outside_within"]`` and warned about.

    Parameters
    ----------
    system : SettlementSystem or GeoDataFrame
    within : see :func:`voronoi`
    population : raster path or GeoDataFrame, optional

    Returns
    -------
    GeoDataFrame
        One row per located settlement: ``code``, ``name``, ``tier``, ``parent_code`` (the located
        ancestor used), ``depth`` (0 = root), ``area_km2``, geometry = the catchment, ``core`` (the
        geometry of the part served directly) and ``core_km2``; sorted by depth then code.
        GeoPackage/Shapefile hold one geometry column: save with ``out.drop(columns="core").to_file(...)``
        (or ``out.set_geometry("core")`` for the cores), or keep both with ``to_parquet``.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> s = gpd.GeoDataFrame({"code": ["t", "v1", "v2"], "name": ["镇", "村1", "村2"],
    ...     "tier": ["town", "village", "village"], "parent_code": [None, "t", "t"], "population": [1.0] * 3},
    ...     geometry=[shapely.Point(2, 2), shapely.Point(1, 2), shapely.Point(3, 2)], crs=4545)
    >>> n = nested(s, within=shapely.box(0, 0, 4, 4))
    >>> n.set_index("code").geometry.area.round(6).to_dict()
    {'t': 16.0, 'v1': 6.0, 'v2': 6.0}
    """
    gdf = _frame(system)
    report: dict = {"settlements": len(gdf)}
    loc = _nested_located(gdf, report)
    region = _geometry(within, "within")
    _nested_outside(loc, region, report)
    eff = _effective_parents(gdf, loc, report)
    catch, core, depth = _nested_partition(loc, eff, region)
    rows = loc.set_index("code").loc[sorted(catch, key=lambda c: (depth[c], c))].reset_index()
    codes = rows["code"].tolist()
    core_geoms = [core[c] for c in codes]
    out = _finish(rows, [catch[c] for c in codes], report, population,
                  extra={"parent_code": [eff[c] for c in codes], "depth": [depth[c] for c in codes]})
    out["core_km2"] = _areas_km2(core_geoms)
    import geopandas as gpd

    out["core"] = gpd.GeoSeries(core_geoms, crs=WORK_EPSG)
    return out


def network(  # noqa: PLR0913 (the documented keyword API planners use)
        system: Any, tier: Any, roads: gpd.GeoDataFrame, *, minutes: Sequence[float] = (15, 30, 60),
        speed_col: str | None = "speed_kmh", class_col: str | None = None, speeds: Any = None,
        walk_kmh: float = 4.5, population: Any = None, cell_m: float = 100.0, within: Any = None,
        far_m: float = 1000.0, planarize: bool = False, oneway_col: str | None = "oneway", duplicates: str = "error",
        direction: str = "to_facility", limited_access: Any = None, interchanges: Any = None) -> gpd.GeoDataFrame:
    """Road-network catchments: the land each settlement of ``tier`` reaches first within each time limit.

    Travel = walk (``walk_kmh``, straight line) from the settlement to the road, drive at the road's speed,
    then walk from the road to the location. Computed as one multi-source Dijkstra over the road graph
    (lines segmentized to ``cell_m``) joined to an 8-connected grid of ``cell_m`` cells walked on foot
    (:func:`bazhong_geo.network.time_grid`); each cell goes to its fastest settlement. A cell enters the
    band only if its whole square is within the limit, so polygons contain only reachable land; land
    not reachable stays out (holes). Bands are cumulative and carry ``minutes`` = the limit.

    Parameters
    ----------
    system : SettlementSystem or GeoDataFrame
    tier : Tier or str
    roads : GeoDataFrame of lines
        With ``speed_col`` (km/h) or a ``class_col`` mapped by ``speeds``/the default table
        (``data/config/road_speeds.csv``; a 道路等级 / road_class / highway column is found by itself);
        reprojected to EPSG:4545 if needed. Limited-access roads (高速, 高速公路, expressway, motorway) join
        the rest only at ramps (匝道) and ``interchanges``; bridges and tunnels only at their ends; nobody
        walks onto an expressway (see :func:`bazhong_geo.network.build_graph`).
    minutes : sequence of float
    population : raster path or GeoDataFrame, optional
    cell_m : float
        Grid resolution (m) of the off-network walking surface and of the polygons.
    within : optional
        Clip the catchments to this area (also sets the grid extent). Default: no clipping, the grid
        covers the roads and settlements plus the walking reach.
    planarize : bool
        Join roads where they cross without a shared vertex (see :func:`bazhong_geo.network.build_graph`).
    oneway_col : str, optional
        One-way column (default ``"oneway"`` when the layer has it; see
        :func:`bazhong_geo.network.oneway_directions`).
    direction : {"to_facility", "from_facility"}
        Travel to the settlement (default: people going to the service) or from it outwards.
    limited_access, interchanges
        See :func:`bazhong_geo.network.build_graph`.
    duplicates : {"error", "merge"}
        Several settlements at one location, as in :func:`voronoi`: raise
        :class:`DuplicateLocationError` (default), or give the location one catchment under its first
        code (the others listed in ``merged_codes`` and ``report["merged_locations"]``).

    Returns
    -------
    GeoDataFrame
        ``code``, ``name``, ``tier``, ``minutes``, ``merged_codes``, ``area_km2`` (, ``population``), MultiPolygons,
        EPSG:4545, sorted by minutes then code; every settlement has a row per band (empty geometry
        when it is nobody's fastest). ``attrs["report"]``: road components, settlements far from roads
        or off the main component, unlocated settlements, reprojections.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> x0, y0 = 500000, 3500000
    >>> roads = gpd.GeoDataFrame({"road_class": ["县道"]}, crs=4545,
    ...     geometry=[shapely.LineString([(x0, y0), (x0 + 20000, y0)])])
    >>> towns = gpd.GeoDataFrame({"code": ["a", "b"], "name": ["甲", "乙"], "tier": ["town"] * 2,
    ...     "parent_code": [None] * 2, "population": [1.0] * 2}, crs=4545,
    ...     geometry=[shapely.Point(x0, y0), shapely.Point(x0 + 20000, y0)])
    >>> c = network(towns, "town", roads, minutes=(15,), class_col="road_class", speed_col=None, cell_m=200)
    >>> c[["code", "minutes"]].values.tolist()
    [['a', 15.0], ['b', 15.0]]
    >>> bool(c.area_km2.iloc[0] > 5)   # 10 km of road each way at 40 km/h, plus walking either side
    True
    """
    import shapely

    if duplicates not in ("error", "merge"):
        raise ValueError("duplicates must be 'error' or 'merge'")
    report: dict = {}
    rows, _ = _tier_rows(system, tier, report)
    bands = sorted({float(m) for m in minutes})
    if not bands or bands[0] <= 0:
        raise InvalidThresholdError(f"minutes must be positive numbers, got {minutes!r}")
    rows, merged = _merge_duplicates(rows, duplicates, report)
    g = build_graph(roads, speed_col=speed_col, class_col=class_col, speeds=speeds, segmentize_m=cell_m,
                    planarize=planarize, oneway_col=oneway_col, limited_access=limited_access,
                    interchanges=interchanges)
    region = None
    bounds = None
    if within is not None:
        region = _geometry(within, "within")
        bounds = region.bounds
    grid = time_grid(g, rows.geometry, cell_m=cell_m, limit=bands[-1], walk_kmh=walk_kmh, bounds=bounds, far_m=far_m,
                     direction=direction)
    g.components()
    rep = {**report, **g.report, **grid.report}
    if rep.get("components", 1) > 1:
        warnings.warn(
            f"the road layer has {rep['components']} disconnected parts ({rep['nodes_outside_largest_component']} "
            f"nodes outside the largest); travel between them is on foot (see report)", stacklevel=2)
    codes = rows["code"].to_numpy()
    for key in ("sources_far_from_road", "sources_off_main_component"):
        if key in rep:
            rep[key] = codes[rep[key]].tolist()
    iso = isochrones(grid, bands)
    have = {(int(s), float(m)): geom
            for s, m, geom in zip(iso["source"], iso["minutes"], iso.geometry.values, strict=True)}
    src, mins, geoms = [], [], []
    for m in bands:
        for i in range(len(rows)):
            src.append(i)
            mins.append(m)
            geoms.append(have.get((i, m), shapely.MultiPolygon()))
    geoms = np.asarray(geoms, dtype=object)
    if region is not None:
        nz = np.flatnonzero(~shapely.is_empty(geoms))
        geoms[nz] = shapely.intersection(geoms[nz], region)
    sel = rows.iloc[src].reset_index(drop=True)
    return _finish(sel, geoms, rep, population,
                   extra={"minutes": np.asarray(mins), "merged_codes": [merged[i] for i in src]})


# ----------------------------------------------------------------------------------------------- population

def population_served(catchments: gpd.GeoDataFrame, population: Any, *, column: str = "population",
                      raster_crs: Any = None) -> gpd.GeoDataFrame:
    """Population inside each catchment (people within a polygon: :func:`bazhong_geo.zonal.population_within`).

    Parameters
    ----------
    catchments : GeoDataFrame of polygons
    population : str/Path of a raster, open raster, GeoDataFrame or SettlementSystem
        *Raster* (people per cell): summed with exact coverage fractions (the zonal engine), in the
        raster's CRS. *Points* with ``column`` (a GeoDataFrame, or a register as a SettlementSystem):
        each point counts in every catchment containing it; a point on a shared edge counts once (in
        the first catchment). *Polygons* with ``column``: areal weighting (population spread evenly over
        each polygon). Rows without coordinates are in no catchment: warned about and counted in the
        report, never dropped silently.
    column : str
        Population column of a vector layer; also the name of the output column.
    raster_crs : optional
        CRS of a population raster that has none (otherwise such a raster is an error).

    Returns
    -------
    GeoDataFrame
        A copy of ``catchments`` with ``population`` (float). ``attrs["report"]["population_total"]``,
        ``population_outside`` (points/polygons: located people in no catchment; for overlapping
        catchments see :func:`gaps`) and, when some rows have no coordinates,
        ``population_unlocated`` and ``population_unlocated_rows`` (codes, else positions).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> cat = gpd.GeoDataFrame({"code": ["a", "b"]}, crs=4545,
    ...     geometry=[shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)])
    >>> pts = gpd.GeoDataFrame({"population": [5.0, 7.0, 9.0]}, crs=4545,
    ...     geometry=[shapely.Point(5, 5), shapely.Point(10, 5), shapely.Point(50, 5)])
    >>> out = population_served(cat, pts)
    >>> out.population.tolist(), out.attrs["report"]["population_outside"]
    ([12.0, 0.0], 9.0)
    """
    out = catchments.copy()
    if out.crs is None:
        out = out.set_crs(WORK_EPSG)  # catchments made by this module are in the work CRS
    served = zonal.population_within(out, population, column=column, raster_crs=raster_crs)
    rep = dict(catchments.attrs.get("report", {}))
    rep.update({k: v for k, v in served.attrs["report"].items() if k != "method"})
    out[column] = served.to_numpy()
    out.attrs["report"] = rep
    return out


def gaps(catchments: gpd.GeoDataFrame, region: Any = None, population: Any = None, *, column: str = "population",
         per_tier: bool = False, zones: gpd.GeoDataFrame | None = None, zone_col: str = "code") -> gpd.GeoDataFrame:
    """Land (and population) outside every catchment — the blind spots — of the chosen tiers (per time band).

    By default the question is "who is outside every facility?": the catchments of all tiers given are
    united (per ``minutes`` band when present) and the gap is the region minus that union.

    Parameters
    ----------
    catchments : GeoDataFrame
        Output of :func:`radius`, :func:`voronoi`, :func:`network` (with ``tier`` and, for network
        catchments, ``minutes``); select the tiers of interest before calling.
    region : optional
        The area of interest (default the prefecture).
    population : raster path or GeoDataFrame, optional
        People counted in each gap (see :func:`population_served`).
    per_tier : bool
        ``True``: one gap per tier (and band) instead — land outside every facility *of that tier*.
    zones : GeoDataFrame of polygons, optional
        Townships, counties...: the gaps are split by zone, one row per (band, zone).
    zone_col : str
        Zone code column of ``zones``.

    Returns
    -------
    GeoDataFrame
        ``tier`` (the tiers united, ``;``-joined, or the tier with ``per_tier``) (, ``minutes``)
        (, ``zone``), ``area_km2``, ``share`` (of the region's, or the zone's, area within the region)
        (, ``population``), geometry = the uncovered land, EPSG:4545.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> c = gpd.GeoDataFrame({"tier": ["town"]}, geometry=[shapely.box(5e5, 35e5, 501000, 3502000)], crs=4545)
    >>> gaps(c, shapely.box(5e5, 35e5, 502000, 3502000))[["tier", "share"]].round(4).values.tolist()
    [['town', 0.5]]

    Two tiers whose catchments overlap: the gap outside both, and per tier:

    >>> c = gpd.GeoDataFrame({"tier": ["town", "village"]}, crs=4545,
    ...     geometry=[shapely.box(5e5, 35e5, 501000, 3502000), shapely.box(500500, 35e5, 501500, 3502000)])
    >>> gaps(c, shapely.box(5e5, 35e5, 502000, 3502000))[["tier", "share"]].round(4).values.tolist()
    [['town;village', 0.25]]
    >>> gaps(c, shapely.box(5e5, 35e5, 502000, 3502000), per_tier=True)["share"].round(4).tolist()
    [0.5, 0.5]
    """
    import geopandas as gpd
    import shapely

    area = _geometry(region, "region")
    if "tier" not in catchments.columns:
        raise MissingColumnError("catchments: no column 'tier'; pass the output of radius, voronoi or network")
    groups, recs = _gap_groups(catchments, per_tier)
    geoms = [shapely.difference(area, shapely.union_all(np.asarray(g.geometry.values, dtype=object)))
             for g in groups]
    out = gpd.GeoDataFrame(recs, geometry=geoms, crs=WORK_EPSG)
    if zones is not None:
        out, base = _gaps_by_zone(out, zones, zone_col, area)
    else:
        base = np.full(len(out), _areas_km2([area])[0])
    out["area_km2"] = _areas_km2(out.geometry.values)
    out["share"] = out["area_km2"] / np.where(base > 0, base, np.nan)
    if population is not None:
        out = population_served(out, population, column=column)
    out.attrs["report"] = {"tiers": sorted(catchments["tier"].astype(str).unique().tolist()), "per_tier": per_tier}
    return out


def _gap_groups(catchments, per_tier: bool):
    """Groups of catchments whose union is one gap, and the key columns of each (tier label, minutes)."""
    keys = (["tier"] if per_tier else []) + (["minutes"] if "minutes" in catchments.columns else [])
    if not keys:
        label = ";".join(sorted(catchments["tier"].astype(str).unique()))
        return [catchments], {"tier": [label]}
    recs: dict = {"tier": []} | {k: [] for k in keys if k != "tier"}
    groups = []
    for key, grp in catchments.groupby(keys, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        groups.append(grp)
        named = dict(zip(keys, key, strict=True))
        recs["tier"].append(named["tier"] if per_tier else ";".join(sorted(grp["tier"].astype(str).unique())))
        for k in keys:
            if k != "tier":
                recs[k].append(named[k])
    return groups, recs


def _gaps_by_zone(out, zones, zone_col: str, area):
    """Each gap split by zone (one row per gap and zone); returns the rows and each zone's area (km²) in the region."""
    import geopandas as gpd
    import shapely

    if zone_col not in zones.columns:
        raise MissingColumnError(f"zones: no column {zone_col!r} (zone_col); columns are {list(zones.columns)}")
    if zones.crs is None:
        raise MissingCRSError("zones: the layer has no CRS; set it first, e.g. zones.set_crs(4545)")
    zones = to_work_crs(zones, source="zones")
    zg = shapely.intersection(_objarray(zones.geometry), area)
    zarea = _areas_km2(zg)
    gi = np.repeat(np.arange(len(out)), len(zones))
    zi = np.tile(np.arange(len(zones)), len(out))
    geoms = shapely.intersection(_objarray(out.geometry)[gi], zg[zi])
    rows = out.drop(columns="geometry").iloc[gi].reset_index(drop=True)
    rows["zone"] = zones[zone_col].to_numpy()[zi]
    if "name" in zones.columns:
        rows["zone_name"] = zones["name"].to_numpy()[zi]
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=WORK_EPSG), zarea[zi]
