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
from .files import check_input_file
from .formats import TABLE_SUFFIXES, VECTOR_SUFFIXES
from .geometry import BAZHONG_BBOX
from .readers import read_boundaries, read_settlements, report_of

__all__ = [
                      "BAZHONG_BBOX",
                      "CODE_ALIASES",
                      "LAT_ALIASES",
                      "LEVEL_ALIASES",
                      "LON_ALIASES",
                      "NAME_ALIASES",
                      "PARENT_ALIASES",
                      "POP_ALIASES",
                      "TABLE_SUFFIXES",
                      "TIER_ALIASES",
                      "VECTOR_SUFFIXES",
                      "WKT_ALIASES",
                      "ValidationReport",
                      "check_input_file",
                      "read_boundaries",
                      "read_settlements",
                      "report_of",
]
