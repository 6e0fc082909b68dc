"""Browser side of meeting maps: the ``bz`` runtime, its CSS and the branca elements that call it.

Layers are embedded as JSON (:func:`bazhong_geo.maps.markup.script_json`) and drawn by ``bz.layer``; panels hold
escaped HTML. Per-map settings (language, coordinate system, title) live in :func:`state`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._errors import BazhongGeoError
from .markup import script_json

if TYPE_CHECKING:
    import folium

# DataLayer, Panel and Raw are built on first access by the module's __getattr__ (branca loads only for a map)
__all__ = ["CSS", "POSITIONS", "RUNTIME_JS", "DataLayer", "Panel", "Raw", "check_position", "state"]  # noqa: F822

#: Leaflet control corners.
POSITIONS = ("topleft", "topright", "bottomleft", "bottomright")

RUNTIME_JS = r"""
window.bz = (function () {
  var SHAPES = {
    star: function (s) { var c = s / 2, R = s / 2 - 1, r = R * 0.45, p = [];
      for (var i = 0; i < 10; i++) { var a = Math.PI / 5 * i - Math.PI / 2, q = i % 2 ? r : R;
        p.push((c + q * Math.cos(a)).toFixed(1) + ',' + (c + q * Math.sin(a)).toFixed(1)); }
      return '<polygon points="' + p.join(' ') + '"/>'; },
    square: function (s) { return '<rect x="1" y="1" width="' + (s - 2) + '" height="' + (s - 2) + '"/>'; },
    diamond: function (s) { var c = s / 2;
      return '<polygon points="' + c + ',1 ' + (s - 1) + ',' + c + ' ' + c + ',' + (s - 1) + ' 1,' + c + '"/>'; },
    triangle: function (s) {
      return '<polygon points="' + s / 2 + ',1 ' + (s - 1) + ',' + (s - 1) + ' 1,' + (s - 1) + '"/>'; },
    circle: function (s) { return '<circle cx="' + s / 2 + '" cy="' + s / 2 + '" r="' + (s / 2 - 1) + '"/>'; },
    cross: function (s) {
      return '<path d="M2,2L' + (s - 2) + ',' + (s - 2) + 'M' + (s - 2) + ',2L2,' + (s - 2) + '" stroke-width="3"/>'; },
    ring: function (s) {
      return '<circle cx="' + s / 2 + '" cy="' + s / 2 + '" r="' + (s / 2 - 2) + '" fill="none" stroke-width="3"/>'; }
  };
  function svg(shape, s, fill, stroke) {
    s = Math.max(4, Math.round(s));
    var f = (shape === 'cross' || shape === 'ring') ? 'none' : fill;
    var k = (shape === 'cross' || shape === 'ring') ? fill : stroke;
    return '<svg xmlns="http://www.w3.org/2000/svg" width="' + s + '" height="' + s + '" viewBox="0 0 ' + s + ' ' + s +
      '" fill="' + f + '" stroke="' + k + '" stroke-width="1.2">' + (SHAPES[shape] || SHAPES.circle)(s) + '</svg>';
  }
  // print settings (window.__bz_print, set by a print page before the map is made): factors for line widths,
  // symbol sizes and fonts at paper size; absent on screen (every factor 1)
  function K(name) { var P = window.__bz_print; return P && P.k ? P.k[name] : 1; }
  function scaled(st) {
    var k = K('line'); if (k === 1) { return st; }
    var o = Object.assign({}, st);
    o.weight = (o.weight === undefined ? 3 : o.weight) * k;
    if (o.dashArray) {
      o.dashArray = String(o.dashArray).split(/[ ,]+/).map(function (v) { return +v * k; }).join(' ');
    }
    return o;
  }
  var LABELS = [];
  function bind(f, layer, spec) {
    var p = f.properties || {};
    if (p._l) {
      var off = spec.labelOffset ? [spec.labelOffset[0] * K('symbol'), spec.labelOffset[1] * K('symbol')]
                                 : [(p._r || 0) * K('symbol'), 0];
      layer.bindTooltip(p._l, {permanent: true, direction: spec.labelDir || 'right',
        className: spec.labelClass || 'bz-label', offset: off});
      LABELS.push({layer: layer, prio: (p._lp === undefined ? 1e12 : p._lp), i: LABELS.length,
                   dir: spec.labelDir || 'right', off: off[0]});
    }
    else if (p._t) { layer.bindTooltip(p._t, {sticky: true, className: 'bz-tip'}); }
    if (p._p) { layer.bindPopup(p._p, {maxWidth: 360}); }
    else if (p._v && spec.fields) {
      layer.bindPopup(function () { return facts(p._h, spec.fields, p._v); }, {maxWidth: 360});
    }
  }
  function facts(head, fields, values) {
    var d = document.createElement('div'), b = document.createElement('b'), t = document.createElement('table');
    b.textContent = head; t.className = 'bz-facts'; d.appendChild(b); d.appendChild(t);
    fields.forEach(function (f, i) {
      var v = values[i]; if (v === null || v === undefined || v === '') { return; }
      var tr = t.insertRow(), th = document.createElement('th'), td = document.createElement('td');
      th.textContent = f; td.textContent = v; tr.appendChild(th); tr.appendChild(td);
    });
    return d;
  }
  function layer(spec) {
    return L.geoJSON(spec.data, {
      style: function (f) { return scaled(spec.styles[f.properties._k] || spec.style || {}); },
      pointToLayer: function (f, ll) {
        var st = spec.styles[f.properties._k] || spec.style || {};
        var r = (f.properties._r || st.radius || 5) * K('symbol');
        if (spec.points === 'circle') { return L.circleMarker(ll, Object.assign({}, scaled(st), {radius: r})); }
        if (st.shape === 'none') { return L.marker(ll, {keyboard: false, interactive: false,
          icon: L.divIcon({html: '', className: 'bz-sym', iconSize: [0, 0]})}); }
        var s = 2 * r;
        return L.marker(ll, {keyboard: false, riseOnHover: true, zIndexOffset: spec.z || 0,
          icon: L.divIcon({html: svg(st.shape, s, st.fillColor, st.color || '#333'), className: 'bz-sym',
                           iconSize: [s, s], iconAnchor: [s / 2, s / 2]})});
      },
      onEachFeature: function (f, l) { bind(f, l, spec); }
    });
  }
  function panel(map, position, content, cls) {
    var c = L.control({position: position});
    c.onAdd = function () {
      var d = L.DomUtil.create('div', 'bz-panel ' + cls);
      d.innerHTML = content;
      L.DomEvent.disableClickPropagation(d); L.DomEvent.disableScrollPropagation(d);
      return d;
    };
    c.addTo(map);
    return c;
  }
  function fit(map, bounds, topLeft, bottomRight) {
    // no animation: the view is final when fit returns (an export screenshot never catches a zoom half-way);
    // the arguments are kept so the view can be fitted again once the page has its final size
    map.__bzFit = [bounds, topLeft, bottomRight];
    var size = map.getSize(), k = Math.max(0, Math.min(1,
      (size.x - 40) / Math.max(1, topLeft[0] + bottomRight[0]),
      (size.y - 40) / Math.max(1, topLeft[1] + bottomRight[1])));
    map.fitBounds(bounds, {paddingTopLeft: [topLeft[0] * k, topLeft[1] * k],
                           paddingBottomRight: [bottomRight[0] * k, bottomRight[1] * k], animate: false});
  }
  function refit(map) {
    map.invalidateSize({animate: false, pan: false});
    var P = window.__bz_print;
    if (P && P.extent) {
      // a print page: the requested extent, fitted exactly (no zoom snapping) inside the map frame
      map.options.zoomSnap = 0;
      map.fitBounds(P.extent, {padding: [P.pad, P.pad], animate: false});
    } else if (map.__bzFit) { fit(map, map.__bzFit[0], map.__bzFit[1], map.__bzFit[2]); }
  }
  function overlaps(a, b) { return a.l < b.r && b.l < a.r && a.t < b.b && b.t < a.b; }
  function declutter(map) {
    // permanent labels placed by priority (lower first): right of the symbol, else left, else hidden;
    // boxes in screen space for the current view, none overlapping another, none outside the map.
    // One pass of writes (reset), one of reads (boxes), then placement in script and one pass of writes.
    var frame = map.getContainer().getBoundingClientRect(), placed = [];
    var items = LABELS.filter(function (it) { var t = it.layer.getTooltip && it.layer.getTooltip();
      return it.layer._map === map && t && t.getElement() && t.getElement().parentNode; });
    items.sort(function (a, b) { return (a.prio - b.prio) || (a.i - b.i); });
    items.forEach(function (it) { var el = it.layer.getTooltip().getElement();
      el.style.display = ''; el.style.marginLeft = ''; el.removeAttribute('data-bz-placed'); it.el = el; });
    items.forEach(function (it) { it.base = parseFloat(getComputedStyle(it.el).marginLeft) || 0;
      it.box = it.el.getBoundingClientRect(); });
    items.forEach(function (it) {
      var r0 = it.box, shifts = it.dir === 'right' ? [0, -Math.round(r0.width + 2 * it.off + 2 * it.base)] : [0];
      it.shift = null;
      for (var i = 0; i < shifts.length; i++) {
        var b = {l: r0.left + shifts[i], r: r0.right + shifts[i], t: r0.top, b: r0.bottom};
        var inside = b.l >= frame.left && b.r <= frame.right && b.t >= frame.top && b.b <= frame.bottom;
        if (inside && !placed.some(function (q) { return overlaps(b, q); })) {
          it.shift = shifts[i]; placed.push(b); break;
        }
      }
    });
    items.forEach(function (it) {
      if (it.shift === null) { it.el.style.display = 'none'; return; }
      if (it.shift) { it.el.style.marginLeft = Math.round(it.base + it.shift) + 'px'; }
      it.el.setAttribute('data-bz-placed', '1');
    });
    return placed.length;
  }
  function niceDistance(m) {
    var p = Math.pow(10, Math.floor(Math.log10(m))), f = m / p;
    return (f >= 5 ? 5 : f >= 2 ? 2 : 1) * p;
  }
  function fmtInt(n) { return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, '\u2009'); }
  function printScale(map) {
    // the graphic scale and the ratio scale, both from the final view: metres per CSS pixel measured
    // along the parallel through the centre of the map frame (1 CSS pixel = 0.0254 / 96 m on paper)
    var P = window.__bz_print, bar = document.getElementById('bz-scalebar');
    if (!P || !bar) { return null; }
    var size = map.getSize(), y = size.y / 2, x0 = size.x / 4, x1 = 3 * size.x / 4;
    var mpp = map.distance(map.containerPointToLatLng([x0, y]), map.containerPointToLatLng([x1, y])) / (x1 - x0);
    var metres = niceDistance(P.barMaxPx * mpp), px = metres / mpp, denominator = mpp / (0.0254 / 96);
    var km = metres >= 1000, unit = km ? ' km' : ' m', v = km ? metres / 1000 : metres, segs = '';
    for (var i = 0; i < 4; i++) { segs += '<div class="seg" style="left:' + (i * px / 4) + 'px;width:' + (px / 4) +
      'px;background:' + (i % 2 ? '#fff' : '#222') + '"></div>'; }
    bar.innerHTML = '<div class="bar" style="width:' + px + 'px">' + segs + '</div>' +
      '<div class="ticks" style="width:' + px + 'px"><span class="t0">0</span>' +
      '<span class="t1" style="left:' + (px / 2) + 'px">' + (v / 2) + '</span>' +
      '<span class="t2" style="left:' + px + 'px">' + v + unit + '</span></div>';
    bar.setAttribute('data-metres', metres); bar.setAttribute('data-px', px);
    var digits = Math.pow(10, Math.max(0, Math.floor(Math.log10(denominator)) - 2));
    var ratio = document.getElementById('bz-ratio');
    ratio.textContent = '1 : ' + fmtInt(Math.round(denominator / digits) * digits);
    ratio.setAttribute('data-denominator', denominator);
    return {metres: metres, px: px, denominator: denominator};
  }
  function printLayout(map) {
    // legends (and the progress panel) move from the map into the side column; they shrink to fit it
    var col = document.getElementById('bz-legends');
    if (!col) { return; }
    var inner = col.querySelector('.bz-legends-inner');
    if (!inner) { inner = document.createElement('div'); inner.className = 'bz-legends-inner'; col.appendChild(inner); }
    inner.style.zoom = '';
    document.querySelectorAll('.leaflet-control-container .bz-legend')
      .forEach(function (el) { inner.appendChild(el); });
    function fits() { var c = col.getBoundingClientRect(), r = inner.getBoundingClientRect();
      return r.bottom <= c.bottom + 0.5 && r.right <= c.right + 0.5; }
    var k = 1;
    while (!fits() && k > 0.4) { k *= 0.96; inner.style.zoom = k; }
  }
  return {svg: svg, layer: layer, panel: panel, fit: fit, refit: refit, declutter: declutter, printScale: printScale,
          printLayout: printLayout, labels: function () { return LABELS; }};
})();
"""

CSS = """
.leaflet-container { background: #f7f5f0; font-family: "Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei",
  "PingFang SC", "Source Han Sans SC", "Helvetica Neue", Arial, sans-serif; }
.bz-sym { background: none; border: none; }
.bz-sym svg, .bz-legend svg { display: block; }
.leaflet-control-layers { font-size: 12px; }
.leaflet-control-attribution { font-size: 10px; max-width: 55vw; line-height: 1.3; }
.bz-panel { background: rgba(255,255,255,0.93); padding: 6px 9px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,0.35); font-size: 12px; line-height: 1.35; color: #222; max-width: 440px; }
.bz-progress { font-size: 11.5px; max-width: 520px; }
.bz-progress td:first-child { min-width: 200px; }
.bz-panel h4 { margin: 0 0 4px 0; font-size: 13px; }
.bz-title h2 { margin: 0; font-size: 18px; }
.bz-title p { margin: 2px 0 0 0; font-size: 12px; color: #555; }
.bz-legend .row { display: flex; align-items: center; gap: 6px; margin: 1px 0; white-space: nowrap; }
.bz-legend .sw { display: inline-block; width: 18px; height: 12px; border: 1px solid #777; }
.bz-legend .note { color: #666; font-size: 11px; margin-top: 3px; white-space: normal; }
.bz-legend-tiers { max-width: 210px; }
.bz-progress table { border-collapse: collapse; }
.bz-progress td, .bz-progress th { padding: 1px 5px; border-bottom: 1px solid #e5e5e5; text-align: left;
  vertical-align: top; }
.bz-progress td.num { text-align: right; white-space: nowrap; }
.bz-status { display: inline-block; padding: 0 5px; border-radius: 3px; color: #fff; font-size: 11px;
  white-space: nowrap; }
.bz-label { background: rgba(255,255,255,0.8); border: none; box-shadow: none; padding: 0 3px; font-size: 12px;
  font-weight: bold; color: #222; }
.bz-label::before, .bz-area-label::before { display: none; }
.bz-area-label { background: none; border: none; box-shadow: none; padding: 0; font-size: 13px; color: #5d6d7e;
  letter-spacing: 2px; text-shadow: 0 0 3px #fff, 0 0 3px #fff; }
table.bz-facts th { text-align: left; padding-right: 8px; color: #555; font-weight: normal; white-space: nowrap;
  vertical-align: top; }
@media print { .leaflet-control-zoom { display: none; } }
"""


def state(m: folium.Map) -> dict:
    """The meeting-map settings kept on a folium map: ``lang``, ``coords``, ``title``, render bookkeeping.

    Parameters
    ----------
    m : folium.Map

    Returns
    -------
    dict
        Created on first use; the same dict on every call.
    """
    st = getattr(m, "_bazhong", None)
    if st is None:
        st = {"coords": "wgs84", "lang": "zh"}
        m._bazhong = st
    return st


def check_position(position: str) -> str:
    """Return ``position`` if it is a Leaflet control corner, else raise.

    Parameters
    ----------
    position : {"topleft", "topright", "bottomleft", "bottomright"}

    Returns
    -------
    str

    Raises
    ------
    BazhongGeoError
        For any other value.
    """
    if position not in POSITIONS:
        raise BazhongGeoError(f"position {position!r}: use {', '.join(POSITIONS[:-1])} or {POSITIONS[-1]}")
    return position


def _build_classes() -> dict:
    """The element classes, built on first use (branca and jinja2 load only when a map is made)."""
    from branca.element import MacroElement
    from jinja2 import Template

    class DataLayer(MacroElement):
        """A GeoJSON layer drawn by the ``bz`` runtime; data embedded as safe JSON."""

        _template = Template(
            "{% macro script(this, kwargs) %}"
            "var {{ this.get_name() }} = bz.layer({{ this.spec }}).addTo({{ this._parent.get_name() }});\n"
            "{% endmacro %}")

        def __init__(self, spec: dict):
            super().__init__()
            self._name = "BzData"
            self.spec = script_json(spec)

    class Panel(MacroElement):
        """A Leaflet control holding escaped HTML (legend, title, progress panel)."""

        _template = Template(
            "{% macro script(this, kwargs) %}"
            "bz.panel({{ this._parent.get_name() }}, {{ this.position }}, {{ this.content }}, {{ this.cls }});\n"
            "{% endmacro %}")

        def __init__(self, content_html: str, position: str, cls: str):
            super().__init__()
            self._name = "BzPanel"
            self.position = script_json(check_position(position))
            self.content = script_json(content_html)
            self.cls = script_json(cls)

    class Raw(MacroElement):
        """A fixed piece of script (controls such as the scale bar); ``__MAP__`` stands for the map."""

        _template = Template(
            "{% macro script(this, kwargs) %}{{ this.code.replace('__MAP__', this._parent.get_name()) }}\n"
            "{% endmacro %}")

        def __init__(self, code: str):
            super().__init__()
            self._name = "BzRaw"
            self.code = code

    return {"DataLayer": DataLayer, "Panel": Panel, "Raw": Raw}


def __getattr__(name):
    """``DataLayer``, ``Panel`` and ``Raw`` are built on first access (PEP 562)."""
    if name in ("DataLayer", "Panel", "Raw"):
        classes = _build_classes()
        globals().update(classes)
        return classes[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
