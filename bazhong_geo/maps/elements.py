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

__all__ = ["RUNTIME_JS", "CSS", "POSITIONS", "state", "check_position", "DataLayer", "Panel", "Raw"]

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
    diamond: function (s) { var c = s / 2; return '<polygon points="' + c + ',1 ' + (s - 1) + ',' + c + ' ' + c + ',' + (s - 1) + ' 1,' + c + '"/>'; },
    triangle: function (s) { return '<polygon points="' + s / 2 + ',1 ' + (s - 1) + ',' + (s - 1) + ' 1,' + (s - 1) + '"/>'; },
    circle: function (s) { return '<circle cx="' + s / 2 + '" cy="' + s / 2 + '" r="' + (s / 2 - 1) + '"/>'; },
    cross: function (s) { return '<path d="M2,2L' + (s - 2) + ',' + (s - 2) + 'M' + (s - 2) + ',2L2,' + (s - 2) + '" stroke-width="3"/>'; },
    ring: function (s) { return '<circle cx="' + s / 2 + '" cy="' + s / 2 + '" r="' + (s / 2 - 2) + '" fill="none" stroke-width="3"/>'; }
  };
  function svg(shape, s, fill, stroke) {
    s = Math.max(4, Math.round(s));
    var f = (shape === 'cross' || shape === 'ring') ? 'none' : fill;
    var k = (shape === 'cross' || shape === 'ring') ? fill : stroke;
    return '<svg xmlns="http://www.w3.org/2000/svg" width="' + s + '" height="' + s + '" viewBox="0 0 ' + s + ' ' + s +
      '" fill="' + f + '" stroke="' + k + '" stroke-width="1.2">' + (SHAPES[shape] || SHAPES.circle)(s) + '</svg>';
  }
  function bind(f, layer, spec) {
    var p = f.properties || {};
    if (p._l) { layer.bindTooltip(p._l, {permanent: true, direction: spec.labelDir || 'right',
      className: spec.labelClass || 'bz-label', offset: spec.labelOffset || [p._r || 0, 0]}); }
    else if (p._t) { layer.bindTooltip(p._t, {sticky: true, className: 'bz-tip'}); }
    if (p._p) { layer.bindPopup(p._p, {maxWidth: 360}); }
    else if (p._v && spec.fields) { layer.bindPopup(function () { return facts(p._h, spec.fields, p._v); }, {maxWidth: 360}); }
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
      style: function (f) { return spec.styles[f.properties._k] || spec.style || {}; },
      pointToLayer: function (f, ll) {
        var st = spec.styles[f.properties._k] || spec.style || {}, r = f.properties._r || st.radius || 5;
        if (spec.points === 'circle') { return L.circleMarker(ll, Object.assign({}, st, {radius: r})); }
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
      (size.x - 40) / Math.max(1, topLeft[0] + bottomRight[0]), (size.y - 40) / Math.max(1, topLeft[1] + bottomRight[1])));
    map.fitBounds(bounds, {paddingTopLeft: [topLeft[0] * k, topLeft[1] * k],
                           paddingBottomRight: [bottomRight[0] * k, bottomRight[1] * k], animate: false});
  }
  function refit(map) {
    map.invalidateSize({animate: false, pan: false});
    if (map.__bzFit) { fit(map, map.__bzFit[0], map.__bzFit[1], map.__bzFit[2]); }
  }
  return {svg: svg, layer: layer, panel: panel, fit: fit, refit: refit};
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
.bz-status { display: inline-block; padding: 0 5px; border-radius: 3px; color: #fff; font-size: 11px; white-space: nowrap; }
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
