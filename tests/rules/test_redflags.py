"""Red flags: every flag's own examples in every language, spans, tricks, and broken rule files."""

import re
from pathlib import Path

import pytest

from adscreen.errors import RuleConfigError
from adscreen.rules.redflags import LANGUAGES, FlagSet, load_flags
from adscreen.rules.regex_union import compile_patterns, split_alternatives
from adscreen.text import fold

FLAGS = load_flags()
# Signs taken from real job-spam posts (shared/data/real): not in the trafficking taxonomy, but real lures' hooks.
REAL_SPAM_SIGNS = {"DAILY_PAY_HOOK", "CRYPTO_TEAM_RECRUITMENT", "COURIER_MULE_RECRUITMENT", "EASY_MONEY_PROMISE"}
TAXONOMY = {
    "HIGH_PAY_LOW_SKILL",
    "NO_SKILLS_NO_LANGUAGE",
    "EMPLOYER_PAYS_TRAVEL_HOUSING",
    "ADVANCE_DEBT",
    "UPFRONT_FEE",
    "MESSENGER_PHONE_ONLY",
    "NO_EMPLOYER_IDENTITY",
    "VAGUE_DUTIES",
    "NO_CONTRACT_INFORMAL",
    "URGENCY",
    "INSTANT_HIRE",
    "YOUNG_WOMEN_APPEARANCE",
    "NIGHTLIFE_ROLE",
    "CARE_DOMESTIC_ABROAD",
    "MALE_LABOUR_SECTORS",
    "ABROAD_DESTINATION",
    "IRREGULAR_VISA",
    "DOCUMENT_HANDOVER",
    "DEFERRED_PAY",
    "MOVEMENT_RESTRICTION_HINTS",
    "LEGITIMACY_OVERCLAIM",
}
CASES = [pytest.param(flag.id, language, id=f"{flag.id}-{language}") for flag in FLAGS.flags for language in LANGUAGES]


def ids_in(text: str) -> set[str]:
    return {match.flag.id for match in FLAGS.find(text)}


def test_every_taxonomy_flag_and_the_lowering_signs_exist() -> None:
    raising = {flag.id for flag in FLAGS.flags if flag.spec.effect == "raises"}
    lowering = {flag.id for flag in FLAGS.flags if flag.spec.effect == "lowers"}
    assert raising == TAXONOMY | REAL_SPAM_SIGNS
    assert {"LEGAL_ENTITY", "LICENCE_NUMBER", "COMPANY_EMAIL", "WRITTEN_CONTRACT", "INTERVIEW"} <= lowering


@pytest.mark.parametrize(("flag_id", "language"), CASES)
def test_flag_examples(flag_id: str, language: str) -> None:
    """At least two ads that trigger the flag and one near miss that does not, in each language."""
    flag = next(flag for flag in FLAGS.flags if flag.id == flag_id)
    examples = flag.spec.examples[language]
    assert len(examples.match) >= 2
    assert len(examples.no_match) >= 1
    for text in examples.match:
        assert flag_id in ids_in(text), text
    for text in examples.no_match:
        assert flag_id not in ids_in(text), text


def test_titles_and_reasons_exist_in_english_and_russian() -> None:
    for flag in FLAGS.flags:
        assert flag.spec.title.get("en") and flag.spec.title.get("ru") != flag.spec.title.get("en")
        assert len(flag.spec.why.get("en")) > 30


def test_spans_point_at_the_matched_words() -> None:
    text = "Работа в Дубае. Пишите в Т Е Л Е Г Р А М, регистрационный взнос 50 долларов."
    for match in FLAGS.find(text):
        for start, end in match.spans:
            assert 0 <= start < end <= len(text)
    fee = next(match for match in FLAGS.find(text) if match.flag.id == "UPFRONT_FEE")
    assert text[fee.spans[0][0] : fee.spans[0][1]].lower().startswith("регистрационный взнос")


@pytest.mark.parametrize(
    "text",
    [
        "пиши в т е л е г р а м",  # spaced out
        "пиши в телегрaм",  # Latin а inside Cyrillic
        "write me on w.h.a.t.s.a.p.p",
    ],
)
def test_messenger_contact_survives_tricks(text: str) -> None:
    assert "MESSENGER_PHONE_ONLY" in ids_in(text)


def test_no_employer_identity_fires_on_anonymous_wording_not_on_mere_absence() -> None:
    """Real vacancies rarely name a legal entity (74-94% of the shared real ones do not): absence is no sign."""
    plain = "Требуются рабочие на склад, график 2/2, звоните."
    anonymous = "Набор сотрудников в крупную логистическую компанию, звоните."
    named = "ООО «Складские системы», г. Минск, ул. Тимирязева 65: требуются кладовщики."
    assert "NO_EMPLOYER_IDENTITY" not in ids_in(plain)
    assert "NO_EMPLOYER_IDENTITY" in ids_in(anonymous)
    assert "NO_EMPLOYER_IDENTITY" not in ids_in(named)


def test_split_alternatives_respects_groups_classes_and_escapes() -> None:
    assert split_alternatives(r"\ba|b(c|d)|[|]|\|") == [r"\ba", "b(c|d)", "[|]", r"\|"]


def test_word_start_grouping_keeps_the_meaning() -> None:
    regex = compile_patterns([r"\bfoo|bar", r"(?<!no\s)\bfee"])
    assert regex.search("xbar") and not regex.search("xfoo") and regex.search("a foo")
    assert regex.search("a fee") and not regex.search("no fee")


# A title and a reason in all five languages, as every flag file must have them.
TEXTS = "title: {en: t, ru: t, be: t, uk: t, pl: t}\nwhy: {en: w, ru: w, be: w, uk: w, pl: w}\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "id: BAD_REGEX\neffect: raises\nseverity: high\n"
            + TEXTS
            + "patterns: {ru: ['(unclosed'], be: [a], uk: [a], pl: [a], en: [a]}\n"
            "examples: {en: {match: [a], no_match: [b]}}\n",
            "BAD_REGEX, ru pattern '(unclosed'",
        ),
        (
            "id: BAD_SHOWN\neffect: raises\nseverity: high\n"
            + TEXTS
            + "patterns: {ru: [a], be: [a], uk: [a], pl: [a], en: [a]}\nshown_patterns: {uk: ['(unclosed']}\n"
            "examples: {en: {match: [a], no_match: [b]}}\n",
            "BAD_SHOWN, uk shown pattern '(unclosed'",
        ),
        (
            "id: NO_PL\neffect: raises\nseverity: high\n"
            + TEXTS
            + "patterns: {ru: [a], be: [a], uk: [a], en: [a]}\nexamples: {en: {match: [a], no_match: [b]}}\n",
            "no patterns for ['pl']",
        ),
        (
            "id: WRONG_NAME\neffect: raises\nseverity: high\n"
            + TEXTS
            + "patterns: {ru: [a], be: [a], uk: [a], pl: [a], en: [a]}\nexamples: {en: {match: [a], no_match: [b]}}\n",
            "does not match the file name",
        ),
        (
            "id: BAD_SEVERITY\neffect: raises\nseverity: extreme\n"
            + TEXTS
            + "patterns: {ru: [a], be: [a], uk: [a], pl: [a], en: [a]}\nexamples: {en: {match: [a], no_match: [b]}}\n",
            "severity",
        ),
        (
            "id: UNKNOWN_FRAGMENT\neffect: raises\nseverity: high\n"
            + TEXTS
            + "patterns: {ru: ['<<NOPE>>'], be: [a], uk: [a], pl: [a], en: [a]}\nexamples: {en: {match: [a], no_match: [b]}}\n",
            "unknown fragment <<NOPE>>",
        ),
        (
            "id: NO_BE\neffect: raises\nseverity: high\n"
            "title: {en: t, ru: t, be: t, uk: t, pl: t}\nwhy: {en: w, ru: w, uk: w, pl: w}\n"
            "patterns: {ru: [a], be: [a], uk: [a], pl: [a], en: [a]}\nexamples: {en: {match: [a], no_match: [b]}}\n",
            "why.be",
        ),
        ("id: [unclosed", "cannot read"),
    ],
)
def test_broken_rule_files_name_the_file_and_the_problem(tmp_path: Path, content: str, message: str) -> None:
    name = "WRONG.yaml" if "WRONG_NAME" in content else ((content.split("\n")[0].removeprefix("id: ") or "X") + ".yaml")
    path = tmp_path / name.replace("[", "")
    path.write_text(content, encoding="utf-8")
    with pytest.raises(RuleConfigError) as caught:
        load_flags(tmp_path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_an_empty_rules_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RuleConfigError, match="no red-flag files"):
        load_flags(tmp_path)


def test_compile_all_compiles_every_flags_regex_before_an_ad_needs_it() -> None:
    """A server warms up with it: otherwise the first ad to fire a flag waits for the flag's regex."""
    flags = load_flags()
    assert not any("regex" in vars(flag) for flag in flags.flags)  # compiled on first use
    flags.compile_all()
    assert all("regex" in vars(flag) for flag in flags.flags)
    assert all("weighed_regex" in vars(flag) for flag in flags.flags)


def _flag_index(flag_id: str) -> int:
    return FLAGS.ids.index(flag_id)


@pytest.mark.parametrize("prefiltered", [True, False])
def test_a_shown_pattern_shows_the_flag_and_leaves_the_models_feature_off(prefiltered: bool) -> None:
    """'1500 грн на день' is daily pay to a reader, but only as a shown pattern: the model was not trained on it."""
    flags = FlagSet(FLAGS.flags, prefiltered=prefiltered)
    daily = FLAGS.ids.index("DAILY_PAY_HOOK")
    for text, weighed in (
        ("Підробіток, від 1500 грн на день, пиши в пп.", False),
        ("Оплата одразу, 1200 грн/день.", True),
    ):
        folded = fold(text)
        scan = flags.scan(folded)
        assert [match.weighed for match in scan.matches if match.flag.id == "DAILY_PAY_HOOK"] == [weighed]
        assert scan.fired[daily] is weighed
        fired, shown = flags.indicators(folded.text)
        assert (fired[daily], shown[daily]) == (weighed, True)
        assert flags.fired(folded.text) == fired == scan.fired


def test_every_flag_shows_wherever_its_feature_fires() -> None:
    """The shown flags are a superset of the model's features, on every example of every flag."""
    texts = [text for flag in FLAGS.flags for ex in flag.spec.examples.values() for text in [*ex.match, *ex.no_match]]
    for text in texts:
        fired, shown = FLAGS.indicators(fold(text).text)
        assert all(s for f, s in zip(fired, shown, strict=True) if f), text
        scan = FLAGS.scan(fold(text))
        assert scan.fired == fired, text
        assert [FLAGS.ids[i] for i, s in enumerate(shown) if s] == [m.flag.id for m in scan.matches], text


_ESCAPE = re.compile(r"\\.")
_LETTERS = re.compile(r"[^\W\d_]+")


def test_no_pattern_word_mixes_latin_and_cyrillic_letters() -> None:
    """Folding makes a word one script, so a pattern word written in two ('атрымлiва', Latin i) never matches."""
    mixed = [
        (flag.id, word)
        for flag in FLAGS.flags
        for by_language in (flag.spec.patterns, flag.spec.shown_patterns)
        for patterns in by_language.values()
        for pattern in patterns
        for word in _LETTERS.findall(_ESCAPE.sub(" ", pattern))
        if re.search(r"[a-z]", word, re.IGNORECASE) and re.search(r"[\u0400-\u04ff]", word)
    ]
    assert mixed == []
