"""One vocabulary: every tier alias and designation word, and how a planner's 等级 column maps onto both."""

import pandas as pd
import pytest

import bazhong_geo as bg
from bazhong_geo import io, resources, settlements, vocabulary
from bazhong_geo._errors import UnknownTierError
from bazhong_geo.vocabulary import DESIGNATIONS, Tier, classify_term, designation_label

TIER_WORDS = {  # every Chinese tier word the first wave accepted, with its tier
    "中心城区": "central_city", "中心城市": "central_city", "巴城": "central_city", "主城区": "central_city",
    "县城": "county_town", "特色镇": "featured_town", "特色小镇": "featured_town", "中心村": "central_village",
    "中心村聚居点": "central_village", "一般镇": "town", "镇": "town", "乡": "town", "乡镇": "town", "街道": "town",
    "村": "village", "一般村": "village", "基层村": "village", "社区": "village",
}
DESIGNATION_WORDS = {
    "重点镇": "key_town", "全国重点镇": "national_key_town", "省级重点镇": "provincial_key_town",
    "市级重点镇": "municipal_key_town", "特色镇": "featured_town", "特色小镇": "featured_town",
    "特大镇": "mega_town", "中心镇": "central_town", "四好村": "four_good_village", "中心村": "central_village",
}


def test_tier_is_one_class_everywhere():
    assert settlements.Tier is vocabulary.Tier is bg.Tier is Tier


@pytest.mark.parametrize("word,tier", sorted(TIER_WORDS.items()))
def test_every_chinese_tier_word(word, tier):
    assert Tier.parse(word) is Tier(tier)
    assert Tier.parse(f" {word} ") is Tier(tier)


def test_file_spellings_and_enum_names_any_case():
    for t in Tier:
        assert Tier.parse(t.value) is t and Tier.parse(t.name) is t and Tier.parse(t.value.upper()) is t


@pytest.mark.parametrize("word,key", sorted(DESIGNATION_WORDS.items()))
def test_classify_designation_words(word, key):
    tier, designation = classify_term(word)
    assert designation == key
    assert tier == (Tier(DESIGNATIONS[key].tier) if DESIGNATIONS[key].tier else None)


def test_classify_known_answers():
    assert classify_term("县城") == (Tier.COUNTY_TOWN, None)
    assert classify_term("全国重点镇") == (None, "national_key_town")
    assert classify_term("特色镇") == (Tier.FEATURED_TOWN, "featured_town")
    assert classify_term("中心村") == (Tier.CENTRAL_VILLAGE, "central_village")
    assert classify_term("national key town") == (None, "national_key_town")
    assert classify_term("") == (None, None) and classify_term(float("nan")) == (None, None)


def test_classify_unknown_word_is_an_error():
    with pytest.raises(UnknownTierError, match="neither a tier nor a designation"):
        classify_term("大都市")


@pytest.mark.parametrize("word", ["重点镇", "全国重点镇", "省级重点镇", "市级重点镇", "特大镇", "中心镇", "四好村"])
def test_tier_parse_of_a_designation_says_so(word):
    with pytest.raises(UnknownTierError) as err:
        Tier.parse(word)
    msg = str(err.value)
    key = DESIGNATION_WORDS[word]
    assert "names a designation" in msg and repr(key) in msg and "designations" in msg and "classify_term" in msg


def test_labels_of_every_designation_in_the_register():
    keys = pd.read_csv(resources.data_file("settlements/designations.csv"))["designation"]
    for key in keys.unique():
        assert key in DESIGNATIONS, f"designations.csv uses {key!r}, which the vocabulary does not define"
    assert designation_label("national_key_town") == "全国重点镇"
    assert designation_label("national_key_town", "en") == "national key town"
    assert designation_label("not_listed", "en") == "not listed"


def test_reader_reports_designation_words_in_the_tier_column(tmp_path):
    path = tmp_path / "towns.csv"
    path.write_text("code,name,tier,parent_code,population,lon,lat\n"
                    "511902101,清江镇,全国重点镇,,30000,106.8,31.9\n"
                    "511902104,化成镇,镇,,20000,106.7,31.8\n", encoding="utf-8")
    _, report = io.read_settlements(path, return_report=True, errors="report")
    text = report.to_text()
    assert "'全国重点镇' (national_key_town) name designations, not tiers" in text


def test_classify_column_reports_every_unknown_word_with_rows():
    got = vocabulary.classify_column(["巴城", "四好村", "中心村"])
    assert got == [(Tier.CENTRAL_CITY, None), (None, "four_good_village"), (Tier.CENTRAL_VILLAGE, "central_village")]
    with pytest.raises(UnknownTierError, match=r"plan.xlsx, 等级: unknown word\(s\) '大都市' \(rows 2, 4\); '小城' \(rows 3\)"):
        vocabulary.classify_column(["县城", "大都市", "小城", "大都市"], "plan.xlsx, 等级")
