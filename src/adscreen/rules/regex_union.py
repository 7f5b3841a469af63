"""Many regex patterns as one fast regex that matches where their alternation matches.

Python's regex engine tries every alternative at every position of the text. An
alternative that starts with a lookbehind, an optional group or a long list of
sub-alternatives (the red flags' money amounts, for instance) costs dozens of
steps to reject a position, even where no match could start. Two rewrites that
keep the matches identical avoid most of that work:

- alternatives that start at a word boundary share one leading ``\\b``, so a
  position inside a word is rejected once, not once per alternative;
- a lookahead guard lists the only characters a match can start with (read off
  the parsed pattern), so other positions are rejected by one character-class
  test: one guard in front of the word-start group, one in front of the other
  alternatives, and one more on each alternative whose own start is costly.

A third rewrite keeps where matches start, not always where they end: alternatives
around the same lazy gap (``[\\s\\S]{0,250}?``) are merged, see ``share_gaps``.

A guard is a necessary condition, never a filter of real matches, so where the
first characters cannot be worked out (back-references, local flags) the
alternatives simply go unguarded.

``FirstMatches`` answers "where does each of these named regexes first match?" (which
countries an ad names, in order) with one scan of the text instead of one per name:
a search costs a step at every position, and most names match nowhere.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    # typeshed describes the regex parser only under its pre-3.11 names, which 3.11+ keeps as deprecated
    # aliases of re._constants and re._parser (importing them warns, so the code imports the new names).
    import sre_constants as sre
    import sre_parse
else:
    from re import _constants as sre
    from re import _parser as sre_parse

# A lazy gap of any characters between two parts of a pattern: "<sum>[\s\S]{0,250}?<no experience>".
_GAP = re.compile(r"\[\\s\\S\]\{\d*,\d+\}\?")
# Lookbehinds in front of a word boundary: "(?<!без\s)\bжильё" is "\b(?<!без\s)жильё".
_LEADING_LOOKBEHINDS = re.compile(r"^((?:\(\?<[!=](?:[^()\\]|\\.)*\))*)\\b")
_ZERO_WIDTH = (sre.AT, sre.ASSERT, sre.ASSERT_NOT)
_ONE_CHAR = (sre.LITERAL, sre.NOT_LITERAL, sre.IN)
_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)
_CATEGORIES = {
    sre.CATEGORY_DIGIT: r"\d",
    sre.CATEGORY_NOT_DIGIT: r"\D",
    sre.CATEGORY_SPACE: r"\s",
    sre.CATEGORY_NOT_SPACE: r"\S",
    sre.CATEGORY_WORD: r"\w",
    sre.CATEGORY_NOT_WORD: r"\W",
}


class _Unknown(Exception):
    """A construct whose first characters this module does not work out: leave the alternative unguarded."""


def _top_level(pattern: str) -> list[int]:
    """Indices of the characters outside any group, class or escape, and of each such class's ``[``:
    where ``|`` splits alternatives, and where a gap can be cut."""
    found, depth, in_class, escaped = [], 0, False, False
    for index, char in enumerate(pattern):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            if depth == 0:
                found.append(index)
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0:
            found.append(index)
    return found


def split_alternatives(pattern: str) -> list[str]:
    """The top-level alternatives of a regex: ``a|(b|c)|[|]`` -> ``a``, ``(b|c)``, ``[|]``."""
    bars = [index for index in _top_level(pattern) if pattern[index] == "|"]
    return [pattern[start + 1 : stop] for start, stop in zip([-1, *bars], [*bars, len(pattern)], strict=True)]


def _split_at_gap(alternative: str) -> tuple[str, str, str] | None:
    """``(head, gap, tail)`` of an alternative with a lazy gap outside any group, else None."""
    for index in _top_level(alternative):
        gap = _GAP.match(alternative, index)
        if gap:
            return alternative[:index], gap.group(), alternative[gap.end() :]
    return None


def _either(patterns: list[str]) -> str:
    return patterns[0] if len(patterns) == 1 else "(?:" + "|".join(f"(?:{p})" for p in patterns) + ")"


def share_gaps(alternatives: list[str], guard: Callable[[str], str]) -> list[str]:
    """Alternatives that differ only after the same gap, or only before it, merged into one.

    "A gap T1 | A gap T2" becomes "A gap (?:T1|T2)": the five languages' "a large sum, then
    within 250 characters 'no experience'" would otherwise each match the same sums again.
    The merged alternative matches at the same places; its match may end sooner (at the
    nearest tail of any language, where the alternation takes the first language's). Each
    tail is also guarded (``guard``) where the gap stops before trying it.
    """
    split = [_split_at_gap(alternative) for alternative in alternatives]
    gapped = {index: parts for index, parts in enumerate(split) if parts is not None}
    same_head: dict[tuple[str, str], list[int]] = defaultdict(list)
    same_tail: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, (head, gap, _) in gapped.items():
        same_head[head, gap].append(index)
    for index, (head, gap, tail) in gapped.items():
        if len(same_head[head, gap]) == 1:
            same_tail[gap, tail].append(index)
    merged = []
    for index, (alternative, parts) in enumerate(zip(alternatives, split, strict=True)):
        if parts is None:
            merged.append(alternative)
            continue
        head, gap, tail = parts
        heads = same_head[head, gap]
        if len(heads) > 1:
            if index == heads[0]:
                tails_pattern = _either([gapped[i][2] for i in heads])
                merged.append(head + gap + guard(tails_pattern) + tails_pattern)
        elif index == (tails := same_tail[gap, tail])[0]:
            merged.append(_either([gapped[i][0] for i in tails]) + gap + guard(tail) + tail)
    return merged


def _char(code: int) -> str:
    return f"\\U{code:08x}"


def _char_class(op: object, value: Any) -> str:
    """One parsed single-character item (literal, negated literal or class) as regex source.

    ``value`` is a code point or a list of ``(op, value)`` items, depending on ``op``.
    """
    if op is sre.LITERAL:
        return _char(value)
    if op is sre.NOT_LITERAL:
        return f"[^{_char(value)}]"
    negate, parts = "", []
    for item_op, item in value:
        if item_op is sre.NEGATE:
            negate = "^"
        elif item_op is sre.LITERAL:
            parts.append(_char(item))
        elif item_op is sre.RANGE:
            parts.append(f"{_char(item[0])}-{_char(item[1])}")
        elif item_op is sre.CATEGORY and item in _CATEGORIES:
            parts.append(_CATEGORIES[item])
        else:
            raise _Unknown(item_op)
    return f"[{negate}{''.join(parts)}]"


def _first_chars(items: list, found: set[str]) -> bool:
    """Add to ``found`` every one-character class a match of ``items`` can start with; True if it can be empty."""
    for op, value in items:
        if op in _ZERO_WIDTH:
            continue
        if op in _ONE_CHAR:
            found.add(_char_class(op, value))
            return False
        if op is sre.SUBPATTERN:
            _, add_flags, del_flags, sub = value
            if add_flags or del_flags:
                raise _Unknown(op)
            if not _first_chars(sub.data, found):
                return False
        elif op is sre.ATOMIC_GROUP:
            if not _first_chars(value.data, found):
                return False
        elif op is sre.BRANCH:
            can_be_empty = False
            for alternative in value[1]:
                can_be_empty |= _first_chars(alternative.data, found)
            if not can_be_empty:
                return False
        elif op in _REPEATS:
            low, high, sub = value
            if high and not _first_chars(sub.data, found) and low > 0:
                return False
        else:
            raise _Unknown(op)
    return True


def _starts_cheaply(items: list) -> bool:
    """Whether the engine rejects a wrong start in a step or two (a literal or class first), so a guard would only cost."""
    for op, value in items:
        if op in _ZERO_WIDTH:
            continue
        if op in _ONE_CHAR:
            return True
        if op is sre.SUBPATTERN:
            return _starts_cheaply(value[3].data)
        if op is sre.BRANCH:
            return all(_starts_cheaply(alternative.data) for alternative in value[1])
        if op in _REPEATS:
            return value[0] > 0 and _starts_cheaply(value[2].data)
        return False
    return False


# Remembered: each pattern is compiled alone and again in its flag's union, and parsing it is most of a
# load's time spent on the flags (0.15 s of each process's 0.8 s).
@cache
def first_char_guard(pattern: str, flags: int = 0, always: bool = False) -> str:
    """A lookahead that admits only the characters a match of ``pattern`` can start with; ``""`` where they
    cannot be worked out, or (unless ``always``) where the engine rejects a wrong start about as fast.

    The guard is a necessary condition for a match, so ``guard + pattern`` matches exactly
    where and what ``pattern`` does (under the same flags).
    """
    items = sre_parse.parse(pattern, flags).data
    # The engine's quick first-character test skips case-insensitive literals and classes.
    if not always and not flags & re.IGNORECASE and _starts_cheaply(items):
        return ""
    found: set[str] = set()
    try:
        if _first_chars(items, found):
            return ""  # can match the empty string: any position may start a match
    except _Unknown:
        return ""
    return "(?=" + "|".join(sorted(found)) + ")"


def compile_patterns(patterns: list[str], flags: int = 0, guarded: bool = True) -> re.Pattern[str]:
    """One regex for many patterns, fast on long texts (see the module docstring).

    ``guarded=False`` leaves the guards out: the same matches, slower (tests compare the two).

    Word-start alternatives are tried before the others at each position, and alternatives
    around the same gap are merged (``share_gaps``): where two alternatives match at one
    position, this picks the match; where a match starts never changes.
    """

    def guard(pattern: str, always: bool = False) -> str:
        return first_char_guard(pattern, flags, always) if guarded else ""

    at_word_start, anywhere = [], []
    for alternative in share_gaps([a for pattern in patterns for a in split_alternatives(pattern)], guard):
        match = _LEADING_LOOKBEHINDS.match(alternative)
        if match:
            at_word_start.append(match.group(1) + alternative[match.end() :])
        else:
            anywhere.append(alternative)

    def group(alternatives: list[str]) -> str:
        """The alternatives, each guarded where its start is costly, behind one guard for them all."""
        joined = "|".join(f"(?:{p})" for p in alternatives)
        return guard(joined, always=True) + "(?:" + "|".join(f"{guard(p)}(?:{p})" for p in alternatives) + ")"

    parts = ["\\b" + group(at_word_start)] if at_word_start else []
    if len(anywhere) > 1:
        parts.append(group(anywhere))
    elif anywhere:
        parts.append(f"{guard(anywhere[0])}(?:{anywhere[0]})")
    return re.compile("|".join(parts), flags)


@dataclass(frozen=True)
class FirstMatches:
    """Named regexes, and the union of them all that finds where any of them can match."""

    regexes: dict[str, re.Pattern[str]]
    union: re.Pattern[str]

    @classmethod
    def compile(cls, named: dict[str, list[str]], flags: int = 0) -> FirstMatches:
        """One regex per name from its patterns, and their union; a bad pattern's ``re.error`` starts with its name."""
        regexes = {}
        for name, patterns in named.items():
            try:
                regexes[name] = compile_patterns(patterns, flags)
            except re.error as error:
                raise re.error(f"{name}: {error}") from None
        return cls(regexes, compile_patterns([p for patterns in named.values() for p in patterns], flags))

    def starts(self, text: str) -> dict[str, int]:
        """Where each regex that matches ``text`` first matches: ``regex.search(text).start()``, by name.

        The union stops at every position where some regex matches, leftmost first, so each
        name is tried only there, and its first such position is where its own search stops.
        """
        found: dict[str, int] = {}
        position = 0
        while len(found) < len(self.regexes):
            match = self.union.search(text, position)
            if match is None:
                break
            position = match.start()
            for name, regex in self.regexes.items():
                if name not in found and regex.match(text, position):
                    found[name] = position
            position += 1
        return found
