"""Vector layers of a meeting map: boundaries, settlements, catchments, built-up areas, designated towns, candidates.

Each ``add_*`` function draws the GeoDataFrame it is given; none computes analysis.

>>> import geopandas as gpd
>>> from shapely.geometry import Point
>>> from bazhong_geo.maps.base import base_map
>>> s = gpd.GeoDataFrame({"name": ["巴城"], "tier": ["巴城"]}, geometry=[Point(106.75, 31.86)], crs=4326)
>>> list(add_settlements(base_map(), s))
['central_city']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._errors import BazhongGeoError, EmptyInputError, MissingColumnError, MissingCRSError
from . import elements
from .base import add_data_layer
from .geometry import areas_km2, features, located_mask, prepare_geometries
from .legend import add_categorical_legend, add_tier_legend
from .markup import check_color, escape, popup_html
from .style import (
    QUALITATIVE,
    TIER_STYLES,
    clean,
    column_or_default,
    designation_label,
    display_names,
    fmt_num,
    fmt_year,
    population_radius,
    text_of,
    tier_keys,
)

if TYPE_CHECKING:
    import folium

__all__ = ["add_boundaries", "add_builtup", "add_candidates", "add_catchments", "add_designated", "add_settlements",
           "label_priority", "record_extents"]

def add_boundaries(m: folium.Map, boundaries: gpd.GeoDataFrame, *, name: str | None = None, tolerance_m: float = 30.0,  # noqa: PLR0913 (public API options)
                   color: str = "#34495e", fill: str | None = None, labels: bool = True, area_labels: bool = True,
                   show: bool = True) -> folium.FeatureGroup:
    """Add administrative boundaries (prefecture bold, counties thin) with names as tooltips.

    Parameters
    ----------
    m : folium.Map
        Map from :func:`base_map`.
    boundaries : geopandas.GeoDataFrame
        Polygons with ``name``, optionally ``code`` and ``level`` ("prefecture"/"county"/...).
    name : str, optional
        Layer name in the layer control.
    tolerance_m : float
        Simplification tolerance (metres, work CRS); see :func:`prepare_geometries`.
    color, fill : str
        Line colour; fill colour (none by default).
    labels : bool
        Hover tooltips with the unit name.
    area_labels : bool
        Permanent name labels inside the non-prefecture units (county names).
    show : bool
        Visible on opening.

    Returns
    -------
    folium.FeatureGroup

    Examples
    --------
    >>> from bazhong_geo.maps import base_map
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> b = gpd.GeoDataFrame({"name": ["甲县"], "code": ["511921"], "level": ["county"]},
    ...                      geometry=[box(106.5, 31.5, 107.0, 32.0)], crs=4326)
    >>> fg = add_boundaries(base_map(), b)
    """
    st = elements.state(m)
    lang = st["lang"]
    check_color(color)
    if fill is not None:
        check_color(fill)
    if len(boundaries) == 0:
        raise EmptyInputError("boundaries layer has no rows")
    levels = column_or_default(boundaries, "level", "unit").astype(str)
    record_extents(m, boundaries, levels)
    parts = []
    for level in sorted(levels.unique(), key=lambda v: (v != "prefecture", v)):
        sub = boundaries[levels == level]
        parts.append(prepare_geometries(sub, tolerance_m=tolerance_m, coords=st["coords"]))
    disp = gpd.GeoDataFrame(pd.concat(parts), crs=4326)
    lv = column_or_default(disp, "level", "unit").astype(str)
    names = display_names(disp, lang)
    codes = column_or_default(disp, "code", "").astype("string").fillna("")
    props = []
    for nm, cd, level in zip(names, codes, lv, strict=False):
        p = {"_k": "p" if level == "prefecture" else ("c" if level in ("county", "unit") else "t")}
        if labels:
            p["_t"] = f"{escape(nm)} <small>{escape(cd)}</small>" if cd else escape(nm)
        props.append(p)
    # prefecture outline drawn last (on top)
    order = np.argsort((lv == "prefecture").to_numpy(), kind="stable")
    data = features(disp.iloc[order], [props[i] for i in order])
    styles = {
        "p": {"color": color, "weight": 3, "fill": False, "opacity": 0.9},
        "c": {"color": color, "weight": 1.3, "dashArray": "5 4", "opacity": 0.9,
              "fill": fill is not None, "fillColor": fill or color, "fillOpacity": 0.15 if fill else 0},
        "t": {"color": color, "weight": 0.8, "dashArray": "2 3", "opacity": 0.8,
              "fill": fill is not None, "fillColor": fill or color, "fillOpacity": 0.15 if fill else 0},
    }
    fg = add_data_layer(m, name or text_of("boundaries", lang), show, {"data": data, "styles": styles})
    if area_labels:
        units = disp[(lv != "prefecture").to_numpy()]
        if len(units):
            pts = gpd.GeoDataFrame(geometry=shapely.point_on_surface(np.asarray(units.geometry.values, dtype=object)),
                                   crs=4326)
            pts = pts.set_geometry(shapely.transform(np.asarray(pts.geometry.values, dtype=object),
                                                     lambda c: np.round(c, 5)))
            lab = [{"_k": "n", "_l": escape(nm)} for nm in display_names(units, lang)]
            elements.DataLayer({"data": features(pts, lab), "styles": {"n": {"shape": "none"}}, "labelDir": "center",
                        "labelClass": "bz-area-label", "labelOffset": [0, 20], "z": -100000}).add_to(fg)
    return fg


def record_extents(m: folium.Map, boundaries: gpd.GeoDataFrame, levels: pd.Series) -> None:
    """Keep each coded unit's longitude/latitude bounds, name and level on the map (``extent="511921"`` of exports).

    Parameters
    ----------
    m : folium.Map
    boundaries : geopandas.GeoDataFrame
        Units with a CRS and optionally ``code`` and ``name``.
    levels : pandas.Series
        Level of each row ("prefecture", "county", "township", ...).
    """
    if "code" not in boundaries.columns or boundaries.crs is None:
        return
    located = located_mask(boundaries)
    b = boundaries[located]
    bounds = b.to_crs(4326).bounds.to_numpy(dtype=float)
    names = column_or_default(b, "name", "").astype("string").fillna("").tolist()
    extents = elements.state(m).setdefault("extents", {})
    for code, name, level, bb in zip(b["code"].astype("string").fillna("").tolist(), names,
                                     levels[located].tolist(), bounds, strict=False):
        if code:
            extents[code] = {"bounds": tuple(float(v) for v in bb), "name": name, "level": level}


_SETTLEMENT_FIELDS = ("code", "tier", "county", "population", "designations", "coord_source")


def _settlement_facts(row: dict, tier: str, lang: str, county_names: dict) -> tuple[str, list]:
    """Popup title and values (in :data:`_SETTLEMENT_FIELDS` order) of one settlement, as plain text.

    The browser writes them with ``textContent`` (never parsed as HTML), labels once per layer.
    """
    nm = clean(row.get("name")) or ""
    title = f"{row['name_en']} {nm}" if lang == "en" and clean(row.get("name_en")) else str(nm)
    pop = clean(row.get("population"))
    pop_txt = fmt_num(pop) if pop is not None else text_of("unknown", lang)
    extra = []
    year = clean(row.get("population_year"))
    if year is not None and pop is not None:
        extra.append(fmt_year(year))
    if clean(row.get("population_kind")):
        extra.append(str(row["population_kind"]))
    if extra:
        pop_txt += f" ({', '.join(extra)})"
    des = clean(row.get("designations")) or ""
    des_txt = "; ".join(designation_label(d, lang) for d in str(des).split(";") if d.strip())
    cc = clean(row.get("county_code"))
    county = county_names.get(str(cc), cc) if cc is not None else None
    values = [row.get("code"), TIER_STYLES[tier][lang], county, pop_txt, des_txt or None, row.get("coord_source")]
    return title, [None if clean(v) is None or v == "" else str(v) for v in values]


def add_settlements(m: folium.Map, settlements: gpd.GeoDataFrame, *, tiers: Sequence[str] | None = None,  # noqa: PLR0913 (public API options)
                    label_tiers: Sequence[str] = ("central_city", "county_town"), name: str | None = None,
                    r_min: float = 3.0, r_max: float = 22.0, county_names: dict | None = None, show: bool = True,
                    legend: bool = True) -> dict[str, folium.FeatureGroup]:
    """Add tiered settlement symbols: one symbol per tier, sized by population (square-root scaling).

    Settlements without a point are not drawn; their number is written under the legend.

    Parameters
    ----------
    m : folium.Map
    settlements : geopandas.GeoDataFrame
        At least ``name``, ``tier`` and point geometry; ``code``, ``population``, ``designations``,
        ``county_code``, ``population_year``, ``coord_source``, ``name_en`` are shown when present.
    tiers : sequence of str, optional
        Tiers to draw (default: all present). Each tier is its own layer in the layer control.
    label_tiers : sequence of str
        Tiers with permanent name labels.
    r_min, r_max : float
        Symbol radius range in pixels for known populations.
    county_names : dict, optional
        County code -> name for popups.
    show : bool
        Layers visible on opening.
    legend : bool
        Add the tier legend.

    Returns
    -------
    dict
        Tier value -> folium.FeatureGroup.

    Examples
    --------
    >>> from bazhong_geo.maps import base_map
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> s = gpd.GeoDataFrame({"code": ["511900"], "name": ["巴城"], "tier": ["central_city"],
    ...                       "population": [608152.0]}, geometry=[Point(106.75, 31.86)], crs=4326)
    >>> sorted(add_settlements(base_map(), s))
    ['central_city']
    """
    st = elements.state(m)
    lang = st["lang"]
    if "tier" not in settlements.columns:
        raise MissingColumnError("settlements layer has no 'tier' column; expected one of "
                                 + ", ".join(TIER_STYLES))
    if settlements.crs is None:
        raise MissingCRSError("settlements layer has no CRS")
    located = located_mask(settlements)
    s = settlements[located].copy()
    s["_tier"] = tier_keys(settlements["tier"])[located].to_numpy()
    wanted = tier_keys(pd.Series(list(tiers) if tiers is not None else list(TIER_STYLES), dtype=object)).tolist()
    pop_max = _symbol_radii(s, r_min, r_max)
    disp = prepare_geometries(s, tolerance_m=0, coords=st["coords"])
    cols = [c for c in ("code", "name", "name_en", "population", "population_year", "population_kind",
                        "designations", "county_code", "coord_source") if c in disp.columns]
    rows = [{k: clean(v) for k, v in r.items()} for r in disp[cols].to_dict("records")]
    labels = [escape(n) for n in display_names(disp, lang)]
    priority = label_priority(disp["_tier"], disp["population"] if "population" in disp.columns else None)
    groups = {}
    # higher tiers sit on top (zIndexOffset); the layer control lists them from the central city down
    for z, t in enumerate(TIER_STYLES):
        sel = np.flatnonzero((disp["_tier"] == t).to_numpy())
        if t not in wanted or len(sel) == 0:
            continue
        sel = sel[np.argsort(-disp["_r"].to_numpy()[sel], kind="stable")]  # larger first: small ones stay clickable
        props = [_settlement_props(rows[i], labels[i], float(disp["_r"].iloc[i]), t, t in label_tiers, lang,
                                   county_names or {}) for i in sel]
        for i, p in zip(sel, props, strict=False):
            p["_lp"] = int(priority[i])
        groups[t] = add_data_layer(m, TIER_STYLES[t][lang], show, _tier_spec(disp.iloc[sel], props, t, z, lang))
    if legend:
        add_tier_legend(m, tiers=[t for t in TIER_STYLES if t in groups], n_unlocated=int((~located).sum()),
                        pop_max=pop_max, r_min=r_min, r_max=r_max)
    return groups


def label_priority(tiers: pd.Series, population: pd.Series | None) -> np.ndarray:
    """Rank of each settlement's label (0 placed first): by tier (central city first), then population (largest first).

    Parameters
    ----------
    tiers : pandas.Series
        Tier values (keys of :data:`TIER_STYLES`).
    population : pandas.Series, optional
        Populations (unknown last within a tier).

    Returns
    -------
    numpy.ndarray of int

    Examples
    --------
    >>> label_priority(pd.Series(["town", "central_city", "town"]), pd.Series([10, 5, 300])).tolist()
    [2, 0, 1]
    """
    order_of = {t: i for i, t in enumerate(TIER_STYLES)}
    tier_rank = tiers.map(order_of).to_numpy(dtype=float)
    pop = (pd.to_numeric(population, errors="coerce").to_numpy(dtype=float) if population is not None
           else np.full(len(tiers), np.nan))
    keys = np.lexsort((np.arange(len(tiers)), -np.nan_to_num(pop, nan=-1.0), tier_rank))
    rank = np.empty(len(tiers), dtype=int)
    rank[keys] = np.arange(len(tiers))
    return rank


def _symbol_radii(s: gpd.GeoDataFrame, r_min: float, r_max: float) -> float:
    """Set column ``_r`` (symbol radius: by population, else the tier's default); return the largest population."""
    pop = (pd.to_numeric(s["population"], errors="coerce") if "population" in s.columns
           else pd.Series(np.nan, index=s.index))
    pop_max = float(pop.max()) if pop.notna().any() else float("nan")
    radius = population_radius(pop.to_numpy(), pop_max=pop_max, r_min=r_min, r_max=r_max)
    default_r = s["_tier"].map(lambda t: TIER_STYLES[t]["radius"]).to_numpy(dtype=float)
    s["_r"] = np.round(np.where(np.isnan(radius), default_r, radius), 1)
    return pop_max


def _settlement_props(row: dict, label: str, radius: float, tier: str, permanent: bool, lang: str,
                      county_names: dict) -> dict:
    """Feature properties of one settlement: symbol, popup facts, permanent label or hover tooltip."""
    head, values = _settlement_facts(row, tier, lang, county_names)
    return {"_k": tier, "_r": radius, "_h": head, "_v": values, ("_l" if permanent else "_t"): label}


def _tier_spec(disp: gpd.GeoDataFrame, props: list[dict], tier: str, z: int, lang: str) -> dict:
    """The ``bz.layer`` spec of one tier: features, z-order, popup field names, symbol."""
    sty = TIER_STYLES[tier]
    return {"data": features(disp, props), "z": (len(TIER_STYLES) - z) * 10000,
            "fields": [text_of(f, lang) for f in _SETTLEMENT_FIELDS],
            "styles": {tier: {"shape": sty["shape"], "fillColor": sty["fill"], "color": "#222"}}}


def add_catchments(m: folium.Map, catchments: gpd.GeoDataFrame, *, name: str | None = None, tolerance_m: float = 30.0,  # noqa: PLR0913 (public API options)
                   label_col: str | None = None,
                   population_col: str | None = None, show: bool = True, legend: bool = False,
                   opacity: float = 0.35) -> folium.FeatureGroup:
    """Add catchment polygons, one qualitative colour per catchment, with the centre and the population served.

    Parameters
    ----------
    m : folium.Map
    catchments : geopandas.GeoDataFrame
        Polygons; a label column (``center_name``/``name``, or ``label_col``), and a population column
        (``population_served``/``population``, or ``population_col``) are shown when present.
    tolerance_m : float
        Simplification tolerance in metres (a coverage stays a coverage).
    legend : bool
        Add a categorical legend of the catchments.

    Returns
    -------
    folium.FeatureGroup

    Examples
    --------
    >>> from bazhong_geo.maps import base_map
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> c = gpd.GeoDataFrame({"name": ["巴城", "通江"], "population": [9e5, 5e5]},
    ...                      geometry=[box(106.5, 31.5, 107, 32), box(107, 31.5, 107.5, 32)], crs=4326)
    >>> fg = add_catchments(base_map(), c)
    """
    st = elements.state(m)
    lang = st["lang"]
    if len(catchments) == 0:
        raise EmptyInputError("catchments layer has no rows")
    disp = prepare_geometries(catchments, tolerance_m=tolerance_m, coords=st["coords"])
    label_col = label_col or _first_column(disp, ("center_name", "centre_name", "name"))
    population_col = population_col or _first_column(disp, ("population_served", "population"))
    code_col = _first_column(disp, ("center_code", "centre_code", "code"))
    codes = disp[code_col].astype("string").fillna("").tolist() if code_col else [None] * len(disp)
    labels = disp[label_col].astype("string").fillna("").tolist() if label_col else [str(i) for i in range(len(disp))]
    minutes = (pd.to_numeric(disp["minutes"], errors="coerce").to_numpy(dtype=float) if "minutes" in disp.columns
               else np.full(len(disp), np.nan))
    palette: dict[str, str] = {}
    for lab in labels:  # one colour per centre (network bands of a centre share it)
        palette.setdefault(lab, QUALITATIVE[len(palette) % len(QUALITATIVE)])
    keys = {lab: f"k{i}" for i, lab in enumerate(palette)}
    fill_opacity = opacity if "minutes" not in disp.columns else opacity * 0.6
    styles = {keys[lab]: {"color": "#555", "weight": 1, "fillColor": color, "fillOpacity": fill_opacity}
              for lab, color in palette.items()}
    areas = areas_km2(catchments, "area_km2")
    props = []
    for i, lab in enumerate(labels):
        band = f" ≤ {fmt_num(minutes[i])} min" if np.isfinite(minutes[i]) else ""
        rows = [(text_of("centre", lang), lab), (text_of("code", lang), codes[i]),
                (text_of("area", lang), f"{fmt_num(areas[i], 1)} km²" if np.isfinite(areas[i]) else None)]
        if band:
            rows.append(("min", band.strip(" ≤")))
        if population_col:
            rows.append((text_of("served", lang), fmt_num(disp[population_col].iloc[i])))
        props.append({"_k": keys[lab], "_t": escape(lab + band), "_p": popup_html(lab + band, rows)})
    order = np.argsort(-np.nan_to_num(minutes, nan=0.0), kind="stable")  # larger bands first: nearer ones on top
    fg = add_data_layer(m, name or text_of("catchments", lang), show,
                        {"data": features(disp.iloc[order], [props[i] for i in order]), "styles": styles})
    if legend:
        add_categorical_legend(m, name or text_of("catchments", lang), list(palette.items()))
    return fg


def _first_column(gdf: pd.DataFrame, names: Sequence[str]) -> str | None:
    """The first of ``names`` that is a column of ``gdf``."""
    return next((c for c in names if c in gdf.columns), None)


def add_builtup(m: folium.Map, builtup: gpd.GeoDataFrame, *, name: str | None = None, tolerance_m: float = 10.0,
                color: str = "#d35400",
                show: bool = True) -> folium.FeatureGroup:
    """Add built-up extents (polygons) with their area in km² in the tooltip.

    Returns
    -------
    folium.FeatureGroup

    Examples
    --------
    >>> from bazhong_geo.maps import base_map
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> b = gpd.GeoDataFrame({"name": ["巴城"]}, geometry=[box(106.70, 31.83, 106.80, 31.89)], crs=4326)
    >>> fg = add_builtup(base_map(), b)
    """
    st = elements.state(m)
    lang = st["lang"]
    check_color(color)
    if len(builtup) == 0:
        raise EmptyInputError("built-up layer has no rows")
    disp = prepare_geometries(builtup, tolerance_m=tolerance_m, coords=st["coords"])
    areas = areas_km2(builtup, "builtup_km2")
    names = display_names(disp, lang)
    props = []
    for nm, a in zip(names, areas, strict=False):
        txt = f"{text_of('builtup', lang)} {fmt_num(a, 2)} km²"
        props.append({"_k": "b", "_t": (escape(nm) + " · " if nm else "") + escape(txt)})
    return add_data_layer(m, name or text_of("builtup", lang), show, {
        "data": features(disp, props),
        "styles": {"b": {"color": color, "weight": 1, "fillColor": color, "fillOpacity": 0.45}}})

def add_designated(m: folium.Map, settlements: gpd.GeoDataFrame, *, name: str | None = None, show: bool = True,
                   color: str = "#f1c40f") -> folium.FeatureGroup | None:
    """Add a ring around every settlement that holds a designation (``designations`` not empty).

    Returns
    -------
    folium.FeatureGroup or None
        None when no located settlement holds a designation.

    Examples
    --------
    >>> from bazhong_geo.maps import base_map
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> s = gpd.GeoDataFrame({"name": ["长赤镇"], "designations": ["national_key_town"]},
    ...                      geometry=[Point(106.9, 32.2)], crs=4326)
    >>> fg = add_designated(base_map(), s)
    """
    st = elements.state(m)
    lang = st["lang"]
    check_color(color)
    if "designations" not in settlements.columns:
        raise MissingColumnError("settlements have no 'designations' column (';'-joined keys)")
    des = settlements["designations"].fillna("").astype(str).str.strip()
    sel = settlements[(des != "") & located_mask(settlements)]
    if len(sel) == 0:
        return None
    disp = prepare_geometries(sel, tolerance_m=0, coords=st["coords"])
    names = display_names(disp, lang)
    props = []
    for nm, d in zip(names, disp["designations"].fillna("").astype(str), strict=False):
        labels = "; ".join(designation_label(x, lang) for x in d.split(";") if x.strip())
        props.append({"_k": "d", "_r": 11, "_t": f"{escape(nm)}: {escape(labels)}"})
    return add_data_layer(m, name or text_of("designated", lang), show, {
        "data": features(disp, props), "z": -50000,
        "styles": {"d": {"shape": "ring", "fillColor": color, "color": color}}})


_VERDICT_STATE = {"qualifies": "y", "does not qualify": "n", "incomplete": "u", "pass": "y", "fail": "n",
                  "no_data": "u"}


def add_candidates(m: folium.Map, candidates: gpd.GeoDataFrame, *, pass_col: str | None = None,
                   reasons_col: str | None = None,
                   name: str | None = None, show: bool = True, legend: bool = True) -> folium.FeatureGroup:
    """Add designation candidates: green circle = passes, red cross = fails, grey square = data incomplete.

    Candidates without a point are not drawn; their number is written under the legend.

    Parameters
    ----------
    candidates : geopandas.GeoDataFrame
        Points with either a pass/fail column (``passed``/``pass``/``eligible``/``meets_criteria`` or
        ``pass_col``: True, False, or empty = incomplete) or the ``verdict`` column of
        :func:`bazhong_geo.designation.check` ("qualifies" / "does not qualify" / "incomplete"); optionally
        reasons (``reasons``/``reasons_zh`` or ``reasons_col``: text or list of text).

    Returns
    -------
    folium.FeatureGroup

    Examples
    --------
    >>> from bazhong_geo.maps import base_map
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> c = gpd.GeoDataFrame({"name": ["甲镇", "乙镇"], "passed": [True, False], "reasons": ["", "人口不足"]},
    ...                      geometry=[Point(106.9, 32.2), Point(107.1, 31.9)], crs=4326)
    >>> fg = add_candidates(base_map(), c)
    """
    st = elements.state(m)
    lang = st["lang"]
    pass_col = pass_col or next((c for c in ("passed", "pass", "eligible", "meets_criteria", "ok", "verdict")
                                 if c in candidates.columns), None)
    if pass_col is None:
        raise MissingColumnError("candidates need a pass/fail column: passed, pass, eligible, meets_criteria or "
                                 "verdict (or give pass_col=...)")
    reasons_col = reasons_col or next((c for c in ("reasons", "reason", "failed_criteria",
                                                   "reasons_en" if lang == "en" else "reasons_zh")
                                       if c in candidates.columns), None)
    located = located_mask(candidates)
    sel = candidates[located]
    disp = prepare_geometries(sel, tolerance_m=0, coords=st["coords"])
    names = display_names(disp, lang)
    states = [_candidate_state(v) for v in disp[pass_col].tolist()]
    label = {"y": text_of("passed", lang), "n": text_of("failed", lang), "u": text_of("incomplete", lang)}
    props = []
    for i, nm in enumerate(names):
        reasons = disp[reasons_col].iloc[i] if reasons_col else None
        if isinstance(reasons, (list, tuple, np.ndarray)):
            reasons = "; ".join(map(str, reasons))
        rows = [(text_of("code", lang), disp["code"].iloc[i] if "code" in disp.columns else None),
                (text_of("status", lang), label[states[i]]),
                (text_of("reasons", lang), clean(reasons))]
        props.append({"_k": states[i], "_r": 8, "_t": escape(nm), "_p": popup_html(nm, rows)})
    fg = add_data_layer(m, name or text_of("candidates", lang), show,
                        {"data": features(disp, props), "z": 100000, "styles": _CANDIDATE_STYLES})
    if legend:
        items = [(label[s], _CANDIDATE_STYLES[s]["fillColor"], _CANDIDATE_STYLES[s]["shape"])
                 for s in ("y", "n", "u") if s != "u" or s in states]
        n_unlocated = int((~located).sum())
        note = text_of("candidates_not_located", lang).format(n=f"{n_unlocated:,}") if n_unlocated else None
        add_categorical_legend(m, name or text_of("candidates", lang), items, note=note)
    return fg


_CANDIDATE_STYLES = {"y": {"shape": "circle", "fillColor": "#27ae60", "color": "#145a32"},
                     "n": {"shape": "cross", "fillColor": "#c0392b", "color": "#c0392b"},
                     "u": {"shape": "square", "fillColor": "#9e9e9e", "color": "#424242"}}


def _candidate_state(value) -> str:
    """"y" (passes), "n" (fails) or "u" (incomplete) of a pass/fail value or a designation verdict."""
    v = clean(value)
    if v is None:
        return "u"
    if not isinstance(v, str):
        return "y" if bool(v) else "n"
    state = _VERDICT_STATE.get(v.strip().lower())
    if state is None:
        raise BazhongGeoError(f"candidate status {v!r} unknown; use True/False or "
                              "qualifies / does not qualify / incomplete")
    return state
