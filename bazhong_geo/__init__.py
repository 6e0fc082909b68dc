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
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name):
    """Load public names lazily from their modules (PEP 562)."""
    if name in _EXPORTS:
        value = getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'bazhong_geo' has no attribute {name!r}")


def __dir__():
    return __all__
