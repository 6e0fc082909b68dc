"""The meeting map's inputs: the computing half of ``bazhong-geo map``, kept out of :mod:`bazhong_geo.maps`.

Maps draw what they are given; this module computes what the meeting map shows — the county-town
catchments and the plan's progress table — and collects, as notes, the parts that could not be made
from the data (a typed :class:`~bazhong_geo._errors.BazhongGeoError`) and the warnings of the progress
table. Programming errors are not caught.

>>> from bazhong_geo import load_bazhong, maps
>>> region = load_bazhong()
>>> inputs = build_meeting_inputs(region, as_of=2020)
>>> inputs.notes, len(inputs.catchments) > 0, "status" in inputs.progress.columns
([], True, True)
>>> m = maps.meeting_map(region, progress=inputs.progress, catchments=inputs.catchments)
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from . import catchments, targets
from ._errors import BazhongGeoError, EmptyInputError
from .maps.compose import region_parts
from .maps.geometry import located_mask
from .maps.style import tier_keys

if TYPE_CHECKING:
    from .datasets import Region

__all__ = ["CATCHMENT_METHODS", "MeetingInputs", "build_meeting_inputs", "county_town_catchments", "plan_progress"]

CATCHMENT_METHODS = ("voronoi", "network")
"""How the meeting map's county-town catchments can be made."""


@dataclass
class MeetingInputs:
    """What the meeting map shows besides the region: catchments, the progress table, and notes.

    Attributes
    ----------
    progress : pandas.DataFrame or None
        Progress table for the panel (None: left out).
    catchments : geopandas.GeoDataFrame or None
        County-town catchments (None: left out).
    notes : list of str
        One line per part left out and per warning of the progress table.
    """

    progress: pd.DataFrame | None = None
    catchments: gpd.GeoDataFrame | None = None
    notes: list[str] = field(default_factory=list)


def county_town_catchments(region: Region | Mapping[str, Any], *, method: str = "voronoi",
                           roads: gpd.GeoDataFrame | None = None,
                           minutes: Sequence[float] = (30, 60)) -> gpd.GeoDataFrame:
    """Catchments of the central city and the county towns (巴城 + 县城), clipped to the prefecture.

    Uses :mod:`bazhong_geo.catchments` (``voronoi`` or ``network`` with a road layer). The central city
    and county towns are treated as one tier of centres.

    Parameters
    ----------
    region : Region or dict
        With ``settlements`` (tiers) and ``boundaries`` (or a ``prefecture`` polygon).
    method : {"voronoi", "network"}
        Thiessen polygons, or travel-time bands over ``roads``.
    roads : geopandas.GeoDataFrame, optional
        Road lines, needed for ``method="network"``.
    minutes : sequence of float
        Travel-time bands of the network method.

    Returns
    -------
    geopandas.GeoDataFrame

    Raises
    ------
    BazhongGeoError
        Unknown method, or the network method without roads.
    EmptyInputError
        No located central city or county town.

    Examples
    --------
    >>> from bazhong_geo import load_bazhong
    >>> c = county_town_catchments(load_bazhong())
    >>> len(c) > 0
    True
    """
    _check_method(method, roads)
    boundaries, s, _ = region_parts(region)
    if s is None or len(s) == 0:
        raise EmptyInputError("the region has no settlements to build catchments from")
    tiers = tier_keys(s["tier"])
    centres = s[tiers.isin(["central_city", "county_town"]).to_numpy() & located_mask(s)].copy()
    if len(centres) == 0:
        raise EmptyInputError("no located central city or county town to build catchments from")
    centres["tier"] = "county_town"
    centres["parent_code"] = None
    within = getattr(region, "prefecture", None)
    if within is None and boundaries is not None and "level" in boundaries.columns:
        pref = boundaries[boundaries["level"] == "prefecture"]
        within = pref if len(pref) else boundaries.dissolve()
    if method == "voronoi":
        return catchments.voronoi(centres, "county_town", within=within, duplicates="merge")
    return catchments.network(centres, "county_town", roads, minutes=tuple(minutes), within=within)


def plan_progress(plan: str = "plan_2020", as_of: int | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Return the plan's progress table and its warnings as notes (e.g. ``as_of`` after a target year).

    Parameters
    ----------
    plan : str
        Plan name (see :func:`bazhong_geo.targets.progress`).
    as_of : int, optional
        Assessment year (default: the targets module's default).

    Returns
    -------
    (pandas.DataFrame, list of str)

    Examples
    --------
    >>> table, notes = plan_progress(as_of=2020)
    >>> notes, len(table) > 0
    ([], True)
    """
    notes = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        table = targets.progress(plan, **({"as_of": as_of} if as_of is not None else {}))
    for w in caught:  # ours (e.g. as_of after a target year) go with the map's notes; others are re-raised
        if issubclass(w.category, UserWarning):
            notes.append(f"progress panel: {w.message}")
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return table, notes


def build_meeting_inputs(region: Region | Mapping[str, Any], *, progress: str | pd.DataFrame | None = "auto",
                         catchments: str | gpd.GeoDataFrame | None = "voronoi", roads: gpd.GeoDataFrame | None = None,
                         as_of: int | None = None, plan: str = "plan_2020") -> MeetingInputs:
    """Compute what the meeting map shows: county-town catchments and the plan's progress table.

    A part the data cannot give (a typed :class:`~bazhong_geo._errors.BazhongGeoError`, e.g. no located
    county town) is left out with a note; a wrong argument raises.

    Parameters
    ----------
    region : Region or dict
        From ``load_bazhong()``, or a dict with ``boundaries`` and ``settlements``.
    progress : "auto", DataFrame or None
        "auto" computes :func:`plan_progress` of ``plan`` at ``as_of``; a DataFrame is used as given.
    catchments : {"voronoi", "network"}, GeoDataFrame or None
        How to make the county-town catchments (:func:`county_town_catchments`), or the layer itself.
    roads : geopandas.GeoDataFrame, optional
        Road lines for ``catchments="network"``.
    as_of : int, optional
        Assessment year of the progress table.
    plan : str
        Plan whose targets are assessed.

    Returns
    -------
    MeetingInputs

    Raises
    ------
    BazhongGeoError
        An unknown catchment method, or ``"network"`` without roads.

    Examples
    --------
    >>> from bazhong_geo import load_bazhong
    >>> inputs = build_meeting_inputs(load_bazhong(), progress=None, catchments=None)
    >>> inputs.progress is None and inputs.catchments is None and inputs.notes == []
    True
    """
    if isinstance(catchments, str):
        _check_method(catchments, roads)
    inputs = MeetingInputs()
    if isinstance(progress, pd.DataFrame):
        inputs.progress = progress
    elif progress == "auto":
        try:
            inputs.progress, warned = plan_progress(plan, as_of)
            inputs.notes.extend(warned)
        except BazhongGeoError as exc:
            inputs.notes.append(f"progress panel left out: {type(exc).__name__}: {exc}")
    elif progress is not None:
        raise BazhongGeoError(f"progress={progress!r}: give 'auto', a progress table or None")
    if isinstance(catchments, str):
        try:
            inputs.catchments = county_town_catchments(region, method=catchments, roads=roads)
        except BazhongGeoError as exc:
            inputs.notes.append(f"catchments left out: {type(exc).__name__}: {exc}")
    else:
        inputs.catchments = catchments
    return inputs


def _check_method(method: str, roads) -> None:
    """Raise for an unknown catchment method or the network method without roads."""
    if method not in CATCHMENT_METHODS:
        raise BazhongGeoError(f"catchment method {method!r}: use 'voronoi' or 'network'")
    if method == "network" and roads is None:
        raise BazhongGeoError("catchments='network' needs a road layer (CLI: --roads FILE)")
