"""Every custom exception of bazhong_geo: small subclasses of ``ValueError``.

Messages name the file, the rows or features concerned, what is wrong and how to fix it.
"""


class BazhongGeoError(ValueError):
    """Base class of every error raised by bazhong_geo on bad input."""


class MissingCRSError(BazhongGeoError):
    """A layer has no coordinate reference system and none was given."""


class UnknownCoordinateSystemError(BazhongGeoError):
    """A coordinate-system name that is neither a web-map system nor a CRS pyproj knows."""


class UnsupportedFormatError(BazhongGeoError):
    """A file whose format the loaders do not read."""


class MissingColumnError(BazhongGeoError):
    """A required column is absent."""


class DuplicateCodeError(BazhongGeoError):
    """Two or more rows share a code that must be unique."""


class InvalidPopulationError(BazhongGeoError):
    """Population values that are not numbers or are negative."""


class UnknownTierError(BazhongGeoError):
    """A tier name outside the allowed ones."""


class InvalidParentError(BazhongGeoError):
    """A parent link that breaks the tier hierarchy."""


class EmptyInputError(BazhongGeoError):
    """An input that has no rows, or no usable rows."""


# --- catchments / network (issue 4) ---
class InvalidSpeedError(BazhongGeoError):
    """Road speeds that are missing, zero, negative or not numbers, or a road class with no speed."""


class DuplicateLocationError(BazhongGeoError):
    """Two or more settlements of the same tier share one location (Voronoi cells would be ambiguous)."""
