"""Read and validate planners' files — boundaries and settlement registers — into GeoDataFrames in the work CRS.

The readers (:mod:`.readers`) are pipelines of three kinds of steps: reading a format (:mod:`.formats`),
recognising and checking columns (:mod:`.columns`), and making the geometry (:mod:`.geometry`). Every problem
goes into one :class:`ValidationReport`.

>>> from bazhong_geo import io
>>> sorted(io.TABLE_SUFFIXES)[:2]
['.csv', '.tsv']
"""

from .._validate import ValidationReport
from .columns import (
                      CODE_ALIASES,
                      LAT_ALIASES,
                      LEVEL_ALIASES,
                      LON_ALIASES,
                      NAME_ALIASES,
                      PARENT_ALIASES,
                      POP_ALIASES,
                      TIER_ALIASES,
                      WKT_ALIASES,
)
from .formats import TABLE_SUFFIXES, VECTOR_SUFFIXES
from .geometry import BAZHONG_BBOX
from .files import check_input_file
from .readers import read_boundaries, read_settlements, report_of

__all__ = ["read_boundaries", "read_settlements", "report_of", "check_input_file", "ValidationReport", "BAZHONG_BBOX", "VECTOR_SUFFIXES",
           "TABLE_SUFFIXES", "CODE_ALIASES", "NAME_ALIASES", "LEVEL_ALIASES", "TIER_ALIASES", "PARENT_ALIASES",
           "POP_ALIASES", "LON_ALIASES", "LAT_ALIASES", "WKT_ALIASES"]
