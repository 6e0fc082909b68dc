"""What every command shares: the error classes of the command line, option parsing helpers and printing."""

from __future__ import annotations

import sys
from typing import Any


class UsageError(Exception):
    """A bad option value or a missing input file named on the command line (exit status 2)."""


class DataError(Exception):
    """A file that was read has errors (exit status 1); the message holds the whole report."""


def echo(*lines: Any) -> None:
    """Print lines to standard output (the command line's only way to speak besides errors)."""
    for line in lines:
        print(line)


def note(text: str) -> None:
    """Print a note (a fact the user should know, not an error)."""
    print(f"note: {text}")


def warn(text: str) -> None:
    """Print a warning to standard error."""
    print(f"warning: {text}", file=sys.stderr)


def int_list(text: str | None, option: str, example: str = "15,30,60") -> list[int]:
    """``"15,30,60"`` -> [15, 30, 60]; anything else is a :class:`UsageError` naming the option."""
    if text is None:
        return []
    try:
        values = [int(float(v)) for v in str(text).replace("，", ",").split(",") if v.strip()]
    except ValueError:
        raise UsageError(f"{option} {text!r}: give whole numbers separated by commas, e.g. {option} "
                         f"{example}") from None
    if not values or any(v <= 0 for v in values):
        raise UsageError(f"{option} {text!r}: give positive whole numbers separated by commas, e.g. {option} {example}")
    return values


def word_list(text: str | None) -> list[str]:
    """``"county_town,key_town"`` -> ["county_town", "key_town"] (Chinese commas accepted)."""
    if not text:
        return []
    return [w.strip() for w in str(text).replace("，", ",").split(",") if w.strip()]
