"""The one exact zonal engine of bazhong_geo: coverage fractions, true cell areas, streamed strips, accumulators.

One concern per module:

=================  ====================================================================================
``coverage``       exact coverage fractions of polygons on a raster grid (signed-area accumulation)
``areas``          true ellipsoidal areas: the one area density of any CRS, cell areas, polygon areas
``raster``         one raster opener (path, open dataset, or ``(array, transform, crs)``), typed errors
``strips``         the raster read in strips (``settings.STRIP_CELLS`` cells) and each strip's summary
``zones``          :class:`ZoneCoverage`: zones on a grid, computed once, reused on every raster of it
``accumulate``     per-zone sums, shares and count/min/max/mean over coverage-weighted cells
``stats``          :func:`zonal_stats` (every exactextract statistic, weighted, lines by length), :func:`zonal_cells`
``population``     :func:`population_within`: people in polygons from points, polygons or a raster
=================  ====================================================================================

Exact means as exactextract defines it: a cell cut by a zone's edge counts by the share of its area inside
the zone; exactextract stays the peer the tests compare against.

>>> from bazhong_geo import zonal
>>> sorted(zonal.__all__)[:3]
['AreaSums', 'CellArea', 'Coverage']
"""

from __future__ import annotations

from .accumulate import AreaSums, ZoneStats, coverage_sums
from .areas import CellArea, area_density, area_km2
from .coverage import Coverage, compute_coverage
from .population import population_within
from .raster import Raster, open_raster
from .stats import STATISTICS, zonal_cells, zonal_stats
from .strips import strips
from .zones import ZoneCoverage, zone_coverage

__all__ = [
    "STATISTICS",
    "AreaSums",
    "CellArea",
    "Coverage",
    "Raster",
    "ZoneCoverage",
    "ZoneStats",
    "area_density",
    "area_km2",
    "compute_coverage",
    "coverage_sums",
    "open_raster",
    "population_within",
    "strips",
    "zonal_cells",
    "zonal_stats",
    "zone_coverage",
]
