"""The work CRS chosen for a region: a CGCS2000 3-degree Gauss–Krüger zone, or an Albers equal-area CRS.

Prefectures and counties get the CGCS2000 3-degree Gauss–Krüger zone (EPSG:4534 … 4554, central meridians 75°E …
135°E) whose central meridian is nearest the centre of their bounding box. Provinces and the country span several
zones; they get an Albers equal-area conic on the CGCS2000 ellipsoid (GRS80): for a province, standard parallels at
1/6 and 5/6 of its latitude span and the central meridian at its centre; for China, the usual 25°N / 47°N, 105°E.

>>> gk_zone_epsg(106.8)            # Bazhong
'EPSG:4545'
>>> gk_zone_epsg(75.0), gk_zone_epsg(134.9)
('EPSG:4534', 'EPSG:4554')
"""

from __future__ import annotations

from .. import crs

GK_FIRST_CM, GK_LAST_CM = 75, 135

CHINA_ALBERS = ("+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs "
                "+type=crs")
"""Albers equal-area conic for China (25°N / 47°N, 105°E) on the GRS80 (CGCS2000) ellipsoid."""


def gk_zone_epsg(lon: float) -> str:
    """Return the CGCS2000 3-degree Gauss–Krüger CRS (``EPSG:45xx``, CM in metres, no zone prefix) for a longitude.

    The zone is the one whose central meridian (a multiple of 3°) is nearest ``lon``, clipped to China's zones
    75°E … 135°E.

    Parameters
    ----------
    lon : float
        Longitude in degrees east.

    Returns
    -------
    str

    Examples
    --------
    >>> from pyproj import CRS
    >>> CRS(gk_zone_epsg(104.06)).name      # Chengdu
    'CGCS2000 / 3-degree Gauss-Kruger CM 105E'
    """
    cm = min(max(3 * round(float(lon) / 3.0), GK_FIRST_CM), GK_LAST_CM)
    return crs.gauss_kruger_crs("cgcs2000", cm // 3, zone_prefix=False)


def albers_for(bounds: tuple[float, float, float, float]) -> str:
    """Return an Albers equal-area PROJ string fitted to a longitude/latitude extent.

    Parameters
    ----------
    bounds : tuple
        ``(min_lon, min_lat, max_lon, max_lat)`` in degrees.

    Returns
    -------
    str
        Standard parallels at 1/6 and 5/6 of the latitude span, central meridian at the centre, GRS80 ellipsoid.

    Examples
    --------
    >>> albers_for((97.3, 26.0, 108.5, 34.3))
    '+proj=aea +lat_0=0 +lon_0=102.9 +lat_1=27.38 +lat_2=32.92 +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs +type=crs'
    """
    min_lon, min_lat, max_lon, max_lat = (float(b) for b in bounds)
    span = max_lat - min_lat
    lat_1, lat_2 = min_lat + span / 6.0, max_lat - span / 6.0
    lon_0 = (min_lon + max_lon) / 2.0
    return (f"+proj=aea +lat_0=0 +lon_0={lon_0:.1f} +lat_1={lat_1:.2f} +lat_2={lat_2:.2f} +x_0=0 +y_0=0 "
            f"+ellps=GRS80 +units=m +no_defs +type=crs")


def work_crs_for(level: str, bounds: tuple[float, float, float, float]) -> str:
    """Return the work CRS for a region of ``level`` whose longitude/latitude extent is ``bounds``.

    Examples
    --------
    >>> work_crs_for("prefecture", (106.3, 31.2, 107.8, 32.8))
    'EPSG:4545'
    >>> work_crs_for("country", (73.5, 18.0, 135.1, 53.6)) == CHINA_ALBERS
    True
    """
    if level == "country":
        return CHINA_ALBERS
    if level == "province":
        return albers_for(bounds)
    return gk_zone_epsg((float(bounds[0]) + float(bounds[2])) / 2.0)
