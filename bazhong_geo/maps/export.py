"""Map export to PNG and PDF with headless Chromium (Debian ``chromium``) driven by Playwright for Python."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from .._errors import ChromiumNotFoundError, MapExportError
from . import elements
from .layout import PAPER_MM, PageGeometry, county_extents, page_geometry, print_layout
from .offline import to_html

if TYPE_CHECKING:
    from collections.abc import Sequence

    import folium
    import geopandas as gpd
    from playwright.sync_api import Browser, Page, Playwright

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
    "stamp_pdf_dates",
    "still",
]

#: Flags that keep Chromium quiet and offline (no background network, no component updates).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-default-apps", "--disable-extensions",
                 "--mute-audio", "--hide-scrollbars"]

#: Script put before ``</head>`` of an exported page (after Leaflet, before the map is made): no zoom, fade
#: or marker animation, so the picture taken is the final view and the same map gives the same pixels.
STILL_JS = ("<script>if (window.L && L.Map) { L.Map.mergeOptions({zoomAnimation: false, fadeAnimation: false, "
            "markerZoomAnimation: false}); }</script>")


def find_chromium() -> str:
    """Return the Chromium executable: ``BAZHONG_GEO_CHROMIUM``, else ``chromium`` / ``chromium-browser`` on PATH.

    Raises
    ------
    ChromiumNotFoundError
        Neither is found; the message says how to fix it.

    Returns
    -------
    str
        Path of the executable.

    Examples
    --------
    >>> find_chromium()          # doctest: +SKIP
    '/usr/bin/chromium'
    """
    env = os.environ.get("BAZHONG_GEO_CHROMIUM")
    if env:
        if Path(env).is_file() and os.access(env, os.X_OK):
            return env
        raise ChromiumNotFoundError(f"BAZHONG_GEO_CHROMIUM={env!r} is not an executable file; point it at "
                                    "chromium (e.g. /usr/bin/chromium) or unset it")
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise ChromiumNotFoundError("no Chromium found for PNG/PDF export: install it (Debian/Ubuntu: "
                                "apt-get install chromium) or set BAZHONG_GEO_CHROMIUM=/path/to/chromium. "
                                "The HTML map itself needs no browser.")


def launch_browser(playwright: Playwright) -> Browser:
    """Launch headless Chromium from a ``sync_playwright()`` context with the offline-friendly flags.

    Parameters
    ----------
    playwright : playwright.sync_api.Playwright
        The object ``sync_playwright()`` yields.

    Returns
    -------
    playwright.sync_api.Browser
    """
    return playwright.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS, headless=True)


def _html_text(map_or_html) -> str:
    """HTML text of a folium map (offline), an HTML file path, or an HTML string."""
    if hasattr(map_or_html, "get_root"):
        return to_html(map_or_html, offline=True)
    if isinstance(map_or_html, (str, os.PathLike)):
        text = str(map_or_html)
        if isinstance(map_or_html, str) and text.lstrip()[:1] == "<":
            return text
        path = Path(map_or_html)
        if not path.is_file():
            raise MapExportError(f"{path}: no such HTML file; give a folium.Map, an HTML file or HTML text")
        return path.read_text(encoding="utf-8")
    raise MapExportError(f"cannot export a {type(map_or_html).__name__}; give a folium.Map, an HTML file or HTML text")


def _in_running_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _run(fn):
    """Run ``fn`` (which uses the sync Playwright API) off the asyncio loop when one is running (Jupyter)."""
    if not _in_running_loop():
        return fn()
    box: dict = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    t = threading.Thread(target=target, name="bazhong-geo-export")
    t.start()
    t.join()
    if "error" in box:
        raise box["error"]
    return box.get("value")


def still(html_text: str) -> str:
    """Return the page with Leaflet's animations switched off (:data:`STILL_JS` before ``</head>``).

    Parameters
    ----------
    html_text : str

    Returns
    -------
    str
        Unchanged when the page has no ``</head>``.

    Examples
    --------
    >>> "zoomAnimation: false" in still("<html><head></head><body></body></html>")
    True
    """
    head_end = html_text.find("</head>")
    if head_end < 0:
        return html_text
    return html_text[:head_end] + STILL_JS + "\n" + html_text[head_end:]


def render_page(page: Page, html_text: str, *, timeout_s: float = 60.0) -> list[str]:
    """Open ``html_text`` from a temporary file in ``page`` and wait until the map has rendered.

    Leaflet's animations are switched off (:func:`still`). Waits for ``window.__bazhong_ready`` (set by
    :func:`bazhong_geo.maps.to_html` once fonts are loaded, the view is fitted again at the page's final
    size, layers are drawn and tiles, if any, have loaded); pages without the flag are given until the
    network is idle.

    Returns
    -------
    list of str
        Script errors raised by the page (empty when it rendered cleanly).
    """
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    tmp = tempfile.mkdtemp(prefix="bazhong_geo_export_")
    path = Path(tmp) / "map.html"
    path.write_text(still(html_text), encoding="utf-8")
    try:
        page.goto(path.as_uri(), wait_until="load", timeout=timeout_s * 1000)
        if "__bazhong_ready" in html_text:
            from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

            try:
                page.wait_for_function("window.__bazhong_ready === true", timeout=timeout_s * 1000)
            except PlaywrightTimeoutError as exc:
                raise MapExportError(f"the map did not finish rendering within {timeout_s:.0f} s "
                                     f"(script errors: {errors or 'none'})") from exc
        else:
            page.wait_for_load_state("networkidle", timeout=timeout_s * 1000)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return errors


def export_png(map_or_html: folium.Map | str | os.PathLike, path: str | os.PathLike,  # noqa: PLR0913 (public API options)
               size: tuple[int, int] = (1600, 1000), *, scale: float = 1.0,
               timeout_s: float = 60.0, browser: Browser | None = None,
               extent: str | Sequence | gpd.GeoDataFrame | None = None, paper: str | None = None,
               orientation: str = "landscape", per_county: bool = False) -> Path:
    """Screenshot the map to a PNG of ``size`` CSS pixels (times ``scale``) and return the path.

    With ``paper``, ``extent`` or ``per_county`` the PNG is the print page instead
    (:func:`export_print`: the sheet at ``scale`` device pixels per CSS pixel, ``size`` unused).

    Parameters
    ----------
    map_or_html : folium.Map, path or str
        A map (saved offline first), an HTML file, or HTML text (the print page needs the map).
    path : str or Path
        Output PNG (per county: the first page's; the others are written beside it, see :func:`export_print`).
    size : (width, height)
        Viewport in CSS pixels; the PNG has ``size * scale`` pixels.
    scale : float
        Device scale factor (2 for a sharp print-quality image).
    timeout_s : float
        Rendering timeout.
    browser : playwright Browser, optional
        A browser to reuse (same thread); by default one is launched and closed.
    extent, paper, orientation, per_county
        The print page (see :func:`export_print`; ``paper`` defaults to A3 there).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ChromiumNotFoundError, MapExportError

    Examples
    --------
    >>> from bazhong_geo.maps import base_map
    >>> export_png(base_map(), "map.png", size=(800, 600))      # doctest: +SKIP
    PosixPath('map.png')
    """
    if paper is not None or extent is not None or per_county:
        return export_print(_needs_map(map_or_html), path, extent=extent, paper=paper or "A3",
                            orientation=orientation, per_county=per_county, scale=scale, timeout_s=timeout_s,
                            browser=browser)[0]
    width, height = (int(v) for v in size)
    if width < 50 or height < 50 or width > 10000 or height > 10000:
        raise MapExportError(f"size {size} out of range: give (width, height) in pixels between 50 and 10000")
    html_text = _html_text(map_or_html)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    _with_browser(lambda b: _shoot(b, html_text, out, (width, height), scale, timeout_s), browser)
    return out


def _needs_map(map_or_html):
    if not hasattr(map_or_html, "get_root"):
        raise MapExportError("the print page (paper, extent, per_county) is made from the map itself: give the "
                             "folium.Map, not its HTML")
    return map_or_html


def _shoot(b: Browser, html_text: str, out: Path, size: tuple[int, int], scale: float, timeout_s: float) -> None:
    """Render ``html_text`` at ``size`` CSS pixels and ``scale`` and write the PNG (temporary name, then rename)."""
    context = b.new_context(viewport={"width": size[0], "height": size[1]}, device_scale_factor=scale)
    try:
        page = context.new_page()
        errors = render_page(page, html_text, timeout_s=timeout_s)
        if errors:
            raise MapExportError(f"the map page raised script errors: {errors[:3]}")
        tmp = out.with_name(out.name + ".part")
        page.screenshot(path=str(tmp), full_page=False, type="png")
        tmp.replace(out)
    finally:
        context.close()


def export_pdf(map_or_html: folium.Map | str | os.PathLike, path: str | os.PathLike, paper: str = "A4",  # noqa: PLR0913 (public API options)
               landscape: bool = True, *, timeout_s: float = 60.0,
               browser: Browser | None = None, orientation: str | None = None,
               extent: str | Sequence | gpd.GeoDataFrame | None = None, per_county: bool = False,
               layout: bool | None = None) -> Path:
    """Print the map to a PDF of ISO ``paper`` size (A4, A3 or A2), landscape by default.

    A folium map is printed as its print page (:func:`export_print`: title, map frame fitted to ``extent``,
    legends, north arrow, graphic and ratio scales, sources and date; one page per county with
    ``per_county``), vector throughout. HTML (a file or text) is printed as it is laid out on a screen of
    the paper's size, on one page.

    Parameters
    ----------
    map_or_html : folium.Map, path or str
    path : str or Path
        Output PDF.
    paper : {"A4", "A3", "A2"}
    landscape : bool
        Orientation, unless ``orientation`` is given.
    timeout_s : float
    browser : playwright Browser, optional
    orientation : {"landscape", "portrait"}, optional
    extent : str, sequence or GeoDataFrame, optional
        What the map frame shows (a division code, bounds with an optional CRS); default the prefecture.
    per_county : bool
        One page per county.
    layout : bool, optional
        Force the print page (True) or the screen page (False); default: the print page for a map.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> from bazhong_geo.maps import base_map
    >>> export_pdf(base_map(), "map.pdf", paper="A3", extent=(106.3, 31.3, 107.8, 32.8))   # doctest: +SKIP
    PosixPath('map.pdf')
    """
    orientation = orientation or ("landscape" if landscape else "portrait")
    g = page_geometry(paper, orientation)
    if layout is None:
        layout = hasattr(map_or_html, "get_root")
    if layout:
        return export_print(_needs_map(map_or_html), path, extent=extent, paper=paper, orientation=orientation,
                            per_county=per_county, timeout_s=timeout_s, browser=browser)[0]
    if extent is not None or per_county:
        raise MapExportError("extent and per_county need the print page: give the folium.Map (layout=True)")
    html_text = _html_text(map_or_html)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    css = ("html, body { overflow: hidden; } .leaflet-control-zoom { display: none; }")
    _with_browser(lambda b: _print_pdf(b, [html_text], out, g, timeout_s, extra_css=css), browser)
    return out


def export_print(m: folium.Map, path: str | os.PathLike, *, extent: str | Sequence | gpd.GeoDataFrame | None = None,  # noqa: PLR0913 (public API options)
                 paper: str = "A3", orientation: str = "landscape", per_county: bool = False, scale: float = 2.0,
                 title: str | None = None, subtitle: str | None = None, sources: str | None = None,
                 date: str | None = None, timeout_s: float = 60.0, browser: Browser | None = None) -> list[Path]:
    """Print the map's print page (:func:`~bazhong_geo.maps.layout.print_layout`) to a PDF or PNG.

    The page is laid out at the paper's size, the view fitted once to the extent at that size, every
    layer, image and tile drawn before the capture, labels placed without overlaps, and the scales
    computed from the final view. A PDF is vector (lines, symbols and text; rasters as images) and holds
    one page per county with ``per_county`` (in code order), else one page. A PNG has ``scale`` device
    pixels per CSS pixel (2 ≈ 192 dpi); per county, one PNG per county named ``<stem>_<code>.png``.

    Parameters
    ----------
    m : folium.Map
    path : str or Path
        ``.pdf`` or ``.png``.
    extent : str, sequence or GeoDataFrame, optional
        See :func:`~bazhong_geo.maps.layout.resolve_extent` (ignored with ``per_county``).
    paper : {"A4", "A3", "A2"}
    orientation : {"landscape", "portrait"}
    per_county : bool
        One page per county of the map's boundaries.
    scale : float
        PNG device scale factor.
    title, subtitle, sources, date : str, optional
        See :func:`~bazhong_geo.maps.layout.print_layout`; per county the county's name follows the subtitle.
    timeout_s : float
    browser : playwright Browser, optional

    Returns
    -------
    list of pathlib.Path
        The files written (one PDF; or one PNG per page).

    Raises
    ------
    MapExportError
        Unknown paper, orientation, extent or file type; a page that fails to render.

    Examples
    --------
    >>> export_print(m, "counties.pdf", paper="A3", per_county=True)       # doctest: +SKIP
    [PosixPath('counties.pdf')]
    """
    out = Path(path)
    kind = out.suffix.lower()
    if kind not in (".pdf", ".png"):
        raise MapExportError(f"{out}: print to a .pdf or a .png file")
    g = page_geometry(paper, orientation)
    pages = _pages(m, extent, g, per_county, title=title, subtitle=subtitle, sources=sources, date=date)
    out.parent.mkdir(parents=True, exist_ok=True)
    if kind == ".pdf":
        _with_browser(lambda b: _print_pdf(b, [html for _, html in pages], out, g, timeout_s, day=date), browser)
        return [out]
    targets = [out if len(pages) == 1 else out.with_name(f"{out.stem}_{code}{out.suffix}") for code, _ in pages]

    def shoot_all(b):
        for target, (_, html) in zip(targets, pages, strict=False):
            _shoot(b, html, target, (g.width_px, g.height_px), scale, timeout_s)

    _with_browser(shoot_all, browser)
    return targets


def _pages(m, extent, g: PageGeometry, per_county: bool, **texts) -> list[tuple[str, str]]:
    """(code, print page HTML) of each page."""
    common = {"paper": g.paper, "orientation": g.orientation, **texts}
    if not per_county:
        return [("map", print_layout(m, extent=extent, **common))]
    base_sub = texts.get("subtitle") or elements.state(m).get("subtitle")
    pages = []
    for code, name in county_extents(m):
        sub = f"{base_sub} · {name}" if base_sub else name
        pages.append((code, print_layout(m, extent=code, **{**common, "subtitle": sub})))
    return pages


def _print_pdf(b: Browser, htmls: list[str], out: Path, g: PageGeometry, timeout_s: float,
               extra_css: str | None = None, day: str | None = None) -> None:
    """Print pages to one PDF: each page a frame in a sheet-sized box, one box per sheet (written, then renamed)."""
    context = b.new_context(viewport={"width": g.width_px, "height": g.height_px})
    tmp = Path(tempfile.mkdtemp(prefix="bazhong_geo_print_"))
    try:
        frames = []
        for i, html_text in enumerate(htmls):
            (tmp / f"page_{i:03d}.html").write_text(still(html_text), encoding="utf-8")
            frames.append(f'<div class="pg"><iframe src="page_{i:03d}.html" scrolling="no"></iframe></div>')
        index = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><style>@page {{ size: {g.width_mm}mm "
                 f"{g.height_mm}mm; margin: 0; }} html, body {{ margin: 0; padding: 0; }} .pg {{ width: "
                 f"{g.width_px}px; height: {g.height_px}px; overflow: hidden; break-after: page; }} "
                 f".pg:last-child {{ break-after: auto; }} iframe {{ border: 0; display: block; width: "
                 f"{g.width_px}px; height: {g.height_px}px; }}</style></head><body>{''.join(frames)}</body></html>")
        (tmp / "index.html").write_text(index, encoding="utf-8")
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto((tmp / "index.html").as_uri(), wait_until="load", timeout=timeout_s * 1000)
        _wait_frames(page, len(htmls), timeout_s, errors)
        if extra_css:
            for frame in page.frames[1:]:
                frame.add_style_tag(content=extra_css)
        page.emulate_media(media="screen")
        part = out.with_name(out.name + ".part")
        page.pdf(path=str(part), width=f"{g.width_mm}mm", height=f"{g.height_mm}mm", print_background=True,
                 margin={"top": "0", "right": "0", "bottom": "0", "left": "0"}, prefer_css_page_size=True)
        stamp_pdf_dates(part, day)
        part.replace(out)
    finally:
        context.close()
        shutil.rmtree(tmp, ignore_errors=True)


def stamp_pdf_dates(path: str | os.PathLike, day: str | None = None) -> None:
    """Set the PDF's creation and modification dates to midnight of ``day`` (ISO; default today), in place.

    Chromium stamps the time of printing; with the map's date instead, the same map gives the same bytes.
    The stamp keeps its length, so the file's cross-reference offsets stay right.

    Parameters
    ----------
    path : str or Path
        A PDF written by Chromium.
    day : str, optional
        ``YYYY-MM-DD``.

    Raises
    ------
    MapExportError
        ``day`` is not a date.
    """
    digits = re.sub(r"\D", "", day or dt.datetime.now().astimezone().date().isoformat())[:8]
    if len(digits) != 8:
        raise MapExportError(f"date {day!r}: give YYYY-MM-DD")
    data = Path(path).read_bytes()
    data = re.sub(rb"/(CreationDate|ModDate) \(D:\d{14}", lambda mm: b"/" + mm.group(1) + b" (D:"
                  + digits.encode() + b"000000", data)
    Path(path).write_bytes(data)


def _wait_frames(page: Page, n: int, timeout_s: float, errors: list[str]) -> None:
    """Wait until every page frame has rendered (``__bazhong_ready``, or network idle without the flag)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    frames = page.frames[1:]
    if len(frames) != n:
        raise MapExportError(f"{len(frames)} of {n} pages loaded")
    for i, frame in enumerate(frames):
        if errors:
            raise MapExportError(f"the map page raised script errors: {errors[:3]}")
        try:
            frame.frame_element().scroll_into_view_if_needed()  # a page out of view gets no animation frames
            if frame.evaluate("document.documentElement.outerHTML.indexOf('__bazhong_ready') >= 0"):
                frame.wait_for_function("window.__bazhong_ready === true", timeout=timeout_s * 1000)
            else:
                page.wait_for_load_state("networkidle", timeout=timeout_s * 1000)
        except PlaywrightTimeoutError as exc:
            raise MapExportError(f"page {i + 1} did not finish rendering within {timeout_s:.0f} s") from exc
    if errors:
        raise MapExportError(f"the map page raised script errors: {errors[:3]}")


def _with_browser(fn, browser=None):
    if browser is not None:
        return fn(browser)

    def job():
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            b = launch_browser(p)
            try:
                return fn(b)
            finally:
                b.close()

    find_chromium()  # fail early with a clear message
    return _run(job)
