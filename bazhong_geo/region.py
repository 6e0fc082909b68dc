"""A region as data: its code, counties, central-city members, development zones and work CRS.

Facts about Bazhong are defined here once (:data:`BAZHONG`); analysis modules take a :class:`RegionInfo`
instead of copying codes. :func:`code_level` is the one place that tells what an NBS code denotes.

>>> BAZHONG.code, BAZHONG.name
('511900', '巴中市')
>>> BAZHONG.central_city_polygon_members
('511902', '511903')
>>> code_level("511923"), code_level("511902100"), code_level("511902100201")
('county', 'township', 'village')
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .settings import WORK_CRS

LEVELS = ("province", "prefecture", "county", "township", "village")
"""NBS administrative levels, from the top."""

LEVEL_WORDS = {"省": "province", "市": "prefecture", "地级市": "prefecture", "州": "prefecture",
               "县": "county", "区": "county", "县级市": "county", "市辖区": "county", "县区": "county",
               "乡": "township", "镇": "township", "街道": "township", "乡镇": "township",
               "村": "village", "社区": "village"}
"""Chinese words for administrative levels (a ``level``/级别 column) -> one of :data:`LEVELS`."""


def code_level(code: object) -> str | None:
    """Return the administrative level an NBS division code denotes, or None when it is not one.

    Accepts 6-digit codes (``xx0000`` province, ``xxxx00`` prefecture, else county), 9-digit township codes and
    12-digit village codes; a 12-digit code padded with zeros (``511900000000``) is read as the shorter code.

    Parameters
    ----------
    code : object
        The code as text (numbers are accepted and converted; leading/trailing blanks ignored).

    Returns
    -------
    str or None
        One of :data:`LEVELS`, or None.

    Examples
    --------
    >>> code_level("510000"), code_level("511900"), code_level(511921)
    ('province', 'prefecture', 'county')
    >>> code_level("511900000000"), code_level("511902100000"), code_level("abc")
    ('prefecture', 'township', None)
    """
    text = normalize_code(code)
    if text is None:
        return None
    if len(text) == 6:
        if text.endswith("0000"):
            return "province"
        return "prefecture" if text.endswith("00") else "county"
    return {9: "township", 12: "village"}.get(len(text))


def normalize_code(code: object) -> str | None:
    """Return an NBS code as its shortest canonical text (12-digit codes padded with zeros are shortened).

    Examples
    --------
    >>> normalize_code("511900000000"), normalize_code(" 511902100000 "), normalize_code(511921.0)
    ('511900', '511902100', '511921')
    >>> normalize_code("51190") is None
    True
    """
    if code is None:
        return None
    if isinstance(code, float):
        if math.isnan(code) or not code.is_integer():
            return None
        code = int(code)
    text = str(code).strip()
    if not text.isdigit() or len(text) not in (6, 9, 12):
        return None
    if len(text) == 12 and text.endswith("000"):
        text = text[:9]
    if len(text) == 9 and text.endswith("000"):
        text = text[:6]
    return text


@dataclass(frozen=True)
class RegionInfo:
    """The facts that define a planning region (a prefecture, or any NBS division).

    Attributes
    ----------
    code : str
        NBS 6-digit code of the region.
    name, name_en : str
        Chinese and English names.
    level : str
        ``"province"``, ``"prefecture"`` or ``"county"``.
    counties : dict
        County-level units, code -> (Chinese name, English name).
    work_crs : str
        The CRS analyses return for this region.
    central_city_polygon_members : tuple of str
        Counties whose urban parts make the central city's area (for built-up area and maps).
    central_city_census_members : tuple of str
        Units whose census figures sum to the central city's population (a development zone may count here
        although it has no polygon of its own).
    development_zones : dict
        Functional zones with NBS codes but no county polygon, code -> (Chinese, English).
    short_names_en : dict
        Short English labels for maps (code -> label).
    bbox_lonlat : tuple of float
        (min lon, min lat, max lon, max lat), WGS-84 / CGCS2000, a generous box around the region used to warn
        about points that are probably in the wrong coordinate system; empty when unknown.
    """

    code: str
    name: str
    name_en: str
    level: str
    counties: dict = field(default_factory=dict)
    work_crs: str = WORK_CRS
    central_city_polygon_members: tuple = ()
    central_city_census_members: tuple = ()
    development_zones: dict = field(default_factory=dict)
    short_names_en: dict = field(default_factory=dict)
    bbox_lonlat: tuple = ()

    @property
    def units(self) -> dict:
        """Every reporting unit of the region (itself, counties, development zones): code -> Chinese name."""
        out = {self.code: self.name}
        out.update({c: names[0] for c, names in self.counties.items()})
        out.update({c: names[0] for c, names in self.development_zones.items()})
        return out

    def name_of(self, code: str, lang: str = "zh") -> str | None:
        """Return the name of the region or one of its units in ``lang`` (``zh`` or ``en``), None if unknown.

        Examples
        --------
        >>> BAZHONG.name_of("511923"), BAZHONG.name_of("511923", "en"), BAZHONG.name_of("999999")
        ('平昌县', 'Pingchang County', None)
        """
        code = str(code)
        if code == self.code:
            return self.name if lang == "zh" else self.name_en
        names = self.counties.get(code) or self.development_zones.get(code)
        if names is None:
            return None
        return names[0] if lang == "zh" else names[1]


BAZHONG = RegionInfo(
    code="511900",
    name="巴中市",
    name_en="Bazhong",
    level="prefecture",
    counties={
        "511902": ("巴州区", "Bazhou District"),
        "511903": ("恩阳区", "Enyang District"),
        "511921": ("通江县", "Tongjiang County"),
        "511922": ("南江县", "Nanjiang County"),
        "511923": ("平昌县", "Pingchang County"),
    },
    work_crs=WORK_CRS,
    # 巴城 = the urban parts of 巴州区 and 恩阳区; the economic development zone (no polygon of its own) counts in
    # the central city's census population (see data/settlements/README.md)
    central_city_polygon_members=("511902", "511903"),
    central_city_census_members=("511902", "511903", "511971"),
    development_zones={"511971": ("巴中经济开发区", "Bazhong Economic Development Zone")},
    short_names_en={"511900": "Bazhong", "511902": "Bazhou", "511903": "Enyang", "511921": "Tongjiang",
                    "511922": "Nanjiang", "511923": "Pingchang", "511971": "Bazhong EDZ"},
    bbox_lonlat=(106.3, 31.2, 107.8, 32.8),
)
"""巴中市: the prefecture this toolkit was built for."""
