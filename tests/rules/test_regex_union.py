"""The fast union regex: guards and word-start grouping change how fast it runs, never what it matches."""

import re

import pytest

from adscreen.rules.guidance import load_guide
from adscreen.rules.redflags import LANGUAGES, load_flags
from adscreen.rules.regex_union import FirstMatches, compile_patterns, first_char_guard, share_gaps
from adscreen.text import fold, fold_pattern, lower_pattern
from adscreen.training.sample_ads import read_sample_rows

FLAGS = load_flags()
GUIDE = load_guide()
SAMPLE_ADS = [fold(row["text"]).text for row in read_sample_rows()]


def spans(regex: re.Pattern[str], text: str) -> list[tuple[int, int]]:
    return [match.span() for match in regex.finditer(text)]


@pytest.mark.parametrize("flag", FLAGS.flags, ids=lambda flag: flag.id)
def test_each_flag_matches_the_same_spans_with_and_without_guards(flag: object) -> None:
    """Both unions: every pattern (where the flag is shown) and the weighed ones (the model's feature)."""
    weighed = [lower_pattern(fold_pattern(p)) for ps in flag.spec.patterns.values() for p in ps]
    shown = [lower_pattern(fold_pattern(p)) for ps in flag.spec.shown_patterns.values() for p in ps]
    plain = compile_patterns(weighed + shown, guarded=False)
    plain_weighed = compile_patterns(weighed, guarded=False)
    examples = [
        fold(text).text
        for language in LANGUAGES
        for text in (*flag.spec.examples[language].match, *flag.spec.examples[language].no_match)
    ]
    for text in SAMPLE_ADS + examples:
        assert spans(flag.regex, text) == spans(plain, text), text
        assert spans(flag.weighed_regex, text) == spans(plain_weighed, text), text


@pytest.mark.parametrize("flag", FLAGS.flags, ids=lambda flag: flag.id)
def test_each_flag_starts_where_the_plain_alternation_of_its_patterns_starts(flag: object) -> None:
    specs = (flag.spec.patterns, flag.spec.shown_patterns)
    patterns = [lower_pattern(fold_pattern(p)) for by_language in specs for ps in by_language.values() for p in ps]
    plain = re.compile("|".join(f"(?:{p})" for p in patterns))
    for text in SAMPLE_ADS:
        expected, found = plain.search(text), flag.regex.search(text)
        assert (expected and expected.start()) == (found and found.start()), text


def test_alternatives_around_one_gap_are_merged_and_start_where_they_did() -> None:
    patterns = [r"\d+\$[\s\S]{0,20}?no experience", r"\d+\$[\s\S]{0,20}?без опыта", r"easy[\s\S]{0,20}?\d+\$"]
    patterns.append(r"(?:simple)[\s\S]{0,20}?\d+\$")
    merged = share_gaps(patterns, lambda tail: "")
    assert merged == [
        r"\d+\$[\s\S]{0,20}?(?:(?:no experience)|(?:без опыта))",
        r"(?:(?:easy)|(?:(?:simple)))[\s\S]{0,20}?\d+\$",
    ]
    plain, fast = re.compile("|".join(patterns)), compile_patterns(patterns)
    texts = ["3000$ без опыта, no experience", "easy 10$", "simple, 20$", "5$ and nothing", "easy work"]
    for text in texts:
        expected, found = plain.search(text), fast.search(text)
        assert (expected and expected.start()) == (found and found.start()), text
    assert fast.search(texts[0]).group() == "3000$ без опыта"  # the nearest tail, in any language
    assert plain.search(texts[0]).group() == "3000$ без опыта, no experience"  # the first pattern's


def test_the_costliest_flag_is_guarded() -> None:
    flag = next(flag for flag in FLAGS.flags if flag.id == "HIGH_PAY_LOW_SKILL")
    patterns = [lower_pattern(fold_pattern(p)) for ps in flag.spec.patterns.values() for p in ps]
    assert flag.regex.pattern.count("(?=") > compile_patterns(patterns, guarded=False).pattern.count("(?=")


@pytest.mark.parametrize("code", sorted(GUIDE.destinations))
def test_destinations_start_where_the_plain_case_insensitive_union_starts(code: str) -> None:
    destination = GUIDE.destinations[code]
    plain = re.compile("|".join(f"(?:{fold_pattern(p)})" for p in destination.patterns), re.I)
    fast = GUIDE._destination_finder.regexes[code]
    for text in SAMPLE_ADS + [fold(example).text for example in destination.examples]:
        expected, found = plain.search(text), fast.search(text)
        assert (expected and expected.start()) == (found and found.start()), text


def searched_starts(finder: FirstMatches, text: str) -> dict[str, int]:
    """The slow reference: one search per name."""
    return {name: match.start() for name, regex in finder.regexes.items() if (match := regex.search(text))}


def test_first_matches_are_where_each_regex_alone_first_matches() -> None:
    """Also where one name's match lies inside, or overlaps, another's, and behind lookarounds."""
    finder = FirstMatches.compile(
        {
            "york": [r"\byork\b"],
            "new york": [r"\bnew\s+york\b"],
            "ork": ["ork"],
            "after x": [r"(?<=x)y+"],
            "not before shoe": [r"\bminsk(?!\s+shoe)"],
            "never": ["zzz"],
        }
    )
    texts = ["in new york, then york", "xyy new  york", "minsk shoe, minsk", "minsk shoe", "", "york" * 3, "zz"]
    for text in texts + SAMPLE_ADS[:200]:
        assert finder.starts(text) == searched_starts(finder, text), text


def test_destinations_are_found_where_each_countrys_own_search_finds_them() -> None:
    finder = GUIDE._destination_finder
    examples = [fold(example).text for destination in GUIDE.destinations.values() for example in destination.examples]
    for text in SAMPLE_ADS + examples + ["\n".join(examples)]:
        assert finder.starts(text) == searched_starts(finder, text), text[:80]


def test_a_guard_admits_exactly_the_possible_first_characters() -> None:
    pattern = r"(?<![\d.,])(?:1[ ,.]?[5-9]\d\d|x?[2-9]\d{3})|(?:usd|\$)\s?\d"
    guard = re.compile(first_char_guard(pattern))
    assert {char for char in "0123456789x$ua-" if guard.match(char)} == set("123456789x$u")


@pytest.mark.parametrize(
    "pattern",
    [
        r"abc|abd",  # starts with a literal: the engine's own quick test is cheaper than a guard
        r"(?:x\s)?y*",  # can match the empty string
        r"(a)?\1b",  # starts with a back-reference
        r"(?i:x)?abc",  # local flags
    ],
)
def test_no_guard_where_it_cannot_help_or_cannot_be_worked_out(pattern: str) -> None:
    assert first_char_guard(pattern) == ""


def test_case_insensitive_guards_keep_the_engines_case_folding() -> None:
    patterns = [r"(?:\d+\s)?istanbul", r"(?<!x)kelvin|(?:ab)?straße", r"(?:1\s)?ſun"]
    texts = ["İstanbul", "ıstanbul", "ISTANBUL 3", "Kelvin", "\u212aelvin", "straSSe", "STRASSE", "sun", "SUN", "1 ſun"]
    guarded, plain = compile_patterns(patterns, re.I), compile_patterns(patterns, re.I, guarded=False)
    assert guarded.pattern != plain.pattern
    for text in texts:
        assert spans(guarded, text) == spans(plain, text), text
