"""Red flags: rule-based, multilingual recognizers built from ``data/redflags/*.yaml``.

One YAML file per flag. Its patterns are regular expressions over the *folded*
text (``adscreen.text.fold``: lower case, look-alike letters unified, Polish
diacritics and ``ё`` folded, spaced-out words closed up), so one pattern covers
the tricks. Each match carries its character spans in the text as submitted.
Files are validated on load; a bad regex names its file and pattern.

A flag's ``patterns`` are the model's feature and show the flag to the reader. Its
``shown_patterns`` only show it: a sign the model was not trained to weigh. A pattern added
to ``patterns`` changes what the model learns and needs a measured retrain (in December 2026
Ukrainian, Polish and English daily-pay patterns moved the held-out figures the wrong way);
as a shown pattern it explains the ad at once and leaves the model's score as it was. A model
file keeps the patterns it was trained with; a scorer shows the data files' shown patterns
with them (``FlagSet.with_shown``), so adding one needs no new model.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from adscreen.datafiles import read_yaml, validated
from adscreen.errors import RuleConfigError
from adscreen.localized import Localized, Translated
from adscreen.paths import REDFLAGS_DIR
from adscreen.rules.prefilter import Prefilter
from adscreen.rules.regex_union import compile_patterns
from adscreen.text import MappedText, fold, fold_pattern, lower_pattern

LANGUAGES = ("ru", "be", "uk", "pl", "en")
Language = Literal["ru", "be", "uk", "pl", "en"]


class Examples(BaseModel):
    """Ads that must and must not trigger the flag; the test suite runs them."""

    model_config = ConfigDict(extra="forbid")
    match: list[str] = Field(min_length=1)
    no_match: list[str] = Field(min_length=1)


class FlagSpec(BaseModel):
    """The declarative spec of one flag, as written in its YAML file."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[A-Z][A-Z_]+$")
    effect: Literal["raises", "lowers"]
    severity: Literal["low", "medium", "high"]
    indicator: bool = False
    title: Localized
    why: Localized
    patterns: dict[Language, list[str]]
    # Patterns that show the flag without setting the model's feature (see the module docstring).
    shown_patterns: dict[Language, list[str]] = Field(default_factory=dict)
    examples: dict[Language, Examples]

    @field_validator("patterns")
    @classmethod
    def _every_language(cls, patterns: dict[str, list[str]]) -> dict[str, list[str]]:
        missing = [language for language in LANGUAGES if not patterns.get(language)]
        if missing:
            raise ValueError(f"no patterns for {missing}")
        return patterns


class FlagTexts(BaseModel):
    """What a reader is told about a flag, in all five languages: the data files must hold every one.

    ``FlagSpec`` is looser (English and Russian) because model files store their specs in it and must
    keep loading; the words a result shows come from the data files through this (``flag_texts``).
    """

    model_config = ConfigDict(extra="ignore")
    title: Translated
    why: Translated


@dataclass(frozen=True)
class FlagMatch:
    """One flag found in one ad: which flag, where (spans into the submitted text), and whether the model
    weighed it (a weighed pattern matched) or it is only shown (only ``shown_patterns`` matched)."""

    flag: RedFlag
    spans: tuple[tuple[int, int], ...]
    weighed: bool = True


@dataclass(frozen=True)
class RedFlag:
    """A recognizer built from one spec: all its patterns compiled into one regex, and each alone."""

    spec: FlagSpec
    source: str
    # The folded patterns, the weighed ones (the spec's ``patterns``) first, then the shown ones: what the
    # prefilter widens.
    patterns: tuple[str, ...]
    # Each of ``patterns`` compiled alone, as fast as ``regex`` (``compile_patterns``): ``fires`` searches them.
    pattern_regexes: tuple[re.Pattern[str], ...]
    # How many of ``patterns`` are weighed: the model's feature is whether one of them matches.
    weighed: int

    @property
    def id(self) -> str:
        return self.spec.id

    @cached_property
    def regex(self) -> re.Pattern[str]:
        """The union of the patterns, which alone says where the flag matches.

        Compiled on first use: with the prefilter, ``fires`` seldom needs it, and only the spans of a
        flag that fires do; compiling every flag's took a third of a second of each load.
        """
        return compile_patterns(list(self.patterns))

    @cached_property
    def weighed_regex(self) -> re.Pattern[str]:
        """The union of the weighed patterns: ``regex`` itself when the flag has no shown patterns."""
        return (
            self.regex if self.weighed == len(self.patterns) else compile_patterns(list(self.patterns[: self.weighed]))
        )

    def fires(self, text: str, patterns: Collection[int]) -> bool:
        """Whether a weighed pattern matches ``text`` (the model's feature), where only ``patterns`` (indexes
        into ``patterns``) can match.

        ``weighed_regex`` is the union of the weighed patterns, so it matches where one of them does:
        searching the few the prefilter leaves skips the costly rest (a large sum searched for "no
        experience" nearby, in an ad with no such words). With none left out, the union is searched.
        """
        weighed = [index for index in patterns if index < self.weighed]
        if len(weighed) == self.weighed:
            return self.weighed_regex.search(text) is not None
        return any(self.pattern_regexes[index].search(text) for index in weighed)

    def with_shown(self, shown: dict[str, list[str]], source: str) -> RedFlag:
        """This flag with ``shown`` as its shown patterns; its weighed ones, the model's feature, are kept as they
        are, compiled, so only the shown ones are compiled here."""
        try:
            spec = FlagSpec.model_validate({**self.spec.model_dump(), "shown_patterns": shown})
        except ValidationError as error:
            raise RuleConfigError(f"{source}: flag {self.id}: shown patterns {error}") from None
        patterns, regexes = _compiled(spec.id, "shown pattern", spec.shown_patterns, source)
        return RedFlag(
            spec,
            self.source,
            self.patterns[: self.weighed] + patterns,
            self.pattern_regexes[: self.weighed] + regexes,
            self.weighed,
        )

    def shows(self, text: str, patterns: Collection[int]) -> bool:
        """Whether any pattern, weighed or shown, matches ``text``, where only ``patterns`` can match."""
        if len(patterns) == len(self.patterns):
            return self.regex.search(text) is not None
        return any(self.pattern_regexes[index].search(text) for index in patterns)


@dataclass(frozen=True)
class FlagScan:
    """The flags of one ad: those shown, with spans, and the model's 0/1 indicators in the order of ``ids``."""

    matches: list[FlagMatch]
    fired: list[bool]


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def build_flag(spec: FlagSpec, source: str) -> RedFlag:
    """Compile a spec, weighed patterns first, naming the file and pattern of any bad regex."""
    weighed, weighed_regexes = _compiled(spec.id, "pattern", spec.patterns, source)
    shown, shown_regexes = _compiled(spec.id, "shown pattern", spec.shown_patterns, source)
    return RedFlag(spec, source, weighed + shown, weighed_regexes + shown_regexes, len(weighed))


def _compiled(
    flag_id: str, kind: str, by_language: dict[Language, list[str]], source: str
) -> tuple[tuple[str, ...], tuple[re.Pattern[str], ...]]:
    """Patterns folded as the text is, and each compiled alone; a bad regex names its file, flag and language."""
    patterns, regexes = [], []
    for language, language_patterns in by_language.items():
        for pattern in language_patterns:
            folded = lower_pattern(fold_pattern(pattern))
            try:
                regexes.append(compile_patterns([folded]))
            except re.error as error:
                raise RuleConfigError(f"{source}: flag {flag_id}, {language} {kind} {pattern!r}: {error}") from None
            patterns.append(folded)
    return tuple(patterns), tuple(regexes)


_FRAGMENT = re.compile(r"<<([A-Z0-9_]+)>>")
FRAGMENTS_FILE = "_fragments.yaml"


def expand_fragments(pattern: str, fragments: dict[str, str], source: str, depth: int = 0) -> str:
    """Replace ``<<NAME>>`` by the named fragment (fragments may use earlier ones)."""
    if depth > 10:
        raise RuleConfigError(f"{source}: fragments nest too deeply (a fragment that uses itself?)")

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in fragments:
            raise RuleConfigError(f"{source}: unknown fragment <<{name}>> (define it in {FRAGMENTS_FILE})")
        return expand_fragments(fragments[name], fragments, source, depth + 1)

    return _FRAGMENT.sub(replace, pattern)


def _expanded(raw: object, key: str, fragments: dict[str, str], path: Path) -> None:
    """A flag file's patterns under ``key``, with their fragments expanded in place."""
    if isinstance(raw, dict) and isinstance(raw.get(key), dict):
        raw[key] = {
            language: [expand_fragments(str(p), fragments, str(path)) for p in (patterns or [])]
            for language, patterns in raw[key].items()
        }


def load_flag_file(path: Path, fragments: dict[str, str] | None = None) -> RedFlag:
    raw = read_yaml(path)
    _expanded(raw, "patterns", fragments or {}, path)
    _expanded(raw, "shown_patterns", fragments or {}, path)
    spec = validated(path, FlagSpec, raw)
    if spec.id != path.stem:
        raise RuleConfigError(f"{path}: id {spec.id} does not match the file name")
    validated(path, FlagTexts, raw)  # a flag in the data speaks every language, not only English and Russian
    return build_flag(spec, str(path))


@dataclass(frozen=True)
class FlagSet:
    """All red flags, loaded once; finding them is a pure function of the text.

    Each flag's regex alone decides whether it fires and where; with ``prefiltered`` (the default)
    one hyperscan pass first tells which patterns of which flags can match, and only those flags
    are searched, through those patterns (see ``prefilter`` and ``RedFlag.fires``).
    ``prefiltered=False`` runs every regex on every ad: the reference the tests compare with.
    """

    flags: tuple[RedFlag, ...]
    prefiltered: bool = True

    @cached_property
    def ids(self) -> tuple[str, ...]:
        return tuple(flag.id for flag in self.flags)

    @cached_property
    def _prefilter(self) -> Prefilter | None:
        return Prefilter([flag.patterns for flag in self.flags]) if self.prefiltered else None

    def compile_all(self) -> None:
        """Compile every flag's union regexes and the prefilter now: a server warms up with it, so the first ad
        that fires a flag does not wait for its compilation (up to 50 ms for one flag)."""
        for flag in self.flags:
            flag.regex  # noqa: B018 (cached properties: reading them compiles them)
            flag.weighed_regex  # noqa: B018
        self._prefilter  # noqa: B018

    def _candidates(self, text: str) -> list[Collection[int]]:
        """For each flag, the indexes of its patterns that can match ``text``."""
        prefilter = self._prefilter
        candidates = prefilter.candidates(text) if prefilter is not None else None
        if candidates is None:
            return [range(len(flag.patterns)) for flag in self.flags]
        return [candidates.get(index, ()) for index in range(len(self.flags))]

    def scan(self, folded: MappedText) -> FlagScan:
        """Every flag shown in an already folded ad, with its spans, and the model's indicators: one pass."""
        matches, fired = [], []
        for flag, patterns in zip(self.flags, self._candidates(folded.text), strict=True):
            # With every pattern left, ``shows`` would search the regex that ``finditer`` goes through anyway.
            searched = len(patterns) == len(flag.patterns) or flag.shows(folded.text, patterns)
            found = list(flag.regex.finditer(folded.text)) if searched else []
            # What ``fired`` finds: with no shown patterns, any match of ``regex`` is a weighed one.
            weighed = bool(found) and (flag.weighed == len(flag.patterns) or flag.fires(folded.text, patterns))
            fired.append(weighed)
            spans = [folded.original_span(m.start(), m.end()) for m in found if m.end() > m.start()]
            if spans:
                matches.append(FlagMatch(flag, tuple(_merge(spans)), weighed))
        return FlagScan(matches, fired)

    def find(self, text: str) -> list[FlagMatch]:
        """Every flag that fires in the ad, in the order of ``ids``."""
        return self.scan(fold(text)).matches

    def with_shown(self, shown: dict[str, dict[str, list[str]]], source: str) -> FlagSet:
        """These flags with the shown patterns ``shown`` gives by flag id (a flag it does not name keeps its own)."""
        return FlagSet(
            tuple(
                flag.with_shown(shown[flag.id], source)
                if flag.id in shown and shown[flag.id] != flag.spec.shown_patterns
                else flag
                for flag in self.flags
            ),
            self.prefiltered,
        )

    def fired(self, folded: str) -> list[bool]:
        """Whether each flag fires in an already folded text, in the order of ``ids``: the model's features,
        so no spans, and no map back to the input."""
        return self.indicators(folded)[0]

    def indicators(self, folded: str) -> tuple[list[bool], list[bool]]:
        """Whether each flag fires (``fired``) and whether it is shown (a weighed or a shown pattern matches),
        in the order of ``ids``, from one prefilter pass: batch scoring lists the flags a single result shows."""
        fired, shown = [], []
        for flag, patterns in zip(self.flags, self._candidates(folded), strict=True):
            weighed = flag.fires(folded, patterns)
            fired.append(weighed)
            # ``fires`` has searched the weighed candidates; only the shown ones are left to search.
            shown.append(weighed or any(flag.pattern_regexes[i].search(folded) for i in patterns if i >= flag.weighed))
        return fired, shown


def _fragments(directory: Path) -> dict[str, str]:
    fragments_path = directory / FRAGMENTS_FILE
    fragments = read_yaml(fragments_path) if fragments_path.exists() else {}
    if not isinstance(fragments, dict):
        raise RuleConfigError(f"{fragments_path}: must map fragment names to regex strings")
    return {str(name): str(value) for name, value in fragments.items()}


def _flag_paths(directory: Path) -> list[Path]:
    return sorted(path for path in directory.glob("*.yaml") if path.name != FRAGMENTS_FILE)


def load_flags(directory: Path = REDFLAGS_DIR) -> FlagSet:
    """Every ``*.yaml`` in the directory but the fragments file, sorted by file name."""
    fragments = _fragments(directory)
    paths = _flag_paths(directory)
    if not paths:
        raise RuleConfigError(f"{directory}: no red-flag files (*.yaml)")
    return FlagSet(tuple(load_flag_file(path, fragments) for path in paths))


def shown_patterns(directory: Path = REDFLAGS_DIR) -> dict[str, dict[str, list[str]]]:
    """Each flag's shown patterns by id (none: an empty dict), fragments expanded, read from the data files
    without compiling a regex: what a scorer shows with any model's flags (``FlagSet.with_shown``)."""
    fragments = _fragments(directory)
    found = {}
    for path in _flag_paths(directory):
        raw = read_yaml(path)
        _expanded(raw, "shown_patterns", fragments, path)
        shown = raw.get("shown_patterns", {}) if isinstance(raw, dict) else {}
        if not isinstance(shown, dict):
            raise RuleConfigError(f"{path}: shown_patterns must map languages to lists of patterns")
        found[path.stem] = {str(language): [str(p) for p in (patterns or [])] for language, patterns in shown.items()}
    return found


@lru_cache(maxsize=1)
def default_shown_patterns() -> dict[str, dict[str, list[str]]]:
    """The shipped flags' shown patterns, read on first use."""
    return shown_patterns()


def flag_texts(directory: Path = REDFLAGS_DIR) -> dict[str, FlagTexts]:
    """Each flag's title and reason in all five languages, by id, read from the data files (no regex is compiled).

    A model file keeps the specs it was trained with, texts included, so a model trained before a
    translation was written would show another language; the scorer shows these instead when it has them.
    """
    texts = {}
    for path in _flag_paths(directory):
        raw = read_yaml(path)
        texts[path.stem] = validated(path, FlagTexts, raw)
    return texts


@lru_cache(maxsize=1)
def default_flag_texts() -> dict[str, FlagTexts]:
    """The shipped flags' texts, read on first use."""
    return flag_texts()
