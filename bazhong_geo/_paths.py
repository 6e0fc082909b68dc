"""Where the project's data files live (the repository's ``data/`` folder, or ``BAZHONG_GEO_DATA``)."""

import os
from pathlib import Path


def data_dir() -> Path:
    """Return the folder holding ``boundaries/``, ``settlements/`` and ``config/``.

    ``BAZHONG_GEO_DATA`` overrides the default, the ``data/`` folder beside the package
    (the package is installed in editable mode from the repository, see README).
    """
    env = os.environ.get("BAZHONG_GEO_DATA")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "data"


def config_path(name: str) -> Path:
    """Return the path of a file in ``data/config/``."""
    return data_dir() / "config" / name


def settlements_path(name: str) -> Path:
    """Return the path of a file in ``data/settlements/``."""
    return data_dir() / "settlements" / name
