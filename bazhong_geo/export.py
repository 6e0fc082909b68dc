"""Map export to PNG and PDF: moved to :mod:`bazhong_geo.maps.export`; this module re-exports its names.

>>> from bazhong_geo.export import export_png
>>> export_png.__module__
'bazhong_geo.maps.export'
"""

from __future__ import annotations

from .maps.export import (
    CHROMIUM_ARGS,
    PAPER_MM,
    STILL_JS,
    export_pdf,
    export_png,
    export_print,
    find_chromium,
    launch_browser,
    render_page,
    still,
)

__all__ = [
    "CHROMIUM_ARGS",
    "PAPER_MM",
    "STILL_JS",
    "export_pdf",
    "export_png",
    "export_print",
    "find_chromium",
    "launch_browser",
    "render_page",
    "still",
]
