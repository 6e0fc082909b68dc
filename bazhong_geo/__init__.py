"""bazhong_geo: geospatial toolkit for urban-rural planning in Bazhong (巴中市), Sichuan, and any Chinese region.

The public face is a short list of names; every module loads on first use so that ``import bazhong_geo`` stays
fast (no geopandas, rasterio or folium until a name that needs them is touched).

>>> import bazhong_geo as bg
>>> bg.Tier.parse("巴城").value, bg.fmt(2712894, "persons", "en")
('central_city', '2,712,894 people')
>>> region = bg.load_bazhong()                      # doctest: +SKIP
>>> region.system.summary()                         # doctest: +SKIP
>>> neighbours = bg.compare.compare(["511900", "510800", "511700", "511300", "511600"])   # doctest: +SKIP
"""

from importlib import import_module

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    # the region as data
    "load_bazhong": "datasets",
    "load_region": "regions",
    "region_info": "regions",
    "Region": "datasets",
    "RegionInfo": "region",
    # vocabulary and units
    "Tier": "vocabulary",
    "SettlementSystem": "settlements",
    "fmt": "units",
    # files in and out
    "read_boundaries": "io",
    "read_settlements": "io",
    "ValidationReport": "io",
    "write_table": "writers",
    "init_workspace": "workspace",
    "load_workspace": "workspace",
    # geometry and measures
    "WORK_CRS": "crs",
    "to_work_crs": "crs",
    "area_km2": "crs",
    "population_within": "zonal",
    "area_by_zone": "builtup",
    "degurba": "urbanization",
    "DegurbaThresholds": "urbanization",
    "urbanization_rate": "urbanization",
    "allocate": "allocation",
    "qa_roads": "roads_qa",
    # plan and progress
    "load_plan": "targets",
    "load_indicators": "targets",
    "measure": "targets",
    "progress": "targets",
    "check": "designation",
    "load_profile": "profiles",
    "plan_designations": "location",
    # maps
    "build_meeting_inputs": "meeting",
    "settlement_map": "maps",
    "progress_map": "maps",
    "catchment_map": "maps",
    "meeting_map": "maps",
    "save": "maps",
    "export_png": "export",
    "export_pdf": "export",
}

# modules, importable as attributes: bazhong_geo.builtup.area_by_zone(...), bazhong_geo.compare.compare(...)
_MODULES = ("settings", "region", "regions", "vocabulary", "units", "crs", "io", "datasets", "settlements", "zonal",
            "builtup", "urbanization", "catchments", "network", "accessibility", "allocation", "roads_qa", "targets",
            "trajectory", "designation", "profiles", "location", "compare", "meeting", "maps", "export", "workspace",
            "writers")

# the public names: the exports, the modules and the version (tests/test_architecture.py checks they agree)
__all__ = [
    "WORK_CRS",
    "DegurbaThresholds",
    "Region",
    "RegionInfo",
    "SettlementSystem",
    "Tier",
    "ValidationReport",
    "__version__",
    "accessibility",
    "allocate",
    "allocation",
    "area_by_zone",
    "area_km2",
    "build_meeting_inputs",
    "builtup",
    "catchment_map",
    "catchments",
    "check",
    "compare",
    "crs",
    "datasets",
    "degurba",
    "designation",
    "export",
    "export_pdf",
    "export_png",
    "fmt",
    "init_workspace",
    "io",
    "load_bazhong",
    "load_indicators",
    "load_plan",
    "load_profile",
    "load_region",
    "load_workspace",
    "location",
    "maps",
    "measure",
    "meeting",
    "meeting_map",
    "network",
    "plan_designations",
    "population_within",
    "profiles",
    "progress",
    "progress_map",
    "qa_roads",
    "read_boundaries",
    "read_settlements",
    "region",
    "region_info",
    "regions",
    "roads_qa",
    "save",
    "settings",
    "settlement_map",
    "settlements",
    "targets",
    "to_work_crs",
    "trajectory",
    "units",
    "urbanization",
    "urbanization_rate",
    "vocabulary",
    "workspace",
    "write_table",
    "writers",
    "zonal"
]


def __getattr__(name: str) -> object:
    """Load public names lazily from their modules (PEP 562)."""
    if name in _EXPORTS:
        value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    if name in _MODULES:
        module = import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'bazhong_geo' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public names (for tab completion)."""
    return __all__
