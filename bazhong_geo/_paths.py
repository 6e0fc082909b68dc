"""Deprecated shim: use :mod:`bazhong_geo.resources` (``data_file``). Kept until the last callers move."""

from pathlib import Path

from .resources import data_file, override_dir, package_data_dir


def data_dir() -> Path:
    """Return the planner's override folder when ``BAZHONG_GEO_DATA`` is set, else the packaged data folder."""
    return override_dir() or package_data_dir()


def config_path(name: str) -> Path:
    """Return the path a file of ``config/`` is read from (see :func:`bazhong_geo.resources.data_file`)."""
    return data_file(f"config/{name}")


def settlements_path(name: str) -> Path:
    """Return the path a file of ``settlements/`` is read from (see :func:`bazhong_geo.resources.data_file`)."""
    return data_file(f"settlements/{name}")
