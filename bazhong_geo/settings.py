"""Settings defined once: the work CRS, environment lookups and processing sizes.

Every module that needs one of these values imports it from here; nothing else defines them.

>>> from bazhong_geo import settings
>>> settings.WORK_CRS
'EPSG:4545'
"""

from __future__ import annotations

import os
from pathlib import Path

WORK_CRS = "EPSG:4545"
"""CGCS2000 / 3-degree Gauss-Kruger CM 108E: the CRS every analysis function returns for Bazhong."""

CGCS2000 = "EPSG:4490"
"""CGCS2000 geographic (longitude, latitude)."""

WGS84 = "EPSG:4326"
"""WGS-84 geographic (longitude, latitude)."""

ENV_DATA = "BAZHONG_GEO_DATA"
"""Environment variable naming a planner-owned data folder that overrides the packaged tables."""

ENV_CACHE = "BAZHONG_GEO_CACHE"
"""Environment variable naming the cache folder (converted boundaries)."""

ENV_CHROMIUM = "BAZHONG_GEO_CHROMIUM"
"""Environment variable naming the Chromium/Chrome executable used for PNG/PDF export."""

STRIP_CELLS = 4_000_000
"""Cells per raster strip read at once by the zonal engine (bounds memory: ~32 MB of float64 per strip)."""


def env_path(name: str) -> Path | None:
    """Return the path named by environment variable ``name``, or None when it is unset or empty.

    Parameters
    ----------
    name : str
        The variable, e.g. :data:`ENV_DATA`.

    Returns
    -------
    pathlib.Path or None

    Examples
    --------
    >>> env_path("BAZHONG_GEO_SURELY_UNSET") is None
    True
    """
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser() if value else None


def cache_dir() -> Path:
    """Return the cache folder (converted boundaries): ``BAZHONG_GEO_CACHE``, else the user cache folder.

    Examples
    --------
    >>> cache_dir().name in ("bazhong_geo", Path(os.environ.get(ENV_CACHE, "x")).name)
    True
    """
    env = env_path(ENV_CACHE)
    if env is not None:
        return env
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("bazhong_geo"))
