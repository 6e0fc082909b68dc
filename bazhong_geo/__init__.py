"""bazhong_geo: geospatial toolkit for urban-rural planning in Bazhong (巴中市), Sichuan.

The public face is a short list of names; heavy modules (geopandas, rasterio, folium) load
on first use so that ``import bazhong_geo`` stays fast.

>>> import bazhong_geo as bg
>>> region = bg.load_bazhong()                      # doctest: +SKIP
>>> region.system.summary()                         # doctest: +SKIP
"""

from importlib import import_module

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "Tier": "settlements",
    "SettlementSystem": "settlements",
    "read_boundaries": "io",
    "read_settlements": "io",
    "ValidationReport": "io",
    "load_bazhong": "datasets",
    "Region": "datasets",
    "WORK_CRS": "crs",
    "to_work_crs": "crs",
    "area_km2": "crs",
    "load_plan": "targets",
    "load_indicators": "targets",
    "measure": "targets",
    "progress": "targets",
    "settlement_map": "maps",
    "progress_map": "maps",
    "catchment_map": "maps",
    "meeting_map": "maps",
    "save": "maps",
    "export_png": "export",
    "export_pdf": "export",
    "check": "designation",
    "load_profile": "profiles",
    "plan_designations": "location",
    "degurba": "urbanization",
    "urbanization_rate": "urbanization",
    "area_by_zone": "builtup",
}

# analysis modules, importable as attributes: bazhong_geo.builtup.area_by_zone(...), bazhong_geo.catchments.voronoi(...)
_MODULES = ("crs", "io", "datasets", "settlements", "builtup", "urbanization", "catchments", "network",
            "accessibility", "targets", "trajectory", "designation", "profiles", "location", "maps", "export")

__all__ = sorted(_EXPORTS) + list(_MODULES) + ["__version__"]


def __getattr__(name):
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


def __dir__():
    return __all__
