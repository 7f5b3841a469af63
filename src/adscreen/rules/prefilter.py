"""One pass over a folded ad to find which red flags can fire, before their exact regexes run.

Each flag's own regex (``regex_union.compile_patterns`` of its patterns) stays the only judge of
whether the flag fires and where. Searching all of them costs one ``re`` pass per flag, about a
third of batch scoring. Hyperscan scans the text once for every flag's patterns and reports, for
each flag, the patterns that *can* match; only those flags are searched with ``re``, and a flag's
regex, the union of its patterns, cannot match where none of those patterns does (see
``RedFlag.fires``). Results are identical as long as the report is a superset of the patterns that
match. The tests compare this path with the plain one on every example and ad.

Hyperscan cannot run the patterns as written. It refuses ``\\b`` in Unicode mode and has no
lookarounds, and its ASCII mode reads ``\\w`` as ASCII. So each pattern is *widened* into a
pattern that matches wherever the original does (``widen``):
- lookarounds and word boundaries are dropped;
- atomic and possessive constructs become plain ones;
- long bounded repeats become unbounded (``[\\s\\S]{0,250}?`` kept the compile running for minutes);
- ``\\w`` becomes its ASCII members plus every non-ASCII character, ``\\d`` its ASCII members plus
  every character from the first non-ASCII digit on, and ``\\s`` Python's spaces;
- each pattern is cut at its first top-level alternation, one hyperscan pattern per alternative
  (``widen_apart``), which hyperscan's prefilter mode approximates less than the whole.
A pattern that cannot be widened is always reported. Without hyperscan, or when the database does
not compile, there is no report and every flag is searched.

Compiling the database takes about half a minute, so it happens on first use, not when the rules are
loaded, and the compiled database is stored in the user's cache folder under a hash of what it
was compiled from: the next process loads it in milliseconds.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import json
import os
import re
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

from platformdirs import user_cache_path


def _import_hyperscan() -> Any:
    """hyperscan, or None on a platform without its wheel: then every flag is searched, with the same results."""
    try:
        return importlib.import_module("hyperscan")
    except ImportError:
        return None


hyperscan: Any = _import_hyperscan()


def _widening_code() -> bytes:
    """This module's own code, part of the cache key: a change to how patterns are widened compiles anew
    (adscreen's version stands in where the source cannot be read, say from a zip)."""
    try:
        return Path(__file__).read_bytes()
    except OSError:
        return importlib.metadata.version("adscreen").encode()


_WIDENING_CODE = _widening_code()

# UTF-8 text; one report per pattern is enough; widened patterns may match empty; and hyperscan's
# PREFILTER mode may widen further what it cannot compile exactly, which keeps the superset.
_FLAGS = (
    (
        hyperscan.HS_FLAG_UTF8
        | hyperscan.HS_FLAG_SINGLEMATCH
        | hyperscan.HS_FLAG_ALLOWEMPTY
        | hyperscan.HS_FLAG_PREFILTER
    )
    if hyperscan is not None
    else 0
)
# Repeats bounded above this are made unbounded: the same match positions, and a compile that finishes.
WIDEN_ABOVE = 20
_NON_ASCII = r"\x{80}-\x{10ffff}"
_ANY = r"[\x{0}-\x{10ffff}]"
# Python's Unicode classes as ASCII-mode hyperscan classes that contain them; None: widen to any character.
# Digits and spaces leave out the letters of our languages: with every non-ASCII character a digit, the
# patterns of sums let nearly every Cyrillic ad through. The first non-ASCII digit is U+0660 (Arabic-Indic);
# the spaces are exactly Python's (a test checks both against every character).
_CATEGORIES = {
    sre.CATEGORY_DIGIT: r"0-9\x{660}-\x{10ffff}",
    sre.CATEGORY_SPACE: r"\x{9}-\x{d}\x{1c}-\x{20}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}",
    sre.CATEGORY_WORD: "0-9a-zA-Z_" + _NON_ASCII,
    sre.CATEGORY_NOT_DIGIT: None,
    sre.CATEGORY_NOT_SPACE: None,
    sre.CATEGORY_NOT_WORD: None,
}
# The classes above that hold more than Python's: a negated class with one of them cannot be complemented.
_WIDER = frozenset({sre.CATEGORY_DIGIT, sre.CATEGORY_WORD})
# Python's default flags for a str pattern; any other flag (case folding, multiline ...) is not widened.
_DEFAULT_FLAGS = re.UNICODE


class NotWidened(ValueError):
    """A pattern uses a construct ``widen`` does not translate; it is then always reported."""


def widen(pattern: str) -> str:
    """A hyperscan pattern (UTF-8, ASCII classes) that matches wherever the Python ``pattern`` matches."""
    return _sequence(_parsed(pattern).data)


def widen_apart(pattern: str) -> list[str]:
    """``widen(pattern)`` cut at its first alternation outside any group, one pattern per alternative:
    together they match where it does. Hyperscan's prefilter mode approximates a pattern too big to
    compile exactly, a piece less: whole, the patterns of high pay for unskilled work let every ad through."""
    items = _parsed(pattern).data
    cut = next((index for index, (op, _) in enumerate(items) if op is sre.BRANCH), None)
    if cut is None:
        return [_sequence(items)]
    return [_sequence([*items[:cut], *branch.data, *items[cut + 1 :]]) for branch in items[cut][1][1]]


def _parsed(pattern: str) -> Any:  # sre_parse's SubPattern
    parsed = sre_parse.parse(pattern)
    if parsed.state.flags & ~_DEFAULT_FLAGS:
        raise NotWidened(f"flags {parsed.state.flags:#x}")
    return parsed


def _char(code: int) -> str:
    char = chr(code)
    return char if char.isalnum() or char == "_" else f"\\x{{{code:x}}}"


def _class(op: object, value: Any) -> str:  # value: sre_parse's operand, typed by op
    if op is sre.LITERAL:
        return _char(value)
    if op is sre.NOT_LITERAL:
        return f"[^{_char(value)}]"
    if op is sre.ANY:
        return _ANY
    negated, wider, parts = False, False, []
    for item_op, item in value:
        if item_op is sre.NEGATE:
            negated = True
        elif item_op is sre.LITERAL:
            parts.append(_char(item))
        elif item_op is sre.RANGE:
            parts.append(f"{_char(item[0])}-{_char(item[1])}")
        elif item_op is sre.CATEGORY:
            mapped = _CATEGORIES[item]
            if mapped is None:  # a negated category: any character contains it
                return _ANY
            parts.append(mapped)
            wider = wider or item in _WIDER
        else:
            raise NotWidened(f"class item {item_op}")
    if negated and wider:
        return _ANY  # the complement of a widened class would be narrower than the original's
    return ("[^" if negated else "[") + "".join(parts) + "]"


def _repeat(low: int, high: Any) -> str:  # high: an int or sre's MAXREPEAT
    if high is sre.MAXREPEAT or high > WIDEN_ABOVE:
        return {0: "*", 1: "+"}.get(low, f"{{{low},}}")
    if (low, high) == (0, 1):
        return "?"
    return f"{{{low}}}" if low == high else f"{{{low},{high}}}"


def _sequence(items: Sequence) -> str:
    out = []
    for op, value in items:
        if op in (sre.LITERAL, sre.NOT_LITERAL, sre.IN, sre.ANY):
            out.append(_class(op, value))
        elif op is sre.AT:
            if value in (sre.AT_BEGINNING, sre.AT_BEGINNING_STRING):
                out.append(r"\A" if value is sre.AT_BEGINNING_STRING else "^")
            elif value in (sre.AT_END, sre.AT_END_STRING):
                out.append(r"\z" if value is sre.AT_END_STRING else "$")
            elif value not in (sre.AT_BOUNDARY, sre.AT_NON_BOUNDARY):  # boundaries are dropped
                raise NotWidened(f"anchor {value}")
        elif op in (sre.ASSERT, sre.ASSERT_NOT):
            continue  # a lookaround only removes matches
        elif op is sre.SUBPATTERN:
            if value[1] or value[2]:
                raise NotWidened("inline flags")
            out.append("(?:" + _sequence(value[3].data) + ")")
        elif op is sre.ATOMIC_GROUP:
            out.append("(?:" + _sequence(value.data) + ")")
        elif op is sre.BRANCH:
            out.append("(?:" + "|".join(_sequence(branch.data) for branch in value[1]) + ")")
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
            low, high, sub = value  # all greedy: a prefilter needs where matches exist, not which one
            out.append("(?:" + _sequence(sub.data) + ")" + _repeat(low, high))
        else:
            raise NotWidened(f"construct {op}")
    return "".join(out)


class Prefilter:
    """Which patterns of some flags can match in a folded text, from one hyperscan scan.

    Built from each flag's folded patterns, in the flags' order; ``candidates`` answers with flag
    indexes and, for each, indexes into its patterns. The database is compiled (or read from the
    cache) on the first ``candidates`` call.
    """

    def __init__(self, flag_patterns: Sequence[Sequence[str]], cache_dir: Path | None = None) -> None:
        self.cache_dir = cache_dir
        self.flag_patterns = tuple(tuple(patterns) for patterns in flag_patterns)
        # A hyperscan id per pattern: its flag's index and its index among the flag's patterns.
        self.sources = tuple(
            (flag, index) for flag, patterns in enumerate(self.flag_patterns) for index in range(len(patterns))
        )
        # The patterns that cannot be widened, by flag: always reported (known once the database is loaded).
        self.always: dict[int, list[int]] = {}
        self._lock = threading.Lock()
        self._local = threading.local()  # a scratch per thread: hyperscan's scratch is not shared
        self._database: Any = None  # a hyperscan.Database once loaded
        self._failed = hyperscan is None or not self.sources

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        for name in ("_lock", "_local", "_database"):
            del state[name]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, _lock=threading.Lock(), _local=threading.local(), _database=None)

    def candidates(self, text: str) -> dict[int, list[int]] | None:
        """The flags that can fire in ``text``, each with the indexes of its patterns that can match;
        None when there is no database, or ``text`` cannot be scanned: then any pattern can match."""
        database = self._database if self._database is not None or self._failed else self._load()
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate (from JSON "\ud800"): hyperscan reads only valid UTF-8
            return None
        if database is None:
            return None
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = hyperscan.Scratch(database)
        found = {flag: list(indexes) for flag, indexes in self.always.items()}

        def report(id_: int, *_: object) -> None:
            flag, index = self.sources[id_]
            found.setdefault(flag, []).append(index)

        database.scan(data, match_event_handler=report, scratch=scratch)
        return found

    def _load(self) -> Any:  # a hyperscan.Database, or None
        with self._lock:
            if self._database is None and not self._failed:
                try:
                    self._database = self._cached_or_compiled()
                    self._failed = self._database is None  # no pattern could be widened
                except hyperscan.error:  # a widened pattern hyperscan refuses: the plain path, still correct
                    self._failed = True
        return self._database

    def _widened(self) -> tuple[list[str], list[int], dict[int, list[int]]]:
        """The hyperscan expressions with their ids, and the patterns that cannot be widened, by flag."""
        expressions: list[str] = []
        ids: list[int] = []
        always: dict[int, list[int]] = {}
        for id_, (flag, index) in enumerate(self.sources):
            try:
                widened = widen_apart(self.flag_patterns[flag][index])
            except (NotWidened, re.error):
                widened = []
            if not widened:
                always.setdefault(flag, []).append(index)
            expressions += widened
            ids += [id_] * len(widened)
        return expressions, ids, always

    def _key(self) -> str:
        """A hash of everything the database is made from: the patterns, and the code and versions that
        widen and compile them (widening the patterns costs a load 0.15 s, so a cached database skips it too)."""
        digest = hashlib.sha256(f"{hyperscan.__version__}\n{_FLAGS}\n{sys.version}\n".encode())
        digest.update(_WIDENING_CODE)
        for patterns in self.flag_patterns:
            digest.update(json.dumps(patterns).encode())
        return digest.hexdigest()[:32]

    def _cached_or_compiled(self) -> object:
        """The database, from the cache file (a JSON line of ``always``, then hyperscan's serialised database)
        or compiled and stored there."""
        path = (self.cache_dir or user_cache_path("adscreen")) / "prefilter" / f"{self._key()}.hsdb"
        try:
            header, _, serialised = path.read_bytes().partition(b"\n")
            database = hyperscan.loadb(serialised, mode=hyperscan.HS_MODE_BLOCK)
            self.always = {int(flag): list(indexes) for flag, indexes in json.loads(header).items()}
            return database
        except (OSError, ValueError, AttributeError, hyperscan.error):
            pass  # not cached yet, or unreadable: compile
        expressions, ids, self.always = self._widened()
        if not expressions:
            return None
        database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        database.compile(
            expressions=[expression.encode() for expression in expressions],
            ids=ids,
            elements=len(expressions),
            flags=[_FLAGS] * len(expressions),
        )
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".partial")
            with os.fdopen(handle, "wb") as stream:
                stream.write(json.dumps(self.always).encode() + b"\n" + hyperscan.dumpb(database))
            os.replace(partial, path)  # whole or not at all, with other processes and threads compiling the same
        except OSError:
            pass  # a read-only home: the next process compiles again, with the same results
        return database
