"""Text into HTML and script safely: escaping for markup, JSON for ``<script>``, checked CSS colours."""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Iterable
from typing import Any

from .._errors import BazhongGeoError

__all__ = ["check_color", "escape", "fact_table", "popup_html", "script_json"]

_COLOR_RE = re.compile(r"^(#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,20})$")


def escape(value: Any) -> str:
    r"""Return ``value`` as HTML-escaped text (quotes and backticks included); ``None``/NaN -> ''.

    Parameters
    ----------
    value : object

    Returns
    -------
    str

    Examples
    --------
    >>> escape("<b>'\"`</b>")
    '&lt;b&gt;&#x27;&quot;&#96;&lt;/b&gt;'
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return html.escape(str(value), quote=True).replace("`", "&#96;")


def script_json(obj: Any) -> str:
    r"""Serialise ``obj`` as JSON that is safe inside a ``<script>`` element.

    ``<``, ``>``, ``&`` and the line separators U+2028/U+2029 are written as ``\uXXXX`` escapes, so no
    string can close the script element or break the JavaScript parser.

    Parameters
    ----------
    obj : object
        JSON-serialisable.

    Returns
    -------
    str

    Examples
    --------
    >>> script_json({"n": "</script>"})
    '{"n":"\\u003c/script\\u003e"}'
    """
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def check_color(color: str) -> str:
    """Return ``color`` if it is a hex colour or a CSS colour name (safe in a style attribute), else raise.

    Parameters
    ----------
    color : str

    Returns
    -------
    str

    Raises
    ------
    BazhongGeoError
        For anything else (it would go into a style attribute).
    """
    if not isinstance(color, str) or not _COLOR_RE.match(color):
        raise BazhongGeoError(f"colour {color!r} is not a hex colour (#rrggbb) or a CSS colour name; "
                              "give e.g. '#c0392b'")
    return color


def fact_table(rows: Iterable[tuple[str, Any]]) -> str:
    """HTML table of (label, value) pairs; every label and value escaped; empty values left out.

    Parameters
    ----------
    rows : iterable of (str, object)
        Label and value; rows with an empty value are left out.

    Returns
    -------
    str
    """
    cells = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows if v not in (None, ""))
    return f'<table class="bz-facts">{cells}</table>'


def popup_html(title: str, rows: Iterable[tuple[str, Any]]) -> str:
    """Popup content: the escaped title in bold above the :func:`fact_table` of ``rows``.

    Parameters
    ----------
    title : str
    rows : iterable of (str, object)

    Returns
    -------
    str
    """
    return f"<b>{escape(title)}</b>{fact_table(rows)}"
