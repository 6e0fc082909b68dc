"""Commands about data: ``sources``, ``init``, ``validate``, ``update``, ``summary``, ``data``, ``report``."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from .. import workspace as ws_mod
from .._errors import BazhongGeoError
from .._validate import ValidationReport
from ..region import BAZHONG
from .common import UsageError, echo, note
from .layers import (
    add_column_options,
    add_workspace_options,
    check_raster,
    column_mapping,
    load_boundary_file,
    load_road_file,
    load_settlement_file,
)
from .session import Session, input_path, table_system, value_map_of

# =============================================================================================== sources

def cmd_sources(args: Any) -> int:
    """Origin, vintage, licence and attribution of every embedded layer."""
    from ..datasets import provenance_table

    for row in provenance_table().itertuples(index=False):
        echo(f"{row.layer}\n  origin:      {row.origin}\n  vintage:     {row.vintage}\n"
             f"  licence:     {row.licence}\n  attribution: {row.attribution}\n")
    return 0


# =============================================================================================== init

def cmd_init(args: Any) -> int:
    """Create a workspace: configuration, register copy, data-collection workbook, outputs folder."""
    ws = ws_mod.init_workspace(args.dir, name=args.name, overwrite=args.force)
    echo(f"workspace {ws.name} created in {ws.root}:")
    echo(f"  {ws.config.name}   configuration (comments in Chinese and English): name your layers there")
    echo(f"  {ws.register.name}   the workspace's settlement register (a copy; `bazhong-geo update` merges into it)")
    echo(f"  {ws.workbook.name}   data-collection workbook: fill it, then `bazhong-geo update {ws.workbook.name}`")
    echo(f"  {ws.outputs.name}/   outputs")
    echo(f"Next: cd {ws.root} and run `bazhong-geo validate FILE` on each of your files.")
    return 0


# =============================================================================================== validate

def _layer_for(session: Session, path: Path, kind: str) -> ws_mod.Layer | None:
    """The workspace layer configured for ``path`` (its columns, values and coordinate system apply)."""
    ws = session.workspace
    if ws is None:
        return None
    for layer in ws.layers():
        if layer.path.resolve() == path.resolve() and kind in (layer.kind, "raster"):
            return layer
    return None


def _kind_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".tif", ".tiff", ".vrt", ".img"):
        return "raster"
    if suffix in (".csv", ".xlsx", ".xls", ".txt"):
        return "settlements"
    import pyogrio

    geom = str(pyogrio.read_info(path).get("geometry_type") or "")
    return "roads" if "Line" in geom else "boundaries" if "Polygon" in geom else "settlements"


def validate_file(session: Session, path: Path, kind: str) -> Any:
    """The whole report of one file of ``kind`` (nothing stops at the first problem).

    A file that cannot be read as ``kind`` at all (a named column it lacks, no code column) gives a report with
    that one error.
    """
    try:
        return _validate(session, path, kind)
    except BazhongGeoError as exc:
        report = ValidationReport(str(path), kind)
        report.add("error", type(exc).__name__, str(exc))
        return report


def _validate(session: Session, path: Path, kind: str) -> Any:
    layer = _layer_for(session, path, kind)
    coords = session.coords_for(layer)
    opts = session.file_options(layer, kind if kind in ("roads", "boundaries") else "settlements", lenient=False)
    if kind == "settlements":
        register, name = session.register()
        _, report = load_settlement_file(path, opts, value_map=value_map_of(layer), coords=table_system(coords),
                                         register=register, register_name=name)
    elif kind == "boundaries":
        _, report = load_boundary_file(path, opts, coords=coords)
    elif kind == "roads":
        speeds = dict(layer.speeds) if layer is not None and getattr(layer, "speeds", None) else None
        _, _, report = load_road_file(path, opts, coords=coords, speeds=speeds)
    else:
        lc = layer if isinstance(layer, ws_mod.LandCoverLayer) else None
        if lc is None and session.workspace is not None and session.workspace.landcover:
            lc = session.workspace.landcover[-1]
        zones = session.boundaries(None, required=False) if session.workspace is not None else None
        report = check_raster(path, legend=dict(lc.legend) if lc else None, builtup=lc.builtup_classes if lc else (),
                              boundaries=zones)
    return report


def cmd_validate(args: Any) -> int:
    """Print the whole report of a file; exit 0 when it can be used, 1 when it has errors."""
    session = Session(args)
    path = input_path(args.file, "FILE")
    kind = args.kind or _kind_of(path)
    report = validate_file(session, path, kind)
    echo(report.to_text())
    return 1 if report.has_errors else 0


# =============================================================================================== update

def cmd_update(args: Any) -> int:
    """Merge a filled workbook or settlement file into the workspace register; print the merge report."""
    session = Session(args)
    if session.workspace is None:
        raise UsageError("update needs a workspace: run it in the workspace folder or give --workspace DIR "
                         "(`bazhong-geo init DIR` makes one)")
    path = input_path(args.file, "FILE")
    mapping = column_mapping(args, None, "settlements") or None
    _, report = ws_mod.update_register(path, session.workspace.root, overwrite=args.overwrite, mapping=mapping,
                                       coords=args.coords, sheet=args.sheet)
    for line in report.lines():
        echo(line)
    echo(f"register: {session.workspace.register}")
    return 0


# =============================================================================================== summary

def cmd_summary(args: Any) -> int:
    """The tier table of the settlements in use (workspace register, a file, or the embedded register)."""
    from ..settlements import SettlementSystem

    session = Session(args)
    gdf = session.settlements(getattr(args, "settlements", None))
    names = {c: zh for c, (zh, _) in BAZHONG.counties.items()}
    table = SettlementSystem(gdf).summary(names)
    echo(f"{BAZHONG.name}: settlement system by tier and county (城镇体系)\n")
    echo(table.to_string(index=False, na_rep="-", float_format=lambda v: f"{v:,.0f}"))
    located = int((~(gdf.geometry.isna() | gdf.geometry.is_empty)).sum())
    with_pop = int(gdf["population"].notna().sum())
    echo(f"\n{len(gdf)} settlements, {located} located, {with_pop} with a population")
    echo("population_known sums the populations that are known (with_population of them), of mixed kinds and "
         "years (常住/户籍): it is not a total.")
    echo("Sources: " + "; ".join(session.sources))
    if getattr(args, "out", None):
        from .analyses import deliver

        deliver(table, args.out, session)
    return 0


# =============================================================================================== data

def cmd_data(args: Any) -> int:
    """Where the tables are read from; copy the editable tables into a folder."""
    from .. import resources
    from ..settings import ENV_DATA

    if args.action == "init":
        written = resources.init_data_folder(args.dir, overwrite=args.overwrite)
        echo(f"{len(written)} table(s) copied into {args.dir} (existing files kept"
             f"{'' if not args.overwrite else ', replaced'}); edit them there, then point the toolkit at the folder:")
        echo(f"  export {ENV_DATA}={args.dir}        (Windows: set {ENV_DATA}={args.dir})")
        echo("A table found in that folder wins over the packaged one; a table missing there is read from the package.")
        return 0
    override = resources.override_dir()
    echo(f"{ENV_DATA}: {override if override is not None else '(not set: packaged tables)'}")
    for rel, source, path in resources.table_locations():
        echo(f"{rel:34} {source:8} {path}")
    return 0


# =============================================================================================== report

def cmd_report(args: Any) -> int:
    """Progress against the plan's targets: progress.csv/.md/.html and trajectory figures."""
    from .._errors import CJKFontWarning, PlanYearWarning
    from ..targets import write_report

    ours = (PlanYearWarning, CJKFontWarning)
    region = None
    if args.measure:
        from ..datasets import load_bazhong

        region = load_bazhong(boundaries=args.boundaries, settlements=args.settlements, coords=args.coords or "wgs84")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = write_report(args.out, as_of=args.as_of, plan=args.plan, indicators=args.indicators,
                           region=region, lang=args.lang, figure_formats=tuple(args.formats.split(",")))
    for w in caught:
        if issubclass(w.category, ours):
            note(str(w.message))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    sources = [f"plan: {args.plan}", f"indicators: {args.indicators or 'data/settlements/indicators.csv'}"]
    md = Path(out["md"])
    md.write_text(md.read_text(encoding="utf-8").rstrip("\n") + "\n\n数据来源 / Sources: " + "; ".join(sources) + "\n",
                  encoding="utf-8")
    table = out["table"]
    echo(f"progress as of {args.as_of} ({len(table)} rows): "
         + ", ".join(f"{s} {n}" for s, n in table["status"].value_counts().sort_index().items()))
    for r in table.itertuples(index=False):
        latest = "" if r.latest_value != r.latest_value else f"{r.latest_bound}{r.latest_value:g} ({r.latest_year})"
        echo(f"  {r.key:<27} {r.scope_name:<8} {r.comparison} {r.target:g} {r.unit:<8} latest {latest or '-':<18} "
             f"{r.status:<9} [{r.definition}]")
        if r.alternatives:
            echo(f"      {r.alternatives}")
    echo(f"wrote {out['csv']}, {out['md']}, {out['html']} and {len(out['figures'])} figure(s)")
    return 0


# =============================================================================================== parser

def add_basic_commands(sub: Any) -> None:
    """Register sources, init, validate, update, summary, report and data."""
    p = sub.add_parser("sources", help="origin, vintage, licence and attribution of every embedded layer (数据来源)")
    add_workspace_options(p)
    p.set_defaults(func=cmd_sources)

    p = sub.add_parser("init", help="create a workspace: bazhong-geo.toml, register copy, data-collection workbook "
                                    "(新建工作区)")
    p.add_argument("dir", metavar="DIR", help="the project folder (created if missing)")
    p.add_argument("--name", help="project name (default: the folder name)")
    p.add_argument("--force", action="store_true", help="rewrite an existing bazhong-geo.toml (data files are kept)")
    add_workspace_options(p)
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("validate", help="check a file and print the whole report (数据检查); exit 0 ok, 1 errors")
    p.add_argument("file", help="the file to check")
    p.add_argument("--kind", choices=["boundaries", "settlements", "roads", "raster"],
                   help="what the file holds (default: from the file: raster, lines = roads, polygons = boundaries, "
                        "points and tables = settlements)")
    add_column_options(p)
    add_workspace_options(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("update", help="merge a filled workbook or settlement file into the workspace register "
                                      "(合并资料)")
    p.add_argument("file", help="the filled 资料收集表.xlsx, or any settlement file keyed by code or name")
    p.add_argument("--overwrite", action="store_true", help="replace register values that differ (listed either way)")
    p.add_argument("--sheet", help="sheet of an Excel file (layer of a GeoPackage)")
    add_column_options(p)
    add_workspace_options(p)
    p.set_defaults(func=cmd_update)

    p = sub.add_parser("summary", help="the tier table: counts and population by tier and county (城镇体系汇总)")
    p.add_argument("--settlements", metavar="FILE", help="settlements (default: the workspace's, else embedded)")
    p.add_argument("--out", metavar="FILE", help="also write the table (.xlsx with a sources sheet, .csv)")
    p.add_argument("--lang", choices=["zh", "en"], help="headers of --out (default: the workspace's, else zh)")
    add_column_options(p)
    add_workspace_options(p)
    p.set_defaults(func=cmd_summary)

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
    p.add_argument("--boundaries", metavar="FILE", help="boundaries for --measure")
    p.add_argument("--settlements", metavar="FILE", help="settlements for --measure")
    add_column_options(p)
    add_workspace_options(p)
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("data", help="where the tables are read from; copy the editable tables into a folder you own "
                                    "(数据表位置)")
    add_workspace_options(p)
    act = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    q = act.add_parser("init", help="copy the editable tables (config, plan, indicators, register) into DIR")
    q.add_argument("dir", metavar="DIR", help="the planner's data folder (created if missing)")
    q.add_argument("--overwrite", action="store_true", help="replace files already in DIR")
    act.add_parser("path", help="show where each table is read from (package or BAZHONG_GEO_DATA)")
    p.set_defaults(func=cmd_data)

