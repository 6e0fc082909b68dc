"""The ``bazhong-geo`` command: sources, validate, summary, report, map, check."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from . import designation, io, maps
from ._errors import BazhongGeoError

EPILOG = "Data: embedded Bazhong reference data (巴中市) unless files are given. See README.md."


def _add_input_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by commands that read the region: user boundary/settlement files."""
    parser.add_argument("--boundaries", metavar="FILE",
                        help="county/township boundary file (GPKG, SHP, GeoJSON, GeoParquet) instead of the embedded ones")
    parser.add_argument("--settlements", metavar="FILE",
                        help="settlement register (CSV/XLSX with lon/lat, or a vector file) instead of the embedded one")
    parser.add_argument("--coords", default="wgs84", metavar="SYSTEM",
                        help="coordinate system of a CSV/XLSX register: wgs84 (default), cgcs2000, gcj02 (Amap/Tencent "
                             "火星坐标), bd09 (Baidu), or EPSG:xxxx")


def _load_region(args: argparse.Namespace):
    """Return the embedded region, with the user's files taking precedence where given."""
    from .datasets import load_bazhong

    return load_bazhong(boundaries=args.boundaries, settlements=args.settlements, coords=args.coords)


# ----------------------------------------------------------------------------------------------- commands

def _cmd_sources(args: argparse.Namespace) -> int:
    from .datasets import provenance_table

    table = provenance_table()
    for row in table.itertuples(index=False):
        print(f"{row.layer}\n  origin:      {row.origin}\n  vintage:     {row.vintage}\n"
              f"  licence:     {row.licence}\n  attribution: {row.attribution}\n")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from . import io
    from ._errors import BazhongGeoError

    reader = io.read_boundaries if args.kind == "boundaries" else io.read_settlements
    kwargs = {"coords": args.coords} if args.kind == "settlements" else {}
    if args.crs:
        kwargs["crs"] = args.crs
    try:
        _, report = reader(args.file, return_report=True, errors="report", **kwargs)
    except BazhongGeoError as exc:  # the file cannot be read at all (format, missing CRS, no rows)
        print(f"ERROR ({type(exc).__name__}): {exc}", file=sys.stderr)
        return 2
    print(report.to_text())
    return 1 if report.has_errors else 0


def _cmd_summary(args: argparse.Namespace) -> int:
    region = _load_region(args)
    table = region.system.summary(region.county_names)
    print(f"{region.name}: settlement system by tier and county (城镇体系)\n")
    print(table.to_string(index=False, na_rep="-", float_format=lambda v: f"{v:,.0f}"))
    print("\npopulation_known sums the populations that are known (with_population of them), of mixed kinds and "
          "years (常住/户籍; see data/settlements/SOURCES.md): it is not a total.")
    print("Sources: " + "; ".join(region.notes))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    """Progress against the plan's targets: progress.csv/.md/.html and trajectory figures in --out."""
    import warnings

    from ._errors import BazhongGeoError, CJKFontWarning, PlanYearWarning
    from .targets import write_report

    ours = (PlanYearWarning, CJKFontWarning)
    region = _load_region(args) if args.measure else None
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = write_report(args.out, as_of=args.as_of, plan=args.plan, indicators=args.indicators,
                               region=region, lang=args.lang, figure_formats=tuple(args.formats.split(",")))
    except BazhongGeoError as exc:
        print(f"ERROR ({type(exc).__name__}): {exc}", file=sys.stderr)
        return 2
    for w in caught:      # ours as notes (e.g. as_of after a target year); anything else as a warning
        if issubclass(w.category, ours):
            print(f"note: {w.message}")
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    table = out["table"]
    print(f"progress as of {args.as_of} ({len(table)} rows): "
          + ", ".join(f"{s} {n}" for s, n in table["status"].value_counts().sort_index().items()))
    for r in table.itertuples(index=False):
        latest = "" if r.latest_value != r.latest_value else f"{r.latest_bound}{r.latest_value:g} ({r.latest_year})"
        print(f"  {r.key:<27} {r.scope_name:<8} {r.comparison} {r.target:g} {r.unit:<8} latest {latest or '-':<18} "
              f"{r.status:<9} [{r.definition}]")
        if r.alternatives:                      # two figures (definitions, kinds, sources): both, and which is used
            print(f"      {r.alternatives}")
    print(f"wrote {out['csv']}, {out['md']}, {out['html']} and {len(out['figures'])} figure(s)")
    return 0


def _read_candidates(path: str, coords: str) -> Any:
    """Candidates via ``io.read_settlements`` (problems reported, not fatal)."""
    gdf, report = io.read_settlements(path, coords=coords, errors="report", return_report=True)
    if report.has_errors:
        print(f"note: {path} has problems (rows kept, bad values left empty):\n{report.to_text()}")
    return gdf


def write_check_map(result: designation.CheckResult, path: str | Path, region: Any = None) -> Path | None:
    """Draw a check's candidates with :mod:`bazhong_geo.maps` and save one offline HTML file.

    Qualifies = green circle, does not qualify = red cross, incomplete = grey square, reasons in the popups; the
    region's boundaries and county towns underneath when given. Returns None (and says why) when no candidate is
    located.
    """
    v = result.verdicts
    if "geometry" not in getattr(v, "columns", ()) or not hasattr(v, "geometry"):
        print("note: candidates have no geometry; the map was skipped")
        return None
    located = v[~(v.geometry.isna() | v.geometry.is_empty)]
    if located.empty:
        print("note: no candidate has coordinates; the map was skipped")
        return None
    layer = located.copy()
    layer["passed"] = layer["verdict"] == "qualifies"
    layer["reasons"] = [f"{v} / {vz} (score {s:.2f}): {rz} || {re_}" for v, vz, s, rz, re_ in
                        zip(layer["verdict"], layer["verdict_zh"], layer["score"], layer["reasons_zh"],
                            layer["reasons_en"])]
    p = result.profile
    boundaries = getattr(region, "boundaries", None) if region is not None else None
    m = maps.base_map(bounds=(boundaries if boundaries is not None else layer).to_crs(4326))
    if boundaries is not None:
        maps.add_boundaries(m, boundaries)
    ctx = getattr(region, "settlements", None) if region is not None else None
    if ctx is not None and "tier" in ctx.columns:
        centres = ctx[ctx["tier"].isin(["central_city", "county_town"])]
        centres = centres[~(centres.geometry.isna() | centres.geometry.is_empty)]
        if len(centres):
            maps.add_settlements(m, centres, tiers=["central_city", "county_town"], legend=False)
    maps.add_candidates(m, layer, pass_col="verdict", reasons_col="reasons",
                        name=f"{p.label_zh}候选 {p.label_en} candidates")
    maps.add_title(m, f"{p.label_zh}候选评估", f"{p.label_en} check: {len(layer)} located candidates")
    maps.add_layer_control(m)
    return maps.save(m, path)


class _LayerError(Exception):
    """An optional layer of the check command cannot be read."""


def _check_layers(args: argparse.Namespace) -> dict[str, Any]:
    """The optional --demand / --roads layers; an unreadable file raises :class:`_LayerError` with the message."""
    import geopandas as gpd

    layers = {}
    for key in ("demand", "roads"):
        path = getattr(args, key)
        if path:
            try:
                layers[key] = gpd.read_file(path)
            except (OSError, RuntimeError) as exc:      # pyogrio's DataSourceError is a RuntimeError
                raise _LayerError(f"ERROR: --{key} {path}: cannot be read as a vector layer ({exc})") from exc
    return layers


def _check_context(args: argparse.Namespace) -> Any:
    if args.no_context:
        return None
    try:
        return _load_region(argparse.Namespace(boundaries=None, settlements=None, coords="wgs84"))
    except (BazhongGeoError, OSError) as exc:
        print(f"note: embedded region not available ({exc}); spatial criteria give 'no data'")
        return None


def _print_check(result: designation.CheckResult, paths: dict[str, Path]) -> None:
    profile = result.profile
    counts = result.counts()
    print(f"{profile.label_zh} / {profile.label_en}: {len(result.verdicts)} candidates — qualifies {counts['qualifies']}, "
          f"does not qualify {counts['does not qualify']}, incomplete {counts['incomplete']}")
    cols = ["rank", "code", "name", "verdict", "score", "n_pass", "n_fail", "n_no_data"]
    print(result.verdicts[cols].to_string(index=False))
    if len(result.missing_data):
        print("\ndata to collect (缺失数据):")
        for r in result.missing_data.itertuples(index=False):
            print(f"  {r.data_needed} ({r.data_needed_zh}): {r.n_candidates} candidate(s) — {r.criteria}")
    print("\nwrote " + ", ".join(str(p) for p in paths.values()))


def _cmd_check(args: argparse.Namespace) -> int:
    """Check candidates against a designation profile; write CSV/Excel, Markdown and a map to --out."""
    if args.list_profiles:
        for name in designation.available_profiles():
            prof = designation.load_profile(name)
            print(f"{name:<16} {prof.label_zh} / {prof.label_en}: {prof.description}")
        return 0
    if not args.candidates:
        print("ERROR: give a CANDIDATES file (or --list-profiles)", file=sys.stderr)
        return 2
    try:
        profile = designation.load_profile(args.profile)
        candidates = _read_candidates(args.candidates, args.coords)
        region = _check_context(args)
        layers = _check_layers(args)
        result = designation.check(candidates, profile, context=region, **layers)
        paths = designation.write_check_report(result, args.out)
        map_path = write_check_map(result, Path(args.out) / f"{profile.name}_map.html", region)
    except _LayerError as exc:
        print(exc, file=sys.stderr)
        return 2
    except (BazhongGeoError, OSError) as exc:      # bad input, or a file that is missing / cannot be written
        print(f"ERROR ({type(exc).__name__}): {exc}", file=sys.stderr)
        return 2
    if map_path is not None:
        paths["map"] = map_path
    _print_check(result, paths)
    return 0


def _cmd_map(args: argparse.Namespace) -> int:
    """The meeting map: compute catchments and progress, draw them, write one offline HTML file (PNG/PDF on request)."""
    import time

    from . import maps, meeting
    from ._errors import BazhongGeoError

    t0 = time.perf_counter()
    if args.catchments == "network" and not args.roads:
        print("ERROR: --catchments network needs --roads FILE (road lines with speed_kmh or a class column)",
              file=sys.stderr)
        return 2
    try:
        region = _load_region(args)
        roads = _read_roads(args.roads) if args.catchments == "network" else None
        inputs = meeting.build_meeting_inputs(region, catchments=None if args.catchments == "none" else args.catchments,
                                              roads=roads, as_of=args.as_of)
        m = maps.meeting_map(region, progress=inputs.progress, catchments=inputs.catchments, raster=args.raster,
                             basemap=args.basemap, tianditu_key=args.tianditu_key, lang=args.lang, as_of=args.as_of,
                             title=args.title)
        out = maps.save(m, args.out, offline=True)
    except BazhongGeoError as exc:
        print(f"ERROR ({type(exc).__name__}): {exc}", file=sys.stderr)
        return 2
    notes = list(inputs.notes)
    if args.basemap != "none":
        notes.append(f"basemap {args.basemap}: tiles load from the internet; without a connection the map shows "
                     "no background (use --basemap none for the meeting room)")
    for note in notes:
        print(f"note: {note}")
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB, {time.perf_counter() - t0:.1f} s)")
    return _export_map(args, out)


def _read_roads(path):
    """The road layer of ``--roads``."""
    import geopandas as gpd

    return gpd.read_file(path)


def _export_map(args: argparse.Namespace, out) -> int:
    """PNG and PDF of the written map, when asked for."""
    from ._errors import BazhongGeoError
    from .maps.export import export_pdf, export_png

    try:
        if args.png:
            print(f"wrote {export_png(out, args.png, size=(args.width, args.height))}")
        if args.pdf:
            print(f"wrote {export_pdf(out, args.pdf, paper=args.paper, landscape=not args.portrait)}")
    except BazhongGeoError as exc:
        print(f"ERROR ({type(exc).__name__}): {exc}", file=sys.stderr)
        return 2
    return 0


# ----------------------------------------------------------------------------------------------- parser

# ----------------------------------------------------------------------------------------------- data (tables' home)

def _cmd_data(args: argparse.Namespace) -> int:
    from . import resources
    from .settings import ENV_DATA

    if args.action == "init":
        written = resources.init_data_folder(args.dir, overwrite=args.overwrite)
        folder = args.dir
        print(f"{len(written)} table(s) copied into {folder} (existing files kept"
              f"{'' if not args.overwrite else ', replaced'}); edit them there, then point the toolkit at the folder:")
        print(f"  export {ENV_DATA}={folder}        (Windows: set {ENV_DATA}={folder})")
        print("A table found in that folder wins over the packaged one; a table missing there is read from the package.")
        return 0
    override = resources.override_dir()
    print(f"{ENV_DATA}: {override if override is not None else '(not set: packaged tables)'}")
    for rel, source, path in resources.table_locations():
        print(f"{rel:34} {source:8} {path}")
    return 0


def _add_data_command(sub) -> None:
    p = sub.add_parser("data", help="where the tables are read from; copy the editable tables into a folder you own "
                                    "(数据表位置)")
    act = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    q = act.add_parser("init", help="copy the editable tables (config, plan, indicators, register) into DIR")
    q.add_argument("dir", metavar="DIR", help="the planner's data folder (created if missing)")
    q.add_argument("--overwrite", action="store_true", help="replace files already in DIR")
    act.add_parser("path", help="show where each table is read from (package or BAZHONG_GEO_DATA)")
    p.set_defaults(func=_cmd_data)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``bazhong-geo``."""
    parser = argparse.ArgumentParser(
        prog="bazhong-geo",
        description="Urban-rural planning toolkit for Bazhong (巴中市): the four-tier settlement system "
                    "(巴城 central city, 县城 county towns, 特色镇 featured towns, 中心村 central villages).",
        epilog=EPILOG,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("sources", help="origin, vintage, licence and attribution of every embedded layer (数据来源)")
    p.set_defaults(func=_cmd_sources)

    p = sub.add_parser("validate", help="check a boundary or settlement file and print the report (数据检查)")
    p.add_argument("file", help="the file to check")
    p.add_argument("--kind", choices=["boundaries", "settlements"], default="settlements",
                   help="what the file holds (default: settlements)")
    p.add_argument("--coords", default="wgs84", metavar="SYSTEM",
                   help="coordinate system of a CSV/XLSX register: wgs84, cgcs2000, gcj02, bd09 or EPSG:xxxx")
    p.add_argument("--crs", help="CRS to assume when a vector file has none (e.g. EPSG:4490)")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("summary", help="the tier table: counts and population by tier and county (城镇体系汇总)")
    _add_input_options(p)
    p.set_defaults(func=_cmd_summary)

    p = sub.add_parser("report", help="progress against the plan targets: CSV, Markdown, HTML and trajectory "
                                      "figures (目标进展报告)")
    p.add_argument("--as-of", type=int, default=2020, metavar="YEAR", help="assessment year (default 2020)")
    p.add_argument("--out", default="bazhong_report", metavar="DIR", help="output folder (default ./bazhong_report)")
    p.add_argument("--plan", default="plan_2020", metavar="FILE",
                   help="plan file, or a name in data/settlements/ (default plan_2020)")
    p.add_argument("--indicators", default=None, metavar="FILE",
                   help="indicator table (default data/settlements/indicators.csv)")
    p.add_argument("--lang", choices=["zh", "en"], default="zh", help="figure labels (default zh)")
    p.add_argument("--formats", default="png", metavar="LIST", help="figure formats, e.g. png,svg (default png)")
    p.add_argument("--measure", action="store_true",
                   help="add indicators measured from the region's census and register (shown as alternatives)")
    _add_input_options(p)
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("check", help="check designation candidates against a criteria profile: table, summary, map "
                                     "(候选镇评估)")
    p.add_argument("candidates", nargs="?", metavar="CANDIDATES",
                   help="candidate towns: CSV/XLSX with code, name, lon/lat and attributes, or a point layer")
    p.add_argument("--profile", default="key-town", metavar="NAME|FILE",
                   help="shipped profile (see --list-profiles) or a .toml file (default key-town)")
    p.add_argument("--out", default="bazhong_check", metavar="DIR", help="output folder (default ./bazhong_check)")
    p.add_argument("--coords", default="wgs84", metavar="SYSTEM",
                   help="coordinate system of a CSV/XLSX: wgs84 (default), cgcs2000, gcj02, bd09 or EPSG:xxxx")
    p.add_argument("--no-context", action="store_true",
                   help="do not use the embedded region (county towns, designated towns) for spatial criteria")
    p.add_argument("--demand", metavar="FILE",
                   help="points/polygons with a population column, for catchment-population criteria")
    p.add_argument("--roads", metavar="FILE", help="road lines, for road-access and travel-time criteria")
    p.add_argument("--list-profiles", action="store_true", help="list the shipped profiles and exit")
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser("map", help="the meeting map: one offline HTML file of the settlement system, catchments "
                                   "and target progress, optionally PNG/PDF (会议地图)")
    p.add_argument("--out", default="bazhong_progress.html", metavar="FILE",
                   help="HTML output (default bazhong_progress.html; opens offline, no network)")
    p.add_argument("--png", metavar="FILE", help="also write a PNG screenshot (headless Chromium)")
    p.add_argument("--pdf", metavar="FILE", help="also write a one-page PDF (headless Chromium)")
    p.add_argument("--paper", choices=["A4", "A3"], default="A4", help="PDF paper size (default A4, landscape)")
    p.add_argument("--portrait", action="store_true", help="PDF in portrait orientation")
    p.add_argument("--width", type=int, default=1600, help="PNG width in pixels (default 1600)")
    p.add_argument("--height", type=int, default=1000, help="PNG height in pixels (default 1000)")
    p.add_argument("--raster", metavar="FILE", help="built-up raster (GeoTIFF) drawn as an overlay")
    p.add_argument("--catchments", choices=["voronoi", "network", "none"], default="voronoi",
                   help="county-town catchments: voronoi (default), network (needs --roads) or none")
    p.add_argument("--roads", metavar="FILE", help="road lines for --catchments network")
    p.add_argument("--basemap", choices=["none", "osm", "tianditu", "amap"], default="none",
                   help="background tiles (default none: works offline); amap shifts the data to GCJ-02")
    p.add_argument("--tianditu-key", metavar="KEY", help="your Tianditu key for --basemap tianditu")
    p.add_argument("--lang", choices=["zh", "en"], default="zh", help="labels and legends (default zh)")
    p.add_argument("--as-of", type=int, default=2020, metavar="YEAR",
                   help="assessment year of the progress panel (default 2020)")
    p.add_argument("--title", help="map title (default 巴中市城乡提升目标进展)")
    _add_input_options(p)
    p.set_defaults(func=_cmd_map)

    _add_data_command(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
