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
        gdf, report = reader(args.file, return_report=True, **kwargs)
    except BazhongGeoError as exc:
        print(f"ERROR ({type(exc).__name__}): {exc}", file=sys.stderr)
        return 2
    print(report.to_text())
    return 1 if report.has_errors else 0


def _cmd_summary(args: argparse.Namespace) -> int:
    region = _load_region(args)
    table = region.system.summary()
    print(f"{region.name}: settlement system by tier and county (人口 = population where known)\n")
    print(table.to_string(index=False))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    """Progress against the plan's targets: progress.csv/.md/.html and trajectory figures in --out."""
    from ._errors import BazhongGeoError
    from .targets import write_report

    region = _load_region(args) if args.measure else None
    try:
        out = write_report(args.out, as_of=args.as_of, plan=args.plan, indicators=args.indicators, region=region,
                           lang=args.lang, figure_formats=tuple(args.formats.split(",")))
    except BazhongGeoError as exc:
        print(f"ERROR ({type(exc).__name__}): {exc}", file=sys.stderr)
        return 2
    table = out["table"]
    print(f"progress as of {args.as_of} ({len(table)} rows): "
          + ", ".join(f"{s} {n}" for s, n in table["status"].value_counts().sort_index().items()))
    for r in table.itertuples(index=False):
        latest = "" if r.latest_value != r.latest_value else f"{r.latest_bound}{r.latest_value:g} ({r.latest_year})"
        print(f"  {r.key:<27} {r.scope_name:<8} {r.comparison} {r.target:g} {r.unit:<8} latest {latest or '-':<18} "
              f"{r.status}")
    print(f"wrote {out['csv']}, {out['md']}, {out['html']} and {len(out['figures'])} figure(s)")
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

    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
