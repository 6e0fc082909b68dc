"""Where every data table is read from: the planner's override folder first, else the packaged copy.

The tables ship inside the package (``bazhong_geo/data/``, read with :mod:`importlib.resources`), so a
plain ``pip install .`` or a wheel carries them. Planners never edit site-packages: ``bazhong-geo data init
DIR`` copies the editable tables (:data:`EDITABLE`) into ``DIR``, and setting ``BAZHONG_GEO_DATA=DIR``
makes every file found there win over the packaged one (a file missing there falls back to the package).

>>> data_file("settlements/register.csv").name
'register.csv'
>>> data_source("settlements/register.csv") in ("package", "override")
True
"""

from __future__ import annotations

import atexit
import shutil
from contextlib import ExitStack
from importlib import resources
from pathlib import Path

from . import atomic
from .settings import ENV_DATA, env_path

EDITABLE = (
    "config/catchment_radii.csv",
    "config/road_speeds.csv",
    "config/profiles",
    "settlements/plan_2020.csv",
    "settlements/indicators.csv",
    "settlements/register.csv",
    "settlements/designations.csv",
    "boundaries/README.md",
)
"""Tables a planner may edit (relative to the data folder): configuration, plan, indicators, register."""

_FILES = ExitStack()
atexit.register(_FILES.close)


def package_data_dir() -> Path:
    """Return the folder of the tables shipped inside the package (``bazhong_geo/data``).

    Examples
    --------
    >>> (package_data_dir() / "settlements" / "register.csv").is_file()
    True
    """
    root = resources.files("bazhong_geo") / "data"
    if isinstance(root, Path):
        return root
    # a zipped install: extract once for the life of the process
    return Path(_FILES.enter_context(resources.as_file(root)))


def override_dir() -> Path | None:
    """Return the planner's data folder named by ``BAZHONG_GEO_DATA``, or None when it is unset.

    Examples
    --------
    >>> import os
    >>> override_dir() == (Path(os.environ["BAZHONG_GEO_DATA"]).expanduser() if os.environ.get("BAZHONG_GEO_DATA")
    ...                    else None)
    True
    """
    return env_path(ENV_DATA)


def data_file(relpath: str) -> Path:
    """Return the path a table (or a folder of tables) is read from: the override's copy if there, else the package's.

    Parameters
    ----------
    relpath : str
        Path relative to the data folder, with ``/`` separators, e.g. ``"settlements/register.csv"``.

    Returns
    -------
    pathlib.Path
        The file (or folder); it may not exist when neither place has it (the reader reports that).

    Examples
    --------
    >>> data_file("config/road_speeds.csv").parts[-2:]
    ('config', 'road_speeds.csv')
    """
    override = override_dir()
    if override is not None and (override / relpath).exists():
        return override / relpath
    return package_data_dir() / relpath


def data_source(relpath: str) -> str:
    """Return ``"override"`` when ``relpath`` is read from ``BAZHONG_GEO_DATA``, else ``"package"``."""
    override = override_dir()
    return "override" if override is not None and (override / relpath).exists() else "package"


def data_dirs(relpath: str) -> list[Path]:
    """Return every existing folder named ``relpath``: the override's first, then the package's.

    Used where files are collected from a folder (official boundary files dropped in ``boundaries/``).

    Examples
    --------
    >>> data_dirs("boundaries")[-1] == package_data_dir() / "boundaries"
    True
    """
    out = []
    override = override_dir()
    if override is not None and (override / relpath).is_dir():
        out.append(override / relpath)
    packaged = package_data_dir() / relpath
    if packaged.is_dir():
        out.append(packaged)
    return out


def table_locations() -> list[tuple[str, str, Path]]:
    """Return ``(table, source, path)`` for every editable table: where each one is read from now.

    Examples
    --------
    >>> [row[0] for row in table_locations()][:2]
    ['config/catchment_radii.csv', 'config/road_speeds.csv']
    """
    return [(rel, data_source(rel), data_file(rel)) for rel in EDITABLE]


def init_data_folder(folder: str | Path, *, overwrite: bool = False) -> list[Path]:
    """Copy the editable tables into ``folder`` (a planner-owned data folder) and return the files written.

    Files already there are kept unless ``overwrite`` is true, so a planner's edits are never lost. The copy is
    all or nothing: if one file cannot be written, none is (:class:`bazhong_geo.atomic.Transaction`).

    Parameters
    ----------
    folder : path-like
        Destination; created if missing.
    overwrite : bool
        Replace files that already exist.

    Returns
    -------
    list of pathlib.Path

    Raises
    ------
    OutputError
        ``folder`` cannot be created or written (a file in the way, read-only), or a table there is read-only.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     written = init_data_folder(tmp)
    ...     sorted(p.relative_to(tmp).as_posix() for p in written)[:2]
    ['boundaries/README.md', 'config/catchment_radii.csv']
    """
    dest = atomic.ensure_folder(folder, what="data folder")
    written: list[Path] = []
    with atomic.Transaction() as tx:
        for rel in EDITABLE:
            src = package_data_dir() / rel
            files = sorted(p for p in src.rglob("*") if p.is_file()) if src.is_dir() else [src]
            for f in files:
                target = dest / f.relative_to(package_data_dir())
                if target.exists() and not overwrite:
                    continue
                shutil.copyfile(f, tx.path(target))
                written.append(target)
    return written
