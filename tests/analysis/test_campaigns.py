"""Campaigns: signatures equal datasketch's, copies survive reposting tricks, links, linear work, planted recovery."""

import zlib

import numpy as np
import pandas as pd
import phonenumbers
import pytest
from datasketch import MinHash

from adscreen.analysis.campaigns import (
    END,
    MIX,
    GroupingParams,
    ad_campaign_ids,
    campaign_table,
    fingerprint,
    fingerprints,
    group,
    shingle_hashes,
    template_tokens,
    text_links,
    word_hashes,
)
from adscreen.rules.contacts import extract
from planted import PHONES, _Contacts, load_material, pairwise_scores, planted_dump


def find_campaigns(texts, countries=None, params=None):
    """Campaigns among ``texts``: fingerprint, then group, as ``analysis.dump`` does."""
    params = params or GroupingParams()
    return group(fingerprints(texts, countries, params, 1), params)


LURE = (
    "Девушки 18-25, работа хостес в Дубае.\n"
    "Зарплата от 3000$ в месяц, чаевые отдельно!\n"
    "Билеты и визу оплачиваем, жильё рядом с клубом.\n"
    "Опыт и английский не нужны, всему научим.\n"
    "Пиши в Telegram @dubai_job"
)
REPOST = (
    "Опыт и английский не нужны, всему научим.\n"
    "Билеты и визу оплачиваем, жильё рядом с клубом.\n"
    "Девушки 19-24, работа хостес в Дубае.\n"
    "Зарплата от 3500$ в месяц, чаевые отдельно!\n"
    "Звони +375 29 153-40-92"
)
SAME_PHONE = "Требуются строители в Москву, жильё и питание, оплата в конце сезона. Звони 8 029 153-40-92"
UNRELATED = "ООО «Кафе Лето», Минск: повар горячего цеха, договор, соцпакет, собеседование в офисе на Немиге."


def reference_shingles(tokens: list[str], words: int = 3) -> list[list[str]]:
    """The definition of a shingle, written plainly: ``words`` consecutive words of one sentence."""
    found, sentence = [], []
    for token in [*tokens, "|"]:
        if token != "|":
            sentence.append(token)
            continue
        if len(sentence) >= words:
            found += [sentence[i : i + words] for i in range(len(sentence) - words + 1)]
        elif sentence:
            found.append(sentence)
        sentence = []
    return found


def reference_hash(shingle: list[str], words: int = 3) -> int:
    value = 0
    for index in range(words):
        word = zlib.crc32(shingle[index].encode()) if index < len(shingle) else 0
        value = ((value * int(MIX)) & 0xFFFFFFFF) ^ word
    return value


@pytest.mark.parametrize("text", [LURE, REPOST, "Коротко.", "Один два. Три четыре пять шесть", UNRELATED])
def test_vectorised_shingles_and_signatures_equal_the_plain_definitions_and_datasketch(text: str) -> None:
    tokens = template_tokens(text, extract(text, "BY"))
    hashes = np.array([*word_hashes(tokens), int(END)], dtype=np.uint32)
    found, _ = shingle_hashes(hashes, 3)
    expected = [reference_hash(shingle) for shingle in reference_shingles(tokens)]
    assert found.tolist() == expected
    minhash = MinHash(num_perm=64, seed=1, hashfunc=lambda value: value)  # affine32, datasketch's default scheme
    minhash.update_batch(expected)
    prints = fingerprint([text], ["BY"], GroupingParams(min_shingles=1))
    assert np.array_equal(prints.signatures[0], minhash.hashvalues)


def test_a_repost_with_reordered_sentences_new_numbers_and_contacts_keeps_most_of_its_signature() -> None:
    tokens = template_tokens(LURE, extract(LURE, "BY"))
    assert "@dubai_job" not in " ".join(tokens) and "3000" not in " ".join(tokens)
    prints = fingerprints([LURE, REPOST, UNRELATED], ["BY"] * 3)
    agreement = (prints.signatures[0] == prints.signatures[1]).mean()
    assert agreement >= 0.8
    assert (prints.signatures[0] == prints.signatures[2]).mean() < 0.2


def test_copies_and_shared_contacts_make_one_campaign() -> None:
    texts = [LURE, REPOST, SAME_PHONE, UNRELATED, "", None, "Звоните!"]
    grouping = find_campaigns(texts, ["BY"] * len(texts))
    assert grouping.labels.tolist() == [0, 0, 0, -1, -1, -1, -1]
    assert grouping.count == 1
    assert grouping.linked_by == ["text+contact"]
    assert grouping.shared_contacts == [["phone:+375291534092"]]  # the Telegram handle is in one ad only
    assert ad_campaign_ids(grouping) == ["C0001", "C0001", "C0001", None, None, None, None]


def test_short_ads_are_never_copies_of_each_other_by_text() -> None:
    texts = ["Звоните нам!", "Звоните нам!", "Пишите."]
    assert find_campaigns(texts).count == 0
    assert find_campaigns(texts, params=GroupingParams(min_shingles=1)).labels.tolist() == [0, 0, -1]


def test_no_ads_no_campaigns() -> None:
    grouping = find_campaigns([])
    assert grouping.count == 0 and len(grouping.labels) == 0


def test_a_thousand_identical_ads_add_a_linear_number_of_edges() -> None:
    """LSH buckets and shared contacts join members by at most two edges each, never all pairs."""
    params = GroupingParams()
    prints = fingerprints([LURE] * 1000, ["BY"] * 1000, params)
    left, _ = text_links(prints, params)
    assert len(left) <= 2 * 1000
    assert find_campaigns([LURE] * 1000).sizes.tolist() == [1000]


def test_threshold_and_num_perm_are_checked() -> None:
    with pytest.raises(ValueError, match="threshold"):
        GroupingParams(threshold=1.5)
    with pytest.raises(ValueError, match="num_perm"):
        GroupingParams(num_perm=4)
    assert GroupingParams().bands == (14, 4)  # datasketch's choice for threshold 0.5 and 64 permutations


def test_campaign_table_has_ids_members_dates_languages_and_risk() -> None:
    grouping = find_campaigns([LURE, REPOST, SAME_PHONE, UNRELATED], ["BY"] * 4)
    dates = pd.Series(pd.to_datetime(["2026-03-02", "2026-02-27", None, "2026-01-01"]))
    table = campaign_table(
        grouping, ["a", "b", "c", "d"], np.array([0.9, 0.7, 0.2, 0.1]), ["ru", "ru", "be", "ru"], dates
    )
    (row,) = table.to_dict("records")
    assert row["campaign_id"] == "C0001" and row["size"] == 3
    assert row["members"] == ["a", "b", "c"]
    assert row["languages"] == ["ru", "be"]
    assert (row["first_seen"], row["last_seen"]) == ("2026-02-27", "2026-03-02")
    assert (row["max_risk"], row["median_risk"]) == (0.9, 0.7)


def test_fingerprints_in_two_processes_equal_one() -> None:
    texts = [LURE, REPOST, SAME_PHONE, UNRELATED] * 5
    one = fingerprints(texts, ["BY"] * 20)
    two = fingerprints(texts, ["BY"] * 20, jobs=2, chunk_ads=6)
    assert np.array_equal(one.signatures, two.signatures)
    assert one.contact_keys == two.contact_keys


def test_generated_phone_numbers_are_valid_and_never_repeat() -> None:
    contacts = _Contacts(np.random.default_rng(0))
    seen = set()
    for country in PHONES:
        for _ in range(500):
            international, national = contacts.phone(country)
            number = phonenumbers.parse(international)
            assert phonenumbers.is_valid_number(number), international
            assert phonenumbers.parse(national, country) == number, national
            seen.add(international)
    assert len(seen) == 500 * len(PHONES)


def test_planted_campaigns_are_recovered() -> None:
    """Pairwise precision and recall >= 0.9: a pair of ads counts when both sit in one campaign.

    Precision is the share of pairs in found campaigns that were planted together; recall the
    share of planted pairs that were found. Background ads are singletons, so a background ad
    pulled into a campaign costs precision, and a lost copy costs recall.
    """
    dump = planted_dump(3000, seed=7, material=load_material())
    assert dump["planted"].notna().mean() == pytest.approx(0.3, abs=0.02)
    grouping = find_campaigns(dump["text"].tolist(), dump["country"].tolist())
    precision, recall = pairwise_scores(grouping.labels, dump["planted"])
    assert precision >= 0.9
    assert recall >= 0.9


def test_pairwise_scores_count_pairs() -> None:
    planted = pd.Series([0, 0, 0, None, None], dtype="Int64")
    assert pairwise_scores(np.array([0, 0, 0, -1, -1]), planted) == (1.0, 1.0)
    precision, recall = pairwise_scores(np.array([0, 0, -1, 0, -1]), planted)
    assert (precision, recall) == (pytest.approx(1 / 3), pytest.approx(1 / 3))


def test_a_planted_dump_is_reproducible() -> None:
    material = load_material()
    first, second = planted_dump(300, seed=3, material=material), planted_dump(300, seed=3, material=material)
    pd.testing.assert_frame_equal(first, second)
    assert set(first.columns) == {"id", "text", "language", "country", "date", "planted"}
