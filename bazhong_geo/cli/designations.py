"""Designation commands: ``check`` (candidates against a criteria profile) and ``plan`` (which towns to designate).

With a workspace, spatial criteria are measured from the workspace's own settlements (its county towns), never
from the embedded 巴城; without one, from the embedded region unless ``--no-context``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from .. import designation, maps
from .._errors import UnknownProfileError
from .analyses import captured, deliver, select_facilities
from .common import UsageError, echo, note, word_list
from .layers import add_column_options, add_workspace_options
from .session import Session, input_path


def write_check_map(result: designation.CheckResult, path: str | Path, region: Any = None) -> Path | None:
    """Draw a check's candidates with :mod:`bazhong_geo.maps` and save one offline HTML file.

    Qualifies = green circle, does not qualify = red cross, incomplete = grey square, reasons in the popups; the
    region's boundaries and county towns underneath when given. Returns None (and says why) when no candidate is
    located.
    """
    v = result.verdicts
    if "geometry" not in getattr(v, "columns", ()) or not hasattr(v, "geometry"):
        note("candidates have no geometry; the map was skipped")
        return None
    located = v[~(v.geometry.isna() | v.geometry.is_empty)]
    if located.empty:
        note("no candidate has coordinates; the map was skipped")
        return None
    layer = located.copy()
    layer["passed"] = layer["verdict"] == "qualifies"
    layer["reasons"] = [f"{a} / {b} (score {s:.2f}): {rz} || {re_}" for a, b, s, rz, re_ in
                        zip(layer["verdict"], layer["verdict_zh"], layer["score"], layer["reasons_zh"],
                            layer["reasons_en"], strict=True)]
    p = result.profile
    boundaries = region.get("boundaries") if isinstance(region, dict) else getattr(region, "boundaries", None)
    m = maps.base_map(bounds=(boundaries if boundaries is not None else layer).to_crs(4326))
    if boundaries is not None:
        maps.add_boundaries(m, boundaries)
    ctx = region.get("settlements") if isinstance(region, dict) else getattr(region, "settlements", None)
    if ctx is not None and "tier" in ctx.columns:
        centres = ctx[ctx["tier"].isin(["central_city", "county_town"])]
        centres = centres[~(centres.geometry.isna() | centres.geometry.is_empty)]
        if len(centres):
            maps.add_settlements(m, centres, tiers=["central_city", "county_town"], legend=False)
    maps.add_candidates(m, layer, pass_col="verdict", reasons_col="reasons",  # noqa: S106 - a column, not a password
                        name=f"{p.label_zh}候选 {p.label_en} candidates")
    maps.add_title(m, f"{p.label_zh}候选评估", f"{p.label_en} check: {len(layer)} located candidates")
    maps.add_layer_control(m)
    return maps.save(m, path)


def _optional_layer(path: str | None, option: str) -> Any:
    import geopandas as gpd

    if not path:
        return None
    file = input_path(path, option)
    try:
        return gpd.read_file(file)
    except (OSError, RuntimeError) as exc:      # pyogrio's DataSourceError is a RuntimeError
        raise UsageError(f"{option} {file}: cannot be read as a vector layer ({exc})") from exc


def check_context(session: Session, args: Any) -> tuple[Any, Any, str]:
    """Settlements the spatial criteria measure from, what the map draws underneath, and a line saying which."""
    if args.no_context:
        return None, None, "context: none (--no-context): spatial criteria give 'no data'"
    if session.workspace is not None or args.context:
        ctx = session.settlements(args.context, option="--context")
        towns = ctx[ctx["tier"].isin(["county_town", "central_city"])]
        names = ", ".join(str(n) for n in towns["name"])
        drawn = {"settlements": ctx, "boundaries": session.boundaries(None, required=False)}
        return ctx, drawn, f"context: county town / central city locations from your data: {names or 'none'}"
    from ..datasets import load_bazhong

    region = load_bazhong()
    session.cite("context: embedded 巴中市 county towns and designations")
    return region, region, "context: county town / central city locations from the embedded register (巴城 and 县城)"


def cmd_check(args: Any) -> int:
    """Check candidates against a designation profile; write tables, a summary and a map to --out."""
    if args.list_profiles:
        for name in designation.available_profiles():
            prof = designation.load_profile(name)
            echo(f"{name:<16} {prof.label_zh} / {prof.label_en}: {prof.description}")
        return 0
    try:
        profile = designation.load_profile(args.profile)
    except UnknownProfileError as exc:
        raise UsageError(str(exc)) from None
    session = Session(args)
    if args.candidates is None and session.workspace is None:
        raise UsageError("give a CANDIDATES file (or --list-profiles), or run in a workspace")
    candidates = session.settlements(args.candidates, option="CANDIDATES", strict=False)
    if args.candidates is None:
        candidates = candidates[candidates["tier"].isin(["town", "featured_town"])]
    context, drawn, line = check_context(session, args)
    demand = _optional_layer(args.demand, "--demand")
    roads = _optional_layer(args.roads, "--roads")
    result = captured(designation.check, candidates, profile, context=context, demand=demand, roads=roads)
    out = Path(args.out) if args.out else (session.output(f"check_{profile.name}") if session.workspace is not None
                                           else Path("bazhong_check"))
    paths = designation.write_check_report(result, out)
    for p in paths.values():
        if Path(p).suffix == ".md":
            text = Path(p).read_text(encoding="utf-8").rstrip("\n")
            Path(p).write_text(text + "\n\n" + line + "\n\n数据来源 / Sources: " + "; ".join(session.sources) + "\n",
                               encoding="utf-8")
    map_path = write_check_map(result, out / f"{profile.name}_map.html", drawn)
    if map_path is not None:
        paths["map"] = map_path
    _print_check(result, paths, line)
    return 0


def _print_check(result: designation.CheckResult, paths: dict, context_line: str) -> None:
    profile = result.profile
    counts = result.counts()
    echo(context_line)
    echo(f"{profile.label_zh} / {profile.label_en}: {len(result.verdicts)} candidates — qualifies "
         f"{counts['qualifies']}, does not qualify {counts['does not qualify']}, incomplete {counts['incomplete']}")
    cols = ["rank", "code", "name", "verdict", "score", "n_pass", "n_fail", "n_no_data"]
    echo(result.verdicts[cols].to_string(index=False))
    if len(result.missing_data):
        echo("\ndata to collect (缺失数据):")
        for r in result.missing_data.itertuples(index=False):
            echo(f"  {r.data_needed} ({r.data_needed_zh}): {r.n_candidates} candidate(s) — {r.criteria}")
    echo("\nwrote " + ", ".join(str(p) for p in paths.values()))


def cmd_plan(args: Any) -> int:
    """Choose which candidate towns to designate so that the most people live within the standard."""
    from .. import location

    session = Session(args)
    settlements = session.settlements(args.settlements)
    candidates = select_facilities(settlements, word_list(args.candidates))
    demand = settlements[settlements["population"].notna()]
    if demand.empty:
        raise UsageError("plan needs settlements with a population (the demand); none has one")
    roads = None
    if args.minutes is not None:
        roads, _ = session.roads(args.roads)
    result = captured(location.plan_designations, candidates, demand, args.k, objective=args.objective,
                      within_km=args.within_km, within_minutes=args.minutes, roads=roads)
    chosen = candidates[candidates["code"].isin(result.chosen)]
    table = pd.DataFrame({"code": chosen["code"], "name": chosen["name"], "tier": chosen["tier"],
                          "population": chosen["population"]})
    echo(f"{args.objective}: {len(result.chosen)} town(s) chosen ({result.status}); objective value "
         f"{result.objective_value:,.0f}")
    for r in table.itertuples(index=False):
        echo(f"  {r.code} {r.name}")
    for n in getattr(result, "notes", []) or []:
        note(n)
    deliver(table, args.out or session.output("plan.xlsx"), session)
    return 0


def add_designation_commands(sub: Any) -> None:
    """Register check and plan."""
    p = sub.add_parser("check", help="check designation candidates against a criteria profile: table, summary, map "
                                     "(候选镇评估)")
    p.add_argument("candidates", nargs="?", metavar="CANDIDATES",
                   help="candidate towns (CSV/XLSX/point layer); default: the workspace's towns")
    p.add_argument("--profile", default="key-town", metavar="NAME|FILE",
                   help="shipped profile (see --list-profiles) or a .toml file (default key-town)")
    p.add_argument("--out", metavar="DIR", help="output folder (default ./bazhong_check, or outputs/ of the workspace)")
    p.add_argument("--context", metavar="FILE", help="settlements the distances are measured from (default: the "
                                                     "workspace's settlements, else the embedded county towns)")
    p.add_argument("--no-context", action="store_true",
                   help="measure no distances (spatial criteria give 'no data')")
    p.add_argument("--demand", metavar="FILE",
                   help="points/polygons with a population column, for catchment-population criteria")
    p.add_argument("--roads", metavar="FILE", help="road lines, for road-access and travel-time criteria")
    p.add_argument("--list-profiles", action="store_true", help="list the shipped profiles and exit")
    add_column_options(p)
    add_workspace_options(p)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("plan", help="choose towns to designate so most people live within a standard (选址规划)")
    p.add_argument("--settlements", metavar="FILE", help="settlements with population (default: the workspace's)")
    p.add_argument("--candidates", default="town,featured_town", metavar="LIST",
                   help="tiers or designations of the candidates (default town,featured_town)")
    p.add_argument("--k", type=int, help="number of towns to designate")
    p.add_argument("--objective", default="covered_population",
                   choices=["covered_population", "p_median", "set_cover", "p_center"])
    p.add_argument("--within-km", type=float, help="service standard in km (covering objectives)")
    p.add_argument("--minutes", type=float, help="service standard in minutes by road (needs roads)")
    p.add_argument("--roads", metavar="FILE", help="road lines (default: the workspace's)")
    p.add_argument("--out", metavar="FILE", help="output .xlsx/.csv (default: outputs/plan.xlsx)")
    p.add_argument("--lang", choices=["zh", "en"], help="headers (default: the workspace's, else zh)")
    add_column_options(p)
    add_workspace_options(p)
    p.set_defaults(func=cmd_plan)
