"""The ``map`` command (one offline HTML file, PNG/PDF on request) and ``run`` (the meeting pack with a manifest).

With the planner's own data (a workspace, or ``--boundaries``/``--settlements``) the map draws those layers only:
no progress panel of the prefecture's 2020 plan unless ``--progress`` asks for it, and a land-cover class raster
is never drawn as a continuous surface (it is skipped with a note; ``builtup`` gives its numbers per zone).
The subtitle names the data used.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

from .. import maps, meeting
from .common import UsageError, echo, note
from .layers import add_column_options, add_workspace_options
from .session import Session, input_path


def _class_raster(path: Path, session: Session) -> bool:
    """True for a land-cover class raster: one of the workspace's [[landcover]] or an integer raster of classes."""
    import rasterio

    ws = session.workspace
    if ws is not None and any(lc.path.resolve() == path.resolve() for lc in ws.landcover):
        return True
    with rasterio.open(path) as src:
        return src.dtypes[0].startswith(("uint", "int")) and src.count == 1


def _own_data(args: Any, session: Session) -> bool:
    return session.workspace is not None or bool(args.boundaries or args.settlements)


def _region(args: Any, session: Session) -> dict:
    settlements = session.settlements(args.settlements)
    boundaries = session.boundaries(args.boundaries, level="county", option="--boundaries", required=False)
    return {"boundaries": boundaries, "settlements": settlements, "provenance": None}


def _subtitle(session: Session) -> str:
    short = []
    for s in session.sources:
        head, _, rest = s.partition(": ")
        short.append(f"{head}: {Path(rest.split(' (')[0]).name}" if rest else s)
    return "数据 / data: " + "; ".join(short)


def own_data_map(args: Any, session: Session) -> Any:
    """The map of the planner's own data (no prefecture panel unless asked)."""
    region = _region(args, session)
    catch = None
    if args.catchments != "none":
        roads = session.roads(args.roads)[0] if args.catchments == "network" else None
        try:
            catch = meeting.county_town_catchments(region, method=args.catchments, roads=roads)
        except ValueError as exc:       # no located county town: say so, draw the rest
            note(f"catchments skipped: {exc}")
    progress = None
    if args.progress:
        progress, notes = meeting.plan_progress(as_of=args.as_of)
        for n in notes:
            note(n)
    raster = None
    if args.raster:
        path = input_path(args.raster, "--raster")
        if _class_raster(path, session):
            note(f"{path.name} is a land-cover class raster: not drawn as a continuous surface"
                 + (" (drawn as built-up km² per zone, --builtup)" if args.builtup else
                    " (--builtup draws built-up km² per zone)"))
        else:
            raster = path
    choropleth = builtup_choropleth(args, session) if args.builtup else None
    located = int((~(region["settlements"].geometry.isna() | region["settlements"].geometry.is_empty)).sum())
    echo(f"drawing {located} located settlement(s)")
    return maps.settlement_map(region, title=args.title, subtitle=_subtitle(session), basemap=args.basemap,
                               tianditu_key=args.tianditu_key, lang=args.lang, catchments=catch, raster=raster,
                               progress=progress, choropleth=choropleth)


def builtup_choropleth(args: Any, session: Session) -> dict:
    """Built-up km² per zone from the land-cover raster, as the map's choropleth (the class raster summarised)."""
    import argparse

    from .analyses import builtup_table

    options = argparse.Namespace(zones=args.boundaries, raster=args.raster, classes=args.classes, year=None)
    table = builtup_table(session, options)
    return {"gdf": table, "column": "builtup_km2", "k": max(1, min(5, int(table["builtup_km2"].nunique()))),
            "legend_title": "建成区面积 built-up area" if args.lang == "zh" else "built-up area",
            "unit": "km²", "fmt_digits": 2, "name": "建成区面积 built-up km²"}


def embedded_map(args: Any, session: Session) -> Any:
    """The prefecture's meeting map from the embedded data (progress panel of the 2020 plan)."""
    from ..datasets import load_bazhong

    region = load_bazhong()
    roads = session.roads(args.roads)[0] if args.catchments == "network" else None
    inputs = meeting.build_meeting_inputs(region, catchments=None if args.catchments == "none" else args.catchments,
                                          roads=roads, as_of=args.as_of)
    for n in inputs.notes:
        note(n)
    raster = input_path(args.raster, "--raster") if args.raster else None
    if raster is not None and _class_raster(raster, session):
        note(f"{raster.name} is a land-cover class raster: not drawn as a continuous surface")
        raster = None
    return maps.meeting_map(region, progress=inputs.progress, catchments=inputs.catchments, raster=raster,
                            basemap=args.basemap, tianditu_key=args.tianditu_key, lang=args.lang, as_of=args.as_of,
                            title=args.title)


def cmd_map(args: Any) -> int:
    """Write the map; PNG/PDF on request."""
    t0 = time.perf_counter()
    if args.basemap == "tianditu" and not args.tianditu_key:
        raise UsageError("--basemap tianditu needs your Tianditu key: --tianditu-key KEY (get one at "
                         "https://console.tianditu.gov.cn), or use --basemap none for an offline map")
    session = Session(args)
    has_roads = bool(args.roads) or (session.workspace is not None and session.workspace.roads is not None)
    if args.catchments == "network" and not has_roads:
        raise UsageError("--catchments network needs --roads FILE (road lines with speed_kmh or a class column)")
    m = own_data_map(args, session) if _own_data(args, session) else embedded_map(args, session)
    out = Path(args.out) if args.out else (session.output("map.html") if session.workspace is not None
                                           else Path("bazhong_progress.html"))
    out = maps.save(m, out, offline=True)
    if args.basemap != "none":
        note(f"basemap {args.basemap}: tiles load from the internet; without a connection the map shows no "
             f"background (use --basemap none for the meeting room)")
    echo(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB, {time.perf_counter() - t0:.1f} s)")
    export_outputs(args, m, out)
    return 0


def _print_requested(args: Any) -> bool:
    return bool(args.paper or args.extent or args.per_county or args.orientation)


def export_outputs(args: Any, m: Any, html: Path) -> None:
    """Write the PNG/PDF of the map.

    A PDF is the print layout at the paper size (title, legend, north arrow, scale bar and 1:N, sources line); so
    is a PNG asked for an --extent or --per-county, or for a --paper/--orientation with no PDF beside it; any other
    --png is a --width x --height screenshot of the screen page.
    """
    from ..maps.export import export_png, export_print

    if not (args.png or args.pdf):
        if _print_requested(args):
            raise UsageError("--paper/--extent/--orientation/--per-county shape a printed page: add --pdf FILE or "
                             "--png FILE")
        return
    extent = maps.parse_extent(args.extent) if args.extent else None
    orientation = args.orientation or ("portrait" if args.portrait else "landscape")
    # a PNG is the print page when it is asked to show an extent or counties, or a paper size with no PDF beside it
    png_printed = bool(args.extent or args.per_county or ((args.paper or args.orientation) and not args.pdf))
    for target in (args.pdf, args.png if png_printed else None):
        if target:
            written = export_print(m, target, extent=extent, paper=args.paper or "A4", orientation=orientation,
                                   per_county=args.per_county, title=args.title)
            echo(*(f"wrote {path}" for path in written))
    if not args.png or png_printed:
        return
    echo(f"wrote {export_png(html, args.png, size=(args.width, args.height))}")


def add_map_command(sub: Any) -> None:
    """Register map."""
    p = sub.add_parser("map", help="the meeting map: one offline HTML file of the settlement system and catchments, "
                                   "optionally PNG/PDF (会议地图)")
    p.add_argument("--out", metavar="FILE", help="HTML output (default bazhong_progress.html, or outputs/map.html in a "
                                                "workspace; opens offline)")
    p.add_argument("--png", metavar="FILE", help="also write a PNG screenshot (headless Chromium)")
    p.add_argument("--pdf", metavar="FILE", help="also write a vector PDF of the print layout (headless Chromium)")
    p.add_argument("--paper", choices=["A4", "A3", "A2"], help="print layout paper size (default A4 for --pdf)")
    p.add_argument("--orientation", choices=["landscape", "portrait"], help="print orientation (default landscape)")
    p.add_argument("--portrait", action="store_true", help="same as --orientation portrait")
    p.add_argument("--extent", metavar="CODE|minx,miny,maxx,maxy[,CRS]",
                   help="printed extent: a division code of the map's boundaries (e.g. 511921) or bounds with an "
                        "optional CRS (longitude/latitude by default)")
    p.add_argument("--per-county", action="store_true", help="one page per county (a multi-page PDF; one PNG each)")
    p.add_argument("--width", type=int, default=1600, help="PNG width in pixels (default 1600)")
    p.add_argument("--height", type=int, default=1000, help="PNG height in pixels (default 1000)")
    p.add_argument("--raster", metavar="FILE", help="a continuous raster (e.g. built-up share) drawn as an overlay; "
                                                    "land-cover class rasters are not drawn")
    p.add_argument("--builtup", action="store_true",
                   help="with your own data: built-up km² per zone from the land-cover raster (the workspace's, or "
                        "--raster with --classes) as a choropleth")
    p.add_argument("--classes", metavar="LIST", help="built-up class values of --raster for --builtup, e.g. 50")
    p.add_argument("--catchments", choices=["voronoi", "network", "none"], default="voronoi",
                   help="county-town catchments: voronoi (default), network (needs roads) or none")
    p.add_argument("--roads", metavar="FILE", help="road lines for --catchments network")
    p.add_argument("--progress", action="store_true",
                   help="with your own data: also draw the progress panel of the prefecture's plan")
    p.add_argument("--boundaries", metavar="FILE", help="boundaries to draw instead of the embedded ones")
    p.add_argument("--settlements", metavar="FILE", help="settlements to draw instead of the embedded register")
    p.add_argument("--basemap", choices=["none", "osm", "tianditu", "amap"], default="none",
                   help="background tiles (default none: works offline); amap shifts the data to GCJ-02")
    p.add_argument("--tianditu-key", metavar="KEY", help="your Tianditu key for --basemap tianditu")
    p.add_argument("--lang", choices=["zh", "en"], default="zh", help="labels and legends (default zh)")
    p.add_argument("--as-of", type=int, default=2020, metavar="YEAR",
                   help="assessment year of the progress panel (default 2020)")
    p.add_argument("--title", help="map title")
    add_column_options(p)
    add_workspace_options(p)
    p.set_defaults(func=cmd_map)


# =============================================================================================== run

def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("bazhong_geo", "geopandas", "shapely", "pyproj", "rasterio", "pandas", "numpy", "folium", "openpyxl"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out


def _inputs(session: Session) -> list[dict]:
    ws = session.workspace
    files = [ws.config] + [lay.path for lay in ws.layers()] + ([ws.register] if ws.register.exists() else [])
    out = []
    for f in files:
        parts = [f] + ([f.with_suffix(s) for s in (".dbf", ".shx", ".prj", ".cpg") if f.with_suffix(s).exists()]
                       if f.suffix.lower() == ".shp" else [])
        out += [{"path": str(p), "sha256": _sha256(p), "bytes": p.stat().st_size} for p in parts]
    return out


def cmd_run(args: Any) -> int:
    """The meeting pack of a workspace: every analysis its layers allow, into one folder, with a manifest."""
    import argparse

    from .analyses import cmd_builtup, cmd_catchments, cmd_gaps
    from .basic import cmd_summary
    from .designations import cmd_check

    session = Session(args)
    ws = session.workspace
    if ws is None:
        raise UsageError("run needs a workspace: run it in the workspace folder or give --workspace DIR")
    folder = Path(args.out) if args.out else ws.outputs / "meeting_pack"
    folder.mkdir(parents=True, exist_ok=True)
    base = {"workspace": str(ws.root), "debug": False, "lang": None, "code_col": None, "name_col": None,
            "class_col": None, "population_col": None, "coords": None, "settlements": None, "zones": None,
            "roads": None}
    steps = [("summary", cmd_summary, {"out": str(folder / "summary.xlsx")})]
    if ws.landcover and ws.boundaries:
        steps.append(("builtup", cmd_builtup, {"raster": None, "classes": None, "year": None,
                                               "out": str(folder / "builtup.xlsx")}))
    if ws.roads is not None:
        steps.append(("catchments", cmd_catchments, {"method": "network", "tiers": "county_town", "minutes": "15,30,60",
                                                     "radius_km": None, "out": str(folder / "catchments.gpkg")}))
        if ws.boundaries:
            steps.append(("gaps", cmd_gaps, {"tiers": args.tiers, "minutes": str(args.minutes), "method": "network",
                                             "radius_km": None, "out": str(folder / "gaps.xlsx")}))
    steps.append(("check", cmd_check, {"candidates": None, "profile": args.profile, "out": str(folder / "check"),
                                       "context": None, "no_context": False, "demand": None, "list_profiles": False}))
    steps.append(("map", cmd_map, {"out": str(folder / "map.html"), "png": None, "pdf": None, "raster": None,
                                   "builtup": bool(ws.landcover and ws.boundaries), "classes": None,
                                   "catchments": "voronoi", "progress": False, "boundaries": None, "basemap": "none",
                                   "tianditu_key": None, "lang": "zh", "as_of": 2020, "title": None, "paper": None,
                                   "orientation": None, "extent": None, "per_county": False, "portrait": False,
                                   "width": 1600, "height": 1000}))
    for name, func, extra in steps:
        echo(f"== {name}")
        func(argparse.Namespace(**{**base, **extra}))
    outputs = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and p.name != "manifest.json")
    manifest = {"workspace": str(ws.config), "made": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "steps": [s[0] for s in steps], "inputs": _inputs(session), "outputs": outputs,
                "packages": _versions()}
    path = folder / "manifest.json"
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    echo(f"wrote {path} ({len(outputs)} output(s))")
    return 0


def add_run_command(sub: Any) -> None:
    """Register run."""
    p = sub.add_parser("run", help="the meeting pack of a workspace into one folder, with a manifest (会议资料包)")
    p.add_argument("--out", metavar="DIR", help="output folder (default outputs/meeting_pack)")
    p.add_argument("--tiers", default="county_town,key_town", help="facilities of the gaps (default "
                                                                   "county_town,key_town)")
    p.add_argument("--minutes", type=int, default=30, help="time limit of the gaps (default 30)")
    p.add_argument("--profile", default="key-town", help="designation profile checked (default key-town)")
    add_workspace_options(p)
    p.set_defaults(func=cmd_run)
