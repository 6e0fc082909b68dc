"""Is the file there, readable, and what its name says? Checked before any driver sees it.

A broken input must fail with an error that names the file, what is wrong and the fix — not with a driver's
traceback. :func:`check_input_file` looks at the path (missing, a folder, a path through a file, unreadable),
the size (zero bytes) and the first bytes against the format the suffix promises (GeoPackage = SQLite with the
whole database present, Shapefile with its ``.shx`` and ``.dbf``, ``.xlsx`` = a zip archive, GeoJSON = JSON text,
Parquet = ``PAR1`` at both ends).

>>> import tempfile, pathlib
>>> empty = pathlib.Path(tempfile.mkdtemp()) / "towns.gpkg"
>>> _ = empty.write_bytes(b"")
>>> try:
...     check_input_file(empty)
... except BrokenFileError as exc:
...     print(str(exc).split(";")[0].split("/")[-1])
towns.gpkg: the file is empty (0 bytes)
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from .._errors import BrokenFileError, MissingFileError, UnreadableFileError

__all__ = ["BrokenFileError", "MissingFileError", "UnreadableFileError", "check_input_file", "shapefile_parts"]

_SQLITE_MAGIC = b"SQLite format 3\x00"
_SHP_MAGIC = (9994).to_bytes(4, "big")
_PARQUET_MAGIC = b"PAR1"
_REEXPORT = "export it again from your GIS (QGIS: right-click the layer > Export > Save Features As)"


def _first_file_ancestor(path: Path) -> Path | None:
    for p in path.parents:
        if p.exists() and not p.is_dir():
            return p
    return None


def _preview(head: bytes) -> str:
    text = head[:40].decode("utf-8", errors="replace").replace("\n", " ").replace("\r", " ").strip()
    return f"it starts with {text!r}" if text.isprintable() and text else "its first bytes are not of that format"


def _stat(path: Path) -> os.stat_result:
    try:
        return path.stat()
    except FileNotFoundError:
        raise MissingFileError(f"{path}: no such file; check the path (relative paths start in "
                               f"{Path.cwd()})") from None
    except NotADirectoryError:
        blocker = _first_file_ancestor(path)
        raise MissingFileError(f"{path}: no such file — {blocker or 'a part of the path'} is a file, not a folder; "
                               f"check the path") from None
    except PermissionError as exc:
        raise UnreadableFileError(f"{path}: cannot be reached ({exc.strerror}); ask for read access to its folder "
                                  f"or copy the file somewhere you can read") from None
    except OSError as exc:
        raise UnreadableFileError(f"{path}: cannot be opened ({exc.strerror or exc}); check the path and the "
                                  f"drive") from None


def _read_head(path: Path, n: int = 100) -> bytes:
    try:
        with path.open("rb") as fh:
            return fh.read(n)
    except OSError as exc:
        raise UnreadableFileError(f"{path}: cannot be read ({exc.strerror or exc}); give yourself read access "
                                  f"(chmod u+r) or copy the file somewhere you can read") from None


def shapefile_parts(shp: Path) -> dict[str, Path | None]:
    """Return the ``.shx``, ``.dbf``, ``.prj`` and ``.cpg`` beside a ``.shp`` (None where missing, any letter case)."""
    out: dict[str, Path | None] = {}
    for ext in (".shx", ".dbf", ".prj", ".cpg"):
        out[ext] = next((p for p in (shp.with_suffix(ext), shp.with_suffix(ext.upper())) if p.is_file()), None)
    return out


def _check_gpkg(path: Path, head: bytes, size: int) -> None:
    if not head.startswith(_SQLITE_MAGIC):
        raise BrokenFileError(f"{path}: not a GeoPackage ({_preview(head)}; a GeoPackage is an SQLite database); "
                              f"{_REEXPORT}, or give the file the suffix of its real format")
    if len(head) < 100:
        raise BrokenFileError(f"{path}: the GeoPackage is truncated ({size} bytes, shorter than its own header); "
                              f"copy it again or {_REEXPORT}")
    page = int.from_bytes(head[16:18], "big")
    page = 65536 if page == 1 else page
    pages = int.from_bytes(head[28:32], "big")
    header_valid = head[24:28] == head[92:96] and pages > 0
    expected = page * pages if header_valid else None
    if (expected is not None and size < expected) or (page and size % page):
        want = f"{expected:,} bytes" if expected is not None else f"a multiple of the {page}-byte page"
        raise BrokenFileError(f"{path}: the GeoPackage is truncated ({size:,} bytes, the database needs {want}); "
                              f"the copy was cut off — copy it again or {_REEXPORT}")


def _check_shp(path: Path, head: bytes, size: int) -> None:
    if not head.startswith(_SHP_MAGIC):
        raise BrokenFileError(f"{path}: not a Shapefile ({_preview(head)}); {_REEXPORT}")
    parts = shapefile_parts(path)
    missing = [ext for ext in (".shx", ".dbf") if parts[ext] is None]
    if missing:
        raise BrokenFileError(f"{path}: the Shapefile lacks its {' and '.join(missing)} file(s) (a Shapefile is "
                              f"several files with one name: .shp, .shx, .dbf, .prj, .cpg); copy all of them into "
                              f"{path.parent}, or send a GeoPackage instead")
    if len(head) >= 28:
        declared = int.from_bytes(head[24:28], "big") * 2
        if size < declared:
            raise BrokenFileError(f"{path}: the Shapefile is truncated ({size:,} of {declared:,} bytes); copy it "
                                  f"again or {_REEXPORT}")


def _check_xlsx(path: Path, head: bytes) -> None:
    if zipfile.is_zipfile(path):
        return
    what = "an old .xls workbook" if head.startswith(b"\xd0\xcf\x11\xe0") else _preview(head)
    raise BrokenFileError(f"{path}: not an .xlsx workbook ({what}; an .xlsx is a zip archive, this one is not or "
                          f"is damaged); open it in Excel and save it as 'Excel Workbook (.xlsx)', or save it as CSV")


def _check_json(path: Path, head: bytes) -> None:
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text and text[:1] not in (b"{", b"["):
        raise BrokenFileError(f"{path}: not GeoJSON ({_preview(head)}; GeoJSON is JSON text starting with '{{'); "
                              f"{_REEXPORT} as GeoJSON or GeoPackage")


def _check_parquet(path: Path, head: bytes, size: int) -> None:
    if not head.startswith(_PARQUET_MAGIC):
        raise BrokenFileError(f"{path}: not a (Geo)Parquet file ({_preview(head)}); write it again with "
                              f"GeoDataFrame.to_parquet or send a GeoPackage")
    with path.open("rb") as fh:
        fh.seek(max(size - 4, 0))
        tail = fh.read(4)
    if tail != _PARQUET_MAGIC:
        raise BrokenFileError(f"{path}: the Parquet file is truncated (no 'PAR1' footer at the end); write it "
                              f"again or copy it again")


def check_input_file(path: str | Path) -> Path:
    """Check that ``path`` is a readable, non-empty file whose first bytes match its suffix; return it as a Path.

    Parameters
    ----------
    path : path-like
        An input file (boundaries, settlements, a table).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    MissingFileError
        No such file (also a path through a file, ``towns.csv/x.gpkg``).
    UnreadableFileError
        The process may not read it (``os.access``) or the system refuses to open it.
    BrokenFileError
        A folder, zero bytes, a GeoPackage that is not SQLite or is truncated, a Shapefile without ``.shx``/``.dbf``,
        an ``.xlsx`` that is not a zip archive, GeoJSON that is not JSON text, Parquet without its magic bytes.
    """
    path = Path(path)
    st = _stat(path)
    if path.is_dir():
        inside = sorted(p.name for p in path.iterdir())[:5] if os.access(path, os.R_OK | os.X_OK) else []
        listing = f" (it holds {', '.join(inside)})" if inside else ""
        raise BrokenFileError(f"{path}: is a folder, not a file{listing}; pass the file itself")
    if not os.access(path, os.R_OK):
        raise UnreadableFileError(f"{path}: you may not read this file (permissions {oct(st.st_mode & 0o777)}); "
                                  f"give yourself read access (chmod u+r) or copy the file somewhere you can read")
    if st.st_size == 0:
        raise BrokenFileError(f"{path}: the file is empty (0 bytes); the export or the copy failed — {_REEXPORT}, "
                              f"or copy it again")
    head = _read_head(path)
    suffix = path.suffix.lower()
    if suffix == ".gpkg":
        _check_gpkg(path, head, st.st_size)
    elif suffix == ".shp":
        _check_shp(path, head, st.st_size)
    elif suffix in (".xlsx", ".xlsm"):
        _check_xlsx(path, head)
    elif suffix in (".geojson", ".json"):
        _check_json(path, head)
    elif suffix in (".parquet", ".geoparquet"):
        _check_parquet(path, head, st.st_size)
    return path
