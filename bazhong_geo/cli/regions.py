"""``compare``: 2020 urbanization of any Chinese regions side by side (census and GHSL), with ranks."""

from __future__ import annotations

import argparse
from typing import Any

from .. import compare
from .common import echo


def add_compare_command(sub: Any) -> None:
    """Add ``bazhong-geo compare CODE ... [--level county] [--out DIR]``."""
    p = sub.add_parser("compare", help="compare regions' 2020 urbanization (census, GHSL) with ranks in province "
                                       "and China (区域比较)")
    p.add_argument("codes", nargs="+", help="6-digit region codes, e.g. 511900 510800 511700 511300 511600")
    p.add_argument("--level", choices=compare.LEVELS, default="prefecture",
                   help="list the regions only (prefecture) or also their counties (county)")
    p.add_argument("--out", default="compare_out", help="output folder (default: compare_out)")
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help="chart labels")
    p.add_argument("--no-chart", action="store_true", help="do not draw the chart")
    p.add_argument("--no-map", action="store_true", help="do not make the map")
    p.set_defaults(func=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> int:
    """Compute the comparison, write the table, chart and map, and print one line per region."""
    table = compare.compare(args.codes, level=args.level)
    written = compare.write_outputs(table, args.out, chart=not args.no_chart, map_=not args.no_map, lang=args.lang)
    echo(*compare.summary_lines(table))
    echo(*(f"wrote {path}" for path in written))
    return 0
