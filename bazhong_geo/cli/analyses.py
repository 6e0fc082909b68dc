"""Analysis commands with deliverables: ``builtup``, ``catchments`` and ``gaps``.

Each command reads its layers through a :class:`~bazhong_geo.cli.session.Session` (options or the workspace),
calls the public analysis functions, and writes the result by extension with
:func:`bazhong_geo.writers.write_table` (``.xlsx`` with a sources sheet, ``.csv`` with BOM, ``.gpkg`` styled for
QGIS, ``.shp``). The option plumbing of each command is in one function (``*_options``) so that new parameters of
the analysis functions are added in one place.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import vocabulary, writers
from .common import UsageError, echo, int_list, note, word_list
from .layers import add_column_options, add_workspace_options
from .session import Session

GEO_SUFFIXES = (".gpkg", ".shp", ".geojson")


# =============================================================================================== shared

def captured(func: Any, *a: Any, **kw: Any) -> Any:
    """Call ``func``; the warnings it raises are printed as notes (never lost, never a traceback)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = func(*a, **kw)
    for w in caught:
        note(str(w.message))
    return result


def deliver(table: Any, path: str | Path, session: Session, *, style: dict | None = None) -> Path:
    """Write ``table`` by extension with the session's language and sources; print what was written."""
    path = Path(path)
    if path.suffix.lower() not in GEO_SUFFIXES and hasattr(table, "geometry") and "geometry" in table.columns:
        geom = table.geometry
        if not (geom.geom_type.dropna() == "Point").all():
            table = pd.DataFrame(table.drop(columns=table.geometry.name))
    result = writers.write_table(table, path, lang=session.lang, sources=session.sources, style=style)
    for n in result.notes:
        note(n)
    if result.field_names:
        note("Shapefile field names: " + ", ".join(f"{k} -> {v}" for k, v in result.field_names.items()))
    echo(f"wrote {result.path}")
    return result.path


def select_facilities(settlements: Any, words: list[str]) -> Any:
    """Settlements whose tier, or one of whose designations, is one of ``words``.

    The words are tiers or designation keys, English or Chinese (``county_town``, ``key_town``, 县城, 重点镇); a
    key_town also selects its national/provincial/municipal kinds.
    """
    from ..settlements import Tier

    tiers, keys = set(), set()
    for w in words:
        designation = vocabulary.designation_of_word(w)
        if designation is not None and vocabulary.DESIGNATIONS[designation].tier is None:
            keys.add(designation)
            continue
        try:
            tiers.add(Tier.parse(w).value)
        except ValueError:
            if designation is None:
                tiers_text = ", ".join(t.value for t in Tier)
                raise UsageError(f"--tiers {w!r}: not a tier or a designation; tiers: {tiers_text}; designations: "
                                 f"{', '.join(vocabulary.DESIGNATIONS)}") from None
            keys.add(designation)
    held = settlements.get("designations", pd.Series([None] * len(settlements), index=settlements.index))
    parts = held.fillna("").astype(str).str.split(";")
    by_designation = parts.map(lambda ps: any(p.strip() in keys or any(p.strip().endswith("_" + k) for k in keys)
                                              for p in ps if p.strip()))
    chosen = settlements[settlements["tier"].isin(tiers) | by_designation]
    if chosen.empty:
        raise UsageError(f"--tiers {','.join(words)}: no settlement of these tiers or designations; tiers present: "
                         f"{sorted(settlements['tier'].dropna().unique().tolist())}")
    return chosen


# =============================================================================================== builtup

def add_builtup_command(sub: Any) -> None:
    """``builtup``: built-up km² per zone from a land-cover raster."""
    p = sub.add_parser("builtup", help="built-up km² per zone (township) from a land-cover raster (建设用地面积)")
    p.add_argument("--zones", metavar="FILE", help="zone polygons (default: the workspace's township boundaries)")
    p.add_argument("--raster", metavar="FILE", help="land-cover GeoTIFF (default: the workspace's [[landcover]])")
    p.add_argument("--classes", metavar="LIST", help="built-up class values, e.g. 50 (ESA WorldCover)")
    p.add_argument("--year", type=int, help="land-cover year of the workspace (default: the latest)")
    p.add_argument("--out", metavar="FILE", help="output .xlsx/.csv/.gpkg/.shp (default: outputs/builtup.xlsx)")
    p.add_argument("--lang", choices=["zh", "en"], help="headers (default: the workspace's, else zh)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="run partitioned by tile on a local Dask cluster of N worker processes (--raster may be a "
                        "VRT of tiles); same numbers as the single-process run")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run on an existing Dask scheduler (tcp://host:8786)")
    add_column_options(p)
    add_workspace_options(p)
    p.set_defaults(func=cmd_builtup)


def builtup_table(session: Session, args: Any) -> Any:
    """The zones with ``builtup_km2``, ``zone_km2``, ``share`` and ``valid_share`` (one row per zone)."""
    from .. import builtup

    zones = session.boundaries(args.zones, level="township", option="--zones")
    raster, classes, _ = session.landcover(args.raster, int_list(args.classes, "--classes", "50"),
                                           getattr(args, "year", None))
    workers, scheduler = getattr(args, "workers", None), getattr(args, "scheduler", None)
    if workers is not None and workers < 1:
        raise UsageError(f"--workers {workers}: give a positive number of worker processes, e.g. --workers 2")
    if workers or scheduler:
        from .. import distributed

        client = distributed.client_from_options(workers, scheduler)
        try:
            mosaic = raster if str(raster).lower().endswith(".vrt") else [raster]   # one GeoTIFF: a mosaic of one tile
            table = captured(distributed.builtup_by_zone, mosaic, zones, classes=classes, id_col="code",
                             client=client, progress=False)
        finally:
            client.close()
        echo(f"computed on Dask ({scheduler or f'{workers} local worker(s)'}), partitioned by tile")
    else:
        table = captured(builtup.area_by_zone, raster, zones, classes=classes, id_col="code")
    return zones[["code", "name", "geometry"]].merge(table, on="code", how="left")


def cmd_builtup(args: Any) -> int:
    """Built-up km² per zone, written by extension."""
    session = Session(args)
    out = builtup_table(session, args)
    total = float(out["builtup_km2"].sum())
    echo(f"built-up area in {len(out)} zone(s): {total:,.3f} km² in all")
    for r in out.itertuples(index=False):
        echo(f"  {r.code} {r.name}: {r.builtup_km2:,.3f} km² of {r.zone_km2:,.2f} km² ({r.share:.1%})")
    deliver(out, args.out or session.output("builtup.xlsx"), session,
            style={"column": "builtup_km2", "classes": 5})
    return 0


# =============================================================================================== catchments

def add_catchments_command(sub: Any) -> None:
    """``catchments``: radius, Voronoi or road-network catchments of a tier."""
    p = sub.add_parser("catchments", help="catchments of the county towns (or another tier): radius, voronoi or "
                                          "network time bands (服务范围)")
    p.add_argument("--method", choices=["radius", "voronoi", "network"], default="voronoi")
    p.add_argument("--settlements", metavar="FILE", help="settlement points (default: the workspace's)")
    p.add_argument("--tiers", default="county_town", metavar="LIST",
                   help="tiers or designations served from (default county_town), e.g. county_town,key_town")
    p.add_argument("--roads", metavar="FILE", help="road lines for --method network (default: the workspace's)")
    p.add_argument("--minutes", default="15,30,60", metavar="LIST", help="time bands for network (default 15,30,60)")
    p.add_argument("--radius-km", type=float, help="radius for --method radius (default: the tier's table)")
    p.add_argument("--zones", metavar="FILE", help="clip to these zones (default: the workspace's boundaries)")
    p.add_argument("--out", metavar="FILE", help="output .gpkg/.shp/.xlsx/.csv (default: outputs/catchments.gpkg)")
    p.add_argument("--lang", choices=["zh", "en"], help="headers (default: the workspace's, else zh)")
    add_column_options(p)
    add_workspace_options(p)
    p.set_defaults(func=cmd_catchments)


def catchment_layer(session: Session, args: Any, facilities: Any, minutes: list[int]) -> Any:
    """Call the catchment method chosen by ``args.method`` with its options (the one place they are plumbed)."""
    from .. import catchments

    tiers = sorted(set(facilities["tier"].dropna()))
    zones = session.boundaries(getattr(args, "zones", None), level="township", required=False, embedded=False)
    within = zones if zones is not None and len(zones) else None
    if args.method == "radius":
        radii = None if args.radius_km is None else float(args.radius_km) * 1000.0
        return captured(catchments.radius, facilities, tiers, radii=radii)
    if args.method == "voronoi":
        return captured(catchments.voronoi, facilities, tiers, within=within, duplicates="merge")
    roads, speeds = session.roads(getattr(args, "roads", None))
    return captured(catchments.network, facilities, tiers, roads, minutes=tuple(minutes),
                    class_col="road_class" if "road_class" in roads.columns else None, speeds=speeds,
                    within=within, duplicates="merge")


def cmd_catchments(args: Any) -> int:
    """Catchments written by extension."""
    session = Session(args)
    minutes = int_list(args.minutes, "--minutes")
    settlements = session.settlements(args.settlements)
    facilities = select_facilities(settlements, word_list(args.tiers))
    layer = catchment_layer(session, args, facilities, minutes)
    echo(f"{args.method} catchments of {len(facilities)} settlement(s) ({args.tiers}): {len(layer)} polygon(s)")
    deliver(layer, args.out or session.output("catchments.gpkg"), session, style={"column": "area_km2", "classes": 5})
    return 0


# =============================================================================================== gaps

def add_gaps_command(sub: Any) -> None:
    """``gaps``: land and people beyond every chosen facility, per zone."""
    p = sub.add_parser("gaps", help="land and people beyond N minutes of every chosen facility, per zone (服务盲区)")
    p.add_argument("--settlements", metavar="FILE", help="settlements with the facilities and the township seats")
    p.add_argument("--tiers", default="county_town,key_town", metavar="LIST",
                   help="tiers or designations of the facilities (default county_town,key_town)")
    p.add_argument("--roads", metavar="FILE", help="road lines (default: the workspace's)")
    p.add_argument("--minutes", default="30", metavar="LIST", help="travel-time limit(s) in minutes (default 30)")
    p.add_argument("--zones", metavar="FILE", help="zones to report by (default: the workspace's township boundaries)")
    p.add_argument("--out", metavar="FILE", help="output .xlsx/.csv/.gpkg/.shp (default: outputs/gaps.xlsx)")
    p.add_argument("--lang", choices=["zh", "en"], help="headers (default: the workspace's, else zh)")
    add_column_options(p)
    add_workspace_options(p)
    p.set_defaults(func=cmd_gaps, method="network", radius_km=None)


def _seat_minutes(roads: Any, speeds: dict, facilities: Any, zones: Any, settlements: Any) -> pd.DataFrame:
    """Per zone, its seat and the travel minutes from the nearest facility by road.

    The seat is the located settlement carrying the zone's code, else the most populous one inside the zone.
    """
    import geopandas as gpd

    from .. import network

    pts = settlements[~(settlements.geometry.isna() | settlements.geometry.is_empty)]
    joined = gpd.sjoin(pts[["code", "name", "population", "geometry"]].rename(columns={"code": "seat_code"}),
                       zones[["code", "geometry"]], predicate="within", how="inner")
    seats = []
    for code in zones["code"]:
        inside = joined[joined["code"] == code]
        own = inside[inside["seat_code"] == code]
        pick = own if len(own) else inside.sort_values("population", ascending=False, na_position="last")
        seats.append(pick.iloc[0] if len(pick) else None)
    located = [s for s in seats if s is not None]
    minutes = np.full(len(seats), np.nan)
    if located:
        dest = gpd.GeoSeries([s.geometry for s in located], crs=settlements.crs)
        tt = network.travel_times(roads, facilities.geometry, dest,
                                  class_col="road_class" if "road_class" in roads.columns else None, speeds=speeds)
        best = np.nanmin(tt, axis=0)
        minutes[[i for i, s in enumerate(seats) if s is not None]] = best
    return pd.DataFrame({"code": zones["code"].to_numpy(),
                         "seat_name": [s["name"] if s is not None else None for s in seats],
                         "seat_minutes": np.round(minutes, 1)})


def gaps_by_zone(catch: Any, zones: Any, settlements: Any, minutes: list[int]) -> Any:
    """Per zone and time limit: area beyond every facility (km², share) and the people of the settlements there.

    One call of :func:`bazhong_geo.catchments.gaps` (the union of all facilities' catchments is the covered land),
    split by ``zones``; people are the known populations of the located settlements outside that union (settlements
    of unknown population count 0 and are listed by ``validate``).
    """
    import shapely

    from .. import catchments, crs

    region = shapely.union_all(np.asarray(crs.to_work_crs(zones).geometry.values, dtype=object))
    people = settlements[~(settlements.geometry.isna() | settlements.geometry.is_empty)]
    people = people.assign(population=pd.to_numeric(people["population"], errors="coerce"))
    people = people[people["population"].notna()]
    band = catch if "minutes" in catch.columns else catch.assign(minutes=minutes[0])
    out = catchments.gaps(band[band["minutes"].isin(minutes)], region, people if len(people) else None, zones=zones)
    zone_km2 = crs.area_km2(crs.to_work_crs(zones).geometry).to_numpy()
    by_code = dict(zip(zones["code"].astype(str), zone_km2, strict=True))
    table = out.rename(columns={"zone": "code", "zone_name": "name", "area_km2": "outside_km2",
                                "share": "outside_share", "population": "people_outside"})
    table["zone_km2"] = table["code"].astype(str).map(by_code)
    if "people_outside" not in table.columns:
        table["people_outside"] = 0.0
    if "name" not in table.columns:
        table = table.merge(zones[["code", "name"]], on="code", how="left")
    return table[["code", "name", "minutes", "zone_km2", "outside_km2", "outside_share", "people_outside",
                  "geometry"]].reset_index(drop=True)


def cmd_gaps(args: Any) -> int:
    """Gaps per zone, written by extension."""
    session = Session(args)
    minutes = int_list(args.minutes, "--minutes")
    settlements = session.settlements(args.settlements)
    facilities = select_facilities(settlements, word_list(args.tiers))
    zones = session.boundaries(args.zones, level="township", option="--zones")
    roads, speeds = session.roads(args.roads)
    catch = catchment_layer(session, args, facilities, minutes)
    table = gaps_by_zone(catch, zones, settlements, minutes)
    seats = _seat_minutes(roads, speeds, facilities, zones, settlements)
    table = table.merge(seats, on="code", how="left")
    table["seat_beyond"] = table["seat_minutes"] > table["minutes"]
    cols = ["code", "name", "minutes", "zone_km2", "outside_km2", "outside_share", "people_outside", "seat_name",
            "seat_minutes", "seat_beyond", "geometry"]
    table = table[cols]
    echo(f"gaps beyond {','.join(map(str, minutes))} min of {len(facilities)} facilities ({args.tiers}), "
         f"{len(zones)} zone(s):")
    for r in table.itertuples(index=False):
        flag = "  BEYOND" if r.seat_beyond else ""
        echo(f"  {r.code} {r.name} ({r.minutes} min): {r.outside_km2:,.2f} km² outside ({r.outside_share:.0%}), "
             f"seat {r.seat_name or '-'} at {r.seat_minutes} min{flag}")
    deliver(table, args.out or session.output("gaps.xlsx"), session, style={"column": "outside_share", "classes": 5})
    return 0
