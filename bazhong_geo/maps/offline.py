"""Offline single-file HTML: Leaflet inlined from django-leaflet, folium's CDN assets stripped; same map, same bytes."""

from __future__ import annotations

import base64
import html
import importlib.util
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from .._errors import BazhongGeoError
from .elements import CSS, RUNTIME_JS, state
from .markup import escape, script_json

if TYPE_CHECKING:
    import os

    import folium
    from IPython.display import HTML

__all__ = ["deterministic_ids", "layer_control_last", "leaflet_assets", "save", "show", "to_html"]

#: The two jQuery calls folium's own templates make (``$(`<html>`)[0]`` in Popup, ``$(document).ready`` in
#: keep_in_front), so a plain folium.Popup still works when jQuery is left out offline.
JQUERY_SHIM = r"""
if (typeof window.$ === 'undefined') {
  window.$ = window.jQuery = function (x) {
    if (x === document) {
      return {ready: function (fn) { if (document.readyState !== 'loading') { fn(); }
                                     else { document.addEventListener('DOMContentLoaded', fn); } }};
    }
    var t = document.createElement('template');
    t.innerHTML = String(x).trim();
    return Array.prototype.slice.call(t.content.childNodes);
  };
}
"""


def leaflet_assets() -> dict[str, str]:
    """Return Leaflet's JS and CSS from the installed ``django-leaflet`` package (images as data URIs).

    The package is located with ``importlib.util.find_spec`` and never imported (it needs Django settings).

    Returns
    -------
    dict
        ``{"js": ..., "css": ..., "version": "1.9.3", "path": ...}``

    Examples
    --------
    >>> leaflet_assets()["version"]
    '1.9.3'
    """
    spec = importlib.util.find_spec("leaflet")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for loc in locations:
        folder = Path(loc) / "static" / "leaflet"
        if (folder / "leaflet.js").exists() and (folder / "leaflet.css").exists():
            break
    else:
        raise BazhongGeoError("Leaflet's JS/CSS not found: install django-leaflet "
                              "(pip install 'django-leaflet>=0.30'), which ships leaflet.js and leaflet.css")
    js = (folder / "leaflet.js").read_text(encoding="utf-8")
    js = re.sub(r"//# sourceMappingURL=\S+", "", js)
    css = (folder / "leaflet.css").read_text(encoding="utf-8")

    def _inline(match):
        name = match.group(1)
        f = folder / name
        if not f.exists():
            return "none"
        return "url(data:image/png;base64," + base64.b64encode(f.read_bytes()).decode("ascii") + ")"

    css = re.sub(r"url\((images/[^)]+)\)", _inline, css)
    css = re.sub(r"/\*# sourceMappingURL=\S+ \*/", "", css)
    m = re.search(r"Leaflet (\d+\.\d+\.\d+)", js)
    icons = {}
    for key, name in (("iconUrl", "marker-icon.png"), ("iconRetinaUrl", "marker-icon-2x.png"),
                      ("shadowUrl", "marker-shadow.png")):
        f = folder / "images" / name
        if f.exists():
            icons[key] = "data:image/png;base64," + base64.b64encode(f.read_bytes()).decode("ascii")
    # folium's default markers then use the inlined images instead of resolving "images/..." next to the file
    if icons:
        js += "\nL.Icon.Default.imagePath = '';\nL.Icon.Default.mergeOptions(" + script_json(icons) + ");\n"
    return {"js": js, "css": css, "version": m.group(1) if m else "unknown", "path": str(folder)}


READY_JS = """
(function () {
  // ready = fonts loaded, the legends laid out (print pages), the view fitted again at the page's final size,
  // labels placed, the scale computed from that view, images and tiles (if any) loaded, two frames drawn
  var map = %s;
  function frames() {
    requestAnimationFrame(function () { requestAnimationFrame(function () { window.__bazhong_ready = true; }); });
  }
  function whenLoaded() {
    var pending = 0;
    function done() { if (--pending === 0) { frames(); } }
    map.eachLayer(function (l) {
      if (l instanceof L.TileLayer && l._loading) { pending++; l.once('load', done); }
      else if (l instanceof L.ImageOverlay && l._image && !l._image.complete) {
        pending++; L.DomEvent.on(l._image, 'load error', done);
      }
    });
    if (pending === 0) { frames(); }
    else { setTimeout(function () { window.__bazhong_tiles_timeout = true; window.__bazhong_ready = true; }, 20000); }
  }
  function fontsSettled(fn, tries) {
    // fonts load when text first needs them: lay the page out, then wait until no font is loading
    document.body.getBoundingClientRect();
    if (!document.fonts || document.fonts.status === 'loaded' || tries >= 20) { fn(); return; }
    document.fonts.ready.then(function () { setTimeout(function () { fontsSettled(fn, tries + 1); }, 0); });
  }
  var fonts = (document.fonts && document.fonts.ready) ? document.fonts.ready : Promise.resolve();
  fonts.then(function () {
    if (window.bz && bz.printLayout) { bz.printLayout(map); }
    if (window.bz && bz.refit) { bz.refit(map); }
    fontsSettled(function () {
      if (window.bz && bz.printLayout) { bz.printLayout(map); }
      if (window.bz && bz.declutter) { bz.declutter(map); map.on('zoomend', function () { bz.declutter(map); }); }
      if (window.bz && bz.printScale) { window.__bazhong_scale = bz.printScale(map); }
      whenLoaded();
    }, 0);
  });
})();
"""


def deterministic_ids(m: folium.Map) -> None:
    """Give the map's elements counter-based ids so the same map renders to the same bytes.

    Ids are given once (an element keeps its id across renders, so rendering twice adds nothing). The
    header/html/script parts an element holds outside its children (``folium.Popup``'s content) are
    numbered too.

    Parameters
    ----------
    m : folium.Map
        Changed in place.
    """
    from branca.element import Element

    st = state(m)
    counter = st.get("id_counter", 0)

    def walk(el):
        nonlocal counter
        if not getattr(el, "_bz_id", False) and type(el).__name__ != "ElementAddToElement":
            el._bz_old_name = el.get_name()
            el._id = f"{counter:04d}"
            el._bz_id = True
            counter += 1
        children = getattr(el, "_children", None)
        if children:
            for child in list(children.values()):
                walk(child)
            # children are keyed by their name when added; templates that use the key (folium.Popup's
            # content) must see the new one
            items = [(child.get_name() if key == getattr(child, "_bz_old_name", None) else key, child)
                     for key, child in children.items()]
            children.clear()
            children.update(items)
        for part in ("header", "html", "script"):
            inner = getattr(el, part, None)
            if isinstance(inner, Element) and inner is not el:
                walk(inner)

    walk(m)
    st["id_counter"] = counter


def layer_control_last(m: folium.Map) -> None:
    """Move the layer control after any layer added to the map after it.

    folium's ``LayerControl`` names the layers it lists in its script; a layer declared later in the
    page (added after the control, e.g. to a finished ``settlement_map``) would be listed as
    ``undefined`` and break the control. A control already after every layer stays where it is.

    Parameters
    ----------
    m : folium.Map
        Changed in place.
    """
    from folium.map import Layer, LayerControl

    keys = list(m._children)
    controls = [k for k in keys if isinstance(m._children[k], LayerControl)]
    for key in controls:
        after = keys[keys.index(key) + 1:]
        if any(isinstance(m._children[k], Layer) for k in after):
            m._children.move_to_end(key)


def to_html(m: folium.Map, *, offline: bool = True) -> str:
    """Return the map as one HTML document.

    With ``offline=True`` Leaflet's JS and CSS are inlined from the installed django-leaflet package,
    every other CDN asset of folium (jQuery, Bootstrap, Font Awesome, awesome-markers) is removed, and
    the page makes no network request unless a basemap was chosen. A ``window.__bazhong_ready`` flag is
    set once the map has rendered (and tiles, if any, have loaded) for the exporters.

    Parameters
    ----------
    m : folium.Map
    offline : bool, default True

    Returns
    -------
    str

    Examples
    --------
    >>> from bazhong_geo.maps import base_map
    >>> text = to_html(base_map())
    >>> "<script src=" in text
    False
    """
    root = m.get_root()
    layer_control_last(m)
    deterministic_ids(m)
    # rendering adds to the figure's header/html/script; start each render from the pre-render state
    st = state(m)
    parts = ("header", "html", "script")
    if "figure_keys" not in st:
        st["figure_keys"] = {part: list(getattr(root, part)._children) for part in parts}
    else:
        for part in parts:
            children = getattr(root, part)._children
            for key in list(children):
                if key not in st["figure_keys"][part]:
                    del children[key]
    text = root.render()
    ready = f"<script>{READY_JS % m.get_name()}</script>"
    runtime = f"<script>{RUNTIME_JS}</script><style>{CSS}</style>"
    head_extra = '<link rel="icon" href="data:,">'
    if st.get("title"):
        head_extra += f"\n<title>{escape(st['title'])}</title>"
    if offline:
        assets = leaflet_assets()
        text = re.sub(r'[ \t]*<script src="https?://[^"]*"></script>\n?', "", text)
        text = re.sub(r'[ \t]*<link rel="stylesheet" href="https?://[^"]*"\s*/?>\n?', "", text)
        leftover = re.findall(r'<(?:script|link|img|iframe)[^>]+(?:src|href)="(?:https?:)?//[^"]*"', text)
        if leftover:
            raise BazhongGeoError(f"offline HTML would still load {leftover[:3]}: a folium plugin with CDN assets "
                                  "was added; use the layer functions of bazhong_geo.maps instead")
        js = assets["js"].replace("</script", "<\\/script")
        inline = f"<style>{assets['css']}</style>\n<script>{js}</script>\n<script>{JQUERY_SHIM}</script>\n"
        text = text.replace("<head>", "<head>\n" + head_extra + "\n" + inline + runtime, 1)
    else:
        text = text.replace("<head>", "<head>\n" + head_extra + "\n", 1)
        # the runtime must follow Leaflet's script tag
        text = re.sub(r'(<script src="[^"]*leaflet\.js"></script>)', lambda mm: mm.group(1) + runtime, text, count=1)
    text = text.replace("<html>", '<html lang="zh-CN">' if st["lang"] == "zh" else '<html lang="en">', 1)
    idx = text.rfind("</html>")
    return text[:idx] + ready + "\n" + text[idx:]


def show(m: folium.Map, *, height: int = 600) -> HTML:
    """Display the map in Jupyter without the network: an iframe holding the offline HTML.

    folium's own notebook display loads Leaflet and friends from CDNs; this one works on an intranet.

    Returns
    -------
    IPython.display.HTML

    Examples
    --------
    >>> from bazhong_geo.maps import base_map
    >>> show(base_map(), height=400)        # doctest: +SKIP
    """
    from IPython.display import HTML

    doc = html.escape(to_html(m, offline=True), quote=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "consider IFrame": an IFrame needs a URL, this needs none
        return HTML(f'<iframe srcdoc="{doc}" style="width:100%;height:{int(height)}px;border:none" '
                    'sandbox="allow-scripts allow-popups"></iframe>')


def save(m: folium.Map, path: str | os.PathLike, *, offline: bool = True) -> Path:
    """Write the map to one self-contained HTML file (see :func:`to_html`) and return its path.

    Parameters
    ----------
    m : folium.Map
    path : str or path-like
        The HTML file to write.
    offline : bool
        Inline Leaflet and the runtime (no network needed to open the file).

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile, os
    >>> from bazhong_geo.maps import base_map
    >>> p = save(base_map(), os.path.join(tempfile.mkdtemp(), "m.html"))
    >>> p.stat().st_size > 100_000   # Leaflet inlined
    True
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_html(m, offline=offline), encoding="utf-8")
    return path
