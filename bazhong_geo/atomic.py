"""All-or-nothing writes: a temporary name in the same folder, fsync, then ``os.replace``.

:func:`atomic_path` writes one file; :class:`Transaction` writes several files for one command so that either all
of them land or none does (old files are kept until every new one is ready, and restored if a rename fails).
:func:`check_writable` turns the usual reasons a write fails — a read-only folder or file, a folder where the file
goes, a file where a folder should be — into an :class:`~bazhong_geo._errors.OutputError` that names the path and the
fix, before anything is written.

The superuser ignores permission bits, so a folder made read-only with ``chmod 555`` (or a file with ``chmod 444``)
would still be written by root. The checks here therefore also respect the *write bits* themselves: a file or folder
with no write bit for anybody is treated as read-only on purpose, even when running as root.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> with Transaction() as tx:
...     _ = tx.path(folder / "a.txt").write_text("A", encoding="utf-8")
...     _ = tx.path(folder / "b.txt").write_text("B", encoding="utf-8")
>>> sorted(p.name for p in folder.iterdir())
['a.txt', 'b.txt']
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Self

from ._errors import OutputError

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterator

__all__ = ["OutputError", "Transaction", "atomic_path", "check_writable", "ensure_folder", "temp_beside",
           "write_bytes", "write_text"]

_WRITE_BITS = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


def _read_only(path: Path) -> bool:
    """True when ``path`` may not be written: no write permission, or no write bit for anybody (even for root)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return not os.access(path, os.W_OK) or not mode & _WRITE_BITS


def _blocking_file(folder: Path) -> Path | None:
    """The first existing ancestor of ``folder`` (or itself) that is a file, not a folder, else None."""
    for p in (folder, *folder.parents):
        if p.exists() or p.is_symlink():
            return None if p.is_dir() else p
    return None


def ensure_folder(folder: str | Path, *, what: str = "output folder") -> Path:
    """Create ``folder`` (and its parents) if missing and check it can be written; return it.

    Raises
    ------
    OutputError
        A file stands where a folder is needed, the folder is read-only, or the system refuses to create it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> ensure_folder(pathlib.Path(tempfile.mkdtemp()) / "new" / "sub").is_dir()
    True
    """
    folder = Path(folder)
    blocker = _blocking_file(folder)
    if blocker is not None:
        raise OutputError(f"{folder}: cannot create the {what}: {blocker} is a file, not a folder; choose another "
                          f"output folder (or move that file away)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{folder}: cannot create the {what} ({exc.strerror or exc}); choose a folder you may "
                          f"write to") from None
    if _read_only(folder):
        raise OutputError(f"{folder}: the {what} is read-only; make it writable (chmod u+w) or choose another "
                          f"output folder")
    return folder


def check_writable(path: str | Path) -> Path:
    """Check that the file ``path`` can be (over)written, creating its folder if needed; return it as a Path.

    Parameters
    ----------
    path : path-like
        The file about to be written.

    Raises
    ------
    OutputError
        The folder cannot be created or is read-only, ``path`` is a folder, or an existing ``path`` is read-only.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "out" / "table.csv"
    >>> check_writable(target).parent.is_dir()
    True
    """
    path = Path(path)
    ensure_folder(path.parent)
    if path.is_dir():
        raise OutputError(f"{path}: a folder of that name is in the way of the output file; choose another file name "
                          f"or remove the folder")
    if path.exists() and _read_only(path):
        raise OutputError(f"{path}: the file exists and is read-only, so it is not replaced; make it writable "
                          f"(chmod u+w) or write to another file name")
    return path


def temp_beside(path: str | Path, suffix: str | None = None) -> Path:
    """Return an unused temporary name in the folder of ``path`` (same suffix), unique to this process and call.

    The name starts with ``.`` and ends with the file's suffix (drivers pick their format by it); nothing is
    created at that name.
    """
    path = Path(path)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=suffix or path.suffix, dir=path.parent)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write in {path.parent} ({exc.strerror or exc}); make the folder writable "
                          f"or choose another output folder") from None
    os.close(fd)
    Path(name).unlink()
    return Path(name)


def _fsync(path: Path) -> None:
    """Flush a file (or a folder entry) to disk; folders that refuse it are left alone."""
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if path.is_dir() else 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _replace(src: Path, dst: Path) -> None:
    try:
        Path(src).replace(dst)
    except OSError as exc:
        raise OutputError(f"{dst}: cannot be replaced ({exc.strerror or exc}); make it and its folder writable or "
                          f"choose another output") from None


def _output_error(path: Path, exc: OSError) -> OutputError:
    return OutputError(f"{path}: writing failed ({exc.strerror or exc}); nothing was replaced — check free space and "
                       f"that the folder is writable, or choose another output")


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block succeeds it is flushed and renamed onto ``path``.

    When the block raises, the temporary file is removed and an existing ``path`` is left untouched. An
    ``OSError`` inside the block (disk full, permission) becomes an :class:`OutputError` naming ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("done", encoding="utf-8")
    >>> target.read_text(encoding="utf-8")
    'done'
    """
    target = check_writable(path)
    tmp = temp_beside(target)
    try:
        try:
            yield tmp
        except OutputError:
            raise
        except OSError as exc:
            raise _output_error(target, exc) from exc
        if not tmp.exists():
            raise OutputError(f"{target}: the writer produced no file; nothing was replaced")
        _fsync(tmp)
        _replace(tmp, target)
        _fsync(target.parent)
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` all or nothing; return the path."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` all or nothing (line ends kept as given); return the path."""
    return write_bytes(path, text.encode(encoding))


class Transaction:
    """Several output files of one command, written all or nothing.

    :meth:`path` hands out a temporary name for each target; nothing appears at the targets until the ``with``
    block ends without an error. Then every file is flushed and renamed into place; existing targets are first set
    aside and put back if any rename fails, so a reader sees the old set or the new set, never a mix. When the
    block raises, every temporary file is removed and the old files stay as they were.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> try:
    ...     with Transaction() as tx:
    ...         _ = tx.path(folder / "first.csv").write_text("a", encoding="utf-8")
    ...         raise RuntimeError("the second file failed")
    ... except RuntimeError:
    ...     pass
    >>> list(folder.iterdir())
    []
    """

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path]] = []
        self._removals: list[Path] = []

    def __enter__(self) -> Self:
        return self

    def path(self, target: str | Path) -> Path:
        """Return the temporary path to write ``target`` to (checked writable, its folder created)."""
        target = check_writable(target)
        tmp = temp_beside(target)
        self._staged.append((tmp, target))
        return tmp

    def adopt(self, written: str | Path, target: str | Path) -> None:
        """Move an already written file (same file system) onto ``target`` when the transaction commits."""
        self._staged.append((Path(written), check_writable(target)))

    def remove(self, target: str | Path) -> None:
        """Delete ``target`` (a stale file the new set replaces) when the transaction commits."""
        self._removals.append(Path(target))

    @property
    def targets(self) -> list[Path]:
        """The files this transaction writes, in the order they were staged."""
        return [t for _, t in self._staged]

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is not None:
            self._discard()
            if isinstance(exc, OSError) and not isinstance(exc, OutputError):
                target = self._staged[-1][1] if self._staged else Path()
                raise _output_error(target, exc) from exc
            return False
        try:
            self._commit()
        finally:
            self._discard()
        return False

    def _discard(self) -> None:
        for tmp, _ in self._staged:
            tmp.unlink(missing_ok=True)

    def _commit(self) -> None:
        missing = [t for tmp, t in self._staged if not tmp.exists()]
        if missing:
            raise OutputError(f"{missing[0]}: the writer produced no file; nothing was replaced")
        for tmp, _ in self._staged:
            _fsync(tmp)
        backups: list[tuple[Path, Path]] = []
        done: list[Path] = []
        try:
            for old in [t for _, t in self._staged if t.exists()] + [r for r in self._removals if r.exists()]:
                if any(old == b for b, _ in backups):
                    continue
                keep = temp_beside(old, suffix=old.suffix + ".old")
                _replace(old, keep)
                backups.append((old, keep))
            for tmp, target in self._staged:
                _replace(tmp, target)
                done.append(target)
        except OutputError:
            for target in done:
                target.unlink(missing_ok=True)
            for old, keep in backups:
                keep.replace(old)
            raise
        for _, keep in backups:
            keep.unlink(missing_ok=True)
        for folder in {t.parent for t in done}:
            _fsync(folder)
