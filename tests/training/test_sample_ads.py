"""The written corpus: schema, counts, coverage, and the rules against templates."""

from collections import Counter

import pytest

from adscreen.paths import DATA_DIR
from adscreen.rules.redflags import load_flags
from adscreen.training.quality import near_duplicate_pairs, repeated_sentences
from adscreen.training.sample_ads import LANGUAGES, counts_table, read_sample_rows, replace_counts, row_problems

MINIMUM_PER_LANGUAGE = {"ru": 250, "en": 250, "be": 120, "uk": 120, "pl": 120}


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return read_sample_rows()


@pytest.fixture(scope="module")
def red_flag_ids() -> frozenset[str]:
    return frozenset(flag.id for flag in load_flags().flags if flag.spec.effect == "raises")


def test_every_row_follows_the_schema(rows: list[dict], red_flag_ids: frozenset[str]) -> None:
    problems = [
        f"{row['_where']}: {problem}"
        for row in rows
        for problem in row_problems({k: v for k, v in row.items() if k != "_where"}, red_flag_ids)
    ]
    assert problems == []


def test_ids_are_unique(rows: list[dict]) -> None:
    counts = Counter(row["id"] for row in rows)
    assert [key for key, count in counts.items() if count > 1] == []


def test_counts_per_language_and_label(rows: list[dict]) -> None:
    assert len(rows) >= 1000
    per_language = Counter(row["language"] for row in rows)
    for language, minimum in MINIMUM_PER_LANGUAGE.items():
        assert per_language[language] >= minimum, language
        labels = Counter(row["label"] for row in rows if row["language"] == language)
        assert min(labels[0], labels[1]) >= 0.3 * per_language[language], f"{language} is lopsided: {labels}"


def test_hard_negatives_and_subtle_lures(rows: list[dict]) -> None:
    for language in LANGUAGES:
        legit = [row for row in rows if row["language"] == language and row["label"] == 0]
        lures = [row for row in rows if row["language"] == language and row["kind"].startswith("lure_")]
        assert sum(row["difficulty"] == "hard_negative" for row in legit) >= 0.4 * len(legit), language
        assert sum(row["difficulty"] == "subtle" for row in lures) >= 0.25 * len(lures), language


# Signs read off real job spam (shared/data/real) after the written corpus was annotated: the lures written
# in November 2026 come from the 21 signs of the trafficking taxonomy and are not annotated with these; only
# the short informal ads added in December 2026 are, so they are not required in every language's lures.
REAL_SPAM_SIGNS = frozenset(
    {"DAILY_PAY_HOOK", "CRYPTO_TEAM_RECRUITMENT", "COURIER_MULE_RECRUITMENT", "EASY_MONEY_PROMISE"}
)


def test_every_red_flag_is_covered_in_lures_of_every_language(rows: list[dict], red_flag_ids: frozenset[str]) -> None:
    taxonomy = red_flag_ids - REAL_SPAM_SIGNS
    assert len(taxonomy) == 21
    for language in LANGUAGES:
        covered = {flag for row in rows if row["language"] == language and row["label"] == 1 for flag in row["flags"]}
        assert sorted(taxonomy - covered) == [], language


def test_both_routes_and_classic_scams_are_present(rows: list[dict]) -> None:
    kinds = Counter(row["kind"] for row in rows)
    for kind in (
        "lure_hostess_abroad",
        "lure_care_abroad",
        "lure_construction_russia",
        "lure_agriculture_abroad",
        "lure_meat_plant_abroad",
        "scam_upfront_fee",
        "scam_work_from_home",
        "scam_fake_cheque",
        "legit_agency_abroad",
        "legit_seasonal_contract",
        "legit_it",
        "legit_local_small_business",
    ):
        assert kinds[kind] >= 5, kind


def test_no_two_ads_are_near_duplicates(rows: list[dict]) -> None:
    pairs = near_duplicate_pairs([row["text"] for row in rows])
    assert [(rows[i]["id"], rows[j]["id"], round(cosine, 2)) for i, j, cosine in pairs] == []


def test_no_long_sentence_is_reused_in_more_than_three_ads(rows: list[dict]) -> None:
    assert repeated_sentences([row["text"] for row in rows]) == {}


def test_readme_counts_are_current(rows: list[dict]) -> None:
    readme = (DATA_DIR / "README.md").read_text(encoding="utf-8")
    assert replace_counts(readme, counts_table(rows)) == readme, "run: python scripts/corpus_counts.py"
