"""Reading the planner's layers for the command line: files named by options, or the workspace's configured layers.

Every file read here is validated; its report is printed (warnings and repairs) and a file with errors stops the
command with the whole report (exit status 1). A :class:`Session` holds the workspace (``--workspace DIR`` or
``bazhong-geo.toml`` in the current folder), the column options (``--code-col`` ...) and the list of data sources
every output names.

Settlement tables are prepared before the loader checks them: headers recognised (乡镇代码, 名称, 经度, 常住人口,
等级 ...), 等级 words split into a tier and a designation (重点镇 is a designation of a town), and a table without
codes matched to the NBS register by name within county (exact, then normalised; every unmatched or ambiguous row
listed as an error).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import columns, io, matching
from .. import workspace as ws_mod
from .._validate import ValidationReport, detect_dbf_encoding
from .common import DataError, UsageError, echo, note

VECTOR_SUFFIXES = (".gpkg", ".shp", ".geojson", ".json", ".parquet", ".fgb")
RASTER_SUFFIXES = (".tif", ".tiff", ".vrt", ".img")


def add_workspace_options(parser: Any) -> None:
    """``--workspace`` and ``--debug``, on every command."""
    parser.add_argument("--workspace", metavar="DIR",
                        help="the workspace folder (default: bazhong-geo.toml in the current folder, if any)")
    parser.add_argument("--debug", action="store_true", help="show the Python traceback of an error")


def add_column_options(parser: Any, *, coords_default: str | None = None) -> None:
    """The column and coordinate options of every command that reads a file."""
    g = parser.add_argument_group("columns of the files read (字段)")
    g.add_argument("--code-col", metavar="COLUMN", help="column holding the administrative code (e.g. 乡镇代码)")
    g.add_argument("--name-col", metavar="COLUMN", help="column holding the name (e.g. 乡镇名称)")
    g.add_argument("--class-col", metavar="COLUMN", help="column holding the tier (等级) or the road class (道路等级)")
    g.add_argument("--population-col", metavar="COLUMN", help="column holding the population (e.g. 常住人口)")
    g.add_argument("--coords", default=coords_default, metavar="SYSTEM",
                   help="coordinate system of a settlement file (and of the file validate checks): wgs84, cgcs2000, "
                        "gcj02 (Amap/Tencent 火星坐标), bd09 (Baidu) or EPSG:xxxx (default: the workspace's, else "
                        "wgs84 for tables and the file's own CRS)")


@dataclass(frozen=True)
class FileOptions:
    """How to read one file.

    Attributes
    ----------
    mapping : dict
        Target -> source column (the workspace's fields, overridden by ``--code-col`` ...).
    optional : tuple
        Targets named by a command-line option for every file a command reads: dropped (with a note) where this
        file lacks the column (``--class-col 道路等级`` names the roads' class, not the settlements' 等级).
    layer : str or None
        Sheet of a workbook or layer of a GeoPackage.
    encoding : str or None
        Text encoding of a CSV or .dbf (detected when None).
    """

    mapping: dict = field(default_factory=dict)
    optional: tuple = ()
    layer: str | None = None
    encoding: str | None = None


# =============================================================================================== reports

def print_report(report: ValidationReport, *, full: bool = False) -> None:
    """Print a loader report: the whole report when ``full``, else its warnings and repairs (if any)."""
    if full:
        echo(report.to_text())
        return
    shown = [i for i in report.issues if i.severity in ("warning", "repair")]
    if shown:
        echo(f"{Path(report.path).name}: {len(shown)} warning(s)/repair(s) while reading")
        for i in shown:
            echo(f"  {i.severity.upper():7s} {i.code}: {i.message}")


def raise_if_errors(report: ValidationReport) -> None:
    """A report with errors stops the command: :class:`DataError` carrying the whole report."""
    if report.has_errors:
        raise DataError(f"{report.path} cannot be used as it is ({report.count('error')} error(s)); the whole "
                        f"report follows, fix the file (or name its columns with --code-col/--name-col/--class-col/"
                        f"--population-col) and run again:\n{report.to_text()}")


# =============================================================================================== raw tables

def read_raw(path: Path, *, sheet: str | None = None, encoding: str | None = None) -> pd.DataFrame:
    """A settlement file as a plain table of text cells; a point layer gives ``lon``/``lat`` (WGS-84) columns."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        raw = pd.read_excel(path, sheet_name=sheet or 0, dtype=object)
    elif suffix in (".csv", ".txt", ".tsv"):
        data = path.read_bytes()
        encodings = (encoding,) if encoding else ("utf-8-sig", "gb18030")
        for enc in encodings:
            try:
                text = data.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise DataError(f"{path}: not {'/'.join(encodings)} text; save it as UTF-8 (or give the encoding)")
        import io as _stdio

        raw = pd.read_csv(_stdio.StringIO(text), dtype=object, keep_default_na=False,
                          sep="\t" if suffix == ".tsv" else ",").replace({"": None})
    elif suffix in VECTOR_SUFFIXES:
        import geopandas as gpd

        gdf = gpd.read_parquet(path) if suffix == ".parquet" else gpd.read_file(path, layer=sheet, encoding=encoding)
        raw = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
        if gdf.crs is None:
            raise DataError(f"{path}: the layer has no coordinate system (.prj); give --coords EPSG:xxxx or set crs "
                            f"in the workspace")
        pts = gdf.geometry.to_crs(4326)
        ok = pts.notna() & ~pts.is_empty & (pts.geom_type == "Point")
        raw["lon"] = pts.x.where(ok)
        raw["lat"] = pts.y.where(ok)
    else:
        raise UsageError(f"{path}: cannot read {suffix or 'a file without extension'} settlement files; use .xlsx, "
                         f".csv, .gpkg, .shp, .geojson or .parquet")
    return raw


# =============================================================================================== name matching

def county_of(value: Any) -> str | None:
    """County code of a county column value: a code, 通江县, 通江 or Tongjiang; None when unknown."""
    return matching.county_of(value)


def _candidates(register: pd.DataFrame, name: str, tier: str | None, county: str | None) -> pd.DataFrame:
    """Register rows a seat file's name may denote (townships and above unless the row is a village)."""
    if tier not in ("village", "central_village"):
        register = register[register["code"].astype(str).str.len() <= 9]
    return matching.candidates(register, name, tier, county)[0]


def match_codes(table: pd.DataFrame, register: pd.DataFrame, report: ValidationReport,
                register_name: str) -> pd.Series:
    """Codes for a table without a code column, matched by name within county; every miss is an error."""
    codes: list[str | None] = []
    unmatched, ambiguous = [], []
    for row, name, tier, county_value in zip(table["file_row"], table["name"], table.get("tier", [None] * len(table)),
                                             table.get("county", [None] * len(table)), strict=True):
        if name is None or (isinstance(name, float) and np.isnan(name)):
            codes.append(None)
            continue
        county = county_of(county_value)
        hits = _candidates(register, str(name).strip(), tier if isinstance(tier, str) else None, county)
        if len(hits) == 1:
            codes.append(str(hits["code"].iloc[0]))
        elif len(hits) > 1:
            codes.append(None)
            listing = "; ".join(f"{c} {n}" for c, n in zip(hits["code"], hits["name"], strict=True))
            ambiguous.append((row, name, listing))
        else:
            codes.append(None)
            unmatched.append((row, name, county_value))
    matched = sum(c is not None for c in codes)
    report.add("info", "codes_by_name", f"no code column: {matched} of {len(table)} row(s) matched to {register_name} "
                                        f"by name within county (exact, then without 镇/乡/街道)")
    if unmatched:
        listing = "; ".join(f"row {r} {n}" + (f" ({c})" if c else "") for r, n, c in unmatched)
        report.add("error", "unmatched_name", f"{len(unmatched)} name(s) not found in {register_name}: {listing}; "
                   f"correct the names, add a 所属县 column, or add a code column (乡镇代码)",
                   rows=[r for r, _, _ in unmatched])
    if ambiguous:
        listing = "; ".join(f"row {r} {n}: {cands}" for r, n, cands in ambiguous)
        report.add("error", "ambiguous_name", f"{len(ambiguous)} name(s) match several settlements: {listing}; add a "
                   f"所属县 column or a code column", rows=[r for r, _, _ in ambiguous])
    return pd.Series(codes, index=table.index, dtype=object)


# =============================================================================================== settlements

def option_targets(args: Any, kind: str) -> tuple:
    """Targets named by a column option on the command line (for :func:`fit_mapping`)."""
    given = {"code": "code_col", "name": "name_col", "tier" if kind == "settlements" else "road_class": "class_col",
             "population": "population_col"}
    return tuple(t for t, opt in given.items() if getattr(args, opt, None))


def column_mapping(args: Any, layer: ws_mod.Layer | None, kind: str) -> dict:
    """Target -> source column: the workspace layer's fields, overridden by the command-line options."""
    out = dict(layer.fields) if layer is not None else {}
    given = {"code": getattr(args, "code_col", None), "name": getattr(args, "name_col", None),
             "tier" if kind == "settlements" else "road_class": getattr(args, "class_col", None),
             "population": getattr(args, "population_col", None)}
    roles = columns.KINDS[kind]
    for target, source in given.items():
        if source and target in roles:
            out[target] = source
    return out


def fit_mapping(mapping: dict, optional: tuple, available: list, path: Path) -> dict:
    """Drop the ``optional`` targets whose column this file lacks (see :class:`FileOptions`)."""
    out = dict(mapping)
    for target in optional:
        if target in out and out[target] not in available:
            note(f"{path.name}: no column {out[target]!r}; its option applies to the other file(s) read")
            del out[target]
    return out


def _classify_tiers(table: pd.DataFrame, value_map: dict | None, report: ValidationReport) -> None:
    classified = columns.classify_values(table["tier"], value_map)
    bad = classified["problem"] != ""      # left as written: the loader lists them with the allowed tiers
    only_designation = classified["tier"].isna() & classified["designation"].notna()
    if only_designation.any():
        words = sorted({str(v) for v in table["tier"][only_designation]})
        report.add("info", "designation_in_tier", f"等级 {', '.join(words)} name(s) a designation, not a tier: "
                   f"{int(only_designation.sum())} row(s) read as towns (镇) holding it")
    tiers = classified["tier"].where(~only_designation, "town")
    designations = classified["designation"]
    if "designations" in table.columns:
        held = [str(a) if pd.notna(a) and str(a).strip() else "" for a in table["designations"]]
        designations = [";".join(x for x in (a, d or "") if x) or None
                        for a, d in zip(held, designations, strict=True)]
    table["tier"] = tiers.where(~bad, table["tier"])
    table["designations"] = designations


def _check_code_and_name(table: pd.DataFrame, mapping: dict, report: ValidationReport) -> None:
    """A code column of names (``--code-col 名称``) is said to be one; a missing name column is added, empty."""
    if "code" in table.columns:
        values = table["code"].dropna().astype(str).str.strip()
        values = values[values != ""]
        if len(values) and not values.str.fullmatch(r"\d+").any():
            source = mapping.get("code", "code")
            report.add("warning", "codes_are_not_codes", f"the code column {source!r} holds no administrative code "
                       f"(e.g. {values.iloc[0]!r}); if the file has no codes, leave out --code-col (or the "
                       f"workspace's code field): rows are then matched to the register by name")
    if "name" not in table.columns and "code" in table.columns:
        table["name"] = None
        report.add("warning", "no_name_column", "no name column: names left empty (name one with --name-col)")


def prepare_settlements(path: Path, opts: FileOptions, *, value_map: dict | None, register: pd.DataFrame,
                        register_name: str) -> tuple[pd.DataFrame, ValidationReport]:
    """A settlement file as the loader's table, and the issues found on the way.

    The table has code, name, tier, population, designations, lon, lat; the issues come from column recognition,
    等级 words and name matching.
    """
    report = ValidationReport(str(path), "settlements")
    raw = read_raw(path, sheet=opts.layer, encoding=opts.encoding)
    mapping = fit_mapping(opts.mapping, opts.optional, list(raw.columns), path)
    table, colrep = columns.apply_columns(raw, "settlements", mapping)
    for src, dst, how in colrep.matched:
        report.columns[str(src)] = f"{dst} ({how})"
    for role, cands in colrep.ambiguous.items():
        report.add("error", "ambiguous_column", f"several columns could be the {role}: {', '.join(map(str, cands))}; "
                   f"name one (e.g. --{'class' if role == 'tier' else role.split('_')[-1]}-col {cands[0]})")
    table = table.loc[:, ~table.columns.duplicated()].copy()
    table.insert(0, "file_row", range(2, len(table) + 2))
    if "population" in table.columns:
        kind = colrep.population_kind
        table["population_kind"] = {"resident": "常住", "registered": "户籍"}.get(kind or "")
        if kind == "unspecified":
            report.add("warning", "population_kind", "the population column does not say 常住 or 户籍: its kind is "
                                                     "unknown (criteria on resident population give 'no data')")
    if "tier" in table.columns:
        _classify_tiers(table, value_map, report)
    _check_code_and_name(table, mapping, report)
    if "code" not in table.columns:
        if "name" not in table.columns:
            report.add("error", "no_code_or_name", f"neither a code nor a name column among {list(raw.columns)}; "
                       f"name them with --code-col / --name-col")
            table["name"] = None
        table["code"] = match_codes(table, register, report, register_name)
        if "tier" not in table.columns:
            known = register.set_index("code")["tier"]
            table["tier"] = table["code"].map(lambda c: known.get(c) if c is not None else None)
    return table.drop(columns=["file_row"]), report


def load_settlement_file(path: Path, opts: FileOptions, *, value_map: dict | None, coords: str,
                         register: pd.DataFrame, register_name: str,
                         region: Any = None) -> tuple[Any, ValidationReport]:
    """Prepare a settlement file, then read it with :func:`bazhong_geo.io.read_settlements` (errors reported)."""
    table, report = prepare_settlements(path, opts, value_map=value_map, register=register,
                                        register_name=register_name)
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp) / f"{path.stem}.csv"        # same name, so the loader's messages name the user's file
        table.to_csv(staged, index=False, encoding="utf-8")
        if path.suffix.lower() in VECTOR_SUFFIXES:
            coords = "wgs84"
        gdf, loaded = io.read_settlements(staged, coords=coords, errors="report", return_report=True, region=region,
                                          code_col="code", name_col="name")
    loaded.path = str(path)
    loaded.issues = report.issues + loaded.issues
    loaded.columns = {**report.columns, **{k: v for k, v in loaded.columns.items()
                                           if k not in ("code", "name") and k != v}}
    return gdf, loaded


# =============================================================================================== boundaries

def _sample_easting(path: Path, layer: str | None) -> float | None:
    import pyogrio

    info = pyogrio.read_info(path, layer=layer)
    bounds = info.get("total_bounds")
    return float(bounds[0]) if bounds is not None else None


def load_boundary_file(path: Path, opts: FileOptions, *,
                       coords: ws_mod.CoordinateSystem | None) -> tuple[Any, ValidationReport]:
    """Boundaries through :func:`bazhong_geo.io.read_boundaries`.

    Code and name columns are recognised as for any layer (乡镇代码, 乡镇名称 ...); the configured coordinate system
    applies where the file has none (prefixed Gauss–Krüger eastings give their zone).
    """
    import pyogrio

    layer, encoding = opts.layer, opts.encoding
    guess = detect_dbf_encoding(path)[0] if encoding is None and path.suffix.lower() == ".shp" else encoding
    fields = list(pyogrio.read_info(path, layer=layer, encoding=guess)["fields"])
    given = fit_mapping(opts.mapping, opts.optional, fields, path)
    rename, _ = columns.recognize_columns(pd.DataFrame(columns=fields), "boundaries", given)
    mapping = {**{target: source for source, target in rename.items() if target in ("code", "name")}, **given}
    kwargs: dict[str, Any] = {}
    if coords is not None:
        if coords.web is not None:
            kwargs["coords"] = coords.web
        else:
            kwargs["crs"] = coords.crs(sample_easting=_sample_easting(path, layer) if coords.projected else None)
    gdf, report = io.read_boundaries(path, code_col=mapping.get("code"), name_col=mapping.get("name"), layer=layer,
                                     encoding=encoding, errors="report", return_report=True, **kwargs)
    return gdf, report


# =============================================================================================== roads

def load_road_file(path: Path, opts: FileOptions, *, coords: ws_mod.CoordinateSystem | None,
                   speeds: dict | None) -> tuple[Any, dict, ValidationReport]:
    """Road lines in the work CRS, the speed table used, and a report.

    The lines carry ``road_class`` (and ``speed_kmh`` when the file has one); the report lists features,
    zero-length lines, classes without a speed (an error) and the road graph.
    """
    import geopandas as gpd

    from .. import crs as crs_mod
    from .. import network

    report = ValidationReport(str(path), "roads", row_label="FID")
    gdf = gpd.read_file(path, layer=opts.layer, encoding=opts.encoding)
    report.n_in = len(gdf)
    if coords is not None:
        gdf, notes = ws_mod.place_layer(gdf, coords, source=path.name)
        for n in notes:
            report.add("info", "crs", n)
    elif gdf.crs is None:
        report.add("error", "no_crs", f"{path.name} has no coordinate system (.prj); give --coords EPSG:xxxx or crs "
                                      f"in the workspace's [roads]")
        return gdf, {}, report
    else:
        report.crs_in = gdf.crs.to_string()
        gdf = crs_mod.to_work_crs(gdf)
    attributes = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    mapping = fit_mapping(opts.mapping, opts.optional, list(attributes.columns), path)
    renamed, colrep = columns.apply_columns(attributes, "roads", mapping)
    for src, dst, how in colrep.matched:
        report.columns[str(src)] = f"{dst} ({how})"
    for role, cands in colrep.ambiguous.items():
        report.add("error", "ambiguous_column", f"several columns could be the {role}: {', '.join(map(str, cands))}; "
                   f"name one with --class-col")
    out = gpd.GeoDataFrame(renamed, geometry=gdf.geometry.values, crs=gdf.crs)
    table = dict(speeds or {})
    if not table:
        t = network.default_speeds()
        table = dict(zip(t["road_class"].astype(str), t["speed_kmh"].astype(float), strict=True))
        source = "the default speed table (data/config/road_speeds.csv)"
    else:
        source = "the workspace's speeds"
    _check_roads(out, table, source, report)
    report.n_out = len(out)
    return out, table, report


def _check_roads(roads: Any, speeds: dict, source: str, report: ValidationReport) -> None:
    from .. import network

    fids = np.arange(len(roads))
    zero = (roads.geometry.length.fillna(0).to_numpy() == 0)
    if zero.any():
        report.add("warning", "zero_length", f"{int(zero.sum())} line(s) of zero length or without geometry",
                   rows=fids[zero])
    has_speed = "speed_kmh" in roads.columns
    if "road_class" not in roads.columns and not has_speed:
        report.add("error", "no_class_or_speed", "neither a road class (道路等级) nor a speed column; name the class "
                                                 "column with --class-col")
        return
    if "road_class" in roads.columns:
        classes = roads["road_class"].astype(str).str.strip()
        unknown = ~classes.isin(list(speeds)) if not has_speed else \
            ~classes.isin(list(speeds)) & pd.to_numeric(roads["speed_kmh"], errors="coerce").isna()
        if unknown.any():
            words = ", ".join(sorted(set(classes[unknown])))
            report.add("error", "unknown_class", f"{int(unknown.sum())} line(s) of class(es) without a speed in "
                       f"{source}: {words}; add them to [roads] speeds in the workspace (km/h)",
                       rows=fids[unknown.to_numpy()])
        counts = classes.value_counts()
        report.add("info", "classes", "classes: " + ", ".join(f"{k} {v} (speed {speeds.get(k, '-')} km/h)"
                                                              for k, v in counts.items()))
    if report.has_errors:
        return
    graph = network.build_graph(roads, class_col="road_class" if "road_class" in roads.columns else None,
                                speeds=speeds)
    _check_graph(roads, graph, report)


def _check_graph(roads: Any, graph: Any, report: ValidationReport, dangle_m: float = 10.0) -> None:
    """Connected components, and dangles: dead ends within ``dangle_m`` of a line they do not join."""
    import shapely
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n, u, v = len(graph.xy), np.asarray(graph.u), np.asarray(graph.v)
    if n == 0:
        return
    n_comp, labels = connected_components(coo_matrix((np.ones(len(u)), (u, v)), shape=(n, n)), directed=False)
    largest = np.bincount(labels).max() / n
    report.add("info" if n_comp == 1 else "warning", "components",
               f"road graph: {n} nodes, {len(u)} edges, {n_comp} connected component(s), the largest with "
               f"{largest:.0%} of the nodes" + ("" if n_comp == 1 else "; places on the smaller ones reach only "
                                                "each other (join the lines where they meet)"))
    dead = np.flatnonzero(np.bincount(np.r_[u, v], minlength=n) == 1)
    if not len(dead):
        return
    points = shapely.points(graph.xy[dead])
    lines = np.asarray(roads.geometry.values, dtype=object)
    near, line_idx = roads.sindex.query(points, predicate="dwithin", distance=dangle_m)
    gaps = shapely.distance(points[near], lines[line_idx])
    dangling = np.unique(near[gaps > 0.01])
    if len(dangling):
        fids = sorted({int(i) for i in line_idx[gaps > 0.01]})
        report.add("warning", "dangles", f"{len(dangling)} line end(s) stop within {dangle_m:g} m of a line they do "
                   f"not join (an unsnapped junction?): travel cannot pass there; the lines they approach are listed",
                   rows=fids)


# =============================================================================================== rasters

def check_raster(path: Path, *, legend: dict | None = None, builtup: tuple = (), boundaries: Any = None) -> \
        ValidationReport:
    """A land-cover raster: CRS, nodata, class values against the legend, extent against the boundaries."""
    import rasterio
    from rasterio.warp import transform_bounds

    report = ValidationReport(str(path), "raster")
    with rasterio.open(path) as src:
        report.n_in = report.n_out = src.width * src.height
        if src.crs is None:
            report.add("error", "no_crs", f"{path.name} has no coordinate system; write it with one (GeoTIFF tags)")
            return report
        report.crs_in = src.crs.to_string()
        res = abs(src.transform.a), abs(src.transform.e)
        report.add("info", "grid", f"{src.width} x {src.height} cells of {res[0]:g} x {res[1]:g} "
                                   f"{'m' if src.crs.is_projected else 'degrees'}, dtype {src.dtypes[0]}")
        if src.nodata is None:
            report.add("warning", "no_nodata", "no nodata value: every cell counts as observed (set one, e.g. 0)")
        step = max(1, int(max(src.width, src.height) // 2000))
        data = src.read(1, out_shape=(max(1, src.height // step), max(1, src.width // step)))
        values = set(np.unique(data).tolist()) - ({src.nodata} if src.nodata is not None else set())
        if legend:
            unknown = sorted(v for v in values if v not in legend)
            if unknown:
                report.add("warning", "unknown_classes", f"class value(s) {unknown[:20]} are not in the legend "
                                                         f"{sorted(legend)}")
            if builtup and not (set(builtup) & values):
                report.add("warning", "no_builtup", f"no cell of the built-up class(es) {list(builtup)} was seen")
        report.add("info", "values", f"values seen: {sorted(values)[:30]}")
        if boundaries is not None and len(boundaries):
            box = transform_bounds(src.crs, boundaries.crs, *src.bounds)
            x0, y0, x1, y1 = boundaries.total_bounds
            if box[0] > x0 or box[1] > y0 or box[2] < x1 or box[3] < y1:
                report.add("warning", "extent", "the raster does not cover all the boundaries: zones beyond it get "
                                                "no valid cells")
    return report
