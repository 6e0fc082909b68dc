"""Legends: settlement tiers (symbols and sizes) and categorical legends (a swatch or symbol per category)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from . import elements
from .base import add_panel
from .markup import check_color, escape
from .style import TIER_STYLES, fmt_num, population_radius, text_of

if TYPE_CHECKING:
    import folium
    from branca.element import MacroElement

__all__ = ["add_categorical_legend", "add_ramp_legend", "add_tier_legend", "svg_symbol"]

def _nice(x: float) -> float:
    """``x`` rounded to one significant digit (0 for non-positive or non-finite values)."""
    if x <= 0 or not np.isfinite(x):
        return 0.0
    e = 10 ** math.floor(math.log10(x))
    return float(round(x / e) * e)


def svg_symbol(shape: str, size: float, fill: str, stroke: str = "#222") -> str:
    """Return the inline SVG of a symbol (numbers and checked colours only).

    Parameters
    ----------
    shape : {"star", "square", "diamond", "triangle", "circle", "cross", "ring"}
    size : float
        Width and height in pixels (at least 4).
    fill, stroke : str
        Colours (hex or CSS names).

    Returns
    -------
    str

    Examples
    --------
    >>> svg_symbol("square", 14, "#e67e22")[:30]
    '<svg width="14" height="14" vi'
    """
    s = max(4, round(size))
    check_color(fill), check_color(stroke)
    c = s / 2
    if shape == "star":
        R, r = s / 2 - 1, (s / 2 - 1) * 0.45
        pts = " ".join(f"{c + (r if i % 2 else R) * math.cos(math.pi / 5 * i - math.pi / 2):.1f},"
                       f"{c + (r if i % 2 else R) * math.sin(math.pi / 5 * i - math.pi / 2):.1f}" for i in range(10))
        body = f'<polygon points="{pts}"/>'
    elif shape == "square":
        body = f'<rect x="1" y="1" width="{s - 2}" height="{s - 2}"/>'
    elif shape == "diamond":
        body = f'<polygon points="{c},1 {s - 1},{c} {c},{s - 1} 1,{c}"/>'
    elif shape == "triangle":
        body = f'<polygon points="{c},1 {s - 1},{s - 1} 1,{s - 1}"/>'
    elif shape == "cross":
        return (f'<svg width="{s}" height="{s}" viewBox="0 0 {s} {s}" fill="none" stroke="{fill}" stroke-width="3">'
                f'<path d="M2,2L{s - 2},{s - 2}M{s - 2},2L2,{s - 2}"/></svg>')
    elif shape == "ring":
        return (f'<svg width="{s}" height="{s}" viewBox="0 0 {s} {s}" fill="none" stroke="{fill}" stroke-width="3">'
                f'<circle cx="{c}" cy="{c}" r="{c - 2}"/></svg>')
    else:
        body = f'<circle cx="{c}" cy="{c}" r="{c - 1}"/>'
    return (f'<svg width="{s}" height="{s}" viewBox="0 0 {s} {s}" fill="{fill}" stroke="{stroke}" '
            f'stroke-width="1.2">{body}</svg>')


def add_tier_legend(m: folium.Map, *, tiers: Sequence[str] | None = None, n_unlocated: int = 0,
                    pop_max: float = float("nan"),
                    r_min: float = 3.0, r_max: float = 22.0,
                    position: str = "bottomleft") -> MacroElement:
    """Add the legend of settlement tiers (symbols) and, when populations are known, symbol sizes.

    Returns
    -------
    folium.Element
        The legend control.

    Examples
    --------
    >>> from bazhong_geo.maps import base_map
    >>> legend = add_tier_legend(base_map(), tiers=["central_city", "county_town"], pop_max=600_000)
    """
    lang = elements.state(m)["lang"]
    tiers = list(tiers) if tiers is not None else list(TIER_STYLES)
    rows = []
    for t in tiers:
        sty = TIER_STYLES[t]
        rows.append(f'<div class="row">{svg_symbol(sty["shape"], 14, sty["fill"])}'
                    f'<span>{escape(sty[lang])}</span></div>')
    sizes = ""
    if np.isfinite(pop_max) and pop_max > 0:
        refs = sorted({_nice(pop_max), _nice(pop_max / 4), _nice(pop_max / 25)} - {0.0}, reverse=True)
        circles = []
        for v in refs:
            r = float(population_radius([v], pop_max=pop_max, r_min=r_min, r_max=r_max)[0])
            circles.append(f'<div class="row">{svg_symbol("circle", 2 * r, "#ffffff", "#555")}'
                           f'<span>{escape(fmt_num(v))}</span></div>')
        sizes = (f'<div class="note">{escape(text_of("size_by_pop", lang))}; '
                 f'{escape(text_of("unknown_pop", lang))}</div>'
                 + "".join(circles))
    note = ""
    if n_unlocated:
        note = f'<div class="note">{escape(text_of("not_located", lang).format(n=f"{n_unlocated:,}"))}</div>'
    content = f'<h4>{escape(text_of("legend_tiers", lang))}</h4>{"".join(rows)}{sizes}{note}'
    return add_panel(m, content, position, "bz-legend bz-legend-tiers")


def add_categorical_legend(m: folium.Map, title: str, items: Sequence[tuple], *, position: str = "bottomright",
                           note: str | None = None, kind: str = "fill") -> MacroElement:
    """Add a categorical legend (folium has none): a swatch or symbol and a label per category.

    Parameters
    ----------
    m : folium.Map
    title : str
        Legend heading (escaped).
    items : sequence of (label, colour) or (label, colour, shape)
        ``shape`` one of star, square, diamond, triangle, circle, cross, ring; without it a fill swatch.
    position : str
        Leaflet control corner.
    note : str, optional
        Small print under the items (escaped).

    Returns
    -------
    folium.Element

    Examples
    --------
    >>> from bazhong_geo.maps import base_map
    >>> _ = add_categorical_legend(base_map(), "用地", [("建成区", "#e74c3c"), ("水域", "#3498db")])
    """
    rows = []
    for item in items:
        label, color = item[0], check_color(item[1])
        shape = item[2] if len(item) > 2 else None
        sym = svg_symbol(shape, 14, color) if shape else f'<span class="sw" style="background:{color}"></span>'
        rows.append(f'<div class="row">{sym}<span>{escape(label)}</span></div>')
    extra = f'<div class="note">{escape(note)}</div>' if note else ""
    return add_panel(m, f"<h4>{escape(title)}</h4>{''.join(rows)}{extra}", position, "bz-legend")


def add_ramp_legend(m: folium.Map, title: str, colors: Sequence[str], vmin: float, vmax: float, *,
                    position: str = "bottomright", digits: int = 2, note: str | None = None) -> MacroElement:
    """Add the legend of a continuous colour ramp: a gradient bar from ``vmin`` to ``vmax`` with three ticks.

    Parameters
    ----------
    m : folium.Map
    title : str
        Legend heading (escaped).
    colors : sequence of str
        The ramp, low to high.
    vmin, vmax : float
        Values at the ends.
    position : str
        Leaflet control corner.
    digits : int
        Decimals of the tick values (trailing zeros dropped).
    note : str, optional
        Small print (escaped).

    Returns
    -------
    folium.Element

    Examples
    --------
    >>> from bazhong_geo.maps import base_map
    >>> _ = add_ramp_legend(base_map(), "建成比例", ["#ffffcc", "#800026"], 0, 1)
    """
    stops = ", ".join(check_color(c) for c in colors)
    ticks = "".join(f'<span style="position:absolute;left:{pos}%;transform:translateX(-50%)">'
                    f'{escape(fmt_num(v, digits))}</span>'
                    for pos, v in ((0, vmin), (50, (vmin + vmax) / 2), (100, vmax)))
    extra = f'<div class="note">{escape(note)}</div>' if note else ""
    body = (f'<div class="bz-ramp" style="height:12px;width:160px;margin:2px 8px;border:1px solid #777;'
            f'background:linear-gradient(to right, {stops})"></div>'
            f'<div style="position:relative;height:16px;width:160px;margin:0 8px;font-size:11px">{ticks}</div>')
    return add_panel(m, f"<h4>{escape(title)}</h4>{body}{extra}", position, "bz-legend")
