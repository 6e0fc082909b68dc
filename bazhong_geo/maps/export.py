"""Map export to PNG and PDF with headless Chromium (Debian ``chromium``) driven by Playwright for Python."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from .._errors import ChromiumNotFoundError, MapExportError
from .offline import to_html

if TYPE_CHECKING:
    import folium
    from playwright.sync_api import Browser, Page, Playwright

__all__ = ["CHROMIUM_ARGS", "PAPER_MM", "STILL_JS", "still", "find_chromium", "launch_browser", "export_png",
           "export_pdf", "render_page"]

#: Flags that keep Chromium quiet and offline (no background network, no component updates).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-default-apps", "--disable-extensions",
                 "--mute-audio", "--hide-scrollbars"]

#: ISO paper sizes (portrait width, height) in millimetres.
PAPER_MM = {"A4": (210, 297), "A3": (297, 420)}

_CSS_PX_PER_MM = 96 / 25.4

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


def export_png(map_or_html: folium.Map | str | os.PathLike, path: str | os.PathLike,
               size: tuple[int, int] = (1600, 1000), *, scale: float = 1.0,
               timeout_s: float = 60.0, browser=None) -> Path:
    """Screenshot the map to a PNG of ``size`` CSS pixels (times ``scale``) and return the path.

    Parameters
    ----------
    map_or_html : folium.Map, path or str
        A map (saved offline first), an HTML file, or HTML text.
    path : str or Path
        Output PNG.
    size : (width, height)
        Viewport in CSS pixels; the PNG has ``size * scale`` pixels.
    scale : float
        Device scale factor (2 for a sharp print-quality image).
    timeout_s : float
        Rendering timeout.
    browser : playwright Browser, optional
        A browser to reuse (same thread); by default one is launched and closed.

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
    width, height = (int(v) for v in size)
    if width < 50 or height < 50 or width > 10000 or height > 10000:
        raise MapExportError(f"size {size} out of range: give (width, height) in pixels between 50 and 10000")
    html_text = _html_text(map_or_html)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)

    def shoot(b):
        context = b.new_context(viewport={"width": width, "height": height}, device_scale_factor=scale)
        try:
            page = context.new_page()
            errors = render_page(page, html_text, timeout_s=timeout_s)
            if errors:
                raise MapExportError(f"the map page raised script errors: {errors[:3]}")
            page.screenshot(path=str(out), full_page=False, type="png")
        finally:
            context.close()

    _with_browser(shoot, browser)
    return out


def export_pdf(map_or_html: folium.Map | str | os.PathLike, path: str | os.PathLike, paper: str = "A4",
               landscape: bool = True, *, timeout_s: float = 60.0,
               browser=None) -> Path:
    """Print the map to a one-page PDF of ISO ``paper`` size (A4 or A3), landscape by default.

    The page is laid out at the paper's size (96 CSS px per inch) without margins, so the map, legends
    and panels fill the sheet as they do on screen.

    Parameters
    ----------
    map_or_html : folium.Map, path or str
    path : str or Path
        Output PDF.
    paper : {"A4", "A3"}
    landscape : bool
    timeout_s : float
    browser : playwright Browser, optional

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> from bazhong_geo.maps import base_map
    >>> export_pdf(base_map(), "map.pdf", paper="A3")         # doctest: +SKIP
    PosixPath('map.pdf')
    """
    key = str(paper).upper()
    if key not in PAPER_MM:
        raise MapExportError(f"paper {paper!r} unknown; use one of {', '.join(PAPER_MM)}")
    w_mm, h_mm = PAPER_MM[key]
    if landscape:
        w_mm, h_mm = h_mm, w_mm
    vw, vh = int(round(w_mm * _CSS_PX_PER_MM)), int(round(h_mm * _CSS_PX_PER_MM))
    html_text = _html_text(map_or_html)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)

    def print_pdf(b):
        context = b.new_context(viewport={"width": vw, "height": vh})
        try:
            page = context.new_page()
            errors = render_page(page, html_text, timeout_s=timeout_s)
            if errors:
                raise MapExportError(f"the map page raised script errors: {errors[:3]}")
            page.add_style_tag(content=f"@page {{ size: {w_mm}mm {h_mm}mm; margin: 0; }} "
                                       "html, body { overflow: hidden; } .leaflet-control-zoom { display: none; }")
            page.emulate_media(media="screen")
            page.pdf(path=str(out), width=f"{w_mm}mm", height=f"{h_mm}mm", print_background=True,
                     margin={"top": "0", "right": "0", "bottom": "0", "left": "0"}, page_ranges="1",
                     prefer_css_page_size=False)
        finally:
            context.close()

    _with_browser(print_pdf, browser)
    return out


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
