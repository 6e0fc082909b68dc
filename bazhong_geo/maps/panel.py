"""The progress panel: every target with its latest value and year, the target, the unit and a status colour."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from .._errors import BazhongGeoError, MissingColumnError
from ..region import BAZHONG
from . import elements
from .base import add_panel
from .markup import escape
from .style import BOUND_SIGNS, STATUS_COLORS, clean, fmt_num, fmt_year, text_of, unit_label

if TYPE_CHECKING:
    import folium
    from branca.element import MacroElement

__all__ = ["PROGRESS_COLUMNS", "add_progress_panel"]

PROGRESS_COLUMNS = ("key", "scope", "scope_name", "description_zh", "description_en", "unit", "target",
                     "latest_value", "latest_year", "status")


def add_progress_panel(m: folium.Map, progress: pd.DataFrame, *, title: str | None = None, position: str = "topright",
                       note: str | None = None) -> MacroElement:
    """Add a panel listing every target: latest value and year, target, unit and a status colour.

    Parameters
    ----------
    m : folium.Map
    progress : pandas.DataFrame
        Columns key, scope, scope_name, description_zh, description_en, unit, target, latest_value,
        latest_year, status (achieved / on_track / behind / no_data), e.g. from
        ``bazhong_geo.targets.progress``. Rows are listed in the given order.
    title : str, optional
        Panel heading.
    note : str, optional
        Small print (e.g. source), escaped.

    Returns
    -------
    folium.Element

    Examples
    --------
    >>> from bazhong_geo.maps import base_map
    >>> import pandas as pd
    >>> p = pd.DataFrame({"key": ["urbanization_rate"], "scope": ["prefecture"], "scope_name": ["巴中市"],
    ...     "description_zh": ["常住人口城镇化率"], "description_en": ["urbanization rate"], "unit": ["%"],
    ...     "target": [45.0], "latest_value": [48.91], "latest_year": [2024], "status": ["achieved"]})
    >>> _ = add_progress_panel(base_map(), p)
    """
    lang = elements.state(m)["lang"]
    _check_progress(progress)
    head = (f"<tr><th></th><th>{escape(text_of('latest', lang))}</th><th>{escape(text_of('target', lang))}</th>"
            f"<th>{escape(text_of('status', lang))}</th></tr>")
    body = "".join(_row_html(r, lang) for r in progress.itertuples(index=False))
    extra = f'<div class="note">{escape(note)}</div>' if note else ""
    content = (f"<h4>{escape(title or text_of('progress', lang))}</h4><div>{_summary(progress, lang)}</div>"
               f"<table>{head}{body}</table>{extra}")
    elements.state(m)["progress_panel"] = True  # the print page widens its side column for it
    return add_panel(m, content, position, "bz-progress bz-legend")


def _check_progress(progress: pd.DataFrame) -> None:
    """Raise when a column is missing or a status is unknown."""
    missing = [c for c in PROGRESS_COLUMNS if c not in progress.columns]
    if missing:
        raise MissingColumnError(f"progress table lacks column(s) {', '.join(missing)}; expected "
                                 f"{', '.join(PROGRESS_COLUMNS)} (see bazhong_geo.targets.progress)")
    bad = sorted(set(progress["status"].fillna("no_data").astype(str)) - set(STATUS_COLORS))
    if bad:
        raise BazhongGeoError(f"progress status value(s) {bad} unknown; use {', '.join(STATUS_COLORS)}")


def _summary(progress: pd.DataFrame, lang: str) -> str:
    """One coloured count per status present."""
    counts = progress["status"].fillna("no_data").astype(str).value_counts()
    return " · ".join(f'<span class="bz-status" style="background:{STATUS_COLORS[s]["color"]}">'
                      f'{escape(STATUS_COLORS[s][lang])} {int(counts.get(s, 0))}</span>'
                      for s in STATUS_COLORS if counts.get(s, 0))


def _description(r, lang: str) -> str:
    """The target's description, prefixed by its county when the target is not the prefecture's."""
    desc = r.description_en if lang == "en" and clean(r.description_en) else r.description_zh
    if not clean(desc):
        desc = r.key
    scope = clean(r.scope_name)
    scope_label = BAZHONG.short_names_en.get(str(r.scope), scope) if lang == "en" else scope
    if (scope and str(r.scope) not in ("prefecture", BAZHONG.code) and str(scope) not in str(desc)
            and str(scope_label) not in str(desc)):
        desc = f"{scope_label} {desc}"
    return str(desc)


def _figures(r, lang: str) -> tuple[str, str, str, str]:
    """(latest value, its year in brackets, target, unit) as text; "—" where missing."""
    unit, factor = unit_label(clean(r.unit) or "", lang)
    latest = fmt_num(float(r.latest_value) * factor, 2) if clean(r.latest_value) is not None else "—"
    bound = clean(getattr(r, "latest_bound", None))
    if latest != "—" and bound in BOUND_SIGNS:  # a figure stated as a bound ("passed 200 亿") shows as one
        latest = f"{BOUND_SIGNS[bound]} {latest}"
    year = clean(r.latest_year)
    year_txt = f" ({fmt_year(year)})" if year is not None and year != "" else ""
    target = fmt_num(float(r.target) * factor, 2) if clean(r.target) is not None else "—"
    return latest, year_txt, target, unit


def _row_html(r, lang: str) -> str:
    """One table row of the panel (every text escaped)."""
    latest, year_txt, target, unit = _figures(r, lang)
    status = str(clean(r.status) or "no_data")
    sc = STATUS_COLORS[status]
    definition = clean(getattr(r, "definition", None))
    def_html = (f'<div class="bz-def" style="color:#777;font-size:10px">'
                f'{escape(("definition: " if lang == "en" else "口径：") + str(definition))}</div>'
                if definition else "")
    return (f'<tr data-key="{escape(r.key)}" data-status="{escape(status)}"><td>{escape(_description(r, lang))}'
            f'{def_html}</td>'
            f'<td class="num">{escape(latest)} {escape(unit) if latest != "—" else ""}{escape(year_txt)}</td>'
            f'<td class="num">{escape(target)} {escape(unit)}</td>'
            f'<td><span class="bz-status" style="background:{sc["color"]}">{escape(sc[lang])}</span></td></tr>')
