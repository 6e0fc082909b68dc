"""Column recognition: the headers planners use (乡镇代码, 名称, 经度, 常住人口, 等级 ...) understood without a mapping.

:func:`recognize_columns` returns a rename dictionary and a :class:`ColumnReport` saying what matched, how, what
is ambiguous (several columns for one role: listed, never guessed) and which headers carry units or years.
An explicit mapping (``{"code": "乡镇代码"}``, as in ``bazhong-geo.toml``) overrides the recognition.
:func:`classify_values` maps the values of a 等级 column to a tier and/or a designation (县城 -> ``county_town``,
重点镇 -> designation ``key_town``), reporting every value it cannot place.

>>> import pandas as pd
>>> df = pd.DataFrame(columns=["名称", "经度", "纬度", "常住人口（万人）", "等级"])
>>> rename, report = recognize_columns(df, "settlements")
>>> rename
{'名称': 'name', '经度': 'lon', '纬度': 'lat', '常住人口（万人）': 'population', '等级': 'tier'}
>>> report.population_kind, report.scales["population"]
('resident', 10000.0)
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import vocabulary
from ._errors import MissingColumnError, UnknownTierError
from .settlements import Tier

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Mapping

    import pandas as pd

__all__ = [
    "KINDS",
    "ROLE_ALIASES",
    "ColumnReport",
    "classify_values",
    "fold_header",
    "recognize_columns",
]

ROLE_ALIASES: dict[str, tuple[str, ...]] = {
    "code": ("code", "行政区划代码", "统计用区划代码", "区划代码", "乡镇代码", "村代码", "村庄代码", "行政代码", "代码",
             "编码", "adcode", "xzqdm", "pac", "admin_code", "nbs_code"),
    "name": ("name", "名称", "乡镇名称", "乡镇名", "镇名", "村名", "村庄名称", "地名", "行政区划名称", "区划名称",
             "xzqmc", "name_zh", "mc"),
    "lon": ("lon", "lng", "long", "longitude", "经度", "x", "东经", "x坐标", "point_x"),
    "lat": ("lat", "latitude", "纬度", "y", "北纬", "y坐标", "point_y"),
    "resident_population": ("常住人口", "resident_population", "resident", "常住人口数"),
    "registered_population": ("户籍人口", "registered_population", "hukou_population", "户籍人口数"),
    "population": ("population", "pop", "人口", "总人口", "人口数"),
    "tier": ("tier", "等级", "级别", "城镇等级", "体系等级", "规划等级"),
    "road_class": ("road_class", "道路等级", "公路等级", "技术等级", "行政等级", "等级", "class", "highway", "fclass"),
    "speed_kmh": ("speed_kmh", "speed", "速度", "设计速度", "设计时速", "maxspeed"),
    "area": ("area", "面积", "行政区面积", "辖区面积"),
    "county": ("county", "所属县", "所属县区", "所属区县", "县区", "区县", "县"),
    "parent_code": ("parent_code", "上级代码", "上级区划代码", "所属代码"),
    "year": ("year", "年份", "年度"),
}
"""Headers recognised for each role, compared after :func:`fold_header` (case, blanks, brackets, units, years)."""

KINDS: dict[str, tuple[str, ...]] = {
    "settlements": ("code", "name", "lon", "lat", "resident_population", "registered_population", "population",
                    "tier", "area", "county", "parent_code", "year"),
    "boundaries": ("code", "name", "area", "county", "parent_code", "resident_population", "registered_population",
                   "population"),
    "population": ("code", "name", "county", "resident_population", "registered_population", "population", "year"),
    "roads": ("road_class", "name", "speed_kmh"),
    "interchanges": ("code", "name", "lon", "lat"),
}
"""The roles looked for in each kind of layer (a role absent here is never matched for that kind)."""

_POPULATION_ROLES = ("resident_population", "registered_population", "population")
_UNIT_SCALES = {"万人": 1e4, "人": 1.0, "万": 1e4, "km2": 1.0, "km²": 1.0, "平方公里": 1.0, "平方千米": 1.0,
                "公顷": 0.01, "ha": 0.01, "hm2": 0.01, "亩": 1 / 1500, "m2": 1e-6, "m²": 1e-6, "平方米": 1e-6}
_BRACKETS = re.compile(r"[（(\[【]([^）)\]】]*)[）)\]】]")
_YEAR = re.compile(r"^((?:19|20)\d{2})年?")


@dataclass
class ColumnReport:
    """What :func:`recognize_columns` found.

    Attributes
    ----------
    kind : str
        The kind of layer the columns were read as.
    matched : list of (source, target, how)
        ``how`` is ``"mapping"`` (given explicitly) or ``"alias"`` (recognised).
    ambiguous : dict
        Role -> the candidate source columns when more than one could fill it; none of them is used.
    unmatched : list of str
        Source columns left as they are.
    population_kind : str or None
        ``"resident"`` (常住), ``"registered"`` (户籍) or ``"unspecified"`` for the column renamed ``population``.
    scales : dict
        Target -> factor to multiply values by to reach people or km² (``常住人口（万人）`` -> 10000).
    years : dict
        Target -> year written in its header (``2020年常住人口`` -> 2020).
    """

    kind: str
    matched: list = field(default_factory=list)
    ambiguous: dict = field(default_factory=dict)
    unmatched: list = field(default_factory=list)
    population_kind: str | None = None
    scales: dict = field(default_factory=dict)
    years: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when nothing is ambiguous."""
        return not self.ambiguous

    def lines(self) -> list[str]:
        """The report as readable lines (for the CLI)."""
        out = [f"{src} -> {dst} ({how})" for src, dst, how in self.matched]
        out += [f"ambiguous {role}: {', '.join(map(str, cands))} (name one with a mapping, e.g. {role} = "
                f'"{cands[0]}")' for role, cands in self.ambiguous.items()]
        if self.unmatched:
            out.append("kept as they are: " + ", ".join(map(str, self.unmatched)))
        return out


def fold_header(header: object) -> tuple[str, str | None, int | None]:
    """Return (folded name, unit, year) of a column header.

    Full-width characters become half-width, case and blanks/underscores/hyphens are folded, a unit in brackets
    (``（万人）``, ``(km²)``) and a leading year (``2020年``) are taken off and returned.

    Examples
    --------
    >>> fold_header("2020年 常住人口（万人）")
    ('常住人口', '万人', 2020)
    >>> fold_header("Township_Code")
    ('townshipcode', None, None)
    """
    text = unicodedata.normalize("NFKC", str(header)).strip()
    unit = None
    bracket = _BRACKETS.search(text)
    if bracket:
        unit = bracket.group(1).strip() or None
        text = _BRACKETS.sub("", text)
    year = None
    text = re.sub(r"[\s_\-]", "", text).lower()
    m = _YEAR.match(text)
    if m and len(text) > len(m.group(0)):
        year = int(m.group(1))
        text = text[len(m.group(0)):]
    return text, unit, year


def _check_mapping(columns: list, mapping: Mapping, kind: str) -> dict:
    """Validate an explicit target -> source mapping against the frame's columns."""
    out = {}
    for target, source in mapping.items():
        if source not in columns:
            raise MissingColumnError(
                f"the mapping names column {source!r} for {target!r}, but the {kind} file has no such column; "
                f"columns are {columns}. Fix the mapping (e.g. {target} = \"{columns[0] if columns else '...'}\")")
        out[source] = target
    return out


def _candidates(columns: list, taken: set, roles: tuple[str, ...]) -> dict[str, list]:
    """Role -> source columns whose folded header is one of the role's aliases."""
    folded = {c: fold_header(c)[0] for c in columns if c not in taken}
    found: dict[str, list] = {}
    for role in roles:
        aliases = {fold_header(a)[0] for a in ROLE_ALIASES[role]}
        hits = [c for c, key in folded.items() if key in aliases]
        if hits:
            found[role] = hits
    return found


def _population_target(found: dict[str, list], report: ColumnReport) -> dict[str, str]:
    """Choose which population column becomes ``population``: resident, else registered, else unspecified."""
    single = {r: c[0] for r, c in found.items() if r in _POPULATION_ROLES and len(c) == 1}
    rename: dict[str, str] = {}
    kinds = {"resident_population": "resident", "registered_population": "registered", "population": "unspecified"}
    specific = [r for r in ("resident_population", "registered_population") if r in single]
    if specific:
        rename[single[specific[0]]] = "population"
        report.population_kind = kinds[specific[0]]
        for other in specific[1:]:
            rename[single[other]] = other
        if "population" in single:   # 人口 beside 常住人口: which people it counts is unknown
            report.ambiguous["population"] = [single[specific[0]], single["population"]]
    elif "population" in single:
        rename[single["population"]] = "population"
        report.population_kind = "unspecified"
    return rename


def recognize_columns(df: pd.DataFrame, kind: str, mapping: Mapping | None = None) -> tuple[dict, ColumnReport]:
    """Recognise the columns of a planner's file without a mapping; an explicit mapping overrides.

    Parameters
    ----------
    df : pandas.DataFrame
        The file as read (only its column names are used).
    kind : str
        One of :data:`KINDS`: ``"settlements"``, ``"boundaries"``, ``"population"``, ``"roads"``, ``"interchanges"``.
        It decides which roles are looked for (等级 is a tier for settlements, a road class for roads).
    mapping : mapping, optional
        Target -> source column (``{"code": "乡镇代码"}``), used as given.

    Returns
    -------
    (dict, ColumnReport)
        Source -> target names for :meth:`pandas.DataFrame.rename`, and the report. A role with several candidate
        columns is left out and listed in ``report.ambiguous``. Of several population columns, 常住人口 becomes
        ``population`` (``population_kind = "resident"``), 户籍人口 ``registered_population``.

    Raises
    ------
    MissingColumnError
        When the mapping names a column the file does not have.
    ValueError
        For an unknown ``kind``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame(columns=["乡镇代码", "村代码", "名称"])
    >>> rename, report = recognize_columns(df, "settlements")
    >>> rename, report.ambiguous
    ({'名称': 'name'}, {'code': ['乡镇代码', '村代码']})
    >>> recognize_columns(df, "settlements", {"code": "村代码"})[0]
    {'村代码': 'code', '名称': 'name'}
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; use one of {sorted(KINDS)}")
    columns = list(df.columns)
    roles = KINDS[kind]
    report = ColumnReport(kind=kind)
    rename = _check_mapping(columns, dict(mapping or {}), kind)
    report.matched += [(s, t, "mapping") for s, t in rename.items()]
    mapped_targets = set(rename.values())
    open_roles = tuple(r for r in roles if r not in mapped_targets)
    found = _candidates(columns, set(rename), open_roles)
    auto: dict[str, str] = {}
    if "population" not in mapped_targets:
        auto.update(_population_target(found, report))
    for role, hits in found.items():
        if role in _POPULATION_ROLES:
            if len(hits) > 1:
                report.ambiguous[role] = hits
            continue
        hits = [h for h in hits if h not in auto]
        if len(hits) == 1:
            auto[hits[0]] = role
        elif len(hits) > 1:
            report.ambiguous[role] = hits
    ordered = {c: auto[c] for c in columns if c in auto}
    report.matched += [(s, t, "alias") for s, t in ordered.items()]
    rename.update(ordered)
    rename = {c: rename[c] for c in columns if c in rename}
    report.matched.sort(key=lambda m: columns.index(m[0]))
    report.unmatched = [c for c in columns if c not in rename]
    for source, target in rename.items():
        _, unit, year = fold_header(source)
        if unit is not None and unit.lower() in _UNIT_SCALES:
            report.scales[target] = _UNIT_SCALES[unit.lower()]
        if year is not None:
            report.years[target] = year
    return rename, report


def apply_columns(df: pd.DataFrame, kind: str, mapping: Mapping | None = None) -> tuple[pd.DataFrame, ColumnReport]:
    """Rename recognised columns and bring scaled ones to people / km² (``常住人口（万人）`` × 10000).

    Parameters
    ----------
    df : pandas.DataFrame
        The file as read.
    kind, mapping
        As for :func:`recognize_columns`.

    Returns
    -------
    (pandas.DataFrame, ColumnReport)
        A renamed copy (values of scaled columns multiplied, non-numbers left as they are and to be checked by the
        reader) and the report. The frame's ``attrs["population_kind"]`` says which population ``population`` counts.

    Examples
    --------
    >>> import pandas as pd
    >>> out, report = apply_columns(pd.DataFrame({"乡镇": ["甲镇"], "户籍人口（万人）": [2.5], "面积（公顷）": [150]}),
    ...                             "population", {"name": "乡镇"})
    >>> out.to_dict("records"), out.attrs["population_kind"]
    ([{'name': '甲镇', 'population': 25000.0, '面积（公顷）': 150}], 'registered')
    """
    import pandas as pd

    rename, report = recognize_columns(df, kind, mapping)
    out = df.rename(columns=rename)
    for target, scale in report.scales.items():
        if scale != 1.0:
            values = pd.to_numeric(out[target], errors="coerce")
            out[target] = (values * scale).where(values.notna(), out[target])
    out.attrs["population_kind"] = report.population_kind
    return out, report


# ----------------------------------------------------------------------------------------------- values

def _classify_term(text: object) -> tuple[str | None, str | None]:
    """Return (tier value or None, designation key or None) for one 等级 word; (None, None) when unknown.

    Reads the shared vocabulary (:func:`bazhong_geo.vocabulary.classify_term`).
    """
    try:
        tier, designation = vocabulary.classify_term(unicodedata.normalize("NFKC", str(text)).strip())
    except UnknownTierError:
        return None, None
    return (tier.value if tier is not None else None), designation


def classify_values(values: pd.Series, value_map: Mapping | None = None) -> pd.DataFrame:
    """Map the values of a 等级 column to ``tier`` and ``designation``, with a ``problem`` for each unplaced value.

    Parameters
    ----------
    values : pandas.Series
        The column as read.
    value_map : mapping, optional
        Word -> tier (``"县城" = "county_town"``) or -> ``{"tier": ..., "designation": ...}`` (a workspace's value
        mapping); it wins over the built-in vocabulary.

    Returns
    -------
    pandas.DataFrame
        Same index as ``values``: ``tier`` (a tier value or None), ``designation`` (a key or None) and ``problem``
        ("" when placed; blank cells are not problems).

    Examples
    --------
    >>> import pandas as pd
    >>> out = classify_values(pd.Series(["县城", "重点镇", "小集镇", None]))
    >>> out.values.tolist()
    [['county_town', None, ''], [None, 'key_town', ''], [None, None, "unknown 等级 value '小集镇'"], [None, None, '']]
    """
    import pandas as pd

    overrides = dict(value_map or {})
    rows = []
    for v in values:
        if v is None or (isinstance(v, float) and math.isnan(v)) or str(v).strip() == "":
            rows.append((None, None, ""))
            continue
        word = str(v).strip()
        if word in overrides:
            target = overrides[word]
            tier, designation = ((target.get("tier"), target.get("designation")) if isinstance(target, dict)
                                 else (target, None))
            tier = Tier.parse(tier).value if tier else None
            rows.append((tier, designation, ""))
            continue
        tier, designation = _classify_term(word)
        problem = "" if (tier or designation) else f"unknown 等级 value {word!r}"
        rows.append((tier, designation, problem))
    return pd.DataFrame(rows, index=values.index, columns=["tier", "designation", "problem"], dtype=object)
