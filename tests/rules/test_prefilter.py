"""The hyperscan prefilter: the same flags, spans and indicators as running every flag's regex.

The prefilter only decides which regexes run, so any difference would be a flag it failed to
report. Every YAML example, every sample ad and, when present, every real ad is scanned both ways.
"""

import json
import re
import sys
from pathlib import Path
from re import _constants as sre  # type: ignore[attr-defined]

import pytest

from adscreen.paths import SAMPLE_ADS_DIR
from adscreen.rules import prefilter
from adscreen.rules.prefilter import NotWidened, Prefilter, widen, widen_apart
from adscreen.rules.redflags import FlagSet, load_flags
from adscreen.text import fold

FLAGS = load_flags()


@pytest.fixture(params=["data", "model"])
def flags(request: pytest.FixtureRequest) -> FlagSet:
    """The flags of data/redflags, and those the shipped model holds (what scoring runs)."""
    return FLAGS if request.param == "data" else request.getfixturevalue("scorer").flags


def _scanned(flags: FlagSet, text: str) -> tuple:
    folded = fold(text)
    scan = flags.scan(folded)
    return [(match.flag.id, match.spans) for match in scan.matches], scan.fired, flags.fired(folded.text)


def _differences(flags: FlagSet, texts: list[str]) -> list[int]:
    plain = FlagSet(flags.flags, prefiltered=False)
    return [index for index, text in enumerate(texts) if _scanned(flags, text) != _scanned(plain, text)]


def _texts(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as lines:  # not splitlines(): texts hold U+2028
        return [json.loads(line)["text"] for line in lines if line.strip()]


def test_hyperscan_is_in_use() -> None:
    """Otherwise the comparisons below would compare the plain path with itself."""
    assert prefilter.hyperscan is not None
    assert FLAGS._prefilter._load() is not None
    assert len(FLAGS._prefilter.candidates("")) < len(FLAGS.flags)


def test_same_on_every_yaml_example(flags: FlagSet) -> None:
    texts = [
        text
        for flag in flags.flags
        for examples in flag.spec.examples.values()
        for text in [*examples.match, *examples.no_match]
    ]
    assert _differences(flags, texts) == []


def test_same_on_every_sample_ad(flags: FlagSet) -> None:
    texts = [text for path in sorted(SAMPLE_ADS_DIR.glob("*.jsonl")) for text in _texts(path)]
    assert len(texts) > 1000
    assert _differences(flags, texts) == []


def test_same_on_every_real_ad(flags: FlagSet, real_ads_path: Path) -> None:
    assert _differences(flags, _texts(real_ads_path)) == []


@pytest.mark.parametrize(
    ("pattern", "matches"),
    [
        (r"\bработ\w{0,3}\b", ["работа", "зработать"]),
        (r"(?<!не )оплат[а-я]+", ["не оплата"]),
        (r"[\s\S]{0,250}?виза", ["x" * 300 + "виза"]),
        (r"\d+\s*€", ["١٢ €"]),
        (r"[^\w]zł", ["żzł"]),
        (r"[^\d]x", ["\u0700x", "жx"]),  # \d is widened: its complement cannot be narrowed
        (r"a[^\s]b", ["aжb"]),
    ],
)
def test_a_widened_pattern_matches_where_the_original_does_and_more(pattern: str, matches: list[str]) -> None:
    hyperscan = pytest.importorskip("hyperscan")
    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    database.compile(expressions=[widen(pattern).encode()], flags=[prefilter._FLAGS])
    found = []
    for text in matches:
        database.scan(text.encode(), match_event_handler=lambda *match: found.append(match[-1]), context=text)
    assert found == matches


def test_a_pattern_it_cannot_widen_is_always_reported(tmp_path: Path) -> None:
    with pytest.raises(NotWidened):
        widen(r"(?i)abc")
    with pytest.raises(NotWidened):
        widen(r"(a)\1")
    assert Prefilter([["xyz", "(a)\\1"], ["xyz"]], cache_dir=tmp_path).candidates("nothing here") == {0: [1]}


def test_a_cached_database_is_read_without_widening_and_keeps_what_is_always_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("hyperscan")
    patterns = [["xyz", "(a)\\1"], ["xyz"]]
    assert Prefilter(patterns, cache_dir=tmp_path).candidates("xyz") == {0: [1, 0], 1: [0]}

    def refuse(pattern: str) -> list[str]:
        raise AssertionError(f"widened {pattern!r} again")

    monkeypatch.setattr(prefilter, "widen_apart", refuse)
    cached = Prefilter(patterns, cache_dir=tmp_path)
    assert cached.candidates("nothing here") == {0: [1]}
    assert cached.candidates("xyz") == {0: [1, 0], 1: [0]}
    with pytest.raises(AssertionError, match="widened"):  # other patterns are another database
        Prefilter([["abc"]], cache_dir=tmp_path).candidates("abc")


def test_each_flag_is_reported_with_the_patterns_that_can_match(tmp_path: Path) -> None:
    found = Prefilter([["abc", "xyz", "def"], ["uvw", "def"]], cache_dir=tmp_path)
    assert {flag: sorted(patterns) for flag, patterns in found.candidates("def xyz").items()} == {0: [1, 2], 1: [1]}


def test_the_compiled_database_is_cached_and_survives_a_broken_cache_file(tmp_path: Path) -> None:
    Prefilter([["abc"]], cache_dir=tmp_path).candidates("abc")
    (cached,) = (tmp_path / "prefilter").iterdir()
    assert Prefilter([["abc"]], cache_dir=tmp_path).candidates("xabc") == {0: [0]}
    cached.write_bytes(b"not a database")
    assert Prefilter([["abc"]], cache_dir=tmp_path).candidates("abc") == {0: [0]}


def test_a_text_that_is_not_valid_utf8_has_every_flag_searched(flags: FlagSet) -> None:
    """A lone surrogate (JSON can carry one) cannot be encoded for hyperscan; the plain path scores it."""
    text = "Работа в Дубае \ud800, девушки 18-25, билеты оплачиваем, пиши в Telegram"
    assert flags._prefilter.candidates(text) is None
    assert _differences(flags, [text]) == []


def test_without_hyperscan_every_flag_is_searched(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prefilter, "hyperscan", None)
    assert Prefilter([["abc"], ["def"]]).candidates("abc") is None


@pytest.mark.parametrize(("category", "python_class"), [(sre.CATEGORY_DIGIT, r"\d"), (sre.CATEGORY_SPACE, r"\s")])
def test_widened_digits_and_spaces_hold_every_character_python_reads_as_one(
    category: object, python_class: str
) -> None:
    every_character = "".join(map(chr, range(sys.maxunicode + 1)))
    members = re.sub(
        r"\\x\{([0-9a-f]+)\}", lambda code: re.escape(chr(int(code[1], 16))), prefilter._CATEGORIES[category]
    )
    widened = set(re.findall(f"[{members}]", every_character))
    assert set(re.findall(python_class, every_character)) <= widened


def test_cyrillic_letters_are_neither_digits_nor_spaces_to_the_prefilter(tmp_path: Path) -> None:
    """Widened to every non-ASCII character, ``\\d`` made nearly every Cyrillic ad a candidate for the flags of sums."""
    found = Prefilter([[r"\d{3}"], [r"a\sb"], [r"\d\s\d"]], cache_dir=tmp_path)
    assert list(found.candidates("работа aжb")) == []
    assert sorted(found.candidates("١٢٣ a\u2028b 1\x1c2")) == [0, 1, 2]


def test_a_pattern_is_cut_apart_at_its_first_top_level_alternation() -> None:
    assert widen_apart("x(?:a|bc)y") == [widen("xay"), widen("xbcy")]
    assert widen_apart("ab|cd") == [widen("ab"), widen("cd")]
    assert widen_apart("x(a|b)y") == [widen("x(a|b)y")]  # a group is not cut
    assert widen_apart("abc") == [widen("abc")]


def test_an_ad_without_sums_is_not_searched_for_high_pay() -> None:
    """Whole, hyperscan's approximation of the patterns of sums let every ad through."""
    high_pay = FLAGS.ids.index("HIGH_PAY_LOW_SKILL")
    assert high_pay not in FLAGS._prefilter.candidates(fold("Работа в офисе, оплата каждую неделю").text)


def test_an_ad_with_a_sum_but_no_unskilled_work_is_not_searched_for_sums_near_it() -> None:
    """The sum-then-"no experience" patterns cost most of high pay's search; only the "up to <sum>" ones are left."""
    high_pay = FLAGS.ids.index("HIGH_PAY_LOW_SKILL")
    patterns = FLAGS.flags[high_pay].patterns
    text = fold("Зарплата до 2500 $ в месяц, опыт от 3 лет, офис в Минске").text
    left = [patterns[index] for index in FLAGS._prefilter.candidates(text)[high_pay]]
    assert left and all(pattern.startswith(r"\b(?:до") for pattern in left)
    assert FLAGS.fired(text)[high_pay]
