"""Distributed runs of bazhong_geo on Dask: the zonal engine over tiled mosaics, DEGURBA, network catchments.

Single process by default: every function takes ``client=None`` and then runs its partitions here, one after
the other. Pass a ``distributed.Client`` (from :func:`local_cluster`, :func:`client_from_options`, or a
dask-jobqueue / dask-gateway cluster, see ``docs/dask.md``) to run them on a cluster. Results are the
single-process results (tested to 1e-12 relative on a 2-worker local cluster).

=================  ====================================================================================
``cluster``        dask imported lazily; :func:`local_cluster`, :func:`client_from_options`, task running
``mosaic``         tiled mosaics (GeoTIFF tiles or a GDAL VRT), :func:`write_vrt`
``tiled_zonal``    built-up km² by zone over a mosaic and many years, partitioned by tile
``tiled_degurba``  DEGURBA: the 1 km aggregation partitioned by tile, the classification on the km grid
``partitions``     network catchments with counties as partitions
=================  ====================================================================================

>>> from bazhong_geo import distributed
>>> distributed.client_from_options(workers=None, scheduler=None) is None    # the single-process path
True
"""

from __future__ import annotations

from .cluster import DEFAULT_MEMORY_LIMIT, client_from_options, close_client, local_cluster, require_dask, run_tasks
from .mosaic import Mosaic, Tile, read_mosaic, write_vrt
from .partitions import network_catchments_by_county
from .tiled_degurba import degurba_tiled
from .tiled_zonal import builtup_by_zone, builtup_by_zone_tiled

__all__ = [
    "DEFAULT_MEMORY_LIMIT",
    "Mosaic",
    "Tile",
    "builtup_by_zone",
    "builtup_by_zone_tiled",
    "client_from_options",
    "close_client",
    "degurba_tiled",
    "local_cluster",
    "network_catchments_by_county",
    "read_mosaic",
    "require_dask",
    "run_tasks",
    "write_vrt",
]
