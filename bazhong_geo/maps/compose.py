"""Composed meeting maps: settlement, progress, catchment and meeting maps, drawn from what they are given.

These functions compute nothing: catchments and the progress table are computed by the caller
(:func:`bazhong_geo.meeting.build_meeting_inputs` does it for the meeting map) and passed in.

>>> import geopandas as gpd
>>> from shapely.geometry import Point, box
>>> region = {"boundaries": gpd.GeoDataFrame({"name": ["巴中市"], "level": ["prefecture"]},
...                                          geometry=[box(106.3, 31.3, 107.8, 32.8)], crs=4326),
...           "settlements": gpd.GeoDataFrame({"name": ["巴城"], "tier": ["巴城"]},
...                                           geometry=[Point(106.75, 31.86)], crs=4326)}
>>> type(meeting_map(region, lang="en")).__name__
'Map'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import elements
from .base import add_layer_control, add_title, base_map, fit_bounds
from .choropleth import add_choropleth
from .layers import add_boundaries, add_builtup, add_candidates, add_catchments, add_designated, add_settlements
from .markup import escape, script_json
from .panel import add_progress_panel
from .raster import add_raster
from .style import display_names, text_of

if TYPE_CHECKING:
    import os

    import folium
    import geopandas as gpd

    from ..datasets import Region

__all__ = ["catchment_map", "meeting_map", "progress_map", "region_parts", "settlement_map"]


def region_parts(region: Region | Mapping[str, Any]) -> tuple:
    """Return (boundaries, settlements, provenance) of a Region or a dict-like (None for a part it lacks).

    Parameters
    ----------
    region : Region or dict
        ``load_bazhong()`` or ``{"boundaries": ..., "settlements": ..., "provenance": ...}``.

    Returns
    -------
    tuple

    Examples
    --------
    >>> region_parts({"boundaries": None})
    (None, None, None)
    """
    get = (region.get) if isinstance(region, dict) else (lambda k: getattr(region, k, None))
    return get("boundaries"), get("settlements"), get("provenance")


def _titled(kwargs: dict, key: str) -> dict:
    """``kwargs`` with the default title ``key`` (in ``kwargs["lang"]``) when none is given."""
    if kwargs.get("title") is None:
        kwargs["title"] = text_of(key, kwargs.get("lang", "zh"))
    return kwargs


_MAP_LAYERS = ("county_boundaries", "county_seats", "geonames_points", "township_village_codes", "census_2020",
               "central_city_population", "plan_targets")


def _attribution(provenance, layers: Sequence[str] | None = _MAP_LAYERS) -> str | None:
    """Short attribution line: the first clause of each drawn layer's attribution, de-duplicated."""
    if provenance is None or len(provenance) == 0 or "attribution" not in provenance.columns:
        return None
    rows = provenance
    if layers is not None and "layer" in provenance.columns and provenance["layer"].isin(layers).any():
        rows = provenance[provenance["layer"].isin(layers)]
    seen: list[str] = []
    for a in rows["attribution"].dropna().astype(str):
        first = a.split(";")[0].strip()
        if first and first not in seen:
            seen.append(first)
    return " · ".join(seen) if seen else None


def settlement_map(region: Region | Mapping[str, Any], *, title: str | None = None, subtitle: str | None = None,  # noqa: PLR0913 (public API options)
                   basemap: str = "none", tianditu_key: str | None = None, lang: str = "zh",
                   tiers: Sequence[str] | None = None, label_tiers: Sequence[str] = ("central_city", "county_town"),
                   catchments: gpd.GeoDataFrame | None = None, builtup: gpd.GeoDataFrame | None = None,
                   raster: str | os.PathLike | None = None, candidates: gpd.GeoDataFrame | None = None,
                   choropleth: dict | None = None, progress: pd.DataFrame | None = None, designated: bool = True,
                   tolerance_m: float = 30.0, note: str | None = None) -> folium.Map:
    """Return the meeting map of the settlement system: boundaries, tiered settlements and optional layers.

    Parameters
    ----------
    region : Region or dict
        Object with ``boundaries`` and ``settlements`` GeoDataFrames (``load_bazhong()``); ``provenance``
        is used for the attribution line when present.
    title, subtitle : str, optional
        Title block (default: 巴中市城乡体系 / Bazhong settlement system).
    basemap : {"none", "osm", "tianditu", "amap"}
        Background tiles; "none" (default) works offline.
    tianditu_key : str, optional
        Key for ``basemap="tianditu"``.
    lang : {"zh", "en"}
        Language of labels and legends.
    tiers, label_tiers : sequence of str
        Tiers drawn and tiers with permanent labels.
    catchments, builtup, candidates : GeoDataFrame, optional
        Extra layers (see :func:`add_catchments`, :func:`add_builtup`, :func:`add_candidates`).
    raster : path, optional
        Raster overlay (see :func:`add_raster`).
    choropleth : dict, optional
        Keyword arguments of :func:`add_choropleth` with ``gdf`` and ``column`` (e.g. counties by urban share).
    progress : DataFrame, optional
        Progress table for the panel (see :func:`add_progress_panel`).
    designated : bool
        Ring the settlements holding a designation.
    tolerance_m : float
        Polygon simplification tolerance in metres.

    Returns
    -------
    folium.Map

    Examples
    --------
    >>> from bazhong_geo import load_bazhong      # doctest: +SKIP
    >>> m = settlement_map(load_bazhong())        # doctest: +SKIP
    >>> save(m, "bazhong.html")                   # doctest: +SKIP
    """
    boundaries, settlements, provenance = region_parts(region)
    m = base_map(None, basemap=basemap, tianditu_key=tianditu_key, lang=lang)
    add_title(m, title or text_of("title_settlement", lang), subtitle)
    if choropleth:
        kw = dict(choropleth)
        add_choropleth(m, kw.pop("gdf"), kw.pop("column"), tolerance_m=tolerance_m, **kw)
    county_names = _add_boundaries(m, boundaries, lang, tolerance_m)
    _add_areas(m, raster=raster, builtup=builtup, catchments=catchments, tolerance_m=tolerance_m)
    if settlements is not None and len(settlements):
        if designated and "designations" in settlements.columns:
            add_designated(m, settlements)
        add_settlements(m, settlements, tiers=tiers, label_tiers=label_tiers, county_names=county_names)
    if candidates is not None:
        add_candidates(m, candidates)
    if progress is not None:
        add_progress_panel(m, progress, note=note)
    add_layer_control(m, position="topleft")
    _fit(m, boundaries if boundaries is not None and len(boundaries) else settlements, lang, progress is not None)
    _add_attribution(m, provenance)
    return m


def _add_boundaries(m, boundaries, lang: str, tolerance_m: float) -> dict:
    """Draw the boundaries (when given); return county code -> display name for the settlement popups."""
    if boundaries is None or len(boundaries) == 0:
        return {}
    add_boundaries(m, boundaries, tolerance_m=tolerance_m)
    if "code" not in boundaries.columns:
        return {}
    return dict(zip(boundaries["code"].astype(str), display_names(boundaries, lang), strict=False))


def _add_areas(m, *, raster, builtup, catchments, tolerance_m: float) -> None:
    """Draw the area layers that are given, raster lowest."""
    if raster is not None:
        add_raster(m, raster)
    if builtup is not None:
        add_builtup(m, builtup)
    if catchments is not None:
        add_catchments(m, catchments, tolerance_m=tolerance_m)


def _fit(m, extent, lang: str, with_panel: bool) -> None:
    """Fit the view to ``extent``, clear of the title (left) and of the progress panel (right) when there is one."""
    if extent is None or len(extent) == 0:
        return
    right = (540 if lang == "en" else 460) if with_panel else 20
    fit_bounds(m, extent, padding_top_left=(190, 20), padding_bottom_right=(right, 20))


def _add_attribution(m, provenance) -> None:
    """Add the sources of the drawn layers to Leaflet's attribution line."""
    attribution = _attribution(provenance)
    if attribution:
        elements.state(m)["sources"] = attribution
        elements.Raw(f"__MAP__.attributionControl.addAttribution({script_json(escape(attribution))});").add_to(m)


def progress_map(region: Region | Mapping[str, Any], progress: pd.DataFrame, **kwargs: Any) -> folium.Map:
    """Return the meeting map with the progress panel listing every target (see :func:`settlement_map`).

    Parameters
    ----------
    region : Region or dict
    progress : pandas.DataFrame
        Progress table (columns as in :func:`add_progress_panel`).
    **kwargs
        Passed to :func:`settlement_map` (catchments, lang, basemap, ...).

    Returns
    -------
    folium.Map

    Examples
    --------
    >>> from bazhong_geo import load_bazhong, targets              # doctest: +SKIP
    >>> m = progress_map(load_bazhong(), targets.progress("plan_2020"))  # doctest: +SKIP
    """
    return settlement_map(region, progress=progress, **_titled(kwargs, "title_progress"))


def catchment_map(region: Region | Mapping[str, Any], catchments: gpd.GeoDataFrame,
                  **kwargs: Any) -> folium.Map:
    """Return the meeting map of catchments over the settlement system (see :func:`settlement_map`).

    Returns
    -------
    folium.Map

    Examples
    --------
    >>> from bazhong_geo import load_bazhong, catchments           # doctest: +SKIP
    >>> region = load_bazhong()                                     # doctest: +SKIP
    >>> m = catchment_map(region, catchments.voronoi(region.system, "county_town"))  # doctest: +SKIP
    """
    return settlement_map(region, catchments=catchments, **_titled(kwargs, "title_catchment"))


def meeting_map(region: Region | Mapping[str, Any], *, progress: pd.DataFrame | None = None,  # noqa: PLR0913 (public API options)
                catchments: gpd.GeoDataFrame | None = None, raster: str | os.PathLike | None = None,
                basemap: str = "none", tianditu_key: str | None = None, lang: str = "zh", as_of: int | None = None,
                title: str | None = None) -> folium.Map:
    """Return the meeting map: settlements, boundaries, and the catchments and progress panel it is given.

    Draws only what it is given: without ``progress`` there is no panel, without ``catchments`` no
    catchment layer. :func:`bazhong_geo.meeting.build_meeting_inputs` computes both (county-town
    catchments, the plan's progress table) the way ``bazhong-geo map`` does.

    Parameters
    ----------
    region : Region or dict
        From ``load_bazhong()``.
    progress : pandas.DataFrame, optional
        Progress table for the panel (see :func:`~bazhong_geo.maps.panel.add_progress_panel`).
    catchments : geopandas.GeoDataFrame, optional
        Catchment polygons to draw.
    raster : path, optional
        Built-up raster overlay.
    basemap, tianditu_key, lang, title
        See :func:`settlement_map`.
    as_of : int, optional
        Assessment year shown in the subtitle when the progress table has no ``as_of`` column.

    Returns
    -------
    folium.Map

    Examples
    --------
    >>> from bazhong_geo import load_bazhong
    >>> from bazhong_geo.meeting import build_meeting_inputs
    >>> region = load_bazhong()                                          # doctest: +SKIP
    >>> inputs = build_meeting_inputs(region, as_of=2020)                # doctest: +SKIP
    >>> m = meeting_map(region, progress=inputs.progress, catchments=inputs.catchments)  # doctest: +SKIP
    """
    kwargs = {"catchments": catchments, "raster": raster, "basemap": basemap, "tianditu_key": tianditu_key,
              "lang": lang, "title": title}
    if progress is None:
        return settlement_map(region, **kwargs)
    year = _assessment_year(progress, as_of)
    subtitle = (f"评估年份 {year}" if lang == "zh" else f"as of {year}") if year else None
    return progress_map(region, progress, subtitle=subtitle, **kwargs)


def _assessment_year(progress: pd.DataFrame, as_of: int | None) -> int | None:
    """The table's latest ``as_of`` year, else ``as_of``."""
    if "as_of" not in progress.columns:
        return as_of
    years = pd.to_numeric(progress["as_of"], errors="coerce")
    return int(years.max()) if years.notna().any() else as_of
