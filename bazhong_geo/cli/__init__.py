"""The ``bazhong-geo`` command: workspace, validation, register updates, analyses with deliverables, maps.

One module per command group (:mod:`.basic`, :mod:`.analyses`, :mod:`.designations`, :mod:`.mapping`); layers are
read through :mod:`.session` and :mod:`.layers`. :func:`main` applies one error policy to every command: a user error
prints one paragraph (the file, what is wrong, the fix) on standard error and exits 1 for data errors, 2 for usage
errors (bad options, missing input files, no workspace); ``--debug`` shows the traceback.
"""

from __future__ import annotations

import argparse
import sys
import traceback
import zipfile

from .._errors import BazhongGeoError, PlanYearError, ProfileError, WorkspaceNotFoundError
from .analyses import add_builtup_command, add_catchments_command, add_gaps_command
from .basic import add_basic_commands
from .common import DataError, UsageError
from .designations import add_designation_commands, write_check_map
from .mapping import add_map_command, add_run_command
from .regions import add_compare_command

__all__ = ["DataError", "UsageError", "build_parser", "exit_status", "main", "write_check_map"]

READER_MODULES = ("pyogrio", "fiona", "rasterio", "openpyxl")
"""Libraries whose exceptions mean "this file cannot be read" (a data error, exit 1)."""

EPILOG = ("Data: the workspace's layers (bazhong-geo.toml in the current folder, or --workspace DIR); the embedded "
          "Bazhong reference data (巴中市) where no workspace or file is given. See README.md.")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``bazhong-geo``."""
    parser = argparse.ArgumentParser(
        prog="bazhong-geo",
        description="Urban-rural planning toolkit for Bazhong (巴中市): the four-tier settlement system "
                    "(巴城 central city, 县城 county towns, 特色镇 featured towns, 中心村 central villages).",
        epilog=EPILOG,
    )
    parser.add_argument("--debug", action="store_true", dest="debug_all",
                        help="show the Python traceback of an error (also accepted after the command)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_basic_commands(sub)
    add_builtup_command(sub)
    add_catchments_command(sub)
    add_gaps_command(sub)
    add_designation_commands(sub)
    add_map_command(sub)
    add_run_command(sub)
    add_compare_command(sub)
    return parser


def exit_status(exc: BaseException) -> int | None:
    """1 for a data error, 2 for a usage error, None for anything else (a bug)."""
    if isinstance(exc, (UsageError, WorkspaceNotFoundError, ProfileError, PlanYearError, FileNotFoundError)):
        return 2
    if isinstance(exc, (DataError, BazhongGeoError, OSError, KeyError, zipfile.BadZipFile, UnicodeDecodeError)):
        return 1
    if type(exc).__module__.split(".")[0] in READER_MODULES:      # a file the GIS libraries cannot read
        return 1
    return None


def _message(exc: BaseException) -> str:
    if isinstance(exc, PermissionError):
        return (f"{exc.filename}: permission denied; close the file if it is open (Excel locks open workbooks) or "
                f"choose another --out")
    if isinstance(exc, FileNotFoundError):
        return f"{exc.filename}: no such file; check the path"
    if isinstance(exc, (UsageError, DataError)):
        return str(exc)
    if type(exc).__module__.split(".")[0] in READER_MODULES:
        return f"cannot read the file: {exc} (is it the right format, complete, and not open in another program?)"
    if isinstance(exc, KeyError):
        return str(exc.args[0]) if exc.args else repr(exc)
    return f"({type(exc).__name__}) {exc}"


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 1 data error, 2 usage error)."""
    args = build_parser().parse_args(argv)
    debug = getattr(args, "debug", False) or getattr(args, "debug_all", False)
    try:
        return args.func(args)
    except Exception as exc:
        status = exit_status(exc)
        if debug:
            traceback.print_exc()
        if status is None:
            print(f"ERROR: unexpected {type(exc).__name__}: {exc}. This is a bug of bazhong-geo: rerun with --debug "
                  f"and report the traceback.", file=sys.stderr)
            return 3
        print(f"ERROR: {_message(exc)}" + ("" if debug else "\n(rerun with --debug for the Python traceback)"),
              file=sys.stderr)
        return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
