"""Input checks behind the loaders: the validation report, encoding detection, column aliases, codes and numbers."""

from __future__ import annotations

import codecs
import re
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import crs
from ._errors import EmptyInputError, MissingCRSError

SEVERITIES = ("error", "warning", "repair", "info")


# ----------------------------------------------------------------------------------------------- report

@dataclass
class Issue:
    """One finding of a validation: what, how bad, and which rows/features."""

    severity: str
    code: str
    message: str
    rows: tuple = ()
    exc: type | None = field(default=None, repr=False, compare=False)  # typed error raised for an "error"

    def __iter__(self):
        """Unpack as ``severity, code, message, rows``."""
        return iter((self.severity, self.code, self.message, self.rows))


@dataclass
class ValidationReport:
    """What a loader found in a file: counts in and out, and every error, warning, repair and note.

    Parameters
    ----------
    path : str
        The file that was read.
    kind : str
        ``"boundaries"`` or ``"settlements"``.
    n_in, n_out : int
        Rows (features) read from the file and rows returned. They are equal unless an
        issue explains the difference.
    issues : list of Issue
        Findings in the order they were made. ``severity`` is ``"error"``, ``"warning"``,
        ``"repair"`` or ``"info"``; ``rows`` are the row numbers as in the file (tables: header
        = row 1, first data row = row 2) or the feature ids (FID) of a vector layer.
    row_label : str
        How ``rows`` are counted (``"row"`` or ``"FID"``).
    columns : dict
        Source column -> normalised column, for the columns the loader renamed or used.
    encoding : str or None
        Text encoding used (detected or given) for Shapefile/CSV inputs.

    Examples
    --------
    >>> r = ValidationReport("x.csv", "settlements", n_in=3, n_out=3)
    >>> _ = r.add("warning", "outside_region", "1 point outside Bazhong", rows=[4])
    >>> r.has_errors
    False
    >>> r.to_frame().severity.tolist()
    ['warning']
    """

    path: str
    kind: str
    n_in: int = 0
    n_out: int = 0
    issues: list = field(default_factory=list)
    row_label: str = "row"
    columns: dict = field(default_factory=dict)
    encoding: str | None = None
    crs_in: str | None = None

    def add(self, severity: str, code: str, message: str, rows: Iterable = ()) -> Issue:
        """Record a finding and return it."""
        if severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {severity!r}")
        issue = Issue(severity, code, message, tuple(_plain(r) for r in rows))
        self.issues.append(issue)
        return issue

    @property
    def errors(self) -> list:
        """The issues of severity ``"error"``."""
        return [i for i in self.issues if i.severity == "error"]

    @property
    def has_errors(self) -> bool:
        """True when at least one issue is an error."""
        return any(i.severity == "error" for i in self.issues)

    def count(self, severity: str) -> int:
        """Number of issues of a severity."""
        return sum(i.severity == severity for i in self.issues)

    def to_dict(self) -> dict:
        """The report as plain JSON-ready data (how loaders attach it to ``gdf.attrs["report"]``).

        Plain data survive copies of the frame and ``to_parquet`` (which stores ``attrs`` as JSON).

        Examples
        --------
        >>> r = ValidationReport("x.csv", "settlements", n_in=2, n_out=2)
        >>> _ = r.add("error", "missing_code", "x.csv: 1 row without a code", rows=[3])
        >>> ValidationReport.from_dict(r.to_dict()).errors[0].rows
        (3,)
        """
        return {"path": self.path, "kind": self.kind, "n_in": int(self.n_in), "n_out": int(self.n_out),
                "row_label": self.row_label, "columns": {str(k): str(v) for k, v in self.columns.items()},
                "encoding": self.encoding, "crs_in": self.crs_in,
                "issues": [{"severity": i.severity, "code": i.code, "message": i.message,
                            "rows": [r if isinstance(r, (int, str)) else str(r) for r in i.rows]}
                           for i in self.issues]}

    @classmethod
    def from_dict(cls, data: dict) -> ValidationReport:
        """Rebuild a report from :meth:`to_dict` output."""
        report = cls(data["path"], data["kind"], n_in=data.get("n_in", 0), n_out=data.get("n_out", 0),
                     row_label=data.get("row_label", "row"), columns=dict(data.get("columns", {})),
                     encoding=data.get("encoding"), crs_in=data.get("crs_in"))
        for i in data.get("issues", []):
            report.add(i["severity"], i["code"], i["message"], rows=i.get("rows", ()))
        return report

    def to_frame(self) -> pd.DataFrame:
        """One row per issue: severity, code, message, n_rows, rows (';'-joined)."""
        return pd.DataFrame(
            {
                "severity": [i.severity for i in self.issues],
                "code": [i.code for i in self.issues],
                "message": [i.message for i in self.issues],
                "n_rows": [len(i.rows) for i in self.issues],
                "rows": [";".join(str(r) for r in i.rows) for i in self.issues],
            },
            columns=["severity", "code", "message", "n_rows", "rows"],
        )

    def to_text(self) -> str:
        """A plain-text report a planner can read (English, Chinese names as found)."""
        status = "ERRORS" if self.has_errors else "OK"
        counts = (f"status: {status} — {self.count('error')} error(s), {self.count('warning')} warning(s), "
                  f"{self.count('repair')} repair(s)")
        lines = [
            f"{self.kind} file: {self.path}",
            counts,
            f"rows in: {self.n_in}, rows out: {self.n_out}",
        ]
        if self.crs_in:
            lines.append(f"source CRS: {self.crs_in}")
        if self.encoding:
            lines.append(f"text encoding: {self.encoding}")
        if self.columns:
            lines.append("columns: " + ", ".join(f"{k} -> {v}" for k, v in self.columns.items()))
        for i in self.issues:
            where = f" [{self.row_label} {format_rows(i.rows)}]" if i.rows else ""
            lines.append(f"  {i.severity.upper():7s} {i.code}: {i.message}{where}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()


def _plain(value):
    """Numpy scalars -> Python scalars so reports print cleanly."""
    return value.item() if isinstance(value, np.generic) else value


def format_rows(rows: Sequence, limit: int = 20) -> str:
    """``"2, 5, 9"`` or ``"2, 5, ... (+40 more)"`` for long lists."""
    rows = [_plain(r) for r in rows]
    head = ", ".join(str(r) for r in rows[:limit])
    return head if len(rows) <= limit else f"{head}, ... (+{len(rows) - limit} more)"


# ----------------------------------------------------------------------------------------------- encodings

def _decodes(data: bytes, encoding: str) -> bool:
    """True if ``data`` decodes strictly (an incomplete multi-byte tail, as left by a cut field, is allowed)."""
    try:
        codecs.getincrementaldecoder(encoding)(errors="strict").decode(data, final=False)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def detect_text_encoding(data: bytes) -> str:
    """Encoding of a CSV/text file: BOM, else strict UTF-8, else GB18030 (a superset of GBK/GB2312).

    Raises ``UnicodeError`` when none fits (the caller turns it into a typed error).

    Examples
    --------
    >>> detect_text_encoding("名称".encode("utf-8"))
    'utf-8'
    >>> detect_text_encoding("名称".encode("gbk"))
    'gb18030'
    """
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for enc in ("utf-8", "gb18030"):
        try:
            data.decode(enc)
            return enc
        except UnicodeDecodeError:
            continue
    raise UnicodeError("neither UTF-8 nor GB18030")


def _cpg_encoding(text: str) -> str | None:
    """Python codec named by a .cpg file (``UTF-8``, ``GBK``, ``936``, ``ANSI 936``, ``65001`` ...), or None."""
    text = text.strip().strip("\x00").strip()
    if not text:
        return None
    m = re.fullmatch(r"(?:ANSI\s*|CP\s*|Windows-?)?(\d+)", text, flags=re.IGNORECASE)
    name = ("utf-8" if m.group(1) == "65001" else f"cp{m.group(1)}") if m else text
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def dbf_text_bytes(dbf: Path, max_records: int = 20000) -> list[bytes]:
    """The raw bytes of every non-ASCII character-field value in a .dbf (first ``max_records`` records)."""
    with open(dbf, "rb") as fh:
        header = fh.read(32)
        if len(header) < 32:
            return []
        n_records, header_len, record_len = struct.unpack("<IHH", header[4:12])
        descr = fh.read(max(header_len - 32, 0))
        fields, offset = [], 1  # byte 0 of a record is the deletion flag
        for i in range(0, len(descr) - 31, 32):
            if descr[i] == 0x0D:
                break
            ftype, flen = chr(descr[i + 11]), descr[i + 16]
            if ftype == "C":
                fields.append((offset, flen))
            offset += flen
        fh.seek(header_len)
        body = fh.read(record_len * min(n_records, max_records))
    values = []
    for r in range(0, len(body) - record_len + 1, record_len):
        rec = body[r:r + record_len]
        for off, flen in fields:
            v = rec[off:off + flen].rstrip(b" \x00")
            if v and max(v) > 0x7F:
                values.append(v)
    return values


def detect_dbf_encoding(shp_path: Path) -> tuple[str | None, str]:
    """Encoding of a Shapefile's .dbf: the .cpg if present and consistent, else detected from the bytes.

    Returns ``(encoding, how)``; ``encoding`` is None when the text fields are pure ASCII and no
    .cpg says otherwise (any encoding reads them right).
    """
    shp_path = Path(shp_path)
    dbf = next((p for p in (shp_path.with_suffix(".dbf"), shp_path.with_suffix(".DBF")) if p.exists()), None)
    cpg = next((p for p in (shp_path.with_suffix(".cpg"), shp_path.with_suffix(".CPG")) if p.exists()), None)
    values = dbf_text_bytes(dbf) if dbf is not None else []
    cpg_enc = _cpg_encoding(cpg.read_bytes().decode("ascii", "replace")) if cpg is not None else None
    if cpg_enc is not None:
        if all(_decodes(v, cpg_enc) for v in values):
            return cpg_enc, f"from {cpg.name}"
        cpg_note = f"{cpg.name} says {cpg_enc} but the text does not decode with it; "
    else:
        cpg_note = f"{cpg.name} not understood; " if cpg is not None else "no .cpg; "
    if not values:
        return None, cpg_note + "text fields are ASCII"
    for enc in ("utf-8", "gb18030"):
        if all(_decodes(v, enc) for v in values):
            return enc, cpg_note + f"detected {enc} from the .dbf bytes"
    return None, cpg_note + "text is neither UTF-8 nor GB18030"


# ----------------------------------------------------------------------------------------------- columns

def column_key(name) -> str:
    """Column name folded for matching: lower case, no spaces/underscores/hyphens/brackets."""
    return re.sub(r"[\s_\-()（）\[\]]", "", str(name)).lower()


def find_column(columns: Sequence, aliases: Sequence[str], explicit: str | None = None) -> str | None:
    """The first column whose folded name matches an alias (in alias order), or ``explicit`` if given.

    Examples
    --------
    >>> find_column(["OBJECTID", "XZQDM", "XZQMC"], ["code", "行政代码", "xzqdm"])
    'XZQDM'
    """
    if explicit is not None:
        return explicit if explicit in columns else None
    folded = {}
    for c in columns:
        folded.setdefault(column_key(c), c)
    for alias in aliases:
        hit = folded.get(column_key(alias))
        if hit is not None:
            return hit
    return None


# ----------------------------------------------------------------------------------------------- values

def normalise_codes(values: pd.Series) -> pd.Series:
    """Codes as strings: ``511902.0`` -> ``"511902"``, whitespace stripped, blanks -> None.

    Examples
    --------
    >>> normalise_codes(pd.Series([511902, 511903.0, " 511921 ", None, ""])).tolist()
    ['511902', '511903', '511921', None, None]
    """
    def one(v):
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
            return None
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            return str(int(v))
        if isinstance(v, (int, np.integer)):
            return str(int(v))
        s = str(v).strip().lstrip("'").strip()   # Excel's leading apostrophe that keeps codes as text
        if re.fullmatch(r"\d+\.0+", s):
            s = s.split(".")[0]
        return s or None

    return pd.Series([one(v) for v in values], index=values.index, dtype=object)


def to_number(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Parse numbers leniently (thousands separators, spaces, full-width digits) -> (float array, bad mask).

    Blank cells become NaN and are not bad; anything else that is not a number is bad.
    """
    if pd.api.types.is_numeric_dtype(values):
        return np.array(values.to_numpy(dtype=float, na_value=np.nan), dtype=float), np.zeros(len(values), bool)
    s = values.astype(object).where(values.notna(), None)
    text = s.map(lambda v: None if v is None else
                 str(v).translate(_FULLWIDTH).replace(",", "").replace("，", "").replace(" ", "").strip())
    blank = text.isna() | (text == "") | text.str.lower().isin(["nan", "na", "n/a", "null", "none", "-"]).fillna(False)
    num = np.array(pd.to_numeric(text.where(~blank, None), errors="coerce").to_numpy(dtype=float, na_value=np.nan),
                   dtype=float)
    bad = ~blank.to_numpy(dtype=bool) & np.isnan(num)
    return num, bad


_FULLWIDTH = str.maketrans("０１２３４５６７８９．－", "0123456789.-")


# ----------------------------------------------------------------------------------------------- geometries

def located(geoms) -> np.ndarray:
    """Boolean mask of the geometries that exist and are not empty (a GeoSeries/GeoDataFrame, array or list).

    >>> import shapely
    >>> located([shapely.Point(0, 0), None, shapely.Point()]).tolist()
    [True, False, False]
    """
    import shapely

    if hasattr(geoms, "geometry"):
        geoms = geoms.geometry
    if hasattr(geoms, "values") and hasattr(geoms, "crs"):
        geoms = geoms.array
    if isinstance(geoms, list):
        arr = np.empty(len(geoms), dtype=object)
        arr[:] = geoms
        geoms = arr
    g = np.asarray(geoms, dtype=object)
    return ~(shapely.is_missing(g) | shapely.is_empty(g))


def region_geometry(obj, what: str = "region"):
    """An area of interest as one valid shapely (Multi)Polygon in the work CRS (EPSG:4545).

    ``obj`` is a shapely geometry (taken as EPSG:4545), a GeoDataFrame/GeoSeries in any CRS (its
    features are unioned) or a :class:`~bazhong_geo.datasets.Region` (its prefecture). It is required:
    nothing is loaded behind the caller's back. Invalid geometries are repaired (``make_valid``).

    Raises
    ------
    EmptyInputError
        ``obj`` is None (say which area: e.g. ``load_bazhong().prefecture``).
    MissingCRSError
        A layer without CRS.
    EmptyInputError
        The area is empty.
    TypeError
        Anything else.
    """
    import shapely

    if obj is None:
        raise EmptyInputError(f"{what}: no area given; pass the region, e.g. bazhong_geo.load_bazhong().prefecture "
                              f"or a GeoDataFrame of boundaries")
    if hasattr(obj, "prefecture") and not hasattr(obj, "geometry"):
        obj = obj.prefecture
    if isinstance(obj, shapely.Geometry):
        geom = obj
    elif hasattr(obj, "geometry") and hasattr(obj, "crs"):
        if obj.crs is None:
            raise MissingCRSError(f"{what}: the layer has no CRS; set it first, e.g. .set_crs('EPSG:4545')")
        series = obj.geometry if hasattr(obj, "columns") else obj
        geom = shapely.union_all(np.asarray(crs.to_work_crs(series.to_frame("geometry")).geometry.values, dtype=object))
    else:
        raise TypeError(f"{what} must be a GeoDataFrame/GeoSeries, a shapely geometry (EPSG:4545) or a Region, "
                        f"not {type(obj).__name__}")
    if geom is None or geom.is_empty:
        raise EmptyInputError(f"{what}: the area is empty")
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    return geom


def describe_features(frame, row_ids, mask, row_label: str = "row", limit: int = 10) -> str:
    """Name the rows/features under ``mask`` by code and name (with the row/FID), e.g. ``"511902 巴州区 (FID 3)"``.

    Examples
    --------
    >>> df = pd.DataFrame({"code": ["511902", None], "name": ["巴州区", "恩阳区"]})
    >>> describe_features(df, np.array([1, 2]), np.array([True, True]), "FID")
    '511902 巴州区 (FID 1), 恩阳区 (FID 2)'
    """
    mask = np.asarray(mask, dtype=bool)
    codes = frame["code"].to_numpy()[mask] if "code" in frame.columns else [None] * int(mask.sum())
    names = frame["name"].to_numpy()[mask] if "name" in frame.columns else [None] * int(mask.sum())
    parts = []
    for rid, code, name in zip(np.asarray(row_ids)[mask], codes, names, strict=True):
        words = " ".join(str(v) for v in (code, name) if v is not None and not (isinstance(v, float) and np.isnan(v))
                         and str(v).strip())
        parts.append(f"{words} ({row_label} {_plain(rid)})" if words else f"{row_label} {_plain(rid)}")
    more = f", ... (+{len(parts) - limit} more)" if len(parts) > limit else ""
    return ", ".join(parts[:limit]) + more
