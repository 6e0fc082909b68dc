"""One vocabulary of settlement words: tiers and designations, with every Chinese alias and their labels.

A *tier* is a place in the four-tier settlement system (巴城 central city, 县城 county towns, 特色镇 featured towns,
中心村 central villages; general towns and villages below). A *designation* is a title a settlement holds on top of
its tier (全国重点镇, 四好村 …). Planners' 等级 columns mix the two; :func:`classify_term` maps any such word to
``(tier, designation)`` so nothing is guessed and nothing is dropped.

>>> Tier.parse("巴城") is Tier.CENTRAL_CITY
True
>>> classify_term("全国重点镇")
(None, 'national_key_town')
>>> classify_term("特色镇")
(<Tier.FEATURED_TOWN: 'featured_town'>, 'featured_town')
>>> designation_label("four_good_village"), designation_label("four_good_village", "en")
('四好村', 'four-good village')
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from ._errors import UnknownTierError


class Tier(StrEnum):
    """Tiers of Bazhong's settlement system, ordered from the top.

    The plan's four tiers are the central city (巴城), county towns (县城), featured towns (特色镇)
    and central villages (中心村聚居点); general towns and villages sit below them. Values are the
    spellings used in files. Designations (national key town, 四好村, ...) are attributes, not tiers:
    see :data:`DESIGNATIONS` and :func:`classify_term`.

    Examples
    --------
    >>> Tier.parse("县城") is Tier.COUNTY_TOWN
    True
    >>> Tier.CENTRAL_CITY < Tier.VILLAGE
    True
    >>> Tier.FEATURED_TOWN.label_zh
    '特色镇'
    """

    CENTRAL_CITY = "central_city"
    COUNTY_TOWN = "county_town"
    FEATURED_TOWN = "featured_town"
    CENTRAL_VILLAGE = "central_village"
    TOWN = "town"
    VILLAGE = "village"

    @property
    def rank(self) -> int:
        """Position from the top, 0 for the central city."""
        return list(Tier).index(self)

    @property
    def level(self) -> int:
        """Administrative level: 0 central city, 1 county town, 2 towns, 3 villages."""
        return TIER_LEVELS[self.value]

    @property
    def label_zh(self) -> str:
        """Chinese label used on maps and in reports."""
        return TIER_LABELS[self.value][0]

    @property
    def label_en(self) -> str:
        """English label."""
        return TIER_LABELS[self.value][1]

    def label(self, lang: str = "zh") -> str:
        """Label in ``lang`` ("zh" or "en")."""
        return self.label_en if lang == "en" else self.label_zh

    @property
    def allowed_parents(self) -> tuple[Tier, ...]:
        """Tiers a settlement of this tier may have as its parent."""
        return tuple(Tier(v) for v in TIER_ALLOWED_PARENTS[self.value])

    @classmethod
    def parse(cls, value: object) -> Tier:
        """Return the Tier for a Tier, its file spelling, its enum name or a Chinese name.

        Raises
        ------
        UnknownTierError
            Listing the allowed names; for a word that names a designation (重点镇, 四好村 …), saying so and how to
            record it.

        Examples
        --------
        >>> Tier.parse("镇"), Tier.parse("CENTRAL_VILLAGE")
        (<Tier.TOWN: 'town'>, <Tier.CENTRAL_VILLAGE: 'central_village'>)
        >>> Tier.parse("全国重点镇")
        Traceback (most recent call last):
        ...
        bazhong_geo._errors.UnknownTierError: '全国重点镇' names a designation (national_key_town, 全国重点镇), ...
        """
        if isinstance(value, Tier):
            return value
        tier = tier_of_word(value)
        if tier is not None:
            return tier
        key = designation_of_word(value)
        if key is not None:
            raise UnknownTierError(_designation_not_tier(value, key))
        raise UnknownTierError(f"unknown tier {value!r}; allowed: {allowed_tier_names()} "
                               f"(or a Chinese name: {', '.join(sorted(TIER_ALIASES_ZH))})")

    def __str__(self) -> str:
        return self.value

    def _cmp(self, other: object) -> int:
        return Tier.parse(other).rank if isinstance(other, (Tier, str)) else NotImplemented

    def __lt__(self, other: object) -> bool:
        o = self._cmp(other)
        return o if o is NotImplemented else self.rank < o

    def __le__(self, other: object) -> bool:
        o = self._cmp(other)
        return o if o is NotImplemented else self.rank <= o

    def __gt__(self, other: object) -> bool:
        o = self._cmp(other)
        return o if o is NotImplemented else self.rank > o

    def __ge__(self, other: object) -> bool:
        o = self._cmp(other)
        return o if o is NotImplemented else self.rank >= o

    __hash__ = str.__hash__


TIER_LABELS = {
    "central_city": ("中心城区", "central city"),
    "county_town": ("县城", "county town"),
    "featured_town": ("特色镇", "featured town"),
    "central_village": ("中心村", "central village"),
    "town": ("一般镇", "town"),
    "village": ("村", "village"),
}
"""Tier value -> (Chinese label, English label)."""

TIER_LEVELS = {"central_city": 0, "county_town": 1, "featured_town": 2, "town": 2, "central_village": 3, "village": 3}
"""Tier value -> administrative level (0 central city … 3 villages)."""

TIER_ALLOWED_PARENTS = {
    "central_city": (),
    "county_town": ("central_city",),
    "featured_town": ("central_city", "county_town"),
    "town": ("central_city", "county_town"),
    "central_village": ("featured_town", "town"),
    "village": ("featured_town", "town", "central_village"),
}
"""Tier value -> tiers its parent may have."""

TIER_ALIASES_ZH = {
    "中心城区": "central_city", "中心城市": "central_city", "巴城": "central_city", "主城区": "central_city",
    "县城": "county_town",
    "特色镇": "featured_town", "特色小镇": "featured_town",
    "中心村": "central_village", "中心村聚居点": "central_village",
    "一般镇": "town", "镇": "town", "乡": "town", "乡镇": "town", "街道": "town",
    "村": "village", "一般村": "village", "基层村": "village", "社区": "village",
}
"""Chinese words that name a tier -> tier value."""


@dataclass(frozen=True)
class Designation:
    """A title a settlement holds on top of its tier.

    Attributes
    ----------
    key : str
        The spelling used in files (``designations`` column, ``;``-joined).
    label_zh, label_en : str
        Labels for maps and reports.
    tier : str or None
        The tier the word also names, when it does (特色镇 is both a tier and a designation), else None.
    aliases : tuple of str
        Further Chinese spellings planners use.
    """

    key: str
    label_zh: str
    label_en: str
    tier: str | None = None
    aliases: tuple[str, ...] = ()

    def label(self, lang: str = "zh") -> str:
        """Label in ``lang`` ("zh" or "en")."""
        return self.label_en if lang == "en" else self.label_zh


DESIGNATIONS = {d.key: d for d in (
    Designation("key_town", "重点镇", "key town", aliases=("重点乡镇",)),
    Designation("national_key_town", "全国重点镇", "national key town",
                aliases=("国家重点镇", "国家级重点镇", "全国重点乡镇")),
    Designation("provincial_key_town", "省级重点镇", "provincial key town", aliases=("省重点镇", "四川省重点镇")),
    Designation("municipal_key_town", "市级重点镇", "municipal key town", aliases=("市重点镇",)),
    Designation("featured_town", "特色镇", "featured town", tier="featured_town", aliases=("特色小镇",)),
    Designation("national_featured_town", "国家级特色小镇", "national featured town", tier="featured_town",
                aliases=("全国特色小镇", "国家特色小镇")),
    Designation("provincial_featured_town", "省级特色小镇", "provincial featured town", tier="featured_town",
                aliases=("省级特色镇", "四川省特色小镇")),
    Designation("municipal_featured_town", "市级特色镇", "municipal featured town", tier="featured_town",
                aliases=("市级特色小镇",)),
    Designation("provincial_culture_tourism_town", "省级文化旅游特色小镇", "provincial culture-and-tourism town",
                aliases=("文化旅游特色小镇", "文旅特色小镇")),
    Designation("mega_town", "特大镇", "mega town"),
    Designation("central_town", "中心镇", "central town"),
    Designation("four_good_village", "四好村", "four-good village"),
    Designation("provincial_four_good_village", "省级四好村", "provincial four-good village"),
    Designation("central_village", "中心村", "central village", tier="central_village"),
)}
"""Designation key -> :class:`Designation`: the one table of designation words (maps and reports label from it)."""


def _designation_words() -> dict[str, str]:
    words: dict[str, str] = {}
    for d in DESIGNATIONS.values():
        for word in (d.key, d.label_zh, d.label_en, *d.aliases):
            words[word.lower()] = d.key
    return words


DESIGNATION_WORDS = _designation_words()
"""Every spelling of a designation (key, labels, aliases; lower case) -> designation key."""

_TIER_WORDS = {t.value: t.value for t in Tier} | {t.name.lower(): t.value for t in Tier} | TIER_ALIASES_ZH


def _clean(value: object) -> str:
    return "" if value is None or value != value else str(value).strip()  # noqa: PLR0124  (NaN, NaT: unequal to self)


def tier_of_word(value: object) -> Tier | None:
    """Return the tier a word names (file spelling, enum name, Chinese name; any case), or None.

    Examples
    --------
    >>> tier_of_word("主城区"), tier_of_word("Featured_Town"), tier_of_word("重点镇")
    (<Tier.CENTRAL_CITY: 'central_city'>, <Tier.FEATURED_TOWN: 'featured_town'>, None)
    """
    text = _clean(value)
    value = _TIER_WORDS.get(text) or _TIER_WORDS.get(text.lower())
    return Tier(value) if value is not None else None


def designation_of_word(value: object) -> str | None:
    """Return the designation key a word names (key, Chinese or English label, alias; any case), or None.

    Examples
    --------
    >>> designation_of_word("省级重点镇"), designation_of_word("National key town"), designation_of_word("县城")
    ('provincial_key_town', 'national_key_town', None)
    """
    return DESIGNATION_WORDS.get(_clean(value).lower())


def classify_term(text: object) -> tuple[Tier | None, str | None]:
    """Map a planner's 等级 word to ``(tier, designation)``: what tier it names, what designation it names.

    A word may name a tier only (县城 → county town), a designation only (全国重点镇 → national key town; the
    tier then comes from elsewhere, e.g. the code), or both (特色镇 → the featured-town tier and the featured-town
    designation). Blank cells give ``(None, None)``.

    Parameters
    ----------
    text : object
        The cell (text; None/NaN for blank).

    Returns
    -------
    tuple
        ``(Tier or None, designation key or None)``.

    Raises
    ------
    UnknownTierError
        The word names neither a tier nor a designation (the message lists the accepted words).

    Examples
    --------
    >>> classify_term("县城"), classify_term("四好村"), classify_term(None)
    ((<Tier.COUNTY_TOWN: 'county_town'>, None), (None, 'four_good_village'), (None, None))
    >>> classify_term("中心村")
    (<Tier.CENTRAL_VILLAGE: 'central_village'>, 'central_village')
    """
    word = _clean(text)
    if not word:
        return None, None
    tier = tier_of_word(word)
    key = designation_of_word(word)
    if tier is None and key is not None and DESIGNATIONS[key].tier is not None:
        tier = Tier(DESIGNATIONS[key].tier)
    if tier is None and key is None:
        raise UnknownTierError(
            f"{text!r} names neither a tier nor a designation; tiers: {', '.join(sorted(TIER_ALIASES_ZH))} "
            f"(or {allowed_tier_names()}); designations: {', '.join(d.label_zh for d in DESIGNATIONS.values())}")
    return tier, key


def classify_column(values: Iterable[object], where: str = "column") -> list[tuple[Tier | None, str | None]]:
    """Classify every cell of a planner's 等级 column; unknown words are reported together with their rows.

    Parameters
    ----------
    values : iterable
        The cells, in row order (blank cells give ``(None, None)``).
    where : str
        Named in the error (e.g. ``"towns.xlsx, column 等级"``).

    Returns
    -------
    list of tuple
        ``(Tier or None, designation key or None)`` per cell.

    Raises
    ------
    UnknownTierError
        Listing every unknown word with its rows (1-based) and the accepted words.

    Examples
    --------
    >>> [(t and t.value, d) for t, d in classify_column(["县城", "全国重点镇", "特色镇", None])]
    [('county_town', None), (None, 'national_key_town'), ('featured_town', 'featured_town'), (None, None)]
    """
    out: list[tuple[Tier | None, str | None]] = []
    unknown: dict[str, list[int]] = {}
    for row, cell in enumerate(values, 1):
        try:
            out.append(classify_term(cell))
        except UnknownTierError:
            unknown.setdefault(_clean(cell), []).append(row)
            out.append((None, None))
    if unknown:
        listing = "; ".join(f"{word!r} (rows {', '.join(map(str, rows[:10]))}{' …' if len(rows) > 10 else ''})"
                            for word, rows in unknown.items())
        raise UnknownTierError(f"{where}: unknown word(s) {listing}; tiers: {', '.join(sorted(TIER_ALIASES_ZH))} "
                               f"(or {allowed_tier_names()}); designations: "
                               f"{', '.join(d.label_zh for d in DESIGNATIONS.values())}")
    return out


def designation_label(key: str, lang: str = "zh") -> str:
    """Return the label of a designation key in ``lang``; an unknown key is shown with spaces for underscores.

    Examples
    --------
    >>> designation_label("national_key_town"), designation_label("unlisted_title", "en")
    ('全国重点镇', 'unlisted title')
    """
    d = DESIGNATIONS.get(key.strip())
    return d.label(lang) if d is not None else key.strip().replace("_", " ")


def allowed_tier_names() -> list[str]:
    """Return the tier spellings accepted in files, top tier first.

    Examples
    --------
    >>> allowed_tier_names()[:2]
    ['central_city', 'county_town']
    """
    return [t.value for t in Tier]


def _designation_not_tier(value: object, key: str) -> str:
    d = DESIGNATIONS[key]
    return (f"{value!r} names a designation ({key}, {d.label_zh}), not a tier: record it in the 'designations' "
            f"column as {key!r} and give the tier separately (a town's tier is usually 'town' 一般镇 or "
            f"'featured_town' 特色镇); bazhong_geo.vocabulary.classify_term maps a 等级 column to both")


STATUSES = {
    "achieved": {"zh": "已完成", "en": "achieved", "color": "#1e8449"},
    "on_track": {"zh": "按期推进", "en": "on track", "color": "#2874a6"},
    "behind": {"zh": "滞后", "en": "behind", "color": "#c0392b"},
    "no_data": {"zh": "无数据", "en": "no data", "color": "#7f8c8d"},
}
"""Progress status (see :func:`bazhong_geo.targets.progress`) -> Chinese and English label and colour, in
display order: the one table maps and reports read."""
