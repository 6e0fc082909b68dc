"""Print layout: a map page at paper size — title, map frame fitted to an extent, legends, north arrow, scales, sources.

The page is the map's own offline HTML with a layout around the Leaflet map: the map frame is a fixed
rectangle of the sheet (CSS pixels at 96 per inch, so 1 CSS px prints as 0.2646 mm), the view is fitted
exactly (no zoom snapping) to the requested extent once the page has its final size, and the graphic scale
and the ratio scale (1 : N) are computed by the page from that final view. Line widths, symbol sizes and
fonts are scaled for the paper (:data:`PRINT_FACTORS`). Nothing here starts a browser:
:func:`bazhong_geo.maps.export.export_print` prints the pages.

>>> from bazhong_geo.maps.base import base_map
>>> page = page_geometry("A3", "landscape")
>>> page.width_px, page.height_px
(1587, 1122)
>>> "window.__bz_print" in print_layout(base_map(), extent=(106.3, 31.3, 107.8, 32.8), paper="A4")
True
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._errors import MapExportError
from . import elements
from .base import basemap_box
from .markup import escape, script_json
from .offline import to_html

if TYPE_CHECKING:
    import folium
    import geopandas as gpd

__all__ = [
    "CSS_PX_PER_MM",
    "ORIENTATIONS",
    "PAPER_MM",
    "PRINT_FACTORS",
    "PageGeometry",
    "county_extents",
    "page_geometry",
    "parse_extent",
    "print_layout",
    "resolve_extent",
]

#: ISO paper sizes (portrait width, height) in millimetres.
PAPER_MM = {"A4": (210, 297), "A3": (297, 420), "A2": (420, 594)}

ORIENTATIONS = ("landscape", "portrait")

#: CSS pixels per millimetre (96 per inch): the unit Chromium lays out and prints in.
CSS_PX_PER_MM = 96 / 25.4

#: Paper -> factors applied on the print page to the screen's line widths, symbol sizes and fonts. On screen a
#: prefecture line is 3 px and a label 12 px; on an A4 sheet that is 0.45 mm and 8 pt.
PRINT_FACTORS = {"A4": {"line": 0.57, "symbol": 0.65, "font": 0.85},
                 "A3": {"line": 0.7, "symbol": 0.8, "font": 1.0},
                 "A2": {"line": 0.9, "symbol": 1.0, "font": 1.25}}

_MARGIN_MM = 10.0
_HEADER_MM = {"A4": 14.0, "A3": 17.0, "A2": 21.0}
_FOOTER_MM = 8.0
_GAP_MM = 5.0
_SIDE_MM = {"A4": 58.0, "A3": 66.0, "A2": 80.0}  # legend column (landscape) or band (portrait)
_SCALEBOX_MM = 36.0
_FIT_PAD_MM = 3.0


@dataclass(frozen=True)
class PageGeometry:
    """Where things sit on the sheet, in CSS pixels (96 per inch) from the top left corner.

    Attributes
    ----------
    paper, orientation : str
    width_mm, height_mm : float
        The sheet.
    width_px, height_px : int
        The page laid out (the sheet rounded down to whole pixels, so it never spills onto a second page).
    frame : (x, y, width, height)
        The map frame.
    side : (x, y, width, height)
        Legends, north arrow and scales: a column right of the frame (landscape) or a band under it (portrait).
    header, footer : (x, y, width, height)
        Title block; sources-and-date line.
    pad_px : float
        Space kept between the extent and the frame's edge.
    bar_max_px : float
        Longest graphic scale bar.
    """

    paper: str
    orientation: str
    width_mm: float
    height_mm: float
    width_px: int
    height_px: int
    frame: tuple[float, float, float, float]
    side: tuple[float, float, float, float]
    header: tuple[float, float, float, float]
    footer: tuple[float, float, float, float]
    pad_px: float
    bar_max_px: float


def _check_paper(paper: str, orientation: str) -> tuple[str, str]:
    key = str(paper).upper()
    if key not in PAPER_MM:
        raise MapExportError(f"paper {paper!r} unknown; use one of {', '.join(PAPER_MM)}")
    if orientation not in ORIENTATIONS:
        raise MapExportError(f"orientation {orientation!r} unknown; use 'landscape' or 'portrait'")
    return key, orientation


def page_geometry(paper: str = "A3", orientation: str = "landscape", *, wide_side: bool = False) -> PageGeometry:
    """Return the layout of a sheet: map frame, legend column or band, title and sources line.

    Parameters
    ----------
    paper : {"A4", "A3", "A2"}
    orientation : {"landscape", "portrait"}
    wide_side : bool
        A wider legend column (landscape) or taller band (portrait) for a progress panel.

    Returns
    -------
    PageGeometry

    Raises
    ------
    MapExportError
        Unknown paper or orientation.

    Examples
    --------
    >>> g = page_geometry("A4", "portrait")
    >>> g.width_px, g.height_px, round(g.frame[2] / CSS_PX_PER_MM)
    (793, 1122, 190)
    """
    paper, orientation = _check_paper(paper, orientation)
    w_mm, h_mm = PAPER_MM[paper]
    if orientation == "landscape":
        w_mm, h_mm = h_mm, w_mm
    k = CSS_PX_PER_MM
    m, head, foot, gap, side = _MARGIN_MM, _HEADER_MM[paper], _FOOTER_MM, _GAP_MM, _SIDE_MM[paper]
    if wide_side:
        side *= 1.8
    top = m + head
    bottom = h_mm - m - foot
    if orientation == "landscape":
        frame = (m, top, w_mm - 2 * m - gap - side, bottom - top)
        side_box = (w_mm - m - side, top, side, bottom - top)
    else:
        band = side * 0.8
        frame = (m, top, w_mm - 2 * m, bottom - top - gap - band)
        side_box = (m, bottom - band, w_mm - 2 * m, band)
    px = tuple(round(v * k, 2) for v in frame)
    return PageGeometry(paper=paper, orientation=orientation, width_mm=w_mm, height_mm=h_mm,
                        width_px=int(w_mm * k), height_px=int(h_mm * k), frame=px,
                        side=tuple(round(v * k, 2) for v in side_box),
                        header=tuple(round(v * k, 2) for v in (m, m, w_mm - 2 * m, head)),
                        footer=tuple(round(v * k, 2) for v in (m, h_mm - m - foot, w_mm - 2 * m, foot)),
                        pad_px=round(_FIT_PAD_MM * k, 2), bar_max_px=round((_SCALEBOX_MM + 4) * k, 2))


_EXTENT_RE = re.compile(r"^\s*([-+0-9.eE]+)\s*,\s*([-+0-9.eE]+)\s*,\s*([-+0-9.eE]+)\s*,\s*([-+0-9.eE]+)\s*"
                        r"(?:,\s*(\S.*?))?\s*$")


def parse_extent(text: str) -> str | tuple:
    """Parse the command-line extent: a division code, or ``minx,miny,maxx,maxy[,CRS]``.

    Parameters
    ----------
    text : str
        ``"511921"`` (a code of the map's boundaries), ``"106.5,31.6,107.2,32.1"`` (longitude/latitude),
        or ``"560000,3500000,640000,3560000,EPSG:4545"``.

    Returns
    -------
    str or tuple
        The code, or ``(minx, miny, maxx, maxy)`` / ``(minx, miny, maxx, maxy, crs)``.

    Raises
    ------
    MapExportError
        Text that is neither.

    Examples
    --------
    >>> parse_extent("511921"), parse_extent("560000,3500000,640000,3560000,EPSG:4545")
    ('511921', (560000.0, 3500000.0, 640000.0, 3560000.0, 'EPSG:4545'))
    """
    s = str(text).strip()
    if re.fullmatch(r"\d{6}(\d{3})?(\d{3})?", s):
        return s
    match = _EXTENT_RE.match(s)
    if not match:
        raise MapExportError(f"extent {text!r}: give a division code (e.g. 511921) or minx,miny,maxx,maxy "
                             "with an optional CRS (e.g. 106.5,31.6,107.2,32.1 or ...,EPSG:4545)")
    try:
        values = tuple(float(v) for v in match.groups()[:4])
    except ValueError:
        raise MapExportError(f"extent {text!r}: the four bounds must be numbers") from None
    return values + ((match.group(5),) if match.group(5) else ())


def _bounds_to_lonlat(values: Sequence, crs) -> tuple[float, float, float, float]:
    """(minx, miny, maxx, maxy) in ``crs`` -> longitude/latitude bounds (edges densified)."""
    from pyproj import CRS, Transformer
    from pyproj.exceptions import CRSError

    minx, miny, maxx, maxy = (float(v) for v in values)
    if not (minx < maxx and miny < maxy):
        raise MapExportError(f"extent {tuple(values)}: need minx < maxx and miny < maxy")
    if crs is None:
        out = (minx, miny, maxx, maxy)
    else:
        try:
            src = CRS.from_user_input(crs)
        except CRSError:
            raise MapExportError(f"extent CRS {crs!r} unknown; give e.g. EPSG:4545 or EPSG:4326") from None
        out = Transformer.from_crs(src, 4326, always_xy=True).transform_bounds(minx, miny, maxx, maxy,
                                                                              densify_pts=21)
    if not (-180 <= out[0] < out[2] <= 180 and -85 <= out[1] < out[3] <= 85):
        raise MapExportError(f"extent {tuple(values)} is not longitude/latitude; add its CRS "
                             "(e.g. minx,miny,maxx,maxy,EPSG:4545)")
    return tuple(float(v) for v in out)


def resolve_extent(m: folium.Map, extent: str | Sequence | gpd.GeoDataFrame | None = None
                   ) -> tuple[float, float, float, float]:
    """Return the longitude/latitude bounds an export shows.

    Parameters
    ----------
    m : folium.Map
        A map whose boundaries (:func:`~bazhong_geo.maps.layers.add_boundaries`) recorded their codes.
    extent : str, sequence, GeoDataFrame or None
        A division code of the map's boundaries; ``(minx, miny, maxx, maxy)`` in longitude/latitude or
        ``(minx, miny, maxx, maxy, crs)``; the text form of :func:`parse_extent`; a GeoDataFrame (its
        bounds); None: the prefecture (else every boundary drawn).

    Returns
    -------
    (minx, miny, maxx, maxy)
        WGS-84 longitude/latitude.

    Raises
    ------
    MapExportError
        An unknown code (the message lists the known ones), bad bounds, or nothing to fit.

    Examples
    --------
    >>> from bazhong_geo.maps.base import base_map
    >>> resolve_extent(base_map(), "106.5,31.6,107.2,32.1")
    (106.5, 31.6, 107.2, 32.1)
    """
    extents = elements.state(m).get("extents", {})
    if extent is None:
        return _default_extent(extents)
    if hasattr(extent, "total_bounds"):
        if extent.crs is None:
            raise MapExportError("the extent layer has no CRS; set it with gdf.set_crs(...)")
        return _bounds_to_lonlat(extent.total_bounds, extent.crs)
    if isinstance(extent, str):
        extent = parse_extent(extent)
        if isinstance(extent, str):
            if extent not in extents:
                known = ", ".join(f"{c} {e['name']}" for c, e in list(extents.items())[:12])
                raise MapExportError(f"extent {extent!r} is not a code of the map's boundaries "
                                     f"(known: {known or 'none: the map has no coded boundaries'})")
            return extents[extent]["bounds"]
    values = tuple(extent)
    if len(values) not in (4, 5):
        raise MapExportError(f"extent {values!r}: give (minx, miny, maxx, maxy) or (minx, miny, maxx, maxy, crs)")
    return _bounds_to_lonlat(values[:4], values[4] if len(values) == 5 else None)


def _default_extent(extents: dict) -> tuple[float, float, float, float]:
    """The prefecture's bounds, else the union of every recorded unit."""
    if not extents:
        raise MapExportError("no extent to print: the map has no coded boundaries; give extent=(minx, miny, "
                             "maxx, maxy) or a division code")
    pref = [e["bounds"] for e in extents.values() if e["level"] == "prefecture"]
    boxes = pref or [e["bounds"] for e in extents.values()]
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def county_extents(m: folium.Map, level: str = "county") -> list[tuple[str, str]]:
    """(code, name) of every unit of ``level`` the map's boundaries recorded, by code: the pages of ``per_county``.

    Parameters
    ----------
    m : folium.Map
    level : str
        The boundaries' ``level`` value.

    Returns
    -------
    list of (str, str)

    Raises
    ------
    MapExportError
        When the map has no unit of that level.
    """
    units = sorted((code, e["name"]) for code, e in elements.state(m).get("extents", {}).items()
                   if e["level"] == level)
    if not units:
        raise MapExportError(f"per-county pages need {level} boundaries with a 'code' and level={level!r} "
                             "drawn on the map (add_boundaries)")
    return units


_TEXTS = {"sources": ("资料来源", "Sources"), "date": ("制图日期", "Map date"),
          "projection": ("投影：Web 墨卡托（EPSG:3857），比例尺以图框中心纬度计", ("Projection: Web Mercator "
                         "(EPSG:3857); scales true at the latitude of the frame's centre")),
          "north": ("北", "N"), "scale": ("比例尺", "Scale")}


def _t(key: str, lang: str) -> str:
    zh, en = _TEXTS[key]
    return en if lang == "en" else zh


_NORTH_SVG = ('<svg width="34" height="48" viewBox="0 0 34 48"><polygon points="17,4 28,40 17,32" fill="#222"/>'
              '<polygon points="17,4 6,40 17,32" fill="#fff" stroke="#222" stroke-width="1.2"/>'
              '<text x="17" y="47" text-anchor="middle" font-size="9" font-weight="bold">{n}</text></svg>')


def _css(g: PageGeometry, factors: dict) -> str:
    fx, fy, fw, fh = g.frame
    sx, sy, sw, sh = g.side
    hx, hy, hw, hh = g.header
    ox, oy, ow, oh = g.footer
    f = factors["font"]
    scalebox_w = _SCALEBOX_MM * CSS_PX_PER_MM + 20
    landscape = g.orientation == "landscape"
    legends = (f"left: 0; top: 0; width: {sw:.2f}px; height: {sh - 150:.2f}px;" if landscape else
               f"left: 0; top: 0; width: {sw - scalebox_w - 20:.2f}px; height: {sh:.2f}px;")
    inner = "flex-direction: column;" if landscape else "flex-direction: row; flex-wrap: nowrap;"
    scalebox = ("left: 0; bottom: 0; width: 100%; height: 140px;" if landscape else
                f"right: 0; top: 0; width: {scalebox_w:.2f}px; height: {sh:.2f}px;")
    return f"""
@page {{ size: {g.width_mm}mm {g.height_mm}mm; margin: 0; }}
html, body {{ width: {g.width_px}px !important; height: {g.height_px}px !important; margin: 0; padding: 0;
  overflow: hidden; background: #fff; -webkit-print-color-adjust: exact; print-color-adjust: exact; }}
.folium-map {{ position: absolute !important; left: {fx}px !important; top: {fy}px !important;
  width: {fw}px !important; height: {fh}px !important; outline: 1px solid #333; }}
.leaflet-control-zoom, .leaflet-control-layers, .leaflet-control-scale, .bz-title, .leaflet-control-attribution
  {{ display: none !important; }}
.folium-map * {{ text-shadow: none !important; box-shadow: none !important; }}
.bz-label {{ font-size: {12 * f:.2f}px; line-height: {2 * round(7.5 * f)}px; }}
.bz-area-label {{ font-size: {13 * f:.2f}px; -webkit-text-stroke: 3px #fff; paint-order: stroke fill; }}
.bz-print {{ position: absolute; color: #222; font-family: "Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei",
  "PingFang SC", "Source Han Sans SC", Arial, sans-serif; }}
#bz-header {{ left: {hx}px; top: {hy}px; width: {hw}px; height: {hh}px; }}
#bz-header h1 {{ margin: 0; font-size: {22 * f:.2f}px; line-height: 1.2; }}
#bz-header p {{ margin: 2px 0 0 0; font-size: {12 * f:.2f}px; color: #555; }}
#bz-side {{ left: {sx}px; top: {sy}px; width: {sw}px; height: {sh}px; }}
#bz-legends {{ position: absolute; {legends} overflow: hidden; }}
.bz-legends-inner {{ display: inline-flex; gap: 6px; align-items: flex-start; {inner} }}
.bz-legends-inner > * {{ flex-shrink: 0; margin: 0 !important; }}
#bz-legends .bz-panel {{ box-shadow: none; border: 1px solid #bbb; max-width: none; font-size: {12 * f:.2f}px; }}
#bz-scalebox {{ position: absolute; {scalebox} }}
#bz-north {{ position: absolute; left: 0; top: 0; }}
#bz-scalebar {{ position: absolute; left: 4px; top: 62px; font-size: {10 * f:.2f}px; }}
#bz-scalebar .bar {{ position: relative; height: 5px; border: 1px solid #222; box-sizing: border-box; }}
#bz-scalebar .seg {{ position: absolute; top: 0; height: 100%; }}
#bz-scalebar .ticks {{ position: relative; height: 14px; }}
#bz-scalebar .ticks span {{ position: absolute; top: 2px; transform: translateX(-50%); white-space: nowrap; }}
#bz-scalebar .ticks .t0 {{ left: 0; }}
#bz-ratio {{ position: absolute; left: 4px; top: 100px; font-size: {12 * f:.2f}px; font-weight: bold; }}
#bz-footer {{ left: {ox}px; top: {oy}px; width: {ow}px; height: {oh}px; font-size: {8.5 * f:.2f}px; color: #555;
  overflow: hidden; line-height: 1.25; display: flex; align-items: center; }}
"""


def _layout_html(title: str, subtitle: str | None, footer: str, lang: str) -> str:
    sub = f"<p>{escape(subtitle)}</p>" if subtitle else ""
    return (f'<div class="bz-print" id="bz-header"><h1>{escape(title)}</h1>{sub}</div>'
            f'<div class="bz-print" id="bz-side"><div id="bz-legends"></div><div id="bz-scalebox">'
            f'<div id="bz-north">{_NORTH_SVG.format(n=escape(_t("north", lang)))}</div>'
            f'<div id="bz-scalebar"></div><div id="bz-ratio"></div></div></div>'
            f'<div class="bz-print" id="bz-footer">{escape(footer)}</div>')


def print_layout(m: folium.Map, *, extent: str | Sequence | gpd.GeoDataFrame | None = None, paper: str = "A3",
                 orientation: str = "landscape", title: str | None = None, subtitle: str | None = None,
                 sources: str | None = None, date: str | dt.date | None = None) -> str:
    """Return the print page of ``m``: one sheet of ``paper`` with the map fitted to ``extent``.

    Parameters
    ----------
    m : folium.Map
        A meeting map (its title, subtitle, legends and sources are used).
    extent : str, sequence, GeoDataFrame or None
        What the map frame shows (see :func:`resolve_extent`); default the prefecture.
    paper : {"A4", "A3", "A2"}
    orientation : {"landscape", "portrait"}
    title, subtitle : str, optional
        Default: the map's own (:func:`~bazhong_geo.maps.base.add_title`).
    sources : str, optional
        Sources line; default the map's attribution.
    date : str or date, optional
        Map date printed with the sources (default today, ISO).

    Returns
    -------
    str
        A self-contained HTML page; :func:`~bazhong_geo.maps.export.export_print` prints it.

    Examples
    --------
    >>> from bazhong_geo.maps.base import base_map
    >>> page = print_layout(base_map(lang="en"), extent=(106.3, 31.3, 107.8, 32.8), paper="A4", title="Test")
    >>> 'id="bz-scalebar"' in page and "<h1>Test</h1>" in page
    True
    """
    st = elements.state(m)
    g = page_geometry(paper, orientation, wide_side=bool(st.get("progress_panel")))
    lang = st.get("lang", "zh")
    minx, miny, maxx, maxy = basemap_box(m, *resolve_extent(m, extent))
    factors = PRINT_FACTORS[g.paper]
    settings = {"extent": [[miny, minx], [maxy, maxx]], "pad": g.pad_px, "barMaxPx": g.bar_max_px,
                "k": factors, "paper": g.paper, "orientation": g.orientation}
    day = date.isoformat() if isinstance(date, dt.date) else (date or dt.datetime.now().astimezone().date().isoformat())
    src = sources if sources is not None else st.get("sources")
    parts = ([f"{_t('sources', lang)}: {src}"] if src else []) + [f"{_t('date', lang)}: {day}",
                                                                   _t("projection", lang)]
    text = to_html(m, offline=True)
    head = f"<script>window.__bz_print = {script_json(settings)};</script>"
    text = text.replace("<head>", "<head>\n" + head, 1)
    text = text.replace("</head>", f"<style>{_css(g, factors)}</style>\n</head>", 1)
    body = _layout_html(title or st.get("title") or "", subtitle if subtitle is not None else st.get("subtitle"),
                        " · ".join(parts), lang)
    return re.sub(r"<body>", lambda _: "<body>\n" + body, text, count=1)
