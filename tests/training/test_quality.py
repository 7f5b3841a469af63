"""The corpus checks themselves must catch what they promise to catch."""

from adscreen.training.quality import near_duplicate_pairs, repeated_sentences


def test_near_duplicates_are_found_and_distinct_ads_are_not() -> None:
    texts = [
        "Работа в Польше на складе, жильё бесплатно, пишите в Телеграм @sklad_pl",
        "Работа в Польше на складе, жильё бесплатно, пишите в Телеграм @sklad_pl2",
        "Senior Python developer, remote, 6000 USD, interview in two stages, contract B2B",
    ]
    pairs = near_duplicate_pairs(texts)
    assert [(i, j) for i, j, _ in pairs] == [(0, 1)]


def test_a_long_sentence_in_four_ads_is_reported_and_in_three_is_not() -> None:
    sentence = "We offer free housing, paid flights and a guaranteed salary from the first day"
    four = [f"{sentence}. Ad number {n}." for n in range(4)]
    assert len(repeated_sentences(four)) == 1
    assert repeated_sentences(four[:3]) == {}
    short = ["Write to us today." for _ in range(5)]
    assert repeated_sentences(short) == {}
