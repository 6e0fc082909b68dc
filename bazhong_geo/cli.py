"""The ``bazhong-geo`` command: sources, validate, summary, report, map, check."""

from __future__ import annotations

import argparse
import sys

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


def _read_candidates(path: str, coords: str):
    """Candidates via ``io.read_settlements`` (problems reported, not fatal), else a plain CSV/XLSX table."""
    from pathlib import Path

    import pandas as pd

    try:
        from .io import read_settlements
    except ImportError:  # pragma: no cover - io is part of the package
        read_settlements = None
    if read_settlements is not None:
        gdf, report = read_settlements(path, coords=coords, errors="report", return_report=True)
        if report.has_errors:
            print(f"note: {path} has problems (rows kept, bad values left empty):\n{report.to_text()}")
        return gdf
    p = Path(path)  # pragma: no cover
    return pd.read_excel(p) if p.suffix.lower() in (".xlsx", ".xls") else pd.read_csv(p)  # pragma: no cover


def _cmd_check(args: argparse.Namespace) -> int:
    """Check candidates against a designation profile; write CSV/Excel, Markdown and a map to --out."""
    from ._errors import BazhongGeoError
    from .designation import available_profiles, check, load_profile, write_check_report

    if args.list_profiles:
        for name in available_profiles():
            prof = load_profile(name)
            print(f"{name:<16} {prof.label_zh} / {prof.label_en}: {prof.description}")
        return 0
    if not args.candidates:
        print("ERROR: give a CANDIDATES file (or --list-profiles)", file=sys.stderr)
        return 2
    try:
        profile = load_profile(args.profile)
        candidates = _read_candidates(args.candidates, args.coords)
        region = None
        if not args.no_context:
            try:
                region = _load_region(argparse.Namespace(boundaries=None, settlements=None, coords="wgs84"))
            except (BazhongGeoError, OSError) as exc:
                print(f"note: embedded region not available ({exc}); spatial criteria give 'no data'")
        layers = {}
        for key in ("demand", "roads"):
            path = getattr(args, key)
            if path:
                import geopandas as gpd

                try:
                    layers[key] = gpd.read_file(path)
                except (OSError, RuntimeError) as exc:      # pyogrio's DataSourceError is a RuntimeError
                    print(f"ERROR: --{key} {path}: cannot be read as a vector layer ({exc})", file=sys.stderr)
                    return 2
        result = check(candidates, profile, context=region, **layers)
        paths = write_check_report(result, args.out, region=region)
    except (BazhongGeoError, OSError) as exc:      # bad input, or a file that is missing / cannot be written
        print(f"ERROR ({type(exc).__name__}): {exc}", file=sys.stderr)
        return 2
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

    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
