"""Meeting maps: folium maps of settlements, catchments, built-up area and progress, drawn from what they are given.

One concern per module:

========== ====================================================================================
style      symbols, palettes, texts and labels, designation labels, number formatting
geometry   display copies of layers (simplified, longitude/latitude, rounded), GeoJSON features
base       the Leaflet map, basemaps, fitting the view, panels, title, scale bar, layer control
layers     boundaries, settlements, catchments, built-up areas, designated towns, candidates
raster     raster overlays embedded as PNG: classes with their legend, or a colour ramp
classes    class tables of categorical rasters (ESA WorldCover, GHSL SMOD, CLCD, a user's table)
styled     any GeoDataFrame as a styled polygon, line or point layer (a plain style dict)
choropleth classified values (mapclassify) and their legend
legend     tier legend, categorical legends, colour-ramp legends
panel      the progress panel
compose    whole maps: settlement_map, progress_map, catchment_map, meeting_map
markup     escaping and safe JSON for HTML and scripts
elements   the folium elements and the ``bz`` browser runtime
offline    one self-contained HTML file (Leaflet inlined): to_html, save, show
layout     the print page: paper, extent, title, legends, north arrow, scales, sources
export     PNG/PDF through headless Chromium (screen page or print page, one page per county)
========== ====================================================================================

Maps compute nothing: catchments and progress tables come from the caller
(:func:`bazhong_geo.meeting.build_meeting_inputs` for the meeting map of ``bazhong-geo map``).

>>> m = base_map(lang="en")
>>> "Leaflet" in to_html(m)
True
"""

from __future__ import annotations

from .base import add_layer_control, add_scale_bar, add_title, base_map, fit_bounds
from .choropleth import add_choropleth, classify
from .classes import CLCD, GHSL_SMOD, WORLDCOVER, ClassTable, class_table, detect_table
from .compose import catchment_map, meeting_map, progress_map, settlement_map
from .export import export_pdf, export_png, export_print
from .geometry import prepare_geometries
from .layers import add_boundaries, add_builtup, add_candidates, add_catchments, add_designated, add_settlements
from .layout import page_geometry, parse_extent, print_layout
from .legend import add_categorical_legend, add_ramp_legend, add_tier_legend
from .offline import leaflet_assets, save, show, to_html
from .panel import add_progress_panel
from .raster import add_raster
from .style import RAMPS, STATUS_COLORS, TIER_STYLES, population_radius
from .styled import add_layer, check_style

__all__ = [
    "CLCD",
    "GHSL_SMOD",
    "RAMPS",
    "STATUS_COLORS",
    "TIER_STYLES",
    "WORLDCOVER",
    "ClassTable",
    "add_boundaries",
    "add_builtup",
    "add_candidates",
    "add_catchments",
    "add_categorical_legend",
    "add_choropleth",
    "add_designated",
    "add_layer",
    "add_layer_control",
    "add_progress_panel",
    "add_ramp_legend",
    "add_raster",
    "add_scale_bar",
    "add_settlements",
    "add_tier_legend",
    "add_title",
    "base_map",
    "catchment_map",
    "check_style",
    "class_table",
    "classify",
    "detect_table",
    "export_pdf",
    "export_png",
    "export_print",
    "fit_bounds",
    "leaflet_assets",
    "meeting_map",
    "page_geometry",
    "parse_extent",
    "population_radius",
    "prepare_geometries",
    "print_layout",
    "progress_map",
    "save",
    "settlement_map",
    "show",
    "to_html",
]
