"""Designation criteria profiles: units, the Criterion and Profile types, loading and validating profile files.

A profile is a TOML file in ``data/config/profiles/`` (or a dict of the same shape): a rule (all / any / at least k)
over criteria, each threshold with its unit and source. :func:`load_profile` checks every criterion when it loads
(unknown op, kind or unit; a missing value; a threshold in a unit that does not fit the attribute) and names the file
and the criterion in the error. :mod:`bazhong_geo.designation` runs the checks and re-exports these names.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._errors import (
    InvalidCriterionError,
    UnitMismatchError,
    UnknownProfileError,
    UnknownUnitError,
)
from .resources import data_file

__all__ = [
    "ATTRIBUTES",
    "KINDS",
    "OPS",
    "RULES",
    "UNITS",
    "Criterion",
    "Profile",
    "attribute_unit",
    "available_profiles",
    "fmt_en",
    "fmt_zh",
    "load_profile",
    "profiles_dir",
    "threshold_text_en",
    "threshold_text_zh",
    "trim_number",
]


# unit -> (dimension, factor to the dimension's base unit)
UNITS: dict[str, tuple[str, float]] = {
    "people": ("population", 1.0),
    "10k_people": ("population", 1e4),
    "km2": ("area", 1.0),
    "ha": ("area", 0.01),
    "m2": ("area", 1e-6),
    "km": ("length", 1000.0),
    "m": ("length", 1.0),
    "minutes": ("time", 1.0),
    "hours": ("time", 60.0),
    "yuan": ("money", 1.0),
    "10k_yuan": ("money", 1e4),
    "100m_yuan": ("money", 1e8),
    "billion_yuan": ("money", 1e9),
    "share": ("share", 1.0),
    "percent": ("share", 0.01),
    "count": ("count", 1.0),
    "designation": ("designation", 1.0),
}

OPS = (">=", ">", "<=", "<", "==", "!=", "between", "has_any")
RULES = ("all", "any", "at_least")
KINDS = ("attribute", "designation", "distance_to_tier", "spacing", "catchment_population", "road_distance",
         "travel_time", "composite")

# well-known attributes: column -> (dimension, unit of the column, label_zh, label_en)
ATTRIBUTES: dict[str, tuple[str, str, str, str]] = {
    "population": ("population", "people", "常住人口", "resident population"),
    "town_population": ("population", "people", "镇区常住人口", "town-area resident population"),
    "town_centre_population": ("population", "people", "镇中心区常住人口", "town-centre resident population"),
    "builtup_km2": ("area", "km2", "建成区面积", "built-up area"),
    "area_km2": ("area", "km2", "面积", "area"),
    "gdp_100m_yuan": ("money", "100m_yuan", "地区生产总值", "GDP"),
    "urban_share": ("share", "share", "城镇人口比重", "urban share"),
    "designations": ("designation", "designation", "已获称号", "designations held"),
}

# column-name suffix -> unit of the column (GUIDE: units in column names); a longer suffix is tried before the
# shorter one it ends with (``_10k_people`` before ``_people``, ``_billion_yuan`` before ``_yuan``)
_SUFFIX_UNITS = (("_billion_yuan", "billion_yuan"), ("_100m_yuan", "100m_yuan"), ("_10k_yuan", "10k_yuan"),
                 ("_yuan", "yuan"), ("_km2", "km2"), ("_ha", "ha"), ("_m2", "m2"), ("_km", "km"), ("_m", "m"),
                 ("_minutes", "minutes"), ("_hours", "hours"), ("_share", "share"), ("_percent", "percent"),
                 ("_pct", "percent"), ("_10k_people", "10k_people"), ("_people", "people"),
                 ("population", "people"), ("_count", "count"))

# the spatial kinds measure in a fixed dimension; base unit of the measurement
_SPATIAL_DIMENSION = {"distance_to_tier": "length", "spacing": "length", "road_distance": "length",
                      "travel_time": "time", "catchment_population": "population"}


@dataclass(frozen=True)
class Criterion:
    """One criterion of a profile: a threshold on an attribute or a spatial measure, or a composite rule.

    Attributes
    ----------
    id : str
        Identifier unique within the profile (``population``, ``county_town_shadow``, ...).
    kind : str
        One of ``attribute``, ``designation``, ``distance_to_tier``, ``spacing``, ``catchment_population``,
        ``road_distance``, ``travel_time``, ``composite``.
    op : str
        Comparison operator (``>=``, ``>``, ``<=``, ``<``, ``==``, ``!=``, ``between``, ``has_any``) or, for a
        composite, its rule (``all``, ``any``, ``at_least``).
    value : float, tuple of float, tuple of str or None
        Threshold in ``unit`` (``between``: (low, high), inclusive; ``has_any``: designation keys).
    unit : str
        Unit of the threshold (a key of :data:`UNITS`).
    """

    id: str
    kind: str
    op: str
    value: Any
    unit: str
    attribute: str | None = None
    label_zh: str = ""
    label_en: str = ""
    source: str = "assumption"
    weight: float = 1.0
    k: int | None = None
    tiers: tuple[str, ...] = ()
    from_designations: tuple[str, ...] = ()
    from_tiers: tuple[str, ...] = ()
    radius: float | None = None
    radius_unit: str = "km"
    speed_col: str | None = None
    children: tuple[Criterion, ...] = ()
    note: str = ""
    accept_kinds: tuple[str, ...] = ()
    upper_bound_kinds: tuple[str, ...] = ()
    kind_column: str | None = None

    def leaves(self) -> list[Criterion]:
        """Return the non-composite criteria below (or equal to) this one, depth first."""
        if self.kind != "composite":
            return [self]
        out: list[Criterion] = []
        for child in self.children:
            out.extend(child.leaves())
        return out


@dataclass(frozen=True)
class Profile:
    """A designation profile: a named rule (all / any / at_least k) over criteria.

    Build one with :func:`load_profile`; the root is a composite :class:`Criterion`.
    """

    name: str
    label_zh: str
    label_en: str
    root: Criterion
    description: str = ""
    path: str | None = None

    @property
    def criteria(self) -> tuple[Criterion, ...]:
        """The top-level criteria."""
        return self.root.children

    def leaves(self) -> list[Criterion]:
        """Every non-composite criterion, depth first."""
        return self.root.leaves()

    def table(self) -> pd.DataFrame:
        """Return the criteria as a table (id, kind, attribute, op, threshold, unit, source)."""
        rows = [{"criterion": c.id, "kind": c.kind, "attribute": c.attribute or "", "op": c.op,
                 "threshold": threshold_text_en(c), "unit": c.unit, "source": c.source}
                for c in self.leaves()]
        return pd.DataFrame(rows)


def profiles_dir() -> Path:
    """Return the folder of the shipped profiles (``data/config/profiles``)."""
    return data_file("config/profiles")


def available_profiles() -> list[str]:
    """Return the names of the shipped profiles, sorted.

    Examples
    --------
    >>> "mega-town" in available_profiles()
    True
    """
    folder = profiles_dir()
    return sorted(p.stem for p in folder.glob("*.toml")) if folder.is_dir() else []


def load_profile(profile: str | Path | Mapping | Profile) -> Profile:
    """Load and validate a profile: a shipped name, a path to a ``.toml`` file, or the same structure as a dict.

    Parameters
    ----------
    profile : str, Path, dict or Profile
        ``"key-town"`` (see :func:`available_profiles`), ``"my_profile.toml"``, or
        ``{"name": "my-key-town", "criteria": [{"attribute": "population", "op": ">=", "value": 30000,
        "unit": "people"}]}``.

    Returns
    -------
    Profile

    Raises
    ------
    UnknownProfileError
        Neither a shipped name nor an existing file (the message lists the shipped profiles).
    InvalidCriterionError, UnknownUnitError, UnitMismatchError
        A criterion that cannot be evaluated; the message names the file and the criterion.

    Examples
    --------
    >>> p = load_profile("mega-town")
    >>> p.criteria[0].value
    50000.0
    >>> load_profile({"name": "x", "criteria": [{"attribute": "population", "op": ">=", "value": 3,
    ...               "unit": "10k_people"}]}).criteria[0].unit
    '10k_people'
    """
    if isinstance(profile, Profile):
        return profile
    if isinstance(profile, Mapping):
        return _parse_profile(dict(profile), origin="<dict>")
    text = str(profile)
    path = Path(text)
    if path.suffix.lower() == ".toml" or path.exists():
        if not path.is_file():
            raise UnknownProfileError(
                f"profile file {text!r} does not exist; shipped profiles: {', '.join(available_profiles())}")
        origin = str(path)
    else:
        path = profiles_dir() / f"{text}.toml"
        if not path.is_file():
            shipped = ", ".join(available_profiles()) or f"(none found in {profiles_dir()})"
            raise UnknownProfileError(
                f"unknown profile {text!r}; shipped profiles: {shipped}; or give a path to a .toml file or a dict")
        origin = str(path)
    with open(path, "rb") as fh:
        try:
            data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise InvalidCriterionError(f"{origin}: not valid TOML ({exc}); fix the file syntax") from exc
    data.setdefault("name", path.stem)
    return _parse_profile(data, origin=origin)


def _parse_profile(data: dict, origin: str) -> Profile:
    name = str(data.get("name") or "custom")
    criteria = data.get("criteria")
    if not isinstance(criteria, list) or not criteria:
        raise InvalidCriterionError(f"{origin}: profile {name!r} has no [[criteria]] list; add at least one criterion")
    root_spec = {"id": "overall", "kind": "composite", "rule": data.get("rule", "all"), "k": data.get("k"),
                 "criteria": criteria}
    seen: set[str] = set()
    root = _parse_criterion(root_spec, origin, seen, path="overall")
    return Profile(name=name, label_zh=str(data.get("label_zh") or name), label_en=str(data.get("label_en") or name),
                   root=root, description=str(data.get("description", "")), path=None if origin == "<dict>" else origin)


def attribute_unit(attribute: str) -> str | None:
    """Return the unit of a column: a well-known attribute's, or the one its name ends with (None if unknown).

    Examples
    --------
    >>> attribute_unit("population"), attribute_unit("gdp_10k_yuan"), attribute_unit("name")
    ('people', '10k_yuan', None)
    """
    if attribute in ATTRIBUTES:
        return ATTRIBUTES[attribute][1]
    for suffix, unit in _SUFFIX_UNITS:
        if attribute.endswith(suffix):
            return unit
    return None


def _parse_criterion(spec: Mapping, origin: str, seen: set[str], path: str) -> Criterion:
    """Validate one criterion (recursively for composites); every error names the file and the criterion."""
    if not isinstance(spec, Mapping):
        raise InvalidCriterionError(f"{origin}: criterion at {path} is not a table/dict: {spec!r}")
    kind, cid, where = _identify(spec, origin, seen)
    common = _common_fields(spec, where)
    if kind == "composite":
        return _parse_composite(spec, cid, where, common, origin, seen, path)
    op, raw, unit = _op_and_value(spec, kind, where)
    if kind == "designation":
        return _parse_designation(spec, cid, where, op, raw, unit, common)
    value = _threshold(op, raw, unit, where)
    if kind == "attribute":
        attribute, extra = _attribute_fields(spec, where, op, unit)
    else:
        attribute, extra = None, _spatial_fields(spec, kind, where, unit)
    return Criterion(id=cid, kind=kind, op=op, value=value, unit=unit, attribute=attribute, **extra, **common)


def _identify(spec: Mapping, origin: str, seen: set[str]) -> tuple[str, str, str]:
    """The criterion's kind (inferred when absent), a unique id, and ``where`` (file and criterion, for errors)."""
    kind = spec.get("kind")
    if kind is None:
        kind = "composite" if "criteria" in spec else ("designation" if spec.get("attribute") == "designations"
                                                       else "attribute")
    cid = str(spec.get("id") or spec.get("attribute") or kind)
    where = f"{origin}: criterion {cid!r}"
    if kind not in KINDS:
        raise InvalidCriterionError(f"{where}: unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    if cid in seen:
        raise InvalidCriterionError(f"{where}: duplicate id; give each criterion a distinct `id`")
    seen.add(cid)
    return kind, cid, where


def _common_fields(spec: Mapping, where: str) -> dict[str, Any]:
    """Labels, source, note and weight, shared by every kind."""
    try:
        weight = float(spec.get("weight", 1.0))
    except (TypeError, ValueError):
        raise InvalidCriterionError(f"{where}: weight {spec.get('weight')!r} is not a number") from None
    return {"label_zh": str(spec.get("label_zh", "")), "label_en": str(spec.get("label_en", "")),
            "source": str(spec.get("source", "assumption")), "note": str(spec.get("note", "")), "weight": weight}


def _parse_composite(spec: Mapping, cid: str, where: str, common: dict[str, Any], origin: str, seen: set[str],
                     path: str) -> Criterion:
    """A rule (all / any / at_least k) over a non-empty list of criteria."""
    rule = spec.get("rule", spec.get("op", "all"))
    if rule not in RULES:
        raise InvalidCriterionError(f"{where}: unknown rule {rule!r}; use one of {', '.join(RULES)}")
    subs = spec.get("criteria")
    if not isinstance(subs, list) or not subs:
        raise InvalidCriterionError(f"{where}: a composite needs a non-empty `criteria` list")
    children = tuple(_parse_criterion(s, origin, seen, f"{path}/{i}") for i, s in enumerate(subs))
    k = spec.get("k")
    if rule == "at_least":
        if k is None or isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= len(children):
            raise InvalidCriterionError(
                f"{where}: rule 'at_least' needs an integer k between 1 and {len(children)}, got {k!r}")
    elif k is not None:
        raise InvalidCriterionError(f"{where}: k is only used with rule 'at_least' (rule is {rule!r})")
    return Criterion(id=cid, kind="composite", op=rule, value=k, unit="count", k=k, children=children, **common)


def _op_and_value(spec: Mapping, kind: str, where: str) -> tuple[str, Any, Any]:
    """A known operator (``has_any`` by default for designations) and a present threshold; the raw unit."""
    op = spec.get("op")
    if op is None:
        op = "has_any" if kind == "designation" else None
    if op not in OPS:
        raise InvalidCriterionError(f"{where}: unknown op {op!r}; use one of {', '.join(OPS)}")
    if "value" not in spec or spec["value"] is None:
        raise InvalidCriterionError(f"{where}: missing `value` (the threshold)")
    if op == "has_any" and kind != "designation":
        raise InvalidCriterionError(f"{where}: op 'has_any' is for designation criteria (kind = 'designation')")
    return op, spec["value"], spec.get("unit")


def _parse_designation(spec: Mapping, cid: str, where: str, op: str, raw: Any, unit: Any,
                       common: dict[str, Any]) -> Criterion:
    """Holds any of the listed designation keys (op ``has_any``, unit ``designation``)."""
    if op != "has_any":
        raise InvalidCriterionError(f"{where}: a designation criterion uses op 'has_any', got {op!r}")
    keys = [raw] if isinstance(raw, str) else raw
    if not isinstance(keys, list) or not keys or not all(isinstance(x, str) and x for x in keys):
        raise InvalidCriterionError(f"{where}: `value` must list designation keys, e.g. ['national_key_town']")
    if unit not in (None, "designation"):
        raise UnitMismatchError(f"{where}: a designation criterion has unit 'designation', got {unit!r}")
    return Criterion(id=cid, kind="designation", op=op, value=tuple(keys), unit="designation",
                     attribute=spec.get("attribute") or "designations", **common)


def _threshold(op: str, raw: Any, unit: Any, where: str) -> Any:
    """A known unit, and a number (or ``[low, high]`` for ``between``) as floats."""
    if unit is None:
        raise UnknownUnitError(f"{where}: missing `unit`; give one of {', '.join(UNITS)}")
    if unit not in UNITS:
        raise UnknownUnitError(f"{where}: unknown unit {unit!r}; use one of {', '.join(UNITS)}")
    if op == "between":
        if (not isinstance(raw, (list, tuple)) or len(raw) != 2
                or not all(_is_number(x) for x in raw) or float(raw[0]) > float(raw[1])):
            raise InvalidCriterionError(f"{where}: op 'between' needs value = [low, high] with low <= high, "
                                        f"got {raw!r}")
        return (float(raw[0]), float(raw[1]))
    if not _is_number(raw):
        raise InvalidCriterionError(f"{where}: `value` must be a number for op {op!r}, got {raw!r}")
    return float(raw)


def _str_list(value: Any, where: str, message: str) -> list[str]:
    """A string or a list of non-empty strings, as a list; else an error with ``message``."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(x, str) and x for x in items):
        raise InvalidCriterionError(f"{where}: {message}")
    return items


def _attribute_fields(spec: Mapping, where: str, op: str, unit: str) -> tuple[str, dict[str, Any]]:
    """The attribute column, its accepted kinds of figure, and a unit that fits the column."""
    attribute = spec.get("attribute")
    if not attribute or not isinstance(attribute, str):
        raise InvalidCriterionError(f"{where}: an attribute criterion needs `attribute` (a column name)")
    dim = UNITS[unit][0]
    kinds = _str_list(spec.get("accept_kinds", []), where,
                      "accept_kinds must list the accepted kinds, e.g. ['town_area']")
    ub = _str_list(spec.get("upper_bound_kinds", []), where, "upper_bound_kinds must list kinds, e.g. ['常住']")
    if ub and not kinds:
        raise InvalidCriterionError(f"{where}: upper_bound_kinds needs accept_kinds")
    if ub and op not in (">=", ">"):
        raise InvalidCriterionError(f"{where}: upper_bound_kinds only decide a minimum (op '>=' or '>')")
    extra: dict[str, Any] = {}
    if ub:
        extra["upper_bound_kinds"] = tuple(ub)
    if kinds:
        extra["accept_kinds"] = tuple(kinds)
        extra["kind_column"] = str(spec.get("kind_column") or (
            "population_kind" if dim == "population" else f"{attribute}_kind"))
    col_unit = attribute_unit(attribute)
    if col_unit is not None and UNITS[col_unit][0] != dim:
        raise UnitMismatchError(
            f"{where}: threshold unit {unit!r} ({dim}) does not fit attribute {attribute!r}, which is measured in "
            f"{col_unit!r} ({UNITS[col_unit][0]}); give the threshold in a {UNITS[col_unit][0]} unit")
    return attribute, extra


def _spatial_fields(spec: Mapping, kind: str, where: str, unit: str) -> dict[str, Any]:
    """A unit of the kind's dimension and the kind's own fields (tiers, spacing references, radius)."""
    need = _SPATIAL_DIMENSION[kind]
    if UNITS[unit][0] != need:
        allowed = ", ".join(u for u, (d, _) in UNITS.items() if d == need)
        raise UnitMismatchError(f"{where}: a {kind} criterion is measured in {need} ({allowed}), got unit {unit!r}")
    extra: dict[str, Any] = {}
    if kind in ("distance_to_tier", "travel_time"):
        tiers = spec.get("tiers", ["county_town", "central_city"])
        extra["tiers"] = tuple(str(t) for t in ([tiers] if isinstance(tiers, str) else tiers))
        extra["speed_col"] = spec.get("speed_col")
    if kind == "spacing":
        fd, ft = spec.get("from_designations", []), spec.get("from_tiers", [])
        fd = [fd] if isinstance(fd, str) else list(fd)
        ft = [ft] if isinstance(ft, str) else list(ft)
        if not fd and not ft:
            raise InvalidCriterionError(f"{where}: a spacing criterion needs `from_designations` or `from_tiers`")
        extra["from_designations"] = tuple(fd)
        extra["from_tiers"] = tuple(ft)
    if kind == "catchment_population":
        radius, runit = spec.get("radius"), spec.get("radius_unit", "km")
        if not _is_number(radius) or float(radius) <= 0:
            raise InvalidCriterionError(f"{where}: a catchment criterion needs a positive `radius`")
        if runit not in UNITS or UNITS[runit][0] != "length":
            raise UnitMismatchError(f"{where}: radius_unit must be a length unit (km, m), got {runit!r}")
        extra["radius"] = float(radius)
        extra["radius_unit"] = runit
    return extra


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(float(x))


# ------------------------------------------------------------------------------------------- threshold text

def trim_number(x: float, digits: int) -> str:
    """Format ``x`` with at most ``digits`` decimals, trailing zeros dropped.

    Examples
    --------
    >>> trim_number(2.50, 2), trim_number(3.0, 1)
    ('2.5', '3')
    """
    s = f"{x:.{digits}f}"
    return s.rstrip("0").rstrip(".") if "." in s else s


def fmt_zh(v: float, unit: str) -> str:
    """A value in ``unit`` as Chinese text (万, 亿元, 公里 ...), as reasons show it.

    Examples
    --------
    >>> fmt_zh(28000, "people"), fmt_zh(12.5, "km")
    ('2.8万', '12.5公里')
    """
    if np.isinf(v):
        return "∞"
    dim = UNITS[unit][0]
    if dim == "population":
        v = v * UNITS[unit][1]
        return f"{trim_number(v / 1e4, 2)}万" if abs(v) >= 1e4 else f"{v:,.0f}人"
    if dim == "money":
        v = v * UNITS[unit][1]
        return f"{trim_number(v / 1e8, 2)}亿元" if abs(v) >= 1e8 else f"{trim_number(v / 1e4, 1)}万元"
    suffix = {"km2": "平方公里", "ha": "公顷", "m2": "平方米", "km": "公里", "m": "米", "minutes": "分钟",
              "hours": "小时", "share": "", "percent": "%", "count": "个"}[unit]
    if unit == "share":
        return f"{trim_number(v * 100, 1)}%"
    return f"{trim_number(v, _DIGITS.get(unit, 2))}{suffix}"


_DIGITS = {"m": 0, "m2": 0, "count": 0, "km": 1, "minutes": 1, "hours": 2, "km2": 2, "ha": 1, "percent": 1}


def fmt_en(v: float, unit: str) -> str:
    """A value in ``unit`` as English text, as reasons show it.

    Examples
    --------
    >>> fmt_en(28000, "people"), fmt_en(12.5, "km")
    ('28,000', '12.5 km')
    """
    if np.isinf(v):
        return "∞"
    dim = UNITS[unit][0]
    if dim == "population":
        return f"{v * UNITS[unit][1]:,.0f}"
    if dim == "money":
        return f"{trim_number(v * UNITS[unit][1] / 1e8, 2)} hundred million yuan"
    if unit == "share":
        return f"{trim_number(v * 100, 1)}%"
    suffix = {"km2": " km²", "ha": " ha", "m2": " m²", "km": " km", "m": " m", "minutes": " min", "hours": " h",
              "percent": "%", "count": ""}[unit]
    return f"{trim_number(v, _DIGITS.get(unit, 2))}{suffix}"


def threshold_text_zh(c: Criterion) -> str:
    """A criterion's threshold as Chinese text (a band as low–high, designations joined by 、)."""
    if c.kind == "designation":
        return "、".join(c.value)
    if c.op == "between":
        return f"{fmt_zh(c.value[0], c.unit)}–{fmt_zh(c.value[1], c.unit)}"
    return fmt_zh(c.value, c.unit)


def threshold_text_en(c: Criterion) -> str:
    """A criterion's threshold as English text (a composite's rule, a band as low–high).

    Examples
    --------
    >>> threshold_text_en(load_profile("mega-town").criteria[0])
    '50,000'
    """
    if c.kind == "composite":
        return {"all": "all", "any": "any", "at_least": f"at least {c.k}"}[c.op]
    if c.kind == "designation":
        return ", ".join(c.value)
    if c.op == "between":
        return f"{fmt_en(c.value[0], c.unit)}–{fmt_en(c.value[1], c.unit)}"
    return fmt_en(c.value, c.unit)
