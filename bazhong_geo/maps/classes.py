"""Class tables of categorical rasters (land cover, settlement model): value -> label (zh, en) and colour.

Known tables: ESA WorldCover (v100/v200), GHSL settlement model SMOD (R2023A, Degree of Urbanisation level 2)
and China's CLCD (Yang & Huang 2021). A user's table is a mapping ``value -> (label_zh, label_en, colour)``.
:func:`detect_table` recognises an integer raster whose values all belong to one known table.

>>> class_table("worldcover").classes[50]
('建设用地', 'Built-up', '#fa0000')
>>> detect_table([10, 40, 50, 80]).key
'worldcover'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .._errors import BazhongGeoError
from .markup import check_color

__all__ = ["CLCD", "GHSL_SMOD", "KNOWN_TABLES", "WORLDCOVER", "ClassTable", "class_table", "detect_table"]


@dataclass(frozen=True)
class ClassTable:
    """A categorical raster's classes.

    Attributes
    ----------
    key : str
        Short name ("worldcover", "ghsl_smod", "clcd", "user").
    title_zh, title_en : str
        Legend heading.
    classes : dict
        value -> (label_zh, label_en, colour), in legend order.
    nodata : tuple of int
        Values drawn transparent and left out of the legend.
    source : str
        Where the classes and colours come from.
    """

    key: str
    title_zh: str
    title_en: str
    classes: dict[int, tuple[str, str, str]]
    nodata: tuple[int, ...] = ()
    source: str = ""
    min_present: int = field(default=2, compare=False)

    def title(self, lang: str) -> str:
        """The legend heading in ``lang``."""
        return self.title_en if lang == "en" else self.title_zh

    def label(self, value: int, lang: str) -> str:
        """The label of class ``value`` in ``lang``."""
        zh, en, _ = self.classes[int(value)]
        return en if lang == "en" else zh


#: ESA WorldCover 10 m 2020 v100 / 2021 v200 (legend of the product user manual).
WORLDCOVER = ClassTable("worldcover", "土地覆盖（ESA WorldCover）", "Land cover (ESA WorldCover)", {
    10: ("林地", "Tree cover", "#006400"),
    20: ("灌木", "Shrubland", "#ffbb22"),
    30: ("草地", "Grassland", "#ffff4c"),
    40: ("耕地", "Cropland", "#f096ff"),
    50: ("建设用地", "Built-up", "#fa0000"),
    60: ("裸地/稀疏植被", "Bare / sparse vegetation", "#b4b4b4"),
    70: ("冰雪", "Snow and ice", "#f0f0f0"),
    80: ("永久水体", "Permanent water bodies", "#0064c8"),
    90: ("草本湿地", "Herbaceous wetland", "#0096a0"),
    95: ("红树林", "Mangroves", "#00cf75"),
    100: ("苔藓地衣", "Moss and lichen", "#fae6a0"),
}, nodata=(0,), source="ESA WorldCover 10 m v200 product user manual (legend colours)")

#: GHSL settlement model grid (GHS-SMOD R2023A): Degree of Urbanisation level 2 classes and GHSL's colours.
GHSL_SMOD = ClassTable("ghsl_smod", "城乡地域类型（GHSL SMOD）", "Settlement model (GHSL SMOD)", {
    30: ("城市中心", "Urban centre", "#ff0000"),
    23: ("密集城市聚集区", "Dense urban cluster", "#bb0000"),
    22: ("半密集城市聚集区", "Semi-dense urban cluster", "#733800"),
    21: ("郊区/城乡结合部", "Suburban or peri-urban", "#ffff00"),
    13: ("农村聚落", "Rural cluster", "#375623"),
    12: ("低密度农村", "Low density rural", "#abcd66"),
    11: ("极低密度农村", "Very low density rural", "#cdf57a"),
    10: ("水体", "Water", "#7ab6f5"),
}, nodata=(-200,), source="GHSL Data Package 2023 (GHS-SMOD R2023A), class codes and colours")

#: China Land Cover Dataset (CLCD, Yang & Huang 2021, Earth Syst. Sci. Data 13, 3907–3925).
CLCD = ClassTable("clcd", "土地覆盖（CLCD）", "Land cover (CLCD)", {
    1: ("耕地", "Cropland", "#fae39c"),
    2: ("林地", "Forest", "#446f33"),
    3: ("灌木", "Shrub", "#33a02c"),
    4: ("草地", "Grassland", "#abd37f"),
    5: ("水体", "Water", "#1e69b4"),
    6: ("冰雪", "Snow/Ice", "#a6cee3"),
    7: ("裸地", "Barren", "#cfbda3"),
    8: ("不透水面", "Impervious", "#e24290"),
    9: ("湿地", "Wetland", "#289be8"),
}, nodata=(0,), source="CLCD (Yang & Huang 2021), class codes; colours of the CLCD style", min_present=3)

#: Known tables by key, in the order :func:`detect_table` tries them.
KNOWN_TABLES = {t.key: t for t in (WORLDCOVER, GHSL_SMOD, CLCD)}


def class_table(spec: str | ClassTable | Mapping, *, title: tuple[str, str] | None = None) -> ClassTable:
    """Return the class table named or given by ``spec``.

    Parameters
    ----------
    spec : str, ClassTable or mapping
        "worldcover", "ghsl_smod", "clcd"; or a user's table ``{value: (label_zh, label_en, colour)}``
        (``(label, colour)`` uses one label for both languages).
    title : (str, str), optional
        Legend heading (zh, en) of a user's table.

    Returns
    -------
    ClassTable

    Raises
    ------
    BazhongGeoError
        Unknown name, a value that is not an integer, a bad colour or a malformed entry.

    Examples
    --------
    >>> t = class_table({1: ("建成区", "built-up", "#e74c3c"), 2: ("水域", "#3498db")})
    >>> t.classes[2], t.label(1, "en")
    (('水域', '水域', '#3498db'), 'built-up')
    """
    if isinstance(spec, ClassTable):
        return spec
    if isinstance(spec, str):
        key = spec.lower().replace("-", "_")
        if key not in KNOWN_TABLES:
            raise BazhongGeoError(f"class table {spec!r} unknown; use one of {', '.join(KNOWN_TABLES)} "
                                  "or give {value: (label_zh, label_en, colour)}")
        return KNOWN_TABLES[key]
    classes = {}
    for value, entry in dict(spec).items():
        try:
            v = int(value)
        except (TypeError, ValueError):
            raise BazhongGeoError(f"class value {value!r} is not an integer: a categorical raster holds class "
                                  "codes") from None
        if isinstance(entry, str) or len(entry) not in (2, 3):
            raise BazhongGeoError(f"class {value}: give (label_zh, label_en, colour) or (label, colour), "
                                  f"not {entry!r}")
        zh, en, color = (entry[0], entry[0], entry[1]) if len(entry) == 2 else tuple(entry)
        classes[v] = (str(zh), str(en), check_color(color))
    if not classes:
        raise BazhongGeoError("the class table is empty")
    zh_title, en_title = title or ("分类", "Classes")
    return ClassTable("user", zh_title, en_title, classes, source="user table", min_present=1)


def detect_table(values: Sequence[int] | np.ndarray) -> ClassTable | None:
    """The one known table whose classes hold every value (nodata aside), or None.

    A table matches when every value is one of its classes or nodata and at least ``min_present`` of its
    classes occur (three for CLCD, whose codes 1–9 small integer rasters share by chance). Two matching
    tables are ambiguous: the caller must say which (``classes=``).

    Parameters
    ----------
    values : sequence of int
        The distinct values of an integer raster.

    Returns
    -------
    ClassTable or None

    Raises
    ------
    BazhongGeoError
        When the values fit more than one known table.

    Examples
    --------
    >>> detect_table([0, 1, 2, 5, 8]).key, detect_table([0, 1]) is None
    ('clcd', True)
    """
    vals = {int(v) for v in np.unique(np.asarray(values))}
    found = []
    for table in KNOWN_TABLES.values():
        present = vals - set(table.nodata)
        if present <= set(table.classes) and len(present) >= table.min_present:
            found.append(table)
    if len(found) > 1:
        raise BazhongGeoError(f"the raster's values {sorted(vals)} fit the classes of "
                              f"{' and '.join(t.key for t in found)}; say which with classes='...'")
    return found[0] if found else None
